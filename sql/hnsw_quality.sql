--
-- milvus_hnsw graph quality at realistic settings: recall@10 against exact
-- search at ef_search 10 and 40 over 4,000 clustered vectors (40 clusters,
-- 32 dimensions), after a build, after inserts alone, after delete / VACUUM /
-- insert churn that reuses slots, after CREATE INDEX CONCURRENTLY and a
-- parallel build, and with filters (the vector index forced, EXPLAIN checked
-- by hnsw_recall); and reachability after insert/delete churn without VACUUM.
-- milvus.hnsw_level_seed makes every serial build the same graph on every run;
-- each floor sits just below what it measured (recall 0.97 to 0.99 at
-- ef_search 10, 1.0 at 40).
--
-- inserts link rows into the graph at once (the path seals take): see
-- hnsw_streaming for the growing segment
SET milvus.hnsw_growing_segment = off;
SET milvus.hnsw_level_seed = 7;
-- the index scan's own filtering is measured here; hybrid_search tests the
-- hybrid search
SET milvus.enable_hybrid_search = off;

-- 40 centres in [-1, 1]^32; a row is a centre plus uniform noise in [-1, 1]
SELECT setseed(0.5);
CREATE TABLE hq_centre AS
    SELECT c, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 32) WHERE c > 0) AS x
    FROM generate_series(1, 40) c;
CREATE FUNCTION hq_point(c int) RETURNS floatvector
LANGUAGE sql AS $$
    SELECT ARRAY(SELECT x[j] + (random() * 2 - 1)::real FROM generate_series(1, 32) j)::floatvector
    FROM hq_centre WHERE hq_centre.c = hq_point.c
$$;
SELECT setseed(0.25);
CREATE TABLE hq (id int PRIMARY KEY, label int, v floatvector(32)) WITH (autovacuum_enabled = off);
INSERT INTO hq SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(1, 4000) i;
CREATE TABLE hq_q AS SELECT q, hq_point(q % 40 + 1)::text AS v FROM generate_series(1, 50) q;
CREATE INDEX hq_label ON hq (label);
ANALYZE hq;

