//! Data formats: CSV (one section per row), JSON (one per record) and XML (its text).

use quick_xml::events::Event;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{collapse, Builder, ExtractError, Kind};
use crate::{Document, Section};

fn corrupt(kind: Kind, detail: impl std::fmt::Display) -> ExtractError {
    ExtractError::Corrupt { kind: kind.name(), detail: detail.to_string() }
}

// ---------------------------------------------------------------- CSV

/// The delimiter among `, ; \t |` that splits the first lines most consistently.
fn sniff_delimiter(text: &str) -> u8 {
    let sample: String = text.lines().take(20).collect::<Vec<_>>().join("\n");
    let mut best = (b',', 0usize);
    for delimiter in [b',', b';', b'\t', b'|'] {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(sample.as_bytes());
        let counts: Vec<usize> = reader.records().take(10).filter_map(Result::ok).map(|r| r.len()).collect();
        let Some(&first) = counts.first() else { continue };
        if first < 2 {
            continue;
        }
        let consistent = counts.iter().filter(|&&c| c == first).count();
        // Consistent rows count most, then the number of columns.
        let score = consistent * 1000 + first;
        if score > best.1 {
            best = (delimiter, score);
        }
    }
    best.0
}

/// CSV: the first row names the columns; each data row becomes "Column: value" lines.
pub(crate) fn csv(text: &str) -> Result<Document, ExtractError> {
    let delimiter = sniff_delimiter(text);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut header: Option<Vec<String>> = None;
    let mut sections = Vec::new();
    let mut row_number = 0;
    for record in reader.records() {
        let record = record.map_err(|e| corrupt(Kind::Csv, e))?;
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let Some(names) = &header else {
            header = Some(column_names(&cells));
            continue;
        };
        row_number += 1;
        if let Some(section) = record_section(names, &cells, format!("row {row_number}"), Vec::new()) {
            sections.push(section);
        }
    }
    if sections.is_empty() {
        // Only a header row: keep it as text.
        if let Some(names) = header {
            sections.push(Section { text: names.join(" | "), ..Section::default() });
        }
    }
    Ok(Document { title: None, sections, truncated: None })
}

/// Header cells as column names; blank ones become "Column N".
pub(crate) fn column_names(cells: &[String]) -> Vec<String> {
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| if c.trim().is_empty() { format!("Column {}", i + 1) } else { collapse(c) })
        .collect()
}

/// One data row as a section: "Column: value" lines, headed by its first value.
pub(crate) fn record_section(
    names: &[String],
    cells: &[String],
    locator: String,
    mut heading_path: Vec<String>,
) -> Option<Section> {
    let mut lines = Vec::new();
    for (i, value) in cells.iter().enumerate() {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let name = names.get(i).cloned().unwrap_or_else(|| format!("Column {}", i + 1));
        // Multi-line cells stay readable on one line each.
        lines.push(format!("{name}: {}", value.lines().map(str::trim).collect::<Vec<_>>().join(" ")));
    }
    if lines.is_empty() {
        return None;
    }
    if let Some(first) = cells.first().map(|c| collapse(c)).filter(|c| !c.is_empty()) {
        heading_path.push(first);
    }
    Some(Section { heading_path, locator: Some(locator), text: lines.join("\n") })
}

// ---------------------------------------------------------------- JSON

/// A JSON value that keeps object keys in file order (serde_json's map sorts them
/// unless a workspace-wide feature is turned on).
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        struct ValueVisitor;

        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
                Ok(Value::Number(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
                Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
            }
            fn visit_str<E>(self, v: &str) -> Result<Value, E> {
                Ok(Value::String(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Value, E> {
                Ok(Value::String(v))
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Value::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    entries.push((key, value));
                }
                Ok(Value::Object(entries))
            }
        }

        deserializer.deserialize_any(ValueVisitor)
    }
}

