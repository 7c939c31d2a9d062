--
-- milvus_hnsw growing-segment sketch (hnswsketch.c): a scan ranks the
-- growing rows by a 1-bit sketch kept in the backend and measures exactly
-- only milvus.hnsw_growing_rerank x milvus.hnsw_ef_search of them, reading
-- the rest when it hands out rows beyond the nearer half of those.  Each
-- figure is compared with the same scan measuring every growing row
-- (milvus.hnsw_growing_rerank = 0).  Clustered 512-d data whose rows vary
-- within a cluster along 6 dimensions mostly (as embeddings vary along few
-- directions), in 8 clusters: a sketch around one global mean would rank such rows little
-- better than by cluster.  Last, 96-d rows nearly equidistant from every
-- query, which no sketch can rank.
--
SET milvus.hnsw_level_seed = 5;
SET milvus.enable_hybrid_search = off;
SELECT setseed(0.5);
CREATE TABLE sk_centre AS
    SELECT c, ARRAY(SELECT (random() * 20 - 10)::real FROM generate_series(1, 512)) AS x
    FROM generate_series(1, 24) c;
CREATE FUNCTION sk_point(c int) RETURNS floatvector
LANGUAGE sql AS $$
    SELECT ARRAY(SELECT x[j] + ((random() * 2 - 1) * CASE WHEN j <= 6 THEN 3 ELSE 0.02 END)::real
                 FROM generate_series(1, 512) j)::floatvector
    FROM sk_centre WHERE sk_centre.c = sk_point.c
$$;
CREATE TABLE sk (id int PRIMARY KEY, v floatvector(512)) WITH (autovacuum_enabled = off);
INSERT INTO sk SELECT i, sk_point(i % 8 + 1) FROM generate_series(1, 600) i;
CREATE INDEX sk_l2 ON sk USING milvus_hnsw (v floatvector_l2_ops);
CREATE INDEX sk_ip ON sk USING milvus_hnsw (v floatvector_ip_ops);
CREATE INDEX sk_cos ON sk USING milvus_hnsw (v floatvector_cosine_ops);
CREATE TABLE sk_q AS SELECT q, sk_point(q % 8 + 1)::text AS v FROM generate_series(1, 40) q;

-- 3,000 rows growing (a SHARE lock keeps any data coordinator from sealing)
BEGIN;
LOCK TABLE sk IN SHARE MODE;
INSERT INTO sk SELECT i, sk_point(i % 8 + 1) FROM generate_series(601, 3600) i;
SELECT index_name, growing_rows FROM milvus.segments WHERE table_name = 'sk'::regclass ORDER BY 1;

-- the sketch is taken once and used by every search (a row's own vector as
-- the query, so that the sketch surely vouches for the nearest row)
SET LOCAL milvus.hnsw_ef_search = 1;
SET LOCAL milvus.hnsw_growing_rerank = 100;
SET LOCAL client_min_messages = debug2;
SELECT id FROM sk ORDER BY v <-> (SELECT v FROM sk WHERE id = 1000) LIMIT 1;
SELECT id FROM sk ORDER BY v <-> (SELECT v FROM sk WHERE id = 2000) LIMIT 1;
-- ANALYZE updates the index's pg_class row, a relcache invalidation: the
-- sketch is kept (no "sketched" line)
SET LOCAL client_min_messages = warning;
ANALYZE sk;
SET LOCAL client_min_messages = debug2;
SELECT id FROM sk ORDER BY v <-> (SELECT v FROM sk WHERE id = 3000) LIMIT 1;
RESET client_min_messages;
SET LOCAL milvus.hnsw_growing_rerank = 8;
SET LOCAL milvus.hnsw_ef_search = 10;

-- recall@10 with the sketch against measuring every growing row, for each
-- metric: the same within 0.02, and above a floor
CREATE TEMP TABLE sk_recall (idx text, sketch numeric, exact numeric);
INSERT INTO sk_recall
SELECT idx, hnsw_recall(idx::regclass, 'SELECT v FROM sk_q ORDER BY q', 10), NULL
FROM unnest(ARRAY['sk_l2', 'sk_ip', 'sk_cos']) idx;
SET LOCAL milvus.hnsw_growing_rerank = 0;
UPDATE sk_recall SET exact = hnsw_recall(idx::regclass, 'SELECT v FROM sk_q ORDER BY q', 10);
SET LOCAL milvus.hnsw_growing_rerank = 8;
SELECT idx, at_least(sketch, exact - 0.02) AS against_exact, at_least(sketch, 0.9) AS floor
FROM sk_recall ORDER BY idx;

