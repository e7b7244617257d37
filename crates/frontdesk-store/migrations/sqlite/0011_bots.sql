-- Rule-based chatbots (C5): a bot's flow is JSON (core::bot); one session
-- per conversation records where the visitor stands in it.
CREATE TABLE bots (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX bots_channel ON bots (channel, enabled);

CREATE TABLE bot_sessions (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    bot_id INTEGER NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    finished INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
