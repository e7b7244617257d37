//! Text extraction: a file's bytes in, a structured [`Document`] out.
//!
//! One entry point, [`extract`], picks the format from the file name
//! ([`kind_of`]), checks the bytes against the limits and the format's
//! signature, and hands them to one reader per format family:
//!
//! - `text`: Markdown, reStructuredText, plain text and config files, and
//!   [`decode_text`] which every text format goes through;
//! - `html`: HTML and XHTML, main content only (site chrome removed);
//! - `data`: CSV, JSON and XML;
//! - `office`: DOCX, PPTX, XLSX and XLS (the zip formats behind a zip-bomb guard);
//! - `pdf`: PDF through `pdf-extract`, and [`split_pages`] for `pdftotext` output.
//!
//! Every reader runs under `catch_unwind`, so a panic inside a third-party
//! parser becomes [`ExtractError::Corrupt`]; the result is normalised the same
//! way for all formats (whitespace collapsed, empty sections dropped, total
//! text capped at [`Limits::max_text_chars`]).

mod data;
mod html;
mod office;
mod pdf;
#[cfg(test)]
mod tests;
mod text;

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::{Document, Section, Truncation};

pub use pdf::split_pages;
pub use text::decode_text;

/// Limits that protect the server from hostile files (the time and memory an
/// extraction may use are the caller's: the engine runs it in a child process).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Largest accepted input, in bytes (default 50 MiB).
    pub max_bytes: usize,
    /// Largest total inflated size of an Office zip (default 200 MiB).
    pub max_uncompressed: u64,
    /// Text beyond this many characters is cut off (default 5,000,000).
    pub max_text_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 50 * 1024 * 1024, max_uncompressed: 200 * 1024 * 1024, max_text_chars: 5_000_000 }
    }
}

/// The format family of a file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Markdown,
    Rst,
    PlainText,
    Html,
    Xml,
    Csv,
    Json,
    Docx,
    Pptx,
    Xlsx,
    Xls,
    Pdf,
    Media,
}

impl Kind {
    /// The name used in error messages ("not a valid {name}").
    fn name(self) -> &'static str {
        match self {
            Kind::Markdown => "Markdown file",
            Kind::Rst => "reStructuredText file",
            Kind::PlainText => "text file",
            Kind::Html => "HTML file",
            Kind::Xml => "XML file",
            Kind::Csv => "CSV file",
            Kind::Json => "JSON file",
            Kind::Docx => "Word document (.docx)",
            Kind::Pptx => "PowerPoint presentation (.pptx)",
            Kind::Xlsx => "Excel workbook (.xlsx)",
            Kind::Xls => "Excel 97-2003 workbook (.xls)",
            Kind::Pdf => "PDF",
            Kind::Media => "media file",
        }
    }

    /// The `'static` name among the kinds' names (and the "file" and "pdf" the engine
    /// uses) equal to `name`; "file" for anything else.
    fn static_name(name: &str) -> &'static str {
        const KINDS: &[Kind] = &[
            Kind::Markdown,
            Kind::Rst,
            Kind::PlainText,
            Kind::Html,
            Kind::Xml,
            Kind::Csv,
            Kind::Json,
            Kind::Docx,
            Kind::Pptx,
            Kind::Xlsx,
            Kind::Xls,
            Kind::Pdf,
            Kind::Media,
        ];
        KINDS.iter().map(|k| k.name()).chain(["pdf"]).find(|n| *n == name).unwrap_or("file")
    }

    fn is_text(self) -> bool {
        matches!(self, Kind::Markdown | Kind::Rst | Kind::PlainText | Kind::Html | Kind::Xml | Kind::Csv | Kind::Json)
    }
}

/// Every supported file extension (lowercase, without dot), for messages and the upload form.
pub const SUPPORTED_EXTENSIONS: &[&str] = &[
    "docx", "pptx", "pdf", "html", "htm", "xhtml", "xml", "csv", "json", "md", "rst", "txt", "text", "cfg", "conf",
    "xls", "xlsx", "mp4", "mpg", "mpeg", "avi", "mov", "webm",
];

