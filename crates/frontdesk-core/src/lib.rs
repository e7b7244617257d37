//! Frontdesk's domain logic: plain Rust, no I/O, tested directly.
//!
//! Everything here is deterministic and synchronous; the server and the store
//! crates do the I/O around it.

pub mod actions;
pub mod agent_tests;
pub mod ask_email;
pub mod bot;
pub mod credits;
pub mod crm;
pub mod gaps;
pub mod guard;
pub mod handoff;
pub mod hours;
pub mod lang;
pub mod leads;
pub mod links;
pub mod model;
pub mod permissions;
pub mod persona;
pub mod proxies;
pub mod reports;
pub mod responder;
pub mod routing;
pub mod short_answers;
pub mod text;
pub mod throttle;
pub mod validate;
pub mod values;
pub mod workflow;
