//! Frontdesk's help desk, below HTTP: conversations and turns, handoff and
//! routing, bots, credits, hours, reports, the typed job queue, the channels'
//! runtime and knowledge ingestion. It returns its own [`error::Error`]; the
//! server turns it into HTTP errors at the edge.

pub mod error;
pub mod job;
pub mod tokens;
