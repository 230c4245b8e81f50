//! The settings verbs as an admin runs them: validation, secrets, routing, prices,
//! policies, credits, `registrar test` against the sandbox, `verify` and `rebuild`.

#[path = "support/cli.rs"]
mod support_cli;

use std::path::Path;
use std::process::Command;

use domreg::opensrs::sandbox::{Sandbox, SandboxConfig};
use support_cli::Run;

const KEY: &str = "Sup3rSecretKey-4242-xyzzy";

/// Runs the CLI without the environment's key for `main`; the key is never printed.
fn domreg(dir: &Path, args: &[&str]) -> Run {
    let dir = dir.to_string_lossy();
    let all: Vec<&str> = ["--data-dir", dir.as_ref()]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    support_cli::domreg_with(&all, &[], &["DOMREG_OPENSRS_KEY_MAIN"]).never_showing(KEY)
}

fn added(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "registrar",
        "add",
        "main",
        "--login",
        "reseller",
        "--key",
        KEY,
    ];
    args.extend(extra);
    domreg(dir, &args)
}

#[test]
fn every_setting_is_validated_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bad: &[(&[&str], &str)] = &[
        (
            &[
                "registrar",
                "add",
                " leading space",
                "--login",
                "r",
                "--key",
                "k",
            ],
            "title",
        ),
        (
            &[
                "registrar",
                "add",
                "x",
                "--login",
                "r",
                "--key",
                "k",
                "--test-mode",
                "true",
                "--server",
                "rr-n1-tor.opensrs.net",
            ],
            "test mode is on",
        ),
        (
            &[
                "registrar",
                "add",
                "x",
                "--login",
                "r",
                "--key",
                "k",
                "--port",
                "55000",
            ],
            "use --port 55443",
        ),
        (
            &[
                "registrar",
                "add",
                "x",
                "--login",
                "r",
                "--key",
                "k",
                "--server",
                "no_such host",
            ],
            "neither a host name",
        ),
        (
            &[
                "registrar",
                "add",
                "x",
                "--login",
                "r",
                "--key",
                "k",
                "--port",
                "70000",
            ],
            "70000",
        ),
        (
            &[
                "registrar",
                "add",
                "x",
                "--login",
                "r",
                "--key",
                "k",
                "--port",
                "0",
            ],
            "port 0",
        ),
        (
            &[
                "registrar",
                "add",
                "x",
                "--login",
                "r",
                "--key",
                "k",
                "--source-ip",
                "10.0.0",
            ],
            "not an IP address",
        ),
        (
            &["registrar", "add", "x", "--login", "", "--key", "k"],
            "login",
        ),
        (
            &["registrar", "add", "x", "--login", "r", "--key", ""],
            "key must not be empty",
        ),
        (
            &[
                "registrar",
                "add",
                "x",
                "--login",
                "r",
                "--key",
                "k",
                "--warn-days",
                "366",
            ],
            "warn-days of 366",
        ),
        (
            &[
                "registrar",
                "add",
                "x",
                "--login",
                "r",
                "--key",
                "k",
                "--renew-days",
                "-1",
            ],
            "renew-days",
        ),
        (
            &[
                "registrar",
                "add",
                "x",
                "--login",
                "r",
                "--key",
                "k",
                "--plain-http",
                "true",
            ],
            "plain HTTP",
        ),
        (
            &[
                "registrar",
                "add",
                "x",
                "--login",
                "r",
                "--key",
                "k",
                "--license-file",
                "/no/such/file",
            ],
            "cannot read license file",
        ),
        (
            &["tld", "assign", "com", "--registrar", "nobody"],
            "no OpenSRS connection is titled",
        ),
        (
            &["tld", "assign", "c_m", "--registrar", "nobody"],
            "TLD \"c_m\" is invalid",
        ),
        (
            &[
                "price", "set", "com", "--kind", "register", "--amount", "12.99",
            ],
            "--years 1 to 10",
        ),
        (
            &[
                "price", "set", "com", "--kind", "register", "--years", "11", "--amount", "12.99",
            ],
            "1 to 10 years",
        ),
        (
            &[
                "price", "set", "com", "--kind", "renew", "--years", "0", "--amount", "12.99",
            ],
            "1 to 10 years",
        ),
        (
            &[
                "price", "set", "com", "--kind", "transfer", "--years", "1", "--amount", "9",
            ],
            "priced once",
        ),
        (
            &[
                "price", "set", "com", "--kind", "transfer", "--amount", "-1",
            ],
            "more than zero",
        ),
        (
            &[
                "price", "set", "com", "--kind", "transfer", "--amount", "12.999",
            ],
            "at most 2 decimals",
        ),
        (
            &[
                "price",
                "set",
                "com",
                "--kind",
                "transfer",
                "--amount",
                "99999999999999999999",
            ],
            "more than domreg accepts",
        ),
        (
            &[
                "price",
                "set",
                "com",
                "--kind",
                "transfer",
                "--amount",
                "5",
                "--currency",
                "XYZ",
            ],
            "unknown currency",
        ),
        (
            &[
                "policy",
                "set",
                "de",
                "--poll-every",
                "0s",
                "--timeout",
                "1h",
            ],
            "--poll-every must be between",
        ),
        (
            &[
                "policy",
                "set",
                "de",
                "--poll-every",
                "2h",
                "--timeout",
                "1h",
            ],
            "--timeout must be between",
        ),
        (
            &[
                "policy",
                "set",
                "de",
                "--poll-every",
                "1x",
                "--timeout",
                "1h",
            ],
            "unknown unit",
        ),
        (&["account", "credit", "alice", "0"], "more than zero"),
        (&["account", "credit", "bad account", "5"], "account id"),
        (&["rebuild", "--model", "nope"], "unknown model"),
    ];
    for (args, expected) in bad {
        let r = domreg(d, args);
        assert!(!r.ok, "{args:?} succeeded");
        assert!(r.err.contains(expected), "{args:?}: {}", r.err);
    }
    // Nothing was written by any refused command.
    let log = domreg(d, &["log", "show"]);
    assert!(log.ok && log.out.trim().is_empty(), "{}", log.out);
    let r = added(d, &["--warn-days", "10", "--renew-days", "20"]);
    assert!(r.ok, "{}", r.err);
    assert!(r
        .err
        .contains("warning: renew-days (20) is greater than warn-days (10)"));
    let again = added(d, &[]);
    assert!(!again.ok && again.err.contains("already exists"));
}

