//! Connected channels (C1–C3) in the console: the list with "deploy the
//! agent" and delete, a new channel (kind, name, configuration and secrets
//! as JSON, validated by the API's rules with the field named), a channel's
//! page (edit, set or clear secrets — never shown —, rotate the inbound key,
//! check an email channel's mailbox now) and the messaging settings per
//! channel kind (C2). Keys and webhook secrets are shown once, on the page
//! that answers the post that made them: never in a URL or a flash.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use frontdesk_core::model::{AskEmail, Channel};
use frontdesk_core::permissions::Permission as P;
use frontdesk_store::{ChannelRow, MessagingSettings};
use serde::Deserialize;
use serde_json::Value;

use super::{can, fmt_time, is_form_error, or_redo, page, see_other, status_of, ConsoleForm, Layout, Opt, Section};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult, Code};
use crate::state::AppState;
use frontdesk_engine::channels::config::secret_names;
use frontdesk_engine::service::channels::{self as service, ChannelChange, ChannelInput, SettingsInput};

/// The kinds a channel can be created as (live chat is built in).
const KINDS: &[Channel] = &[Channel::Email, Channel::WhatsApp, Channel::Messenger, Channel::Custom];

fn kind_label(c: Channel) -> &'static str {
    match c {
        Channel::LiveChat => "Live chat",
        Channel::Email => "Email",
        Channel::WhatsApp => "WhatsApp",
        Channel::Messenger => "Messenger",
        Channel::Custom => "Custom",
    }
}

/// An example configuration per kind, for the form's hint.
fn example_config(c: Channel) -> &'static str {
    match c {
        Channel::Email => {
            r#"{
  "address": "support@shop.example",
  "display_name": "Shop support",
  "imap": {"host": "imap.shop.example", "username": "support@shop.example"},
  "smtp": {"host": "smtp.shop.example", "username": "support@shop.example"}
}"#
        }
        Channel::WhatsApp => r#"{"account_id": "123456789012345", "verify_token": "choose-a-long-random-string"}"#,
        Channel::Messenger => r#"{"account_id": "your-page-id", "verify_token": "choose-a-long-random-string"}"#,
        Channel::Custom => r#"{"webhook_url": "https://helpdesk.example/frontdesk-webhook"}"#,
        Channel::LiveChat => "{}",
    }
}

/// Whether the agent may ask for the customer's email on this kind (C2).
fn ask_applies(c: Channel) -> bool {
    matches!(c, Channel::LiveChat | Channel::WhatsApp | Channel::Messenger)
}

// ---------- the list ----------

struct Row {
    id: i64,
    name: String,
    kind: &'static str,
    agent_deployed: bool,
    created: String,
}

struct Example {
    kind: &'static str,
    config: &'static str,
    secrets: String,
}

/// One channel kind's messaging settings form.
struct MessagingForm {
    channel: &'static str,
    label: &'static str,
    ask_applies: bool,
    ask_options: Vec<Opt>,
    /// Minutes, empty for the agent's default.
    close_after: String,
    error: Option<String>,
}

/// What the new-channel form holds (again after an error).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct NewForm {
    kind: String,
    name: String,
    agent_deployed: Option<String>,
    destination: String,
    config: String,
    secrets: String,
}

#[derive(Template)]
#[template(path = "channels.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    kinds: Vec<Opt>,
    name: String,
    agent_deployed: bool,
    config: String,
    secrets: String,
    examples: Vec<Example>,
    messaging: Vec<MessagingForm>,
    can_edit: bool,
    /// Open the new-channel form (no channels yet, or its post failed).
    new_open: bool,
}

fn ask_options(selected: AskEmail) -> Vec<Opt> {
    [(AskEmail::Never, "Never"), (AskEmail::Start, "At the start"), (AskEmail::BeforeHandoff, "Before handing off")]
        .iter()
        .map(|&(a, label)| Opt { value: a.as_str().into(), label: label.into(), selected: a == selected })
        .collect()
}

