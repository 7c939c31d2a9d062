-- The growing segments of milvus_hnsw indexes and the data coordinator that
-- seals them (src/workers/, doc/indexes.md): seal one index now, flush a
-- collection, and the view of every segment of the database.

-- Seal the index's growing segment now and return the rows sealed; the
-- caller must own the table, as for VACUUM
CREATE FUNCTION milvus.seal(index regclass) RETURNS bigint
    AS 'MODULE_PATHNAME', 'milvus_seal' LANGUAGE C STRICT VOLATILE;

-- Repair the links around the tombstones VACUUM left and free their slots
-- now (what the data coordinator does when it sees pending tombstones);
-- return the tombstones freed.  Owner only, as seal.
CREATE FUNCTION milvus.compact_index(index regclass) RETURNS bigint
    AS 'MODULE_PATHNAME', 'milvus_compact_index' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION milvus._segments(
    OUT index_name regclass, OUT table_name regclass,
    OUT growing_rows bigint, OUT growing_dead bigint, OUT growing_bytes bigint,
    OUT sealed_rows bigint, OUT deleted_elements bigint, OUT pending_tombstones bigint,
    OUT last_seal timestamptz, OUT last_compaction timestamptz,
    OUT running text, OUT worker_pid integer, OUT phase text,
    OUT rows_done bigint, OUT rows_total bigint)
RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'milvus_segments' LANGUAGE C STRICT VOLATILE;

-- One row per milvus_hnsw index of the database.  The times and the job
-- under way come from the data coordinator's shared memory: NULL when the
-- library is not preloaded.
CREATE VIEW milvus.segments AS SELECT * FROM milvus._segments();
COMMENT ON VIEW milvus.segments IS 'Growing and sealed segments of milvus_hnsw indexes';
GRANT SELECT ON milvus.segments TO PUBLIC;

-- Milvus's flush: seal the growing segment of every milvus_hnsw index of the
-- collection, partitions included.  Sealed or not, inserted rows are durable
-- once committed (WAL); what a flush changes is that they are searched
-- through the graph rather than exactly.
CREATE FUNCTION milvus.flush(collection_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
BEGIN
    PERFORM milvus._require_owner(c);
    PERFORM milvus.seal(x.oid)
       FROM pg_catalog.pg_partition_tree(c.relid) p
       JOIN pg_catalog.pg_index i ON i.indrelid = p.relid
       JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid
       JOIN pg_catalog.pg_am a ON a.oid = x.relam
      WHERE p.isleaf AND x.relkind = 'i' AND a.amname = 'milvus_hnsw'
      ORDER BY x.oid;
END
$$;
