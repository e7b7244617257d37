//! Live fan-out of new messages to open streams, per conversation. A
//! notification only says "something new up to seq n": streams always read
//! the messages themselves from the store, so nothing is lost if a
//! notification is (and streams poll as a fallback, which covers replicas).

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::{broadcast, watch};

pub use frontdesk_agent::Draft;

#[derive(Default)]
pub struct Hub {
    conversations: Mutex<HashMap<i64, watch::Sender<i64>>>,
    drafts: Mutex<HashMap<i64, broadcast::Sender<Draft>>>,
    config: Mutex<Option<watch::Sender<u64>>>,
}

impl Hub {
    /// Subscribes to new-message notifications of one conversation.
    pub fn subscribe(&self, conversation_id: i64) -> watch::Receiver<i64> {
        let mut map = self.conversations.lock().unwrap_or_else(|e| e.into_inner());
        // Drop senders nobody listens to any more.
        if map.len() > 1024 {
            map.retain(|_, s| s.receiver_count() > 0);
        }
        map.entry(conversation_id).or_insert_with(|| watch::channel(0).0).subscribe()
    }

    /// Tells the conversation's streams that messages up to `seq` exist.
    pub fn notify(&self, conversation_id: i64, seq: i64) {
        let map = self.conversations.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = map.get(&conversation_id) {
            s.send_if_modified(|cur| {
                let changed = seq > *cur;
                *cur = (*cur).max(seq);
                changed
            });
        }
    }

    /// Subscribes to the drafts of replies in one conversation.
    pub fn subscribe_drafts(&self, conversation_id: i64) -> broadcast::Receiver<Draft> {
        let mut map = self.drafts.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 1024 {
            map.retain(|_, s| s.receiver_count() > 0);
        }
        map.entry(conversation_id).or_insert_with(|| broadcast::channel(256).0).subscribe()
    }

    /// Sends a draft to the conversation's open streams (none: dropped).
    pub fn draft(&self, conversation_id: i64, draft: Draft) {
        let map = self.drafts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = map.get(&conversation_id) {
            let _ = s.send(draft);
        }
    }

    /// Subscribes to changes of the public agent configuration (name, on/off).
    pub fn subscribe_config(&self) -> watch::Receiver<u64> {
        let mut c = self.config.lock().unwrap_or_else(|e| e.into_inner());
        c.get_or_insert_with(|| watch::channel(0).0).subscribe()
    }

    pub fn notify_config(&self) {
        let c = self.config.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = c.as_ref() {
            s.send_modify(|v| *v += 1);
        }
    }
}

/// The agent streams its drafts to the conversation's open streams.
impl frontdesk_agent::DraftSink for Hub {
    fn draft(&self, conversation_id: i64, draft: Draft) {
        Hub::draft(self, conversation_id, draft)
    }
}
