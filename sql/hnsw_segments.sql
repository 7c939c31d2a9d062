--
-- The growing segment's SQL: milvus.seal(), milvus.compact_index(),
-- milvus.flush() and the view
-- milvus.segments (src/workers/).  The data coordinator may seal an index at
-- any moment here, so the checks hold whether or not it did: growing plus
-- sealed rows are the live rows, and a row is found before and after a seal.
--
\set SHOW_CONTEXT never

SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'milvus.segments'::regclass ORDER BY attnum;

CREATE TABLE seg (id int PRIMARY KEY, v floatvector(3));
CREATE INDEX seg_v ON seg USING milvus_hnsw (v floatvector_l2_ops);
INSERT INTO seg SELECT i, ARRAY[i, i % 7, i % 11]::real[]::floatvector FROM generate_series(1, 200) i;

SELECT index_name, table_name, growing_rows + sealed_rows AS live, growing_dead,
       pending_tombstones, growing_rows = 0 OR growing_bytes > 0 AS bytes_ok
  FROM milvus.segments WHERE table_name = 'seg'::regclass;

-- found in the growing segment or the graph, then in the graph
SET enable_seqscan = off;
SELECT id FROM seg ORDER BY v <-> '[50,1,6]' LIMIT 1;
SELECT milvus.seal('seg_v') BETWEEN 0 AND 200 AS sealed;
SELECT growing_rows, sealed_rows, last_seal IS NOT NULL AS has_last_seal, running
  FROM milvus.segments WHERE index_name = 'seg_v'::regclass;
SELECT id FROM seg ORDER BY v <-> '[50,1,6]' LIMIT 1;
SELECT milvus.seal('seg_v');                  -- nothing left to seal

-- with the growing segment off, an insert goes straight into the graph
SET milvus.hnsw_growing_segment = off;
INSERT INTO seg VALUES (201, '[201,5,3]');
RESET milvus.hnsw_growing_segment;
SELECT growing_rows, sealed_rows FROM milvus.segments WHERE index_name = 'seg_v'::regclass;
SELECT id FROM seg ORDER BY v <-> '[201,5,3]' LIMIT 1;

-- deleted rows: after VACUUM, growing plus sealed rows are the live rows again
-- (growing_rows leaves out the growing_dead)
INSERT INTO seg SELECT i, ARRAY[i, i % 7, i % 11]::real[]::floatvector FROM generate_series(202, 220) i;
DELETE FROM seg WHERE id <= 10 OR id > 215;
VACUUM seg;
SELECT growing_rows + sealed_rows AS live, growing_dead <= 5 AS dead_ok FROM milvus.segments
 WHERE index_name = 'seg_v'::regclass;
SELECT id FROM seg ORDER BY v <-> '[212,2,3]' LIMIT 1;
-- VACUUM left tombstones for a compaction, by the coordinator or now
SELECT milvus.compact_index('seg_v') BETWEEN 0 AND 15 AS compacted;
SELECT pending_tombstones, last_compaction IS NOT NULL AS has_last_compaction
  FROM milvus.segments WHERE index_name = 'seg_v'::regclass;
SELECT count(*) AS problems FROM milvus_hnsw_verify('seg_v', true);
SELECT id FROM seg ORDER BY v <-> '[212,2,3]' LIMIT 1;
RESET enable_seqscan;

-- what is not a milvus_hnsw index, and who may seal
SELECT sqlstate_detail_of($$SELECT milvus.seal('seg')$$);
SELECT sqlstate_detail_of($$SELECT milvus.seal('seg_pkey')$$);
SELECT sqlstate_detail_of($$SELECT milvus.compact_index('seg_pkey')$$);
SELECT sqlstate_detail_of($$SELECT milvus.seal(0)$$);
SELECT sqlstate_of($$SELECT milvus.seal(NULL)$$);
CREATE ROLE regress_seg_other;
GRANT SELECT, INSERT ON seg TO regress_seg_other;
SET ROLE regress_seg_other;
SELECT sqlstate_detail_of($$SELECT milvus.seal('seg_v')$$);
SELECT sqlstate_detail_of($$SELECT milvus.compact_index('seg_v')$$);
SELECT count(*) FROM milvus.segments WHERE index_name = 'seg_v'::regclass;
RESET ROLE;

-- a partitioned index has no segment of its own
CREATE TABLE segp (id int, v floatvector(3)) PARTITION BY RANGE (id);
CREATE TABLE segp1 PARTITION OF segp FOR VALUES FROM (0) TO (100);
CREATE INDEX segp_v ON segp USING milvus_hnsw (v floatvector_l2_ops);
SELECT sqlstate_detail_of($$SELECT milvus.seal('segp_v')$$);
SELECT index_name, table_name FROM milvus.segments WHERE table_name::text LIKE 'segp%';
DROP TABLE segp;

-- a dropped index leaves the view
DROP INDEX seg_v;
SELECT count(*) FROM milvus.segments WHERE table_name = 'seg'::regclass;

