-- Configured HTTP actions (F2) and the contact properties the agent may use (F1).

-- An action's definition is its JSON (frontdesk_core::actions::ActionDef) with
-- secret header values removed; those live in `secrets` (header name → value)
-- and are never written anywhere else (not in the audit log, not in the API).
CREATE TABLE actions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    enabled INTEGER NOT NULL DEFAULT 1,
    definition TEXT NOT NULL,
    secrets TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The contact properties the agent knows about, and whether it may read or update each.
CREATE TABLE crm_fields (
    key TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '[]',
    agent_read INTEGER NOT NULL DEFAULT 0,
    agent_write INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
