--
-- Helpers the later tests share: pg_regress runs every test in one database,
-- in name order, so what is defined here stays available.
--

-- Run a statement; return 'ok', or the error's SQLSTATE and message.
CREATE FUNCTION sqlstate_of(statement text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- The same, with the error's DETAIL when it has one.
CREATE FUNCTION sqlstate_detail_of(statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' DETAIL: ' || nullif(detail, ''), '');
END
$$;

-- Only the SQLSTATE, or 'ok': for errors whose wording is not the point.
CREATE FUNCTION sqlstate_code_of(statement text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;

SELECT sqlstate_of('SELECT 1'), sqlstate_of('SELECT 1/0'),
       sqlstate_detail_of('SELECT ''x''::int'), sqlstate_code_of('SELECT 1/0');

--
-- Test data.  random() after setseed() is pg_prng, the same sequence on every
-- platform, so the vectors below are the same everywhere.
--

-- n reals in [-1, 1)
CREATE FUNCTION test_reals(n int, seed float8) RETURNS real[]
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM setseed(seed);
    RETURN ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, n));
END
$$;

-- n non-zero integers in [-8, 8]: every float32 sum of their products and
-- squared differences is exact below 2^24, whatever the order of additions
CREATE FUNCTION test_ints(n int, seed float8) RETURNS real[]
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM setseed(seed);
    RETURN ARRAY(SELECT CASE WHEN k >= 0 THEN k + 1 ELSE k END::real
                 FROM (SELECT floor(random() * 16)::int - 8 AS k
                       FROM generate_series(1, n)) s);
END
$$;

-- n multiples of 1/256 in [-4, 4], all exact in half precision
CREATE FUNCTION test_halves(n int, seed float8) RETURNS real[]
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM setseed(seed);
    RETURN ARRAY(SELECT ((floor(random() * 2049) - 1024) / 256)::real
                 FROM generate_series(1, n));
END
$$;

-- n reals of which about two in three are zero, for sparse vectors
CREATE FUNCTION test_sparse_reals(n int, seed float8) RETURNS real[]
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM setseed(seed);
    RETURN ARRAY(SELECT CASE WHEN random() < 0.67 THEN 0 ELSE random() * 2 - 1 END::real
                 FROM generate_series(1, n));
END
$$;

-- a string of n random '0'/'1' characters
CREATE FUNCTION test_bits(n int, seed float8) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM setseed(seed);
    RETURN string_agg(CASE WHEN random() < 0.5 THEN '0' ELSE '1' END, '')
           FROM generate_series(1, n);
END
$$;

--
-- Double-precision references, computed from plain arrays with unnest.
--