/// Why a file gave no document. Serialisable (as [`WireError`]) so that an
/// extraction run in a child process can report it to its parent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExtractError {
    #[error("unsupported file type {extension:?}: allowed types are {allowed}")]
    Unsupported { extension: String, allowed: String },
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the file is corrupt or not a valid {kind}: {detail}")]
    Corrupt { kind: &'static str, detail: String },
    #[error("the file's content does not match its extension .{extension}: {detail}")]
    Mismatch { extension: String, detail: String },
    #[error("the archive inflates beyond {limit} bytes (possible zip bomb)")]
    ZipBomb { limit: u64 },
    #[error("audio and video need a transcription engine")]
    NeedsTranscription,
    #[error("no text could be extracted")]
    NoText,
}

/// [`ExtractError`] as it crosses a process boundary (`Corrupt`'s kind as text).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum WireError {
    Unsupported { extension: String, allowed: String },
    Empty,
    TooLarge { limit: usize },
    Corrupt { kind: String, detail: String },
    Mismatch { extension: String, detail: String },
    ZipBomb { limit: u64 },
    NeedsTranscription,
    NoText,
}

impl serde::Serialize for ExtractError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireError::from(self.clone()).serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for ExtractError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        WireError::deserialize(deserializer).map(ExtractError::from)
    }
}

impl From<ExtractError> for WireError {
    fn from(e: ExtractError) -> Self {
        match e {
            ExtractError::Unsupported { extension, allowed } => WireError::Unsupported { extension, allowed },
            ExtractError::Empty => WireError::Empty,
            ExtractError::TooLarge { limit } => WireError::TooLarge { limit },
            ExtractError::Corrupt { kind, detail } => WireError::Corrupt { kind: kind.to_string(), detail },
            ExtractError::Mismatch { extension, detail } => WireError::Mismatch { extension, detail },
            ExtractError::ZipBomb { limit } => WireError::ZipBomb { limit },
            ExtractError::NeedsTranscription => WireError::NeedsTranscription,
            ExtractError::NoText => WireError::NoText,
        }
    }
}

impl From<WireError> for ExtractError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Unsupported { extension, allowed } => ExtractError::Unsupported { extension, allowed },
            WireError::Empty => ExtractError::Empty,
            WireError::TooLarge { limit } => ExtractError::TooLarge { limit },
            WireError::Corrupt { kind, detail } => ExtractError::Corrupt { kind: Kind::static_name(&kind), detail },
            WireError::Mismatch { extension, detail } => ExtractError::Mismatch { extension, detail },
            WireError::ZipBomb { limit } => ExtractError::ZipBomb { limit },
            WireError::NeedsTranscription => ExtractError::NeedsTranscription,
            WireError::NoText => ExtractError::NoText,
        }
    }
}

/// The extension of a file name: after the last '.', of the last path component, lowercase.
fn extension_of(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name).trim();
    match base.rfind('.') {
        Some(i) if i + 1 < base.len() => base[i + 1..].to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// The kind of a file from its name (extension, case-insensitive).
pub fn kind_of(file_name: &str) -> Result<Kind, ExtractError> {
    let extension = extension_of(file_name);
    let kind = match extension.as_str() {
        "md" => Kind::Markdown,
        "rst" => Kind::Rst,
        "txt" | "text" | "cfg" | "conf" => Kind::PlainText,
        "html" | "htm" | "xhtml" => Kind::Html,
        "xml" => Kind::Xml,
        "csv" => Kind::Csv,
        "json" => Kind::Json,
        "docx" => Kind::Docx,
        "pptx" => Kind::Pptx,
        "xlsx" => Kind::Xlsx,
        "xls" => Kind::Xls,
        "pdf" => Kind::Pdf,
        "mp4" | "mpg" | "mpeg" | "avi" | "mov" | "webm" => Kind::Media,
        _ => {
            let allowed = SUPPORTED_EXTENSIONS.iter().map(|e| format!(".{e}")).collect::<Vec<_>>().join(", ");
            return Err(ExtractError::Unsupported { extension, allowed });
        }
    };
    Ok(kind)
}

/// Extracts structured text. Never panics on any input (a panic inside a
/// third-party parser is caught with `std::panic::catch_unwind` and reported as
/// [`ExtractError::Corrupt`]).
pub fn extract(file_name: &str, bytes: &[u8], limits: &Limits) -> Result<Document, ExtractError> {
    let kind = kind_of(file_name)?;
    if bytes.len() > limits.max_bytes {
        return Err(ExtractError::TooLarge { limit: limits.max_bytes });
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ExtractError::Empty);
    }
    if kind == Kind::Media {
        return Err(ExtractError::NeedsTranscription);
    }
    let extension = extension_of(file_name);
    let outcome = catch_unwind(AssertUnwindSafe(|| extract_kind(kind, &extension, bytes, limits)));
    let doc = match outcome {
        Ok(result) => result?,
        Err(panic) => {
            let detail = format!("the reader crashed: {}", panic_message(&*panic));
            return Err(ExtractError::Corrupt { kind: kind.name(), detail });
        }
    };
    finish(doc, limits)
}

