--
-- milvus.distance_kernels: every kernel set this CPU runs, through the SQL
-- functions and operators, against the portable set ("scalar").
--
-- Which sets run depends on the CPU, so nothing below prints a set's name or
-- how many there are: the sets are found by trying each value the setting
-- knows, and the output counts disagreements.  Exact data (small integers,
-- bits, sparse vectors) must give the same float8 under every set; other
-- float data may differ by the rounding of a float32 sum in another order.
--

-- the setting: superuser only, every set there is, the best one by default
SELECT context, vartype, enumvals, setting = boot_val AS at_best
FROM pg_settings WHERE name = 'milvus.distance_kernels';
SET milvus.distance_kernels = scalar;
SHOW milvus.distance_kernels;
SET milvus.distance_kernels = 'SCALAR';
SHOW milvus.distance_kernels;
SELECT sqlstate_of($$SET milvus.distance_kernels = sse9$$);
SELECT sqlstate_of($$SET milvus.distance_kernels = ''$$);
RESET milvus.distance_kernels;
SELECT setting = boot_val AS reset_to_best
FROM pg_settings WHERE name = 'milvus.distance_kernels';
BEGIN;
SET LOCAL milvus.distance_kernels = scalar;
SHOW milvus.distance_kernels;
ROLLBACK;
SELECT setting = boot_val AS rolled_back
FROM pg_settings WHERE name = 'milvus.distance_kernels';
CREATE ROLE regress_distance_kernels;
SET ROLE regress_distance_kernels;
SELECT sqlstate_of($$SET milvus.distance_kernels = scalar$$) AS not_superuser;
RESET ROLE;
DROP ROLE regress_distance_kernels;

-- The sets this CPU runs, in the setting's order (portable first, best
-- last): every value it accepts.  A value refused must be refused as one
-- the CPU cannot run (0A000), with a detail saying why.
CREATE FUNCTION kernel_sets_here() RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    saved text := current_setting('milvus.distance_kernels');
    candidate text;
    detail text;
    sets text[] := '{}';
BEGIN
    FOREACH candidate IN ARRAY (SELECT enumvals FROM pg_settings
                                WHERE name = 'milvus.distance_kernels') LOOP
        BEGIN
            PERFORM set_config('milvus.distance_kernels', candidate, false);
            sets := sets || candidate;
        EXCEPTION WHEN feature_not_supported THEN
            GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
            IF detail NOT LIKE format('The kernel set "%s" cannot run: %%.', candidate) THEN
                RAISE 'unexpected detail for %: %', candidate, detail;
            END IF;
        END;
    END LOOP;
    PERFORM set_config('milvus.distance_kernels', saved, false);
    RETURN sets;
END
$$;
SELECT s[1] = 'scalar' AS scalar_runs_first,
       s[cardinality(s)] = current_setting('milvus.distance_kernels') AS best_runs_last,
       current_setting('milvus.distance_kernels') = (SELECT boot_val FROM pg_settings
                                                     WHERE name = 'milvus.distance_kernels')
           AS setting_restored
FROM kernel_sets_here() s;

--
-- The data: for each length, pairs of several kinds.  Lengths are the loop
-- edges of 4-, 8- and 16-lane kernels and longer vectors.
--
CREATE TEMP TABLE kt_lengths (n int);
INSERT INTO kt_lengths
VALUES (1), (2), (3), (4), (5), (7), (8), (9), (15), (16), (17), (31), (32), (33), (47),
       (63), (64), (65), (127), (128), (129), (255), (257), (1000), (1536), (4099);

-- awkward elements: zeros of both signs, a float32 subnormal, a half
-- subnormal, the largest half, small and large, fractions
CREATE FUNCTION kt_awkward(n int, shift int) RETURNS real[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT (ARRAY[0, '-0', 1e-40, -3.5, 1000, 6e-8, 65504, -0.001, 0.1, 7,
                               -65504, 2.5e-5, -1])[1 + (i * 7 + shift) % 13]::real
                 FROM generate_series(1, n) i)
$$;

-- dense pairs; exact: every float32 sum of the pair's terms is exact, so all
-- sets must agree to the bit; half: the elements fit in float16vector.  The
-- huge pairs overflow float32 in inner products and cosine, to infinity or
-- NaN under every set.
CREATE TEMP TABLE kt_dense (id serial, kind text, n int, a real[], b real[],
                            exact boolean, half boolean);
