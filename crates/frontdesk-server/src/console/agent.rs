//! The agent's profile (A1, A2, A4, D2) and short answers (B4).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use frontdesk_core::lang::Lang;
use frontdesk_core::model::Personality;
use frontdesk_core::permissions::Permission as P;
use frontdesk_store::{AgentProfile, ShortAnswerRow};
use serde::Deserialize;

use super::{
    can, checked, fmt_time, options, or_redo, page, preview, see_other, status_of, ConsoleForm, FlashQuery, Layout,
    Opt, Section,
};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_engine::service::profile::{update_profile, ProfileInput};
use frontdesk_engine::service::short_answers::ShortAnswerInput;

// ---------- profile ----------

const PERSONALITIES: &[(Personality, &str)] = &[
    (Personality::Friendly, "Friendly"),
    (Personality::Professional, "Professional"),
    (Personality::Casual, "Casual"),
    (Personality::Empathetic, "Empathetic"),
    (Personality::Witty, "Witty"),
    (Personality::BrandVoice, "Use my brand voice"),
];

/// The profile form's values: the stored profile or what was just posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ProfileForm {
    name: String,
    personality: String,
    brand_voice: String,
    /// A checkbox: absent when unchecked.
    enabled: Option<String>,
    default_lang: String,
    inactivity_close_minutes: String,
    /// One phrase per line.
    handoff_phrases: String,
    /// One topic per line: `name | keyword, keyword | instruction | handoff`.
    topics_to_avoid: String,
}

