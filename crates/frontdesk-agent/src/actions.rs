//! Calling configured HTTP actions (F2) and loading the agent's tools.
//!
//! [`execute`] renders the request from the definition (pure, in
//! `frontdesk_core::actions`), calls it with the action's timeout and a
//! response cap, and turns the outcome into an [`ActionResult`]: on success
//! the rendered response template; on any failure a polite sentence in the
//! visitor's language, while `detail` tells the trace exactly what happened
//! ("HTTP 500 from api.example.com", "response was HTML, not JSON", "timed
//! out after 3000 ms"). Raw errors never reach the visitor.
//!
//! Private, loopback and link-local targets are refused unless
//! `allow_private_networks` is on: IP literals are checked before the call,
//! host names by the client's resolver (so a name cannot be re-pointed
//! between a check and the connection), and redirects are not followed.

use std::time::{Duration, Instant};

use frontdesk_core::actions::{
    extract_params, failure_text, match_action, missing_params_text, params_from_arguments, render_request,
    render_response, template_fields, tool_spec, ActionDef, ActionMatch, Failure, HttpMethod, Missing,
};
use frontdesk_core::crm::{extract_updates, readable_view, CrmField, ReadableProperty};
use frontdesk_core::lang::Lang;
use frontdesk_core::responder::ActionTaken;
use futures::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};

use frontdesk_store::{
    contact_values, ContactActor, ContactTarget, ContactUpdate, PropertyChange, StoreError, StoreResult,
};

use crate::Context;

/// The largest response body read, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// What an action call did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionResult {
    pub action: String,
    pub ok: bool,
    /// What the agent says: the rendered response template, or a polite
    /// failure sentence in the visitor's language.
    pub reply_text: String,
    pub failure: Option<Failure>,
    /// The HTTP status, when a response came back.
    pub status: Option<u16>,
    pub ms: u64,
    /// For the trace and the admin, never the visitor.
    pub detail: String,
    /// Response fields the template needed and did not get.
    pub missing: Vec<String>,
    /// `GET https://api.example.com/orders/A-1` (header values are never shown).
    pub request: Option<String>,
    /// The start of the response body, for the console's test run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_excerpt: Option<String>,
}

impl ActionResult {
    /// A call that did not happen.
    pub fn failed(action: &str, f: Failure, detail: String, lang: Lang) -> Self {
        ActionResult {
            action: action.to_owned(),
            ok: false,
            reply_text: failure_text(f, lang).to_owned(),
            failure: Some(f),
            status: None,
            ms: 0,
            detail,
            missing: Vec::new(),
            request: None,
            response_excerpt: None,
        }
    }

    /// The reply's record of this action (counts for resolution, G6).
    pub fn taken(&self) -> ActionTaken {
        ActionTaken { name: self.action.clone(), ok: self.ok }
    }

    /// What goes into a reply's trace (no response body).
    pub fn trace(&self) -> Value {
        json!({
            "action": self.action,
            "ok": self.ok,
            "failure": self.failure,
            "status": self.status,
            "ms": self.ms,
            "detail": self.detail,
            "missing": self.missing,
            "request": self.request,
        })
    }
}

/// The tools the agent has: enabled actions and every CRM field. Cache it
/// in the agent snapshot; the store bumps the content version whenever an
/// action or a field changes.
#[derive(Debug, Clone, Default)]
pub struct AgentTools {
    pub actions: Vec<ActionDef>,
    pub crm_fields: Vec<CrmField>,
}

/// Loads [`AgentTools`] from the store (enabled actions only, with their secrets).
pub async fn load_tools(cx: &Context) -> StoreResult<AgentTools> {
    let actions = cx.store.list_actions().await?.into_iter().map(|a| a.def).filter(|d| d.enabled).collect();
    let crm_fields = cx.store.list_crm_fields().await?;
    Ok(AgentTools { actions, crm_fields })
}

impl AgentTools {
    pub fn action_by_name(&self, name: &str) -> Option<&ActionDef> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// OpenAI-style tool specs of the actions (conversation parameters only).
    pub fn tool_specs(&self) -> Vec<Value> {
        self.actions.iter().map(tool_spec).collect()
    }
}

// ---------- what a responder does with the tools ----------

/// The conversation's contact, as the agent may see it: readable fields only.
pub async fn readable_contact(
    cx: &Context,
    tools: &AgentTools,
    conversation_id: i64,
) -> StoreResult<Vec<ReadableProperty>> {
    Ok(match cx.store.contact_for_conversation(conversation_id).await? {
        Some(c) => readable_view(&contact_values(&c), &tools.crm_fields),
        None => Vec::new(),
    })
}

