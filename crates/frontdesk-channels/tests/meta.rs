//! WhatsApp and Messenger webhook payloads (tests/data/meta, shaped as in Meta's documentation).

use frontdesk_channels::meta::{
    parse_messenger, parse_whatsapp, split_text, verify_signature, InboundMeta, MetaContent, MetaError, MetaEvent,
    StatusUpdate, MESSENGER_TEXT_LIMIT,
};
use frontdesk_channels::phone::normalize_phone;
use frontdesk_channels::SignatureError;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/meta/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn message(e: &MetaEvent) -> &InboundMeta {
    match e {
        MetaEvent::Message(m) => m,
        other => panic!("not a message: {other:?}"),
    }
}

#[test]
fn whatsapp_text_message() {
    let events = parse_whatsapp(&fixture("whatsapp_text.json")).unwrap();
    assert_eq!(
        events,
        vec![MetaEvent::Message(InboundMeta {
            external_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=".into(),
            from: "16505551234".into(),
            user_id: None,
            profile_name: Some("Sheena Nelson".into()),
            timestamp: 1_749_416_383,
            content: MetaContent::Text("Does it come in another color?".into()),
            recipient: "106540352242922".into(),
        })]
    );
    // The sender's number matches the same contact typed elsewhere.
    assert_eq!(normalize_phone(&message(&events[0]).from).as_deref(), Some("+16505551234"));
    assert_eq!(normalize_phone("+1 (650) 555-1234").as_deref(), Some("+16505551234"));
}

#[test]
fn whatsapp_media_kinds() {
    let events = parse_whatsapp(&fixture("whatsapp_media.json")).unwrap();
    let got: Vec<(&str, &MetaContent)> =
        events.iter().map(|e| (message(e).external_id.as_str(), &message(e).content)).collect();
    let other =
        |kind: &str, caption: Option<&str>| MetaContent::Other { kind: kind.into(), caption: caption.map(Into::into) };
    assert_eq!(
        got,
        vec![
            ("wamid.IMAGE", &other("image", Some("This is the damaged box"))),
            ("wamid.STICKER", &other("sticker", None)),
            ("wamid.LOCATION", &other("location", None)),
            ("wamid.REACTION", &other("reaction", None)),
            ("wamid.BUTTON", &MetaContent::Text("Talk to a person".into())),
            ("wamid.UNSUPPORTED", &other("unsupported", None)),
            // "wamid.NOID_BELOW" has no type: unsupported, not dropped (it has an id and a sender).
            ("wamid.NOID_BELOW", &other("unsupported", None)),
        ]
    );
    assert!(events.iter().all(|e| message(e).profile_name.as_deref() == Some("Sheena Nelson")));
}

#[test]
fn whatsapp_statuses_with_errors() {
    let events = parse_whatsapp(&fixture("whatsapp_statuses.json")).unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[0],
        MetaEvent::Status(StatusUpdate {
            external_id: "wamid.SENT".into(),
            status: "sent".into(),
            recipient: "16505551234".into(),
            timestamp: 1_750_263_773,
            error: None,
        })
    );
    let MetaEvent::Status(failed) = &events[2] else { panic!() };
    assert_eq!(failed.status, "failed");
    assert_eq!(
        failed.error.as_deref(),
        Some("Re-engagement message (code 131047): Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
    );
}

#[test]
fn whatsapp_multiple_entries_and_business_scoped_ids() {
    let events = parse_whatsapp(&fixture("whatsapp_multi_entry.json")).unwrap();
    assert_eq!(events.len(), 4);
    let a = message(&events[0]);
    assert_eq!(
        (a.from.as_str(), a.user_id.as_deref(), a.profile_name.as_deref()),
        ("919810218674", Some("IN.1410018717833190"), Some("Krish Thakur"))
    );
    let b = message(&events[1]);
    assert_eq!(
        (b.from.as_str(), b.profile_name.as_deref(), b.recipient.as_str()),
        ("16505551234", Some("Sheena Nelson"), "106540352242922")
    );
    // Phone withheld (username): the business-scoped id stands in.
    let c = message(&events[2]);
    assert_eq!(
        (c.from.as_str(), c.user_id.as_deref(), c.profile_name.as_deref()),
        ("IT.5550001112223", Some("IT.5550001112223"), None)
    );
    assert_eq!(c.recipient, "220000000000001");
    let MetaEvent::Status(d) = &events[3] else { panic!() };
    assert_eq!((d.external_id.as_str(), d.recipient.as_str()), ("wamid.D", "IT.5550001112223"));
}

#[test]
fn whatsapp_business_app_echoes() {
    let events = parse_whatsapp(&fixture("whatsapp_smb_echoes.json")).unwrap();
    assert_eq!(
        events,
        vec![MetaEvent::Echo {
            external_id: "wamid.ECHO".into(),
            recipient: "16505551234".into(),
            text: Some("I'll check with the warehouse.".into()),
            app_id: None,
            timestamp: 1_749_417_000,
        }]
    );
}