fn messaging_form(s: &MessagingSettings) -> MessagingForm {
    MessagingForm {
        channel: s.channel.as_str(),
        label: kind_label(s.channel),
        ask_applies: ask_applies(s.channel),
        ask_options: ask_options(s.ask_email),
        close_after: s.close_after_minutes.map(|m| m.to_string()).unwrap_or_default(),
        error: None,
    }
}

/// How the list page is rendered after a failed post.
enum Failed<'a> {
    None,
    New(&'a NewForm, String),
    Messaging(Channel, &'a MessagingPost, String),
    Other(String),
}

async fn render_list(
    state: &AppState,
    authed: &Authed,
    status: StatusCode,
    flash: Option<&str>,
    failed: Failed<'_>,
) -> ApiResult<Response> {
    let channels = state.store.list_channels().await?;
    let rows: Vec<Row> = channels
        .iter()
        .map(|c| Row {
            id: c.id,
            name: c.name.clone(),
            kind: kind_label(c.kind),
            agent_deployed: c.agent_deployed,
            created: fmt_time(c.created_at),
        })
        .collect();
    let mut messaging: Vec<MessagingForm> =
        state.store.messaging_settings().await?.iter().map(messaging_form).collect();
    let blank = NewForm {
        kind: Channel::Email.as_str().into(),
        agent_deployed: Some("on".into()),
        config: example_config(Channel::Email).into(),
        ..Default::default()
    };
    let new_failed = matches!(failed, Failed::New(..));
    let (form, error) = match failed {
        Failed::None => (&blank, None),
        Failed::New(f, e) => (f, Some(e)),
        Failed::Messaging(channel, f, e) => {
            if let Some(m) = messaging.iter_mut().find(|m| m.channel == channel.as_str()) {
                m.ask_options = ask_options(AskEmail::parse(f.ask_email.trim()).unwrap_or(AskEmail::Never));
                m.close_after = f.close_after_minutes.clone();
                m.error = Some(e.clone());
            }
            (&blank, Some(format!("{}: {e}", kind_label(channel))))
        }
        Failed::Other(e) => (&blank, Some(e)),
    };
    let examples = KINDS
        .iter()
        .map(|&k| Example {
            kind: kind_label(k),
            config: example_config(k),
            secrets: secret_names(k).iter().map(|n| format!("\"{n}\": \"…\"")).collect::<Vec<_>>().join(", "),
        })
        .collect();
    let page_data = ListPage {
        kinds: super::options(KINDS.iter().map(|k| (k.as_str(), kind_label(*k))), form.kind.trim()),
        name: form.name.clone(),
        agent_deployed: super::checked(form.agent_deployed.as_deref()),
        config: form.config.clone(),
        secrets: form.secrets.clone(),
        examples,
        messaging,
        can_edit: can(authed, P::EditAgent),
        new_open: rows.is_empty() || new_failed,
        rows,
        layout: Layout::new(authed, Section::Channels, "Channels", "/console/channels").flash(flash).error(error),
    };
    page(status, &page_data)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ChannelQuery {
    flash: Option<String>,
    /// "Check mail now": how many messages were read.
    read: Option<u64>,
}

pub(crate) async fn list_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<ChannelQuery>,
) -> ApiResult<Response> {
    render_list(&state, &authed, StatusCode::OK, q.flash.as_deref(), Failed::None).await
}

fn parse_kind(s: &str) -> ApiResult<Channel> {
    Channel::parse(s.trim())
        .filter(|k| KINDS.contains(k))
        .ok_or_else(|| ApiError::invalid_field("kind", "must be email, whatsapp, messenger or custom"))
}

/// A JSON textarea: empty is `{}`.
fn json_field(field: &str, text: &str) -> ApiResult<Value> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_str(text).map_err(|e| ApiError::invalid_field(field, format!("is not valid JSON: {e}")))
}

/// The secrets textarea: a JSON object of names to values; empty is none.
fn secrets_field(text: &str) -> ApiResult<BTreeMap<String, String>> {
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    serde_json::from_str(text).map_err(|e| {
        ApiError::invalid_field("secrets", format!("must be a JSON object of secret names to text values: {e}"))
    })
}

