//! The job kinds: one typed enum used both to enqueue and to dispatch.
//!
//! A job row keeps its kind and its payload in two columns (`kind`, a string,
//! and `payload`, JSON), as before the enum existed, so rows written by older
//! versions — and the `deliver` rows the store writes itself in a reply's
//! transaction — decode unchanged: the enum is serde-tagged by `kind`, and the
//! remaining fields are the payload.

use frontdesk_store::NewJob;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Close open conversations idle longer than their channel's period.
    CloseInactive,
    /// Enqueue a re-sync of every source whose last sync is older than a week.
    ResyncDue,
    /// Embed the chunks that have no vector yet (a bounded batch, then a fresh job).
    EmbedChunks,
    /// Extract, chunk and index one source.
    SyncSource { source_id: i64 },
    /// Crawl one web source (bounded batches, then a fresh job).
    CrawlSource { source_id: i64 },
    /// Send one outbound message to its channel (written by the store, in
    /// the reply's own transaction: the outbox).
    Deliver { delivery_id: i64 },
    /// Refresh the report rollup and record the resolution verdicts that are due.
    Reports,
    /// Group new unanswered questions into knowledge gaps.
    GroupGaps,
}

/// Which attempt of a job is running (1-based) out of how many: work that
/// gives up differently on its last attempt (a delivery) reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub number: i64,
    pub max: i64,
}

impl Attempt {
    pub fn of(row: &frontdesk_store::Job) -> Attempt {
        Attempt { number: row.attempts, max: row.max_attempts }
    }
    pub fn is_last(&self) -> bool {
        self.number >= self.max
    }
}

/// A job row that does not decode: an unknown kind or a payload without the
/// fields its kind needs. The worker fails it (it ends `dead`, visibly).
#[derive(Debug, thiserror::Error)]
pub enum UnknownJob {
    #[error("unknown job kind {0:?}")]
    Kind(String),
    #[error("job of kind {kind:?}: the payload does not fit: {reason}")]
    Payload { kind: String, reason: String },
}

/// The worker's lanes: each claims and runs its own jobs with its own
/// concurrency and time limit, so a reply to deliver never waits behind a
/// sync, a crawl or embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Deliveries, a turn's follow-ups (gap grouping), sweeps and reports:
    /// short jobs someone is waiting on.
    Fast,
    /// Ingestion: syncs, crawls, embedding, and the re-sync sweep.
    Slow,
}

impl Lane {
    pub const ALL: [Lane; 2] = [Lane::Fast, Lane::Slow];

    pub fn name(&self) -> &'static str {
        match self {
            Lane::Fast => "fast",
            Lane::Slow => "slow",
        }
    }
}

/// The kinds of the slow lane; the fast lane takes every other kind
/// (an unknown one too, so it fails and ends dead visibly).
pub const SLOW_KINDS: [&str; 4] = ["resync_due", "embed_chunks", "sync_source", "crawl_source"];

/// The lane of a stored `kind` (an unknown kind is the fast lane's, as in the worker).
pub fn lane_of_kind(kind: &str) -> &'static str {
    if SLOW_KINDS.contains(&kind) { Lane::Slow } else { Lane::Fast }.name()
}

/// Every kind, as stored in the `kind` column.
pub const KINDS: [&str; 8] =
    ["close_inactive", "resync_due", "embed_chunks", "sync_source", "crawl_source", "deliver", "reports", "group_gaps"];

