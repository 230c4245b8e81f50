//! Notifications end to end: the engine, the sandbox, and a real SMTP server on loopback
//! (Python's aiosmtpd, which `.ci/run` installs); the file outbox; a relay that is down.

#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use chrono::{Duration, TimeZone, Utc};
use domreg::app::App;
use domreg::clock::{Clock, ManualClock};
use domreg::engine::place::{place_order, OrderRequest};
use domreg::engine::Engine;
use domreg::notify::{MailSettings, Mailer, SmtpRelay};
use domreg::opensrs::sandbox::{Sandbox, SandboxConfig};
use domreg_events::*;

const KEY: &str = "notify-test-key-0123456789";

const SMTP_SERVER: &str = r#"
import os, sys, time
from aiosmtpd.controller import Controller
class Save:
    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(sys.argv[2]))
        with open(os.path.join(sys.argv[2], "%04d.eml" % n), "wb") as f:
            f.write(envelope.content)
        return "250 OK"
c = Controller(Save(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
time.sleep(600)
"#;

struct Smtp {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts aiosmtpd on loopback, or says why it cannot.
fn smtp_server(dir: &Path) -> Option<Smtp> {
    smtp_server_running(dir, SMTP_SERVER)
}

/// A relay that refuses every recipient for good (550).
const REFUSING_SERVER: &str = r#"
import sys, time
from aiosmtpd.controller import Controller
class Refuse:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 no such user here"
c = Controller(Refuse(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
time.sleep(600)
"#;

/// Starts `script` (an aiosmtpd server) on loopback, or says why it cannot.
fn smtp_server_running(dir: &Path, script: &str) -> Option<Smtp> {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("DOMREG_REQUIRE_SMTP").is_none(),
            "DOMREG_REQUIRE_SMTP is set but python3 with aiosmtpd is missing"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: SMTP test (python3 with aiosmtpd not found; .ci/run installs it)"
        );
        return None;
    }
    let port = support_cli::free_port();
    let mails = dir.join("received");
    std::fs::create_dir_all(&mails).unwrap();
    let mut child = Command::new("python3")
        .args(["-c", script, &port.to_string(), mails.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    Some(Smtp {
        child,
        port,
        dir: mails,
    })
}

fn received(smtp: &Smtp) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(&smtp.dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

fn cli(dir: &Path, args: &[&str]) {
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
}

fn contacts() -> ContactSet {
    support_contacts::owen("")
}

/// The engine's first moment in these tests; the sandbox's registry starts there too.
fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

async fn setup(d: &Path) -> Sandbox {
    let sb = Sandbox::start(SandboxConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        "reseller",
        KEY,
    ))
    .await
    .unwrap();
    sb.with_state(|s| s.set_now(start()));
    tokio::task::block_in_place(|| {
        support_cli::connect_sandbox(d, sb.addr.port(), KEY, &["com", "de"])
    });
    sb
}

async fn order(d: &Path, domain: &str, now: chrono::DateTime<Utc>) {
    let mut app = App::open(d).unwrap();
    let req = OrderRequest {
        domain: domain.into(),
        account: "alice".into(),
        kind: OrderKind::Register,
        years: 1,
        contacts: Some(contacts()),
        nameservers: vec![],
        auth_code: None,
        order_id: None,
    };
    place_order(&mut app, req, Actor::Engine, now)
        .await
        .unwrap();
}

/// Every mail delivered to the file outbox.
fn outbox(d: &Path) -> Vec<String> {
    std::fs::read_dir(d.join("mail/outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect()
}

fn settings(smtp: Option<SmtpRelay>) -> MailSettings {
    MailSettings {
        from: "domreg@provider.example".into(),
        admin: Some("admin@provider.example".into()),
        smtp,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_and_timeout_mails_and_one_digest_per_round_over_smtp() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some(smtp) = smtp_server(d) else { return };
    let sb = setup(d).await;
    let clock = ManualClock::new(start());
    let relay = SmtpRelay {
        host: "127.0.0.1".into(),
        port: smtp.port,
        tls: false,
        user: None,
        password: None,
    };
    let mailer = Mailer::new(d, settings(Some(relay))).unwrap();
    let mut engine = Engine::new(App::open(d).unwrap(), clock.clone()).with_mail(mailer);
    engine.run_once().await.unwrap(); // fresh install: the mail cursor starts here
    order(d, "fast.com", clock.now()).await;
    order(d, "slow.de", clock.now()).await;
    let round = engine.run_once().await.unwrap();
    assert_eq!(round.mail.failed, 0);
    let mails = received(&smtp);
    assert_eq!(mails.len(), 1, "a synchronous registration gets no customer mail; the admin gets the round's digest: {mails:?}");
    assert!(
        mails[0].contains("To: admin@provider.example") && mails[0].contains("fast.com"),
        "{}",
        mails[0]
    );
    for _ in 0..3 {
        clock.advance(Duration::hours(1));
        engine.run_once().await.unwrap();
    }
    let mails = received(&smtp);
    assert_eq!(mails.len(), 3, "{mails:#?}");
    let customer = mails
        .iter()
        .find(|m| m.contains("To: owen@example.com"))
        .unwrap();
    assert!(
        customer.contains("Subject: Your registration of slow.de is complete"),
        "{customer}"
    );
    let digests: Vec<_> = mails
        .iter()
        .filter(|m| m.contains("To: admin@provider.example"))
        .collect();
    assert_eq!(digests.len(), 2, "one digest per round with completions");
    assert!(digests[1].contains("slow.de") && !digests[1].contains("fast.com"));

    // A registration that never completes: the customer and the admin hear of the timeout.
    sb.with_state(|s| s.settings.async_polls = Some(10_000));
    order(d, "never.de", clock.now()).await;
    for _ in 0..52 {
        clock.advance(Duration::hours(1));
        engine.run_once().await.unwrap();
    }
    let mails = received(&smtp);
    let timeout = mails
        .iter()
        .find(|m| m.contains("did not complete"))
        .expect("timeout mail");
    assert!(
        timeout.contains("never.de") && timeout.contains("12.99 USD is refunded"),
        "{timeout}"
    );
    let digest = mails
        .iter()
        .find(|m| m.contains("Timed out, cancelled"))
        .expect("timeout digest");
    assert!(digest.contains("never.de"));
    assert_eq!(mails.len(), 5, "nothing mailed twice: {mails:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_relay_mail_goes_to_the_outbox_and_a_down_relay_delays_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let _sandbox = setup(d).await;
    let clock = ManualClock::new(start());
    // A relay nobody listens on: mail waits in the spool, the order goes on.
    let dead = SmtpRelay {
        host: "127.0.0.1".into(),
        port: support_cli::free_port(),
        tls: false,
        user: None,
        password: None,
    };
    let mut engine = Engine::new(App::open(d).unwrap(), clock.clone())
        .with_mail(Mailer::new(d, settings(Some(dead))).unwrap());
    engine.run_once().await.unwrap();
    order(d, "spooled.com", clock.now()).await;
    let round = engine.run_once().await.unwrap();
    assert_eq!(round.submitted, 1);
    assert_eq!(
        (round.mails_queued, round.mail.sent, round.mail.failed),
        (1, 0, 1)
    );
    assert_eq!(std::fs::read_dir(d.join("mail/spool")).unwrap().count(), 1);
    // Without a relay the spool is delivered to the file outbox.
    let mut engine = Engine::new(App::open(d).unwrap(), clock.clone())
        .with_mail(Mailer::new(d, settings(None)).unwrap());
    let round = engine.run_once().await.unwrap();
    assert_eq!((round.mails_queued, round.mail.sent), (0, 1));
    let outbox: Vec<_> = std::fs::read_dir(d.join("mail/outbox")).unwrap().collect();
    assert_eq!(outbox.len(), 1);
    let text = std::fs::read_to_string(outbox[0].as_ref().unwrap().path()).unwrap();
    assert!(
        text.contains("spooled.com") && text.contains("admin@provider.example"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_warning_is_mailed_once_to_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let _sandbox = setup(d).await;
    tokio::task::block_in_place(|| {
        cli(d, &["registrar", "update", "main", "--auto-renew", "false"])
    });
    let clock = ManualClock::new(start());
    let mut engine = Engine::new(App::open(d).unwrap(), clock.clone())
        .with_mail(Mailer::new(d, settings(None)).unwrap());
    engine.run_once().await.unwrap();
    order(d, "expiring.com", clock.now()).await;
    engine.run_once().await.unwrap();
    // 30 warn days by default; the sandbox's clock stays behind, which does not matter here.
    clock.advance(Duration::days(365 - 20));
    engine.run_once().await.unwrap();
    clock.advance(Duration::days(1));
    engine.run_once().await.unwrap();
    let outbox = outbox(d);
    let warnings: Vec<_> = outbox
        .iter()
        .filter(|m| m.contains("expiring.com expires on"))
        .collect();
    assert_eq!(warnings.len(), 1, "{outbox:#?}");
    assert!(
        warnings[0].contains("owen@example.com") && warnings[0].contains("Renew it before then")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_mail_goes_to_the_dead_letters_and_a_silent_relay_costs_one_timeout() {
    use domreg::notify::Mail;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some(smtp) = smtp_server_running(d, REFUSING_SERVER) else {
        return;
    };
    let relay = |port| SmtpRelay {
        host: "127.0.0.1".into(),
        port,
        tls: false,
        user: None,
        password: None,
    };
    let mail = |key: &str| Mail {
        key: key.into(),
        to: "nobody@example.net".into(),
        subject: "test".into(),
        body: "hello".into(),
        attempts: 0,
    };
    let mailer = Mailer::new(d, settings(Some(relay(smtp.port)))).unwrap();
    assert!(mailer.queue(&mail("refused-1")).unwrap());
    let delivery = mailer.deliver().await;
    assert_eq!((delivery.sent, delivery.failed, delivery.dead), (0, 1, 1));
    let dead = mailer.dead_letters();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].1.contains("550"), "{:?}", dead[0]);
    assert!(
        !mailer.queue(&mail("refused-1")).unwrap(),
        "not queued again"
    );

    // A relay that accepts and never speaks: one bounded try, the mail stays queued.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mailer = Mailer::new(d, settings(Some(relay(port))))
        .unwrap()
        .with_message_timeout(std::time::Duration::from_secs(1));
    assert!(mailer.queue(&mail("silent-1")).unwrap());
    let started = std::time::Instant::now();
    let delivery = mailer.deliver().await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((delivery.failed, delivery.dead), (1, 0));
    let spooled: Mail =
        serde_json::from_slice(&std::fs::read(d.join("mail/spool/silent-1.json")).unwrap())
            .unwrap();
    assert_eq!(spooled.attempts, 1);
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_deleted_at_opensrs_is_told_to_its_holder_and_the_admin() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sb = setup(d).await;
    let clock = ManualClock::new(start());
    let mut engine = Engine::new(App::open(d).unwrap(), clock.clone())
        .with_mail(Mailer::new(d, settings(None)).unwrap());
    engine.run_once().await.unwrap();
    order(d, "deleted-there.com", clock.now()).await;
    engine.run_once().await.unwrap();
    // Deleted in the reseller's control panel: OpenSRS raises DOMAIN DELETED.
    sb.with_state(|s| {
        s.domains.remove("deleted-there.com");
        s.raise(
            "reseller",
            "DOMAIN",
            "DELETED",
            &[
                ("domain_name", "deleted-there.com".to_string()),
                ("reason", "deleted by the reseller".to_string()),
            ],
        );
    });
    clock.advance(Duration::minutes(2));
    engine.run_once().await.unwrap();
    clock.advance(Duration::minutes(2));
    engine.run_once().await.unwrap();
    let outbox = outbox(d);
    let told: Vec<_> = outbox
        .iter()
        .filter(|m| m.contains("deleted-there.com is no longer registered through us"))
        .collect();
    assert_eq!(told.len(), 1, "{outbox:#?}");
    assert!(told[0].contains("owen@example.com") && told[0].contains("deleted by the reseller"));
    let digest = outbox
        .iter()
        .find(|m| m.contains("No longer in the account at OpenSRS"))
        .expect("the admin's digest");
    assert!(digest.contains("admin@provider.example") && digest.contains("gone from OpenSRS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewals_of_the_domains_term_a_refused_one_and_an_expiry_are_told() {
    // Also: the expired notice says until when the registry still renews it.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sb = setup(d).await;
    tokio::task::block_in_place(|| {
        cli(d, &["registrar", "update", "main", "--renew-years", "2"]);
        cli(
            d,
            &[
                "price", "set", "com", "--kind", "renew", "--years", "2", "--amount", "21.00",
            ],
        );
        cli(
            d,
            &[
                "price", "set", "com", "--kind", "renew", "--years", "3", "--amount", "30.00",
            ],
        );
    });
    let clock = ManualClock::new(start());
    let mut engine = Engine::new(App::open(d).unwrap(), clock.clone())
        .with_mail(Mailer::new(d, settings(None)).unwrap());
    engine.run_once().await.unwrap();
    order(d, "twice.com", clock.now()).await;
    order(d, "thrice.com", clock.now()).await;
    order(d, "lapses.com", clock.now()).await;
    // The sandbox's registry refuses to renew `norenew-` names (serverRenewProhibited).
    order(d, "norenew-held.com", clock.now()).await;
    engine.run_once().await.unwrap();
    tokio::task::block_in_place(|| {
        cli(d, &["auto-renew", "thrice.com", "on", "--years", "3"]);
        cli(d, &["auto-renew", "lapses.com", "off"]);
    });
    // Inside the renew window: the connection's two years, the domain's three.
    clock.advance(Duration::days(365 - 10));
    sb.with_state(|s| s.clock_offset_secs += (365 - 10) * 86_400);
    engine.run_once().await.unwrap();
    engine.run_once().await.unwrap();
    let app = App::open(d).unwrap();
    let period = |domain: &str| {
        let state = futures::executor::block_on(domreg::unit_of_work::load(
            &app.store,
            &DomainName::parse(domain).unwrap(),
        ))
        .unwrap();
        state
            .orders
            .values()
            .find(|o| o.kind == OrderKind::Renew)
            .map(|o| (o.period.get(), o.price.to_string()))
    };
    assert_eq!(period("twice.com"), Some((2, "21.00 USD".into())));
    assert_eq!(period("thrice.com"), Some((3, "30.00 USD".into())));
    // The refused automatic renewal: refunded, and both the holder and the admin told.
    let held = futures::executor::block_on(domreg::unit_of_work::load(
        &app.store,
        &DomainName::parse("norenew-held.com").unwrap(),
    ))
    .unwrap();
    let renewal = held
        .orders
        .values()
        .find(|o| o.kind == OrderKind::Renew)
        .expect("the automatic renewal");
    assert_eq!(renewal.end(), Some(End::Rejected));
    assert_eq!(renewal.refunded, renewal.charged, "refunded in full");
    let mails = outbox(d);
    let told: Vec<_> = mails
        .iter()
        .filter(|m| m.contains("The renewal of norenew-held.com failed"))
        .collect();
    assert_eq!(told.len(), 1, "{mails:#?}");
    assert!(told[0].contains("owen@example.com") && told[0].contains("serverRenewProhibited"));
    assert!(
        told[0].contains("is refunded to account alice"),
        "{}",
        told[0]
    );
    assert!(mails.iter().any(
        |m| m.contains("admin@provider.example") && m.contains("norenew-held.com (renewal for")
    ));
    // Past its expiry unrenewed: the holder and the admin are told, once.
    clock.advance(Duration::days(11));
    engine.run_once().await.unwrap();
    clock.advance(Duration::days(1));
    engine.run_once().await.unwrap();
    let outbox = outbox(d);
    let expired: Vec<_> = outbox
        .iter()
        .filter(|m| m.contains("lapses.com has expired"))
        .collect();
    assert_eq!(expired.len(), 1, "{outbox:#?}");
    assert!(expired[0].contains("owen@example.com"));
    assert!(
        expired[0].contains("It can still be renewed until"),
        "{}",
        expired[0]
    );
    assert!(outbox.iter().any(|m| m.contains("admin@provider.example")
        && m.contains("lapses.com (account alice, expired unrenewed")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_automatic_renewal_the_account_cannot_pay_is_not_sent_and_is_told_ahead_and_when_due() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sb = setup(d).await;
    tokio::task::block_in_place(|| {
        cli(
            d,
            &[
                "price", "set", "com", "--kind", "renew", "--years", "1", "--amount", "11.00",
            ],
        );
        // No debt for alice, and just enough for the registration.
        cli(d, &["account", "limit", "alice", "0"]);
        cli(d, &["account", "credit", "alice", "12.99"]);
    });
    let clock = ManualClock::new(start());
    let mut engine = Engine::new(App::open(d).unwrap(), clock.clone())
        .with_mail(Mailer::new(d, settings(None)).unwrap());
    engine.run_once().await.unwrap();
    order(d, "broke.com", clock.now()).await;
    engine.run_once().await.unwrap();
    let renewals = |sb: &Sandbox| {
        sb.with_state(|s| {
            s.counters
                .renew_by_domain
                .get("broke.com")
                .copied()
                .unwrap_or(0)
        })
    };
    // Inside the warning window: the holder hears the renewal cannot be paid.
    clock.advance(Duration::days(365 - 25));
    sb.with_state(|s| s.clock_offset_secs += (365 - 25) * 86_400);
    engine.run_once().await.unwrap();
    let warned: Vec<_> = outbox(d)
        .into_iter()
        .filter(|m| m.contains("broke.com expires on"))
        .collect();
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0].contains("cannot pay the renewal: 11.00 USD is missing"),
        "{}",
        warned[0]
    );
    // Inside the renew window: nothing is sent, the holder and the admin are told once.
    for _ in 0..3 {
        clock.advance(Duration::days(5));
        sb.with_state(|s| s.clock_offset_secs += 5 * 86_400);
        engine.run_once().await.unwrap();
    }
    assert_eq!(renewals(&sb), 0, "an unpaid renewal is never sent");
    let mails = outbox(d);
    let told: Vec<_> = mails
        .iter()
        .filter(|m| m.contains("broke.com was not renewed: payment needed"))
        .collect();
    assert_eq!(told.len(), 1, "once per expiry date: {mails:#?}");
    assert!(told[0].contains("owen@example.com") && told[0].contains("11.00 USD is missing"));
    assert!(mails.iter().any(|m| m.contains("admin@provider.example")
        && m.contains("Automatic renewals the account cannot pay")
        && m.contains("broke.com (account alice")));
    // Paid in: the next daily round renews it.
    tokio::task::block_in_place(|| cli(d, &["account", "credit", "alice", "11.00"]));
    clock.advance(Duration::days(1));
    sb.with_state(|s| s.clock_offset_secs += 86_400);
    engine.run_once().await.unwrap();
    engine.run_once().await.unwrap();
    assert_eq!(renewals(&sb), 1, "renewed once paid");
}