impl NewForm {
    fn input(&self) -> ApiResult<ChannelInput> {
        Ok(ChannelInput {
            kind: parse_kind(&self.kind)?,
            name: self.name.clone(),
            agent_deployed: super::checked(self.agent_deployed.as_deref()),
            destination: Some(self.destination.clone()).filter(|d| !d.is_empty()),
            config: json_field("config", &self.config)?,
            secrets: secrets_field(&self.secrets)?,
        })
    }
}

/// Creates a channel and answers with its page, showing the inbound key and
/// a generated webhook secret this once.
pub(crate) async fn create(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<NewForm>,
) -> ApiResult<Response> {
    let result = match f.input() {
        Ok(input) => service::create_channel(&state, &authed.actor(), input).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    // The answer is the new channel's page (not a redirect): the key is shown this once.
    let done = result.and_then(|(row, shown)| {
        let shown = Shown {
            key: shown["key"].as_str().map(str::to_owned),
            webhook_secret: shown["webhook_secret"].as_str().map(str::to_owned),
        };
        // WhatsApp and Messenger channels have nothing to show once.
        let shown = Some(shown).filter(|s| s.key.is_some() || s.webhook_secret.is_some());
        render_channel(&authed, row, Shows { flash: Some("created"), shown, ..Default::default() })
    });
    or_redo(done, |e| render_list(&state, &authed, status_of(&e), None, Failed::New(&f, e.message))).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ToggleForm {
    /// `channel` to come back to the channel's page, else the list.
    from: String,
}

/// Deploys the agent on a channel, or removes it (its conversations then go
/// straight to humans).
pub(crate) async fn toggle(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<ToggleForm>,
) -> ApiResult<Response> {
    let current = state.store.get_channel(id).await?;
    let change = ChannelChange { agent_deployed: Some(!current.agent_deployed), ..Default::default() };
    let row = match service::update_channel(&state, &authed.actor(), id, change).await.map_err(ApiError::from) {
        Ok(row) => row,
        Err(e) if is_form_error(&e) => {
            return render_list(&state, &authed, status_of(&e), None, Failed::Other(e.message)).await
        }
        Err(e) => return Err(e),
    };
    let flash = if row.agent_deployed { "agent_deployed" } else { "agent_removed" };
    if f.from == "channel" {
        Ok(see_other(&format!("/console/channels/{id}?flash={flash}")))
    } else {
        Ok(see_other(&format!("/console/channels?flash={flash}")))
    }
}

pub(crate) async fn delete(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<Response> {
    state.store.delete_channel(&authed.actor(), id).await?;
    frontdesk_engine::channels::email::channels_changed(&state);
    Ok(see_other("/console/channels?flash=deleted"))
}

// ---------- messaging settings (C2) ----------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MessagingPost {
    ask_email: String,
    close_after_minutes: String,
}

impl MessagingPost {
    fn input(&self) -> ApiResult<SettingsInput> {
        let ask_email = match self.ask_email.trim() {
            "" => None,
            s => Some(
                AskEmail::parse(s)
                    .ok_or_else(|| ApiError::invalid_field("ask_email", "must be never, start or before_handoff"))?,
            ),
        };
        let close_after_minutes = match self.close_after_minutes.trim() {
            "" => None,
            s => Some(s.parse::<i64>().map_err(|_| {
                ApiError::invalid_field("close_after_minutes", "must be a whole number of minutes, or empty")
            })?),
        };
        Ok(SettingsInput { ask_email, close_after_minutes })
    }
}

pub(crate) async fn save_messaging(
    State(state): State<AppState>,
    authed: Authed,
    Path(channel): Path<String>,
    ConsoleForm(f): ConsoleForm<MessagingPost>,
) -> ApiResult<Response> {
    let channel = service::parse_channel(&channel)?;
    let result = match f.input() {
        Ok(input) => service::put_messaging(&state, &authed.actor(), channel, input).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    or_redo(result.map(|_| see_other(&format!("/console/channels?flash=saved#messaging-{}", channel.as_str()))), |e| {
        render_list(&state, &authed, status_of(&e), None, Failed::Messaging(channel, &f, e.message))
    })
    .await
}

// ---------- one channel ----------

/// Secrets shown once: after creating the channel or rotating its key.
#[derive(Debug, Default)]
struct Shown {
    key: Option<String>,
    webhook_secret: Option<String>,
}

/// What the outside system must call, or how it reaches us.
struct Endpoint {
    what: &'static str,
    method: &'static str,
    path: String,
    detail: String,
}

struct SecretRow {
    name: &'static str,
    set: bool,
}

/// The edit form's values (again after an error).
#[derive(Debug, Default)]
struct Edit {
    name: Option<String>,
    config: Option<String>,
}

#[derive(Template)]
#[template(path = "channel.html")]
struct ChannelPage {
    layout: Layout,
    id: i64,
    name: String,
    kind_label: &'static str,
    agent_deployed: bool,
    help_desk: bool,
    created: String,
    updated: String,
    edit_name: String,
    config: String,
    secrets: Vec<SecretRow>,
    has_inbound_key: bool,
    has_key: bool,
    /// An email channel with a mailbox to read (IMAP).
    has_mailbox: bool,
    is_email: bool,
    endpoints: Vec<Endpoint>,
    shown: Option<Shown>,
    /// "Check mail now" read this many messages.
    read: Option<u64>,
    can_edit: bool,
}

fn endpoints(c: &ChannelRow) -> Vec<Endpoint> {
    let text = |k: &str| c.config[k].as_str().unwrap_or_default().to_owned();
    match c.kind {
        Channel::Email => {
            let mut out = vec![Endpoint {
                what: "Raw email (a provider that pushes mail)",
                method: "POST",
                path: "/api/v1/channels/inbound/email".into(),
                detail: "with 'Authorization: Bearer <key>' and the raw RFC 5322 message as the body \
                         ('Content-Type: message/rfc822')"
                    .into(),
            }];
            if let Some(imap) = c.config["imap"].as_object() {
                out.push(Endpoint {
                    what: "Mailbox (IMAP)",
                    method: "",
                    path: format!(
                        "{}:{} {}",
                        imap.get("host").and_then(Value::as_str).unwrap_or_default(),
                        imap.get("port").and_then(Value::as_u64).unwrap_or(993),
                        imap.get("mailbox").and_then(Value::as_str).unwrap_or("INBOX")
                    ),
                    detail: format!(
                        "read every {} seconds",
                        imap.get("poll_secs").and_then(Value::as_u64).unwrap_or(60)
                    ),
                });
            }
            out
        }
        Channel::Custom => vec![
            Endpoint {
                what: "Inbound messages",
                method: "POST",
                path: crate::webhooks::custom::INBOUND_PATH.into(),
                detail: "with 'Authorization: Bearer <key>' and a JSON body: \
                         {\"external_id\": \"…\", \"contact\": {\"external_id\": \"…\", \"name\": \"…\"}, \"text\": \"…\"}"
                    .into(),
            },
            Endpoint {
                what: "Outbound messages (your webhook)",
                method: "POST",
                path: text("webhook_url"),
                detail: "every reply is posted here as JSON, signed with the webhook secret \
                         (header Frontdesk-Signature), with an Idempotency-Key that stays the same on retries"
                    .into(),
            },
        ],
        Channel::WhatsApp | Channel::Messenger => {
            let kind = c.kind.as_str();
            vec![Endpoint {
                what: "Webhook (callback URL in the Meta app)",
                method: "GET and POST",
                path: format!("/webhooks/{kind}/{}", c.id),
                detail: format!(
                    "on this server's public address; the verify token is \"{}\"; subscribe to the messages field",
                    text("verify_token")
                ),
            }]
        }
        Channel::LiveChat => vec![],
    }
}

/// How a channel's page is rendered: after a post, with its outcome.
#[derive(Default)]
struct Shows<'a> {
    status: StatusCode,
    flash: Option<&'a str>,
    error: Option<String>,
    edit: Edit,
    shown: Option<Shown>,
    read: Option<u64>,
}

impl Shows<'_> {
    fn error(e: ApiError) -> Self {
        Shows { status: status_of(&e), error: Some(e.message), ..Default::default() }
    }
}

fn render_channel(authed: &Authed, c: ChannelRow, o: Shows<'_>) -> ApiResult<Response> {
    let Shows { status, flash, error, edit, shown, read } = o;
    let id = c.id;
    let layout =
        Layout::new(authed, Section::Channels, format!("Channel: {}", c.name), format!("/console/channels/{id}"))
            .flash(flash)
            .error(error);
    let secrets = secret_names(c.kind)
        .iter()
        .map(|&name| SecretRow { name, set: c.secrets_set.iter().any(|s| s == name) })
        .collect();
    let p = ChannelPage {
        layout,
        id,
        edit_name: edit.name.unwrap_or_else(|| c.name.clone()),
        config: edit.config.unwrap_or_else(|| super::pretty(&c.config)),
        kind_label: kind_label(c.kind),
        agent_deployed: c.agent_deployed,
        help_desk: c.destination == "help_desk",
        created: fmt_time(c.created_at),
        updated: fmt_time(c.updated_at),
        secrets,
        has_inbound_key: service::has_inbound_key(c.kind),
        has_key: c.has_key,
        has_mailbox: c.kind == Channel::Email && c.config["imap"].is_object(),
        is_email: c.kind == Channel::Email,
        endpoints: endpoints(&c),
        shown,
        read,
        can_edit: can(authed, P::EditAgent),
        name: c.name,
    };
    page(status, &p)
}

pub(crate) async fn channel_page(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<ChannelQuery>,
) -> ApiResult<Response> {
    let c = state.store.get_channel(id).await?;
    render_channel(&authed, c, Shows { flash: q.flash.as_deref(), read: q.read, ..Default::default() })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct EditForm {
    name: String,
    config: String,
}

/// Saves the name and the configuration.
pub(crate) async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<EditForm>,
) -> ApiResult<Response> {
    let result = match json_field("config", &f.config) {
        Ok(config) => {
            let change = ChannelChange { name: Some(f.name.clone()), config: Some(config), ..Default::default() };
            service::update_channel(&state, &authed.actor(), id, change).await.map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    or_redo(result.map(|_| see_other(&format!("/console/channels/{id}?flash=saved"))), |e| async move {
        let c = state.store.get_channel(id).await?;
        let edit = Edit { name: Some(f.name), config: Some(f.config) };
        render_channel(&authed, c, Shows { edit, ..Shows::error(e) })
    })
    .await
}

/// The secrets form as posted: one field per secret name (a new value; empty
/// keeps it) and `clear` checkboxes naming secrets to remove.
fn secrets_change(kind: Channel, pairs: &[(String, String)]) -> ApiResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        if k == "clear" {
            out.entry(v.trim().to_owned()).or_insert_with(String::new);
        }
    }
    for (k, v) in pairs {
        if k == "_csrf" || k == "clear" || v.is_empty() {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    frontdesk_engine::channels::config::validate_secrets(kind, &out)?;
    if out.is_empty() {
        return Err(ApiError::invalid_field("secrets", "enter a new value, or tick “Clear” to remove a secret"));
    }
    Ok(out)
}

/// Sets or clears secrets; their values are never shown.
pub(crate) async fn save_secrets(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(pairs): ConsoleForm<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let c = state.store.get_channel(id).await?;
    let result = match secrets_change(c.kind, &pairs) {
        Ok(secrets) => {
            let change = ChannelChange { secrets, ..Default::default() };
            service::update_channel(&state, &authed.actor(), id, change).await.map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    or_redo(result.map(|_| see_other(&format!("/console/channels/{id}?flash=secrets_saved"))), |e| async move {
        render_channel(&authed, c, Shows::error(e))
    })
    .await
}

/// A new inbound key (the old one stops working), shown on the answer once.
pub(crate) async fn rotate_key(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let (row, key) = match service::rotate_channel_key(&state, &authed.actor(), id).await.map_err(ApiError::from) {
        Ok(done) => done,
        Err(e) if is_form_error(&e) => {
            let c = state.store.get_channel(id).await?;
            return render_channel(&authed, c, Shows::error(e));
        }
        Err(e) => return Err(e),
    };
    let shown = Shown { key: Some(key), webhook_secret: None };
    render_channel(&authed, row, Shows { flash: Some("key_rotated"), shown: Some(shown), ..Default::default() })
}

/// "Check mail now": reads an email channel's mailbox and says how many
/// messages were read, or why it could not.
pub(crate) async fn poll(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<Response> {
    let c = state.store.get_channel(id).await?;
    let refused = if c.kind != Channel::Email {
        Some(ApiError::invalid_field("kind", "only email channels have a mailbox"))
    } else if !c.config["imap"].is_object() {
        Some(ApiError::invalid_field("config.imap", "no mailbox is configured: add an imap section to read one"))
    } else {
        None
    };
    if let Some(e) = refused {
        return render_channel(&authed, c, Shows::error(e));
    }
    match frontdesk_engine::channels::email::poll_channel(&state, &c).await {
        Ok(n) => Ok(see_other(&format!("/console/channels/{id}?flash=mail_checked&read={n}"))),
        Err(e) => {
            let e = ApiError::new(Code::Unavailable, format!("Could not read the mailbox: {e}"));
            render_channel(&authed, c, Shows::error(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_new_channel_form_becomes_the_api_input() {
        let f = NewForm {
            kind: "custom".into(),
            name: "Helpdesk".into(),
            agent_deployed: None,
            destination: "help_desk".into(),
            config: r#"{"webhook_url": "https://h.example/x"}"#.into(),
            secrets: " ".into(),
        };
        let i = f.input().unwrap();
        assert_eq!(i.kind, Channel::Custom);
        assert_eq!(i.destination.as_deref(), Some("help_desk"));
        assert!(!i.agent_deployed && i.secrets.is_empty());
        let bad = NewForm { config: "{nope".into(), ..f };
        assert_eq!(bad.input().unwrap_err().field.as_deref(), Some("config"));
        let bad = NewForm { kind: "live_chat".into(), config: "{}".into(), ..Default::default() };
        assert_eq!(bad.input().unwrap_err().field.as_deref(), Some("kind"));
        let bad = NewForm { kind: "email".into(), secrets: r#"{"smtp_password": 3}"#.into(), ..Default::default() };
        assert_eq!(bad.input().unwrap_err().field.as_deref(), Some("secrets"));
    }

    #[test]
    fn secrets_are_set_cleared_or_refused() {
        let s = secrets_change(
            Channel::Email,
            &pairs(&[("_csrf", "t"), ("smtp_password", "pw"), ("imap_password", ""), ("clear", "imap_password")]),
        )
        .unwrap();
        assert_eq!(s.get("smtp_password").map(String::as_str), Some("pw"));
        assert_eq!(s.get("imap_password").map(String::as_str), Some(""));
        let e = secrets_change(Channel::Email, &pairs(&[("access_token", "x")])).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("secrets.access_token"));
        let e = secrets_change(Channel::Email, &pairs(&[("_csrf", "t"), ("smtp_password", "")])).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("secrets"));
    }

    #[test]
    fn messaging_forms_become_settings_inputs() {
        let f = MessagingPost { ask_email: "start".into(), close_after_minutes: " ".into() };
        let i = f.input().unwrap();
        assert_eq!((i.ask_email, i.close_after_minutes), (Some(AskEmail::Start), None));
        let f = MessagingPost { ask_email: "".into(), close_after_minutes: "60".into() };
        assert_eq!(f.input().unwrap().close_after_minutes, Some(60));
        let f = MessagingPost { ask_email: "".into(), close_after_minutes: "soon".into() };
        assert_eq!(f.input().unwrap_err().field.as_deref(), Some("close_after_minutes"));
        let f = MessagingPost { ask_email: "always".into(), close_after_minutes: "".into() };
        assert_eq!(f.input().unwrap_err().field.as_deref(), Some("ask_email"));
    }

    #[test]
    fn every_kind_has_a_valid_example() {
        for &k in KINDS {
            let v: Value = serde_json::from_str(example_config(k)).unwrap();
            frontdesk_engine::channels::config::validate(k, &v).unwrap_or_else(|e| panic!("{k}: {e}"));
        }
    }
}
