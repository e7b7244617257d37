-- Reports (G1–G11) and knowledge gaps (H1–H4).
--
-- The event log stays the truth. `conversation_facts` (one row per
-- conversation, derived from its events) and `report_counts` (additive
-- counters per local day, channel, metric and dimension) are a cache: both
-- are rebuilt from the events at will. Every new event marks its conversation
-- in `report_dirty` (a trigger, so no writer can forget); refreshing the
-- rollup recomputes those conversations' facts and applies the difference.

CREATE TABLE report_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    time_zone TEXT NOT NULL,
    -- The zone the counters' days were computed in; a change rebuilds them.
    counters_time_zone TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO report_settings (id, time_zone, counters_time_zone, updated_at) VALUES (1, 'UTC', 'UTC', 0);

CREATE TABLE report_dirty (
    conversation_id INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE conversation_facts (
    conversation_id INTEGER PRIMARY KEY,
    facts TEXT NOT NULL,
    -- When the resolution verdict is due (72 hours after the agent's last reply), until it is recorded.
    evaluate_at INTEGER
);
CREATE INDEX conversation_facts_due ON conversation_facts(evaluate_at) WHERE evaluate_at IS NOT NULL;

CREATE TABLE report_counts (
    metric TEXT NOT NULL,
    day TEXT NOT NULL,
    channel TEXT NOT NULL,
    dim TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (metric, day, channel, dim)
);

CREATE TRIGGER events_mark_report_dirty AFTER INSERT ON events
BEGIN
    INSERT INTO report_dirty (conversation_id) VALUES (NEW.conversation_id)
        ON CONFLICT (conversation_id) DO UPDATE SET generation = generation + 1;
END;

-- Everything already logged is computed at the first refresh.
INSERT INTO report_dirty (conversation_id) SELECT DISTINCT conversation_id FROM events;

CREATE TABLE gap_topics (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    -- The running summary grouping compares new questions with (terms, vector sum).
    summary TEXT NOT NULL DEFAULT '{}',
    short_answer_id INTEGER REFERENCES short_answers(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER,
    closed_by INTEGER REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX gap_topics_status ON gap_topics(status, updated_at);

ALTER TABLE unanswered_questions ADD COLUMN topic_id INTEGER REFERENCES gap_topics(id) ON DELETE SET NULL;
ALTER TABLE unanswered_questions ADD COLUMN features TEXT;
ALTER TABLE unanswered_questions ADD COLUMN dismissed_at INTEGER;
CREATE INDEX unanswered_topic ON unanswered_questions(topic_id, created_at);
CREATE INDEX unanswered_ungrouped ON unanswered_questions(id) WHERE topic_id IS NULL;
