//! How fast the store files calls: ticket-creation latency (one call at a time) and sustained
//! write throughput (many calls at once), printed, not asserted.
//!
//! ```sh
//! cargo run --release -p hotline-cases --example store_bench                 # SQLite temp file
//! cargo run --release -p hotline-cases --example store_bench -- postgres://postgres@127.0.0.1:55432/bench
//! cargo run --release -p hotline-cases --example store_bench -- sqlite:///tmp/b.db 5000 16
//! ```
//! Arguments: database URL (default: a fresh SQLite file in the temp dir), calls per phase
//! (default 2000), concurrent callers in the throughput phase (default 8).

use std::time::{Duration, Instant};

use hotline_cases::{CallEnd, CallTicket, Category, Store, SurveyValue, unix_now_ms};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn end(call_id: &str, caller: &str, at: i64, i: usize) -> CallEnd {
    CallEnd {
        call_id: call_id.into(),
        caller: caller.into(),
        arrived_at: at,
        answered_at: Some(at + 10_000),
        ended_at: at + 300_000,
        language: Some("zh".into()),
        category: Some(Category::Consultation),
        region: Some("shicheng".into()),
        lawyer_id: Some("lai-zhiming".into()),
        queue_wait_secs: Some(12),
        overflow_steps: 0,
        disposition: if i.is_multiple_of(10) {
            "callback"
        } else {
            "answered"
        }
        .into(),
        ivr_path: r#"[{"event":"menu_choice","node":"service","key":"1"}]"#.into(),
        recording_path: Some(format!("/data/recordings/{call_id}.wav")),
        message_path: None,
        callback: i.is_multiple_of(10),
        survey: Some(if i.is_multiple_of(7) {
            SurveyValue::Unsatisfied
        } else {
            SurveyValue::Satisfied
        }),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let temp = std::env::temp_dir().join(format!("hotline-store-bench-{}", std::process::id()));
    let url = match args.next() {
        Some(u) => u,
        None => {
            std::fs::create_dir_all(&temp)?;
            format!("sqlite://{}/bench.db", temp.display())
        }
    };
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2000);
    let workers: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(8);
    let store = Store::open(&url).await?;
    let backend = url.split(':').next().unwrap_or("?");
    let run = unix_now_ms();
    println!("store_bench: {backend}, {n} calls per phase, {workers} concurrent callers");

    // Phase 1: one call at a time. Latency of the ticket creation itself (the call's row is
    // written first, as on arrival), then of the whole hangup transaction.
    let mut create = Vec::with_capacity(n);
    let mut hangup = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("{run}-seq-{i}");
        let caller = format!("139{run:08}{i:06}");
        let at = unix_now_ms();
        store.record_call_started(&id, &caller, at).await?;
        let t = Instant::now();
        let link = store
            .ticket_for_call(&CallTicket {
                call_id: &id,
                caller: &caller,
                category: Some(Category::Consultation),
                region: Some("shicheng"),
                lawyer_id: None,
                at,
            })
            .await?;
        create.push(t.elapsed());
        assert!(link.created);
        let t = Instant::now();
        store.record_call_ended(&end(&id, &caller, at, i)).await?;
        hangup.push(t.elapsed());
    }
    create.sort();
    hangup.sort();
    println!(
        "ticket creation (ticket_for_call, new ticket): median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        ms(percentile(&create, 0.5)),
        ms(percentile(&create, 0.95)),
        ms(percentile(&create, 1.0))
    );
    println!(
        "call end (record_call_ended: CDR + ticket + tasks + survey): median {:.2} ms, p95 {:.2} ms",
        ms(percentile(&hangup, 0.5)),
        ms(percentile(&hangup, 0.95))
    );

    // Phase 2: `workers` callers at once, each call = start + end (two write transactions);
    // every fifth call is a repeat caller joining an open ticket.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while i < n {
                let id = format!("{run}-par-{i}");
                let caller = if i.is_multiple_of(5) {
                    format!("137{run:08}{:06}", w)
                } else {
                    format!("138{run:08}{i:06}")
                };
                let at = unix_now_ms();
                store.record_call_started(&id, &caller, at).await?;
                store.record_call_ended(&end(&id, &caller, at, i)).await?;
                i += workers;
            }
            Ok::<_, hotline_cases::StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "sustained: {n} calls in {secs:.2} s = {:.0} calls/s = {:.0} write transactions/s",
        n as f64 / secs,
        2.0 * n as f64 / secs
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&temp);
    Ok(())
}
