//! The parser never panics, whatever a device sends, and repairs every quirk of real
//! firmware wherever it appears in a valid reply.

use hcp_minerapi::{Reply, Request, StatsReport, SummaryReport, VersionReport, tolerant};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = tolerant::parse(&bytes);
        let _ = Request::parse(&bytes);
        if let Ok(reply) = Reply::parse(&bytes) {
            let _ = SummaryReport::from_reply(&reply);
            let _ = StatsReport::from_reply(&reply);
            let _ = VersionReport::from_reply(&reply);
        }
        let _ = Reply::parse_joined(&bytes, &["summary".into(), "stats".into()]);
    }

    #[test]
    fn json_like_text_never_panics(text in r#"[{}\[\]",:0-9a-zA-Z .\-\\\x00]{0,256}"#) {
        let _ = tolerant::parse(text.as_bytes());
        if let Ok(reply) = Reply::parse(text.as_bytes()) {
            let _ = StatsReport::from_reply(&reply);
        }
    }

    /// A well-formed summary with quirks injected reads back as the same numbers.
    #[test]
    fn quirks_do_not_change_the_reading(
        ghs in 0.0f64..1e6,
        elapsed in 0u64..1_000_000,
        nul in any::<bool>(),
        trailing_comma in any::<bool>(),
        power_inf in any::<bool>(),
    ) {
        let power = if power_inf { "inf".to_owned() } else { "3500".to_owned() };
        let comma = if trailing_comma { "," } else { "" };
        let mut body = format!(
            r#"{{"STATUS":[{{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"x"{comma}}}],"SUMMARY":[{{"Elapsed":{elapsed},"GHS 5s":{ghs},"Power":{power}{comma}}}],"id":1}}"#
        ).into_bytes();
        if nul { body.push(0); }
        let reply = Reply::parse(&body).expect("quirky but valid");
        let s = SummaryReport::from_reply(&reply).expect("summary");
        prop_assert_eq!(s.elapsed_s, Some(elapsed));
        prop_assert!((s.hashrate_ths.expect("hashrate") - ghs / 1000.0).abs() < 1e-9);
        prop_assert_eq!(s.power_w, if power_inf { None } else { Some(3500.0) });
    }
}
