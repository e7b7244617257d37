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
    /// The agent's profile and answer index, rebuilt when the store's
    /// content version moves (here or on another replica).
    agent: RwLock<(i64, Arc<AgentSnapshot>)>,
}

/// What the agent needs to answer, consistent with one content version.
pub struct AgentSnapshot {
    pub profile: AgentProfile,
    pub responder: ShortAnswerResponder,
    /// Short answers whose citations are switched off (still used, not linked).
    pub uncited: Vec<i64>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        Self(Arc::new(Inner {
            store,
            settings,
            hub: Hub::default(),
            metrics: Metrics::new(),
            agent: RwLock::new((
                -1,
                Arc::new(AgentSnapshot {
                    profile: AgentProfile::default(),
                    responder: ShortAnswerResponder::default(),
                    uncited: Vec::new(),
                }),
            )),
        }))
    }

    /// The agent for the current content: one cheap read of the content
    /// version, and a rebuild only when it moved.
    pub async fn agent(&self) -> StoreResult<Arc<AgentSnapshot>> {
        let version = self.store.content_version().await?;
        {
            let cur = self.agent.read().await;
            if cur.0 == version {
                return Ok(cur.1.clone());
            }
        }
        let profile = self.store.agent_profile().await?;
        let rows = self.store.list_short_answers().await?;
        let uncited = rows.iter().filter(|r| !r.citations_enabled).map(|r| r.id).collect();
        let responder = ShortAnswerResponder::new(
            rows.into_iter().map(|r| ShortAnswer { id: r.id, question: r.question, answer: r.answer }),
            self.settings.answer_threshold,
        );
        let snapshot = Arc::new(AgentSnapshot { profile, responder, uncited });
        *self.agent.write().await = (version, snapshot.clone());
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
