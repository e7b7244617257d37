//! Shared state of the running server.

use std::sync::Arc;

use frontdesk_core::lang::Lang;
use frontdesk_core::responder::{Persona, ShortAnswerResponder};
use frontdesk_core::short_answers::ShortAnswer;
use frontdesk_store::{AgentProfile, Store, StoreResult};
use tokio::sync::RwLock;

use crate::config::Settings;
use crate::hub::Hub;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub settings: Settings,
    pub hub: Hub,
    pub metrics: Metrics,
    /// The search index over the content sources' chunks.
    pub knowledge: crate::knowledge::Knowledge,
    /// The agent's profile and answer index, rebuilt when the store's
    /// content version moves (here or on another replica).
    agent: RwLock<Cached>,
}

struct Cached {
    version: i64,
    local_changes: u64,
    checked_at: std::time::Instant,
    snapshot: Arc<AgentSnapshot>,
}

/// How long a snapshot is trusted without asking the store whether another
/// replica changed the content.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// What the agent needs to answer, consistent with one content version.
pub struct AgentSnapshot {
    pub profile: AgentProfile,
    pub responder: ShortAnswerResponder,
    /// Short answers whose citations are switched off (still used, not linked).
    pub uncited: Vec<i64>,
    /// Sources whose citations are off or that are private (used, never linked).
    pub uncited_sources: Vec<i64>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: Settings, knowledge: crate::knowledge::Knowledge) -> Self {
        Self(Arc::new(Inner {
            store,
            settings,
            hub: Hub::default(),
            metrics: Metrics::new(),
            knowledge,
            agent: RwLock::new(Cached {
                version: -1,
                local_changes: u64::MAX,
                checked_at: std::time::Instant::now(),
                snapshot: Arc::new(AgentSnapshot {
                    profile: AgentProfile::default(),
                    responder: ShortAnswerResponder::default(),
                    uncited: Vec::new(),
                    uncited_sources: Vec::new(),
                }),
            }),
        }))
    }

    /// The agent for the current content. Changes made by this process are
    /// seen at once; changes made by other replicas within `RECHECK`.
    pub async fn agent(&self) -> StoreResult<Arc<AgentSnapshot>> {
        let local = self.store.local_content_changes();
        {
            let cur = self.agent.read().await;
            if cur.local_changes == local && cur.checked_at.elapsed() < RECHECK {
                return Ok(cur.snapshot.clone());
            }
        }
        let version = self.store.content_version().await?;
        {
            let mut cur = self.agent.write().await;
            if cur.version == version {
                cur.local_changes = local;
                cur.checked_at = std::time::Instant::now();
                return Ok(cur.snapshot.clone());
            }
        }
        // Content moved (here or on another replica): bring the index in line.
        if let Err(e) = self.knowledge.sync_index(self.store.as_ref(), false).await {
            tracing::warn!(error = %e, "could not bring the search index in line with the store");
        }
        let profile = self.store.agent_profile().await?;
        let rows = self.store.list_short_answers().await?;
        let uncited = rows.iter().filter(|r| !r.citations_enabled).map(|r| r.id).collect();
        let responder = ShortAnswerResponder::new(
            rows.into_iter().map(|r| ShortAnswer { id: r.id, question: r.question, answer: r.answer }),
            self.settings.answer_threshold,
        );
        let uncited_sources = self
            .store
            .list_sources(None)
            .await?
            .into_iter()
            .filter(|s| !s.citations_enabled || s.private)
            .map(|s| s.id)
            .collect();
        let snapshot = Arc::new(AgentSnapshot { profile, responder, uncited, uncited_sources });
        *self.agent.write().await =
            Cached { version, local_changes: local, checked_at: std::time::Instant::now(), snapshot: snapshot.clone() };
        Ok(snapshot)
    }
}

/// The persona a responder speaks with.
pub fn persona(profile: &AgentProfile) -> Persona {
    Persona {
        name: profile.name.clone(),
        personality: profile.personality,
        default_lang: Lang::from_code(&profile.default_lang).unwrap_or(Lang::En),
    }
}
