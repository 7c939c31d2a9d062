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

-- Compare the k nearest by index scan with the exact answer: 'same' or the
-- two distance lists; says so if the index was not used.
CREATE FUNCTION hnsw_vs_exact(tab text, col text, op text, q text, k int,
                              filter text DEFAULT 'true') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    query text := format('SELECT %s %s %L AS d FROM %s WHERE %s ORDER BY %s %s %L LIMIT %s',
                         col, op, q, tab, filter, col, op, q, k);
    line text;
    used boolean := false;
    a float8[];
    b float8[];
BEGIN
    PERFORM set_config('enable_seqscan', 'off', true);
    PERFORM set_config('enable_bitmapscan', 'off', true);
    PERFORM set_config('enable_indexscan', 'on', true);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        used := used OR line LIKE '%Index Scan using%';
    END LOOP;
    EXECUTE format('SELECT array_agg(d) FROM (%s) s', query) INTO a;
    PERFORM set_config('enable_seqscan', 'on', true);
    PERFORM set_config('enable_indexscan', 'off', true);
    EXECUTE format('SELECT array_agg(d) FROM (%s) s', query) INTO b;
    PERFORM set_config('enable_indexscan', 'on', true);
    IF NOT used THEN
        RETURN 'index not used';
    ELSIF a IS NOT DISTINCT FROM b THEN
        RETURN 'same';
    END IF;
    RETURN format('index %s exact %s', a, b);
END
$$;
