//! `hotline serve`: binds SIP and HTTP, runs the call handler, and shuts down cleanly on
//! Ctrl-C or SIGTERM (calls in progress get a BYE first).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hotline_cases::Store;
use hotline_console::LiveStats;
use hotline_sip::driver::{Command, SipDriver};
use hotline_sip::media::MediaStats;
use std::sync::atomic::Ordering;
use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::{info, warn};

use crate::calls::CallHandler;
use crate::config::Config;
use crate::console_bridge::ConsoleBridge;

pub async fn run(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    let store = Store::open(&config.database_url)
        .await
        .with_context(|| format!("opening the store ({})", redact(&config.database_url)))?;
    // The node's name marks its calls, so a restart only cuts off its own calls.
    let store = store.with_node(config.node.clone());
    match store.mark_cut_off_calls(hotline_cases::unix_now_ms()).await {
        Ok(cut) if !cut.is_empty() => warn!(
            calls = cut.len(),
            "calls cut off by the last stop are marked and filed"
        ),
        Ok(_) => {}
        Err(e) => warn!(error = %e, "could not mark calls cut off by the last stop"),
    }

    tokio::spawn(crate::transcribe_workers::spawn(
        store.clone(),
        crate::transcribe_workers::WorkerConfig {
            model: config.model.clone(),
            workers: config.transcribe_workers,
            threads: config.transcribe_threads,
            quality: config.quality.clone(),
            node: config.node.clone(),
        },
    ));

    let user_agent = format!("hotline/{}", env!("CARGO_PKG_VERSION"));
    let (driver, sip) = SipDriver::bind(config.sip_listen, &user_agent).await?;
    let sip_addr = driver.local_addr()?;
    let (events_tx, events) = mpsc::unbounded_channel();
    let sip_task = tokio::spawn(driver.run(events_tx));

    let stats = Arc::new(LiveStats::default());
    let media_stats = Arc::new(MediaStats::default());
    let (live, _) = broadcast::channel(hotline_console::LIVE_BUFFER);
    let handler = CallHandler::new(
        &config,
        sip_addr,
        sip.clone(),
        store.clone(),
        stats.clone(),
        media_stats.clone(),
        live.clone(),
    )?;
    let qa = hotline_console::QaForm::load_if_present(&config.dialplans)
        .map_err(|e| anyhow::anyhow!("the QA form is broken: {e}"))?;
    if qa.questions.is_empty() {
        warn!(dir = %config.dialplans.display(), "no qa.toml in the dialplan directory: QA evaluations are off");
    }
    let console = hotline_console::AppState::new(
        store.clone(),
        Arc::new(ConsoleBridge::new(handler.flow(), live)),
        stats.clone(),
        hotline_console::ConsoleSettings {
            cookie_secure: config.cookie_secure,
        },
        qa,
    );
    first_start_hint(&store, &config).await;
    tokio::spawn(purge_sessions(store.clone()));
    tokio::spawn(sla_sweep(store.clone()));
    tokio::spawn(publish_media_stats(media_stats, stats.clone()));
    tokio::spawn(crate::memory::return_memory_after_bursts(stats.clone()));
    let handler_task = tokio::spawn(handler.run(events));

    let http = tokio::net::TcpListener::bind(config.http_listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.http_listen))?;
    let (http_stop, http_stopped) = oneshot::channel::<()>();
    let http_task = tokio::spawn(
        axum::serve(http, hotline_console::router(console))
            .with_graceful_shutdown(async {
                let _ = http_stopped.await;
            })
            .into_future(),
    );
    info!(sip = %sip_addr, http = %config.http_listen, dialplans = %config.dialplans.display(), "hotline ready");

    shutdown_signal().await;
    info!("shutdown requested");
    let (done_tx, done) = oneshot::channel();
    sip.send(Command::Shutdown(Duration::from_secs(5), done_tx))?;
    let _ = tokio::time::timeout(Duration::from_secs(6), done).await;
    let _ = sip_task.await;
    let _ = handler_task.await;
    let _ = http_stop.send(());
    let _ = http_task.await;
    store.close().await;
    info!("hotline stopped");
    Ok(())
}

/// On a store without console users, tells the operator how to create the first admin (there
/// is no default password).
async fn first_start_hint(store: &Store, config: &Config) {
    match store.user_count().await {
        Ok(0) => warn!(
            "no console users yet: create the first admin with `hotline user add admin --role admin --password-stdin --data-dir {} --database-url '{}' --dialplans {}` (type the password, then Ctrl-D), then log in at http://{}/",
            config.data_dir.display(),
            redact(&config.database_url),
            config.dialplans.display(),
            config.http_listen
        ),
        Ok(_) => {}
        Err(e) => warn!(error = %e, "could not count console users"),
    }
}

/// Flags missed SLA deadlines (review, assignment, return visit) once a minute, for the
/// wallboard and the tickets; each breach is flagged and logged once, whichever node runs it.
async fn sla_sweep(store: Store) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        match store.sla_breaches(hotline_cases::unix_now_ms()).await {
            Ok(report) => {
                for b in &report.newly_flagged {
                    warn!(ticket = %b.number, kind = %b.kind, "SLA deadline missed");
                }
            }
            Err(e) => warn!(error = %e, "SLA sweep failed"),
        }
    }
}

/// Deletes expired console sessions once an hour.
async fn purge_sessions(store: Store) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        if let Err(e) = store
            .purge_expired_sessions(hotline_cases::unix_now_ms())
            .await
        {
            warn!(error = %e, "could not purge expired console sessions");
        }
    }
}

/// Copies the media thread's figures into the console's live numbers once a second.
async fn publish_media_stats(media: Arc<MediaStats>, live: Arc<LiveStats>) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        every.tick().await;
        live.media_legs
            .store(media.legs.load(Ordering::Relaxed), Ordering::Relaxed);
        let us = |p| media.lateness_percentile(p).as_micros() as usize;
        live.send_jitter_p50_us.store(us(50.0), Ordering::Relaxed);
        live.send_jitter_p99_us.store(us(99.0), Ordering::Relaxed);
        let count = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed) as usize;
        live.media_overruns
            .store(count(&media.overruns), Ordering::Relaxed);
        live.media_resyncs
            .store(count(&media.resyncs), Ordering::Relaxed);
        live.media_skipped_ms
            .store(count(&media.skipped_ms), Ordering::Relaxed);
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Hides a password in a database URL before it is logged.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}
