//! The job worker: claims due jobs from the store (safe with several
//! replicas), runs them, retries failures with exponential backoff, and
//! leaves jobs that keep failing as `dead`, visible through the API.

use std::time::Duration;

use crate::job::{Attempt, Job, Lane, SLOW_KINDS};
use frontdesk_store::{now_ms, KindFilter};

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

/// A job stopped because it ran longer than its lane allows. Its future is
/// dropped (work on a blocking thread, which cannot be cancelled, runs on to
/// its end but its result is discarded); the job is retried with backoff, or
/// dead after its attempts, with this as its error.
#[derive(Debug, thiserror::Error)]
#[error("stopped after running longer than the {lane} lane's limit of {secs} s (setting `{setting}`)")]
pub struct Overran {
    pub lane: &'static str,
    pub secs: u64,
    pub setting: &'static str,
}

/// One lane's budget: how many of its jobs run at once and for how long each may.
#[derive(Debug, Clone, Copy)]
pub struct LaneLimits {
    pub concurrency: usize,
    pub time_limit: Duration,
    /// The setting that sets `time_limit`, named in the error of a job that overruns.
    pub time_setting: &'static str,
}

impl LaneLimits {
    pub fn of(settings: &crate::config::Settings, lane: Lane) -> LaneLimits {
        match lane {
            Lane::Fast => LaneLimits {
                concurrency: settings.worker_concurrency.max(1),
                time_limit: Duration::from_secs(settings.job_timeout_fast_secs.max(1)),
                time_setting: "job_timeout_fast_secs",
            },
            Lane::Slow => LaneLimits {
                concurrency: settings.worker_slow_concurrency.max(1),
                time_limit: Duration::from_secs(settings.job_timeout_slow_secs.max(1)),
                time_setting: "job_timeout_slow_secs",
            },
        }
    }

    fn filter(lane: Lane) -> KindFilter<'static> {
        match lane {
            Lane::Slow => KindFilter::Only(&SLOW_KINDS),
            Lane::Fast => KindFilter::Except(&SLOW_KINDS),
        }
    }
}

struct LaneSlots {
    lane: Lane,
    limits: LaneLimits,
    running: tokio::task::JoinSet<anyhow::Result<()>>,
}

/// The jobs one process is running, by lane. Each lane claims a job as soon
/// as one of its slots is free (no waiting for a batch), and only kinds of
/// its own lane: the fast lane's deliveries never wait behind the slow
/// lane's syncs.
pub struct Worker {
    state: Engine,
    name: String,
    lease: i64,
    lanes: Vec<LaneSlots>,
}

impl Worker {
    pub fn new(state: &Engine, name: &str) -> Worker {
        let lanes = Lane::ALL
            .iter()
            .map(|&lane| LaneSlots {
                lane,
                limits: LaneLimits::of(&state.settings, lane),
                running: tokio::task::JoinSet::new(),
            })
            .collect();
        Worker { state: state.clone(), name: name.to_owned(), lease: state.settings.job_lease_ms.max(100), lanes }
    }

    /// Jobs running now.
    pub fn running(&self) -> usize {
        self.lanes.iter().map(|l| l.running.len()).sum()
    }

    /// Claims due jobs into every free slot of every lane and starts them.
    /// Returns how many it started.
    pub async fn fill(&mut self) -> anyhow::Result<usize> {
        let mut n = 0;
        for slots in &mut self.lanes {
            while slots.running.len() < slots.limits.concurrency {
                let filter = LaneLimits::filter(slots.lane);
                let Some(job) = self.state.store.claim_job_of(&self.name, now_ms(), self.lease, filter).await? else {
                    break;
                };
                n += 1;
                let (state, worker, lease, lane, limits) =
                    (self.state.clone(), self.name.clone(), self.lease, slots.lane, slots.limits);
                slots.running.spawn(async move { run_claimed(&state, &worker, job, lease, lane, limits).await });
            }
        }
        Ok(n)
    }

    /// Waits for any running job to finish and returns its outcome; `None`
    /// when nothing runs.
    pub async fn next_done(&mut self) -> Option<anyhow::Result<()>> {
        let waits: Vec<_> = self
            .lanes
            .iter_mut()
            .filter(|l| !l.running.is_empty())
            .map(|l| Box::pin(async move { l.running.join_next().await }))
            .collect();
        if waits.is_empty() {
            return None;
        }
        let (done, _, _) = futures::future::select_all(waits).await;
        match done {
            Some(Ok(r)) => Some(r),
            Some(Err(e)) if e.is_panic() => Some(Err(anyhow::anyhow!("a job panicked: {e}"))),
            _ => Some(Ok(())),
        }
    }

