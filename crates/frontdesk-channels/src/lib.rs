//! Frontdesk's channels, as pure logic: everything that turns what a channel delivers into
//! Frontdesk's terms and back, with no I/O.
//!
//! * [`email`]: parse a raw RFC 5322 message (MIME, charsets, HTML) into the customer's new
//!   text without quoted history or signature, recognise mail the agent must never answer
//!   (auto-replies, bounces, lists, its own mail: C3's "never a mail loop"), the ignore list,
//!   threading ids, and render replies (subject, `In-Reply-To`/`References`, reply-all,
//!   signature, quoted original) as RFC 5322 bytes.
//! * [`meta`]: WhatsApp Business Cloud API and Messenger Platform webhooks: the
//!   `X-Hub-Signature-256` check, the subscription handshake, the payloads turned into
//!   [`meta::MetaEvent`]s, the send bodies and responses, text splitting to the channels' limits.
//! * [`custom`]: custom channels (any system speaking the public API): the signed outbound
//!   delivery (`Frontdesk-Signature`, Stripe-like) and the inbound/outbound JSON bodies.
//! * [`retry`]: the backoff schedule of outbound deliveries and `Retry-After`.
//! * [`phone`]: phone-number normalisation, so that a contact can be matched across channels.
//!
//! Why pure: sockets, SMTP/IMAP, HTTP clients, files, the clock and randomness all belong to the
//! server (`frontdesk-server`), which passes in bytes, the time (`now_unix`) and unique tokens.
//! That keeps every decision here deterministic and testable on recorded payloads, and lets the
//! same code serve the webhook handlers, the job worker and the tests. Parsers here never panic
//! on hostile input: they return typed errors with messages fit for a log or an admin.

pub mod custom;
pub mod email;
pub mod meta;
pub mod phone;
pub mod retry;
mod signature;

pub use signature::SignatureError;
