//! Domain enums shared by the store, the engine and the API. Each has a
//! stable string form used in the database and in JSON.

use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// What a user may do (I2). Editing the agent also needs a paid seat.
    Role { Admin = "admin", Editor = "editor", Agent = "agent", Viewer = "viewer" }
);

string_enum!(
    /// The agent's tone of voice (A2).
    Personality {
        Friendly = "friendly",
        Professional = "professional",
        Casual = "casual",
        Empathetic = "empathetic",
        Witty = "witty",
        BrandVoice = "brand_voice",
    }
);

string_enum!(
    /// Who wrote a message.
    Author { Visitor = "visitor", Agent = "agent", Human = "human", System = "system" }
);

string_enum!(
    /// Who a conversation is assigned to.
    AssigneeKind { Agent = "agent", Human = "human", None = "none" }
);

string_enum!(
    ConversationStatus { Open = "open", Closed = "closed" }
);

string_enum!(
    /// Where a conversation came from.
    Channel {
        LiveChat = "live_chat",
        Email = "email",
        WhatsApp = "whatsapp",
        Messenger = "messenger",
        Custom = "custom",
    }
);

string_enum!(
    /// Why the agent handed a conversation to humans (E1, E2).
    HandoffTrigger {
        VisitorAsked = "visitor_asked",
        CannotAnswer = "cannot_answer",
        AgentPaused = "agent_paused",
        CustomTrigger = "custom_trigger",
        /// A topic to avoid whose handling is "hand off" (A3).
        AvoidedTopic = "avoided_topic",
        /// An action the conversation needed failed (F2).
        ActionFailed = "action_failed",
        /// A lead that qualified goes to the sales team (F3).
        QualifiedLead = "qualified_lead",
    }
);

string_enum!(
    /// Who caused an assignment change (G10 counts every one).
    AssignCause {
        /// The conversation was created and routed to its first assignee.
        Initial = "initial",
        /// The agent handed off.
        Agent = "agent",
        /// An automation rule or workflow.
        Rule = "rule",
        /// A person reassigned it by hand.
        Manual = "manual",
    }
);

string_enum!(
    /// The kind of an event in the conversation event log.
    EventKind {
        ConversationCreated = "conversation_created",
        Message = "message",
        Assigned = "assigned",
        Handoff = "handoff",
        Feedback = "feedback",
        Closed = "closed",
        Reopened = "reopened",
        ContactUpdated = "contact_updated",
        /// A ticket created from the conversation changed: created, closed,
        /// reopened, priority, note (`data.action`).
        Ticket = "ticket",
        /// The frozen resolution verdict (G6), written by the evaluation job
        /// 72 hours after the agent's last reply.
        Resolution = "resolution",
    }
);

string_enum!(
    /// When the agent asks a visitor for their email (C2).
    AskEmail { Never = "never", Start = "start", BeforeHandoff = "before_handoff" }
);

string_enum!(
    /// Where an outbound message stands (C1).
    DeliveryStatus {
        Queued = "queued",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
        /// Not sent on purpose (loop protection, nobody to address).
        Skipped = "skipped",
    }
);

string_enum!(
    Availability { Available = "available", Away = "away" }
);

string_enum!(
    JobStatus { Queued = "queued", Running = "running", Done = "done", Dead = "dead" }
);

string_enum!(
    /// The conversation lists of the console (J2).
    View { Unassigned = "unassigned", Mine = "mine", AllOpen = "open", Closed = "closed" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_forms_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        for p in Personality::ALL {
            assert_eq!(Personality::parse(p.as_str()), Some(*p));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(serde_json::to_string(&Author::Visitor).unwrap(), "\"visitor\"");
    }
}
