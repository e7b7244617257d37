//! Conversations (J2): the lists, a conversation with its messages, the
//! agent's reasoning and events, and the human's actions. Conversations from
//! a connected channel (C1) also show the channel, the contact's handle, the
//! email subject, each reply's delivery status and the attachments, which
//! are only ever downloaded (never shown inline).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::links::safe_href;
use frontdesk_core::model::{AssigneeKind, Author, Channel, ConversationStatus, DeliveryStatus, View};
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::responder::Trace;
use frontdesk_core::validate::MessageText;
use frontdesk_store::{AttachmentInfo, Contact, Conversation, ConversationFilter, Delivery, Message, StoreError, User};
use serde::Deserialize;

use super::{
    can, fmt_time, is_htmx, name_of, ok, or_redo, page, preview, see_other, status_of, user_names, ConsoleForm,
    FlashQuery, Layout, Opt, Section,
};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_engine::conversation as engine;
use frontdesk_engine::service::conversations::{parse_assignee, parse_view, AssignInput};

/// How many conversations a list shows.
const LIST_LIMIT: i64 = 200;

const VIEWS: &[(View, &str)] =
    &[(View::Unassigned, "Unassigned"), (View::Mine, "Mine"), (View::AllOpen, "All open"), (View::Closed, "Closed")];

// ---------- the lists ----------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ListQuery {
    view: Option<String>,
}

pub(crate) struct Tab {
    href: String,
    label: &'static str,
    count: String,
    active: bool,
}

pub(crate) struct Row {
    id: i64,
    contact: String,
    channel: String,
    assignee: String,
    unassigned: bool,
    status: String,
    open: bool,
    last_message: String,
    last_activity: String,
}

pub(crate) struct ConvList {
    poll_url: String,
    view_label: &'static str,
    tabs: Vec<Tab>,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "conversations.html")]
struct ListPage {
    layout: Layout,
    list: ConvList,
}

#[derive(Template)]
#[template(path = "_conv_list.html")]
struct ListFragment {
    list: ConvList,
}

fn contact_label(conversation_id: i64, name: Option<&str>, email: Option<&str>) -> String {
    match (name.filter(|n| !n.trim().is_empty()), email.filter(|e| !e.trim().is_empty())) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (Some(n), None) => n.to_owned(),
        (None, Some(e)) => e.to_owned(),
        (None, None) => format!("Visitor #{conversation_id}"),
    }
}

fn assignee_label(c: &Conversation, agent_name: &str, names: &HashMap<i64, String>) -> String {
    match (c.assignee_kind, c.assignee_user_id) {
        (AssigneeKind::Agent, _) => format!("{agent_name} (AI agent)"),
        (AssigneeKind::Human, Some(id)) => name_of(names, id),
        _ => "nobody".to_owned(),
    }
}

fn channel_label(c: &Conversation) -> String {
    c.channel.as_str().replace('_', " ")
}

/// The conversation lists (unassigned, mine, all open, closed). With htmx,
/// only the list itself, which the page polls every 5 seconds.
pub(crate) async fn list(
    State(state): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    let (view, error) = match q.view.as_deref() {
        None | Some("") => (View::Unassigned, None),
        v => match parse_view(v) {
            Ok(view) => (view, None),
            Err(e) => (View::Unassigned, Some(ApiError::from(e))),
        },
    };
    let names = user_names(&state).await?;
    let agent_name = state.store.agent_profile().await?.name;
    let mut tabs = Vec::new();
    let mut rows = Vec::new();
    for &(v, label) in VIEWS {
        let items = state
            .store
            .list_conversations(ConversationFilter { view: v, user_id: authed.user.id, limit: LIST_LIMIT })
            .await?;
        let count = if items.len() as i64 >= LIST_LIMIT { format!("{LIST_LIMIT}+") } else { items.len().to_string() };
        tabs.push(Tab { href: format!("/console/conversations?view={}", v.as_str()), label, count, active: v == view });
        if v == view {
            rows = items
                .iter()
                .map(|s| {
                    let c = &s.conversation;
                    Row {
                        id: c.id,
                        contact: contact_label(c.id, s.contact_name.as_deref(), s.contact_email.as_deref()),
                        channel: channel_label(c),
                        assignee: assignee_label(c, &agent_name, &names),
                        unassigned: c.assignee_kind == AssigneeKind::None,
                        status: c.status.to_string(),
                        open: c.status == ConversationStatus::Open,
                        last_message: s.last_message.as_deref().map(|m| preview(m, 90)).unwrap_or_default(),
                        last_activity: fmt_time(c.last_activity_at),
                    }
                })
                .collect();
        }
    }
    let view_label = VIEWS.iter().find(|(v, _)| *v == view).map(|(_, l)| *l).unwrap_or("Conversations");
    let list = ConvList { poll_url: format!("/console/conversations?view={}", view.as_str()), view_label, tabs, rows };
    if is_htmx(&headers) {
        return ok(&ListFragment { list });
    }
    let status = error.as_ref().map(status_of).unwrap_or(StatusCode::OK);
    let layout =
        Layout::new(&authed, Section::Conversations, format!("Conversations: {view_label}"), list.poll_url.clone())
            .error(error.map(|e| e.message));
    page(status, &ListPage { layout, list })
}

