--
-- milvus_hnsw: the access method, its operator classes and options, and
-- results against exact search.  Results are compared with the exact answer
-- (equal distances, which ties cannot upset) at an ef_search that makes the
-- search exhaustive on these small tables, and never printed row by row
-- except on hand-made data; hnsw_quality tests recall at realistic settings.
-- Levels are seeded, so the graphs are the same on every run.
--
-- inserts link rows into the graph at once (the path seals take): see
-- hnsw_streaming for the growing segment
SET milvus.hnsw_growing_segment = off;
SET milvus.hnsw_level_seed = 1;

-- Fixed pseudo-random data: 400 rows of 16 dimensions in [-1, 1]
SELECT setseed(0.25);
CREATE TABLE hnsw_f (id int PRIMARY KEY, v floatvector(16));
INSERT INTO hnsw_f
SELECT i, ARRAY(SELECT (random() * 2 - 1)::float4 FROM generate_series(1, 16) WHERE i > 0)::floatvector
FROM generate_series(1, 400) i;
CREATE TABLE hnsw_q (qid int, q text);
INSERT INTO hnsw_q
SELECT i, ARRAY(SELECT (random() * 2 - 1)::float4 FROM generate_series(1, 16) WHERE i > 0)::floatvector::text
FROM generate_series(1, 5) i;

SET milvus.hnsw_ef_search = 1000;

--
-- The access method and its operator classes
--
SELECT amname, amtype FROM pg_am WHERE amname = 'milvus_hnsw';
SELECT opc.opcname, t.typname, amvalidate(opc.oid)
FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod JOIN pg_type t ON t.oid = opc.opcintype
WHERE am.amname = 'milvus_hnsw' ORDER BY 1;
-- an operator class missing its distance function, or with a search operator, fails validation
CREATE OPERATOR CLASS hnsw_bad_ops FOR TYPE floatvector USING milvus_hnsw AS
    OPERATOR 1 <-> (floatvector, floatvector) FOR ORDER BY float_ops;
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'hnsw_bad_ops';
DROP OPERATOR CLASS hnsw_bad_ops USING milvus_hnsw;
CREATE OPERATOR CLASS hnsw_bad_ops FOR TYPE floatvector USING milvus_hnsw AS
    OPERATOR 1 = (floatvector, floatvector),
    FUNCTION 1 l2_squared_distance(floatvector, floatvector);
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'hnsw_bad_ops';
DROP OPERATOR CLASS hnsw_bad_ops USING milvus_hnsw;

--
-- Hand-made data: the order is visible, NULL vectors are not indexed
--
CREATE TABLE hnsw_small (id int, v floatvector(3));
INSERT INTO hnsw_small VALUES (1, '[1,1,1]'), (2, '[2,2,2]'), (3, '[1,1,2]'), (4, NULL),
    (5, '[0,0,0]'), (6, '[-1,2,0.5]');
