//! The agent's tools as the admin API and the console change them: configured
//! HTTP actions (F2), the CRM fields the agent may read or update (F1), and
//! contacts' properties set by a person. The agent runs the tools
//! (`frontdesk_agent::actions`); these are the rules for saving and testing them.

use std::collections::HashMap;

use frontdesk_core::actions::{params_from_arguments, ActionDef, ParamSource};
use frontdesk_core::crm::{readable_view, validate_value, CrmField, ReadableProperty};
use frontdesk_core::lang::Lang;
use frontdesk_core::validate::ValidationError;
use frontdesk_core::values::ValueKind;
use frontdesk_store::{contact_values, ActionRow, Actor, ContactActor, ContactTarget, ContactUpdate, StoreError};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::Engine;
use frontdesk_agent::actions::ActionResult;

/// A store conflict about `field` (a name or key already taken), naming it.
fn conflict_on(field: &str) -> impl Fn(StoreError) -> Error + '_ {
    move |e| match e {
        StoreError::Conflict(m) => Error::conflict_on(field, m),
        e => e.into(),
    }
}

// ---------- actions ----------

/// Checks a new definition; the errors name their fields.
pub fn parse_action(def: ActionDef) -> Result<ActionDef> {
    def.parse().map_err(Error::invalid_all)
}

/// The network guard on a URL template being saved: a host that is, or
/// resolves to, a private or local address is refused (naming `url_template`)
/// unless `allow_private_networks` is on — the check the channels' webhook
/// URLs get (`channels::config::check_addresses`). A name that does not
/// resolve now is accepted.
///
/// The host of a saved template is always literal: `ActionDef::parse` refuses
/// a placeholder in it, so parameters fill only the path and query. Should a
/// template with a placeholder in its host ever reach this point, it cannot be
/// checked here and is left to the call. Every call is checked again when it
/// connects (`frontdesk_agent::actions`: IP literals before the request, host
/// names in the client's resolver), since a DNS answer can change after the save.
pub async fn check_url_template(def: &ActionDef, allow_private: bool) -> Result<()> {
    let t = def.url_template.trim();
    let Some((scheme, rest)) = t.split_once("://") else { return Ok(()) };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains(['{', '}']) {
        return Ok(());
    }
    let Ok(url) = url::Url::parse(&format!("{scheme}://{authority}/")) else { return Ok(()) };
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else { return Ok(()) };
    frontdesk_net::check_host(host, port, allow_private).await.map_err(|p| {
        Error::invalid_field(
            "url_template",
            format!("points to a private or local address ({}); set {} to allow it", p.ip, p.setting),
        )
    })
}

/// Checks a changed definition, keeping stored secrets that were not re-sent.
pub async fn parse_action_update(state: &Engine, id: i64, mut def: ActionDef) -> Result<ActionDef> {
    let stored = state.store.get_action(id).await?;
    def.keep_secrets_from(&stored.def);
    parse_action(def)
}

/// Validates, guards and saves a new action (audited).
pub async fn create_action(state: &Engine, actor: &Actor, def: ActionDef) -> Result<ActionRow> {
    let def = parse_action(def)?;
    check_url_template(&def, state.settings.allow_private_networks).await?;
    state.store.create_action(actor, def).await.map_err(conflict_on("name"))
}

