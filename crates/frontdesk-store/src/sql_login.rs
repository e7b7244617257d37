//! The sign-in security SQL both backends share (see `sql.rs` for the rules).
//! `impl_login_store!` is invoked next to `impl_store!`, whose helpers
//! (`audit`, `Tx`, `DbRow`) it uses. `$lock` is ` FOR UPDATE` on PostgreSQL
//! (SQLite's single writer serialises the read-modify-write anyway).

macro_rules! impl_login_store {
    ($store:ty, $lock:literal) => {
        use frontdesk_core::throttle::{self as core_throttle, Counter as ThrottleCounter, Policy as ThrottlePolicy};

        fn throttle_from_row(r: &DbRow) -> StoreResult<ThrottleCounter> {
            Ok(ThrottleCounter {
                failures: r.try_get("failures")?,
                window_start: r.try_get("window_start")?,
                locked_until: r.try_get("locked_until")?,
                lockouts: r.try_get("lockouts")?,
                last_failure: r.try_get("last_failure")?,
            })
        }

        fn totp_from_row(r: &DbRow) -> StoreResult<UserTotp> {
            Ok(UserTotp {
                user_id: r.try_get("user_id")?,
                secret: r.try_get("secret")?,
                confirmed_at: r.try_get("confirmed_at")?,
                last_step: r.try_get("last_step")?,
                created_at: r.try_get("created_at")?,
            })
        }

        const TOTP_COLUMNS: &str = "user_id, secret, confirmed_at, last_step, created_at";

        async fn fetch_totp(tx: &mut Tx<'_>, user_id: i64) -> StoreResult<Option<UserTotp>> {
            let sql = format!("SELECT {TOTP_COLUMNS} FROM user_totp WHERE user_id = $1{}", $lock);
            sqlx::query(&sql).bind(user_id).fetch_optional(&mut **tx).await?.as_ref().map(totp_from_row).transpose()
        }

        #[async_trait]
        impl LoginStore for $store {
            async fn login_counters(&self, keys: &[String]) -> StoreResult<Vec<(String, ThrottleCounter)>> {
                let mut out = Vec::new();
                for key in keys {
                    let row = sqlx::query(
                        "SELECT failures, window_start, locked_until, lockouts, last_failure \
                         FROM login_throttle WHERE key = $1",
                    )
                    .bind(key)
                    .fetch_optional(&self.read)
                    .await?;
                    if let Some(r) = row {
                        out.push((key.clone(), throttle_from_row(&r)?));
                    }
                }
                Ok(out)
            }

            async fn record_login_failure(
                &self,
                key: &str,
                policy: &ThrottlePolicy,
                now: i64,
            ) -> StoreResult<(ThrottleCounter, bool)> {
                let mut tx = self.write.begin().await?;
                sqlx::query("DELETE FROM login_throttle WHERE last_failure < $1 AND locked_until < $2")
                    .bind(now - policy.forget_after_ms)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO login_throttle (key) VALUES ($1) ON CONFLICT (key) DO NOTHING")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                let sql = format!(
                    "SELECT failures, window_start, locked_until, lockouts, last_failure \
                     FROM login_throttle WHERE key = $1{}",
                    $lock
                );
                let row = sqlx::query(&sql).bind(key).fetch_one(&mut *tx).await?;
                let (counter, locked) = core_throttle::record_failure(policy, &throttle_from_row(&row)?, now);
                sqlx::query(
                    "UPDATE login_throttle SET failures = $2, window_start = $3, locked_until = $4, lockouts = $5, \
                     last_failure = $6 WHERE key = $1",
                )
                .bind(key)
                .bind(counter.failures)
                .bind(counter.window_start)
                .bind(counter.locked_until)
                .bind(counter.lockouts)
                .bind(counter.last_failure)
                .execute(&mut *tx)
                .await?;
                if locked {
                    audit(
                        &mut tx,
                        &Actor::system("login throttle"),
                        "lockout",
                        "login",
                        key,
                        None,
                        Some(json!({
                            "locked_until": counter.locked_until,
                            "lockouts": counter.lockouts,
                            "max_failures": policy.max_failures,
                        })),
                    )
                    .await?;
                }
                tx.commit().await?;
                Ok((counter, locked))
            }

            async fn clear_login_counter(&self, key: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM login_throttle WHERE key = $1").bind(key).execute(&self.write).await?;
                Ok(())
            }

            async fn user_totp(&self, user_id: i64) -> StoreResult<Option<UserTotp>> {
                let sql = format!("SELECT {TOTP_COLUMNS} FROM user_totp WHERE user_id = $1");
                sqlx::query(&sql).bind(user_id).fetch_optional(&self.read).await?.as_ref().map(totp_from_row).transpose()
            }

            async fn begin_totp(&self, user_id: i64, secret: &str) -> StoreResult<UserTotp> {
                let mut tx = self.write.begin().await?;
                if fetch_totp(&mut tx, user_id).await?.is_some_and(|t| t.is_enabled()) {
                    return Err(StoreError::Conflict(
                        "two-factor authentication is already on; turn it off first to enrol a new device".into(),
                    ));
                }
                sqlx::query(
                    "INSERT INTO user_totp (user_id, secret, confirmed_at, last_step, created_at) \
                     VALUES ($1, $2, NULL, 0, $3) ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, \
                     confirmed_at = NULL, last_step = 0, created_at = excluded.created_at",
                )
                .bind(user_id)
                .bind(secret)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                let t = fetch_totp(&mut tx, user_id).await?.ok_or(StoreError::NotFound("second factor"))?;
                tx.commit().await?;
                Ok(t)
            }

            async fn confirm_totp(&self, actor: &Actor, user_id: i64, step: i64) -> StoreResult<UserTotp> {
                let mut tx = self.write.begin().await?;
                match fetch_totp(&mut tx, user_id).await? {
                    None => return Err(StoreError::NotFound("two-factor enrolment")),
                    Some(t) if t.is_enabled() => {
                        return Err(StoreError::Conflict("two-factor authentication is already on".into()))
                    }
                    Some(_) => {}
                }
                sqlx::query("UPDATE user_totp SET confirmed_at = $2, last_step = $3 WHERE user_id = $1")
                    .bind(user_id)
                    .bind(now_ms())
                    .bind(step)
                    .execute(&mut *tx)
                    .await?;
                let t = fetch_totp(&mut tx, user_id).await?.ok_or(StoreError::NotFound("second factor"))?;
                audit(&mut tx, actor, "enable", "user_totp", user_id, None, Some(json!({"enabled": true}))).await?;
                tx.commit().await?;
                Ok(t)
            }

            async fn use_totp_step(&self, user_id: i64, step: i64) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2")
                    .bind(user_id)
                    .bind(step)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_totp(&self, actor: &Actor, user_id: i64, action: &str) -> StoreResult<bool> {
                let mut tx = self.write.begin().await?;
                let Some(before) = fetch_totp(&mut tx, user_id).await? else {
                    return Ok(false);
                };
                sqlx::query("DELETE FROM user_totp WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                audit(
                    &mut tx,
                    actor,
                    action,
                    "user_totp",
                    user_id,
                    Some(json!({"enabled": before.is_enabled()})),
                    Some(json!({"enabled": false})),
                )
                .await?;
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}

pub(crate) use impl_login_store;
