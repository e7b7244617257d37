//! Security headers on every response (SPEC B2), one middleware layer over
//! the whole router, so no route can be added without them.
//!
//! Every response gets `X-Content-Type-Options: nosniff`,
//! `Referrer-Policy: strict-origin-when-cross-origin`, `X-Frame-Options: DENY`
//! and a Content-Security-Policy chosen by path ([`policy_for`]):
//! - the console, the API, `/kb/{slug}` pages and everything else: scripts and
//!   styles only from our own files (no inline script, no inline style, no
//!   `eval`), no plugins, no `<base>`, forms only to us, never framed;
//! - `/kb/…` may also show images from any `https:` site (articles embed them);
//! - `/api/docs` (Swagger UI) additionally allows inline styles, which the UI
//!   sets on its elements.
//!
//! The widget is not framed: `widget.js` is a `<script>` on the customer's
//! page that draws into a shadow root there and calls `/api/v1/chat/*` with
//! CORS. Its routes therefore need no frame exception; the customer's own
//! CSP governs the widget's code, and ours only has to keep `widget.js`
//! served as JavaScript (with `nosniff`) and loadable cross-origin. The widget
//! needs no inline style either: it styles its shadow root with a constructed
//! stylesheet (`adoptedStyleSheets`, which `style-src` does not govern), or,
//! in browsers without them, a `<link>` to `/widget.css`, and sets its colour
//! through the CSSOM. So a customer's page with `style-src 'self'` (plus our
//! origin for old browsers) shows it as designed, and `/demo`, our stand-in for
//! such a page, gets the strict policy like everything else.
//!
//! A handler that sets its own policy keeps it (attachments are served with
//! `default-src 'none'; sandbox`).

use axum::extract::Request;
use axum::http::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The console, API and every page not listed below.
pub const STRICT: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; media-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// Knowledge-base pages: as [`STRICT`], plus images from https sites.
pub const KB: &str = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'none'; \
     base-uri 'none'; frame-ancestors 'none'";

/// Swagger UI: as [`STRICT`], plus inline styles.
pub const DOCS: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The Content-Security-Policy for a request path.
pub fn policy_for(path: &str) -> &'static str {
    if path.starts_with("/kb/") {
        KB
    } else if path == "/api/docs" || path.starts_with("/api/docs/") {
        DOCS
    } else {
        STRICT
    }
}

/// The middleware: adds the headers to whatever the inner service answered
/// (errors, fallbacks and panics included when layered outside them).
pub async fn headers(req: Request, next: Next) -> Response {
    let policy = policy_for(req.uri().path());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.entry(CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(policy));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_forbids_inline_script_eval_and_framing() {
        for p in [STRICT, KB, DOCS] {
            assert!(p.starts_with("default-src 'none'"), "{p}");
            assert!(p.contains("frame-ancestors 'none'") && p.contains("base-uri 'none'"), "{p}");
            assert!(!p.contains("unsafe-eval"), "{p}");
            let script = p.split(';').map(str::trim).find(|d| d.starts_with("script-src"));
            assert!(script.is_none_or(|s| s == "script-src 'self'"), "{p}");
        }
        assert!(!STRICT.contains("unsafe-inline") && !KB.contains("unsafe-inline"));
        // KB pages run no script at all.
        assert!(!KB.contains("script-src"));
    }

    #[test]
    fn policies_by_path() {
        assert_eq!(policy_for("/console/sources"), STRICT);
        assert_eq!(policy_for("/api/v1/articles"), STRICT);
        assert_eq!(policy_for("/widget.js"), STRICT);
        assert_eq!(policy_for("/kb/reset-password"), KB);
        assert_eq!(policy_for("/demo"), STRICT, "the widget needs no inline style");
        assert_eq!(policy_for("/demo/x"), STRICT);
        assert_eq!(policy_for("/api/docs/"), DOCS);
        assert_eq!(policy_for("/api/docsx"), STRICT);
    }
}
