//! Credits (D1) on the server side: whether the agent may take new
//! conversations. The ledger itself is written by the store (the reply's
//! debit in `append_turn`'s transaction); the rules are in
//! `frontdesk_core::credits`.

use crate::Engine;

/// Whether the agent may be assigned a new conversation: credits are off,
/// or the balance pays a reply, or an automatic top-up would. When it is out,
/// new conversations on every channel go to the team; conversations the agent
/// already holds keep being answered (as when it is switched off, D2), paid
/// with what is left and never below zero.
///
/// A store error counts as "has credits": the conversation is then created
/// as it would be without credits, and the error is logged.
pub async fn agent_has_credits(state: &Engine) -> bool {
    match state.store.credit_status(frontdesk_store::now_ms()).await {
        Ok(s) => !s.out_of_credits,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the credit balance");
            true
        }
    }
}
