//! Typed values shared by actions' parameters and CRM fields: their kinds,
//! normalisation (parse, don't validate: a value that passes is returned in
//! its one canonical form) and finding them in what a visitor wrote.
//!
//! The finders are deliberately conservative: a value is only reported when
//! it stands on its own (not glued to other letters or digits), so an order
//! number is not found inside a phone number or a date, nor a phone number
//! inside an order reference.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::text::{fold, words};

/// What a value is. Enums take their allowed values separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Text,
    Number,
    Integer,
    Email,
    Phone,
    OrderNumber,
    Enum,
    Boolean,
}

impl ValueKind {
    pub const ALL: &'static [ValueKind] = &[
        ValueKind::Text,
        ValueKind::Number,
        ValueKind::Integer,
        ValueKind::Email,
        ValueKind::Phone,
        ValueKind::OrderNumber,
        ValueKind::Enum,
        ValueKind::Boolean,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::Text => "text",
            ValueKind::Number => "number",
            ValueKind::Integer => "integer",
            ValueKind::Email => "email",
            ValueKind::Phone => "phone",
            ValueKind::OrderNumber => "order_number",
            ValueKind::Enum => "enum",
            ValueKind::Boolean => "boolean",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// A human label, for forms.
    pub fn label(self) -> &'static str {
        match self {
            ValueKind::Text => "Text",
            ValueKind::Number => "Number",
            ValueKind::Integer => "Whole number",
            ValueKind::Email => "Email address",
            ValueKind::Phone => "Phone number",
            ValueKind::OrderNumber => "Order number",
            ValueKind::Enum => "One of a list",
            ValueKind::Boolean => "Yes / no",
        }
    }

    /// The JSON schema type of a value of this kind (for LLM tool specs).
    pub fn json_type(self) -> &'static str {
        match self {
            ValueKind::Number => "number",
            ValueKind::Integer => "integer",
            ValueKind::Boolean => "boolean",
            _ => "string",
        }
    }
}

impl std::fmt::Display for ValueKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest text value accepted, in characters.
pub const MAX_TEXT: usize = 500;

/// Normalises `raw` as a value of `kind` (`options` are an enum's allowed
/// values). Returns the canonical form, or why the value is not valid.
pub fn normalize(kind: ValueKind, options: &[String], raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err("must not contain control characters".into());
    }
    match kind {
        ValueKind::Text => {
            let n = t.chars().count();
            if n > MAX_TEXT {
                return Err(format!("must be at most {MAX_TEXT} characters (got {n})"));
            }
            Ok(t.to_owned())
        }
        ValueKind::Number => normalize_number(t),
        ValueKind::Integer => {
            let compact: String = t.chars().filter(|c| !matches!(c, ' ' | '_' | '\'')).collect();
            compact.parse::<i64>().map(|n| n.to_string()).map_err(|_| format!("{t:?} is not a whole number"))
        }
        ValueKind::Email => {
            crate::validate::EmailAddress::parse("value", t).map(|e| e.as_str().to_owned()).map_err(|e| e.message)
        }
        ValueKind::Phone => normalize_phone(t).ok_or_else(|| {
            format!("{t:?} is not a phone number (7 to 15 digits, optionally starting with + and a country code)")
        }),
        ValueKind::OrderNumber => normalize_order_number(t).ok_or_else(|| {
            format!("{t:?} is not an order number (letters, digits and dashes with at least one digit, e.g. ORD-5512)")
        }),
        ValueKind::Enum => {
            let f = fold(t);
            options
                .iter()
                .find(|o| fold(o) == f)
                .cloned()
                .ok_or_else(|| format!("{t:?} is not one of: {}", options.join(", ")))
        }
        ValueKind::Boolean => parse_bool(t).map(|b| b.to_string()).ok_or_else(|| format!("{t:?} is not yes or no")),
    }
}

