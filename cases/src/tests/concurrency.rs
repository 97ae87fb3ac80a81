//! Concurrent writers: one ticket per caller, unique ticket numbers, no lost edits.

use std::collections::HashSet;

use super::{MIN, T0, ended, on_both};
use crate::{CallTicket, Category, Store, TicketStatus};

/// Runs `n` copies of `f(store, i)` at once and waits for all.
async fn concurrently<F, Fut, T>(s: &Store, n: usize, f: F) -> Vec<T>
where
    F: Fn(Store, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(f(s.clone(), i))).collect();
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

async fn concurrent_calls_from_one_number_make_one_ticket(s: Store) {
    const N: usize = 24;
    let links = concurrently(&s, N, |s, i| async move {
        let id = format!("c{i}");
        s.record_call_started(&id, "13800000001", T0 + i as i64)
            .await
            .unwrap();
        if i.is_multiple_of(2) {
            s.ticket_for_call(&CallTicket {
                call_id: &id,
                caller: "13800000001",
                category: Some(Category::Mediation),
                region: None,
                lawyer_id: None,
                at: T0 + i as i64,
            })
            .await
            .unwrap()
        } else {
            s.record_call_ended(&ended(&id, "13800000001", T0 + i as i64))
                .await
                .unwrap()
                .ticket
        }
    })
    .await;
    let ids: HashSet<_> = links.iter().map(|l| l.ticket_id.clone()).collect();
    assert_eq!(ids.len(), 1, "one ticket for one caller");
    assert_eq!(links.iter().filter(|l| l.created).count(), 1);
    let id = ids.into_iter().next().unwrap();
    assert_eq!(s.calls_of_ticket(&id).await.unwrap().len(), N);
    assert_eq!(s.tickets_of_caller("13800000001").await.unwrap().len(), 1);
    let linked = s
        .audit_entries("ticket", &id)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "call_linked")
        .count();
    assert_eq!(linked, N - 1);
}

async fn ticket_numbers_stay_unique_and_gap_free_under_concurrency(s: Store) {
    const N: usize = 40;
    let numbers = concurrently(&s, N, |s, i| async move {
        s.record_call_ended(&ended(&format!("c{i}"), &format!("1390000{i:04}"), T0))
            .await
            .unwrap()
            .ticket
            .number
    })
    .await;
    let got: HashSet<_> = numbers.into_iter().collect();
    let want: HashSet<_> = (1..=N).map(|n| format!("12348-2026-{n:06}")).collect();
    assert_eq!(got, want);
}

async fn concurrent_edits_lose_nothing(s: Store) {
    let link = s
        .record_call_ended(&ended("c1", "13800000001", T0))
        .await
        .unwrap()
        .ticket;
    let id = link.ticket_id;
    // Eight consoles press "start work" at once: exactly one succeeds.
    let results = concurrently(&s, 8, |s, _| {
        let id = id.clone();
        async move {
            s.set_ticket_status(&id, TicketStatus::InProgress, "sup", T0 + MIN)
                .await
        }
    })
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    // Ten notes written at once are all kept, and a red alert set meanwhile too.
    concurrently(&s, 10, |s, i| {
        let id = id.clone();
        async move {
            if i == 5 {
                s.set_red_alert(&id, true, "sup", T0 + 2 * MIN)
                    .await
                    .unwrap();
            }
            s.add_ticket_note(&id, "lawyer", &format!("note {i}"), T0 + 2 * MIN)
                .await
                .unwrap();
        }
    })
    .await;
    let t = s.ticket(&id).await.unwrap().unwrap();
    for i in 0..10 {
        assert!(
            t.notes.contains(&format!("] note {i}\n")),
            "note {i} lost: {}",
            t.notes
        );
    }
    assert!(t.red_alert);
    assert_eq!(t.status, TicketStatus::InProgress);
}

on_both!(
    concurrent_calls_from_one_number_make_one_ticket,
    ticket_numbers_stay_unique_and_gap_free_under_concurrency,
    concurrent_edits_lose_nothing,
);
