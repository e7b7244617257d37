//! The channel SQL both backends share (see `sql.rs` for the rules).

macro_rules! impl_channel_store {
    ($store:ty) => {
        const CHANNEL_COLUMNS: &str =
            "id, kind, name, agent_deployed, destination, config, secrets, key_hash, created_at, updated_at";
        const DELIVERY_COLUMNS: &str = "id, channel_id, conversation_id, message_id, status, attempts, last_error, \
            external_id, idempotency_key, created_at, updated_at";

        fn channel_from_row(r: &DbRow) -> StoreResult<ChannelRow> {
            let secrets: std::collections::BTreeMap<String, String> =
                r.json_col("secrets")?;
            Ok(ChannelRow {
                id: r.try_get("id")?,
                kind: r.enum_col("kind", Channel::parse)?,
                name: r.try_get("name")?,
                agent_deployed: r.try_get("agent_deployed")?,
                destination: r.try_get("destination")?,
                config: r.json_col("config")?,
                secrets_set: secrets.into_keys().collect(),
                has_key: r.try_get::<Option<String>, _>("key_hash")?.is_some(),
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        fn delivery_from_row(r: &DbRow) -> StoreResult<Delivery> {
            Ok(Delivery {
                id: r.try_get("id")?,
                channel_id: r.try_get("channel_id")?,
                conversation_id: r.try_get("conversation_id")?,
                message_id: r.try_get("message_id")?,
                status: r.enum_col("status", DeliveryStatus::parse)?,
                attempts: r.try_get("attempts")?,
                last_error: r.try_get("last_error")?,
                external_id: r.try_get("external_id")?,
                idempotency_key: r.try_get("idempotency_key")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        async fn channel_in(tx: &mut Tx<'_>, id: i64) -> StoreResult<ChannelRow> {
            let r = sqlx::query(&format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("channel"))?;
            channel_from_row(&r)
        }

        /// Where a delivery's status may go: forward only (a late "sent"
        /// never overwrites "read"); "failed" is final unless a retry sends it.
        fn delivery_rank(s: DeliveryStatus) -> u8 {
            match s {
                DeliveryStatus::Queued => 0,
                DeliveryStatus::Failed | DeliveryStatus::Skipped => 1,
                DeliveryStatus::Sent => 2,
                DeliveryStatus::Delivered => 3,
                DeliveryStatus::Read => 4,
            }
        }

        #[async_trait::async_trait]
        impl ChannelStore for $store {
            async fn list_channels(&self) -> StoreResult<Vec<ChannelRow>> {
                sqlx::query(&format!("SELECT {CHANNEL_COLUMNS} FROM channels ORDER BY id"))
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(channel_from_row)
                    .collect()
            }

            async fn get_channel(&self, id: i64) -> StoreResult<ChannelRow> {
                let r = sqlx::query(&format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("channel"))?;
                channel_from_row(&r)
            }

            async fn channel_secrets(&self, id: i64) -> StoreResult<std::collections::BTreeMap<String, String>> {
                let r = sqlx::query("SELECT secrets FROM channels WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("channel"))?;
                Ok(r.json_col("secrets")?)
            }

            async fn channel_by_key(&self, key_hash: &str) -> StoreResult<Option<ChannelRow>> {
                sqlx::query(&format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE key_hash = $1"))
                    .bind(key_hash)
                    .fetch_optional(&self.read)
                    .await?
                    .as_ref()
                    .map(channel_from_row)
                    .transpose()
            }

            async fn create_channel(&self, actor: &Actor, new: NewChannel) -> StoreResult<ChannelRow> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let id: i64 = sqlx::query(
                    "INSERT INTO channels (kind, name, agent_deployed, config, secrets, key_hash, state, created_at, updated_at, destination) \
                     VALUES ($1, $2, $3, $4, $5, $6, '{}', $7, $7, $8) RETURNING id",
                )
                .bind(new.kind.as_str())
                .bind(&new.name)
                .bind(new.agent_deployed)
                .bind(new.config.to_string())
                .bind(serde_json::to_string(&new.secrets)?)
                .bind(&new.key_hash)
                .bind(now)
                .bind(&new.destination)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                let row = channel_in(&mut tx, id).await?;
                audit(&mut tx, actor, "create", "channel", id, None, Some(json!(row))).await?;
                tx.commit().await?;
                Ok(row)
            }

            async fn update_channel(&self, actor: &Actor, id: i64, patch: ChannelPatch) -> StoreResult<ChannelRow> {
                let mut tx = self.write.begin().await?;
                let before = channel_in(&mut tx, id).await?;
                let secrets: String = sqlx::query("SELECT secrets FROM channels WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("secrets")?;
                let mut secrets: std::collections::BTreeMap<String, String> = serde_json::from_str(&secrets)?;
                for (k, v) in patch.secrets {
                    if v.is_empty() {
                        secrets.remove(&k);
                    } else {
                        secrets.insert(k, v);
                    }
                }
                sqlx::query(
                    "UPDATE channels SET name = $1, agent_deployed = $2, config = $3, secrets = $4, \
                     key_hash = COALESCE($5, key_hash), updated_at = $6, destination = $8 WHERE id = $7",
                )
                .bind(patch.name.as_deref().unwrap_or(&before.name))
                .bind(patch.agent_deployed.unwrap_or(before.agent_deployed))
                .bind(patch.config.as_ref().unwrap_or(&before.config).to_string())
                .bind(serde_json::to_string(&secrets)?)
                .bind(&patch.key_hash)
                .bind(now_ms())
                .bind(id)
                .bind(patch.destination.as_deref().unwrap_or(&before.destination))
                .execute(&mut *tx)
                .await?;
                let row = channel_in(&mut tx, id).await?;
                audit(&mut tx, actor, "update", "channel", id, Some(json!(before)), Some(json!(row))).await?;
                tx.commit().await?;
                Ok(row)
            }

            async fn delete_channel(&self, actor: &Actor, id: i64) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let before = channel_in(&mut tx, id).await?;
                sqlx::query("DELETE FROM channels WHERE id = $1").bind(id).execute(&mut *tx).await?;
                audit(&mut tx, actor, "delete", "channel", id, Some(json!(before)), None).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn channel_state(&self, id: i64) -> StoreResult<Value> {
                let r = sqlx::query("SELECT state FROM channels WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("channel"))?;
                Ok(r.json_col("state")?)
            }

            async fn set_channel_state(&self, id: i64, state: Value) -> StoreResult<()> {
                sqlx::query("UPDATE channels SET state = $1 WHERE id = $2")
                    .bind(state.to_string())
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn find_thread(&self, channel_id: i64, keys: &[String]) -> StoreResult<Option<Conversation>> {
                for key in keys {
                    let row = sqlx::query(&format!(
                        "SELECT {CONVERSATION_COLUMNS} FROM channel_threads t JOIN conversations c ON c.id = t.conversation_id \
                         WHERE t.channel_id = $1 AND t.thread_key = $2"
                    ))
                    .bind(channel_id)
                    .bind(key)
                    .fetch_optional(&self.read)
                    .await?;
                    if let Some(r) = row {
                        return Ok(Some(conversation_from_row(&r)?));
                    }
                }
                Ok(None)
            }

            async fn open_conversation_by_handle(&self, channel_id: i64, handle: &str) -> StoreResult<Option<Conversation>> {
                sqlx::query(&format!(
                    "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.channel_id = $1 AND c.handle = $2 \
                     AND c.status = 'open' ORDER BY c.id DESC LIMIT 1"
                ))
                .bind(channel_id)
                .bind(handle)
                .fetch_optional(&self.read)
                .await?
                .as_ref()
                .map(conversation_from_row)
                .transpose()
            }

            async fn last_conversation_by_handle(&self, channel_id: i64, handle: &str) -> StoreResult<Option<Conversation>> {
                sqlx::query(&format!(
                    "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.channel_id = $1 AND c.handle = $2 \
                     ORDER BY c.id DESC LIMIT 1"
                ))
                .bind(channel_id)
                .bind(handle)
                .fetch_optional(&self.read)
                .await?
                .as_ref()
                .map(conversation_from_row)
                .transpose()
            }

            async fn inbound_seen(&self, channel_id: i64, external_id: &str) -> StoreResult<bool> {
                Ok(sqlx::query("SELECT 1 AS one FROM channel_inbound WHERE channel_id = $1 AND external_id = $2")
                    .bind(channel_id)
                    .bind(external_id)
                    .fetch_optional(&self.read)
                    .await?
                    .is_some())
            }

            async fn last_inbound_meta(&self, conversation_id: i64) -> StoreResult<Option<Value>> {
                let r = sqlx::query(
                    "SELECT meta FROM channel_inbound WHERE conversation_id = $1 ORDER BY created_at DESC, message_id DESC LIMIT 1",
                )
                .bind(conversation_id)
                .fetch_optional(&self.read)
                .await?;
                Ok(r.map(|r| r.try_get::<String, _>("meta")).transpose()?.map(|m| serde_json::from_str(&m)).transpose()?)
            }

            async fn list_attachments(&self, conversation_id: i64) -> StoreResult<Vec<AttachmentInfo>> {
                sqlx::query(
                    "SELECT a.id, a.message_id, a.filename, a.content_type, a.size FROM message_attachments a \
                     JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = $1 ORDER BY a.id",
                )
                .bind(conversation_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(from_row)
                .collect()
            }

            async fn attachment_data(&self, id: i64) -> StoreResult<(AttachmentInfo, Vec<u8>)> {
                let r = sqlx::query(
                    "SELECT id, message_id, filename, content_type, size, data FROM message_attachments WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.read)
                .await?
                .ok_or(StoreError::NotFound("attachment"))?;
                Ok((from_row(&r)?, r.try_get("data")?))
            }

            async fn add_thread_key(&self, channel_id: i64, key: &str, conversation_id: i64) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO channel_threads (channel_id, thread_key, conversation_id) VALUES ($1, $2, $3) \
                     ON CONFLICT (channel_id, thread_key) DO NOTHING",
                )
                .bind(channel_id)
                .bind(key)
                .bind(conversation_id)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn get_delivery(&self, id: i64) -> StoreResult<Delivery> {
                let r = sqlx::query(&format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("delivery"))?;
                delivery_from_row(&r)
            }

            async fn deliveries_for(&self, conversation_id: i64) -> StoreResult<Vec<Delivery>> {
                sqlx::query(&format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE conversation_id = $1 ORDER BY id"))
                    .bind(conversation_id)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(delivery_from_row)
                    .collect()
            }

            async fn update_delivery(&self, id: i64, u: DeliveryUpdate) -> StoreResult<Delivery> {
                let r = sqlx::query(&format!(
                    "UPDATE deliveries SET status = $1, external_id = COALESCE($2, external_id), last_error = $3, \
                     attempts = attempts + $4, updated_at = $5 WHERE id = $6 RETURNING {DELIVERY_COLUMNS}"
                ))
                .bind(u.status.as_str())
                .bind(&u.external_id)
                .bind(&u.error)
                .bind(if u.attempted { 1i64 } else { 0 })
                .bind(now_ms())
                .bind(id)
                .fetch_optional(&self.write)
                .await?
                .ok_or(StoreError::NotFound("delivery"))?;
                delivery_from_row(&r)
            }

            async fn delivery_status_by_external(
                &self,
                channel_id: i64,
                external_id: &str,
                status: DeliveryStatus,
                error: Option<&str>,
            ) -> StoreResult<bool> {
                let mut tx = self.write.begin().await?;
                let Some(r) = sqlx::query(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE channel_id = $1 AND external_id = $2"
                ))
                .bind(channel_id)
                .bind(external_id)
                .fetch_optional(&mut *tx)
                .await?
                else {
                    return Ok(false);
                };
                let d = delivery_from_row(&r)?;
                // Forward only; a failure reported after "sent" is recorded.
                let forward = delivery_rank(status) > delivery_rank(d.status)
                    || (status == DeliveryStatus::Failed && d.status == DeliveryStatus::Sent);
                if forward {
                    sqlx::query("UPDATE deliveries SET status = $1, last_error = COALESCE($2, last_error), updated_at = $3 WHERE id = $4")
                        .bind(status.as_str())
                        .bind(error)
                        .bind(now_ms())
                        .bind(d.id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn count_deliveries_to(&self, channel_id: i64, handle: &str, since: i64) -> StoreResult<i64> {
                Ok(sqlx::query(
                    // The contact's conversations first (index on channel, handle), then
                    // their deliveries (index on conversation): never a scan of the outbox.
                    "SELECT COUNT(*) AS n FROM deliveries d WHERE d.conversation_id IN \
                     (SELECT c.id FROM conversations c WHERE c.channel_id = $1 AND c.handle = $2) \
                     AND d.created_at >= $3 AND d.status <> 'skipped'",
                )
                .bind(channel_id)
                .bind(handle)
                .bind(since)
                .fetch_one(&self.read)
                .await?
                .try_get("n")?)
            }

            async fn messaging_settings(&self) -> StoreResult<Vec<MessagingSettings>> {
                let rows = sqlx::query("SELECT channel, ask_email, close_after_minutes FROM messaging_settings")
                    .fetch_all(&self.read)
                    .await?;
                let mut out: Vec<MessagingSettings> =
                    Channel::ALL.iter().map(|c| MessagingSettings::default_for(*c)).collect();
                for r in rows {
                    let channel = r.enum_col("channel", Channel::parse)?;
                    if let Some(s) = out.iter_mut().find(|s| s.channel == channel) {
                        s.ask_email = r.enum_col("ask_email", AskEmail::parse)?;
                        s.close_after_minutes = r.try_get("close_after_minutes")?;
                    }
                }
                Ok(out)
            }

            async fn put_messaging_settings(&self, actor: &Actor, s: MessagingSettings) -> StoreResult<MessagingSettings> {
                let mut tx = self.write.begin().await?;
                let before = sqlx::query("SELECT ask_email, close_after_minutes FROM messaging_settings WHERE channel = $1")
                    .bind(s.channel.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| -> StoreResult<Value> {
                        Ok(json!({"ask_email": r.try_get::<String, _>("ask_email")?,
                                  "close_after_minutes": r.try_get::<Option<i64>, _>("close_after_minutes")?}))
                    })
                    .transpose()?;
                sqlx::query(
                    "INSERT INTO messaging_settings (channel, ask_email, close_after_minutes, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (channel) DO UPDATE SET ask_email = $2, close_after_minutes = $3, updated_at = $4",
                )
                .bind(s.channel.as_str())
                .bind(s.ask_email.as_str())
                .bind(s.close_after_minutes)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                audit(&mut tx, actor, "update", "messaging_settings", s.channel.as_str(), before, Some(json!(s))).await?;
                // The agent reads these per turn from its snapshot.
                bump_content_version(&mut tx).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(s)
            }

            async fn set_email_ask(&self, conversation_id: i64, state: &str) -> StoreResult<()> {
                sqlx::query("UPDATE conversations SET email_ask = $1 WHERE id = $2")
                    .bind(state)
                    .bind(conversation_id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn set_conversation_contact(&self, conversation_id: i64, contact_id: i64) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                sqlx::query("UPDATE conversations SET contact_id = $1 WHERE id = $2")
                    .bind(contact_id)
                    .bind(conversation_id)
                    .execute(&mut *tx)
                    .await?;
                event(&mut tx, conversation_id, EventKind::ContactUpdated, "agent", None,
                    json!({"contact_id": contact_id, "reason": "matched by email"}), now_ms()).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn contact_by_phone(&self, phone: &str) -> StoreResult<Option<Contact>> {
                sqlx::query("SELECT id, email, name, phone, properties, created_at FROM contacts WHERE phone = $1 ORDER BY id LIMIT 1")
                    .bind(phone)
                    .fetch_optional(&self.read)
                    .await?
                    .as_ref()
                    .map(contact_from_row)
                    .transpose()
            }

            async fn close_inactive_on(&self, channel: Channel, before: i64) -> StoreResult<Vec<i64>> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let ids = sqlx::query(
                    "UPDATE conversations SET status = 'closed', closed_at = $1 \
                     WHERE status = 'open' AND channel = $2 AND last_activity_at < $3 AND is_preview = $4 RETURNING id",
                )
                .bind(now)
                .bind(channel.as_str())
                .bind(before)
                .bind(false)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>("id"))
                .collect::<Result<Vec<_>, _>>()?;
                for id in &ids {
                    event(&mut tx, *id, EventKind::Closed, "system", None, json!({"reason": "inactivity"}), now).await?;
                }
                tx.commit().await?;
                Ok(ids)
            }
        }
    };
}

pub(crate) use impl_channel_store;
