//! Transcription jobs: queue, atomic claims across workers, retries, abandoned jobs, the
//! stored dialogue and the red alerts a risk keyword raises.

use std::collections::HashSet;

use super::{MIN, T0, ended, on_both};
use crate::{
    NewTranscript, NewTranscriptAlert, Speaker, Store, TRANSCRIPTION_LEASE_MS,
    TRANSCRIPTION_MAX_ATTEMPTS, TranscriptSegment, TranscriptionStatus,
};

fn segment(start_ms: i64, speaker: Speaker, text: &str, redacted: &str) -> TranscriptSegment {
    TranscriptSegment {
        start_ms,
        end_ms: start_ms + 1_500,
        speaker,
        text: text.into(),
        redacted_text: redacted.into(),
    }
}

async fn jobs_are_queued_once_claimed_in_order_and_stored(s: Store) {
    let a = s
        .enqueue_transcription("c1", "/rec/c1.wav", Some("zh"), T0)
        .await
        .unwrap();
    let again = s
        .enqueue_transcription("c1", "/rec/c1.wav", Some("zh"), T0 + 5)
        .await
        .unwrap();
    assert_eq!(a, again, "a retried call end queues nothing new");
    s.enqueue_transcription("c2", "/rec/c2.wav", None, T0 + 1)
        .await
        .unwrap();
    let t = s.transcript_of_call("c1").await.unwrap().unwrap();
    assert_eq!(t.status, TranscriptionStatus::Queued);
    assert_eq!(t.language.as_deref(), Some("zh"));
    assert!(t.segments.is_empty());
    assert_eq!(s.transcript_of_call("nope").await.unwrap(), None);

    let j1 = s
        .claim_transcription_job("n#0", T0 + 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((j1.id.as_str(), j1.call_id.as_str()), (a.as_str(), "c1"));
    assert_eq!(
        (j1.recording_path.as_str(), j1.attempts),
        ("/rec/c1.wav", 1)
    );
    assert_eq!(j1.language.as_deref(), Some("zh"));
    let j2 = s
        .claim_transcription_job("n#1", T0 + 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((j2.call_id.as_str(), j2.language), ("c2", None));
    assert_eq!(
        s.claim_transcription_job("n#0", T0 + 11).await.unwrap(),
        None
    );
    let running = s.transcript_of_call("c1").await.unwrap().unwrap();
    assert_eq!(running.status, TranscriptionStatus::Running);

    let transcript = NewTranscript {
        language: Some("zh".into()),
        segments: vec![
            segment(0, Speaker::Lawyer, "您好，12348", "您好，12348"),
            segment(
                2_000,
                Speaker::Caller,
                "我的身份证号是110101199003078515",
                "我的身份证号是******************",
            ),
        ],
        alerts: vec![],
    };
    s.finish_transcription(&j1.id, "n#0", &transcript, T0 + MIN)
        .await
        .unwrap();
    let t = s.transcript_of_call("c1").await.unwrap().unwrap();
    assert_eq!(t.status, TranscriptionStatus::Done);
    assert_eq!(t.finished_at, Some(T0 + MIN));
    assert_eq!(t.segments, transcript.segments);
    assert_eq!(t.segments[1].speaker.as_str(), "caller");
    assert!(s.open_transcript_alerts(0).await.unwrap().is_empty());
}

async fn failures_retry_a_bounded_number_of_times(s: Store) {
    let id = s
        .enqueue_transcription("c1", "/rec/c1.wav", None, T0)
        .await
        .unwrap();
    for attempt in 1..=TRANSCRIPTION_MAX_ATTEMPTS {
        let j = s
            .claim_transcription_job("w#0", T0 + attempt)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((j.id.as_str(), j.attempts), (id.as_str(), attempt));
        let status = s
            .fail_transcription(&j.id, "w#0", "cannot read WAV", T0 + attempt)
            .await
            .unwrap();
        let expected = if attempt < TRANSCRIPTION_MAX_ATTEMPTS {
            TranscriptionStatus::Queued
        } else {
            TranscriptionStatus::Failed
        };
        assert_eq!(status, expected);
    }
    assert_eq!(
        s.claim_transcription_job("w#0", T0 + 10).await.unwrap(),
        None
    );
    let t = s.transcript_of_call("c1").await.unwrap().unwrap();
    assert_eq!(t.status, TranscriptionStatus::Failed);
    assert_eq!(t.error.as_deref(), Some("cannot read WAV"));
    assert!(s.fail_transcription("nope", "w#0", "x", T0).await.is_err());
}

async fn abandoned_jobs_are_queued_again(s: Store) {
    s.enqueue_transcription("c1", "/rec/c1.wav", None, T0)
        .await
        .unwrap();
    s.enqueue_transcription("c2", "/rec/c2.wav", None, T0 + 1)
        .await
        .unwrap();
    let dead = s
        .claim_transcription_job("node-a#0", T0)
        .await
        .unwrap()
        .unwrap();
    let live = s
        .claim_transcription_job("node-b#0", T0)
        .await
        .unwrap()
        .unwrap();
    // Before the lease ends nothing moves; a renewed lease keeps its job.
    assert_eq!(
        s.requeue_abandoned_transcriptions(T0 + MIN).await.unwrap(),
        0
    );
    assert!(
        s.renew_transcription_lease(&live.id, "node-b#0", T0 + 4 * MIN)
            .await
            .unwrap()
    );
    let later = T0 + TRANSCRIPTION_LEASE_MS + 1;
    assert_eq!(s.requeue_abandoned_transcriptions(later).await.unwrap(), 1);
    let retried = s
        .claim_transcription_job("node-c#0", later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (retried.id.as_str(), retried.attempts),
        (dead.id.as_str(), 2)
    );
    // node-a comes back to life: it no longer holds the job and nothing it says counts
    let empty = NewTranscript {
        language: None,
        segments: vec![],
        alerts: vec![],
    };
    assert!(
        !s.renew_transcription_lease(&dead.id, "node-a#0", later)
            .await
            .unwrap()
    );
    assert!(
        s.finish_transcription(&dead.id, "node-a#0", &empty, later)
            .await
            .is_err()
    );
    assert!(
        s.fail_transcription(&dead.id, "node-a#0", "late", later)
            .await
            .is_err()
    );
    let t = s.transcript_of_call(&dead.call_id).await.unwrap().unwrap();
    assert_eq!(t.status, TranscriptionStatus::Running, "still node-c's");
    // a node whose name is another's with `_` for `-` (a LIKE wildcard) leaves it alone
    assert_eq!(
        s.requeue_worker_transcriptions("node_c#", later)
            .await
            .unwrap(),
        0
    );
    // node-b restarts: its running job is queued again at once, whatever its lease says.
    assert_eq!(
        s.requeue_worker_transcriptions("node-b#", later)
            .await
            .unwrap(),
        1
    );
    let t = s.transcript_of_call(&live.call_id).await.unwrap().unwrap();
    assert_eq!(t.status, TranscriptionStatus::Queued);
    assert_eq!(
        s.requeue_worker_transcriptions("node-b#", later)
            .await
            .unwrap(),
        0
    );
}

async fn two_workers_never_take_the_same_job(s: Store) {
    const JOBS: usize = 12;
    for i in 0..JOBS {
        s.enqueue_transcription(&format!("c{i}"), "/rec/x.wav", None, T0 + i as i64)
            .await
            .unwrap();
    }
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(j) = s
                    .claim_transcription_job(&format!("n#{w}"), T0)
                    .await
                    .unwrap()
                {
                    got.push(j.id);
                }
                got
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    assert_eq!(all.len(), JOBS, "every job claimed exactly once: {all:?}");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), JOBS);
}

