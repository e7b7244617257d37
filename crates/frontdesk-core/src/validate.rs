//! Newtypes that parse rather than validate: an invalid value cannot exist
//! past the edge. Every error names the field and says why.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into() }
    }
}

/// Trims `s` and checks its length in characters.
pub fn bounded_text(field: &str, s: &str, min: usize, max: usize) -> Result<String, ValidationError> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min {
        return Err(ValidationError::new(
            field,
            if min == 1 { "must not be empty".to_owned() } else { format!("must be at least {min} characters") },
        ));
    }
    if n > max {
        return Err(ValidationError::new(field, format!("must be at most {max} characters (got {n})")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(t.to_owned())
}

/// A chat message's text: 1 to 4,000 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        bounded_text("text", s, 1, Self::MAX_CHARS).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An email address: one `@`, a non-empty local part, a dotted domain, no spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        let t = s.trim();
        let err = |why: &str| Err(ValidationError::new(field, format!("is not a valid email address: {why}")));
        if t.is_empty() {
            return Err(ValidationError::new(field, "must not be empty"));
        }
        if t.len() > 254 {
            return err("longer than 254 characters");
        }
        let Some((local, domain)) = t.rsplit_once('@') else { return err("missing '@'") };
        if local.is_empty() || local.len() > 64 {
            return err("the part before '@' must be 1 to 64 characters");
        }
        if local.contains('@') {
            return err("more than one '@'");
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',') {
            return err("contains spaces or forbidden characters");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-')) {
            return err("the domain must look like example.com");
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password: 8 to 200 characters.
pub fn password(field: &str, s: &str) -> Result<String, ValidationError> {
    let n = s.chars().count();
    if n < 8 {
        return Err(ValidationError::new(field, "must be at least 8 characters"));
    }
    if n > 200 {
        return Err(ValidationError::new(field, "must be at most 200 characters"));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_text_bounds() {
        assert_eq!(MessageText::parse("  hi ").unwrap().as_str(), "hi");
        assert_eq!(MessageText::parse("   ").unwrap_err().field, "text");
        let long = "x".repeat(20_000);
        assert!(MessageText::parse(&long).unwrap_err().message.contains("at most 4000"));
        assert!(MessageText::parse("a\u{0}b").is_err());
    }

    #[test]
    fn email_parsing() {
        assert_eq!(EmailAddress::parse("email", "Ann@Example.COM").unwrap().as_str(), "Ann@example.com");
        for bad in ["", "ann", "ann@", "@example.com", "ann@example", "a b@example.com", "ann@@example.com", "ann@.com"]
        {
            let e = EmailAddress::parse("email", bad).unwrap_err();
            assert_eq!(e.field, "email", "{bad}");
        }
    }
}
