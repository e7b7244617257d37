//! Frontdesk's help desk, below HTTP: conversations and turns, handoff and
//! routing, bots, asking for the email, credits, working hours, reports and
//! the resolution job, the typed job queue and its worker, the channels'
//! runtime (receive, deliver, IMAP/SMTP, Graph API, webhooks out), knowledge
//! ingestion (sync, crawl, transcription) and the live hub.
//!
//! Everything runs on an [`Engine`]: the store, the settings, the hub, the
//! metrics and the agent's [`frontdesk_agent::Context`]. The engine calls the
//! agent to reply; the agent never calls the engine. It returns its own
//! [`error::Error`]; the server turns it into HTTP errors at the edge.

pub mod ask_email;
pub mod bots;
pub mod channels;
pub mod config;
pub mod conversation;
pub mod crawler;
pub mod credits;
pub mod error;
pub mod extract_child;
pub mod handoff;
pub mod hub;
pub mod ingest;
pub mod job;
pub mod metrics;
pub mod reports;
pub mod service;
pub mod state;
pub mod tokens;
pub mod totp;
pub mod transcribe;
pub mod worker;

pub use error::{Error, Result};
pub use state::Engine;
