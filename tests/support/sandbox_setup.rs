//! Pointing a fresh data directory at a sandbox through the CLI, as an admin would.

use std::path::Path;
use std::process::Command;

/// Runs `domreg --data-dir DIR ARGS`; the test fails if it does.
pub fn domreg_ok(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_domreg"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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
}
