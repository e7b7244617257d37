//! The job worker: claims due jobs from the store (safe with several
//! replicas), runs them, retries failures with exponential backoff, and
//! leaves jobs that keep failing as `dead`, visible through the API.

use std::time::Duration;

use crate::job::{Attempt, Job};
use frontdesk_store::now_ms;

use crate::Engine;

/// Sources other than articles re-sync automatically this often (B5).
pub const RESYNC_EVERY_MS: i64 = 7 * 24 * 3_600_000;

/// Delay before retry number `attempt` (1-based): 2 s, 4 s, 8 s… capped at 10 min.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exp = attempt.clamp(1, 20) as u32;
    (1000i64 << exp).min(600_000)
}

/// Runs one claimed job. Rows that do not decode (an unknown kind, a payload
/// without its fields) fail, and so end up dead, visibly.
pub async fn run_job(state: &Engine, row: &frontdesk_store::Job) -> anyhow::Result<()> {
    let job = Job::decode(&row.kind, &row.payload)?;
    run(state, job, Attempt::of(row)).await
}

/// Runs one job: the one place every kind is dispatched.
pub async fn run(state: &Engine, job: Job, attempt: Attempt) -> anyhow::Result<()> {
    match job {
        Job::CloseInactive => {
            // Each channel after its own period (C2, C3), else the agent's default.
            let profile = state.store.agent_profile().await?;
            let mut closed = 0;
            for s in state.store.messaging_settings().await? {
                let minutes = s.close_after_minutes.unwrap_or(profile.inactivity_close_minutes);
                closed += state.store.close_inactive_on(s.channel, now_ms() - minutes * 60_000).await?.len();
            }
            if closed > 0 {
                tracing::info!(count = closed, "closed inactive conversations");
            }
            Ok(())
        }
        Job::ResyncDue => {
            let cutoff = now_ms() - RESYNC_EVERY_MS;
            for s in state.store.list_sources(None).await? {
                let due = s.kind != frontdesk_store::source_kind::ARTICLE
                    && s.status != frontdesk_store::source_status::SYNCING
                    && s.last_synced_at.is_some_and(|t| t < cutoff);
                if due {
                    crate::ingest::resync(state, s.id).await?;
                }
            }
            Ok(())
        }
        Job::EmbedChunks => {
            let (_, more) = crate::ingest::embed_pending(state, std::time::Duration::from_secs(30)).await?;
            if more {
                // The running job holds the dedupe key: continue in a fresh one.
                state.store.enqueue_job(Job::EmbedChunks.to_new(now_ms(), 5, None)).await?;
            }
            Ok(())
        }
        Job::SyncSource { source_id } => crate::ingest::sync_source(state, source_id).await,
        Job::CrawlSource { source_id } => crate::crawler::crawl(state, source_id).await,
        Job::Deliver { delivery_id } => crate::channels::run_delivery(state, delivery_id, attempt).await,
        Job::Reports => crate::reports::evaluate_due(state, now_ms()).await.map(|_| ()),
        Job::GroupGaps => frontdesk_agent::gaps::group_pending(&state.agent).await.map(|_| ()),
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Claims and runs due jobs until none is left, up to `worker_concurrency`
/// at once (a burst of replies to deliver goes out in parallel). Returns how
/// many ran.
pub async fn drain(state: &Engine, worker: &str) -> anyhow::Result<usize> {
    let limit = state.settings.worker_concurrency.max(1);
    let lease = state.settings.job_lease_ms.max(100);
    let mut running = tokio::task::JoinSet::new();
    let mut n = 0;
    let mut first_error = None;
    loop {
        while running.len() >= limit {
            if let Some(Ok(Err(e))) = running.join_next().await {
                first_error.get_or_insert(e);
            }
        }
        let Some(job) = state.store.claim_job(worker, now_ms(), lease).await? else { break };
        n += 1;
        let (state, worker) = (state.clone(), worker.to_owned());
        running.spawn(async move { run_claimed(&state, &worker, job, lease).await });
    }
    while let Some(r) = running.join_next().await {
        if let Ok(Err(e)) = r {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(n),
    }
}

/// Runs one claimed job, renewing its lease meanwhile, and records the outcome.
async fn run_claimed(state: &Engine, worker: &str, job: frontdesk_store::Job, lease: i64) -> anyhow::Result<()> {
    // Heartbeat: renew the lease while the job runs (and stop with it,
    // even when this future is dropped mid-job).
    let _beat = {
        let (state, worker, id) = (state.clone(), worker.to_owned(), job.id);
        AbortOnDrop(tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis((lease / 3) as u64)).await;
                if !matches!(state.store.touch_job(id, &worker, now_ms()).await, Ok(true)) {
                    break;
                }
            }
        }))
    };
    match run_job(state, &job).await {
        Ok(()) => {
            state.store.complete_job(job.id).await?;
            state.metrics.jobs_run.with_label_values(&[&job.kind, "ok"]).inc();
        }
        Err(e) => {
            tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed");
            state.store.fail_job(job.id, &format!("{e:#}"), now_ms() + backoff_ms(job.attempts)).await?;
            state.metrics.jobs_run.with_label_values(&[&job.kind, "error"]).inc();
        }
    }
    Ok(())
}

/// Asks the worker to group new questions now.
pub async fn group_gaps_soon(state: &Engine) {
    let job = Job::GroupGaps.periodic(now_ms());
    match state.store.enqueue_job(job).await {
        Ok(_) => state.wake_worker.notify_one(),
        Err(e) => tracing::warn!(error = %e, "could not enqueue the grouping of knowledge gaps"),
    }
}

/// Schedules the periodic jobs (idempotent: a dedupe key keeps one queued).
pub async fn schedule_periodic(state: &Engine) -> anyhow::Result<()> {
    // The inactivity sweep, the weekly re-syncs, the rollup and the 72-hour
    // resolution verdicts (G6), and any knowledge gap left ungrouped (a crash
    // between recording and grouping).
    for job in [Job::CloseInactive, Job::ResyncDue, Job::Reports, Job::GroupGaps] {
        state.store.enqueue_job(job.periodic(now_ms())).await?;
    }
    Ok(())
}

/// The worker loop of `serve`.
pub async fn worker_loop(state: Engine, worker: String) {
    let poll = Duration::from_millis(state.settings.worker_poll_ms.max(10));
    let sweep_every = Duration::from_secs(state.settings.sweep_interval_secs.max(1));
    let mut last_sweep: Option<tokio::time::Instant> = None;
    loop {
        if last_sweep.is_none_or(|t| t.elapsed() >= sweep_every) {
            if let Err(e) = schedule_periodic(&state).await {
                tracing::warn!(error = %e, "could not schedule periodic jobs");
            }
            last_sweep = Some(tokio::time::Instant::now());
        }
        if let Err(e) = drain(&state, &worker).await {
            tracing::warn!(error = %e, "job worker error");
        }
        // A reply to deliver wakes the worker at once; otherwise it polls
        // (jobs of other replicas, retries coming due).
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = state.wake_worker.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_ms(1), 2000);
        assert_eq!(backoff_ms(2), 4000);
        assert_eq!(backoff_ms(30), 600_000);
    }
}
