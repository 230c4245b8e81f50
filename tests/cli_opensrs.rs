//! The `domreg` binary against the sandbox: `lookup`, `transfer-status`, the sandbox's
//! admin endpoint, and a `domreg sandbox` process started like a user would.

#[path = "support/cli.rs"]
mod support_cli;

use std::process::{Command, Stdio};
use std::time::Duration;

use domreg::opensrs::sandbox::{Sandbox, SandboxConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KEY: &str = "cli-test-key-0123456789";

fn domreg(args: &[&str]) -> (bool, String, String) {
    let r = support_cli::domreg_with(args, &[("DOMREG_OPENSRS_KEY", KEY)], &[]);
    (r.ok, r.out, r.err)
}

async fn admin(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> serde_json::Value {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let signature = domreg::opensrs::signature::sign(body.as_bytes(), KEY);
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nX-Username: reseller\r\nX-Signature: {signature}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.unwrap();
    serde_json::from_str(out.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_and_transfer_status_in_words_and_json() {
    let sb = Sandbox::start(SandboxConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        "reseller",
        KEY,
    ))
    .await
    .unwrap();
    let port = sb.addr.port().to_string();
    // The binary runs while this runtime's other worker serves the sandbox.
    let run = |verb: &str, domain: &str, json: bool| {
        let mut args = vec![
            verb,
            domain,
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--login",
            "reseller",
            "--plain-http",
        ];
        if json {
            args.push("--json");
        }
        tokio::task::block_in_place(|| domreg(&args))
    };
    let (ok, out, _) = run("lookup", "Free-Name.com", false);
    assert!(ok);
    assert_eq!(
        out.trim(),
        "free-name.com is available (210 Domain available)"
    );
    let (ok, out, _) = run("lookup", "taken-name.com", true);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["classification"]["class"], "done");
    assert_eq!(v["code"], 211);
    assert_eq!(v["attributes"]["status"], "taken");
    let (ok, out, _) = run("transfer-status", "locked-name.com", false);
    assert!(ok);
    assert!(
        out.contains("cannot be transferred") && out.contains("clientTransferProhibited"),
        "{out}"
    );
    let (ok, _, err) = run("lookup", "not a domain", false);
    assert!(!ok);
    assert!(err.contains("may only hold letters"), "{err}");

    let faults = r#"[{"command":"LOOKUP","fault":{"kind":"http500"},"percent":100}]"#;
    let set = admin(sb.addr, "POST", "/sandbox/faults", faults).await;
    assert_eq!(set["faults"][0]["fault"]["kind"], "http500");
    let (ok, _, err) = run("lookup", "any.com", false);
    assert!(!ok);
    assert!(
        err.contains("no answer from OpenSRS") && err.contains("500"),
        "{err}"
    );
    assert!(!err.contains(KEY));
    let state = admin(sb.addr, "GET", "/sandbox/state", "").await;
    assert_eq!(
        state["counters"]["calls"]["LOOKUP (faulted)"], 3,
        "read-only lookups are retried 3 times"
    );
    // Unsigned, the control endpoint refuses; a clock far off is refused, not a panic.
    let mut tcp = tokio::net::TcpStream::connect(sb.addr).await.unwrap();
    tcp.write_all(b"GET /sandbox/state HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 401"), "{out}");
    let far = admin(
        sb.addr,
        "POST",
        "/sandbox/clock",
        r#"{"now":"+262142-12-31T00:00:00Z"}"#,
    )
    .await;
    assert!(
        far["error"]
            .as_str()
            .is_some_and(|e| e.contains("100 years")),
        "{far}"
    );
    let later = admin(
        sb.addr,
        "POST",
        "/sandbox/clock",
        r#"{"advance_secs":9223372036854775807}"#,
    )
    .await;
    assert!(later["error"].is_string(), "{later}");
    let alive = admin(sb.addr, "GET", "/sandbox/counters", "").await;
    assert!(alive.is_object(), "{alive}");
    let bad = admin(sb.addr, "POST", "/sandbox/nothing", "").await;
    assert!(bad["error"].as_str().unwrap().contains("routes"));
}

#[test]
fn a_sandbox_process_serves_several_resellers() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_domreg"))
        .args([
            "sandbox",
            "--listen",
            &listen,
            "--user",
            "one",
            "--key",
            KEY,
            "--user",
            "two",
            "--key",
            "other-key-987654321",
            "--balance",
            "25.00",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let p = port.to_string();
    let mut answered = false;
    for _ in 0..100 {
        let (ok, out, _) = domreg(&[
            "lookup",
            "x.com",
            "--server",
            "127.0.0.1",
            "--port",
            &p,
            "--login",
            "one",
            "--plain-http",
        ]);
        if ok {
            assert!(out.contains("available"));
            answered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let second = Command::new(env!("CARGO_BIN_EXE_domreg"))
        .args([
            "lookup",
            "x.com",
            "--server",
            "127.0.0.1",
            "--port",
            &p,
            "--login",
            "two",
            "--plain-http",
        ])
        .env("DOMREG_OPENSRS_KEY", "other-key-987654321")
        .output()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(answered, "the sandbox answered");
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
}
