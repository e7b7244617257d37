//! API errors. Every error body has the same fields, `{message, code, type}`
//! plus `field` for validation errors; codes live in one table.

use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use frontdesk_core::validate::ValidationError;
use frontdesk_store::StoreError;
use serde::Serialize;

/// The error codes: (code, HTTP status, type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidRequest,
    ValidationFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unauthenticated,
    /// The password was right; the account's second factor (a TOTP code) is missing.
    TotpRequired,
    Forbidden,
    CsrfFailed,
    NotFound,
    Conflict,
    /// Too many failed sign-ins: sent with `Retry-After`.
    TooManyRequests,
    Unavailable,
    Internal,
}

impl Code {
    pub const fn parts(self) -> (&'static str, StatusCode, &'static str) {
        match self {
            Code::InvalidRequest => ("invalid_request", StatusCode::BAD_REQUEST, "invalid_request"),
            Code::ValidationFailed => ("validation_failed", StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            Code::PayloadTooLarge => ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE, "invalid_request"),
            Code::UnsupportedMediaType => {
                ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request")
            }
            Code::Unauthenticated => ("unauthenticated", StatusCode::UNAUTHORIZED, "auth"),
            Code::TotpRequired => ("totp_required", StatusCode::UNAUTHORIZED, "auth"),
            Code::Forbidden => ("forbidden", StatusCode::FORBIDDEN, "auth"),
            Code::CsrfFailed => ("csrf_failed", StatusCode::FORBIDDEN, "auth"),
            Code::NotFound => ("not_found", StatusCode::NOT_FOUND, "invalid_request"),
            Code::Conflict => ("conflict", StatusCode::CONFLICT, "invalid_request"),
            Code::TooManyRequests => ("too_many_requests", StatusCode::TOO_MANY_REQUESTS, "auth"),
            Code::Unavailable => ("unavailable", StatusCode::SERVICE_UNAVAILABLE, "system"),
            Code::Internal => ("internal", StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorBody {
    pub message: String,
    pub code: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub field: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None }
    }
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self {
            code: Code::ValidationFailed,
            message: format!("{field}: {}", message.into()),
            field: Some(field.to_owned()),
        }
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("{what} not found"))
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Code::Forbidden, message)
    }
    pub fn unauthenticated() -> Self {
        Self::new(Code::Unauthenticated, "sign in, or send an API key as 'Authorization: Bearer <key>'")
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(Code::Internal, "internal error; it has been logged")
    }
    pub fn body(&self) -> ErrorBody {
        let (code, _, kind) = self.code.parts();
        ErrorBody { message: self.message.clone(), code, kind, field: self.field.clone() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.parts().1;
        (status, axum::Json(self.body())).into_response()
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::invalid_field(&e.field, e.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(m) => ApiError::new(Code::Conflict, m),
            StoreError::Invalid(m) => ApiError::new(Code::InvalidRequest, m),
            StoreError::Duplicate => ApiError::new(Code::Conflict, "this message was already processed"),
            e => ApiError::internal(e),
        }
    }
}

/// The engine's errors at the edge: each kind has its code and status here.
impl From<frontdesk_engine::error::Error> for ApiError {
    fn from(e: frontdesk_engine::error::Error) -> Self {
        use frontdesk_engine::error::Error as E;
        match e {
            E::NotFound(what) => ApiError::not_found(&what),
            E::Invalid { field, message } => ApiError { code: Code::ValidationFailed, message, field },
            E::BadRequest(m) => ApiError::new(Code::InvalidRequest, m),
            E::Conflict { field, message } => ApiError { code: Code::Conflict, message, field },
            E::Duplicate => ApiError::new(Code::Conflict, "this message was already processed"),
            E::Forbidden(m) => ApiError::new(Code::Forbidden, m),
            E::TooLarge(m) => ApiError::new(Code::PayloadTooLarge, m),
            E::UnsupportedMedia(m) => ApiError::new(Code::UnsupportedMediaType, m),
            E::Unavailable(m) => ApiError::new(Code::Unavailable, m),
            E::Internal(e) => ApiError::internal(format!("{e:#}")),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::new(Code::UnsupportedMediaType, "send the body as JSON with 'Content-Type: application/json'")
            }
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(Code::PayloadTooLarge, "the request body is too large")
            }
            JsonRejection::JsonDataError(e) => {
                let detail = e.body_text();
                let field = json_error_field(&detail);
                ApiError { code: Code::ValidationFailed, message: detail, field }
            }
            r => ApiError::new(Code::InvalidRequest, r.body_text()),
        }
    }
}

/// The field a JSON data error is about. axum prefixes serde's message with
/// the path of the offending value ("text: invalid type…"); a missing field
/// is reported at the root (". missing field `text`").
fn json_error_field(detail: &str) -> Option<String> {
    let inner = detail.split_once("target type: ").map_or(detail, |(_, rest)| rest);
    if let Some((_, rest)) = inner.split_once("missing field `") {
        return rest.split('`').next().map(str::to_owned);
    }
    inner
        .split_once(": ")
        .map(|(path, _)| path)
        .filter(|p| !p.is_empty() && *p != "." && !p.contains(' '))
        .map(str::to_owned)
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(Code::InvalidRequest, r.body_text())
    }
}

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> Self {
        ApiError::new(Code::InvalidRequest, r.body_text())
    }
}

/// `Json` whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `Query` whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

#[cfg(test)]
mod tests {
    use super::json_error_field;

    #[test]
    fn json_errors_name_their_field() {
        let f = |s: &str| json_error_field(s);
        assert_eq!(f("Failed to deserialize the JSON body into the target type: text: invalid type: integer `5`, expected a string at line 1 column 10").as_deref(), Some("text"));
        assert_eq!(f("Failed to deserialize the JSON body into the target type: x: unknown field `x`, expected `text` at line 1 column 15").as_deref(), Some("x"));
        assert_eq!(
            f("Failed to deserialize the JSON body into the target type: missing field `text` at line 1 column 2")
                .as_deref(),
            Some("text")
        );
        assert_eq!(f("something else entirely"), None);
    }
}
