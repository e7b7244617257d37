//! Actions (F2) and CRM data (F1) in the console. The handlers call the
//! same service as the JSON API (`frontdesk_engine::service::tools`) and have its
//! permissions: `ViewAgent` to look, `EditAgent` to change or test.
//!
//! Secret header values are never put into a page: a stored secret shows as
//! "•••• (set)" and an empty field keeps it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use frontdesk_core::actions::{ActionDef, Header, HttpMethod, ParamDef, ParamSource};
use frontdesk_core::crm::CrmField;
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::values::ValueKind;
use serde_json::{Map, Value};

use super::{can, fmt_time, is_form_error, is_htmx, ok, options, or_redo, page, preview, see_other, status_of};
use super::{ConsoleForm, FlashQuery, Layout, Opt, Section};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_agent::actions::ActionResult;
use frontdesk_engine::service::tools::{self as service, FieldInput, TestInput};

/// Blank rows offered under the existing headers and parameters.
const BLANK_ROWS: usize = 2;
/// The most rows a form may post.
const MAX_ROWS: usize = 40;

fn flash_of(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "field_saved" => "Field saved.",
        "field_created" => "Field added.",
        "field_deleted" => "Field deleted.",
        other => return super::flash_text(other),
    })
}

fn layout(authed: &Authed, section: Section, title: impl Into<String>, here: impl Into<String>) -> Layout {
    Layout::new(authed, section, title, here)
}

/// The first value of `key` in a posted form.
fn get<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_default()
}

fn on(pairs: &[(String, String)], key: &str) -> bool {
    super::checked(Some(get(pairs, key)).filter(|v| !v.is_empty()))
}

// ---------- the action form ----------

const SOURCES: &[(&str, &str)] =
    &[("conversation", "The conversation"), ("contact", "A contact property"), ("constant", "A constant")];

#[derive(Debug, Clone, Default)]
pub(crate) struct HeaderRow {
    name: String,
    /// Empty for a stored secret (never shown).
    value: String,
    secret: bool,
    /// A secret value is stored.
    set: bool,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ParamRow {
    name: String,
    description: String,
    kind: String,
    /// An enum's values, comma separated.
    values: String,
    required: bool,
    source: String,
    /// The pattern, the contact property or the constant.
    source_value: String,
    kinds: Vec<Opt>,
    sources: Vec<Opt>,
}

impl ParamRow {
    fn with_options(mut self) -> Self {
        self.kinds = options(ValueKind::ALL.iter().map(|k| (k.as_str(), k.label())), &self.kind);
        self.sources = options(SOURCES.iter().copied(), &self.source);
        self
    }

    fn blank() -> Self {
        ParamRow { kind: "text".into(), required: true, source: "conversation".into(), ..Default::default() }
            .with_options()
    }

    fn of(p: &ParamDef) -> Self {
        let (source, source_value) = match &p.source {
            ParamSource::Conversation { pattern } => ("conversation", pattern.clone().unwrap_or_default()),
            ParamSource::Contact { property } => ("contact", property.clone()),
            ParamSource::Constant { value } => ("constant", value.clone()),
        };
        ParamRow {
            name: p.name.clone(),
            description: p.description.clone(),
            kind: p.kind.as_str().into(),
            values: p.values.join(", "),
            required: p.required,
            source: source.into(),
            source_value,
            ..Default::default()
        }
        .with_options()
    }
}

/// The action form's values: a stored action or what was just posted.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActionForm {
    name: String,
    description: String,
    enabled: bool,
    method: String,
    url_template: String,
    timeout_ms: String,
    response_template: String,
    body_template: String,
    /// One per line.
    example_phrases: String,
    headers: Vec<HeaderRow>,
    params: Vec<ParamRow>,
    methods: Vec<Opt>,
}

impl ActionForm {
    fn finish(mut self) -> Self {
        self.methods = options(HttpMethod::ALL.iter().map(|m| (m.as_str(), m.as_str())), &self.method);
        let blank_headers = BLANK_ROWS.saturating_sub(self.headers.iter().filter(|h| h.name.is_empty()).count());
        self.headers.extend((0..blank_headers).map(|_| HeaderRow::default()));
        let blank_params = BLANK_ROWS.saturating_sub(self.params.iter().filter(|p| p.name.is_empty()).count());
        self.params.extend((0..blank_params).map(|_| ParamRow::blank()));
        self
    }

    fn blank() -> Self {
        ActionForm {
            enabled: true,
            method: "GET".into(),
            timeout_ms: ActionDef::DEFAULT_TIMEOUT_MS.to_string(),
            ..Default::default()
        }
        .finish()
    }

