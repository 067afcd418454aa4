//! Bitcoin's side: what a unit of hashrate earns per day.

/// Blocks between halvings.
pub const HALVING_INTERVAL: u64 = 210_000;
/// Seconds in a day.
const DAY_S: f64 = 86_400.0;
/// Expected hashes per block at difficulty 1.
const HASHES_PER_DIFFICULTY: f64 = 4_294_967_296.0; // 2^32

/// The block subsidy at `height`, in BTC: 50 halved every 210,000 blocks (exactly, in
/// satoshis, as consensus computes it; zero after 64 halvings).
pub fn subsidy_btc(height: u64) -> f64 {
    let halvings = height / HALVING_INTERVAL;
    let sats: u64 = if halvings >= 64 { 0 } else { (50 * 100_000_000u64) >> halvings };
    sats as f64 / 1e8
}

/// Hashprice: US dollars a petahash per second earns in a day, at this difficulty, BTC
/// price, block subsidy and average fees per block.
///
/// Blocks a day for 1 PH/s = 1e15 × 86,400 / (difficulty × 2^32).
pub fn hashprice_usd_per_ph_day(difficulty: f64, btc_usd: f64, subsidy_btc: f64, fees_btc_per_block: f64) -> f64 {
    if difficulty <= 0.0 {
        return 0.0;
    }
    let blocks_per_day = 1e15 * DAY_S / (difficulty * HASHES_PER_DIFFICULTY);
    blocks_per_day * (subsidy_btc + fees_btc_per_block) * btc_usd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsidy_halves_on_schedule() {
        assert_eq!(subsidy_btc(0), 50.0);
        assert_eq!(subsidy_btc(209_999), 50.0);
        assert_eq!(subsidy_btc(210_000), 25.0);
        assert_eq!(subsidy_btc(839_999), 6.25);
        assert_eq!(subsidy_btc(840_000), 3.125);
        assert_eq!(subsidy_btc(64 * 210_000), 0.0);
        // The 33rd halving leaves 1 satoshi... then 0.
        assert_eq!(subsidy_btc(32 * 210_000), 0.000_000_01);
        assert_eq!(subsidy_btc(33 * 210_000), 0.0);
    }

    #[test]
    fn the_published_test_vector() {
        // Difficulty 1e14, BTC $100,000, 3.125 BTC subsidy, no fees -> $62.864 per PH/s per day.
        let hp = hashprice_usd_per_ph_day(1e14, 100_000.0, 3.125, 0.0);
        assert!((hp - 62.864).abs() < 0.0005, "{hp}");
        assert_eq!(hashprice_usd_per_ph_day(0.0, 1.0, 1.0, 0.0), 0.0);
    }
}
