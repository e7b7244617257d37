//! The engine's one error type. It says what went wrong in the help desk's
//! terms; the server maps each variant to an HTTP status and error code at the
//! edge (the server's error module), so nothing below HTTP returns an HTTP error.

use frontdesk_core::validate::ValidationError;
use frontdesk_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Something named does not exist (`"{what} not found"`).
    #[error("{0} not found")]
    NotFound(String),
    /// A value failed validation; `field` names it when one field is to blame.
    #[error("{message}")]
    Invalid { field: Option<String>, message: String },
    /// The request cannot be carried out as asked (malformed, not applicable).
    #[error("{0}")]
    BadRequest(String),
    /// It clashes with the current state (a concurrent change, a name or key
    /// already taken); `field` names the value when one is to blame.
    #[error("{message}")]
    Conflict { field: Option<String>, message: String },
    /// A message from a channel that was already processed (same external id).
    #[error("this message was already processed")]
    Duplicate,
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too large to accept.
    #[error("{0}")]
    TooLarge(String),
    /// A file type that is not accepted.
    #[error("{0}")]
    UnsupportedMedia(String),
    /// A service this needs is not available (temporarily or not configured).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else: a bug or an infrastructure failure. Logged where it is
    /// turned into a response; the caller is told only that it happened.
    #[error(transparent)]
    Internal(anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn not_found(what: &str) -> Self {
        Error::NotFound(what.to_owned())
    }
    /// A field's value is invalid: the message is prefixed with the field's name.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid { field: Some(field.to_owned()), message: format!("{field}: {}", message.into()) }
    }
    /// A validation failure that no single field is to blame for.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid { field: None, message: message.into() }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::BadRequest(message.into())
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict { field: None, message: message.into() }
    }
    /// A clash about one field's value (a name or key already taken).
    pub fn conflict_on(field: &str, message: impl Into<String>) -> Self {
        Error::Conflict { field: Some(field.to_owned()), message: message.into() }
    }
    /// Several validation problems as one error: every problem in the
    /// message, the first one's field in `field`.
    pub fn invalid_all(errs: Vec<ValidationError>) -> Self {
        let field = errs.first().map(|e| e.field.clone());
        let message = errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
        Error::Invalid { field, message }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden(message.into())
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Error::Unavailable(message.into())
    }
    /// The field a validation error names, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(anyhow::anyhow!("{e}"))
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::invalid_field(&e.field, e.message)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Error::NotFound(what.to_string()),
            StoreError::Conflict(m) => Error::conflict(m),
            StoreError::Invalid(m) => Error::BadRequest(m),
            StoreError::Duplicate => Error::Duplicate,
            e => Error::Internal(e.into()),
        }
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::Internal(e)
    }
}
