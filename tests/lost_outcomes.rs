//! An order whose answer was lost, of which OpenSRS has no trace after its whole wait
//! while the name is still available, is sent once more instead of refunded: at most once.

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

/// The first `times` SW_REGISTERs are lost: the connection closes before any answer, and
/// OpenSRS did nothing.
fn lose_registrations(w: &World, times: u32) {
    w.sandbox.with_state(|s| {
        s.faults = vec![FaultRule {
            command: Some("SW_REGISTER".into()),
            fault: Fault::Drop,
            percent: 100,
            times: Some(times),
        }]
    });
}

async fn event_count(w: &World, domain: &str, ty: &str) -> usize {
    use domreg::store::EventStore;
    let app = open_app(&w.dir);
    let stream = domain_stream(&DomainName::parse(domain).unwrap());
    app.store
        .read_stream(&stream, 0, usize::MAX)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event_type == ty)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_registration_opensrs_never_saw_is_sent_once_more_and_completes() {
    let w = world().await;
    lose_registrations(&w, 1);
    let order = w.order("no-trace.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let s = w.state("no-trace.com").await;
    assert_eq!(
        s.orders[&order].stage,
        Stage::Pending,
        "the answer was lost"
    );
    let deadline = s.orders[&order].deadline.unwrap();
    w.advance(deadline - w.clock_now() + Duration::minutes(1));
    engine.run_once().await.unwrap(); // no trace at OpenSRS: decided to send once more
    engine.run_once().await.unwrap(); // sent
    let s = w.state("no-trace.com").await;
    let o = &s.orders[&order];
    assert_eq!(o.end(), Some(End::Confirmed), "{o:?}");
    assert!(o.refunded.is_none());
    assert_eq!(w.registers("no-trace.com"), 1, "OpenSRS registered it once");
    assert_eq!(event_count(&w, "no-trace.com", "Resubmitted").await, 1);
    assert_eq!(event_count(&w, "no-trace.com", "Submitted").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_lost_twice_is_not_sent_a_third_time_but_refunded() {
    let w = world().await;
    lose_registrations(&w, 2);
    let order = w.order("lost-twice.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    for _ in 0..2 {
        let s = w.state("lost-twice.com").await;
        if let Some(deadline) = s.orders[&order].deadline {
            w.advance(deadline - w.clock_now() + Duration::minutes(1));
        }
        engine.run_once().await.unwrap();
        engine.run_once().await.unwrap();
    }
    let s = w.state("lost-twice.com").await;
    let o = &s.orders[&order];
    assert_eq!(o.end(), Some(End::TimedOut), "{o:?}");
    assert_eq!(o.refunded, o.charged);
    assert_eq!(event_count(&w, "lost-twice.com", "Resubmitted").await, 1);
    assert_eq!(w.registers("lost-twice.com"), 0);
}

fn sandbox_order_status(w: &World, domain: &str) -> Vec<String> {
    w.sandbox.with_state(|s| {
        s.orders
            .values()
            .filter(|o| o.domain == domain)
            .map(|o| format!("{:?}", o.status))
            .collect()
    })
}

/// OpenSRS parks a registration it refuses (forced_pending): the parked order is
/// cancelled there before the customer is refunded, so nobody processing it later can
/// give the name away after the refund.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_order_is_cancelled_at_opensrs_before_the_refund() {
    let w = world().await;
    let order = w.order("parked-one.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let s = w.state("parked-one.com").await;
    let o = &s.orders[&order];
    assert_eq!(o.end(), Some(End::Rejected));
    assert!(o.refunded.is_some());
    let text = &o.last_answer.as_ref().unwrap().text;
    assert!(text.contains("was cancelled at OpenSRS"), "{text}");
    assert_eq!(sandbox_order_status(&w, "parked-one.com"), ["Cancelled"]);

    // The cancel gets no answer: no refund while the parked order may still be processed.
    w.sandbox.with_state(|s| {
        s.faults = vec![FaultRule {
            command: Some("PROCESS_PENDING".into()),
            fault: Fault::Drop,
            percent: 100,
            times: Some(1),
        }]
    });
    let order = w.order("parked-two.com", OrderKind::Register).await;
    engine.run_once().await.unwrap();
    let s = w.state("parked-two.com").await;
    let o = &s.orders[&order];
    assert_eq!(o.stage, Stage::Pending, "{o:?}");
    assert!(o.refunded.is_none());
    assert!(o.registrar_order_id.is_some());
    assert_eq!(sandbox_order_status(&w, "parked-two.com"), ["Pending"]);
    // At its deadline the engine cancels it at OpenSRS, then refunds.
    let deadline = o.deadline.unwrap();
    for _ in 0..3 {
        w.advance(deadline - w.clock_now() + Duration::minutes(10));
        engine.run_once().await.unwrap();
    }
    let s = w.state("parked-two.com").await;
    let o = &s.orders[&order];
    assert!(o.end().is_some_and(|e| e != End::Confirmed), "{o:?}");
    assert!(o.refunded.is_some(), "{o:?}");
    assert_eq!(sandbox_order_status(&w, "parked-two.com"), ["Cancelled"]);
}
