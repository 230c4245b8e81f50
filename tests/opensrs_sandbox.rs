//! The client against the sandbox over real HTTP on loopback: every command, every class
//! of answer, each injected fault, authentication, and requests written by hand the way
//! other OpenSRS clients write them.

#[path = "support/contacts.rs"]
mod support_contacts;

use std::time::Duration;

use domreg::opensrs::command::{Command, RegType, SwRegister};
use domreg::opensrs::sandbox::faults::{Fault, FaultRule};
use domreg::opensrs::sandbox::state::OrderStatus;
use domreg::opensrs::sandbox::{Sandbox, SandboxConfig};
use domreg::opensrs::value::Value;
use domreg::opensrs::{
    signature, Class, Client, ConnectionSettings, ContactSet, PendingKind, Secret, TransportError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KEY: &str = "0123456789abcdef0123456789abcdef";

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        "reseller",
        KEY,
    ))
    .await
    .unwrap()
}

fn client(sb: &Sandbox) -> Client {
    let mut s = ConnectionSettings::new(
        "test",
        "127.0.0.1",
        sb.addr.port(),
        "reseller",
        Secret::new(KEY),
    );
    s.plain_http = true;
    s.timeout = Duration::from_secs(2);
    Client::new(s).unwrap()
}

fn contacts() -> ContactSet {
    support_contacts::owen("Example & Sons <Ltd>")
}

fn register(domain: &str, reg_type: RegType) -> Command {
    Command::SwRegister(Box::new(SwRegister {
        domain: domain.into(),
        reg_type,
        period: 1,
        contacts: contacts(),
        nameservers: vec!["ns1.example.net".into(), "ns2.example.net".into()],
        reg_username: "owen".into(),
        reg_password: "s3cret-profile".into(),
        auth_info: (reg_type == RegType::Transfer).then(|| "EPP-CODE".to_string()),
        auto_renew: false,
        lock: true,
    }))
}

fn lookup(d: &str) -> Command {
    Command::Lookup { domain: d.into() }
}

fn belongs(d: &str) -> Command {
    Command::BelongsToRsp { domain: d.into() }
}

fn attr(e: &domreg::opensrs::Exchange, k: &str) -> Option<String> {
    e.outcome
        .as_ref()
        .ok()
        .and_then(|r| r.attr(k))
        .map(str::to_string)
}

/// The request as records keep it.
fn redacted(command: &Command) -> String {
    use domreg::opensrs::codec;
    codec::write(&codec::Envelope::new(command.to_redacted_value()))
}

#[tokio::test]
async fn synchronous_registration_then_renewal() {
    let sb = sandbox().await;
    let c = client(&sb);
    assert_eq!(
        c.call(&lookup("example.com")).await.classification.code,
        Some(210)
    );
    let reg = c.call(&register("example.com", RegType::New)).await;
    assert_eq!(
        reg.classification.class,
        Class::Done,
        "{:?}",
        reg.classification
    );
    let order_id = reg.classification.order_id.clone().unwrap();
    let kept = redacted(&register("example.com", RegType::New));
    assert!(
        !kept.contains("s3cret-profile"),
        "the registrant password is redacted in records"
    );
    assert!(kept.contains("[redacted]"));
    assert!(kept.contains("Example &amp; Sons &lt;Ltd&gt;"));
    assert_eq!(
        c.call(&lookup("example.com")).await.classification.code,
        Some(211)
    );
    assert_eq!(
        c.call(&register("example.com", RegType::New))
            .await
            .classification
            .code,
        Some(485)
    );

    let owned = c.call(&belongs("example.com")).await;
    assert_eq!(attr(&owned, "belongs_to_rsp").as_deref(), Some("1"));
    let expiry = attr(&owned, "domain_expdate").unwrap();
    let year: i32 = expiry[..4].parse().unwrap();
    let info = c.call(&Command::GetOrderInfo { order_id }).await;
    let status = info
        .outcome
        .as_ref()
        .unwrap()
        .attributes
        .path(&["field_hash", "status"])
        .and_then(|v| v.as_str())
        .map(str::to_string);
    assert_eq!(status.as_deref(), Some("completed"));
    let all = c
        .call(&Command::GetDomain {
            domain: "example.com".into(),
        })
        .await;
    assert_eq!(attr(&all, "registry_expiredate"), Some(expiry.clone()));

    let renew = |y: i32| Command::Renew {
        domain: "example.com".into(),
        current_expiration_year: y,
        period: 2,
        auto_renew: false,
    };
    let wrong = c.call(&renew(year + 5)).await;
    assert_eq!(
        (wrong.classification.class, wrong.classification.code),
        (Class::Rejected, Some(541))
    );
    let ok = c.call(&renew(year)).await;
    assert_eq!(ok.classification.class, Class::Done);
    assert!(ok
        .classification
        .expires_at
        .as_deref()
        .unwrap()
        .starts_with(&(year + 2).to_string()));
    // Sent again with the old year: 555, which means done, not a second renewal.
    let again = c.call(&renew(year)).await;
    assert_eq!(
        (again.classification.class, again.classification.code),
        (Class::Done, Some(555))
    );
    sb.with_state(|s| assert_eq!(s.counters.renew_by_domain["example.com"], 3));
    let balance = c.call(&Command::GetBalance).await;
    assert_eq!(
        attr(&balance, "balance").as_deref(),
        Some("9970.00"),
        "1 + 2 years charged to the reseller"
    );
}