    /// Stops: running jobs get `grace` to finish; those still running then
    /// are stopped and handed back to the queue at once (their claim
    /// released, the attempt not counted), so the next process or another
    /// replica runs them without waiting for their lease to expire.
    pub async fn shut_down(mut self, grace: Duration) -> anyhow::Result<u64> {
        let running = self.running();
        if running > 0 {
            tracing::info!(running, grace_secs = grace.as_secs_f32(), "waiting for running jobs to finish");
        }
        let _ = tokio::time::timeout(grace, async {
            while let Some(r) = self.next_done().await {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "job worker error");
                }
            }
        })
        .await;
        for slots in &mut self.lanes {
            slots.running.shutdown().await;
        }
        let handed_back = self.state.store.release_jobs(&self.name, now_ms()).await?;
        if handed_back > 0 {
            tracing::info!(jobs = handed_back, "handed back the jobs still running to the queue");
        }
        Ok(handed_back)
    }
}

/// Claims and runs due jobs until none is left, each lane up to its
/// concurrency. Returns how many ran.
pub async fn drain(state: &Engine, worker: &str) -> anyhow::Result<usize> {
    let mut w = Worker::new(state, worker);
    let mut n = 0;
    let mut first_error = None;
    loop {
        n += w.fill().await?;
        match w.next_done().await {
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Some(Ok(())) => {}
            None => break,
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(n),
    }
}

/// Runs one claimed job within its lane's time limit, renewing its lease
/// meanwhile, and records the outcome.
async fn run_claimed(
    state: &Engine,
    worker: &str,
    job: frontdesk_store::Job,
    lease: i64,
    lane: Lane,
    limits: LaneLimits,
) -> anyhow::Result<()> {
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
    let outcome = match tokio::time::timeout(limits.time_limit, run_job(state, &job)).await {
        Ok(r) => r.map_err(|e| (e, "error")),
        Err(_) => {
            let overran =
                Overran { lane: lane.name(), secs: limits.time_limit.as_secs(), setting: limits.time_setting };
            on_overrun(state, &job, &overran).await;
            Err((anyhow::Error::new(overran), "timeout"))
        }
    };
    match outcome {
        Ok(()) => {
            state.store.complete_job(job.id).await?;
            state.metrics.jobs_run.with_label_values(&[&job.kind, "ok"]).inc();
        }
        Err((e, label)) => {
            tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed");
            state.store.fail_job(job.id, &format!("{e:#}"), now_ms() + backoff_ms(job.attempts)).await?;
            state.metrics.jobs_run.with_label_values(&[&job.kind, label]).inc();
        }
    }
    Ok(())
}

/// A sync or crawl stopped on its last attempt leaves its source in error,
/// naming the limit, rather than "syncing" for ever.
async fn on_overrun(state: &Engine, row: &frontdesk_store::Job, overran: &Overran) {
    if row.attempts < row.max_attempts {
        return;
    }
    if let Ok(Job::SyncSource { source_id } | Job::CrawlSource { source_id }) = Job::decode(&row.kind, &row.payload) {
        let message = format!("the sync {overran}");
        let status = frontdesk_store::source_status::ERROR;
        if let Err(e) = state.store.set_source_status(source_id, status, Some(&message)).await {
            tracing::warn!(source_id, error = %e, "could not record a stopped sync on its source");
        }
    }
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

/// The worker loop of `serve`: runs jobs as slots free up, until the
/// shutdown begins; then gives running jobs `shutdown_grace_secs` and hands
/// back the rest.
pub async fn worker_loop(state: Engine, worker: String) {
    let poll = Duration::from_millis(state.settings.worker_poll_ms.max(10));
    let sweep_every = Duration::from_secs(state.settings.sweep_interval_secs.max(1));
    let mut last_sweep: Option<tokio::time::Instant> = None;
    let mut w = Worker::new(&state, &worker);
    let stop = state.shutting_down();
    tokio::pin!(stop);
    while !state.is_shutting_down() {
        if last_sweep.is_none_or(|t| t.elapsed() >= sweep_every) {
            if let Err(e) = schedule_periodic(&state).await {
                tracing::warn!(error = %e, "could not schedule periodic jobs");
            }
            last_sweep = Some(tokio::time::Instant::now());
        }
        if let Err(e) = w.fill().await {
            tracing::warn!(error = %e, "job worker error");
        }
        // A finished job frees a slot; a reply to deliver wakes the worker at
        // once; otherwise it polls (jobs of other replicas, retries coming due).
        let busy = w.running() > 0;
        tokio::select! {
            _ = &mut stop => break,
            Some(r) = w.next_done(), if busy => {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "job worker error");
                }
            }
            _ = tokio::time::sleep(poll) => {}
            _ = state.wake_worker.notified() => {}
        }
    }
    let grace = Duration::from_secs(state.settings.shutdown_grace_secs);
    if let Err(e) = w.shut_down(grace).await {
        tracing::warn!(error = %e, "could not hand back the running jobs; they are taken over when their lease expires");
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
