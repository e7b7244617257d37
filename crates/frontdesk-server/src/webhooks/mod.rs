//! The channels' endpoints: what providers and customers' systems call
//! (email pushed as raw MIME, Meta's webhooks, custom systems). Each hands
//! the message to the engine's channel runtime (`frontdesk_engine::channels`).

pub mod custom;
pub mod email;
pub mod meta;
