-- Lead qualification (F3): one settings row (JSON), and one lead per
-- conversation with its score and where it stands.
CREATE TABLE lead_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    settings TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE leads (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL UNIQUE REFERENCES conversations(id) ON DELETE CASCADE,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    score INTEGER NOT NULL,
    qualified INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_progress', 'qualified', 'unqualified')),
    summary TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX leads_status ON leads (status, updated_at);
