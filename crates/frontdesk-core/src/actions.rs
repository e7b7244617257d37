//! Configured HTTP actions (F2), pure: their definition and its checks, the
//! JSON schema an LLM sees, how the built-in responder picks an action from
//! its example phrases and finds its parameters in the question, how the
//! request is rendered from templates, and how the response becomes a reply.
//! The server performs the call (`frontdesk_server::actions::execute`).
//!
//! Secret header values never leave through serialisation: a secret
//! [`Header`] serialises as `{"name", "secret": true, "set": bool}` without
//! its value, so the API, the audit log, traces and pages cannot show it.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::crm::{is_identifier, ReadableProperty};
use crate::lang::Lang;
use crate::text::{fuzzy_eq, terms};
use crate::validate::{bounded_text, ValidationError};
use crate::values::{builtin_pattern, find, normalize, ValueKind};

pub type ActionId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HttpMethod {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "PATCH")]
    Patch,
    #[serde(rename = "DELETE")]
    Delete,
}

impl HttpMethod {
    pub const ALL: &'static [HttpMethod] =
        &[HttpMethod::Get, HttpMethod::Post, HttpMethod::Put, HttpMethod::Patch, HttpMethod::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A request header. A secret one (an API key) is stored but never shown again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    /// May contain `{param}` placeholders. Empty in input for a secret header
    /// means "keep the stored value".
    pub value: String,
    pub secret: bool,
}

impl Serialize for Header {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Header", 3)?;
        st.serialize_field("name", &self.name)?;
        if self.secret {
            st.serialize_field("secret", &true)?;
            st.serialize_field("set", &!self.value.is_empty())?;
        } else {
            st.serialize_field("value", &self.value)?;
            st.serialize_field("secret", &false)?;
        }
        st.end()
    }
}

impl<'de> Deserialize<'de> for Header {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            name: String,
            #[serde(default)]
            value: Option<String>,
            #[serde(default)]
            secret: bool,
            /// What a read returns for a secret; ignored on the way in.
            #[serde(default)]
            #[allow(dead_code)]
            set: Option<bool>,
        }
        let w = Wire::deserialize(d)?;
        Ok(Header { name: w.name, value: w.value.unwrap_or_default(), secret: w.secret })
    }
}

/// Where a parameter's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case", deny_unknown_fields)]
pub enum ParamSource {
    /// What the visitor wrote: found with `pattern` (a built-in name such as
    /// `order_number`, or a regular expression whose first group, or whole
    /// match, is the value) or, without one, by the parameter's kind. The
    /// LLM responder fills these as tool arguments.
    Conversation {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pattern: Option<String>,
    },
    /// A property of the contact (it must be readable by the agent).
    Contact { property: String },
    /// A fixed value.
    Constant { value: String },
}

impl Default for ParamSource {
    fn default() -> Self {
        ParamSource::Conversation { pattern: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    /// `[a-z][a-z0-9_]*`; templates refer to it as `{name}`.
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub kind: ValueKind,
    /// The allowed values of an enum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub source: ParamSource,
}

fn yes() -> bool {
    true
}

fn default_timeout() -> u64 {
    ActionDef::DEFAULT_TIMEOUT_MS
}

/// A configured HTTP action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDef {
    /// Set by the store; ignored in input.
    #[serde(default)]
    pub id: ActionId,
    /// `[a-z][a-z0-9_]*`, unique: it is the LLM's tool name.
    pub name: String,
    /// What it does and when to use it (the LLM reads it).
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub method: HttpMethod,
    /// `https://api.example.com/orders/{order_number}`; values are percent-encoded.
    pub url_template: String,
    #[serde(default)]
    pub headers: Vec<Header>,
    #[serde(default)]
    pub params: Vec<ParamDef>,
    /// JSON with `"{param}"` placeholders, for methods other than GET. A string
    /// that is exactly one placeholder becomes the typed value (number, boolean).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_template: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// What the agent says on success: `Your order is {{status}}, arriving {{delivery.date}}.`
    /// Placeholders are paths into the JSON response; `{{path|fallback}}` gives a fallback.
    #[serde(default)]
    pub response_template: String,
    /// Questions that should trigger it, in any language (built-in responder).
    #[serde(default)]
    pub example_phrases: Vec<String>,
}

impl ActionDef {
    pub const DEFAULT_TIMEOUT_MS: u64 = 5000;
    pub const MIN_TIMEOUT_MS: u64 = 100;
    pub const MAX_TIMEOUT_MS: u64 = 30_000;
    pub const MAX_NAME: usize = 64;
    pub const MAX_PARAMS: usize = 20;
    pub const MAX_HEADERS: usize = 20;
    pub const MAX_PHRASES: usize = 50;

    pub fn param(&self, name: &str) -> Option<&ParamDef> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Takes the stored value of every secret header sent without one (an
    /// update that keeps a secret it cannot see), matched by header name.
    pub fn keep_secrets_from(&mut self, stored: &ActionDef) {
        for h in self.headers.iter_mut().filter(|h| h.secret && h.value.is_empty()) {
            if let Some(old) = stored.headers.iter().find(|o| o.secret && o.name.eq_ignore_ascii_case(&h.name)) {
                h.value = old.value.clone();
            }
        }
    }

    /// The definition with its secret header values removed (for storage
    /// beside the secrets, or for anything that should not hold them).
    pub fn without_secrets(&self) -> ActionDef {
        let mut d = self.clone();
        for h in d.headers.iter_mut().filter(|h| h.secret) {
            h.value.clear();
        }
        d
    }

    /// The secret header values by header name (lower case).
    pub fn secrets(&self) -> Vec<(String, String)> {
        self.headers.iter().filter(|h| h.secret).map(|h| (h.name.to_ascii_lowercase(), h.value.clone())).collect()
    }

    /// Puts secret values back into a definition stored without them.
    pub fn with_secrets(mut self, secrets: &[(String, String)]) -> ActionDef {
        for h in self.headers.iter_mut().filter(|h| h.secret) {
            if let Some((_, v)) = secrets.iter().find(|(n, _)| n.eq_ignore_ascii_case(&h.name)) {
                h.value = v.clone();
            }
        }
        self
    }

    /// The definition checked and trimmed; every problem names its field
    /// (`params[1].name`, `headers[0].value`, `url_template`…).
    pub fn parse(self) -> Result<ActionDef, Vec<ValidationError>> {
        check(self)
    }
}

// ---------- templates ----------

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{([^{}]*)\}").expect("placeholder pattern"));
static RESPONSE_PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{([^{}]*)\}\}").expect("response placeholder pattern"));
static PATH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_\-]+(?:\[\d+\])*(?:\.[A-Za-z0-9_\-]+(?:\[\d+\])*)*$").expect("path"));

