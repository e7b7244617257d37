-- Credits (D1): the settings (one row) and the ledger. The balance is the
-- newest row's balance_after; rows are written under the settings row's
-- lock (SQLite: the single writer), so it never goes negative.
CREATE TABLE credit_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    enabled INTEGER NOT NULL DEFAULT 0,
    cost_per_reply INTEGER NOT NULL DEFAULT 1,
    monthly_allowance INTEGER NOT NULL DEFAULT 1000,
    reset_day INTEGER NOT NULL DEFAULT 1,
    auto_top_up INTEGER,
    max_top_ups_per_period INTEGER,
    updated_at INTEGER NOT NULL DEFAULT 0
);
INSERT INTO credit_settings (id) VALUES (1);

CREATE TABLE credit_ledger (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    amount INTEGER NOT NULL,
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    -- 'allowance:YYYY-MM-DD': one allowance per period, however many race for it.
    period_key TEXT UNIQUE,
    channel TEXT,
    conversation_id INTEGER,
    message_id INTEGER,
    actor TEXT,
    note TEXT
);
CREATE INDEX credit_ledger_kind_at ON credit_ledger (kind, at);
