//! `domreg migrate-opensrs-conf` on OpenSRS.conf files written after the reference's
//! description of H-Sphere 2.2's file (comments, other keys, test and live hosts,
//! Windows line endings), malformed ones, and second runs.

use std::path::Path;
use std::process::Command;

const LIVE_KEY: &str = "8f2b6c1d9e0a4f3b7c5d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b";

fn live_conf() -> String {
    format!(
        r#"#!/usr/bin/perl
#
# OpenSRS.conf -- settings of the OpenSRS client (opensrs-client 2.9.5)
#
package OpenSRS;
use strict;

my $USERNAME = "hostco"; # insert username here
my $PRIVATE_KEY = "{LIVE_KEY}"; # insert DES key here

$ADMIN_EMAIL = 'admin@hostco.example';
$RENEW_EMAIL = 'renew@hostco.example';

# 1 = test server (horizon), 0 = live
$TEST_SERVER = 0;

$PATH_SOURCE = "/usr/local/opensrs";
$PATH_LIB = "$PATH_SOURCE/lib";
$PATH_TEMPLATES = '/usr/local/opensrs/templates';

%OPENSRS = (
    username          => $USERNAME,
    private_key       => $PRIVATE_KEY,
    REMOTE_HOST       => 'rr-n1-tor.opensrs.net',
    REMOTE_PORT       => 55000,
    REMOTE_HTTPS_PORT => 55443,
    REMOTE_IDN_HOST   => 'rr-n1-tor.opensrs.net',
    REMOTE_IDN_PORT   => 55044,
    connection_type   => 'HTTPS',
    crypt_type        => 'Blowfish',
    xml_logfile       => '/var/log/opensrs.xml', # keep a copy; it has ; and # in quotes
);

%REG_SYSTEM = (
    F_SHOW_CC_FIELDS => 0,
);

1;
"#
    )
}

/// Test system, single quotes, `our`, indentation, no trailing comments, CRLF.
fn test_conf() -> String {
    "  our $USERNAME='testco';\n\
our $PRIVATE_KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';\n\
$TEST_SERVER = 1;\n\
%OPENSRS = (\n\
  'REMOTE_HOST' => \"horizon.opensrs.net\",\n\
  REMOTE_PORT => 55000,\n\
  connection_type => 'CBC',\n\
  crypt_type => 'DES',\n\
);\n"
        .replace('\n', "\r\n")
}