/// The `{name}` placeholders of a request template; errors for a malformed one.
fn request_placeholders(t: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for c in PLACEHOLDER.captures_iter(t) {
        let name = c[1].trim();
        if !is_identifier(name, ActionDef::MAX_NAME) {
            return Err(format!("{{{name}}} is not a parameter placeholder: use {{name}} with a parameter's name"));
        }
        out.push(name.to_owned());
    }
    let rest = PLACEHOLDER.replace_all(t, "");
    if rest.contains(['{', '}']) {
        return Err("has an unmatched { or }".into());
    }
    Ok(out)
}

/// Percent-encodes everything but unreserved characters (RFC 3986), so a
/// value cannot change the URL's structure (no `/`, `?`, `#`, `&`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The request an action makes with these parameter values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpRequest {
    pub method: HttpMethod,
    pub url: String,
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

fn value_of<'a>(values: &'a [(String, String)], name: &str) -> Option<&'a str> {
    values.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Renders the request: URL placeholders percent-encoded, header values as
/// they are (control characters refused), body placeholders JSON-escaped (a
/// string that is exactly one placeholder becomes the typed value). An
/// optional parameter without a value renders empty (`null` in a body).
pub fn render_request(def: &ActionDef, values: &[(String, String)]) -> Result<HttpRequest, String> {
    let url = PLACEHOLDER
        .replace_all(&def.url_template, |c: &regex::Captures<'_>| {
            percent_encode(value_of(values, c[1].trim()).unwrap_or_default())
        })
        .into_owned();
    let mut headers = Vec::new();
    for h in &def.headers {
        let v = PLACEHOLDER
            .replace_all(&h.value, |c: &regex::Captures<'_>| {
                value_of(values, c[1].trim()).unwrap_or_default().to_owned()
            })
            .into_owned();
        if v.chars().any(|c| c.is_control()) {
            return Err(format!("the value of header {} would contain a line break", h.name));
        }
        headers.push((h.name.clone(), v));
    }
    let body = match (&def.body_template, def.method) {
        (Some(t), m) if m != HttpMethod::Get && !t.trim().is_empty() => {
            let tpl: Value = serde_json::from_str(t).map_err(|e| format!("the body template is not JSON: {e}"))?;
            Some(fill_json(tpl, def, values).to_string())
        }
        _ => None,
    };
    Ok(HttpRequest { method: def.method, url, headers, body })
}

fn typed(def: &ActionDef, name: &str, v: Option<&str>) -> Value {
    let Some(v) = v else { return Value::Null };
    match def.param(name).map(|p| p.kind) {
        Some(ValueKind::Number | ValueKind::Integer) => {
            serde_json::from_str::<serde_json::Number>(v).map(Value::Number).unwrap_or_else(|_| json!(v))
        }
        Some(ValueKind::Boolean) => json!(v == "true"),
        _ => json!(v),
    }
}

fn fill_json(t: Value, def: &ActionDef, values: &[(String, String)]) -> Value {
    match t {
        Value::String(s) => {
            if let Some(c) = PLACEHOLDER.captures(&s).filter(|c| c[0].len() == s.len()) {
                let name = c[1].trim().to_owned();
                return typed(def, &name, value_of(values, &name));
            }
            Value::String(
                PLACEHOLDER
                    .replace_all(&s, |c: &regex::Captures<'_>| {
                        value_of(values, c[1].trim()).unwrap_or_default().to_owned()
                    })
                    .into_owned(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|v| fill_json(v, def, values)).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, fill_json(v, def, values))).collect()),
        other => other,
    }
}

/// A response template's placeholder: the path and its fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ResponseField {
    path: String,
    fallback: Option<String>,
}

fn response_fields(t: &str) -> Result<Vec<ResponseField>, String> {
    let mut out = Vec::new();
    for c in RESPONSE_PLACEHOLDER.captures_iter(t) {
        let inner = &c[1];
        let (path, fallback) = match inner.split_once('|') {
            Some((p, f)) => (p.trim(), Some(f.trim().to_owned())),
            None => (inner.trim(), None),
        };
        if !PATH.is_match(path) {
            return Err(format!(
                "{{{{{inner}}}}} is not a field of the response: use a path such as {{{{status}}}} or {{{{items[0].name}}}}"
            ));
        }
        out.push(ResponseField { path: path.to_owned(), fallback });
    }
    let rest = RESPONSE_PLACEHOLDER.replace_all(t, "");
    if rest.contains("{{") || rest.contains("}}") {
        return Err("has an unmatched {{ or }}".into());
    }
    Ok(out)
}

/// The response fields a template uses (paths).
pub fn template_fields(template: &str) -> Vec<String> {
    response_fields(template).unwrap_or_default().into_iter().map(|f| f.path).collect()
}

/// The value at `path` (`delivery.date`, `items.0.name`, `items[0].name`).
pub fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path.replace('[', ".").replace(']', "").split('.').filter(|s| !s.is_empty()) {
        cur = match cur {
            Value::Object(o) => o.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Longest value put into a reply, in characters.
const MAX_VALUE_CHARS: usize = 500;

/// A value as reply text: strings as they are, numbers and booleans written
/// out, lists of those joined with commas; objects, nulls and empty strings
/// are not values.
fn as_text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            let parts: Option<Vec<String>> =
                items.iter().map(|i| if i.is_array() { None } else { as_text(i) }).collect();
            parts?.join(", ")
        }
        _ => return None,
    };
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return None;
    }
    Some(if flat.chars().count() > MAX_VALUE_CHARS {
        let mut cut: String = flat.chars().take(MAX_VALUE_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        flat
    })
}

/// A rendered response template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub text: String,
    /// Paths the response did not have (and that had no fallback); they render empty.
    pub missing: Vec<String>,
}

/// Fills `{{path}}` placeholders from the JSON response. A missing value
/// renders as its fallback (`{{path|unknown}}`) or empty, and is reported.
pub fn render_response(template: &str, response: &Value) -> Rendered {
    let mut missing = Vec::new();
    let text = RESPONSE_PLACEHOLDER
        .replace_all(template, |c: &regex::Captures<'_>| {
            let inner = &c[1];
            let (path, fallback) = match inner.split_once('|') {
                Some((p, f)) => (p.trim(), Some(f.trim())),
                None => (inner.trim(), None),
            };
            match lookup(response, path).and_then(as_text) {
                Some(v) => v,
                None => match fallback {
                    Some(f) => f.to_owned(),
                    None => {
                        missing.push(path.to_owned());
                        String::new()
                    }
                },
            }
        })
        .into_owned();
    let text = text.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ").trim().to_owned();
    Rendered { text, missing }
}

