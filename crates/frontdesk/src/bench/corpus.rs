//! A generated folder of help-centre content in every common format, for
//! `frontdesk bench ingest --generate N`: Markdown, HTML pages with site
//! chrome, plain text, CSV and JSON, and real Office Open XML (.docx, .pptx,
//! .xlsx) and PDF files built here byte by byte (zip entries stored, not
//! deflated; one Helvetica text object per PDF line). Deterministic: the same
//! N gives the same files.

use std::path::Path;

use frontdesk_knowledge::index::Rng;

const TOPICS: &[&str] = &[
    "your password",
    "two-factor authentication",
    "single sign-on",
    "the mobile app",
    "the desktop app",
    "shared folders",
    "team members",
    "invoices",
    "the billing address",
    "your subscription",
    "the storage quota",
    "offline mode",
    "API keys",
    "webhooks",
    "data export",
    "the audit log",
    "notifications",
    "custom domains",
    "backups",
    "the trash",
    "version history",
    "guest access",
    "email forwarding",
    "the calendar integration",
];
const ACTIONS: &[&str] = &[
    "reset",
    "enable",
    "disable",
    "configure",
    "update",
    "remove",
    "restore",
    "share",
    "export",
    "rename",
    "verify",
    "connect",
];
const PLACES: &[&str] = &[
    "Settings",
    "the Admin console",
    "the Billing page",
    "your profile menu",
    "the Security tab",
    "the sidebar",
    "the Integrations page",
    "the Members list",
];
const PLANS: &[&str] = &["Free", "Starter", "Team", "Business", "Enterprise"];
const PLATFORMS: &[&str] = &["Windows", "macOS", "Linux", "iOS", "Android", "the web app"];
const ROLES: &[&str] = &["owners", "admins", "editors", "members", "guests"];

/// One sentence of support prose.
fn sentence(r: &mut Rng) -> String {
    let (t, a, p, plan) = (r.pick(TOPICS), r.pick(ACTIONS), r.pick(PLACES), r.pick(PLANS));
    let (os, role, n) = (r.pick(PLATFORMS), r.pick(ROLES), r.between(2, 90));
    match r.below(10) {
        0 => format!("To {a} {t}, open {p} and choose the option you need."),
        1 => format!("On the {plan} plan, {role} can {a} {t} for up to {n} people at once."),
        2 => format!("Changes to {t} take effect within {n} minutes on {os}."),
        3 => format!("If you cannot {a} {t}, check that you are signed in as one of the {role} of the workspace."),
        4 => format!("Only {role} see {t} in {p}; everyone else gets a read-only view."),
        5 => format!("We keep a copy of {t} for {n} days, after which it is removed for good."),
        6 => format!("The {os} version shows {t} under {p}, next to the search field."),
        7 => format!("You will get an email when someone tries to {a} {t} from a new device."),
        8 => format!("Support answers questions about {t} within {n} hours on working days."),
        _ => format!("Error code E{n}{} means that {t} could not be updated; try again in a minute.", r.below(10)),
    }
}

fn paragraph(r: &mut Rng) -> String {
    let n = r.between(3, 6);
    (0..n).map(|_| sentence(r)).collect::<Vec<_>>().join(" ")
}

fn title(r: &mut Rng) -> String {
    let (a, t) = (r.pick(ACTIONS), r.pick(TOPICS));
    let mut s = format!("How to {a} {t}");
    if let Some(c) = s.get_mut(0..1) {
        c.make_ascii_uppercase();
    }
    s
}

/// An article of about `bytes` bytes of text: sections of paragraphs.
struct Article {
    title: String,
    sections: Vec<(String, Vec<String>)>,
}

fn article(r: &mut Rng, bytes: usize) -> Article {
    let title = title(r);
    let mut sections = Vec::new();
    let mut size = 0;
    while size < bytes {
        let heading = match r.below(4) {
            0 => format!("Before you {}", r.pick(ACTIONS)),
            1 => format!("On {}", r.pick(PLATFORMS)),
            2 => format!("For {}", r.pick(ROLES)),
            _ => format!("Troubleshooting {}", r.pick(TOPICS)),
        };
        let paras: Vec<String> = (0..r.between(1, 4)).map(|_| paragraph(r)).collect();
        size += heading.len() + paras.iter().map(String::len).sum::<usize>();
        sections.push((heading, paras));
    }
    Article { title, sections }
}

