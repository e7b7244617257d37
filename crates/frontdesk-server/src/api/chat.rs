//! The public live-chat API the widget (and external tests) use.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::IntoResponse;
use frontdesk_core::model::Channel;
use frontdesk_core::validate::{bounded_text, EmailAddress, MessageText};
use frontdesk_store::{Conversation, Message};
use futures::Stream;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::bearer;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult, Code};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::conversation as engine;
use frontdesk_engine::tokens::token_hash;

pub fn routes(r: Routes) -> Routes {
    r.add(Method::GET, "/api/v1/chat/config", Access::Public, config)
        .add(Method::POST, "/api/v1/chat/sessions", Access::Public, create_session)
        .add(Method::POST, "/api/v1/chat/conversations/{id}/messages", Access::Visitor, post_message)
        .add(Method::GET, "/api/v1/chat/conversations/{id}/messages", Access::Visitor, list_messages)
        .add(Method::GET, "/api/v1/chat/conversations/{id}/stream", Access::Visitor, stream)
        .add(Method::POST, "/api/v1/chat/conversations/{id}/messages/{message_id}/feedback", Access::Visitor, feedback)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatConfig {
    pub agent_name: String,
    /// True while the agent takes new conversations — switched on (A4) and
    /// within the live chat's working hours (C4): the header says "Powered by AI".
    pub powered_by_ai: bool,
    pub greeting: Option<String>,
}

pub async fn chat_config(state: &AppState) -> ApiResult<ChatConfig> {
    let p = state.store.agent_profile().await?;
    let on_duty = frontdesk_agent::snapshot::agent_on_duty(
        &*state.agent.snapshot().await?,
        Channel::LiveChat,
        jiff::Timestamp::now(),
    );
    let greeting = (p.enabled && on_duty).then(|| {
        frontdesk_core::persona::phrase(
            p.personality,
            frontdesk_core::lang::Lang::from_code(&p.default_lang).unwrap_or(frontdesk_core::lang::Lang::En),
            frontdesk_core::persona::Phrase::Greeting,
            &p.name,
        )
    });
    Ok(ChatConfig { agent_name: p.name, powered_by_ai: p.enabled && on_duty, greeting })
}

/// The widget's header: the agent's name and whether "Powered by AI" shows.
#[utoipa::path(get, path = "/api/v1/chat/config", tag = "chat", responses((status = 200, body = ChatConfig)))]
pub async fn config(State(state): State<AppState>) -> ApiResult<ApiJson<ChatConfig>> {
    Ok(ApiJson(chat_config(&state).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionCreated {
    pub conversation_id: i64,
    /// Secret for this conversation only; send as `Authorization: Bearer <token>`.
    pub visitor_token: String,
}

/// Starts a conversation for a visitor.
#[utoipa::path(post, path = "/api/v1/chat/sessions", tag = "chat", request_body = NewSession,
    responses((status = 201, body = SessionCreated), (status = 422, body = crate::openapi::ErrorDoc)))]
pub async fn create_session(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewSession>,
) -> ApiResult<impl IntoResponse> {
    let name = body.name.filter(|n| !n.trim().is_empty()).map(|n| bounded_text("name", &n, 1, 200)).transpose()?;
    let email = body
        .email
        .filter(|e| !e.trim().is_empty())
        .map(|e| EmailAddress::parse("email", &e).map(|e| e.as_str().to_owned()))
        .transpose()?;
    let started = engine::start_conversation(&state, Channel::LiveChat, name, email).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(SessionCreated { conversation_id: started.conversation.id, visitor_token: started.visitor_token }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    pub token: Option<String>,
    pub after: Option<i64>,
}

/// The conversation this visitor token opens; any other gets 404.
async fn visitor_conversation(
    state: &AppState,
    id: i64,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> ApiResult<Conversation> {
    let token = bearer(headers).or(query_token).ok_or_else(|| {
        ApiError::new(Code::Unauthenticated, "send the visitor token as 'Authorization: Bearer <visitor_token>'")
    })?;
    state
        .store
        .conversation_for_visitor(id, &token_hash(token))
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    /// 1 to 4,000 characters.
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Sends a visitor message. The agent's answer arrives on the stream and in the message list.
#[utoipa::path(post, path = "/api/v1/chat/conversations/{id}/messages", tag = "chat", request_body = PostMessage,
    params(("id" = i64, Path)), security(("visitor_token" = [])),
    responses((status = 201, body = Created), (status = 404, body = crate::openapi::ErrorDoc), (status = 422, body = crate::openapi::ErrorDoc)))]
pub async fn post_message(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PostMessage>,
) -> ApiResult<impl IntoResponse> {
    let conversation = visitor_conversation(&state, id, &headers, None).await?;
    let text = MessageText::parse(&body.text)?;
    let m = engine::visitor_message(&state, &conversation, text.into_inner()).await?;
    Ok((StatusCode::CREATED, ApiJson(Created { id: m.id })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CitationOut {
    pub title: String,
    pub url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    pub id: i64,
    /// `visitor`, `agent`, `human` or `system`.
    pub author: String,
    pub text: String,
    pub created_at: String,
    pub citations: Vec<CitationOut>,
}

impl From<&Message> for MessageOut {
    fn from(m: &Message) -> Self {
        MessageOut {
            id: m.id,
            author: m.author.as_str().to_owned(),
            text: m.text.clone(),
            created_at: super::rfc3339(m.created_at),
            citations: m.citations.iter().map(|c| CitationOut { title: c.title.clone(), url: c.url.clone() }).collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AfterQuery {
    /// Only messages after this message id.
    #[allow(dead_code)] // Documents the query in OpenAPI; the handler reads it with the token (`TokenQuery`).
    pub after: Option<i64>,
}

/// The conversation's messages, oldest first.
#[utoipa::path(get, path = "/api/v1/chat/conversations/{id}/messages", tag = "chat",
    params(("id" = i64, Path), AfterQuery), security(("visitor_token" = [])),
    responses((status = 200, body = [MessageOut]), (status = 404, body = crate::openapi::ErrorDoc)))]
pub async fn list_messages(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<ApiJson<Vec<MessageOut>>> {
    let conversation = visitor_conversation(&state, id, &headers, q.token.as_deref()).await?;
    let after_seq = seq_after(&state, conversation.id, q.after).await?;
    let messages = state.store.messages_after(conversation.id, after_seq, 1000).await?;
    Ok(ApiJson(messages.iter().map(MessageOut::from).collect()))
}

/// Translates "after message id" into the conversation's sequence number.
async fn seq_after(state: &AppState, conversation_id: i64, after: Option<i64>) -> ApiResult<i64> {
    match after {
        None | Some(0) => Ok(0),
        Some(id) => state
            .store
            .message_seq(conversation_id, id)
            .await?
            .ok_or_else(|| ApiError::invalid_field("after", "is not a message of this conversation")),
    }
}

/// Server-Sent Events of new messages (`event: message`, `id:` the message id).
/// Reconnecting with `Last-Event-ID` resumes after that message: nothing is lost or repeated.
#[utoipa::path(get, path = "/api/v1/chat/conversations/{id}/stream", tag = "chat",
    params(("id" = i64, Path), ("token" = Option<String>, Query, description = "visitor token, for EventSource which cannot set headers")),
    responses((status = 200, content_type = "text/event-stream", description = "message events")))]
pub async fn stream(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let conversation = visitor_conversation(&state, id, &headers, q.token.as_deref()).await?;
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(q.after);
    let start_seq = seq_after(&state, conversation.id, last_event_id).await?;
    let stopping = state.shutting_down();
    let rx = state.hub.subscribe(conversation.id);
    let config_rx = state.hub.subscribe_config();
    let drafts = state.hub.subscribe_drafts(conversation.id);

    struct Cursor {
        state: AppState,
        conversation_id: i64,
        seq: i64,
        rx: tokio::sync::watch::Receiver<i64>,
        config_rx: tokio::sync::watch::Receiver<u64>,
        drafts: tokio::sync::broadcast::Receiver<frontdesk_engine::hub::Draft>,
        pending: std::collections::VecDeque<SseEvent>,
    }
    let cursor = Cursor {
        state,
        conversation_id: conversation.id,
        seq: start_seq,
        rx,
        config_rx,
        drafts,
        pending: Default::default(),
    };
    let events = futures::stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(e) = c.pending.pop_front() {
                return Some((Ok(e), c));
            }
            match c.state.store.messages_after(c.conversation_id, c.seq, 200).await {
                Ok(ms) if !ms.is_empty() => {
                    for m in &ms {
                        c.seq = m.seq;
                        let data = serde_json::to_string(&MessageOut::from(m)).unwrap_or_default();
                        c.pending.push_back(SseEvent::default().event("message").id(m.id.to_string()).data(data));
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "stream could not read messages; retrying"),
            }
            // Wait for a notification, a config change, or poll again (other replicas).
            tokio::select! {
                r = c.rx.changed() => { if r.is_err() { return None; } }
                r = c.config_rx.changed() => {
                    if r.is_ok() {
                        if let Ok(cfg) = chat_config(&c.state).await {
                            let data = serde_json::json!({"agent_name": cfg.agent_name, "powered_by_ai": cfg.powered_by_ai});
                            c.pending.push_back(SseEvent::default().event("config").data(data.to_string()));
                        }
                    }
                }
                d = c.drafts.recv() => {
                    use frontdesk_engine::hub::Draft;
                    use tokio::sync::broadcast::error::RecvError;
                    match d {
                        Ok(Draft::Text { step, text }) => {
                            let data = serde_json::json!({"step": step, "text": text});
                            c.pending.push_back(SseEvent::default().event("delta").data(data.to_string()));
                        }
                        Ok(Draft::Discard { step }) => {
                            let data = serde_json::json!({"step": step});
                            c.pending.push_back(SseEvent::default().event("discard").data(data.to_string()));
                        }
                        // A slow reader missed pieces: its draft is incomplete, drop it (the final message follows).
                        Err(RecvError::Lagged(_)) => {
                            c.pending.push_back(SseEvent::default().event("discard").data("{}"));
                        }
                        Err(RecvError::Closed) => c.drafts = c.state.hub.subscribe_drafts(c.conversation_id),
                    }
                }
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    });
    // On shutdown the stream ends at once, so a deploy does not wait on it: the
    // widget's EventSource reconnects (to the next process) with the last
    // event id it saw and misses nothing.
    let events = futures::StreamExt::take_until(events, stopping);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    pub helpful: bool,
}

/// Feedback on one of the agent's replies (helpful or not).
#[utoipa::path(post, path = "/api/v1/chat/conversations/{id}/messages/{message_id}/feedback", tag = "chat",
    params(("id" = i64, Path), ("message_id" = i64, Path)), request_body = Feedback, security(("visitor_token" = [])),
    responses((status = 204), (status = 404, body = crate::openapi::ErrorDoc)))]
pub async fn feedback(
    State(state): State<AppState>,
    Path((id, message_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Feedback>,
) -> ApiResult<StatusCode> {
    let conversation = visitor_conversation(&state, id, &headers, None).await?;
    state.store.record_feedback(conversation.id, message_id, body.helpful).await?;
    Ok(StatusCode::NO_CONTENT)
}
