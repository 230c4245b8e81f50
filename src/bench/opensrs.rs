//! OpenSRS figures: the codec on a full SW_REGISTER request and reply, and client <->
//! sandbox LOOKUPs over loopback HTTP.

use std::sync::Arc;
use std::time::Instant;

use super::Figure;
use crate::opensrs::codec::{self, Envelope};
use crate::opensrs::command::{Command, RegType, SwRegister};
use crate::opensrs::sandbox::handlers::reply;
use crate::opensrs::sandbox::{Sandbox, SandboxConfig};
use crate::opensrs::{
    classify, Client, CommandKind, ConnectionSettings, Contact, ContactSet, Reply, Secret, Value,
};

fn sample_register() -> Command {
    let contact = Contact {
        first_name: "Owen".into(),
        last_name: "Ottway".into(),
        org_name: "Example Inc.".into(),
        address1: "32 Oak Street".into(),
        address2: "Suite 500".into(),
        address3: "Owner".into(),
        city: "SomeCity".into(),
        state: "CA".into(),
        country: "US".into(),
        postal_code: "90210".into(),
        phone: "+1.4165550123".into(),
        fax: "+1.4165550124".into(),
        email: "owen@example.com".into(),
    };
    Command::SwRegister(Box::new(SwRegister {
        domain: "example.com".into(),
        reg_type: RegType::New,
        period: 1,
        contacts: ContactSet::all(contact),
        nameservers: vec!["ns1.example.net".into(), "ns2.example.net".into()],
        reg_username: "owen".into(),
        reg_password: "changeit123".into(),
        auth_info: None,
        auto_renew: false,
        lock: true,
    }))
}

fn sample_reply() -> Vec<u8> {
    let attrs = Value::assoc()
        .with(
            "registration_text",
            "Domain registration successfully completed.",
        )
        .with("admin_email", "adams@example.com")
        .with("registration_code", "200")
        .with("domain_id", "1532247")
        .with("id", "11820034");
    let body = reply(
        "DOMAIN",
        true,
        200,
        "Domain registration successfully completed.",
        Some(attrs),
    );
    codec::write(&Envelope::new(body)).into_bytes()
}

/// Runs `f` `n` times on this thread and reports operations per second.
fn per_second(name: &str, n: u64, target: Option<f64>, mut f: impl FnMut() -> usize) -> Figure {
    let mut sink = 0usize;
    let start = Instant::now();
    for _ in 0..n {
        sink = sink.wrapping_add(f());
    }
    let elapsed = start.elapsed();
    std::hint::black_box(sink);
    Figure::new(name, n, elapsed, "op/s", target)
}

pub fn codec_figures(n: u64) -> Vec<Figure> {
    let command = sample_register();
    let request = codec::write(&Envelope::new(command.to_value()));
    let reply_bytes = sample_reply();
    vec![
        per_second(
            "encode SW_REGISTER request (command -> XML)",
            n,
            None,
            || codec::write(&Envelope::new(command.to_value())).len(),
        ),
        per_second("decode SW_REGISTER request (XML -> tree)", n, None, || {
            codec::parse(request.as_bytes())
                .map(|e| e.duplicate_keys.len())
                .unwrap_or(0)
        }),
        per_second(
            "decode + classify SW_REGISTER reply, 1 core",
            n,
            Some(100_000.0),
            || {
                let reply = codec::parse(&reply_bytes)
                    .map_err(|e| e.to_string())
                    .and_then(|e| Reply::from_body(e.body));
                let c = classify(
                    CommandKind::Register,
                    &reply.map_err(crate::opensrs::TransportError::Unparseable),
                );
                c.order_id.map_or(0, |id| id.len())
            },
        ),
    ]
}

pub async fn lookup_figure(callers: u64, calls: u64) -> anyhow::Result<Figure> {
    let key = "bench-key-0123456789";
    let sandbox = Sandbox::start(SandboxConfig::new("127.0.0.1:0".parse()?, "bench", key)).await?;
    let mut settings = ConnectionSettings::new(
        "bench",
        "127.0.0.1",
        sandbox.addr.port(),
        "bench",
        Secret::new(key),
    );
    settings.plain_http = true;
    let client = Arc::new(Client::new(settings)?);
    let per_caller = calls / callers.max(1);
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|c| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut ok = 0u64;
                for i in 0..per_caller {
                    let e = client
                        .call(&Command::Lookup {
                            domain: format!("bench-{c}-{i}.com"),
                        })
                        .await;
                    ok += u64::from(e.classification.code == Some(210));
                }
                ok
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        ok += t.await?;
    }
    let elapsed = start.elapsed();
    anyhow::ensure!(
        ok == per_caller * callers,
        "only {ok} of {} lookups answered 210",
        per_caller * callers
    );
    Ok(Figure::new(
        &format!("client <-> sandbox LOOKUP, {callers} concurrent callers"),
        ok,
        elapsed,
        "call/s",
        None,
    ))
}
