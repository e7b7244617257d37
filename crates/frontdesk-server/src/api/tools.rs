//! The agent's tools: configured HTTP actions (F2), the CRM fields it may
//! read or update (F1), and contacts' properties.
//!
//! Secret header values are write-only: reads return
//! `{"name": "Authorization", "secret": true, "set": true}`, and an update
//! that sends a secret header without a value keeps the stored one.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::actions::{params_from_arguments, ActionDef, ParamSource};
use frontdesk_core::crm::{readable_view, validate_value, CrmField, ReadableProperty};
use frontdesk_core::lang::Lang;
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::validate::ValidationError;
use frontdesk_core::values::ValueKind;
use frontdesk_store::{contact_values, ActionRow, ContactActor, ContactTarget, ContactUpdate, StoreError};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult, Code};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_agent::actions::ActionResult;

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

/// Validation problems as one error: every problem in the message, the
/// first one's field in `field`.
pub fn validation_error(errs: Vec<ValidationError>) -> ApiError {
    let field = errs.first().map(|e| e.field.clone());
    let message = errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
    ApiError { code: Code::ValidationFailed, message, field }
}

/// A store conflict about `field` (a name or key already taken), naming it.
fn conflict_on(field: &str) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::Conflict(m) => ApiError { code: Code::Conflict, message: m, field: Some(field.to_owned()) },
        e => e.into(),
    }
}

// ---------- actions ----------

/// Checks a new definition; the errors name their fields.
pub fn parse_action(def: ActionDef) -> ApiResult<ActionDef> {
    def.parse().map_err(validation_error)
}

/// Checks a changed definition, keeping stored secrets that were not re-sent.
pub async fn parse_action_update(state: &AppState, id: i64, mut def: ActionDef) -> ApiResult<ActionDef> {
    let stored = state.store.get_action(id).await?;
    def.keep_secrets_from(&stored.def);
    parse_action(def)
}

pub async fn create(state: &AppState, authed: &Authed, def: ActionDef) -> ApiResult<ActionRow> {
    let def = parse_action(def)?;
    state.store.create_action(&authed.actor(), def).await.map_err(conflict_on("name"))
}

pub async fn update(state: &AppState, authed: &Authed, id: i64, def: ActionDef) -> ApiResult<ActionRow> {
    let def = parse_action_update(state, id, def).await?;
    state.store.update_action(&authed.actor(), id, def).await.map_err(conflict_on("name"))
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
    let a = create(&state, &authed, def).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(a))).into_response())
}

async fn update_action(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(def): ApiJson<ActionDef>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(update(&state, &authed, id, def).await?)))
}

async fn delete_action(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    state.store.delete_action(&authed.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestInput {
    /// Values by parameter name: the conversation's, and optionally the
    /// contact's (overriding the contact's properties).
    #[serde(default)]
    pub values: Map<String, Value>,
    /// Take contact parameters from this contact's readable properties.
    #[serde(default)]
    pub contact_id: Option<i64>,
    /// The language of the polite failure sentence (en, it, es, fr, de, pt, nl, sv, ru, ja, zh, ko).
    #[serde(default)]
    pub lang: Option<String>,
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Runs an action with sample values, as the agent would (a test run:
/// nothing is stored). Bad values are 422 naming `values.<param>`; a
/// failed call is a 200 whose result says what happened.
pub async fn run_test(state: &AppState, id: i64, input: TestInput) -> ApiResult<ActionResult> {
    let def = state.store.get_action(id).await?.def;
    let lang = match input.lang.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => Lang::En,
        Some(code) => Lang::from_code(code)
            .ok_or_else(|| ApiError::invalid_field("lang", format!("must be one of {}", Lang::codes())))?,
    };
    let mut readable: Vec<ReadableProperty> = match input.contact_id {
        Some(cid) => {
            let contact = state.store.get_contact(cid).await?;
            readable_view(&contact_values(&contact), &state.store.list_crm_fields().await?)
        }
        None => Vec::new(),
    };
    let mut args = Map::new();
    for (name, v) in &input.values {
        let field = format!("values.{name}");
        let p = def.param(name).ok_or_else(|| ApiError::invalid_field(&field, "is not a parameter of this action"))?;
        let text = as_text(v).ok_or_else(|| ApiError::invalid_field(&field, "must be a string, number or boolean"))?;
        match &p.source {
            ParamSource::Conversation { .. } => {
                args.insert(name.clone(), Value::String(text));
            }
            ParamSource::Contact { property } => {
                readable.retain(|r| &r.key != property);
                readable.push(ReadableProperty { key: property.clone(), label: property.clone(), value: text });
            }
            ParamSource::Constant { .. } => {
                return Err(ApiError::invalid_field(&field, "is a constant; it cannot be set"));
            }
        }
    }
    let values = params_from_arguments(&def, &Value::Object(args), &readable).map_err(|errs| {
        validation_error(
            errs.into_iter().map(|e| ValidationError { field: format!("values.{}", e.field), ..e }).collect(),
        )
    })?;
    Ok(frontdesk_agent::actions::run(&state.agent, &def, &values, lang).await)
}

async fn test_action(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<TestInput>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(run_test(&state, id, input).await?)))
}

// ---------- CRM fields ----------

/// A CRM field as sent: the key comes from the path on updates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldInput {
    #[serde(default)]
    pub key: Option<String>,
    pub label: String,
    pub kind: ValueKind,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub agent_read: bool,
    #[serde(default)]
    pub agent_write: bool,
}