CREATE INDEX hnsw_small_l2 ON hnsw_small USING milvus_hnsw (v floatvector_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_small ORDER BY v <-> '[1,1,1]' LIMIT 3;
-- (ids 2 and 5 tie: the index may return them either way round)
SELECT id, d FROM (
    SELECT id, round((v <-> '[1,1,1]')::numeric, 4) AS d FROM hnsw_small ORDER BY v <-> '[1,1,1]' LIMIT 10) s
ORDER BY d, id;
-- a NULL query orders every row alike: any order, but all the indexed rows
-- and only those.  A NULL constant is folded away by the planner (a strict
-- operator), so the query comes as a parameter of a generic plan, which the
-- index scan receives.
SET plan_cache_mode = force_generic_plan;
PREPARE hnsw_null_query(floatvector) AS SELECT id FROM hnsw_small ORDER BY v <-> $1 LIMIT 10;
EXPLAIN (COSTS OFF) EXECUTE hnsw_null_query(NULL);
CREATE TEMP TABLE hnsw_null_rows AS EXECUTE hnsw_null_query(NULL);
SELECT array_agg(id ORDER BY id) AS indexed_rows FROM hnsw_null_rows;
DROP TABLE hnsw_null_rows;
DEALLOCATE hnsw_null_query;
RESET plan_cache_mode;
-- a query of the wrong dimension is the operator's own error
SELECT sqlstate_of($$SELECT id FROM hnsw_small ORDER BY v <-> '[1,1]' LIMIT 1$$);
-- the index only serves ORDER BY
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_small WHERE v = '[1,1,1]';
RESET enable_seqscan;
SELECT * FROM milvus_hnsw_verify('hnsw_small_l2');

--
-- Every operator class against exact search
--
CREATE INDEX hnsw_f_l2 ON hnsw_f USING milvus_hnsw (v floatvector_l2_ops);
SELECT qid, hnsw_vs_exact('hnsw_f', 'v', '<->', q, 10) FROM hnsw_q ORDER BY qid;
DROP INDEX hnsw_f_l2;
CREATE INDEX hnsw_f_ip ON hnsw_f USING milvus_hnsw (v floatvector_ip_ops);
SELECT qid, hnsw_vs_exact('hnsw_f', 'v', '<#>', q, 10) FROM hnsw_q ORDER BY qid;
DROP INDEX hnsw_f_ip;
CREATE INDEX hnsw_f_cos ON hnsw_f USING milvus_hnsw (v floatvector_cosine_ops);
SELECT qid, hnsw_vs_exact('hnsw_f', 'v', '<=>', q, 10) FROM hnsw_q ORDER BY qid;
SELECT * FROM milvus_hnsw_verify('hnsw_f_cos', reachability => true);
DROP INDEX hnsw_f_cos;

CREATE TABLE hnsw_h AS SELECT id, v::float16vector(16) AS v FROM hnsw_f;
CREATE INDEX hnsw_h_l2 ON hnsw_h USING milvus_hnsw (v float16vector_l2_ops);
CREATE INDEX hnsw_h_ip ON hnsw_h USING milvus_hnsw (v float16vector_ip_ops);
CREATE INDEX hnsw_h_cos ON hnsw_h USING milvus_hnsw (v float16vector_cosine_ops);
SELECT qid, hnsw_vs_exact('hnsw_h', 'v', '<->', q, 10) AS l2,
       hnsw_vs_exact('hnsw_h', 'v', '<#>', q, 10) AS ip,
       hnsw_vs_exact('hnsw_h', 'v', '<=>', q, 10) AS cosine
FROM (SELECT qid, q::floatvector::float16vector::text AS q FROM hnsw_q) s ORDER BY qid;
SELECT * FROM milvus_hnsw_verify('hnsw_h_l2', reachability => true);

CREATE TABLE hnsw_b AS SELECT id, binary_quantize(v)::binaryvector(16) AS v FROM hnsw_f;
CREATE INDEX hnsw_b_ham ON hnsw_b USING milvus_hnsw (v binaryvector_hamming_ops);
CREATE INDEX hnsw_b_jac ON hnsw_b USING milvus_hnsw (v binaryvector_jaccard_ops);
SELECT qid, hnsw_vs_exact('hnsw_b', 'v', '<~>', q, 10) AS hamming,
       hnsw_vs_exact('hnsw_b', 'v', '<%>', q, 10) AS jaccard
FROM (SELECT qid, binary_quantize(q::floatvector)::text AS q FROM hnsw_q) s ORDER BY qid;
-- 400 rows over 65,536 bit patterns: many share one, and one element holds
-- up to 10 heap TIDs; every row is still found
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM hnsw_b ORDER BY v <~> '0000000000000000' LIMIT 1000) s;
RESET enable_seqscan;
SELECT * FROM milvus_hnsw_verify('hnsw_b_ham', reachability => true);

--
-- Options
--
CREATE INDEX hnsw_f_opts ON hnsw_f USING milvus_hnsw (v floatvector_l2_ops)
    WITH (m = 4, ef_construction = 8);
SELECT reloptions FROM pg_class WHERE relname = 'hnsw_f_opts';
SELECT qid, hnsw_vs_exact('hnsw_f', 'v', '<->', q, 10) FROM hnsw_q ORDER BY qid;
SELECT * FROM milvus_hnsw_verify('hnsw_f_opts');
ALTER INDEX hnsw_f_opts SET (ef_construction = 100);
SELECT reloptions FROM pg_class WHERE relname = 'hnsw_f_opts';
DROP INDEX hnsw_f_opts;
CREATE INDEX hnsw_f_max ON hnsw_f USING milvus_hnsw (v floatvector_l2_ops)
    WITH (m = 100, ef_construction = 1000);
