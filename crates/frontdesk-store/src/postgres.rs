//! The PostgreSQL backend: one pool; jobs are claimed with `FOR UPDATE SKIP
//! LOCKED` so several replicas can share the queue.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};

use crate::StoreResult;

pub struct PostgresStore {
    write: Pool<Postgres>,
    read: Pool<Postgres>,
    local_changes: std::sync::atomic::AtomicU64,
}

impl PostgresStore {
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
        Ok(Self { write: pool.clone(), read: pool, local_changes: Default::default() })
    }
}

crate::sql::impl_store!(
    PostgresStore,
    Postgres,
    "postgres",
    "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, locked_at = $2, updated_at = $2 \
     WHERE id = (SELECT id FROM jobs WHERE ((status = 'queued' AND run_at <= $2) OR (status = 'running' AND locked_at < $3)){filter} \
     ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING {cols}"
);

crate::sql_knowledge::impl_knowledge_store!(PostgresStore);
crate::sql_agent_tests::impl_agent_test_store!(PostgresStore);
crate::sql_agent_tools::impl_tool_store!(PostgresStore);
crate::sql_handoff::impl_handoff_store!(PostgresStore);
crate::sql_credits::impl_credit_store!(PostgresStore, Postgres, " FOR UPDATE");
crate::sql_hours::impl_hours_store!(PostgresStore);
crate::sql_leads::impl_lead_store!(PostgresStore);
crate::sql_workflows::impl_workflow_store!(PostgresStore);
crate::sql_bots::impl_bot_store!(PostgresStore);
crate::sql_channels::impl_channel_store!(PostgresStore);
crate::sql_gaps::impl_gap_store!(PostgresStore);
crate::sql_reports::impl_report_store!(PostgresStore, " FOR UPDATE SKIP LOCKED");
crate::sql_login::impl_login_store!(PostgresStore, " FOR UPDATE");
