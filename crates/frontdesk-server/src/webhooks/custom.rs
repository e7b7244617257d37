//! Custom channels (C1): any system can be a channel.
//!
//! Inbound: the system posts a message to `POST /api/v1/channels/inbound`
//! with the channel's key (`Authorization: Bearer fdch_…`, shown once when the
//! channel is created); it goes through the one channel model
//! ([`super::receive`]) and is processed once per `external_id`. The answer
//! says what was stored — never the agent's reply.
//!
//! Outbound: every agent or human message of such a conversation is a
//! delivery (outbox); [`send`] posts it as JSON ([`OutboundCustom`]) to the
//! channel's `webhook_url`, signed with its `webhook_secret`
//! (`Frontdesk-Signature: t=…,v1=…`, see [`frontdesk_channels::custom`]) and
//! with an `Idempotency-Key` that is the same on every retry. Private and
//! loopback targets are refused unless `allow_private_networks` is set (the
//! rule of actions and the crawler); redirects are not followed.
//!
//! The OpenAPI text (the inbound operation, the webhook, its payload and the
//! signature scheme) lives here too: [`document`] adds it to a document.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_channels::custom::{
    self as wire, CustomAuthor, CustomCitation, CustomContact, InboundCustom, OutboundCustom,
};
use frontdesk_core::model::Channel;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use frontdesk_engine::channels::custom::to_inbound;
use frontdesk_engine::channels::{receive, Received};
use frontdesk_engine::tokens::token_hash;

use crate::auth::bearer;
use crate::error::{ApiError, ApiJson, ApiResult, Code};
use crate::routes::{Access, Routes};
use crate::state::AppState;

/// Where custom channels post their messages.
pub const INBOUND_PATH: &str = "/api/v1/channels/inbound";
pub use frontdesk_engine::channels::custom::{IDEMPOTENCY_HEADER, SEND_TIMEOUT};

pub fn routes(r: Routes) -> Routes {
    r.add(Method::POST, INBOUND_PATH, Access::Public, inbound)
}

// ---------- inbound ----------

/// A message from a custom channel's system. Unknown fields are ignored.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(example = json!({
    "external_id": "msg-1",
    "contact": {"external_id": "u-42", "name": "Ada Lovelace", "email": "ada@example.com", "phone": "+39 333 123 4567"},
    "text": "How much does the Pro plan cost?"
}))]
pub struct CustomInbound {
    /// Your id for this message (1–255 characters). Posting the same id again is answered
    /// `200 {"duplicate": true}` and changes nothing: retry freely.
    #[serde(default)]
    #[schema(required = true)]
    pub external_id: String,
    /// Who wrote.
    #[serde(default)]
    #[schema(required = true)]
    pub contact: CustomInboundContact,
    /// The message, 1–4,000 characters.
    #[serde(default)]
    #[schema(required = true)]
    pub text: String,
}

/// The person writing, as your system knows them.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CustomInboundContact {
    /// Your stable id for the person (1–255 characters): their messages continue one open
    /// conversation, and replies name it as `contact_external_id`.
    #[serde(default)]
    #[schema(required = true)]
    pub external_id: String,
    /// Up to 200 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// Links the conversation to the contact with this email from any channel.
    #[serde(default)]
    pub email: Option<String>,
    /// Normalised (`+39 333 123 4567` → `+393331234567`); links like the email when no email matches.
    #[serde(default)]
    pub phone: Option<String>,
}

/// What was done with an inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"conversation_id": 7, "message_id": 41, "duplicate": false}))]
pub struct CustomInboundResult {
    /// The conversation the message joined (absent for a duplicate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<i64>,
    /// The stored message (absent for a duplicate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i64>,
    /// The `external_id` was processed before: nothing was stored or sent.
    pub duplicate: bool,
}

/// Posts a message from a custom channel's system.
#[utoipa::path(post, path = "/api/v1/channels/inbound", tag = "channels",
    summary = "Post a message from a custom channel",
    description = INBOUND_DESCRIPTION,
    request_body = CustomInbound,
    security(("channel_key" = [])),
    responses(
        (status = 202, description = "Processed: stored, and answered by the agent where it is deployed. The reply is not in this answer: it is posted to the channel's webhook.", body = CustomInboundResult),
        (status = 200, description = "A replay of an `external_id` already processed: nothing stored, nothing sent.", body = CustomInboundResult,
            example = json!({"duplicate": true})),
        (status = 400, description = "The body is not JSON.", body = crate::openapi::ErrorDoc),
        (status = 401, description = "No key, or not a channel's key.", body = crate::openapi::ErrorDoc),
        (status = 403, description = "The key belongs to a channel that is not a custom channel.", body = crate::openapi::ErrorDoc),
        (status = 415, description = "The body is not sent as `application/json`.", body = crate::openapi::ErrorDoc),
        (status = 422, description = "A field is invalid; `field` names it (`external_id`, `contact.external_id`, `contact.name`, `contact.email`, `contact.phone`, `text`).", body = crate::openapi::ErrorDoc,
            example = json!({"message": "contact.email: is not a valid email address", "code": "validation_failed", "type": "invalid_request", "field": "contact.email"})),
    ))]
