//! PDF through `pdf-extract`, page by page; [`split_pages`] for `pdftotext` output.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pdf_extract::{Dictionary, Document as Pdf, Object, ObjectId};

use super::{describe, panic_message, ExtractError, Kind, Limits};
use crate::{Document, Section};

/// Splits text on form feeds ('\x0c', as `pdftotext` ends each page) into
/// sections with locator "page N"; empty pages are skipped but still counted.
pub fn split_pages(text: &str) -> Vec<Section> {
    text.split('\x0c')
        .enumerate()
        .filter_map(|(i, page)| {
            let text = super::normalize(page);
            (!text.is_empty()).then(|| Section {
                heading_path: Vec::new(),
                locator: Some(format!("page {}", i + 1)),
                text,
            })
        })
        .collect()
}

fn corrupt(detail: impl std::fmt::Display) -> ExtractError {
    ExtractError::Corrupt { kind: Kind::Pdf.name(), detail: detail.to_string() }
}

/// PDF: one section per page with text ("page N"). A PDF without a text layer
/// (scanned) or that the reader cannot parse is reported as corrupt, with the reason.
pub(crate) fn pdf(bytes: &[u8], extension: &str, limits: &Limits) -> Result<Document, ExtractError> {
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(4).any(|w| w == b"%PDF") {
        return Err(ExtractError::Mismatch {
            extension: extension.to_string(),
            detail: format!("it is not a PDF (it looks like {})", describe(bytes)),
        });
    }
    let mut doc = pdf_extract::Document::load_mem(bytes).map_err(|e| corrupt(format!("cannot read the PDF: {e}")))?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(corrupt("the PDF is encrypted with a password"));
    }
    check_structure(&doc).map_err(corrupt)?;
    let mut sections = Vec::new();
    let mut first_error: Option<String> = None;
    let mut chars = 0usize;
    let mut stopped_early = false;
    for page in doc.get_pages().keys().copied() {
        if chars > limits.max_text_chars {
            // The pages after the cap are not read: the total is a lower bound.
            stopped_early = true;
            break;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut text = String::new();
            let mut output = pdf_extract::PlainTextOutput::new(&mut text);
            pdf_extract::output_doc_page(&doc, &mut output, page).map(|()| text)
        }));
        let text = match outcome {
            Ok(Ok(text)) => text,
            Ok(Err(error)) => {
                first_error.get_or_insert_with(|| format!("page {page}: {error}"));
                continue;
            }
            Err(panic) => {
                first_error
                    .get_or_insert_with(|| format!("page {page}: the reader crashed: {}", panic_message(&*panic)));
                continue;
            }
        };
        let text = super::normalize(&text);
        if !text.is_empty() {
            chars += text.len();
            sections.push(Section { heading_path: Vec::new(), locator: Some(format!("page {page}")), text });
        }
    }
    if sections.is_empty() {
        return Err(corrupt(first_error.unwrap_or_else(|| "no text found (a scanned PDF needs OCR)".to_string())));
    }
    let truncated = stopped_early.then_some(crate::Truncation { kept: 0, total: 0, total_is_lower_bound: true });
    Ok(Document { title: None, sections, truncated })
}

// pdf-extract follows a page's /Parent chain and runs form XObjects (`Do`) by
// recursion, with no guard: a page tree whose node is its own parent, or a form
// that draws itself, overflows the stack and aborts the whole process, which
// `catch_unwind` cannot stop. These checks refuse such files before it runs.

/// How deeply forms may draw forms (real documents use a handful of levels).
const MAX_FORM_DEPTH: usize = 32;
/// How many form visits the check may make in all, so that it stays fast.
const MAX_FORM_VISITS: usize = 100_000;
/// How long a /Parent chain may be.
const MAX_PARENTS: usize = 256;

fn deref<'a>(doc: &'a Pdf, object: &'a Object) -> Option<&'a Object> {
    doc.dereference(object).ok().map(|(_, o)| o)
}

