--
-- milvus_hnsw growing segment: inserts append to it and touch no graph page;
-- scans merge its rows, measured exactly, with the graph's; VACUUM seals it
-- (links its rows into the graph, drops its dead ones) and its pages are
-- reused.  While a test holds SHARE lock on the table, no data coordinator
-- can seal it (the worker takes its lock conditionally), so what is growing
-- stays growing until the transaction ends.  Reuses hq_point, hq_q and
-- hq_quality of hnsw_quality.
--
SET milvus.hnsw_level_seed = 11;
-- the index scan's own merge of the two parts is tested here (hybrid_search
-- tests the hybrid search)
SET milvus.enable_hybrid_search = off;

SELECT setseed(0.75);
CREATE TABLE hs (id int PRIMARY KEY, label int, v floatvector(32)) WITH (autovacuum_enabled = off);
INSERT INTO hs SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(1, 2000) i;
CREATE INDEX hs_idx ON hs USING milvus_hnsw (v floatvector_l2_ops);

-- 2,000 more rows, growing: the graph keeps its 2,000; searches see 4,000
BEGIN;
LOCK TABLE hs IN SHARE MODE;
INSERT INTO hs SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(2001, 4000) i;
SELECT elements, heap_tids FROM milvus_hnsw_stats('hs_idx');
SELECT * FROM hq_quality('hs_idx', 0.95, 0.98);
SET LOCAL milvus.hnsw_ef_search = 40;
-- filters with rows in both parts, only in the growing one, only in the graph
SELECT at_least(hnsw_recall('hs_idx', 'SELECT v FROM hq_q ORDER BY q', 10, 'id % 10 = 3'), 0.96) AS ten_percent,
       at_least(hnsw_recall('hs_idx', 'SELECT v FROM hq_q ORDER BY q', 10, 'id > 2000'), 0.98) AS growing_only,
       at_least(hnsw_recall('hs_idx', 'SELECT v FROM hq_q ORDER BY q', 10, 'id <= 2000'), 0.98) AS graph_only;
-- always k, and every row once: a scan that reads every row
SELECT force_vector_index();
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_rows
FROM (SELECT id FROM hs ORDER BY v <-> (SELECT v::floatvector FROM hq_q WHERE q = 5) LIMIT 5000) s;
SELECT count(*) AS k FROM (SELECT id FROM hs WHERE id % 100 = 42 ORDER BY v <-> (SELECT v::floatvector FROM hq_q WHERE q = 9) LIMIT 10) s;
-- a row is found the moment it is inserted (here: in this transaction)
INSERT INTO hs VALUES (5000, 0, array_fill(9::real, ARRAY[32])::floatvector);
SELECT id FROM hs ORDER BY v <-> array_fill(9::real, ARRAY[32])::floatvector LIMIT 1;
COMMIT;

-- deleted rows never come back, in either part
DELETE FROM hs WHERE id % 4 = 0;
BEGIN;
SELECT force_vector_index();
SELECT count(*) AS rows, count(*) FILTER (WHERE id % 4 = 0) AS deleted
FROM (SELECT id FROM hs ORDER BY v <-> (SELECT v::floatvector FROM hq_q WHERE q = 5) LIMIT 5000) s;
COMMIT;

-- VACUUM seals: every live row is in the graph, once, and recall holds
VACUUM hs;
SELECT FROM milvus.compact_index('hs_idx');
SELECT heap_tids = (SELECT count(*) FROM hs) AS all_sealed FROM milvus_hnsw_stats('hs_idx');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hs_idx', true);
SELECT * FROM hq_quality('hs_idx', 0.95, 0.98);

-- rounds of insert and VACUUM: the growing pages a seal empties are reused,
-- so the index grows by the graph's share only
INSERT INTO hs SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(6001, 7000) i;
VACUUM hs;
SELECT FROM milvus.compact_index('hs_idx');
CREATE TABLE hs_size AS SELECT pg_relation_size('hs_idx') AS before,
                              (SELECT pages FROM milvus_hnsw_stats('hs_idx')) AS pages;
