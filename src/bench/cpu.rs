//! The CPU time this process has used, all threads together: a benchmark's figure per
//! operation that moves far less between minutes of a shared VM than its wall-clock rate.

use std::time::Duration;

/// Linux reports a process's times in `USER_HZ` ticks, 100 a second on every platform
/// `/proc` serves (the kernel converts from its own tick rate).
const TICKS_PER_SECOND: u64 = 100;

/// User plus system time of this process so far (threads that ended included), or `None`
/// where `/proc/self/stat` does not exist.
pub fn process_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat(&stat)
}

/// `utime` and `stime` are the 14th and 15th fields; the 2nd (the command name, in
/// parentheses) may hold spaces, so fields are counted after its closing parenthesis.
fn parse_stat(stat: &str) -> Option<Duration> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis(
        (user + system) * 1_000 / TICKS_PER_SECOND,
    ))
}

/// The CPU a timed phase used.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct CpuUse {
    /// User plus system seconds, all threads.
    pub seconds: f64,
    /// Milliseconds per operation of the phase.
    pub ms_per_operation: f64,
    /// The share of all the machine's cores the phase kept busy.
    pub share_of_cores: f64,
}

impl CpuUse {
    /// From the process times at the phase's start and end, its wall time and count.
    pub fn between(
        start: Option<Duration>,
        end: Option<Duration>,
        wall: Duration,
        operations: u64,
    ) -> Option<CpuUse> {
        let used = end?.checked_sub(start?)?.as_secs_f64();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        Some(CpuUse {
            seconds: used,
            ms_per_operation: used * 1_000.0 / operations.max(1) as f64,
            share_of_cores: used / (wall.as_secs_f64() * cores).max(f64::MIN_POSITIVE),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let stat = "4242 (tokio (rt) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 6 0";
        assert_eq!(parse_stat(stat), Some(Duration::from_millis(3_250)));
    }

    #[test]
    fn this_process_has_used_some_time_and_it_only_grows() {
        let Some(before) = process_time() else {
            println!("SKIPPED: no /proc/self/stat on this system");
            return;
        };
        let mut spin = 0u64;
        while process_time().is_some_and(|t| t < before + Duration::from_millis(20)) {
            spin = spin.wrapping_add(1);
        }
        assert!(process_time().is_some_and(|t| t >= before + Duration::from_millis(20)));
        assert!(spin > 0);
    }
}