/// Topics as the form shows them, one per line.
fn topics_text(topics: &[frontdesk_core::guard::Topic]) -> String {
    topics
        .iter()
        .map(|t| {
            let mut line = format!("{} | {} | {}", t.name, t.keywords.join(", "), t.instruction);
            if t.handoff {
                line.push_str(" | handoff");
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads the topics textarea; the API's rules check the values.
fn parse_topics(text: &str) -> Result<Vec<frontdesk_core::guard::Topic>, ApiError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        if parts.len() > 4 {
            return Err(ApiError::invalid_field(
                "topics_to_avoid",
                format!("line {}: use at most four parts: name | keywords | instruction | handoff", i + 1),
            ));
        }
        let handoff = match parts.get(3).copied().unwrap_or("") {
            "" | "decline" | "no" => false,
            "handoff" | "hand off" | "yes" => true,
            other => {
                return Err(ApiError::invalid_field(
                    "topics_to_avoid",
                    format!("line {}: the fourth part must be \"handoff\" or \"decline\", not {other:?}", i + 1),
                ))
            }
        };
        out.push(frontdesk_core::guard::Topic {
            name: parts[0].to_owned(),
            keywords: parts
                .get(1)
                .map(|k| k.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default(),
            instruction: parts.get(2).copied().unwrap_or("").to_owned(),
            handoff,
        });
    }
    Ok(out)
}

impl ProfileForm {
    fn from_profile(p: &AgentProfile) -> Self {
        Self {
            name: p.name.clone(),
            personality: p.personality.as_str().to_owned(),
            brand_voice: p.brand_voice.clone(),
            enabled: p.enabled.then(|| "on".to_owned()),
            default_lang: p.default_lang.clone(),
            inactivity_close_minutes: p.inactivity_close_minutes.to_string(),
            handoff_phrases: p.handoff_phrases.join("\n"),
            topics_to_avoid: topics_text(&p.topics_to_avoid),
        }
    }

    /// The admin API's input; the rules are `ProfileInput::apply`'s.
    pub(crate) fn input(&self) -> Result<ProfileInput, ApiError> {
        let minutes =
            self.inactivity_close_minutes.trim().parse::<i64>().map_err(|_| {
                ApiError::invalid_field("inactivity_close_minutes", "must be a whole number of minutes")
            })?;
        Ok(ProfileInput {
            name: Some(self.name.clone()),
            personality: Some(self.personality.clone()),
            brand_voice: Some(self.brand_voice.clone()),
            enabled: Some(checked(self.enabled.as_deref())),
            default_lang: Some(self.default_lang.clone()),
            inactivity_close_minutes: Some(minutes),
            handoff_phrases: Some(
                self.handoff_phrases.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect(),
            ),
            topics_to_avoid: Some(parse_topics(&self.topics_to_avoid)?),
        })
    }
}

#[derive(Template)]
#[template(path = "agent.html")]
struct ProfilePage {
    layout: Layout,
    form: ProfileForm,
    enabled: bool,
    personalities: Vec<Opt>,
    langs: Vec<Opt>,
    can_edit: bool,
    snippet: String,
    demo_url: String,
}

/// Whether a `Host` header value is a plain host (and port).
fn valid_host(h: &str) -> bool {
    !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

/// `scheme://host` of this server as the browser reached it.
fn origin(headers: &HeaderMap, state: &AppState) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| valid_host(h))
        .unwrap_or(&state.settings.listen)
        .to_owned();
    let scheme = if state.settings.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

fn render_profile(
    state: &AppState,
    authed: &Authed,
    headers: &HeaderMap,
    form: ProfileForm,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
) -> ApiResult<Response> {
    let origin = origin(headers, state);
    let layout = Layout::new(authed, Section::Agent, "Agent", "/console/agent").flash(flash).error(error);
    let personalities = options(PERSONALITIES.iter().map(|(p, l)| (p.as_str(), *l)), &form.personality);
    let langs = options(Lang::ALL.iter().map(|l| (l.code(), l.english_name())), &form.default_lang);
    page(
        status,
        &ProfilePage {
            layout,
            enabled: checked(form.enabled.as_deref()),
            form,
            personalities,
            langs,
            can_edit: can(authed, P::EditAgent),
            snippet: format!("<script src=\"{origin}/widget.js\" data-frontdesk async></script>"),
            demo_url: format!("{origin}/demo"),
        },
    )
}

pub(crate) async fn profile_page(
    State(state): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    let profile = state.store.agent_profile().await?;
    render_profile(
        &state,
        &authed,
        &headers,
        ProfileForm::from_profile(&profile),
        StatusCode::OK,
        q.flash.as_deref(),
        None,
    )
}

pub(crate) async fn save_profile(
    State(state): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    ConsoleForm(f): ConsoleForm<ProfileForm>,
) -> ApiResult<Response> {
    let saved = match f.input() {
        Ok(input) => update_profile(&state, &authed.actor(), input).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    or_redo(saved.map(|_| see_other("/console/agent?flash=saved")), |e| async move {
        render_profile(&state, &authed, &headers, f, status_of(&e), None, Some(e.message))
    })
    .await
}

// ---------- short answers ----------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ShortAnswerForm {
    question: String,
    answer: String,
    /// A checkbox: absent when unchecked.
    citations_enabled: Option<String>,
}

impl ShortAnswerForm {
    fn new_empty() -> Self {
        Self { citations_enabled: Some("on".into()), ..Self::default() }
    }

    fn from_row(r: &ShortAnswerRow) -> Self {
        Self {
            question: r.question.clone(),
            answer: r.answer.clone(),
            citations_enabled: r.citations_enabled.then(|| "on".to_owned()),
        }
    }

    fn cited(&self) -> bool {
        checked(self.citations_enabled.as_deref())
    }

    /// The admin API's input; the rules are `ShortAnswerInput::parse`'s.
    fn input(&self) -> ShortAnswerInput {
        ShortAnswerInput {
            question: self.question.clone(),
            answer: self.answer.clone(),
            citations_enabled: self.cited(),
        }
    }
}

pub(crate) struct ShortAnswerRowView {
    id: i64,
    question: String,
    answer: String,
    cited: bool,
    updated: String,
}

#[derive(Template)]
#[template(path = "short_answers.html")]
struct ShortAnswersPage {
    layout: Layout,
    rows: Vec<ShortAnswerRowView>,
    form: ShortAnswerForm,
    cited: bool,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "short_answer.html")]
struct ShortAnswerPage {
    layout: Layout,
    id: i64,
    form: ShortAnswerForm,
    cited: bool,
    can_edit: bool,
    updated: String,
}

async fn list_page(
    state: &AppState,
    authed: &Authed,
    form: ShortAnswerForm,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
) -> ApiResult<Response> {
    let rows = state
        .store
        .list_short_answers()
        .await?
        .iter()
        .map(|r| ShortAnswerRowView {
            id: r.id,
            question: r.question.clone(),
            answer: preview(&r.answer, 140),
            cited: r.citations_enabled,
            updated: fmt_time(r.updated_at),
        })
        .collect();
    let layout =
        Layout::new(authed, Section::ShortAnswers, "Short answers", "/console/short-answers").flash(flash).error(error);
    page(status, &ShortAnswersPage { layout, rows, cited: form.cited(), form, can_edit: can(authed, P::EditAgent) })
}

async fn edit_page(
    state: &AppState,
    authed: &Authed,
    id: i64,
    form: Option<ShortAnswerForm>,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
) -> ApiResult<Response> {
    let row = state.store.get_short_answer(id).await?;
    let form = form.unwrap_or_else(|| ShortAnswerForm::from_row(&row));
    let layout = Layout::new(
        authed,
        Section::ShortAnswers,
        format!("Short answer #{id}"),
        format!("/console/short-answers/{id}"),
    )
    .flash(flash)
    .error(error);
    page(
        status,
        &ShortAnswerPage {
            layout,
            id,
            cited: form.cited(),
            form,
            can_edit: can(authed, P::EditAgent),
            updated: fmt_time(row.updated_at),
        },
    )
}

pub(crate) async fn short_answers_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    list_page(&state, &authed, ShortAnswerForm::new_empty(), StatusCode::OK, q.flash.as_deref(), None).await
}

pub(crate) async fn short_answer_page(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    edit_page(&state, &authed, id, None, StatusCode::OK, q.flash.as_deref(), None).await
}

pub(crate) async fn create_short_answer(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<ShortAnswerForm>,
) -> ApiResult<Response> {
    let created = match f.input().parse().map_err(ApiError::from) {
        Ok(new) => state.store.create_short_answer(&authed.actor(), new).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    or_redo(created.map(|_| see_other("/console/short-answers?flash=created")), |e| {
        list_page(&state, &authed, f, status_of(&e), None, Some(e.message))
    })
    .await
}

pub(crate) async fn update_short_answer(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<ShortAnswerForm>,
) -> ApiResult<Response> {
    let updated = match f.input().parse().map_err(ApiError::from) {
        Ok(new) => state.store.update_short_answer(&authed.actor(), id, new).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    or_redo(updated.map(|_| see_other(&format!("/console/short-answers/{id}?flash=saved"))), |e| {
        edit_page(&state, &authed, id, Some(f), status_of(&e), None, Some(e.message))
    })
    .await
}

pub(crate) async fn delete_short_answer(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    state.store.delete_short_answer(&authed.actor(), id).await?;
    Ok(see_other("/console/short-answers?flash=deleted"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchecked_switch_turns_the_agent_off() {
        let f = ProfileForm {
            name: "Luma".into(),
            personality: "witty".into(),
            brand_voice: String::new(),
            enabled: None,
            default_lang: "it".into(),
            inactivity_close_minutes: " 60 ".into(),
            handoff_phrases: " refund \n\n rimborso".into(),
            topics_to_avoid: "legal advice | lawsuit, avvocato | Suggest a lawyer.\ncompetitors | Dropbox | | handoff"
                .into(),
        };
        let p = f.input().unwrap().apply(AgentProfile::default()).unwrap();
        assert!(!p.enabled);
        assert_eq!(p.handoff_phrases, vec!["refund".to_owned(), "rimborso".to_owned()]);
        assert_eq!(p.topics_to_avoid.len(), 2);
        assert_eq!(p.topics_to_avoid[0].keywords, vec!["lawsuit".to_owned(), "avvocato".to_owned()]);
        assert_eq!(p.topics_to_avoid[0].instruction, "Suggest a lawyer.");
        assert!(!p.topics_to_avoid[0].handoff && p.topics_to_avoid[1].handoff);
        // Topics read back into the same text.
        assert_eq!(
            ProfileForm::from_profile(&p).topics_to_avoid,
            f.topics_to_avoid.replace("| | handoff", "|  | handoff")
        );
        assert_eq!(
            (p.personality, p.default_lang.as_str(), p.inactivity_close_minutes),
            (Personality::Witty, "it", 60)
        );
    }

    #[test]
    fn a_topic_line_with_a_bad_handling_is_named() {
        let f = ProfileForm {
            inactivity_close_minutes: "60".into(),
            topics_to_avoid: "pricing | | | maybe".into(),
            ..ProfileForm::default()
        };
        let e = f.input().unwrap_err();
        assert_eq!(e.field.as_deref(), Some("topics_to_avoid"));
        assert!(e.message.contains("line 1"), "{}", e.message);
    }

    #[test]
    fn minutes_must_be_a_number() {
        let f = ProfileForm { inactivity_close_minutes: "soon".into(), ..ProfileForm::default() };
        assert_eq!(f.input().unwrap_err().field.as_deref(), Some("inactivity_close_minutes"));
    }

    #[test]
    fn the_stored_profile_fills_the_form() {
        let f = ProfileForm::from_profile(&AgentProfile::default());
        assert!(checked(f.enabled.as_deref()));
        assert_eq!(f.inactivity_close_minutes, "1440");
    }

    #[test]
    fn short_answer_citations_follow_the_checkbox() {
        let f = ShortAnswerForm { question: "Q?".into(), answer: "A.".into(), citations_enabled: None };
        assert!(!f.input().parse().unwrap().citations_enabled);
        assert!(ShortAnswerForm::new_empty().cited());
        let empty = ShortAnswerForm { question: " ".into(), ..ShortAnswerForm::new_empty() };
        assert_eq!(empty.input().parse().unwrap_err().field(), Some("question"));
    }

    #[test]
    fn only_plain_hosts_make_the_origin() {
        assert!(valid_host("support.example.com:8080"));
        assert!(valid_host("[::1]:8099"));
        assert!(!valid_host("evil\"><script>"));
        assert!(!valid_host(""));
    }
}
