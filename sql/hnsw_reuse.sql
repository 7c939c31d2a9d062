--
-- milvus_hnsw space reuse: vacuum marks the elements of deleted rows free,
-- and inserts take their slots instead of growing the index.  Rounds of
-- delete half, VACUUM, insert as many: the index stays near its first size,
-- verifies clean, and answers as exact search does.
--
-- inserts link rows into the graph at once (the path seals take): see
-- hnsw_streaming for the growing segment
SET milvus.hnsw_growing_segment = off;
SET milvus.hnsw_level_seed = 2;
SELECT setseed(0.5);
CREATE TABLE hr (id int PRIMARY KEY, v floatvector(16));
INSERT INTO hr
SELECT i, ARRAY(SELECT (random() * 2 - 1)::float4 FROM generate_series(1, 16) WHERE i > 0)::floatvector
FROM generate_series(1, 1000) i;
CREATE INDEX hr_idx ON hr USING milvus_hnsw (v floatvector_l2_ops);
CREATE TABLE hr_q (qid int, q text);
INSERT INTO hr_q
SELECT i, ARRAY(SELECT (random() * 2 - 1)::float4 FROM generate_series(1, 16) WHERE i > 0)::floatvector::text
FROM generate_series(1, 3) i;
SET milvus.hnsw_ef_search = 1000;
CREATE TABLE hr_size (round int, bytes bigint);

-- a round: delete half the rows, VACUUM, insert as many new ones
CREATE PROCEDURE hr_delete(r int) LANGUAGE sql
AS $$ DELETE FROM hr WHERE (id + r) % 2 = 0 $$;
CREATE PROCEDURE hr_insert() LANGUAGE sql AS $$
    INSERT INTO hr
    SELECT (SELECT max(id) FROM hr) + i,
           ARRAY(SELECT (random() * 2 - 1)::float4 FROM generate_series(1, 16) WHERE i > 0)::floatvector
    FROM generate_series(1, 1000 - (SELECT count(*) FROM hr)) i
$$;

INSERT INTO hr_size VALUES (0, pg_relation_size('hr_idx'));
DELETE FROM hr WHERE id % 2 = 0;
VACUUM hr;
SELECT FROM milvus.compact_index('hr_idx');
-- vacuum freed the slots: every tombstone is a free slot
SELECT tombstones = 500 AS tombstones, free_slots = 500 AS all_free, reused
FROM milvus_hnsw_stats('hr_idx');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hr_idx', true);
INSERT INTO hr
SELECT 1000 + i, ARRAY(SELECT (random() * 2 - 1)::float4 FROM generate_series(1, 16) WHERE i > 0)::floatvector
FROM generate_series(1, 500) i;
-- most inserts took a free slot (a new element of a higher level than every
-- free slot left appends); the counts agree with the table
SELECT reused > 400 AS reused, tombstones = 500 - reused AS tombstones, free_slots = tombstones AS free,
       heap_tids = 1000 AS heap_tids, elements = heap_tids + tombstones AS elements
FROM milvus_hnsw_stats('hr_idx');
INSERT INTO hr_size VALUES (1, pg_relation_size('hr_idx'));
SELECT count(*) AS problems FROM milvus_hnsw_verify('hr_idx', true);
SELECT qid, hnsw_vs_exact('hr', 'v', '<->', q, 10) FROM hr_q ORDER BY qid;

CALL hr_delete(1);
VACUUM hr;
SELECT FROM milvus.compact_index('hr_idx');
CALL hr_insert();
CALL hr_delete(2);
VACUUM hr;
SELECT FROM milvus.compact_index('hr_idx');
CALL hr_insert();
CALL hr_delete(3);
VACUUM hr;
SELECT FROM milvus.compact_index('hr_idx');
CALL hr_insert();
CALL hr_delete(4);
VACUUM hr;
SELECT FROM milvus.compact_index('hr_idx');
CALL hr_insert();
INSERT INTO hr_size VALUES (5, pg_relation_size('hr_idx'));
-- four more rounds of half the rows each: the index grew by a few pages at
-- most (appends alone would have added about 4 x 500 elements, 2.5 times it)
SELECT (SELECT bytes FROM hr_size WHERE round = 5) <=
       (SELECT bytes FROM hr_size WHERE round = 1) * 1.2 AS size_bounded;
SELECT count(*) AS problems FROM milvus_hnsw_verify('hr_idx', true);
SELECT count(*) AS rows FROM hr;
SELECT heap_tids = 1000 AS heap_tids, elements = heap_tids + tombstones AS elements,
       reused > 2000 AS reused
FROM milvus_hnsw_stats('hr_idx');
SELECT qid, hnsw_vs_exact('hr', 'v', '<->', q, 10) FROM hr_q ORDER BY qid;
-- every row is found through the index
SET enable_seqscan = off;
SELECT count(*) AS found FROM hr a
WHERE a.id IN (SELECT b.id FROM hr b ORDER BY b.v <-> a.v LIMIT 1);
RESET enable_seqscan;