#[tokio::test]
async fn asynchronous_registry_completes_after_polls_or_declines() {
    let sb = sandbox().await;
    let c = client(&sb);
    let reg = c.call(&register("beispiel.de", RegType::New)).await;
    assert_eq!(
        (reg.classification.class, reg.classification.pending),
        (Class::Pending, Some(PendingKind::AsyncRegistry))
    );
    assert_eq!(reg.classification.code, Some(250));
    let order_id = reg.classification.order_id.clone().unwrap();
    // While it waits: LOOKUP says 221 (probe 1), a second SW_REGISTER says 486.
    assert_eq!(
        c.call(&lookup("beispiel.de")).await.classification.code,
        Some(221)
    );
    let second = c.call(&register("beispiel.de", RegType::New)).await;
    assert_eq!(
        (second.classification.class, second.classification.code),
        (Class::RetryLater, Some(486))
    );
    assert_eq!(
        attr(&c.call(&belongs("beispiel.de")).await, "belongs_to_rsp").as_deref(),
        Some("0"),
        "probe 2"
    );
    let third = c.call(&belongs("beispiel.de")).await;
    assert_eq!(
        attr(&third, "belongs_to_rsp").as_deref(),
        Some("1"),
        "probe 3 completes it"
    );
    assert!(third.classification.expires_at.is_some());
    sb.with_state(|s| {
        assert_eq!(
            s.orders[&order_id.parse::<u64>().unwrap()].status,
            OrderStatus::Completed
        )
    });

    let declined = c.call(&register("decline-me.de", RegType::New)).await;
    let id = declined.classification.order_id.clone().unwrap();
    for _ in 0..3 {
        c.call(&belongs("decline-me.de")).await;
    }
    let info = c.call(&Command::GetOrderInfo { order_id: id }).await;
    let status = info
        .outcome
        .unwrap()
        .attributes
        .path(&["field_hash", "status"])
        .and_then(|v| v.as_str())
        .map(str::to_string);
    assert_eq!(status.as_deref(), Some("declined"));
    assert_eq!(
        c.call(&lookup("decline-me.de")).await.classification.code,
        Some(210)
    );
}

#[tokio::test]
async fn a_waiting_order_can_be_cancelled_and_is_refunded() {
    let sb = sandbox().await;
    let c = client(&sb);
    let reg = c.call(&register("abbruch.de", RegType::New)).await;
    let id = reg.classification.order_id.clone().unwrap();
    assert_eq!(
        attr(&c.call(&Command::GetBalance).await, "balance").as_deref(),
        Some("9990.00")
    );
    let cancel = c
        .call(&Command::ProcessPending {
            order_id: id.clone(),
            cancel: true,
        })
        .await;
    assert_eq!(
        cancel.classification.class,
        Class::Done,
        "{:?}",
        cancel.classification
    );
    assert_eq!(
        attr(&c.call(&Command::GetBalance).await, "balance").as_deref(),
        Some("10000.00")
    );
    let twice = c
        .call(&Command::ProcessPending {
            order_id: id,
            cancel: true,
        })
        .await;
    assert_eq!(twice.classification.class, Class::Rejected);
    let queued = c
        .call(&Command::QueryQueuedRequest {
            request_id: "nope".into(),
        })
        .await;
    assert_eq!(
        (queued.classification.class, queued.classification.code),
        (Class::Rejected, Some(480))
    );
}