CREATE FUNCTION ref_l2sq(a float8[], b float8[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT AS
$$ SELECT sum((x - y) * (x - y)) FROM unnest(a, b) AS t(x, y) $$;

CREATE FUNCTION ref_dot(a float8[], b float8[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT AS
$$ SELECT sum(x * y) FROM unnest(a, b) AS t(x, y) $$;

-- sum of |x * y|: the scale an inner product's rounding error is relative to
CREATE FUNCTION ref_abs_dot(a float8[], b float8[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT AS
$$ SELECT sum(abs(x * y)) FROM unnest(a, b) AS t(x, y) $$;

CREATE FUNCTION ref_l1(a float8[], b float8[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT AS
$$ SELECT sum(abs(x - y)) FROM unnest(a, b) AS t(x, y) $$;

CREATE FUNCTION ref_norm(a float8[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT AS
$$ SELECT sqrt(sum(x * x)) FROM unnest(a) AS t(x) $$;

-- 1 - cosine similarity, clamped to [0, 2], NaN when a norm is zero
CREATE FUNCTION ref_cosine(a float8[], b float8[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN aa = 0 OR bb = 0 THEN 'NaN'::float8
                ELSE 1 - greatest(-1, least(1, ab / (sqrt(aa) * sqrt(bb)))) END
    FROM (SELECT sum(x * y) AS ab, sum(x * x) AS aa, sum(y * y) AS bb
          FROM unnest(a, b) AS t(x, y)) s
$$;

-- |result - reference| <= tolerance * scale
CREATE FUNCTION within(result float8, reference float8, tolerance float8, scale float8 DEFAULT 1)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS
$$ SELECT abs(result - reference) <= tolerance * scale $$;

--
-- Index scans against exact search (hnsw, hnsw_large).
--

-- The milvus_hnsw indexes of table tab, for EXPLAIN lines to name.
CREATE FUNCTION hnsw_indexes_of(tab text) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(c.relname::text), '{}')
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_am a ON a.oid = c.relam
    WHERE i.indrelid = tab::regclass AND a.amname = 'milvus_hnsw'
$$;

-- Does EXPLAIN of query show a scan of one of the milvus_hnsw indexes idx?
CREATE FUNCTION hnsw_plan_uses(query text, idx text[]) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF substring(line FROM 'Index Scan using (\S+) on ') = ANY (idx) THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;

-- Plan the statements that follow in this transaction on the vector index:
-- sequential scans, bitmap scans and sorts (a B-tree scan plus a sort) all
-- priced out, so a filter cannot route the query around milvus_hnsw.
CREATE FUNCTION force_vector_index() RETURNS void
LANGUAGE sql AS $$
    SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
           set_config('enable_sort', 'off', true), set_config('enable_indexscan', 'on', true)
$$;

-- And back: exact search, a sequential scan and a sort.
CREATE FUNCTION force_exact_search() RETURNS void
LANGUAGE sql AS $$
    SELECT set_config('enable_seqscan', 'on', true), set_config('enable_bitmapscan', 'on', true),
           set_config('enable_sort', 'on', true), set_config('enable_indexscan', 'off', true)
$$;

-- Compare the k nearest by a scan of tab's milvus_hnsw index with the exact
-- answer: 'same' or the two distance lists; says so if EXPLAIN does not show
-- a milvus_hnsw index of tab as the scan (any other index, say a primary key
-- plus a sort, would only compare exact search with itself).
CREATE FUNCTION hnsw_vs_exact(tab text, col text, op text, q text, k int,
                              filter text DEFAULT 'true') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    query text := format('SELECT %s %s %L AS d FROM %s WHERE %s ORDER BY %s %s %L LIMIT %s',
                         col, op, q, tab, filter, col, op, q, k);
    used boolean;
    a float8[];
    b float8[];
BEGIN
    PERFORM force_vector_index();
    used := hnsw_plan_uses(query, hnsw_indexes_of(tab));
    EXECUTE format('SELECT array_agg(d) FROM (%s) s', query) INTO a;
    PERFORM force_exact_search();
    EXECUTE format('SELECT array_agg(d) FROM (%s) s', query) INTO b;
    PERFORM set_config('enable_indexscan', 'on', true);
    IF NOT used THEN
        RETURN 'milvus_hnsw index not used';
    ELSIF a IS NOT DISTINCT FROM b THEN
        RETURN 'same';
    END IF;
    RETURN format('index %s exact %s', a, b);
END
$$;

-- Recall@k of milvus_hnsw index idx over the query vectors that queries (a
-- SELECT of one text column) returns, against exact search: the share of the
-- true k nearest (by distance, so ties do not matter) among the rows the
-- index scan returns, averaged over the queries.  Errors if a query is not
-- planned as a scan of idx.  The column and operator come from the index.
CREATE FUNCTION hnsw_recall(idx regclass, queries text, k int,
                            filter text DEFAULT 'true') RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
    tab regclass;
    col name;
    op text;
    q text;
    query text;
    n_exact int;
    n_hit int;
    total int := 0;
    hits int := 0;
    kth float8;
BEGIN
    SELECT i.indrelid::regclass, a.attname INTO tab, col
    FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indexrelid = idx;
    SELECT o.oprname INTO op
    FROM pg_index i JOIN pg_opclass c ON c.oid = i.indclass[0]
         JOIN pg_amop ao ON ao.amopfamily = c.opcfamily AND ao.amoppurpose = 'o'
         JOIN pg_operator o ON o.oid = ao.amopopr
    WHERE i.indexrelid = idx;
    FOR q IN EXECUTE queries LOOP
        query := format('SELECT %I %s %L AS d FROM %s WHERE %s ORDER BY %I %s %L LIMIT %s',
                        col, op, q, tab, filter, col, op, q, k);
        PERFORM force_exact_search();
        EXECUTE format('SELECT max(d), count(*) FROM (%s) s', query) INTO kth, n_exact;
        PERFORM force_vector_index();
        IF NOT hnsw_plan_uses(query, ARRAY[idx::text]) THEN
            RAISE EXCEPTION 'the query is not planned as a scan of %', idx;
        END IF;
        EXECUTE format('SELECT count(*) FROM (%s) s WHERE d <= %L', query, kth) INTO n_hit;
        total := total + n_exact;
        hits := hits + least(n_hit, n_exact);
    END LOOP;
    PERFORM force_exact_search();
    PERFORM set_config('enable_indexscan', 'on', true);
    RETURN round(hits::numeric / nullif(total, 0), 4);
END
$$;

-- 'ok' when a measured figure reaches its floor, else the figure and the
-- floor: expected output holds no figure, and a failure shows it.
CREATE FUNCTION at_least(measured numeric, floor numeric) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN measured >= floor THEN 'ok' ELSE format('%s, below %s', measured, floor) END $$;
