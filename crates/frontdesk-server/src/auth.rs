//! Authentication (session cookies, API keys), CSRF, and the one permission
//! check every route goes through (I2).

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use frontdesk_core::permissions::{allows, Permission};
use frontdesk_core::proxies::{self, IpNet};
use frontdesk_store::{Actor, User};

use frontdesk_engine::service::login::LoginError;
use frontdesk_engine::tokens::token_hash;

use crate::error::{ApiError, Code};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "fd_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";
pub use frontdesk_engine::tokens::API_KEY_PREFIX;

/// Who is calling and how.
#[derive(Debug, Clone)]
pub struct Authed {
    pub user: User,
    /// The session's CSRF token; `None` for API keys.
    pub csrf: Option<String>,
}

impl Authed {
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.id, &self.user.email)
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Authed {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, ApiError> {
        // Only the permission middleware inserts it: a handler on a route
        // without a permission cannot get a user.
        parts.extensions.get::<Authed>().cloned().ok_or_else(ApiError::unauthenticated)
    }
}

/// The client's address: the socket peer, or, when the peer is one of the
/// `trusted_proxies`, the address those proxies forwarded in `X-Forwarded-For`
/// (`frontdesk_core::proxies::client_address`: the right-most entry that is
/// not itself a trusted proxy). With no trusted proxies (the default) the
/// header is ignored, so a client cannot pick the address the login throttle
/// counts. Set by [`client_address`], a layer over the whole router; `None`
/// when the server runs without peer addresses (a router driven directly, in tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(c) = parts.extensions.get::<ClientAddr>() {
            return Ok(*c);
        }
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(ClientAddr(peer.map(|c| c.0.ip())))
    }
}

/// The networks of the `trusted_proxies` setting, read once at start.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub std::sync::Arc<[IpNet]>);

/// The middleware that finds the client's address ([`ClientAddr`]) once per request.
pub async fn client_address(State(trusted): State<TrustedProxies>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if let Some(peer) = peer {
        let forwarded = req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let client = proxies::client_address(peer, &trusted.0, forwarded);
        req.extensions_mut().insert(ClientAddr(Some(client)));
    }
    next.run(req).await
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// Finds the caller from an API key or a session cookie.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Option<Authed>, ApiError> {
    if let Some(key) = bearer(headers).filter(|k| k.starts_with(API_KEY_PREFIX)) {
        let user = state.store.api_key_user(&token_hash(key)).await?;
        return match user {
            Some(user) => Ok(Some(Authed { user, csrf: None })),
            None => Err(ApiError::new(Code::Unauthenticated, "the API key is unknown or revoked")),
        };
    }
    if let Some(token) = cookie_value(headers, SESSION_COOKIE) {
        if let Some((user, csrf)) = state.store.session(&token_hash(&token), frontdesk_store::now_ms()).await? {
            return Ok(Some(Authed { user, csrf: Some(csrf) }));
        }
    }
    Ok(None)
}

fn is_console(path: &str) -> bool {
    path == "/" || path.starts_with("/console")
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The form field `_csrf` of a url-encoded body (tokens are URL-safe, so no decoding is needed).
fn form_csrf(body: &[u8]) -> Option<String> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == CSRF_FIELD)
        .map(|(_, v)| v.to_owned())
}

/// The permission middleware: authenticates, checks `perm`, checks CSRF for
/// cookie sessions on unsafe methods, and hands the user to the handler.
pub async fn require(State((state, perm)): State<(AppState, Permission)>, req: Request, next: Next) -> Response {
    let console = is_console(req.uri().path());
    let authed = match authenticate(&state, req.headers()).await {
        Ok(Some(a)) => a,
        Ok(None) if console => {
            let next_path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/console");
            let next_q: String = next_path
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"/-_.".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            return Redirect::to(&format!("/login?next={next_q}")).into_response();
        }
        Ok(None) => return ApiError::unauthenticated().into_response(),
        Err(e) => return e.into_response(),
    };
    if authed.user.disabled {
        return ApiError::new(Code::Unauthenticated, "this account is disabled").into_response();
    }
    if !allows(authed.user.role, authed.user.paid_seat, perm) {
        let why = if matches!(perm, Permission::EditAgent | Permission::HandleConversations) && !authed.user.paid_seat {
            format!("this needs the {perm:?} permission and a paid seat")
        } else {
            format!("your role ({}) does not have the {perm:?} permission", authed.user.role)
        };
        return ApiError::forbidden(why).into_response();
    }
    let mut req = req;
    if let (Some(csrf), false) = (&authed.csrf, is_safe(req.method())) {
        let header_ok = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) == Some(csrf.as_str());
        if !header_ok {
            let is_form = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
            let (parts, body) = req.into_parts();
            let bytes = if is_form {
                match to_bytes(body, state.settings.max_body_bytes).await {
                    Ok(b) => b,
                    Err(_) => {
                        return ApiError::new(Code::PayloadTooLarge, "the request body is too large").into_response()
                    }
                }
            } else {
                Default::default()
            };
            if form_csrf(&bytes).as_deref() != Some(csrf.as_str()) {
                return ApiError::new(
                    Code::CsrfFailed,
                    "missing or wrong CSRF token: send the X-CSRF-Token header or the _csrf form field",
                )
                .into_response();
            }
            req = Request::from_parts(parts, Body::from(bytes));
        }
    }
    req.extensions_mut().insert(authed);
    next.run(req).await
}

/// The `Set-Cookie` value for a new session.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// A refused sign-in at the edge: its API error, and for a lockout the
/// seconds to put in `Retry-After`.
pub fn login_error(e: LoginError) -> (ApiError, Option<i64>) {
    let message = e.to_string();
    match e {
        LoginError::WrongCredentials | LoginError::Disabled => (ApiError::new(Code::Unauthenticated, message), None),
        LoginError::TotpRequired => (ApiError { code: Code::TotpRequired, message, field: Some("totp".into()) }, None),
        LoginError::TotpWrong => (ApiError { code: Code::Unauthenticated, message, field: Some("totp".into()) }, None),
        LoginError::Throttled { retry_after_secs, .. } => {
            (ApiError::new(Code::TooManyRequests, message), Some(retry_after_secs))
        }
        LoginError::Store(e) => (e.into(), None),
    }
}

/// The `Retry-After` header of a lockout.
pub fn retry_after(secs: i64) -> [(header::HeaderName, header::HeaderValue); 1] {
    [(header::RETRY_AFTER, header::HeaderValue::from(secs.max(1)))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_field_is_found_in_a_form_body() {
        assert_eq!(form_csrf(b"a=1&_csrf=abc-_9&b=2").as_deref(), Some("abc-_9"));
        assert_eq!(form_csrf(b"a=1"), None);
    }

    #[test]
    fn cookies_are_parsed() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; fd_session=tok; b=2".parse().unwrap());
        assert_eq!(cookie_value(&h, SESSION_COOKIE).as_deref(), Some("tok"));
    }
}