#[test]
fn routing_prices_policies_and_credits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let license = d.join("license.txt");
    std::fs::write(
        &license,
        "Customers must accept <the> OpenSRS terms & conditions.\nLine two.",
    )
    .unwrap();
    assert!(
        added(
            d,
            &[
                "--license-file",
                license.to_str().unwrap(),
                "--test-mode",
                "true"
            ]
        )
        .ok
    );
    assert!(
        domreg(
            d,
            &[
                "registrar",
                "add",
                "second",
                "--login",
                "r2",
                "--key",
                "other-key-123456789",
                "--server",
                "127.0.0.1",
                "--port",
                "1",
                "--plain-http",
                "true"
            ]
        )
        .ok
    );
    assert!(domreg(d, &["tld", "assign", ".DE", "--registrar", "main"]).ok);
    assert!(
        domreg(
            d,
            &["price", "set", "de", "--kind", "register", "--years", "1", "--amount", "12.99"]
        )
        .ok
    );
    assert!(
        domreg(
            d,
            &["price", "set", "de", "--kind", "register", "--years", "2", "--amount", "24"]
        )
        .ok
    );
    assert!(
        domreg(
            d,
            &["price", "set", "de", "--kind", "renew", "--years", "1", "--amount", "11.50"]
        )
        .ok
    );
    assert!(
        domreg(
            d,
            &["price", "set", "de", "--kind", "transfer", "--amount", "8.00"]
        )
        .ok
    );
    let mixed = domreg(
        d,
        &[
            "price",
            "set",
            "de",
            "--kind",
            "renew",
            "--years",
            "2",
            "--amount",
            "20",
            "--currency",
            "EUR",
        ],
    );
    assert!(!mixed.ok && mixed.err.contains("one currency"));
    assert!(
        domreg(
            d,
            &[
                "policy",
                "set",
                "de",
                "--poll-every",
                "30m",
                "--timeout",
                "2d"
            ]
        )
        .ok
    );
    let show = domreg(d, &["tld", "show", "de", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&show.out).unwrap();
    assert_eq!(v["registrar"], "main");
    assert_eq!(v["orderable"], true);
    assert_eq!(v["prices"].as_array().unwrap().len(), 4);
    assert_eq!(v["policy"]["policy"]["poll_every_secs"], 1800);
    assert_eq!(v["transfer_policy"]["policy"]["timeout_secs"], 168 * 3600);
    assert_eq!(v["transfer_policy"]["configured"], false);
    assert!(v["license_agreement"]
        .as_str()
        .unwrap()
        .contains("terms & conditions"));
    let text = domreg(d, &["tld", "show", "ca"]).out;
    assert!(
        text.contains("(none: cannot be ordered)")
            && text.contains("poll every 12h, time out after 180h (default)"),
        "{text}"
    );

    // Reassigning affects new orders only, and says so.
    let moved = domreg(d, &["tld", "assign", "de", "--registrar", "second"]);
    assert!(moved.out.contains("was main"), "{}", moved.out);
    let removal = domreg(d, &["registrar", "remove", "second"]);
    assert!(!removal.ok && removal.err.contains("still serves de"));

    assert!(
        domreg(
            d,
            &[
                "account",
                "credit",
                "alice",
                "25.00",
                "--note",
                "invoice 17"
            ]
        )
        .ok
    );
    assert!(domreg(d, &["account", "credit", "alice", "5"]).ok);
    let ledger: serde_json::Value =
        serde_json::from_str(&domreg(d, &["ledger", "--account", "alice", "--json"]).out).unwrap();
    assert_eq!(ledger["balances"][0]["balance"]["minor"], 3000);
    assert_eq!(ledger["entries"][0]["note"], "invoice 17");
    assert_eq!(ledger["entries"][1]["balance_after"]["minor"], 3000);

    // The key is only in the secret file, never in the log or the models.
    for file in ["events.db", "readmodels.db"] {
        let bytes = std::fs::read(d.join(file)).unwrap();
        assert!(
            !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
            "the key is in {file}"
        );
    }
    let show = domreg(d, &["registrar", "show", "main", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&show.out).unwrap();
    assert_eq!(v["key"], "Su…zy (25 chars)");
    assert!(domreg(d, &["verify"]).ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrar_test_reports_success_bad_key_and_blocked_ip() {
    let sb = Sandbox::start(SandboxConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        "reseller",
        KEY,
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = sb.addr.port().to_string();
    let run = |args: &[&str]| tokio::task::block_in_place(|| domreg(d, args));
    assert!(
        run(&[
            "registrar",
            "add",
            "main",
            "--login",
            "reseller",
            "--key",
            KEY,
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--plain-http",
            "true"
        ])
        .ok
    );
    let ok = run(&["registrar", "test", "main"]);
    assert!(
        ok.ok
            && ok.out.contains("OK: main reached 127.0.0.1")
            && ok.out.contains("balance 10000.00"),
        "{}",
        ok.out
    );
    assert!(run(&["registrar", "update", "main", "--key", "a-wrong-key-000000"]).ok);
    let bad = run(&["registrar", "test", "main"]);
    assert!(
        !bad.ok && bad.out.contains("authentication failed"),
        "{}",
        bad.out
    );
    assert!(run(&["registrar", "update", "main", "--key", KEY]).ok);
    sb.with_state(|s| s.settings.allowed_ips = vec!["192.0.2.1".into()]);
    let blocked = run(&["registrar", "test", "main", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&blocked.out).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("refused this machine's IP address"));
    sb.with_state(|s| s.settings.allowed_ips.clear());
    // The environment overrides the stored key.
    let out = Command::new(env!("CARGO_BIN_EXE_domreg"))
        .args([
            "--data-dir",
            d.to_str().unwrap(),
            "registrar",
            "test",
            "main",
        ])
        .env("DOMREG_OPENSRS_KEY_MAIN", "wrong-from-env-1234567")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let log = run(&["log", "show", "--json"]).out;
    assert!(log.contains("RegistrarKeyReplaced") && !log.contains("a-wrong-key"));
}

#[test]
fn verify_finds_a_tampered_model_and_rebuild_repairs_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(domreg(d, &["account", "credit", "carol", "40"]).ok);
    assert!(domreg(d, &["verify"]).ok);
    let conn = rusqlite::Connection::open(d.join("readmodels.db")).unwrap();
    conn.execute(
        "UPDATE ledger_balances SET balance_minor = 999999 WHERE account = 'carol'",
        [],
    )
    .unwrap();
    drop(conn);
    let v = domreg(d, &["verify"]);
    assert!(!v.ok);
    assert!(v.out.contains("ledger: ledger_balances"), "{}", v.out);
    assert!(v.err.contains("differences"), "{}", v.err);
    let r = domreg(d, &["rebuild", "--model", "ledger"]);
    assert!(r.ok && r.out.contains("rebuilt ledger"), "{}", r.err);
    assert!(domreg(d, &["verify"]).ok);
}

#[test]
fn titles_take_any_text_and_test_mode_decides_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // H-Sphere's default title.
    let run = domreg(
        d,
        &[
            "registrar",
            "add",
            "OpenSRS Registrar",
            "--login",
            "reseller",
            "--key",
            KEY,
            "--test-mode",
            "true",
        ],
    );
    assert!(run.ok, "{}", run.err);
    let shown = domreg(d, &["registrar", "show", "OpenSRS Registrar", "--json"]);
    assert!(shown.ok, "{}", shown.err);
    let v: serde_json::Value = serde_json::from_str(&shown.out).unwrap();
    assert_eq!(v["server"], "horizon.opensrs.net");
    assert_eq!(
        v["key"].as_str().map(|k| k.contains("chars")),
        Some(true),
        "{v}"
    );
    // Leaving test mode moves it to the live host.
    let run = domreg(
        d,
        &[
            "registrar",
            "update",
            "OpenSRS Registrar",
            "--test-mode",
            "false",
        ],
    );
    assert!(run.ok, "{}", run.err);
    let v: serde_json::Value =
        serde_json::from_str(&domreg(d, &["registrar", "show", "OpenSRS Registrar", "--json"]).out)
            .unwrap();
    assert_eq!(
        (v["server"].as_str(), v["test_mode"].as_bool()),
        (Some("rr-n1-tor.opensrs.net"), Some(false))
    );
    // A title that is not a file name still keeps its key in its own file.
    let files: Vec<String> = std::fs::read_dir(d.join("secrets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("opensrs-OpenSRS_Registrar-")),
        "{files:?}"
    );
}