-- milvus.flush() seals every milvus_hnsw index of a collection, partitions included
SELECT milvus.create_collection('segs', schema => '{"fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "v", "type": "FLOAT_VECTOR", "dim": 3}]}');
SELECT milvus.create_partition('segs', 'p2');
SELECT milvus.create_index('segs', 'v', 'HNSW', 'L2', '{"M": 8, "efConstruction": 32}');
SELECT milvus.insert('segs', (SELECT jsonb_agg(jsonb_build_object('id', i, 'v', jsonb_build_array(i, 1, 2)))
                                FROM generate_series(1, 30) i));
SELECT milvus.insert('segs', (SELECT jsonb_agg(jsonb_build_object('id', i, 'v', jsonb_build_array(i, 1, 2)))
                                FROM generate_series(31, 40) i), 'p2');
SELECT milvus.flush('segs');
SELECT count(*) AS indexes, sum(growing_rows) AS growing, sum(sealed_rows) AS sealed
  FROM milvus.segments s JOIN milvus.partitions p ON p.relid = s.table_name
 WHERE p.collection_name = 'segs';
SELECT sqlstate_detail_of($$SELECT milvus.flush('no_such')$$);
SET ROLE regress_seg_other;
SELECT sqlstate_detail_of($$SELECT milvus.flush('segs')$$);
RESET ROLE;
SELECT milvus.drop_collection('segs');

-- Free growing pages at the end of the index go back after a seal: rows
-- inserted after a compaction freed slots take those slots, and the growing
-- pages they came from are cut off (hnswtruncate.c).  Whether the data
-- coordinator or milvus.seal() seals them, the index ends smaller than it was
-- with the rows growing, and whole.
CREATE TABLE segt (id int PRIMARY KEY, v floatvector(16));
CREATE FUNCTION segt_vec(i int) RETURNS floatvector LANGUAGE sql IMMUTABLE AS
$$ SELECT ARRAY(SELECT (hashint4(i * 16 + d) & 1023) / 1024.0
                  FROM generate_series(1, 16) d)::real[]::floatvector $$;
INSERT INTO segt SELECT i, segt_vec(i) FROM generate_series(1, 3000) i;
CREATE INDEX segt_v ON segt USING milvus_hnsw (v floatvector_l2_ops);
DELETE FROM segt WHERE id % 2 = 0;
VACUUM segt;
SELECT milvus.compact_index('segt_v') >= 0 AS compacted;
SELECT free_slots >= 1000 AS freed FROM milvus_hnsw_stats('segt_v');
INSERT INTO segt SELECT i, segt_vec(i) FROM generate_series(3001, 4200) i;
SELECT pg_relation_size('segt_v') AS growing_size \gset
SELECT milvus.seal('segt_v') >= 0 AS sealed;
-- (a data coordinator's round may have the index open at that moment, and
-- the truncation does not wait: a seal with nothing to seal tries again)
CREATE TEMP TABLE segt_size AS SELECT :growing_size::bigint AS growing;
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN pg_relation_size('segt_v') < (SELECT growing FROM segt_size);
        PERFORM pg_sleep(0.1);
        PERFORM milvus.seal('segt_v');
    END LOOP;
END $$;
SELECT pg_relation_size('segt_v') < :growing_size AS given_back;
SELECT count(*) AS problems FROM milvus_hnsw_verify('segt_v', true);
SET enable_seqscan = off;
SET milvus.hnsw_ef_search = 200;
SELECT count(*) AS missed FROM segt a WHERE a.id % 50 = 1
   AND a.id IS DISTINCT FROM (SELECT b.id FROM segt b ORDER BY b.v <-> a.v LIMIT 1);
-- inserts go on, into the chain's new page
INSERT INTO segt SELECT i, segt_vec(i) FROM generate_series(4201, 4300) i;
SELECT id FROM segt ORDER BY v <-> segt_vec(4250) LIMIT 1;
SELECT count(*) AS problems FROM milvus_hnsw_verify('segt_v', true);
-- in a transaction block a seal keeps the pages (the lock would last to its end)
DELETE FROM segt WHERE id > 3000 AND id % 3 = 0;
VACUUM segt;
SELECT milvus.compact_index('segt_v') >= 0 AS compacted;
INSERT INTO segt SELECT i, segt_vec(i) FROM generate_series(4301, 5000) i;
BEGIN;
SELECT pg_relation_size('segt_v') AS growing_size \gset
SELECT milvus.seal('segt_v') >= 0 AS sealed;
SELECT pg_relation_size('segt_v') >= :growing_size AS kept;
COMMIT;
SELECT count(*) AS problems FROM milvus_hnsw_verify('segt_v', true);
RESET milvus.hnsw_ef_search;
RESET enable_seqscan;
DROP TABLE segt;
DROP FUNCTION segt_vec;

DROP TABLE seg;
DROP ROLE regress_seg_other;