-- recall@10 of index idx at ef_search 10 and 40, each against its floor
CREATE FUNCTION hq_quality(idx regclass, floor10 numeric, floor40 numeric,
                           OUT ef10 text, OUT ef40 text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('milvus.hnsw_ef_search', '10', true);
    ef10 := at_least(hnsw_recall(idx, 'SELECT v FROM hq_q ORDER BY q', 10), floor10);
    PERFORM set_config('milvus.hnsw_ef_search', '40', true);
    ef40 := at_least(hnsw_recall(idx, 'SELECT v FROM hq_q ORDER BY q', 10), floor40);
END
$$;

--
-- A serial build
--
CREATE INDEX hq_idx ON hq USING milvus_hnsw (v floatvector_l2_ops);
SELECT count(*) AS problems FROM milvus_hnsw_verify('hq_idx', true);
SELECT * FROM hq_quality('hq_idx', 0.95, 0.98);

-- filters, the vector index forced: 10 % independent of the vectors, 1 %,
-- and one cluster's label (2.5 %, far from most queries)
SET milvus.hnsw_ef_search = 40;
SELECT at_least(hnsw_recall('hq_idx', 'SELECT v FROM hq_q ORDER BY q', 10, 'id % 10 = 3'), 0.96) AS ten_percent,
       at_least(hnsw_recall('hq_idx', 'SELECT v FROM hq_q ORDER BY q', 10, 'id % 100 = 7'), 0.98) AS one_percent,
       at_least(hnsw_recall('hq_idx', 'SELECT v FROM hq_q ORDER BY q', 10, 'label = 3'), 0.98) AS one_cluster;
RESET milvus.hnsw_ef_search;

-- the same build twice is the same graph: the same bytes on every page but
-- the page header (which holds the LSN)
CREATE EXTENSION pageinspect;
CREATE FUNCTION hq_pages(idx regclass) RETURNS text
LANGUAGE sql AS $$
    SELECT md5(string_agg(substr(get_raw_page(idx::text, b::int), 25), '' ORDER BY b))
    FROM generate_series(0, pg_relation_size(idx) / current_setting('block_size')::int - 1) b
$$;
CREATE INDEX hq_idx2 ON hq USING milvus_hnsw (v floatvector_l2_ops);
SELECT hq_pages('hq_idx') = hq_pages('hq_idx2') AS same_graph;
DROP INDEX hq_idx2;

--
-- Delete / VACUUM / insert churn, four rounds of a quarter of the rows, new
-- vectors taking the slots vacuum frees; then the same rows built afresh
--
DELETE FROM hq WHERE (id * 7) % 4 = 0;
VACUUM hq;
SELECT FROM milvus.compact_index('hq_idx');
INSERT INTO hq SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(10001, 11000) i;
DELETE FROM hq WHERE (id * 7) % 4 = 1;
VACUUM hq;
SELECT FROM milvus.compact_index('hq_idx');
INSERT INTO hq SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(11001, 12000) i;
DELETE FROM hq WHERE (id * 7) % 4 = 2;
VACUUM hq;
SELECT FROM milvus.compact_index('hq_idx');
INSERT INTO hq SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(12001, 13000) i;
DELETE FROM hq WHERE (id * 7) % 4 = 3 AND id < 10000;
VACUUM hq;
SELECT FROM milvus.compact_index('hq_idx');
INSERT INTO hq SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(13001, 14000) i;
SELECT reused > 0 AS slots_reused, heap_tids FROM milvus_hnsw_stats('hq_idx');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hq_idx', true);
SELECT * FROM hq_quality('hq_idx', 0.95, 0.98);
DROP INDEX hq_idx;
CREATE INDEX hq_idx ON hq USING milvus_hnsw (v floatvector_l2_ops);
SELECT * FROM hq_quality('hq_idx', 0.95, 0.98);
DROP INDEX hq_idx;

--
-- An index that grew by inserts alone
--
CREATE TABLE hq_ins (LIKE hq) WITH (autovacuum_enabled = off);
CREATE INDEX hq_ins_idx ON hq_ins USING milvus_hnsw (v floatvector_l2_ops);
INSERT INTO hq_ins SELECT * FROM hq ORDER BY id;
SELECT count(*) AS problems FROM milvus_hnsw_verify('hq_ins_idx', true);
SELECT * FROM hq_quality('hq_ins_idx', 0.95, 0.98);
DROP TABLE hq_ins;

--
-- CREATE INDEX CONCURRENTLY
--
CREATE INDEX CONCURRENTLY hq_cic ON hq USING milvus_hnsw (v floatvector_l2_ops);
SELECT count(*) AS problems FROM milvus_hnsw_verify('hq_cic', true);
SELECT * FROM hq_quality('hq_cic', 0.95, 0.98);
DROP INDEX hq_cic;

--
-- A parallel build (two workers and the leader; its graph depends on how
-- they interleave, so its floors leave more room).  DEBUG shows the workers.
--
ALTER TABLE hq SET (parallel_workers = 2);
SET min_parallel_table_scan_size = 0;
SET max_parallel_maintenance_workers = 2;
SET maintenance_work_mem = '64MB';
SET client_min_messages = debug1;
CREATE INDEX hq_par ON hq USING milvus_hnsw (v floatvector_l2_ops);
RESET client_min_messages;
SELECT count(*) AS problems FROM milvus_hnsw_verify('hq_par', true);
SELECT * FROM hq_quality('hq_par', 0.94, 0.98);
DROP INDEX hq_par;
RESET maintenance_work_mem;
RESET max_parallel_maintenance_workers;
RESET min_parallel_table_scan_size;

--
-- Reachability without VACUUM: 19,000 inserts and about 5,700 deletes into an
-- index of m = 4, whose short lists inserts prune hardest.  An insert that
-- unlinks an element keeps a way to it, so a walk of layer 0 from the entry
-- point reaches every element (before that rule: hundreds it did not).
--
CREATE TABLE hq_reach (id int PRIMARY KEY, v floatvector(16)) WITH (autovacuum_enabled = off);
SELECT setseed(0.3);
INSERT INTO hq_reach SELECT i, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 16) WHERE i > 0)::floatvector
FROM generate_series(1, 1000) i;
CREATE INDEX hq_reach_idx ON hq_reach USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 4, ef_construction = 16);
INSERT INTO hq_reach SELECT i, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 16) WHERE i > 0)::floatvector
FROM generate_series(1001, 10000) i;
DELETE FROM hq_reach WHERE id % 3 = 0;
INSERT INTO hq_reach SELECT i, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 16) WHERE i > 0)::floatvector
FROM generate_series(10001, 20000) i;
DELETE FROM hq_reach WHERE id % 7 = 0;
SELECT count(*) AS unreachable FROM milvus_hnsw_verify('hq_reach_idx', true);
DROP TABLE hq_reach;

-- hq_point, hq_centre, hq_q and hq_quality serve hnsw_streaming too
DROP TABLE hq;
DROP FUNCTION hq_pages;
DROP EXTENSION pageinspect;
