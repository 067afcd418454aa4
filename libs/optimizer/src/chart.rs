//! An SVG chart of price against allocation over time, hourly.

use crate::market::Timeline;
use std::fmt::Write;

const W: f64 = 1400.0;
const H: f64 = 420.0;
const PAD: f64 = 50.0;
/// Prices above this are drawn at the top edge (the August spikes reach $4,858).
const PRICE_TOP: f64 = 300.0;

/// Real-time price (line, left axis, clipped at $300/MWh), the breakeven of the first
/// class (dashed) and the share of mining power running under `running` (filled, right
/// axis), averaged per hour.
pub fn svg(tl: &Timeline, breakeven: &[f64], running: &[f64], title: &str) -> String {
    let hours = tl.len() / 4;
    let x = |i: usize| PAD + (W - 2.0 * PAD) * i as f64 / hours.max(1) as f64;
    let y_price = |p: f64| H - PAD - (H - 2.0 * PAD) * (p.clamp(-50.0, PRICE_TOP) + 50.0) / (PRICE_TOP + 50.0);
    let y_share = |s: f64| H - PAD - (H - 2.0 * PAD) * s.clamp(0.0, 1.0);
    let avg = |v: &[f64], i: usize| v[i * 4..(i * 4 + 4).min(v.len())].iter().sum::<f64>() / 4.0;
    let prices: Vec<f64> = tl.intervals.iter().map(|p| p.real_time).collect();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{PAD}" y="24" font-size="15">{}</text>"#,
        escape(title)
    );
    let mut area = format!("M{:.1},{:.1}", x(0), y_share(0.0));
    for i in 0..hours {
        let _ = write!(area, " L{:.1},{:.1}", x(i), y_share(avg(running, i)));
    }
    let _ = write!(area, " L{:.1},{:.1} Z", x(hours), y_share(0.0));
    let _ = write!(s, r##"<path d="{area}" fill="#9ecae1" fill-opacity="0.45" stroke="none"/>"##);
    for (series, style) in [
        (&prices, r##"stroke="#d62728" stroke-width="0.8""##),
        (&breakeven.to_vec(), r##"stroke="#333" stroke-dasharray="4 3""##),
    ] {
        let mut d = String::new();
        for i in 0..hours {
            let _ = write!(d, "{}{:.1},{:.1}", if i == 0 { "M" } else { " L" }, x(i), y_price(avg(series, i)));
        }
        let _ = write!(s, r#"<path d="{d}" fill="none" {style}/>"#);
    }
    for p in [0.0, 100.0, 200.0, 300.0] {
        let _ = write!(s, r#"<text x="6" y="{:.1}">${p:.0}</text>"#, y_price(p) + 4.0);
    }
    for share in [0.0, 0.5, 1.0] {
        let _ =
            write!(s, r#"<text x="{:.1}" y="{:.1}">{:.0}%</text>"#, W - PAD + 6.0, y_share(share) + 4.0, share * 100.0);
    }
    let (first, last) = (tl.intervals.first().map(|p| p.date), tl.intervals.last().map(|p| p.date));
    if let (Some(a), Some(b)) = (first, last) {
        let _ = write!(
            s,
            r#"<text x="{PAD}" y="{:.1}">{a}</text><text x="{:.1}" y="{:.1}" text-anchor="end">{b}</text>"#,
            H - 18.0,
            W - PAD,
            H - 18.0
        );
    }
    let legend = [
        ("#d62728", format!("real-time $/MWh (clipped at ${PRICE_TOP:.0})")),
        ("#333333", "breakeven (dashed)".to_owned()),
        ("#3182bd", "share of mining power running".to_owned()),
    ];
    for (k, (colour, label)) in legend.iter().enumerate() {
        let x0 = W - PAD - 760.0 + k as f64 * 260.0;
        let _ = write!(
            s,
            r#"<rect x="{x0:.1}" y="14" width="14" height="10" fill="{colour}"/><text x="{:.1}" y="24">{}</text>"#,
            x0 + 20.0,
            escape(label)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
