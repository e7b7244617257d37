//! The working-hours SQL both backends share (see `sql.rs` for the rules).
//! `impl_hours_store!` is invoked next to `impl_store!`, whose helpers
//! (`audit`, `bump_content_version`, `Tx`, `DbRow`) it uses.

macro_rules! impl_hours_store {
    ($store:ty) => {
        fn working_hours_from_row(r: &DbRow) -> StoreResult<WorkingHours> {
            Ok(WorkingHours {
                channel: r.try_get("channel")?,
                schedule: r.json_col("schedule")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        async fn fetch_working_hours(tx: &mut Tx<'_>, channel: &str) -> StoreResult<Option<WorkingHours>> {
            sqlx::query("SELECT channel, schedule, updated_at FROM working_hours WHERE channel = $1")
                .bind(channel)
                .fetch_optional(&mut **tx)
                .await?
                .as_ref()
                .map(working_hours_from_row)
                .transpose()
        }

        #[async_trait]
        impl HoursStore for $store {
            async fn get_working_hours(&self, channel: &str) -> StoreResult<Option<WorkingHours>> {
                sqlx::query("SELECT channel, schedule, updated_at FROM working_hours WHERE channel = $1")
                    .bind(channel)
                    .fetch_optional(&self.read)
                    .await?
                    .as_ref()
                    .map(working_hours_from_row)
                    .transpose()
            }

            async fn list_working_hours(&self) -> StoreResult<Vec<WorkingHours>> {
                sqlx::query("SELECT channel, schedule, updated_at FROM working_hours ORDER BY channel")
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(working_hours_from_row)
                    .collect()
            }

            async fn set_working_hours(
                &self,
                actor: &Actor,
                channel: &str,
                schedule: &frontdesk_core::hours::Schedule,
            ) -> StoreResult<WorkingHours> {
                let mut tx = self.write.begin().await?;
                let before = fetch_working_hours(&mut tx, channel).await?;
                sqlx::query(
                    "INSERT INTO working_hours (channel, schedule, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (channel) DO UPDATE SET schedule = excluded.schedule, updated_at = excluded.updated_at",
                )
                .bind(channel)
                .bind(serde_json::to_string(schedule)?)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                let after = fetch_working_hours(&mut tx, channel).await?.ok_or(StoreError::NotFound("working hours"))?;
                bump_content_version(&mut tx).await?;
                let action = if before.is_some() { "update" } else { "create" };
                audit(
                    &mut tx,
                    actor,
                    action,
                    "working_hours",
                    channel,
                    before.map(|b| json!(b.schedule)),
                    Some(json!(after.schedule)),
                )
                .await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(after)
            }
        }
    };
}

pub(crate) use impl_hours_store;
