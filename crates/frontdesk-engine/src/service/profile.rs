//! The agent's profile (name, personality, the on/off switch, language,
//! handoff phrases, topics to avoid) as the admin API, the console and the
//! preview change it.

use frontdesk_core::model::Personality;
use frontdesk_core::validate::bounded_text;
use frontdesk_store::{Actor, AgentProfile};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::Engine;

/// Changes to the agent's profile; absent fields keep their value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    pub name: Option<String>,
    /// friendly, professional, casual, empathetic, witty or brand_voice
    pub personality: Option<String>,
    pub brand_voice: Option<String>,
    /// The on/off switch (D2).
    pub enabled: Option<bool>,
    pub default_lang: Option<String>,
    pub inactivity_close_minutes: Option<i64>,
    /// Words and phrases that hand the conversation to humans (E2), matched
    /// case- and accent-insensitively on word boundaries.
    pub handoff_phrases: Option<Vec<String>>,
    /// Topics the agent must not discuss: `{name, keywords, instruction, handoff}` (A3).
    #[schema(value_type = Option<Vec<Object>>)]
    pub topics_to_avoid: Option<Vec<frontdesk_core::guard::Topic>>,
}

fn phrase_list(field: &str, items: Vec<String>, max_items: usize) -> Result<Vec<String>> {
    if items.len() > max_items {
        return Err(Error::invalid_field(field, format!("must have at most {max_items} entries")));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (i, p) in items.iter().enumerate() {
        let p = bounded_text(&format!("{field}[{i}]"), p, 1, 80)?;
        if frontdesk_core::text::words(&p).is_empty() {
            return Err(Error::invalid_field(&format!("{field}[{i}]"), "must contain at least one word"));
        }
        if !out.iter().any(|o| frontdesk_core::text::fold(o) == frontdesk_core::text::fold(&p)) {
            out.push(p);
        }
    }
    Ok(out)
}

impl ProfileInput {
    pub fn apply(self, mut p: AgentProfile) -> Result<AgentProfile> {
        if let Some(n) = self.name {
            p.name = bounded_text("name", &n, 1, 60)?;
        }
        if let Some(s) = self.personality {
            p.personality = Personality::parse(s.trim()).ok_or_else(|| {
                Error::invalid_field(
                    "personality",
                    "must be one of friendly, professional, casual, empathetic, witty, brand_voice",
                )
            })?;
        }
        if let Some(b) = self.brand_voice {
            p.brand_voice = bounded_text("brand_voice", &b, 0, 2000)?;
        }
        if let Some(e) = self.enabled {
            p.enabled = e;
        }
        if let Some(l) = self.default_lang {
            let l = l.trim().to_lowercase();
            if frontdesk_core::lang::Lang::from_code(&l).is_none() {
                return Err(Error::invalid_field(
                    "default_lang",
                    format!("must be one of {}", frontdesk_core::lang::Lang::codes()),
                ));
            }
            p.default_lang = l;
        }
        if let Some(m) = self.inactivity_close_minutes {
            if !(5..=60 * 24 * 30).contains(&m) {
                return Err(Error::invalid_field("inactivity_close_minutes", "must be between 5 and 43200 (30 days)"));
            }
            p.inactivity_close_minutes = m;
        }
        if let Some(phrases) = self.handoff_phrases {
            p.handoff_phrases = phrase_list("handoff_phrases", phrases, 100)?;
        }
        if let Some(topics) = self.topics_to_avoid {
            if topics.len() > 50 {
                return Err(Error::invalid_field("topics_to_avoid", "must have at most 50 topics"));
            }
            let mut clean = Vec::with_capacity(topics.len());
            for (i, t) in topics.into_iter().enumerate() {
                let f = |name: &str| format!("topics_to_avoid[{i}].{name}");
                let name = bounded_text(&f("name"), &t.name, 1, 80)?;
                if frontdesk_core::text::words(&name).is_empty() {
                    return Err(Error::invalid_field(&f("name"), "must contain at least one word"));
                }
                clean.push(frontdesk_core::guard::Topic {
                    name,
                    keywords: phrase_list(&f("keywords"), t.keywords, 30)?,
                    instruction: bounded_text(&f("instruction"), &t.instruction, 0, 1000)?,
                    handoff: t.handoff,
                });
            }
            p.topics_to_avoid = clean;
        }
        if p.personality == Personality::BrandVoice && p.brand_voice.trim().is_empty() {
            return Err(Error::invalid_field(
                "brand_voice",
                "must describe the brand voice when the personality is brand_voice",
            ));
        }
        Ok(p)
    }
}

/// Applies the changes to the stored profile and saves it (audited; the
/// agent snapshot follows at once).
pub async fn update_profile(state: &Engine, actor: &Actor, input: ProfileInput) -> Result<AgentProfile> {
    let current = state.store.agent_profile().await?;
    let next = input.apply(current)?;
    let saved = state.store.update_agent_profile(actor, next).await?;
    state.hub.notify_config();
    Ok(saved)
}
