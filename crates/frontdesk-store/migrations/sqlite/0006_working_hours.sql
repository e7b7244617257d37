-- Working hours per channel (C4): the schedule as JSON
-- ({"mode", "time_zone", "ranges": [{"day", "start", "end"}]}).
-- A channel without a row takes conversations at all hours.
CREATE TABLE working_hours (
    channel TEXT PRIMARY KEY,
    schedule TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
