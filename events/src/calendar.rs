//! Registry date arithmetic: periods are calendar years, not 365-day blocks.

use chrono::{DateTime, Months, Utc};

/// `t` plus whole calendar years, as registries count them: 2027-12-01 + 1 year is
/// 2028-12-01 (a 365-day year would give 2028-11-30); 29 February falls back to the 28th.
pub fn years_later(t: DateTime<Utc>, years: u8) -> DateTime<Utc> {
    t.checked_add_months(Months::new(12 * u32::from(years)))
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_year_is_a_calendar_year() {
        let t = Utc.with_ymd_and_hms(2027, 12, 1, 10, 0, 0).unwrap();
        assert_eq!(
            years_later(t, 1),
            Utc.with_ymd_and_hms(2028, 12, 1, 10, 0, 0).unwrap()
        );
        assert_eq!(
            years_later(t, 10),
            Utc.with_ymd_and_hms(2037, 12, 1, 10, 0, 0).unwrap()
        );
        let leap = Utc.with_ymd_and_hms(2028, 2, 29, 0, 0, 0).unwrap();
        assert_eq!(
            years_later(leap, 1),
            Utc.with_ymd_and_hms(2029, 2, 28, 0, 0, 0).unwrap()
        );
    }
}
