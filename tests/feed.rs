//! OpenSRS's event feed against the sandbox: each event recorded once on its domain
//! before it is acknowledged, whatever fails between the two, and a pending registration
//! completed by its event instead of at its next poll.

#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;
#[path = "support/engine_world.rs"]
mod world;

use chrono::Duration;
use domreg::opensrs::sandbox::faults::{Fault, FaultRule};
use domreg_events::*;
use world::*;

fn reported(state: &Domain) -> usize {
    state.registrar_events.len()
}

fn feed_left(w: &World) -> usize {
    w.sandbox
        .with_state(|s| s.feed.get("reseller").map_or(0, |q| q.len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_de_registration_completes_on_its_event_before_its_next_poll() {
    let w = world().await;
    w.sandbox.with_state(|s| {
        s.settings.async_polls = None;
        s.settings.async_delay_secs = Some(60);
    });
    let order = w.order("feed-first.de", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let s = w.state("feed-first.de").await;
    assert_eq!(s.orders[&order].stage, Stage::Pending);
    assert!(s.orders[&order].poll_every.unwrap() >= Duration::hours(1));
    // The registry completes; the engine's next poll is an hour away.
    w.advance(Duration::seconds(61));
    w.sandbox.with_state(|s| s.clock_offset_secs += 60);
    let round = engine.run_once().await.unwrap();
    assert_eq!(round.polled, 0, "{round:?}");
    assert!(
        round.feed.recorded >= 1 && round.feed.followed == 1,
        "{round:?}"
    );
    let s = w.state("feed-first.de").await;
    assert_eq!(s.orders[&order].end(), Some(End::Confirmed));
    assert_eq!(feed_left(&w), 0, "every event was acknowledged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_recorded_whose_ack_is_lost_is_recorded_once() {
    let w = world().await;
    w.order("acked-once.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    assert_eq!(feed_left(&w), 2, "CREATED and REGISTERED are queued");
    // Every ACK is lost: the first event is recorded, not acknowledged.
    w.sandbox.with_state(|s| {
        s.faults = vec![FaultRule {
            command: Some("ACK".into()),
            fault: Fault::Drop,
            percent: 100,
            times: None,
        }]
    });
    w.advance(Duration::seconds(61));
    let round = engine.run_once().await.unwrap();
    assert_eq!(
        (round.feed.recorded, round.feed.acknowledged),
        (1, 0),
        "{round:?}"
    );
    assert_eq!(reported(&w.state("acked-once.com").await), 1);
    assert_eq!(feed_left(&w), 2);
    // OpenSRS answers again: the same events are read, nothing is recorded twice.
    w.sandbox.with_state(|s| s.faults.clear());
    w.advance(Duration::seconds(61));
    let round = engine.run_once().await.unwrap();
    assert_eq!(
        (round.feed.recorded, round.feed.acknowledged),
        (1, 2),
        "{round:?}"
    );
    let s = w.state("acked-once.com").await;
    assert_eq!(reported(&s), 2);
    assert_eq!(feed_left(&w), 0);
    let events = s.version;
    w.advance(Duration::seconds(61));
    engine.run_once().await.unwrap();
    assert_eq!(w.state("acked-once.com").await.version, events);
}

fn gets(w: &World) -> u64 {
    w.sandbox
        .with_state(|s| s.counters.calls.get("GET").copied().unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_naming_the_recorded_expiry_is_not_read_back_and_one_naming_another_is() {
    let w = world().await;
    w.order("read-once.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let recorded = w.state("read-once.com").await.expires_at.unwrap();
    let before = gets(&w);
    // The registration's own CREATED and REGISTERED name the expiry just confirmed.
    w.advance(Duration::seconds(61));
    let round = engine.run_once().await.unwrap();
    assert_eq!(
        (
            round.feed.recorded,
            round.feed.acknowledged,
            round.feed.followed
        ),
        (2, 2, 0),
        "{round:?}"
    );
    assert_eq!(gets(&w), before, "no GET DOMAIN for what is already known");
    // The back end moves the date and says so: that is read back and recorded.
    let moved = recorded + Duration::days(30);
    w.sandbox.with_state(|s| {
        s.domains.get_mut("read-once.com").unwrap().expires = moved;
        let expiry = domreg::opensrs::sandbox::feed::feed_date(moved);
        s.raise(
            "reseller",
            "DOMAIN",
            "CREATED",
            &[
                ("domain_name", "read-once.com".into()),
                ("expiration_date", expiry),
            ],
        );
    });
    w.advance(Duration::seconds(61));
    let round = engine.run_once().await.unwrap();
    assert_eq!(round.feed.followed, 1, "{round:?}");
    assert_eq!(gets(&w), before + 1);
    assert_eq!(w.state("read-once.com").await.expires_at, Some(moved));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_made_outside_domreg_is_recorded_from_its_event() {
    let w = world().await;
    w.order("renewed-elsewhere.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let before = w.state("renewed-elsewhere.com").await.expires_at.unwrap();
    // Someone renews it in the Reseller Web Interface: the registry's date moves and
    // OpenSRS raises RENEWED.
    w.sandbox.with_state(|s| {
        let d = s.domains.get_mut("renewed-elsewhere.com").unwrap();
        d.expires = domreg_events::calendar::years_later(d.expires, 1);
        let expiry = domreg::opensrs::sandbox::feed::feed_date(d.expires);
        s.raise(
            "reseller",
            "DOMAIN",
            "RENEWED",
            &[
                ("domain_name", "renewed-elsewhere.com".into()),
                ("expiration_date", expiry),
                ("period", "1".into()),
            ],
        );
    });
    w.advance(Duration::seconds(61));
    let round = engine.run_once().await.unwrap();
    assert!(round.feed.followed >= 1, "{round:?}");
    let after = w.state("renewed-elsewhere.com").await.expires_at.unwrap();
    assert_eq!(after, domreg_events::calendar::years_later(before, 1));
}

/// The engine process is killed (SIGKILL) after it recorded an event and while it waits
/// for OpenSRS to acknowledge it: after a restart the event is in the log once, and
/// acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_the_record_and_the_ack_loses_and_doubles_nothing() {
    use std::process::{Command as Process, Stdio};
    use std::time::{Duration as StdDuration, Instant};
    let w = world().await;
    w.sandbox.with_state(|s| {
        s.raise(
            "reseller",
            "DOMAIN",
            "RENEWED",
            &[
                ("domain_name", "killed-ack.com".to_string()),
                ("expiration_date", "2028-12-01T00:00:00Z".to_string()),
            ],
        );
        // The ACK never answers: the engine has recorded the event and waits.
        s.faults = vec![FaultRule {
            command: Some("ACK".into()),
            fault: Fault::NoReply,
            percent: 100,
            times: None,
        }];
    });
    let serve = |once: bool| {
        let mut p = Process::new(env!("CARGO_BIN_EXE_domreg"));
        p.arg("--data-dir")
            .arg(&w.dir)
            .args(["serve", "--tick", "100ms", "--event-feed-every", "1s"])
            .args(["--opensrs-timeout", "60s", "--sync-every", "0s"])
            // On a shared (PostgreSQL) log the killed engine counts as alive for its
            // lease, and owns part of the work until then: keep that short.
            .args(["--engine-lease", "3s"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if once {
            p.arg("--once");
        }
        p
    };
    let mut engine = serve(false).spawn().unwrap();
    let start = Instant::now();
    while reported(&w.state("killed-ack.com").await) == 0 {
        assert!(
            start.elapsed() < StdDuration::from_secs(30),
            "recorded within 30 s"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    // The ACK follows the record at once and hangs for a minute: the kill lands between.
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    engine.kill().unwrap(); // SIGKILL: no shutdown code runs
    engine.wait().unwrap();
    assert_eq!(feed_left(&w), 1, "never acknowledged");
    let events = w.state("killed-ack.com").await.version;

    w.sandbox.with_state(|s| s.faults.clear());
    // Past the killed engine's lease, so the restarted one owns the feed whatever the log.
    tokio::time::sleep(StdDuration::from_secs(4)).await;
    let status = tokio::task::block_in_place(|| serve(true).status().unwrap());
    assert!(status.success());
    assert_eq!(feed_left(&w), 0, "acknowledged after the restart");
    let s = w.state("killed-ack.com").await;
    assert_eq!(reported(&s), 1);
    assert_eq!(
        s.version, events,
        "recorded once: nothing more was appended"
    );
}
