-- Handoff to humans (E3–E8): one settings row, and when each user last
-- received a conversation by routing (round robin).
CREATE TABLE handoff_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    settings TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

ALTER TABLE users ADD COLUMN last_routed_at INTEGER;
