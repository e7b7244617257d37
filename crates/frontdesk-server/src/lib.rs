//! Frontdesk's HTTP server: the public chat API and widget, the admin API,
//! the console, the conversation engine and the job worker.
//!
//! `startup::Application` builds everything from [`config::Settings`] and
//! exposes the bound port, so tests can run the real server on port 0.

pub mod ask_email;
pub mod assets;
pub mod auth;
pub mod bots;
pub mod channels;
pub mod config;
pub mod console;
pub mod crawler;
pub mod credits;
pub mod demo;
pub mod engine;
pub mod error;
pub mod handoff;
pub mod hub;
pub mod ingest;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod reports;
pub mod routes;
pub mod startup;
pub mod state;
pub mod transcribe;

pub mod api;
