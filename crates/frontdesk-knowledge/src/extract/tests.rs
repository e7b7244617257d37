//! Tests for text extraction: every format, every bad input, and the evaluation corpus.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::*;
use crate::{Document, Section};

fn limits() -> Limits {
    Limits::default()
}

#[track_caller]
fn ok(name: &str, bytes: &[u8]) -> Document {
    match extract(name, bytes, &limits()) {
        Ok(doc) => doc,
        Err(e) => panic!("{name}: {e}"),
    }
}

#[track_caller]
fn err(name: &str, bytes: &[u8]) -> ExtractError {
    match extract(name, bytes, &limits()) {
        Ok(doc) => panic!("{name}: expected an error, got {doc:?}"),
        Err(e) => e,
    }
}

fn all_text(doc: &Document) -> String {
    doc.sections.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n")
}

fn find<'a>(doc: &'a Document, needle: &str) -> &'a Section {
    doc.sections
        .iter()
        .find(|s| s.text.contains(needle))
        .unwrap_or_else(|| panic!("no section with {needle:?}: {doc:#?}"))
}

fn path(section: &Section) -> Vec<&str> {
    section.heading_path.iter().map(String::as_str).collect()
}

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, content) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

// ---------------------------------------------------------------- names and generic checks

#[test]
fn extract_kind_of_names() {
    assert_eq!(kind_of("Guide.PDF").unwrap(), Kind::Pdf);
    assert_eq!(kind_of("dir/sub.dir/notes.Md").unwrap(), Kind::Markdown);
    assert_eq!(kind_of("C:\\Docs\\plans.XLSX").unwrap(), Kind::Xlsx);
    assert_eq!(kind_of("a.htm").unwrap(), Kind::Html);
    assert_eq!(kind_of("a.xhtml").unwrap(), Kind::Html);
    assert_eq!(kind_of("nginx.conf").unwrap(), Kind::PlainText);
    assert_eq!(kind_of("clip.webm").unwrap(), Kind::Media);
    for ext in SUPPORTED_EXTENSIONS {
        assert!(kind_of(&format!("file.{ext}")).is_ok(), "{ext}");
    }
    let e = kind_of("setup.exe").unwrap_err();
    let message = e.to_string();
    assert!(matches!(&e, ExtractError::Unsupported { extension, .. } if extension == "exe"), "{e:?}");
    assert!(message.starts_with("unsupported file type \"exe\": allowed types are .docx, .pptx, .pdf"), "{message}");
    assert!(message.contains(".xlsx") && message.contains(".webm"), "{message}");
    assert!(matches!(kind_of("README"), Err(ExtractError::Unsupported { extension, .. }) if extension.is_empty()));
    assert!(matches!(kind_of("archive.tar.gz"), Err(ExtractError::Unsupported { extension, .. }) if extension == "gz"));
}

#[test]
fn extract_empty_large_and_media() {
    assert_eq!(err("a.txt", b""), ExtractError::Empty);
    assert_eq!(err("a.md", b"  \n\t\r\n  "), ExtractError::Empty);
    assert_eq!(err("a.docx", b""), ExtractError::Empty);
    assert_eq!(err("a.pdf", b"\n"), ExtractError::Empty);
    // UTF-16 spaces are still empty.
    assert_eq!(err("a.txt", b"\xFF\xFE \x00\n\x00"), ExtractError::Empty);
    assert_eq!(err("a.txt", b"\xEF\xBB\xBF  "), ExtractError::Empty);
    let small = Limits { max_bytes: 10, ..Limits::default() };
    assert_eq!(extract("a.txt", b"hello world, this is long", &small), Err(ExtractError::TooLarge { limit: 10 }));
    assert_eq!(err("talk.mp4", b"\x00\x00\x00\x18ftypmp42"), ExtractError::NeedsTranscription);
    assert_eq!(err("talk.MOV", b"anything"), ExtractError::NeedsTranscription);
    assert!(matches!(err("a.exe", b"MZ"), ExtractError::Unsupported { .. }));
}

#[test]
fn extract_no_text() {
    let html = "<html><head><title></title><script>var x = 1;</script></head><body><nav>Home</nav></body></html>";
    assert_eq!(err("page.html", html.as_bytes()), ExtractError::NoText);
    assert_eq!(err("data.json", b"{\"a\": null, \"b\": []}"), ExtractError::NoText);
}

#[test]
fn extract_truncates_long_text() {
    let text = "Lorem ipsum dolor sit amet. ".repeat(1000);
    let tight = Limits { max_text_chars: 100, ..Limits::default() };
    let doc = extract("long.txt", text.as_bytes(), &tight).unwrap();
    let total: usize = doc.sections.iter().map(|s| s.text.chars().count()).sum();
    assert!(total <= 100 && total > 50, "{total}");
    // The cut is said, never silent: kept and total characters.
    let cut = doc.truncated.expect("a cut text is recorded");
    assert_eq!(cut.kept, total as u64);
    assert_eq!(cut.total, "Lorem ipsum dolor sit amet.".len() as u64 * 1000 + 999);
    assert!(!cut.total_is_lower_bound);
    // Within the limit: nothing recorded.
    assert_eq!(ok("short.txt", b"Short text.").truncated, None);
}

#[test]
fn extract_huge_single_line_is_truncated_and_said() {
    // One 6-million-character line (no newline anywhere): kept up to the cap, the rest counted.
    let line = "word ".repeat(1_200_000);
    let doc = ok("one-line.txt", line.as_bytes());
    let cut = doc.truncated.expect("recorded");
    assert_eq!((cut.kept, cut.total), (5_000_000 - 1, 6_000_000 - 1), "the trailing space is trimmed");
    assert_eq!(all_text(&doc).chars().count() as u64, cut.kept);
}

#[test]
fn extract_errors_cross_a_process_boundary() {
    // The extraction child sends its result as JSON: every error comes back equal.
    let errors = [
        ExtractError::Corrupt { kind: "PDF", detail: "no text".into() },
        ExtractError::Corrupt { kind: "Word document (.docx)", detail: "bad".into() },
        ExtractError::ZipBomb { limit: 7 },
        ExtractError::TooLarge { limit: 9 },
        ExtractError::NeedsTranscription,
        ExtractError::NoText,
        ExtractError::Empty,
        ExtractError::Mismatch { extension: "pdf".into(), detail: "it is text".into() },
        kind_of("a.exe").unwrap_err(),
    ];
    for e in errors {
        let json = serde_json::to_string(&Err::<Document, _>(e.clone())).unwrap();
        assert_eq!(serde_json::from_str::<Result<Document, ExtractError>>(&json).unwrap(), Err(e));
    }
    let doc = extract("long.txt", "abc def ".repeat(50).as_bytes(), &Limits { max_text_chars: 10, ..limits() });
    let json = serde_json::to_string(&doc).unwrap();
    assert_eq!(serde_json::from_str::<Result<Document, ExtractError>>(&json).unwrap(), doc);
}

// ---------------------------------------------------------------- encodings

