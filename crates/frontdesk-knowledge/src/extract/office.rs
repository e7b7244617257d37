//! Office formats: DOCX, PPTX, XLSX (zip packages behind a zip-bomb guard) and XLS.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xls, Xlsx};
use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;

use super::data::{column_names, record_section};
use super::{collapse, decode_text, describe, Builder, ExtractError, Kind, Limits};
use crate::{Document, Section};

const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

fn corrupt(kind: Kind, detail: impl std::fmt::Display) -> ExtractError {
    ExtractError::Corrupt { kind: kind.name(), detail: detail.to_string() }
}

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// A password-protected .docx/.pptx/.xlsx: an OLE container holding an "EncryptedPackage" stream.
fn is_encrypted_ooxml(bytes: &[u8]) -> bool {
    const NAME: &[u8] = b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";
    bytes.starts_with(OLE_MAGIC) && bytes.windows(NAME.len()).any(|w| w == NAME)
}

/// An Office zip package; every part is read through what is left of the inflation budget.
struct Package<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    kind: Kind,
    budget: u64,
    limit: u64,
}

/// A sink that keeps the first 4 KiB written to it and counts the rest.
struct Head {
    bytes: Vec<u8>,
    size: u64,
}

impl std::io::Write for Head {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = 4096usize.saturating_sub(self.bytes.len());
        self.bytes.extend_from_slice(&buf[..room.min(buf.len())]);
        self.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A relationship from a part to another (already resolved to a path in the package).
struct Rel {
    id: String,
    kind: String,
    target: String,
}

impl<'a> Package<'a> {
    /// Opens the zip and refuses it when its directory announces more than the limit.
    fn open(bytes: &'a [u8], kind: Kind, extension: &str, limits: &Limits) -> Result<Self, ExtractError> {
        if is_encrypted_ooxml(bytes) {
            return Err(corrupt(kind, "the document is protected with a password; save a copy without one"));
        }
        if !is_zip(bytes) {
            return Err(ExtractError::Mismatch {
                extension: extension.to_string(),
                detail: format!("it is not a {} (it looks like {})", kind.name(), describe(bytes)),
            });
        }
        let mut zip =
            ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(kind, format!("not a valid ZIP archive: {e}")))?;
        let limit = limits.max_uncompressed;
        let mut announced = 0u64;
        for i in 0..zip.len() {
            let entry = zip.by_index_raw(i).map_err(|e| corrupt(kind, format!("damaged ZIP entry: {e}")))?;
            announced = announced.saturating_add(entry.size());
            if announced > limit {
                return Err(ExtractError::ZipBomb { limit });
            }
        }
        Ok(Package { zip, kind, budget: limit, limit })
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.zip.index_for_name(name).or_else(|| {
            // Some writers differ in case ("Word/Document.xml").
            (0..self.zip.len())
                .find(|&i| matches!(self.zip.name_for_index(i), Some(Ok(n)) if n.eq_ignore_ascii_case(name)))
        })
    }

    fn has(&self, name: &str) -> bool {
        self.index_of(name).is_some()
    }

    /// Inflates one part, never beyond the budget left.
    fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, ExtractError> {
        let Some(index) = self.index_of(name) else { return Ok(None) };
        let kind = self.kind;
        let entry = self.zip.by_index(index).map_err(|e| corrupt(kind, format!("cannot open {name}: {e}")))?;
        let mut out = Vec::new();
        entry
            .take(self.budget.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| corrupt(kind, format!("cannot inflate {name}: {e}")))?;
        let size = out.len() as u64;
        if size > self.budget {
            return Err(ExtractError::ZipBomb { limit: self.limit });
        }
        self.budget -= size;
        Ok(Some(out))
    }

    fn read_text(&mut self, name: &str) -> Result<Option<String>, ExtractError> {
        Ok(self.read(name)?.map(|bytes| decode_text(&bytes)))
    }