// ---------- one conversation ----------

pub(crate) struct CitationView {
    pub(crate) title: String,
    pub(crate) url: Option<String>,
}

pub(crate) struct CandidateView {
    pub(crate) title: String,
    pub(crate) source: String,
    pub(crate) score: String,
    pub(crate) passed: bool,
}

pub(crate) struct TraceView {
    pub(crate) responder: String,
    pub(crate) language: String,
    pub(crate) decision: String,
    pub(crate) threshold: String,
    pub(crate) candidates: Vec<CandidateView>,
    pub(crate) notes: Vec<String>,
    pub(crate) tools: Vec<ToolView>,
}

pub(crate) struct ToolView {
    pub(crate) name: String,
    pub(crate) arguments: String,
    pub(crate) ok: bool,
    pub(crate) output: String,
    pub(crate) ms: u64,
}

pub(crate) struct MessageView {
    pub(crate) author: &'static str,
    pub(crate) author_label: String,
    pub(crate) text: String,
    pub(crate) time: String,
    pub(crate) citations: Vec<CitationView>,
    pub(crate) trace: Option<TraceView>,
    /// A stored trace that is not in the current shape, shown as JSON.
    pub(crate) trace_raw: Option<String>,
    /// Where sending it on its connected channel stands.
    pub(crate) delivery: Option<DeliveryView>,
    pub(crate) attachments: Vec<AttachmentView>,
}

/// A reply's delivery on a connected channel.
pub(crate) struct DeliveryView {
    pub(crate) message_id: i64,
    /// queued, sent, delivered, read, failed, skipped.
    pub(crate) status: &'static str,
    /// The error (failed, or queued for a retry) or the reason (skipped).
    pub(crate) detail: String,
    pub(crate) attempts: i64,
}

/// An attachment of a message, downloaded from `/console/attachments/{id}`.
pub(crate) struct AttachmentView {
    pub(crate) id: i64,
    pub(crate) filename: String,
    pub(crate) content_type: String,
    pub(crate) size: String,
}

pub(crate) struct EventView {
    kind: String,
    actor: String,
    data: String,
    time: String,
}

