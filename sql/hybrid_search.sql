--
-- Hybrid search: "WHERE <filter> ORDER BY <vector> <op> <query> LIMIT k" as
-- a Custom Scan (Milvus Hybrid Search), which computes the filter as a
-- bitmap from the B-tree or GIN indexes of its columns and then measures
-- every row that passes (exact), or walks the milvus_hnsw graph testing
-- elements against the bitmap (graph), or runs the plain index scan's walk
-- testing rows on the table (walk); a walk has a budget, after which the
-- exact search finishes.  Every strategy must return exactly what the plans
-- without it return (a sort of what a sequential or bitmap heap scan reads):
-- on these small tables ef_search is high enough that a walk finds every
-- row, and answers are compared, never printed, except on hand-made data.
-- Levels are seeded, so the graphs are the same on every run.
--
SET milvus.hnsw_level_seed = 7;
SET milvus.hnsw_ef_search = 200;
-- a search per query vector makes a statement look costly enough for JIT,
-- whose compilation would take most of this test's time
SET jit = off;

-- What the Milvus Hybrid Search nodes of query's plan did (EXPLAIN ANALYZE):
-- one row per node, with only the figures that do not vary from run to run.
CREATE FUNCTION hy_nodes(query text)
RETURNS TABLE (planned text, strategy text, filter_rows bigint, lossy boolean, over_budget bigint)
LANGUAGE plpgsql AS $$
DECLARE
    plan jsonb;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || query INTO plan;
    RETURN QUERY
    SELECT n->>'Planned Strategy', n->>'Strategy', (n->>'Filter Rows')::bigint,
           n ? 'Lossy Pages', (n->>'Walks Over Budget')::bigint
    FROM jsonb_path_query(plan, 'strict $.**?(@."Custom Plan Provider" == "Milvus Hybrid Search")') n;
END
$$;

-- For every query vector of queries (qid, v): the ids of the k nearest rows
-- of tab that pass filter, as the current settings plan it, against the exact
-- answer (hybrid search off, no index scan; ties broken by id).  One
-- statement runs every search, a subquery per query vector, so the custom
-- scan is rescanned with a new query each time (and filter may use q.qid).
-- Returns what the hybrid search nodes did ('no hybrid search' if the plan
-- has none) and how many of the answers differ.  tiebreak adds ", id" to the
-- search's ORDER BY, for data with equal distances.  k may carry an OFFSET.
CREATE FUNCTION hy_vs_exact(tab text, filter text, k text DEFAULT '10', op text DEFAULT '<->',
                            queries text DEFAULT 'SELECT qid, v FROM hy_q',
                            tiebreak text DEFAULT '')
RETURNS TABLE (strategy text, differ bigint)
LANGUAGE plpgsql AS $$
DECLARE
    search text := 'SELECT q.qid, ARRAY(SELECT id FROM %s WHERE %s ORDER BY emb %s q.v%s LIMIT %s) AS ids '
                   'FROM (%s) q';
    hybrid jsonb;
    reference jsonb;
    enabled text := current_setting('milvus.enable_hybrid_search');
    indexscan text := current_setting('enable_indexscan');
BEGIN
    SELECT coalesce(string_agg(DISTINCT n.strategy, ', '), 'no hybrid search') INTO strategy
    FROM hy_nodes(format(search, tab, filter, op, tiebreak, k, queries)) n;
    EXECUTE format('SELECT jsonb_object_agg(qid, ids) FROM (%s) s',
                   format(search, tab, filter, op, tiebreak, k, queries)) INTO hybrid;
    PERFORM set_config('milvus.enable_hybrid_search', 'off', false),
            set_config('enable_indexscan', 'off', false);
    EXECUTE format('SELECT jsonb_object_agg(qid, ids) FROM (%s) s',
                   format(search, tab, filter, op, ', id', k, queries)) INTO reference;
    PERFORM set_config('milvus.enable_hybrid_search', enabled, false),
            set_config('enable_indexscan', indexscan, false);
    SELECT count(*) INTO differ
    FROM jsonb_each(hybrid) h FULL JOIN jsonb_each(reference) r USING (key)
    WHERE h.value IS DISTINCT FROM r.value;
    RETURN NEXT;
END
$$;

-- The ids a statement returns (it may be an EXECUTE), in order, under
-- milvus.hybrid_strategy = strategy if given
CREATE FUNCTION hy_ids(query text, strategy text DEFAULT NULL) RETURNS int[]
LANGUAGE plpgsql AS $$
DECLARE
    saved text := current_setting('milvus.hybrid_strategy');
    r record;
    ids int[] := '{}';
BEGIN
    PERFORM set_config('milvus.hybrid_strategy', coalesce(strategy, saved), false);
    FOR r IN EXECUTE query LOOP
        ids := ids || r.id;
    END LOOP;
    PERFORM set_config('milvus.hybrid_strategy', saved, false);
    RETURN ids;
END
$$;
-- The same under the plans without hybrid search or index scans
CREATE FUNCTION hy_exact_ids(query text) RETURNS int[]
LANGUAGE plpgsql AS $$
DECLARE
    ids int[];
BEGIN
    PERFORM set_config('milvus.enable_hybrid_search', 'off', true),
            set_config('enable_indexscan', 'off', true);
    ids := hy_ids(query);
    PERFORM set_config('milvus.enable_hybrid_search', 'on', true),
            set_config('enable_indexscan', 'on', true);
    RETURN ids;
END
$$;
-- hy_vs_exact with each query vector written into the statement as a
-- constant, one statement per query: the planner sees the vector (and may
-- choose the walk, priced as the plain index scan)
CREATE FUNCTION hy_const_vs_exact(tab text, filter text, k text DEFAULT '10', op text DEFAULT '<->',
                                  queries text DEFAULT 'SELECT qid, v FROM hy_q')
RETURNS TABLE (strategy text, differ bigint)
LANGUAGE plpgsql AS $$
DECLARE
    q record;
    search text;
    used text[] := '{}';
BEGIN
    differ := 0;
    FOR q IN EXECUTE queries LOOP
        search := format('SELECT id FROM %s WHERE %s ORDER BY emb %s %L%%s LIMIT %s', tab, filter, op, q.v, k);
        used := used || ARRAY(SELECT n.strategy FROM hy_nodes(format(search, '')) n);
        IF hy_ids(format(search, '')) IS DISTINCT FROM hy_exact_ids(format(search, ', id')) THEN
            differ := differ + 1;
        END IF;
    END LOOP;
    SELECT coalesce(string_agg(DISTINCT u, ', '), 'no hybrid search') INTO strategy FROM unnest(used) u;
    RETURN NEXT;