    fn of(d: &ActionDef) -> Self {
        ActionForm {
            name: d.name.clone(),
            description: d.description.clone(),
            enabled: d.enabled,
            method: d.method.as_str().into(),
            url_template: d.url_template.clone(),
            timeout_ms: d.timeout_ms.to_string(),
            response_template: d.response_template.clone(),
            body_template: d.body_template.clone().unwrap_or_default(),
            example_phrases: d.example_phrases.join("\n"),
            headers: d
                .headers
                .iter()
                .map(|h| HeaderRow {
                    name: h.name.clone(),
                    value: if h.secret { String::new() } else { h.value.clone() },
                    secret: h.secret,
                    set: h.secret && !h.value.is_empty(),
                })
                .collect(),
            params: d.params.iter().map(ParamRow::of).collect(),
            methods: vec![],
        }
        .finish()
    }

    /// What was posted; rows are `h{i}_name`, `p{i}_kind`… Secret values
    /// posted are never echoed back into the page.
    fn posted(pairs: &[(String, String)], stored: Option<&ActionDef>) -> Self {
        let mut headers = Vec::new();
        let mut params = Vec::new();
        for i in 0..MAX_ROWS {
            let h = |x: &str| get(pairs, &format!("h{i}_{x}")).to_owned();
            let secret = on(pairs, &format!("h{i}_secret"));
            let name = h("name").trim().to_owned();
            let set = secret
                && stored.is_some_and(|d| d.headers.iter().any(|o| o.secret && o.name.eq_ignore_ascii_case(&name)));
            if !name.is_empty() || !h("value").trim().is_empty() {
                headers.push(HeaderRow { name, value: h("value"), secret, set });
            }
            let p = |x: &str| get(pairs, &format!("p{i}_{x}")).to_owned();
            if !p("name").trim().is_empty() {
                params.push(
                    ParamRow {
                        name: p("name"),
                        description: p("description"),
                        kind: p("kind"),
                        values: p("values"),
                        required: on(pairs, &format!("p{i}_required")),
                        source: p("source"),
                        source_value: p("source_value"),
                        ..Default::default()
                    }
                    .with_options(),
                );
            }
        }
        ActionForm {
            name: get(pairs, "name").to_owned(),
            description: get(pairs, "description").to_owned(),
            enabled: on(pairs, "enabled"),
            method: get(pairs, "method").to_owned(),
            url_template: get(pairs, "url_template").to_owned(),
            timeout_ms: get(pairs, "timeout_ms").to_owned(),
            response_template: get(pairs, "response_template").to_owned(),
            body_template: get(pairs, "body_template").to_owned(),
            example_phrases: get(pairs, "example_phrases").to_owned(),
            headers,
            params,
            methods: vec![],
        }
    }