pub async fn inbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<ApiJson<CustomInbound>, ApiError>,
) -> ApiResult<Response> {
    // The key first: a caller without one learns nothing about the body.
    let channel = match bearer(&headers).filter(|k| !k.is_empty()) {
        Some(key) => state.store.channel_by_key(&token_hash(key)).await?,
        None => None,
    };
    let Some(channel) = channel else {
        return Err(ApiError::new(
            Code::Unauthenticated,
            "send the custom channel's key as 'Authorization: Bearer <key>' (shown once when the channel was created)",
        ));
    };
    if channel.kind != Channel::Custom {
        return Err(ApiError::forbidden(format!(
            "this key belongs to a {} channel: post custom messages with a custom channel's key",
            channel.kind.as_str()
        )));
    }
    let ApiJson(body) = body?;
    let message = InboundCustom {
        external_id: body.external_id,
        contact: CustomContact {
            external_id: body.contact.external_id,
            name: body.contact.name,
            email: body.contact.email,
            phone: body.contact.phone,
        },
        text: body.text,
    }
    .validate()?;
    let result = match receive(&state, &channel, to_inbound(message)).await? {
        Received::Processed { conversation_id, message_id } => {
            tracing::info!(channel_id = channel.id, conversation_id, message_id, "custom channel message");
            let r = CustomInboundResult {
                conversation_id: Some(conversation_id),
                message_id: Some(message_id),
                duplicate: false,
            };
            (StatusCode::ACCEPTED, ApiJson(r))
        }
        Received::Duplicate => {
            let r = CustomInboundResult { conversation_id: None, message_id: None, duplicate: true };
            (StatusCode::OK, ApiJson(r))
        }
    };
    Ok(result.into_response())
}

// ---------- OpenAPI ----------

/// The inbound operation's description.
pub const INBOUND_DESCRIPTION: &str = "Any system can be a channel. Create a channel of kind `custom` \
(`POST /api/v1/channels` with `{\"kind\": \"custom\", \"name\": \"…\", \"config\": {\"webhook_url\": \"https://…\"}}`): \
the answer shows its inbound `key` and its `webhook_secret` once.\n\n\
Post each message of your users here with `Authorization: Bearer <key>`. The contact's `external_id` keys the \
conversation (their messages continue their open conversation); an `email` or `phone` links them to the same \
contact from other channels. Each `external_id` is processed once: a retry answers `200 {\"duplicate\": true}`.\n\n\
The agent answers where it is deployed, and a team member may answer too: every reply is posted to the channel's \
`webhook_url`, signed (see the `customChannelMessage` webhook and the `CustomWebhook` schema). Its delivery is listed \
at `GET /api/v1/conversations/{id}/deliveries`.";

/// The webhook's description: payload, signature, idempotency, retries.
pub const WEBHOOK_DESCRIPTION: &str = "For every message of the agent or of a team member in a custom channel's \
conversation, Frontdesk POSTs this JSON to the channel's `webhook_url`.\n\n\
**Signature.** `Frontdesk-Signature: t=<unix seconds>,v1=<hex>`, where `<hex>` is the lowercase hex \
HMAC-SHA256, keyed with the channel's `webhook_secret`, of `<t>.<body>`: the timestamp, a dot and the raw body \
bytes exactly as received. To verify: recompute it over the raw body (before parsing), compare it in constant \
time with each `v1` entry (there may be several while a secret is rotated; unknown keys are ignored), and reject \
timestamps more than 5 minutes from your clock (replays).\n\n\
**Idempotency.** `Idempotency-Key` (also `idempotency_key` in the body) is the same on every retry of one \
message: store it and acknowledge repeats without acting twice.\n\n\
**Your answer.** Any 2xx acknowledges the message; an optional JSON answer `{\"id\": \"…\"}` is recorded as \
the delivery's `external_id`. No answer within 10 seconds, a connection failure, 408, 429 and 5xx are retried \
with exponential backoff (2 s, 4 s, 8 s …; 8 attempts in all), then the delivery is marked `failed` with the \
error; other statuses fail at once. Redirects are not followed. Private and loopback addresses are refused \
unless the server runs with `allow_private_networks`.";

/// The secret the documented example is signed with.
pub const EXAMPLE_SECRET: &str = "whsec_example";
/// The documented example's signing time.
pub const EXAMPLE_TIMESTAMP: i64 = 1_700_000_000;

