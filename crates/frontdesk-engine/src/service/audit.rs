//! The audit log's filter, as the admin API's query and the console's form take it.

use frontdesk_store::AuditFilter;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub entity_type: Option<String>,
    pub actor_user_id: Option<i64>,
    pub action: Option<String>,
    pub limit: Option<i64>,
}

impl AuditQuery {
    /// Empty text filters are no filter; the limit is 200 by default, 1 to 1,000.
    pub fn filter(self) -> AuditFilter {
        let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        AuditFilter {
            entity_type: nonempty(self.entity_type),
            actor_user_id: self.actor_user_id,
            action: nonempty(self.action),
            limit: self.limit.unwrap_or(200).clamp(1, 1000),
        }
    }
}