-- the sketch measures its picks nearest lower bound first and stops once a
-- quarter of ef_search of the rows measured are nearer than the next lower
-- bound (the scan measures more as it gets to them), so a
-- search it ranks measures as many rows under the default cap (80) as under
-- a cap of 1,000, where measuring every pick would measure more under the
-- larger cap whenever more than 80 rows may be among the nearest.  And these
-- clustered rows, which differ by much less than the query's range, take
-- the query at 8 bits (at 6, with the default cap, the sketch could rank 2
-- of the 40 queries' rows and measured all 3,000 for the rest).  The same
-- rows, all growing, in an index whose graph is empty: a hybrid scan held to
-- the graph strategy counts the distances it measured, of the growing rows.
CREATE TABLE sk_g (id int PRIMARY KEY, v floatvector(512));
CREATE INDEX sk_g_l2 ON sk_g USING milvus_hnsw (v floatvector_l2_ops);
INSERT INTO sk_g SELECT id, v FROM sk WHERE id > 600;
CREATE FUNCTION sk_measured(q int, rerank int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    PERFORM set_config('milvus.hnsw_growing_rerank', rerank::text, true);
    EXECUTE format('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) '
                   'SELECT id FROM sk_g WHERE id > 0 ORDER BY v <-> %L::floatvector LIMIT 10',
                   (SELECT v FROM sk_q WHERE sk_q.q = sk_measured.q)) INTO plan;
    RETURN jsonb_path_query_first(plan::jsonb, 'strict $.**."Distances"')::bigint;
END $$;
SET LOCAL milvus.enable_hybrid_search = on;
SET LOCAL milvus.hybrid_strategy = graph;
SELECT count(*) AS queries, count(*) FILTER (WHERE m8 < 3000 AND m8 <> m100) AS differ,
       at_least(count(*) FILTER (WHERE m8 < 3000), 20) AS ranked
FROM (SELECT sk_measured(q, 8) AS m8, sk_measured(q, 100) AS m100 FROM sk_q) s;
SET LOCAL milvus.enable_hybrid_search = off;
SET LOCAL milvus.hybrid_strategy = auto;
-- a scan that hands out many more rows than ef_search measures the rows the
-- sketch picked and left as it gets to them, then asks it for four times as
-- many nearest, then measures the whole segment: the same answers, in the
-- same order, as measuring every growing row
SET LOCAL milvus.hnsw_growing_rerank = 8;
CREATE TEMP TABLE sk_g200 AS
SELECT q, ARRAY(SELECT id FROM sk_g ORDER BY v <-> sk_q.v::floatvector LIMIT 200) AS ids FROM sk_q;
SET LOCAL milvus.hnsw_growing_rerank = 0;
SELECT count(*) AS queries, count(*) FILTER (WHERE ids IS DISTINCT FROM
       ARRAY(SELECT id FROM sk_g ORDER BY v <-> (SELECT v::floatvector FROM sk_q WHERE sk_q.q = sk_g200.q) LIMIT 200)) AS differ
FROM sk_g200;
SET LOCAL milvus.hnsw_growing_rerank = 8;

-- a growing row's own vector finds it first
SELECT count(*) AS found_first FROM generate_series(601, 3600, 97) i
WHERE (SELECT id FROM sk ORDER BY v <-> (SELECT v FROM sk WHERE id = i) LIMIT 1) = i;

-- a WHERE clause the sketch's rows do not satisfy: the scan goes on past
-- them and measures the rest, and finds what exact search finds
SELECT at_least(hnsw_recall('sk_l2', 'SELECT v FROM sk_q ORDER BY q', 10, 'id % 10 = 3'), 0.95) AS ten_percent,
       at_least(hnsw_recall('sk_l2', 'SELECT v FROM sk_q ORDER BY q', 10, 'id > 600'), 0.95) AS growing_only;

-- a scan that reads every row: each once, nearest first; the rows the
-- sketch ranked too far to come back in order are few (NOTICE hidden: its
-- count varies)
SET LOCAL client_min_messages = warning;
SELECT count(*) = count(DISTINCT id) AS once,
       bool_and(d >= prev) AS in_order,
       at_least(count(*), 3600 - 80) AS nearly_all
FROM (SELECT id, d, lag(d, 1, '-Infinity') OVER (ORDER BY n) AS prev
      FROM (SELECT id, v <-> (SELECT v::floatvector FROM sk_q WHERE q = 5) AS d,
                   row_number() OVER () AS n
            FROM (SELECT id, v FROM sk ORDER BY v <-> (SELECT v::floatvector FROM sk_q WHERE q = 5) LIMIT 5000) o) r) s;
RESET client_min_messages;

-- deleted rows do not come back
DELETE FROM sk WHERE id > 600 AND id % 3 = 0;
SELECT count(*) AS deleted_returned
FROM (SELECT id FROM sk ORDER BY v <-> (SELECT v::floatvector FROM sk_q WHERE q = 7) LIMIT 100) s
WHERE id > 600 AND id % 3 = 0;

-- a sketch larger than work_mem is not kept: every growing row is measured,
-- as with milvus.hnsw_growing_rerank = 0
SET LOCAL work_mem = 64;
SET LOCAL client_min_messages = debug2;
SELECT count(*) FROM (SELECT id FROM sk ORDER BY v <-> (SELECT v::floatvector FROM sk_q WHERE q = 1) LIMIT 10) s;
RESET client_min_messages;
CREATE TEMP TABLE sk_small AS
SELECT q, ARRAY(SELECT id FROM sk ORDER BY v <-> sk_q.v::floatvector LIMIT 10) AS ids FROM sk_q;
SET LOCAL milvus.hnsw_growing_rerank = 0;
SELECT count(*) AS differ FROM sk_small
WHERE ids IS DISTINCT FROM ARRAY(SELECT id FROM sk ORDER BY v <-> (SELECT v::floatvector FROM sk_q WHERE sk_q.q = sk_small.q) LIMIT 10);
COMMIT;

-- a seal empties the growing pages: the sketch of this backend starts again
-- on the rows inserted after it, and finds them
VACUUM sk;
BEGIN;
LOCK TABLE sk IN SHARE MODE;
INSERT INTO sk SELECT i, sk_point(i % 8 + 1) FROM generate_series(3601, 5600) i;
SET LOCAL milvus.hnsw_ef_search = 10;
SET LOCAL client_min_messages = debug1;
SELECT count(*) AS found_first FROM generate_series(3601, 5600, 97) i
WHERE (SELECT id FROM sk ORDER BY v <-> (SELECT v FROM sk WHERE id = i) LIMIT 1) = i;
RESET client_min_messages;
COMMIT;

-- float16 vectors
CREATE TABLE sk16 (id int PRIMARY KEY, v float16vector(512)) WITH (autovacuum_enabled = off);
INSERT INTO sk16 SELECT id, v::float16vector FROM sk WHERE id <= 600;
CREATE INDEX sk16_l2 ON sk16 USING milvus_hnsw (v float16vector_l2_ops);
BEGIN;
LOCK TABLE sk16 IN SHARE MODE;
INSERT INTO sk16 SELECT id, v::float16vector FROM sk WHERE id > 600;
CREATE TEMP TABLE sk16_q AS SELECT q, v::floatvector::float16vector::text AS v FROM sk_q;
SET LOCAL milvus.hnsw_ef_search = 10;
CREATE TEMP TABLE sk16_recall AS
SELECT hnsw_recall('sk16_l2', 'SELECT v FROM sk16_q ORDER BY q', 10) AS sketch;
SET LOCAL milvus.hnsw_growing_rerank = 0;
SELECT at_least(sketch, hnsw_recall('sk16_l2', 'SELECT v FROM sk16_q ORDER BY q', 10) - 0.02) AS against_exact,
       at_least(sketch, 0.9) AS floor
FROM sk16_recall;
COMMIT;

-- rows nearly equidistant from every query (uniform offsets in all 96
-- dimensions around few centres): the sketch cannot rule most of them out,
-- so a search measures every growing row at once, as without it
CREATE TABLE sk_flat (id int PRIMARY KEY, v floatvector(96)) WITH (autovacuum_enabled = off);
INSERT INTO sk_flat SELECT i, ARRAY(SELECT x[j] + (random() * 2 - 1)::real FROM generate_series(1, 96) j)::floatvector
FROM generate_series(1, 3000) i JOIN sk_centre ON c = i % 3 + 1;
DELETE FROM sk_flat WHERE id > 600;
CREATE INDEX sk_flat_l2 ON sk_flat USING milvus_hnsw (v floatvector_l2_ops);
BEGIN;
LOCK TABLE sk_flat IN SHARE MODE;
INSERT INTO sk_flat SELECT i, ARRAY(SELECT x[j] + (random() * 2 - 1)::real FROM generate_series(1, 96) j)::floatvector
FROM generate_series(601, 3000) i JOIN sk_centre ON c = i % 3 + 1;
SET LOCAL milvus.hnsw_ef_search = 10;
SET LOCAL client_min_messages = debug2;
SELECT count(*) FROM (SELECT id FROM sk_flat ORDER BY v <-> (SELECT v FROM sk_flat WHERE id = 1000) LIMIT 10) s;
RESET client_min_messages;
CREATE TEMP TABLE sk_flat_ids AS
SELECT q.id AS q, ARRAY(SELECT id FROM sk_flat ORDER BY v <-> q.v LIMIT 10) AS ids
FROM sk_flat q WHERE q.id % 100 = 7;
SET LOCAL milvus.hnsw_growing_rerank = 0;
SELECT count(*) AS differ FROM sk_flat_ids
WHERE ids IS DISTINCT FROM ARRAY(SELECT id FROM sk_flat ORDER BY v <-> (SELECT v FROM sk_flat q WHERE q.id = sk_flat_ids.q) LIMIT 10);
COMMIT;

-- coordinates near the float range's end, whose squares overflow: rows
-- and a query (row 9003) the sketch cannot estimate are measured, and the
-- answers are those of measuring every growing row (ties in id order); so
-- are those of queries whose coordinates differ by less than the smallest
-- normal float (no quantisation step has a finite inverse)
BEGIN;
LOCK TABLE sk IN SHARE MODE;
INSERT INTO sk SELECT i, ARRAY(SELECT (CASE WHEN j % 2 = 0 THEN 3e38 ELSE -3e38 END * (i % 3 - 1))::real
                               FROM generate_series(1, 512) j)::floatvector
FROM generate_series(9001, 9030) i;
CREATE TEMP TABLE sk_hq AS
SELECT q, v::floatvector AS v FROM sk_q UNION ALL SELECT id, v FROM sk WHERE id IN (9001, 9003)
UNION ALL SELECT -t, ARRAY(SELECT CASE WHEN j % t = 0 THEN 1e-40 ELSE 0 END::real
                           FROM generate_series(1, 512) j)::floatvector
FROM generate_series(1, 3) t;
SET LOCAL milvus.hnsw_ef_search = 10;
CREATE TEMP TABLE sk_huge AS
SELECT q, ARRAY(SELECT id FROM (SELECT id, sk.v <-> sk_hq.v AS d FROM sk ORDER BY sk.v <-> sk_hq.v LIMIT 10) s
                ORDER BY d, id) AS ids
FROM sk_hq;
SET LOCAL milvus.hnsw_growing_rerank = 0;
SELECT count(*) AS answers, count(*) FILTER (WHERE ids IS DISTINCT FROM
       ARRAY(SELECT id FROM (SELECT id, sk.v <-> sk_hq.v AS d FROM sk ORDER BY sk.v <-> sk_hq.v LIMIT 10) s
             ORDER BY d, id)) AS differ
FROM sk_huge JOIN sk_hq USING (q);
COMMIT;

-- the setting's bounds
SET milvus.hnsw_growing_rerank = -1;
SET milvus.hnsw_growing_rerank = 1001;
SHOW milvus.hnsw_growing_rerank;

DROP TABLE sk, sk16, sk_flat, sk_centre, sk_q, sk_g;
DROP FUNCTION sk_point(int);
DROP FUNCTION sk_measured(int, int);