/// Rows of a plan/limit table, for CSV, JSON and spreadsheets.
fn table_rows(r: &mut Rng, bytes: usize) -> Vec<[String; 5]> {
    let mut rows = Vec::new();
    let mut size = 0;
    while size < bytes {
        let row = [
            r.pick(PLANS).to_owned(),
            r.pick(TOPICS).to_owned(),
            format!("{} {}", r.between(1, 500), ["GB", "users", "requests per minute", "days"][r.below(4)]),
            format!("{}.{:02} EUR", r.between(0, 99), r.below(100)),
            sentence(r),
        ];
        size += row.iter().map(String::len).sum::<usize>() + 5;
        rows.push(row);
    }
    rows
}

const HEADER: [&str; 5] = ["Plan", "Feature", "Limit", "Price per month", "Notes"];

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn markdown(a: &Article) -> String {
    let mut out = format!("# {}\n\n", a.title);
    for (h, paras) in &a.sections {
        out.push_str(&format!("## {h}\n\n"));
        for p in paras {
            out.push_str(p);
            out.push_str("\n\n");
        }
    }
    out
}

fn html(r: &mut Rng, a: &Article) -> String {
    let nav: String = (0..30).map(|i| format!("<li><a href=\"/help/{i}\">{}</a></li>", title(r))).collect();
    let mut main = format!("<h1>{}</h1>", a.title);
    for (h, paras) in &a.sections {
        main.push_str(&format!("<h2>{h}</h2>"));
        for p in paras {
            main.push_str(&format!("<p>{p}</p>"));
        }
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} | Help centre</title>\
         <link rel=\"stylesheet\" href=\"/assets/site.css\"><script src=\"/assets/analytics.js\"></script></head>\
         <body><div class=\"cookie-banner\">We use cookies to improve the site. <button>Accept all cookies</button></div>\
         <header><a href=\"/\">Help centre</a><form action=\"/search\"><input name=\"q\"></form></header>\
         <nav class=\"sidebar\"><ul>{nav}</ul></nav><main><article>{main}</article>\
         <div class=\"feedback\">Was this article helpful? <button>Yes</button><button>No</button></div></main>\
         <footer>© Example Ltd · Privacy · Terms · Careers · Status</footer></body></html>",
        a.title
    )
}

fn plain_text(a: &Article) -> String {
    let mut out = format!("{}\n{}\n\n", a.title, "=".repeat(a.title.len()));
    for (h, paras) in &a.sections {
        out.push_str(&format!("{h}\n\n"));
        for p in paras {
            out.push_str(p);
            out.push_str("\n\n");
        }
    }
    out
}