fn normalize_number(t: &str) -> Result<String, String> {
    let compact: String = t.chars().filter(|c| !matches!(c, ' ' | '_' | '\'')).collect();
    // One comma and no dot: a decimal comma ("12,5").
    let s = if compact.matches(',').count() == 1 && !compact.contains('.') {
        compact.replace(',', ".")
    } else {
        compact.replace(',', "")
    };
    match s.parse::<f64>() {
        Ok(n) if n.is_finite() => {
            if n.fract() == 0.0 && n.abs() < 1e15 {
                Ok(format!("{}", n as i64))
            } else {
                Ok(format!("{n}"))
            }
        }
        _ => Err(format!("{t:?} is not a number")),
    }
}

/// `yes`/`no` in English, Italian, Spanish and French, and `true`/`false`/`1`/`0`.
pub fn parse_bool(t: &str) -> Option<bool> {
    match fold(t).as_str() {
        "true" | "yes" | "y" | "1" | "si" | "oui" | "vero" | "verdadero" | "vrai" | "on" => Some(true),
        "false" | "no" | "n" | "0" | "non" | "falso" | "faux" | "off" => Some(false),
        _ => None,
    }
}

/// A phone number as `+<digits>` (international) or `<digits>`, from any of
/// `+39 333 123 4567`, `0039-333-1234567`, `(555) 123-4567`, `555.123.4567`.
pub fn normalize_phone(t: &str) -> Option<String> {
    let t = t.trim();
    let allowed = |c: char| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '/' | '+' | '\u{a0}');
    if !t.chars().all(allowed) {
        return None;
    }
    // A '+' only at the start.
    if t.chars().skip(1).any(|c| c == '+') {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let (international, digits) = if t.starts_with('+') {
        (true, digits)
    } else if let Some(rest) = digits.strip_prefix("00").filter(|_| t.starts_with("00")) {
        (true, rest.to_owned())
    } else {
        (false, digits)
    };
    if !(7..=15).contains(&digits.len()) {
        return None;
    }
    Some(if international { format!("+{digits}") } else { digits })
}

/// An order reference in upper case without a leading `#`: `#a-12345` → `A-12345`.
pub fn normalize_order_number(t: &str) -> Option<String> {
    let s = t.trim().trim_start_matches('#').trim().to_uppercase();
    let ok = (3..=40).contains(&s.len())
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'))
        && s.chars().any(|c| c.is_ascii_digit());
    ok.then_some(s)
}

// ---------- finding values in free text ----------

/// A value found in a text: where, what was written, and its canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub raw: String,
    pub value: String,
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[a-z0-9._%+\-]+@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)+")
        .expect("email pattern")
});
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:\+|00)?\(?\d[\d \u{a0}().\-/]{4,22}\d").expect("phone pattern"));
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$").expect("date pattern")
});
static ORDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"#\s?[A-Za-z0-9][A-Za-z0-9\-_/]*[A-Za-z0-9]|[A-Za-z]{1,8}[\-_]?\d[A-Za-z0-9\-_/]*[A-Za-z0-9]|\d{5,14}")
        .expect("order pattern")
});
static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[\-+]?\d+(?:[.,]\d+)?").expect("number pattern"));
static INTEGER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[\-+]?\d+").expect("integer pattern"));

/// Whether the match `start..end` of `text` stands on its own: not glued to
/// letters, digits or joining punctuation on either side.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let mut after = text[end..].chars();
    let next = after.next();
    let glued_before = before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '/' | '#' | '+' | '@'));
    let glued_after = match next {
        Some(c) if c.is_alphanumeric() || matches!(c, '-' | '_' | '/' | '@') => true,
        // "12345.67" or "12,5": a decimal tail; "12345." ending a sentence is fine.
        Some('.' | ',') => after.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    !glued_before && !glued_after
}

fn found(m: regex::Match<'_>, value: String) -> Found {
    Found { start: m.start(), end: m.end(), raw: m.as_str().to_owned(), value }
}

