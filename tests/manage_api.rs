//! Contacts, child nameservers, the IPS tag, nameservers back to the defaults and bulk
//! auto-renew over the admin API and the domain's page, with the CLI's answers: the same
//! changes, sent once, recorded, refused with the reason.

#[path = "support/api.rs"]
mod support_api;
#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;

use domreg::app::App;
use domreg::clock::SystemClock;
use domreg::engine::Engine;
use serde_json::{json, Value};
use support_api::{api_world, ApiWorld, KEY, TOKEN};
use support_cli::domreg_ok;

fn cli(w: &ApiWorld, args: &[&str]) -> String {
    tokio::task::block_in_place(|| domreg_ok(w.dir.path(), args))
}

async fn registered(w: &ApiWorld, domain: &str) {
    let order = json!({"kind": "register", "domain": domain, "account": "alice"});
    w.api
        .expect("POST", "/api/v1/orders", Some(&order), 201)
        .await;
    let mut engine = Engine::new(App::open(w.dir.path()).unwrap(), SystemClock);
    engine.run_once().await.unwrap();
}

async fn setup() -> ApiWorld {
    let w = api_world().await;
    let port = w.sandbox.addr.port();
    tokio::task::block_in_place(|| {
        support_cli::connect_sandbox(w.dir.path(), port, KEY, &["com"]);
        let owen = support_contacts::owen_file(w.dir.path());
        domreg_ok(
            w.dir.path(),
            &[
                "account",
                "contacts",
                "alice",
                "--file",
                owen.to_str().unwrap(),
            ],
        );
        domreg_ok(
            w.dir.path(),
            &[
                "registrar",
                "update",
                "main",
                "--ns",
                "ns1.default.net",
                "--ns",
                "ns2.default.net",
            ],
        );
    });
    w
}

fn contact(first: &str) -> Value {
    let mut c = serde_json::to_value(support_contacts::owen("").owner).unwrap();
    c["first_name"] = json!(first);
    c["email"] = json!(format!("{}@example.com", first.to_lowercase()));
    c
}

async fn refused(
    w: &ApiWorld,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, String, String) {
    let (status, v, _) = w.api.send_as(method, path, body, Some(TOKEN)).await;
    let code = v["error"]["code"].as_str().unwrap_or_default().to_string();
    let message = v["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (status, code, message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_hosts_and_the_ips_tag_over_http_as_the_cli_does() {
    let w = setup().await;
    registered(&w, "api-manage.com").await;
    let base = "/api/v1/domains/api-manage.com";

    // Contacts: the transfer-lock question, then the recorded choice.
    let body = json!({"roles": ["owner"], "contact": contact("Nora")});
    let (status, _, message) = refused(&w, "PUT", &format!("{base}/contacts"), Some(&body)).await;
    assert_eq!(status, 409, "{message}");
    assert!(message.contains("60-day"), "{message}");
    let body = json!({"roles": ["owner"], "contact": contact("Nora"), "transfer_lock": "accept"});
    let out = w
        .api
        .expect("PUT", &format!("{base}/contacts"), Some(&body), 200)
        .await;
    assert_eq!(out["state"], "applied", "{out}");
    assert_eq!(out["change"]["transfer_lock"], "accept", "{out}");
    let (status, code, _) = refused(
        &w,
        "PUT",
        &format!("{base}/contacts"),
        Some(&json!({"roles": ["janitor"], "contact": contact("X")})),
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "invalid_body"));

    // Child nameservers: create, list, modify, delete.
    let made = w
        .api
        .expect(
            "POST",
            &format!("{base}/child-nameservers"),
            Some(&json!({"host": "ns1.api-manage.com", "ipv4": "192.0.2.7"})),
            200,
        )
        .await;
    assert_eq!(made["state"], "applied", "{made}");
    let listed = w
        .api
        .expect("GET", &format!("{base}/child-nameservers"), None, 200)
        .await;
    assert_eq!(listed["at_opensrs"][0]["ipv4"], "192.0.2.7", "{listed}");
    let changed = w
        .api
        .expect(
            "PUT",
            &format!("{base}/child-nameservers/ns1.api-manage.com"),
            Some(&json!({"ipv4": "192.0.2.8"})),
            200,
        )
        .await;
    assert_eq!(changed["change"]["ipv4"], "192.0.2.8", "{changed}");
    let (status, _, message) = refused(
        &w,
        "POST",
        &format!("{base}/child-nameservers"),
        Some(&json!({"host": "ns1.api-manage.com", "ipv4": "192.0.2.9"})),
    )
    .await;
    assert_eq!(status, 409, "{message}");
    assert!(message.contains("already exists"), "{message}");
    w.api
        .expect(
            "DELETE",
            &format!("{base}/child-nameservers/ns1.api-manage.com"),
            None,
            200,
        )
        .await;
    assert!(w.sandbox.with_state(|s| s.hosts.is_empty()));

    // Nameservers back to the connection's defaults.
    let reset = w
        .api
        .expect(
            "PUT",
            &format!("{base}/nameservers"),
            Some(&json!({"defaults": true})),
            200,
        )
        .await;
    assert_eq!(
        reset["change"]["nameservers"],
        json!(["ns1.default.net", "ns2.default.net"]),
        "{reset}"
    );

    // The IPS tag: confirmed or refused; not for .com.
    let (status, code, _) = refused(
        &w,
        "PUT",
        &format!("{base}/ips-tag"),
        Some(&json!({"tag": "TUCOWS-CA", "release": false})),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "release_not_confirmed"));
    let (status, _, message) = refused(
        &w,
        "PUT",
        &format!("{base}/ips-tag"),
        Some(&json!({"tag": "TUCOWS-CA", "release": true})),
    )
    .await;
    assert_eq!(status, 409, "{message}");
    assert!(message.contains("not an IPS tag"), "{message}");

    // Bulk auto-renew: written where it differs, the same request again repeats none.
    registered(&w, "api-other.com").await;
    let bulk = json!({"domains": ["api-manage.com", "api-other.com"], "change": {"change": "auto_renew", "enabled": false, "years": 2.0}});
    let first = w
        .api
        .expect("POST", "/api/v1/bulk-changes", Some(&bulk), 200)
        .await;
    assert_eq!(
        first["applied"].as_array().map(Vec::len),
        Some(2),
        "{first}"
    );
    let again = w
        .api
        .expect("POST", "/api/v1/bulk-changes", Some(&bulk), 200)
        .await;
    assert_eq!(
        again["earlier"].as_array().map(Vec::len),
        Some(2),
        "{again}"
    );
    let bad = json!({"domains": ["api-manage.com"], "change": {"change": "ips_tag", "tag": "X-1"}});
    let (status, code, message) = refused(&w, "POST", "/api/v1/bulk-changes", Some(&bad)).await;
    assert_eq!(
        (status, code.as_str()),
        (400, "invalid_change"),
        "{message}"
    );
    assert!(message.contains("never in bulk"), "{message}");

    // The CLI reads the same log.
    let audit = cli(&w, &["audit", "api-manage.com"]);
    for line in [
        "owner contact set to Nora Ottway <nora@example.com>; 60-day transfer lock accepted",
        "child nameserver ns1.api-manage.com changed at 192.0.2.8",
        "nameservers set to ns1.default.net, ns2.default.net",
    ] {
        assert!(audit.contains(line), "{line:?} in\n{audit}");
    }
}