#[test]
fn extract_decode_text_encodings() {
    assert_eq!(decode_text("città".as_bytes()), "città");
    assert_eq!(decode_text(b"\xEF\xBB\xBFcitt\xC3\xA0"), "città");
    assert_eq!(decode_text(b"citt\xE0 \x80 caf\xE9"), "città € café");
    let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain("Ciao è".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    assert_eq!(decode_text(&le), "Ciao è");
    let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain("Ciao è".encode_utf16().flat_map(u16::to_be_bytes)).collect();
    assert_eq!(decode_text(&be), "Ciao è");
    // Without a BOM but unmistakably UTF-16.
    let bare: Vec<u8> = "Plain ASCII text in UTF-16".encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert_eq!(decode_text(&bare), "Plain ASCII text in UTF-16");
    // A UTF-8 file cut in the middle of a character stays UTF-8.
    assert_eq!(decode_text(b"caf\xC3"), "caf\u{FFFD}");
}

#[test]
fn extract_latin1_and_utf16_files() {
    let latin1 = b"Citt\xE0 e caff\xE8\n\nIl prezzo \xE8 di 5 \x80 al mese.";
    let doc = ok("prezzi.txt", latin1);
    assert_eq!(doc.title.as_deref(), Some("Città e caffè"));
    assert!(all_text(&doc).contains("Il prezzo è di 5 € al mese."), "{doc:?}");

    let html = "<html><body><main><h1>Über uns</h1><p>Grüße aus Köln</p></main></body></html>";
    let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain(html.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let doc = ok("about.html", &utf16);
    assert_eq!(doc.title.as_deref(), Some("Über uns"));
    assert_eq!(find(&doc, "Grüße").text, "Grüße aus Köln");

    let csv = "Plan;Preis\nBasis;5 €\n";
    let utf16be: Vec<u8> = [0xFE, 0xFF].into_iter().chain(csv.encode_utf16().flat_map(u16::to_be_bytes)).collect();
    let doc = ok("preise.csv", &utf16be);
    assert_eq!(doc.sections[0].text, "Plan: Basis\nPreis: 5 €");
}

#[test]
fn extract_mismatched_content() {
    let zip = zip_of(&[("a.txt", "hello")]);
    for name in ["page.html", "data.csv", "data.json", "notes.md", "notes.txt", "feed.xml"] {
        let e = err(name, &zip);
        assert!(matches!(&e, ExtractError::Mismatch { detail, .. } if detail.contains("ZIP")), "{name}: {e:?}");
    }
    let e = err("page.html", b"%PDF-1.4\n...");
    assert!(matches!(&e, ExtractError::Mismatch { extension, .. } if extension == "html"), "{e:?}");
    let mut binary = vec![0u8; 2000];
    binary.extend_from_slice(b"some text");
    binary.iter_mut().enumerate().for_each(|(i, b)| *b = if i % 3 == 0 { 0 } else { (i % 250) as u8 + 1 });
    assert!(matches!(err("data.csv", &binary), ExtractError::Mismatch { .. }));
    assert!(matches!(err("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ExtractError::Mismatch { .. }));

    let e = err("report.docx", b"This is really a text file renamed to .docx");
    assert!(
        matches!(&e, ExtractError::Mismatch { extension, detail } if extension == "docx" && detail.contains("text")),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("the file's content does not match its extension .docx"), "{e}");
    assert!(matches!(err("slides.pptx", b"%PDF-1.7 whatever"), ExtractError::Mismatch { .. }));
    assert!(matches!(err("sheet.xlsx", b"a,b,c\n1,2,3\n"), ExtractError::Mismatch { .. }));
    assert!(matches!(
        err("sheet.xls", b"<html><table><tr><td>1</td></tr></table></html>"),
        ExtractError::Mismatch { .. }
    ));
    let e = err("paper.pdf", b"<html><body>not a pdf</body></html>");
    assert!(matches!(&e, ExtractError::Mismatch { detail, .. } if detail.contains("HTML")), "{e:?}");
    let e = err("paper.pdf", &zip);
    assert!(matches!(e, ExtractError::Mismatch { .. }), "{e:?}");

    // An old binary .doc renamed .docx, and a password-protected .docx (an OLE container too).
    let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    ole.extend(vec![0u8; 600]);
    let e = err("old.docx", &ole);
    assert!(matches!(&e, ExtractError::Mismatch { detail, .. } if detail.contains("old binary Office")), "{e:?}");
    ole.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    for name in ["locked.docx", "locked.pptx", "locked.xlsx"] {
        let e = err(name, &ole);
        assert!(matches!(&e, ExtractError::Corrupt { detail, .. } if detail.contains("password")), "{name}: {e:?}");
    }
}

// ---------------------------------------------------------------- Markdown

#[test]
fn extract_markdown() {
    let md = "---\ntitle: \"Create and manage API keys\"\ncategory: Developers\n---\n\n\
# API keys\n\nThe **Nimbus Drive** API lets _your_ scripts [upload files](https://example.com/upload) \
and more.\nA second line of the same paragraph.\n\n\
![diagram](img/diagram.png)\n\n\
## Create a key\n\n1. Go to **Settings > Developer**.\n2. Click *Create key*.\n\n\
- Scopes: `files:read`, `files_write`\n- Expires after 90 days\n\n\
```bash\ncurl -H \"Authorization: Bearer $KEY\" https://api.example/v1/files\n```\n\n\
### Limits\n\n| Plan | Requests |\n|------|---------:|\n| Business | 100/min |\n| Enterprise | 1000/min |\n\n\
Setext heading\n--------------\n\nUnder setext with snake_case_name and <span>inline html</span>.\n";
    let doc = ok("api-keys.md", md.as_bytes());
    assert_eq!(doc.title.as_deref(), Some("Create and manage API keys"));
    let text = all_text(&doc);
    assert!(!text.contains("category") && !text.contains("---"), "front matter leaked: {text}");
    let intro = find(&doc, "lets your scripts");
    assert_eq!(path(intro), ["API keys"]);
    assert_eq!(
        intro.text,
        "The Nimbus Drive API lets your scripts upload files and more. A second line of the same paragraph."
    );
    assert!(!text.contains("diagram") && !text.contains("https://example.com"), "{text}");
    let steps = find(&doc, "Go to Settings");
    assert_eq!(path(steps), ["API keys", "Create a key"]);
    assert!(steps.text.contains("1. Go to Settings > Developer.\n2. Click Create key."), "{}", steps.text);
    assert!(steps.text.contains("- Scopes: files:read, files_write"), "{}", steps.text);
    assert!(
        steps.text.contains("curl -H \"Authorization: Bearer $KEY\" https://api.example/v1/files"),
        "{}",
        steps.text
    );
    let table = find(&doc, "Business");
    assert_eq!(path(table), ["API keys", "Create a key", "Limits"]);
    assert_eq!(table.text, "Plan | Requests\nBusiness | 100/min\nEnterprise | 1000/min");
    let setext = find(&doc, "snake_case_name");
    assert_eq!(path(setext), ["API keys", "Setext heading"]);
    assert_eq!(setext.text, "Under setext with snake_case_name and inline html.");
}

#[test]
fn extract_markdown_title_from_h1() {
    let doc = ok("refund.md", b"Intro before any heading.\n\n# Refund policy\n\nText.\n\n## Monthly\n\nMore text.");
    assert_eq!(doc.title.as_deref(), Some("Refund policy"));
    assert_eq!(path(&doc.sections[0]), Vec::<&str>::new());
    assert_eq!(path(find(&doc, "More text")), ["Refund policy", "Monthly"]);
    // Setext H1 as title, closing hashes dropped.
    let doc = ok("x.md", b"Welcome\n=======\n\n## Part one ##\n\nBody.");
    assert_eq!(doc.title.as_deref(), Some("Welcome"));
    assert_eq!(path(find(&doc, "Body")), ["Welcome", "Part one"]);
}

// ---------------------------------------------------------------- reStructuredText

#[test]
fn extract_rst() {
    let rst = "\
=================
 Single sign-on
=================

:Category: Security
:Plans: Enterprise

Intro with a :ref:`setup guide <saml-setup>` and ``inline code`` and *emphasis*.

.. _saml-setup:

Before you start
----------------

1. Go to **Admin console > Security**.
2. Add the TXT record, see `the docs <https://example.com/docs>`_ or Okta_.

.. note::
   The team **Owner** always keeps password sign-in.

.. image:: diagram.png
   :alt: A diagram that should not appear

Example::

    nimbus-sync login --sso

Sub step
~~~~~~~~

Deeper text.

Enforce SSO
-----------

Set **SSO mode** to Required.

.. toctree::
   :maxdepth: 2

   hidden-page
";
    let doc = ok("sso.rst", rst.as_bytes());
    assert_eq!(doc.title.as_deref(), Some("Single sign-on"));
    let intro = find(&doc, "Intro with");
    assert_eq!(path(intro), ["Single sign-on"]);
    assert!(intro.text.contains("Category: Security\nPlans: Enterprise"), "{}", intro.text);
    assert!(intro.text.contains("Intro with a setup guide and inline code and emphasis."), "{}", intro.text);
    let steps = find(&doc, "Admin console");
    assert_eq!(path(steps), ["Single sign-on", "Before you start"]);
    assert!(steps.text.contains("1. Go to Admin console > Security."), "{}", steps.text);
    assert!(steps.text.contains("see the docs or Okta."), "{}", steps.text);
    assert!(steps.text.contains("Note: The team Owner always keeps password sign-in."), "{}", steps.text);
    assert!(steps.text.contains("Example:\nnimbus-sync login --sso"), "{}", steps.text);
    assert_eq!(path(find(&doc, "Deeper text")), ["Single sign-on", "Before you start", "Sub step"]);
    assert_eq!(path(find(&doc, "SSO mode")), ["Single sign-on", "Enforce SSO"]);
    let text = all_text(&doc);
    assert!(!text.contains("diagram") && !text.contains("hidden-page") && !text.contains("maxdepth"), "{text}");
    assert!(!text.contains("saml-setup") && !text.contains("**"), "{text}");
}

// ---------------------------------------------------------------- plain text

#[test]
fn extract_plain_text() {
    let txt = "\
UPTIME SERVICE LEVEL AGREEMENT
Last updated: 1 March 2024

1. WHO IS COVERED

This SLA applies to teams on the Business and Enterprise plans. The Free and
Starter plans are provided on a best-effort basis.

2. UPTIME COMMITMENT

Business:    99.9% monthly uptime
Enterprise:  99.95% monthly uptime

Exclusions:
- Scheduled maintenance announced at least 72 hours in advance on the status
  page.
- Features labelled beta.
";
    let doc = ok("sla.txt", txt.as_bytes());
    assert_eq!(doc.title.as_deref(), Some("UPTIME SERVICE LEVEL AGREEMENT"));
    let who = find(&doc, "This SLA applies");
    assert_eq!(path(who), ["UPTIME SERVICE LEVEL AGREEMENT", "1. WHO IS COVERED"]);
    assert_eq!(
        who.text,
        "This SLA applies to teams on the Business and Enterprise plans. The Free and Starter plans are provided on \
         a best-effort basis."
    );
    let commitment = find(&doc, "99.9%");
    assert_eq!(path(commitment), ["UPTIME SERVICE LEVEL AGREEMENT", "2. UPTIME COMMITMENT"]);
    assert_eq!(commitment.text, "Business: 99.9% monthly uptime\nEnterprise: 99.95% monthly uptime");
    let exclusions = find(&doc, "Scheduled maintenance");
    assert_eq!(path(exclusions), ["UPTIME SERVICE LEVEL AGREEMENT", "2. UPTIME COMMITMENT", "Exclusions"]);
    assert!(exclusions.text.contains("on the status page.\n- Features labelled beta."), "{}", exclusions.text);

    let underlined = "Is it down?\n===========\n\nCheck the status page.\n\nDuring an incident\n------------------\n\nWe post updates.\n";
    let doc = ok("status.text", underlined.as_bytes());
    assert_eq!(doc.title.as_deref(), Some("Is it down?"));
    assert_eq!(path(find(&doc, "We post")), ["Is it down?", "During an incident"]);

    let cfg = "# Nimbus sync settings\n[network]\nproxy = auto\nlimit_upload = 0\n\n[sync]\nfolder = ~/NimbusDrive\n";
    let doc = ok("nimbus.conf", cfg.as_bytes());
    assert_eq!(doc.title, None);
    assert_eq!(find(&doc, "proxy").text, "proxy = auto\nlimit_upload = 0");
    assert_eq!(path(find(&doc, "folder")), ["sync"]);
}

// ---------------------------------------------------------------- HTML

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Protect a share link | Nimbus Drive Help Center</title>
<style>body { color: red }</style><script>window.track && track("view")</script></head>
<body>
<div id="cookie-banner" class="cookie-banner">We use cookies. <button>Accept all cookies</button></div>
<header class="site-header"><a class="logo" href="/">Nimbus Drive</a>
  <nav class="main-nav"><ul><li><a href="/pricing">Pricing</a></li></ul></nav></header>
<div class="breadcrumbs"><a href="/">Help Center</a> &rsaquo; Sharing</div>
<aside class="sidebar"><h3>Sharing</h3><ul><li>Other article</li></ul></aside>
<main>
<article class="article-body">
  <header class="article-header"><h1>Protect a share link with a password</h1></header>
  <p class="meta">Updated 2 months ago &middot; Business &amp; Enterprise</p>
  <p>With a password, only people who know it can open the link.<br>Line two of the paragraph.</p>
  <h2>Add a password</h2>
  <ol><li>Select the file and click <strong>Share</strong>.</li><li>Open <em>Link settings</em>.</li></ol>
  <table><thead><tr><th>Plan</th><th>Passwords</th></tr></thead>
  <tbody><tr><td>Business</td><td>Yes</td></tr><tr><td>Free</td><td>No</td></tr></tbody></table>
  <h3>From the command line</h3>
  <pre><code>nimbus share --password   secret
nimbus share --list</code></pre>
  <p hidden>Hidden text</p>
  <div class="share-buttons">Share on X</div>
  <div class="feedback"><p>Was this article helpful?</p></div>
</article>
</main>
<footer class="site-footer"><p>&copy; 2024 Nimbus Drive Ltd. All rights reserved.</p></footer>
</body></html>"#;

#[test]
fn extract_html_main_content() {
    let doc = ok("page.html", PAGE.as_bytes());
    assert_eq!(doc.title.as_deref(), Some("Protect a share link with a password"));
    let text = all_text(&doc);
    for noise in [
        "cookies",
        "Pricing",
        "Help Center",
        "Other article",
        "All rights",
        "Hidden",
        "Share on X",
        "helpful",
        "track",
        "color",
    ] {
        assert!(!text.contains(noise), "{noise:?} leaked into {text}");
    }
    let intro = find(&doc, "With a password");
    assert_eq!(path(intro), ["Protect a share link with a password"]);
    assert_eq!(
        intro.text,
        "Updated 2 months ago · Business & Enterprise\nWith a password, only people who know it can open the link.\nLine two of the paragraph."
    );
    let steps = find(&doc, "Select the file");
    assert_eq!(path(steps), ["Protect a share link with a password", "Add a password"]);
    assert!(
        steps.text.starts_with(
            "- Select the file and click Share.\n- Open Link settings.\nPlan | Passwords\nBusiness | Yes\nFree | No"
        ),
        "{}",
        steps.text
    );
    let cli = find(&doc, "nimbus share");
    assert_eq!(path(cli), ["Protect a share link with a password", "Add a password", "From the command line"]);
    assert_eq!(cli.text, "nimbus share --password secret\nnimbus share --list");
}

#[test]
fn extract_html_without_main() {
    let html = r#"<html><head><title>Pricing – Nimbus Drive</title></head><body>
<div class="navbar"><a href="/">Home</a></div>
<div class="content"><h2>Plans</h2><p>Starter costs 8 EUR.</p><p>Business costs 16 EUR.</p></div>
<div id="site-footer">Imprint</div></body></html>"#;
    let doc = ok("pricing.htm", html.as_bytes());
    assert_eq!(doc.title.as_deref(), Some("Pricing"));
    assert_eq!(all_text(&doc), "Starter costs 8 EUR.\nBusiness costs 16 EUR.");
    assert_eq!(path(&doc.sections[0]), ["Plans"]);

    // A page whose only wrapper looks like chrome still gives its text.
    let html = "<html><body><div class=\"layout-with-sidebar\"><p>Real content here.</p></div></body></html>";
    assert_eq!(all_text(&ok("x.html", html.as_bytes())), "Real content here.");

    let xhtml = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Guide</title></head>
<body><div role="main"><h1>Guide</h1><p>Caf&#233; &amp; more<br/>next</p></div></body></html>"#;
    let doc = ok("guide.xhtml", xhtml.as_bytes());
    assert_eq!(doc.title.as_deref(), Some("Guide"));
    assert_eq!(all_text(&doc), "Café & more\nnext");
}

// ---------------------------------------------------------------- XML

#[test]
fn extract_xml() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<faq><title>Billing FAQ</title>
  <entry id="1"><question>Can I pay by invoice?</question><answer>Yes, on Business &amp; Enterprise &#8211; yearly.</answer></entry>
  <entry id="2"><question>VAT?</question><answer><![CDATA[Prices exclude <VAT>.]]></answer></entry>
</faq>"#;
    let doc = ok("faq.xml", xml.as_bytes());
    assert_eq!(doc.title.as_deref(), Some("Billing FAQ"));
    assert_eq!(
        all_text(&doc),
        "Billing FAQ\nCan I pay by invoice?\nYes, on Business & Enterprise – yearly.\nVAT?\nPrices exclude <VAT>."
    );
    let e = err("broken.xml", b"<faq><entry>text</faq>");
    assert!(matches!(&e, ExtractError::Corrupt { kind: "XML file", .. }), "{e:?}");
    // An XHTML document saved as .xml is read as HTML.
    let doc = ok("page.xml", b"<html><body><nav>Menu</nav><main><p>Body text</p></main></body></html>");
    assert_eq!(all_text(&doc), "Body text");
}

// ---------------------------------------------------------------- CSV

#[test]
fn extract_csv() {
    let csv = "plan;price;storage;notes\nFree;0;10 GB;\"One user; no card\"\n\nStarter;8;1 TB;\n;;;\nBusiness;16;5 TB;\"Popular,\nextra storage\"\n";
    let doc = ok("plans.csv", csv.as_bytes());
    assert_eq!(doc.sections.len(), 3, "{doc:#?}");
    let free = &doc.sections[0];
    assert_eq!(path(free), ["Free"]);
    assert_eq!(free.locator.as_deref(), Some("row 1"));
    assert_eq!(free.text, "plan: Free\nprice: 0\nstorage: 10 GB\nnotes: One user; no card");
    let starter = &doc.sections[1];
    assert_eq!(starter.locator.as_deref(), Some("row 2"));
    assert_eq!(starter.text, "plan: Starter\nprice: 8\nstorage: 1 TB");
    assert_eq!(doc.sections[2].text, "plan: Business\nprice: 16\nstorage: 5 TB\nnotes: Popular, extra storage");

    let tabs = "Name\tRole\n\"Ada\"\tOwner\nBob\tAdmin\n";
    let doc = ok("team.csv", tabs.as_bytes());
    assert_eq!(doc.sections.len(), 2);
    assert_eq!(doc.sections[1].text, "Name: Bob\nRole: Admin");
    let pipes = "a|b\n1|2\n";
    assert_eq!(ok("p.csv", pipes.as_bytes()).sections[0].text, "a: 1\nb: 2");
    // Only a header row.
    assert_eq!(all_text(&ok("h.csv", b"plan,price\n")), "plan | price");
}

// ---------------------------------------------------------------- JSON

#[test]
fn extract_json() {
    let json = r#"{"title": "Data regions", "updated": "2024-07-15",
      "regions": [
        {"code": "eu-central", "name": "EU Central", "city": "Frankfurt", "plans": ["Free", "Business"],
         "backup": {"site": "Berlin", "distance_km": 500}, "default_for": null},
        {"code": "us-east", "name": "US East", "certified": true}
      ],
      "notes": {"migration": "Up to 10 business days"}}"#;
    let doc = ok("regions.json", json.as_bytes());
    assert_eq!(doc.title.as_deref(), Some("Data regions"));
    assert_eq!(doc.sections.len(), 3, "{doc:#?}");
    assert_eq!(
        doc.sections[0].text,
        "title: Data regions\nupdated: 2024-07-15\nnotes.migration: Up to 10 business days"
    );
    let eu = &doc.sections[1];
    assert_eq!(path(eu), ["regions", "EU Central"]);
    assert_eq!(eu.locator.as_deref(), Some("regions, item 1"));
    assert_eq!(
        eu.text,
        "code: eu-central\nname: EU Central\ncity: Frankfurt\nplans: Free, Business\nbackup.site: Berlin\nbackup.distance_km: 500"
    );
    assert_eq!(doc.sections[2].text, "code: us-east\nname: US East\ncertified: true");

    let array =
        r#"[{"id": 7, "q": "Reset password?", "a": "Use the link"}, {"title": "Second", "tags": [{"k": "v"}]}]"#;
    let doc = ok("faq.json", array.as_bytes());
    assert_eq!(path(&doc.sections[0]), ["7"]);
    assert_eq!(doc.sections[0].locator.as_deref(), Some("item 1"));
    assert_eq!(doc.sections[1].text, "title: Second\ntags[1].k: v");

    let plain = r#"{"name": "Nimbus", "limits": {"upload": "2 GB", "list": [1, 2, 3]}}"#;
    let doc = ok("cfg.json", plain.as_bytes());
    assert_eq!(doc.title.as_deref(), Some("Nimbus"));
    assert_eq!(all_text(&doc), "name: Nimbus\nlimits.upload: 2 GB\nlimits.list: 1, 2, 3");

    let lines = "{\"name\": \"a\", \"v\": 1}\n{\"name\": \"b\", \"v\": 2}\n";
    assert_eq!(ok("events.json", lines.as_bytes()).sections.len(), 2);

    let e = err("bad.json", b"{\"title\": \"unterminated");
    assert!(matches!(&e, ExtractError::Corrupt { kind: "JSON file", detail } if detail.contains("line 1")), "{e:?}");
}

// ---------------------------------------------------------------- DOCX

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/></Types>"#;

fn package_rels(target: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="{target}"/></Relationships>"#
    )
}

fn core_xml(title: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title><dc:creator>Someone</dc:creator></cp:coreProperties>"#
    )
}

fn w_para(style: Option<&str>, text: &str) -> String {
    let props = style.map(|s| format!("<w:pPr><w:pStyle w:val=\"{s}\"/></w:pPr>")).unwrap_or_default();
    format!("<w:p>{props}<w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>")
}

fn docx_bytes(body: &str, core_title: Option<&str>) -> Vec<u8> {
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>{body}<w:sectPr/></w:body></w:document>"#
    );
    let styles = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:type="paragraph" w:styleId="Normal"><w:name w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="Titel"><w:name w:val="Title"/></w:style>
<w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="MyHeading"><w:name w:val="My custom heading"/><w:basedOn w:val="berschrift2"/></w:style>
<w:style w:type="paragraph" w:styleId="berschrift2"><w:name w:val="heading 2"/></w:style>
</w:styles>"#;
    let mut files = vec![
        ("[Content_Types].xml", CONTENT_TYPES.to_string()),
        ("_rels/.rels", package_rels("word/document.xml")),
        ("word/document.xml", document),
        ("word/styles.xml", styles.to_string()),
    ];
    if let Some(title) = core_title {
        files.push(("docProps/core.xml", core_xml(title)));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    zip_of(&refs)
}

fn sample_docx() -> Vec<u8> {
    let body = [
        w_para(Some("Titel"), "Nimbus Drive admin guide"),
        w_para(None, "Read this first &amp; keep it."),
        w_para(Some("berschrift1"), "Invite members"),
        "<w:p><w:pPr><w:numPr><w:ilvl w:val=\"0\"/><w:numId w:val=\"1\"/></w:numPr></w:pPr><w:r><w:t>Open the </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>Admin console</w:t></w:r><w:r><w:tab/><w:t>now</w:t></w:r></w:p>".to_string(),
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Role</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Can invite</w:t></w:r></w:p></w:tc></w:tr>\
         <w:tr><w:tc><w:p><w:r><w:t>Admin</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Yes</w:t></w:r></w:p><w:p><w:r><w:t>always</w:t></w:r></w:p></w:tc></w:tr></w:tbl>".to_string(),
        w_para(Some("MyHeading"), "Custom based on heading 2"),
        "<w:p><w:r><w:t>Deleted </w:t></w:r><w:del><w:r><w:delText>old words</w:delText></w:r></w:del><w:r><mc:AlternateContent><mc:Choice><w:t>box text</w:t></mc:Choice><mc:Fallback><w:t>box text</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>".to_string(),
        w_para(Some("Heading1"), "Second chapter"),
        "<w:p><w:r><w:t>Line one</w:t><w:br/><w:t>line two</w:t></w:r></w:p>".to_string(),
    ]
    .concat();
    docx_bytes(&body, Some("Core title"))
}

#[test]
fn extract_docx() {
    let doc = ok("guide.docx", &sample_docx());
    assert_eq!(doc.title.as_deref(), Some("Nimbus Drive admin guide"));
    assert_eq!(doc.sections.len(), 4, "{doc:#?}");
    assert_eq!(path(&doc.sections[0]), ["Nimbus Drive admin guide"]);
    assert_eq!(doc.sections[0].text, "Read this first & keep it.");
    assert_eq!(path(&doc.sections[1]), ["Nimbus Drive admin guide", "Invite members"]);
    assert_eq!(doc.sections[1].text, "- Open the Admin console now\nRole | Can invite\nAdmin | Yes always");
    assert_eq!(path(&doc.sections[2]), ["Nimbus Drive admin guide", "Invite members", "Custom based on heading 2"]);
    assert_eq!(doc.sections[2].text, "Deleted box text");
    assert_eq!(path(&doc.sections[3]), ["Nimbus Drive admin guide", "Second chapter"]);
    assert_eq!(doc.sections[3].text, "Line one\nline two");

    // Without a Title paragraph, docProps/core.xml names the document.
    let doc = ok("plain.docx", &docx_bytes(&w_para(None, "Just text."), Some("Core title")));
    assert_eq!(doc.title.as_deref(), Some("Core title"));
}

#[test]
fn extract_docx_bad_inputs() {
    let good = sample_docx();
    for cut in [good.len() / 2, good.len() - 10, 30] {
        let e = err("cut.docx", &good[..cut]);
        assert!(matches!(&e, ExtractError::Corrupt { kind: "Word document (.docx)", .. }), "cut at {cut}: {e:?}");
    }
    let e = err("nodoc.docx", &zip_of(&[("hello.txt", "hi")]));
    assert!(matches!(&e, ExtractError::Corrupt { detail, .. } if detail.contains("word/document.xml")), "{e:?}");
    let broken = docx_bytes("<w:p><w:r><w:t>unclosed</w:r></w:p>", None);
    assert!(matches!(err("broken.docx", &broken), ExtractError::Corrupt { .. }));
    // Flipped bytes in the compressed data: bad deflate stream or checksum.
    let mut flipped = good.clone();
    let start = flipped.windows(17).position(|w| w == b"word/document.xml").unwrap() + 17;
    for b in &mut flipped[start + 20..start + 60] {
        *b ^= 0x5A;
    }
    assert!(matches!(err("flipped.docx", &flipped), ExtractError::Corrupt { .. }));
}

// ---------------------------------------------------------------- PPTX

fn slide_xml(title: &str, body: &[&str], extra: &str) -> String {
    let paras: String = body.iter().map(|p| format!("<a:p><a:r><a:t>{p}</a:t></a:r></a:p>")).collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree>
<p:sp><p:nvSpPr><p:cNvPr id="2" name="Title 1"/><p:cNvSpPr/><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:txBody><a:bodyPr/><a:p><a:r><a:t>{title}</a:t></a:r></a:p></p:txBody></p:sp>
<p:sp><p:nvSpPr><p:cNvPr id="3" name="Content 2"/><p:cNvSpPr/><p:nvPr><p:ph idx="1"/></p:nvPr></p:nvSpPr><p:txBody><a:bodyPr/>{paras}</p:txBody></p:sp>
<p:sp><p:nvSpPr><p:cNvPr id="4" name="Slide Number"/><p:cNvSpPr/><p:nvPr><p:ph type="sldNum" idx="12"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>99</a:t></a:r></a:p></p:txBody></p:sp>
{extra}</p:spTree></p:cSld></p:sld>"#
    )
}