/// Stores what the visitor told about themselves: the updates
/// `crm::extract_updates` finds for writable fields, as the agent, with one
/// `contact_updated` event per changed property. An anonymous visitor
/// becomes a contact. A value another contact already has (an email) is
/// not taken: that is logged and nothing changes.
pub async fn apply_visitor_updates(
    cx: &Context,
    tools: &AgentTools,
    conversation_id: i64,
    text: &str,
) -> StoreResult<Vec<PropertyChange>> {
    let proposed = extract_updates(text, &tools.crm_fields);
    if proposed.is_empty() {
        return Ok(Vec::new());
    }
    let update = ContactUpdate {
        target: ContactTarget::Conversation(conversation_id),
        changes: proposed.into_iter().map(|u| (u.key, Some(u.value))).collect(),
        actor: ContactActor::Agent,
        conversation_id: Some(conversation_id),
    };
    match cx.store.update_contact_properties(update).await {
        Ok((_, changes)) => Ok(changes),
        Err(StoreError::Conflict(m)) => {
            tracing::info!(conversation_id, reason = %m, "a contact update from the visitor was not applied");
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// The LLM's `update_contact` tool: each value is checked against its
/// field (writable fields only, validated by kind) and the valid ones stored
/// as the agent, one `contact_updated` event per changed property. Returns
/// what changed and, per refused key, why.
pub async fn update_contact_from_tool(
    cx: &Context,
    tools: &AgentTools,
    conversation_id: i64,
    arguments: &Value,
) -> StoreResult<(Vec<PropertyChange>, Vec<String>)> {
    let mut changes = Vec::new();
    let mut refused = Vec::new();
    let Some(obj) = arguments.as_object() else {
        return Ok((Vec::new(), vec!["the arguments must be an object of property: value".into()]));
    };
    for (key, v) in obj {
        let Some(field) = tools.crm_fields.iter().find(|f| &f.key == key && f.agent_write) else {
            refused.push(format!("{key}: not a property the agent may update"));
            continue;
        };
        let raw = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                refused.push(format!("{key}: must be a string"));
                continue;
            }
        };
        match frontdesk_core::crm::validate_value(field, &raw) {
            Ok(value) => changes.push((key.clone(), Some(value))),
            Err(e) => refused.push(e.to_string()),
        }
    }
    if changes.is_empty() {
        return Ok((Vec::new(), refused));
    }
    let update = ContactUpdate {
        target: ContactTarget::Conversation(conversation_id),
        changes,
        actor: ContactActor::Agent,
        conversation_id: Some(conversation_id),
    };
    match cx.store.update_contact_properties(update).await {
        Ok((_, changed)) => Ok((changed, refused)),
        Err(StoreError::Conflict(m)) => Ok((Vec::new(), vec![m])),
        Err(e) => Err(e),
    }
}

/// What the built-in responder can do with an action for a question.
#[derive(Debug, Clone)]
pub enum ActionReply {
    /// The action ran (`result.ok` says whether it worked; `reply_text` is
    /// what to say either way).
    Ran { matched: ActionMatch, result: ActionResult },
    /// The question asks for the action but parameters are missing: `text`
    /// asks the visitor for them.
    NeedsParams { matched: ActionMatch, missing: Missing, text: String },
}

impl ActionReply {
    /// The reply text for the visitor.
    pub fn text(&self) -> &str {
        match self {
            ActionReply::Ran { result, .. } => &result.reply_text,
            ActionReply::NeedsParams { text, .. } => text,
        }
    }

    /// For the reply's trace.
    pub fn trace(&self) -> Value {
        match self {
            ActionReply::Ran { matched, result } => {
                json!({"matched": {"action": matched.name, "score": matched.score, "phrase": matched.phrase},
                       "call": result.trace()})
            }
            ActionReply::NeedsParams { matched, missing, .. } => {
                json!({"matched": {"action": matched.name, "score": matched.score, "phrase": matched.phrase},
                       "missing": missing.params})
            }
        }
    }
}

/// The built-in responder's use of actions: the action whose example
/// phrases the question matches (`core::actions::match_action`), its
/// parameters from the question, the contact's readable properties and
/// constants; then the call. `None` when no action matches.
pub async fn builtin_action(
    cx: &Context,
    tools: &AgentTools,
    conversation_id: i64,
    question: &str,
    lang: Lang,
) -> StoreResult<Option<ActionReply>> {
    let Some(matched) = match_action(question, &tools.actions) else { return Ok(None) };
    let Some(def) = tools.actions.iter().find(|a| a.id == matched.id) else { return Ok(None) };
    let readable = readable_contact(cx, tools, conversation_id).await?;
    Ok(Some(match extract_params(question, def, &readable) {
        Ok(values) => ActionReply::Ran { result: run(cx, def, &values, lang).await, matched },
        Err(missing) => {
            let text = missing_params_text(&missing, lang);
            ActionReply::NeedsParams { matched, missing, text }
        }
    }))
}

/// An LLM's tool call: the action by name with the model's arguments
/// (checked by kind; contact and constant parameters filled here). Bad
/// arguments come back as a failed result whose `detail` names them, so the
/// model can try again; the visitor still only sees a polite sentence.
pub async fn call_tool(
    cx: &Context,
    tools: &AgentTools,
    conversation_id: i64,
    name: &str,
    arguments: &Value,
    lang: Lang,
) -> StoreResult<ActionResult> {
    let Some(def) = tools.action_by_name(name) else {
        return Ok(ActionResult::failed(name, Failure::BadRequest, format!("there is no action named {name:?}"), lang));
    };
    let readable = readable_contact(cx, tools, conversation_id).await?;
    Ok(match params_from_arguments(def, arguments, &readable) {
        Ok(values) => run(cx, def, &values, lang).await,
        Err(errs) => {
            let detail = errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
            ActionResult::failed(name, Failure::BadRequest, format!("invalid arguments: {detail}"), lang)
        }
    })
}

// ---------- the HTTP client ----------

/// The client actions are called with, and whether private targets are allowed.
pub struct ActionClient {
    http: reqwest::Client,
    allow_private: bool,
}

fn build_client(allow_private: bool) -> reqwest::Client {
    let b = reqwest::Client::builder()
        .user_agent("Frontdesk-Actions/1.0")
        .connect_timeout(Duration::from_secs(5))
        // Every hop would need the private-address check: redirects are reported, not followed.
        .redirect(reqwest::redirect::Policy::none());
    frontdesk_net::guarded(b, allow_private).build().unwrap_or_default()
}

impl ActionClient {
    /// A client of its own (its own connection pool).
    pub fn new(allow_private: bool) -> Self {
        Self { http: build_client(allow_private), allow_private }
    }

    /// The process's one client per setting (connections are pooled; a
    /// `reqwest::Client` clone shares them).
    pub fn shared(allow_private: bool) -> ActionClient {
        static CLIENTS: frontdesk_net::Clients = frontdesk_net::Clients::new();
        Self { http: CLIENTS.get(allow_private, build_client).clone(), allow_private }
    }
}

/// Calls `def` with `values` using the server's settings.
pub async fn run(cx: &Context, def: &ActionDef, values: &[(String, String)], lang: Lang) -> ActionResult {
    execute(&ActionClient::shared(cx.settings.allow_private_networks), def, values, lang).await
}

fn host_of(url: &url::Url) -> String {
    url.host_str().unwrap_or("the server").to_owned()
}

/// The innermost cause of an error, for the trace ("connection refused").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Why a response body could not be read.
enum ReadError {
    TooLarge,
    Broken(reqwest::Error),
}

/// Reads at most `max` bytes of a body.
async fn read_capped(resp: reqwest::Response, max: usize) -> Result<Vec<u8>, ReadError> {
    if resp.content_length().is_some_and(|n| n as usize > max) {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(ReadError::Broken)?;
        if body.len() + chunk.len() > max {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn excerpt(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(2000)]).into_owned();
    if body.len() > 2000 {
        format!("{s}…")
    } else {
        s
    }
}

/// Calls the action. Never fails: every problem is an `ActionResult` with
/// `ok: false`, a polite `reply_text` in `lang` and the `detail` of what happened.
pub async fn execute(client: &ActionClient, def: &ActionDef, values: &[(String, String)], lang: Lang) -> ActionResult {
    let started = Instant::now();
    let mut result =
        ActionResult { failure: None, ..ActionResult::failed(&def.name, Failure::BadRequest, String::new(), lang) };
    let fail = |mut r: ActionResult, f: Failure, detail: String| {
        r.ok = false;
        r.failure = Some(f);
        r.reply_text = failure_text(f, lang).to_owned();
        r.detail = detail;
        r.ms = started.elapsed().as_millis() as u64;
        tracing::info!(action = %r.action, failure = ?f, detail = %r.detail, "action failed");
        r
    };
    let req = match render_request(def, values) {
        Ok(r) => r,
        Err(e) => return fail(result, Failure::BadRequest, e),
    };
    let url = match url::Url::parse(&req.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        Ok(u) => return fail(result, Failure::BadRequest, format!("{} URLs cannot be called", u.scheme())),
        Err(e) => return fail(result, Failure::BadRequest, format!("the URL {:?} is not valid: {e}", req.url)),
    };
    result.request = Some(format!("{} {}", req.method.as_str(), url));
    let host = host_of(&url);
    if let Err(p) = frontdesk_net::check_literal(&url, client.allow_private) {
        return fail(result, Failure::Refused, p.to_string());
    }
    let method = match req.method {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
        HttpMethod::Delete => reqwest::Method::DELETE,
    };
    let mut rb = client.http.request(method, url.clone()).header(reqwest::header::ACCEPT, "application/json");
    for (name, value) in &req.headers {
        let (Ok(n), Ok(v)) =
            (reqwest::header::HeaderName::from_bytes(name.as_bytes()), reqwest::header::HeaderValue::from_str(value))
        else {
            return fail(result, Failure::BadRequest, format!("the header {name} is not valid"));
        };
        rb = rb.header(n, v);
    }
    if let Some(body) = &req.body {
        rb = rb.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.clone());
    }
    let timeout = Duration::from_millis(def.timeout_ms);
    let call = async {
        let resp = rb.send().await?;
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let location =
            resp.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let body = read_capped(resp, MAX_RESPONSE_BYTES).await;
        Ok::<_, reqwest::Error>((status, content_type, location, body))
    };
    let (status, content_type, location, body) = match tokio::time::timeout(timeout, call).await {
        Err(_) => return fail(result, Failure::Timeout, format!("timed out after {} ms", def.timeout_ms)),
        Ok(Err(e)) => {
            if let Some(why) = frontdesk_net::refused_private(&e).map(|p| p.to_string()) {
                return fail(result, Failure::Refused, why);
            }
            if e.is_timeout() {
                return fail(result, Failure::Timeout, format!("timed out after {} ms", def.timeout_ms));
            }
            return fail(result, Failure::Unreachable, format!("could not reach {host}: {}", root_cause(&e)));
        }
        Ok(Ok(parts)) => parts,
    };
    let code = status.as_u16();
    result.status = Some(code);
    let body = match body {
        Ok(b) => b,
        Err(ReadError::TooLarge) => {
            return fail(
                result,
                Failure::TooLarge,
                format!("HTTP {code} from {host}: the response is larger than {} KB", MAX_RESPONSE_BYTES / 1024),
            )
        }
        Err(ReadError::Broken(e)) => {
            return fail(result, Failure::Unreachable, format!("HTTP {code} from {host}: the body broke off ({e})"))
        }
    };
    result.response_excerpt = Some(excerpt(&body));
    if status.is_redirection() {
        return fail(
            result,
            Failure::Redirected,
            format!("HTTP {code} from {host}: a redirect to {location:?} (redirects are not followed)"),
        );
    }
    if code == 404 || code == 410 {
        return fail(result, Failure::NotFound, format!("HTTP {code} from {host}: nothing found"));
    }
    if status.is_client_error() {
        return fail(result, Failure::Rejected, format!("HTTP {code} from {host}: the request was refused"));
    }
    if !status.is_success() {
        return fail(result, Failure::ServerError, format!("HTTP {code} from {host}"));
    }
    let needs_json = !template_fields(&def.response_template).is_empty();
    let json: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) if needs_json => {
                let html =
                    content_type.contains("html") || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
                let what = match (html, content_type.is_empty()) {
                    (true, _) => "HTML",
                    (false, true) => "something else",
                    (false, false) => content_type.as_str(),
                };
                let detail = format!("HTTP {code} from {host}: the response was {what}, not JSON");
                return fail(result, Failure::NotJson, detail);
            }
            Err(_) => Value::Null,
        }
    };
    let rendered = render_response(&def.response_template, &json);
    if !rendered.missing.is_empty() {
        result.missing = rendered.missing.clone();
        return fail(
            result,
            Failure::MissingFields,
            format!("HTTP {code} from {host}: the response has no {}", rendered.missing.join(", ")),
        );
    }
    result.ok = true;
    result.reply_text = rendered.text;
    result.ms = started.elapsed().as_millis() as u64;
    result.detail = format!("HTTP {code} from {host} in {} ms", result.ms);
    result
}
