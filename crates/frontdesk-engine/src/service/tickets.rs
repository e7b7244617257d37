//! Tickets: a change as the admin API and the console's ticket card send it.

use frontdesk_core::validate::bounded_text;
use frontdesk_core::workflow::{Priority, TicketStatus};
use frontdesk_store::TicketUpdate;
use serde::Deserialize;

use crate::error::{Error, Result};

/// The longest note on a ticket.
pub const MAX_NOTE_CHARS: usize = 5_000;

/// A change as sent: `{"status": "closed"}`, `{"priority": "high"}`,
/// `{"note": "Called back"}` — any of them, at least one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketInput {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

impl TicketInput {
    pub fn parse(self) -> Result<TicketUpdate> {
        let status = match self.status.as_deref() {
            None => None,
            Some(s) => {
                Some(TicketStatus::parse(s).ok_or_else(|| Error::invalid_field("status", "must be open or closed"))?)
            }
        };
        let priority = match self.priority.as_deref() {
            None => None,
            Some(p) => Some(
                Priority::parse(p)
                    .ok_or_else(|| Error::invalid_field("priority", "must be low, normal, high or urgent"))?,
            ),
        };
        let note = self.note.as_deref().map(|n| bounded_text("note", n, 1, MAX_NOTE_CHARS)).transpose()?;
        if status.is_none() && priority.is_none() && note.is_none() {
            return Err(Error::invalid_field("status", "nothing to change: send status, priority or note"));
        }
        Ok(TicketUpdate { status, priority, note })
    }
}