    /// The definition the API checks (`ActionDef::parse`).
    fn to_def(&self) -> ApiResult<ActionDef> {
        let method = HttpMethod::parse(&self.method)
            .ok_or_else(|| ApiError::invalid_field("method", "must be GET, POST, PUT, PATCH or DELETE"))?;
        let timeout_ms = self
            .timeout_ms
            .trim()
            .parse::<u64>()
            .map_err(|_| ApiError::invalid_field("timeout_ms", "must be a whole number of milliseconds"))?;
        let mut params = Vec::new();
        for (i, p) in self.params.iter().enumerate() {
            let kind = ValueKind::parse(p.kind.trim())
                .ok_or_else(|| ApiError::invalid_field(&format!("params[{i}].kind"), "is not a known kind"))?;
            let v = p.source_value.trim().to_owned();
            let source = match p.source.as_str() {
                "contact" => ParamSource::Contact { property: v },
                "constant" => ParamSource::Constant { value: v },
                _ => ParamSource::Conversation { pattern: (!v.is_empty()).then_some(v) },
            };
            let values = if kind == ValueKind::Enum {
                p.values.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
            } else {
                Vec::new()
            };
            params.push(ParamDef {
                name: p.name.trim().to_owned(),
                description: p.description.clone(),
                kind,
                values,
                required: p.required,
                source,
            });
        }
        Ok(ActionDef {
            id: 0,
            name: self.name.clone(),
            description: self.description.clone(),
            enabled: self.enabled,
            method,
            url_template: self.url_template.clone(),
            headers: self
                .headers
                .iter()
                .map(|h| Header { name: h.name.clone(), value: h.value.clone(), secret: h.secret })
                .collect(),
            params,
            body_template: Some(self.body_template.clone()).filter(|b| !b.trim().is_empty()),
            timeout_ms,
            response_template: self.response_template.clone(),
            example_phrases: self
                .example_phrases
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }

    /// Drops posted secret values before the form is shown again.
    fn without_secret_values(mut self) -> Self {
        for h in self.headers.iter_mut().filter(|h| h.secret) {
            h.value.clear();
        }
        self
    }
}

// ---------- pages ----------

pub(crate) struct ActionRowView {
    id: i64,
    name: String,
    description: String,
    method: &'static str,
    url: String,
    enabled: bool,
    phrases: usize,
    updated: String,
}

#[derive(Template)]
#[template(path = "actions.html")]
struct ActionsPage {
    layout: Layout,
    rows: Vec<ActionRowView>,
    can_edit: bool,
}

/// A test input: a parameter the test run asks for.
pub(crate) struct TestField {
    name: String,
    label: String,
    hint: String,
}

/// A test run as shown.
pub(crate) struct ResultView {
    ok: bool,
    reply_text: String,
    status: String,
    ms: u64,
    detail: String,
    request: String,
    failure: String,
    missing: String,
    response: String,
}

impl ResultView {
    fn of(r: &ActionResult) -> Self {
        ResultView {
            ok: r.ok,
            reply_text: r.reply_text.clone(),
            status: r.status.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
            ms: r.ms,
            detail: r.detail.clone(),
            request: r.request.clone().unwrap_or_default(),
            failure: r.failure.map(|f| format!("{f:?}")).unwrap_or_default(),
            missing: r.missing.join(", "),
            response: r.response_excerpt.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "action.html")]
struct ActionPage {
    layout: Layout,
    /// `None` for a new action.
    id: Option<i64>,
    form: ActionForm,
    can_edit: bool,
    tests: Vec<TestField>,
    result: Option<ResultView>,
    test_error: Option<String>,
    /// The reply languages of a test run: (code, name).
    langs: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "_action_result.html")]
struct ResultFragment {
    result: Option<ResultView>,
    test_error: Option<String>,
}

/// The languages a test run can reply in: (code, name).
fn reply_langs() -> Vec<(&'static str, &'static str)> {
    frontdesk_core::lang::Lang::ALL.iter().map(|l| (l.code(), l.english_name())).collect()
}

fn test_fields(d: &ActionDef) -> Vec<TestField> {
    d.params
        .iter()
        .filter_map(|p| {
            let hint = match &p.source {
                ParamSource::Conversation { .. } => "from the conversation".to_owned(),
                ParamSource::Contact { property } => format!("contact's {property} (leave empty to use the contact's)"),
                ParamSource::Constant { .. } => return None,
            };
            let label = if p.description.is_empty() { p.name.clone() } else { p.description.clone() };
            Some(TestField { name: p.name.clone(), label, hint: format!("{} · {hint}", p.kind.label()) })
        })
        .collect()
}

pub(crate) async fn actions_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    let rows = state
        .store
        .list_actions()
        .await?
        .into_iter()
        .map(|a| ActionRowView {
            id: a.def.id,
            name: a.def.name,
            description: preview(&a.def.description, 90),
            method: a.def.method.as_str(),
            url: preview(&a.def.url_template, 70),
            enabled: a.def.enabled,
            phrases: a.def.example_phrases.len(),
            updated: fmt_time(a.updated_at),
        })
        .collect();
    let mut l = layout(&authed, Section::Actions, "Actions", "/console/actions");
    l.flash = flash_of(q.flash.as_deref());
    ok(&ActionsPage { layout: l, rows, can_edit: can(&authed, P::EditAgent) })
}

#[allow(clippy::too_many_arguments)]
fn render_action(
    authed: &Authed,
    id: Option<i64>,
    form: ActionForm,
    tests: Vec<TestField>,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
    result: Option<ResultView>,
) -> ApiResult<Response> {
    let (title, here) = match id {
        Some(id) => (format!("Action {}", form.name), format!("/console/actions/{id}")),
        None => ("New action".to_owned(), "/console/actions/new".to_owned()),
    };
    let mut l = layout(authed, Section::Actions, title, here).error(error);
    l.flash = flash_of(flash);
    page(
        status,
        &ActionPage {
            layout: l,
            id,
            form,
            can_edit: can(authed, P::EditAgent),
            tests,
            result,
            test_error: None,
            langs: reply_langs(),
        },
    )
}

pub(crate) async fn new_action_page(authed: Authed) -> ApiResult<Response> {
    render_action(&authed, None, ActionForm::blank(), vec![], StatusCode::OK, None, None, None)
}

pub(crate) async fn action_page(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    let a = state.store.get_action(id).await?;
    let tests = test_fields(&a.def);
    render_action(&authed, Some(id), ActionForm::of(&a.def), tests, StatusCode::OK, q.flash.as_deref(), None, None)
}

pub(crate) async fn create_action(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(pairs): ConsoleForm<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let form = ActionForm::posted(&pairs, None);
    let result = async {
        let a = service::create_action(&state, &authed.actor(), form.to_def()?).await?;
        Ok(see_other(&format!("/console/actions/{}?flash=created", a.def.id)))
    }
    .await;
    or_redo(result, |e| async move {
        let form = form.without_secret_values().finish();
        render_action(&authed, None, form, vec![], status_of(&e), None, Some(e.message), None)
    })
    .await
}

pub(crate) async fn update_action(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(pairs): ConsoleForm<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let stored = state.store.get_action(id).await?;
    let form = ActionForm::posted(&pairs, Some(&stored.def));
    let result = async {
        service::update_action(&state, &authed.actor(), id, form.to_def()?).await?;
        Ok(see_other(&format!("/console/actions/{id}?flash=saved")))
    }
    .await;
    or_redo(result, |e| async move {
        let form = form.without_secret_values().finish();
        let tests = test_fields(&stored.def);
        render_action(&authed, Some(id), form, tests, status_of(&e), None, Some(e.message), None)
    })
    .await
}

pub(crate) async fn delete_action(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    state.store.delete_action(&authed.actor(), id).await?;
    Ok(see_other("/console/actions?flash=deleted"))
}

/// Runs the action with the posted sample values (`v_<param>`); htmx gets
/// the result fragment, a plain post the page with the result.
pub(crate) async fn test_action(
    State(state): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ConsoleForm(pairs): ConsoleForm<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let stored = state.store.get_action(id).await?;
    let mut values = Map::new();
    for (k, v) in &pairs {
        if let Some(name) = k.strip_prefix("v_") {
            if !v.trim().is_empty() {
                values.insert(name.to_owned(), Value::String(v.clone()));
            }
        }
    }
    let contact_id = match get(&pairs, "contact_id").trim() {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| ApiError::invalid_field("contact_id", "must be a contact's id"))?),
    };
    let lang = Some(get(&pairs, "lang").to_owned()).filter(|l| !l.is_empty());
    let (result, test_error) =
        match service::run_test(&state, id, TestInput { values, contact_id, lang }).await.map_err(ApiError::from) {
            Ok(r) => (Some(ResultView::of(&r)), None),
            Err(e) if is_form_error(&e) || e.code == crate::error::Code::NotFound => (None, Some(e.message)),
            Err(e) => return Err(e),
        };
    if is_htmx(&headers) {
        return ok(&ResultFragment { result, test_error });
    }
    let tests = test_fields(&stored.def);
    let form = ActionForm::of(&stored.def);
    let l = layout(&authed, Section::Actions, format!("Action {}", stored.def.name), format!("/console/actions/{id}"));
    ok(&ActionPage {
        layout: l,
        id: Some(id),
        form,
        can_edit: can(&authed, P::EditAgent),
        tests,
        result,
        test_error,
        langs: reply_langs(),
    })
}