fn sample_pptx() -> Vec<u8> {
    let presentation = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><p:sldIdLst><p:sldId id="256" r:id="rId3"/><p:sldId id="257" r:id="rId2"/></p:sldIdLst></p:presentation>"#;
    let presentation_rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideMaster" Target="slideMasters/slideMaster1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide1.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide2.xml"/></Relationships>"#;
    let table = r#"<p:graphicFrame><a:graphic><a:graphicData><a:tbl><a:tr><a:tc><a:txBody><a:p><a:r><a:t>Plan</a:t></a:r></a:p></a:txBody></a:tc><a:tc><a:txBody><a:p><a:r><a:t>Price</a:t></a:r></a:p></a:txBody></a:tc></a:tr><a:tr><a:tc><a:txBody><a:p><a:r><a:t>Starter</a:t></a:r></a:p></a:txBody></a:tc><a:tc><a:txBody><a:p><a:r><a:t>8 EUR</a:t></a:r></a:p></a:txBody></a:tc></a:tr></a:tbl></a:graphicData></a:graphic></p:graphicFrame>"#;
    let slide1 = slide_xml("Pricing", &["Two paid plans", "Billed &amp; invoiced monthly"], table);
    let slide2 = slide_xml("Welcome to Nimbus Drive", &["Agenda for today"], "");
    let slide1_rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideLayout" Target="../slideLayouts/slideLayout2.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/notesSlide" Target="../notesSlides/notesSlide1.xml"/></Relationships>"#;
    let notes = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:notes xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree>
<p:sp><p:nvSpPr><p:cNvPr id="2" name="Slide Image"/><p:cNvSpPr/><p:nvPr><p:ph type="sldImg"/></p:nvPr></p:nvSpPr></p:sp>
<p:sp><p:nvSpPr><p:cNvPr id="3" name="Notes"/><p:cNvSpPr/><p:nvPr><p:ph type="body" idx="1"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>Mention the annual discount.</a:t></a:r></a:p></p:txBody></p:sp>
<p:sp><p:nvSpPr><p:cNvPr id="4" name="Number"/><p:cNvSpPr/><p:nvPr><p:ph type="sldNum" idx="5"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>1</a:t></a:r></a:p></p:txBody></p:sp>
</p:spTree></p:cSld></p:notes>"#;
    zip_of(&[
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", &package_rels("ppt/presentation.xml")),
        ("ppt/presentation.xml", presentation),
        ("ppt/_rels/presentation.xml.rels", presentation_rels),
        ("ppt/slides/slide1.xml", &slide1),
        ("ppt/slides/slide2.xml", &slide2),
        ("ppt/slides/_rels/slide1.xml.rels", slide1_rels),
        ("ppt/notesSlides/notesSlide1.xml", notes),
    ])
}

