//! The agent loop: model call → tool calls → results back → … → the answer, capped.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::time::{timeout_at, Instant};

use crate::citations::{split, strip, MarkerStripper};
use crate::client::{Client, FinishReason, Usage};
use crate::error::{LlmError, TimeoutKind};
use crate::message::{Message, Role, ToolCall};
use crate::prompt::neutralize_tokens;
use crate::tools::{ToolBox, ToolOutput};

/// Tool calls executed per model turn; more are answered with an error.
pub const MAX_CALLS_PER_STEP: usize = 8;

/// What one run answers.
#[derive(Debug, Clone, Copy)]
pub struct Turn<'a> {
    pub system_prompt: &'a str,
    /// The conversation so far, the visitor's new message last. User and tool
    /// messages have their control tokens neutralised before sending.
    pub history: &'a [Message],
    /// Ids of the passages in the system prompt (citable from the start).
    pub retrieved: &'a [u32],
}

/// A streaming event of a run.
///
/// Text is streamed as soon as it arrives, with citation markers already removed. A
/// model call (`step`, from 0) may stream some text and then ask for tools: the run then
/// sends `Discard { step }` and that text is not part of the answer (remove it from
/// the widget). The answer is the text of the last step, which is never discarded
/// when the run succeeds; when the run fails, the failing step's text is discarded
/// before the error is returned. The concatenated `Text` of the last step equals
/// [`AgentRun::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delta<'a> {
    Text {
        step: usize,
        text: &'a str,
    },
    Discard {
        step: usize,
    },
    /// A tool is about to run (a status hint: "searching…").
    Tool {
        step: usize,
        name: &'a str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The model answered.
    Answered,
    /// The answer was cut by `max_tokens`.
    Truncated,
    /// A tool handed the conversation to a human; `text` is what the model wrote in
    /// that turn (already discarded from the stream; possibly empty).
    Handoff,
}

/// One tool call of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolStep {
    /// The model call that asked for it.
    pub step: usize,
    pub id: String,
    pub name: String,
    /// As the model wrote them.
    pub arguments: String,
    /// What the model was told.
    pub output: String,
    pub ok: bool,
    /// False when the loop refused the call (unknown tool, invalid arguments, too many
    /// calls): the tool box was not called.
    pub executed: bool,
    pub handoff: bool,
    pub duration: Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunTimings {
    /// From the start of the run to the first text of the answer.
    pub first_token: Option<Duration>,
    /// Waiting for the model (every call, request to last byte).
    pub model: Duration,
    /// Running tools.
    pub tools: Duration,
    pub total: Duration,
}

