//! Users, teams (J1) and API keys (I2).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use frontdesk_core::model::{Availability, Role};
use serde::Deserialize;

use super::{
    checked, fmt_time, ids_of, is_form_error, name_of, page, role_options, see_other, status_of, ConsoleForm,
    FlashQuery, Layout, Opt, Section,
};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult, Code};
use crate::state::AppState;
use frontdesk_engine::service::users::{check_self_lockout, new_api_key, parse_team_name, UserInput, UserPatchInput};

// ---------- users and teams ----------

pub(crate) struct UserRow {
    id: i64,
    email: String,
    name: String,
    roles: Vec<Opt>,
    paid_seat: bool,
    available: bool,
    disabled: bool,
    is_me: bool,
    /// Has a confirmed second factor (an admin can reset it).
    two_factor: bool,
}

pub(crate) struct MemberBox {
    id: i64,
    name: String,
    checked: bool,
}

pub(crate) struct TeamRow {
    id: i64,
    name: String,
    members: String,
    boxes: Vec<MemberBox>,
}

/// The create-user form's values (never the password).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct NewUserForm {
    email: String,
    name: String,
    password: String,
    role: String,
    /// A checkbox: absent when unchecked.
    paid_seat: Option<String>,
}

impl NewUserForm {
    fn blank() -> Self {
        Self { role: Role::Agent.as_str().into(), paid_seat: Some("on".into()), ..Self::default() }
    }

    /// The admin API's input; the rules are `UserInput::parse`'s.
    fn input(&self) -> UserInput {
        UserInput {
            email: self.email.clone(),
            name: self.name.clone(),
            password: self.password.clone(),
            role: self.role.clone(),
            paid_seat: checked(self.paid_seat.as_deref()),
        }
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    teams: Vec<TeamRow>,
    new_user: NewUserForm,
    new_user_roles: Vec<Opt>,
    new_user_seat: bool,
    team_name: String,
}

/// What a failed post brings back to the users page.
#[derive(Default)]
struct Redo {
    new_user: Option<NewUserForm>,
    team_name: String,
}

async fn users_page_with(
    state: &AppState,
    authed: &Authed,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
    redo: Redo,
) -> ApiResult<Response> {
    let users = state.store.list_users().await?;
    let names: HashMap<i64, String> = users.iter().map(|u| (u.id, u.name.clone())).collect();
    let teams = state
        .store
        .list_teams()
        .await?
        .into_iter()
        .map(|t| TeamRow {
            id: t.id,
            members: t.member_ids.iter().map(|id| name_of(&names, *id)).collect::<Vec<_>>().join(", "),
            boxes: users
                .iter()
                .map(|u| MemberBox { id: u.id, name: u.name.clone(), checked: t.member_ids.contains(&u.id) })
                .collect(),
            name: t.name,
        })
        .collect();
    let mut two_factor = std::collections::HashSet::new();
    for u in &users {
        if state.store.user_totp(u.id).await?.is_some_and(|t| t.is_enabled()) {
            two_factor.insert(u.id);
        }
    }
    let rows = users
        .iter()
        .map(|u| UserRow {
            two_factor: two_factor.contains(&u.id),
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            roles: role_options(u.role.as_str()),
            paid_seat: u.paid_seat,
            available: u.availability == Availability::Available,
            disabled: u.disabled,
            is_me: u.id == authed.user.id,
        })
        .collect();
    let mut new_user = redo.new_user.unwrap_or_else(NewUserForm::blank);
    new_user.password.clear();
    let layout = Layout::new(authed, Section::Users, "Users & teams", "/console/users").flash(flash).error(error);
    page(
        status,
        &UsersPage {
            layout,
            users: rows,
            teams,
            new_user_roles: role_options(&new_user.role),
            new_user_seat: checked(new_user.paid_seat.as_deref()),
            new_user,
            team_name: redo.team_name,
        },
    )
}

pub(crate) async fn users_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    users_page_with(&state, &authed, StatusCode::OK, q.flash.as_deref(), None, Redo::default()).await
}

/// On a form error, the page again with the message; other errors as they are.
async fn users_or_redo(
    state: &AppState,
    authed: &Authed,
    result: ApiResult<Response>,
    redo: Redo,
) -> ApiResult<Response> {
    super::or_redo(result, |e| users_page_with(state, authed, status_of(&e), None, Some(e.message), redo)).await
}

