//! Running the agent tests (K3): the same judgement as a live conversation
//! (`respond`), with nothing written but the run's record — no
//! conversation, no unanswered question, no credits.

use frontdesk_core::agent_tests::judge;
use frontdesk_store::{now_ms, Actor, AgentTestRun, CaseResult, NewAgentTestRun};
use serde::Serialize;

use crate::respond::{respond, Ask};
use crate::Context;

/// A run and how it compares with the one before it.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run: AgentTestRun,
    /// The previous run's score, if there was one.
    pub previous: Option<Score>,
    /// Cases that passed last time and fail now.
    pub regressions: Vec<i64>,
    /// Cases that failed last time and pass now.
    pub fixed: Vec<i64>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Score {
    pub run_id: i64,
    pub total: i64,
    pub passed: i64,
}

/// Runs every saved test against the current configuration and records the run.
pub async fn run_suite(cx: &Context, actor: &Actor) -> anyhow::Result<RunReport> {
    let started_at = now_ms();
    let tests = cx.store.list_agent_tests().await?;
    let agent = cx.snapshot().await?;
    let mut results = Vec::with_capacity(tests.len());
    for t in tests {
        let reply = respond(cx, &agent, &Ask::new(t.question.clone())).await;
        let checks = judge(&t.expect, &reply);
        results.push(CaseResult {
            test_id: t.id,
            name: t.name,
            question: t.question,
            passed: checks.iter().all(|c| c.passed),
            checks,
            reply_text: reply.text,
            outcome: match reply.outcome {
                frontdesk_core::responder::Outcome::Handoff(t) => format!("handoff ({t})"),
                o => o.label().to_owned(),
            },
            decision: reply.trace.decision,
        });
    }
    let previous_run = cx.store.list_agent_test_runs(1).await?.into_iter().next();
    let run = cx.store.record_agent_test_run(actor, NewAgentTestRun { started_at, results }).await?;
    Ok(compare(run, previous_run))
}

/// Compares a run with the one before it, case by case.
pub fn compare(run: AgentTestRun, previous: Option<AgentTestRun>) -> RunReport {
    let mut regressions = Vec::new();
    let mut fixed = Vec::new();
    if let Some(prev) = &previous {
        for r in &run.results {
            if let Some(p) = prev.results.iter().find(|p| p.test_id == r.test_id) {
                match (p.passed, r.passed) {
                    (true, false) => regressions.push(r.test_id),
                    (false, true) => fixed.push(r.test_id),
                    _ => {}
                }
            }
        }
    }
    RunReport {
        previous: previous.map(|p| Score { run_id: p.id, total: p.total, passed: p.passed }),
        run,
        regressions,
        fixed,
    }
}
