//! The credits SQL both backends share (see `sql.rs` for the rules).
//! `impl_credit_store!` is invoked next to `impl_store!`, whose helpers
//! (`audit`, `Tx`, `DbRow`) it uses; `append_turn` calls
//! `credits_charge_reply` so the debit is in the reply's transaction.
//!
//! Every ledger write first locks the settings row (`$lock` is ` FOR UPDATE`
//! on PostgreSQL; SQLite's single writer serialises writes anyway), then
//! reads the balance (the newest row's `balance_after`), so concurrent
//! replies are paid one after the other and the balance never goes negative.

pub(crate) const CREDIT_SETTINGS_COLUMNS: &str =
    "enabled, cost_per_reply, monthly_allowance, reset_day, auto_top_up, max_top_ups_per_period";
pub(crate) const LEDGER_COLUMNS: &str =
    "id, at, kind, amount, balance_after, channel, conversation_id, message_id, actor, note";

macro_rules! impl_credit_store {
    ($store:ty, $db:ty, $lock:literal) => {
        use crate::sql_credits::{CREDIT_SETTINGS_COLUMNS, LEDGER_COLUMNS};
        use frontdesk_core::credits as core_credits;
        use frontdesk_core::credits::{CreditSettings, LedgerKind};

        fn credit_settings_from_row(r: &DbRow) -> StoreResult<CreditSettings> {
            Ok(CreditSettings {
                enabled: r.try_get("enabled")?,
                cost_per_reply: r.try_get("cost_per_reply")?,
                monthly_allowance: r.try_get("monthly_allowance")?,
                reset_day: r.try_get("reset_day")?,
                auto_top_up: r.try_get("auto_top_up")?,
                max_top_ups_per_period: r.try_get("max_top_ups_per_period")?,
            })
        }

        fn ledger_from_row(r: &DbRow) -> StoreResult<LedgerEntry> {
            Ok(LedgerEntry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                kind: r.enum_col("kind", LedgerKind::parse)?,
                amount: r.try_get("amount")?,
                balance_after: r.try_get("balance_after")?,
                channel: r.try_get("channel")?,
                conversation_id: r.try_get("conversation_id")?,
                message_id: r.try_get("message_id")?,
                actor: r.try_get("actor")?,
                note: r.try_get("note")?,
            })
        }

        /// A ledger row to write.
        struct NewLedgerRow<'a> {
            kind: LedgerKind,
            amount: i64,
            balance_after: i64,
            period_key: Option<String>,
            channel: Option<&'a str>,
            conversation_id: Option<i64>,
            message_id: Option<i64>,
            actor: &'a str,
            note: Option<String>,
        }

        /// The settings, read under the settings row's lock: hold it before any ledger write.
        async fn credits_lock(tx: &mut Tx<'_>) -> StoreResult<CreditSettings> {
            let sql = format!("SELECT {CREDIT_SETTINGS_COLUMNS} FROM credit_settings WHERE id = 1{}", $lock);
            let row = sqlx::query(&sql).fetch_one(&mut **tx).await?;
            credit_settings_from_row(&row)
        }

        async fn credits_insert(tx: &mut Tx<'_>, row: NewLedgerRow<'_>, now: i64) -> StoreResult<Option<LedgerEntry>> {
            let r = sqlx::query(&format!(
                "INSERT INTO credit_ledger (at, kind, amount, balance_after, period_key, channel, conversation_id, message_id, actor, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (period_key) DO NOTHING RETURNING {LEDGER_COLUMNS}"
            ))
            .bind(now)
            .bind(row.kind.as_str())
            .bind(row.amount)
            .bind(row.balance_after)
            .bind(row.period_key)
            .bind(row.channel)
            .bind(row.conversation_id)
            .bind(row.message_id)
            .bind(row.actor)
            .bind(row.note)
            .fetch_optional(&mut **tx)
            .await?;
            r.as_ref().map(ledger_from_row).transpose()
        }

        /// The newest row's balance (0 before the first row).
        async fn credits_last_balance<'e, E>(exec: E) -> StoreResult<i64>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            let row = sqlx::query("SELECT balance_after FROM credit_ledger ORDER BY id DESC LIMIT 1")
                .fetch_optional(exec)
                .await?;
            Ok(match row {
                Some(r) => r.try_get("balance_after")?,
                None => 0,
            })
        }

        /// Under the lock: resets the balance to the allowance at the first
        /// operation of a period; returns the balance and the period's top-ups.
        async fn credits_open_period(tx: &mut Tx<'_>, s: &CreditSettings, now: i64) -> StoreResult<(i64, i64)> {
            let period = core_credits::period_containing(now, s.reset_day);
            let key = format!("allowance:{}", period.key);
            let started = sqlx::query("SELECT id FROM credit_ledger WHERE period_key = $1")
                .bind(&key)
                .fetch_optional(&mut **tx)
                .await?
                .is_some();
            if !started {
                let last = credits_last_balance(&mut **tx).await?;
                let note = format!(
                    "period from {}: balance reset to the monthly allowance of {}",
                    period.key, s.monthly_allowance
                );
                credits_insert(tx, NewLedgerRow {
                    kind: LedgerKind::Allowance,
                    amount: core_credits::allowance_amount(s, last),
                    balance_after: s.monthly_allowance,
                    period_key: Some(key),
                    channel: None,
                    conversation_id: None,
                    message_id: None,
                    actor: "system",
                    note: Some(note),
                }, now)
                .await?;
            }
            let balance = credits_last_balance(&mut **tx).await?;
            let top_ups: i64 = sqlx::query("SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = 'top_up' AND at >= $1")
                .bind(period.start_ms)
                .fetch_one(&mut **tx)
                .await?
                .try_get("n")?;
            Ok((balance, top_ups))
        }

        /// Pays an agent reply just stored in this transaction (called by
        /// `append_turn`): nothing when credits are off or the conversation
        /// is a preview; otherwise top-ups if needed and a `reply` row.
        async fn credits_charge_reply(tx: &mut Tx<'_>, conversation_id: i64, message_id: i64, now: i64) -> StoreResult<()> {
            // A plain read first, so replies do not queue on the lock while credits are off.
            let enabled: bool = sqlx::query("SELECT enabled FROM credit_settings WHERE id = 1")
                .fetch_one(&mut **tx)
                .await?
                .try_get("enabled")?;
            if !enabled {
                return Ok(());
            }
            let c = sqlx::query("SELECT channel, is_preview FROM conversations WHERE id = $1")
                .bind(conversation_id)
                .fetch_one(&mut **tx)
                .await?;
            if c.try_get::<bool, _>("is_preview")? {
                return Ok(());
            }
            let channel: String = c.try_get("channel")?;
            let s = credits_lock(tx).await?;
            if !s.enabled {
                return Ok(());
            }
            let (balance, top_ups_used) = credits_open_period(tx, &s, now).await?;
            let charge = core_credits::charge_reply(&s, balance, top_ups_used);
            let mut running = balance;
            for pack in &charge.top_ups {
                running += pack;
                credits_insert(tx, NewLedgerRow {
                    kind: LedgerKind::TopUp,
                    amount: *pack,
                    balance_after: running,
                    period_key: None,
                    channel: Some(&channel),
                    conversation_id: Some(conversation_id),
                    message_id: Some(message_id),
                    actor: "system",
                    note: Some(format!("automatic top-up of {pack}: the balance of {balance} could not pay a reply")),
                }, now)
                .await?;
            }
            let note = (charge.shortfall > 0).then(|| {
                format!("out of credits: {} of the reply's {} credits unpaid", charge.shortfall, s.cost_per_reply)
            });
            credits_insert(tx, NewLedgerRow {
                kind: LedgerKind::Reply,
                amount: -charge.charged,
                balance_after: charge.balance_after,
                period_key: None,
                channel: Some(&channel),
                conversation_id: Some(conversation_id),
                message_id: Some(message_id),
                actor: "agent",
                note,
            }, now)
            .await?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl CreditStore for $store {
            async fn credit_settings(&self) -> StoreResult<CreditSettings> {
                let row = sqlx::query(&format!("SELECT {CREDIT_SETTINGS_COLUMNS} FROM credit_settings WHERE id = 1"))
                    .fetch_one(&self.read)
                    .await?;
                credit_settings_from_row(&row)
            }

            async fn set_credit_settings(&self, actor: &Actor, settings: CreditSettings) -> StoreResult<CreditSettings> {
                settings.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
                let mut tx = self.write.begin().await?;
                let before = credits_lock(&mut tx).await?;
                sqlx::query(
                    "UPDATE credit_settings SET enabled = $1, cost_per_reply = $2, monthly_allowance = $3, reset_day = $4, \
                     auto_top_up = $5, max_top_ups_per_period = $6, updated_at = $7 WHERE id = 1",
                )
                .bind(settings.enabled)
                .bind(settings.cost_per_reply)
                .bind(settings.monthly_allowance)
                .bind(settings.reset_day)
                .bind(settings.auto_top_up)
                .bind(settings.max_top_ups_per_period)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                audit(&mut tx, actor, "update", "credit_settings", 1, Some(json!(before)), Some(json!(settings))).await?;
                tx.commit().await?;
                Ok(settings)
            }

            async fn grant_credits(&self, actor: &Actor, amount: i64, note: Option<String>) -> StoreResult<LedgerEntry> {
                if !(1..=core_credits::MAX_CREDITS).contains(&amount) {
                    return Err(StoreError::Invalid(format!("amount must be between 1 and {}", core_credits::MAX_CREDITS)));
                }
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let s = credits_lock(&mut tx).await?;
                // A grant belongs to the current period: open it first, so
                // the period's reset cannot wipe the grant out afterwards.
                let balance = if s.enabled {
                    credits_open_period(&mut tx, &s, now).await?.0
                } else {
                    credits_last_balance(&mut *tx).await?
                };
                let entry = credits_insert(&mut tx, NewLedgerRow {
                    kind: LedgerKind::Grant,
                    amount,
                    balance_after: balance + amount,
                    period_key: None,
                    channel: None,
                    conversation_id: None,
                    message_id: None,
                    actor: &actor.label,
                    note,
                }, now)
                .await?
                .ok_or(StoreError::Invalid("the grant was not recorded".into()))?;
                audit(&mut tx, actor, "grant", "credits", entry.id, None, Some(json!(entry))).await?;
                tx.commit().await?;
                Ok(entry)
            }

            async fn credit_status(&self, now: i64) -> StoreResult<CreditStatus> {
                let settings = self.credit_settings().await?;
                let period = core_credits::period_containing(now, settings.reset_day);
                let started = sqlx::query("SELECT id FROM credit_ledger WHERE period_key = $1")
                    .bind(format!("allowance:{}", period.key))
                    .fetch_optional(&self.read)
                    .await?
                    .is_some();
                let last = credits_last_balance(&self.read).await?;
                let row = sqlx::query(
                    "SELECT COUNT(CASE WHEN kind = 'top_up' THEN 1 END) AS top_ups, \
                     CAST(COALESCE(SUM(CASE WHEN kind = 'reply' THEN -amount ELSE 0 END), 0) AS BIGINT) AS used \
                     FROM credit_ledger WHERE at >= $1",
                )
                .bind(period.start_ms)
                .fetch_one(&self.read)
                .await?;
                let (top_ups, used): (i64, i64) =
                    if started { (row.try_get("top_ups")?, row.try_get("used")?) } else { (0, 0) };
                let balance = if settings.enabled { core_credits::effective_balance(&settings, last, started) } else { last };
                let out_of_credits = !core_credits::may_take_new_conversations(&settings, balance, top_ups);
                Ok(CreditStatus {
                    settings,
                    balance,
                    period,
                    top_ups_this_period: top_ups,
                    used_this_period: used,
                    out_of_credits,
                })
            }

            async fn credit_usage(&self, from: i64, to: i64) -> StoreResult<CreditUsage> {
                let rows = |group: &'static str| {
                    format!(
                        "SELECT {group} AS k, COUNT(*) AS replies, CAST(SUM(-amount) AS BIGINT) AS credits FROM credit_ledger \
                         WHERE kind = 'reply' AND at >= $1 AND at < $2 GROUP BY {group} ORDER BY {group}"
                    )
                };
                let days = sqlx::query(&rows("CAST(at / 86400000 AS BIGINT)"))
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(UsageRow {
                            key: core_credits::day_string(r.try_get("k")?),
                            replies: r.try_get("replies")?,
                            credits: r.try_get("credits")?,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                let channels = sqlx::query(&rows("COALESCE(channel, '')"))
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(UsageRow {
                            key: r.try_get("k")?,
                            replies: r.try_get("replies")?,
                            credits: r.try_get("credits")?,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                let total = UsageRow {
                    key: "total".into(),
                    replies: days.iter().map(|d| d.replies).sum(),
                    credits: days.iter().map(|d| d.credits).sum(),
                };
                Ok(CreditUsage { from, to, days, channels, total })
            }

            async fn credit_ledger(&self, limit: i64) -> StoreResult<Vec<LedgerEntry>> {
                sqlx::query(&format!("SELECT {LEDGER_COLUMNS} FROM credit_ledger ORDER BY id DESC LIMIT $1"))
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(ledger_from_row)
                    .collect()
            }
        }
    };
}

pub(crate) use impl_credit_store;