fn csv(rows: &[[String; 5]]) -> String {
    let mut out = HEADER.join(",");
    out.push('\n');
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

fn json(r: &mut Rng, count: usize) -> String {
    let faq: Vec<serde_json::Value> = (0..count)
        .map(|_| {
            let (a, t) = (r.pick(ACTIONS), r.pick(TOPICS));
            serde_json::json!({
                "question": format!("How do I {a} {t}?"),
                "answer": paragraph(r),
                "category": r.pick(PLANS),
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "faq": faq })).unwrap_or_default()
}

// ---------- Office Open XML: a zip writer (stored entries) ----------

fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *slot = c;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc = table[((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc ^ 0xFFFF_FFFF
}

/// A zip archive of `files`, each stored uncompressed.
fn zip(files: &[(&str, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, content) in files {
        let (data, crc, offset) = (content.as_bytes(), crc32(content.as_bytes()), out.len() as u32);
        let size = data.len() as u32;
        let header = |sig: u32, central_entry: bool, buf: &mut Vec<u8>| {
            buf.extend_from_slice(&sig.to_le_bytes());
            if central_entry {
                buf.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            buf.extend_from_slice(&20u16.to_le_bytes()); // needed
            buf.extend_from_slice(&0u16.to_le_bytes()); // flags
            buf.extend_from_slice(&0u16.to_le_bytes()); // stored
            buf.extend_from_slice(&0u16.to_le_bytes()); // time
            buf.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
            buf.extend_from_slice(&crc.to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&(name.len() as u16).to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central_entry {
                buf.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
                buf.extend_from_slice(&0u32.to_le_bytes()); // external attributes
                buf.extend_from_slice(&offset.to_le_bytes());
            }
            buf.extend_from_slice(name.as_bytes());
        };
        header(0x0403_4b50, false, &mut out);
        out.extend_from_slice(data);
        header(0x0201_4b50, true, &mut central);
    }
    let (cd_offset, cd_size, n) = (out.len() as u32, central.len() as u32, files.len() as u16);
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

const XML_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;

fn content_types(overrides: &[(&str, &str)]) -> String {
    let o: String =
        overrides.iter().map(|(part, ct)| format!("<Override PartName=\"{part}\" ContentType=\"{ct}\"/>")).collect();
    format!(
        "{XML_HEAD}\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>{o}</Types>"
    )
}

fn rels(items: &[(&str, &str, &str)]) -> String {
    let r: String = items
        .iter()
        .map(|(id, kind, target)| {
            format!(
                "<Relationship Id=\"{id}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}\" Target=\"{target}\"/>"
            )
        })
        .collect();
    format!("{XML_HEAD}\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{r}</Relationships>")
}

fn core(title: &str) -> String {
    format!(
        "{XML_HEAD}\n<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>{}</dc:title><dc:creator>Support team</dc:creator></cp:coreProperties>",
        xml_escape(title)
    )
}

fn docx(a: &Article) -> Vec<u8> {
    let para = |style: Option<&str>, text: &str| {
        let props = style.map(|s| format!("<w:pPr><w:pStyle w:val=\"{s}\"/></w:pPr>")).unwrap_or_default();
        format!("<w:p>{props}<w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>", xml_escape(text))
    };
    let mut body = para(Some("Title"), &a.title);
    for (h, paras) in &a.sections {
        body.push_str(&para(Some("Heading1"), h));
        for p in paras {
            body.push_str(&para(None, p));
        }
    }
    let document = format!(
        "{XML_HEAD}\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}<w:sectPr/></w:body></w:document>"
    );
    let styles = format!(
        "{XML_HEAD}\n<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:style w:type=\"paragraph\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/></w:style>\
         <w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/></w:style>\
         <w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/><w:pPr><w:outlineLvl w:val=\"0\"/></w:pPr></w:style>\
         </w:styles>"
    );
    zip(&[
        (
            "[Content_Types].xml",
            content_types(&[(
                "/word/document.xml",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            )]),
        ),
        ("_rels/.rels", rels(&[("rId1", "officeDocument", "word/document.xml")])),
        ("word/document.xml", document),
        ("word/_rels/document.xml.rels", rels(&[("rId1", "styles", "styles.xml")])),
        ("word/styles.xml", styles),
        ("docProps/core.xml", core(&a.title)),
    ])
}

fn pptx(a: &Article) -> Vec<u8> {
    let mut files: Vec<(String, String)> = Vec::new();
    let slides: Vec<(String, Vec<String>)> = std::iter::once((a.title.clone(), vec!["Agenda and overview".to_owned()]))
        .chain(a.sections.iter().map(|(h, paras)| {
            // Bullets: the sentences of the section.
            let bullets = paras.iter().flat_map(|p| p.split(". ").map(str::to_owned)).collect();
            (h.clone(), bullets)
        }))
        .collect();
    let mut ids = String::new();
    let mut pres_rels = Vec::new();
    for (i, (title, bullets)) in slides.iter().enumerate() {
        let n = i + 1;
        let paras: String =
            bullets.iter().map(|b| format!("<a:p><a:r><a:t>{}</a:t></a:r></a:p>", xml_escape(b))).collect();
        files.push((
            format!("ppt/slides/slide{n}.xml"),
            format!(
                "{XML_HEAD}\n<p:sld xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\"><p:cSld><p:spTree>\
                 <p:sp><p:nvSpPr><p:cNvPr id=\"2\" name=\"Title 1\"/><p:cNvSpPr/><p:nvPr><p:ph type=\"title\"/></p:nvPr></p:nvSpPr><p:txBody><a:bodyPr/><a:p><a:r><a:t>{}</a:t></a:r></a:p></p:txBody></p:sp>\
                 <p:sp><p:nvSpPr><p:cNvPr id=\"3\" name=\"Content 2\"/><p:cNvSpPr/><p:nvPr><p:ph idx=\"1\"/></p:nvPr></p:nvSpPr><p:txBody><a:bodyPr/>{paras}</p:txBody></p:sp>\
                 </p:spTree></p:cSld></p:sld>",
                xml_escape(title)
            ),
        ));
        ids.push_str(&format!("<p:sldId id=\"{}\" r:id=\"rId{n}\"/>", 255 + n));
        pres_rels.push((format!("rId{n}"), format!("slides/slide{n}.xml")));
    }
    let rel_items: Vec<(&str, &str, &str)> =
        pres_rels.iter().map(|(id, target)| (id.as_str(), "slide", target.as_str())).collect();
    files.push(("ppt/_rels/presentation.xml.rels".into(), rels(&rel_items)));
    files.push((
        "ppt/presentation.xml".into(),
        format!(
            "{XML_HEAD}\n<p:presentation xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><p:sldIdLst>{ids}</p:sldIdLst></p:presentation>"
        ),
    ));
    files.push((
        "[Content_Types].xml".into(),
        content_types(&[(
            "/ppt/presentation.xml",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        )]),
    ));
    files.push(("_rels/.rels".into(), rels(&[("rId1", "officeDocument", "ppt/presentation.xml")])));
    files.push(("docProps/core.xml".into(), core(&a.title)));
    let refs: Vec<(&str, String)> = files.iter().map(|(n, c)| (n.as_str(), c.clone())).collect();
    zip(&refs)
}

fn xlsx(rows: &[[String; 5]]) -> Vec<u8> {
    let cell = |col: usize, row: usize, text: &str| {
        let letter = (b'A' + col as u8) as char;
        format!("<c r=\"{letter}{row}\" t=\"inlineStr\"><is><t>{}</t></is></c>", xml_escape(text))
    };
    let mut data = String::from("<row r=\"1\">");
    for (c, h) in HEADER.iter().enumerate() {
        data.push_str(&cell(c, 1, h));
    }
    data.push_str("</row>");
    for (i, row) in rows.iter().enumerate() {
        let r = i + 2;
        data.push_str(&format!("<row r=\"{r}\">"));
        for (c, v) in row.iter().enumerate() {
            data.push_str(&cell(c, r, v));
        }
        data.push_str("</row>");
    }
    let sheet = format!(
        "{XML_HEAD}\n<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>{data}</sheetData></worksheet>"
    );
    let workbook = format!(
        "{XML_HEAD}\n<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets><sheet name=\"Plans\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
    );
    zip(&[
        (
            "[Content_Types].xml",
            content_types(&[
                ("/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
                (
                    "/xl/worksheets/sheet1.xml",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
                ),
            ]),
        ),
        ("_rels/.rels", rels(&[("rId1", "officeDocument", "xl/workbook.xml")])),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", rels(&[("rId1", "worksheet", "worksheets/sheet1.xml")])),
        ("xl/worksheets/sheet1.xml", sheet),
    ])
}

/// A PDF of the article: US Letter pages of 10-point Helvetica lines.
fn pdf(a: &Article) -> Vec<u8> {
    let mut lines: Vec<String> = vec![a.title.clone(), String::new()];
    for (h, paras) in &a.sections {
        lines.push(h.clone());
        for p in paras {
            let mut line = String::new();
            for word in p.split_whitespace() {
                if line.len() + word.len() + 1 > 95 {
                    lines.push(std::mem::take(&mut line));
                }
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
            }
            lines.push(line);
            lines.push(String::new());
        }
    }
    let pages: Vec<&[String]> = lines.chunks(55).collect();
    let n = pages.len();
    let font_id = 3 + 2 * n;
    let mut objects: Vec<String> = vec!["<< /Type /Catalog /Pages 2 0 R >>".into()];
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 3 + 2 * i)).collect();
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")));
    for (i, page) in pages.iter().enumerate() {
        let page_id = 3 + 2 * i;
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R /Resources << /Font << /F1 {font_id} 0 R >> >> >>",
            page_id + 1
        ));
        let mut stream = String::from("BT /F1 10 Tf 50 750 Td");
        for (j, line) in page.iter().enumerate() {
            let escaped = line.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
            if j > 0 {
                stream.push_str(" 0 -13 Td");
            }
            stream.push_str(&format!(" ({escaped}) Tj"));
        }
        stream.push_str(" ET");
        objects.push(format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()));
    }
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into());
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// The mix: (extension, share in percent, smallest and largest text size in KB).
pub const MIX: &[(&str, usize, usize, usize)] = &[
    ("md", 20, 2, 20),
    ("html", 20, 4, 40),
    ("txt", 8, 2, 15),
    ("csv", 6, 5, 80),
    ("json", 6, 5, 40),
    ("docx", 12, 5, 50),
    ("pptx", 8, 3, 20),
    ("xlsx", 8, 5, 60),
    ("pdf", 12, 5, 60),
];

/// Writes `n` files into `dir` (created if missing); returns their total size in bytes.
pub fn generate(dir: &Path, n: usize) -> anyhow::Result<u64> {
    std::fs::create_dir_all(dir)?;
    let mut r = Rng(0x5EED_F00D_CAFE_1234);
    let total_share: usize = MIX.iter().map(|m| m.1).sum();
    let mut bytes = 0u64;
    let mut made = vec![0usize; MIX.len()];
    for i in 0..n {
        // Deterministic interleaving by share: each file takes the type whose quota is most behind.
        let behind = |k: usize| (MIX[k].1 * (i + 1)) as f64 / total_share as f64 - made[k] as f64;
        let k = (0..MIX.len()).max_by(|&a, &b| behind(a).total_cmp(&behind(b)).then(b.cmp(&a))).unwrap_or(0);
        made[k] += 1;
        let (ext, _, lo, hi) = MIX[k];
        let size = r.between(lo, hi) * 1024;
        let data: Vec<u8> = match ext {
            "md" => markdown(&article(&mut r, size)).into_bytes(),
            "html" => {
                let a = article(&mut r, size);
                html(&mut r, &a).into_bytes()
            }
            "txt" => plain_text(&article(&mut r, size)).into_bytes(),
            "csv" => csv(&table_rows(&mut r, size)).into_bytes(),
            "json" => json(&mut r, size / 400 + 1).into_bytes(),
            "docx" => docx(&article(&mut r, size)),
            "pptx" => pptx(&article(&mut r, size)),
            "xlsx" => xlsx(&table_rows(&mut r, size)),
            _ => pdf(&article(&mut r, size)),
        };
        bytes += data.len() as u64;
        std::fs::write(dir.join(format!("doc-{i:05}.{ext}")), data)?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    /// Every generated format extracts through the product's extractor.
    #[test]
    fn every_generated_file_extracts() {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), 100).unwrap();
        let limits = frontdesk_knowledge::extract::Limits::default();
        let mut seen = std::collections::BTreeSet::new();
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let doc = frontdesk_knowledge::extract::extract(&name, &std::fs::read(&p).unwrap(), &limits)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let text: usize = doc.sections.iter().map(|s| s.text.len()).sum();
            assert!(text > 1000, "{name}: {text} characters");
            seen.insert(name.rsplit('.').next().unwrap().to_owned());
        }
        assert_eq!(seen.len(), MIX.len(), "{seen:?}");
    }
}