END
$$;

-- hy_vs_exact under each milvus.hybrid_strategy
CREATE FUNCTION hy_strategies(tab text, filter text, k text DEFAULT '10', op text DEFAULT '<->',
                              queries text DEFAULT 'SELECT qid, v FROM hy_q',
                              tiebreak text DEFAULT '')
RETURNS TABLE (setting text, strategy text, differ bigint)
LANGUAGE plpgsql AS $$
DECLARE
    saved text := current_setting('milvus.hybrid_strategy');
BEGIN
    FOREACH setting IN ARRAY ARRAY['exact', 'graph', 'walk', 'auto'] LOOP
        PERFORM set_config('milvus.hybrid_strategy', setting, false);
        SELECT e.strategy, e.differ INTO strategy, differ
        FROM hy_vs_exact(tab, filter, k, op, queries, tiebreak) e;
        RETURN NEXT;
    END LOOP;
    PERFORM set_config('milvus.hybrid_strategy', saved, false);
END
$$;

--
-- Test data: 3,000 rows of 8 dimensions in [-1, 1) (pg_prng after setseed:
-- the same everywhere), 30 of them with a NULL vector; label and cat cycle
-- through the ids, zone is 1 where the first coordinate exceeds 0.6 (a
-- filter correlated with the vectors), tags an int[] for GIN.  Room on every
-- page for HOT updates later.
--
SELECT setseed(0.5);
CREATE TABLE hy (id int PRIMARY KEY, label int, cat int, zone int, tags int[], note text,
                 emb floatvector(8))
WITH (autovacuum_enabled = off, fillfactor = 70);
INSERT INTO hy
SELECT i, i % 10, i % 7, CASE WHEN (v::real[])[1] > 0.6 THEN 1 ELSE 0 END,
       ARRAY[i % 5, i % 11 + 10], 'row ' || i, CASE WHEN i % 100 = 0 THEN NULL ELSE v END
FROM (SELECT i, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 8) WHERE i > 0)::floatvector AS v
      FROM generate_series(1, 3000) i) s;
CREATE TABLE hy_q (qid int PRIMARY KEY, v floatvector(8));
INSERT INTO hy_q
SELECT i, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 8) WHERE i > 0)::floatvector
FROM generate_series(1, 20) i;
SELECT count(*) AS rows, count(emb) AS vectors, sum(zone) AS zone_1 FROM hy;
CREATE INDEX hy_emb ON hy USING milvus_hnsw (emb floatvector_l2_ops);
VACUUM ANALYZE hy;
ANALYZE hy_q;

--
-- Plans.  The form: a filter, ORDER BY a distance of a milvus_hnsw operator
-- class, LIMIT.  With no index on the filter's columns there is no bitmap:
-- the exact search reads the whole table.
--
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
SET milvus.hybrid_strategy = exact;
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
-- no filter and a milvus_hnsw index: no hybrid search, even forced (at
-- this ef_search PostgreSQL sorts what a sequential scan reads)
EXPLAIN (COSTS OFF)
SELECT id FROM hy ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
-- graph needs a bitmap: with none, the exact search; walk needs only the index
SET milvus.hybrid_strategy = graph;
SELECT * FROM hy_nodes($$SELECT id FROM hy WHERE label = 3
                         ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5$$);
SET milvus.hybrid_strategy = walk;
SELECT * FROM hy_nodes($$SELECT id FROM hy WHERE label = 3
                         ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5$$);
RESET milvus.hybrid_strategy;

-- B-tree indexes and a GIN index on the filter's columns
CREATE INDEX hy_label ON hy (label);
CREATE INDEX hy_cat ON hy (cat);
CREATE INDEX hy_zone ON hy (zone);
CREATE INDEX hy_tags ON hy USING gin (tags);
ANALYZE hy;
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE tags @> ARRAY[3] ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
-- the query on the left of the operator, and a distance projected: the same
EXPLAIN (COSTS OFF)
SELECT id, emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' AS d FROM hy WHERE label = 3
ORDER BY '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' <-> emb LIMIT 5;
SET milvus.hybrid_strategy = exact;
-- BitmapAnd, BitmapOr
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 AND cat = 2 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 OR cat = 2 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
-- a clause no index covers, tested on the row, next to one that is
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 AND note LIKE '%1' ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
-- the other distances of floatvector: no index for them, so no Vector Index
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 ORDER BY emb <=> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 ORDER BY emb <#> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
-- ORDER BY the distance, then id: the scan's order is the prefix
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', id LIMIT 5;
-- a join above the scan; FOR UPDATE
EXPLAIN (COSTS OFF)
SELECT h.id FROM hy h JOIN hy_q q ON q.qid = h.cat WHERE h.label = 3
ORDER BY h.emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5 FOR UPDATE;
-- a query vector from a subquery (an InitPlan)
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> (SELECT v FROM hy_q WHERE qid = 1) LIMIT 5;