/// The facts at the top of a conversation; refreshed with the messages.
pub(crate) struct Meta {
    id: i64,
    contact: String,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    channel: String,
    /// The connected channel it came from.
    connected: Option<ConnectedView>,
    /// The contact's address on that channel, and what to call it.
    handle: Option<(&'static str, String)>,
    /// An email thread's subject.
    subject: Option<String>,
    status: String,
    open: bool,
    assignee: String,
    created: String,
    last_activity: String,
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct DetailPage {
    layout: Layout,
    meta: Meta,
    messages: Vec<MessageView>,
    poll_url: String,
    events: Vec<EventView>,
    can_handle: bool,
    assign_options: Vec<Opt>,
    reply_text: String,
    ticket: Option<TicketView>,
}

/// The conversation's help-desk ticket, if a handoff created one.
struct TicketView {
    id: i64,
    status: &'static str,
    open: bool,
    priority: &'static str,
    priorities: Vec<Opt>,
    notes: Vec<(String, String)>,
}

fn ticket_view(t: frontdesk_store::Ticket) -> TicketView {
    TicketView {
        id: t.id,
        status: t.status.as_str(),
        open: t.status == frontdesk_core::workflow::TicketStatus::Open,
        priority: t.priority.as_str(),
        priorities: frontdesk_core::workflow::Priority::ALL
            .iter()
            .map(|p| Opt { value: p.as_str().into(), label: p.as_str().into(), selected: *p == t.priority })
            .collect(),
        notes: t.notes.into_iter().map(|n| (fmt_time(n.created_at), n.body)).collect(),
    }
}

pub(crate) struct ConnectedView {
    id: i64,
    name: String,
}

#[derive(Template)]
#[template(path = "_messages_poll.html")]
struct PollFragment {
    meta: Meta,
    messages: Vec<MessageView>,
    poll_url: String,
    /// Delivery statuses of messages already on the page (swapped out of band).
    delivery_updates: Vec<DeliveryView>,
}

pub(crate) fn trace_view(v: &serde_json::Value) -> (Option<TraceView>, Option<String>) {
    match serde_json::from_value::<Trace>(v.clone()) {
        Ok(t) => (
            Some(TraceView {
                responder: t.responder,
                language: t.language,
                decision: t.decision,
                threshold: format!("{:.2}", t.threshold),
                candidates: t
                    .candidates
                    .into_iter()
                    .map(|c| CandidateView {
                        passed: c.score >= t.threshold,
                        title: c.title,
                        source: format!("{} #{}", c.source_kind.replace('_', " "), c.source_id),
                        score: format!("{:.2}", c.score),
                    })
                    .collect(),
                notes: t.notes,
                tools: t
                    .tools
                    .into_iter()
                    .map(|x| ToolView { name: x.name, arguments: x.arguments, ok: x.ok, output: x.output, ms: x.ms })
                    .collect(),
            }),
            None,
        ),
        Err(_) => (None, Some(super::pretty(v))),
    }
}

/// A message that is not stored (the preview): its author, text, shown
/// citations and trace.
pub(crate) fn unsaved_message_view(
    author: &'static str,
    author_label: String,
    text: String,
    citations: &[frontdesk_core::responder::Citation],
    trace: Option<&serde_json::Value>,
) -> MessageView {
    let (trace, trace_raw) = trace.map(trace_view).unwrap_or((None, None));
    MessageView {
        author,
        author_label,
        text,
        time: String::new(),
        citations: citations
            .iter()
            .map(|c| CitationView { title: c.title.clone(), url: c.url.as_deref().and_then(safe_href) })
            .collect(),
        trace,
        trace_raw,
        delivery: None,
        attachments: Vec::new(),
    }
}

fn message_view(m: &Message, agent_name: &str, names: &HashMap<i64, String>, extras: &Extras) -> MessageView {
    let author_label = match m.author {
        Author::Visitor => "Visitor".to_owned(),
        Author::Agent => format!("{agent_name} (AI agent)"),
        Author::Human => m.user_id.map(|id| name_of(names, id)).unwrap_or_else(|| "Team".to_owned()),
        Author::System => "System".to_owned(),
    };
    let (trace, trace_raw) = match &m.trace {
        Some(t) => trace_view(t),
        None => (None, None),
    };
    MessageView {
        author: m.author.as_str(),
        author_label,
        text: m.text.clone(),
        time: fmt_time(m.created_at),
        citations: m
            .citations
            .iter()
            .map(|c| CitationView { title: c.title.clone(), url: c.url.as_deref().and_then(safe_href) })
            .collect(),
        trace,
        trace_raw,
        delivery: extras.deliveries.get(&m.id).map(delivery_view),
        attachments: extras
            .attachments
            .iter()
            .filter(|a| a.message_id == m.id)
            .map(|a| AttachmentView {
                id: a.id,
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                size: human_size(a.size),
            })
            .collect(),
    }
}

fn delivery_view(d: &Delivery) -> DeliveryView {
    let detail = match d.status {
        DeliveryStatus::Queued if d.attempts > 0 => match &d.last_error {
            Some(e) => format!("will be retried; the last attempt failed: {e}"),
            None => String::new(),
        },
        DeliveryStatus::Failed => d.last_error.clone().unwrap_or_default(),
        DeliveryStatus::Skipped => d.last_error.clone().unwrap_or_default(),
        _ => String::new(),
    };
    DeliveryView { message_id: d.message_id, status: d.status.as_str(), detail, attempts: d.attempts }
}

/// A byte count for people: 512 B, 1.5 KB, 3.2 MB.
fn human_size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b < 1024.0 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KB", b / 1024.0)
    } else {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    }
}

