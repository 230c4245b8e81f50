//! The OPS codec against real messages (from ../shared/fixtures/opensrs), hand-written
//! variants other clients send, and random values.

use std::io::Write;
use std::path::PathBuf;

use domreg::opensrs::codec::{self, Envelope};
use domreg::opensrs::Value;
use proptest::prelude::*;

fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/opensrs");
    if dir.is_dir() {
        Some(dir)
    } else {
        assert!(
            std::env::var_os("DOMREG_REQUIRE_FIXTURES").is_none(),
            "DOMREG_REQUIRE_FIXTURES is set but {} is missing",
            dir.display()
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: OpenSRS fixture tests ({} not found; it ships beside the project in CI)",
            dir.display()
        );
        None
    }
}

#[test]
fn every_fixture_parses_and_round_trips() {
    let Some(dir) = fixtures() else { return };
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("xml") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let env = codec::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let again = codec::parse(codec::write(&env).as_bytes()).unwrap();
        assert_eq!(again.body, env.body, "{}", path.display());
        assert_eq!(again.header, env.header, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} fixtures");
}

#[test]
fn fixtures_say_what_they_should() {
    let Some(dir) = fixtures() else { return };
    let read = |name: &str| {
        codec::parse(&std::fs::read(dir.join(name)).unwrap())
            .unwrap()
            .body
    };
    let reg = read("sw_register-response-1.xml");
    assert_eq!(reg.text("response_code"), Some("200"));
    assert_eq!(
        reg.path(&["attributes", "id"]).and_then(Value::as_str),
        Some("11820034")
    );
    let taken = read("lookup-taken.xml");
    assert_eq!(taken.text("response_code"), Some("211"));
    let ct = read("check_transfer-not-transferrable.xml");
    assert_eq!(
        ct.path(&["attributes", "transferrable"])
            .and_then(Value::as_str),
        Some("0")
    );
    let gd = read("get_domain-all_info.xml");
    assert!(gd.path(&["attributes", "contact_set", "owner"]).is_some());
    assert!(gd
        .path(&["attributes", "nameserver_list"])
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty()));
    let req = read("sw_register-request-1.xml");
    assert_eq!(req.text("action"), Some("SW_REGISTER"));
    let ns = req
        .path(&["attributes", "nameserver_list"])
        .and_then(Value::as_array)
        .unwrap();
    assert!(ns.len() >= 2);
}

#[test]
fn tolerant_of_what_other_clients_write() {
    // No DOCTYPE, single quotes, header extras, array items out of order, self-closing
    // items, an empty structured key, entities, a key with spaces, CRLF, a duplicate key,
    // lower-case action, class attributes, a dt_scalar wrapper.
    let xml = "<?xml version=\"1.0\"?>\r\n<OPS_envelope><header><version>0.9</version><msg_id>2.21765911726198</msg_id><msg_type>standard</msg_type></header>\r\n\
        <body><data_block><dt_assoc>\
          <item key='action'>lookup</item><item key=\"object\" class=\"x\">domain</item>\
          <item key=\"list\"><dt_array><item key=\"1\">b</item><item key=\"0\">a</item></dt_array></item>\
          <item key=\"empty\"/><item key=\"tld_data\"></item>\
          <item key=\"text\">A &amp; B &lt;c&gt; &#233;&#x41;</item>\
          <item key=\"registration expiration date\">2027-01-01 00:00:00</item>\
          <item key=\"dup\">first</item><item key=\"dup\">second</item>\
          <item key=\"wrapped\"><dt_scalar>inside</dt_scalar></item>\
          <item key=\"nested\">\n   <dt_assoc>\n  <item key=\"x\">1</item>\n </dt_assoc>\n </item>\
        </dt_assoc></data_block></body></OPS_envelope>";
    let env = codec::parse(xml.as_bytes()).unwrap();
    let b = &env.body;
    assert_eq!(env.header.msg_id.as_deref(), Some("2.21765911726198"));
    assert_eq!(b.text("action"), Some("lookup"));
    assert_eq!(
        b.get("list"),
        Some(&Value::Array(vec!["a".into(), "b".into()]))
    );
    assert_eq!(b.get("empty"), Some(&Value::scalar("")));
    assert_eq!(b.get("text").and_then(Value::as_str), Some("A & B <c> éA"));
    assert_eq!(
        b.text("registration expiration date"),
        Some("2027-01-01 00:00:00")
    );
    assert_eq!(b.text("dup"), Some("second"));
    assert_eq!(env.duplicate_keys, vec!["dup".to_string()]);
    assert_eq!(b.text("wrapped"), Some("inside"));
    assert_eq!(b.path(&["nested", "x"]).and_then(Value::as_str), Some("1"));
}

