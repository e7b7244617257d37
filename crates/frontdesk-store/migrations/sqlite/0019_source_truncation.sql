-- A source whose text was cut at the extraction limit says so: the first
-- truncated_kept characters of truncated_total were indexed (of at least that
-- many when truncated_at_least: the reader stopped early, e.g. a PDF's pages
-- after the cap). NULL: the whole text was indexed.
ALTER TABLE sources ADD COLUMN truncated_kept INTEGER;
ALTER TABLE sources ADD COLUMN truncated_total INTEGER;
ALTER TABLE sources ADD COLUMN truncated_at_least BOOLEAN NOT NULL DEFAULT 0;
