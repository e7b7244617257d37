//! The handoff settings (E3–E7) under `/api/v1/handoff`.

use axum::extract::State;
use axum::http::Method;
use frontdesk_core::permissions::Permission as P;
use frontdesk_store::HandoffSettings;

use crate::auth::Authed;
use crate::error::{ApiJson, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::service::handoff::{self as service, HandoffInput};

pub fn routes(r: Routes) -> Routes {
    r.add(Method::GET, "/api/v1/handoff", Access::User(P::ViewAgent), get_settings).add(
        Method::PUT,
        "/api/v1/handoff",
        Access::User(P::EditAgent),
        put_settings,
    )
}

async fn get_settings(State(state): State<AppState>) -> ApiResult<ApiJson<HandoffSettings>> {
    Ok(ApiJson(service::settings(&state).await?))
}

async fn put_settings(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<HandoffInput>,
) -> ApiResult<ApiJson<HandoffSettings>> {
    Ok(ApiJson(service::set_settings(&state, &authed.actor(), b).await?))
}