SELECT qid, hnsw_vs_exact('hnsw_f', 'v', '<->', q, 10) FROM hnsw_q WHERE qid = 1;
DROP INDEX hnsw_f_max;
SELECT opts, sqlstate_detail_of(format(
    'CREATE INDEX hnsw_f_bad ON hnsw_f USING milvus_hnsw (v floatvector_l2_ops) WITH (%s)', opts)) AS error
FROM (VALUES ('m = 1'), ('m = 101'), ('ef_construction = 3'), ('ef_construction = 1001'),
             ('m = 16, ef_construction = 31'), ('m = 2, ef_construction = 4'), ('m = x'),
             ('lists = 3')) o(opts);
SELECT sqlstate_detail_of('ALTER INDEX hnsw_small_l2 SET (ef_construction = 4)');

--
-- Errors
--
-- w, h and b are one past what an element tuple held inline before vectors
-- could go on in chunks; they index now (hnsw_large goes up to the types' limits)
CREATE TABLE hnsw_err (id int, v floatvector, w floatvector(2019), h float16vector(4037),
                       h2 float16vector(4036), b binaryvector(64584), b2 binaryvector(64576),
                       x floatvector(2018), s sparsevector(10));
SELECT col, sqlstate_detail_of(format('CREATE INDEX ON hnsw_err USING milvus_hnsw (%s)', col))
FROM (VALUES ('v floatvector_l2_ops'), ('w floatvector_l2_ops'), ('x floatvector_l2_ops'),
             ('h float16vector_l2_ops'), ('h2 float16vector_l2_ops'),
             ('b binaryvector_hamming_ops'), ('b2 binaryvector_hamming_ops'),
             ('x'), ('s'), ('id, x floatvector_l2_ops')) c(col);
SELECT sqlstate_detail_of('CREATE UNIQUE INDEX ON hnsw_err USING milvus_hnsw (x floatvector_l2_ops)');
-- the widest vector the page holds, inserted after the build
INSERT INTO hnsw_err (x) SELECT array_fill(i::float4, ARRAY[2018])::floatvector FROM generate_series(1, 3) i;
SET enable_seqscan = off;
SELECT vector_dims(x), (x::real[])[1] FROM hnsw_err ORDER BY x <-> array_fill(2.2::float4, ARRAY[2018])::floatvector LIMIT 2;
RESET enable_seqscan;
SELECT * FROM milvus_hnsw_verify('hnsw_err_x_idx');
SELECT sqlstate_of($$SELECT milvus_hnsw_verify('hnsw_f_pkey')$$);
SELECT sqlstate_of($$SELECT milvus_hnsw_verify('hnsw_f')$$);
DROP TABLE hnsw_err;

--
-- Inserts after the build, into an empty index and a built one; duplicates
--
CREATE TABLE hnsw_ins (id int, v floatvector(16));
CREATE INDEX hnsw_ins_idx ON hnsw_ins USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 8);
INSERT INTO hnsw_ins SELECT id, v FROM hnsw_f WHERE id <= 200;
SELECT * FROM milvus_hnsw_verify('hnsw_ins_idx');
SELECT qid, hnsw_vs_exact('hnsw_ins', 'v', '<->', q, 10) FROM hnsw_q ORDER BY qid;
INSERT INTO hnsw_ins SELECT id, v FROM hnsw_f WHERE id > 200;
INSERT INTO hnsw_ins SELECT 1000 + i, (SELECT v FROM hnsw_f WHERE id = 7) FROM generate_series(1, 25) i;
SELECT * FROM milvus_hnsw_verify('hnsw_ins_idx');
SELECT qid, hnsw_vs_exact('hnsw_ins', 'v', '<->', q, 40) FROM hnsw_q ORDER BY qid;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM hnsw_ins ORDER BY v <-> (SELECT v FROM hnsw_f WHERE id = 7)
                      LIMIT 26) s WHERE id = 7 OR id > 1000;
