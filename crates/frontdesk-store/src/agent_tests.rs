//! Storage of agent tests (K3): saved questions with their expectations,
//! and the runs of the suite with every case's verdict.

use async_trait::async_trait;
use frontdesk_core::agent_tests::{Check, Expectation};
use serde::{Deserialize, Serialize};

use crate::{Actor, StoreResult};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentTest {
    pub id: i64,
    pub name: String,
    pub question: String,
    pub expect: Vec<Expectation>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewAgentTest {
    pub name: String,
    pub question: String,
    pub expect: Vec<Expectation>,
}

/// One case's result within a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub test_id: i64,
    pub name: String,
    pub question: String,
    pub passed: bool,
    pub checks: Vec<Check>,
    /// The reply's text, outcome and trace decision, to see what happened.
    pub reply_text: String,
    pub outcome: String,
    pub decision: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentTestRun {
    pub id: i64,
    pub started_at: i64,
    pub finished_at: i64,
    pub total: i64,
    pub passed: i64,
    pub results: Vec<CaseResult>,
    pub actor: String,
}

#[derive(Debug, Clone)]
pub struct NewAgentTestRun {
    pub started_at: i64,
    pub results: Vec<CaseResult>,
}

#[async_trait]
pub trait AgentTestStore: Send + Sync {
    async fn list_agent_tests(&self) -> StoreResult<Vec<AgentTest>>;
    async fn get_agent_test(&self, id: i64) -> StoreResult<AgentTest>;
    async fn create_agent_test(&self, actor: &Actor, new: NewAgentTest) -> StoreResult<AgentTest>;
    async fn update_agent_test(&self, actor: &Actor, id: i64, new: NewAgentTest) -> StoreResult<AgentTest>;
    async fn delete_agent_test(&self, actor: &Actor, id: i64) -> StoreResult<()>;
    /// Records a finished run (audited: running the suite is an action on the agent).
    async fn record_agent_test_run(&self, actor: &Actor, run: NewAgentTestRun) -> StoreResult<AgentTestRun>;
    /// The newest runs first.
    async fn list_agent_test_runs(&self, limit: i64) -> StoreResult<Vec<AgentTestRun>>;
}
