//! The bot SQL both backends share (see `sql.rs` for the rules).

macro_rules! impl_bot_store {
    ($store:ty) => {
        fn bot_from_row(r: &DbRow) -> StoreResult<BotRow> {
            #[derive(serde::Deserialize)]
            struct Definition {
                start: String,
                steps: Vec<frontdesk_core::bot::Step>,
            }
            let d: Definition = r.json_col("definition")?;
            Ok(BotRow {
                bot: frontdesk_core::bot::Bot {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    channel: r.enum_col("channel", Channel::parse)?,
                    enabled: r.try_get("enabled")?,
                    start: d.start,
                    steps: d.steps,
                },
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        fn bot_definition(bot: &frontdesk_core::bot::Bot) -> StoreResult<String> {
            Ok(serde_json::to_string(&json!({"start": bot.start, "steps": bot.steps}))?)
        }

        const BOT_COLUMNS: &str = "id, name, channel, enabled, definition, created_at, updated_at";

        async fn bot_in(tx: &mut Tx<'_>, id: i64) -> StoreResult<BotRow> {
            let row = sqlx::query(&format!("SELECT {BOT_COLUMNS} FROM bots WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("bot"))?;
            bot_from_row(&row)
        }

        #[async_trait::async_trait]
        impl BotStore for $store {
            async fn list_bots(&self) -> StoreResult<Vec<BotRow>> {
                sqlx::query(&format!("SELECT {BOT_COLUMNS} FROM bots ORDER BY id"))
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(bot_from_row)
                    .collect()
            }

            async fn get_bot(&self, id: i64) -> StoreResult<BotRow> {
                let row = sqlx::query(&format!("SELECT {BOT_COLUMNS} FROM bots WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("bot"))?;
                bot_from_row(&row)
            }

            async fn create_bot(&self, actor: &Actor, bot: frontdesk_core::bot::Bot) -> StoreResult<BotRow> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let id: i64 = sqlx::query(
                    "INSERT INTO bots (name, channel, enabled, definition, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(&bot.name)
                .bind(bot.channel.as_str())
                .bind(bot.enabled)
                .bind(bot_definition(&bot)?)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                let row = bot_in(&mut tx, id).await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "create", "bot", id, None, Some(json!(row.bot))).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(row)
            }

            async fn update_bot(&self, actor: &Actor, id: i64, bot: frontdesk_core::bot::Bot) -> StoreResult<BotRow> {
                let mut tx = self.write.begin().await?;
                let before = bot_in(&mut tx, id).await?;
                sqlx::query(
                    "UPDATE bots SET name = $1, channel = $2, enabled = $3, definition = $4, updated_at = $5 WHERE id = $6",
                )
                .bind(&bot.name)
                .bind(bot.channel.as_str())
                .bind(bot.enabled)
                .bind(bot_definition(&bot)?)
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let row = bot_in(&mut tx, id).await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "update", "bot", id, Some(json!(before.bot)), Some(json!(row.bot))).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(row)
            }

            async fn delete_bot(&self, actor: &Actor, id: i64) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let before = bot_in(&mut tx, id).await?;
                sqlx::query("DELETE FROM bot_sessions WHERE bot_id = $1").bind(id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM bots WHERE id = $1").bind(id).execute(&mut *tx).await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "delete", "bot", id, Some(json!(before.bot)), None).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(())
            }

            async fn bot_for_channel(&self, channel: Channel) -> StoreResult<Option<BotRow>> {
                sqlx::query(&format!(
                    "SELECT {BOT_COLUMNS} FROM bots WHERE channel = $1 AND enabled = $2 ORDER BY id LIMIT 1"
                ))
                .bind(channel.as_str())
                .bind(true)
                .fetch_optional(&self.read)
                .await?
                .map(|r| bot_from_row(&r))
                .transpose()
            }

            async fn bot_session(&self, conversation_id: i64) -> StoreResult<Option<BotSession>> {
                let Some(r) = sqlx::query(
                    "SELECT conversation_id, bot_id, state, finished FROM bot_sessions WHERE conversation_id = $1",
                )
                .bind(conversation_id)
                .fetch_optional(&self.write)
                .await?
                else {
                    return Ok(None);
                };
                Ok(Some(BotSession {
                    conversation_id: r.try_get("conversation_id")?,
                    bot_id: r.try_get("bot_id")?,
                    state: r.json_col("state")?,
                    finished: r.try_get("finished")?,
                }))
            }

            async fn save_bot_session(&self, session: &BotSession) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO bot_sessions (conversation_id, bot_id, state, finished, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (conversation_id) DO UPDATE SET bot_id = $2, state = $3, finished = $4, updated_at = $5",
                )
                .bind(session.conversation_id)
                .bind(session.bot_id)
                .bind(serde_json::to_string(&session.state)?)
                .bind(session.finished)
                .bind(now_ms())
                .execute(&self.write)
                .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_bot_store;