RESET enable_seqscan;

--
-- Filters: the scan goes past ef_search until LIMIT is met.  In 3 dimensions
-- a small graph search is exact, so the answers must equal the exact ones.
--
CREATE TABLE hnsw_p3 AS
SELECT i AS id, ARRAY[random(), random(), random()]::float4[]::floatvector(3) AS v
FROM generate_series(1, 1000) i;
CREATE INDEX hnsw_p3_idx ON hnsw_p3 USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 8);
SET milvus.hnsw_ef_search = 10;
SELECT q, hnsw_vs_exact('hnsw_p3', 'v', '<->', q, 10, 'id % 50 = 0') AS "2%",
       hnsw_vs_exact('hnsw_p3', 'v', '<->', q, 10, 'id % 7 = 0') AS "14%"
FROM (VALUES ('[0.5,0.5,0.5]'), ('[0.1,0.9,0.2]'), ('[1,0,0]'), ('[0.3,0.3,0.8]')) x(q);
SET enable_seqscan = off;
-- 20 rows pass: all of them come back, nearest first
SELECT count(*), bool_and(d >= prev) AS ordered FROM (
    SELECT d, lag(d, 1, '-Infinity') OVER () AS prev FROM (
        SELECT v <-> '[0.5,0.5,0.5]' AS d FROM hnsw_p3 WHERE id % 50 = 0
        ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 100) s) t;
-- the same in 16 dimensions, where the graph search is approximate
SELECT count(*), bool_and(d >= prev) AS ordered FROM (
    SELECT d, lag(d, 1, '-Infinity') OVER () AS prev FROM (
        SELECT v <-> (SELECT q FROM hnsw_q WHERE qid = 2)::floatvector AS d FROM hnsw_ins
        WHERE id % 7 = 0 ORDER BY v <-> (SELECT q FROM hnsw_q WHERE qid = 2)::floatvector LIMIT 50) s) t;
-- a filter nothing passes: the bound ends the walk, and says so; the exact
-- pass that finishes the scan finds nothing either
SET milvus.hnsw_max_scan_tuples = 50;
\set VERBOSITY terse
SELECT count(*) FROM (SELECT id FROM hnsw_p3 WHERE id < 0 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 10) s;
-- a bound far too small for the filter: the walk stops after 50 elements and
-- an exact pass over the index returns the rest, so all 20 rows that pass
-- come back, nearest first, and they are the exact answer
SELECT count(*), bool_and(d >= prev) AS ordered FROM (
    SELECT d, lag(d, 1, '-Infinity') OVER () AS prev FROM (
        SELECT v <-> '[0.5,0.5,0.5]' AS d FROM hnsw_p3 WHERE id % 50 = 0
        ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 100) s) t;
SELECT q, hnsw_vs_exact('hnsw_p3', 'v', '<->', q, 20, 'id % 50 = 0') AS "2%"
FROM (VALUES ('[0.1,0.9,0.2]'), ('[1,0,0]')) x(q);
\set VERBOSITY default
-- without the bound the whole graph is searched: no notice, no rows
RESET milvus.hnsw_max_scan_tuples;
SELECT count(*) FROM (SELECT id FROM hnsw_p3 WHERE id < 0 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 10) s;
-- an exact pass keeps at most work_mem of rows and reads the index again for
-- more: 12,000 rows through passes of 5,461 (64 kB), each row once, in order
CREATE TABLE hnsw_many AS
SELECT i AS id, ARRAY[random(), random(), random()]::float4[]::floatvector(3) AS v
FROM generate_series(1, 12000) i;
CREATE INDEX hnsw_many_idx ON hnsw_many USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 4);
SET work_mem = '64kB';
SET milvus.hnsw_max_scan_tuples = 50;
\set VERBOSITY terse
SELECT count(*), count(DISTINCT id), bool_and(d >= prev) AS ordered FROM (
    SELECT id, d, lag(d, 1, '-Infinity') OVER () AS prev FROM (
        SELECT id, v <-> '[0.2,0.4,0.6]' AS d FROM hnsw_many
        ORDER BY v <-> '[0.2,0.4,0.6]' LIMIT 20000) s) t;
