//! CRM data (F1): the fields the agent may read or update, and contacts'
//! properties, validated, with one event per changed property.

use frontdesk_core::crm::{extract_updates, readable_view};
use frontdesk_core::model::{EventKind, Role};
use frontdesk_store::{contact_values, ContactActor, ContactTarget, ContactUpdate};
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::TestApp;

async fn seed_fields(app: &TestApp) {
    for f in [
        json!({"key": "email", "label": "Email", "kind": "email", "agent_read": true, "agent_write": true}),
        json!({"key": "phone", "label": "Phone", "kind": "phone", "agent_read": true, "agent_write": true}),
        json!({"key": "plan", "label": "Plan", "kind": "enum", "values": ["Basic", "Pro"], "agent_read": true}),
        json!({"key": "last_order", "label": "Order number", "kind": "order_number", "agent_write": true}),
        json!({"key": "notes", "label": "Internal notes", "kind": "text"}),
    ] {
        let (s, v) = app.admin(Method::POST, "/api/v1/crm/fields", Some(f)).await;
        assert_eq!(s, 201, "{v}");
    }
}

async fn crm_fields_are_managed_and_audited(app: TestApp) {
    seed_fields(&app).await;
    let (s, list) = app.admin(Method::GET, "/api/v1/crm/fields", None).await;
    assert_eq!(s, 200);
    let keys: Vec<&str> = list.as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["email", "phone", "plan", "last_order", "notes"], "in the order they were added");
    assert_eq!(list[2]["values"], json!(["Basic", "Pro"]));
    assert_eq!(list[2]["agent_write"], false);

    for (body, field, status) in [
        (json!({"key": "plan", "label": "Plan", "kind": "text"}), "key", 409),
        (json!({"key": "Bad Key", "label": "x", "kind": "text"}), "key", 422),
        (json!({"key": "tier", "label": "", "kind": "text"}), "label", 422),
        (json!({"key": "tier", "label": "Tier", "kind": "colour"}), "kind", 422),
        (json!({"key": "tier", "label": "Tier", "kind": "enum"}), "values", 422),
        (json!({"key": "tier", "label": "Tier", "kind": "text", "values": ["a"]}), "values", 422),
        (json!({"key": "email", "label": "Email", "kind": "text"}), "kind", 422),
        (json!({"label": "Tier", "kind": "text"}), "key", 422),
        (json!({"key": "tier", "label": "Tier", "kind": "text", "colour": 1}), "colour", 422),
    ] {
        let (s, e) = app.admin(Method::POST, "/api/v1/crm/fields", Some(body.clone())).await;
        assert_eq!((s, e["field"].as_str()), (status, Some(field)), "{body}: {e}");
    }

    // Toggle: the agent may now update the plan.
    let (s, f) = app
        .admin(
            Method::PUT,
            "/api/v1/crm/fields/plan",
            Some(json!({"label": "Plan", "kind": "enum", "values": ["Basic", "Pro", "Team"], "agent_read": true, "agent_write": true})),
        )
        .await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["agent_write"], true);
    let (s, e) = app
        .admin(Method::PUT, "/api/v1/crm/fields/plan", Some(json!({"key": "tier", "label": "Plan", "kind": "text"})))
        .await;
    assert_eq!((s, e["field"].clone()), (422, json!("key")));
    let (s, _) = app.admin(Method::PUT, "/api/v1/crm/fields/ghost", Some(json!({"label": "G", "kind": "text"}))).await;
    assert_eq!(s, 404);
    let (s, _) = app.admin(Method::DELETE, "/api/v1/crm/fields/notes", None).await;
    assert_eq!(s, 204);
    let (s, _) = app.admin(Method::DELETE, "/api/v1/crm/fields/notes", None).await;
    assert_eq!(s, 404);

    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=crm_field", None).await;
    let rows: Vec<(String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["action"].as_str().unwrap().to_owned(), r["entity_id"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(rows[0], ("delete".to_owned(), "notes".to_owned()));
    assert_eq!(rows[1], ("update".to_owned(), "plan".to_owned()));
    assert_eq!(rows.iter().filter(|(a, _)| a == "create").count(), 5);
    assert_eq!(audit[1]["before"]["agent_write"], false);
    assert_eq!(audit[1]["after"]["agent_write"], true);

    // The agent sees the fields through the store (what the engine loads).
    let fields = app.store().list_crm_fields().await.unwrap();
    assert_eq!(fields.len(), 4);
}
both_backends!(crm_fields_are_managed_and_audited);

async fn contact_properties_are_validated_and_each_change_is_an_event(app: TestApp) {
    seed_fields(&app).await;
    let (conv, _) = app.visitor(json!({"name": "Ann", "email": "ann@example.com"})).await;
    let (_, c) = app.admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None).await;
    let contact = c["contact"]["id"].as_i64().unwrap();

    let (s, v) = app.admin(Method::GET, &format!("/api/v1/contacts/{contact}"), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["contact"]["email"], "ann@example.com");
    let email = v["fields"].as_array().unwrap().iter().find(|f| f["key"] == "email").unwrap().clone();
    assert_eq!(email["value"], "ann@example.com");
    let (s, _) = app.admin(Method::GET, "/api/v1/contacts/987654", None).await;
    assert_eq!(s, 404);

    let path = format!("/api/v1/contacts/{contact}/properties");
    for (body, field) in [
        (json!({"properties": {"phone": "call me maybe"}}), "properties.phone"),
        (json!({"properties": {"plan": "Gold"}}), "properties.plan"),
        (json!({"properties": {"favourite_colour": "blue"}}), "properties.favourite_colour"),
        (json!({"properties": {"phone": ["+39"]}}), "properties.phone"),
        (json!({"properties": {}}), "properties"),
        (json!({"properties": {"plan": "Pro"}, "conversation_id": 987654}), "conversation_id"),
    ] {
        let (s, e) = app.admin(Method::PATCH, &path, Some(body.clone())).await;
        assert_eq!((s, e["field"].as_str()), (422, Some(field)), "{body}: {e}");
    }

    // Valid values are normalised; each changed property is one event of the conversation.
    let (s, v) = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"properties": {"phone": "+39 (333) 123-4567", "plan": "pro", "email": "ann@example.com"},
                        "conversation_id": conv})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["contact"]["phone"], "+393331234567");
    assert_eq!(v["contact"]["properties"]["plan"], "Pro");
    let changed: Vec<&str> = v["changes"].as_array().unwrap().iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert_eq!(changed.len(), 2, "the unchanged email is not a change: {v}");
    assert!(changed.contains(&"phone") && changed.contains(&"plan"));
    let events = app.store().list_events(conv).await.unwrap();
    let updates: Vec<_> = events.iter().filter(|e| e.kind == EventKind::ContactUpdated).collect();
    assert_eq!(updates.len(), 2);
    let phone = updates.iter().find(|e| e.data["property"] == "phone").unwrap();
    assert_eq!(phone.data["before"], Value::Null);
    assert_eq!(phone.data["after"], "+393331234567");
    assert_eq!(phone.data["contact_id"], contact);
    assert_eq!(phone.actor_kind, "human");
    assert_eq!(phone.actor_user_id, Some(app.admin_id));

    // Without a conversation the change is in the audit log; removing a value is a change too.
    let (s, v) = app.admin(Method::PATCH, &path, Some(json!({"properties": {"plan": null}}))).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["contact"]["properties"].get("plan").is_none());
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=contact", None).await;
    assert_eq!(audit[0]["before"], json!({"plan": "Pro"}));
    assert_eq!(audit[0]["after"], json!({"plan": null}));
    assert_eq!(
        app.store().list_events(conv).await.unwrap().iter().filter(|e| e.kind == EventKind::ContactUpdated).count(),
        2
    );

    // Another contact's email cannot be taken.
    app.visitor(json!({"email": "bob@example.com"})).await;
    let (s, e) = app.admin(Method::PATCH, &path, Some(json!({"properties": {"email": "bob@example.com"}}))).await;
    assert_eq!(s, 409, "{e}");
}
both_backends!(contact_properties_are_validated_and_each_change_is_an_event);

