//! A disk that fills up mid-run, without privileges: commands run under a file-size limit
//! (`ulimit -f`, with SIGXFSZ ignored, so writes past it fail with EFBIG as on a full
//! disk). Every write then fails with a clear error, nothing half-written remains, and
//! once the limit is lifted the same data directory works and verifies.

use std::path::Path;
use std::process::Command;

/// Runs `domreg --data-dir DIR ARGS` with file writes limited to `limit_kib` (if given).
fn domreg(dir: &Path, limit_kib: Option<u64>, args: &[&str]) -> (bool, String) {
    let bin = env!("CARGO_BIN_EXE_domreg");
    let mut script = String::from("trap '' XFSZ; ");
    if let Some(k) = limit_kib {
        script.push_str(&format!("ulimit -f {k}; "));
    }
    script.push_str("exec \"$0\" \"$@\"");
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg(bin)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("bash runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn credits_in_log(dir: &Path) -> i64 {
    domreg::store::SqliteStore::read_file(dir.join("events.db"))
        .unwrap()
        .iter()
        .filter(|e| e.event_type == "AccountCredited")
        .count() as i64
}

#[test]
fn a_full_disk_gives_clear_errors_no_corruption_and_recovers() {
    if Command::new("bash")
        .arg("-c")
        .arg("ulimit -f 1")
        .status()
        .is_err()
    {
        println!("SKIPPED: bash with ulimit is not available");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Start with a log and read models.
    let (ok, err) = domreg(d, None, &["account", "credit", "acct0", "1.00"]);
    assert!(ok, "{err}");
    let limit_kib = 768;
    let mut acknowledged = 1;
    let mut failure = None;
    for i in 0..3_000 {
        let note = format!("payment {i} {}", "x".repeat(900));
        let (ok, err) = domreg(
            d,
            Some(limit_kib),
            &["account", "credit", "acct0", "1.00", "--note", &note],
        );
        if ok {
            acknowledged += 1;
        } else {
            failure = Some(err);
            break;
        }
    }
    let failure = failure.expect("the file-size limit was reached");
    assert!(!failure.contains("panicked"), "{failure}");
    assert!(
        failure.contains("disk is full") || failure.contains("disk could not be written"),
        "the error says what went wrong: {failure}"
    );
    // Further writes keep failing cleanly while the disk is full.
    for _ in 0..3 {
        let (ok, err) = domreg(
            d,
            Some(limit_kib),
            &[
                "account",
                "credit",
                "acct0",
                "1.00",
                "--note",
                &"y".repeat(900),
            ],
        );
        assert!(!ok);
        assert!(!err.contains("panicked"), "{err}");
    }
    // Space is back: everything acknowledged is there, once, and the files are sound.
    let conn = rusqlite::Connection::open(d.join("events.db")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    assert_eq!(
        credits_in_log(d),
        acknowledged,
        "every acknowledged credit, and only those"
    );
    let (ok, err) = domreg(d, None, &["account", "credit", "acct0", "1.00"]);
    assert!(ok, "recovers once space is back: {err}");
    let (ok, err) = domreg(d, None, &["verify"]);
    assert!(ok, "read models equal a replay: {err}");
    println!(
        "disk full after {acknowledged} credits with a {limit_kib} KiB limit: {}",
        failure.trim()
    );
}