// ---------- checks ----------

/// Headers the HTTP client sets itself.
const RESERVED_HEADERS: &[&str] =
    &["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive"];

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks the URL template: http(s), a host without placeholders (values
/// choose the path and query, never the server), no credentials, no spaces.
fn check_url(t: &str) -> Result<(), String> {
    if t.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    let lower = t.to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("https://") {
        r
    } else if let Some(r) = lower.strip_prefix("http://") {
        r
    } else {
        return Err("must start with https:// or http://".into());
    };
    if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces (placeholder values are encoded for you)".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err("has no host".into());
    }
    if authority.contains(['{', '}']) {
        return Err("the host cannot contain a placeholder: parameters may only fill the path and query".into());
    }
    if authority.contains('@') {
        return Err("must not contain credentials: put them in a secret header".into());
    }
    Ok(())
}

fn check_pattern(p: &str) -> Result<(), String> {
    if builtin_pattern(p).is_some() {
        return Ok(());
    }
    if p.chars().count() > 500 {
        return Err("must be at most 500 characters".into());
    }
    regex::RegexBuilder::new(p).size_limit(1 << 20).build().map(|_| ()).map_err(|e| {
        let names: Vec<&str> = crate::values::BUILTIN_PATTERNS.iter().map(|(n, _)| *n).collect();
        format!("is neither a built-in pattern ({}) nor a valid regular expression: {e}", names.join(", "))
    })
}

fn check(def: ActionDef) -> Result<ActionDef, Vec<ValidationError>> {
    let mut errs: Vec<ValidationError> = Vec::new();
    let mut e = |field: &str, msg: String| errs.push(ValidationError::new(field, msg));
    let name = def.name.trim().to_owned();
    if !is_identifier(&name, ActionDef::MAX_NAME) {
        e(
            "name",
            format!(
                "use 1 to {} lowercase letters, digits and underscores, starting with a letter (it becomes a tool name)",
                ActionDef::MAX_NAME
            ),
        );
    }
    let description = bounded_text("description", &def.description, 1, 1000).unwrap_or_else(|x| {
        e(&x.field, format!("{} (say what the action does and when to use it)", x.message));
        String::new()
    });
    let url_template = def.url_template.trim().to_owned();
    if let Err(m) = check_url(&url_template) {
        e("url_template", m);
    }
    if !(ActionDef::MIN_TIMEOUT_MS..=ActionDef::MAX_TIMEOUT_MS).contains(&def.timeout_ms) {
        e(
            "timeout_ms",
            format!("must be between {} and {} milliseconds", ActionDef::MIN_TIMEOUT_MS, ActionDef::MAX_TIMEOUT_MS),
        );
    }

    // Parameters.
    if def.params.len() > ActionDef::MAX_PARAMS {
        e("params", format!("at most {} parameters", ActionDef::MAX_PARAMS));
    }
    let mut params: Vec<ParamDef> = Vec::new();
    for (i, p) in def.params.iter().enumerate() {
        let f = |x: &str| format!("params[{i}].{x}");
        let pname = p.name.trim().to_owned();
        if !is_identifier(&pname, ActionDef::MAX_NAME) {
            e(&f("name"), "use lowercase letters, digits and underscores, starting with a letter".into());
        } else if params.iter().any(|q| q.name == pname) {
            e(&f("name"), format!("another parameter is already called {pname:?}"));
        }
        let pdesc = bounded_text(&f("description"), &p.description, 0, 500).unwrap_or_else(|x| {
            e(&x.field, x.message);
            String::new()
        });
        let values = crate::crm::check_options(&f("values"), p.kind, &p.values).unwrap_or_else(|x| {
            e(&x.field, x.message);
            Vec::new()
        });
        let source = match &p.source {
            ParamSource::Conversation { pattern } => {
                let pattern = pattern.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
                if let Some(pat) = &pattern {
                    if let Err(m) = check_pattern(pat) {
                        e(&f("source.pattern"), m);
                    }
                }
                ParamSource::Conversation { pattern }
            }
            ParamSource::Contact { property } => {
                let property = property.trim().to_owned();
                if !is_identifier(&property, crate::crm::MAX_KEY) {
                    e(&f("source.property"), "must be the key of a contact property (e.g. email, plan)".into());
                }
                ParamSource::Contact { property }
            }
            // An enum without valid values is already reported; its constant cannot be checked.
            ParamSource::Constant { value } if p.kind == ValueKind::Enum && values.is_empty() => {
                ParamSource::Constant { value: value.clone() }
            }
            ParamSource::Constant { value } => match normalize(p.kind, &values, value) {
                Ok(v) => ParamSource::Constant { value: v },
                Err(m) => {
                    e(&f("source.value"), format!("a constant needs a valid value: {m}"));
                    ParamSource::Constant { value: value.clone() }
                }
            },
        };
        params.push(ParamDef { name: pname, description: pdesc, kind: p.kind, values, required: p.required, source });
    }
    let known = |n: &str| params.iter().any(|p| p.name == n);
    let mut used: Vec<String> = Vec::new();
    match request_placeholders(&url_template) {
        Ok(names) => {
            for n in names {
                if !known(&n) {
                    e("url_template", format!("{{{n}}} is not one of the parameters"));
                }
                used.push(n);
            }
        }
        Err(m) => e("url_template", m),
    }

    // Headers.
    if def.headers.len() > ActionDef::MAX_HEADERS {
        e("headers", format!("at most {} headers", ActionDef::MAX_HEADERS));
    }
    let mut headers: Vec<Header> = Vec::new();
    for (i, h) in def.headers.iter().enumerate() {
        let f = |x: &str| format!("headers[{i}].{x}");
        let hname = h.name.trim().to_owned();
        if !is_token(&hname) || hname.len() > 100 {
            e(&f("name"), "must be a header name such as Authorization or X-Api-Key".into());
        } else if RESERVED_HEADERS.contains(&hname.to_ascii_lowercase().as_str()) {
            e(&f("name"), format!("{hname} is set by Frontdesk itself"));
        } else if headers.iter().any(|o| o.name.eq_ignore_ascii_case(&hname)) {
            e(&f("name"), format!("{hname} is listed twice"));
        }
        let value = h.value.trim().to_owned();
        if value.is_empty() {
            let why = if h.secret { "a secret header needs a value the first time" } else { "must not be empty" };
            e(&f("value"), why.into());
        } else if value.len() > 4000 {
            e(&f("value"), "must be at most 4000 characters".into());
        } else if value.chars().any(|c| c.is_control()) {
            e(&f("value"), "must not contain line breaks or control characters".into());
        } else if !h.secret {
            match request_placeholders(&value) {
                Ok(names) => {
                    for n in names {
                        if !known(&n) {
                            e(&f("value"), format!("{{{n}}} is not one of the parameters"));
                        }
                        used.push(n);
                    }
                }
                Err(m) => e(&f("value"), m),
            }
        }
        headers.push(Header { name: hname, value, secret: h.secret });
    }

    // Body.
    let body_template = def.body_template.as_deref().map(str::trim).filter(|b| !b.is_empty()).map(str::to_owned);
    if let Some(b) = &body_template {
        if def.method == HttpMethod::Get {
            e("body_template", "a GET request has no body; use POST, PUT or PATCH, or put values in the URL".into());
        } else if b.len() > 20_000 {
            e("body_template", "must be at most 20000 characters".into());
        } else {
            match serde_json::from_str::<Value>(b) {
                Err(x) => e("body_template", format!("must be JSON (with \"{{param}}\" placeholders in strings): {x}")),
                Ok(v) => {
                    let mut strings = Vec::new();
                    collect_strings(&v, &mut strings);
                    for s in strings {
                        match request_placeholders(&s) {
                            Ok(names) => {
                                for n in names {
                                    if !known(&n) {
                                        e("body_template", format!("{{{n}}} is not one of the parameters"));
                                    }
                                    used.push(n);
                                }
                            }
                            Err(m) => e("body_template", m),
                        }
                    }
                }
            }
        }
    }
    for (i, p) in params.iter().enumerate() {
        if !p.name.is_empty() && !used.contains(&p.name) {
            e(&format!("params[{i}].name"), format!("{{{}}} is not used in the URL, a header or the body", p.name));
        }
    }

    // Response and phrases.
    let response_template = bounded_text("response_template", &def.response_template, 1, 2000).unwrap_or_else(|x| {
        e(&x.field, format!("{} (what the agent says when the action succeeds)", x.message));
        String::new()
    });
    if let Err(m) = response_fields(&response_template) {
        e("response_template", m);
    }
    if def.example_phrases.len() > ActionDef::MAX_PHRASES {
        e("example_phrases", format!("at most {} phrases", ActionDef::MAX_PHRASES));
    }
    let mut phrases: Vec<String> = Vec::new();
    for (i, p) in def.example_phrases.iter().enumerate() {
        match bounded_text(&format!("example_phrases[{i}]"), p, 1, 300) {
            Ok(p) if terms(&p).is_empty() => {
                e(&format!("example_phrases[{i}]"), "has no words to match (only common words like 'the', 'my')".into())
            }
            Ok(p) if !phrases.contains(&p) => phrases.push(p),
            Ok(_) => {}
            Err(x) => e(&x.field, x.message),
        }
    }
    if errs.is_empty() {
        Ok(ActionDef {
            id: def.id,
            name,
            description,
            enabled: def.enabled,
            method: def.method,
            url_template,
            headers,
            params,
            body_template,
            timeout_ms: def.timeout_ms,
            response_template,
            example_phrases: phrases,
        })
    } else {
        Err(errs)
    }
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

// ---------- the LLM's view ----------

/// The JSON schema of the parameters the model fills: the conversation's
/// (contact and constant parameters are filled by the server, never by the model).
pub fn json_schema(def: &ActionDef) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for p in def.params.iter().filter(|p| matches!(p.source, ParamSource::Conversation { .. })) {
        let mut s = json!({"type": p.kind.json_type()});
        let desc = if p.description.is_empty() { p.name.replace('_', " ") } else { p.description.clone() };
        s["description"] = json!(format!("{desc} ({})", p.kind.label()));
        if p.kind == ValueKind::Enum {
            s["enum"] = json!(p.values);
        }
        if p.kind == ValueKind::Email {
            s["format"] = json!("email");
        }
        props.insert(p.name.clone(), s);
        if p.required {
            required.push(p.name.clone());
        }
    }
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

/// An OpenAI-style tool definition: `{"type": "function", "function": {name, description, parameters}}`.
pub fn tool_spec(def: &ActionDef) -> Value {
    json!({"type": "function", "function": {"name": def.name, "description": def.description, "parameters": json_schema(def)}})
}

// ---------- the built-in responder ----------

/// Below this, a question does not trigger an action.
pub const MATCH_THRESHOLD: f32 = 0.7;

/// An action a question matched, through one of its example phrases.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionMatch {
    pub id: ActionId,
    pub name: String,
    pub score: f32,
    pub phrase: String,
}