/// The message of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown error".to_string())
}

fn extract_kind(kind: Kind, extension: &str, bytes: &[u8], limits: &Limits) -> Result<Document, ExtractError> {
    if kind.is_text() {
        check_text_bytes(extension, bytes)?;
        let text = decode_text(bytes);
        let text = if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n") } else { text };
        if text.trim().is_empty() {
            return Err(ExtractError::Empty);
        }
        return Ok(match kind {
            Kind::Markdown => text::markdown(&text),
            Kind::Rst => text::rst(&text),
            Kind::PlainText => text::plain(&text, matches!(extension, "cfg" | "conf")),
            Kind::Html => html::html(&text),
            Kind::Xml => data::xml(&text)?,
            Kind::Csv => data::csv(&text)?,
            Kind::Json => data::json(&text)?,
            _ => unreachable!("not a text kind"),
        });
    }
    match kind {
        Kind::Docx => office::docx(bytes, extension, limits),
        Kind::Pptx => office::pptx(bytes, extension, limits),
        Kind::Xlsx | Kind::Xls => office::spreadsheet(bytes, kind, extension, limits),
        Kind::Pdf => pdf::pdf(bytes, extension, limits),
        _ => Err(ExtractError::NeedsTranscription),
    }
}

/// What the bytes look like, from their signature, for mismatch messages.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a ZIP archive (such as a .docx, .pptx or .xlsx file)"),
        (b"PK\x05\x06", "an empty ZIP archive"),
        (b"%PDF", "a PDF"),
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "an old binary Office document (.doc, .xls or .ppt)"),
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"Rar!\x1A", "a RAR archive"),
        (b"7z\xBC\xAF", "a 7-Zip archive"),
        (b"\x7FELF", "a program"),
    ];
    SIGNATURES.iter().find(|(magic, _)| bytes.starts_with(magic)).map(|(_, what)| *what)
}

/// A description of bytes that are not what their extension says.
fn describe(bytes: &[u8]) -> &'static str {
    if let Some(what) = sniff(bytes) {
        return what;
    }
    let head = &bytes[..bytes.len().min(8192)];
    if looks_binary(head) {
        return "binary data";
    }
    let text = decode_text(head);
    let lower = text.trim_start().to_ascii_lowercase();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        "HTML"
    } else if lower.starts_with("<?xml") {
        "XML"
    } else if lower.starts_with('{') || lower.starts_with('[') {
        "JSON or other text"
    } else {
        "text"
    }
}

/// Many NUL bytes (not UTF-16 text) or control characters: not a text file.
fn looks_binary(head: &[u8]) -> bool {
    if head.is_empty() || text::utf16_order(head).is_some() {
        return false;
    }
    let nuls = head.iter().filter(|&&b| b == 0).count();
    let controls = head.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B | 0)).count();
    nuls * 100 > head.len() || (nuls > 0 && nuls + controls > 8) || controls * 10 > head.len()
}

