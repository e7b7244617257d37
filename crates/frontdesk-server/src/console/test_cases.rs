//! The preview (D3) beside the agent's profile, and the page of the agent's test cases (K3).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use frontdesk_core::agent_tests::Expectation;
use frontdesk_core::permissions::Permission as P;
use serde::Deserialize;

use super::agent::ProfileForm;
use super::conversations::{unsaved_message_view, MessageView};
use super::{
    can, fmt_time, is_form_error, ok, or_redo, page, see_other, status_of, ConsoleForm, FlashQuery, Layout, Section,
};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_agent::respond::{respond, Ask};
use frontdesk_engine::service::preview::preview_agent;
use frontdesk_engine::service::test_cases::AgentTestInput;

// ---------- preview ----------

/// The preview's message with the profile form's current (unsaved) values.
#[derive(Debug, Deserialize)]
pub(crate) struct PreviewForm {
    #[serde(default)]
    preview_message: String,
    #[serde(flatten)]
    profile: ProfileForm,
}

#[derive(Template)]
#[template(path = "_preview.html")]
struct PreviewFragment {
    messages: Vec<MessageView>,
    error: Option<String>,
}

/// Answers a test message with the unsaved configuration; stores nothing.
pub(crate) async fn preview(
    State(state): State<AppState>,
    ConsoleForm(f): ConsoleForm<PreviewForm>,
) -> ApiResult<Response> {
    let text = f.preview_message.trim().to_owned();
    let outcome = async {
        let text = frontdesk_core::validate::MessageText::parse(&text)
            .map_err(|e| ApiError::invalid_field("message", e.message))?;
        let agent = preview_agent(&state, Some(f.profile.input()?)).await?;
        let reply = respond(&state.agent, &agent, &Ask::new(text.as_str())).await;
        Ok::<_, ApiError>((agent, reply))
    }
    .await;
    match outcome {
        Ok((agent, reply)) => {
            let shown: Vec<_> = reply.citations.iter().filter(|c| agent.shows_citation(c)).cloned().collect();
            let trace = serde_json::to_value(&reply.trace).ok();
            let label = format!("{} (preview, {})", agent.profile.name, reply.outcome.label().replace('_', " "));
            ok(&PreviewFragment {
                messages: vec![
                    unsaved_message_view("visitor", "You".into(), text, &[], None),
                    unsaved_message_view("agent", label, reply.text, &shown, trace.as_ref()),
                ],
                error: None,
            })
        }
        Err(e) if is_form_error(&e) => {
            page(status_of(&e), &PreviewFragment { messages: vec![], error: Some(e.message) })
        }
        Err(e) => Err(e),
    }
}

// ---------- tests ----------

const KINDS: &[(&str, &str)] = &[
    ("answers", "answers"),
    ("cites", "cites source #"),
    ("cites_short_answer", "cites short answer #"),
    ("contains", "contains the text"),
    ("not_contains", "does not contain"),
    ("hands_off", "hands off"),
    ("performs_action", "performs the action"),
    ("declines", "declines"),
];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TestForm {
    name: String,
    question: String,
    kind: String,
    value: String,
}

impl TestForm {
    fn input(&self) -> Result<AgentTestInput, ApiError> {
        let value = self.value.trim();
        let id = || {
            value
                .trim_start_matches('#')
                .parse::<i64>()
                .map_err(|_| ApiError::invalid_field("value", "must be a source id"))
        };
        let e = match self.kind.as_str() {
            "answers" => Expectation::Answers,
            "cites" => Expectation::Cites { source_id: id()?, short_answer: false },
            "cites_short_answer" => Expectation::Cites { source_id: id()?, short_answer: true },
            "contains" => Expectation::Contains { text: value.to_owned() },
            "not_contains" => Expectation::NotContains { text: value.to_owned() },
            "hands_off" => Expectation::HandsOff { trigger: None },
            "performs_action" => Expectation::PerformsAction { name: value.to_owned() },
            "declines" => Expectation::Declines,
            _ => return Err(ApiError::invalid_field("kind", "choose what the agent must do")),
        };
        Ok(AgentTestInput {
            name: self.name.clone(),
            question: self.question.clone(),
            expect: vec![serde_json::to_value(e).map_err(ApiError::internal)?],
        })
    }
}

