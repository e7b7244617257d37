//! All integration tests, as modules of one binary (linked once). Each story
//! runs the real server on port 0, against SQLite and against PostgreSQL.

mod browser;
mod common;

mod actions;
mod admin;
mod agent;
mod agent_tools;
mod bad_input;
mod bots;
mod chat;
mod console;
mod console_agent;
mod console_channels;
mod console_knowledge;
mod console_reports;
mod crawl;
mod credits;
mod crm;
mod custom_channels;
mod decision;
mod email_channels;
mod gaps;
mod handoff;
mod hours;
mod injection;
mod jobs;
mod knowledge;
mod leads;
mod llm;
mod login;
mod messaging;
mod meta_channels;
mod metrics;
mod permissions;
mod reports;
mod restart;
mod security;
mod sse;
mod transcribe;
mod workflows;