/// A message as posted to a custom channel's webhook (the body of the `customChannelMessage` webhook).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!(example_webhook()))]
pub struct CustomWebhook {
    /// The same on every retry of this message (and in the `Idempotency-Key` header): deduplicate on it.
    pub idempotency_key: String,
    pub conversation_id: i64,
    /// The `contact.external_id` your system sent: who to show the message to.
    pub contact_external_id: String,
    /// Frontdesk's id for the message.
    pub message_id: i64,
    pub text: String,
    /// The sources the answer cites (a `url` when the source is public).
    pub citations: Vec<CustomWebhookCitation>,
    /// `agent` (the AI agent) or `human` (a team member).
    #[schema(pattern = "^(agent|human)$", example = "agent")]
    pub author: String,
    /// When the message was written, in unix seconds.
    pub created_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomWebhookCitation {
    pub title: String,
    pub url: Option<String>,
}

/// The documented example payload.
pub fn example_webhook() -> OutboundCustom {
    OutboundCustom {
        idempotency_key: "fd-7-42".into(),
        conversation_id: 7,
        contact_external_id: "u-42".into(),
        message_id: 42,
        text: "The Pro plan costs 12 euros per user per month.".into(),
        citations: vec![CustomCitation { title: "Pricing".into(), url: Some("https://shop.example/pricing".into()) }],
        author: CustomAuthor::Agent,
        created_at: EXAMPLE_TIMESTAMP,
    }
}

/// The `webhooks` entry of the document (OpenAPI 3.1): the outbound message,
/// with a real signature of the example body for [`EXAMPLE_SECRET`].
pub fn webhooks() -> Value {
    let example = example_webhook();
    let body = example.to_json();
    let signature = wire::sign(EXAMPLE_SECRET.as_bytes(), EXAMPLE_TIMESTAMP, &body);
    let error = |d: &str| json!({"description": d});
    json!({
        "customChannelMessage": {
            "post": {
                "tags": ["channels"],
                "operationId": "custom_channel_webhook",
                "summary": "A reply posted to a custom channel's webhook_url",
                "description": format!(
                    "{WEBHOOK_DESCRIPTION}\n\n**Example.** With the secret `{EXAMPLE_SECRET}`, the body `{}` sent at \
                     {EXAMPLE_TIMESTAMP} carries `Frontdesk-Signature: {signature}`.",
                    String::from_utf8_lossy(&body)
                ),
                "parameters": [
                    {"name": wire::SIGNATURE_HEADER, "in": "header", "required": true,
                     "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" keyed with the webhook_secret>",
                     "schema": {"type": "string"}, "example": signature},
                    {"name": IDEMPOTENCY_HEADER, "in": "header", "required": true,
                     "description": "The same on every retry of one message",
                     "schema": {"type": "string"}, "example": example.idempotency_key},
                ],
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/CustomWebhook"},
                        "example": serde_json::to_value(&example).unwrap_or_default(),
                    }},
                },
                "responses": {
                    "2XX": {"description": "Acknowledged; an optional JSON {\"id\": \"…\"} is kept as the delivery's external_id"},
                    "408": error("Retried with backoff"),
                    "429": error("Retried with backoff"),
                    "5XX": error("Retried with backoff; after the last attempt the delivery is marked failed"),
                    "4XX": error("Any other 4xx (and 3xx): the delivery is marked failed at once"),
                },
            }
        }
    })
}

struct ChannelKey;

impl Modify for ChannelKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.components.get_or_insert_with(Default::default).add_security_scheme(
            "channel_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("a custom channel's inbound key (`fdch_…`), shown once when it is created"))
                    .build(),
            ),
        );
    }
}

/// The custom-channel part of the API document.
#[derive(OpenApi)]
#[openapi(
    paths(inbound),
    components(schemas(CustomInbound, CustomInboundContact, CustomInboundResult, CustomWebhook, CustomWebhookCitation)),
    modifiers(&ChannelKey),
    tags((name = "channels", description = "Connected channels: custom systems post messages in and receive replies as signed webhooks"))
)]
pub struct CustomChannelDoc;

/// Adds the inbound operation, the webhook, their schemas and the
/// `channel_key` scheme to `doc`. Call it before generic entries are added
/// for the route table (an existing operation is kept).
pub fn document(doc: &mut utoipa::openapi::OpenApi) {
    doc.merge(CustomChannelDoc::openapi());
    // utoipa 5 has no field for OpenAPI 3.1's top-level `webhooks`; the
    // extensions map is flattened into the document, so the key lands there.
    let top = doc.extensions.get_or_insert_with(Default::default);
    match top.get_mut("webhooks") {
        Some(Value::Object(existing)) => {
            if let Value::Object(ours) = webhooks() {
                existing.extend(ours);
            }
        }
        _ => {
            top.insert("webhooks".into(), webhooks());
        }
    }
}