struct TestRow {
    id: i64,
    name: String,
    question: String,
    expect: String,
    /// The latest run's verdict, if the test was in it.
    last: Option<bool>,
    detail: String,
}

struct RunView {
    id: i64,
    time: String,
    passed: i64,
    total: i64,
    actor: String,
}

#[derive(Template)]
#[template(path = "test_cases.html")]
struct TestsPage {
    layout: Layout,
    rows: Vec<TestRow>,
    runs: Vec<RunView>,
    /// Tests that passed in the run before the latest and fail now.
    regressions: Vec<String>,
    kinds: Vec<(&'static str, &'static str)>,
    form_name: String,
    form_question: String,
    form_value: String,
    can_edit: bool,
}

async fn render_tests(
    state: &AppState,
    authed: &Authed,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
    form: &TestForm,
) -> ApiResult<Response> {
    let tests = state.store.list_agent_tests().await?;
    let runs = state.store.list_agent_test_runs(10).await?;
    let latest = runs.first();
    let rows = tests
        .iter()
        .map(|t| {
            let r = latest.and_then(|run| run.results.iter().find(|r| r.test_id == t.id));
            TestRow {
                id: t.id,
                name: t.name.clone(),
                question: t.question.clone(),
                expect: t.expect.iter().map(Expectation::describe).collect::<Vec<_>>().join("; "),
                last: r.map(|r| r.passed),
                detail: r
                    .map(|r| {
                        r.checks.iter().filter(|c| !c.passed).map(|c| c.detail.clone()).collect::<Vec<_>>().join("; ")
                    })
                    .unwrap_or_default(),
            }
        })
        .collect();
    let regressions = match (runs.first(), runs.get(1)) {
        (Some(now), Some(before)) => frontdesk_agent::test_cases::compare(now.clone(), Some(before.clone()))
            .regressions
            .iter()
            .filter_map(|id| tests.iter().find(|t| t.id == *id).map(|t| t.name.clone()))
            .collect(),
        _ => vec![],
    };
    let layout =
        Layout::new(authed, Section::AgentTests, "Agent tests", "/console/agent/tests").flash(flash).error(error);
    page(
        status,
        &TestsPage {
            layout,
            rows,
            runs: runs
                .iter()
                .map(|r| RunView {
                    id: r.id,
                    time: fmt_time(r.finished_at),
                    passed: r.passed,
                    total: r.total,
                    actor: r.actor.clone(),
                })
                .collect(),
            regressions,
            kinds: KINDS.to_vec(),
            form_name: form.name.clone(),
            form_question: form.question.clone(),
            form_value: form.value.clone(),
            can_edit: can(authed, P::EditAgent),
        },
    )
}

pub(crate) async fn tests_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    render_tests(&state, &authed, StatusCode::OK, q.flash.as_deref(), None, &TestForm::default()).await
}

pub(crate) async fn create_test(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<TestForm>,
) -> ApiResult<Response> {
    let created = match f.input().and_then(|i| Ok(i.parse()?)) {
        Ok(new) => state.store.create_agent_test(&authed.actor(), new).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    or_redo(created.map(|_| see_other("/console/agent/tests?flash=created")), |e| {
        render_tests(&state, &authed, status_of(&e), None, Some(e.message), &f)
    })
    .await
}

pub(crate) async fn delete_test(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    state.store.delete_agent_test(&authed.actor(), id).await?;
    Ok(see_other("/console/agent/tests?flash=deleted"))
}

pub(crate) async fn run_tests(State(state): State<AppState>, authed: Authed) -> ApiResult<Response> {
    frontdesk_agent::test_cases::run_suite(&state.agent, &authed.actor()).await.map_err(ApiError::internal)?;
    Ok(see_other("/console/agent/tests?flash=ran"))
}