/// The page at `path` as a signed-in admin sees it.
async fn page_of(w: &ApiWorld, http: &reqwest::Client, cookie: &str, path: &str) -> String {
    http.get(format!("{}{path}", w.api.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_domain_page_changes_contacts_and_child_nameservers() {
    let w = setup().await;
    registered(&w, "page-manage.com").await;
    let path = "/admin/domains/page-manage.com";
    let (http, cookie) = w.signed_in().await;
    let page = page_of(&w, &http, &cookie, path).await;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token on the page")
        .to_string();
    for form in [
        "/contacts\"",
        "/child-nameservers\"",
        "Reset to the connection",
    ] {
        assert!(page.contains(form), "{form} on\n{page}");
    }
    assert!(!page.contains("/ips-tag\""), ".com has no IPS tag form");
    let post = |action: &str, fields: Vec<(&str, String)>| {
        let mut fields = fields;
        fields.push(("csrf", csrf.clone()));
        http.post(format!("{}{path}/{action}", w.api.base))
            .header("cookie", &cookie)
            .form(&fields)
            .send()
    };
    let owen = support_contacts::owen("").owner;
    let mut fields: Vec<(&str, String)> = vec![
        ("role_admin", "on".into()),
        ("first_name", "Page".into()),
        ("last_name", owen.last_name.clone()),
        ("org_name", String::new()),
        ("address1", owen.address1.clone()),
        ("city", owen.city.clone()),
        ("state", owen.state.clone()),
        ("country", owen.country.clone()),
        ("postal_code", owen.postal_code.clone()),
        ("phone", owen.phone.clone()),
        ("email", "page@example.com".into()),
        ("transfer_lock", String::new()),
    ];
    let r = post("contacts", fields.clone()).await.unwrap();
    assert_eq!(r.status(), 303);
    fields[0] = ("role_owner", "on".into());
    post("contacts", fields).await.unwrap();
    post(
        "child-nameservers",
        vec![
            ("action", "create".into()),
            ("host", "ns1.page-manage.com".into()),
            ("ipv4", "192.0.2.44".into()),
            ("ipv6", String::new()),
        ],
    )
    .await
    .unwrap();
    let after = page_of(&w, &http, &cookie, path).await;
    assert!(
        after.contains("admin contact set to Page Ottway"),
        "{after}"
    );
    assert!(
        after.contains("ns1.page-manage.com") && after.contains("192.0.2.44"),
        "{after}"
    );
    let profile = w
        .sandbox
        .with_state(|s| s.profiles["page-manage.com"].contacts.clone());
    assert_eq!(profile["admin"]["first_name"], "Page");
    assert_eq!(
        profile["owner"]["first_name"], "Owen",
        "the owner change was refused: no lock choice"
    );
    let audit = cli(&w, &["audit", "page-manage.com"]);
    assert!(!audit.contains("owner contact set to Page"), "{audit}");
}