/// What a conversation from a connected channel shows besides its messages:
/// the deliveries (by message; the latest when there are several) and the
/// attachments. Read once per page or poll.
#[derive(Default)]
struct Extras {
    deliveries: HashMap<i64, Delivery>,
    attachments: Vec<AttachmentInfo>,
}

async fn extras_of(state: &AppState, c: &Conversation) -> ApiResult<Extras> {
    // A deleted channel leaves its conversations (channel_id cleared) and their attachments.
    if c.channel == Channel::LiveChat && c.channel_id.is_none() {
        return Ok(Extras::default());
    }
    let mut deliveries = HashMap::new();
    for d in state.store.deliveries_for(c.id).await? {
        if deliveries.get(&d.message_id).is_none_or(|old: &Delivery| old.id < d.id) {
            deliveries.insert(d.message_id, d);
        }
    }
    Ok(Extras { deliveries, attachments: state.store.list_attachments(c.id).await? })
}

/// The messages to show (system messages without text are bookkeeping) and
/// the sequence number to poll after.
fn visible(
    messages: &[Message],
    after: i64,
    agent_name: &str,
    names: &HashMap<i64, String>,
    extras: &Extras,
) -> (Vec<MessageView>, i64) {
    let last = messages.iter().map(|m| m.seq).max().unwrap_or(after).max(after);
    let views = messages
        .iter()
        .filter(|m| m.author != Author::System || !m.text.trim().is_empty())
        .map(|m| message_view(m, agent_name, names, extras))
        .collect();
    (views, last)
}

/// What the contact's handle is on a channel.
fn handle_label(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "Email address",
        Channel::WhatsApp => "WhatsApp number",
        Channel::Messenger => "Messenger user",
        Channel::Custom | Channel::LiveChat => "Contact id",
    }
}

/// The connected channel a conversation came from, by name.
async fn connected_of(state: &AppState, c: &Conversation) -> ApiResult<Option<ConnectedView>> {
    let Some(id) = c.channel_id else { return Ok(None) };
    Ok(Some(match state.store.get_channel(id).await {
        Ok(ch) => ConnectedView { id, name: ch.name },
        Err(StoreError::NotFound(_)) => ConnectedView { id, name: format!("channel #{id} (deleted)") },
        Err(e) => return Err(e.into()),
    }))
}

fn meta(
    c: &Conversation,
    contact: Option<&Contact>,
    agent_name: &str,
    names: &HashMap<i64, String>,
    connected: Option<ConnectedView>,
) -> Meta {
    Meta {
        id: c.id,
        contact: {
            let name = contact.and_then(|k| k.name.as_deref()).filter(|n| !n.trim().is_empty());
            contact_label(c.id, name, if name.is_some() { None } else { contact.and_then(|k| k.email.as_deref()) })
        },
        contact_email: contact.and_then(|k| k.email.clone()),
        contact_phone: contact.and_then(|k| k.phone.clone()),
        channel: channel_label(c),
        connected,
        handle: c.handle.clone().filter(|h| !h.trim().is_empty()).map(|h| (handle_label(c.channel), h)),
        subject: c.subject.clone().filter(|s| !s.trim().is_empty()),
        status: c.status.to_string(),
        open: c.status == ConversationStatus::Open,
        assignee: assignee_label(c, agent_name, names),
        created: fmt_time(c.created_at),
        last_activity: fmt_time(c.last_activity_at),
    }
}

async fn contact_of(state: &AppState, c: &Conversation) -> ApiResult<Option<Contact>> {
    Ok(match c.contact_id {
        Some(id) => Some(state.store.get_contact(id).await?),
        None => None,
    })
}

/// Who a conversation can be given to: people who can handle conversations.
fn assign_options(users: &[User], me: i64) -> Vec<Opt> {
    let mut opts = vec![
        Opt { value: "me".into(), label: "Me".into(), selected: true },
        Opt { value: "agent".into(), label: "The AI agent".into(), selected: false },
        Opt { value: "nobody".into(), label: "Nobody (unassigned)".into(), selected: false },
    ];
    opts.extend(
        users
            .iter()
            .filter(|u| {
                u.id != me
                    && !u.disabled
                    && frontdesk_core::permissions::allows(u.role, u.paid_seat, P::HandleConversations)
            })
            .map(|u| Opt {
                value: format!("user:{}", u.id),
                label: format!("{} ({})", u.name, u.availability),
                selected: false,
            }),
    );
    opts
}

