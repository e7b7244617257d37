//! The knowledge gaps SQL both backends share (see `sql.rs` for the rules).
//! `impl_gap_store!` is invoked next to `impl_store!`, whose helpers
//! (`audit`, `Tx`, `DbRow`, `insert_short_answer`) it uses.

pub(crate) const TOPIC_SELECT: &str = "SELECT t.id, t.label, t.status, t.short_answer_id, t.created_at, t.closed_at, \
    COUNT(DISTINCT q.conversation_id) AS conversations, COUNT(q.id) AS questions, MAX(q.created_at) AS latest_at \
    FROM gap_topics t LEFT JOIN unanswered_questions q ON q.topic_id = t.id AND q.dismissed_at IS NULL";
pub(crate) const TOPIC_GROUP: &str = "GROUP BY t.id, t.label, t.status, t.short_answer_id, t.created_at, t.closed_at";

macro_rules! impl_gap_store {
    ($store:ty) => {
        use crate::sql_gaps::{TOPIC_GROUP, TOPIC_SELECT};

        async fn fetch_gap_topic(tx: &mut Tx<'_>, id: i64) -> StoreResult<GapTopic> {
            let row = sqlx::query(&format!("{TOPIC_SELECT} WHERE t.id = $1 {TOPIC_GROUP}"))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("gap topic"))?;
            from_row(&row)
        }

        /// Locks an open topic (the update takes the row lock) or says why not.
        async fn lock_open_topic(tx: &mut Tx<'_>, id: i64) -> StoreResult<GapTopic> {
            let topic = fetch_gap_topic(tx, id).await?;
            if topic.status != topic_status::OPEN {
                return Err(StoreError::Conflict(format!("the topic is already {}", topic.status)));
            }
            sqlx::query("UPDATE gap_topics SET updated_at = updated_at WHERE id = $1").bind(id).execute(&mut **tx).await?;
            Ok(topic)
        }

        async fn close_topic(
            tx: &mut Tx<'_>,
            actor: &Actor,
            id: i64,
            status: &str,
            short_answer_id: Option<i64>,
        ) -> StoreResult<GapTopic> {
            let before = lock_open_topic(tx, id).await?;
            let now = now_ms();
            sqlx::query(
                "UPDATE gap_topics SET status = $1, short_answer_id = $2, closed_at = $3, closed_by = $4, updated_at = $3 WHERE id = $5",
            )
            .bind(status)
            .bind(short_answer_id)
            .bind(now)
            .bind(actor.user_id)
            .bind(id)
            .execute(&mut **tx)
            .await?;
            let after = fetch_gap_topic(tx, id).await?;
            let action = if status == topic_status::RESOLVED { "resolve" } else { "dismiss" };
            audit(tx, actor, action, "gap_topic", id, Some(json!(before)), Some(json!(after))).await?;
            Ok(after)
        }

        #[async_trait::async_trait]
        impl GapStore for $store {
            async fn ungrouped_questions(&self, limit: i64) -> StoreResult<Vec<UngroupedQuestion>> {
                sqlx::query(
                    "SELECT id, question, lang FROM unanswered_questions WHERE topic_id IS NULL AND dismissed_at IS NULL ORDER BY id LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(from_row)
                .collect()
            }

            async fn open_gap_summaries(&self) -> StoreResult<Vec<(i64, String)>> {
                sqlx::query("SELECT id, summary FROM gap_topics WHERE status = 'open' ORDER BY id")
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("id")?, r.try_get("summary")?)))
                    .collect()
            }

            async fn gap_members(&self, topic_id: i64, limit: i64) -> StoreResult<Vec<(i64, String, Option<String>)>> {
                sqlx::query(
                    "SELECT id, question, features FROM unanswered_questions WHERE topic_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(topic_id)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("id")?, r.try_get("question")?, r.try_get("features")?)))
                .collect()
            }

            async fn place_question(&self, question_id: i64, features: &str, placement: GapPlacement) -> StoreResult<i64> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let topic_id = match placement {
                    GapPlacement::Join { topic_id, summary, label } => {
                        let done = sqlx::query(
                            "UPDATE gap_topics SET summary = $1, label = $2, updated_at = $3 WHERE id = $4 AND status = 'open'",
                        )
                        .bind(&summary)
                        .bind(&label)
                        .bind(now)
                        .bind(topic_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        if done == 0 {
                            return Err(StoreError::Conflict("the topic is no longer open".into()));
                        }
                        topic_id
                    }
                    GapPlacement::New { summary, label } => sqlx::query(
                        "INSERT INTO gap_topics (label, status, summary, created_at, updated_at) VALUES ($1, 'open', $2, $3, $3) RETURNING id",
                    )
                    .bind(&label)
                    .bind(&summary)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("id")?,
                };
                let done = sqlx::query(
                    "UPDATE unanswered_questions SET topic_id = $1, features = $2 WHERE id = $3 AND topic_id IS NULL",
                )
                .bind(topic_id)
                .bind(features)
                .bind(question_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done == 0 {
                    return Err(StoreError::Conflict("the question is already grouped".into()));
                }
                tx.commit().await?;
                Ok(topic_id)
            }

            async fn list_gap_topics(&self, limit: i64) -> StoreResult<Vec<GapTopic>> {
                sqlx::query(&format!(
                    "{TOPIC_SELECT} WHERE t.status = 'open' {TOPIC_GROUP} HAVING COUNT(q.id) > 0 \
                     ORDER BY conversations DESC, latest_at DESC, t.id LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(from_row)
                .collect()
            }

            async fn gap_topic(&self, topic_id: i64) -> StoreResult<GapTopic> {
                let row = sqlx::query(&format!("{TOPIC_SELECT} WHERE t.id = $1 {TOPIC_GROUP}"))
                    .bind(topic_id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("gap topic"))?;
                from_row(&row)
            }

            async fn gap_questions(&self, topic_id: i64) -> StoreResult<Vec<GapQuestion>> {
                sqlx::query(
                    "SELECT q.id, q.conversation_id, k.id AS ticket_id, q.question, q.lang, q.created_at, q.dismissed_at \
                     FROM unanswered_questions q LEFT JOIN tickets k ON k.conversation_id = q.conversation_id \
                     WHERE q.topic_id = $1 AND q.dismissed_at IS NULL ORDER BY q.created_at DESC, q.id DESC",
                )
                .bind(topic_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(from_row)
                .collect()
            }

            async fn dismiss_gap_questions(&self, actor: &Actor, topic_id: i64, question_ids: &[i64]) -> StoreResult<u64> {
                let mut tx = self.write.begin().await?;
                lock_open_topic(&mut tx, topic_id).await?;
                let now = now_ms();
                let mut n = 0;
                for id in question_ids {
                    let done = sqlx::query(
                        "UPDATE unanswered_questions SET dismissed_at = $1 WHERE id = $2 AND topic_id = $3 AND dismissed_at IS NULL",
                    )
                    .bind(now)
                    .bind(id)
                    .bind(topic_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if done == 0 {
                        return Err(StoreError::Invalid(format!(
                            "question {id} is not an open question of topic {topic_id}"
                        )));
                    }
                    n += done;
                }
                audit(&mut tx, actor, "dismiss", "gap_questions", topic_id, None, Some(json!({"question_ids": question_ids})))
                    .await?;
                tx.commit().await?;
                Ok(n)
            }

            async fn dismiss_gap_topic(&self, actor: &Actor, topic_id: i64) -> StoreResult<GapTopic> {
                let mut tx = self.write.begin().await?;
                let t = close_topic(&mut tx, actor, topic_id, topic_status::DISMISSED, None).await?;
                tx.commit().await?;
                Ok(t)
            }

            async fn resolve_gap_topic(
                &self,
                actor: &Actor,
                topic_id: i64,
                new: NewShortAnswer,
            ) -> StoreResult<(ShortAnswerRow, GapTopic)> {
                let mut tx = self.write.begin().await?;
                lock_open_topic(&mut tx, topic_id).await?;
                let sa = insert_short_answer(&mut tx, actor, &new).await?;
                let topic = close_topic(&mut tx, actor, topic_id, topic_status::RESOLVED, Some(sa.id)).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok((sa, topic))
            }
        }
    };
}

pub(crate) use impl_gap_store;
