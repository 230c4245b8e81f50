//! Process-wide counters for Prometheus (`GET /metrics`): OpenSRS calls by command and
//! result with latency, polls, rounds and emails. Gauges that the log and read models
//! know (orders by state, log position, lag) are read when the metrics are rendered.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// Upper bounds of the OpenSRS latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default, Clone)]
struct CallStats {
    count: u64,
    sum_micros: u64,
    /// Calls at or under each bucket bound (cumulative, as Prometheus expects).
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    /// (command, result code or class) → stats.
    calls: Mutex<BTreeMap<(String, String), CallStats>>,
    pub polls: AtomicU64,
    pub submissions: AtomicU64,
    pub rounds: AtomicU64,
    pub emails_sent: AtomicU64,
    pub emails_failed: AtomicU64,
    /// Engines this one counts as sharing its log, itself included (0: alone on its log).
    pub engines_sharing: AtomicU64,
    /// When the engine last finished a round (Unix milliseconds; 0: never).
    pub last_round_ms: std::sync::atomic::AtomicI64,
}

static GLOBAL: LazyLock<Metrics> = LazyLock::new(Metrics::default);

/// The process's metrics.
pub fn global() -> &'static Metrics {
    &GLOBAL
}

/// What the log and read models say at render time.
#[derive(Debug, Default, Clone)]
pub struct Gauges {
    /// Orders by state (`pending`, `confirmed`, ...).
    pub orders: Vec<(String, u64)>,
    /// The last position in the event log.
    pub log_position: u64,
    /// Events in the log that the read models have not folded yet.
    pub read_model_lag: u64,
    /// Events this build could not read or fold, skipped by every model.
    pub quarantined: Vec<domreg_projections::Quarantined>,
    /// The last full reconciliation of each connection.
    pub sync: Vec<SyncGauge>,
}

