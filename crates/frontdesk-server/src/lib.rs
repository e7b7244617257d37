//! Frontdesk's HTTP server: the public chat API and widget, the admin API,
//! the console, the channels' webhook endpoints, authentication, errors and
//! the OpenAPI document. The help desk itself is `frontdesk-engine`; the
//! reply decision is `frontdesk-agent`.
//!
//! `startup::Application` builds everything from [`config::Settings`] and
//! exposes the bound port, so tests can run the real server on port 0.

// The public face: what the binary (`crates/frontdesk`) and the tests use.
pub mod demo;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod state;
pub mod webhooks;

// HTTP internals.
mod api;
mod assets;
mod auth;
mod console;
mod error;
pub mod markdown;
mod security;
mod upload;

/// The process settings (`frontdesk_engine::config`).
pub use frontdesk_engine::config;
