//! Orders and the Async Manager from the command line, with `domreg serve --once` as the
//! engine and the sandbox on loopback.

#[path = "support/cli.rs"]
mod support_cli;

use std::path::Path;
use std::process::Command;

use domreg::opensrs::sandbox::{Sandbox, SandboxConfig};

const KEY: &str = "orders-cli-key-0123456789";

fn domreg(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let r = support_cli::domreg(dir, args).never_showing(KEY);
    (r.ok, r.out, r.err)
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let (ok, out, err) = domreg(dir, args);
    assert!(ok, "{args:?}: {err}");
    out
}

const CONTACTS: &str = r#"{"owner": {"first_name": "Owen", "last_name": "Ottway", "address1": "32 Oak Street", "city": "SomeCity", "state": "CA", "country": "US", "postal_code": "90210", "phone": "+1.4165550123", "email": "owen@example.com"}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_serve_cancel_reset_check() {
    let sb = Sandbox::start(SandboxConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        "reseller",
        KEY,
    ))
    .await
    .unwrap();
    sb.with_state(|s| s.settings.async_polls = Some(1_000));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = sb.addr.port().to_string();
    ok(
        d,
        &[
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
            "true",
        ],
    );
    for tld in ["com", "de"] {
        ok(d, &["tld", "assign", tld, "--registrar", "main"]);
        ok(
            d,
            &[
                "price", "set", tld, "--kind", "register", "--years", "1", "--amount", "12.99",
            ],
        );
    }
    ok(d, &["account", "default-limit", "1000"]);
    // Refusals before anything is charged.
    let (good, _, err) = domreg(d, &["register", "x.net", "--account", "alice"]);
    assert!(
        !good && err.contains(".net cannot be ordered: no OpenSRS connection"),
        "{err}"
    );
    let (good, _, err) = domreg(
        d,
        &["register", "x.com", "--account", "alice", "--years", "2"],
    );
    assert!(
        !good && err.contains("no register price for 2 years"),
        "{err}"
    );
    let (good, _, err) = domreg(d, &["register", "x.com", "--account", "alice"]);
    assert!(
        !good && err.contains("no contacts for account alice"),
        "{err}"
    );
    let bad = d.join("bad.json");
    std::fs::write(&bad, CONTACTS).unwrap();
    let (good, _, err) = domreg(
        d,
        &[
            "account",
            "contacts",
            "alice",
            "--file",
            bad.to_str().unwrap(),
        ],
    );
    assert!(!good && err.contains("not a contact set"), "{err}");
    let file = d.join("contacts.json");
    let owner = serde_json::from_str::<serde_json::Value>(CONTACTS).unwrap()["owner"].clone();
    std::fs::write(
        &file,
        serde_json::json!({"owner": owner, "admin": owner, "billing": owner, "tech": owner})
            .to_string(),
    )
    .unwrap();
    ok(
        d,
        &[
            "account",
            "contacts",
            "alice",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        ok(d, &["ledger", "--json"]).contains("\"entries\":[]"),
        "nothing charged by refused orders"
    );

    let placed: serde_json::Value = serde_json::from_str(&ok(
        d,
        &["register", "quick.com", "--account", "alice", "--json"],
    ))
    .unwrap();
    assert_eq!(placed["status"], "charged");
    let slow: serde_json::Value = serde_json::from_str(&ok(
        d,
        &["register", "slow.de", "--account", "alice", "--json"],
    ))
    .unwrap();
    let slow_id = slow["order"]["order_id"].as_str().unwrap().to_string();
    ok(d, &["serve", "--once"]);
    let domains = ok(d, &["domains"]);
    assert!(
        domains.contains("quick.com") && domains.contains("registered"),
        "{domains}"
    );
    let pending: serde_json::Value =
        serde_json::from_str(&ok(d, &["async", "list", "--json"])).unwrap();
    assert_eq!(pending[0]["domain"], "slow.de");
    assert_eq!(pending[0]["polls"], 0);

    let checked = ok(d, &["async", "check", &slow_id]);
    assert!(checked.contains("still pending"), "{checked}");
    let pending: serde_json::Value =
        serde_json::from_str(&ok(d, &["async", "list", "--json"])).unwrap();
    assert_eq!(pending[0]["polls"], 1);
    let before = pending[0]["deadline"].as_str().unwrap().to_string();
    let reset = ok(d, &["async", "reset", &slow_id]);
    assert!(reset.contains("waits again until"), "{reset}");
    let pending: serde_json::Value =
        serde_json::from_str(&ok(d, &["async", "list", "--json"])).unwrap();
    assert!(pending[0]["deadline"].as_str().unwrap() >= before.as_str());

    let cancelled = ok(d, &["async", "cancel", &slow_id]);
    assert!(
        cancelled.contains("12.99 USD refunded to alice") && cancelled.contains("Order cancelled"),
        "{cancelled}"
    );
    assert!(ok(d, &["async", "list"]).contains("no pending orders"));
    let domains = ok(d, &["domains"]);
    assert!(
        !domains.contains("slow.de"),
        "a cancelled registration leaves the account: {domains}"
    );
    let (good, _, err) = domreg(d, &["async", "cancel", &slow_id]);
    assert!(!good && err.contains("no open order"), "{err}");
    // The sandbox refunded its reseller balance too.
    sb.with_state(|s| assert_eq!(s.balances_cents["reseller"], 1_000_000 - 1_000));
    let ledger: serde_json::Value =
        serde_json::from_str(&ok(d, &["ledger", "--account", "alice", "--json"])).unwrap();
    assert_eq!(ledger["balances"][0]["balance"]["minor"], -1299);
    ok(d, &["verify"]);
}

#[test]
fn the_readme_demo_walks_both_registrations_to_their_end() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_domreg"))
        .args(["demo", "--keep", keep.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("UnknownStatus  ada-lovelace.de"), "{text}");
    assert!(text.contains("Confirmed      ada-lovelace.com"), "{text}");
    assert!(text.contains("Confirmed      ada-lovelace.de"), "{text}");
    assert!(
        text.contains("The sandbox received 2 SW_REGISTER calls for 2 orders."),
        "{text}"
    );
    let verify = Command::new(env!("CARGO_BIN_EXE_domreg"))
        .arg("--data-dir")
        .arg(&keep)
        .arg("verify")
        .output()
        .unwrap();
    assert!(verify.status.success());
}
