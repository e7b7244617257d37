-- Which embedder made the stored chunk vectors (chunks.embedding): its name and
-- vector size, one row. At start the server compares it with the configured
-- embedder; when they differ the vectors are cleared (with an audit row) and the
-- embed_chunks job re-embeds every chunk in the background. Vectors stored before
-- this table existed can only come from all-MiniLM-L6-v2 (the one embedder the
-- server loaded), so they are tagged as such; no vectors: no tag ('').
CREATE TABLE embedding_model (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL DEFAULT '',
    dimensions BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO embedding_model (id, name, dimensions)
SELECT 1,
       CASE WHEN EXISTS (SELECT 1 FROM chunks WHERE embedding IS NOT NULL) THEN 'all-MiniLM-L6-v2' ELSE '' END,
       CASE WHEN EXISTS (SELECT 1 FROM chunks WHERE embedding IS NOT NULL) THEN 384 ELSE 0 END;
