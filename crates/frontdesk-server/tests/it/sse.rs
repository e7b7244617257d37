//! Live stream: reconnecting with Last-Event-ID mid-conversation loses and
//! repeats nothing.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::TestApp;

/// Reads SSE `message` events until `want` arrived; returns (id, message JSON).
async fn read_events(resp: reqwest::Response, want: usize) -> Vec<(i64, Value)> {
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while out.len() < want {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("events arrive in time")
            .expect("stream open")
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (None, None, String::new());
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse::<i64>().ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if event.as_deref() == Some("message") {
                let m: Value = serde_json::from_str(&data).unwrap();
                assert_eq!(Some(m["id"].as_i64().unwrap()), id, "the event id is the message id");
                out.push((id.unwrap(), m));
            }
        }
    }
    out
}

async fn stream_url(app: &TestApp, id: i64, token: &str) -> String {
    app.url(&format!("/api/v1/chat/conversations/{id}/stream?token={token}"))
}

async fn reconnecting_loses_and_repeats_nothing(app: TestApp) {
    app.seed_agent().await;
    let (id, token) = app.visitor(json!({})).await;
    let url = stream_url(&app, id, &token).await;

    // First connection: two exchanges (visitor + agent each) arrive live.
    let resp = app.client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let reader = tokio::spawn(read_events(resp, 4));
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.say(id, &token, "What are your opening hours?").await;
    app.say(id, &token, "How do I reset my password?").await;
    let first = reader.await.unwrap();
    // The connection is dropped here (the response is consumed and gone).

    // While disconnected, more messages arrive, from the visitor, the agent and a human.
    app.say(id, &token, "How much does the Pro plan cost?").await;
    let (s, _) = app
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/conversations/{id}/messages"),
            Some(json!({"text": "Hi, Marta from the team here."})),
        )
        .await;
    assert_eq!(s, 201);

    // Reconnect with Last-Event-ID = the last event seen.
    let last_seen = first.last().unwrap().0;
    let resp = app.client.get(&url).header("Last-Event-ID", last_seen.to_string()).send().await.unwrap();
    let reader = tokio::spawn(read_events(resp, 4));
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.say(id, &token, "thanks").await;
    let second = reader.await.unwrap();

    let streamed: Vec<i64> = first.iter().chain(second.iter()).map(|(i, _)| *i).collect();
    let stored: Vec<i64> = app.messages(id, &token).await.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    // Everything up to the point we stopped reading, in order, exactly once.
    assert_eq!(streamed, stored[..streamed.len()].to_vec(), "streamed {streamed:?} vs stored {stored:?}");
    assert_eq!(streamed.len(), 8);
    let authors: Vec<&str> = first.iter().chain(second.iter()).map(|(_, m)| m["author"].as_str().unwrap()).collect();
    assert_eq!(authors, ["visitor", "agent", "visitor", "agent", "visitor", "agent", "human", "visitor"]);
}
both_backends!(reconnecting_loses_and_repeats_nothing);