/// What one connection's last reconciliation found.
#[derive(Debug, Default, Clone)]
pub struct SyncGauge {
    pub connection: String,
    /// (kind, count): listed, drift, gone, unknown, late_completion.
    pub findings: Vec<(&'static str, usize)>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Metrics {
    /// Records one OpenSRS call: `result` is the response code, or the class when no
    /// reply arrived (`no_reply`).
    pub fn record_call(&self, command: &str, result: &str, elapsed: Duration) {
        let Ok(mut calls) = self.calls.lock() else {
            return;
        };
        let stats = calls
            .entry((command.to_string(), result.to_string()))
            .or_default();
        stats.count += 1;
        stats.sum_micros += elapsed.as_micros() as u64;
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                stats.buckets[i] += 1;
            }
        }
    }

    pub fn round_done(&self, at: chrono::DateTime<chrono::Utc>) {
        self.rounds.fetch_add(1, Ordering::Relaxed);
        self.last_round_ms
            .store(at.timestamp_millis(), Ordering::Relaxed);
    }

    pub fn last_round(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self.last_round_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => chrono::DateTime::from_timestamp_millis(ms),
        }
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        let _ = writeln!(
            out,
            "# HELP domreg_orders Orders by state, from the read models.\n# TYPE domreg_orders gauge"
        );
        for (state, n) in &gauges.orders {
            let _ = writeln!(out, "domreg_orders{{state=\"{state}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP domreg_log_position Last position of the event log.\n# TYPE domreg_log_position gauge\ndomreg_log_position {}",
            gauges.log_position
        );
        let _ = writeln!(
            out,
            "# HELP domreg_read_model_lag_events Events not yet folded into the read models (subscription lag).\n# TYPE domreg_read_model_lag_events gauge\ndomreg_read_model_lag_events {}",
            gauges.read_model_lag
        );
        let _ = writeln!(
            out,
            "# HELP domreg_quarantined_events Events the read models skip because this build cannot read or fold them (alarm when above 0).\n# TYPE domreg_quarantined_events gauge\ndomreg_quarantined_events {}",
            gauges.quarantined.len()
        );
        let _ = writeln!(
            out,
            "# HELP domreg_sync_findings What the last reconciliation with OpenSRS found, by connection and kind (late_completion needs an admin's choice).\n# TYPE domreg_sync_findings gauge"
        );
        for r in &gauges.sync {
            let connection = r.connection.replace(['\\', '"', '\n'], "_");
            for (kind, n) in &r.findings {
                let _ = writeln!(
                    out,
                    "domreg_sync_findings{{connection=\"{connection}\",kind=\"{kind}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP domreg_sync_finished_seconds When the last reconciliation of each connection finished (Unix time).\n# TYPE domreg_sync_finished_seconds gauge"
        );
        for r in &gauges.sync {
            let connection = r.connection.replace(['\\', '"', '\n'], "_");
            if let Some(t) = r.finished_at {
                let _ = writeln!(
                    out,
                    "domreg_sync_finished_seconds{{connection=\"{connection}\"}} {}",
                    t.timestamp()
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP domreg_engines_sharing_log Engines this one counts alive on its log, itself included (0: alone on the embedded log).\n# TYPE domreg_engines_sharing_log gauge\ndomreg_engines_sharing_log {}",
            self.engines_sharing.load(Ordering::Relaxed)
        );
        counter(
            &mut out,
            "domreg_polls_total",
            "Polls of pending orders.",
            self.polls.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "domreg_submissions_total",
            "Orders sent to OpenSRS.",
            self.submissions.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "domreg_engine_rounds_total",
            "Engine rounds run.",
            self.rounds.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "domreg_emails_sent_total",
            "Emails delivered (SMTP or outbox).",
            self.emails_sent.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "domreg_emails_failed_total",
            "Email delivery attempts that failed (retried later).",
            self.emails_failed.load(Ordering::Relaxed),
        );
        let calls = self.calls.lock().map(|c| c.clone()).unwrap_or_default();
        let _ = writeln!(
            out,
            "# HELP domreg_opensrs_calls_total OpenSRS calls by command and result (response code, or no_reply).\n# TYPE domreg_opensrs_calls_total counter"
        );
        for ((command, result), s) in &calls {
            let _ = writeln!(
                out,
                "domreg_opensrs_calls_total{{command=\"{command}\",result=\"{result}\"}} {}",
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP domreg_opensrs_call_seconds OpenSRS call latency.\n# TYPE domreg_opensrs_call_seconds histogram"
        );
        let mut by_command: BTreeMap<&str, CallStats> = BTreeMap::new();
        for ((command, _), s) in &calls {
            let total = by_command.entry(command).or_default();
            total.count += s.count;
            total.sum_micros += s.sum_micros;
            for (t, b) in total.buckets.iter_mut().zip(s.buckets) {
                *t += b;
            }
        }
        for (command, s) in by_command {
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(
                    out,
                    "domreg_opensrs_call_seconds_bucket{{command=\"{command}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "domreg_opensrs_call_seconds_bucket{{command=\"{command}\",le=\"+Inf\"}} {}\ndomreg_opensrs_call_seconds_sum{{command=\"{command}\"}} {}\ndomreg_opensrs_call_seconds_count{{command=\"{command}\"}} {}",
                s.count,
                s.sum_micros as f64 / 1e6,
                s.count
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_counts_add_up() {
        let m = Metrics::default();
        m.record_call("LOOKUP", "210", Duration::from_millis(3));
        m.record_call("LOOKUP", "211", Duration::from_millis(300));
        m.record_call("SW_REGISTER", "no_reply", Duration::from_secs(20));
        let text = m.render(&Gauges::default());
        assert!(text.contains("domreg_opensrs_calls_total{command=\"LOOKUP\",result=\"210\"} 1"));
        assert!(
            text.contains("domreg_opensrs_call_seconds_bucket{command=\"LOOKUP\",le=\"0.005\"} 1")
        );
        assert!(
            text.contains("domreg_opensrs_call_seconds_bucket{command=\"LOOKUP\",le=\"0.5\"} 2")
        );
        assert!(text.contains("domreg_opensrs_call_seconds_count{command=\"LOOKUP\"} 2"));
        assert!(text
            .contains("domreg_opensrs_call_seconds_bucket{command=\"SW_REGISTER\",le=\"10\"} 0"));
        assert!(text
            .contains("domreg_opensrs_call_seconds_bucket{command=\"SW_REGISTER\",le=\"+Inf\"} 1"));
    }
}
