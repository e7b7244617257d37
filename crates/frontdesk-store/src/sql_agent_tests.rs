//! The agent-test SQL both backends share (see `sql.rs` for the rules).
//! `impl_agent_test_store!` is invoked next to `impl_store!`, whose helpers
//! (`audit`, `Tx`, `DbRow`) it uses.

macro_rules! impl_agent_test_store {
    ($store:ty) => {
        fn agent_test_from_row(r: &DbRow) -> StoreResult<AgentTest> {
            Ok(AgentTest {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                question: r.try_get("question")?,
                expect: r.json_col("expect")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        fn agent_test_run_from_row(r: &DbRow) -> StoreResult<AgentTestRun> {
            Ok(AgentTestRun {
                id: r.try_get("id")?,
                started_at: r.try_get("started_at")?,
                finished_at: r.try_get("finished_at")?,
                total: r.try_get("total")?,
                passed: r.try_get("passed")?,
                results: r.json_col("results")?,
                actor: r.try_get("actor")?,
            })
        }

        #[async_trait::async_trait]
        impl AgentTestStore for $store {
            async fn list_agent_tests(&self) -> StoreResult<Vec<AgentTest>> {
                sqlx::query("SELECT id, name, question, expect, created_at, updated_at FROM agent_tests ORDER BY id")
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(agent_test_from_row)
                    .collect()
            }

            async fn get_agent_test(&self, id: i64) -> StoreResult<AgentTest> {
                let row = sqlx::query("SELECT id, name, question, expect, created_at, updated_at FROM agent_tests WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?;
                match row {
                    Some(r) => agent_test_from_row(&r),
                    None => Err(StoreError::NotFound("agent test")),
                }
            }

            async fn create_agent_test(&self, actor: &Actor, new: NewAgentTest) -> StoreResult<AgentTest> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let row = sqlx::query(
                    "INSERT INTO agent_tests (name, question, expect, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
                     RETURNING id, name, question, expect, created_at, updated_at",
                )
                .bind(&new.name)
                .bind(&new.question)
                .bind(serde_json::to_string(&new.expect)?)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let t = agent_test_from_row(&row)?;
                audit(&mut tx, actor, "create", "agent_test", t.id, None, Some(json!(t))).await?;
                tx.commit().await?;
                Ok(t)
            }

            async fn update_agent_test(&self, actor: &Actor, id: i64, new: NewAgentTest) -> StoreResult<AgentTest> {
                let mut tx = self.write.begin().await?;
                let before = sqlx::query("SELECT id, name, question, expect, created_at, updated_at FROM agent_tests WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .as_ref()
                    .map(agent_test_from_row)
                    .transpose()?
                    .ok_or(StoreError::NotFound("agent test"))?;
                let row = sqlx::query(
                    "UPDATE agent_tests SET name = $1, question = $2, expect = $3, updated_at = $4 WHERE id = $5 \
                     RETURNING id, name, question, expect, created_at, updated_at",
                )
                .bind(&new.name)
                .bind(&new.question)
                .bind(serde_json::to_string(&new.expect)?)
                .bind(now_ms())
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                let t = agent_test_from_row(&row)?;
                audit(&mut tx, actor, "update", "agent_test", id, Some(json!(before)), Some(json!(t))).await?;
                tx.commit().await?;
                Ok(t)
            }

            async fn delete_agent_test(&self, actor: &Actor, id: i64) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let before = sqlx::query("SELECT id, name, question, expect, created_at, updated_at FROM agent_tests WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .as_ref()
                    .map(agent_test_from_row)
                    .transpose()?
                    .ok_or(StoreError::NotFound("agent test"))?;
                sqlx::query("DELETE FROM agent_tests WHERE id = $1").bind(id).execute(&mut *tx).await?;
                audit(&mut tx, actor, "delete", "agent_test", id, Some(json!(before)), None).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn record_agent_test_run(&self, actor: &Actor, run: NewAgentTestRun) -> StoreResult<AgentTestRun> {
                let mut tx = self.write.begin().await?;
                let total = run.results.len() as i64;
                let passed = run.results.iter().filter(|r| r.passed).count() as i64;
                let row = sqlx::query(
                    "INSERT INTO agent_test_runs (started_at, finished_at, total, passed, results, actor) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, started_at, finished_at, total, passed, results, actor",
                )
                .bind(run.started_at)
                .bind(now_ms())
                .bind(total)
                .bind(passed)
                .bind(serde_json::to_string(&run.results)?)
                .bind(&actor.label)
                .fetch_one(&mut *tx)
                .await?;
                let r = agent_test_run_from_row(&row)?;
                audit(
                    &mut tx,
                    actor,
                    "run",
                    "agent_test_run",
                    r.id,
                    None,
                    Some(json!({"total": total, "passed": passed})),
                )
                .await?;
                tx.commit().await?;
                Ok(r)
            }

            async fn list_agent_test_runs(&self, limit: i64) -> StoreResult<Vec<AgentTestRun>> {
                sqlx::query(
                    "SELECT id, started_at, finished_at, total, passed, results, actor FROM agent_test_runs \
                     ORDER BY id DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(agent_test_run_from_row)
                .collect()
            }
        }
    };
}

pub(crate) use impl_agent_test_store;
