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
    /// The answer index, rebuilt when the store's content version moves.
    responder: RwLock<(i64, Arc<ShortAnswerResponder>)>,
    /// Short answers whose citations are switched off (still used, not linked).
    uncited: RwLock<Vec<i64>>,
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
            responder: RwLock::new((-1, Arc::new(ShortAnswerResponder::default()))),
            uncited: RwLock::new(Vec::new()),
        }))
    }

    /// The responder for the current content, rebuilt if content changed
    /// (here or on another replica).
    pub async fn responder(&self) -> StoreResult<(Arc<ShortAnswerResponder>, Vec<i64>)> {
        let version = self.store.content_version().await?;
        {
            let cur = self.responder.read().await;
            if cur.0 == version {
                return Ok((cur.1.clone(), self.uncited.read().await.clone()));
            }
        }
        let rows = self.store.list_short_answers().await?;
        let uncited: Vec<i64> = rows.iter().filter(|r| !r.citations_enabled).map(|r| r.id).collect();
        let responder = Arc::new(ShortAnswerResponder::new(
            rows.into_iter().map(|r| ShortAnswer { id: r.id, question: r.question, answer: r.answer }),
            self.settings.answer_threshold,
        ));
        *self.responder.write().await = (version, responder.clone());
        *self.uncited.write().await = uncited.clone();
        Ok((responder, uncited))
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