#[tokio::test]
async fn transfers_go_owner_then_registry_then_complete() {
    let sb = sandbox().await;
    let c = client(&sb);
    let check = |d: &str| Command::CheckTransfer {
        domain: d.into(),
        check_status: true,
    };
    assert_eq!(
        attr(&c.call(&check("taken-move.com")).await, "transferrable").as_deref(),
        Some("1")
    );
    let t = c.call(&register("taken-move.com", RegType::Transfer)).await;
    assert_eq!(
        (t.classification.class, t.classification.pending),
        (Class::Pending, Some(PendingKind::TransferInProgress))
    );
    assert!(
        !redacted(&register("taken-move.com", RegType::Transfer)).contains("EPP-CODE"),
        "the transfer code is redacted in records"
    );
    assert_eq!(
        attr(&c.call(&check("taken-move.com")).await, "status").as_deref(),
        Some("pending_owner")
    );
    sb.with_state(|s| s.clock_offset_secs += 3_601);
    assert_eq!(
        attr(&c.call(&check("taken-move.com")).await, "status").as_deref(),
        Some("pending_registry")
    );
    // The status check itself schedules completion within five minutes.
    sb.with_state(|s| s.clock_offset_secs += 301);
    assert_eq!(
        attr(&c.call(&check("taken-move.com")).await, "status").as_deref(),
        Some("completed")
    );
    assert_eq!(
        attr(&c.call(&belongs("taken-move.com")).await, "belongs_to_rsp").as_deref(),
        Some("1")
    );

    let locked = c
        .call(&register("locked-stay.com", RegType::Transfer))
        .await;
    assert_eq!(
        (locked.classification.class, locked.classification.code),
        (Class::Rejected, Some(487))
    );
    let refused = c
        .call(&register("decline-owner.com", RegType::Transfer))
        .await;
    assert_eq!(
        refused.classification.code,
        Some(487),
        "not registered anywhere"
    );
    sb.with_state(|s| s.settings.declined.push("taken-refused.com".into()));
    c.call(&register("taken-refused.com", RegType::Transfer))
        .await;
    sb.with_state(|s| s.clock_offset_secs += 3_601);
    assert_eq!(
        attr(&c.call(&check("taken-refused.com")).await, "status").as_deref(),
        Some("cancelled")
    );
}

#[tokio::test]
async fn insufficient_funds_and_invalid_data_are_rejected() {
    let sb = sandbox().await;
    let c = client(&sb);
    sb.with_state(|s| s.balances_cents.insert("reseller".into(), 500));
    let poor = c.call(&register("pricey.com", RegType::New)).await;
    assert_eq!(
        (poor.classification.class, poor.classification.code),
        (Class::Rejected, Some(440))
    );
    assert_eq!(
        c.call(&lookup("bad_name.com")).await.classification.code,
        Some(465)
    );
    assert_eq!(
        c.call(&lookup("bad_name.com")).await.classification.class,
        Class::Rejected
    );
    let mut cmd = register("fine.com", RegType::New);
    if let Command::SwRegister(r) = &mut cmd {
        r.period = 11;
    }
    sb.with_state(|s| s.balances_cents.insert("reseller".into(), 1_000_000));
    assert_eq!(c.call(&cmd).await.classification.code, Some(465));
}

#[tokio::test]
async fn authentication_and_ip_allow_list() {
    let sb = sandbox().await;
    let mut s = ConnectionSettings::new(
        "bad",
        "127.0.0.1",
        sb.addr.port(),
        "reseller",
        Secret::new("wrong-key"),
    );
    s.plain_http = true;
    let bad = Client::new(s).unwrap().call(&Command::GetBalance).await;
    assert_eq!(
        (bad.classification.class, bad.classification.code),
        (Class::Rejected, Some(401))
    );
    assert!(bad.classification.configuration_error);
    sb.with_state(|s| s.settings.allowed_ips = vec!["192.0.2.7".into()]);
    let denied = client(&sb).call(&Command::GetBalance).await;
    assert_eq!(denied.classification.code, Some(400));
    assert!(denied.classification.configuration_error);
    assert_eq!(denied.classification.class, Class::Rejected);
}

async fn set_faults(sb: &Sandbox, rules: Vec<FaultRule>) {
    sb.with_state(|s| s.faults = rules);
}

