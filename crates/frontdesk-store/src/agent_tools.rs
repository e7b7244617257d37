//! Storage of the agent's tools: configured HTTP actions (F2), the contact
//! properties the agent may read or update (F1), and contact property
//! updates with their events.

use async_trait::async_trait;
use frontdesk_core::actions::ActionDef;
use frontdesk_core::crm::CrmField;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::{Actor, Contact, StoreResult};

/// A stored action. Serialising it never shows secret header values
/// (see [`frontdesk_core::actions::Header`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRow {
    #[serde(flatten)]
    pub def: ActionDef,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Who changes a contact's properties.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactActor {
    /// The agent, from what the visitor said (always within a conversation).
    Agent,
    /// A person, from the console or the API.
    User(Actor),
}

/// Which contact to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactTarget {
    Contact(i64),
    /// The conversation's contact; an anonymous visitor's contact is created
    /// (and linked to the conversation) in the same transaction.
    Conversation(i64),
}

/// New values for some properties of a contact. Values are already
/// validated (see `frontdesk_core::crm::validate_value`); `None` removes one.
/// Keys `email`, `name` and `phone` are the contact's own columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactUpdate {
    pub target: ContactTarget,
    pub changes: Vec<(String, Option<String>)>,
    pub actor: ContactActor,
    /// The conversation the change happened in: each changed property is a
    /// `contact_updated` event of it. Required for the agent; for a person,
    /// without one the change is recorded in the audit log only.
    pub conversation_id: Option<i64>,
}

/// One property that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyChange {
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The contact as one JSON object: its columns (`email`, `name`, `phone`)
/// and its properties — what `frontdesk_core::crm::readable_view` reads.
pub fn contact_values(c: &Contact) -> Value {
    let mut m: Map<String, Value> = match &c.properties {
        Value::Object(o) => o.clone(),
        _ => Map::new(),
    };
    for (k, v) in [("email", &c.email), ("name", &c.name), ("phone", &c.phone)] {
        match v {
            Some(v) => m.insert(k.to_owned(), Value::String(v.clone())),
            None => m.remove(k),
        };
    }
    Value::Object(m)
}

#[async_trait]
pub trait ToolStore: Send + Sync {
    // Actions (F2). Definitions arrive checked (`ActionDef::parse`). Changes
    // are audited (secrets never appear) and bump the content version.
    async fn list_actions(&self) -> StoreResult<Vec<ActionRow>>;
    /// The action with its secret header values (for calling it).
    async fn get_action(&self, id: i64) -> StoreResult<ActionRow>;
    async fn get_action_by_name(&self, name: &str) -> StoreResult<ActionRow>;
    async fn create_action(&self, actor: &Actor, def: ActionDef) -> StoreResult<ActionRow>;
    /// Replaces the definition; a secret header sent without a value keeps its stored value.
    async fn update_action(&self, actor: &Actor, id: i64, def: ActionDef) -> StoreResult<ActionRow>;
    async fn delete_action(&self, actor: &Actor, id: i64) -> StoreResult<()>;

    // CRM fields (F1): audited, bump the content version.
    async fn list_crm_fields(&self) -> StoreResult<Vec<CrmField>>;
    async fn create_crm_field(&self, actor: &Actor, field: CrmField) -> StoreResult<CrmField>;
    /// Replaces the field at `key` (the key itself does not change).
    async fn update_crm_field(&self, actor: &Actor, key: &str, field: CrmField) -> StoreResult<CrmField>;
    async fn delete_crm_field(&self, actor: &Actor, key: &str) -> StoreResult<()>;

    // Contacts
    async fn contact_for_conversation(&self, conversation_id: i64) -> StoreResult<Option<Contact>>;
    /// Writes the changed properties and, in the same transaction, one
    /// `contact_updated` event per changed property (before, after, who) and,
    /// for a person, an audit row. Unchanged values write nothing.
    async fn update_contact_properties(&self, update: ContactUpdate) -> StoreResult<(Contact, Vec<PropertyChange>)>;
}