/// What the engine does with a visitor's message: proposed updates to
/// writable fields only, stored by the agent with events; an anonymous
/// visitor becomes a contact; the agent reads readable fields only.
async fn the_agent_updates_writable_properties_only(app: TestApp) {
    seed_fields(&app).await;
    let fields = app.store().list_crm_fields().await.unwrap();
    let (conv, _) = app.visitor(json!({})).await;
    assert!(app.store().contact_for_conversation(conv).await.unwrap().is_none());

    let said = "My new phone is +44 20 7946 0958, my order ORD-5512 and I'm on the Basic plan";
    let proposed = extract_updates(said, &fields);
    let keys: Vec<&str> = proposed.iter().map(|u| u.key.as_str()).collect();
    assert_eq!(keys, ["last_order", "phone"], "the plan is not writable");
    let (contact, changes) = app
        .store()
        .update_contact_properties(ContactUpdate {
            target: ContactTarget::Conversation(conv),
            changes: proposed.into_iter().map(|u| (u.key, Some(u.value))).collect(),
            actor: ContactActor::Agent,
            conversation_id: Some(conv),
        })
        .await
        .unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(contact.phone.as_deref(), Some("+442079460958"));
    assert_eq!(contact.properties["last_order"], "ORD-5512");
    let linked = app.store().contact_for_conversation(conv).await.unwrap().unwrap();
    assert_eq!(linked.id, contact.id, "the anonymous visitor became a contact");
    let events = app.store().list_events(conv).await.unwrap();
    let agent_updates: Vec<_> =
        events.iter().filter(|e| e.kind == EventKind::ContactUpdated && e.actor_kind == "agent").collect();
    assert_eq!(agent_updates.len(), 2);

    // The agent never reads what is not readable (the order number is write-only).
    let view = readable_view(&contact_values(&contact), &fields);
    let seen: Vec<&str> = view.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(seen, ["phone"]);

    // The agent always works within a conversation.
    let err = app
        .store()
        .update_contact_properties(ContactUpdate {
            target: ContactTarget::Contact(contact.id),
            changes: vec![("phone".into(), Some("+15551234567".into()))],
            actor: ContactActor::Agent,
            conversation_id: None,
        })
        .await;
    assert!(err.is_err());
}
both_backends!(the_agent_updates_writable_properties_only);

