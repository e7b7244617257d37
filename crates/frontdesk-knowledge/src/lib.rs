//! Knowledge: turning content into passages the agent can retrieve.
//!
//! Pure functions and an in-process index, no database and no network:
//! `extract` turns a file's bytes into a structured [`Document`], `chunk`
//! cuts it into [`Chunk`]s that keep their title and heading path, `lang`
//! tells each chunk's language, `index` ranks chunks with BM25 (per-language
//! stemming), and `eval` scores retrieval against labelled questions.

pub mod addressed;
pub mod answer;
pub mod chunk;
pub mod crawl;
pub mod eval;
pub mod extract;
pub mod index;
pub mod lang;
pub mod rank;

use serde::{Deserialize, Serialize};

/// Text extracted from one source, with the structure its format has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// The document's own title (HTML `<title>`/`<h1>`, front matter, first heading…).
    pub title: Option<String>,
    pub sections: Vec<Section>,
    /// Set when the text was cut at `Limits::max_text_chars`: only the first
    /// `kept` characters are indexed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncation>,
}

/// "Indexed the first `kept` characters of `total`" (`total_is_lower_bound`: the
/// reader stopped early, e.g. the pages of a PDF after the cap, so the file holds
/// at least `total`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truncation {
    pub kept: u64,
    pub total: u64,
    #[serde(default)]
    pub total_is_lower_bound: bool,
}

/// A run of text under one heading (or one slide, one sheet row…).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Headings above this text, outermost first.
    pub heading_path: Vec<String>,
    /// Where it is in the source when the format has places: "slide 3", "Sheet1, row 4", "page 2".
    pub locator: Option<String>,
    pub text: String,
}

/// A passage ready to index: small enough to rank, with its context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Position within its source, from 0.
    pub ordinal: i64,
    pub title: String,
    pub heading_path: Vec<String>,
    pub locator: Option<String>,
    pub text: String,
    /// ISO 639-1 code ("en", "it", …), or "und" when unknown.
    pub lang: String,
}