pub fn find_emails(text: &str) -> Vec<Found> {
    EMAIL
        .find_iter(text)
        .filter_map(|m| {
            let raw = m.as_str().trim_end_matches('.');
            let v = normalize(ValueKind::Email, &[], raw).ok()?;
            Some(Found { start: m.start(), end: m.start() + raw.len(), raw: raw.to_owned(), value: v })
        })
        .collect()
}

/// Phone numbers: with a `+`/`00` prefix, separators, or at least 9 digits
/// (a bare run of 5 to 8 digits is more likely an order or a quantity).
pub fn find_phones(text: &str) -> Vec<Found> {
    let emails = find_emails(text);
    PHONE
        .find_iter(text)
        .filter(|m| stands_alone(text, m.start(), m.end()))
        .filter(|m| !emails.iter().any(|e| m.start() < e.end && e.start < m.end()))
        .filter_map(|m| {
            let raw = m.as_str();
            if DATE.is_match(raw.trim()) {
                return None;
            }
            let v = normalize_phone(raw)?;
            let digits = v.trim_start_matches('+').len();
            let prefixed = raw.starts_with('+') || raw.starts_with("00") || raw.starts_with('(');
            let separated = raw.chars().any(|c| matches!(c, ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}'));
            (prefixed || digits >= 9 || (separated && digits >= 7)).then(|| found(m, v))
        })
        .collect()
}

/// Order references: `#A-12345`, `ORD-5512`, `INV2024001`, `12345678`.
/// Emails and numbers written as phone numbers (with a `+` or separators)
/// are not order numbers.
pub fn find_order_numbers(text: &str) -> Vec<Found> {
    let taken: Vec<(usize, usize)> = find_emails(text)
        .into_iter()
        .chain(find_phones(text).into_iter().filter(|p| p.raw.contains(|c: char| !c.is_ascii_digit())))
        .map(|f| (f.start, f.end))
        .collect();
    ORDER
        .find_iter(text)
        .filter(|m| stands_alone(text, m.start(), m.end()))
        .filter(|m| !taken.iter().any(|(s, e)| m.start() < *e && *s < m.end()))
        .filter_map(|m| {
            let raw = m.as_str();
            let digits = raw.chars().filter(char::is_ascii_digit).count();
            // References need some substance: three digits, or a '#' in front.
            if digits < 3 && !raw.starts_with('#') {
                return None;
            }
            if DATE.is_match(raw) {
                return None;
            }
            normalize_order_number(&raw.replace(' ', "")).map(|v| found(m, v))
        })
        .collect()
}

/// Numbers that are not part of an order reference, a phone number or an email.
pub fn find_numbers(text: &str, integer: bool) -> Vec<Found> {
    let taken: Vec<(usize, usize)> = find_emails(text)
        .into_iter()
        .chain(find_phones(text))
        .chain(find_order_numbers(text).into_iter().filter(|o| o.raw.contains(|c: char| !c.is_ascii_digit())))
        .map(|f| (f.start, f.end))
        .collect();
    let re: &Regex = if integer { &INTEGER } else { &NUMBER };
    let kind = if integer { ValueKind::Integer } else { ValueKind::Number };
    re.find_iter(text)
        .filter(|m| {
            // A sign is only a sign at the start of a word.
            let s = if m.as_str().starts_with(['-', '+']) { m.start() + 1 } else { m.start() };
            stands_alone(text, s, m.end())
        })
        .filter(|m| !taken.iter().any(|(s, e)| m.start() < *e && *s < m.end()))
        .filter_map(|m| normalize(kind, &[], m.as_str()).ok().map(|v| found(m, v)))
        .collect()
}

/// An enum option named in the text (as whole words, folded); `None` when
/// none is or when two different ones are.
pub fn find_option(text: &str, options: &[String]) -> Option<String> {
    let hay = format!(" {} ", fold(text));
    let hits: Vec<&String> = options
        .iter()
        .filter(|o| {
            let n = fold(o);
            !n.is_empty() && hay.contains(&format!(" {n} "))
        })
        .collect();
    match hits.as_slice() {
        [one] => Some((*one).clone()),
        _ => None,
    }
}

/// Values of `kind` in `text`, in order. Text values cannot be found without
/// a pattern; booleans are not guessed from free text.
pub fn find(kind: ValueKind, options: &[String], text: &str) -> Vec<Found> {
    match kind {
        ValueKind::Email => find_emails(text),
        ValueKind::Phone => find_phones(text),
        ValueKind::OrderNumber => find_order_numbers(text),
        ValueKind::Number => find_numbers(text, false),
        ValueKind::Integer => find_numbers(text, true),
        ValueKind::Enum => find_option(text, options)
            .map(|v| vec![Found { start: 0, end: 0, raw: v.clone(), value: v }])
            .unwrap_or_default(),
        ValueKind::Text | ValueKind::Boolean => Vec::new(),
    }
}

/// The built-in patterns a parameter may name instead of a regular expression.
pub const BUILTIN_PATTERNS: &[(&str, ValueKind)] = &[
    ("order_number", ValueKind::OrderNumber),
    ("email", ValueKind::Email),
    ("phone", ValueKind::Phone),
    ("number", ValueKind::Number),
    ("integer", ValueKind::Integer),
];

pub fn builtin_pattern(name: &str) -> Option<ValueKind> {
    BUILTIN_PATTERNS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// Words people use for a kind of value, in English, Italian, Spanish and
/// French (folded): they tell which field a value found in a text is for.
pub fn kind_keywords(kind: ValueKind) -> &'static [&'static str] {
    match kind {
        ValueKind::Email => &["email", "mail", "correo", "courriel", "posta", "adresse"],
        ValueKind::Phone => &[
            "phone",
            "telephone",
            "tel",
            "mobile",
            "cell",
            "cellphone",
            "telefono",
            "cellulare",
            "movil",
            "celular",
            "portable",
            "whatsapp",
        ],
        ValueKind::OrderNumber => &["order", "orders", "ordine", "pedido", "orden", "commande", "reference", "ref"],
        _ => &[],
    }
}

/// Whether any of `keywords` (folded) occurs as a word of `text`.
pub fn mentions(text: &str, keywords: &[&str]) -> bool {
    let ws = words(text);
    ws.iter().any(|w| keywords.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(v: Vec<Found>) -> Vec<String> {
        v.into_iter().map(|f| f.value).collect()
    }

    #[test]
    fn normalises_each_kind() {
        let n = |k, s: &str| normalize(k, &[], s);
        assert_eq!(n(ValueKind::Number, "12,5").unwrap(), "12.5");
        assert_eq!(n(ValueKind::Number, "1,234.50").unwrap(), "1234.5");
        assert_eq!(n(ValueKind::Number, " 42 ").unwrap(), "42");
        assert!(n(ValueKind::Number, "many").is_err());
        assert_eq!(n(ValueKind::Integer, "1 000").unwrap(), "1000");
        assert!(n(ValueKind::Integer, "1.5").is_err());
        assert_eq!(n(ValueKind::Email, "Ann@Example.COM").unwrap(), "Ann@example.com");
        assert!(n(ValueKind::Email, "ann@").is_err());
        assert_eq!(n(ValueKind::Boolean, "Sì").unwrap(), "true");
        assert_eq!(n(ValueKind::Boolean, "non").unwrap(), "false");
        assert!(n(ValueKind::Boolean, "maybe").is_err());
        assert!(n(ValueKind::Text, "  ").is_err());
        assert!(n(ValueKind::Text, &"x".repeat(MAX_TEXT + 1)).is_err());
        let opts = vec!["Basic".to_owned(), "Pro".to_owned(), "Entreprise".to_owned()];
        assert_eq!(normalize(ValueKind::Enum, &opts, "pro").unwrap(), "Pro");
        assert_eq!(normalize(ValueKind::Enum, &opts, "ENTREPRISE").unwrap(), "Entreprise");
        assert!(normalize(ValueKind::Enum, &opts, "gold").unwrap_err().contains("Basic, Pro"));
    }

    #[test]
    fn phones_in_messy_formats() {
        for (raw, want) in [
            ("+39 333 123 4567", "+393331234567"),
            ("0039-333-1234567", "+393331234567"),
            ("(555) 123-4567", "5551234567"),
            ("555.123.4567", "5551234567"),
            ("+44 (0)20 7946 0958", "+4402079460958"),
            ("3331234567", "3331234567"),
        ] {
            match normalize_phone(raw) {
                Some(v) => assert_eq!(v, want, "{raw}"),
                None => panic!("{raw} should be a phone number"),
            }
        }
        for bad in ["12345", "+39 abc", "1+2345678", "1234567890123456"] {
            assert_eq!(normalize_phone(bad), None, "{bad}");
        }
    }

    #[test]
    fn order_numbers_are_upper_cased_without_hash() {
        assert_eq!(normalize_order_number("#a-12345").as_deref(), Some("A-12345"));
        assert_eq!(normalize_order_number("ORD-5512").as_deref(), Some("ORD-5512"));
        assert_eq!(normalize_order_number("12345678").as_deref(), Some("12345678"));
        assert_eq!(normalize_order_number("ABC"), None);
        assert_eq!(normalize_order_number("-12-"), None);
    }

    #[test]
    fn finds_order_numbers_but_not_inside_other_values() {
        assert_eq!(values(find_order_numbers("Where is my order #A-12345?")), ["A-12345"]);
        assert_eq!(values(find_order_numbers("ordine ORD-5512, grazie")), ["ORD-5512"]);
        assert_eq!(values(find_order_numbers("mi pedido es el 12345678.")), ["12345678"]);
        assert_eq!(values(find_order_numbers("commande n° INV2024001 svp")), ["INV2024001"]);
        assert!(find_order_numbers("call me at +39 333 1234567").is_empty());
        assert!(find_order_numbers("write to ann.12345@example.com").is_empty());
        assert!(find_order_numbers("it was on 2024-05-12").is_empty());
        assert!(find_order_numbers("I have 3 orders").is_empty());
        assert!(find_order_numbers("COVID-19 delays?").is_empty());
    }

    #[test]
    fn finds_phones_and_emails() {
        assert_eq!(values(find_phones("my number is +39 333 123 4567, thanks")), ["+393331234567"]);
        assert_eq!(values(find_phones("chiamami al 333-123-4567")), ["3331234567"]);
        assert_eq!(values(find_phones("(555) 123-4567")), ["5551234567"]);
        assert!(find_phones("order 12345678").is_empty(), "8 bare digits are not a phone");
        assert!(find_phones("on 12/05/2024").is_empty(), "a date is not a phone");
        assert!(find_phones("ORD-5512345").is_empty());
        assert_eq!(values(find_emails("Mi correo es Ana.Lopez@Ejemplo.es.")), ["Ana.Lopez@ejemplo.es"]);
        assert!(find_emails("no email here @ all").is_empty());
    }

    #[test]
    fn finds_numbers_and_options() {
        assert_eq!(values(find_numbers("I need 3 seats, not 2.5", false)), ["3", "2.5"]);
        assert_eq!(values(find_numbers("order ORD-5512 for 4 people", true)), ["4"]);
        let opts = vec!["Basic".to_owned(), "Pro".to_owned()];
        assert_eq!(find_option("switch me to the PRO plan", &opts).as_deref(), Some("Pro"));
        assert_eq!(find_option("basic or pro?", &opts), None, "ambiguous");
        assert_eq!(find_option("professional", &opts), None, "whole words only");
    }
}
