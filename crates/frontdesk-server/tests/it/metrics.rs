//! `/metrics`: latency histograms (HTTP by route, turn, retrieval), the job
//! gauges by lane, and the Grafana dashboard shipped in `deploy/grafana`,
//! whose every query names a metric the server really exports.

use crate::both_backends;
use crate::common::TestApp;
use serde_json::{json, Value};

/// The `_count` of a histogram series in the exposition text (0 when absent).
fn count(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse::<f64>().ok()))
        .map_or(0, |v| v as u64)
}

async fn histograms_and_job_gauges(app: TestApp) {
    app.seed_agent().await;
    // Questions no short answer matches: the agent searches the content (and,
    // with nothing to cite, hands off: so one question per conversation).
    let mut id = 0;
    for q in ["how do I export my notebook to a PDF file?", "can I print my notebook in colour?"] {
        let (conversation, token) = app.visitor(json!({})).await;
        let (s, _) = app.say(conversation, &token, q).await;
        assert_eq!(s, 201);
        id = conversation;
    }
    let m = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();

    // HTTP latency by route template, not by path (ids do not grow the label set).
    let route = format!("/api/v1/chat/conversations/{id}/messages");
    assert!(!m.contains(&route), "paths with ids are not labels:\n{m}");
    let series = "frontdesk_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/chat/conversations/{id}/messages\"}";
    assert_eq!(count(&m, series), 2, "{series} in\n{m}");
    assert!(m.contains("frontdesk_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/chat/sessions\",le=\"0.001\"}"), "{m}");
    // Unknown paths share one label.
    app.client.get(app.url("/no/such/page/12345")).send().await.unwrap();
    let m = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(m.contains("route=\"unmatched\""), "{m}");
    assert!(!m.contains("12345"), "{m}");

    // Both turns, and the retrieval of each.
    assert_eq!(count(&m, "frontdesk_turn_duration_seconds_count"), 2, "{m}");
    assert_eq!(count(&m, "frontdesk_retrieval_duration_seconds_count"), 2, "{m}");
    // No LLM is configured: its histogram is there, empty.
    assert_eq!(count(&m, "frontdesk_llm_duration_seconds_count"), 0, "{m}");
    assert!(m.contains("# TYPE frontdesk_llm_duration_seconds histogram"), "{m}");

    // The job gauges: every lane and state is present, and they add up to the depth.
    let gauge = |lane: &str, state: &str| {
        let series = format!("frontdesk_jobs{{lane=\"{lane}\",state=\"{state}\"}}");
        m.lines()
            .find_map(|l| l.strip_prefix(series.as_str()).and_then(|v| v.trim().parse::<i64>().ok()))
            .unwrap_or_else(|| panic!("{series} in\n{m}"))
    };
    let total: i64 = ["fast", "slow"].iter().flat_map(|l| ["queued", "running"].map(|s| gauge(l, s))).sum();
    let depth = m
        .lines()
        .find_map(|l| l.strip_prefix("frontdesk_job_queue_depth ").and_then(|v| v.trim().parse::<i64>().ok()))
        .expect("depth");
    assert_eq!(total, depth, "{m}");
}
both_backends!(histograms_and_job_gauges);

/// Every metric a panel of the shipped dashboard queries exists.
#[test]
fn the_grafana_dashboard_queries_real_metrics() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/grafana/frontdesk.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let names = frontdesk_engine::metrics::Metrics::new().names();
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            for (at, _) in expr.match_indices("frontdesk_") {
                let name: String = expr[at + "frontdesk_".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let base =
                    ["_bucket", "_count", "_sum"].iter().fold(name.as_str(), |n, s| n.strip_suffix(s).unwrap_or(n));
                assert!(
                    names.iter().any(|n| n == base),
                    "panel {:?} queries frontdesk_{name}, not in {names:?}",
                    panel["title"]
                );
                queried += 1;
            }
        }
    }
    assert!(queried >= 10, "the dashboard queries the metrics ({queried})");
    // Every latency histogram has a panel.
    for h in [
        "http_request_duration_seconds",
        "turn_duration_seconds",
        "retrieval_duration_seconds",
        "llm_duration_seconds",
        "delivery_duration_seconds",
    ] {
        assert!(dashboard.to_string().contains(&format!("frontdesk_{h}_bucket")), "{h} has a panel");
    }
}