DELETE FROM hs WHERE id BETWEEN 6001 AND 7000;
VACUUM hs;
SELECT FROM milvus.compact_index('hs_idx');
INSERT INTO hs SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(7001, 8000) i;
VACUUM hs;
SELECT FROM milvus.compact_index('hs_idx');
-- the second round's rows took free graph slots and the same growing pages
SELECT pg_relation_size('hs_idx') <= (SELECT before FROM hs_size) * 1.05 AS size_kept
FROM hs_size;
SELECT count(*) AS problems FROM milvus_hnsw_verify('hs_idx', true);
SELECT heap_tids = (SELECT count(*) FROM hs) AS all_sealed FROM milvus_hnsw_stats('hs_idx');

-- an index built empty: every row growing, then a graph made by the seal
CREATE TABLE hs_empty (id int, v floatvector(4)) WITH (autovacuum_enabled = off);
CREATE INDEX hs_empty_idx ON hs_empty USING milvus_hnsw (v floatvector_l2_ops);
BEGIN;
LOCK TABLE hs_empty IN SHARE MODE;
INSERT INTO hs_empty SELECT i, ARRAY[i, 0, 0, 0]::real[]::floatvector FROM generate_series(1, 300) i;
-- three rows with one vector: each is returned
INSERT INTO hs_empty SELECT 1000 + i, '[150.2,0,0,0]' FROM generate_series(1, 3) i;
SELECT elements, entry_level FROM milvus_hnsw_stats('hs_empty_idx');
SELECT force_vector_index();
SELECT id FROM hs_empty ORDER BY v <-> '[150.2,0,0,0]', id LIMIT 5;
-- a NULL query orders nothing, but still returns rows
SELECT count(*) FROM (SELECT id FROM hs_empty ORDER BY v <-> NULL LIMIT 7) s;
COMMIT;
VACUUM hs_empty;
SELECT FROM milvus.compact_index('hs_empty_idx');
SELECT elements > 0 AS has_graph, heap_tids FROM milvus_hnsw_stats('hs_empty_idx');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hs_empty_idx', true);
SELECT hnsw_vs_exact('hs_empty', 'v', '<->', '[77.4,0,0,0]', 5);

-- a vector too large for a growing page goes straight into the graph
CREATE TABLE hs_wide (id int, v floatvector(4000));
CREATE INDEX hs_wide_idx ON hs_wide USING milvus_hnsw (v floatvector_l2_ops);
INSERT INTO hs_wide SELECT i, array_fill(i::real, ARRAY[4000])::floatvector FROM generate_series(1, 3) i;
SELECT heap_tids FROM milvus_hnsw_stats('hs_wide_idx');
SELECT hnsw_vs_exact('hs_wide', 'v', '<->', array_fill(2.2::real, ARRAY[4000])::floatvector::text, 2);

-- with milvus.hnsw_growing_segment off, an insert links its row at once
SET milvus.hnsw_growing_segment = off;
INSERT INTO hs_empty VALUES (2000, '[1,2,3,4]');
SELECT heap_tids FROM milvus_hnsw_stats('hs_empty_idx');
RESET milvus.hnsw_growing_segment;

-- a dimension mismatch is refused before anything is appended
INSERT INTO hs_empty VALUES (1, '[1,2,3]');

-- a seal hands the pages it has linked to the free list as it goes, and new
-- graph pages come from there first: the rows of an index built empty take
-- the room they came from (else the index would hold the emptied growing
-- pages and a whole graph besides)
CREATE TABLE hs_reuse (id int, v floatvector(32)) WITH (autovacuum_enabled = off);
CREATE INDEX hs_reuse_idx ON hs_reuse USING milvus_hnsw (v floatvector_l2_ops);
BEGIN;
LOCK TABLE hs_reuse IN SHARE MODE;
INSERT INTO hs_reuse SELECT i, hq_point(i % 40 + 1) FROM generate_series(1, 8000) i;
CREATE TEMP TABLE hs_reuse_size AS SELECT pg_relation_size('hs_reuse_idx') AS growing;
SELECT milvus.seal('hs_reuse_idx') AS sealed;
COMMIT;
CREATE INDEX hs_reuse_fresh ON hs_reuse USING milvus_hnsw (v floatvector_l2_ops);
SELECT pg_relation_size('hs_reuse_idx') <= pg_relation_size('hs_reuse_fresh') + growing / 2
       AS room_reused
  FROM hs_reuse_size;
