//! The OpenAPI document (`/api/openapi.json`) and Swagger UI (`/api/docs`).

use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::api::chat;
use crate::routes::{Access, RouteDef};

/// Every error body.
#[derive(Serialize, ToSchema)]
pub struct ErrorDoc {
    pub message: String,
    pub code: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The invalid field, for validation errors.
    pub field: Option<String>,
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "visitor_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("the visitor_token of POST /api/v1/chat/sessions"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("an API key from `frontdesk apikey create`"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Frontdesk API", description = "Live chat for visitors, and the admin API (session cookie or API key). Every error body is {message, code, type, field?}."),
    paths(chat::config, chat::create_session, chat::post_message, chat::list_messages, chat::stream, chat::feedback),
    components(schemas(ErrorDoc)),
    modifiers(&Security),
    tags((name = "chat", description = "The public live-chat API used by the widget"))
)]
pub struct ApiDoc;

/// The route table, recorded at start-up so the document lists every route.
pub static ROUTES: std::sync::OnceLock<Vec<RouteDef>> = std::sync::OnceLock::new();

/// The annotated chat API plus an entry for every other route of the table,
/// with the permission it needs.
pub fn document(routes: &[RouteDef]) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder};
    use utoipa::openapi::{PathItem, ResponseBuilder};
    let mut doc = ApiDoc::openapi();
    crate::webhooks::custom::document(&mut doc);
    for r in routes.iter().filter(|r| r.path.starts_with("/api/") && !r.path.starts_with("/api/v1/chat/")) {
        let method = match r.method.as_str() {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            _ => HttpMethod::Delete,
        };
        let needs = match r.access {
            Access::User(p) => format!("Needs the {p:?} permission (session cookie with X-CSRF-Token, or API key)."),
            Access::Visitor => "Needs the visitor token.".into(),
            Access::Public => "Public.".into(),
        };
        let op = OperationBuilder::new()
            .tag(if r.path.starts_with("/api/v1/") { "admin" } else { "meta" })
            .description(Some(needs))
            .response("200", ResponseBuilder::new().description("success"))
            .response("4XX", ResponseBuilder::new().description("error body {message, code, type, field?}"))
            .build();
        let item = PathItem::new(method, op);
        let path = r.path.to_owned();
        match doc.paths.paths.get_mut(&path) {
            Some(existing) => existing.merge_operations(item),
            None => {
                doc.paths.paths.insert(path, item);
            }
        }
    }
    doc
}

pub async fn openapi_json() -> impl IntoResponse {
    axum::Json(document(ROUTES.get().map(Vec::as_slice).unwrap_or_default()))
}