/// JSON: records (arrays of objects) one section each, everything else flattened to "key: value" lines.
pub(crate) fn json(text: &str) -> Result<Document, ExtractError> {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => json_lines(text).ok_or_else(|| corrupt(Kind::Json, error))?,
    };
    let mut sections = Vec::new();
    let mut title = None;
    match &value {
        Value::Array(items) if is_records(items) => records(items, None, &mut sections),
        Value::Object(map) if map.iter().any(|(_, v)| matches!(v, Value::Array(a) if is_records(a))) => {
            title = label(&value);
            let mut rest = Vec::new();
            for (key, v) in map {
                match v {
                    Value::Array(items) if is_records(items) => {}
                    _ => flatten(key, v, &mut rest),
                }
            }
            if !rest.is_empty() {
                sections.push(Section { text: rest.join("\n"), ..Section::default() });
            }
            for (key, v) in map {
                if let Value::Array(items) = v {
                    if is_records(items) {
                        records(items, Some(key), &mut sections);
                    }
                }
            }
        }
        _ => {
            title = label(&value);
            let mut lines = Vec::new();
            flatten("", &value, &mut lines);
            sections.push(Section { text: lines.join("\n"), ..Section::default() });
        }
    }
    Ok(Document { title, sections, truncated: None })
}

/// JSON Lines (one value per line) read as an array.
fn json_lines(text: &str) -> Option<Value> {
    let items: Vec<Value> =
        text.lines().filter(|l| !l.trim().is_empty()).map(serde_json::from_str).collect::<Result<_, _>>().ok()?;
    (items.len() > 1).then_some(Value::Array(items))
}

/// An array that is mostly objects.
fn is_records(items: &[Value]) -> bool {
    !items.is_empty() && items.iter().filter(|v| v.is_object()).count() * 2 > items.len()
}

/// A record's own name: its `name`, `title`, `label` or `id` field.
fn label(value: &Value) -> Option<String> {
    ["name", "title", "label", "id"].iter().find_map(|k| match value.get(k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn records(items: &[Value], key: Option<&str>, sections: &mut Vec<Section>) {
    for (i, item) in items.iter().enumerate() {
        let mut lines = Vec::new();
        flatten("", item, &mut lines);
        if lines.is_empty() {
            continue;
        }
        let mut heading_path: Vec<String> = key.map(str::to_string).into_iter().collect();
        heading_path.extend(label(item));
        let locator = match key {
            Some(key) => format!("{key}, item {}", i + 1),
            None => format!("item {}", i + 1),
        };
        sections.push(Section { heading_path, locator: Some(locator), text: lines.join("\n") });
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// "key: value" lines; nested keys joined with '.', arrays of scalars joined with ", ".
fn flatten(prefix: &str, value: &Value, lines: &mut Vec<String>) {
    let key = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&key(k), v, lines);
            }
        }
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
            let joined: Vec<String> = items.iter().filter_map(scalar).collect();
            if !joined.is_empty() {
                lines.push(labelled(prefix, &joined.join(", ")));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{}]", i + 1), item, lines);
            }
        }
        _ => {
            if let Some(s) = scalar(value) {
                lines.push(labelled(prefix, &s));
            }
        }
    }
}

fn labelled(key: &str, value: &str) -> String {
    if key.is_empty() {
        value.to_string()
    } else {
        format!("{key}: {value}")
    }
}

// ---------------------------------------------------------------- XML

/// XML: every text node, one unit per element's text; an XHTML document goes to the HTML reader.
pub(crate) fn xml(text: &str) -> Result<Document, ExtractError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut b = Builder::default();
    let mut current = String::new();
    let mut title: Option<String> = None;
    let mut in_title = false;
    let mut first_element = true;
    loop {
        let event = reader.read_event().map_err(|e| corrupt(Kind::Xml, xml_error(&reader, e)))?;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let local = e.local_name().as_ref().to_ascii_lowercase();
                if first_element {
                    first_element = false;
                    if local == "html" {
                        return Ok(super::html::html(text));
                    }
                }
                b.unit(&std::mem::take(&mut current));
                in_title = local == "title" && title.is_none();
            }
            Event::End(_) => {
                if in_title {
                    title = Some(collapse(&current)).filter(|t| !t.is_empty());
                    in_title = false;
                }
                b.unit(&std::mem::take(&mut current));
            }
            Event::Text(t) => current.push_str(&t.xml10_content()),
            Event::CData(t) => current.push_str(&t),
            Event::GeneralRef(r) => {
                if let Ok(Some(ch)) = r.resolve_char_ref() {
                    current.push(ch);
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r) {
                    current.push_str(s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    b.unit(&current);
    Ok(Document { title, sections: b.finish(), truncated: None })
}

fn xml_error<R>(reader: &quick_xml::Reader<R>, error: quick_xml::Error) -> String {
    format!("{error} (at byte {})", reader.error_position())
}
