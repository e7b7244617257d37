-- Every channel (C1–C3, J4): a channel row per connected email address,
-- WhatsApp number, Messenger page or custom system. Conversations from a
-- channel remember it and the contact's handle there (address, phone, PSID,
-- external id) so replies go back out on it through deliveries.
CREATE TABLE channels (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    agent_deployed INTEGER NOT NULL,
    config TEXT NOT NULL,
    secrets TEXT NOT NULL DEFAULT '{}',
    -- sha256 of the key a custom channel (or a raw-MIME webhook) sends.
    key_hash TEXT UNIQUE,
    -- Adapter state (the IMAP cursor).
    state TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

ALTER TABLE conversations ADD COLUMN channel_id INTEGER REFERENCES channels(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN handle TEXT;
ALTER TABLE conversations ADD COLUMN subject TEXT;
CREATE INDEX conversations_channel_handle ON conversations (channel_id, handle, status);

-- Inbound messages already processed, per channel (Meta retries, IMAP
-- re-reads, replayed webhooks): the same id is processed once. `meta` keeps
-- what a reply needs (an email's ids, subject, participants, text).
CREATE TABLE channel_inbound (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, external_id)
);
CREATE INDEX channel_inbound_conversation ON channel_inbound (conversation_id, created_at);

-- Email threading: every Message-ID seen or sent in a conversation.
CREATE TABLE channel_threads (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    thread_key TEXT NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    PRIMARY KEY (channel_id, thread_key)
);

-- Files that came with an inbound message.
CREATE TABLE message_attachments (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX message_attachments_message ON message_attachments (message_id);

-- Outbound messages to a channel (the outbox): written in the reply's
-- transaction, sent by a `deliver` job with retries; the status is visible.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    external_id TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX deliveries_conversation ON deliveries (conversation_id, id);
CREATE INDEX deliveries_external ON deliveries (channel_id, external_id);

-- Messaging settings per channel kind (C2) and inactivity closing.
CREATE TABLE messaging_settings (
    channel TEXT PRIMARY KEY,
    ask_email TEXT NOT NULL,
    close_after_minutes INTEGER,
    updated_at INTEGER NOT NULL
);

-- Whether the agent asked this conversation's visitor for an email (C2).
ALTER TABLE conversations ADD COLUMN email_ask TEXT NOT NULL DEFAULT 'none';

CREATE INDEX contacts_phone ON contacts (phone);
