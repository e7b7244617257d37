//! Storage of rule-based chatbots (C5) and of each conversation's session
//! in its bot.

use async_trait::async_trait;
use frontdesk_core::bot::{Bot, BotState};
use frontdesk_core::model::Channel;
use serde::{Deserialize, Serialize};

use crate::{Actor, StoreResult};

/// A stored bot and when it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotRow {
    #[serde(flatten)]
    pub bot: Bot,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where a conversation stands in its bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotSession {
    pub conversation_id: i64,
    pub bot_id: i64,
    pub state: BotState,
    pub finished: bool,
}

#[async_trait]
pub trait BotStore: Send + Sync {
    async fn list_bots(&self) -> StoreResult<Vec<BotRow>>;
    async fn get_bot(&self, id: i64) -> StoreResult<BotRow>;
    /// Stores a validated bot (its `id` is ignored); audited, bumps the content version.
    async fn create_bot(&self, actor: &Actor, bot: Bot) -> StoreResult<BotRow>;
    async fn update_bot(&self, actor: &Actor, id: i64, bot: Bot) -> StoreResult<BotRow>;
    /// Deletes the bot and its sessions.
    async fn delete_bot(&self, actor: &Actor, id: i64) -> StoreResult<()>;
    /// The enabled bot of a channel (the lowest id when several are enabled).
    async fn bot_for_channel(&self, channel: Channel) -> StoreResult<Option<BotRow>>;
    /// The conversation's session, finished or not.
    async fn bot_session(&self, conversation_id: i64) -> StoreResult<Option<BotSession>>;
    /// Creates or replaces the conversation's session.
    async fn save_bot_session(&self, session: &BotSession) -> StoreResult<()>;
}