SELECT count(*) AS problems FROM milvus_hnsw_verify('hs_reuse_idx', true);

-- the same rows sealed in memory (milvus.hnsw_seal_in_memory): the graph
-- loaded, the rows linked there in waves of 32 growing pages, each wave's
-- pages handed on to the next wave's elements; the graph verifies, every
-- element reachable, as good as the seal one row at a time
CREATE TABLE hs_mem (id int, v floatvector(32)) WITH (autovacuum_enabled = off);
INSERT INTO hs_mem SELECT i, hq_point(i % 40 + 1) FROM generate_series(1, 2000) i;
CREATE INDEX hs_mem_idx ON hs_mem USING milvus_hnsw (v floatvector_l2_ops);
CREATE TEMP TABLE hs_mem_size AS SELECT pg_relation_size('hs_mem_idx') AS graph;
BEGIN;
LOCK TABLE hs_mem IN SHARE MODE;
INSERT INTO hs_mem SELECT i, hq_point(i % 40 + 1) FROM generate_series(2001, 8000) i;
ALTER TABLE hs_mem_size ADD COLUMN growing bigint;
UPDATE hs_mem_size SET growing = pg_relation_size('hs_mem_idx') - graph;
SET LOCAL milvus.hnsw_seal_in_memory = on;
SET LOCAL log_min_duration_statement = -1;
SET LOCAL client_min_messages = debug1;
SELECT milvus.seal('hs_mem_idx') AS sealed;
COMMIT;
SELECT growing_rows, sealed_rows FROM milvus.segments WHERE index_name = 'hs_mem_idx'::regclass;
SELECT heap_tids FROM milvus_hnsw_stats('hs_mem_idx');
SELECT pg_relation_size('hs_mem_idx') <= pg_relation_size('hs_reuse_fresh') + growing / 2
       AS room_reused
  FROM hs_mem_size;
SELECT count(*) AS problems FROM milvus_hnsw_verify('hs_mem_idx', true);
SELECT * FROM hq_quality('hs_mem_idx', 0.95, 0.98);

-- a seal in memory whose rows outgrow maintenance_work_mem: the graph fits,
-- the rows it has room for are linked in memory and written, and the rest
-- are linked one at a time on disk; every row ends in the graph once
CREATE TABLE hs_part (id int, v floatvector(32)) WITH (autovacuum_enabled = off);
INSERT INTO hs_part SELECT i, hq_point(i % 40 + 1) FROM generate_series(1, 2000) i;
CREATE INDEX hs_part_idx ON hs_part USING milvus_hnsw (v floatvector_l2_ops);
BEGIN;
LOCK TABLE hs_part IN SHARE MODE;
INSERT INTO hs_part SELECT i, hq_point(i % 40 + 1) FROM generate_series(2001, 8000) i;
SET LOCAL maintenance_work_mem = '4MB';
SET LOCAL max_parallel_maintenance_workers = 0;
SET LOCAL log_min_duration_statement = -1;
SET LOCAL client_min_messages = debug1;
SELECT milvus.seal('hs_part_idx') AS sealed;
COMMIT;
SELECT growing_rows, sealed_rows FROM milvus.segments WHERE index_name = 'hs_part_idx'::regclass;
SELECT heap_tids FROM milvus_hnsw_stats('hs_part_idx');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hs_part_idx', true);
SELECT * FROM hq_quality('hs_part_idx', 0.95, 0.98);