impl Job {
    /// The `kind` column's value.
    pub fn kind(&self) -> &'static str {
        match self {
            Job::CloseInactive => "close_inactive",
            Job::ResyncDue => "resync_due",
            Job::EmbedChunks => "embed_chunks",
            Job::SyncSource { .. } => "sync_source",
            Job::CrawlSource { .. } => "crawl_source",
            Job::Deliver { .. } => "deliver",
            Job::Reports => "reports",
            Job::GroupGaps => "group_gaps",
        }
    }

    /// The lane this job runs in.
    pub fn lane(&self) -> Lane {
        match self {
            Job::ResyncDue | Job::EmbedChunks | Job::SyncSource { .. } | Job::CrawlSource { .. } => Lane::Slow,
            Job::Deliver { .. } | Job::GroupGaps | Job::CloseInactive | Job::Reports => Lane::Fast,
        }
    }

    /// The `payload` column's value: every field but the kind.
    pub fn payload(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("kind");
        }
        v
    }

    /// Reads a job back from its row's kind and payload.
    pub fn decode(kind: &str, payload: &Value) -> Result<Job, UnknownJob> {
        if !KINDS.contains(&kind) {
            return Err(UnknownJob::Kind(kind.to_owned()));
        }
        let mut v = match payload {
            Value::Object(o) => o.clone(),
            Value::Null => Default::default(),
            other => {
                let reason = format!("not an object: {other}");
                return Err(UnknownJob::Payload { kind: kind.to_owned(), reason });
            }
        };
        v.insert("kind".into(), Value::String(kind.to_owned()));
        serde_json::from_value(Value::Object(v))
            .map_err(|e| UnknownJob::Payload { kind: kind.to_owned(), reason: e.to_string() })
    }

    /// The row to enqueue: due at `run_at`, tried at most `max_attempts`
    /// times, and with a `dedupe_key` at most one is queued at a time.
    pub fn to_new(&self, run_at: i64, max_attempts: i64, dedupe_key: Option<String>) -> NewJob {
        NewJob { kind: self.kind().into(), payload: self.payload(), run_at, max_attempts, dedupe_key }
    }

    /// A periodic job: one queued at a time (its kind is the dedupe key), 3 attempts.
    pub fn periodic(&self, run_at: i64) -> NewJob {
        self.to_new(run_at, 3, Some(self.kind().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_written_before_the_enum_still_decode() {
        assert_eq!(Job::decode("deliver", &json!({"delivery_id": 7})).unwrap(), Job::Deliver { delivery_id: 7 });
        assert_eq!(Job::decode("sync_source", &json!({"source_id": 3})).unwrap(), Job::SyncSource { source_id: 3 });
        assert_eq!(Job::decode("crawl_source", &json!({"source_id": 4})).unwrap(), Job::CrawlSource { source_id: 4 });
        for (kind, job) in [
            ("close_inactive", Job::CloseInactive),
            ("resync_due", Job::ResyncDue),
            ("embed_chunks", Job::EmbedChunks),
            ("reports", Job::Reports),
            ("group_gaps", Job::GroupGaps),
        ] {
            assert_eq!(Job::decode(kind, &json!({})).unwrap(), job);
            assert_eq!(job.kind(), kind);
            assert_eq!(job.payload(), json!({}));
        }
    }

    #[test]
    fn kinds_and_payloads_round_trip() {
        for job in [Job::SyncSource { source_id: 9 }, Job::Deliver { delivery_id: 1 }, Job::GroupGaps] {
            assert_eq!(Job::decode(job.kind(), &job.payload()).unwrap(), job);
        }
        assert_eq!(Job::Deliver { delivery_id: 5 }.payload(), json!({"delivery_id": 5}));
    }

    #[test]
    fn slow_kinds_are_the_kinds_of_the_slow_lane() {
        for kind in KINDS {
            let job = Job::decode(kind, &json!({"source_id": 1, "delivery_id": 1})).unwrap();
            assert_eq!(job.lane() == Lane::Slow, SLOW_KINDS.contains(&kind), "{kind}");
        }
        assert_eq!(Job::Deliver { delivery_id: 1 }.lane(), Lane::Fast);
        assert_eq!(Job::GroupGaps.lane(), Lane::Fast);
    }

    #[test]
    fn unknown_kinds_and_missing_fields_are_errors() {
        let e = Job::decode("mystery", &json!({})).unwrap_err();
        assert_eq!(e.to_string(), "unknown job kind \"mystery\"");
        for kind in KINDS {
            assert!(Job::decode(kind, &json!({"source_id": 1, "delivery_id": 1})).is_ok(), "{kind}");
        }
        assert!(Job::decode("sync_source", &json!({})).is_err());
        assert!(Job::decode("deliver", &json!("x")).is_err());
    }
}