/// Runs the migrator; it applies its plan (`--yes`) unless the test asks for a dry run
/// or passes `--ask` (no `--yes`, no terminal: the plan only).
fn domreg(dir: &Path, file: &Path, extra: &[&str]) -> (bool, String, String) {
    let ask = extra.contains(&"--ask");
    let extra: Vec<&str> = extra.iter().copied().filter(|a| *a != "--ask").collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_domreg"));
    cmd.arg("--data-dir")
        .arg(dir)
        .arg("migrate-opensrs-conf")
        .arg(file)
        .args(&extra);
    if !ask && !extra.contains(&"--dry-run") {
        cmd.arg("--yes");
    }
    let out = cmd.stdin(std::process::Stdio::null()).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn show(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_domreg"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn events(dir: &Path) -> i64 {
    domreg::store::SqliteStore::read_file(dir.join("events.db"))
        .unwrap()
        .len() as i64
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_live_install_keeps_its_live_host_and_a_second_run_changes_nothing() {
    let files = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let conf = write(files.path(), "OpenSRS.conf", &live_conf());

    // A dry run shows everything and writes nothing.
    let (ok, out, err) = domreg(data.path(), &conf, &["--dry-run", "--price", "com=10.00"]);
    assert!(ok, "{err}");
    assert!(out.contains("(dry run: nothing written)"), "{out}");
    assert!(
        out.contains(
            "would add OpenSRS connection opensrs hostco@rr-n1-tor.opensrs.net:55443 (live)"
        ),
        "{out}"
    );
    assert!(
        out.contains("would set the .com registration price for 10 year(s) to 100.00 USD"),
        "{out}"
    );
    assert!(
        out.contains("could not read line 18: $PATH_LIB = \"$PATH_SOURCE/lib\""),
        "{out}"
    );
    assert!(out.contains("ignored line 34: %REG_SYSTEM"), "{out}");
    assert!(
        out.contains("$ADMIN_EMAIL is admin@hostco.example"),
        "{out}"
    );
    assert!(!out.contains(LIVE_KEY), "the dry run shows the key: {out}");
    assert_eq!(
        show(data.path(), &["registrar", "list", "--json"]),
        serde_json::json!([])
    );

    let (ok, out, err) = domreg(data.path(), &conf, &["--price", "com=10.00"]);
    assert!(ok, "{err}");
    assert!(out.contains("23 changes:"), "{out}");
    assert!(out.contains("did route .com through opensrs"), "{out}");
    let c = show(data.path(), &["registrar", "show", "opensrs", "--json"]);
    assert_eq!(c["server"], "rr-n1-tor.opensrs.net");
    assert_eq!(c["port"], 55443);
    assert_eq!(c["login"], "hostco");
    assert_eq!(c["test_mode"], false);
    assert_eq!(c["production"], true);
    assert!(!c.to_string().contains(LIVE_KEY));
    let prices = show(data.path(), &["price", "list", "com", "--json"]);
    let prices = prices.as_array().unwrap();
    // Registration and renewal for 1 to 10 years, and the transfer.
    assert_eq!(prices.len(), 21);
    for p in prices {
        let years = p["years"].as_i64().unwrap_or(1);
        assert_eq!(p["price"]["minor"].as_i64().unwrap(), years * 1000, "{p}");
    }
    // The key is a secret: not in the log or the read models.
    for db in ["events.db", "readmodels.db"] {
        let bytes = std::fs::read(data.path().join(db)).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(LIVE_KEY),
            "key in {db}"
        );
    }

    // Idempotent: the second run appends nothing.
    let before = events(data.path());
    let (ok, out, _) = domreg(data.path(), &conf, &["--price", "com=10.00"]);
    assert!(ok);
    assert!(out.starts_with("Nothing to change"), "{out}");
    assert!(out.contains("unchanged: connection opensrs"), "{out}");
    assert_eq!(events(data.path()), before);

    // A new flat price is an upsert that says what it replaces.
    let (ok, out, _) = domreg(data.path(), &conf, &["--price", "com=11.00"]);
    assert!(ok);
    assert!(
        out.contains(
            "did set the .com registration price for 2 year(s) to 22.00 USD (was 20.00 USD)"
        ),
        "{out}"
    );
    assert!(!out.contains("did add OpenSRS connection"), "{out}");
}

#[test]
fn a_test_install_with_windows_line_endings_points_at_the_test_system() {
    let files = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let conf = write(files.path(), "OpenSRS.conf", &test_conf());
    let (ok, out, err) = domreg(data.path(), &conf, &["--title", "legacy"]);
    assert!(ok, "{err}");
    assert!(
        out.contains(
            "did add OpenSRS connection legacy testco@horizon.opensrs.net:55443 (test system)"
        ),
        "{out}"
    );
    assert!(
        out.contains("connection_type CBC (port 55000) is not used"),
        "{out}"
    );
    assert!(out.contains("crypt_type DES"), "{out}");
    let c = show(data.path(), &["registrar", "show", "legacy", "--json"]);
    assert_eq!(
        (c["server"].as_str(), c["test_mode"].as_bool()),
        (Some("horizon.opensrs.net"), Some(true))
    );
    let (ok, out, _) = domreg(data.path(), &conf, &["--title", "legacy"]);
    assert!(ok && out.starts_with("Nothing to change"), "{out}");
}

#[test]
fn contradictions_and_missing_values_stop_with_an_explanation() {
    let files = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let contradiction = write(
        files.path(),
        "contradiction.conf",
        "my $USERNAME = \"hostco\"; # user\nmy $PRIVATE_KEY = \"abcdef0123456789abcdef\"; # key\n$TEST_SERVER = 0;\n%OPENSRS = ( REMOTE_HOST => 'horizon.opensrs.net' );\n",
    );
    let (ok, _, err) = domreg(data.path(), &contradiction, &[]);
    assert!(!ok);
    assert!(
        err.contains("contradicts itself") && err.contains("--environment"),
        "{err}"
    );
    let (ok, out, err) = domreg(
        data.path(),
        &contradiction,
        &["--environment", "test", "--dry-run"],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("hostco@horizon.opensrs.net:55443 (test system)"),
        "{out}"
    );

    let cases = [
        ("no-key.conf", "my $USERNAME = \"hostco\"; # user\n", "sets no $PRIVATE_KEY"),
        ("empty.conf", "", "sets no $USERNAME"),
        (
            "broken.conf",
            "my $USERNAME = \"hostco\";\nmy $PRIVATE_KEY = \"abc;\n",
            "lines not read: 2 (a quote is not closed)",
        ),
        (
            "conflict.conf",
            "my $USERNAME = \"hostco\";\nmy $PRIVATE_KEY = \"k1k1k1k1k1k1k1\";\n%OPENSRS = ( username => 'other' );\n",
            "$USERNAME (line 1) and the %OPENSRS entry username (line 3) differ",
        ),
        (
            "flag.conf",
            "my $USERNAME = \"hostco\";\nmy $PRIVATE_KEY = \"k1k1k1k1k1k1k1\";\n$TEST_SERVER = 'yes';\n",
            "$TEST_SERVER on line 3 is \"yes\"",
        ),
    ];
    for (name, text, expected) in cases {
        let file = write(files.path(), name, text);
        let (ok, _, err) = domreg(data.path(), &file, &[]);
        assert!(!ok, "{name} should fail");
        assert!(err.contains(expected), "{name}: {err}");
    }
    let conf = write(files.path(), "ok.conf", &live_conf());
    let (ok, _, err) = domreg(data.path(), &conf, &["--price", "com"]);
    assert!(!ok && err.contains("is not TLD=AMOUNT"), "{err}");
    let (ok, _, err) = domreg(data.path(), &conf, &["--price", "com=-1"]);
    assert!(!ok && err.contains("must be more than zero"), "{err}");
    let (ok, _, err) = domreg(data.path(), &files.path().join("missing.conf"), &[]);
    assert!(!ok && err.contains("cannot read"), "{err}");
    assert_eq!(
        show(data.path(), &["registrar", "list", "--json"]),
        serde_json::json!([])
    );
}

#[test]
fn the_plan_is_shown_before_anything_is_written_and_prices_cover_renewals_and_transfers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = d.join("OpenSRS.conf");
    std::fs::write(&file, live_conf()).unwrap();
    support_settings_start(d);
    let before = events(d);
    let (ok, out, err) = domreg(
        d,
        &file,
        &["--price", "com=12.00", "--source-ip", "192.0.2.10", "--ask"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("Run again with --yes"), "{out}");
    assert!(
        out.contains("renewal price for 1 year(s) to 12.00 USD"),
        "{out}"
    );
    assert_eq!(events(d), before, "nothing written without --yes");

    let (ok, _, err) = domreg(
        d,
        &file,
        &["--price", "com=12.00", "--source-ip", "192.0.2.10"],
    );
    assert!(ok, "{err}");
    let prices = show(d, &["price", "list", "--json"]);
    let has = |kind: &str, years: Option<u64>, minor: i64| {
        prices.as_array().unwrap().iter().any(|p| {
            p["tld"] == "com"
                && p["kind"] == kind
                && p["years"].as_u64() == years
                && p["price"]["minor"] == minor
        })
    };
    assert!(has("register", Some(2), 2400), "{prices}");
    assert!(has("renew", Some(1), 1200), "{prices}");
    assert!(has("renew", Some(10), 12000), "{prices}");
    assert!(has("transfer", None, 1200), "{prices}");
    let connection = show(d, &["registrar", "show", "opensrs", "--json"]);
    assert_eq!(connection["source_ip"], "192.0.2.10", "{connection}");
}

/// Creates the data directory's log, as any first command does.
fn support_settings_start(dir: &Path) {
    show(dir, &["registrar", "list", "--json"]);
}
