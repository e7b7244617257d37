-- Sentences of a chunk addressed to the assistant (instructions hidden in
-- content, recognised by meaning when the chunk is embedded: a JSON array of
-- the sentences, '[]' when none). NULL: not checked yet (no e5 model, or not
-- embedded yet). The agent never quotes them nor puts them in a prompt.
ALTER TABLE chunks ADD COLUMN addressed TEXT;
