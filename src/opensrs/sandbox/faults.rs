//! Fault injection: per command (or any), as a percentage of calls, optionally N times.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer normally, this much later.
    Latency { ms: u64 },
    /// Never answer; hold the connection until the client gives up.
    NoReply,
    /// Close the connection without doing anything.
    Drop,
    /// HTTP 500 with an XML body; nothing done.
    Http500,
    /// HTTP 200 with a broken body; nothing done.
    MalformedXml,
    /// OpenSRS's 705 "Timed out, resubmit request"; nothing done.
    Registry705,
    /// Do the command (register, renew, ...), then close the connection without replying:
    /// the client cannot know it worked.
    PerformThenDrop,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// `SW_REGISTER`, `RENEW`, ... or absent for every command.
    #[serde(default)]
    pub command: Option<String>,
    pub fault: Fault,
    /// Share of matching calls, 0–100.
    #[serde(default = "always")]
    pub percent: u8,
    /// Apply this many times, then retire the rule; absent: forever.
    #[serde(default)]
    pub times: Option<u32>,
}

fn always() -> u8 {
    100
}

/// Picks the fault for a call to `action`, if any, and uses up one of its `times`.
pub fn pick(rules: &mut Vec<FaultRule>, action: &str, rng: &mut impl Rng) -> Option<Fault> {
    let index = rules.iter().position(|r| {
        r.command
            .as_deref()
            .is_none_or(|c| c.eq_ignore_ascii_case(action))
            && r.times != Some(0)
            && rng.random_range(0..100u8) < r.percent.min(100)
    })?;
    let rule = &mut rules[index];
    let fault = rule.fault;
    if let Some(n) = rule.times.as_mut() {
        *n -= 1;
        if *n == 0 {
            rules.remove(index);
        }
    }
    Some(fault)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rules_match_by_command_rate_and_count() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut rules = vec![FaultRule {
            command: Some("SW_REGISTER".into()),
            fault: Fault::Drop,
            percent: 100,
            times: Some(2),
        }];
        assert_eq!(pick(&mut rules, "LOOKUP", &mut rng), None);
        assert_eq!(pick(&mut rules, "sw_register", &mut rng), Some(Fault::Drop));
        assert_eq!(pick(&mut rules, "SW_REGISTER", &mut rng), Some(Fault::Drop));
        assert_eq!(pick(&mut rules, "SW_REGISTER", &mut rng), None);
        assert!(rules.is_empty());
        let mut rules = vec![FaultRule {
            command: None,
            fault: Fault::Http500,
            percent: 20,
            times: None,
        }];
        let hits = (0..10_000)
            .filter(|_| pick(&mut rules, "LOOKUP", &mut rng).is_some())
            .count();
        assert!((1_500..2_500).contains(&hits), "{hits}");
    }
}
