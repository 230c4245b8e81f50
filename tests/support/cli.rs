//! The `domreg` binary in tests: one way to run it, and pointing a fresh data directory
//! at a sandbox through the CLI, as an admin would.

use std::path::Path;
use std::process::Command;

/// What one run of the binary printed.
#[derive(Debug)]
#[allow(dead_code)]
pub struct Run {
    pub ok: bool,
    pub out: String,
    pub err: String,
}

#[allow(dead_code)]
impl Run {
    /// Fails the test if `secret` appears in what the run printed.
    #[track_caller]
    pub fn never_showing(self, secret: &str) -> Self {
        assert!(
            !self.out.contains(secret) && !self.err.contains(secret),
            "a secret leaked in the output: {self:?}"
        );
        self
    }
}

/// Runs `domreg ARGS` with `env` set and `unset` removed from the environment. Inside
/// a multi-threaded runtime the wait does not block other tasks.
pub fn domreg_with(args: &[&str], env: &[(&str, &str)], unset: &[&str]) -> Run {
    let run = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_domreg"));
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        for k in unset {
            cmd.env_remove(k);
        }
        cmd.output().unwrap()
    };
    let out = match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(run)
        }
        _ => run(),
    };
    Run {
        ok: out.status.success(),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `domreg --data-dir DIR ARGS`.
pub fn domreg(dir: &Path, args: &[&str]) -> Run {
    let dir = dir.to_string_lossy();
    let all: Vec<&str> = ["--data-dir", dir.as_ref()]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    domreg_with(&all, &[], &[])
}

/// Runs `domreg --data-dir DIR ARGS`; the test fails if it does. Its standard output.
#[track_caller]
pub fn domreg_ok(dir: &Path, args: &[&str]) -> String {
    let r = domreg(dir, args);
    assert!(r.ok, "{args:?}: {}", r.err);
    r.out
}

/// Runs `domreg --data-dir DIR ARGS`; the test fails unless it fails. Its standard error.
#[track_caller]
#[allow(dead_code)]
pub fn domreg_err(dir: &Path, args: &[&str]) -> String {
    let r = domreg(dir, args);
    assert!(!r.ok, "{args:?} should fail");
    r.err
}

/// Adds connection `main` (reseller `reseller`, plain HTTP to the sandbox on `port`),
/// routes `tlds` to it and prices a 1-year registration at 12.99 USD.
#[allow(dead_code)] // not every test binary configures through the CLI
pub fn connect_sandbox(dir: &Path, port: u16, key: &str, tlds: &[&str]) {
    let port = port.to_string();
    domreg_ok(
        dir,
        &[
            "registrar",
            "add",
            "main",
            "--login",
            "reseller",
            "--key",
            key,
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--plain-http",
            "true",
        ],
    );
    for tld in tlds {
        domreg_ok(dir, &["tld", "assign", tld, "--registrar", "main"]);
        domreg_ok(
            dir,
            &[
                "price", "set", tld, "--kind", "register", "--years", "1", "--amount", "12.99",
            ],
        );
    }
    // The tests' accounts order without paying in first (the credit-limit tests set
    // their own limits).
    domreg_ok(dir, &["account", "default-limit", "100000"]);
}

/// The domain names listed under `key` of a JSON report (strings, or objects with a
/// `domain`), as `sync` and `import` print them.
#[allow(dead_code)]
pub fn names(report: &serde_json::Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("no list {key:?} in {report}"))
        .iter()
        .map(|x| {
            x.as_str()
                .map_or_else(|| x["domain"].as_str().unwrap().to_string(), str::to_string)
        })
        .collect()
}

/// A loopback port nobody listens on right now.
#[allow(dead_code)]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