fn once(command: &str, fault: Fault) -> Vec<FaultRule> {
    vec![FaultRule {
        command: Some(command.into()),
        fault,
        percent: 100,
        times: Some(1),
    }]
}

#[tokio::test]
async fn each_fault_is_classified_and_orders_are_never_resent() {
    let sb = sandbox().await;
    let c = client(&sb);
    let cases = [
        (Fault::Drop, "broken"),
        (Fault::NoReply, "timeout"),
        (Fault::Http500, "http"),
        (Fault::MalformedXml, "unparseable"),
        (Fault::Registry705, "705"),
    ];
    for (i, (fault, what)) in cases.into_iter().enumerate() {
        let domain = format!("fault{i}.com");
        set_faults(&sb, once("SW_REGISTER", fault)).await;
        let e = c.call(&register(&domain, RegType::New)).await;
        assert_eq!(
            e.classification.class,
            Class::Unknown,
            "{what}: {:?}",
            e.classification
        );
        assert_eq!(
            e.attempts, 1,
            "{what}: a registration is never resent by the client"
        );
        match (&e.outcome, what) {
            (Err(TransportError::Broken(_)), "broken")
            | (Err(TransportError::Timeout(_)), "timeout")
            | (Err(TransportError::HttpStatus(500)), "http")
            | (Err(TransportError::Unparseable(_)), "unparseable") => {}
            (Ok(r), "705") => assert_eq!(r.code, 705),
            other => panic!("{what}: {other:?}"),
        }
        // Nothing happened at the registry.
        assert_eq!(
            c.call(&lookup(&domain)).await.classification.code,
            Some(210),
            "{what}"
        );
    }
    sb.with_state(|s| {
        assert!(
            s.counters.sw_register_by_domain.is_empty(),
            "faulted calls never reached the registry"
        )
    });

    // The nasty one: registered, then the reply is lost.
    set_faults(&sb, once("SW_REGISTER", Fault::PerformThenDrop)).await;
    let lost = c.call(&register("lostreply.com", RegType::New)).await;
    assert_eq!(
        (lost.classification.class, lost.attempts),
        (Class::Unknown, 1)
    );
    assert_eq!(
        attr(&c.call(&belongs("lostreply.com")).await, "belongs_to_rsp").as_deref(),
        Some("1")
    );
    sb.with_state(|s| assert_eq!(s.counters.sw_register_by_domain["lostreply.com"], 1));

    // Latency: answered, late.
    set_faults(&sb, once("LOOKUP", Fault::Latency { ms: 300 })).await;
    let slow = c.call(&lookup("slow.com")).await;
    assert_eq!(slow.classification.code, Some(210));
    assert!(slow.elapsed >= Duration::from_millis(300));

    // Read-only commands are retried through a transient fault.
    set_faults(&sb, once("BELONGS_TO_RSP", Fault::Http500)).await;
    let retried = c.call(&belongs("lostreply.com")).await;
    assert_eq!(
        (retried.classification.class, retried.attempts),
        (Class::Done, 2)
    );
}

#[tokio::test]
async fn nothing_listening_is_retry_later() {
    let sb = sandbox().await;
    let port = sb.addr.port();
    drop(sb);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut s = ConnectionSettings::new("gone", "127.0.0.1", port, "reseller", Secret::new(KEY));
    s.plain_http = true;
    s.read_attempts = 1;
    let e = Client::new(s.clone())
        .unwrap()
        .call(&register("x.com", RegType::New))
        .await;
    assert_eq!(e.classification.class, Class::RetryLater, "{:?}", e.outcome);
}

