//! Signing in (I2): the password check that takes the same time whether or
//! not the email exists, the login throttle per account and per client
//! address (counters in the store, rules in `frontdesk_core::throttle`), and
//! the optional TOTP second factor (enrol, confirm, sign in with a code,
//! disable, admin reset). The admin API, the console and the CLI share it.

use std::net::IpAddr;

use frontdesk_core::throttle::{self, Policy};
use frontdesk_store::{Actor, Store, StoreError, User};

use crate::error::{Error, Result};
use crate::{tokens, totp};

/// Longest account key kept: an email is at most 254 characters; anything
/// longer typed into the form is cut so a key stays small.
const MAX_KEY_CHARS: usize = 300;

/// Why a sign-in was refused. The server turns each into its HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email or wrong password: the same answer for both.
    #[error("wrong email or password")]
    WrongCredentials,
    #[error("this account is disabled")]
    Disabled,
    /// The password was right and the account has a second factor: ask for the code.
    #[error(
        "this account uses two-factor authentication: send the 6-digit code from your authenticator app as 'totp'"
    )]
    TotpRequired,
    #[error(
        "totp: the two-factor code is wrong or was already used; enter the current code from your authenticator app"
    )]
    TotpWrong,
    /// Too many failed sign-ins for the account or from the address.
    #[error("{}", throttled_message(*.scope, *.retry_after_secs))]
    Throttled { scope: Scope, retry_after_secs: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Account,
    Address,
}

fn throttled_message(scope: Scope, secs: i64) -> String {
    let whom = match scope {
        Scope::Account => "for this account",
        Scope::Address => "from your network address",
    };
    let wait = if secs >= 120 { format!("{} minutes", (secs + 59) / 60) } else { format!("{secs} seconds") };
    format!("too many failed sign-ins {whom}; try again in {wait} (Retry-After: {secs})")
}

/// What a sign-in attempt carries.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// The second factor's code, when the client sent one.
    pub totp: Option<&'a str>,
    /// The client's address (the socket peer, or the address trusted proxies
    /// forwarded); `None` when unknown.
    pub client: Option<IpAddr>,
}

/// The throttle key of the account named by `email` (known or not).
pub fn account_key(email: &str) -> String {
    let e: String = email.trim().to_lowercase().chars().take(MAX_KEY_CHARS).collect();
    format!("account:{e}")
}

