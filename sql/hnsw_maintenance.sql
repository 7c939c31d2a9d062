--
-- milvus_hnsw maintenance and settings: REINDEX (where a new m takes effect),
-- TRUNCATE, the scan settings' scoping, ranges and privileges, and the NOTICE
-- of a scan that skips rows found after farther ones.  Vectors of small
-- integers make every distance exact, so the graphs (levels seeded) are the
-- same on every CPU and the counts below are stable.
--
-- inserts link rows into the graph at once (the path seals take): see
-- hnsw_streaming for the growing segment
SET milvus.hnsw_growing_segment = off;
SET milvus.hnsw_level_seed = 5;
CREATE TABLE hm (id int PRIMARY KEY, v floatvector(8));
INSERT INTO hm SELECT i, test_ints(8, i / 10000.0)::floatvector FROM generate_series(1, 2000) i;
CREATE INDEX hm_idx ON hm USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 8);
SELECT m, elements, heap_tids FROM milvus_hnsw_stats('hm_idx');

--
-- REINDEX
--
-- a new m is stored at once and used by the next build
ALTER INDEX hm_idx SET (m = 12);
SELECT m FROM milvus_hnsw_stats('hm_idx');
REINDEX INDEX hm_idx;
SELECT m, elements, heap_tids FROM milvus_hnsw_stats('hm_idx');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hm_idx', true);
-- a range error in ALTER INDEX leaves the index alone
SELECT sqlstate_of('ALTER INDEX hm_idx SET (m = 1)');
SELECT sqlstate_of('ALTER INDEX hm_idx SET (ef_construction = 10)');
-- REINDEX after deletes leaves no tombstones and only the live rows
DELETE FROM hm WHERE id % 4 = 0;
REINDEX TABLE hm;
SELECT elements, tombstones, heap_tids FROM milvus_hnsw_stats('hm_idx');
REINDEX INDEX CONCURRENTLY hm_idx;
SELECT elements, tombstones, heap_tids FROM milvus_hnsw_stats('hm_idx');
SET milvus.hnsw_ef_search = 1000;
SELECT hnsw_vs_exact('hm', 'v', '<->', test_ints(8, 0.3)::floatvector::text, 10);

--
-- TRUNCATE
--
-- rolled back, the index still holds every row
BEGIN;
TRUNCATE hm;
ROLLBACK;
SELECT heap_tids FROM milvus_hnsw_stats('hm_idx');
SELECT hnsw_vs_exact('hm', 'v', '<->', test_ints(8, 0.3)::floatvector::text, 10);
-- committed, the index is empty, then takes inserts as a new graph
TRUNCATE hm;
SELECT pages, elements, heap_tids, entry_level, m FROM milvus_hnsw_stats('hm_idx');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hm_idx', true);
INSERT INTO hm SELECT i, test_ints(8, i / 10000.0)::floatvector FROM generate_series(1, 300) i;
SELECT elements, heap_tids FROM milvus_hnsw_stats('hm_idx');
SELECT hnsw_vs_exact('hm', 'v', '<->', test_ints(8, 0.3)::floatvector::text, 10);
RESET milvus.hnsw_ef_search;

--
-- Settings: SET LOCAL lasts to the end of the transaction, and the scan
-- uses it (a bound of one element makes the scan finish with its exact pass)
--
SHOW milvus.hnsw_ef_search;
SHOW milvus.hnsw_max_scan_tuples;
BEGIN;
SET LOCAL milvus.hnsw_ef_search = 7;
SET LOCAL milvus.hnsw_max_scan_tuples = 1;
SHOW milvus.hnsw_ef_search;
SHOW milvus.hnsw_max_scan_tuples;
SELECT hnsw_vs_exact('hm', 'v', '<->', test_ints(8, 0.3)::floatvector::text, 10, 'id % 7 = 0');
COMMIT;
SHOW milvus.hnsw_ef_search;
SHOW milvus.hnsw_max_scan_tuples;
-- no NOTICE now: the default bound is not reached
SELECT hnsw_vs_exact('hm', 'v', '<->', test_ints(8, 0.3)::floatvector::text, 10, 'id % 7 = 0');
-- a rolled-back SET goes too
BEGIN;
SET milvus.hnsw_ef_search = 99;
ROLLBACK;
SHOW milvus.hnsw_ef_search;

