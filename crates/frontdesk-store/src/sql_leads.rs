//! The lead qualification SQL both backends share (see `sql.rs` for the
//! rules). `impl_lead_store!` is invoked next to `impl_store!`, whose
//! helpers (`audit`, `Tx`, `DbRow`) it uses.

macro_rules! impl_lead_store {
    ($store:ty) => {
        const LEAD_COLUMNS: &str =
            "id, conversation_id, contact_id, score, qualified, status, summary, created_at, updated_at";

        fn lead_from_row(r: &DbRow) -> StoreResult<Lead> {
            let status: String = r.try_get("status")?;
            Ok(Lead {
                id: r.try_get("id")?,
                conversation_id: r.try_get("conversation_id")?,
                contact_id: r.try_get("contact_id")?,
                score: r.try_get("score")?,
                qualified: r.try_get("qualified")?,
                status: LeadStatus::parse(&status)
                    .ok_or_else(|| StoreError::Invalid(format!("unknown lead status {status:?}")))?,
                summary: r.try_get("summary")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        async fn fetch_lead_settings(tx: &mut Tx<'_>) -> StoreResult<Option<frontdesk_core::leads::LeadSettings>> {
            sqlx::query("SELECT settings FROM lead_settings WHERE id = 1")
                .fetch_optional(&mut **tx)
                .await?
                .map(|r| r.try_get::<String, _>("settings"))
                .transpose()?
                .map(|s| serde_json::from_str(&s))
                .transpose()
                .map_err(Into::into)
        }

        #[async_trait::async_trait]
        impl LeadStore for $store {
            async fn lead_settings(&self) -> StoreResult<frontdesk_core::leads::LeadSettings> {
                let row = sqlx::query("SELECT settings FROM lead_settings WHERE id = 1").fetch_optional(&self.read).await?;
                match row {
                    Some(r) => Ok(r.json_col("settings")?),
                    None => Ok(Default::default()),
                }
            }

            async fn set_lead_settings(
                &self,
                actor: &Actor,
                settings: frontdesk_core::leads::LeadSettings,
            ) -> StoreResult<frontdesk_core::leads::LeadSettings> {
                let mut tx = self.write.begin().await?;
                let before = fetch_lead_settings(&mut tx).await?;
                if let Some(team) = settings.sales_team_id {
                    let found = sqlx::query("SELECT id FROM teams WHERE id = $1").bind(team).fetch_optional(&mut *tx).await?;
                    if found.is_none() {
                        return Err(StoreError::Invalid(format!("sales_team_id: there is no team {team}")));
                    }
                }
                sqlx::query(
                    "INSERT INTO lead_settings (id, settings, updated_at) VALUES (1, $1, $2) \
                     ON CONFLICT (id) DO UPDATE SET settings = $1, updated_at = $2",
                )
                .bind(serde_json::to_string(&settings)?)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                audit(&mut tx, actor, "update", "lead_settings", 1, before.map(|b| json!(b)), Some(json!(settings)))
                    .await?;
                bump_content_version(&mut tx).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(settings)
            }

            async fn record_lead(&self, lead: LeadRecord) -> StoreResult<Lead> {
                let now = now_ms();
                let row = sqlx::query(&format!(
                    "INSERT INTO leads (conversation_id, contact_id, score, qualified, status, summary, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                     ON CONFLICT (conversation_id) DO UPDATE SET contact_id = excluded.contact_id, score = excluded.score, \
                     qualified = excluded.qualified, status = excluded.status, summary = excluded.summary, \
                     updated_at = excluded.updated_at RETURNING {LEAD_COLUMNS}"
                ))
                .bind(lead.conversation_id)
                .bind(lead.contact_id)
                .bind(lead.score)
                .bind(lead.qualified)
                .bind(lead.status.as_str())
                .bind(&lead.summary)
                .bind(now)
                .fetch_one(&self.write)
                .await?;
                lead_from_row(&row)
            }

            async fn get_lead(&self, conversation_id: i64) -> StoreResult<Option<Lead>> {
                sqlx::query(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE conversation_id = $1"))
                    .bind(conversation_id)
                    .fetch_optional(&self.read)
                    .await?
                    .as_ref()
                    .map(lead_from_row)
                    .transpose()
            }

            async fn list_leads(&self, status: Option<LeadStatus>, limit: i64) -> StoreResult<Vec<Lead>> {
                let rows = match status {
                    Some(s) => {
                        sqlx::query(&format!(
                            "SELECT {LEAD_COLUMNS} FROM leads WHERE status = $1 ORDER BY updated_at DESC, id DESC LIMIT $2"
                        ))
                        .bind(s.as_str())
                        .bind(limit)
                        .fetch_all(&self.read)
                        .await?
                    }
                    None => {
                        sqlx::query(&format!("SELECT {LEAD_COLUMNS} FROM leads ORDER BY updated_at DESC, id DESC LIMIT $1"))
                            .bind(limit)
                            .fetch_all(&self.read)
                            .await?
                    }
                };
                rows.iter().map(lead_from_row).collect()
            }
        }
    };
}

pub(crate) use impl_lead_store;