/// The throttle key of a client address. IPv6 clients are counted per /64
/// (one host usually holds a whole /64, so per-address counting would let it
/// rotate through 2^64 addresses).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("address:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("address:{v4}"),
            None => {
                let s = v6.segments();
                format!("address:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Checks `password` against the user's hash, or against the dummy hash of
/// the same algorithm and cost when there is no such user: exactly one
/// `verify` either way, so both take the same time. True only for a known
/// user with the right password.
pub fn check_password(stored_hash: Option<&str>, password: &str, verify: impl Fn(&str, &str) -> bool) -> bool {
    let hash: &str = match stored_hash {
        Some(h) => h,
        None => tokens::dummy_password_hash(),
    };
    let right = verify(password, hash);
    stored_hash.is_some() && right
}

fn keys(attempt: &Attempt<'_>) -> Vec<(String, Scope, &'static Policy)> {
    let mut k = vec![(account_key(attempt.email), Scope::Account, &throttle::ACCOUNT)];
    if let Some(ip) = attempt.client {
        k.push((address_key(ip), Scope::Address, &throttle::ADDRESS));
    }
    k
}

/// The longest wait among the locked keys, if any is locked at `now`.
async fn locked(
    store: &dyn Store,
    keys: &[(String, Scope, &'static Policy)],
    now: i64,
) -> Result<Option<(Scope, i64)>, LoginError> {
    let names: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
    let counters = store.login_counters(&names).await?;
    let mut worst: Option<(Scope, i64)> = None;
    for (key, counter) in &counters {
        let Some(secs) = throttle::retry_after_secs(counter, now) else { continue };
        let scope = keys.iter().find(|k| &k.0 == key).map_or(Scope::Account, |k| k.1);
        if worst.is_none_or(|(_, w)| secs > w) {
            worst = Some((scope, secs));
        }
    }
    Ok(worst)
}

/// Records a failure on every key; the answer is `Throttled` when one of
/// them is now locked, `error` otherwise.
async fn failed(
    store: &dyn Store,
    keys: &[(String, Scope, &'static Policy)],
    now: i64,
    reason: &'static str,
    error: LoginError,
) -> LoginError {
    let mut lock: Option<(Scope, i64)> = None;
    for (key, scope, policy) in keys {
        match store.record_login_failure(key, policy, now).await {
            Ok((counter, just_locked)) => {
                if just_locked {
                    tracing::warn!(key = %key, locked_until = counter.locked_until, lockouts = counter.lockouts, "sign-in locked after too many failures");
                }
                if let Some(secs) = throttle::retry_after_secs(&counter, now) {
                    if lock.is_none_or(|(_, w)| secs > w) {
                        lock = Some((*scope, secs));
                    }
                }
            }
            Err(e) => return LoginError::Store(e),
        }
    }
    let account = keys.first().map(|k| k.0.as_str()).unwrap_or_default();
    let address = keys.get(1).map(|k| k.0.as_str()).unwrap_or("unknown");
    tracing::warn!(account, address, reason, "failed sign-in");
    match lock {
        Some((scope, retry_after_secs)) => LoginError::Throttled { scope, retry_after_secs },
        None => error,
    }
}

/// Checks a sign-in attempt at `now_ms` and returns the user it signs in.
///
/// Order: a locked account or address is refused before anything is checked
/// (so even the right password waits); then the password (one hash
/// verification whether or not the email exists); then the second factor
/// when the user has one. Wrong passwords and wrong codes count against the
/// account and the address; success clears the account's counter (not the
/// address's: one valid account must not reset a password-spraying count).
/// Checks the attempt (throttle, password, second factor) and opens a
/// session; returns the session token, its CSRF token and the user.
pub async fn open_session(state: &crate::Engine, attempt: Attempt<'_>) -> Result<(String, String, User), LoginError> {
    let user = sign_in(state.store.as_ref(), attempt, frontdesk_store::now_ms()).await?;
    let token = tokens::random_token("");
    let csrf = tokens::random_token("");
    state
        .store
        .create_session(frontdesk_store::NewSession {
            token_hash: tokens::token_hash(&token),
            csrf_token: csrf.clone(),
            user_id: user.id,
            expires_at: frontdesk_store::now_ms() + state.settings.session_hours * 3_600_000,
        })
        .await?;
    Ok((token, csrf, user))
}

pub async fn sign_in(store: &dyn Store, attempt: Attempt<'_>, now_ms: i64) -> Result<User, LoginError> {
    let keys = keys(&attempt);
    if let Some((scope, retry_after_secs)) = locked(store, &keys, now_ms).await? {
        tracing::warn!(account = %keys[0].0, "sign-in refused while locked");
        return Err(LoginError::Throttled { scope, retry_after_secs });
    }
    let found = store.find_user_by_email(attempt.email.trim()).await?;
    if !check_password(found.as_ref().map(|(_, h)| h.as_str()), attempt.password, tokens::verify_password) {
        return Err(failed(store, &keys, now_ms, "wrong email or password", LoginError::WrongCredentials).await);
    }
    let Some((user, _)) = found else { return Err(LoginError::WrongCredentials) };
    if user.disabled {
        return Err(LoginError::Disabled);
    }
    if let Some(second) = store.user_totp(user.id).await?.filter(|t| t.is_enabled()) {
        let code = attempt.totp.map(str::trim).filter(|c| !c.is_empty());
        let Some(code) = code else { return Err(LoginError::TotpRequired) };
        let step = totp::verify(&second.secret, code, now_ms.div_euclid(1000));
        let accepted = match step {
            Some(step) => store.use_totp_step(user.id, step).await?,
            None => false,
        };
        if !accepted {
            return Err(failed(store, &keys, now_ms, "wrong two-factor code", LoginError::TotpWrong).await);
        }
    }
    store.clear_login_counter(&keys[0].0).await?;
    Ok(user)
}

// ---------- the second factor ----------

/// A started enrolment: what the user puts in their authenticator app.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// The secret in base32, to type in by hand.
    pub secret: String,
    /// The same as an `otpauth://` URI (what a QR code holds).
    pub otpauth_uri: String,
}

/// Whether the user has a second factor.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TotpStatus {
    /// Sign-in asks for a code.
    pub enabled: bool,
    /// An enrolment was started and awaits its confirming code.
    pub pending: bool,
}

pub async fn status(store: &dyn Store, user_id: i64) -> Result<TotpStatus> {
    let t = store.user_totp(user_id).await?;
    Ok(TotpStatus {
        enabled: t.as_ref().is_some_and(|t| t.is_enabled()),
        pending: t.as_ref().is_some_and(|t| !t.is_enabled()),
    })
}

/// Starts (or restarts) enrolment with a new secret. Refused while a
/// confirmed second factor exists.
pub async fn start_enrolment(store: &dyn Store, user: &User) -> Result<Enrolment> {
    let secret = totp::generate_secret();
    store.begin_totp(user.id, &secret).await.map_err(|e| match e {
        StoreError::Conflict(m) => Error::conflict(m),
        e => e.into(),
    })?;
    Ok(Enrolment { otpauth_uri: totp::otpauth_uri(&user.email, &secret), secret })
}

fn code_field(code: &str) -> Result<&str> {
    let code = code.trim();
    if code.is_empty() {
        return Err(Error::invalid_field("code", "enter the 6-digit code your authenticator app shows"));
    }
    Ok(code)
}

/// Confirms the pending enrolment with a valid current code: from then on
/// sign-in asks for a code. Audited.
pub async fn confirm_enrolment(store: &dyn Store, actor: &Actor, user_id: i64, code: &str, now_ms: i64) -> Result<()> {
    let code = code_field(code)?;
    let pending = match store.user_totp(user_id).await? {
        None => return Err(Error::bad_request("no enrolment was started: start one first to get a secret")),
        Some(t) if t.is_enabled() => return Err(Error::conflict("two-factor authentication is already on")),
        Some(t) => t,
    };
    let Some(step) = totp::verify(&pending.secret, code, now_ms.div_euclid(1000)) else {
        return Err(Error::invalid_field(
            "code",
            "is not the current code for this secret; check the device's clock and enter the code it shows now",
        ));
    };
    store.confirm_totp(actor, user_id, step).await?;
    Ok(())
}

/// Turns the user's own second factor off; needs a valid current code. Audited.
pub async fn disable(store: &dyn Store, actor: &Actor, user_id: i64, code: &str, now_ms: i64) -> Result<()> {
    let code = code_field(code)?;
    let Some(second) = store.user_totp(user_id).await?.filter(|t| t.is_enabled()) else {
        return Err(Error::bad_request("two-factor authentication is not on for this account"));
    };
    let valid = match totp::verify(&second.secret, code, now_ms.div_euclid(1000)) {
        Some(step) => store.use_totp_step(user_id, step).await?,
        None => false,
    };
    if !valid {
        return Err(Error::invalid_field("code", "is wrong or was already used; enter the current code"));
    }
    store.delete_totp(actor, user_id, "disable").await?;
    Ok(())
}

/// An admin removes a user's second factor (a lost phone): the user signs in
/// with the password alone and may enrol again. Audited; false when the user
/// had none.
pub async fn reset(store: &dyn Store, actor: &Actor, user_id: i64) -> Result<bool> {
    store.get_user(user_id).await?;
    Ok(store.delete_totp(actor, user_id, "reset").await?)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// The defect: an unknown email returned before any hash was computed
    /// (0.6 ms against 13.6 ms). Both paths now run exactly one verification,
    /// the unknown one against the dummy hash.
    #[test]
    fn one_verification_whether_or_not_the_email_exists() {
        let real = tokens::hash_password("correct horse").unwrap();
        let calls = RefCell::new(Vec::<String>::new());
        let counting = |p: &str, h: &str| {
            calls.borrow_mut().push(h.to_owned());
            tokens::verify_password(p, h)
        };
        assert!(!check_password(None, "correct horse", counting));
        assert_eq!(*calls.borrow(), [tokens::dummy_password_hash().to_owned()]);
        calls.borrow_mut().clear();
        assert!(!check_password(Some(&real), "wrong horse", counting));
        assert_eq!(calls.borrow().as_slice(), std::slice::from_ref(&real));
        calls.borrow_mut().clear();
        assert!(check_password(Some(&real), "correct horse", counting));
        assert_eq!(calls.borrow().len(), 1);
    }

    #[test]
    fn even_the_dummy_password_does_not_sign_in_an_unknown_email() {
        // Whatever the dummy verification says, no user means no sign-in.
        assert!(!check_password(None, "anything", |_, _| true));
    }

    #[test]
    fn keys_name_the_account_as_typed_and_the_address() {
        assert_eq!(account_key("  Ann@Example.COM "), "account:ann@example.com");
        assert_eq!(account_key(&"x".repeat(10_000)).len(), "account:".len() + MAX_KEY_CHARS);
        assert_eq!(address_key("203.0.113.7".parse().unwrap()), "address:203.0.113.7");
        assert_eq!(address_key("::ffff:203.0.113.7".parse().unwrap()), "address:203.0.113.7");
        assert_eq!(address_key("2001:db8:1:2:aaaa::1".parse().unwrap()), "address:2001:db8:1:2::/64");
        assert_eq!(address_key("2001:db8:1:2:bbbb::9".parse().unwrap()), "address:2001:db8:1:2::/64");
    }

    #[test]
    fn the_throttled_message_says_whom_and_how_long() {
        let e = LoginError::Throttled { scope: Scope::Account, retry_after_secs: 900 };
        assert_eq!(
            e.to_string(),
            "too many failed sign-ins for this account; try again in 15 minutes (Retry-After: 900)"
        );
        let e = LoginError::Throttled { scope: Scope::Address, retry_after_secs: 42 };
        assert!(e.to_string().contains("from your network address; try again in 42 seconds"), "{e}");
    }
}
