//! The admin pages in a real headless Chromium (Debian's chromium and chromium-driver,
//! driven over WebDriver): sign in, an asynchronous order on the Async Manager page,
//! check and cancel it, the refund in the ledger, escaping, CSRF and the key.
//! With DOMREG_SCREENSHOTS=1 the screenshots are written to docs/screenshots/.

#[path = "support/api.rs"]
mod support_api;
#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use domreg::app::App;
use domreg::clock::SystemClock;
use domreg::engine::{steps, Engine};
use domreg_events::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use support_api::{api_world, KEY, TOKEN};
use support_cli::{connect_sandbox, domreg_ok};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn browser(profile: &Path) -> (Driver, Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    for _ in 0..100 {
        if let Ok(c) = ClientBuilder::rustls()
            .expect("rustls roots")
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            return (driver, c);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not accept a session");
}

fn screenshots_dir() -> Option<PathBuf> {
    std::env::var_os("DOMREG_SCREENSHOTS")
        .map(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots"))
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.len() > 1000, "a real screenshot");
    if let Some(dir) = screenshots_dir() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// The text of the first element matching `css`, waiting for it to appear (a click may
/// still be loading the next page).
async fn text(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Waits until a navigation a click started has finished loading.
async fn settled(c: &Client) {
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..100 {
        if c.execute("return document.readyState", vec![]).await.ok() == Some(json!("complete")) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the page at `path` has loaded.
async fn at(c: &Client, path: &str) {
    for _ in 0..100 {
        let url = c.current_url().await.unwrap();
        let ready = c
            .execute("return document.readyState", vec![])
            .await
            .unwrap();
        if url.path() == path && ready == json!("complete") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never reached {path}");
}

/// Whether Chromium and its driver are installed (else the test prints SKIPPED, and fails
/// under DOMREG_REQUIRE_BROWSER); installs the TLS provider the driver's client needs.
fn browser_here() -> bool {
    if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var_os("DOMREG_REQUIRE_BROWSER").is_none(),
            "DOMREG_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing"
        );
        println!("SKIPPED: {CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium chromium-driver)");
        return false;
    }
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_works_the_async_manager_in_a_browser() {
    if !browser_here() {
        return;
    }
    let w = api_world().await;
    // The registry never completes .de here, so the order stays on the Async Manager.
    w.sandbox
        .with_state(|s| s.settings.async_polls = Some(10_000));
    let d = w.dir.path().to_path_buf();
    tokio::task::block_in_place(|| {
        connect_sandbox(&d, w.sandbox.addr.port(), KEY, &["com", "de"]);
        domreg_ok(&d, &["account", "credit", "alice", "50.00"]);
        domreg_ok(
            &d,
            &[
                "registrar",
                "update",
                "main",
                "--license",
                "Registrations follow the registry's terms <b>&</b> policies.",
            ],
        );
    });
    let mut app = App::open(&d).unwrap();
    for domain in ["langsam.de", "schnell.com"] {
        domreg::engine::place::place_order(
            &mut app,
            domreg::engine::place::OrderRequest {
                domain: domain.into(),
                account: "alice".into(),
                kind: OrderKind::Register,
                years: 1,
                contacts: Some(support_contacts::owen("")),
                nameservers: vec![],
                auth_code: None,
                order_id: None,
            },
            Actor::Customer(AccountId::parse("alice").unwrap()),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    }
    Engine::new(App::open(&d).unwrap(), SystemClock)
        .run_once()
        .await
        .unwrap();
    // A registrar answer with markup in it, as a hostile or broken registry might send.
    let name = DomainName::parse("langsam.de").unwrap();
    let state = steps::load(&app.store, &name).await.unwrap();
    let order = state.open_order().unwrap().id;
    let poll = domreg_events::Command::RecordPoll {
        order_id: order,
        result: PollResult::StillPending {
            answer: RegistrarAnswer::new(Some(200), "<script>window.pwned = 1</script> waiting"),
        },
        next_poll_at: chrono::Utc::now() + chrono::Duration::hours(1),
    };
    domreg::unit_of_work::UnitOfWork::new(&app.store, Actor::Engine, chrono::Utc::now())
        .run(&name, |_| vec![poll.clone()])
        .await
        .unwrap();

    let profile = tempfile::tempdir().unwrap();
    let (_driver, c) = browser(profile.path()).await;
    // Secure cookies are kept for http://localhost, a secure context.
    let base = w.api.base.replace("127.0.0.1", "localhost");
    let mut sources = Vec::new();

    // Signing in.
    c.goto(&format!("{base}/admin/async")).await.unwrap();
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/admin/login"));
    shot(&c, "sign-in").await;
    c.find(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys("not-the-token")
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    assert!(text(&c, "p.msg.error")
        .await
        .contains("not the admin token"));
    c.find(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys(TOKEN)
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    at(&c, "/admin").await;
    assert!(text(&c, "main").await.contains("Orders by state"));
    sources.push(c.source().await.unwrap());
    shot(&c, "overview").await;

    // The pending order on the Async Manager, its registrar text shown as text.
    c.goto(&format!("{base}/admin/async")).await.unwrap();
    at(&c, "/admin/async").await;
    let table = text(&c, "table").await;
    assert!(table.contains("langsam.de"), "{table}");
    assert!(
        table.contains("<script>window.pwned = 1</script> waiting"),
        "shown as text: {table}"
    );
    let pwned = c
        .execute("return typeof window.pwned", vec![])
        .await
        .unwrap();
    assert_eq!(
        pwned,
        json!("undefined"),
        "the registrar's script did not run"
    );
    let source = c.source().await.unwrap();
    assert!(
        source.contains("&lt;script&gt;window.pwned"),
        "escaped in the source"
    );
    sources.push(source);
    shot(&c, "async-manager").await;

    // Check: the poll's result is shown.
    c.find(Locator::Css("button[aria-label='Check langsam.de']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    let msg = text(&c, "p.msg").await;
    assert!(
        msg.contains("Checked langsam.de: still pending. OpenSRS answered: 200"),
        "{msg}"
    );

    // Cancel: a confirmation saying the fee is refunded, then the refund.
    c.find(Locator::Css("a[aria-label='Cancel langsam.de']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    let confirm = text(&c, "main").await;
    assert!(
        confirm.contains("The fee of 12.99 USD will be refunded to alice"),
        "{confirm}"
    );
    shot(&c, "cancel-confirmation").await;
    c.find(Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    let msg = text(&c, "p.msg").await;
    assert!(
        msg.contains("Cancelled order") && msg.contains("12.99 USD refunded to alice"),
        "{msg}"
    );
    assert!(text(&c, "main").await.contains("No pending orders."));

    // The refund in the ledger, with the balance after it and a link to the audit.
    c.goto(&format!("{base}/admin/ledger?account=alice"))
        .await
        .unwrap();
    let ledger = text(&c, "main").await;
    assert!(
        ledger.contains("refund") && ledger.contains("12.99 USD"),
        "{ledger}"
    );
    assert!(
        ledger.contains("37.01 USD"),
        "the balance after the refund: {ledger}"
    );
    sources.push(c.source().await.unwrap());
    shot(&c, "ledger").await;
    c.find(Locator::Css("a[href*='audit?domain=langsam.de']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    let audit = text(&c, "main").await;
    assert!(
        audit.contains("cancelled (cancelled by admin ops-alice)"),
        "{audit}"
    );
    sources.push(c.source().await.unwrap());
    shot(&c, "audit").await;

    // Domains, with the auto-renew toggle.
    c.goto(&format!("{base}/admin/domains")).await.unwrap();
    c.find(Locator::Css(
        "button[aria-label='Switch auto-renew of schnell.com off']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    settled(&c).await;
    assert!(text(&c, "p.msg")
        .await
        .contains("Auto-renew of schnell.com is off"));
    sources.push(c.source().await.unwrap());
    shot(&c, "domains").await;

    // The domain's page: its nameservers replaced at OpenSRS, once, with the answer.
    c.find(Locator::Css("a[href='/admin/domains/schnell.com']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    let ns = c
        .find(Locator::Css("textarea[name='nameservers']"))
        .await
        .unwrap();
    ns.clear().await.unwrap();
    ns.send_keys("ns1.example.net\nns2.example.net")
        .await
        .unwrap();
    c.find(Locator::Css("form[action$='/nameservers'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    let said = text(&c, "p.msg").await;
    assert!(
        said.contains("nameservers set to ns1.example.net, ns2.example.net"),
        "{said}"
    );
    assert!(text(&c, "main")
        .await
        .contains("Nameserver Update Successful"));
    sources.push(c.source().await.unwrap());

    // Settings: the test button, and the key never rendered.
    c.goto(&format!("{base}/admin/settings")).await.unwrap();
    let settings = text(&c, "main").await;
    assert!(
        settings.contains("Registrations follow the registry's terms <b>&</b> policies."),
        "{settings}"
    );
    c.find(Locator::Css("form[action$='/main/test'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    assert!(text(&c, "p.msg").await.contains("OK: main reached"));
    sources.push(c.source().await.unwrap());
    shot(&c, "settings").await;

    // A form posted without the CSRF token is refused, and changes nothing.
    let status = c
        .execute(
            "return fetch('/admin/settings/tlds', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'tld=net&registrar=main'}).then(r => r.status)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));
    let routes = tokio::task::block_in_place(|| domreg_ok(&d, &["tld", "list"]));
    assert!(!routes.contains(".net"), "{routes}");

    for source in &sources {
        assert!(!source.contains(KEY), "the key appeared in a page");
    }

    // Signing out ends the session.
    c.find(Locator::Css("header form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    c.goto(&format!("{base}/admin/ledger")).await.unwrap();
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/admin/login"));
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_finds_orders_and_manages_a_domain_in_a_browser() {
    if !browser_here() {
        return;
    }
    let w = api_world().await;
    let d = w.dir.path().to_path_buf();
    let link: serde_json::Value = tokio::task::block_in_place(|| {
        connect_sandbox(&d, w.sandbox.addr.port(), KEY, &["com"]);
        domreg_ok(&d, &["account", "limit", "carol", "0"]);
        domreg_ok(&d, &["account", "credit", "carol", "20.00"]);
        domreg_ok(
            &d,
            &[
                "account",
                "contacts",
                "carol",
                "--file",
                support_contacts::owen_file(&d).to_str().unwrap(),
            ],
        );
        domreg_ok(
            &d,
            &[
                "registrar",
                "update",
                "main",
                "--license",
                "Carol agrees to the registry's terms.",
            ],
        );
        serde_json::from_str(&domreg_ok(
            &d,
            &["token", "issue", "--customer", "carol", "--link", "--json"],
        ))
        .unwrap()
    });
    let link = link["token"].as_str().unwrap().to_string();
    let profile = tempfile::tempdir().unwrap();
    let (_driver, c) = browser(profile.path()).await;
    let base = w.api.base.replace("127.0.0.1", "localhost");

    // Not signed in: to the sign-in page. The link the admin sent signs in, once.
    c.goto(&format!("{base}/account")).await.unwrap();
    at(&c, "/account/sign-in").await;
    c.goto(&format!("{base}/account/sign-in?link={link}"))
        .await
        .unwrap();
    at(&c, "/account").await;
    assert_eq!(text(&c, "#balance").await, "20.00 USD");

    // Find a name: price and agreement shown; ordering needs the agreement accepted.
    c.goto(&format!("{base}/account/search")).await.unwrap();
    c.find(Locator::Css("#domain"))
        .await
        .unwrap()
        .send_keys("carols-shop.com")
        .await
        .unwrap();
    c.find(Locator::Css("form[method=get] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    assert!(text(&c, "#status").await.contains("available"));
    assert!(text(&c, "#prices").await.contains("12.99 USD"));
    assert_eq!(
        text(&c, "#agreement").await,
        "Carol agrees to the registry's terms."
    );
    shot(&c, "account-search").await;
    c.find(Locator::Css("#accept"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("#order"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    at(&c, "/account").await;
    assert!(text(&c, "p.msg")
        .await
        .contains("Ordered carols-shop.com: 12.99 USD charged"));
    assert_eq!(text(&c, "#balance").await, "7.01 USD");

    // The engine registers it; the page shows the domain and lets carol turn auto-renew off.
    Engine::new(App::open(&d).unwrap(), SystemClock)
        .run_once()
        .await
        .unwrap();
    c.goto(&format!("{base}/account")).await.unwrap();
    at(&c, "/account").await;
    let domains = text(&c, "#domains").await;
    assert!(
        domains.contains("carols-shop.com") && domains.contains("On"),
        "{domains}"
    );
    assert!(text(&c, "#ledger").await.contains("-12.99 USD"));
    shot(&c, "account").await;
    c.find(Locator::Css("#domains button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    assert!(text(&c, "p.msg")
        .await
        .contains("Automatic renewal of carols-shop.com is off"));
    assert!(text(&c, "#domains").await.contains("Off"));
    // ...and set its nameservers, sent to OpenSRS once.
    c.find(Locator::Css("textarea[name='nameservers']"))
        .await
        .unwrap()
        .send_keys("ns1.example.net\nns2.example.net")
        .await
        .unwrap();
    c.find(Locator::Css("form[action$='/nameservers'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    let said = text(&c, "p.msg").await;
    assert!(
        said.contains("nameservers set to ns1.example.net, ns2.example.net"),
        "{said}"
    );

    // A second name the account cannot pay: refused on the page with the amount missing.
    c.goto(&format!("{base}/account/search?domain=carols-blog.com"))
        .await
        .unwrap();
    settled(&c).await;
    c.find(Locator::Css("#accept"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("#order"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settled(&c).await;
    assert!(text(&c, "p.msg.error")
        .await
        .contains("5.98 USD is missing"));

    // The audit records the acceptance; the used link no longer signs in.
    let audit = tokio::task::block_in_place(|| domreg_ok(&d, &["audit", "carols-shop.com"]));
    assert!(
        audit.contains("account carol accepted the license agreement"),
        "{audit}"
    );
    let profile2 = tempfile::tempdir().unwrap();
    let (_driver2, c2) = browser(profile2.path()).await;
    c2.goto(&format!("{base}/account/sign-in?link={link}"))
        .await
        .unwrap();
    settled(&c2).await;
    assert!(text(&c2, "p.msg.error").await.contains("used already"));
}