/// Text formats must be text: refuse archives, PDFs, images and other binary data.
fn check_text_bytes(extension: &str, bytes: &[u8]) -> Result<(), ExtractError> {
    let head = &bytes[..bytes.len().min(8192)];
    let detail = if let Some(what) = sniff(head) {
        format!("it is {what}")
    } else if looks_binary(head) {
        "it contains binary data, not text".to_string()
    } else {
        return Ok(());
    };
    Err(ExtractError::Mismatch { extension: extension.to_string(), detail })
}

/// Builds sections from headings and text units (paragraphs, list items, rows).
#[derive(Debug, Default)]
pub(crate) struct Builder {
    stack: Vec<(u8, String)>,
    units: Vec<String>,
    sections: Vec<Section>,
}

impl Builder {
    /// Starts a new section under a heading of this level (1 = outermost).
    pub(crate) fn heading(&mut self, level: u8, text: &str) {
        let text = collapse(text);
        if text.is_empty() {
            return;
        }
        self.flush();
        while self.stack.last().is_some_and(|(l, _)| *l >= level) {
            self.stack.pop();
        }
        self.stack.push((level, text));
    }

    /// Adds one unit of text (a paragraph, a list item, a table row…) to the current section.
    pub(crate) fn unit(&mut self, text: &str) {
        let trimmed = text.trim();
        if !trimmed.is_empty() && trimmed != "-" {
            self.units.push(trimmed.to_string());
        }
    }

    /// Ends the current section (the next units start a new one under the same headings).
    pub(crate) fn flush(&mut self) {
        if self.units.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.units).join("\n");
        let heading_path = self.stack.iter().map(|(_, h)| h.clone()).collect();
        self.sections.push(Section { heading_path, locator: None, text });
    }

    pub(crate) fn finish(mut self) -> Vec<Section> {
        self.flush();
        self.sections
    }
}

/// Collapses every run of whitespace into one space and trims.
pub(crate) fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_whitespace() || is_invisible(c)) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().filter(|c| !c.is_control()));
    }
    out
}

/// Zero-width and other characters that only get in the way of search.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}')
}

/// Collapses spaces within lines, drops blank lines: paragraphs end up one per line.
pub(crate) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = collapse(line);
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&line);
    }
    out
}

/// Cuts a heading to a sensible length (a long CSV cell can end up as a heading).
fn clip_heading(text: &str) -> String {
    const MAX: usize = 200;
    let text = collapse(text);
    if text.chars().count() <= MAX {
        return text;
    }
    let mut cut: String = text.chars().take(MAX).collect();
    if let Some(space) = cut.rfind(' ') {
        if space > MAX / 2 {
            cut.truncate(space);
        }
    }
    cut.push('…');
    cut
}

/// Normalises every section, drops the empty ones and caps the total text; a
/// cut is recorded in [`Document::truncated`] (kept and total characters), never silent.
fn finish(doc: Document, limits: &Limits) -> Result<Document, ExtractError> {
    let title = doc.title.map(|t| clip_heading(&t)).filter(|t| !t.is_empty());
    let mut budget = limits.max_text_chars;
    let mut kept = 0u64;
    let mut total = 0u64;
    let mut sections = Vec::with_capacity(doc.sections.len());
    for section in doc.sections {
        let mut text = normalize(&section.text);
        if text.is_empty() {
            continue;
        }
        let chars = text.chars().count();
        total += chars as u64;
        if budget == 0 {
            continue; // Counted, not kept.
        }
        if chars > budget {
            let end = text.char_indices().nth(budget).map_or(text.len(), |(i, _)| i);
            text.truncate(end);
            text = text.trim_end().to_string();
            budget = 0;
        } else {
            budget -= chars;
        }
        kept += text.chars().count() as u64;
        let heading_path = section.heading_path.iter().map(|h| clip_heading(h)).filter(|h| !h.is_empty()).collect();
        let locator = section.locator.map(|l| collapse(&l)).filter(|l| !l.is_empty());
        sections.push(Section { heading_path, locator, text });
    }
    if sections.is_empty() {
        return Err(ExtractError::NoText);
    }
    let lower_bound = doc.truncated.is_some_and(|t| t.total_is_lower_bound);
    let truncated =
        (total > kept || lower_bound).then_some(Truncation { kept, total, total_is_lower_bound: lower_bound });
    Ok(Document { title, sections, truncated })
}
