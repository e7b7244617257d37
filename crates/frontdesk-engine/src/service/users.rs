//! Users, teams and API keys: the input rules the admin API, the console's
//! forms and the CLI (`frontdesk user add`, `apikey create`) share.

use frontdesk_core::model::{Availability, Role};
use frontdesk_core::validate::{bounded_text, password, EmailAddress};
use frontdesk_store::{NewApiKey, NewUser, UserPatch};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::tokens;

fn yes() -> bool {
    true
}

pub fn parse_availability(s: &str) -> Result<Availability> {
    Availability::parse(s).ok_or_else(|| Error::invalid_field("availability", "must be 'available' or 'away'"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub email: String,
    pub name: String,
    pub password: String,
    /// admin, editor, agent or viewer
    pub role: String,
    #[serde(default = "yes")]
    pub paid_seat: bool,
}

pub fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s.trim()).ok_or_else(|| Error::invalid_field("role", "must be one of admin, editor, agent, viewer"))
}

impl UserInput {
    pub fn parse(self) -> Result<NewUser> {
        let password = password("password", &self.password)?;
        Ok(NewUser {
            email: EmailAddress::parse("email", &self.email)?.as_str().to_owned(),
            name: bounded_text("name", &self.name, 1, 100)?,
            password_hash: tokens::hash_password(&password).map_err(Error::internal)?,
            role: parse_role(&self.role)?,
            paid_seat: self.paid_seat,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatchInput {
    pub name: Option<String>,
    pub role: Option<String>,
    pub paid_seat: Option<bool>,
    pub availability: Option<String>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

impl UserPatchInput {
    pub fn parse(self) -> Result<UserPatch> {
        Ok(UserPatch {
            name: self.name.map(|n| bounded_text("name", &n, 1, 100)).transpose()?,
            role: self.role.map(|r| parse_role(&r)).transpose()?,
            paid_seat: self.paid_seat,
            availability: self.availability.map(|a| parse_availability(&a)).transpose()?,
            disabled: self.disabled,
            password_hash: self
                .password
                .map(|p| {
                    password("password", &p)
                        .map_err(Error::from)
                        .and_then(|p| tokens::hash_password(&p).map_err(Error::internal))
                })
                .transpose()?,
        })
    }
}

/// Nobody can lock themselves out: no disabling yourself, no dropping your own admin role.
pub fn check_self_lockout(target_id: i64, me: i64, patch: &UserPatch) -> Result<()> {
    if target_id == me && (patch.disabled == Some(true) || patch.role.is_some_and(|r| r != Role::Admin)) {
        return Err(Error::invalid_field("role", "you cannot disable yourself or remove your own admin role"));
    }
    Ok(())
}

/// A team's name: 1 to 100 characters.
pub fn parse_team_name(name: &str) -> Result<String> {
    Ok(bounded_text("name", name, 1, 100)?)
}

/// Creates an API key; the secret is returned once and only its hash is kept.
pub async fn new_api_key(
    store: &dyn frontdesk_store::Store,
    actor: &frontdesk_store::Actor,
    user_id: i64,
    name: &str,
) -> Result<(String, frontdesk_store::ApiKey)> {
    let name = bounded_text("name", name, 1, 100)?;
    let secret = tokens::random_token(tokens::API_KEY_PREFIX);
    let key = store
        .create_api_key(
            actor,
            NewApiKey { user_id, name, prefix: secret[..12].to_owned(), key_hash: tokens::token_hash(&secret) },
        )
        .await?;
    Ok((secret, key))
}