/// Content terms of a text without the values in it (order numbers, emails,
/// phones, numbers): "where is my order #A-12345" and "where is my order"
/// ask the same thing.
fn topic_terms(text: &str) -> Vec<String> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for k in [ValueKind::Email, ValueKind::Phone, ValueKind::OrderNumber, ValueKind::Number] {
        spans.extend(find(k, &[], text).into_iter().map(|f| (f.start, f.end)));
    }
    spans.sort();
    let mut cleaned = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        if s >= at {
            cleaned.push_str(&text[at..s]);
            cleaned.push(' ');
            at = e;
        } else if e > at {
            at = e;
        }
    }
    cleaned.push_str(&text[at..]);
    let mut t: Vec<String> = terms(&cleaned).into_iter().filter(|w| !w.chars().any(|c| c.is_ascii_digit())).collect();
    t.sort();
    t.dedup();
    t
}

fn matched(needles: &[String], haystack: &[String]) -> usize {
    needles.iter().filter(|n| haystack.iter().any(|h| fuzzy_eq(n, h))).count()
}

/// Every enabled action scored against the question (best phrase each),
/// best first, in [0, 1]: the Dice overlap of content terms, tolerant of
/// case, accents, word order, plurals and typos.
pub fn rank_actions(question: &str, actions: &[ActionDef]) -> Vec<ActionMatch> {
    let q = topic_terms(question);
    if q.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<ActionMatch> = actions
        .iter()
        .filter(|a| a.enabled)
        .filter_map(|a| {
            a.example_phrases
                .iter()
                .filter_map(|p| {
                    let pt = topic_terms(p);
                    if pt.is_empty() {
                        return None;
                    }
                    let score = (matched(&q, &pt) + matched(&pt, &q)) as f32 / (q.len() + pt.len()) as f32;
                    Some(ActionMatch { id: a.id, name: a.name.clone(), score, phrase: p.clone() })
                })
                .max_by(|x, y| x.score.total_cmp(&y.score))
        })
        .filter(|m| m.score > 0.0)
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    out
}

