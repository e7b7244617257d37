-- Crawling public URLs (B3): the frontier lives in the store so a restart resumes it.
ALTER TABLE sources ADD COLUMN crawl_related INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN max_pages INTEGER NOT NULL DEFAULT 1;
ALTER TABLE chunks ADD COLUMN url TEXT;
CREATE INDEX chunks_source_url ON chunks(source_id, url);

CREATE TABLE crawl_pages (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    depth INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'queued',
    title TEXT,
    content_hash TEXT,
    etag TEXT,
    last_modified TEXT,
    error TEXT,
    fetched_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (source_id, url)
);
CREATE INDEX crawl_pages_queue ON crawl_pages(source_id, status, id);
CREATE INDEX crawl_pages_hash ON crawl_pages(source_id, content_hash);