-- Queries not of the form keep their plans, even with the path forced
EXPLAIN (COSTS OFF)   -- DESC
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' DESC LIMIT 5;
EXPLAIN (COSTS OFF)   -- NULLS FIRST
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' NULLS FIRST LIMIT 5;
EXPLAIN (COSTS OFF)   -- no LIMIT
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]';
EXPLAIN (COSTS OFF)   -- not a distance
SELECT id FROM hy WHERE label = 3 ORDER BY (emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]') * 2 LIMIT 5;
EXPLAIN (COSTS OFF)   -- a distance between two columns of the row
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> emb LIMIT 5;
EXPLAIN (COSTS OFF)   -- a volatile query vector
SELECT id FROM hy WHERE label = 3
ORDER BY emb <-> ('[0.1,0.2,0.3,0.4,0.5,0.6,0.7,' || (random() * 0) || ']')::floatvector LIMIT 5;
EXPLAIN (COSTS OFF)   -- aggregates
SELECT cat, min(emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]') FROM hy WHERE label = 3
GROUP BY cat ORDER BY 2 LIMIT 5;
EXPLAIN (COSTS OFF)   -- DISTINCT
SELECT DISTINCT cat, emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' FROM hy WHERE label = 3 ORDER BY 2 LIMIT 5;
EXPLAIN (COSTS OFF)   -- a window function
SELECT id, row_number() OVER () FROM hy WHERE label = 3
ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
EXPLAIN (COSTS OFF)   -- a set operation
(SELECT id, emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' AS d FROM hy WHERE label = 3
 UNION SELECT id, emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' FROM hy WHERE label = 4) ORDER BY d LIMIT 5;
EXPLAIN (COSTS OFF)   -- TABLESAMPLE
SELECT id FROM hy TABLESAMPLE SYSTEM (50) WHERE label = 3
ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
-- the hook off: the plans it had before
SET milvus.enable_hybrid_search = off;
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE tags @> ARRAY[3] ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
RESET milvus.enable_hybrid_search;
RESET milvus.hybrid_strategy;

--
-- Answers: every strategy returns the exact answer, over 20 query vectors,
-- for filters selective and broad, correlated with the vectors (zone), that
-- match nothing or everything, on B-tree and GIN bitmaps, BitmapAnd and
-- BitmapOr, with clauses no index covers, and a filter that changes with the
-- outer query (the bitmap is computed again for each).
--
SELECT * FROM hy_strategies('hy', 'label = 3');
SELECT * FROM hy_strategies('hy', 'label < 9');
SELECT * FROM hy_strategies('hy', 'zone = 1');
SELECT * FROM hy_strategies('hy', 'zone = 1 AND label < 2');
SELECT * FROM hy_strategies('hy', 'label = 3 AND cat = 2');
SELECT * FROM hy_strategies('hy', 'label = 3 OR cat = 2');
SELECT * FROM hy_strategies('hy', 'tags @> ARRAY[3]');
SELECT * FROM hy_strategies('hy', 'tags @> ARRAY[3] AND label = 4');
SELECT * FROM hy_strategies('hy', 'label = 99');
SELECT * FROM hy_strategies('hy', 'label >= 0');
SELECT * FROM hy_strategies('hy', 'label = 3 AND note LIKE ''%1''');
SELECT * FROM hy_strategies('hy', 'id % 13 = 1');
SELECT * FROM hy_strategies('hy', 'label = q.qid % 10');
-- the bitmap in each of the 20 rescans: the same one (a constant filter),
-- or computed again (a filter on the outer query's column); 300 rows each
SET milvus.hybrid_strategy = graph;
SELECT * FROM hy_nodes('SELECT q.qid, ARRAY(SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> q.v LIMIT 10) FROM hy_q q');
SELECT * FROM hy_nodes('SELECT q.qid, ARRAY(SELECT id FROM hy WHERE label = q.qid % 10 ORDER BY emb <-> q.v LIMIT 10) FROM hy_q q');
-- the same, counted: bitmaps made over the loops; the graph walk skips the
-- elements outside an exact bitmap itself, so no row it fetches fails the
-- filter (a walk that ignored the bitmap would fetch and reject them)
CREATE FUNCTION hy_counts(query text)
RETURNS TABLE (loops bigint, bitmaps bigint, skips_elements boolean, rows_rejected bigint)
LANGUAGE plpgsql AS $$
DECLARE
    plan jsonb;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || query INTO plan;
    RETURN QUERY
    SELECT (n->>'Actual Loops')::bigint, (n->>'Bitmaps')::bigint,
           (n->>'Elements Skipped')::bigint > 0, (n->>'Rows Rejected')::bigint
    FROM jsonb_path_query(plan, 'strict $.**?(@."Custom Plan Provider" == "Milvus Hybrid Search")') n;
END
$$;
SELECT * FROM hy_counts('SELECT q.qid, ARRAY(SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> q.v LIMIT 10) FROM hy_q q');
SELECT * FROM hy_counts('SELECT q.qid, ARRAY(SELECT id FROM hy WHERE label = q.qid % 10 ORDER BY emb <-> q.v LIMIT 10) FROM hy_q q');
DROP FUNCTION hy_counts(text);
RESET milvus.hybrid_strategy;
-- more rows than the planned k, and an OFFSET
SELECT * FROM hy_strategies('hy', 'zone = 1', '60');
SELECT * FROM hy_strategies('hy', 'label < 5', '5 OFFSET 40');
-- the distance, ctid and label projected: each row's own (a row whose
-- ctid or distance were wrong would drop out of the outer query)
SELECT s.strategy,
       hy_ids($$SELECT id FROM (SELECT ctid, id, label, emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' AS d
                                FROM hy WHERE label = 3
                                ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 3) s
                WHERE label = 3 AND (ctid, d) = (SELECT ctid, emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]'
                                                 FROM hy h WHERE h.id = s.id)$$, s.strategy) AS ids
