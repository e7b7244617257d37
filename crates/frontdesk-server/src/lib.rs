//! Frontdesk's HTTP server: the public chat API and widget, the admin API,
//! the console, the channels' webhook endpoints, authentication, errors and
//! the OpenAPI document. The help desk itself is `frontdesk-engine`; the
//! reply decision is `frontdesk-agent`.
//!
//! `startup::Application` builds everything from [`config::Settings`] and
//! exposes the bound port, so tests can run the real server on port 0.

pub mod assets;
pub mod auth;
pub mod console;
pub mod demo;
pub mod error;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod state;
pub mod webhooks;

pub mod api;

/// The process settings (`frontdesk_engine::config`).
pub use frontdesk_engine::config;
