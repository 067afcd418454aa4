//! The strategies a backtest compares. Every one but the hindsight optimum decides each
//! interval with what an operator knows at that moment (see [`crate::market`]).

use crate::forecast::{SpreadModel, day_ahead_known};
use crate::market::{HOURS, PER_DAY, Timeline};
use crate::schedule::{Limits, State, best_path};
use crate::site::Class;
use std::fmt;
use std::str::FromStr;

/// Intervals the HCP optimizer looks ahead.
pub const LOOKAHEAD: usize = 16;

/// A way of deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Mine whatever the price.
    AlwaysOn,
    /// Curtail when the last real-time price was above breakeven (Foreman/Braiins-style).
    StrikeLastRealTime,
    /// Curtail when the interval's day-ahead price is above breakeven.
    StrikeDayAhead,
    /// HCP: lookahead over a forecast from the day-ahead price and the latest real-time
    /// spread.
    Hcp,
    /// HCP with forecasts only: day-ahead prices and the spread learned up to yesterday,
    /// no real-time feedback.
    HcpForecastOnly,
    /// The best possible under the same constraints, knowing every price (upper bound).
    Hindsight,
}

impl Strategy {
    /// Every strategy, in report order.
    pub const ALL: [Strategy; 6] = [
        Strategy::AlwaysOn,
        Strategy::StrikeLastRealTime,
        Strategy::StrikeDayAhead,
        Strategy::Hcp,
        Strategy::HcpForecastOnly,
        Strategy::Hindsight,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::AlwaysOn => "always-on",
            Strategy::StrikeLastRealTime => "strike-rt",
            Strategy::StrikeDayAhead => "strike-da",
            Strategy::Hcp => "hcp",
            Strategy::HcpForecastOnly => "hcp-forecast",
            Strategy::Hindsight => "hindsight",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Strategy::ALL.into_iter().find(|x| x.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Strategy::ALL.iter().map(|x| x.name()).collect();
            format!("unknown strategy {s:?}; one of {}", names.join(", "))
        })
    }
}

/// The levels a class runs at in each interval under a strategy.
pub fn levels(tl: &Timeline, class: &Class, strategy: Strategy) -> Vec<u32> {
    let lim = &class.limits;
    let n = class.count as f64;
    let econ = &class.economics;
    let breakeven = |t: usize| econ.breakeven_usd_per_mwh(tl.hashprice_known[t]);
    let rule = |desired: &dyn Fn(usize) -> bool| follow(lim, tl.len(), |t| if desired(t) { lim.max_level } else { 0 });
    match strategy {
        Strategy::AlwaysOn => follow(lim, tl.len(), |_| lim.max_level),
        Strategy::StrikeLastRealTime => rule(&|t| t == 0 || tl.intervals[t - 1].real_time <= breakeven(t)),
        Strategy::StrikeDayAhead => rule(&|t| tl.intervals[t].day_ahead <= breakeven(t)),
        Strategy::Hindsight => {
            let values: Vec<f64> =
                (0..tl.len()).map(|t| n * econ.margin_usd(tl.hashprice[t], tl.intervals[t].real_time, HOURS)).collect();
            best_path(&values, lim.settled(lim.max_level), lim)
        }
        Strategy::Hcp | Strategy::HcpForecastOnly => lookahead(tl, class, strategy == Strategy::Hcp),
    }
}

/// Applies a rule's wished-for level each interval, within the limits.
fn follow(lim: &Limits, len: usize, desired: impl Fn(usize) -> u32) -> Vec<u32> {
    let mut state = lim.settled(lim.max_level);
    (0..len)
        .map(|t| {
            state = lim.step(state, desired(t));
            state.level
        })
        .collect()
}

/// Rolling-horizon planning over forecasts; only each plan's first step is taken.
fn lookahead(tl: &Timeline, class: &Class, realtime_feedback: bool) -> Vec<u32> {
    let lim = &class.limits;
    let econ = &class.economics;
    let n = class.count as f64;
    let spread = |i: usize| tl.intervals[i].real_time - tl.intervals[i].day_ahead;
    let mut model = SpreadModel::default();
    let mut state = lim.settled(lim.max_level);
    let mut out = Vec::with_capacity(tl.len());
    let mut values = Vec::with_capacity(LOOKAHEAD);
    let mut learned_through = 0usize;
    for t in 0..tl.len() {
        // Learn from what has been published: with real-time feedback, every ended
        // interval; without, settlement data up to the end of yesterday.
        let known_until = if realtime_feedback { t } else { t - t % PER_DAY };
        while learned_through + 1 < known_until {
            model.observe(spread(learned_through), spread(learned_through + 1));
            learned_through += 1;
        }
        let horizon = LOOKAHEAD.min(tl.len() - t);
        values.clear();
        for h in 0..horizon {
            let day_ahead = day_ahead_known(tl, t, t + h);
            let price = if realtime_feedback && t > 0 {
                model.price(tl.intervals[t - 1].real_time, day_ahead, h)
            } else {
                day_ahead + model.mean()
            };
            values.push(n * econ.margin_usd(tl.hashprice_known[t], price, HOURS));
        }
        let level = best_path(&values, state, lim)[0];
        state = if level == state.level {
            State { level, age: (state.age + 1).min(lim.min_dwell.max(1)) }
        } else {
            State { level, age: 1 }
        };
        out.push(level);
    }
    out
}