#[test]
fn extract_pptx() {
    let doc = ok("deck.pptx", &sample_pptx());
    assert_eq!(doc.title.as_deref(), Some("Welcome to Nimbus Drive"));
    assert_eq!(doc.sections.len(), 2, "{doc:#?}");
    let first = &doc.sections[0];
    assert_eq!(first.locator.as_deref(), Some("slide 1"));
    assert_eq!(path(first), ["Welcome to Nimbus Drive"]);
    assert_eq!(first.text, "Agenda for today");
    let second = &doc.sections[1];
    assert_eq!(second.locator.as_deref(), Some("slide 2"));
    assert_eq!(path(second), ["Pricing"]);
    assert_eq!(
        second.text,
        "Two paid plans\nBilled & invoiced monthly\nPlan | Price\nStarter | 8 EUR\nMention the annual discount."
    );
}

#[test]
fn extract_pptx_numeric_order_and_bad_inputs() {
    // No presentation.xml order: slides by number (slide10 after slide2).
    let files: Vec<(String, String)> = [1, 10, 2]
        .iter()
        .map(|n| (format!("ppt/slides/slide{n}.xml"), slide_xml(&format!("Slide {n}"), &["body"], "")))
        .collect();
    let mut refs: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), c.as_str())).collect();
    refs.push(("ppt/presentation.xml", "<p:presentation xmlns:p=\"p\"/>"));
    let doc = ok("deck.pptx", &zip_of(&refs));
    let titles: Vec<&str> = doc.sections.iter().map(|s| s.heading_path[0].as_str()).collect();
    assert_eq!(titles, ["Slide 1", "Slide 2", "Slide 10"]);

    let good = sample_pptx();
    let e = err("cut.pptx", &good[..good.len() / 3]);
    assert!(matches!(&e, ExtractError::Corrupt { kind: "PowerPoint presentation (.pptx)", .. }), "{e:?}");
    assert!(matches!(err("empty.pptx", &zip_of(&[("a.txt", "x")])), ExtractError::Corrupt { .. }));
}

