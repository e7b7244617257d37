//! Prometheus metrics, served at `/metrics`.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Latency buckets in seconds, from 1 ms (a cached page) to 30 s (a slow
/// model or a hanging channel API).
const LATENCY_BUCKETS: [f64; 15] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0];

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub messages: IntCounterVec,
    pub agent_replies: IntCounterVec,
    pub handoffs: IntCounterVec,
    pub job_queue_depth: IntGauge,
    /// Jobs waiting or running, by lane (`fast`, `slow`) and state.
    pub jobs: IntGaugeVec,
    pub jobs_run: IntCounterVec,
    /// HTTP request latency by method and route template (`/api/v1/articles/{id}`).
    pub http_duration: HistogramVec,
    /// A visitor message's whole turn: bots, the agent's reply, the write.
    pub turn_duration: Histogram,
    /// Retrieval for a reply (both retrievers and the second stage).
    pub retrieval_duration: Histogram,
    /// Waiting for the LLM while drafting a reply (every call of the reply).
    pub llm_duration: Histogram,
    /// One outbound delivery attempt, by channel kind.
    pub delivery_duration: HistogramVec,
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
        let histogram_vec = |name: &str, help: &str, labels: &[&str]| {
            let opts = HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec());
            let h = HistogramVec::new(opts, labels).expect("valid metric");
            registry.register(Box::new(h.clone())).expect("unique metric");
            h
        };
        let histogram = |name: &str, help: &str| {
            let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()))
                .expect("valid metric");
            registry.register(Box::new(h.clone())).expect("unique metric");
            h
        };
        let http_duration = histogram_vec(
            "http_request_duration_seconds",
            "HTTP request latency, by method and route template",
            &["method", "route"],
        );
        let turn_duration =
            histogram("turn_duration_seconds", "A visitor message's turn: bots, the agent's reply and the write");
        let retrieval_duration =
            histogram("retrieval_duration_seconds", "Retrieval for a reply: both retrievers and the second stage");
        let llm_duration = histogram("llm_duration_seconds", "Time waiting for the LLM while drafting one reply");
        let delivery_duration =
            histogram_vec("delivery_duration_seconds", "One outbound delivery attempt, by channel", &["channel"]);
        let jobs = IntGaugeVec::new(Opts::new("jobs", "Jobs by lane and state (queued, running)"), &["lane", "state"])
            .expect("valid metric");
        registry.register(Box::new(jobs.clone())).expect("unique metric");
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
            jobs,
            jobs_run,
            http_duration,
            turn_duration,
            retrieval_duration,
            llm_duration,
            delivery_duration,
            conversations_created,
            deliveries,
            inbound,
        }
    }

    /// The name of every metric, without the `frontdesk_` prefix (a metric
    /// with labels is only rendered once it has a value; this lists it anyway).
    pub fn names(&self) -> Vec<String> {
        use prometheus::core::Collector;
        let all: [&dyn Collector; 15] = [
            &self.http_requests,
            &self.messages,
            &self.agent_replies,
            &self.handoffs,
            &self.job_queue_depth,
            &self.jobs,
            &self.jobs_run,
            &self.http_duration,
            &self.turn_duration,
            &self.retrieval_duration,
            &self.llm_duration,
            &self.delivery_duration,
            &self.conversations_created,
            &self.deliveries,
            &self.inbound,
        ];
        let mut names: Vec<String> = all.iter().flat_map(|c| c.desc()).map(|d| d.fq_name.clone()).collect();
        names.sort();
        names.dedup();
        names
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
