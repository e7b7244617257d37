//! Prometheus metrics, served at `/metrics`.

use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub messages: IntCounterVec,
    pub agent_replies: IntCounterVec,
    pub handoffs: IntCounterVec,
    pub job_queue_depth: IntGauge,
    pub jobs_run: IntCounterVec,
    pub conversations_created: IntCounter,
    pub deliveries: IntCounterVec,
    pub inbound: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("frontdesk".into()), None).expect("valid registry prefix");
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry.register(Box::new(c.clone())).expect("unique metric");
            c
        };
        let http_requests =
            counter_vec("http_requests_total", "HTTP requests by method and status class", &["method", "status"]);
        let messages = counter_vec("messages_total", "Messages stored, by author", &["author"]);
        let agent_replies = counter_vec("agent_replies_total", "Agent replies, by outcome", &["outcome"]);
        let handoffs = counter_vec("handoffs_total", "Handoffs to humans, by trigger", &["trigger"]);
        let jobs_run = counter_vec("jobs_run_total", "Jobs run, by kind and result", &["kind", "result"]);
        let deliveries =
            counter_vec("deliveries_total", "Outbound deliveries, by channel and result", &["channel", "result"]);
        let inbound =
            counter_vec("inbound_total", "Inbound channel messages, by channel and result", &["channel", "result"]);
        let job_queue_depth = IntGauge::new("job_queue_depth", "Jobs queued or running").expect("valid metric");
        registry.register(Box::new(job_queue_depth.clone())).expect("unique metric");
        let conversations_created =
            IntCounter::new("conversations_created_total", "Conversations created").expect("valid metric");
        registry.register(Box::new(conversations_created.clone())).expect("unique metric");
        Self {
            registry,
            http_requests,
            messages,
            agent_replies,
            handoffs,
            job_queue_depth,
            jobs_run,
            conversations_created,
            deliveries,
            inbound,
        }
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
