//! The handoff SQL both backends share (see `sql.rs` for the rules).

macro_rules! impl_handoff_store {
    ($store:ty) => {
        /// Candidates as seen inside a transaction (the turn's, when routing).
        async fn candidates_in<'e, E>(exec: E, user_ids: &[i64]) -> StoreResult<Vec<frontdesk_core::routing::Candidate>>
        where
            E: sqlx::Executor<'e, Database = Db>,
        {
            if user_ids.is_empty() {
                return Ok(Vec::new());
            }
            let list = user_ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(", ");
            // The ids are integers we formatted ourselves: no injection possible.
            let rows = sqlx::query(&format!(
                "SELECT u.id, u.availability, u.paid_seat, u.disabled, u.last_routed_at, \
                 (SELECT COUNT(*) FROM conversations c WHERE c.assignee_kind = 'human' AND c.assignee_user_id = u.id \
                  AND c.status = 'open') AS open_load \
                 FROM users u WHERE u.id IN ({list}) ORDER BY u.id"
            ))
            .fetch_all(exec)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(frontdesk_core::routing::Candidate {
                        user_id: r.try_get("id")?,
                        available: r.try_get::<String, _>("availability")? == "available",
                        paid_seat: r.try_get("paid_seat")?,
                        disabled: r.try_get("disabled")?,
                        open_load: r.try_get("open_load")?,
                        last_assigned_at: r.try_get("last_routed_at")?,
                    })
                })
                .collect()
        }

        #[async_trait::async_trait]
        impl HandoffStore for $store {
            async fn handoff_settings(&self) -> StoreResult<HandoffSettings> {
                let row = sqlx::query("SELECT settings FROM handoff_settings WHERE id = 1").fetch_optional(&self.read).await?;
                match row {
                    Some(r) => Ok(r.json_col("settings")?),
                    None => Ok(HandoffSettings::default()),
                }
            }

            async fn set_handoff_settings(&self, actor: &Actor, settings: HandoffSettings) -> StoreResult<HandoffSettings> {
                let mut tx = self.write.begin().await?;
                let before: Option<HandoffSettings> = sqlx::query("SELECT settings FROM handoff_settings WHERE id = 1")
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| r.try_get::<String, _>("settings"))
                    .transpose()?
                    .map(|s| serde_json::from_str(&s))
                    .transpose()?;
                for id in settings.user_ids.iter() {
                    fetch_user(&mut tx, *id).await?;
                }
                for id in settings.team_ids.iter() {
                    let found = sqlx::query("SELECT id FROM teams WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
                    if found.is_none() {
                        return Err(StoreError::Invalid(format!("team_ids: there is no team {id}")));
                    }
                }
                sqlx::query(
                    "INSERT INTO handoff_settings (id, settings, updated_at) VALUES (1, $1, $2) \
                     ON CONFLICT (id) DO UPDATE SET settings = $1, updated_at = $2",
                )
                .bind(serde_json::to_string(&settings)?)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "update", "handoff_settings", 1, before.map(|b| json!(b)), Some(json!(settings))).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(settings)
            }

            async fn routing_candidates(&self, user_ids: &[i64]) -> StoreResult<Vec<frontdesk_core::routing::Candidate>> {
                candidates_in(&self.read, user_ids).await
            }
        }
    };
}

pub(crate) use impl_handoff_store;