FROM unnest(ARRAY['exact', 'graph', 'walk']) s(strategy);
SET milvus.enable_hybrid_search = off;
SELECT id, label, round((emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]')::numeric, 6) AS d FROM hy
WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 3;
RESET milvus.enable_hybrid_search;
-- a join on top: the scan hands out rows until the join has its five
SET milvus.hybrid_strategy = exact;
SELECT array_agg(id) AS exact_ids FROM (
    SELECT h.id FROM hy h JOIN hy_q q ON q.qid = h.cat * 3 WHERE h.label = 3
    ORDER BY h.emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5) s;
SET milvus.hybrid_strategy = graph;
SELECT array_agg(id) AS graph_ids FROM (
    SELECT h.id FROM hy h JOIN hy_q q ON q.qid = h.cat * 3 WHERE h.label = 3
    ORDER BY h.emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5) s;
SET milvus.enable_hybrid_search = off;
SELECT array_agg(id) AS ids FROM (
    SELECT h.id FROM hy h JOIN hy_q q ON q.qid = h.cat * 3 WHERE h.label = 3
    ORDER BY h.emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5) s;
RESET milvus.enable_hybrid_search;
RESET milvus.hybrid_strategy;

-- No milvus_hnsw index at all: Milvus's FLAT, an exact scan of the table,
-- with a filter or without one
CREATE TABLE hy_flat AS SELECT * FROM hy;
CREATE INDEX hy_flat_label ON hy_flat (label);
ANALYZE hy_flat;
EXPLAIN (COSTS OFF)
SELECT id FROM hy_flat ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT id FROM hy_flat WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
SELECT * FROM hy_strategies('hy_flat', 'true');
SELECT * FROM hy_strategies('hy_flat', 'label = 3');
DROP TABLE hy_flat;

--
-- Prepared statements with generic plans: the query vector, the filter's
-- value and the LIMIT as parameters (a LIMIT parameter plans for 100 rows;
-- 250 makes the exact search run again for more).  Planned with the path
-- forced; each execution takes the strategy set at the time.
--
SET plan_cache_mode = force_generic_plan;
SET milvus.hybrid_strategy = exact;
PREPARE hy_p(floatvector, int) AS
SELECT id FROM hy WHERE label = $2 ORDER BY emb <-> $1 LIMIT 5;
PREPARE hy_p3(floatvector, int, int) AS
SELECT id FROM hy WHERE label = $2 ORDER BY emb <-> $1 LIMIT $3;
EXPLAIN (COSTS OFF) EXECUTE hy_p('[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', 3);
EXPLAIN (COSTS OFF) EXECUTE hy_p3('[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', 3, 7);
EXECUTE hy_p('[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', 3);
EXECUTE hy_p('[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', 4);
EXECUTE hy_p3('[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', 3, 2);
-- every query vector, a label each, LIMIT 5 and 250, under each strategy
SELECT s.strategy,
       count(*) FILTER (WHERE hy_ids(format('EXECUTE hy_p(%L, %s)', v, qid % 10), s.strategy)
                              IS DISTINCT FROM hy_exact_ids(format(
                                  'SELECT id FROM hy WHERE label = %s ORDER BY emb <-> %L, id LIMIT 5', qid % 10, v)))
           AS differ_5,
       count(*) FILTER (WHERE hy_ids(format('EXECUTE hy_p3(%L, %s, 250)', v, qid % 10), s.strategy)
                              IS DISTINCT FROM hy_exact_ids(format(
                                  'SELECT id FROM hy WHERE label = %s ORDER BY emb <-> %L, id LIMIT 250', qid % 10, v)))
           AS differ_250
FROM unnest(ARRAY['exact', 'graph', 'walk', 'auto']) s(strategy), hy_q
GROUP BY s.strategy ORDER BY s.strategy;
SET milvus.hybrid_strategy = graph;
SELECT * FROM hy_nodes($$EXECUTE hy_p3('[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', 3, 250)$$);
SET milvus.hybrid_strategy = exact;
SELECT * FROM hy_nodes($$EXECUTE hy_p3('[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', 3, 250)$$);
-- a NULL query vector: no crash, and only rows that pass
SELECT s.strategy, count(*) AS rows, bool_and(id % 10 = 3) AS all_pass
FROM unnest(ARRAY['exact', 'graph', 'walk']) s(strategy), unnest(hy_ids('EXECUTE hy_p(NULL, 3)', s.strategy)) id
GROUP BY 1 ORDER BY 1;
DEALLOCATE hy_p;
DEALLOCATE hy_p3;
RESET plan_cache_mode;

--
-- Cursors: FETCH in steps, backwards (a SCROLL cursor), and past the rows
-- the scan planned for (LIMIT ALL plans for 100): the exact order.  The
-- strategy is taken at a cursor's first FETCH, so one cursor of each runs
-- side by side in one transaction.
--
BEGIN;
SET LOCAL milvus.hybrid_strategy = graph;
DECLARE hy_c CURSOR FOR
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 10;
FETCH 3 FROM hy_c;
FETCH 20 FROM hy_c;
SET LOCAL milvus.hybrid_strategy = exact;
DECLARE hy_exact SCROLL CURSOR FOR
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT ALL;
FETCH 3 FROM hy_exact;
SET LOCAL milvus.hybrid_strategy = graph;
DECLARE hy_graph SCROLL CURSOR FOR
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT ALL;
FETCH 3 FROM hy_graph;
FETCH BACKWARD 2 FROM hy_exact;
FETCH BACKWARD 2 FROM hy_graph;
MOVE 148 IN hy_exact;
FETCH 3 FROM hy_exact;
MOVE 148 IN hy_graph;
FETCH 3 FROM hy_graph;
FETCH LAST FROM hy_exact;
FETCH LAST FROM hy_graph;
COMMIT;
-- the exact order: the first 10, rows 150 to 152, the last
SELECT ids[1:10] AS first_10, ids[150:152] AS from_150, ids[cardinality(ids)] AS last
FROM hy_exact_ids($$SELECT id FROM hy WHERE label = 3
                    ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', id$$) ids;
SET milvus.hybrid_strategy = exact;
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT ALL;
RESET milvus.hybrid_strategy;
-- every row, in order, whichever strategy
SELECT s.strategy,
       hy_ids($$SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT ALL$$,
              s.strategy)
       = hy_exact_ids($$SELECT id FROM hy WHERE label = 3
                        ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', id$$) AS same
FROM unnest(ARRAY['exact', 'graph', 'walk']) s(strategy);
-- FETCH FIRST ... WITH TIES asks for rows past k too
SELECT s.strategy,
       hy_ids($$SELECT id FROM hy WHERE zone = 1 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]'
                FETCH FIRST 7 ROWS WITH TIES$$, s.strategy)
       = hy_exact_ids($$SELECT id FROM hy WHERE zone = 1
                        ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', id LIMIT 7$$) AS same
FROM unnest(ARRAY['exact', 'graph', 'walk']) s(strategy);
RESET milvus.hybrid_strategy;

--
-- NULL vectors: exact puts their rows last (ORDER BY's NULLS LAST); they are
-- not in the index, so a graph walk does not return them.  A NULL query
-- vector makes every distance NULL: any order, no crash.
--
CREATE TABLE hy_null (id int PRIMARY KEY, label int, emb floatvector(3));
INSERT INTO hy_null
SELECT i, i % 4, CASE WHEN i % 5 = 0 THEN NULL ELSE ARRAY[i, i % 7, 1]::real[]::floatvector END
FROM generate_series(1, 40) i;
CREATE INDEX hy_null_emb ON hy_null USING milvus_hnsw (emb floatvector_l2_ops);
CREATE INDEX hy_null_label ON hy_null (label);
ANALYZE hy_null;
SET milvus.hybrid_strategy = exact;
SELECT id, emb <-> '[20,3,1]' AS d FROM hy_null WHERE label = 1 ORDER BY emb <-> '[20,3,1]' LIMIT 20;
SET milvus.hybrid_strategy = graph;
SELECT id, emb <-> '[20,3,1]' AS d FROM hy_null WHERE label = 1 ORDER BY emb <-> '[20,3,1]' LIMIT 20;
SET milvus.hybrid_strategy = walk;
EXPLAIN (COSTS OFF)
SELECT id FROM hy_null WHERE label = 1 ORDER BY emb <-> '[20,3,1]' LIMIT 20;
SELECT array_agg(id) AS walk_ids
FROM (SELECT id FROM hy_null WHERE label = 1 ORDER BY emb <-> '[20,3,1]' LIMIT 20) s;
SET milvus.enable_hybrid_search = off;
SELECT id, emb <-> '[20,3,1]' AS d FROM hy_null WHERE label = 1 ORDER BY emb <-> '[20,3,1]', id LIMIT 20;
RESET milvus.enable_hybrid_search;
-- a NULL query (from a subquery: a NULL constant would be folded away)
SET milvus.hybrid_strategy = exact;
EXPLAIN (COSTS OFF)
SELECT id FROM hy_null WHERE label = 1 ORDER BY emb <-> (SELECT NULL::floatvector) LIMIT 4;
SELECT count(*) AS rows, bool_and(label = 1) AS all_pass
FROM (SELECT id, label FROM hy_null WHERE label = 1 ORDER BY emb <-> (SELECT NULL::floatvector) LIMIT 20) s;
SELECT s.strategy, count(*) AS rows, bool_and(id % 4 = 1) AS all_pass
FROM unnest(ARRAY['graph', 'walk', 'auto']) s(strategy),
     unnest(hy_ids($$SELECT id FROM hy_null WHERE label = 1
                     ORDER BY emb <-> (SELECT NULL::floatvector) LIMIT 20$$, s.strategy)) id
GROUP BY 1 ORDER BY 1;
SELECT count(*) AS rows FROM (SELECT id FROM hy_null ORDER BY emb <-> (SELECT NULL::floatvector) LIMIT 3) s;
RESET milvus.hybrid_strategy;
DROP TABLE hy_null;

--
-- The walk budget.  With plain index scans out of the way and random pages
-- priced cheap, auto walks the graph; a budget of 0.01 ends every walk early
-- and the exact search finishes: the answer is still the exact one.
--
SET enable_indexscan = off;
SET random_page_cost = 0.01;
SELECT * FROM hy_vs_exact('hy', 'label < 5');
SELECT * FROM hy_vs_exact('hy', 'zone = 1');
SET milvus.hybrid_walk_budget = 0.01;
SELECT * FROM hy_nodes($$SELECT id FROM hy WHERE label < 5
                         ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 10$$);
SELECT * FROM hy_vs_exact('hy', 'label < 5');
SELECT * FROM hy_vs_exact('hy', 'zone = 1');
SELECT * FROM hy_vs_exact('hy', 'tags @> ARRAY[3]', '30');
-- every row, past the planned k, those with NULL vectors (30 in label 0) last
SELECT * FROM hy_vs_exact('hy', 'label = 0', 'ALL');
-- A walk may end after it has handed out rows: then the exact search hands
-- out the rest, after them.  At an ef_search of 10 the walk needs several
-- rounds for 50 rows (and still finds the exact answer when it is not cut
-- short); budgets from 0.01 to 0.5 end it in each round.
SET milvus.hnsw_ef_search = 10;
SET milvus.hybrid_strategy = graph;
SELECT * FROM hy_vs_exact('hy', 'label < 5', '50');
SELECT * FROM hy_vs_exact('hy', 'cat < 3', '50');
RESET milvus.hybrid_strategy;
-- hy_vs_exact (or with constants, hy_const_vs_exact) under walk budgets
-- from 0.01 to 0.5: the strategies seen and the answers that differ
CREATE FUNCTION hy_budgets(filter text, k text, constants boolean DEFAULT false)
RETURNS TABLE (strategies text, differ bigint)
LANGUAGE plpgsql AS $$
DECLARE
    budget float8;
    s text[] := '{}';
    e record;
BEGIN
    differ := 0;
    FOREACH budget IN ARRAY ARRAY[0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5] LOOP
        PERFORM set_config('milvus.hybrid_walk_budget', budget::text, false);
        IF constants THEN
            SELECT * INTO e FROM hy_const_vs_exact('hy', filter, k);
        ELSE
            SELECT * INTO e FROM hy_vs_exact('hy', filter, k);
        END IF;
        s := s || e.strategy;
        differ := differ + e.differ;
    END LOOP;
    SELECT string_agg(DISTINCT x, '; ') INTO strategies FROM unnest(s) x;
    PERFORM set_config('milvus.hybrid_walk_budget', '1', false);
    RETURN NEXT;
END
$$;
SELECT * FROM hy_budgets('label < 5', '50');
SELECT * FROM hy_budgets('cat < 3', '50');
SELECT * FROM hy_budgets('zone = 0', '50');
SET milvus.hnsw_ef_search = 200;
RESET milvus.hybrid_walk_budget;
RESET random_page_cost;
RESET enable_indexscan;

-- The walk: where the plain index scan is the cheapest plan (here at an
-- ef_search of 40), auto runs that scan's walk instead, testing rows on the
-- table, and makes the bitmap only if the walk goes over its budget (checked
-- between rounds).  The planner prices the walk by the query vector, so each
-- search is a statement of its own here.
SET milvus.hnsw_ef_search = 40;
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE label < 9 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 10;
SELECT * FROM hy_nodes($$SELECT id FROM hy WHERE label < 9
                         ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 10$$);
SELECT * FROM hy_const_vs_exact('hy', 'label < 9');
SELECT * FROM hy_const_vs_exact('hy', 'zone = 0', '50');
SET milvus.hybrid_walk_budget = 0.1;
SELECT * FROM hy_nodes($$SELECT id FROM hy WHERE label < 9
                         ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 50$$);
SELECT * FROM hy_const_vs_exact('hy', 'label < 9', '50');
SELECT * FROM hy_const_vs_exact('hy', 'zone = 0', '50');
SET milvus.hnsw_ef_search = 10;
SELECT * FROM hy_budgets('label < 9', '50', true);
SELECT * FROM hy_budgets('cat < 5', '50', true);
SET milvus.hnsw_ef_search = 200;
RESET milvus.hybrid_walk_budget;

--
-- Deletes and updates: deleted rows never come back, updated rows come back
-- with their new values, in the transaction that made the changes and after
-- it.  New row versions of non-HOT updates go to the index's growing
-- segment; HOT updates (of note, in no index) leave the index and the
-- bitmap pointing at the root of the HOT chain.
--
BEGIN;
DELETE FROM hy WHERE id % 20 = 3;                     -- half of label 3
-- new vectors: id 13 + 100 j takes query vector j + 1, exactly
UPDATE hy SET emb = q.v FROM hy_q q WHERE hy.id % 100 = 13 AND q.qid = hy.id / 100 + 1;
UPDATE hy SET label = 3 WHERE id % 100 = 55;          -- label 5 to 3
UPDATE hy SET note = 'hot ' || id WHERE label = 3 AND id % 3 = 0;
SELECT n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_xact_user_tables WHERE relname = 'hy';
SELECT * FROM hy_strategies('hy', 'label = 3');
SELECT * FROM hy_strategies('hy', 'label = 3 AND note LIKE ''hot%''');
SELECT * FROM hy_strategies('hy', 'zone = 1', '20');
-- query vector j comes back first as row 13 + 100 (j - 1); no deleted row
SELECT s.strategy, count(*) FILTER (WHERE r.ids[1] = 13 + 100 * (q.qid - 1)) AS found_first,
       count(*) FILTER (WHERE EXISTS (SELECT FROM unnest(r.ids) id WHERE id % 20 = 3)) AS deleted
FROM unnest(ARRAY['exact', 'graph', 'walk']) s(strategy), hy_q q,
     LATERAL hy_ids(format('SELECT id FROM hy WHERE label = 3 ORDER BY emb <-> %L LIMIT 30', q.v),
                    s.strategy) r(ids)
GROUP BY 1 ORDER BY 1;
COMMIT;
-- the HOT row's new value, whichever strategy
SET milvus.hybrid_strategy = graph;
SELECT id, note FROM hy WHERE label = 3 AND note LIKE 'hot%'
ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 3;
SET milvus.hybrid_strategy = exact;
SELECT id, note FROM hy WHERE label = 3 AND note LIKE 'hot%'
ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 3;
SET milvus.enable_hybrid_search = off;
SELECT id, note FROM hy WHERE label = 3 AND note LIKE 'hot%'
ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 3;
RESET milvus.enable_hybrid_search;
RESET milvus.hybrid_strategy;
SELECT * FROM hy_strategies('hy', 'label = 3');
SELECT * FROM hy_strategies('hy', 'label < 5 AND cat = 1');

--
-- The growing segment (rows inserted after CREATE INDEX, measured exactly by
-- the walk) and, after milvus.seal, the same rows linked into the graph.
-- The SHARE lock keeps the data coordinator from sealing meanwhile.
--
SELECT setseed(0.75);
BEGIN;
LOCK TABLE hy IN SHARE MODE;
INSERT INTO hy
SELECT i, i % 10, i % 7, 0, ARRAY[i % 5, i % 11 + 10], 'row ' || i,
       ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 8) WHERE i > 0)::floatvector
FROM generate_series(3001, 3600) i;
SELECT growing_rows >= 600 AS growing FROM milvus.segments WHERE index_name = 'hy_emb'::regclass;
SELECT * FROM hy_strategies('hy', 'label = 4');
SELECT * FROM hy_strategies('hy', 'id > 3000 AND label < 5');
SELECT * FROM hy_strategies('hy', 'id <= 3000 AND cat = 5');
COMMIT;
SELECT milvus.seal('hy_emb') >= 0 AS sealed;
SELECT growing_rows FROM milvus.segments WHERE index_name = 'hy_emb'::regclass;
SELECT * FROM hy_strategies('hy', 'label = 4');
SELECT * FROM hy_strategies('hy', 'id > 3000 AND label < 5');
SELECT count(*) AS problems FROM milvus_hnsw_verify('hy_emb', true);

--
-- Partitions, each with its own milvus_hnsw and B-tree index: a custom scan
-- per partition under a Merge Append; a filter on the partition key prunes
-- partitions; the answer is the exact one.
--
CREATE TABLE hy_part (id int, part int, label int, emb floatvector(8)) PARTITION BY LIST (part);
CREATE TABLE hy_part1 PARTITION OF hy_part FOR VALUES IN (1);
CREATE TABLE hy_part2 PARTITION OF hy_part FOR VALUES IN (2);
CREATE TABLE hy_part3 PARTITION OF hy_part FOR VALUES IN (3);
INSERT INTO hy_part SELECT id, id % 3 + 1, label, emb FROM hy WHERE id <= 3000;
CREATE INDEX hy_part_emb ON hy_part USING milvus_hnsw (emb floatvector_l2_ops);
CREATE INDEX hy_part_label ON hy_part (label);
ANALYZE hy_part;
SET milvus.hybrid_strategy = exact;
EXPLAIN (COSTS OFF)
SELECT id FROM hy_part WHERE label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT id FROM hy_part WHERE part = 2 AND label = 3 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT id FROM hy_part WHERE part IN (1, 3) AND label = 3
ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
RESET milvus.hybrid_strategy;
SELECT * FROM hy_strategies('hy_part', 'label = 3');
SELECT * FROM hy_strategies('hy_part', 'part = 2 AND label = 3');
SELECT * FROM hy_strategies('hy_part', 'part IN (1, 3) AND label < 5');
SELECT * FROM hy_strategies('hy_part', 'part = 3');
SELECT * FROM hy_strategies('hy_part', 'label < 8', '40');
-- each partition's bitmap
SET milvus.hybrid_strategy = graph;
SELECT * FROM hy_nodes($$SELECT id FROM hy_part WHERE label = 3
                         ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5$$);
RESET milvus.hybrid_strategy;
DROP TABLE hy_part;

--
-- Row-level security: the policy is part of the filter, tested on every row
-- before anything else (a leaky function sees no row the policy hides), and
-- the answer is the exact one of the filter and the policy.  Column
-- privileges: the vector column is read, so it needs SELECT too.
--
CREATE ROLE regress_hy_reader;
CREATE ROLE regress_hy_owner;
CREATE ROLE regress_hy_cols;
GRANT SELECT ON hy, hy_q TO regress_hy_reader;
GRANT SELECT ON hy_q TO regress_hy_cols;
GRANT SELECT (id, label) ON hy TO regress_hy_cols;
CREATE FUNCTION hy_leak(label int, id int) RETURNS boolean
LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    IF label % 2 = 1 THEN
        RAISE NOTICE 'leaked row % with label %', id, label;
    END IF;
    RETURN true;
END
$$;
CREATE POLICY hy_even ON hy USING (label % 2 = 0);
ALTER TABLE hy ENABLE ROW LEVEL SECURITY;
SET ROLE regress_hy_reader;
SET milvus.hybrid_strategy = exact;
EXPLAIN (COSTS OFF)
SELECT id FROM hy WHERE cat = 2 AND hy_leak(label, id)
ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
SELECT id, label FROM hy WHERE cat = 2 AND hy_leak(label, id)
ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
RESET milvus.hybrid_strategy;
SELECT s.strategy, hy_ids($$SELECT id FROM hy WHERE cat = 2 AND hy_leak(label, id)
                            ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5$$, s.strategy) AS ids
FROM unnest(ARRAY['exact', 'graph', 'walk', 'auto']) s(strategy);
SELECT * FROM hy_strategies('hy', 'cat = 2');
SELECT * FROM hy_strategies('hy', 'label < 3 AND hy_leak(label, id)');
RESET ROLE;
-- what the policy lets through, as the exact answer
SELECT hy_exact_ids($$SELECT id FROM hy WHERE cat = 2 AND label % 2 = 0
                      ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', id LIMIT 5$$) AS exact_ids;
-- the owner, with FORCE ROW LEVEL SECURITY
ALTER TABLE hy OWNER TO regress_hy_owner;
ALTER TABLE hy FORCE ROW LEVEL SECURITY;
SET ROLE regress_hy_owner;
SELECT s.strategy, hy_ids($$SELECT id FROM hy WHERE cat = 2 AND hy_leak(label, id)
                            ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5$$, s.strategy) AS ids
FROM unnest(ARRAY['exact', 'graph', 'walk', 'auto']) s(strategy);
RESET ROLE;
ALTER TABLE hy NO FORCE ROW LEVEL SECURITY;
ALTER TABLE hy DISABLE ROW LEVEL SECURITY;
DROP POLICY hy_even ON hy;
ALTER TABLE hy OWNER TO CURRENT_USER;
-- SELECT on id and label only: the vector column is not readable
SET ROLE regress_hy_cols;
SET milvus.hybrid_strategy = graph;
SELECT id FROM hy WHERE label = 4 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
RESET ROLE;
GRANT SELECT (emb) ON hy TO regress_hy_cols;
SET ROLE regress_hy_cols;
SELECT id FROM hy WHERE label = 4 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
-- cat is not granted
SELECT id, cat FROM hy WHERE label = 4 ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 5;
RESET ROLE;
RESET milvus.hybrid_strategy;
SELECT hy_exact_ids($$SELECT id FROM hy WHERE label = 4
                      ORDER BY emb <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]', id LIMIT 5$$) AS exact_ids;
REVOKE ALL ON hy, hy_q FROM regress_hy_reader, regress_hy_cols;
DROP ROLE regress_hy_reader;
DROP ROLE regress_hy_owner;
DROP ROLE regress_hy_cols;
DROP FUNCTION hy_leak(int, int);

--
-- float16vector (its three operator classes on one column: each distance
-- finds its own index) and binaryvector (Hamming and Jaccard), whose many
-- equal distances are broken by id above the scan (an Incremental Sort that
-- asks for rows until the distance changes)
--
SELECT setseed(0.125);
CREATE TABLE hy_half (id int PRIMARY KEY, label int, emb float16vector(8));
INSERT INTO hy_half
SELECT i, i % 6, ARRAY(SELECT ((floor(random() * 2049) - 1024) / 256)::real
                       FROM generate_series(1, 8) WHERE i > 0)::float16vector
FROM generate_series(1, 1500) i;
CREATE TABLE hy_half_q (qid int, v float16vector(8));
INSERT INTO hy_half_q
SELECT i, ARRAY(SELECT ((floor(random() * 2049) - 1024) / 256)::real
                FROM generate_series(1, 8) WHERE i > 0)::float16vector
FROM generate_series(1, 10) i;
CREATE INDEX hy_half_l2 ON hy_half USING milvus_hnsw (emb float16vector_l2_ops);
CREATE INDEX hy_half_ip ON hy_half USING milvus_hnsw (emb float16vector_ip_ops);
CREATE INDEX hy_half_cos ON hy_half USING milvus_hnsw (emb float16vector_cosine_ops);
CREATE INDEX hy_half_label ON hy_half (label);
ANALYZE hy_half;
SET milvus.hybrid_strategy = graph;
EXPLAIN (COSTS OFF)
SELECT id FROM hy_half WHERE label = 2 ORDER BY emb <=> '[1,0,0,0,0,0,0,1]', id LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT id FROM hy_half WHERE label = 2 ORDER BY emb <#> '[1,0,0,0,0,0,0,1]' LIMIT 5;
RESET milvus.hybrid_strategy;
SELECT * FROM hy_strategies('hy_half', 'label = 2', '10', '<->', 'SELECT qid, v FROM hy_half_q', ', id');
SELECT * FROM hy_strategies('hy_half', 'label < 4', '10', '<#>', 'SELECT qid, v FROM hy_half_q', ', id');
SELECT * FROM hy_strategies('hy_half', 'label = 5', '10', '<=>', 'SELECT qid, v FROM hy_half_q', ', id');
DROP TABLE hy_half, hy_half_q;

SELECT setseed(0.375);
CREATE TABLE hy_bits (id int PRIMARY KEY, label int, emb binaryvector(64));
INSERT INTO hy_bits
SELECT i, i % 6, (SELECT string_agg(CASE WHEN random() < 0.3 THEN '1' ELSE '0' END, '')
                  FROM generate_series(1, 64) WHERE i > 0)::binaryvector
FROM generate_series(1, 1500) i;
CREATE TABLE hy_bits_q (qid int, v binaryvector(64));
INSERT INTO hy_bits_q
SELECT i, (SELECT string_agg(CASE WHEN random() < 0.3 THEN '1' ELSE '0' END, '')
           FROM generate_series(1, 64) WHERE i > 0)::binaryvector
FROM generate_series(1, 10) i;
CREATE INDEX hy_bits_hamming ON hy_bits USING milvus_hnsw (emb binaryvector_hamming_ops);
CREATE INDEX hy_bits_jaccard ON hy_bits USING milvus_hnsw (emb binaryvector_jaccard_ops);
CREATE INDEX hy_bits_label ON hy_bits (label);
ANALYZE hy_bits;
SET milvus.hybrid_strategy = graph;
EXPLAIN (COSTS OFF)
SELECT id FROM hy_bits WHERE label = 2 ORDER BY emb <~> (SELECT v FROM hy_bits_q WHERE qid = 1), id LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT id FROM hy_bits WHERE label = 2 ORDER BY emb <%> (SELECT v FROM hy_bits_q WHERE qid = 1) LIMIT 5;
RESET milvus.hybrid_strategy;
SELECT * FROM hy_strategies('hy_bits', 'label = 2', '10', '<~>', 'SELECT qid, v FROM hy_bits_q', ', id');
SELECT * FROM hy_strategies('hy_bits', 'label < 5', '25', '<~>', 'SELECT qid, v FROM hy_bits_q', ', id');
SELECT * FROM hy_strategies('hy_bits', 'label = 1', '10', '<%>', 'SELECT qid, v FROM hy_bits_q', ', id');
-- WITH TIES: every row as near as the 6th (in any order among equals)
SELECT s.strategy,
       ARRAY(SELECT unnest(hy_ids($$SELECT id FROM hy_bits WHERE label = 3
                                    ORDER BY emb <~> (SELECT v FROM hy_bits_q WHERE qid = 2)
                                    FETCH FIRST 6 ROWS WITH TIES$$, s.strategy)) ORDER BY 1) AS ids
FROM unnest(ARRAY['exact', 'graph', 'walk']) s(strategy);
SET milvus.enable_hybrid_search = off;
SELECT array_agg(id ORDER BY id) AS exact_ids
FROM hy_bits WHERE label = 3
 AND emb <~> (SELECT v FROM hy_bits_q WHERE qid = 2)
     <= (SELECT emb <~> (SELECT v FROM hy_bits_q WHERE qid = 2) AS d FROM hy_bits WHERE label = 3
         ORDER BY d OFFSET 5 LIMIT 1);
RESET milvus.enable_hybrid_search;
DROP TABLE hy_bits, hy_bits_q;

--
-- A lossy bitmap (more pages than work_mem holds exactly): the rows of its
-- lossy pages are tested on the row, and the walk takes the whole page
--
SELECT setseed(0.625);
CREATE TABLE hy_lossy (id int PRIMARY KEY, label int, pad text, emb floatvector(4))
WITH (fillfactor = 10, autovacuum_enabled = off);
INSERT INTO hy_lossy
SELECT i, i % 3, repeat('x', 300),
       ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 4) WHERE i > 0)::floatvector
FROM generate_series(1, 2400) i;
CREATE TABLE hy_lossy_q (qid int, v floatvector(4));
INSERT INTO hy_lossy_q
SELECT i, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 4) WHERE i > 0)::floatvector
FROM generate_series(1, 10) i;
CREATE INDEX hy_lossy_emb ON hy_lossy USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
CREATE INDEX hy_lossy_label ON hy_lossy (label);
VACUUM ANALYZE hy_lossy;
SET work_mem = '64kB';
SET milvus.hybrid_strategy = graph;
SELECT planned, strategy, lossy
FROM hy_nodes($$SELECT id FROM hy_lossy WHERE label < 2 ORDER BY emb <-> '[0.1,0.2,0.3,0.4]' LIMIT 10$$);
RESET milvus.hybrid_strategy;
SELECT * FROM hy_strategies('hy_lossy', 'label < 2', '10', '<->', 'SELECT qid, v FROM hy_lossy_q');
SELECT * FROM hy_strategies('hy_lossy', 'label <> 1 AND label < 2', '10', '<->', 'SELECT qid, v FROM hy_lossy_q');
RESET work_mem;
DROP TABLE hy_lossy, hy_lossy_q;

