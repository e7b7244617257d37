//! The reports' rollup SQL both backends share (see `sql.rs` for the rules).
//! `impl_report_store!` is invoked next to `impl_store!`, whose helpers
//! (`event`, `Tx`, `DbRow`) it uses; `$skip_locked` is
//! ` FOR UPDATE SKIP LOCKED` on PostgreSQL (replicas refresh disjoint
//! conversations) and empty on SQLite (one writer).
//!
//! The rollup is a cache of the event log: `refresh` recomputes the facts of
//! the conversations the trigger marked dirty and adds the difference of
//! their counters; `rebuild` computes everything again from the events. The
//! tests check that both give the same counters.

/// Placeholders `$start, …` for `n` values.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Counter rows per insert statement (5 binds each).
pub(crate) const COUNT_BATCH: usize = 500;
/// Conversations per page when rebuilding.
pub(crate) const REBUILD_PAGE: i64 = 2_000;

macro_rules! impl_report_store {
    ($store:ty, $skip_locked:literal) => {
        use crate::sql_reports::{placeholders, COUNT_BATCH, REBUILD_PAGE};
        use frontdesk_core::reports as core_reports;
        use std::collections::BTreeMap;

        fn log_event_from_row(r: &DbRow) -> StoreResult<(i64, core_reports::LogEvent)> {
            Ok((
                r.try_get("conversation_id")?,
                core_reports::LogEvent {
                    kind: r.enum_col("kind", EventKind::parse)?,
                    actor_kind: r.try_get("actor_kind")?,
                    actor_user_id: r.try_get("actor_user_id")?,
                    data: r.json_col("data")?,
                    at: r.try_get("created_at")?,
                },
            ))
        }

        /// The events of `ids`, per conversation, in log order.
        async fn report_logs(
            tx: &mut Tx<'_>,
            ids: &[i64],
        ) -> StoreResult<BTreeMap<i64, Vec<core_reports::LogEvent>>> {
            let mut out: BTreeMap<i64, Vec<core_reports::LogEvent>> = BTreeMap::new();
            if ids.is_empty() {
                return Ok(out);
            }
            let sql = format!(
                "SELECT conversation_id, kind, actor_kind, actor_user_id, data, created_at FROM events \
                 WHERE conversation_id IN ({}) ORDER BY conversation_id, id",
                placeholders(1, ids.len())
            );
            let mut q = sqlx::query(&sql);
            for id in ids {
                q = q.bind(id);
            }
            for r in q.fetch_all(&mut **tx).await? {
                let (cid, e) = log_event_from_row(&r)?;
                out.entry(cid).or_default().push(e);
            }
            Ok(out)
        }

        /// Adds `deltas` (unique keys, sorted: replicas lock counters in one order).
        async fn add_counts(tx: &mut Tx<'_>, deltas: &[(core_reports::Key, i64)]) -> StoreResult<()> {
            for chunk in deltas.chunks(COUNT_BATCH) {
                let rows: Vec<String> =
                    (0..chunk.len()).map(|i| format!("({})", placeholders(i * 5 + 1, 5))).collect();
                let sql = format!(
                    "INSERT INTO report_counts (metric, day, channel, dim, value) VALUES {} \
                     ON CONFLICT (metric, day, channel, dim) DO UPDATE SET value = report_counts.value + excluded.value",
                    rows.join(", ")
                );
                let mut q = sqlx::query(&sql);
                for (k, v) in chunk {
                    q = q.bind(k.metric).bind(&k.day).bind(&k.channel).bind(&k.dim).bind(*v);
                }
                q.execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// Stores facts rows (insert or replace).
        async fn put_facts(tx: &mut Tx<'_>, rows: &[(i64, String, Option<i64>)]) -> StoreResult<()> {
            for chunk in rows.chunks(COUNT_BATCH) {
                let values: Vec<String> =
                    (0..chunk.len()).map(|i| format!("({})", placeholders(i * 3 + 1, 3))).collect();
                let sql = format!(
                    "INSERT INTO conversation_facts (conversation_id, facts, evaluate_at) VALUES {} \
                     ON CONFLICT (conversation_id) DO UPDATE SET facts = excluded.facts, evaluate_at = excluded.evaluate_at",
                    values.join(", ")
                );
                let mut q = sqlx::query(&sql);
                for (id, facts, due) in chunk {
                    q = q.bind(id).bind(facts).bind(due);
                }
                q.execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// The reporting zone and the zone the counters were computed in.
        async fn report_zones(tx: &mut Tx<'_>) -> StoreResult<(String, String)> {
            let r = sqlx::query("SELECT time_zone, counters_time_zone FROM report_settings WHERE id = 1")
                .fetch_one(&mut **tx)
                .await?;
            Ok((r.try_get("time_zone")?, r.try_get("counters_time_zone")?))
        }

        /// Recomputes every counter from the stored facts (after a time-zone change).
        async fn recount_from_facts(tx: &mut Tx<'_>, tz: &core_reports::TimeZone) -> StoreResult<()> {
            sqlx::query("DELETE FROM report_counts").execute(&mut **tx).await?;
            let mut totals: BTreeMap<core_reports::Key, i64> = BTreeMap::new();
            let mut after = i64::MIN;
            loop {
                let rows = sqlx::query(
                    "SELECT conversation_id, facts FROM conversation_facts WHERE conversation_id > $1 ORDER BY conversation_id LIMIT $2",
                )
                .bind(after)
                .bind(REBUILD_PAGE * 5)
                .fetch_all(&mut **tx)
                .await?;
                let Some(last) = rows.last() else { break };
                after = last.try_get("conversation_id")?;
                for r in &rows {
                    let f: core_reports::Facts = r.json_col("facts")?;
                    for (k, v) in core_reports::contributions(&f, tz) {
                        *totals.entry(k).or_default() += v;
                    }
                }
            }
            let all: Vec<_> = totals.into_iter().filter(|(_, v)| *v != 0).collect();
            add_counts(tx, &all).await
        }

        #[async_trait::async_trait]
        impl ReportStore for $store {
            async fn report_settings(&self) -> StoreResult<ReportSettings> {
                let r = sqlx::query("SELECT time_zone, updated_at FROM report_settings WHERE id = 1")
                    .fetch_one(&self.read)
                    .await?;
                Ok(ReportSettings { time_zone: r.try_get("time_zone")?, updated_at: r.try_get("updated_at")? })
            }

            async fn set_report_time_zone(&self, actor: &Actor, time_zone: &str) -> StoreResult<ReportSettings> {
                let mut tx = self.write.begin().await?;
                let (before, _) = report_zones(&mut tx).await?;
                let now = now_ms();
                sqlx::query("UPDATE report_settings SET time_zone = $1, updated_at = $2 WHERE id = 1")
                    .bind(time_zone)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                audit(
                    &mut tx,
                    actor,
                    "update",
                    "report_settings",
                    1,
                    Some(json!({"time_zone": before})),
                    Some(json!({"time_zone": time_zone})),
                )
                .await?;
                tx.commit().await?;
                Ok(ReportSettings { time_zone: time_zone.to_owned(), updated_at: now })
            }

            async fn refresh_reports(&self, limit: i64) -> StoreResult<RollupStats> {
                let mut tx = self.write.begin().await?;
                let (zone, counted_in) = report_zones(&mut tx).await?;
                let tz = core_reports::zone(&zone);
                if zone != counted_in {
                    recount_from_facts(&mut tx, &tz).await?;
                    sqlx::query("UPDATE report_settings SET counters_time_zone = $1 WHERE id = 1")
                        .bind(&zone)
                        .execute(&mut *tx)
                        .await?;
                }
                let ids: Vec<i64> = sqlx::query(&format!(
                    "SELECT conversation_id FROM report_dirty ORDER BY conversation_id LIMIT $1{}",
                    $skip_locked
                ))
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get("conversation_id"))
                .collect::<Result<_, _>>()?;
                let mut stats = RollupStats::default();
                if !ids.is_empty() {
                    let logs = report_logs(&mut tx, &ids).await?;
                    let sql = format!(
                        "SELECT conversation_id, facts FROM conversation_facts WHERE conversation_id IN ({})",
                        placeholders(1, ids.len())
                    );
                    let mut q = sqlx::query(&sql);
                    for id in &ids {
                        q = q.bind(id);
                    }
                    let mut old: BTreeMap<i64, core_reports::Facts> = BTreeMap::new();
                    for r in q.fetch_all(&mut *tx).await? {
                        old.insert(r.try_get("conversation_id")?, r.json_col("facts")?);
                    }
                    let mut before = Vec::new();
                    let mut after = Vec::new();
                    let mut rows = Vec::new();
                    let mut gone = Vec::new();
                    for id in &ids {
                        if let Some(f) = old.get(id) {
                            before.extend(core_reports::contributions(f, &tz));
                        }
                        match logs.get(id) {
                            Some(events) => {
                                stats.events += events.len() as u64;
                                let f = core_reports::facts(events);
                                after.extend(core_reports::contributions(&f, &tz));
                                rows.push((*id, serde_json::to_string(&f)?, f.evaluate_at()));
                            }
                            None => gone.push(*id),
                        }
                    }
                    put_facts(&mut tx, &rows).await?;
                    if !gone.is_empty() {
                        let sql = format!(
                            "DELETE FROM conversation_facts WHERE conversation_id IN ({})",
                            placeholders(1, gone.len())
                        );
                        let mut q = sqlx::query(&sql);
                        for id in &gone {
                            q = q.bind(id);
                        }
                        q.execute(&mut *tx).await?;
                    }
                    add_counts(&mut tx, &core_reports::delta(&before, &after)).await?;
                    let sql =
                        format!("DELETE FROM report_dirty WHERE conversation_id IN ({})", placeholders(1, ids.len()));
                    let mut q = sqlx::query(&sql);
                    for id in &ids {
                        q = q.bind(id);
                    }
                    q.execute(&mut *tx).await?;
                    stats.conversations = ids.len() as u64;
                }
                // Counted through the primary key, at most a batch: a full count
                // would walk every dead row a busy day leaves behind on PostgreSQL.
                let remaining: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM (SELECT conversation_id FROM report_dirty ORDER BY conversation_id LIMIT $1) d",
                )
                .bind(limit.max(1))
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
                stats.remaining = remaining as u64;
                tx.commit().await?;
                Ok(stats)
            }

            async fn rebuild_reports(&self) -> StoreResult<RollupStats> {
                let mut tx = self.write.begin().await?;
                let (zone, _) = report_zones(&mut tx).await?;
                let tz = core_reports::zone(&zone);
                for table in ["report_dirty", "conversation_facts", "report_counts"] {
                    sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
                }
                sqlx::query("UPDATE report_settings SET counters_time_zone = time_zone WHERE id = 1")
                    .execute(&mut *tx)
                    .await?;
                let bounds = sqlx::query("SELECT MIN(conversation_id) AS lo, MAX(conversation_id) AS hi FROM events")
                    .fetch_one(&mut *tx)
                    .await?;
                let lo: Option<i64> = bounds.try_get("lo")?;
                let hi: Option<i64> = bounds.try_get("hi")?;
                let mut stats = RollupStats::default();
                let mut totals: BTreeMap<core_reports::Key, i64> = BTreeMap::new();
                if let (Some(lo), Some(hi)) = (lo, hi) {
                    let mut start = lo;
                    while start <= hi {
                        let rows = sqlx::query(
                            "SELECT conversation_id, kind, actor_kind, actor_user_id, data, created_at FROM events \
                             WHERE conversation_id >= $1 AND conversation_id < $2 ORDER BY conversation_id, id",
                        )
                        .bind(start)
                        .bind(start + REBUILD_PAGE)
                        .fetch_all(&mut *tx)
                        .await?;
                        start += REBUILD_PAGE;
                        let mut logs: BTreeMap<i64, Vec<core_reports::LogEvent>> = BTreeMap::new();
                        for r in &rows {
                            let (cid, e) = log_event_from_row(r)?;
                            logs.entry(cid).or_default().push(e);
                        }
                        stats.events += rows.len() as u64;
                        let mut facts_rows = Vec::with_capacity(logs.len());
                        for (id, events) in &logs {
                            let f = core_reports::facts(events);
                            for (k, v) in core_reports::contributions(&f, &tz) {
                                *totals.entry(k).or_default() += v;
                            }
                            facts_rows.push((*id, serde_json::to_string(&f)?, f.evaluate_at()));
                        }
                        stats.conversations += facts_rows.len() as u64;
                        put_facts(&mut tx, &facts_rows).await?;
                    }
                }
                let all: Vec<_> = totals.into_iter().filter(|(_, v)| *v != 0).collect();
                add_counts(&mut tx, &all).await?;
                tx.commit().await?;
                Ok(stats)
            }

            async fn due_resolutions(&self, now: i64, limit: i64) -> StoreResult<Vec<i64>> {
                sqlx::query(
                    "SELECT conversation_id FROM conversation_facts WHERE evaluate_at IS NOT NULL AND evaluate_at <= $1 \
                     ORDER BY evaluate_at, conversation_id LIMIT $2",
                )
                .bind(now)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| r.try_get("conversation_id").map_err(Into::into))
                .collect()
            }

            async fn evaluate_resolution(&self, conversation_id: i64, now: i64) -> StoreResult<Option<Value>> {
                let mut tx = self.write.begin().await?;
                // Lock the conversation: two replicas cannot both decide it.
                let locked = sqlx::query("UPDATE conversations SET id = id WHERE id = $1")
                    .bind(conversation_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if locked == 0 {
                    return Err(StoreError::NotFound("conversation"));
                }
                let logs = report_logs(&mut tx, &[conversation_id]).await?;
                let events = logs.get(&conversation_id).map(Vec::as_slice).unwrap_or(&[]);
                if core_reports::facts(events).preview {
                    return Ok(None);
                }
                let verdict = core_reports::evaluation(events, now);
                if let Some(data) = &verdict {
                    event(&mut tx, conversation_id, EventKind::Resolution, "system", None, data.clone(), now).await?;
                }
                tx.commit().await?;
                Ok(verdict)
            }

            async fn report_counts(
                &self,
                metrics: &[&str],
                from: &str,
                to: &str,
                channel: Option<&str>,
                per_channel: bool,
            ) -> StoreResult<Vec<frontdesk_core::reports::CountRow>> {
                if metrics.is_empty() {
                    return Ok(Vec::new());
                }
                let n = metrics.len();
                let filter = if channel.is_some() { format!(" AND channel = ${}", n + 3) } else { String::new() };
                // Summed over channels in the database unless the report splits by channel:
                // a fifth of the rows to send and bucket.
                let sql = if per_channel {
                    format!(
                        "SELECT day, channel, metric, dim, value FROM report_counts \
                         WHERE metric IN ({}) AND day >= ${} AND day <= ${} AND value <> 0{filter}",
                        placeholders(1, n),
                        n + 1,
                        n + 2
                    )
                } else {
                    format!(
                        "SELECT day, '' AS channel, metric, dim, CAST(SUM(value) AS BIGINT) AS value FROM report_counts \
                         WHERE metric IN ({}) AND day >= ${} AND day <= ${} AND value <> 0{filter} GROUP BY day, metric, dim",
                        placeholders(1, n),
                        n + 1,
                        n + 2
                    )
                };
                let mut q = sqlx::query(&sql);
                for m in metrics {
                    q = q.bind(*m);
                }
                q = q.bind(from).bind(to);
                if let Some(c) = channel {
                    q = q.bind(c);
                }
                q.fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| {
                        let ch: String = r.try_get("channel")?;
                        Ok(frontdesk_core::reports::CountRow {
                            day: r.try_get("day")?,
                            channel: if per_channel { ch } else { channel.unwrap_or("").to_owned() },
                            metric: r.try_get("metric")?,
                            dim: r.try_get("dim")?,
                            value: r.try_get("value")?,
                        })
                    })
                    .collect()
            }

            async fn import_history(&self, batch: &[HistoryConversation]) -> StoreResult<Vec<i64>> {
                static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let mut tx = self.write.begin().await?;
                let mut ids = Vec::with_capacity(batch.len());
                let stamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                for chunk in batch.chunks(200) {
                    let values: Vec<String> =
                        (0..chunk.len()).map(|i| format!("({}, 0)", placeholders(i * 7 + 1, 7))).collect();
                    let sql = format!(
                        "INSERT INTO conversations (channel, status, assignee_kind, visitor_token_hash, is_preview, created_at, last_activity_at, last_seq) \
                         VALUES {} RETURNING id, visitor_token_hash",
                        values.join(", ")
                    );
                    let mut q = sqlx::query(&sql);
                    let mut tokens = Vec::with_capacity(chunk.len());
                    for c in chunk {
                        let token = format!(
                            "import:{stamp}:{}",
                            SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                        );
                        let assignee = c
                            .events
                            .iter()
                            .rev()
                            .find(|e| e.kind == EventKind::Assigned)
                            .and_then(|e| e.data.get("to").and_then(Value::as_str))
                            .unwrap_or("none")
                            .to_owned();
                        let last = c.events.iter().map(|e| e.at).max().unwrap_or(c.created_at);
                        q = q
                            .bind(c.channel.as_str())
                            .bind(if c.closed { "closed" } else { "open" })
                            .bind(assignee)
                            .bind(token.clone())
                            .bind(c.is_preview)
                            .bind(c.created_at)
                            .bind(last);
                        tokens.push(token);
                    }
                    let mut by_token: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
                    for r in q.fetch_all(&mut *tx).await? {
                        by_token.insert(r.try_get("visitor_token_hash")?, r.try_get("id")?);
                    }
                    let chunk_ids: Vec<i64> = tokens
                        .iter()
                        .map(|t| by_token.get(t).copied().ok_or(StoreError::NotFound("imported conversation")))
                        .collect::<Result<_, _>>()?;
                    let events: Vec<(i64, &HistoryEvent)> = chunk_ids
                        .iter()
                        .zip(chunk)
                        .flat_map(|(id, c)| c.events.iter().map(move |e| (*id, e)))
                        .collect();
                    for ev_chunk in events.chunks(COUNT_BATCH) {
                        let values: Vec<String> =
                            (0..ev_chunk.len()).map(|i| format!("({})", placeholders(i * 6 + 1, 6))).collect();
                        let sql = format!(
                            "INSERT INTO events (conversation_id, kind, actor_kind, actor_user_id, data, created_at) VALUES {}",
                            values.join(", ")
                        );
                        let mut q = sqlx::query(&sql);
                        for (id, e) in ev_chunk {
                            q = q
                                .bind(*id)
                                .bind(e.kind.as_str())
                                .bind(&e.actor_kind)
                                .bind(e.actor_user_id)
                                .bind(e.data.to_string())
                                .bind(e.at);
                        }
                        q.execute(&mut *tx).await?;
                    }
                    ids.extend(chunk_ids);
                }
                tx.commit().await?;
                Ok(ids)
            }
        }
    };
}

pub(crate) use impl_report_store;