/// The action the question asks for, if one scores at least [`MATCH_THRESHOLD`].
pub fn match_action(question: &str, actions: &[ActionDef]) -> Option<ActionMatch> {
    rank_actions(question, actions).into_iter().next().filter(|m| m.score >= MATCH_THRESHOLD)
}

/// A parameter the responder could not fill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingParam {
    pub name: String,
    /// What to ask the visitor for (the description, or the name in words).
    pub description: String,
    /// Why: not found, or found but not valid.
    pub reason: String,
}

/// The required parameters that could not be filled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub params: Vec<MissingParam>,
}

fn missing(p: &ParamDef, reason: impl Into<String>) -> MissingParam {
    let description = if p.description.is_empty() { p.name.replace('_', " ") } else { p.description.clone() };
    MissingParam { name: p.name.clone(), description, reason: reason.into() }
}

/// Fills the parameters that do not come from the conversation: constants,
/// and contact properties from the readable view only.
fn fixed_value(p: &ParamDef, readable: &[ReadableProperty]) -> Option<Result<String, MissingParam>> {
    match &p.source {
        ParamSource::Constant { value } => Some(normalize(p.kind, &p.values, value).map_err(|m| missing(p, m))),
        ParamSource::Contact { property } => Some(match readable.iter().find(|r| &r.key == property) {
            Some(r) => normalize(p.kind, &p.values, &r.value).map_err(|m| missing(p, m)),
            None => Err(missing(p, format!("the contact's {property} is not known (or not readable by the agent)"))),
        }),
        ParamSource::Conversation { .. } => None,
    }
}

/// The value of a conversation parameter in the question.
fn from_question(p: &ParamDef, question: &str, pattern: Option<&str>) -> Result<String, MissingParam> {
    let candidates: Vec<String> = match pattern {
        Some(name) if builtin_pattern(name).is_some() => {
            let kind = builtin_pattern(name).unwrap_or(p.kind);
            find(kind, &[], question).into_iter().map(|f| f.value).collect()
        }
        Some(re) => match regex::RegexBuilder::new(re).size_limit(1 << 20).build() {
            Ok(re) => re
                .captures_iter(question)
                .filter_map(|c| c.get(1).or_else(|| c.get(0)).map(|m| m.as_str().to_owned()))
                .collect(),
            Err(_) => Vec::new(),
        },
        None => find(p.kind, &p.values, question).into_iter().map(|f| f.value).collect(),
    };
    let mut last_error = None;
    for c in candidates {
        match normalize(p.kind, &p.values, &c) {
            Ok(v) => return Ok(v),
            Err(m) => last_error = Some(m),
        }
    }
    Err(missing(p, last_error.unwrap_or_else(|| "not found in the message".into())))
}

/// The parameter values for `def` from the visitor's question (built-in
/// patterns or the parameter's own), the contact's readable properties and
/// constants, each validated by its kind. Optional parameters without a
/// value are left out; missing required ones are all reported.
pub fn extract_params(
    question: &str,
    def: &ActionDef,
    readable: &[ReadableProperty],
) -> Result<Vec<(String, String)>, Missing> {
    let mut values = Vec::new();
    let mut absent = Vec::new();
    for p in &def.params {
        let got = match &p.source {
            ParamSource::Conversation { pattern } => from_question(p, question, pattern.as_deref()),
            _ => fixed_value(p, readable).unwrap_or_else(|| Err(missing(p, "no value"))),
        };
        match got {
            Ok(v) => values.push((p.name.clone(), v)),
            Err(m) if p.required => absent.push(m),
            Err(_) => {}
        }
    }
    if absent.is_empty() {
        Ok(values)
    } else {
        Err(Missing { params: absent })
    }
}

/// The parameter values for `def` from an LLM's tool arguments (conversation
/// parameters only; anything else is refused) plus the contact's readable
/// properties and constants. Every problem names the parameter.
pub fn params_from_arguments(
    def: &ActionDef,
    arguments: &Value,
    readable: &[ReadableProperty],
) -> Result<Vec<(String, String)>, Vec<ValidationError>> {
    let empty = Map::new();
    let args = match arguments {
        Value::Object(o) => o,
        Value::Null => &empty,
        _ => return Err(vec![ValidationError::new("arguments", "must be a JSON object")]),
    };
    let mut errs = Vec::new();
    for k in args.keys() {
        let fillable = def.param(k).is_some_and(|p| matches!(p.source, ParamSource::Conversation { .. }));
        if !fillable {
            errs.push(ValidationError::new(k, "is not a parameter of this action"));
        }
    }
    let mut values = Vec::new();
    for p in &def.params {
        let got: Result<Option<String>, String> = match &p.source {
            ParamSource::Conversation { .. } => match args.get(&p.name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => normalize(p.kind, &p.values, s).map(Some),
                Some(Value::Number(n)) => normalize(p.kind, &p.values, &n.to_string()).map(Some),
                Some(Value::Bool(b)) => normalize(p.kind, &p.values, &b.to_string()).map(Some),
                Some(_) => Err("must be a single value".into()),
            },
            _ => match fixed_value(p, readable) {
                Some(Ok(v)) => Ok(Some(v)),
                Some(Err(m)) if p.required => Err(m.reason),
                _ => Ok(None),
            },
        };
        match got {
            Ok(Some(v)) => values.push((p.name.clone(), v)),
            Ok(None) if p.required => errs.push(ValidationError::new(&p.name, "is required")),
            Ok(None) => {}
            Err(m) => errs.push(ValidationError::new(&p.name, m)),
        }
    }
    if errs.is_empty() {
        Ok(values)
    } else {
        Err(errs)
    }
}

// ---------- what the visitor hears ----------

/// How an action went wrong: the trace says exactly what happened; the
/// visitor only hears a polite sentence ([`failure_text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// The request could not be rendered (a value would break a header…).
    BadRequest,
    /// The address is private or local and that is not allowed.
    Refused,
    /// No connection (DNS, refused, TLS).
    Unreachable,
    Timeout,
    /// 404 or 410: nothing with those details.
    NotFound,
    /// Another 4xx.
    Rejected,
    /// 5xx.
    ServerError,
    /// A redirect (they are not followed).
    Redirected,
    /// The template needs JSON and the response was not (HTML, text).
    NotJson,
    /// The response lacked fields the template needs.
    MissingFields,
    /// The response was larger than allowed.
    TooLarge,
}

