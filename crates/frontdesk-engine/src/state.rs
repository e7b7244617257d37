//! Shared state of the running server.

use std::sync::Arc;

use frontdesk_store::Store;

use crate::config::Settings;
use crate::hub::Hub;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct Engine(pub Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub settings: Settings,
    pub hub: Arc<Hub>,
    pub metrics: Metrics,
    /// Wakes this process's job worker at once (a reply to deliver), instead
    /// of at its next poll.
    pub wake_worker: tokio::sync::Notify,
    /// In-process coordination of channel work (duplicates in flight, order of sends).
    pub channel_locks: crate::channels::ChannelLocks,
    /// The agent: search index, LLM client, snapshot cache.
    pub agent: frontdesk_agent::Context,
    /// Set once when the process is asked to stop (SIGTERM): live streams
    /// end, the worker claims nothing more, the mail poll loop stops.
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl std::ops::Deref for Engine {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, settings: Settings, knowledge: frontdesk_agent::Knowledge) -> Self {
        let llm = match settings.llm() {
            Ok(Some(cfg)) => match frontdesk_llm::Client::new(cfg) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::error!(error = %e, "the LLM settings are invalid; the built-in responder answers");
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "the LLM settings are invalid; the built-in responder answers");
                None
            }
        };
        let hub = Arc::new(Hub::default());
        let agent = frontdesk_agent::Context::new(
            store.clone(),
            knowledge,
            llm,
            frontdesk_agent::Settings {
                answer_threshold: settings.answer_threshold,
                allow_private_networks: settings.allow_private_networks,
            },
            hub.clone(),
        );
        Self(Arc::new(Inner {
            store,
            settings,
            hub,
            metrics: Metrics::new(),
            wake_worker: tokio::sync::Notify::new(),
            channel_locks: Default::default(),
            agent,
            shutdown: tokio::sync::watch::Sender::new(false),
        }))
    }

    /// Starts the shutdown: everything waiting on [`Engine::shutting_down`] wakes.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Resolves once the shutdown has begun (at once if it has); owns what it
    /// needs, so a stream can hold it.
    pub fn shutting_down(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|stopping| *stopping).await;
        }
    }
}
