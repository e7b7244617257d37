//! Storage for sign-in security (I2): the login throttle's counters (one per
//! account or client address, shared by every replica and kept across
//! restarts) and users' TOTP second factor.

use async_trait::async_trait;
use frontdesk_core::throttle::{Counter, Policy};
use serde::Serialize;

use crate::{Actor, StoreResult};

/// A user's TOTP second factor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserTotp {
    pub user_id: i64,
    /// The shared secret, base32 (RFC 4648, no padding). Never serialised.
    #[serde(skip)]
    pub secret: String,
    /// When enrolment was confirmed with a valid code; `None` while pending
    /// (sign-in does not ask for a code until then).
    pub confirmed_at: Option<i64>,
    /// The newest time step accepted; a code of that step or older is refused.
    pub last_step: i64,
    pub created_at: i64,
}

impl UserTotp {
    pub fn is_enabled(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

#[async_trait]
pub trait LoginStore: Send + Sync {
    /// The counters of the keys that have one.
    async fn login_counters(&self, keys: &[String]) -> StoreResult<Vec<(String, Counter)>>;
    /// Records a failed sign-in on `key` at `now` under `policy`, in one
    /// transaction that locks the row (two replicas cannot lose a failure).
    /// Returns the new counter and whether this failure locked the key; a
    /// lockout writes an audit row (`login`, the key, action `lockout`) in the
    /// same transaction. Counters quiet for `policy.forget_after_ms` are deleted.
    async fn record_login_failure(&self, key: &str, policy: &Policy, now: i64) -> StoreResult<(Counter, bool)>;
    /// Forgets `key`'s failures (a successful sign-in of that account).
    async fn clear_login_counter(&self, key: &str) -> StoreResult<()>;

    /// The user's second factor, confirmed or pending.
    async fn user_totp(&self, user_id: i64) -> StoreResult<Option<UserTotp>>;
    /// Starts enrolment with a new secret (replacing a pending one). Refused
    /// with `Conflict` when a confirmed second factor exists.
    async fn begin_totp(&self, user_id: i64, secret: &str) -> StoreResult<UserTotp>;
    /// Confirms a pending enrolment with the step of the valid code that was
    /// given. Audited (`user_totp`, the user, `enable`).
    async fn confirm_totp(&self, actor: &Actor, user_id: i64, step: i64) -> StoreResult<UserTotp>;
    /// Accepts a code's time step once: true (and recorded) when it is newer
    /// than the last accepted one, false for a replayed or older code.
    async fn use_totp_step(&self, user_id: i64, step: i64) -> StoreResult<bool>;
    /// Removes the user's second factor; `action` is the audit row's
    /// (`disable` by the user, `reset` by an admin). False when there was none
    /// (and nothing is audited).
    async fn delete_totp(&self, actor: &Actor, user_id: i64, action: &str) -> StoreResult<bool>;
}
