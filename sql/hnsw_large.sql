--
-- milvus_hnsw over vectors larger than an index page, up to each type's
-- limit: an element keeps what fits of its vector and the rest goes on in
-- chunk tuples on the following pages.  Each table is built, inserted into
-- after the build, vacuumed, verified, and its top k compared with the exact
-- answer (as distances, which ties cannot upset) at an ef_search that makes
-- the search exhaustive.
--

-- The vector of row id of table tab, as text: the query of hnsw_vs_exact
CREATE FUNCTION row_vector(tab text, id int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    EXECUTE format('SELECT v::text FROM %I WHERE id = %s', tab, id) INTO v;
    RETURN v;
END
$$;

SET milvus.hnsw_ef_search = 1000;
SET milvus.hnsw_level_seed = 3;
-- filtered queries here test the index scan itself, not the hybrid search
SET milvus.enable_hybrid_search = off;

--
-- floatvector(4096): two pages a vector
--
CREATE TABLE hl_f4k (id int PRIMARY KEY, v floatvector(4096));
INSERT INTO hl_f4k SELECT i, test_ints(4096, i / 1000.0)::floatvector FROM generate_series(1, 300) i;
CREATE INDEX hl_f4k_idx ON hl_f4k USING milvus_hnsw (v floatvector_l2_ops);
INSERT INTO hl_f4k SELECT i, test_ints(4096, i / 1000.0)::floatvector FROM generate_series(301, 340) i;
-- a duplicate joins the element of its equal vector, read back from its chunks
INSERT INTO hl_f4k SELECT 1000 + id, v FROM hl_f4k WHERE id IN (7, 310);
SELECT * FROM milvus_hnsw_verify('hl_f4k_idx', true);
SELECT qid, hnsw_vs_exact('hl_f4k', 'v', '<->', row_vector('hl_f4k', qid), 10) FROM (VALUES (3), (150), (320)) q(qid);
DELETE FROM hl_f4k WHERE id % 4 = 0;
VACUUM hl_f4k;
SELECT * FROM milvus_hnsw_verify('hl_f4k_idx', true);
SELECT qid, hnsw_vs_exact('hl_f4k', 'v', '<->', row_vector('hl_f4k', qid), 10) FROM (VALUES (3), (150), (321)) q(qid);
SELECT elements, tombstones, heap_tids, dimensions FROM milvus_hnsw_stats('hl_f4k_idx');
-- cosine over the same rows, built after the deletes
CREATE INDEX hl_f4k_cos ON hl_f4k USING milvus_hnsw (v floatvector_cosine_ops);
SELECT * FROM milvus_hnsw_verify('hl_f4k_cos', true);
SELECT qid, hnsw_vs_exact('hl_f4k', 'v', '<=>', row_vector('hl_f4k', qid), 10) FROM (VALUES (5), (222)) q(qid);
DROP INDEX hl_f4k_cos;

-- a build that outgrows maintenance_work_mem goes on inserting on disk, chunks and all
SET maintenance_work_mem = '1MB';
SET client_min_messages = warning;
CREATE INDEX hl_f4k_spill ON hl_f4k USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 8);
RESET client_min_messages;
RESET maintenance_work_mem;
SELECT * FROM milvus_hnsw_verify('hl_f4k_spill', true);
SELECT qid, hnsw_vs_exact('hl_f4k', 'v', '<->', row_vector('hl_f4k', qid), 10) FROM (VALUES (9), (333)) q(qid);
DROP INDEX hl_f4k_spill;