/// An item's key reads the same whether the parser's fast path for a plain `key="..."`
/// takes it or the general attribute reader does.
#[test]
fn items_read_alike_on_either_path() {
    let xml = |attrs: &str| {
        format!(
            "<OPS_envelope><body><data_block><dt_assoc><item {attrs}>v</item></dt_assoc></data_block></body></OPS_envelope>"
        )
    };
    for (attrs, key) in [
        (r#"key="a b""#, "a b"),
        (r#"key="a&amp;b""#, "a&b"),
        (r#"class="x" key="c""#, "c"),
        (r#"key='d'  "#, "d"),
    ] {
        let env = codec::parse(xml(attrs).as_bytes()).unwrap();
        assert_eq!(env.body.text(key), Some("v"), "{attrs}");
    }
}

#[test]
fn refuses_what_is_not_an_envelope() {
    let cases = [
        ("", "no <OPS_envelope>"),
        ("<html><body>oops</body></html>", "unexpected <html>"),
        ("<OPS_envelope><header><version>0.9</version></header></OPS_envelope>", "no <body>"),
        ("<OPS_envelope><body><data_block><dt_assoc><item key=\"a\">x</dt_assoc></data_block></body></OPS_envelope>", "malformed"),
        ("<OPS_envelope><body><data_block><dt_assoc><item>x</item></dt_assoc></data_block></body></OPS_envelope>", "no key"),
        ("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><OPS_envelope><body><data_block><dt_assoc><item key=\"a\">&e;</item></dt_assoc></data_block></body></OPS_envelope>", "unknown entity"),
        // The wrong end tag one Go client writes.
        ("<OPS_envelope><body><data_block><dt_assoc></dt_assoc></data_block></body></header>", "malformed"),
    ];
    for (xml, expected) in cases {
        let e = codec::parse(xml.as_bytes()).unwrap_err().to_string();
        assert!(e.contains(expected), "{xml:?}: {e}");
    }
    assert!(codec::parse(&[0xff, 0xfe]).is_err());
}

fn value_strategy() -> impl Strategy<Value = Value> {
    // Any text but NUL, which XML cannot carry at all.
    let text = "[^\u{0}]{0,40}";
    let leaf = text.prop_map(Value::Scalar);
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[^\u{0}]{0,12}", inner, 0..6).prop_map(Value::Assoc),
        ]
    })
}

/// Counts elements in a written document, to prove values never add any.
fn element_count(xml: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut n = 0;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_) => n += 1,
            quick_xml::events::Event::Eof => return n,
            _ => {}
        }
    }
}

