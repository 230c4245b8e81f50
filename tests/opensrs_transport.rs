//! The client's own HTTP transport against servers written by hand on loopback: replies
//! framed every way HTTP/1.1 allows, a reply too large to read, and a registration whose
//! connection never got as far as sending, which must be known as not sent.

#[path = "support/contacts.rs"]
mod support_contacts;

use std::time::{Duration, Instant};

use domreg::opensrs::codec::{self, Envelope};
use domreg::opensrs::command::{Command, RegType, SwRegister};
use domreg::opensrs::value::Value;
use domreg::opensrs::{Class, Client, ConnectionSettings, Secret, TransportError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const KEY: &str = "0123456789abcdef0123456789abcdef";

/// A lookup's answer as OpenSRS writes it.
fn available() -> String {
    codec::write(&Envelope::new(
        Value::assoc()
            .with("protocol", "XCP")
            .with("action", "REPLY")
            .with("object", "DOMAIN")
            .with("is_success", "1")
            .with("response_code", "210")
            .with("response_text", "Domain available")
            .with("attributes", Value::assoc().with("status", "available")),
    ))
}

/// A server that reads each request to its end (every connection: the client may try a
/// read-only call again), then hands the connection to `answer`.
async fn serving<F, A>(answer: F) -> u16
where
    F: Fn(TcpStream) -> A + Clone + Send + 'static,
    A: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = vec![0u8; 65536];
                while !String::from_utf8_lossy(&seen).contains("</OPS_envelope>") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                answer(tcp).await;
            });
        }
    });
    port
}

/// Answers with `head` and then each part of `body` as its own write, then closes.
async fn answering(head: String, body: Vec<Vec<u8>>) -> u16 {
    serving(move |mut tcp| {
        let (head, body) = (head.clone(), body.clone());
        async move {
            tcp.write_all(head.as_bytes()).await.unwrap();
            for part in body {
                tcp.write_all(&part).await.unwrap();
                tcp.flush().await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    })
    .await
}

fn settings(port: u16) -> ConnectionSettings {
    let mut s = ConnectionSettings::new("hand", "127.0.0.1", port, "reseller", Secret::new(KEY));
    s.plain_http = true;
    s.timeout = Duration::from_secs(5);
    s.read_attempts = 1;
    s
}

async fn lookup(port: u16) -> domreg::opensrs::Exchange {
    Client::new(settings(port))
        .unwrap()
        .call(&Command::Lookup {
            domain: "framed.com".into(),
        })
        .await
}

#[tokio::test]
async fn a_chunked_reply_is_read_whole() {
    let xml = available();
    let (first, rest) = xml.as_bytes().split_at(xml.len() / 2);
    let chunk = |b: &[u8]| [format!("{:x}\r\n", b.len()).as_bytes(), b, b"\r\n"].concat();
    let port = answering(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n".into(),
        vec![chunk(first), chunk(rest), b"0\r\n\r\n".to_vec()],
    )
    .await;
    let e = lookup(port).await;
    assert_eq!(e.classification.code, Some(210), "{:?}", e.outcome);
    assert_eq!(e.outcome.unwrap().attr("status"), Some("available"));
}

#[tokio::test]
async fn a_reply_without_a_length_ends_where_the_connection_closes() {
    let xml = available().into_bytes();
    let (first, rest) = xml.split_at(40);
    let port = answering(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n".into(),
        vec![first.to_vec(), rest.to_vec()],
    )
    .await;
    let e = lookup(port).await;
    assert_eq!(e.classification.code, Some(210), "{:?}", e.outcome);
}

#[tokio::test]
async fn a_huge_reply_is_refused_without_being_read_whole() {
    // 64 MiB of body, far past the codec's limit, sent as long as the client reads.
    let port = serving(|mut tcp| async move {
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<OPS_envelope>";
        let _ = tcp.write_all(head).await;
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..64 {
            if tcp.write_all(&chunk).await.is_err() {
                return;
            }
        }
    })
    .await;
    let mut s = settings(port);
    s.timeout = Duration::from_secs(20);
    s.read_attempts = 3;
    let e = Client::new(s)
        .unwrap()
        .call(&Command::Lookup {
            domain: "huge.com".into(),
        })
        .await;
    let err = e.outcome.unwrap_err().to_string();
    assert!(err.contains("larger than"), "{err}");
}

#[tokio::test]
async fn a_registration_whose_tls_handshake_never_finishes_is_known_not_sent() {
    // Accepts the connection, reads what comes (the TLS hello) and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = received.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = tcp.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    kept.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
    });
    let mut s = settings(port);
    s.plain_http = false;
    s.connect_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let e = Client::new(s)
        .unwrap()
        .call(&Command::SwRegister(Box::new(SwRegister {
            domain: "never-sent.com".into(),
            reg_type: RegType::New,
            period: 1,
            contacts: support_contacts::owen("Never Sent Ltd"),
            nameservers: vec![],
            reg_username: "owen".into(),
            reg_password: "s3cret-profile".into(),
            auth_info: None,
            auto_renew: false,
            lock: false,
        })))
        .await;
    assert!(
        matches!(&e.outcome, Err(TransportError::Connect(m)) if m.contains("TLS")),
        "{:?}",
        e.outcome
    );
    assert_eq!(e.classification.class, Class::RetryLater);
    assert_eq!(
        e.attempts, 1,
        "a registration is never resent by the client"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the handshake's own limit ended it, not the whole call's"
    );
    let seen = String::from_utf8_lossy(&received.lock().unwrap()).into_owned();
    assert!(!seen.contains("never-sent.com"), "no request bytes left");
}