pub(crate) async fn create_user(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<NewUserForm>,
) -> ApiResult<Response> {
    let result = async {
        let new = f.input().parse()?;
        state.store.create_user(&authed.actor(), new).await?;
        Ok(see_other("/console/users?flash=user_created"))
    }
    .await;
    users_or_redo(&state, &authed, result, Redo { new_user: Some(f), ..Redo::default() }).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct UserRowForm {
    role: String,
    /// Checkboxes: absent when unchecked.
    paid_seat: Option<String>,
    disabled: Option<String>,
}

pub(crate) async fn update_user(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<UserRowForm>,
) -> ApiResult<Response> {
    let result = async {
        let patch = UserPatchInput {
            role: Some(f.role.clone()),
            paid_seat: Some(checked(f.paid_seat.as_deref())),
            disabled: Some(checked(f.disabled.as_deref())),
            ..UserPatchInput::default()
        }
        .parse()?;
        check_self_lockout(id, authed.user.id, &patch)?;
        state.store.update_user(&authed.actor(), id, patch).await?;
        Ok(see_other("/console/users?flash=user_updated"))
    }
    .await;
    users_or_redo(&state, &authed, result, Redo::default()).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TeamForm {
    name: String,
}

pub(crate) async fn create_team(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<TeamForm>,
) -> ApiResult<Response> {
    let result = async {
        let name = parse_team_name(&f.name)?;
        state.store.create_team(&authed.actor(), &name).await?;
        Ok(see_other("/console/users?flash=team_created#teams"))
    }
    .await;
    users_or_redo(&state, &authed, result, Redo { team_name: f.name.clone(), ..Redo::default() }).await
}

/// Members come as repeated `user_ids` checkboxes, which `Form` of a struct
/// cannot collect: the body is read as key/value pairs.
pub(crate) async fn set_team_members(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(pairs): ConsoleForm<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let result = async {
        let ids = ids_of(&pairs, "user_ids")?;
        state.store.set_team_members(&authed.actor(), id, &ids).await?;
        Ok(see_other("/console/users?flash=team_updated#teams"))
    }
    .await;
    users_or_redo(&state, &authed, result, Redo::default()).await
}

pub(crate) async fn delete_team(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    state.store.delete_team(&authed.actor(), id).await?;
    Ok(see_other("/console/users?flash=team_deleted#teams"))
}

// ---------- API keys ----------

pub(crate) struct KeyRow {
    id: i64,
    name: String,
    prefix: String,
    user: String,
    created: String,
    last_used: String,
    revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct ApiKeysPage {
    layout: Layout,
    keys: Vec<KeyRow>,
    users: Vec<Opt>,
    name: String,
    /// The new key's secret, shown once.
    secret: Option<String>,
    secret_name: String,
}

async fn api_keys_page_with(
    state: &AppState,
    authed: &Authed,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
    form: ApiKeyForm,
    secret: Option<(String, String)>,
) -> ApiResult<Response> {
    let users = state.store.list_users().await?;
    let names: HashMap<i64, String> = users.iter().map(|u| (u.id, u.name.clone())).collect();
    let keys = state
        .store
        .list_api_keys()
        .await?
        .into_iter()
        .map(|k| KeyRow {
            id: k.id,
            user: name_of(&names, k.user_id),
            prefix: k.prefix,
            created: fmt_time(k.created_at),
            last_used: k.last_used_at.map(fmt_time).unwrap_or_else(|| "never".into()),
            revoked: k.revoked_at.map(fmt_time),
            name: k.name,
        })
        .collect();
    let selected =
        if form.user_id.trim().is_empty() { authed.user.id.to_string() } else { form.user_id.trim().to_owned() };
    let user_opts = users
        .iter()
        .filter(|u| !u.disabled)
        .map(|u| Opt {
            value: u.id.to_string(),
            label: format!("{} <{}> ({})", u.name, u.email, u.role),
            selected: u.id.to_string() == selected,
        })
        .collect();
    let layout = Layout::new(authed, Section::ApiKeys, "API keys", "/console/api-keys").flash(flash).error(error);
    let (secret_name, secret) = match secret {
        Some((name, s)) => (name, Some(s)),
        None => (String::new(), None),
    };
    page(status, &ApiKeysPage { layout, keys, users: user_opts, name: form.name, secret, secret_name })
}

pub(crate) async fn api_keys_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    api_keys_page_with(&state, &authed, StatusCode::OK, q.flash.as_deref(), None, ApiKeyForm::default(), None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiKeyForm {
    name: String,
    /// The user the key acts as; empty for the signed-in user.
    user_id: String,
}

/// Creates a key and shows its secret on the page this once (never in a URL).
pub(crate) async fn create_api_key(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<ApiKeyForm>,
) -> ApiResult<Response> {
    let result = async {
        let user_id = match f.user_id.trim() {
            "" => authed.user.id,
            s => s.parse::<i64>().map_err(|_| ApiError::invalid_field("user_id", "is not a user id"))?,
        };
        let user = state.store.get_user(user_id).await.map_err(|e| match ApiError::from(e) {
            e if e.code == Code::NotFound => ApiError::invalid_field("user_id", "no such user"),
            e => e,
        })?;
        let (secret, key) = new_api_key(state.store.as_ref(), &authed.actor(), user.id, &f.name).await?;
        Ok((key.name, secret))
    }
    .await;
    match result {
        Ok(created) => {
            api_keys_page_with(&state, &authed, StatusCode::CREATED, None, None, ApiKeyForm::default(), Some(created))
                .await
        }
        Err(e) if is_form_error(&e) => {
            api_keys_page_with(&state, &authed, status_of(&e), None, Some(e.message.clone()), f, None).await
        }
        Err(e) => Err(e),
    }
}

pub(crate) async fn revoke_api_key(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    state.store.revoke_api_key(&authed.actor(), id).await?;
    Ok(see_other("/console/api-keys?flash=revoked"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontdesk_store::UserPatch;

    #[test]
    fn admins_cannot_lock_themselves_out() {
        let demote = UserPatch { role: Some(Role::Agent), ..UserPatch::default() };
        assert!(check_self_lockout(1, 1, &demote).is_err());
        assert!(check_self_lockout(2, 1, &demote).is_ok());
        let disable = UserPatch { disabled: Some(true), role: Some(Role::Admin), ..UserPatch::default() };
        assert!(check_self_lockout(1, 1, &disable).is_err());
        let keep = UserPatch { disabled: Some(false), role: Some(Role::Admin), ..UserPatch::default() };
        assert!(check_self_lockout(1, 1, &keep).is_ok());
    }

    #[test]
    fn the_new_user_form_maps_the_seat_checkbox() {
        let f = NewUserForm { paid_seat: None, ..NewUserForm::blank() };
        assert!(!f.input().paid_seat);
        assert!(NewUserForm::blank().input().paid_seat);
    }
}
