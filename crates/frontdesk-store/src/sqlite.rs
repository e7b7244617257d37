//! The SQLite backend: one writer connection (SQLite serialises writes
//! anyway; one connection avoids busy errors) and a pool of readers, in WAL mode.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};

use crate::StoreResult;

pub struct SqliteStore {
    write: Pool<Sqlite>,
    read: Pool<Sqlite>,
    local_changes: std::sync::atomic::AtomicU64,
}

impl SqliteStore {
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

    /// `url` is `sqlite:path`, `sqlite://path` or a plain file path; the file is created if missing.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let url = if url.starts_with("sqlite:") { url.to_owned() } else { format!("sqlite://{url}") };
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        let read = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        Ok(Self { write, read, local_changes: Default::default() })
    }
}

crate::sql::impl_store!(
    SqliteStore,
    Sqlite,
    "sqlite",
    "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, locked_at = $2, updated_at = $2 \
     WHERE id = (SELECT id FROM jobs WHERE ((status = 'queued' AND run_at <= $2) OR (status = 'running' AND locked_at < $3)){filter} \
     ORDER BY run_at, id LIMIT 1) RETURNING {cols}"
);

crate::sql_knowledge::impl_knowledge_store!(SqliteStore);
crate::sql_agent_tests::impl_agent_test_store!(SqliteStore);
crate::sql_agent_tools::impl_tool_store!(SqliteStore);
crate::sql_handoff::impl_handoff_store!(SqliteStore);
crate::sql_credits::impl_credit_store!(SqliteStore, Sqlite, "");
crate::sql_hours::impl_hours_store!(SqliteStore);
crate::sql_leads::impl_lead_store!(SqliteStore);
crate::sql_workflows::impl_workflow_store!(SqliteStore);
crate::sql_bots::impl_bot_store!(SqliteStore);
crate::sql_channels::impl_channel_store!(SqliteStore);
crate::sql_gaps::impl_gap_store!(SqliteStore);
crate::sql_reports::impl_report_store!(SqliteStore, "");
crate::sql_login::impl_login_store!(SqliteStore, "");