impl RunTimings {
    /// Time spent in this crate's own work (building requests, parsing, the loop).
    pub fn overhead(&self) -> Duration {
        self.total.saturating_sub(self.model).saturating_sub(self.tools)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgentRun {
    /// The visitor-facing answer, citation markers removed.
    pub text: String,
    /// Cited passage ids that were retrieved in this run, in order of first use.
    pub citations: Vec<u32>,
    /// Cited ids that were never retrieved (dropped; for the trace).
    pub dropped_citations: Vec<u32>,
    pub steps: Vec<ToolStep>,
    pub finish: Finish,
    pub timings: RunTimings,
    pub usage: Usage,
    pub model_calls: usize,
}

/// A failed run, with what happened before the failure (tools may have acted).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}")]
pub struct RunError {
    pub error: LlmError,
    pub steps: Vec<ToolStep>,
    pub timings: RunTimings,
    pub model_calls: usize,
}

/// Runs one turn: calls the model, executes the tools it asks for and sends their
/// results back, until it answers, a tool hands off, `max_tool_steps` rounds of tool
/// calls are exceeded ([`LlmError::StepLimit`]) or `total_timeout_ms` runs out.
pub async fn run(
    client: &Client,
    turn: Turn<'_>,
    tools: &dyn ToolBox,
    on_delta: &mut (dyn FnMut(Delta<'_>) + Send),
) -> Result<AgentRun, RunError> {
    let start = Instant::now();
    let cfg = client.config();
    let deadline = start + cfg.total_timeout();
    let max_steps = cfg.max_tool_steps;
    let specs = if max_steps == 0 { Vec::new() } else { tools.specs() };

    let mut messages = Vec::with_capacity(turn.history.len() + 1 + 2 * max_steps);
    messages.push(Message::system(turn.system_prompt));
    for m in turn.history {
        let mut m = m.clone();
        if matches!(m.role, Role::User | Role::Tool) {
            if let Cow::Owned(s) = neutralize_tokens(&m.content) {
                m.content = s;
            }
        }
        messages.push(m);
    }
    let mut retrieved = turn.retrieved.to_vec();
    let mut state =
        State { steps: Vec::new(), timings: RunTimings::default(), usage: Usage::default(), calls: 0, start };

    for step in 0.. {
        let mut stripper = MarkerStripper::new();
        let mut shown = String::new();
        let mut first = None;
        let mut piece = String::new();
        let t0 = Instant::now();
        let result = {
            let mut cb = |s: &str| {
                piece.clear();
                stripper.push(s, &mut piece);
                if !piece.is_empty() {
                    first.get_or_insert_with(|| start.elapsed());
                    shown.push_str(&piece);
                    on_delta(Delta::Text { step, text: &piece });
                }
            };
            client.complete_until(&messages, &specs, deadline, &mut cb).await
        };
        state.timings.model += t0.elapsed();
        state.calls += 1;
        let completion = match result {
            Ok(c) => c,
            Err(e) => {
                if !shown.is_empty() {
                    on_delta(Delta::Discard { step });
                }
                return Err(state.fail(e));
            }
        };
        if let Some(u) = completion.usage {
            state.usage.prompt_tokens += u.prompt_tokens;
            state.usage.completion_tokens += u.completion_tokens;
        }

        if completion.tool_calls.is_empty() {
            piece.clear();
            stripper.finish(&mut piece);
            if !piece.is_empty() {
                first.get_or_insert_with(|| start.elapsed());
                shown.push_str(&piece);
                on_delta(Delta::Text { step, text: &piece });
            }
            if shown.is_empty() {
                return Err(state.fail(LlmError::Malformed("the model returned an empty answer".into())));
            }
            let (citations, dropped) = split(stripper.cited(), &retrieved);
            state.timings.first_token = first;
            let finish = if completion.finish == FinishReason::Length { Finish::Truncated } else { Finish::Answered };
            return Ok(state.done(shown, citations, dropped, finish));
        }

        // The model wants tools: what it said meanwhile is not the answer.
        if !shown.is_empty() {
            on_delta(Delta::Discard { step });
        }
        if step >= max_steps {
            return Err(state.fail(LlmError::StepLimit(max_steps)));
        }
        messages.push(Message::assistant_tool_calls(completion.content.clone(), completion.tool_calls.clone()));
        for (i, call) in completion.tool_calls.iter().enumerate() {
            let t = Instant::now();
            let (output, executed) = if i >= MAX_CALLS_PER_STEP {
                (ToolOutput::error(format!("too many tool calls in one turn (at most {MAX_CALLS_PER_STEP})")), false)
            } else {
                match check(call, &specs) {
                    Err(refusal) => (refusal, false),
                    Ok((name, args)) => {
                        on_delta(Delta::Tool { step, name });
                        match timeout_at(deadline, tools.call(name, &args)).await {
                            Ok(out) => (out, true),
                            Err(_) => {
                                state.timings.tools += t.elapsed();
                                return Err(state.fail(LlmError::Timeout(TimeoutKind::Total)));
                            }
                        }
                    }
                }
            };
            let duration = t.elapsed();
            state.timings.tools += duration;
            retrieved.extend(output.passages.iter().copied());
            let content = neutralize_tokens(&output.content).into_owned();
            state.steps.push(ToolStep {
                step,
                id: call.id.clone(),
                name: call.name.clone(),
                arguments: call.arguments.clone(),
                output: content.clone(),
                ok: output.ok,
                executed,
                handoff: output.handoff,
                duration,
            });
            messages.push(Message::tool(call.id.clone(), content));
            if output.handoff {
                let text = strip(&completion.content);
                let (citations, dropped) = split(&crate::citations::extract(&completion.content), &retrieved);
                return Ok(state.done(text, citations, dropped, Finish::Handoff));
            }
        }
    }
    unreachable!("the loop returns")
}

struct State {
    steps: Vec<ToolStep>,
    timings: RunTimings,
    usage: Usage,
    calls: usize,
    start: Instant,
}

impl State {
    fn fail(mut self, error: LlmError) -> RunError {
        self.timings.total = self.start.elapsed();
        RunError { error, steps: self.steps, timings: self.timings, model_calls: self.calls }
    }

    fn done(mut self, text: String, citations: Vec<u32>, dropped: Vec<u32>, finish: Finish) -> AgentRun {
        self.timings.total = self.start.elapsed();
        AgentRun {
            text,
            citations,
            dropped_citations: dropped,
            steps: self.steps,
            finish,
            timings: self.timings,
            usage: self.usage,
            model_calls: self.calls,
        }
    }
}

/// The tool's canonical name and its arguments as a JSON object, or the error the
/// model is told.
fn check<'s>(call: &ToolCall, specs: &'s [crate::message::ToolSpec]) -> Result<(&'s str, Value), ToolOutput> {
    let wanted = call.name.trim();
    let wanted = wanted.strip_prefix("functions.").unwrap_or(wanted);
    let Some(spec) = specs.iter().find(|s| s.name == wanted) else {
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        let listed = if names.is_empty() { "none".to_string() } else { names.join(", ") };
        return Err(ToolOutput::error(format!("unknown tool {:?}. Available tools: {listed}.", call.name)));
    };
    match parse_arguments(&call.arguments) {
        Ok(args) => Ok((spec.name.as_str(), args)),
        Err(why) => Err(ToolOutput::error(format!(
            "{why}. Call {} again with a JSON object matching its parameters, or answer without it.",
            spec.name
        ))),
    }
}

/// Arguments as a JSON object: empty means `{}`, a JSON string holding an object is
/// unwrapped (double-encoded arguments).
fn parse_arguments(raw: &str) -> Result<Value, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(t) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(Value::Null) => Ok(Value::Object(Map::new())),
        Ok(Value::String(inner)) => match serde_json::from_str::<Value>(&inner) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err("the arguments must be a JSON object".into()),
        },
        Ok(_) => Err("the arguments must be a JSON object".into()),
        Err(e) => Err(format!("the arguments are not valid JSON ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::NoTools;

    #[test]
    fn arguments_are_lenient_but_must_be_objects() {
        assert_eq!(parse_arguments("").unwrap(), serde_json::json!({}));
        assert_eq!(parse_arguments(" {\"q\": 1} ").unwrap(), serde_json::json!({"q": 1}));
        assert_eq!(parse_arguments("\"{\\\"q\\\": 1}\"").unwrap(), serde_json::json!({"q": 1}));
        assert!(parse_arguments("[1]").is_err());
        assert!(parse_arguments("{\"q\": ").unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn unknown_tools_are_refused_with_the_list() {
        let specs = vec![crate::tools::search_knowledge_spec()];
        let call = ToolCall::new("c", "functions.search_knowledge", "{\"query\":\"x\"}");
        assert_eq!(check(&call, &specs).unwrap().0, "search_knowledge");
        let err = check(&ToolCall::new("c", "delete_all", "{}"), &specs).unwrap_err();
        assert!(!err.ok);
        assert!(err.content.contains("unknown tool \"delete_all\""));
        assert!(err.content.contains("search_knowledge"));
    }

    #[allow(dead_code)]
    fn futures_are_send(client: &Client) {
        fn assert_send<T: Send>(_: &T) {}
        let mut on = |_: Delta<'_>| {};
        let fut = run(client, Turn { system_prompt: "", history: &[], retrieved: &[] }, &NoTools, &mut on);
        assert_send(&fut);
        let fut = client.complete(&[], &[]);
        assert_send(&fut);
    }
}