// ---------- CRM fields ----------

pub(crate) struct FieldRow {
    key: String,
    label: String,
    values: String,
    agent_read: bool,
    agent_write: bool,
    kinds: Vec<Opt>,
}

impl FieldRow {
    fn of(f: &CrmField) -> Self {
        FieldRow {
            key: f.key.clone(),
            label: f.label.clone(),
            values: f.values.join(", "),
            agent_read: f.agent_read,
            agent_write: f.agent_write,
            kinds: options(ValueKind::ALL.iter().map(|k| (k.as_str(), k.label())), f.kind.as_str()),
        }
    }
}

#[derive(Template)]
#[template(path = "crm_fields.html")]
struct CrmPage {
    layout: Layout,
    rows: Vec<FieldRow>,
    new_field: FieldRow,
    can_edit: bool,
}

fn field_input(pairs: &[(String, String)], with_key: bool) -> ApiResult<FieldInput> {
    let kind = ValueKind::parse(get(pairs, "kind").trim())
        .ok_or_else(|| ApiError::invalid_field("kind", "is not a known kind"))?;
    Ok(FieldInput {
        key: with_key.then(|| get(pairs, "key").trim().to_owned()),
        label: get(pairs, "label").to_owned(),
        kind,
        values: if kind == ValueKind::Enum {
            get(pairs, "values").split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
        } else {
            Vec::new()
        },
        agent_read: on(pairs, "agent_read"),
        agent_write: on(pairs, "agent_write"),
    })
}