// ---------------------------------------------------------------- XLSX / XLS

fn sample_xlsx() -> Vec<u8> {
    let content_types = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
    let workbook = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Plans" sheetId="1" r:id="rId1"/><sheet name="Notes" sheetId="2" r:id="rId2"/></sheets></workbook>"#;
    let workbook_rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
    let shared = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="9" uniqueCount="9"><si><t>Plan</t></si><si><t>Price</t></si><si><t>Storage</t></si><si><t>Free</t></si><si><t>10 GB</t></si><si><t>Business</t></si><si><t>5 TB</t></si><si><t>Only a header</t></si><si><t>Second header</t></si></sst>"#;
    // The table starts at B2; row 4 is empty; C5 (Business storage) missing is skipped.
    let sheet1 = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="2"><c r="B2" t="s"><v>0</v></c><c r="C2" t="s"><v>1</v></c><c r="D2" t="s"><v>2</v></c></row>
<row r="3"><c r="B3" t="s"><v>3</v></c><c r="C3"><v>0</v></c><c r="D3" t="s"><v>4</v></c></row>
<row r="5"><c r="B5" t="s"><v>5</v></c><c r="C5"><v>16.5</v></c></row>
<row r="6"><c r="B6" t="inlineStr"><is><t>Enterprise</t></is></c><c r="C6" t="str"><v>Custom quote</v></c><c r="D6" t="b"><v>1</v></c></row>
</sheetData></worksheet>"#;
    let sheet2 = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>7</v></c><c r="B1" t="s"><v>8</v></c></row></sheetData></worksheet>"#;
    zip_of(&[
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", &package_rels("xl/workbook.xml")),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/sharedStrings.xml", shared),
        ("xl/worksheets/sheet1.xml", sheet1),
        ("xl/worksheets/sheet2.xml", sheet2),
    ])
}