--
-- Levels: with m = 2 half the new elements draw a level above 0, and a free
-- slot only takes a level no higher than its own; a lower one shrinks its
-- neighbour tuple.  verify checks each neighbour tuple has exactly
-- (level + 2) * m slots and each link's target has the layer, so a slot
-- reused for a higher level, or left unshrunk, is reported.
--
CREATE TABLE hr2 (id int PRIMARY KEY, v floatvector(4));
INSERT INTO hr2
SELECT i, ARRAY(SELECT (random() * 2 - 1)::float4 FROM generate_series(1, 4) WHERE i > 0)::floatvector
FROM generate_series(1, 600) i;
CREATE INDEX hr2_idx ON hr2 USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 2);
DELETE FROM hr2 WHERE id % 3 <> 0;
VACUUM hr2;
SELECT FROM milvus.compact_index('hr2_idx');
INSERT INTO hr2
SELECT 600 + i, ARRAY(SELECT (random() * 2 - 1)::float4 FROM generate_series(1, 4) WHERE i > 0)::floatvector
FROM generate_series(1, 400) i;
SELECT reused > 100 AS reused, heap_tids = 600 AS heap_tids,
       elements = heap_tids + tombstones AS elements
FROM milvus_hnsw_stats('hr2_idx');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hr2_idx', true);
SELECT qid, hnsw_vs_exact('hr2', 'v', '<->', q, 10)
FROM (SELECT i AS qid, ARRAY(SELECT (random() * 2 - 1)::float4 FROM generate_series(1, 4) WHERE i > 0)::floatvector::text AS q
      FROM generate_series(1, 3) i) s ORDER BY qid;

DROP TABLE hr, hr_q, hr_size, hr2;
DROP PROCEDURE hr_delete(int), hr_insert();

-- The repair keeps layer 0 connected on clustered data: an element that
-- linked to a deleted one keeps its live neighbours, and only the tombstones'
-- slots are filled again.  Choosing the whole list again by the heuristic
-- among the nearest candidates dropped the few links between far-apart
-- clusters: here 1,000 and more live elements could no longer be reached from
-- the entry point at layer 0, and VACUUM's last pass could not link them back.
SELECT setseed(0.5);
CREATE TABLE hv_centre AS
    SELECT c, ARRAY(SELECT (random() * 4)::real FROM generate_series(1, 64) WHERE c > 0) AS x
    FROM generate_series(1, 20) c;
CREATE TABLE hv (id int PRIMARY KEY, v floatvector(64)) WITH (autovacuum_enabled = off);
INSERT INTO hv
    SELECT i, ARRAY(SELECT (x[d] + (random() - 0.5) * 0.5)::real FROM generate_series(1, 64) d WHERE i > 0)::floatvector
    FROM generate_series(1, 4000) i JOIN hv_centre ON c = 1 + i % 20;
SET max_parallel_maintenance_workers = 0;
CREATE INDEX hv_idx ON hv USING milvus_hnsw (v floatvector_l2_ops);
RESET max_parallel_maintenance_workers;
DELETE FROM hv WHERE (hashint4(id) & 1023) < 307;
VACUUM hv;
-- with a data coordinator, VACUUM leaves the repair to its compaction: now
SELECT FROM milvus.compact_index('hv_idx');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hv_idx', true);
SELECT heap_tids = (SELECT count(*) FROM hv) AS every_row FROM milvus_hnsw_stats('hv_idx');
DROP TABLE hv, hv_centre;

-- Free slots are few per page when the vectors are large: an element above
-- level 0 looks further past the hint for a slot of its level (about m times
-- rarer per level) before it appends.  Of 700 rows into 799 free slots, one
-- appends here (11 when every element looks 8 pages ahead only).
SET max_parallel_maintenance_workers = 0;
SET milvus.hnsw_level_seed = 7;
CREATE TABLE hw (id int PRIMARY KEY, v floatvector(128)) WITH (autovacuum_enabled = off);
INSERT INTO hw SELECT i, ARRAY(SELECT (hashint4(i * 128 + d) & 1023) / 1024.0
                               FROM generate_series(1, 128) d)::real[]::floatvector
  FROM generate_series(1, 4000) i;
CREATE INDEX hw_v ON hw USING milvus_hnsw (v floatvector_l2_ops);
DELETE FROM hw WHERE hashint4(id) % 5 = 0;
VACUUM hw;
SELECT FROM milvus.compact_index('hw_v');
SELECT elements AS before, free_slots >= 700 AS enough_free FROM milvus_hnsw_stats('hw_v') \gset
SELECT :'enough_free' AS enough_free;
INSERT INTO hw SELECT i, ARRAY(SELECT (hashint4(i * 128 + d) & 1023) / 1024.0
                               FROM generate_series(1, 128) d)::real[]::floatvector
  FROM generate_series(4001, 4700) i;
SELECT elements - :before <= 3 AS few_appended FROM milvus_hnsw_stats('hw_v');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hw_v', true);
RESET milvus.hnsw_level_seed;
RESET max_parallel_maintenance_workers;
DROP TABLE hw;