DROP TABLE hy, hy_q;
DROP FUNCTION hy_budgets(text, text, boolean);
DROP FUNCTION hy_strategies(text, text, text, text, text, text);
DROP FUNCTION hy_vs_exact(text, text, text, text, text, text);
DROP FUNCTION hy_const_vs_exact(text, text, text, text, text);
DROP FUNCTION hy_nodes(text);
DROP FUNCTION hy_exact_ids(text);
DROP FUNCTION hy_ids(text, text);

--
-- A LIMIT far above the rows there are returns every row that passes, in
-- order, under each strategy (the scan's arrays grow with the rows, not the
-- LIMIT)
--
CREATE TABLE hy_big_limit (id int, label int, emb floatvector(2));
INSERT INTO hy_big_limit SELECT i, i % 10, ARRAY[i % 37, i % 41]::real[]::floatvector FROM generate_series(1, 3000) i;
CREATE INDEX ON hy_big_limit USING milvus_hnsw (emb floatvector_l2_ops);
CREATE INDEX ON hy_big_limit (label);
ANALYZE hy_big_limit;
SET milvus.hnsw_ef_search = 400;
CREATE FUNCTION hy_big_limit_rows(strategy text) RETURNS TABLE (plan text, rows bigint, distinct_rows bigint, ordered boolean)
LANGUAGE plpgsql AS $$
DECLARE
    q text := $q$SELECT id, emb <-> '[5,5]' AS d FROM hy_big_limit WHERE label = 3
                 ORDER BY emb <-> '[5,5]' LIMIT 100000000$q$;
    p json;