    /// Inflates every entry (to nowhere) to prove the whole package stays within the budget,
    /// for readers (calamine) that inflate parts themselves. Returns each entry's name,
    /// first bytes and inflated size.
    fn verify_all(&mut self) -> Result<Vec<(String, Vec<u8>, u64)>, ExtractError> {
        let kind = self.kind;
        let mut parts = Vec::with_capacity(self.zip.len());
        for i in 0..self.zip.len() {
            let entry = self.zip.by_index(i).map_err(|e| corrupt(kind, format!("damaged ZIP entry: {e}")))?;
            let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
            let mut head = Head { bytes: Vec::new(), size: 0 };
            std::io::copy(&mut entry.take(self.budget.saturating_add(1)), &mut head)
                .map_err(|e| corrupt(kind, format!("cannot inflate {name}: {e}")))?;
            if head.size > self.budget {
                return Err(ExtractError::ZipBomb { limit: self.limit });
            }
            self.budget -= head.size;
            parts.push((name, head.bytes, head.size));
        }
        Ok(parts)
    }

    /// The relationships of a part ("" for the package's own).
    fn rels(&mut self, part: &str) -> Result<Vec<Rel>, ExtractError> {
        let (dir, file) = match part.rfind('/') {
            Some(i) => (&part[..=i], &part[i + 1..]),
            None => ("", part),
        };
        let Some(xml) = self.read_text(&format!("{dir}_rels/{file}.rels"))? else { return Ok(Vec::new()) };
        let mut rels = Vec::new();
        let mut reader = quick_xml::Reader::from_str(&xml);
        loop {
            match reader.read_event() {
                Ok(Event::Start(e) | Event::Empty(e)) if local(&e) == "Relationship" => {
                    if attr(&e, "TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("External")) {
                        continue;
                    }
                    let (Some(id), Some(kind), Some(target)) = (attr(&e, "Id"), attr(&e, "Type"), attr(&e, "Target"))
                    else {
                        continue;
                    };
                    rels.push(Rel { id, kind, target: resolve(dir, &target) });
                }
                Ok(Event::Eof) | Err(_) => break,
                _ => {}
            }
        }
        Ok(rels)
    }

    /// The part a relationship of this type points to.
    fn related(&mut self, part: &str, type_suffix: &str) -> Result<Option<String>, ExtractError> {
        Ok(self.rels(part)?.into_iter().find(|r| r.kind.ends_with(type_suffix)).map(|r| r.target))
    }

    /// `dc:title` from docProps/core.xml.
    fn core_title(&mut self) -> Result<Option<String>, ExtractError> {
        let Some(xml) = self.read_text("docProps/core.xml")? else { return Ok(None) };
        let mut reader = quick_xml::Reader::from_str(&xml);
        let mut in_title = false;
        let mut title = String::new();
        loop {
            match reader.read_event() {
                Ok(Event::Start(e)) => in_title = local(&e) == "title",
                Ok(Event::Text(t)) if in_title => title.push_str(&t.xml10_content()),
                Ok(Event::GeneralRef(r)) if in_title => push_ref(&mut title, &r),
                Ok(Event::End(_)) if in_title => break,
                Ok(Event::Eof) | Err(_) => break,
                _ => {}
            }
        }
        Ok(Some(collapse(&title)).filter(|t| !t.is_empty()))
    }
}

