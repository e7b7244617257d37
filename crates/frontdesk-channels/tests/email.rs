//! Email parsing and replies on real-world shapes (tests/data/email) and hostile input.

use frontdesk_channels::email::{
    build_new, build_reply, classify, html_to_text, is_own_address, parse, thread_ids, AutoReason, EmailError,
    InboundEmail, Mailbox, ReplyOptions,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/email/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse_fixture(name: &str) -> InboundEmail {
    parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn gmail_reply_multipart_alternative_quoted_printable() {
    let e = parse_fixture("gmail_reply.eml");
    assert_eq!(e.from, Mailbox { name: Some("Anna Rossi".into()), address: "anna.rossi@gmail.com".into() });
    assert_eq!(e.to, vec![Mailbox { name: Some("Shop Support".into()), address: "support@shop.example".into() }]);
    assert_eq!(e.message_id.as_deref(), Some("CAF2reply+xyz@mail.gmail.com"));
    assert_eq!(e.in_reply_to, vec!["20240212090000.abc@shop.example"]);
    assert_eq!(e.references, vec!["CAF1root@mail.gmail.com", "20240212090000.abc@shop.example"]);
    assert_eq!(thread_ids(&e), vec!["20240212090000.abc@shop.example", "CAF1root@mail.gmail.com"]);
    assert_eq!(e.subject, "Re: Your order #1042");
    assert_eq!(e.date, Some(1_707_732_600)); // 2024-02-12T10:10:00Z
    assert_eq!(e.text, "Hi, the parcel still hasn’t arrived. Can you check the tracking?\n\nThanks,\nAnna");
    assert!(e.full_text.contains("> your order #1042 has shipped."));
    assert!(e.attachments.is_empty());
    assert_eq!(e.auto, None);
    assert_eq!(classify(&e, &["support@shop.example".into()]), None);
}

#[test]
fn outlook_reply_windows_1252_german_header_block() {
    let e = parse_fixture("outlook_reply_de.eml");
    assert_eq!(e.from.name.as_deref(), Some("Müller, Hans"));
    assert_eq!(e.from.address, "hans.mueller@firma.example");
    assert_eq!(e.subject, "AW: Rechnung 2024-117");
    assert_eq!(e.text, "Guten Tag,\n\ndie Rechnung enthält einen Fehler: der Betrag ist 120 € statt 100 €.\n\nMit freundlichen Grüßen\nHans Müller");
    assert!(e.full_text.contains("Gesendet: Montag"));
    assert_eq!(e.cc.len(), 3);
    assert_eq!(e.auto, None);
}

#[test]
fn iphone_reply_french_quoted_attribution_and_footer() {
    let e = parse_fixture("apple_iphone_reply_fr.eml");
    assert_eq!(e.text, "Oui, merci beaucoup !");
    assert_eq!(e.from.address, "jean.dupont@icloud.com");
}

#[test]
fn thunderbird_format_flowed_inline_reply() {
    let e = parse_fixture("thunderbird_flowed_inline.eml");
    assert_eq!(e.text, "Sure, it is SN-55-0192. The box also says \"model B\" which might be relevant.");
    assert!(e.full_text.contains("> Could you send us the serial number of the device? It is on the back of the box."));
}

#[test]
fn html_only_base64_gmail_quote() {
    let e = parse_fixture("html_only_base64.eml");
    assert_eq!(e.text, "Hello,\nI can't log in to my account since yesterday.\n\nBest,\nTom");
    assert!(e.full_text.contains("> Welcome to Shop!"));
}

#[test]
fn italian_iso_8859_1_with_encoded_subject() {
    let e = parse_fixture("italian_latin1.eml");
    assert_eq!(e.subject, "R: Disponibilità prodotto");
    assert_eq!(e.text, "Buongiorno,\nil prodotto è disponibile anche in nero? Costa più di 30€?\n\nGrazie\nMarco");
}

#[test]
fn spanish_windows_1252_outlook_block() {
    let e = parse_fixture("spanish_outlook_cp1252.eml");
    assert_eq!(e.from.name.as_deref(), Some("Lucía Gómez"));
    assert_eq!(e.text, "Hola, ¿cuándo llegará mi pedido? Lo pagué el lunes “urgente”.\n\nSaludos,\nLucía");
}

#[test]
fn unknown_charset_falls_back_to_latin1() {
    let e = parse_fixture("unknown_charset.eml");
    assert_eq!(e.text, "Café crème, s'il vous plaît.");
    assert_eq!(e.from, Mailbox { name: None, address: "old@example.org".into() });
}

#[test]
fn raw_8bit_headers_are_repaired() {
    let e = parse_fixture("raw_8bit_headers.eml");
    assert_eq!(e.subject, "Problema con l'ordine n° 42 è urgente");
    assert_eq!(e.from, Mailbox { name: Some("José Pérez".into()), address: "jose@example.es".into() });
    assert_eq!(e.text, "Hola ¿me ayudan?");
}

#[test]
fn out_of_office_is_auto() {
    let e = parse_fixture("out_of_office.eml");
    assert_eq!(e.auto, Some(AutoReason::AutoSubmitted));
    assert_eq!(e.text, "Sono fuori ufficio fino al 20 febbraio, con accesso limitato alla posta.");
}

#[test]
fn bounce_is_auto() {
    let e = parse_fixture("bounce_report.eml");
    assert_eq!(e.auto, Some(AutoReason::Bounce));
    assert_eq!(e.from.address, "mailer-daemon@mx.shop.example");
    assert!(e.text.contains("550 5.1.1 User unknown"));
}

#[test]
fn mailing_list_is_auto() {
    let e = parse_fixture("mailing_list.eml");
    assert_eq!(e.auto, Some(AutoReason::Precedence("list".into())));
}

#[test]
fn auto_reasons_from_single_headers() {
    let base = "From: Ann <ann@example.com>\r\nTo: support@shop.example\r\nSubject: Hello\r\n";
    let cases: Vec<(&str, Option<AutoReason>)> = vec![
        ("", None),
        ("List-Unsubscribe: <https://news.example.com/u>\r\n", Some(AutoReason::ListId)),
        ("X-Autorespond: yes\r\n", Some(AutoReason::XAutoreply)),
        ("Precedence: junk\r\n", Some(AutoReason::Precedence("junk".into()))),
        ("Auto-Submitted: no\r\n", None),
        ("Return-Path: <>\r\n", Some(AutoReason::NullReturnPath)),
    ];
    for (extra, want) in cases {
        let raw = format!("{base}{extra}\r\nHi");
        assert_eq!(parse(raw.as_bytes()).unwrap().auto, want, "{extra}");
    }
    let oof = "From: Ann <ann@example.com>\r\nSubject: Automatic reply: Hello\r\n\r\nI am away.";
    assert_eq!(parse(oof.as_bytes()).unwrap().auto, Some(AutoReason::AutoReplySubject));
    let noreply = "From: Shop <no-reply@shop.example>\r\nSubject: Hello\r\n\r\nx";
    assert_eq!(parse(noreply.as_bytes()).unwrap().auto, Some(AutoReason::NoReply));
}

#[test]
fn own_address_is_a_loop() {
    let raw = "From: Support <Support@Shop.example>\r\nTo: support@shop.example\r\nSubject: x\r\n\r\nloop";
    let e = parse(raw.as_bytes()).unwrap();
    let own = vec!["support@shop.example".to_string()];
    assert!(is_own_address(&e, &own));
    assert_eq!(classify(&e, &own), Some(AutoReason::OwnAddress));
    assert!(!is_own_address(&e, &["other@shop.example".to_string()]));
    let via_reply_to = "From: Ann <ann@x.com>\r\nReply-To: support@shop.example\r\nSubject: x\r\n\r\nhi";
    assert!(is_own_address(&parse(via_reply_to.as_bytes()).unwrap(), &own));
}

#[test]
fn attachments_inline_and_named() {
    let e = parse_fixture("attachments.eml");
    assert_eq!(e.text, "Ecco la foto del danno:\n\nGiulia");
    let names: Vec<(&str, &str, bool)> =
        e.attachments.iter().map(|a| (a.filename.as_str(), a.content_type.as_str(), a.inline)).collect();
    assert_eq!(
        names,
        vec![
            ("danno.png", "image/png", true),
            ("Fattura n°1.pdf", "application/pdf", false),
            ("attachment-3.eml", "message/rfc822", false),
        ]
    );
    let mut pdf = b"%PDF-1.4\n".to_vec();
    for _ in 0..4 {
        pdf.extend(0u8..=255);
    }
    pdf.extend_from_slice(b"\n%%EOF\n");
    assert_eq!(e.attachments[1].data, pdf);
    assert!(e.attachments[0].data.starts_with(b"\x89PNG"));
    assert!(String::from_utf8_lossy(&e.attachments[2].data).contains("Il bonifico"));
}

#[test]
fn large_attachment_is_fine() {
    let size = 30 * 1024 * 1024;
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let b64 = base64_lines(&data);
    let raw = format!(
        "From: a@example.com\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n\
         --XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--XX\r\nContent-Type: application/zip\r\n\
         Content-Disposition: attachment; filename=\"big.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--XX--\r\n"
    );
    let e = parse(raw.as_bytes()).unwrap();
    assert_eq!(e.text, "See attached.");
    assert_eq!(e.attachments.len(), 1);
    assert_eq!(e.attachments[0].filename, "big.zip");
    assert_eq!(e.attachments[0].data.len(), size);
    assert!(e.attachments[0].data == data);
}

fn base64_lines(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len() * 4 / 3 + data.len() / 38);
    for (n, chunk) in data.chunks(3).enumerate() {
        if n > 0 && n % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(v >> 18) as usize & 63] as char);
        out.push(T[(v >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 { T[(v >> 6) as usize & 63] as char } else { '=' });
        out.push(if chunk.len() > 2 { T[v as usize & 63] as char } else { '=' });
    }
    out
}

#[test]
fn errors_are_typed_and_clear() {
    assert_eq!(parse(b""), Err(EmailError::Empty));
    assert_eq!(parse(b" \r\n\t"), Err(EmailError::Empty));
    assert_eq!(parse(b"Subject: no sender\r\n\r\nbody"), Err(EmailError::MissingFrom));
    let e = parse(b"From: undisclosed\r\nSubject: x\r\n\r\nbody").unwrap_err();
    assert_eq!(e, EmailError::InvalidFrom("undisclosed".into()));
    assert!(e.to_string().contains("no usable email address"));
    assert!(EmailError::MissingFrom.to_string().contains("nobody to reply to"));
    // Sender stands in for a missing From.
    let e = parse(b"Sender: list-bot@example.com\r\nSubject: x\r\n\r\nbody").unwrap();
    assert_eq!(e.from.address, "list-bot@example.com");
}

#[test]
fn hostile_inputs_never_panic() {
    let mut inputs: Vec<Vec<u8>> = vec![
        b"\0\0\0\0".to_vec(),
        b"garbage without any header".to_vec(),
        b"From: a@b.com".to_vec(),
        b"From: a@b.com\r\n".to_vec(),
        b"From: a@b.com\r\n\r\n".to_vec(),
        b"From: a@b.com\r\nContent-Type: multipart/mixed; boundary=\"never\"\r\n\r\nno parts at all".to_vec(),
        b"From: a@b.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nunterminated".to_vec(),
        b"From: a@b.com\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n--\r\n".to_vec(),
        b"From: a@b.com\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!".to_vec(),
        b"From: a@b.com\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\r\n=".to_vec(),
        b"From: a@b.com\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><div style=\"display:none\">".to_vec(),
        b"From: =?utf-8?B?!!!?= <a@b.com>\r\nSubject: =?unknown?Q?=FF=FE?=\r\n\r\nx".to_vec(),
        b"From: <<<@>>>\r\n\r\nx".to_vec(),
        b"From: a@b.com\r\nDate: Mon, 99 Foo 99999 99:99:99 +9999\r\n\r\nx".to_vec(),
        b"From: a@b.com\r\nIn-Reply-To: <unterminated\r\nReferences: <<>> <a@b> <\r\n\r\nx".to_vec(),
        [b"From: a@b.com\r\nSubject: ".as_slice(), &[0xff; 5000], b"\r\n\r\n", &[0x80; 100]].concat(),
        [b"From: a@b.com\r\nX-Long: ".as_slice(), "x".repeat(200_000).as_bytes(), b"\r\n\r\nbody"].concat(),
    ];
    // Deeply nested multiparts.
    let mut nested = String::from("From: a@b.com\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n");
    for i in 1..200 {
        nested.push_str(&format!("--b{}\r\nContent-Type: multipart/mixed; boundary=b{i}\r\n\r\n", i - 1));
    }
    nested.push_str("--b199\r\nContent-Type: text/plain\r\n\r\ndeep\r\n");
    inputs.push(nested.into_bytes());
    // Many tiny parts.
    let mut many = String::from("From: a@b.com\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n");
    for _ in 0..5000 {
        many.push_str("--m\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n");
    }
    many.push_str("--m--\r\n");
    inputs.push(many.into_bytes());
    // Every prefix of a real message.
    let real = fixture("outlook_reply_de.eml");
    for cut in (0..real.len()).step_by(37) {
        inputs.push(real[..cut].to_vec());
    }
    for input in &inputs {
        let _ = parse(input);
    }
    assert!(parse(b"garbage without any header").is_err());
    assert!(parse(b"\0\0\0\0").is_err());
    let e = parse(b"From: a@b.com\r\n\r\n").unwrap();
    assert_eq!(e.text, "");
    assert_eq!(e.subject, "");
}

#[test]
fn mislabelled_utf8_latin1_body_is_repaired() {
    let raw = b"From: a@b.com\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nPer\xf2 funziona.\r\n";
    assert_eq!(parse(raw).unwrap().text, "Però funziona.");
    let undeclared = b"From: a@b.com\r\n\r\nGr\xfc\xdfe\r\n";
    assert_eq!(parse(undeclared).unwrap().text, "Grüße");
    let qp = b"From: a@b.com\r\nContent-Type: text/plain; charset=bogus\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nna=EFve =\r\nr=E9sum=E9\r\n";
    assert_eq!(parse(qp).unwrap().text, "naïve résumé");
    // Genuine UTF-8 is left alone.
    let utf8 = "From: a@b.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n日本語 ✓\r\n";
    assert_eq!(parse(utf8.as_bytes()).unwrap().text, "日本語 ✓");
}

#[test]
fn outlook_html_only_reply() {
    let html = "<html><body><div>Buongiorno, il codice sconto non funziona.</div><div><br></div>\
                <hr style=\"display:inline-block;width:98%\"><div id=\"divRplyFwdMsg\"><b>Da:</b> Shop &lt;support@shop.example&gt;<br>\
                <b>Inviato:</b> lunedì 12 febbraio 2024 10:00<br><b>A:</b> Paolo<br><b>Oggetto:</b> Sconto</div>\
                <div>Ecco il tuo codice: SCONTO10</div></body></html>";
    let text = html_to_text(html);
    assert_eq!(frontdesk_channels::email::extract_new_text(&text), "Buongiorno, il codice sconto non funziona.");
}

fn opts() -> ReplyOptions {
    ReplyOptions {
        from: Mailbox::new(Some("Shop Support"), "support@shop.example"),
        reply_all: false,
        own_addresses: vec!["support@shop.example".into(), "help@shop.example".into()],
        signature: Some("Shop Support\nhttps://shop.example".into()),
        message_id_domain: "shop.example".into(),
        auto_submitted: true,
    }
}

#[test]
fn reply_to_gmail_message() {
    let original = parse_fixture("gmail_reply.eml");
    let out = build_reply(&original, "Hi Anna,\nthe parcel is in transit.", &opts(), "r1-abc", 1_707_740_000);
    assert_eq!(out.message_id, "r1-abc@shop.example");
    assert_eq!(out.subject, "Re: Your order #1042");
    assert_eq!(out.to, vec![Mailbox { name: Some("Anna Rossi".into()), address: "anna.rossi@gmail.com".into() }]);
    assert!(out.cc.is_empty());
    assert_eq!(out.in_reply_to.as_deref(), Some("CAF2reply+xyz@mail.gmail.com"));
    assert_eq!(
        out.references,
        vec!["CAF1root@mail.gmail.com", "20240212090000.abc@shop.example", "CAF2reply+xyz@mail.gmail.com"]
    );
    assert_eq!(
        out.text,
        "Hi Anna,\nthe parcel is in transit.\n\n-- \nShop Support\nhttps://shop.example\n\n\
         On Mon, 12 Feb 2024 at 10:10 UTC, Anna Rossi <anna.rossi@gmail.com> wrote:\n\
         > Hi, the parcel still hasn’t arrived. Can you check the tracking?\n>\n> Thanks,\n> Anna"
    );
    let raw = String::from_utf8(out.raw.clone()).unwrap();
    assert!(raw.contains("\r\n"), "CRLF line endings");
    assert!(!raw.replace("\r\n", "").contains('\n'), "no bare LF");
    assert!(raw.contains("Auto-Submitted: auto-replied\r\n"));
    assert!(raw.contains("Message-ID: <r1-abc@shop.example>\r\n"));
    assert!(raw.contains("In-Reply-To: <CAF2reply+xyz@mail.gmail.com>\r\n"));

    // What we send parses back to what we meant.
    let back = parse(&out.raw).unwrap();
    assert_eq!(back.message_id.as_deref(), Some("r1-abc@shop.example"));
    assert_eq!(back.subject, "Re: Your order #1042");
    assert_eq!(back.from, opts().from);
    assert_eq!(back.to, out.to);
    assert_eq!(back.in_reply_to, vec!["CAF2reply+xyz@mail.gmail.com"]);
    assert_eq!(back.references, out.references);
    assert_eq!(back.date, Some(1_707_740_000));
    assert_eq!(back.full_text, out.text);
    assert_eq!(back.text, "Hi Anna,\nthe parcel is in transit.");
    assert_eq!(back.auto, Some(AutoReason::AutoSubmitted), "our own replies are recognised as automatic");

    // Replying to our own reply: the customer answers again; subject does not stack.
    let again = build_reply(&back, "More news.", &opts(), "r2", 1_707_750_000);
    assert_eq!(again.subject, "Re: Your order #1042");
    assert_eq!(again.to, Vec::<Mailbox>::new(), "never to ourselves");
}

#[test]
fn reply_all_filters_own_duplicates_and_noreply() {
    let original = parse_fixture("outlook_reply_de.eml");
    let mut o = opts();
    o.reply_all = true;
    o.signature = None;
    o.auto_submitted = false;
    let out = build_reply(&original, "Wir prüfen das.", &o, "r3", 1_707_812_000);
    assert_eq!(out.subject, "Re: Rechnung 2024-117");
    assert_eq!(out.to.len(), 1);
    assert_eq!(out.to[0].address, "hans.mueller@firma.example");
    assert_eq!(out.cc, vec![Mailbox { name: Some("Petra Schmidt".into()), address: "petra@firma.example".into() }]);
    let raw = String::from_utf8(out.raw.clone()).unwrap();
    assert!(!raw.contains("Auto-Submitted"));
    let back = parse(&out.raw).unwrap();
    assert_eq!(back.cc, out.cc);
    assert_eq!(back.to[0].name.as_deref(), Some("Müller, Hans"));
    assert!(back.full_text.starts_with("Wir prüfen das.\n\nOn Tue, 13 Feb 2024 at 08:15 UTC, Müller, Hans <hans.mueller@firma.example> wrote:\n> Guten Tag,"));

    // Sender only: no Cc.
    o.reply_all = false;
    assert!(build_reply(&original, "x", &o, "r4", 0).cc.is_empty());
}

#[test]
fn reply_goes_to_reply_to_and_caps_references() {
    let refs: String = (0..40).map(|i| format!("<r{i}@x>")).collect::<Vec<_>>().join(" ");
    let raw = format!(
        "From: Ann <ann@example.com>\r\nReply-To: Ann Work <ann@work.example>\r\nSubject: Re: Re: RE: Aw: Hello\r\n\
         Message-ID: <m@x>\r\nReferences: {refs}\r\n\r\nQuestion?"
    );
    let original = parse(raw.as_bytes()).unwrap();
    assert_eq!(original.references.len(), 40);
    let out = build_reply(&original, "Answer.", &opts(), "u", 0);
    assert_eq!(out.to[0].address, "ann@work.example");
    assert_eq!(out.subject, "Re: Hello");
    assert_eq!(out.references.len(), 20);
    assert_eq!(out.references[0], "r0@x");
    assert_eq!(out.references[19], "m@x");
    assert_eq!(out.references[18], "r39@x");
    assert!(out.text.ends_with("ann@example.com> wrote:\n> Question?"));
}

#[test]
fn new_message_and_long_lines_survive_the_round_trip() {
    let body = format!("Buongiorno,\n{}\n\nÈ tutto.", "parola ".repeat(300).trim_end());
    let to = vec![Mailbox::new(Some("Marco"), "marco@example.it"), Mailbox::new(None, "help@shop.example")];
    let mut o = opts();
    o.auto_submitted = false;
    let out = build_new(&to, "Il tuo ordine\r\nBcc: evil@x.com", &body, &o, "n1", 1_707_800_000);
    assert_eq!(out.to.len(), 1, "own addresses removed");
    assert_eq!(out.subject, "Il tuo ordine Bcc: evil@x.com", "no header injection");
    assert!(out.in_reply_to.is_none() && out.references.is_empty());
    let raw = String::from_utf8(out.raw.clone()).unwrap();
    assert!(raw.lines().all(|l| l.len() <= 998), "RFC 5322 line length");
    assert!(!raw.contains("\r\nBcc:"));
    let back = parse(&out.raw).unwrap();
    assert_eq!(back.full_text, format!("{body}\n\n-- \nShop Support\nhttps://shop.example"));
    assert_eq!(back.text, body);
    assert_eq!(back.subject, out.subject);
}