-- a seal in little memory: past an eighth of maintenance_work_mem elements
-- keep no vectors and are measured on their pages (with those distances
-- wrong, ef10 fell to 0.87 here), past three eighths it remembers no more
-- lists; the graph it leaves is as good, and every row is in it once.
-- milvus.debug_check_seal_lists measures every remembered list it uses
-- afresh as well and raises an error if the two differ (a memory that swapped
-- two items of each list it kept failed here)
CREATE TABLE hs_small (id int PRIMARY KEY, label int, v floatvector(32)) WITH (autovacuum_enabled = off);
INSERT INTO hs_small SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(1, 2000) i;
CREATE INDEX hs_small_idx ON hs_small USING milvus_hnsw (v floatvector_l2_ops);
BEGIN;
LOCK TABLE hs_small IN SHARE MODE;
INSERT INTO hs_small SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(2001, 6000) i;
SET LOCAL maintenance_work_mem = '4MB';
SET LOCAL milvus.debug_check_seal_lists = on;
SELECT milvus.seal('hs_small_idx') AS sealed;
COMMIT;
SELECT heap_tids FROM milvus_hnsw_stats('hs_small_idx');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hs_small_idx', true);
SELECT * FROM hq_quality('hs_small_idx', 0.95, 0.98);

-- a seal of enough rows, by milvus.seal(), links them with parallel workers
-- (max_parallel_maintenance_workers): each participant claims pages from a
-- shared counter and inserts their rows as a serial seal does, and the
-- leader hands the pages linked to the free list; every row ends in the
-- graph once, nothing is left growing, and the graph is as good
CREATE TABLE hs_par (id int PRIMARY KEY, label int, v floatvector(32)) WITH (autovacuum_enabled = off);
INSERT INTO hs_par SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(1, 2000) i;
CREATE INDEX hs_par_idx ON hs_par USING milvus_hnsw (v floatvector_l2_ops);
BEGIN;
LOCK TABLE hs_par IN SHARE MODE;
INSERT INTO hs_par SELECT i, i % 40 + 1, hq_point(i % 40 + 1) FROM generate_series(2001, 8000) i;
SET LOCAL max_parallel_maintenance_workers = 1;
SET LOCAL milvus.hnsw_seal_in_memory = off;
SET LOCAL milvus.debug_check_seal_lists = on;
SET LOCAL log_min_duration_statement = -1;
SET LOCAL client_min_messages = debug1;
SELECT milvus.seal('hs_par_idx') AS sealed;
COMMIT;
SELECT growing_rows, sealed_rows FROM milvus.segments WHERE index_name = 'hs_par_idx'::regclass;
SELECT heap_tids FROM milvus_hnsw_stats('hs_par_idx');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hs_par_idx', true);
SELECT * FROM hq_quality('hs_par_idx', 0.95, 0.98);

DROP TABLE hs, hs_size, hs_empty, hs_wide, hs_small, hs_reuse, hs_reuse_size, hs_mem, hs_mem_size, hs_part, hs_par, hq_q, hq_centre;
DROP FUNCTION hq_quality, hq_point;

--
-- A new session's first insert into an index past block 1,024 (the first
-- size of the backend's map of recent buffers), whose tail page is full: the
-- map grows while the append reads the tail, and the append then moves to a
-- new tail.  Its hint must not be left in the map's old, freed memory (it
-- was: the freed block's allocator links were overwritten, and a later
-- allocation crashed the backend).  Vectors of 1,000 dimensions, two to a
-- growing page; an even number of rows fills the last one.
--
CREATE TABLE hs_big (id int, v floatvector(1000));
CREATE INDEX hs_big_idx ON hs_big USING milvus_hnsw (v floatvector_l2_ops);
INSERT INTO hs_big
    SELECT i, array_fill((i % 997)::real / 997, ARRAY[1000])::floatvector
    FROM generate_series(1, 2200) i;
SELECT pg_relation_size('hs_big_idx') / current_setting('block_size')::int > 1024 AS past_first_map;
\c
SET milvus.enable_hybrid_search = off;
INSERT INTO hs_big VALUES (0, array_fill(0.5::real, ARRAY[1000])::floatvector);
INSERT INTO hs_big VALUES (-1, array_fill(0.25::real, ARRAY[1000])::floatvector);
SELECT string_agg(repeat('x', 4000 + i), '') IS NOT NULL AS allocates
FROM generate_series(1, 200) i;
SELECT id FROM hs_big ORDER BY v <-> array_fill(0.5::real, ARRAY[1000])::floatvector, id LIMIT 3;
SELECT count(*) AS problems FROM milvus_hnsw_verify('hs_big_idx', false);
DROP TABLE hs_big;