#[test]
fn messenger_text_message() {
    let events = parse_messenger(&fixture("messenger_text.json")).unwrap();
    assert_eq!(
        events,
        vec![MetaEvent::Message(InboundMeta {
            external_id: "mid.1457764197618:41d102a3e1ae206a38".into(),
            from: "6783920012345678".into(),
            user_id: None,
            profile_name: None,
            timestamp: 1_458_692_752,
            content: MetaContent::Text("hello, world!".into()),
            recipient: "1234567890".into(),
        })]
    );
}

#[test]
fn messenger_attachments_echoes_deliveries_reads_postbacks() {
    let events = parse_messenger(&fixture("messenger_mixed.json")).unwrap();
    let other =
        |kind: &str, caption: Option<&str>| MetaContent::Other { kind: kind.into(), caption: caption.map(Into::into) };
    assert_eq!(message(&events[0]).content, other("image", None));
    assert_eq!(message(&events[0]).timestamp, 1_700_000_000);
    assert_eq!(message(&events[1]).content, other("sticker", None));
    assert_eq!(
        events[2],
        MetaEvent::Echo {
            external_id: "m_ECHO".into(),
            recipient: "6783920012345678".into(),
            text: Some("Thanks, we are on it.".into()),
            app_id: Some("1517776481860111".into()),
            timestamp: 1_700_000_000,
        }
    );
    let statuses: Vec<&str> = events[3..5]
        .iter()
        .map(|e| match e {
            MetaEvent::Status(s) => {
                assert_eq!(
                    (s.status.as_str(), s.recipient.as_str(), s.timestamp),
                    ("delivered", "6783920012345678", 1_700_000_000)
                );
                s.external_id.as_str()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(statuses, vec!["m_OURS_1", "m_OURS_2"]);
    assert_eq!(
        events[5],
        MetaEvent::Watermark {
            status: "delivered".into(),
            recipient: "6783920012345678".into(),
            timestamp: 1_700_000_000
        }
    );
    assert_eq!(
        events[6],
        MetaEvent::Watermark { status: "read".into(), recipient: "6783920012345678".into(), timestamp: 1_458_668_856 }
    );
    let postback = message(&events[7]);
    assert_eq!(
        (postback.external_id.as_str(), &postback.content),
        ("m_POSTBACK", &MetaContent::Text("Talk to a person".into()))
    );
    // The reaction is not a message; the second entry's location is.
    let loc = message(&events[8]);
    assert_eq!((loc.from.as_str(), &loc.content), ("99887766554433", &other("location", Some("Pinned Location"))));
    assert_eq!(events.len(), 9);
}

#[test]
fn malformed_bodies_are_typed_errors() {
    assert!(matches!(parse_whatsapp(b"not json"), Err(MetaError::Json(_))));
    assert!(matches!(parse_messenger(b"{\"object\":\"page\""), Err(MetaError::Json(_))));
    assert_eq!(parse_whatsapp(b"[]"), Err(MetaError::Shape("the body is not a JSON object".into())));
    assert_eq!(parse_whatsapp(b"{}"), Err(MetaError::Shape("no \"entry\" array".into())));
    let e = parse_whatsapp(&fixture("messenger_text.json")).unwrap_err();
    assert!(matches!(&e, MetaError::Shape(m) if m.contains("\"page\"")), "{e}");
    assert!(parse_messenger(&fixture("whatsapp_text.json")).is_err());
    // Wrong types inside are skipped, not fatal.
    let odd = br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":"x","statuses":[1,null,{"id":5}]}}]},7,{"changes":"y"}]}"#;
    assert_eq!(parse_whatsapp(odd), Ok(vec![]));
    let odd = br#"{"object":"page","entry":[{"messaging":[{},{"message":"hi"},{"message":{"text":"no mid"}},{"sender":{"id":"1"},"postback":{}}]}]}"#;
    assert_eq!(parse_messenger(odd), Ok(vec![]));
}

#[test]
fn signature_over_a_real_body() {
    let body = fixture("whatsapp_text.json");
    let secret = b"app-secret-123";
    let header = format!("sha256={}", hmac_hex(secret, &body));
    assert_eq!(verify_signature(secret, &body, Some(&header)), Ok(()));
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(verify_signature(secret, &tampered, Some(&header)), Err(SignatureError::Mismatch));
}

/// Independent HMAC-SHA256 (RFC 2104 over sha2) to cross-check the crate's.
fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new().chain_update(&ipad).chain_update(msg).finalize();
    hex::encode(Sha256::new().chain_update(&opad).chain_update(inner).finalize())
}

#[test]
fn long_answers_fit_messenger() {
    let answer = "Our return policy lets you send items back within 30 days. ".repeat(60);
    let pieces = split_text(&answer, MESSENGER_TEXT_LIMIT);
    assert!(pieces.len() >= 2);
    assert!(pieces.iter().all(|p| p.chars().count() <= MESSENGER_TEXT_LIMIT && p.ends_with('.')));
}
