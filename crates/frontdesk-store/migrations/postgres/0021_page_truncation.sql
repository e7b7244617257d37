-- A crawled page whose text was cut at the extraction limit says so, as a
-- source does (0019): the first truncated_kept characters of truncated_total
-- were indexed (of at least that many when truncated_at_least). NULL: the
-- whole text was indexed.
ALTER TABLE crawl_pages ADD COLUMN truncated_kept BIGINT;
ALTER TABLE crawl_pages ADD COLUMN truncated_total BIGINT;
ALTER TABLE crawl_pages ADD COLUMN truncated_at_least BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX crawl_pages_truncated ON crawl_pages(source_id, id) WHERE truncated_kept IS NOT NULL;