#[test]
fn extract_xlsx() {
    let doc = ok("plans.xlsx", &sample_xlsx());
    assert_eq!(doc.sections.len(), 4, "{doc:#?}");
    let free = &doc.sections[0];
    assert_eq!(free.locator.as_deref(), Some("Plans, row 3"));
    assert_eq!(path(free), ["Plans", "Free"]);
    assert_eq!(free.text, "Plan: Free\nPrice: 0\nStorage: 10 GB");
    let business = &doc.sections[1];
    assert_eq!(business.locator.as_deref(), Some("Plans, row 5"));
    assert_eq!(business.text, "Plan: Business\nPrice: 16.5");
    assert_eq!(doc.sections[2].text, "Plan: Enterprise\nPrice: Custom quote\nStorage: true");
    assert_eq!(path(&doc.sections[3]), ["Notes"]);
    assert_eq!(doc.sections[3].text, "Only a header | Second header");

    let good = sample_xlsx();
    let e = err("cut.xlsx", &good[..good.len() / 2]);
    assert!(matches!(&e, ExtractError::Corrupt { kind: "Excel workbook (.xlsx)", .. }), "{e:?}");
    let e = err("noworkbook.xlsx", &zip_of(&[("a.txt", "x")]));
    assert!(matches!(&e, ExtractError::Corrupt { .. }), "{e:?}");
}

#[test]
fn extract_xls() {
    // Written by xlwt (BIFF8): two sheets, a number, a float, a date and a non-ASCII string.
    let bytes = include_bytes!("../../tests/fixtures/plans.xls");
    let doc = ok("plans.xls", bytes);
    assert_eq!(doc.sections.len(), 4, "{doc:#?}");
    assert_eq!(doc.sections[0].locator.as_deref(), Some("Prices, row 2"), "{doc:#?}");
    assert_eq!(path(&doc.sections[0]), ["Prices", "Free"]);
    assert_eq!(doc.sections[0].text, "Plan: Free\nMonthly price (EUR): 0\nStorage: 10 GB");
    assert_eq!(doc.sections[2].text, "Plan: Business\nMonthly price (EUR): 16.5\nStorage: 5 TB\nNotes: Città: Milano");
    assert_eq!(doc.sections[3].locator.as_deref(), Some("Regions, row 2"));
    assert_eq!(doc.sections[3].text, "Region: EU Central\nLaunched: 2019-03-01");
    // A renamed workbook is still read for what it is.
    assert_eq!(ok("plans.xlsx", bytes).sections.len(), 4);
    assert_eq!(ok("plans.xls", &sample_xlsx()).sections.len(), 4);
    let e = err("cut.xls", &bytes[..1500]);
    assert!(matches!(&e, ExtractError::Corrupt { kind: "Excel 97-2003 workbook (.xls)", .. }), "{e:?}");
}

#[test]
fn extract_spreadsheet_grid_bombs() {
    // Two cells at opposite corners of the largest sheet: a dense grid would need
    // hundreds of gigabytes (calamine's worksheet_range would abort the process).
    let xlsx = sample_xlsx();
    let corners = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>Corner</t></is></c></row>
<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far away</t></is></c></row>
</sheetData></worksheet>"#;
    let files = unzip_replace(&xlsx, "xl/worksheets/sheet2.xml", corners);
    let doc = ok("corners.xlsx", &files);
    let far = find(&doc, "far away");
    assert_eq!(far.locator.as_deref(), Some("Notes, row 1048576"));
    assert_eq!(find(&doc, "Corner").text, "Name: Corner");

    // A shared-string table claiming billions of strings (calamine reserves them up front).
    let sst = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4000000000" uniqueCount="4000000000"><si><t>x</t></si></sst>"#;
    let e = err("sst.xlsx", &unzip_replace(&xlsx, "xl/sharedStrings.xml", sst));
    assert!(matches!(&e, ExtractError::Corrupt { detail, .. } if detail.contains("uniqueCount")), "{e:?}");

    // An XLS whose DIMENSIONS record declares 4 billion rows.
    let mut xls = include_bytes!("../../tests/fixtures/plans.xls").to_vec();
    let at = xls.windows(4).position(|w| w == [0x00, 0x02, 0x0E, 0x00]).expect("a DIMENSIONS record");
    xls[at + 8..at + 12].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let e = err("huge.xls", &xls);
    assert!(matches!(&e, ExtractError::Corrupt { detail, .. } if detail.contains("too large")), "{e:?}");
}

/// The same zip with one part's content replaced.
fn unzip_replace(zip: &[u8], name: &str, content: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
    let mut files = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let entry_name = entry.name().unwrap().to_string();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
        files.push((entry_name.clone(), if entry_name == name { content.to_string() } else { text }));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), c.as_str())).collect();
    zip_of(&refs)
}

// ---------------------------------------------------------------- zip bombs

#[test]
fn extract_zip_bomb_central_directory() {
    // 300 MiB of zeros, streamed: the archive stays around 300 KiB.
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file("word/document.xml", options).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        zip.write_all(&zeros).unwrap();
    }
    let bomb = zip.finish().unwrap().into_inner();
    assert!(bomb.len() < 2 << 20, "{}", bomb.len());
    for name in ["bomb.docx", "bomb.pptx", "bomb.xlsx"] {
        assert_eq!(err(name, &bomb), ExtractError::ZipBomb { limit: 200 * 1024 * 1024 }, "{name}");
    }
    let e = err("bomb.docx", &bomb).to_string();
    assert_eq!(e, "the archive inflates beyond 209715200 bytes (possible zip bomb)");
}

#[test]
fn extract_zip_bomb_lying_sizes() {
    // An entry that inflates to 1 MiB while the directory claims 100 bytes.
    let body = format!("<w:p><w:r><w:t>{}</w:t></w:r></w:p>", "a".repeat(1 << 20));
    let mut bytes = docx_bytes(&body, None);
    let name = b"word/document.xml";
    let mut patched = 0;
    let mut i = 0;
    while i + 46 < bytes.len() {
        if bytes[i..i + 4] == *b"PK\x01\x02" && bytes[i + 46..].starts_with(name) {
            bytes[i + 24..i + 28].copy_from_slice(&100u32.to_le_bytes());
            patched += 1;
        }
        i += 1;
    }
    assert_eq!(patched, 1);
    let tight = Limits { max_uncompressed: 64 * 1024, ..Limits::default() };
    // The zip crate itself stops at the declared size (our budget reader is the second guard).
    let e = extract("liar.docx", &bytes, &tight).unwrap_err();
    assert!(matches!(&e, ExtractError::Corrupt { detail, .. } if detail.contains("declared")), "{e:?}");
    // Honest sizes over a small limit: refused from the directory.
    assert_eq!(
        extract("guide.docx", &sample_docx(), &Limits { max_uncompressed: 1000, ..Limits::default() }),
        Err(ExtractError::ZipBomb { limit: 1000 })
    );
    // xlsx goes through calamine only after every entry was inflated within the budget.
    assert_eq!(
        extract("plans.xlsx", &sample_xlsx(), &Limits { max_uncompressed: 2000, ..Limits::default() }),
        Err(ExtractError::ZipBomb { limit: 2000 })
    );
}

// ---------------------------------------------------------------- PDF

/// A minimal PDF: one Helvetica text object per page, xref offsets computed.
fn pdf_bytes(pages: &[&str]) -> Vec<u8> {
    let n = pages.len();
    let font_id = 3 + 2 * n;
    let mut objects: Vec<String> = Vec::new();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".to_string());
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 3 + 2 * i)).collect();
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")));
    for (i, text) in pages.iter().enumerate() {
        let page_id = 3 + 2 * i;
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R /Resources << /Font << /F1 {font_id} 0 R >> >> >>",
            page_id + 1
        ));
        let stream = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
        objects.push(format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()));
    }
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string());
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