\set VERBOSITY default
RESET milvus.hnsw_max_scan_tuples;
RESET work_mem;
DROP TABLE hnsw_many;
RESET enable_seqscan;
SET milvus.hnsw_ef_search = 1000;

--
-- Delete, VACUUM, and the graph still answers
--
DELETE FROM hnsw_ins WHERE id % 3 = 0 OR id BETWEEN 1000 AND 1020;
VACUUM hnsw_ins;
SELECT * FROM milvus_hnsw_verify('hnsw_ins_idx', reachability => true);
SELECT qid, hnsw_vs_exact('hnsw_ins', 'v', '<->', q, 10) FROM hnsw_q ORDER BY qid;
-- the index holds exactly the rows left
SELECT heap_tids, entry_level >= 0 AS has_entry, m, ef_construction, dimensions,
       elements >= heap_tids - 25 AND tombstones > 0 AS plausible
FROM milvus_hnsw_stats('hnsw_ins_idx');
SELECT sqlstate_of($$SELECT milvus_hnsw_stats('hnsw_f_pkey')$$);
-- every row is still reachable
SELECT count(*) FROM hnsw_ins;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM hnsw_ins ORDER BY v <-> (SELECT q FROM hnsw_q WHERE qid = 3)::floatvector LIMIT 100000) s;
RESET enable_seqscan;
-- delete everything, vacuum, insert again
DELETE FROM hnsw_ins;
VACUUM hnsw_ins;
SELECT * FROM milvus_hnsw_verify('hnsw_ins_idx', reachability => true);
INSERT INTO hnsw_ins SELECT id, v FROM hnsw_f WHERE id <= 50;
SELECT * FROM milvus_hnsw_verify('hnsw_ins_idx');
SELECT qid, hnsw_vs_exact('hnsw_ins', 'v', '<->', q, 10) FROM hnsw_q ORDER BY qid;

--
-- Unlogged tables: the init fork holds an empty graph
--
CREATE UNLOGGED TABLE hnsw_unlogged (id int, v floatvector(16));
CREATE INDEX hnsw_unlogged_idx ON hnsw_unlogged USING milvus_hnsw (v floatvector_l2_ops);
INSERT INTO hnsw_unlogged SELECT id, v FROM hnsw_f WHERE id <= 100;
SELECT qid, hnsw_vs_exact('hnsw_unlogged', 'v', '<->', q, 5) FROM hnsw_q WHERE qid <= 2 ORDER BY qid;
SELECT * FROM milvus_hnsw_verify('hnsw_unlogged_idx');

--
-- The planner: ORDER BY ... LIMIT uses the index on its own; with a filter
-- and a B-tree on its column, the hybrid search (its walk of the index for a
-- broad filter, an exact search of the few rows a narrow one leaves)
--
RESET milvus.hnsw_ef_search;
CREATE TABLE hnsw_plan (id int, label int, v floatvector(64));
INSERT INTO hnsw_plan
SELECT i, i % 1000, ARRAY(SELECT (random() * 2 - 1)::float4 FROM generate_series(1, 64) WHERE i > 0)::floatvector
FROM generate_series(1, 5000) i;
CREATE INDEX hnsw_plan_idx ON hnsw_plan USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 8, ef_construction = 32);
CREATE INDEX hnsw_plan_label ON hnsw_plan (label);
ANALYZE hnsw_plan;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_plan ORDER BY v <-> (SELECT v FROM hnsw_plan WHERE id = 1) LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_plan WHERE label < 500 ORDER BY v <-> (SELECT v FROM hnsw_plan WHERE id = 1) LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_plan WHERE label = 7 ORDER BY v <-> (SELECT v FROM hnsw_plan WHERE id = 1) LIMIT 10;
-- without LIMIT the index is not worth it
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_plan ORDER BY v <-> (SELECT v FROM hnsw_plan WHERE id = 1);

RESET milvus.hnsw_ef_search;
DROP TABLE hnsw_f, hnsw_q, hnsw_small, hnsw_h, hnsw_b, hnsw_ins, hnsw_p3, hnsw_unlogged, hnsw_plan;