async fn crm_with(
    state: &AppState,
    authed: &Authed,
    new_field: Option<FieldRow>,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
) -> ApiResult<Response> {
    let rows = state.store.list_crm_fields().await?.iter().map(FieldRow::of).collect();
    let blank = CrmField {
        key: String::new(),
        label: String::new(),
        kind: ValueKind::Text,
        values: vec![],
        agent_read: true,
        agent_write: false,
    };
    let mut l = layout(authed, Section::Crm, "CRM data", "/console/crm").error(error);
    l.flash = flash_of(flash);
    page(
        status,
        &CrmPage {
            layout: l,
            rows,
            new_field: new_field.unwrap_or_else(|| FieldRow::of(&blank)),
            can_edit: can(authed, P::EditAgent),
        },
    )
}

pub(crate) async fn crm_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    crm_with(&state, &authed, None, StatusCode::OK, q.flash.as_deref(), None).await
}

pub(crate) async fn create_field(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(pairs): ConsoleForm<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let result = async {
        service::create_crm_field(&state, &authed.actor(), field_input(&pairs, true)?).await?;
        Ok(see_other("/console/crm?flash=field_created"))
    }
    .await;
    or_redo(result, |e| async move {
        let kind = ValueKind::parse(get(&pairs, "kind")).unwrap_or(ValueKind::Text);
        let mut row = FieldRow::of(&CrmField {
            key: get(&pairs, "key").to_owned(),
            label: get(&pairs, "label").to_owned(),
            kind,
            values: vec![],
            agent_read: on(&pairs, "agent_read"),
            agent_write: on(&pairs, "agent_write"),
        });
        row.values = get(&pairs, "values").to_owned();
        crm_with(&state, &authed, Some(row), status_of(&e), None, Some(e.message)).await
    })
    .await
}

pub(crate) async fn update_field(
    State(state): State<AppState>,
    authed: Authed,
    Path(key): Path<String>,
    ConsoleForm(pairs): ConsoleForm<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let result = async {
        service::update_crm_field(&state, &authed.actor(), &key, field_input(&pairs, false)?).await?;
        Ok(see_other("/console/crm?flash=field_saved"))
    }
    .await;
    or_redo(result, |e| crm_with(&state, &authed, None, status_of(&e), None, Some(format!("{key}: {}", e.message))))
        .await
}

pub(crate) async fn delete_field(
    State(state): State<AppState>,
    authed: Authed,
    Path(key): Path<String>,
) -> ApiResult<Response> {
    state.store.delete_crm_field(&authed.actor(), &key).await?;
    Ok(see_other("/console/crm?flash=field_deleted"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_posted_form_becomes_a_definition() {
        let p = pairs(&[
            ("_csrf", "t"),
            ("name", "order_status"),
            ("description", "Looks up an order"),
            ("enabled", "on"),
            ("method", "GET"),
            ("url_template", "https://api.example.com/orders/{order_number}"),
            ("timeout_ms", "3000"),
            ("response_template", "Your order is {{status}}."),
            ("example_phrases", "where is my order\r\n\r\ndov'è il mio ordine\n"),
            ("h0_name", "Authorization"),
            ("h0_value", "Bearer x"),
            ("h0_secret", "on"),
            ("h1_name", ""),
            ("h1_value", ""),
            ("p0_name", "order_number"),
            ("p0_kind", "order_number"),
            ("p0_required", "on"),
            ("p0_source", "conversation"),
            ("p0_source_value", "order_number"),
            ("p1_name", ""),
        ]);
        let form = ActionForm::posted(&p, None);
        let d = form.to_def().unwrap().parse().unwrap();
        assert_eq!(d.example_phrases, ["where is my order", "dov'è il mio ordine"]);
        assert_eq!(d.headers.len(), 1);
        assert!(d.headers[0].secret);
        assert_eq!(d.params[0].source, ParamSource::Conversation { pattern: Some("order_number".into()) });
        // The secret never goes back into a page.
        let shown = form.without_secret_values();
        assert_eq!(shown.headers[0].value, "");
        let bad = ActionForm::posted(&pairs(&[("method", "GET"), ("timeout_ms", "soon")]), None);
        assert_eq!(bad.to_def().unwrap_err().field.as_deref(), Some("timeout_ms"));
    }
}