/// Sends raw bytes and returns the raw response.
async fn raw(sb: &Sandbox, request: &[u8]) -> String {
    let mut tcp = tokio::net::TcpStream::connect(sb.addr).await.unwrap();
    tcp.write_all(request).await.unwrap();
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn post(version: &str, path: &str, body: &str, signature: &str) -> Vec<u8> {
    format!(
        "POST {path} {version}\r\nContent-Type: text/xml\r\nX-Username: reseller\r\nX-Signature: {signature}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn hand_written_requests_from_other_clients() {
    let sb = sandbox().await;
    let bodies = [
        // The PHP toolkit's shape: DOCTYPE, msg_id, indentation, upper case.
        "<?xml version='1.0' encoding='UTF-8' standalone='no' ?>\n<!DOCTYPE OPS_envelope SYSTEM 'ops.dtd'>\n<OPS_envelope>\n  <header>\n    <version>0.9</version>\n    <msg_id>2.21765911726198</msg_id>\n    <msg_type>standard</msg_type>\n  </header>\n  <body>\n    <data_block>\n      <dt_assoc>\n        <item key=\"protocol\">XCP</item>\n        <item key=\"action\">LOOKUP</item>\n        <item key=\"object\">DOMAIN</item>\n        <item key=\"attributes\">\n          <dt_assoc>\n            <item key=\"domain\">handmade.com</item>\n          </dt_assoc>\n        </item>\n      </dt_assoc>\n    </data_block>\n  </body>\n</OPS_envelope>\n",
        // Net-DRI's shape: lower case, no DOCTYPE, no whitespace, attributes first.
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><OPS_envelope><header><version>0.9</version></header><body><data_block><dt_assoc><item key=\"attributes\"><dt_assoc><item key=\"domain\">handmade.com</item></dt_assoc></item><item key=\"object\">domain</item><item key=\"action\">lookup</item><item key=\"protocol\">XCP</item></dt_assoc></data_block></body></OPS_envelope>",
        // A bare one with LF only.
        "<OPS_envelope>\n<header><version>0.9</version></header>\n<body><data_block><dt_assoc>\n<item key='protocol'>XCP</item><item key='object'>DOMAIN</item><item key='action'>LOOKUP</item>\n<item key='attributes'><dt_assoc><item key='domain'>handmade.com</item></dt_assoc></item>\n</dt_assoc></data_block></body></OPS_envelope>",
    ];
    for (i, body) in bodies.iter().enumerate() {
        for version in ["HTTP/1.0", "HTTP/1.1"] {
            let sig = signature::sign(body.as_bytes(), KEY);
            let response = raw(
                &sb,
                &post(
                    version,
                    if i == 1 { "/resellers/" } else { "/" },
                    body,
                    &sig,
                ),
            )
            .await;
            assert!(
                response.starts_with("HTTP/1.1 200 OK\r\n"),
                "{version} body {i}: {response}"
            );
            assert!(response.contains(&format!(
                "Content-Length: {}",
                response.split("\r\n\r\n").nth(1).unwrap().len()
            )));
            assert!(!response.to_ascii_lowercase().contains("transfer-encoding"));
            assert!(
                response.contains("<item key=\"response_code\">210</item>"),
                "{version} body {i}: {response}"
            );
        }
    }
}

#[tokio::test]
async fn a_body_changed_after_signing_is_refused() {
    let sb = sandbox().await;
    let body = "<OPS_envelope><header><version>0.9</version></header><body><data_block><dt_assoc><item key=\"protocol\">XCP</item><item key=\"action\">GET_BALANCE</item><item key=\"object\">BALANCE</item><item key=\"attributes\"><dt_assoc/></item></dt_assoc></data_block></body></OPS_envelope>";
    let sig = signature::sign(body.as_bytes(), KEY);
    let ok = raw(&sb, &post("HTTP/1.1", "/", body, &sig)).await;
    assert!(ok.contains(">200<"), "{ok}");
    let tampered = body.replacen(
        "BALANCE</item><item key=\"attributes\">",
        "BALANCF</item><item key=\"attributes\">",
        1,
    );
    assert_eq!(tampered.len(), body.len());
    let refused = raw(&sb, &post("HTTP/1.1", "/", &tampered, &sig)).await;
    assert!(
        refused.starts_with("HTTP/1.1 200 OK")
            && refused.contains(">401<")
            && refused.contains("Authentication Failed"),
        "{refused}"
    );
    let upper = raw(&sb, &post("HTTP/1.1", "/", body, &sig.to_uppercase())).await;
    assert!(
        upper.contains(">401<"),
        "uppercase hex is refused (strict mode)"
    );
    let with_nul = format!("{body}\0");
    let nul = raw(&sb, &post("HTTP/1.1", "/", &with_nul, &sig)).await;
    assert!(nul.contains(">401<"), "a stray NUL changes the signature");
    sb.with_state(|s| assert_eq!(s.counters.auth_failures, 3));
}

#[tokio::test]
async fn malformed_requests_get_xml_errors() {
    let sb = sandbox().await;
    let body = "<OPS_envelope><header><version>0.9</version></header><body>";
    let sig = signature::sign(body.as_bytes(), KEY);
    let r = raw(&sb, &post("HTTP/1.1", "/", body, &sig)).await;
    assert!(
        r.starts_with("HTTP/1.1 200 OK") && r.contains(">430<"),
        "{r}"
    );
    let r = raw(&sb, b"GET / HTTP/1.1\r\nX-Username: reseller\r\n\r\n").await;
    assert!(r.contains("POST only") || r.contains(">401<"), "{r}");
}

#[tokio::test]
async fn tls_with_the_sandbox_certificate() {
    let mut config = SandboxConfig::new("127.0.0.1:0".parse().unwrap(), "reseller", KEY);
    config.tls = true;
    let sb = Sandbox::start(config).await.unwrap();
    let pem = sb.cert_pem.clone().unwrap();
    let mut s = ConnectionSettings::new(
        "tls",
        "localhost",
        sb.addr.port(),
        "reseller",
        Secret::new(KEY),
    );
    s.extra_root_pem = Some(pem.into_bytes());
    let ok = Client::new(s.clone())
        .unwrap()
        .call(&lookup("secure.com"))
        .await;
    assert_eq!(ok.classification.code, Some(210), "{:?}", ok.outcome);
    s.extra_root_pem = None;
    s.read_attempts = 1;
    let untrusted = Client::new(s).unwrap().call(&lookup("secure.com")).await;
    assert_ne!(
        untrusted.classification.class,
        Class::Done,
        "an untrusted certificate is refused"
    );
}

#[tokio::test]
async fn a_deeply_nested_signed_request_is_refused_and_the_sandbox_lives_on() {
    let sb = sandbox().await;
    let depth = 15_000;
    let body = format!(
        "<OPS_envelope><header><version>0.9</version></header><body><data_block>{}{}</data_block></body></OPS_envelope>",
        "<dt_assoc><item key=\"a\">".repeat(depth),
        "</item></dt_assoc>".repeat(depth),
    );
    assert!(body.len() < 1024 * 1024, "within the sandbox's body limit");
    let answer = raw(
        &sb,
        &post(
            "HTTP/1.1",
            "/",
            &body,
            &signature::sign(body.as_bytes(), KEY),
        ),
    )
    .await;
    assert!(
        answer.contains("nested deeper"),
        "{}",
        &answer[..answer.len().min(400)]
    );
    // Still serving.
    let e = client(&sb)
        .call(&Command::Lookup {
            domain: "after-the-attack.com".into(),
        })
        .await;
    assert_eq!(e.classification.class, Class::Done, "{:?}", e.outcome);
}

/// Sends `body` (an XCP data block) signed, and parses the reply's data block.
async fn xcp(sb: &Sandbox, body: Value) -> Value {
    use domreg::opensrs::codec;
    let xml = codec::write(&codec::Envelope::new(body));
    let sig = signature::sign(xml.as_bytes(), KEY);
    let response = raw(sb, &post("HTTP/1.1", "/", &xml, &sig)).await;
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    codec::parse(body.as_bytes()).unwrap().body
}

fn request(action: &str, object: &str, attrs: Value) -> Value {
    Value::assoc()
        .with("protocol", "XCP")
        .with("action", action)
        .with("object", object)
        .with("attributes", attrs)
}

#[tokio::test]
async fn get_domain_views_cookie_mode_and_the_resellers_default_tech_contact() {
    let sb = sandbox().await;
    // custom_tech_contact=0 with no tech contact: OpenSRS uses the reseller's default.
    let mut order = register("notech.com", RegType::New).to_value();
    if let Value::Assoc(top) = &mut order {
        let Some(Value::Assoc(a)) = top.get_mut("attributes") else {
            unreachable!()
        };
        a.insert("custom_tech_contact".into(), Value::scalar("0"));
        let Some(Value::Assoc(set)) = a.get_mut("contact_set") else {
            unreachable!()
        };
        set.remove("tech");
    }
    let done = xcp(&sb, order).await;
    assert_eq!(done.text("response_code"), Some("200"), "{done:?}");
    let all = xcp(
        &sb,
        request("GET", "DOMAIN", Value::assoc().with("type", "all_info"))
            .with("domain", "notech.com"),
    )
    .await;
    assert_eq!(all.text("response_code"), Some("200"), "{all:?}");
    let owner = all.path(&["attributes", "contact_set", "owner"]).unwrap();
    assert_eq!(owner.text("first_name"), Some("Owen"));
    assert_eq!(owner.text("status"), Some("active"));
    let tech = all.path(&["attributes", "contact_set", "tech"]).unwrap();
    assert_eq!(tech.text("org_name"), Some("Reseller default tech contact"));
    assert!(all.path(&["attributes", "registry_expiredate"]).is_some());

    let status = xcp(
        &sb,
        request("GET", "DOMAIN", Value::assoc().with("type", "status"))
            .with("domain", "notech.com"),
    )
    .await;
    assert_eq!(
        status
            .path(&["attributes", "lock_state"])
            .and_then(Value::as_str),
        Some("1"),
        "registered with f_lock_domain=1"
    );

    // Cookie mode: wrong profile password 415; right one gives a cookie for GET DOMAIN.
    let login = |password: &str| {
        request(
            "SET",
            "COOKIE",
            Value::assoc()
                .with("domain", "notech.com")
                .with("reg_username", "owen")
                .with("reg_password", password),
        )
    };
    let refused = xcp(&sb, login("guess")).await;
    assert_eq!(refused.text("response_code"), Some("415"), "{refused:?}");
    let ok = xcp(&sb, login("s3cret-profile")).await;
    let cookie = ok
        .path(&["attributes", "cookie"])
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    assert!(cookie.contains(':'), "{cookie}");
    let by_cookie = xcp(
        &sb,
        request("GET", "DOMAIN", Value::assoc().with("type", "admin"))
            .with("cookie", cookie.as_str()),
    )
    .await;
    assert_eq!(
        by_cookie
            .path(&["attributes", "contact_set", "admin", "email"])
            .and_then(Value::as_str),
        Some(contacts_admin_email().as_str()),
        "{by_cookie:?}"
    );
    let forged = xcp(
        &sb,
        request("GET", "DOMAIN", Value::assoc()).with("cookie", "1:2"),
    )
    .await;
    assert_eq!(forged.text("response_code"), Some("415"));
}

fn contacts_admin_email() -> String {
    contacts().admin.email.to_string()
}

#[tokio::test]
async fn renewals_count_calendar_years_and_changes_behind_the_engines_back() {
    let sb = sandbox().await;
    let c = client(&sb);
    assert_eq!(
        client(&sb)
            .call(&register("behind.com", RegType::New))
            .await
            .classification
            .class,
        Class::Done
    );
    let admin = |body: serde_json::Value| {
        let sb = &sb;
        async move {
            let body = body.to_string();
            let sig = signature::sign(body.as_bytes(), KEY);
            let request = format!(
                "POST /sandbox/behind HTTP/1.1\r\nContent-Type: application/json\r\nX-Username: reseller\r\nX-Signature: {sig}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            raw(sb, request.as_bytes()).await
        }
    };
    // A 1 December a year ahead, whatever day the test runs: still renewable.
    use chrono::{Datelike, TimeZone};
    let year = chrono::Utc::now().year() + 1;
    let expires = chrono::Utc.with_ymd_and_hms(year, 12, 1, 0, 0, 0).unwrap();
    let set = admin(
        serde_json::json!({"action": "set_expiry", "name": "behind.com", "expires": expires}),
    )
    .await;
    assert!(set.starts_with("HTTP/1.1 200"), "{set}");
    let renewed =
        admin(serde_json::json!({"action": "renew", "name": "behind.com", "years": 1})).await;
    assert!(
        renewed.contains(&format!("{}-12-01T00:00:00Z", year + 1)),
        "a calendar year: {renewed}"
    );
    let away = admin(serde_json::json!({"action": "transfer_away", "name": "behind.com"})).await;
    assert!(away.starts_with("HTTP/1.1 200"), "{away}");
    let e = c.call(&belongs("behind.com")).await;
    assert_eq!(attr(&e, "belongs_to_rsp").as_deref(), Some("0"));
    let again = admin(serde_json::json!({"action": "delete", "name": "behind.com"})).await;
    assert!(
        again.starts_with("HTTP/1.1 400") && again.contains("in no reseller's account"),
        "{again}"
    );
    let kinds: Vec<String> = sb.with_state(|s| {
        s.feed["reseller"]
            .iter()
            .map(|e| format!("{} {}", e.object, e.event))
            .collect()
    });
    assert!(
        kinds.ends_with(&[
            "DOMAIN RENEWED".to_string(),
            "TRANSFER STATUS_CHANGE".to_string()
        ]),
        "{kinds:?}"
    );
}
