-- The agent's judgement: admin handoff phrases (E2), topics to avoid (A3),
-- and saved agent tests with their runs (K3).
ALTER TABLE agent_profile ADD COLUMN handoff_phrases TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agent_profile ADD COLUMN topics_to_avoid TEXT NOT NULL DEFAULT '[]';

CREATE TABLE agent_tests (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    question TEXT NOT NULL,
    expect TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE agent_test_runs (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    total INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    results TEXT NOT NULL,
    actor TEXT NOT NULL
);