fn nodes(v: &Value) -> usize {
    match v {
        Value::Scalar(_) => 0,
        Value::Assoc(m) => 1 + m.values().map(|v| 1 + nodes(v)).sum::<usize>(),
        Value::Array(a) => 1 + a.iter().map(|v| 1 + nodes(v)).sum::<usize>(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_value_survives_write_then_parse(body in value_strategy()) {
        let body = match body { v @ Value::Assoc(_) => v, other => Value::assoc().with("v", other) };
        let xml = codec::write(&Envelope::new(body.clone()));
        let back = codec::parse(xml.as_bytes()).unwrap();
        prop_assert_eq!(&back.body, &body);
        // envelope, header, version, body, data_block + the value's own containers and items
        prop_assert_eq!(element_count(&xml), 5 + nodes(&body));
    }

    #[test]
    fn hostile_contact_text_cannot_change_the_structure(s in "[^\u{0}]{0,60}", pick in 0usize..6) {
        let nasty = ["<item key=\"x\">", "]]>", "&amp;", "</dt_assoc>", "\"'", "\r\n"][pick];
        let field = format!("{s}{nasty}{s}");
        let body = Value::assoc().with("attributes", Value::assoc().with("first_name", field.as_str()));
        let xml = codec::write(&Envelope::new(body.clone()));
        let back = codec::parse(xml.as_bytes()).unwrap();
        prop_assert_eq!(back.body.path(&["attributes", "first_name"]).and_then(Value::as_str), Some(field.as_str()));
        prop_assert_eq!(element_count(&xml), 5 + nodes(&body));
    }

    #[test]
    fn the_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = codec::parse(&bytes);
    }

    #[test]
    fn the_parser_never_panics_on_near_valid_xml(cut in 0usize..600, junk in "[<>&/a-z\"' =]{0,8}") {
        let xml = codec::write(&Envelope::new(Value::assoc().with("a", Value::assoc().with("b", "c")).with("l", Value::Array(vec!["x".into()]))));
        let cut = cut.min(xml.len());
        let mut mangled = xml[..cut].to_string();
        mangled.push_str(&junk);
        mangled.push_str(&xml[cut..]);
        let _ = codec::parse(mangled.as_bytes());
    }
}

#[test]
fn every_event_poll_fixture_reads_as_a_feed_event() {
    use domreg::opensrs::feed::events;
    use domreg::opensrs::reply::Reply;
    let Some(dir) = fixtures() else { return };
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("myadmin-poll_event-") {
            continue;
        }
        let env = codec::parse(&std::fs::read(&path).unwrap()).unwrap();
        let reply = Reply::from_body(env.body).unwrap();
        let (found, skipped) = events(&reply);
        assert!(skipped.is_empty(), "{name}: {skipped:?}");
        assert_eq!(found.len(), 1, "{name}");
        let e = &found[0];
        assert_eq!(e.event_id.len(), 32, "{name}: {e:?}");
        assert!(e.event_id.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(
            ["DOMAIN", "ORDER", "TRANSFER"].contains(&e.object.as_str()),
            "{name}"
        );
        assert!(e.domain().is_some(), "{name}: every event names its domain");
        assert!(e.event_date.ends_with('Z'), "{name}");
        // The fixture's name says which event it is.
        let kind = format!("{}-{}", e.object, e.event).to_ascii_lowercase();
        assert!(name.contains(&kind), "{name} holds {kind}");
        if name.contains("nameserver_update") {
            assert!(e.data["nameserver_list"].contains(','), "{e:?}");
        }
        // An event naming an expiry names one the engine can compare with its own.
        if let Some(text) = e.data.get("expiration_date") {
            let read = e
                .expiry()
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            assert_eq!(read.as_deref(), Some(text.as_str()), "{name}");
        }
        seen += 1;
    }
    assert_eq!(seen, 11, "one fixture per event type");
}

#[test]
fn account_listing_fixtures_read_as_pages() {
    use domreg::opensrs::listing::page;
    use domreg::opensrs::reply::Reply;
    let Some(dir) = fixtures() else { return };
    let read = |name: &str| {
        let env = codec::parse(&std::fs::read(dir.join(name)).unwrap()).unwrap();
        page(&Reply::from_body(env.body).unwrap())
    };
    let first = read("enoise-get_domains_by_expiredate-page1-of-several.xml");
    assert_eq!(first.domains.len(), 3);
    assert!(first.remainder, "page 1 of several says more follow");
    assert_eq!(first.total, Some(25));
    assert_eq!(first.domains[2].name, "woodgrangerovers.co.uk");
    assert_eq!(
        first.domains[0].expires.unwrap().to_rfc3339(),
        "2011-03-12T11:21:07+00:00"
    );
    assert_eq!(first.domains[0].auto_renew, Some(false));
    for name in [
        "netdri-get_domains_by_expiredate.xml",
        "get_domains_by_expiredate.xml",
    ] {
        let p = read(name);
        assert!(!p.domains.is_empty(), "{name}");
        assert!(
            p.domains.iter().all(|d| d.expires.is_some()),
            "{name}: {p:?}"
        );
    }
}