/// A polite sentence for the visitor; never the raw error.
pub fn failure_text(f: Failure, lang: Lang) -> &'static str {
    match (f, lang) {
        (Failure::NotFound, Lang::En) => {
            "I couldn't find anything matching those details. Could you check them and try again?"
        }
        (Failure::NotFound, Lang::It) => {
            "Non ho trovato nulla che corrisponda a questi dati. Puoi controllarli e riprovare?"
        }
        (Failure::NotFound, Lang::Es) => {
            "No he encontrado nada que coincida con esos datos. ¿Puede comprobarlos e intentarlo de nuevo?"
        }
        (Failure::NotFound, Lang::Fr) => {
            "Je n'ai rien trouvé qui corresponde à ces informations. Pouvez-vous les vérifier et réessayer ?"
        }
        (Failure::NotFound, Lang::De) => {
            "Ich konnte zu diesen Angaben nichts finden. Könnten Sie sie überprüfen und es erneut versuchen?"
        }
        (Failure::NotFound, Lang::Pt) => {
            "Não encontrei nada que corresponda a esses dados. Pode conferi-los e tentar novamente?"
        }
        (Failure::NotFound, Lang::Nl) => {
            "Ik kon niets vinden dat bij deze gegevens past. Kun je ze controleren en het opnieuw proberen?"
        }
        (Failure::NotFound, Lang::Sv) => {
            "Jag hittade inget som matchar de uppgifterna. Kan du kontrollera dem och försöka igen?"
        }
        (Failure::NotFound, Lang::Ru) => {
            "Не удалось ничего найти по этим данным. Проверьте их, пожалуйста, и попробуйте ещё раз."
        }
        (Failure::NotFound, Lang::Ja) => {
            "ご入力の情報に一致するものが見つかりませんでした。内容をご確認のうえ、もう一度お試しいただけますか？"
        }
        (Failure::NotFound, Lang::Zh) => "没有找到与这些信息匹配的内容。请检查后再试一次好吗？",
        (Failure::NotFound, Lang::Ko) => {
            "입력하신 정보와 일치하는 내용을 찾지 못했어요. 확인하신 후 다시 시도해 주시겠어요?"
        }
        (_, Lang::En) => {
            "Sorry, I couldn't complete that right now. Please try again in a moment, or a member of our team can help."
        }
        (_, Lang::It) => {
            "Mi dispiace, in questo momento non riesco a completare l'operazione. Riprova tra poco, oppure un membro del team potrà aiutarti."
        }
        (_, Lang::Es) => {
            "Lo siento, ahora mismo no he podido completarlo. Inténtelo de nuevo en un momento o un miembro de nuestro equipo podrá ayudarle."
        }
        (_, Lang::Fr) => {
            "Désolé, je n'ai pas pu terminer cette opération pour le moment. Réessayez dans un instant, ou un membre de notre équipe pourra vous aider."
        }
        (_, Lang::De) => {
            "Das konnte ich gerade leider nicht erledigen. Bitte versuchen Sie es gleich noch einmal, oder ein Mitglied unseres Teams hilft Ihnen weiter."
        }
        (_, Lang::Pt) => {
            "Desculpe, não consegui concluir isso agora. Tente novamente em instantes ou um membro da nossa equipe poderá ajudar."
        }
        (_, Lang::Nl) => {
            "Sorry, dat is me nu niet gelukt. Probeer het zo nog eens, of iemand van ons team helpt je verder."
        }
        (_, Lang::Sv) => {
            "Tyvärr kunde jag inte slutföra det just nu. Försök igen om en stund, eller så kan någon i vårt team hjälpa dig."
        }
        (_, Lang::Ru) => {
            "К сожалению, сейчас не получилось это выполнить. Попробуйте ещё раз чуть позже или обратитесь к сотруднику нашей команды."
        }
        (_, Lang::Ja) => {
            "申し訳ありません、ただいま処理を完了できませんでした。しばらくしてからもう一度お試しいただくか、担当スタッフがお手伝いします。"
        }
        (_, Lang::Zh) => "抱歉，暂时无法完成此操作。请稍后再试，或由我们团队的工作人员为您提供帮助。",
        (_, Lang::Ko) => {
            "죄송해요, 지금은 처리를 완료하지 못했어요. 잠시 후 다시 시도해 주시거나, 저희 팀원이 도와드릴 수 있어요."
        }
    }
}

/// Whether a failure is worth handing to a human (the service is down or
/// misbehaving) rather than asking the visitor to check their details.
pub fn failure_needs_human(f: Failure) -> bool {
    !matches!(f, Failure::NotFound)
}

