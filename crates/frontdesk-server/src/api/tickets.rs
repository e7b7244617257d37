//! Tickets of the help desk under `/api/v1/tickets`: the tickets a handoff
//! created from conversations (E5), listed by status, read with their
//! notes, and changed by the team (status, priority, a note). Every change
//! is a `ticket` event of the conversation.

use axum::extract::{Path, State};
use axum::http::Method;
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::workflow::TicketStatus;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::service::tickets::TicketInput;

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::GET, "/api/v1/tickets", U(P::ViewConversations), list)
        .add(Method::GET, "/api/v1/tickets/{id}", U(P::ViewConversations), get_one)
        .add(Method::PATCH, "/api/v1/tickets/{id}", U(P::HandleConversations), update)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// `open` or `closed`; all when absent.
    pub status: Option<String>,
    pub limit: Option<i64>,
}

pub fn status_filter(status: Option<&str>) -> ApiResult<Option<TicketStatus>> {
    match status.filter(|s| !s.is_empty()) {
        None | Some("all") => Ok(None),
        Some(s) => Ok(Some(
            TicketStatus::parse(s).ok_or_else(|| ApiError::invalid_field("status", "must be open, closed or all"))?,
        )),
    }
}

fn id_of(id: &str) -> ApiResult<i64> {
    id.parse::<i64>().map_err(|_| ApiError::not_found("ticket"))
}

async fn list(State(state): State<AppState>, ApiQuery(q): ApiQuery<ListQuery>) -> ApiResult<ApiJson<Value>> {
    let status = status_filter(q.status.as_deref())?;
    Ok(ApiJson(json!(state.store.list_tickets(status, q.limit.unwrap_or(100)).await?)))
}

async fn get_one(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.get_ticket(id_of(&id)?).await?)))
}

async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TicketInput>,
) -> ApiResult<ApiJson<Value>> {
    let id = id_of(&id)?;
    let update = input.parse()?;
    Ok(ApiJson(json!(state.store.update_ticket(&authed.actor(), id, update).await?)))
}
