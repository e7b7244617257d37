//! The Performance tab's API: reports (G1–G11) under `/api/v1/reports`, as
//! JSON or CSV (K4), and knowledge gaps (H1–H4) under `/api/v1/gaps`.

use axum::extract::{Path, State};
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::reports::{csv_field, ReportKind};
use frontdesk_store::{GapQuestion, GapTopic};
use serde::Deserialize;
use serde_json::{json, Value};

use super::rfc3339;
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::reports::ReportParams;
use frontdesk_engine::service::reports::{open_topics, set_time_zone};
use frontdesk_engine::service::short_answers::ShortAnswerInput;

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::GET, "/api/v1/reports", U(P::ViewReports), list_reports)
        .add(Method::GET, "/api/v1/reports/settings", U(P::ViewReports), get_settings)
        .add(Method::PUT, "/api/v1/reports/settings", U(P::EditAgent), put_settings)
        .add(Method::POST, "/api/v1/reports/rebuild", U(P::ManageJobs), rebuild)
        .add(Method::GET, "/api/v1/reports/{name}", U(P::ViewReports), get_report)
        .add(Method::GET, "/api/v1/gaps", U(P::ViewAgent), list_gaps)
        .add(Method::GET, "/api/v1/gaps/{id}", U(P::ViewAgent), get_gap)
        .add(Method::POST, "/api/v1/gaps/{id}/preview", U(P::EditAgent), preview_gap)
        .add(Method::POST, "/api/v1/gaps/{id}/resolve", U(P::EditAgent), resolve_gap)
        .add(Method::POST, "/api/v1/gaps/{id}/dismiss", U(P::EditAgent), dismiss_gap)
}

async fn list_reports() -> ApiJson<Value> {
    ApiJson(json!(ReportKind::ALL
        .iter()
        .map(|k| json!({"name": k.name(), "title": k.title(), "spec": k.spec_id(), "url": format!("/api/v1/reports/{}", k.name())}))
        .collect::<Vec<_>>()))
}

async fn get_settings(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    let s = state.store.report_settings().await?;
    Ok(ApiJson(json!({"time_zone": s.time_zone, "updated_at": rfc3339(s.updated_at)})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsInput {
    time_zone: String,
}

async fn put_settings(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<SettingsInput>,
) -> ApiResult<ApiJson<Value>> {
    set_time_zone(&state, &authed.actor(), &b.time_zone).await?;
    get_settings(State(state)).await
}

async fn rebuild(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    let started = std::time::Instant::now();
    let s = state.store.rebuild_reports().await?;
    Ok(ApiJson(
        json!({"conversations": s.conversations, "events": s.events, "ms": started.elapsed().as_millis() as u64}),
    ))
}

fn report_kind(name: &str) -> ApiResult<ReportKind> {
    ReportKind::parse(name).ok_or_else(|| {
        let names: Vec<_> = ReportKind::ALL.iter().map(|k| k.name()).collect();
        ApiError::not_found(&format!("report {name:?} (reports: {})", names.join(", ")))
    })
}

/// A CSV download.
pub fn csv_response(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response()
}

async fn get_report(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> ApiResult<Response> {
    let kind = report_kind(&name)?;
    let csv = params.csv()?;
    let built = frontdesk_engine::reports::build(&state, kind, &params).await?;
    Ok(if csv {
        let r = &built.report;
        csv_response(&format!("frontdesk-{}-{}-{}.csv", kind.name(), r.from, r.to), built.csv())
    } else {
        ApiJson(built.json()).into_response()
    })
}

// ---------- knowledge gaps ----------

fn topic_json(t: &GapTopic) -> Value {
    json!({
        "id": t.id,
        "label": t.label,
        "status": t.status,
        "conversations": t.conversations,
        "questions": t.questions,
        "latest_at": t.latest_at.map(rfc3339),
        "short_answer_id": t.short_answer_id,
        "created_at": rfc3339(t.created_at),
        "closed_at": t.closed_at.map(rfc3339),
    })
}

fn question_json(q: &GapQuestion) -> Value {
    json!({
        "id": q.id,
        "question": q.question,
        "lang": q.lang,
        "created_at": rfc3339(q.created_at),
        "conversation_id": q.conversation_id,
        "ticket_id": q.ticket_id,
        "conversation_url": format!("/console/conversations/{}", q.conversation_id),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GapsQuery {
    format: Option<String>,
}

async fn list_gaps(State(state): State<AppState>, ApiQuery(q): ApiQuery<GapsQuery>) -> ApiResult<Response> {
    let topics = open_topics(&state).await?;
    match q.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => {
            Ok(ApiJson(json!(topics.iter().map(topic_json).collect::<Vec<_>>())).into_response())
        }
        Some("csv") => {
            let mut out = String::from("topic,conversations,questions,latest\n");
            for t in &topics {
                out.push_str(&format!(
                    "{},{},{},{}\n",
                    csv_field(&t.label),
                    t.conversations,
                    t.questions,
                    t.latest_at.map(rfc3339).unwrap_or_default()
                ));
            }
            Ok(csv_response("frontdesk-knowledge-gaps.csv", out))
        }
        Some(_) => Err(ApiError::invalid_field("format", "must be json or csv")),
    }
}

async fn get_gap(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    let topic = state.store.gap_topic(id).await?;
    let questions = state.store.gap_questions(id).await?;
    let mut v = topic_json(&topic);
    v["items"] = json!(questions.iter().map(question_json).collect::<Vec<_>>());
    Ok(ApiJson(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewInput {
    question: String,
    answer: String,
    /// What to ask the agent (default: the topic's label, as a visitor asked it).
    message: Option<String>,
}

async fn preview_gap(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PreviewInput>,
) -> ApiResult<ApiJson<Value>> {
    let topic = state.store.gap_topic(id).await?;
    let draft = ShortAnswerInput { question: b.question, answer: b.answer, citations_enabled: true }.parse()?;
    let message = match b.message.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => frontdesk_core::validate::MessageText::parse(m)
            .map_err(|e| ApiError::invalid_field("message", e.message))?
            .as_str()
            .to_owned(),
        None => topic.label.clone(),
    };
    Ok(ApiJson(frontdesk_agent::gaps::preview(&state.agent, &draft.question, &draft.answer, &message).await?))
}

async fn resolve_gap(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ShortAnswerInput>,
) -> ApiResult<ApiJson<Value>> {
    let new = b.parse()?;
    let (short_answer, topic) = state.store.resolve_gap_topic(&authed.actor(), id, new).await?;
    Ok(ApiJson(json!({"short_answer": short_answer, "topic": topic_json(&topic)})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DismissInput {
    /// Questions of the topic to dismiss; absent or empty dismisses the whole topic.
    #[serde(default)]
    question_ids: Vec<i64>,
}

async fn dismiss_gap(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<DismissInput>,
) -> ApiResult<ApiJson<Value>> {
    if b.question_ids.is_empty() {
        let t = state.store.dismiss_gap_topic(&authed.actor(), id).await?;
        return Ok(ApiJson(json!({"topic": topic_json(&t)})));
    }
    if b.question_ids.len() > 1000 {
        return Err(ApiError::invalid_field("question_ids", "at most 1000 at once"));
    }
    let n = state.store.dismiss_gap_questions(&authed.actor(), id, &b.question_ids).await.map_err(|e| match e {
        frontdesk_store::StoreError::Invalid(m) => ApiError::invalid_field("question_ids", m),
        e => e.into(),
    })?;
    let t = state.store.gap_topic(id).await?;
    Ok(ApiJson(json!({"dismissed": n, "topic": topic_json(&t)})))
}