#[test]
fn extract_pdf() {
    let bytes = pdf_bytes(&["Refunds are possible within 14 days.", "", "Contact billing for invoices."]);
    let doc = ok("policy.pdf", &bytes);
    assert_eq!(doc.sections.len(), 2, "{doc:#?}");
    assert_eq!(doc.sections[0].locator.as_deref(), Some("page 1"));
    assert_eq!(doc.sections[0].text, "Refunds are possible within 14 days.");
    assert_eq!(doc.sections[1].locator.as_deref(), Some("page 3"));
    assert_eq!(doc.sections[1].text, "Contact billing for invoices.");
}

#[test]
fn extract_pdf_bad_inputs() {
    let good = pdf_bytes(&["Hello"]);
    let e = err("cut.pdf", &good[..good.len() / 2]);
    assert!(matches!(&e, ExtractError::Corrupt { kind: "PDF", .. }), "{e:?}");
    let e = err("junk.pdf", b"%PDF-1.7\nthis is not really a pdf at all\n%%EOF");
    assert!(matches!(&e, ExtractError::Corrupt { kind: "PDF", .. }), "{e:?}");
    assert!(e.to_string().starts_with("the file is corrupt or not a valid PDF: "), "{e}");
    // A PDF without any text (a scan) is reported so the caller can try another tool.
    let e = err("scan.pdf", &pdf_bytes(&[""]));
    assert!(matches!(&e, ExtractError::Corrupt { detail, .. } if detail.contains("no text")), "{e:?}");
    assert!(matches!(err("fake.pdf", b"Just some text."), ExtractError::Mismatch { .. }));
}

/// A PDF from its objects (object N is `objects[N - 1]`; object 1 is the catalog).
fn pdf_of(objects: &[&str]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
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

#[test]
fn extract_pdf_hostile_structures() {
    // These crash pdf-extract with a stack overflow (an abort, not a panic) unless refused first.
    let draw = "/X1 Do";
    let content = format!("<< /Length {} >>\nstream\n{draw}\nendstream", draw.len());
    let form_own = format!(
        "<< /Type /XObject /Subtype /Form /BBox [0 0 9 9] /Resources << /XObject << /X1 5 0 R >> >> /Length {} >>\nstream\n{draw}\nendstream",
        draw.len()
    );
    let form_inheriting = format!(
        "<< /Type /XObject /Subtype /Form /BBox [0 0 9 9] /Length {} >>\nstream\n{draw}\nendstream",
        draw.len()
    );
    for form in [&form_own, &form_inheriting] {
        let bytes = pdf_of(&[
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /X1 5 0 R >> >> >>",
            &content,
            form,
        ]);
        let e = err("form-loop.pdf", &bytes);
        assert!(matches!(&e, ExtractError::Corrupt { detail, .. } if detail.contains("draws itself")), "{e:?}");
    }
    let parent_loop = pdf_of(&[
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 2 0 R >>",
        "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
        "<< /Length 0 >>\nstream\n\nendstream",
    ]);
    let e = err("parent-loop.pdf", &parent_loop);
    assert!(matches!(&e, ExtractError::Corrupt { detail, .. } if detail.contains("loops")), "{e:?}");
    // A Pages node among its own kids: lopdf's page walk copes; no text, so corrupt.
    let kids_loop = pdf_of(&[
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]);
    assert!(matches!(err("kids-loop.pdf", &kids_loop), ExtractError::Corrupt { .. }));
    // Deeply nested arrays: lopdf's parser copes.
    let deep = format!("<< /Type /Catalog /Pages 2 0 R /X {}{} >>", "[".repeat(100_000), "]".repeat(100_000));
    let nested = pdf_of(&[&deep, "<< /Type /Pages /Kids [] /Count 0 >>"]);
    assert!(matches!(err("nested.pdf", &nested), ExtractError::Corrupt { .. }));
    // A content stream that does not parse: pdf-extract panics, caught per page.
    let broken = format!("BT /F1 12 Tf {} (x) Tj ET", "[".repeat(1000));
    let broken = format!("<< /Length {} >>\nstream\n{broken}\nendstream", broken.len());
    let bytes = pdf_of(&[
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        &broken,
    ]);
    let e = err("broken-content.pdf", &bytes);
    assert!(matches!(&e, ExtractError::Corrupt { detail, .. } if detail.contains("page 1")), "{e:?}");
}

#[test]
fn extract_split_pages() {
    let sections = split_pages("First   page\n\n line two\x0c\x0cThird page\x0c");
    assert_eq!(sections.len(), 2);
    assert_eq!(sections[0].locator.as_deref(), Some("page 1"));
    assert_eq!(sections[0].text, "First page\nline two");
    assert_eq!(sections[1].locator.as_deref(), Some("page 3"));
    assert!(split_pages("").is_empty());
}

// ---------------------------------------------------------------- robustness

/// A small deterministic generator for garbage inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn extract_text_readers_never_panic() {
    // Our own readers run outside catch_unwind here: any panic fails the test.
    let alphabet: Vec<char> = "ab #*_-=`~[]()<>!|:.\\\n\n  \t1.é€{}\",;'/&".chars().collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let len = (rng.next() % 200) as usize;
        let s: String = (0..len).map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize]).collect();
        let _ = text::markdown(&s);
        let _ = text::rst(&s);
        let _ = text::plain(&s, false);
        let _ = text::plain(&s, true);
        let _ = html::html(&s);
        let _ = data::csv(&s);
        let _ = data::json(&s);
        let _ = data::xml(&s);
    }
}

#[test]
fn extract_binary_formats_never_panic() {
    let samples = [
        ("a.docx", sample_docx()),
        ("a.pptx", sample_pptx()),
        ("a.xlsx", sample_xlsx()),
        ("a.xls", include_bytes!("../../tests/fixtures/plans.xls").to_vec()),
        ("a.pdf", pdf_bytes(&["Some text here", "More"])),
    ];
    let mut rng = Rng(42);
    for (name, good) in &samples {
        for _ in 0..40 {
            let mut bytes = good.clone();
            let cut = (rng.next() as usize) % bytes.len();
            if rng.next().is_multiple_of(2) {
                bytes.truncate(cut.max(1));
            } else {
                for _ in 0..8 {
                    let at = (rng.next() as usize) % bytes.len();
                    bytes[at] = rng.next() as u8;
                }
            }
            // Must return, Ok or Err; a panic would escape here only if catch_unwind failed.
            let _ = extract(name, &bytes, &limits());
        }
    }
}

// ---------------------------------------------------------------- the evaluation corpus

