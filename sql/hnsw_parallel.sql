--
-- milvus_hnsw parallel build: the same fixed-seed table built serially and
-- with two workers; each build verifies clean and reaches recall@10 >= 0.9
-- against exact search.  The graph of a parallel build depends on how the
-- participants interleave, so only pass/fail lines are printed (levels are
-- seeded, so the serial build is the same graph on every run).
--
SET milvus.hnsw_level_seed = 4;

-- what a test shows of an index: verify's problem count and whether recall@10 >= 0.9
CREATE FUNCTION hp_check(idx regclass, OUT problems bigint, OUT recall_ok boolean)
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM milvus_hnsw_verify(idx, true)),
           hnsw_recall(idx, 'SELECT q FROM hp_q ORDER BY qid', 10) >= 0.9
$$;

-- 3000 rows of 32 dimensions in [-1, 1], 50 queries
SELECT setseed(0.5);
CREATE TABLE hp (id int PRIMARY KEY, v floatvector(32)) WITH (parallel_workers = 2);
INSERT INTO hp
SELECT i, ARRAY(SELECT (random() * 2 - 1)::float4 FROM generate_series(1, 32) WHERE i > 0)::floatvector
FROM generate_series(1, 3000) i;
CREATE TABLE hp_q (qid int, q text);
INSERT INTO hp_q
SELECT i, ARRAY(SELECT (random() * 2 - 1)::float4 FROM generate_series(1, 32) WHERE i > 0)::floatvector::text
FROM generate_series(1, 50) i;
ANALYZE hp;

SET milvus.hnsw_ef_search = 100;
SET maintenance_work_mem = '64MB';
SET min_parallel_table_scan_size = 0;

-- serial
SET max_parallel_maintenance_workers = 0;
SET client_min_messages = debug1;
CREATE INDEX hp_idx ON hp USING milvus_hnsw (v floatvector_l2_ops);
RESET client_min_messages;
SELECT * FROM hp_check('hp_idx');
DROP INDEX hp_idx;

-- two workers and the leader
SET max_parallel_maintenance_workers = 2;
SET client_min_messages = debug1;
CREATE INDEX hp_idx ON hp USING milvus_hnsw (v floatvector_l2_ops);
RESET client_min_messages;
SELECT * FROM hp_check('hp_idx');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hp ORDER BY v <-> (SELECT q FROM hp_q WHERE qid = 1)::floatvector LIMIT 10;
RESET enable_seqscan;
DROP INDEX hp_idx;

-- CONCURRENTLY, with workers, on another metric
SET client_min_messages = debug1;
CREATE INDEX CONCURRENTLY hp_cos ON hp USING milvus_hnsw (v floatvector_cosine_ops) WITH (m = 8);
RESET client_min_messages;
SELECT problems FROM hp_check('hp_cos');
DROP INDEX hp_cos;

-- a table whose estimate does not fit maintenance_work_mem is built serially
-- (and spills: its NOTICE counts tuples, which vary, so it is not shown)
SET maintenance_work_mem = '1MB';
SET client_min_messages = warning;
CREATE INDEX hp_idx ON hp USING milvus_hnsw (v floatvector_l2_ops);
RESET client_min_messages;
SELECT * FROM hp_check('hp_idx');
DROP INDEX hp_idx;

RESET maintenance_work_mem;
RESET max_parallel_maintenance_workers;
RESET min_parallel_table_scan_size;
DROP TABLE hp, hp_q;
DROP FUNCTION hp_check(regclass);