/// Asks the visitor for what is missing: "To do that, I need your order number."
pub fn missing_params_text(m: &Missing, lang: Lang) -> String {
    let list = m.params.iter().map(|p| p.description.to_lowercase()).collect::<Vec<_>>().join(", ");
    match lang {
        Lang::En => format!("To do that, I need your {list}. Could you send it?"),
        Lang::It => format!("Per farlo mi serve questo dato: {list}. Puoi indicarmelo?"),
        Lang::Es => format!("Para hacerlo necesito este dato: {list}. ¿Me lo puede indicar?"),
        Lang::Fr => format!("Pour cela, j'ai besoin de cette information : {list}. Pouvez-vous me l'indiquer ?"),
        Lang::De => format!("Dafür brauche ich noch folgende Angabe: {list}. Könnten Sie sie mir nennen?"),
        Lang::Pt => format!("Para isso, preciso desta informação: {list}. Pode me informar?"),
        Lang::Nl => format!("Daarvoor heb ik dit gegeven nodig: {list}. Kun je dat doorgeven?"),
        Lang::Sv => format!("För att göra det behöver jag följande uppgift: {list}. Kan du skicka den?"),
        Lang::Ru => format!("Для этого мне нужны следующие данные: {list}. Не могли бы вы их указать?"),
        Lang::Ja => format!("お手続きには次の情報が必要です：{list}。教えていただけますか？"),
        Lang::Zh => format!("为此，我需要以下信息：{list}。可以告诉我吗？"),
        Lang::Ko => format!("이 작업을 하려면 다음 정보가 필요해요: {list}. 알려 주시겠어요?"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_status() -> ActionDef {
        serde_json::from_value(json!({
            "id": 7,
            "name": "order_status",
            "description": "Looks up where an order is",
            "method": "GET",
            "url_template": "https://api.example.com/orders/{order_number}?lang={lang}",
            "headers": [
                {"name": "Authorization", "value": "Bearer s3cret", "secret": true},
                {"name": "X-Customer", "value": "{email}"}
            ],
            "params": [
                {"name": "order_number", "description": "Order number", "kind": "order_number",
                 "source": {"from": "conversation", "pattern": "order_number"}},
                {"name": "email", "kind": "email", "source": {"from": "contact", "property": "email"}},
                {"name": "lang", "kind": "enum", "values": ["en", "it"], "source": {"from": "constant", "value": "en"}}
            ],
            "timeout_ms": 3000,
            "response_template": "Your order is {{status}} and will arrive on {{delivery.date}}.",
            "example_phrases": ["Where is my order?", "Track my order", "Dov'è il mio ordine?",
                                "¿Dónde está mi pedido?", "Où est ma commande ?"]
        }))
        .unwrap()
    }

    fn contact() -> Vec<ReadableProperty> {
        vec![ReadableProperty { key: "email".into(), label: "Email".into(), value: "ann@example.com".into() }]
    }

    fn fields_of(def: ActionDef) -> Vec<String> {
        match def.parse() {
            Ok(_) => vec![],
            Err(es) => es.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn a_good_definition_parses() {
        let d = order_status().parse().unwrap();
        assert_eq!(d.name, "order_status");
        assert_eq!(d.params.len(), 3);
    }

    #[test]
    fn every_bad_input_names_its_field() {
        let with = |f: &dyn Fn(&mut ActionDef)| {
            let mut d = order_status();
            f(&mut d);
            fields_of(d)
        };
        assert_eq!(with(&|d| d.name = "Order Status".into()), ["name"]);
        assert_eq!(with(&|d| d.description = " ".into()), ["description"]);
        assert_eq!(with(&|d| d.url_template = "ftp://x/{order_number}?lang={lang}".into()), ["url_template"]);
        assert_eq!(with(&|d| d.url_template = "https://{order_number}.example.com/?l={lang}".into()), ["url_template"]);
        assert_eq!(
            with(&|d| d.url_template = "https://u:p@api.example.com/{order_number}?{lang}".into()),
            ["url_template"]
        );
        assert_eq!(
            with(&|d| d.url_template = "https://api.example.com/{order_number}/{nope}?{lang}".into()),
            ["url_template"]
        );
        assert_eq!(
            with(&|d| d.url_template = "https://api.example.com/{order_number?{lang}".into()),
            [
                "url_template",
                // The parameters are then unused.
                "params[0].name",
                "params[2].name",
            ]
        );
        assert_eq!(with(&|d| d.timeout_ms = 50), ["timeout_ms"]);
        assert_eq!(with(&|d| d.timeout_ms = 60_000), ["timeout_ms"]);
        assert_eq!(with(&|d| d.params[2].name = "order_number".into()), ["params[2].name", "url_template"]);
        assert_eq!(with(&|d| d.params[2].values.clear()), ["params[2].values"]);
        assert_eq!(
            with(&|d| d.params[2].source = ParamSource::Constant { value: "de".into() }),
            ["params[2].source.value"]
        );
        assert_eq!(
            with(&|d| d.params[0].source = ParamSource::Conversation { pattern: Some("([a-z".into()) }),
            ["params[0].source.pattern"]
        );
        assert_eq!(
            with(&|d| d.params[1].source = ParamSource::Contact { property: "Bad Key".into() }),
            ["params[1].source.property"]
        );
        assert_eq!(with(&|d| d.headers[0].value.clear()), ["headers[0].value"]);
        assert_eq!(with(&|d| d.headers[1].name = "authorization".into()), ["headers[1].name"]);
        assert_eq!(with(&|d| d.headers[1].name = "Host".into()), ["headers[1].name"]);
        assert_eq!(with(&|d| d.headers[1].value = "a\r\nInjected: 1".into()), ["headers[1].value", "params[1].name"]);
        assert_eq!(with(&|d| d.body_template = Some("{\"a\": 1}".into())), ["body_template"], "GET has no body");
        assert_eq!(with(&|d| d.response_template = "Status {{status".into()), ["response_template"]);
        assert_eq!(with(&|d| d.response_template = "{{a b}}".into()), ["response_template"]);
        assert_eq!(with(&|d| d.response_template.clear()), ["response_template"]);
        assert_eq!(with(&|d| d.example_phrases.push("the my".into())), ["example_phrases[5]"]);
        // Several problems are all reported.
        assert_eq!(
            with(&|d| {
                d.name = "x y".into();
                d.timeout_ms = 0;
            }),
            ["name", "timeout_ms"]
        );
    }

    #[test]
    fn bodies_must_be_json_and_use_known_params() {
        let mut d = order_status();
        d.method = HttpMethod::Post;
        d.body_template = Some("{\"order\": \"{order_number}\", \"x\": \"{ghost}\"}".into());
        assert_eq!(fields_of(d.clone()), ["body_template"]);
        d.body_template = Some("{order: {order_number}}".into());
        assert_eq!(fields_of(d), ["body_template"]);
    }

    #[test]
    fn secrets_never_serialise() {
        let d = order_status();
        let out = serde_json::to_string(&d).unwrap();
        assert!(!out.contains("s3cret"), "{out}");
        assert!(out.contains(r#"{"name":"Authorization","secret":true,"set":true}"#), "{out}");
        // Reading what was written keeps the header, without its value.
        let back: ActionDef = serde_json::from_str(&out).unwrap();
        assert_eq!(back.headers[0].value, "");
        let mut update = back.clone();
        update.keep_secrets_from(&d);
        assert_eq!(update.headers[0].value, "Bearer s3cret");
        let stored = d.without_secrets();
        assert_eq!(stored.headers[0].value, "");
        assert_eq!(stored.with_secrets(&d.secrets()).headers[0].value, "Bearer s3cret");
    }

    #[test]
    fn the_schema_has_conversation_params_only() {
        let s = json_schema(&order_status());
        assert_eq!(s["properties"].as_object().unwrap().keys().collect::<Vec<_>>(), ["order_number"]);
        assert_eq!(s["required"], json!(["order_number"]));
        assert_eq!(tool_spec(&order_status())["function"]["name"], "order_status");
    }

    #[test]
    fn requests_are_rendered_safely() {
        let d = order_status();
        let values = vec![
            ("order_number".to_owned(), "A/1 2?x=#".to_owned()),
            ("email".to_owned(), "ann@example.com".to_owned()),
            ("lang".to_owned(), "en".to_owned()),
        ];
        let r = render_request(&d, &values).unwrap();
        assert_eq!(r.url, "https://api.example.com/orders/A%2F1%202%3Fx%3D%23?lang=en");
        assert_eq!(r.headers[1], ("X-Customer".to_owned(), "ann@example.com".to_owned()));
        assert_eq!(r.headers[0].1, "Bearer s3cret");
        assert_eq!(r.body, None);
        let mut post = d.clone();
        post.method = HttpMethod::Post;
        post.params.push(ParamDef {
            name: "qty".into(),
            description: String::new(),
            kind: ValueKind::Integer,
            values: vec![],
            required: false,
            source: ParamSource::default(),
        });
        post.body_template = Some(r#"{"order": "{order_number}", "qty": "{qty}", "note": "for {email} \"x\""}"#.into());
        let mut v2 = values.clone();
        v2.push(("qty".into(), "3".into()));
        let body: Value = serde_json::from_str(&render_request(&post, &v2).unwrap().body.unwrap()).unwrap();
        assert_eq!(body, json!({"order": "A/1 2?x=#", "qty": 3, "note": "for ann@example.com \"x\""}));
        let bad = vec![("email".to_owned(), "a\r\nX: y".to_owned())];
        assert!(render_request(&d, &bad).is_err());
    }

    #[test]
    fn responses_fill_the_template_and_report_what_is_missing() {
        let t = "Your order {{status}} will arrive on {{delivery.date}}.";
        let r = render_response(t, &json!({"status": "shipped", "delivery": {"date": "May 3"}}));
        assert_eq!(r, Rendered { text: "Your order shipped will arrive on May 3.".into(), missing: vec![] });
        let r = render_response(t, &json!({"status": "shipped"}));
        assert_eq!(r.text, "Your order shipped will arrive on .");
        assert_eq!(r.missing, ["delivery.date"]);
        let r = render_response("Items: {{items}}; first {{items[0]}}; {{x.y|unknown}}", &json!({"items": ["a", 2]}));
        assert_eq!(r.text, "Items: a, 2; first a; unknown");
        assert!(r.missing.is_empty());
        let r = render_response("{{obj}}", &json!({"obj": {"a": 1}}));
        assert_eq!(r.missing, ["obj"], "objects are not values");
        assert_eq!(template_fields(t), ["status", "delivery.date"]);
        let long = "x".repeat(2000);
        assert!(render_response("{{a}}", &json!({"a": long})).text.chars().count() <= 500);
    }

    #[test]
    fn questions_match_example_phrases_in_any_language() {
        let actions = vec![order_status(), {
            let mut d = order_status();
            d.id = 8;
            d.name = "reset_password".into();
            d.example_phrases = vec!["I forgot my password".into(), "reset my password".into()];
            d
        }];
        for q in [
            "where is my order #A-12345?",
            "WHERE'S MY ORDER ORD-5512",
            "track my orders please",
            "dov'è il mio ordine 12345678?",
            "¿Dónde está mi pedido?",
            "où est ma commande ?",
            "Ou est ma commande n° INV2024001",
        ] {
            let m = match_action(q, &actions).unwrap_or_else(|| panic!("{q}: {:?}", rank_actions(q, &actions)));
            assert_eq!(m.name, "order_status", "{q}");
        }
        assert_eq!(match_action("I forgot my pasword", &actions).unwrap().name, "reset_password");
        for q in ["I want to cancel my order", "what are your opening hours?", "hello", "12345678"] {
            assert!(match_action(q, &actions).is_none(), "{q}: {:?}", rank_actions(q, &actions));
        }
        let mut off = order_status();
        off.enabled = false;
        assert!(match_action("where is my order", &[off]).is_none());
    }

    #[test]
    fn params_are_extracted_and_validated() {
        let d = order_status();
        let got = extract_params("where is my order #a-12345?", &d, &contact()).unwrap();
        assert_eq!(
            got,
            vec![
                ("order_number".to_owned(), "A-12345".to_owned()),
                ("email".to_owned(), "ann@example.com".to_owned()),
                ("lang".to_owned(), "en".to_owned()),
            ]
        );
        let m = extract_params("where is my order?", &d, &contact()).unwrap_err();
        assert_eq!(m.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["order_number"]);
        assert_eq!(missing_params_text(&m, Lang::En), "To do that, I need your order number. Could you send it?");
        // The email must come from a readable property.
        let m = extract_params("order ORD-5512", &d, &[]).unwrap_err();
        assert_eq!(m.params[0].name, "email");
        // A custom regular expression and its group.
        let mut custom = d.clone();
        custom.params[0].source = ParamSource::Conversation { pattern: Some(r"(?i)ticket\s+(\d{4})".into()) };
        let got = extract_params("status of ticket 4821 please", &custom, &contact()).unwrap();
        assert_eq!(got[0].1, "4821");
        // A number that is not a valid value of the kind is not taken.
        custom.params[0].kind = ValueKind::Email;
        assert!(extract_params("ticket 4821", &custom, &contact()).is_err());
    }

    #[test]
    fn messy_order_numbers_in_questions() {
        let d = order_status();
        for (q, want) in [
            ("Where's my order # A-12345", "A-12345"),
            ("ordine n. ORD-5512, grazie", "ORD-5512"),
            ("mi pedido 12345678 no llega", "12345678"),
            ("commande #inv2024001 ?", "INV2024001"),
        ] {
            let got = extract_params(q, &d, &contact()).unwrap_or_else(|m| panic!("{q}: {m:?}"));
            assert_eq!(got[0].1, want, "{q}");
        }
    }

    #[test]
    fn tool_arguments_are_checked() {
        let d = order_status();
        let got = params_from_arguments(&d, &json!({"order_number": "ord-5512"}), &contact()).unwrap();
        assert_eq!(got[0], ("order_number".to_owned(), "ORD-5512".to_owned()));
        let errs = params_from_arguments(&d, &json!({"order_number": "??", "email": "x@y.z"}), &contact()).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "order_number"], "the model cannot set contact params");
        let errs = params_from_arguments(&d, &json!({}), &contact()).unwrap_err();
        assert_eq!(errs[0].field, "order_number");
    }

    #[test]
    fn failures_are_polite_in_every_language() {
        for l in Lang::ALL {
            for f in [Failure::Timeout, Failure::NotFound, Failure::NotJson] {
                let t = failure_text(f, l);
                assert!(!t.contains("HTTP") && !t.contains("500") && !t.contains("JSON"), "{t}");
                if l != Lang::En {
                    assert_ne!(t, failure_text(f, Lang::En), "{l:?}");
                }
            }
        }
        assert!(failure_needs_human(Failure::ServerError));
        assert!(!failure_needs_human(Failure::NotFound));
    }
}
