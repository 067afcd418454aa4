//! ERCOT's market clock: naive US Central local times to UTC, and back to dates.

use hcp_economics::series::{Date, PriceInterval};

/// The length of a market interval, µs (ERCOT settles real-time prices every 15 minutes).
pub const INTERVAL_MICROS: i64 = 15 * 60 * 1_000_000;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(d: Date) -> i64 {
    let (y, m, day) = (d.year as i64 - i64::from(d.month <= 2), d.month as i64, d.day as i64);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count.
pub fn civil_from_days(z: i64) -> Date {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
    Date { year, month, day }
}

/// 0 = Sunday.
fn weekday(d: Date) -> i64 {
    (days_from_civil(d) + 4).rem_euclid(7)
}

/// The `n`th Sunday (1-based) of a month.
fn nth_sunday(year: u16, month: u8, n: i64) -> u8 {
    let first = Date { year, month, day: 1 };
    let to_sunday = (7 - weekday(first)) % 7;
    (1 + to_sunday + 7 * (n - 1)) as u8
}

/// Whether US daylight time is in force at a Central local time (from 02:00 on the
/// second Sunday of March to 02:00 on the first Sunday of November; the repeated hour is
/// read as its first, daylight, occurrence).
pub fn central_daylight(date: Date, minute: u16) -> bool {
    let start = nth_sunday(date.year, 3, 2);
    let end = nth_sunday(date.year, 11, 1);
    let after_start = (date.month, date.day, minute) >= (3, start, 120);
    let before_end = (date.month, date.day, minute) < (11, end, 120);
    after_start && before_end
}

/// UTC Unix microseconds of an interval's start.
pub fn interval_start_micros(p: &PriceInterval) -> i64 {
    let offset_h = if central_daylight(p.date, p.minute) { 5 } else { 6 };
    let secs = days_from_civil(p.date) * 86_400 + p.minute as i64 * 60 + offset_h * 3600;
    secs * 1_000_000
}

/// The UTC date of a Unix time in microseconds.
pub fn utc_date(micros: i64) -> Date {
    civil_from_days(micros.div_euclid(86_400_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: u16, m: u8, day: u8) -> Date {
        Date { year: y, month: m, day }
    }

    #[test]
    fn civil_days_round_trip() {
        assert_eq!(days_from_civil(d(1970, 1, 1)), 0);
        assert_eq!(days_from_civil(d(2024, 6, 1)), 19_875);
        for z in [0, 19_875, 20_000, -1, 11_016] {
            assert_eq!(days_from_civil(civil_from_days(z)), z);
        }
    }

    #[test]
    fn central_time_follows_dst() {
        assert!(!central_daylight(d(2024, 3, 10), 119));
        assert!(central_daylight(d(2024, 3, 10), 120));
        assert!(central_daylight(d(2024, 11, 3), 119));
        assert!(!central_daylight(d(2024, 11, 3), 120));
        let june = PriceInterval { date: d(2024, 6, 1), minute: 0, day_ahead: 0.0, real_time: 0.0 };
        // 2024-06-01 00:00 CDT is 05:00 UTC.
        assert_eq!(interval_start_micros(&june), (19_875 * 86_400 + 5 * 3600) * 1_000_000);
        let dec = PriceInterval { date: d(2024, 12, 1), ..june };
        assert_eq!(interval_start_micros(&dec) % 86_400_000_000, 6 * 3_600_000_000);
    }
}