--
-- 784 dimensions, as Fashion-MNIST: three elements do not fit a page, so the
-- build splits some vectors to keep the index within 1.2 times the vectors
--
CREATE TABLE hl_784 (id int PRIMARY KEY, v floatvector(784));
INSERT INTO hl_784 SELECT i, test_ints(784, i / 1000.0)::floatvector FROM generate_series(1, 600) i;
CREATE INDEX hl_784_idx ON hl_784 USING milvus_hnsw (v floatvector_l2_ops);
SELECT pg_relation_size('hl_784_idx') <= 1.2 * 600 * 784 * 4 AS packed;
SELECT * FROM milvus_hnsw_verify('hl_784_idx', true);
SELECT qid, hnsw_vs_exact('hl_784', 'v', '<->', row_vector('hl_784', qid), 10) FROM (VALUES (4), (444)) q(qid);
-- the exact pass that ends a bounded filtered scan reads whole and split
-- vectors alike: rows far from the query, past a bound of 20 elements
-- (the NOTICE shows the pass ran; its DETAIL counts elements, which differ
-- with the CPU's float rounding, so it is left out)
SET milvus.hnsw_ef_search = 10;
SET milvus.hnsw_max_scan_tuples = 20;
\set VERBOSITY terse
SELECT qid, hnsw_vs_exact('hl_784', 'v', '<->', row_vector('hl_784', qid), 10, 'id > 590') FROM (VALUES (4), (444)) q(qid);
\set VERBOSITY default
RESET milvus.hnsw_max_scan_tuples;
SET milvus.hnsw_ef_search = 1000;
DROP TABLE hl_784;

--
-- floatvector(32768), the type's limit: 17 pages a vector
--
CREATE TABLE hl_f32k (id int PRIMARY KEY, v floatvector(32768));
INSERT INTO hl_f32k SELECT i, test_ints(32768, i / 1000.0)::floatvector FROM generate_series(1, 120) i;
CREATE INDEX hl_f32k_idx ON hl_f32k USING milvus_hnsw (v floatvector_ip_ops) WITH (m = 8, ef_construction = 32);
INSERT INTO hl_f32k SELECT i, test_ints(32768, i / 1000.0)::floatvector FROM generate_series(121, 140) i;
DELETE FROM hl_f32k WHERE id % 3 = 0;
VACUUM hl_f32k;
SELECT * FROM milvus_hnsw_verify('hl_f32k_idx', true);
SELECT qid, hnsw_vs_exact('hl_f32k', 'v', '<#>', row_vector('hl_f32k', qid), 10) FROM (VALUES (1), (130)) q(qid);
SELECT elements, tombstones, heap_tids, dimensions FROM milvus_hnsw_stats('hl_f32k_idx');

--
-- float16vector(32768): 9 pages a vector
--
CREATE TABLE hl_h32k (id int PRIMARY KEY, v float16vector(32768));
INSERT INTO hl_h32k SELECT i, test_halves(32768, i / 1000.0)::float16vector FROM generate_series(1, 120) i;
CREATE INDEX hl_h32k_idx ON hl_h32k USING milvus_hnsw (v float16vector_l2_ops) WITH (m = 8, ef_construction = 32);
-- this time the inserts come after the vacuum, next to tombstones
DELETE FROM hl_h32k WHERE id % 3 = 1;
VACUUM hl_h32k;
INSERT INTO hl_h32k SELECT i, test_halves(32768, i / 1000.0)::float16vector FROM generate_series(121, 140) i;
SELECT * FROM milvus_hnsw_verify('hl_h32k_idx', true);
SELECT qid, hnsw_vs_exact('hl_h32k', 'v', '<->', row_vector('hl_h32k', qid), 10) FROM (VALUES (2), (135)) q(qid);

--
-- binaryvector(262144), the type's limit: 5 pages a vector
--
CREATE TABLE hl_b (id int PRIMARY KEY, v binaryvector(262144));
INSERT INTO hl_b SELECT i, test_bits(262144, i / 1000.0)::binaryvector FROM generate_series(1, 60) i;
CREATE INDEX hl_b_ham ON hl_b USING milvus_hnsw (v binaryvector_hamming_ops) WITH (m = 8, ef_construction = 32);
CREATE INDEX hl_b_jac ON hl_b USING milvus_hnsw (v binaryvector_jaccard_ops) WITH (m = 8, ef_construction = 32);
INSERT INTO hl_b SELECT i, test_bits(262144, i / 1000.0)::binaryvector FROM generate_series(61, 75) i;
DELETE FROM hl_b WHERE id % 5 = 0;
VACUUM hl_b;
SELECT * FROM milvus_hnsw_verify('hl_b_ham', true);
SELECT * FROM milvus_hnsw_verify('hl_b_jac', true);
SELECT qid, hnsw_vs_exact('hl_b', 'v', '<~>', row_vector('hl_b', qid), 5), hnsw_vs_exact('hl_b', 'v', '<%>', row_vector('hl_b', qid), 5)
FROM (VALUES (1), (71)) q(qid);

--
-- Past the types' limits the types themselves refuse, before any index
--
SELECT sqlstate_of('CREATE TABLE hl_bad (v floatvector(32769))');
SELECT sqlstate_of('CREATE TABLE hl_bad (v float16vector(32769))');
SELECT sqlstate_of('CREATE TABLE hl_bad (v binaryvector(262152))');
-- a column without a dimension still cannot be indexed
CREATE TABLE hl_nodim (v floatvector);
SELECT sqlstate_of('CREATE INDEX ON hl_nodim USING milvus_hnsw (v floatvector_l2_ops)');

DROP TABLE hl_f4k, hl_f32k, hl_h32k, hl_b, hl_nodim;
DROP FUNCTION row_vector;
