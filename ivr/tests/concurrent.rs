//! Several calls at once on one ACD: no phone is ever rung for two calls, the longest-waiting
//! caller goes first, and every lawyer ends free.

mod fake;

use std::sync::Arc;
use std::time::Duration;

use fake::{FakeCall, Ring, Script, World, consultation, secs};
use hotline_ivr::control::TalkOutcome;
use hotline_ivr::{CallContext, Disposition, run_call};

#[tokio::test(start_paused = true)]
async fn two_calls_at_once_never_ring_the_same_lawyer() {
    // 10:00: Lai Zhiming is Shicheng's only duty lawyer
    let w = World::monday(10, 0);
    let ((s1, f1), (s2, f2)) = tokio::join!(
        w.call("one", consultation("0797-5701111")),
        w.call("two", consultation("0797-5702222")),
    );
    let rung: Vec<String> = f1.rings().into_iter().chain(f2.rings()).collect();
    assert_eq!(
        rung.iter().filter(|l| *l == "lai-zhiming").count(),
        1,
        "{rung:?}"
    );
    let (l1, l2) = (s1.lawyer.clone().unwrap(), s2.lawyer.clone().unwrap());
    assert_ne!(l1, l2);
    // the one who lost the race waited the county's max_wait, then Ganzhou took it
    let loser = if l1.as_str() == "lai-zhiming" {
        &s2
    } else {
        &s1
    };
    assert!(loser.waited_secs.unwrap() >= 60);
    w.assert_settled();
}

/// A tiny deterministic generator, so the mixed-traffic test is the same every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const CALLERS: [&str; 6] = [
    "0797-5701234", // Shicheng
    "0797-8123456", // Ganzhou
    "0357-6212345", // Quwo
    "0854-7212345", // Pingtang
    "13879701234",  // Ganzhou mobile
    "020-83001234", // Yuexiu
];

fn mixed_script(rng: &mut Lcg) -> Script {
    let mut s = Script::new(CALLERS[rng.next(CALLERS.len() as u64) as usize])
        .press("choose-language", "1")
        .press(
            "service-menu",
            ["1", "2", "3", "4", "0"][rng.next(5) as usize],
        )
        .press("survey", "2")
        .talk(
            20 + rng.next(200),
            if rng.next(2) == 0 {
                TalkOutcome::CallerHungUp
            } else {
                TalkOutcome::LawyerHungUp
            },
        );
    // a few phones misbehave for this caller
    for l in [
        "lai-zhiming",
        "zeng-guoping",
        "wang-jianjun",
        "liu-fang",
        "chen-jing",
    ] {
        s = match rng.next(6) {
            0 => s.ring(l, Ring::NoAnswer),
            1 => s.ring(l, Ring::Reject(486)),
            2 => s.ring(l, Ring::CallerHangsUp(secs(4))),
            _ => s,
        };
    }
    s
}

#[tokio::test(start_paused = true)]
async fn mixed_traffic_keeps_every_phone_on_one_call() {
    let w = World::monday(9, 0);
    let mut rng = Lcg(12348);
    let calls: Vec<(u64, Script)> = (0..24)
        .map(|_| (rng.next(300), mixed_script(&mut rng)))
        .collect();
    let runs = calls.into_iter().enumerate().map(|(i, (delay, script))| {
        let w = &w;
        async move {
            tokio::time::sleep(secs(delay)).await;
            w.call(&format!("call-{i}"), script).await
        }
    });
    let results = futures_join_all(runs.collect()).await;
    assert_eq!(results.len(), 24);
    let answered = results
        .iter()
        .filter(|(s, _)| s.disposition == Disposition::Answered)
        .count();
    assert!(answered >= 12, "only {answered} of 24 answered");
    w.assert_settled();
}

/// `join_all` without the futures crate: polls every future in one task.
async fn futures_join_all<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut futs: Vec<_> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in futs.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *o = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

/// The same race on real threads and real (sped-up) time: calls spawned on a multi-thread
/// runtime, so the ACD's lock is what keeps them apart.
#[test]
fn calls_on_many_threads_never_share_a_phone() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut plan = fake::plan();
        // scale the waiting times down 100-fold, like the fake's durations
        let wt = &mut plan.flow.waiting;
        wt.max_wait = Duration::from_millis(600);
        wt.ring_timeout = Duration::from_millis(200);
        wt.after_call_work = Duration::from_millis(100);
        wt.announce_every = Some(Duration::from_millis(300));
        let at = fake::beijing(&plan, 3, 9, 10, 0);
        let w = Arc::new(World::new(plan, at));
        let mut tasks = Vec::new();
        for i in 0..16 {
            let w = w.clone();
            tasks.push(tokio::spawn(async move {
                let script = consultation(["0797-5701234", "0797-8123456"][i % 2])
                    .talk(30, TalkOutcome::LawyerHungUp)
                    .press("survey", "1");
                let id = format!("t{i}");
                let mut fake = FakeCall::new(&id, script, &w.plan, w.phones.clone()).scaled(0.01);
                let mut ctx = CallContext::new(id, w.now(), w.clock.clone());
                ctx.poll = Duration::from_millis(10);
                run_call(&w.plan, &ctx, &mut fake, &w.acd, &*w.sink).await
            }));
        }
        for t in tasks {
            let s = t.await.unwrap();
            assert_ne!(s.disposition, Disposition::Abandoned);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        w.assert_settled();
    });
}
