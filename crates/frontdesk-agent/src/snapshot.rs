//! What the agent needs to answer, consistent with one content version:
//! profile, short answers, tools, topics to avoid, working hours and the
//! messaging settings. Built from the store and cached by the [`Context`]
//! until the content version moves (here or on another replica).

use std::collections::HashMap;
use std::sync::Arc;

use frontdesk_core::lang::Lang;
use frontdesk_core::model::{AskEmail, Channel};
use frontdesk_core::responder::{Citation, Persona, ShortAnswerResponder};
use frontdesk_core::short_answers::ShortAnswer;
use frontdesk_store::{AgentProfile, StoreResult};

use crate::knowledge::Knowledge;
use crate::Context;

pub(crate) struct Cached {
    version: i64,
    local_changes: u64,
    checked_at: std::time::Instant,
    snapshot: Arc<AgentSnapshot>,
}

impl Cached {
    pub(crate) fn empty() -> Cached {
        Cached {
            version: -1,
            local_changes: u64::MAX,
            checked_at: std::time::Instant::now(),
            snapshot: Arc::new(AgentSnapshot {
                profile: AgentProfile::default(),
                responder: ShortAnswerResponder::default(),
                uncited: Vec::new(),
                uncited_sources: Vec::new(),
                topic_vectors: Vec::new(),
                tools: Default::default(),
                leads_enabled: false,
                bots_enabled: false,
                working_hours: Default::default(),
                ask_email: Default::default(),
            }),
        }
    }
}

/// How long a snapshot is trusted without asking the store whether another
/// replica changed the content.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// What the agent needs to answer, consistent with one content version.
#[derive(Clone)]
pub struct AgentSnapshot {
    pub profile: AgentProfile,
    pub responder: ShortAnswerResponder,
    /// Short answers whose citations are switched off (still used, not linked).
    pub uncited: Vec<i64>,
    /// Sources whose citations are off or that are private (used, never linked).
    pub uncited_sources: Vec<i64>,
    /// One embedding per topic to avoid (name, keywords, instruction), when
    /// the embedding model is loaded: detects topics by meaning (A3).
    pub topic_vectors: Vec<Vec<f32>>,
    /// Enabled actions (F2) and the CRM fields (F1).
    pub tools: crate::actions::AgentTools,
    /// Lead qualification is on (F3): only then are lead settings read per turn.
    pub leads_enabled: bool,
    /// Some rule-based bot is enabled (C5): only then are bot sessions read per message.
    pub bots_enabled: bool,
    /// Working hours by channel (C4); a channel not listed works at all hours.
    pub working_hours: HashMap<String, frontdesk_core::hours::Schedule>,
    /// When the agent asks for the visitor's email, by channel (C2); absent: never.
    pub ask_email: HashMap<Channel, AskEmail>,
}

impl AgentSnapshot {
    /// Whether a citation may be shown to the visitor: its source's
    /// citations are on and it is not private (B7). Hidden ones still count
    /// as used.
    pub fn shows_citation(&self, c: &Citation) -> bool {
        match c.source_kind.as_str() {
            "short_answer" => !self.uncited.contains(&c.source_id),
            _ => !self.uncited_sources.contains(&c.source_id),
        }
    }
}

impl Context {
    /// The agent for the current content. Changes made by this process are
    /// seen at once; changes made by other replicas within `RECHECK`.
    pub async fn snapshot(&self) -> StoreResult<Arc<AgentSnapshot>> {
        let local = self.store.local_content_changes();
        {
            let cur = self.cache.read().await;
            if cur.local_changes == local && cur.checked_at.elapsed() < RECHECK {
                return Ok(cur.snapshot.clone());
            }
        }
        let version = self.store.content_version().await?;
        {
            let mut cur = self.cache.write().await;
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
        let topic_vectors = topic_vectors(&self.knowledge, &profile.topics_to_avoid);
        let tools = crate::actions::load_tools(self).await?;
        let leads = self.store.lead_settings().await?;
        let leads_enabled = leads.enabled && !leads.criteria.is_empty();
        let bots_enabled = self.store.list_bots().await?.iter().any(|b| b.bot.enabled);
        let working_hours =
            self.store.list_working_hours().await?.into_iter().map(|h| (h.channel, h.schedule)).collect();
        let ask_email = self
            .store
            .messaging_settings()
            .await?
            .into_iter()
            .filter(|m| m.ask_email != AskEmail::Never)
            .map(|m| (m.channel, m.ask_email))
            .collect();
        let snapshot = Arc::new(AgentSnapshot {
            ask_email,
            profile,
            responder,
            uncited,
            uncited_sources,
            topic_vectors,
            tools,
            working_hours,
            leads_enabled,
            bots_enabled,
        });
        *self.cache.write().await =
            Cached { version, local_changes: local, checked_at: std::time::Instant::now(), snapshot: snapshot.clone() };
        Ok(snapshot)
    }
}

/// Whether `channel`'s working hours (C4) let the agent take a new
/// conversation at `now`. Outside them new conversations go to humans, as
/// when the agent is switched off; conversations it already has stay its own.
pub fn agent_on_duty(agent: &AgentSnapshot, channel: Channel, now: jiff::Timestamp) -> bool {
    agent.working_hours.get(channel.as_str()).is_none_or(|s| frontdesk_core::hours::is_open(s, now))
}

/// Embeddings of the topics to avoid (empty without the model).
pub fn topic_vectors(knowledge: &Knowledge, topics: &[frontdesk_core::guard::Topic]) -> Vec<Vec<f32>> {
    let Some(embedder) = knowledge.embedder() else { return Vec::new() };
    if topics.is_empty() {
        return Vec::new();
    }
    let texts: Vec<String> = topics.iter().map(|t| format!("{}. {}", t.name, t.keywords.join(", "))).collect();
    embedder.embed(&texts).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not embed the topics to avoid; keywords only");
        Vec::new()
    })
}

/// The persona a responder speaks with.
pub fn persona(profile: &AgentProfile) -> Persona {
    Persona::new(
        &profile.name,
        profile.personality,
        &profile.brand_voice,
        Lang::from_code(&profile.default_lang).unwrap_or(Lang::En),
    )
}