async fn risk_keyword_puts_the_ticket_on_red_alert(s: Store) {
    let filed = s
        .record_call_ended(&ended("c1", "13800000001", T0))
        .await
        .unwrap();
    let ticket_id = filed.ticket.ticket_id;
    assert!(!s.ticket(&ticket_id).await.unwrap().unwrap().red_alert);
    let job = s
        .enqueue_transcription("c1", "/rec/c1.wav", Some("zh"), T0 + MIN)
        .await
        .unwrap();
    s.claim_transcription_job("w#0", T0 + MIN)
        .await
        .unwrap()
        .unwrap();
    let alert = NewTranscriptAlert {
        keyword: "跳楼".into(),
        speaker: Speaker::Caller,
        offset_ms: 4_000,
        excerpt: "我不想活了要跳楼".into(),
    };
    let transcript = NewTranscript {
        language: Some("zh".into()),
        segments: vec![segment(
            4_000,
            Speaker::Caller,
            "我不想活了要跳楼",
            "我不想活了要跳楼",
        )],
        alerts: vec![alert],
    };
    s.finish_transcription(&job, "w#0", &transcript, T0 + 2 * MIN)
        .await
        .unwrap();
    assert!(s.ticket(&ticket_id).await.unwrap().unwrap().red_alert);
    let alerts = s.open_transcript_alerts(T0).await.unwrap();
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(
        (a.keyword.as_str(), a.speaker, a.call_id.as_str()),
        ("跳楼", Speaker::Caller, "c1")
    );
    assert_eq!(
        (a.ticket_id.as_deref(), a.at, a.offset_ms),
        (Some(ticket_id.as_str()), T0 + 2 * MIN, 4_000)
    );
    assert!(
        s.open_transcript_alerts(T0 + 3 * MIN)
            .await
            .unwrap()
            .is_empty()
    );
    let audit = s.audit_entries("ticket", &ticket_id).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "red_alert" && e.detail.contains("跳楼")),
        "{audit:?}"
    );
    s.acknowledge_transcript_alert(&a.id, "supervisor1", T0 + 3 * MIN)
        .await
        .unwrap();
    assert!(s.open_transcript_alerts(T0).await.unwrap().is_empty());
    assert!(
        s.acknowledge_transcript_alert(&a.id, "supervisor1", T0 + 3 * MIN)
            .await
            .is_err()
    );
}

on_both!(
    jobs_are_queued_once_claimed_in_order_and_stored,
    failures_retry_a_bounded_number_of_times,
    abandoned_jobs_are_queued_again,
    two_workers_never_take_the_same_job,
    risk_keyword_puts_the_ticket_on_red_alert,
);