BEGIN
    PERFORM set_config('milvus.hybrid_strategy', strategy, true);
    EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, FORMAT JSON) ' || q INTO p;
    plan := p->0->'Plan'->'Plans'->0->>'Strategy';
    RETURN QUERY EXECUTE format($f$
        SELECT %L, count(*), count(DISTINCT id), coalesce(bool_and(d >= prev OR prev IS NULL), true)
        FROM (SELECT id, d, lag(d) OVER (ORDER BY o) AS prev
              FROM (SELECT x.*, row_number() OVER () AS o FROM (%s) x) y) z$f$, plan, q);
END $$;
SELECT * FROM hy_big_limit_rows('exact');
SELECT * FROM hy_big_limit_rows('graph');
SELECT * FROM hy_big_limit_rows('walk');
SELECT count(*) AS passing FROM hy_big_limit WHERE label = 3;
DROP FUNCTION hy_big_limit_rows(text);
RESET milvus.hybrid_strategy;
RESET milvus.hnsw_ef_search;
DROP TABLE hy_big_limit;

--
-- A GIN bitmap read from a posting tree (every row has tag 1): the GIN scan
-- keeps memory of its own from one bitmap to the next, and to its end.
-- Last, with nothing else left to clean up, for a server that would crash.
--
CREATE TABLE hy_gin (id int, tags int[], emb floatvector(2));
INSERT INTO hy_gin
SELECT i, ARRAY[1, i % 7], ARRAY[i % 100, i / 100]::real[]::floatvector FROM generate_series(1, 20000) i;
CREATE INDEX hy_gin_tags ON hy_gin USING gin (tags);
ANALYZE hy_gin;
SET milvus.hybrid_strategy = exact;
SELECT id FROM hy_gin WHERE tags @> ARRAY[1] ORDER BY emb <-> '[0,0]', id LIMIT 3;
-- rescans, the bitmap computed again for each k, and kept for each q
SELECT k, q, ARRAY(SELECT id FROM hy_gin WHERE tags @> ARRAY[1, k]
                   ORDER BY emb <-> ARRAY[q, 50]::real[]::floatvector, id LIMIT 3) AS ids
FROM generate_series(1, 2) k, LATERAL (VALUES (k * 10), (k * 10 + 5)) v(q);
SET milvus.enable_hybrid_search = off;
SELECT id FROM hy_gin WHERE tags @> ARRAY[1] ORDER BY emb <-> '[0,0]', id LIMIT 3;
SELECT k, q, ARRAY(SELECT id FROM hy_gin WHERE tags @> ARRAY[1, k]
                   ORDER BY emb <-> ARRAY[q, 50]::real[]::floatvector, id LIMIT 3) AS ids
FROM generate_series(1, 2) k, LATERAL (VALUES (k * 10), (k * 10 + 5)) v(q);
RESET milvus.enable_hybrid_search;
RESET milvus.hybrid_strategy;
DROP TABLE hy_gin;