impl FieldInput {
    pub fn parse(self, path_key: Option<&str>) -> ApiResult<CrmField> {
        let key = match (path_key, self.key) {
            (Some(p), Some(k)) if k.trim() != p => {
                return Err(ApiError::invalid_field("key", "cannot be changed; add a new field and delete this one"))
            }
            (Some(p), _) => p.to_owned(),
            (None, Some(k)) => k,
            (None, None) => return Err(ApiError::invalid_field("key", "is required")),
        };
        let f = CrmField {
            key,
            label: self.label,
            kind: self.kind,
            values: self.values,
            agent_read: self.agent_read,
            agent_write: self.agent_write,
        };
        Ok(f.parse()?)
    }
}

pub async fn create_crm_field(state: &AppState, authed: &Authed, input: FieldInput) -> ApiResult<CrmField> {
    let f = input.parse(None)?;
    state.store.create_crm_field(&authed.actor(), f).await.map_err(conflict_on("key"))
}

pub async fn update_crm_field(state: &AppState, authed: &Authed, key: &str, input: FieldInput) -> ApiResult<CrmField> {
    let f = input.parse(Some(key))?;
    Ok(state.store.update_crm_field(&authed.actor(), key, f).await?)
}

async fn list_fields(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_crm_fields().await?)))
}

async fn create_field(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(input): ApiJson<FieldInput>,
) -> ApiResult<Response> {
    let f = create_crm_field(&state, &authed, input).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(f))).into_response())
}

async fn update_field(
    State(state): State<AppState>,
    authed: Authed,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<FieldInput>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(update_crm_field(&state, &authed, &key, input).await?)))
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropertiesInput {
    /// New values by field key; `null` removes a value.
    pub properties: Map<String, Value>,
    /// The conversation this happened in: each change becomes one of its events.
    #[serde(default)]
    pub conversation_id: Option<i64>,
}

/// A person sets contact properties: each must be a CRM field and its value
/// valid for the field's kind (422 naming `properties.<key>`).
pub async fn set_properties(
    state: &AppState,
    authed: &Authed,
    contact_id: i64,
    input: PropertiesInput,
) -> ApiResult<Value> {
    if input.properties.is_empty() {
        return Err(ApiError::invalid_field("properties", "name at least one property"));
    }
    let fields: HashMap<String, CrmField> =
        state.store.list_crm_fields().await?.into_iter().map(|f| (f.key.clone(), f)).collect();
    let mut changes = Vec::new();
    for (key, v) in input.properties {
        let field = format!("properties.{key}");
        let f = fields
            .get(&key)
            .ok_or_else(|| ApiError::invalid_field(&field, "is not a CRM field; add it under CRM fields first"))?;
        let value = match &v {
            Value::Null => None,
            other => {
                let raw = as_text(other)
                    .ok_or_else(|| ApiError::invalid_field(&field, "must be a string, number, boolean or null"))?;
                Some(validate_value(f, &raw).map_err(|e| ApiError::invalid_field(&field, e.message))?)
            }
        };
        changes.push((key, value));
    }
    let update = ContactUpdate {
        target: ContactTarget::Contact(contact_id),
        changes,
        actor: ContactActor::User(authed.actor()),
        conversation_id: input.conversation_id,
    };
    let (contact, changed) = state.store.update_contact_properties(update).await.map_err(|e| match e {
        StoreError::Invalid(m) => ApiError::invalid_field("conversation_id", m),
        StoreError::NotFound("conversation") => ApiError::invalid_field("conversation_id", "no such conversation"),
        StoreError::Conflict(m) => ApiError { code: Code::Conflict, message: m, field: Some("properties".into()) },
        e => e.into(),
    })?;
    Ok(json!({"contact": contact, "changes": changed}))
}

async fn patch_properties(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<PropertiesInput>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(set_properties(&state, &authed, id, input).await?))
}