/// The select's value as the admin API's assignment input.
fn assign_input(choice: &str) -> AssignInput {
    match choice.trim().split_once(':') {
        Some(("user", id)) => AssignInput { to: "user".into(), user_id: id.trim().parse().ok() },
        _ => AssignInput { to: choice.trim().to_owned(), user_id: None },
    }
}

/// Renders a conversation; `reply_text` and `error` come back after a failed post.
async fn detail_page(
    state: &AppState,
    authed: &Authed,
    id: i64,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
    reply_text: String,
) -> ApiResult<Response> {
    let c = state.store.get_conversation(id).await?;
    let contact = contact_of(state, &c).await?;
    let users = state.store.list_users().await?;
    let names: HashMap<i64, String> = users.iter().map(|u| (u.id, u.name.clone())).collect();
    let agent_name = state.store.agent_profile().await?.name;
    let messages = state.store.messages_after(id, 0, 10_000).await?;
    let extras = extras_of(state, &c).await?;
    let (messages, last_seq) = visible(&messages, 0, &agent_name, &names, &extras);
    let events = state
        .store
        .list_events(id)
        .await?
        .into_iter()
        .map(|e| EventView {
            kind: e.kind.as_str().replace('_', " "),
            actor: match e.actor_user_id {
                Some(uid) => format!("{} ({})", name_of(&names, uid), e.actor_kind),
                None => e.actor_kind.clone(),
            },
            data: if e.data.as_object().is_some_and(|o| o.is_empty()) { String::new() } else { e.data.to_string() },
            time: fmt_time(e.created_at),
        })
        .collect();
    let meta = meta(&c, contact.as_ref(), &agent_name, &names, connected_of(state, &c).await?);
    let ticket = state.store.ticket_for_conversation(id).await?.map(ticket_view);
    let here = format!("/console/conversations/{id}");
    let layout =
        Layout::new(authed, Section::Conversations, format!("Conversation #{id}"), here).flash(flash).error(error);
    page(
        status,
        &DetailPage {
            layout,
            meta,
            messages,
            poll_url: format!("/console/conversations/{id}/messages?after={last_seq}"),
            events,
            can_handle: can(authed, P::HandleConversations),
            assign_options: assign_options(&users, authed.user.id),
            reply_text,
            ticket,
        },
    )
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    detail_page(&state, &authed, id, StatusCode::OK, q.flash.as_deref(), None, String::new()).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AfterQuery {
    after: i64,
}

/// The messages after `after` (a sequence number), the next poller, and the
/// refreshed facts (out of band). The page polls this every 3 seconds, so
/// expanded details of earlier messages stay as they are.
pub(crate) async fn poll_messages(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<AfterQuery>,
) -> ApiResult<Response> {
    let c = state.store.get_conversation(id).await?;
    let contact = contact_of(&state, &c).await?;
    let names = user_names(&state).await?;
    let agent_name = state.store.agent_profile().await?.name;
    let after = q.after.max(0);
    let messages = state.store.messages_after(id, after, 1000).await?;
    let extras = extras_of(&state, &c).await?;
    // Statuses of replies already on the page change as they are sent: refresh them.
    let new_ids: std::collections::HashSet<i64> = messages.iter().map(|m| m.id).collect();
    let mut delivery_updates: Vec<DeliveryView> =
        extras.deliveries.values().filter(|d| !new_ids.contains(&d.message_id)).map(delivery_view).collect();
    delivery_updates.sort_by_key(|d| d.message_id);
    let (messages, last_seq) = visible(&messages, after, &agent_name, &names, &extras);
    ok(&PollFragment {
        meta: meta(&c, contact.as_ref(), &agent_name, &names, connected_of(&state, &c).await?),
        messages,
        poll_url: format!("/console/conversations/{id}/messages?after={last_seq}"),
        delivery_updates,
    })
}

/// `GET /console/attachments/{id}`: an attachment's bytes, always as a
/// download (never rendered by the browser) under its stored content type.
pub(crate) async fn attachment(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<Response> {
    let (info, data) = state.store.attachment_data(id).await?;
    let mut resp = (StatusCode::OK, data).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type_header(&info.content_type));
    let disposition = HeaderValue::from_str(&content_disposition(&info.filename)).map_err(ApiError::internal)?;
    h.insert(header::CONTENT_DISPOSITION, disposition);
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(resp)
}

/// The stored content type's `type/subtype` when it is one, else
/// `application/octet-stream`.
fn content_type_header(stored: &str) -> HeaderValue {
    let essence = stored.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b));
    match essence.split_once('/') {
        Some((t, s)) if token(t) && token(s) => {
            HeaderValue::from_str(&essence).unwrap_or(HeaderValue::from_static("application/octet-stream"))
        }
        _ => HeaderValue::from_static("application/octet-stream"),
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII
/// fallback without quotes, backslashes or controls, and the exact name
/// percent-encoded. Paths are cut to their last part.
fn content_disposition(filename: &str) -> String {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or_default();
    let base: String = base.chars().filter(|c| !c.is_control()).collect();
    let base = match base.trim() {
        "" | "." | ".." => "attachment".to_owned(),
        b => b.to_owned(),
    };
    let ascii: String = base
        .chars()
        .map(|c| if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%') || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for b in base.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ReplyForm {
    text: String,
}

pub(crate) async fn reply(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<ReplyForm>,
) -> ApiResult<Response> {
    let text = match MessageText::parse(&f.text) {
        Ok(t) => t,
        Err(e) => {
            let e = ApiError::from(e);
            return detail_page(&state, &authed, id, status_of(&e), None, Some(e.message), f.text).await;
        }
    };
    state.store.get_conversation(id).await?;
    engine::human_message(&state, id, authed.user.id, text.into_inner()).await?;
    Ok(see_other(&format!("/console/conversations/{id}#reply")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AssignForm {
    assignee: String,
}

pub(crate) async fn assign(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<AssignForm>,
) -> ApiResult<Response> {
    let result = match parse_assignee(&assign_input(&f.assignee), authed.user.id) {
        Ok(to) => engine::reassign(&state, id, to, authed.user.id).await.map(|_| ()).map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    or_redo(result.map(|_| see_other(&format!("/console/conversations/{id}?flash=assigned"))), |e| {
        detail_page(&state, &authed, id, status_of(&e), None, Some(e.message), String::new())
    })
    .await
}

async fn change_status(state: &AppState, authed: &Authed, id: i64, status: ConversationStatus) -> ApiResult<Response> {
    let flash = match status {
        ConversationStatus::Closed => "closed",
        ConversationStatus::Open => "reopened",
    };
    or_redo(
        engine::set_status_by_human(state, id, status, authed.user.id)
            .await
            .map_err(ApiError::from)
            .map(|_| see_other(&format!("/console/conversations/{id}?flash={flash}"))),
        |e| detail_page(state, authed, id, status_of(&e), None, Some(e.message), String::new()),
    )
    .await
}

pub(crate) async fn close(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<Response> {
    change_status(&state, &authed, id, ConversationStatus::Closed).await
}

pub(crate) async fn reopen(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<Response> {
    change_status(&state, &authed, id, ConversationStatus::Open).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TicketForm {
    status: String,
    priority: String,
    note: String,
}

/// Changes the conversation's ticket: close/reopen, priority, a note.
pub(crate) async fn ticket(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<TicketForm>,
) -> ApiResult<Response> {
    let Some(t) = state.store.ticket_for_conversation(id).await? else {
        return Err(ApiError::not_found("ticket"));
    };
    let some = |s: String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let input = frontdesk_engine::service::tickets::TicketInput {
        status: some(f.status),
        priority: some(f.priority),
        note: some(f.note),
    };
    let result = async {
        let update = input.parse()?;
        Ok::<_, ApiError>(state.store.update_ticket(&authed.actor(), t.id, update).await?)
    }
    .await;
    or_redo(result.map(|_| see_other(&format!("/console/conversations/{id}?flash=saved"))), |e| {
        detail_page(&state, &authed, id, status_of(&e), None, Some(e.message), String::new())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_choices_become_admin_inputs() {
        let a = assign_input("user:7");
        assert_eq!((a.to.as_str(), a.user_id), ("user", Some(7)));
        let a = assign_input("agent");
        assert_eq!((a.to.as_str(), a.user_id), ("agent", None));
        // A broken id is left to the shared rules, which reject it.
        let a = assign_input("user:x");
        assert!(parse_assignee(&a, 1).is_err());
        assert_eq!(parse_assignee(&assign_input("me"), 4).ok(), Some(frontdesk_store::Assignee::Human(4)));
    }

    #[test]
    fn attachments_download_under_a_safe_name_and_type() {
        assert_eq!(
            content_disposition("../etc/pass\"wd\r\n.txt"),
            "attachment; filename=\"pass_wd.txt\"; filename*=UTF-8''pass%22wd.txt"
        );
        assert_eq!(
            content_disposition("Prix d'été.pdf"),
            "attachment; filename=\"Prix d'_t_.pdf\"; filename*=UTF-8''Prix%20d%27%C3%A9t%C3%A9.pdf"
        );
        assert_eq!(
            content_disposition("C:\\x\\.."),
            "attachment; filename=\"attachment\"; filename*=UTF-8''attachment"
        );
        assert!(HeaderValue::from_str(&content_disposition("名前.txt")).is_ok());
        assert_eq!(content_type_header("text/plain; charset=utf-8"), "text/plain");
        assert_eq!(content_type_header("Image/PNG"), "image/png");
        assert_eq!(content_type_header("text/html\r\nX: y"), "application/octet-stream");
        assert_eq!(content_type_header("nonsense"), "application/octet-stream");
    }

    #[test]
    fn deliveries_say_where_a_reply_stands() {
        let d = Delivery {
            id: 1,
            channel_id: 1,
            conversation_id: 1,
            message_id: 7,
            status: DeliveryStatus::Queued,
            attempts: 2,
            last_error: Some("connection refused".into()),
            external_id: None,
            idempotency_key: "k".into(),
            created_at: 0,
            updated_at: 0,
        };
        let v = delivery_view(&d);
        assert_eq!((v.status, v.attempts, v.message_id), ("queued", 2, 7));
        assert!(v.detail.contains("connection refused"), "{}", v.detail);
        let v = delivery_view(&Delivery { status: DeliveryStatus::Sent, ..d });
        assert_eq!((v.status, v.detail.as_str()), ("sent", ""));
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KB");
    }

    #[test]
    fn only_safe_citations_are_linked() {
        let view = |url: &str| {
            let c = frontdesk_core::responder::Citation {
                source_kind: "url".into(),
                source_id: 1,
                title: "T".into(),
                url: Some(url.into()),
            };
            unsaved_message_view("agent", "A".into(), "x".into(), &[c], None).citations.remove(0).url
        };
        assert_eq!(view("https://docs.example.com/a").as_deref(), Some("https://docs.example.com/a"));
        assert_eq!(view("HTTP://x.io").as_deref(), Some("HTTP://x.io"));
        assert_eq!(view("/kb/reset").as_deref(), Some("/kb/reset"));
        for hostile in
            ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\tscript:x", "data:text/html,x", "&#106;avascript:x"]
        {
            assert_eq!(view(hostile), None, "{hostile}");
        }
    }

    #[test]
    fn contacts_are_named_by_name_email_or_visitor_number() {
        assert_eq!(contact_label(3, Some("Ada"), Some("ada@x.io")), "Ada <ada@x.io>");
        assert_eq!(contact_label(3, None, Some("ada@x.io")), "ada@x.io");
        assert_eq!(contact_label(3, Some(" "), None), "Visitor #3");
    }

    #[test]
    fn traces_render_with_scores_against_the_threshold() {
        let v = serde_json::json!({
            "responder": "short_answers", "language": "en", "decision": "answered", "threshold": 0.5,
            "candidates": [{"source_kind": "short_answer", "source_id": 2, "title": "Price?", "score": 0.81}]
        });
        let (t, raw) = trace_view(&v);
        let t = t.unwrap();
        assert!(raw.is_none());
        assert_eq!(t.threshold, "0.50");
        assert_eq!(t.candidates[0].score, "0.81");
        assert!(t.candidates[0].passed);
        assert_eq!(t.candidates[0].source, "short answer #2");
        let (t, raw) = trace_view(&serde_json::json!({"other": 1}));
        assert!(t.is_none() && raw.is_some());
    }
}