/// Validates, guards and saves an action's new definition (audited).
pub async fn update_action(state: &Engine, actor: &Actor, id: i64, def: ActionDef) -> Result<ActionRow> {
    let def = parse_action_update(state, id, def).await?;
    check_url_template(&def, state.settings.allow_private_networks).await?;
    state.store.update_action(actor, id, def).await.map_err(conflict_on("name"))
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
/// nothing is stored). Bad values are invalid naming `values.<param>`; a
/// failed call is a result that says what happened.
pub async fn run_test(state: &Engine, id: i64, input: TestInput) -> Result<ActionResult> {
    let def = state.store.get_action(id).await?.def;
    let lang = match input.lang.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => Lang::En,
        Some(code) => Lang::from_code(code)
            .ok_or_else(|| Error::invalid_field("lang", format!("must be one of {}", Lang::codes())))?,
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
        let p = def.param(name).ok_or_else(|| Error::invalid_field(&field, "is not a parameter of this action"))?;
        let text = as_text(v).ok_or_else(|| Error::invalid_field(&field, "must be a string, number or boolean"))?;
        match &p.source {
            ParamSource::Conversation { .. } => {
                args.insert(name.clone(), Value::String(text));
            }
            ParamSource::Contact { property } => {
                readable.retain(|r| &r.key != property);
                readable.push(ReadableProperty { key: property.clone(), label: property.clone(), value: text });
            }
            ParamSource::Constant { .. } => {
                return Err(Error::invalid_field(&field, "is a constant; it cannot be set"));
            }
        }
    }
    let values = params_from_arguments(&def, &Value::Object(args), &readable).map_err(|errs| {
        Error::invalid_all(
            errs.into_iter().map(|e| ValidationError { field: format!("values.{}", e.field), ..e }).collect(),
        )
    })?;
    Ok(frontdesk_agent::actions::run(&state.agent, &def, &values, lang).await)
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
    pub fn parse(self, path_key: Option<&str>) -> Result<CrmField> {
        let key = match (path_key, self.key) {
            (Some(p), Some(k)) if k.trim() != p => {
                return Err(Error::invalid_field("key", "cannot be changed; add a new field and delete this one"))
            }
            (Some(p), _) => p.to_owned(),
            (None, Some(k)) => k,
            (None, None) => return Err(Error::invalid_field("key", "is required")),
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

/// Validates and saves a new CRM field (audited); a key taken is a conflict naming `key`.
pub async fn create_crm_field(state: &Engine, actor: &Actor, input: FieldInput) -> Result<CrmField> {
    let f = input.parse(None)?;
    state.store.create_crm_field(actor, f).await.map_err(conflict_on("key"))
}

/// Validates and saves a CRM field's change (audited); its key cannot change.
pub async fn update_crm_field(state: &Engine, actor: &Actor, key: &str, input: FieldInput) -> Result<CrmField> {
    let f = input.parse(Some(key))?;
    Ok(state.store.update_crm_field(actor, key, f).await?)
}

// ---------- contacts ----------

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
/// valid for the field's kind (invalid naming `properties.<key>`). The changes
/// and their events are written in one transaction.
pub async fn set_properties(state: &Engine, actor: &Actor, contact_id: i64, input: PropertiesInput) -> Result<Value> {
    if input.properties.is_empty() {
        return Err(Error::invalid_field("properties", "name at least one property"));
    }
    let fields: HashMap<String, CrmField> =
        state.store.list_crm_fields().await?.into_iter().map(|f| (f.key.clone(), f)).collect();
    let mut changes = Vec::new();
    for (key, v) in input.properties {
        let field = format!("properties.{key}");
        let f = fields
            .get(&key)
            .ok_or_else(|| Error::invalid_field(&field, "is not a CRM field; add it under CRM fields first"))?;
        let value = match &v {
            Value::Null => None,
            other => {
                let raw = as_text(other)
                    .ok_or_else(|| Error::invalid_field(&field, "must be a string, number, boolean or null"))?;
                Some(validate_value(f, &raw).map_err(|e| Error::invalid_field(&field, e.message))?)
            }
        };
        changes.push((key, value));
    }
    let update = ContactUpdate {
        target: ContactTarget::Contact(contact_id),
        changes,
        actor: ContactActor::User(actor.clone()),
        conversation_id: input.conversation_id,
    };
    let (contact, changed) = state.store.update_contact_properties(update).await.map_err(|e| match e {
        StoreError::Invalid(m) => Error::invalid_field("conversation_id", m),
        StoreError::NotFound("conversation") => Error::invalid_field("conversation_id", "no such conversation"),
        StoreError::Conflict(m) => Error::conflict_on("properties", m),
        e => e.into(),
    })?;
    Ok(json!({"contact": contact, "changes": changed}))
}
