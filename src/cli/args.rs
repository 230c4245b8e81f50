//! Parsers for argument values shared by several verbs.

use std::time::Duration;

/// Parses `250ms`, `90s`, `15m`, `1h`, `7d` (or a bare number of seconds).
pub fn duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits.parse().map_err(|_| {
        format!("{s:?} is not a duration: write a number and a unit, such as 90s, 15m, 1h or 7d")
    })?;
    if unit == "ms" {
        return Ok(Duration::from_millis(n));
    }
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {s:?}: use ms, s, m, h or d"
            ))
        }
    };
    n.checked_mul(scale)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{s:?} is too long"))
}

/// Parses a moment (see [`crate::audit::parse_moment`]).
pub fn moment(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    crate::audit::parse_moment(s)
}

/// `serve --engine-lease`: a duration of 3 s to 10 min.
pub fn engine_lease(s: &str) -> Result<Duration, String> {
    let d = duration(s)?;
    if d < Duration::from_secs(3) || d > Duration::from_secs(600) {
        return Err(format!("--engine-lease must be 3s to 10m, not {s}"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(duration("1.5h").unwrap_err().contains("unknown unit"));
        assert!(duration("h").unwrap_err().contains("not a duration"));
        assert!(duration("99999999999999999999d").is_err());
    }

    #[test]
    fn moments() {
        let t = moment("2026-11-28T10:00:00+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T09:00:00+00:00");
        assert_eq!(
            moment("2026-11-28 10:05").unwrap().to_rfc3339(),
            "2026-11-28T10:05:00+00:00"
        );
        assert_eq!(
            moment("2026-11-28").unwrap().to_rfc3339(),
            "2026-11-28T00:00:00+00:00"
        );
        assert!(moment("yesterday").unwrap_err().contains("not a time"));
        assert!(moment("2026-13-01").is_err());
    }
}
