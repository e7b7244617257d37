//! All integration tests, as modules of one binary (linked once). Each story
//! runs the real server on port 0, against SQLite and against PostgreSQL.

mod browser;
mod common;

mod admin;
mod bad_input;
mod chat;
mod console;
mod console_knowledge;
mod crawl;
mod jobs;
mod knowledge;
mod permissions;
mod restart;
mod sse;