/// A relationship target resolved against the source part's folder.
fn resolve(dir: &str, target: &str) -> String {
    if let Some(absolute) = target.strip_prefix('/') {
        return absolute.to_string();
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for piece in target.split('/') {
        match piece {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// The local name of an element ("w:p" → "p").
fn local(e: &BytesStart) -> String {
    e.local_name().as_ref().to_string()
}

/// An attribute's value by local name ("w:val" or "val" → `val`).
fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes().with_checks(false).flatten().find_map(|a| {
        let key = a.key.as_ref().to_string();
        let key_local = key.rsplit(':').next().unwrap_or(&key);
        (key_local == name).then(|| attr_value(&a))
    })
}

/// An attribute by its full (prefixed) name, for attributes whose local name is ambiguous.
fn attr_full(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes().with_checks(false).flatten().find_map(|a| (a.key.as_ref() == name).then(|| attr_value(&a)))
}

fn attr_value(a: &quick_xml::events::attributes::Attribute) -> String {
    a.normalized_value(quick_xml::XmlVersion::Implicit1_0).map(|v| v.into_owned()).unwrap_or_default()
}

fn push_ref(out: &mut String, r: &quick_xml::events::BytesRef) {
    if let Ok(Some(ch)) = r.resolve_char_ref() {
        out.push(ch);
    } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(r) {
        out.push_str(s);
    }
}

/// Cells and rows of (possibly nested) tables: a row becomes "cell | cell".
#[derive(Default)]
struct Tables {
    rows: Vec<Vec<String>>,
    cells: Vec<String>,
}

impl Tables {
    fn in_cell(&self) -> bool {
        !self.cells.is_empty()
    }

    fn push_text(&mut self, text: &str) {
        if let Some(cell) = self.cells.last_mut() {
            cell.push_str(text);
            cell.push(' ');
        }
    }

    fn end_cell(&mut self) {
        let cell = collapse(&self.cells.pop().unwrap_or_default());
        match self.rows.last_mut() {
            Some(row) => row.push(cell),
            None => self.push_text(&cell),
        }
    }

    /// Ends a row: its text, unless the row belongs to a table nested in a cell.
    fn end_row(&mut self) -> Option<String> {
        let row = self.rows.pop().unwrap_or_default();
        let row = row.into_iter().filter(|c| !c.is_empty()).collect::<Vec<_>>().join(" | ");
        if self.in_cell() {
            self.push_text(&row);
            None
        } else {
            Some(row)
        }
    }
}

// ---------------------------------------------------------------- DOCX

/// Heading level of each paragraph style (0 = Title), from word/styles.xml.
fn style_levels(xml: &str) -> HashMap<String, u8> {
    struct Style {
        name: Option<String>,
        outline: Option<u8>,
        based_on: Option<String>,
    }
    let mut styles: HashMap<String, Style> = HashMap::new();
    let mut current: Option<(String, Style)> = None;
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => match local(&e).as_str() {
                "style" => {
                    if let Some((id, style)) = current.take() {
                        styles.insert(id, style);
                    }
                    current = attr(&e, "styleId").map(|id| (id, Style { name: None, outline: None, based_on: None }));
                }
                "name" => {
                    if let Some((_, style)) = &mut current {
                        style.name = attr(&e, "val");
                    }
                }
                "basedOn" => {
                    if let Some((_, style)) = &mut current {
                        style.based_on = attr(&e, "val");
                    }
                }
                "outlineLvl" => {
                    if let Some((_, style)) = &mut current {
                        style.outline = attr(&e, "val").and_then(|v| v.parse::<u8>().ok()).filter(|l| *l < 9);
                    }
                }
                _ => {}
            },
            Ok(Event::End(e)) if e.local_name().as_ref() == "style" => {
                if let Some((id, style)) = current.take() {
                    styles.insert(id, style);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    let own = |style: &Style| -> Option<u8> {
        let name = style.name.as_deref().unwrap_or("").to_ascii_lowercase();
        if name == "title" {
            return Some(0);
        }
        if let Some(n) = name.strip_prefix("heading").map(str::trim).and_then(|n| n.parse::<u8>().ok()) {
            return Some(n.clamp(1, 9));
        }
        style.outline.map(|o| o + 1)
    };
    let mut levels = HashMap::new();
    for id in styles.keys() {
        let mut cursor = Some(id.as_str());
        for _ in 0..10 {
            let Some(style) = cursor.and_then(|c| styles.get(c)) else { break };
            if let Some(level) = own(style) {
                levels.insert(id.clone(), level);
                break;
            }
            cursor = style.based_on.as_deref();
        }
    }
    levels
}

/// A heading level from a style id alone ("Heading2", "Title").
fn level_from_style_id(id: &str) -> Option<u8> {
    let id = id.to_ascii_lowercase();
    if id == "title" {
        return Some(0);
    }
    id.strip_prefix("heading").map(str::trim).and_then(|n| n.parse::<u8>().ok()).filter(|n| (1..=9).contains(n))
}

/// DOCX: paragraphs, headings from paragraph styles (Title, Heading 1–9), tables as rows.
pub(crate) fn docx(bytes: &[u8], extension: &str, limits: &Limits) -> Result<Document, ExtractError> {
    let mut pkg = Package::open(bytes, Kind::Docx, extension, limits)?;
    let main = pkg.related("", "/officeDocument")?.filter(|p| pkg.has(p)).unwrap_or_else(|| "word/document.xml".into());
    let Some(xml) = pkg.read_text(&main)? else {
        return Err(corrupt(Kind::Docx, "the package has no word/document.xml"));
    };
    let styles_part = pkg.related(&main, "/styles")?.unwrap_or_else(|| "word/styles.xml".into());
    let levels = pkg.read_text(&styles_part)?.map(|s| style_levels(&s)).unwrap_or_default();
    let core_title = pkg.core_title()?;

    let mut b = Builder::default();
    let mut tables = Tables::default();
    let mut title: Option<String> = None;
    let mut first_heading: Option<String> = None;
    let mut para = String::new();
    let mut level: Option<u8> = None;
    let mut listed = false;
    let mut in_text = false;
    let mut fallback = 0usize;
    let mut reader = quick_xml::Reader::from_str(&xml);
    loop {
        let event = reader.read_event().map_err(|e| corrupt(Kind::Docx, format!("{main}: {e}")))?;
        match event {
            Event::Start(e) if local(&e) == "Fallback" => fallback += 1,
            Event::End(e) if e.local_name().as_ref() == "Fallback" => {
                fallback = fallback.saturating_sub(1);
            }
            _ if fallback > 0 => {}
            Event::Start(e) | Event::Empty(e) => match local(&e).as_str() {
                "p" => {
                    para.clear();
                    level = None;
                    listed = false;
                }
                "pStyle" => {
                    if let Some(id) = attr(&e, "val") {
                        level = levels.get(&id).copied().or_else(|| level_from_style_id(&id)).or(level);
                    }
                }
                "outlineLvl" if level.is_none() => {
                    level = attr(&e, "val").and_then(|v| v.parse::<u8>().ok()).filter(|l| *l < 9).map(|l| l + 1);
                }
                "numPr" => listed = true,
                "t" => in_text = true,
                "tab" | "ptab" => para.push(' '),
                "br" | "cr" => para.push('\n'),
                "noBreakHyphen" => para.push('-'),
                "tr" => tables.rows.push(Vec::new()),
                "tc" => tables.cells.push(String::new()),
                _ => {}
            },
            Event::Text(t) if in_text => para.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text => push_ref(&mut para, &r),
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => {
                    let text = std::mem::take(&mut para);
                    if tables.in_cell() {
                        tables.push_text(&text);
                    } else if let Some(level) = level.filter(|_| !text.trim().is_empty()) {
                        if level == 0 {
                            title.get_or_insert_with(|| collapse(&text));
                        } else if level == 1 {
                            first_heading.get_or_insert_with(|| collapse(&text));
                        }
                        b.heading(level, &text);
                    } else if listed {
                        b.unit(&format!("- {}", text.trim()));
                    } else {
                        for line in text.lines() {
                            b.unit(line);
                        }
                    }
                }
                "tc" => tables.end_cell(),
                "tr" => {
                    if let Some(row) = tables.end_row() {
                        b.unit(&row);
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    let title = title.or(core_title).or(first_heading);
    Ok(Document { title, sections: b.finish(), truncated: None })
}

// ---------------------------------------------------------------- PPTX

/// One slide's (or notes page's) text: its title and its other paragraphs.
fn slide_text(xml: &str) -> Result<(Option<String>, Vec<String>), quick_xml::Error> {
    let mut title: Option<String> = None;
    let mut lines = Vec::new();
    let mut tables = Tables::default();
    let mut shape: Option<(bool, bool, Vec<String>)> = None; // (is title, skipped, paragraphs)
    let mut para = String::new();
    let mut in_text = false;
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event()? {
            Event::Start(e) | Event::Empty(e) => match local(&e).as_str() {
                "sp" => shape = Some((false, false, Vec::new())),
                "ph" => {
                    if let Some((is_title, skipped, _)) = &mut shape {
                        match attr(&e, "type").as_deref() {
                            Some("title" | "ctrTitle") => *is_title = true,
                            Some("sldNum" | "dt" | "ftr" | "hdr" | "sldImg") => *skipped = true,
                            _ => {}
                        }
                    }
                }
                "p" => para.clear(),
                "t" => in_text = true,
                "br" => para.push('\n'),
                "tr" => tables.rows.push(Vec::new()),
                "tc" => tables.cells.push(String::new()),
                _ => {}
            },
            Event::Text(t) if in_text => para.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text => push_ref(&mut para, &r),
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => {
                    let text = std::mem::take(&mut para);
                    if tables.in_cell() {
                        tables.push_text(&text);
                    } else if let Some((_, _, paragraphs)) = &mut shape {
                        paragraphs.push(text);
                    } else {
                        lines.push(text);
                    }
                }
                "sp" => {
                    if let Some((is_title, skipped, paragraphs)) = shape.take() {
                        if skipped {
                            // Slide number, date, footer: not content.
                        } else if is_title && title.is_none() {
                            title = Some(collapse(&paragraphs.join(" "))).filter(|t| !t.is_empty());
                        } else {
                            lines.extend(paragraphs);
                        }
                    }
                }
                "tc" => tables.end_cell(),
                "tr" => {
                    if let Some(row) = tables.end_row() {
                        lines.push(row);
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok((title, lines))
}

/// The slides in presentation order (presentation.xml), else by their number.
fn slide_order(pkg: &mut Package) -> Result<Vec<String>, ExtractError> {
    let rels = pkg.rels("ppt/presentation.xml")?;
    let mut ordered = Vec::new();
    if let Some(xml) = pkg.read_text("ppt/presentation.xml")? {
        let mut reader = quick_xml::Reader::from_str(&xml);
        loop {
            match reader.read_event() {
                Ok(Event::Start(e) | Event::Empty(e)) if local(&e) == "sldId" => {
                    let id = attr_full(&e, "r:id").or_else(|| {
                        e.attributes().with_checks(false).flatten().find_map(|a| {
                            let key = a.key.as_ref().to_string();
                            (key.ends_with(":id")).then(|| attr_value(&a))
                        })
                    });
                    if let Some(rel) = id.and_then(|id| rels.iter().find(|r| r.id == id)) {
                        ordered.push(rel.target.clone());
                    }
                }
                Ok(Event::Eof) | Err(_) => break,
                _ => {}
            }
        }
    }
    ordered.retain(|p| pkg.has(p));
    if !ordered.is_empty() {
        return Ok(ordered);
    }
    let mut numbered: Vec<(u32, String)> = pkg
        .zip
        .file_names()
        .filter_map(|n| {
            let n = n.ok()?;
            let number = n.strip_prefix("ppt/slides/slide")?.strip_suffix(".xml")?.parse::<u32>().ok()?;
            Some((number, n.to_string()))
        })
        .collect();
    numbered.sort();
    Ok(numbered.into_iter().map(|(_, n)| n).collect())
}

/// PPTX: one section per slide ("slide N"), headed by the slide's title, with its notes.
pub(crate) fn pptx(bytes: &[u8], extension: &str, limits: &Limits) -> Result<Document, ExtractError> {
    let mut pkg = Package::open(bytes, Kind::Pptx, extension, limits)?;
    let slides = slide_order(&mut pkg)?;
    if slides.is_empty() && !pkg.has("ppt/presentation.xml") {
        return Err(corrupt(Kind::Pptx, "the package has no ppt/presentation.xml"));
    }
    let core_title = pkg.core_title()?;
    let mut sections = Vec::new();
    let mut first_title = None;
    for (n, part) in slides.iter().enumerate() {
        let Some(xml) = pkg.read_text(part)? else { continue };
        let (title, mut lines) = slide_text(&xml).map_err(|e| corrupt(Kind::Pptx, format!("{part}: {e}")))?;
        let notes = match pkg.related(part, "/notesSlide")? {
            Some(notes) => pkg.read_text(&notes)?,
            None => None,
        };
        if let Some(notes) = notes {
            if let Ok((_, note_lines)) = slide_text(&notes) {
                lines.extend(note_lines);
            }
        }
        if first_title.is_none() {
            first_title.clone_from(&title);
        }
        let text = lines.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n");
        let text = if text.is_empty() { title.clone().unwrap_or_default() } else { text };
        sections.push(Section {
            heading_path: title.into_iter().collect(),
            locator: Some(format!("slide {}", n + 1)),
            text,
        });
    }
    Ok(Document { title: core_title.or(first_title), sections, truncated: None })
}

// ---------------------------------------------------------------- XLSX / XLS
//
// calamine builds a dense grid for each sheet (and, for XLS, reserves room for
// the size a sheet declares): a file of a few hundred bytes that names cells A1
// and XFD1048576 would ask for hundreds of gigabytes and abort the process,
// which `catch_unwind` cannot stop. So XLSX sheets are streamed cell by cell,
// and XLS workbooks are checked record by record before calamine sees them.

/// Bytes of memory one grid cell costs calamine (`Cell<Data>`), to turn a cell count into memory.
const GRID_CELL_BYTES: u64 = 40;

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::DateTime(dt) if !dt.is_duration() => match dt.as_datetime() {
            // "2019-03-01 00:00:00" → "2019-03-01"; "2019-03-01 09:30:00" → "2019-03-01 09:30".
            Some(t) => {
                let t = t.to_string();
                match t.strip_suffix(" 00:00:00") {
                    Some(date) => date.to_string(),
                    None => t.strip_suffix(":00").unwrap_or(&t).to_string(),
                }
            }
            None => dt.to_string(),
        },
        other => other.to_string(),
    }
}

/// Sections of one sheet from its rows (row number from 0, cells by column from 0).
struct SheetRows<'a> {
    name: &'a str,
    header: Option<(u32, Vec<String>)>,
    any_row: bool,
    sections: &'a mut Vec<Section>,
    chars: &'a mut usize,
}

impl SheetRows<'_> {
    fn row(&mut self, row: u32, first_col: u32, cells: Vec<String>) {
        if cells.iter().all(String::is_empty) {
            return;
        }
        let Some((header_col, names)) = &self.header else {
            self.header = Some((first_col, column_names(&cells)));
            return;
        };
        // Align the row with the header's columns.
        let cells: Vec<String> = if first_col >= *header_col {
            std::iter::repeat_n(String::new(), (first_col - header_col) as usize).chain(cells).collect()
        } else {
            cells.into_iter().skip((header_col - first_col) as usize).collect()
        };
        let locator = format!("{}, row {}", self.name, u64::from(row) + 1);
        if let Some(section) = record_section(names, &cells, locator, vec![self.name.to_string()]) {
            *self.chars += section.text.len();
            self.any_row = true;
            self.sections.push(section);
        }
    }

    fn finish(self) {
        if let (Some((_, names)), false) = (self.header, self.any_row) {
            let text = names.into_iter().filter(|n| !n.starts_with("Column ")).collect::<Vec<_>>().join(" | ");
            let name = self.name.to_string();
            self.sections.push(Section { heading_path: vec![name.clone()], locator: Some(name), text });
        }
    }
}

/// XLSX: every sheet streamed cell by cell (no dense grid), rows in order.
fn xlsx_sheets(bytes: &[u8], limits: &Limits) -> Result<Document, ExtractError> {
    let kind = Kind::Xlsx;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| corrupt(kind, e))?;
    let mut sections = Vec::new();
    let mut chars = 0usize;
    let mut first_error = None;
    for name in workbook.sheet_names() {
        let mut rows: std::collections::BTreeMap<u32, Vec<(u32, String)>> = std::collections::BTreeMap::new();
        let mut reader = match workbook.worksheet_cells_reader(&name) {
            Ok(reader) => reader,
            Err(e) => {
                first_error.get_or_insert_with(|| format!("sheet {name:?}: {e}"));
                continue;
            }
        };
        let mut read_chars = 0usize;
        loop {
            match reader.next_cell() {
                Ok(Some(cell)) => {
                    let (row, col) = cell.get_position();
                    let text = cell_text(&Data::from(cell.get_value().clone()));
                    if !text.is_empty() {
                        read_chars += text.len();
                        rows.entry(row).or_default().push((col, text));
                    }
                    if chars + read_chars > limits.max_text_chars.saturating_mul(2) {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    first_error.get_or_insert_with(|| format!("sheet {name:?}: {e}"));
                    break;
                }
            }
        }
        drop(reader);
        let mut sheet =
            SheetRows { name: &name, header: None, any_row: false, sections: &mut sections, chars: &mut chars };
        for (row, mut cells) in rows {
            cells.sort_by_key(|(col, _)| *col);
            let first_col = cells[0].0;
            let last_col = cells[cells.len() - 1].0;
            // Columns between the first and last used ones; a wide gap holds no data anyway.
            let width = (last_col - first_col + 1).min(16_384) as usize;
            let mut dense = vec![String::new(); width];
            for (col, text) in cells {
                if let Some(slot) = dense.get_mut((col - first_col) as usize) {
                    *slot = text;
                }
            }
            sheet.row(row, first_col, dense);
        }
        sheet.finish();
    }
    if sections.is_empty() {
        if let Some(error) = first_error {
            return Err(corrupt(kind, error));
        }
    }
    Ok(Document { title: None, sections, truncated: None })
}

/// XLS: checked first (see [`check_xls`]), then read by calamine.
fn xls_sheets(bytes: &[u8], limits: &Limits) -> Result<Document, ExtractError> {
    let kind = Kind::Xls;
    check_xls(bytes, limits)?;
    let mut workbook: Xls<_> = Xls::new(Cursor::new(bytes)).map_err(|e| corrupt(kind, e))?;
    let mut sections = Vec::new();
    let mut chars = 0usize;
    let mut first_error = None;
    for name in workbook.sheet_names() {
        let range = match workbook.worksheet_range(&name) {
            Ok(range) => range,
            Err(e) => {
                first_error.get_or_insert_with(|| format!("sheet {name:?}: {e}"));
                continue;
            }
        };
        let (first_row, first_col) = range.start().unwrap_or((0, 0));
        let mut sheet =
            SheetRows { name: &name, header: None, any_row: false, sections: &mut sections, chars: &mut chars };
        for (i, row) in range.rows().enumerate() {
            if *sheet.chars > limits.max_text_chars {
                break;
            }
            sheet.row(first_row + i as u32, first_col, row.iter().map(cell_text).collect());
        }
        sheet.finish();
    }
    if sections.is_empty() {
        if let Some(error) = first_error {
            return Err(corrupt(kind, error));
        }
    }
    Ok(Document { title: None, sections, truncated: None })
}

/// Walks the BIFF records of an XLS workbook and refuses sheets whose declared
/// size (the DIMENSIONS record) or whose used cells span a grid larger than
/// `max_uncompressed` bytes of memory: calamine would allocate that grid.
fn check_xls(bytes: &[u8], limits: &Limits) -> Result<(), ExtractError> {
    let kind = Kind::Xls;
    let mut compound =
        cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| corrupt(kind, format!("not a valid OLE file: {e}")))?;
    let stream_name = ["/Workbook", "/Book", "/WORKBOOK", "/BOOK"].into_iter().find(|n| compound.is_stream(n));
    let Some(stream_name) = stream_name else {
        return Err(corrupt(kind, "no Workbook stream (not an Excel file)"));
    };
    let mut stream = Vec::new();
    compound
        .open_stream(stream_name)
        .and_then(|s| s.take(limits.max_uncompressed).read_to_end(&mut stream))
        .map_err(|e| corrupt(kind, format!("cannot read the Workbook stream: {e}")))?;
    let max_cells = limits.max_uncompressed / GRID_CELL_BYTES;
    let too_big = |rows: u64, cols: u64| {
        let cells = rows.saturating_mul(cols);
        (cells > max_cells)
            .then(|| corrupt(kind, format!("a sheet spans {rows} rows × {cols} columns, too large to read")))
    };
    let u16_at = |d: &[u8], i: usize| d.get(i..i + 2).map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])));
    let u32_at = |d: &[u8], i: usize| d.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    // Bounding box of the cells of the current sheet: (min row, max row, min col, max col).
    let mut bbox: Option<(u32, u32, u32, u32)> = None;
    let mut pos = 0usize;
    while pos + 4 <= stream.len() {
        let typ = u16::from_le_bytes([stream[pos], stream[pos + 1]]);
        let len = usize::from(u16::from_le_bytes([stream[pos + 2], stream[pos + 3]]));
        let data = &stream[pos + 4..(pos + 4 + len).min(stream.len())];
        pos += 4 + len;
        match typ {
            // BOF / EOF: a new sheet (or the end of one).
            0x0809 | 0x000A => {
                if let Some((r0, r1, c0, c1)) = bbox.take() {
                    if let Some(e) = too_big(u64::from(r1 - r0) + 1, u64::from(c1 - c0) + 1) {
                        return Err(e);
                    }
                }
            }
            // DIMENSIONS: calamine reserves rows × columns cells from it, computed as it does.
            0x0200 => {
                let fields = match data.len() {
                    10 => (u16_at(data, 0), u16_at(data, 2), u16_at(data, 4), u16_at(data, 6)),
                    14 | 16 => (u32_at(data, 0), u32_at(data, 4), u16_at(data, 8), u16_at(data, 10)),
                    _ => continue,
                };
                let (Some(rf), Some(rl), Some(mut cf), Some(cl)) = fields else { continue };
                if cf > 0xFF || cl < cf {
                    cf = 0;
                }
                if rl >= 1 && cl >= 1 {
                    let rows = (rl - 1).wrapping_sub(rf).wrapping_add(1);
                    let cols = (cl - 1).wrapping_sub(cf).wrapping_add(1);
                    if let Some(e) = too_big(u64::from(rows), u64::from(cols)) {
                        return Err(e);
                    }
                }
            }
            // Cell records: row and column first; MULRK also ends with its last column.
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 | 0x00BD => {
                let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) else { continue };
                let last = if typ == 0x00BD { u16_at(data, data.len().saturating_sub(2)).unwrap_or(col) } else { col };
                let (lo, hi) = (col.min(last), col.max(last));
                bbox = Some(match bbox {
                    None => (row, row, lo, hi),
                    Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(lo), c1.max(hi)),
                });
            }
            _ => {}
        }
    }
    if let Some((r0, r1, c0, c1)) = bbox {
        if let Some(e) = too_big(u64::from(r1 - r0) + 1, u64::from(c1 - c0) + 1) {
            return Err(e);
        }
    }
    Ok(())
}

/// `uniqueCount` of the shared-string table must be plausible for its size:
/// calamine reserves that many strings up front.
fn check_shared_strings(head: &[u8], size: u64) -> Result<(), ExtractError> {
    let head = decode_text(head);
    let Some(start) = head.find("<sst").or_else(|| head.find(":sst")) else { return Ok(()) };
    let tag = &head[start..head[start..].find('>').map_or(head.len(), |e| start + e)];
    for attribute in ["uniqueCount", "count"] {
        let Some(at) = tag.find(&format!("{attribute}=")) else { continue };
        let value: String = tag[at + attribute.len() + 1..].chars().skip(1).take_while(char::is_ascii_digit).collect();
        let count = value.parse::<u64>().unwrap_or(u64::MAX);
        // Each string takes at least "<si><t/></si>" in the part.
        if count > size / 8 + 16 {
            return Err(corrupt(Kind::Xlsx, format!("the shared strings claim {attribute}={value} for {size} bytes")));
        }
    }
    Ok(())
}

/// XLSX or XLS, whichever the content is (a renamed workbook still opens).
pub(crate) fn spreadsheet(
    bytes: &[u8],
    kind: Kind,
    extension: &str,
    limits: &Limits,
) -> Result<Document, ExtractError> {
    if is_zip(bytes) {
        let mut pkg = Package::open(bytes, Kind::Xlsx, extension, limits)?;
        let parts = pkg.verify_all()?;
        if !pkg.has("xl/workbook.xml") {
            return Err(corrupt(Kind::Xlsx, "the package has no xl/workbook.xml"));
        }
        for (name, head, size) in parts {
            if name.to_ascii_lowercase().ends_with("sharedstrings.xml") {
                check_shared_strings(&head, size)?;
            }
        }
        drop(pkg);
        return xlsx_sheets(bytes, limits);
    }
    if is_encrypted_ooxml(bytes) {
        return Err(corrupt(Kind::Xlsx, "the workbook is protected with a password; save a copy without one"));
    }
    if bytes.starts_with(OLE_MAGIC) {
        return xls_sheets(bytes, limits);
    }
    Err(ExtractError::Mismatch {
        extension: extension.to_string(),
        detail: format!("it is not a {} (it looks like {})", kind.name(), describe(bytes)),
    })
}
