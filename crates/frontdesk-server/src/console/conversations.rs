//! Conversations (J2): the lists, a conversation with its messages, the
//! agent's reasoning and events, and the human's actions.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use frontdesk_core::model::{AssigneeKind, Author, ConversationStatus, View};
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::responder::Trace;
use frontdesk_core::validate::MessageText;
use frontdesk_store::{Contact, Conversation, ConversationFilter, Message, User};
use serde::Deserialize;

use super::{
    can, fmt_time, is_form_error, is_htmx, name_of, ok, page, preview, see_other, status_of, user_names, ConsoleForm,
    FlashQuery, Layout, Opt, Section,
};
use crate::api::admin::{parse_assignee, parse_view, AssignInput};
use crate::auth::Authed;
use crate::engine;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;

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
            Err(e) => (View::Unassigned, Some(e)),
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

#[derive(Template)]
#[template(path = "_messages_poll.html")]
struct PollFragment {
    meta: Meta,
    messages: Vec<MessageView>,
    poll_url: String,
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

/// Only web links become links (never `javascript:` and the like).
fn is_web_url(u: &str) -> bool {
    let u = u.trim_start().to_ascii_lowercase();
    u.starts_with("https://") || u.starts_with("http://")
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
            .map(|c| CitationView { title: c.title.clone(), url: c.url.clone().filter(|u| is_web_url(u)) })
            .collect(),
        trace,
        trace_raw,
    }
}

fn message_view(m: &Message, agent_name: &str, names: &HashMap<i64, String>) -> MessageView {
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
            .map(|c| CitationView { title: c.title.clone(), url: c.url.clone().filter(|u| is_web_url(u)) })
            .collect(),
        trace,
        trace_raw,
    }
}

/// The messages to show (system messages without text are bookkeeping) and
/// the sequence number to poll after.
fn visible(
    messages: &[Message],
    after: i64,
    agent_name: &str,
    names: &HashMap<i64, String>,
) -> (Vec<MessageView>, i64) {
    let last = messages.iter().map(|m| m.seq).max().unwrap_or(after).max(after);
    let views = messages
        .iter()
        .filter(|m| m.author != Author::System || !m.text.trim().is_empty())
        .map(|m| message_view(m, agent_name, names))
        .collect();
    (views, last)
}

fn meta(c: &Conversation, contact: Option<&Contact>, agent_name: &str, names: &HashMap<i64, String>) -> Meta {
    Meta {
        id: c.id,
        contact: {
            let name = contact.and_then(|k| k.name.as_deref()).filter(|n| !n.trim().is_empty());
            contact_label(c.id, name, if name.is_some() { None } else { contact.and_then(|k| k.email.as_deref()) })
        },
        contact_email: contact.and_then(|k| k.email.clone()),
        contact_phone: contact.and_then(|k| k.phone.clone()),
        channel: channel_label(c),
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
    let (messages, last_seq) = visible(&messages, 0, &agent_name, &names);
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
    let meta = meta(&c, contact.as_ref(), &agent_name, &names);
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
    let (messages, last_seq) = visible(&messages, after, &agent_name, &names);
    ok(&PollFragment {
        meta: meta(&c, contact.as_ref(), &agent_name, &names),
        messages,
        poll_url: format!("/console/conversations/{id}/messages?after={last_seq}"),
    })
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
        Ok(to) => engine::reassign(&state, id, to, authed.user.id).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/console/conversations/{id}?flash=assigned"))),
        Err(e) if is_form_error(&e) => {
            detail_page(&state, &authed, id, status_of(&e), None, Some(e.message), String::new()).await
        }
        Err(e) => Err(e),
    }
}

async fn change_status(state: &AppState, authed: &Authed, id: i64, status: ConversationStatus) -> ApiResult<Response> {
    let flash = match status {
        ConversationStatus::Closed => "closed",
        ConversationStatus::Open => "reopened",
    };
    match engine::set_status_by_human(state, id, status, authed.user.id).await {
        Ok(_) => Ok(see_other(&format!("/console/conversations/{id}?flash={flash}"))),
        Err(e) if is_form_error(&e) => {
            detail_page(state, authed, id, status_of(&e), None, Some(e.message), String::new()).await
        }
        Err(e) => Err(e),
    }
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
    let input =
        crate::api::tickets::TicketInput { status: some(f.status), priority: some(f.priority), note: some(f.note) };
    let result = async {
        let update = input.parse()?;
        Ok::<_, ApiError>(state.store.update_ticket(&authed.actor(), t.id, update).await?)
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/console/conversations/{id}?flash=saved"))),
        Err(e) if is_form_error(&e) => {
            detail_page(&state, &authed, id, status_of(&e), None, Some(e.message), String::new()).await
        }
        Err(e) => Err(e),
    }
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
    fn only_web_citations_are_linked() {
        assert!(is_web_url("https://docs.example.com/a"));
        assert!(is_web_url("HTTP://x.io"));
        assert!(!is_web_url("javascript:alert(1)"));
        assert!(!is_web_url("/relative"));
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