/// A dictionary entry, dereferenced, as a dictionary (a stream's dictionary too).
fn dict_entry<'a>(doc: &'a Pdf, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Dictionary> {
    match deref(doc, dict.get(key).ok()?)? {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

/// Refuses page trees with a /Parent cycle and forms that draw themselves (or nest too deeply).
fn check_structure(doc: &Pdf) -> Result<(), String> {
    let mut memo: HashMap<(ObjectId, ObjectId), usize> = HashMap::new();
    let mut visits = 0usize;
    for page_id in doc.get_pages().into_values() {
        // The /Parent chain, and the node whose /Resources the page uses.
        let mut seen = Vec::new();
        let mut node = page_id;
        let mut resources: Option<(ObjectId, &Dictionary)> = None;
        loop {
            if seen.contains(&node) || seen.len() > MAX_PARENTS {
                return Err("the page tree loops (a page is its own ancestor)".to_string());
            }
            seen.push(node);
            let Some(dict) = doc.get_object(node).ok().and_then(|o| o.as_dict().ok()) else { break };
            if resources.is_none() {
                resources = dict_entry(doc, dict, b"Resources").map(|r| (node, r));
            }
            match dict.get(b"Parent").ok().and_then(|p| p.as_reference().ok()) {
                Some(parent) => node = parent,
                None => break,
            }
        }
        if let Some((owner, resources)) = resources {
            for form in forms_in(doc, resources) {
                form_height(doc, form, (owner, resources), 1, &mut Vec::new(), &mut memo, &mut visits)?;
            }
        }
    }
    Ok(())
}

/// The form XObjects a resource dictionary names.
fn forms_in(doc: &Pdf, resources: &Dictionary) -> Vec<ObjectId> {
    let Some(xobjects) = dict_entry(doc, resources, b"XObject") else { return Vec::new() };
    xobjects
        .iter()
        .filter_map(|(_, value)| {
            let id = value.as_reference().ok()?;
            let stream = doc.get_object(id).ok()?.as_stream().ok()?;
            let subtype = stream.dict.get(b"Subtype").ok().and_then(|s| s.as_name().ok());
            (subtype == Some(b"Form".as_slice())).then_some(id)
        })
        .collect()
}

/// The nesting height below a form drawn with the given (inherited) resources.
/// Recursion is bounded by `MAX_FORM_DEPTH`.
fn form_height<'a>(
    doc: &'a Pdf,
    form: ObjectId,
    inherited: (ObjectId, &'a Dictionary),
    depth: usize,
    path: &mut Vec<ObjectId>,
    memo: &mut HashMap<(ObjectId, ObjectId), usize>,
    visits: &mut usize,
) -> Result<usize, String> {
    if path.contains(&form) {
        return Err("a form XObject draws itself".to_string());
    }
    let Some(stream) = doc.get_object(form).ok().and_then(|o| o.as_stream().ok()) else { return Ok(0) };
    // A form uses its own resources, else those of whatever draws it.
    let resources = dict_entry(doc, &stream.dict, b"Resources").map_or(inherited, |r| (form, r));
    let key = (form, resources.0);
    if let Some(&height) = memo.get(&key) {
        return if depth + height > MAX_FORM_DEPTH {
            Err("form XObjects nest too deeply".to_string())
        } else {
            Ok(height)
        };
    }
    if depth > MAX_FORM_DEPTH {
        return Err("form XObjects nest too deeply".to_string());
    }
    *visits += 1;
    if *visits > MAX_FORM_VISITS {
        return Err("too many nested form XObjects".to_string());
    }
    path.push(form);
    let mut height = 0;
    for child in forms_in(doc, resources.1) {
        height = height.max(1 + form_height(doc, child, resources, depth + 1, path, memo, visits)?);
    }
    path.pop();
    memo.insert(key, height);
    Ok(height)
}