async fn who_may_see_and_change_crm_data(app: TestApp) {
    seed_fields(&app).await;
    let (conv, _) = app.visitor(json!({"email": "ann@example.com"})).await;
    let (_, c) = app.admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None).await;
    let contact = c["contact"]["id"].as_i64().unwrap();
    let (_, agent_key) = app.user_with_key("agent@crm.example", Role::Agent, true).await;
    let (_, unpaid_key) = app.user_with_key("unpaid@crm.example", Role::Agent, false).await;
    let (_, viewer_key) = app.user_with_key("viewer@crm.example", Role::Viewer, true).await;
    let patch = json!({"properties": {"phone": "+39 333 1234567"}});
    let path = format!("/api/v1/contacts/{contact}/properties");
    // A human agent handles conversations: may update a contact, not the field list.
    let (s, v) = app.api(&agent_key, Method::PATCH, &path, Some(patch.clone())).await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = app
        .api(&agent_key, Method::POST, "/api/v1/crm/fields", Some(json!({"key": "x", "label": "X", "kind": "text"})))
        .await;
    assert_eq!(s, 403);
    let (s, _) = app.api(&unpaid_key, Method::PATCH, &path, Some(patch.clone())).await;
    assert_eq!(s, 403);
    let (s, _) = app.api(&unpaid_key, Method::GET, &format!("/api/v1/contacts/{contact}"), None).await;
    assert_eq!(s, 200);
    for (m, p) in [(Method::GET, format!("/api/v1/contacts/{contact}")), (Method::GET, "/api/v1/crm/fields".into())] {
        let (s, _) = app.api(&viewer_key, m, &p, None).await;
        assert_eq!(s, 403);
    }
    let (s, _) = app.api(&viewer_key, Method::PATCH, &path, Some(patch)).await;
    assert_eq!(s, 403);
}
both_backends!(who_may_see_and_change_crm_data);

async fn crm_fields_in_the_console(app: TestApp) {
    let key = app.admin_key.clone();
    let r = app.client.get(app.url("/console/crm")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("No fields yet"));
    let r = app
        .client
        .post(app.url("/console/crm"))
        .bearer_auth(&key)
        .form(&[("key", "plan"), ("label", "Plan"), ("kind", "enum"), ("values", "Basic, Pro"), ("agent_read", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = app
        .client
        .post(app.url("/console/crm"))
        .bearer_auth(&key)
        .form(&[("key", "tier"), ("label", "Tier"), ("kind", "enum")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("an enum needs at least one value"));
    // Toggle write on, read off.
    let r = app
        .client
        .post(app.url("/console/crm/plan"))
        .bearer_auth(&key)
        .form(&[("label", "Plan"), ("kind", "enum"), ("values", "Basic, Pro"), ("agent_write", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let f = &app.store().list_crm_fields().await.unwrap()[0];
    assert_eq!((f.agent_read, f.agent_write), (false, true));
    assert_eq!(f.values, ["Basic", "Pro"]);
    let html = app.client.get(app.url("/console/crm")).bearer_auth(&key).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("action=\"/console/crm/plan\""), "{html}");
    let r = app.client.post(app.url("/console/crm/plan/delete")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(app.store().list_crm_fields().await.unwrap().is_empty());
}
both_backends!(crm_fields_in_the_console);
