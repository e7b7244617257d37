//! The agent's tools: configured HTTP actions (F2), the CRM fields it may
//! read or update (F1), and contacts' properties.
//!
//! The rules (validation, the network guard on URL templates, conflicts
//! naming their field) are `frontdesk_engine::service::tools`'s.
//!
//! Secret header values are write-only: reads return
//! `{"name": "Authorization", "secret": true, "set": true}`, and an update
//! that sends a secret header without a value keeps the stored one.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::actions::ActionDef;
use frontdesk_core::permissions::Permission as P;
use frontdesk_store::contact_values;
use serde_json::{json, Value};

use crate::auth::Authed;
use crate::error::{ApiJson, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::service::tools::{self as service, FieldInput, PropertiesInput, TestInput};

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::GET, "/api/v1/actions", U(P::ViewAgent), list_actions)
        .add(Method::POST, "/api/v1/actions", U(P::EditAgent), create_action)
        .add(Method::GET, "/api/v1/actions/{id}", U(P::ViewAgent), get_action)
        .add(Method::PUT, "/api/v1/actions/{id}", U(P::EditAgent), update_action)
        .add(Method::DELETE, "/api/v1/actions/{id}", U(P::EditAgent), delete_action)
        .add(Method::POST, "/api/v1/actions/{id}/test", U(P::EditAgent), test_action)
        .add(Method::GET, "/api/v1/crm/fields", U(P::ViewAgent), list_fields)
        .add(Method::POST, "/api/v1/crm/fields", U(P::EditAgent), create_field)
        .add(Method::PUT, "/api/v1/crm/fields/{key}", U(P::EditAgent), update_field)
        .add(Method::DELETE, "/api/v1/crm/fields/{key}", U(P::EditAgent), delete_field)
        .add(Method::GET, "/api/v1/contacts/{id}", U(P::ViewConversations), get_contact)
        .add(Method::PATCH, "/api/v1/contacts/{id}/properties", U(P::HandleConversations), patch_properties)
}

async fn list_actions(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_actions().await?)))
}

async fn get_action(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.get_action(id).await?)))
}

async fn create_action(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(def): ApiJson<ActionDef>,
) -> ApiResult<Response> {
    let a = service::create_action(&state, &authed.actor(), def).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(a))).into_response())
}

async fn update_action(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(def): ApiJson<ActionDef>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(service::update_action(&state, &authed.actor(), id, def).await?)))
}

async fn delete_action(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    state.store.delete_action(&authed.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn test_action(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<TestInput>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(service::run_test(&state, id, input).await?)))
}

// ---------- CRM fields ----------

async fn list_fields(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_crm_fields().await?)))
}

async fn create_field(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(input): ApiJson<FieldInput>,
) -> ApiResult<Response> {
    let f = service::create_crm_field(&state, &authed.actor(), input).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(f))).into_response())
}

async fn update_field(
    State(state): State<AppState>,
    authed: Authed,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<FieldInput>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(service::update_crm_field(&state, &authed.actor(), &key, input).await?)))
}

async fn delete_field(State(state): State<AppState>, authed: Authed, Path(key): Path<String>) -> ApiResult<StatusCode> {
    state.store.delete_crm_field(&authed.actor(), &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- contacts ----------

/// A contact with its properties, and each CRM field with its value and
/// whether the agent may read or update it.
async fn get_contact(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    let c = state.store.get_contact(id).await?;
    let values = contact_values(&c);
    let fields: Vec<Value> = state
        .store
        .list_crm_fields()
        .await?
        .into_iter()
        .map(|f| {
            let v = values.get(&f.key).cloned().unwrap_or(Value::Null);
            json!({"key": f.key, "label": f.label, "kind": f.kind, "agent_read": f.agent_read,
                   "agent_write": f.agent_write, "value": v})
        })
        .collect();
    Ok(ApiJson(json!({"contact": c, "fields": fields})))
}

async fn patch_properties(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<PropertiesInput>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(service::set_properties(&state, &authed.actor(), id, input).await?))
}