-- out of range or not a number
SELECT sqlstate_of('SET milvus.hnsw_ef_search = 0'), sqlstate_of('SET milvus.hnsw_ef_search = 1001'),
       sqlstate_of('SET milvus.hnsw_ef_search = ''many''');
SELECT sqlstate_of('SET milvus.hnsw_max_scan_tuples = 0'), sqlstate_of('SET milvus.hnsw_max_scan_tuples = -5');
SELECT sqlstate_of('SET milvus.hnsw_level_seed = -2');
SELECT sqlstate_of('SET milvus.hnsw_ef_search = 1'), sqlstate_of('SET milvus.hnsw_ef_search = 1000');
RESET milvus.hnsw_ef_search;
-- the scan settings are anyone's; the level seed is for superusers (tests)
CREATE ROLE hm_user;
GRANT SELECT ON hm TO hm_user;
SET ROLE hm_user;
SELECT sqlstate_of('SET milvus.hnsw_ef_search = 50'), sqlstate_of('SET milvus.hnsw_max_scan_tuples = 50');
SELECT sqlstate_of('SET milvus.hnsw_level_seed = 1');
RESET ROLE;
DROP OWNED BY hm_user;
DROP ROLE hm_user;

--
-- A scan skips rows it finds after farther ones (returning them would break
-- the ORDER BY), says so in a NOTICE, and may then return fewer rows than
-- asked: here a poor graph (m = 2) over 3,000 random rows, searched at
-- ef_search 1 and asked for every row.  (The NOTICE counts the rows, which depend on the
-- CPU's float rounding: TAP test 014 checks its text.)
--
CREATE TABLE hm_poor (id int PRIMARY KEY, v floatvector(16));
INSERT INTO hm_poor SELECT i, test_reals(16, i / 10000.0)::floatvector FROM generate_series(1, 3000) i;
CREATE INDEX hm_poor_idx ON hm_poor USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 2, ef_construction = 4);
SELECT test_reals(16, 0.5)::floatvector::text AS hm_q \gset
SET milvus.hnsw_ef_search = 1;
SET enable_seqscan = off;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT id FROM hm_poor ORDER BY v <-> :'hm_q' LIMIT 3000;
SET client_min_messages = warning;
SELECT count(*) < 3000 AS short FROM (SELECT id FROM hm_poor ORDER BY v <-> :'hm_q' LIMIT 3000) s;
-- the rows it returns come in distance order
SELECT bool_and(d >= prev) AS ordered FROM (
    SELECT d, lag(d, 1, 0::float8) OVER () AS prev FROM (
        SELECT v <-> :'hm_q' AS d FROM hm_poor ORDER BY v <-> :'hm_q' LIMIT 3000) s) x;
-- a graph of the default m returns every row at the default ef_search
RESET milvus.hnsw_ef_search;
CREATE INDEX hm_good_idx ON hm_poor USING milvus_hnsw (v floatvector_l2_ops);
DROP INDEX hm_poor_idx;
SELECT count(*) FROM (SELECT id FROM hm_poor ORDER BY v <-> :'hm_q' LIMIT 3000) s;
RESET client_min_messages;
RESET milvus.hnsw_ef_search;
RESET enable_seqscan;
RESET enable_sort;
DROP TABLE hm_poor;

--
-- A repair (here a compaction with nothing dead) gives every element that
-- fewer than m live lists lead to links from its nearest neighbours, and a
-- second repair finds fewer left to give (DEBUG1 counts them).  m = 4 prunes
-- hardest, so a build leaves some.
--
CREATE TABLE hm_thin (id int PRIMARY KEY, v floatvector(8));
INSERT INTO hm_thin SELECT i, test_ints(8, i / 10000.0 + 0.5)::floatvector FROM generate_series(1, 2000) i;
CREATE INDEX hm_thin_idx ON hm_thin USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 4);
SET client_min_messages = debug1;
SELECT milvus.compact_index('hm_thin_idx');
SELECT milvus.compact_index('hm_thin_idx');
RESET client_min_messages;
SELECT count(*) AS problems FROM milvus_hnsw_verify('hm_thin_idx', true);
DROP TABLE hm_thin;

DROP TABLE hm;