#[test]
fn extract_eval_content() {
    let root = std::path::Path::new("/work/shared/eval/content");
    if !root.is_dir() {
        return;
    }
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty());
    for file in &files {
        let name = file.to_string_lossy().to_string();
        let bytes = std::fs::read(file).unwrap();
        let doc = extract(&name, &bytes, &limits()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!doc.sections.is_empty(), "{name}");
        assert!(doc.title.is_some() || name.ends_with(".csv"), "{name} has no title");
        let text = all_text(&doc);
        if name.ends_with(".html") {
            for boilerplate in [
                "Accept all",
                "We use cookies",
                "All rights reserved",
                "Tous droits réservés",
                "Nimbus Drive Ltd",
                "Log in",
                "Connexion",
                "Skip to content",
                "Cookie settings",
                "Was this article helpful",
                "Search the Help Center",
                "Language:",
            ] {
                assert!(!text.contains(boilerplate), "{name}: {boilerplate:?} in {text}");
            }
            assert!(
                !doc.sections.iter().any(|s| s.heading_path.iter().any(|h| h == "Desktop apps" || h == "Sharing")),
                "{name}: sidebar heading kept"
            );
        }
        if name.ends_with(".md") {
            assert!(!text.contains("**") && !text.contains("](") && !text.starts_with("---"), "{name}: {text}");
        }
    }
    let get = |relative: &str| {
        let bytes = std::fs::read(root.join(relative)).unwrap();
        extract(relative, &bytes, &limits()).unwrap()
    };

    let windows = get("en/desktop/windows-desktop-app.html");
    assert_eq!(windows.title.as_deref(), Some("Install the Nimbus Drive desktop app on Windows"));
    let t = all_text(&windows);
    assert!(t.contains("Each version is supported for 12 months after its release"), "{t}");
    assert!(t.contains("Silent install: msiexec /i NimbusDrive-x64.msi /qn."), "{t}");
    assert!(t.contains("C:\\Users\\<your name>\\Nimbus Drive"), "{t}");
    assert!(!t.contains("Install the desktop app on macOS"), "sidebar: {t}");
    let updates = find(&windows, "supported for 12 months");
    assert_eq!(path(updates), ["Install the Nimbus Drive desktop app on Windows", "Updates"]);

    let links = get("en/sharing/password-protected-links.html");
    let t = all_text(&links);
    assert!(
        t.contains("After 10 failed attempts within one hour, the link is locked for everyone for 15 minutes."),
        "{t}"
    );
    assert!(!t.contains("Careers") && !t.contains("Try it free"), "{t}");

    let contact = get("en/support/contact-us.html");
    let t = all_text(&contact);
    assert!(t.contains("Phone: +353 1 555 0142 | Enterprise only | 24/7 for priority 1 incidents"), "{t}");
    assert!(!t.contains("cookies") && !t.contains("Reject non-essential") && !t.contains("Harbour Street"), "{t}");

    let linux = get("fr/client-linux.html");
    assert_eq!(linux.title.as_deref(), Some("Installer le client de synchronisation Nimbus Drive sous Linux"));
    let t = all_text(&linux);
    assert!(t.contains("sudo apt update && sudo apt install nimbus-sync"), "{t}");
    assert!(!t.contains("Essai gratuit") && !t.contains("Centre d'aide"), "{t}");

    let plans = get("en/plans/plan-comparison.csv");
    assert_eq!(plans.sections.len(), 4, "{plans:#?}");
    let names: Vec<&str> = plans.sections.iter().map(|s| s.heading_path[0].as_str()).collect();
    assert_eq!(names, ["Free", "Starter", "Business", "Enterprise"]);
    assert!(
        plans.sections[3].text.contains("support: Email, chat and phone (first reply within 1 hour"),
        "{:?}",
        plans.sections[3]
    );
    assert_eq!(plans.sections[2].locator.as_deref(), Some("row 3"));

    let regions = get("en/account/data-centre-regions.json");
    assert_eq!(regions.title.as_deref(), Some("Nimbus Drive data centre regions"));
    let per_region: Vec<&Section> =
        regions.sections.iter().filter(|s| s.heading_path.first().is_some_and(|h| h == "regions")).collect();
    assert_eq!(per_region.len(), 6, "{regions:#?}");
    assert_eq!(path(per_region[2]), ["regions", "EU South"]);
    assert!(per_region[2].text.contains("city: Milan"), "{:?}", per_region[2]);
    assert!(all_text(&regions).contains("changing_region: Business teams can't change region"));

    let sso = get("en/security/saml-single-sign-on.rst");
    assert_eq!(sso.title.as_deref(), Some("Set up SAML single sign-on (SSO)"));
    let note = find(&sso, "always keeps password sign-in");
    assert_eq!(path(note), ["Set up SAML single sign-on (SSO)", "Enforce SSO"]);
    assert!(
        note.text.contains("Note: The team Owner always keeps password sign-in as a recovery account"),
        "{}",
        note.text
    );

    let sla = get("en/legal/uptime-sla.txt");
    assert_eq!(sla.title.as_deref(), Some("NIMBUS DRIVE UPTIME SERVICE LEVEL AGREEMENT (SLA)"));
    assert_eq!(
        path(find(&sla, "Credits are deducted")),
        ["NIMBUS DRIVE UPTIME SERVICE LEVEL AGREEMENT (SLA)", "4. SERVICE CREDITS"]
    );

    let status = get("en/support/service-status-and-outages.txt");
    assert_eq!(status.title.as_deref(), Some("Is Nimbus Drive down? Checking the service status"));
    assert_eq!(
        path(find(&status, "post-incident report")),
        ["Is Nimbus Drive down? Checking the service status", "After an incident"]
    );

    let keys = get("en/developers/api-keys.md");
    assert_eq!(keys.title.as_deref(), Some("Create and manage API keys"));
    assert!(!all_text(&keys).contains("category: Developers"));
}

// ---------------------------------------------------------------- hostile HTML and XML

/// The deepest element of a parsed page (html = 1).
fn tree_depth(html: &str) -> usize {
    let page = scraper::Html::parse_document(html);
    let mut deepest = 0;
    for node in page.tree.root().descendants() {
        deepest = deepest.max(node.ancestors().count());
    }
    deepest
}

#[test]
fn extract_deeply_nested_html_is_bounded() {
    // 100,000 nested <div>s: the parser's scope checks walk the stack of open elements
    // at every tag, so unbounded nesting is quadratic (the probe: 17 minutes for 5.5 MB).
    // The depth cap drops the tags beyond MAX_DEPTH, keeps every word, and the parser
    // then never sees a stack deeper than the cap: work bounded by depth × tags.
    const N: usize = 100_000;
    let page = format!(
        "<html><body><h1>Deep</h1>{}<p>the bottom line</p>{}<p>after</p></body></html>",
        "<div>".repeat(N),
        "</div>".repeat(N)
    );
    let (capped, dropped) = super::html::cap_depth(&page, super::html::MAX_DEPTH);
    assert_eq!(dropped, 2 * (N - super::html::MAX_DEPTH), "every tag past the cap, open and close");
    assert!(capped.len() < page.len() - 10 * (N - super::html::MAX_DEPTH));
    // html > body > 256 divs > p > text.
    assert_eq!(tree_depth(&capped), super::html::MAX_DEPTH + 4);
    let doc = ok("deep.html", page.as_bytes());
    let text = all_text(&doc);
    assert!(text.contains("the bottom line") && text.contains("after"), "{text}");

    // Self-closed HTML elements open like any other (the parser ignores "/>"), so they count;
    // inside <svg>, "/>" closes and does not.
    let selfclosed = format!("<body>{}<p>x</p></body>", "<div/>".repeat(N));
    let (capped, dropped) = super::html::cap_depth(&selfclosed, super::html::MAX_DEPTH);
    assert_eq!(dropped, N - super::html::MAX_DEPTH);
    assert!(tree_depth(&capped) <= super::html::MAX_DEPTH + 4);
    let icons = format!("<body><svg>{}</svg><p>kept as it is</p></body>", "<path d='M0 0'/>".repeat(1000));
    assert_eq!(super::html::cap_depth(&icons, super::html::MAX_DEPTH).1, 0);
    // Comments, scripts and quoted '>' are not tags; unclosed <p>/<li> do not nest.
    let tricky = format!(
        "<body><!-- <div><div> --><script>if (a<b) {{ '<div>' }}</script><a title='>'>x</a>{}</body>",
        "<p>para<li>item".repeat(5000)
    );
    assert_eq!(super::html::cap_depth(&tricky, super::html::MAX_DEPTH).1, 0);
}

#[test]
fn extract_nested_chrome_keeps_headings_in_linear_work() {
    // Chrome (nav, header…) is dropped unless it holds a heading; that test is a lookup
    // in a set built in one pass, not a walk of each element's subtree.
    let page = format!(
        "<html><body>{}<h2>Inside the menus</h2><p>Real text.</p>{}<nav><a>Home</a></nav></body></html>",
        "<div class='menu'>".repeat(200),
        "</div>".repeat(200)
    );
    let doc = ok("menus.html", page.as_bytes());
    assert_eq!(path(find(&doc, "Real text.")), ["Inside the menus"]);
    assert!(!all_text(&doc).contains("Home"));
}

#[test]
fn extract_billion_laughs_is_not_expanded() {
    // Entity definitions are never expanded (only the five predefined entities are):
    // the "billion laughs" stay a few bytes, in XML and inside a Word document.
    let mut dtd = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
        dtd.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10)));
    }
    dtd.push_str("]>\n");
    let xml = format!("{dtd}<lolz><item>Laugh: &lol9;</item><item>Plain text here.</item></lolz>");
    match extract("bomb.xml", xml.as_bytes(), &limits()) {
        Ok(doc) => {
            let text = all_text(&doc);
            assert!(text.len() < 1000, "{} characters: expanded", text.len());
            assert!(text.contains("Plain text here."), "{text}");
        }
        Err(e) => assert!(matches!(e, ExtractError::Corrupt { .. }), "{e:?}"),
    }
    let body = "<w:p><w:r><w:t>Laugh: &lol9;</w:t></w:r></w:p><w:p><w:r><w:t>Plain text here.</w:t></w:r></w:p>";
    let docx = docx_bytes(body, None);
    match extract("bomb.docx", &docx, &limits()) {
        Ok(doc) => assert!(all_text(&doc).len() < 1000),
        Err(e) => assert!(matches!(e, ExtractError::Corrupt { .. }), "{e:?}"),
    }
}
