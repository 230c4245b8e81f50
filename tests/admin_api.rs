//! The admin HTTP API over real loopback HTTP: auth, every route, validation, the same
//! answers as the CLI, metrics that move with the orders, and the OpenAPI description.

#[path = "support/api.rs"]
mod support_api;
#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;

use domreg::app::App;
use domreg::clock::SystemClock;
use domreg::engine::Engine;
use domreg::http;
use domreg::opensrs::Secret;
use serde_json::{json, Value};
use support_cli::domreg_ok;

use support_api::{api_world as world, ApiWorld as World, KEY, TOKEN};

trait WorldExt {
    async fn engine_round(&self);
    fn cli(&self, args: &[&str]) -> Value;
    async fn metric(&self, line_start: &str) -> u64;
}

impl WorldExt for World {
    async fn engine_round(&self) {
        let mut engine = Engine::new(App::open(self.dir.path()).unwrap(), SystemClock);
        engine.run_once().await.unwrap();
    }

    fn cli(&self, args: &[&str]) -> Value {
        let out = tokio::task::block_in_place(|| domreg_ok(self.dir.path(), args));
        serde_json::from_str(&out).unwrap()
    }

    async fn metric(&self, line_start: &str) -> u64 {
        let (status, _, text) = self.api.send_as("GET", "/metrics", None, Some(TOKEN)).await;
        assert_eq!(status, 200);
        text.lines()
            .find_map(|l| {
                l.strip_prefix(line_start)
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or_else(|| panic!("no metric {line_start} in\n{text}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_missing_wrong_and_right_token() {
    let w = world().await;
    let (s, body, _) = w.api.send_as("GET", "/api/v1/ledger", None, None).await;
    assert_eq!(s, 401);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (s, body, _) = w
        .api
        .send_as(
            "GET",
            "/api/v1/ledger",
            None,
            Some("api-test-token-abcdefghijklmnoq"),
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(body["error"]["code"], "forbidden");
    let (s, _, _) = w
        .api
        .send_as("GET", "/api/v1/ledger", None, Some("short"))
        .await;
    assert_eq!(s, 403);
    let (s, _, _) = w
        .api
        .send_as("GET", "/api/v1/ledger", None, Some(TOKEN))
        .await;
    assert_eq!(s, 200);
    // Open: liveness and the description.
    let (s, body, _) = w.api.send_as("GET", "/healthz", None, None).await;
    assert_eq!((s, body["status"].as_str()), (200, Some("ok")));
    let (s, body, _) = w
        .api
        .send_as("GET", "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!((s, body["openapi"].as_str()), (200, Some("3.1.0")));
    // A token shorter than 16 characters is refused at start.
    assert!(domreg::serve::listener::bind(
        "127.0.0.1:0".parse().unwrap(),
        &Secret::new("too-short")
    )
    .await
    .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_exists_and_needs_the_token() {
    let w = world().await;
    let doc: Value = serde_json::from_str(http::OPENAPI).unwrap();
    let mut operations = 0;
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            operations += 1;
            let concrete = path
                .replace("{order}", "0190aaaa-0000-7000-8000-000000000000")
                .replace("{domain}", "example.com")
                .replace("{account}", "alice")
                .replace("{title}", "main")
                .replace("{tld}", "com")
                .replace("{token_id}", "0190aaaa-0000-7000-8000-000000000001");
            let (s, _, _) = w
                .api
                .send_as(&method.to_uppercase(), &concrete, None, None)
                .await;
            let open = op.get("security").is_some_and(|s| s == &json!([]));
            if open {
                assert_eq!(s, 200, "{method} {path} is documented as open");
            } else {
                assert_eq!(
                    s, 401,
                    "{method} {path}: documented routes exist and need the token"
                );
            }
        }
    }
    assert_eq!(operations, 57);
    let (s, body, _) = w
        .api
        .send_as("GET", "/api/v1/nothing-here", None, Some(TOKEN))
        .await;
    assert_eq!((s, body["error"]["code"].as_str()), (404, Some("no_route")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_orders_and_the_async_manager_over_http_match_the_cli() {
    let w = world().await;
    let api = &w.api;
    let port = w.sandbox.addr.port();
    let mut bodies = Vec::new();

    // Settings.
    let added = api
        .expect(
            "POST",
            "/api/v1/registrars/main",
            Some(&json!({"login": "reseller", "key": KEY, "server": "127.0.0.1", "port": port, "plain_http": true})),
            201,
        )
        .await;
    assert_eq!(added["title"], "main");
    bodies.push(added.to_string());
    let dup = api
        .send(
            "POST",
            "/api/v1/registrars/main",
            Some(&json!({"login": "reseller", "key": KEY})),
        )
        .await;
    assert_eq!(
        (dup.0, dup.1["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    let updated = api
        .expect(
            "PATCH",
            "/api/v1/registrars/main",
            Some(&json!({"warn_days": 20})),
            200,
        )
        .await;
    assert_eq!(updated["warn_days"], 20);
    let tested = api
        .expect("POST", "/api/v1/registrars/main/test", None, 200)
        .await;
    assert_eq!(tested["ok"], true, "{tested}");
    for tld in ["com", "de"] {
        api.expect(
            "PUT",
            &format!("/api/v1/tlds/{tld}"),
            Some(&json!({"registrar": "main"})),
            200,
        )
        .await;
        api.expect(
            "PUT",
            &format!("/api/v1/prices/{tld}"),
            Some(&json!({"kind": "register", "years": 1, "amount": "12.99"})),
            200,
        )
        .await;
    }
    api.expect(
        "PUT",
        "/api/v1/prices/com",
        Some(&json!({"kind": "transfer", "amount": "9.00"})),
        200,
    )
    .await;
    api.expect("DELETE", "/api/v1/prices/com?kind=transfer", None, 200)
        .await;
    // The accounts here order without paying in first.
    api.expect(
        "PUT",
        "/api/v1/accounts/default/credit-limit",
        Some(&json!({"amount": "1000"})),
        200,
    )
    .await;
    let gone = api
        .send("DELETE", "/api/v1/prices/com?kind=transfer", None)
        .await;
    assert_eq!(gone.0, 404, "{}", gone.1);
    let policy = api
        .expect(
            "PUT",
            "/api/v1/policies/de",
            Some(&json!({"poll_every_secs": 3600, "timeout_secs": 180000})),
            200,
        )
        .await;
    assert_eq!(policy["configured"], true, "{policy}");
    for (path, cli) in [
        ("/api/v1/registrars", vec!["registrar", "list", "--json"]),
        ("/api/v1/tlds", vec!["tld", "list", "--json"]),
        ("/api/v1/prices", vec!["price", "list", "--json"]),
        ("/api/v1/policies", vec!["policy", "list", "--json"]),
    ] {
        let http = api.expect("GET", path, None, 200).await;
        assert_eq!(
            http,
            w.cli(&cli),
            "GET {path} answers as `domreg {}`",
            cli.join(" ")
        );
        bodies.push(http.to_string());
    }
    let one = api
        .expect("GET", "/api/v1/registrars/main", None, 200)
        .await;
    assert_eq!(one, w.cli(&["registrar", "show", "main", "--json"]));

    // Money and contacts.
    let credit = api
        .expect(
            "POST",
            "/api/v1/accounts/alice/credits",
            Some(&json!({"amount": "100.00", "note": "wire"})),
            201,
        )
        .await;
    assert_eq!(credit["balance"]["minor"], 10_000);
    let contacts = serde_json::to_value(support_contacts::owen("Ottway & <Sons>")).unwrap();
    api.expect(
        "PUT",
        "/api/v1/accounts/alice/contacts",
        Some(&contacts),
        200,
    )
    .await;

    // Orders: one synchronous, one asynchronous.
    assert_eq!(w.metric("domreg_orders{state=\"pending\"}").await, 0);
    let placed = api
        .expect(
            "POST",
            "/api/v1/orders",
            Some(&json!({"kind": "register", "domain": "api-sync.com", "account": "alice"})),
            201,
        )
        .await;
    assert_eq!(placed["status"], "charged");
    let slow = api
        .expect(
            "POST",
            "/api/v1/orders",
            Some(&json!({"kind": "register", "domain": "api-langsam.de", "account": "alice"})),
            201,
        )
        .await;
    let refused = api
        .send("POST", "/api/v1/orders", Some(&json!({"kind": "register", "domain": "api-langsam.de", "account": "bob", "contacts": contacts})))
        .await;
    assert_eq!(
        (refused.0, refused.1["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{}",
        refused.1
    );
    let order = slow["order"]["order_id"].as_str().unwrap().to_string();
    w.engine_round().await;
    assert_eq!(w.metric("domreg_orders{state=\"pending\"}").await, 1);
    assert_eq!(w.metric("domreg_orders{state=\"confirmed\"}").await, 1);
    assert!(
        w.metric("domreg_opensrs_calls_total{command=\"REGISTER\",result=\"250\"}")
            .await
            >= 1
    );

    let pending = api.expect("GET", "/api/v1/async?tld=de", None, 200).await;
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["order_id"], order.as_str());
    assert_eq!(pending, w.cli(&["async", "list", "--tld", "de", "--json"]));
    let checked = api
        .expect("POST", &format!("/api/v1/async/{order}/check"), None, 200)
        .await;
    assert_eq!(checked["state"], "pending", "{checked}");
    assert!(
        checked["last_answer"]["text"]
            .as_str()
            .unwrap()
            .contains("waiting"),
        "{checked}"
    );
    let reset = api
        .expect("POST", &format!("/api/v1/async/{order}/reset"), None, 200)
        .await;
    assert!(reset["deadline"].is_string());
    let cancelled = api
        .expect("POST", &format!("/api/v1/async/{order}/cancel"), None, 200)
        .await;
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["refunded"]["minor"], 1299);
    assert_eq!(w.metric("domreg_orders{state=\"pending\"}").await, 0);
    assert_eq!(w.metric("domreg_orders{state=\"cancelled\"}").await, 1);
    let again = api
        .send("POST", &format!("/api/v1/async/{order}/cancel"), None)
        .await;
    assert_eq!(
        (again.0, again.1["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    // Read models and audits answer as the CLI does.
    for (path, cli) in [
        (
            "/api/v1/ledger?account=alice",
            vec!["ledger", "--account", "alice", "--json"],
        ),
        ("/api/v1/domains", vec!["domains", "--json"]),
    ] {
        let http = api.expect("GET", path, None, 200).await;
        assert_eq!(http, w.cli(&cli), "GET {path}");
        bodies.push(http.to_string());
    }
    let audit = api
        .expect("GET", "/api/v1/audit/domains/api-langsam.de", None, 200)
        .await;
    assert_eq!(audit, w.cli(&["audit", "api-langsam.de", "--json"]));
    let cancel_entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "Cancelled")
        .unwrap();
    assert_eq!(
        cancel_entry["actor"],
        json!({"kind": "admin", "id": support_api::ADMIN})
    );
    let account = api
        .expect(
            "GET",
            "/api/v1/audit/accounts/alice?from=2000-01-01",
            None,
            200,
        )
        .await;
    assert_eq!(
        account,
        w.cli(&[
            "audit",
            "--account",
            "alice",
            "--from",
            "2000-01-01",
            "--json"
        ])
    );
    let renewal = api
        .expect(
            "PUT",
            "/api/v1/domains/api-sync.com/auto-renew",
            Some(&json!({"enabled": false})),
            200,
        )
        .await;
    assert_eq!(renewal["auto_renew"], false);

    // Registry queries through the configured connection.
    let lookup = api
        .expect("GET", "/api/v1/lookup/frei-api.com", None, 200)
        .await;
    assert_eq!(lookup["code"], 210);
    let transfer = api
        .expect("GET", "/api/v1/transfer-status/api-sync.com", None, 200)
        .await;
    assert!(transfer["code"].is_u64(), "{transfer}");
    let unrouted = api.send("GET", "/api/v1/lookup/example.org", None).await;
    assert_eq!(unrouted.1["error"]["code"], "not_orderable");

    // Removing a connection in use is refused; nothing ever shows the key.
    let busy = api.send("DELETE", "/api/v1/registrars/main", None).await;
    assert_eq!(
        (busy.0, busy.1["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    for body in bodies {
        assert!(!body.contains(KEY), "the key leaked: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_json_errors_and_write_nothing() {
    let w = world().await;
    let api = &w.api;
    let head = || async {
        let (_, h, _) = api.send_as("GET", "/healthz", None, None).await;
        h["log_position"].as_u64().unwrap()
    };
    let before = head().await;
    let huge = json!({"kind": "register", "domain": "a.com", "account": "x".repeat(70_000)});
    let cases: Vec<(&str, &str, Option<Value>, u16, &str)> = vec![
        ("POST", "/api/v1/orders", Some(huge), 413, "body_too_large"),
        (
            "POST",
            "/api/v1/orders",
            Some(json!({"kind": "register", "domain": "bad..com", "account": "alice"})),
            400,
            "invalid_domain",
        ),
        (
            "POST",
            "/api/v1/orders",
            Some(json!({"kind": "register", "domain": "ok.com", "account": "alice", "years": 0})),
            400,
            "invalid_period",
        ),
        (
            "POST",
            "/api/v1/orders",
            Some(json!({"kind": "register", "domain": "ok.com", "account": "a b"})),
            400,
            "invalid_account",
        ),
        (
            "POST",
            "/api/v1/orders",
            Some(json!({"kind": "steal", "domain": "ok.com", "account": "alice"})),
            422,
            "invalid_body",
        ),
        (
            "POST",
            "/api/v1/orders",
            Some(json!({"kind": "register", "domain": "ok.com", "account": "alice", "price": "0"})),
            422,
            "invalid_body",
        ),
        (
            "POST",
            "/api/v1/orders",
            Some(json!({"kind": "register", "domain": "ok.com", "account": "alice"})),
            409,
            "not_orderable",
        ),
        (
            "POST",
            "/api/v1/accounts/alice/credits",
            Some(json!({"amount": "12.999"})),
            400,
            "invalid_amount",
        ),
        (
            "POST",
            "/api/v1/accounts/alice/credits",
            Some(json!({"amount": "-5"})),
            400,
            "invalid_amount",
        ),
        (
            "POST",
            "/api/v1/accounts/alice/credits",
            Some(json!({"amount": "1e9"})),
            400,
            "invalid_amount",
        ),
        (
            "POST",
            "/api/v1/accounts/alice/credits",
            Some(json!({"amount": "5", "currency": "XYZ1"})),
            400,
            "invalid_amount",
        ),
        (
            "POST",
            "/api/v1/async/0190aaaa-0000-7000-8000-000000000000/cancel",
            None,
            404,
            "not_found",
        ),
        (
            "POST",
            "/api/v1/async/not-a-uuid/check",
            None,
            400,
            "invalid_order_id",
        ),
        (
            "GET",
            "/api/v1/audit/domains/example.com?at=soon",
            None,
            400,
            "invalid_time",
        ),
        (
            "GET",
            "/api/v1/async?limit=many",
            None,
            400,
            "invalid_query",
        ),
        (
            "PUT",
            "/api/v1/prices/com",
            Some(json!({"kind": "register", "years": 11, "amount": "1"})),
            400,
            "invalid_period",
        ),
        (
            "PUT",
            "/api/v1/policies/de",
            Some(json!({"poll_every_secs": 0, "timeout_secs": 1})),
            400,
            "invalid_setting",
        ),
        (
            "PUT",
            "/api/v1/tlds/com",
            Some(json!({"registrar": "nobody"})),
            404,
            "not_found",
        ),
        (
            "POST",
            "/api/v1/registrars/%20bad-title",
            Some(json!({"key": "k", "login": "l"})),
            400,
            "invalid_setting",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (s, j) = api.send(method, path, body.as_ref()).await;
        assert_eq!(
            (s, j["error"]["code"].as_str()),
            (status, Some(code)),
            "{method} {path}: {j}"
        );
        assert!(!j["error"]["message"].as_str().unwrap().is_empty());
    }
    // Not JSON at all.
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/orders", api.base))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body("kind=register")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    assert_eq!(head().await, before, "no rejected request wrote to the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_order_or_credit_with_the_same_idempotency_key_writes_nothing_more() {
    let w = world().await;
    connect_com_with_alice(&w);
    let api = &w.api;
    let keyed = |key: &'static str| [("idempotency-key", key)];
    let order = json!({"kind": "register", "domain": "retried.com", "account": "alice"});
    let (first, a, _) = api
        .send_with(
            "POST",
            "/api/v1/orders",
            Some(&order),
            Some(TOKEN),
            &keyed("order-17"),
        )
        .await;
    let (again, b, _) = api
        .send_with(
            "POST",
            "/api/v1/orders",
            Some(&order),
            Some(TOKEN),
            &keyed("order-17"),
        )
        .await;
    assert_eq!((first, again), (201, 200), "{a} {b}");
    assert_eq!(a["order"]["order_id"], b["order"]["order_id"]);
    assert_eq!(b["repeated"], true);
    // The CLI names the same order with the same key.
    let cli = w.cli(&[
        "register",
        "retried.com",
        "--account",
        "alice",
        "--idempotency-key",
        "order-17",
        "--json",
    ]);
    assert_eq!(cli["order"]["order_id"], a["order"]["order_id"]);
    // The same key for another domain is a client error, not a second order.
    let other = json!({"kind": "register", "domain": "other.com", "account": "alice"});
    let (status, body, _) = api
        .send_with(
            "POST",
            "/api/v1/orders",
            Some(&other),
            Some(TOKEN),
            &keyed("order-17"),
        )
        .await;
    assert_eq!(status, 409, "{body}");

    let credit = json!({"amount": "50.00"});
    for want in [201, 200, 200] {
        let (status, body, _) = api
            .send_with(
                "POST",
                "/api/v1/accounts/alice/credits",
                Some(&credit),
                Some(TOKEN),
                &keyed("payment-991"),
            )
            .await;
        assert_eq!(status, want, "{body}");
    }
    let cli = tokio::task::block_in_place(|| {
        domreg_ok(
            w.dir.path(),
            &[
                "account",
                "credit",
                "alice",
                "50.00",
                "--idempotency-key",
                "payment-991",
            ],
        )
    });
    assert!(cli.contains("already credited"), "{cli}");
    let (status, body, _) = api
        .send_with(
            "POST",
            "/api/v1/accounts/alice/credits",
            Some(&json!({"amount": "60.00"})),
            Some(TOKEN),
            &keyed("payment-991"),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    // One charge of 12.99 and one credit of 50.00.
    let ledger = api
        .expect("GET", "/api/v1/ledger?account=alice", None, 200)
        .await;
    assert_eq!(ledger["entries"].as_array().unwrap().len(), 2, "{ledger}");
    assert_eq!(
        ledger["balances"][0]["balance"],
        json!({"minor": 3701, "currency": "USD"}),
        "{ledger}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_registrar_does_not_hold_up_other_requests() {
    use domreg::opensrs::sandbox::faults::{Fault, FaultRule};
    let w = world().await;
    let port = w.sandbox.addr.port();
    tokio::task::block_in_place(|| support_cli::connect_sandbox(w.dir.path(), port, KEY, &["com"]));
    w.sandbox.with_state(|s| {
        s.faults = vec![FaultRule {
            command: None,
            fault: Fault::Latency { ms: 5_000 },
            percent: 100,
            times: None,
        }]
    });
    let base = w.api.base.clone();
    let slow = tokio::spawn(async move {
        let api = support_api::ApiClient::new(base, TOKEN);
        let started = std::time::Instant::now();
        let (status, _) = api.send("POST", "/api/v1/registrars/main/test", None).await;
        (status, started.elapsed())
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for path in ["/healthz", "/api/v1/ledger", "/api/v1/async", "/metrics"] {
        // The fastest of three, so a busy CI machine's hiccup is not read as blocking
        // (a blocked request would wait seconds every time).
        let mut took = std::time::Duration::MAX;
        for _ in 0..3 {
            let started = std::time::Instant::now();
            let (status, _, _) = w.api.send_as("GET", path, None, Some(TOKEN)).await;
            took = took.min(started.elapsed());
            assert_eq!(status, 200, "{path}");
        }
        assert!(
            took < std::time::Duration::from_millis(100),
            "{path} took {took:?} while a registrar call was in flight"
        );
    }
    // The ledger page, signed in.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = http
        .post(format!("{}/admin/login", w.api.base))
        .form(&[("token", TOKEN)])
        .send()
        .await
        .unwrap();
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let mut took = std::time::Duration::MAX;
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let page = http
            .get(format!("{}/admin/ledger", w.api.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Ledger"));
        took = took.min(started.elapsed());
    }
    assert!(
        took < std::time::Duration::from_millis(100),
        "the ledger page took {took:?} while a registrar call was in flight"
    );
    assert!(
        !slow.is_finished(),
        "the measurements ran during the slow call"
    );
    let (status, took) = slow.await.unwrap();
    assert_eq!(status, 200);
    assert!(
        took >= std::time::Duration::from_secs(5),
        "the call was slow: {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_is_cut_off_and_a_network_bind_without_tls_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = world().await;
    let addr = w.api.base.trim_start_matches("http://").to_string();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 512];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "a half-sent request held its connection open"
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(5));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_domreg"))
        .arg("--data-dir")
        .arg(w.dir.path())
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env("DOMREG_API_TOKEN", TOKEN)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("not a loopback address"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_security_headers_and_show_no_message_a_link_brings() {
    let w = world().await;
    let (http, cookie) = w.signed_in().await;
    let page = http
        .get(format!(
            "{}/admin?msg=Your+account+is+suspended&err=Call+0900&flash=forged",
            w.api.base
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let h = page.headers().clone();
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let body = page.text().await.unwrap();
    assert!(
        !body.contains("suspended") && !body.contains("0900"),
        "a crafted link's text is shown"
    );
    assert!(
        !body.contains("<script>"),
        "no inline script under the policy"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_orders_in_the_api_the_cli_and_the_page() {
    let w = world().await;
    connect_com_with_alice(&w);
    let order = json!({"kind": "register", "domain": "invalid-ended.com", "account": "alice"});
    w.api
        .expect("POST", "/api/v1/orders", Some(&order), 201)
        .await;
    w.engine_round().await;
    let api = w
        .api
        .expect("GET", "/api/v1/async/finished?end=rejected", None, 200)
        .await;
    assert_eq!(api[0]["domain"], "invalid-ended.com", "{api}");
    assert_eq!(
        api,
        w.cli(&["async", "list", "--finished", "--end", "rejected", "--json"])
    );
    let (status, bad, _) = w
        .api
        .send_as("GET", "/api/v1/async/finished?end=lost", None, Some(TOKEN))
        .await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("invalid_end"))
    );

    let page = signed_in_page(&w, "/admin/async/finished").await;
    assert!(
        page.contains("invalid-ended.com") && page.contains("rejected") && page.contains("12.99"),
        "{page}"
    );
}

/// The page at `path`, as a signed-in admin sees it.
async fn signed_in_page(w: &World, path: &str) -> String {
    let (http, cookie) = w.signed_in().await;
    http.get(format!("{}{path}", w.api.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Connects the sandbox for .com (12.99 a year) and stores alice's contacts.
fn connect_com_with_alice(w: &World) {
    let port = w.sandbox.addr.port();
    tokio::task::block_in_place(|| {
        support_cli::connect_sandbox(w.dir.path(), port, KEY, &["com"]);
        domreg_ok(
            w.dir.path(),
            &[
                "account",
                "contacts",
                "alice",
                "--file",
                support_contacts::owen_file(w.dir.path()).to_str().unwrap(),
            ],
        );
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_completion_in_the_api_the_metrics_and_the_page_and_the_admins_choice() {
    let w = world().await;
    connect_com_with_alice(&w);
    let order = json!({"kind": "register", "domain": "invalid-late.com", "account": "alice"});
    let placed = w
        .api
        .expect("POST", "/api/v1/orders", Some(&order), 201)
        .await;
    let id = placed["order"]["order_id"].as_str().unwrap().to_string();
    w.engine_round().await;
    // The registry went through with it after all, behind the engine's back.
    w.sandbox.with_state(|s| {
        let now = s.now();
        s.domains.insert(
            "invalid-late.com".into(),
            domreg::opensrs::sandbox::state::DomainRecord {
                owner: "reseller".into(),
                created: now,
                expires: now + chrono::Duration::days(365),
                auto_renew: false,
                transferable: true,
                nameservers: vec![],
                renewed_from_year: None,
            },
        );
    });
    let report = w.cli(&["sync", "--json"]);
    assert_eq!(
        report[0]["late_completions"][0]["domain"], "invalid-late.com",
        "{report}"
    );

    let api = w.api.expect("GET", "/api/v1/sync", None, 200).await;
    assert_eq!(
        api["main"]["late_completions"][0]["order_id"],
        id.as_str(),
        "{api}"
    );
    assert_eq!(
        w.metric("domreg_sync_findings{connection=\"main\",kind=\"late_completion\"}")
            .await,
        1
    );
    let page = signed_in_page(&w, "/admin/sync").await;
    assert!(
        page.contains("invalid-late.com") && page.contains("Let it go"),
        "{page}"
    );

    let path = format!("/api/v1/sync/late-completions/{id}");
    let (status, bad, _) = w
        .api
        .send_as(
            "POST",
            &path,
            Some(&json!({"choice": "maybe"})),
            Some(TOKEN),
        )
        .await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("invalid_choice"))
    );
    let chosen = w
        .api
        .expect("POST", &path, Some(&json!({"choice": "let_go"})), 200)
        .await;
    assert_eq!(chosen["choice"]["choice"], "let_go", "{chosen}");
    let (status, again, _) = w
        .api
        .send_as(
            "POST",
            &path,
            Some(&json!({"choice": "charge_again"})),
            Some(TOKEN),
        )
        .await;
    assert_eq!(status, 409, "{again}");
    // Let go: nothing charged again; the domain is the reseller's, unknown here.
    let ledger = w.cli(&["ledger", "--account", "alice", "--json"]);
    assert!(!ledger.to_string().contains("charged again"), "{ledger}");
    let after = w.cli(&["sync", "--json"]);
    assert_eq!(after[0]["unknown"], json!(["invalid-late.com"]), "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nameservers_and_the_lock_over_http_as_the_cli_does() {
    let w = world().await;
    connect_com_with_alice(&w);
    let order = json!({"kind": "register", "domain": "managed.com", "account": "alice"});
    w.api
        .expect("POST", "/api/v1/orders", Some(&order), 201)
        .await;
    w.engine_round().await;
    let set = json!({"nameservers": ["ns1.example.net", "ns2.example.net"]});
    let out = w
        .api
        .expect(
            "PUT",
            "/api/v1/domains/managed.com/nameservers",
            Some(&set),
            200,
        )
        .await;
    assert_eq!(out["state"], "applied", "{out}");
    let (status, bad, _) = w
        .api
        .send_as(
            "PUT",
            "/api/v1/domains/managed.com/nameservers",
            Some(&json!({"nameservers": ["ns1.example.net"]})),
            Some(TOKEN),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 to 13"),
        "{bad}"
    );
    let locked = w
        .api
        .expect(
            "PUT",
            "/api/v1/domains/managed.com/lock",
            Some(&json!({"locked": true})),
            200,
        )
        .await;
    assert_eq!(locked["change"]["locked"], true, "{locked}");
    let (status, missing, _) = w
        .api
        .send_as(
            "PUT",
            "/api/v1/domains/never-here.com/lock",
            Some(&json!({"locked": true})),
            Some(TOKEN),
        )
        .await;
    assert!(status == 409 || status == 404, "{status} {missing}");
    let audit = w.cli(&["audit", "managed.com", "--json"]);
    assert!(
        audit.to_string().contains("registrar lock switched on"),
        "{audit}"
    );

    // In bulk: one change each, and the same request again repeats none.
    let bulk = json!({"domains": ["managed.com", "never-here.com"], "change": {"change": "lock", "locked": false}});
    let first = w
        .api
        .expect("POST", "/api/v1/bulk-changes", Some(&bulk), 200)
        .await;
    assert_eq!(first["applied"], json!(["managed.com"]), "{first}");
    assert_eq!(first["refused"][0]["domain"], "never-here.com", "{first}");
    let again = w
        .api
        .expect("POST", "/api/v1/bulk-changes", Some(&bulk), 200)
        .await;
    assert_eq!(again["earlier"], json!(["managed.com"]), "{again}");
    assert_eq!(again["key"], first["key"]);
}