INSERT INTO kt_dense (kind, n, a, b, exact, half)
SELECT kind, n, a, b, exact, half
FROM kt_lengths,
LATERAL (VALUES
    ('ints', test_ints(n, 0.11), test_ints(n, 0.12), true, true),
    ('reals', test_reals(n, 0.13), test_reals(n, 0.14), false, true),
    ('awkward', kt_awkward(n, 0), kt_awkward(n, 5), false, true),
    ('same', test_reals(n, 0.15), test_reals(n, 0.15), false, true),
    ('zero', array_fill(0::real, ARRAY[n]), test_reals(n, 0.16), false, true),
    ('subnormal', array_fill(1e-40::real, ARRAY[n]), array_fill('-0'::real, ARRAY[n]),
     false, false),
    ('huge', array_fill(1e20::real, ARRAY[n]), array_fill(-1e20::real, ARRAY[n]), false, false)
) AS k(kind, a, b, exact, half);

-- bit pairs, n bytes each
CREATE TEMP TABLE kt_bits (id serial, kind text, n int, a binaryvector, b binaryvector);
INSERT INTO kt_bits (kind, n, a, b)
SELECT kind, n, a::binaryvector, b::binaryvector
FROM kt_lengths,
LATERAL (VALUES
    ('random', test_bits(8 * n, 0.21), test_bits(8 * n, 0.22)),
    ('ones', repeat('1', 8 * n), test_bits(8 * n, 0.23)),
    ('zeros', repeat('0', 8 * n), repeat('0', 8 * n)),
    ('one_bit', repeat('0', 8 * n - 1) || '1', repeat('0', 8 * n - 1) || '1')
) AS k(kind, a, b);

