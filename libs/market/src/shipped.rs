//! The market history shipped with HCP, built into the binary so that `hcp up` and
//! `hcp backtest` work from any directory: ERCOT HB_SOUTH 15-minute prices (June to
//! December 2024) and daily Bitcoin price and difficulty (see data/README.md).

/// ERCOT HB_SOUTH day-ahead and real-time prices, 15-minute intervals.
pub const ERCOT_HB_SOUTH: &str = include_str!("../../../data/ercot/hb_south_15min_2024-06_2024-12.csv");
/// Its name, for messages.
pub const ERCOT_HB_SOUTH_NAME: &str = "shipped ERCOT HB_SOUTH 2024-06..2024-12";
/// Daily Bitcoin close, difficulty and height.
pub const BTC_DAILY: &str = include_str!("../../../data/bitcoin/btc_daily_2020-04_2024-12.csv");
/// Its name, for messages.
pub const BTC_DAILY_NAME: &str = "shipped Bitcoin days 2020-04..2024-12";

/// The text of `path`, or the shipped series when there is none; `Err` names the file.
pub fn read_or_shipped(
    path: Option<&std::path::Path>,
    shipped: &'static str,
    name: &str,
) -> Result<(String, std::borrow::Cow<'static, str>), String> {
    match path {
        None => Ok((name.to_owned(), std::borrow::Cow::Borrowed(shipped))),
        Some(p) => std::fs::read_to_string(p)
            .map(|text| (p.display().to_string(), std::borrow::Cow::Owned(text)))
            .map_err(|e| format!("cannot read {}: {e}", p.display())),
    }
}