-- every distance function and operator of each type on every pair, and the
-- scale its float32 rounding is relative to (sparse distances add in double,
-- outside the kernel sets, so they are exact here)
CREATE FUNCTION kt_results()
RETURNS TABLE (type text, fn text, id int, exact boolean, n int, value float8, scale float8)
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['floatvector', 'float16vector', 'sparsevector'] LOOP
        RETURN QUERY EXECUTE format($q$
            SELECT %1$L, f.fn, d.id, d.exact OR %1$L = 'sparsevector', d.n, f.value, f.scale
            FROM kt_dense d,
            LATERAL (SELECT d.a::floatvector::%1$s AS x, d.b::floatvector::%1$s AS y,
                            d.a::float8[] AS p, d.b::float8[] AS q) v,
            LATERAL (SELECT ref_l2sq(v.p, v.q) AS l2sq, ref_abs_dot(v.p, v.q) AS abs_dot,
                            ref_l1(v.p, v.q) AS l1) r,
            LATERAL (VALUES
                ('l2_distance', l2_distance(v.x, v.y), sqrt(r.l2sq)),
                ('<->', v.x <-> v.y, sqrt(r.l2sq)),
                ('l2_squared_distance', l2_squared_distance(v.x, v.y), r.l2sq),
                ('inner_product', inner_product(v.x, v.y), r.abs_dot),
                ('negative_inner_product', negative_inner_product(v.x, v.y), r.abs_dot),
                ('<#>', v.x <#> v.y, r.abs_dot),
                ('cosine_distance', cosine_distance(v.x, v.y), 1),
                ('<=>', v.x <=> v.y, 1),
                ('l1_distance', l1_distance(v.x, v.y), r.l1),
                ('<+>', v.x <+> v.y, r.l1)
            ) AS f(fn, value, scale)
            WHERE d.half OR %1$L <> 'float16vector'
        $q$, t);
    END LOOP;
    RETURN QUERY
    SELECT 'binaryvector', f.fn, b.id, true, b.n, f.value, 0::float8
    FROM kt_bits b,
    LATERAL (VALUES
        ('hamming_distance', hamming_distance(b.a, b.b)), ('<~>', b.a <~> b.b),
        ('jaccard_distance', jaccard_distance(b.a, b.b)), ('<%>', b.a <%> b.b),
        ('bit_count', bit_count(b.a)::float8)
    ) AS f(fn, value);
END
$$;

-- Every set against scalar: equal (NaN and infinity included), or for
-- inexact data within 4 n 2^-24 times the scale, twice the worst error of a
-- float32 sum of n terms in any order.
BEGIN;
SET LOCAL milvus.distance_kernels = scalar;
CREATE TEMP TABLE kt_scalar AS SELECT * FROM kt_results();
COMMIT;
CREATE TEMP TABLE kt_compared (set text, type text, fn text, id int, value float8, agrees boolean);
DO $$
DECLARE
    s text;
BEGIN
    FOREACH s IN ARRAY kernel_sets_here() LOOP
        PERFORM set_config('milvus.distance_kernels', s, true);
        INSERT INTO kt_compared
        SELECT s, r.type, r.fn, r.id, r.value,
               r.value IS NOT DISTINCT FROM k.value
               OR (NOT k.exact AND
                   abs(r.value - k.value) <= 4 * k.n * 2 ^ -24 * greatest(k.scale, abs(k.value)))
        FROM kt_results() r JOIN kt_scalar k USING (type, fn, id);
    END LOOP;
END
$$;
RESET milvus.distance_kernels;
SELECT type, fn, count(DISTINCT id) AS pairs,
       count(*) FILTER (WHERE NOT agrees) AS disagreements,
       bool_and(s.set <> 'scalar' OR value IS NOT DISTINCT FROM
                (SELECT value FROM kt_scalar k WHERE (k.type, k.fn, k.id) = (s.type, s.fn, s.id)))
           AS scalar_repeats
FROM kt_compared s
GROUP BY type, fn
ORDER BY type, fn;
-- every set was compared on every result
SELECT count(DISTINCT set) = cardinality(kernel_sets_here()) AS every_set,
       bool_and(c = (SELECT count(*) FROM kt_scalar)) AS every_result
FROM (SELECT set, count(*) AS c FROM kt_compared GROUP BY set) s;
-- the setting takes effect at once: where a SIMD set of float kernels runs,
-- some inexact result differs from scalar's in its last bits
SELECT NOT EXISTS (SELECT FROM kt_compared WHERE set LIKE 'avx%')
       OR EXISTS (SELECT FROM kt_compared c JOIN kt_scalar k USING (type, fn, id)
                  WHERE c.set LIKE 'avx%' AND c.value IS DISTINCT FROM k.value) AS switch_seen;
-- a parallel worker computes with the session's set: under scalar and under
-- the best set, a worker's distances are those the session computed above
-- (a temporary table is out of a worker's reach: a plain one)
CREATE TABLE kt_parallel AS
SELECT id, a::floatvector AS x, b::floatvector AS y FROM kt_dense WHERE kind = 'reals';
ANALYZE kt_parallel;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF) SELECT array_agg(x <-> y ORDER BY id) FROM kt_parallel;
SET milvus.distance_kernels = scalar;
SELECT array_agg(x <-> y ORDER BY id)::text AS worker_scalar FROM kt_parallel \gset
RESET milvus.distance_kernels;
SELECT array_agg(x <-> y ORDER BY id)::text AS worker_best FROM kt_parallel \gset
RESET force_parallel_mode;
SELECT :'worker_scalar' = (SELECT array_agg(value ORDER BY id)::text FROM kt_scalar
                           WHERE type = 'floatvector' AND fn = '<->'
                             AND id IN (SELECT id FROM kt_parallel)) AS worker_scalar_same,
       :'worker_best' = (SELECT array_agg(value ORDER BY id)::text FROM kt_compared
                         WHERE type = 'floatvector' AND fn = '<->'
                           AND id IN (SELECT id FROM kt_parallel)
                           AND set = current_setting('milvus.distance_kernels'))
           AS worker_best_same;
DROP TABLE kt_parallel;
-- the disagreements, if any
SELECT c.set, c.type, c.fn, d.kind, d.n, c.value, k.value AS scalar_value
FROM kt_compared c JOIN kt_scalar k USING (type, fn, id)
LEFT JOIN kt_dense d ON d.id = c.id AND c.type <> 'binaryvector'
WHERE NOT c.agrees
ORDER BY 1, 2, 3, 4, 5
LIMIT 20;

DROP TABLE kt_lengths, kt_dense, kt_bits, kt_scalar, kt_compared;
DROP FUNCTION kt_results(), kt_awkward(int, int), kernel_sets_here();
