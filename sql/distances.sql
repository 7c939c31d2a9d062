--
-- Every distance function and operator on every type, against a plain SQL
-- double-precision reference (00_helpers.sql) at awkward dimensions: below,
-- at and just past every SIMD width and unroll step, and the largest.
--
-- Two kinds of data:
--  * integers in [-8, 8]: every float32 partial sum is an integer below 2^24,
--    so any summation order is exact and results must equal the reference
--    exactly; a lost, doubled or misread tail element cannot hide.
--  * reals in [-1, 1): the kernels accumulate in float32.  Summing up to
--    32,768 terms in float32 errs by about 2^-24 * sqrt(n) relative to the
--    sum of the terms' magnitudes (2e-6 at 32,768 in one lane, less in
--    more); 1e-5 of that scale keeps a safe margin on every kernel set.
--    For cosine the three sums' errors add up to at most 2e-5 absolute,
--    since |a.b| <= |a||b|.
--  Sparse vectors accumulate in double: 1e-12 relative.
--

CREATE TEMP TABLE test_dims (n int PRIMARY KEY);
INSERT INTO test_dims VALUES (1), (7), (8), (15), (16), (17), (31), (784), (1536), (32768);

-- the raw data as real[] (a and b), two kinds per dimension
CREATE TEMP TABLE dense_data AS
SELECT 'ints' AS kind, n, test_ints(n, 1.0 / (n + 1)) AS a, test_ints(n, -1.0 / (n + 1)) AS b
FROM test_dims
UNION ALL
SELECT 'reals', n, test_reals(n, 0.5 / (n + 1)), test_reals(n, -0.5 / (n + 1))
FROM test_dims;

-- what the references need: the same elements as float8[]
CREATE TEMP TABLE dense_ref AS
SELECT kind, n, a, b,
       ref_l2sq(a::float8[], b::float8[]) AS l2sq,
       ref_dot(a::float8[], b::float8[]) AS dot,
       ref_abs_dot(a::float8[], b::float8[]) AS abs_dot,
       ref_l1(a::float8[], b::float8[]) AS l1,
       ref_cosine(a::float8[], b::float8[]) AS cosine,
       ref_norm(a::float8[]) AS norm_a
FROM dense_data;

-- the data was built right: every dimension, no zero vector, no tie to break
SELECT kind, count(*) AS dims, bool_and(array_length(a, 1) = n AND array_length(b, 1) = n) AS lengths,
       bool_and(norm_a > 0) AS nonzero
FROM dense_ref GROUP BY kind ORDER BY kind;

-- tolerance per kind: 0 for ints (exact), 1e-5 of the scale for reals
CREATE FUNCTION dense_tol(kind text) RETURNS float8 LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE kind WHEN 'ints' THEN 0 ELSE 1e-5 END $$;

--
-- floatvector
--
SELECT kind, n,
       within(l2_distance(x, y), sqrt(l2sq), dense_tol(kind), sqrt(l2sq)) AS l2,
       within(l2_squared_distance(x, y), l2sq, dense_tol(kind), l2sq) AS l2sq,
       within(inner_product(x, y), dot, dense_tol(kind), abs_dot) AS ip,
       within(negative_inner_product(x, y), -dot, dense_tol(kind), abs_dot) AS nip,
       within(cosine_distance(x, y), cosine, CASE kind WHEN 'ints' THEN 1e-15 ELSE 2e-5 END) AS cosine,
       within(l1_distance(x, y), l1, dense_tol(kind), l1) AS l1,
       -- the operators are the functions
       (x <-> y) = l2_distance(x, y) AND (x <#> y) = negative_inner_product(x, y)
         AND (x <=> y) = cosine_distance(x, y) AND (x <+> y) = l1_distance(x, y) AS ops,
       -- symmetric
       (y <-> x) = (x <-> y) AND (y <#> x) = (x <#> y) AND (y <+> x) = (x <+> y) AS sym,
       -- a vector is at distance 0 from itself
       (x <-> x) = 0 AND (x <+> x) = 0 AS self
FROM (SELECT *, a::floatvector AS x, b::floatvector AS y FROM dense_ref) s
ORDER BY kind, n;

--
-- float16vector: the data are exact halves (ints and multiples of 1/256)
--
CREATE TEMP TABLE half_ref AS
SELECT kind, n, a, b,
       ref_l2sq(a::float8[], b::float8[]) AS l2sq,
       ref_dot(a::float8[], b::float8[]) AS dot,
       ref_abs_dot(a::float8[], b::float8[]) AS abs_dot,
       ref_l1(a::float8[], b::float8[]) AS l1,
       ref_cosine(a::float8[], b::float8[]) AS cosine
FROM (SELECT kind, n, a, b FROM dense_data WHERE kind = 'ints'
      UNION ALL
      SELECT 'halves', n, test_halves(n, 0.25 / (n + 1)), test_halves(n, -0.25 / (n + 1))
      FROM test_dims) s;

-- the halves really are exact: the cast changes nothing
SELECT kind, bool_and(a::float16vector::real[] = a AND b::float16vector::real[] = b) AS exact
FROM half_ref GROUP BY kind ORDER BY kind;

SELECT kind, n,
       within(l2_distance(x, y), sqrt(l2sq), dense_tol(kind), sqrt(l2sq)) AS l2,
       within(l2_squared_distance(x, y), l2sq, dense_tol(kind), l2sq) AS l2sq,
       within(inner_product(x, y), dot, dense_tol(kind), abs_dot) AS ip,
       within(negative_inner_product(x, y), -dot, dense_tol(kind), abs_dot) AS nip,
       within(cosine_distance(x, y), cosine, CASE kind WHEN 'ints' THEN 1e-15 ELSE 2e-5 END) AS cosine,
       within(l1_distance(x, y), l1, dense_tol(kind), l1) AS l1,
       (x <-> y) = l2_distance(x, y) AND (x <#> y) = negative_inner_product(x, y)
         AND (x <=> y) = cosine_distance(x, y) AND (x <+> y) = l1_distance(x, y) AS ops,
       (y <-> x) = (x <-> y) AND (y <#> x) = (x <#> y) AND (y <+> x) = (x <+> y) AS sym,
       (x <-> x) = 0 AND (x <+> x) = 0 AS self
FROM (SELECT *, a::float16vector AS x, b::float16vector AS y FROM half_ref) s
ORDER BY kind, n;

--
-- sparsevector: about two elements in three are zero, so the merge meets
-- entries on one side only, on both, and runs off either end; the largest
-- dimension goes past the dense limit
--
CREATE TEMP TABLE sparse_ref AS
SELECT n, a, b,
       ref_l2sq(a::float8[], b::float8[]) AS l2sq,
       ref_dot(a::float8[], b::float8[]) AS dot,
       ref_abs_dot(a::float8[], b::float8[]) AS abs_dot,
       ref_l1(a::float8[], b::float8[]) AS l1,
       ref_cosine(a::float8[], b::float8[]) AS cosine
FROM (SELECT n, test_sparse_reals(n, 0.75 / (n + 1)) AS a, test_sparse_reals(n, -0.75 / (n + 1)) AS b
      FROM (SELECT n FROM test_dims UNION ALL SELECT 100000) d) s;

SELECT n,
       nnz(x) = (SELECT count(*) FROM unnest(a) e WHERE e <> 0) AS nnz_ok,
       within(l2_distance(x, y), sqrt(l2sq), 1e-12, sqrt(l2sq)) AS l2,
       within(l2_squared_distance(x, y), l2sq, 1e-12, l2sq) AS l2sq,
       within(inner_product(x, y), dot, 1e-12, abs_dot) AS ip,
       within(negative_inner_product(x, y), -dot, 1e-12, abs_dot) AS nip,
       within(cosine_distance(x, y), cosine, 1e-12) OR (cosine = 'NaN' AND cosine_distance(x, y) = 'NaN') AS cosine,
       within(l1_distance(x, y), l1, 1e-12, l1) AS l1,
       (x <-> y) = l2_distance(x, y) AND (x <#> y) = negative_inner_product(x, y)
         AND ((x <=> y) = cosine_distance(x, y)) AND (x <+> y) = l1_distance(x, y) AS ops,
       (y <-> x) = (x <-> y) AND (y <#> x) = (x <#> y) AND (y <+> x) = (x <+> y) AS sym
FROM (SELECT *,
             -- built from text, not through the dense cast
             ('{' || coalesce((SELECT string_agg(i || ':' || e, ',' ORDER BY i)
                               FROM unnest(a) WITH ORDINALITY u(e, i) WHERE e <> 0), '')
              || '}/' || n)::sparsevector AS x,
             ('{' || coalesce((SELECT string_agg(i || ':' || e, ',' ORDER BY i)
                               FROM unnest(b) WITH ORDINALITY u(e, i) WHERE e <> 0), '')
              || '}/' || n)::sparsevector AS y
      FROM sparse_ref
      OFFSET 0) s  -- build x and y once per row
ORDER BY n;

-- sparse and dense agree on the same vectors (as far as the dense rounding)
SELECT n,
       within(x::sparsevector <-> y::sparsevector, x <-> y, 1e-5, x <-> y) AS l2,
       within(x::sparsevector <#> y::sparsevector, x <#> y, 1e-5, abs_dot) AS nip,
       within(x::sparsevector <=> y::sparsevector, x <=> y, 2e-5) AS cosine,
       within(x::sparsevector <+> y::sparsevector, x <+> y, 1e-5, x <+> y) AS l1
FROM (SELECT n, abs_dot, a::floatvector AS x, b::floatvector AS y
      FROM dense_ref WHERE kind = 'reals') s
ORDER BY n;

-- a sparse vector whose entries sit far apart in a huge dimension
SELECT a <-> b AS l2_5, a <#> b AS nip_minus_5, a <+> b AS l1_7, l2_squared_distance(a, b) AS l2sq_25
FROM (SELECT '{1:1,500000000:2,1000000000:3}/1000000000'::sparsevector AS a,
             '{1:1,500000000:2,999999999:4}/1000000000'::sparsevector AS b) s;

--
-- binaryvector: Hamming and Jaccard against bit strings, at the same
-- dimensions counted in bytes (8 to 262,144 bits)
--
CREATE TEMP TABLE bit_data AS
SELECT n AS bytes, test_bits(8 * n, 1.0 / (n + 2)) AS a, test_bits(8 * n, -1.0 / (n + 2)) AS b
FROM test_dims;

SELECT bytes,
       hamming_distance(x, y) = bit_count(p # q) AS hamming,
       jaccard_distance(x, y) = 1 - bit_count(p & q)::float8 / bit_count(p | q) AS jaccard,
       (x <~> y) = hamming_distance(x, y) AND (x <%> y) = jaccard_distance(x, y) AS ops,
       (y <~> x) = (x <~> y) AND (y <%> x) = (x <%> y) AS sym,
       bit_count(x) = bit_count(p) AS bit_count,
       (x <~> x) = 0 AND (x <%> x) = 0 AS self
FROM (SELECT bytes, a::binaryvector AS x, b::binaryvector AS y, a::varbit AS p, b::varbit AS q
      FROM bit_data) s
ORDER BY bytes;

-- the same at a bit in every position of a 1,536-byte vector: the one bit
-- that differs is found wherever it is
SELECT count(*) AS positions,
       bool_and(hamming_distance(x, y) = 1) AS hamming_1,
       bool_and(jaccard_distance(x, y) = 1 - (bit_count(x) - 1)::float8 / bit_count(x)) AS jaccard
FROM (SELECT i, repeat('1', 12288)::binaryvector AS x,
             (repeat('1', i - 1) || '0' || repeat('1', 12288 - i))::binaryvector AS y
      FROM generate_series(1, 12288, 97) i) s;

--
-- Exact values on small examples
--
SELECT '[1,2,3]'::floatvector <-> '[3,2,1]' AS l2_sqrt8,
       sqrt(8::float8) AS sqrt8,
       l2_squared_distance('[1,2,3]'::floatvector, '[3,2,1]') AS l2sq_8,
       inner_product('[1,2,3]'::floatvector, '[3,2,1]') AS ip_10,
       '[1,2,3]'::floatvector <#> '[3,2,1]' AS nip_minus_10,
       '[1,2,3]'::floatvector <+> '[3,2,1]' AS l1_4,
       '[1,2,3]'::floatvector <=> '[3,2,1]' AS cosine;
SELECT 1 - 10 / 14::float8 AS cosine_reference;
SELECT '[3,4]'::floatvector <-> '[0,0]' AS l2_5,
       '[1,0]'::floatvector <=> '[0,1]' AS orthogonal_1,
       '[1,0]'::floatvector <=> '[-1,0]' AS opposite_2,
       '[3,4]'::floatvector <=> '[6,8]' AS parallel_0,
       '[1,1]'::floatvector <=> '[1,0]' = 1 - 1 / sqrt(2::float8) AS diagonal,
       '[0,0]'::floatvector <=> '[1,2]' AS zero_nan;
SELECT '[1,2,3]'::float16vector <-> '[3,2,1]' AS l2_sqrt8,
       l2_squared_distance('[1,2,3]'::float16vector, '[3,2,1]') AS l2sq_8,
       inner_product('[1,2,3]'::float16vector, '[3,2,1]') AS ip_10,
       '[1,2,3]'::float16vector <#> '[3,2,1]' AS nip_minus_10,
       '[1,2,3]'::float16vector <+> '[3,2,1]' AS l1_4,
       '[3,4]'::float16vector <=> '[-6,-8]' AS opposite_2,
       '[0.5,-0.25]'::float16vector <=> '[1,2]' AS orthogonal_1,
       '[0,0]'::float16vector <=> '[1,2]' AS zero_nan;
-- large values: the result is not confined to float16, only the elements
SELECT '[65504]'::float16vector <-> '[-65504]' AS l2_131008,
       inner_product('[65504,65504]'::float16vector, '[65504,65504]') AS ip;
SELECT 2 * 65504::float8 * 65504 AS ip_reference;

-- dimensions must match
SELECT sqlstate_of($$SELECT '[1,2]'::floatvector <-> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT l2_squared_distance('[1,2]'::floatvector, '[1]')$$);
SELECT sqlstate_of($$SELECT '[1,2]'::floatvector <#> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT inner_product('[1,2]'::floatvector, '[1,2,3]')$$);
SELECT sqlstate_of($$SELECT '[1,2]'::floatvector <=> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::floatvector <+> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::float16vector <-> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT l2_squared_distance('[1,2]'::float16vector, '[1]')$$);
SELECT sqlstate_of($$SELECT '[1,2]'::float16vector <#> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT inner_product('[1,2]'::float16vector, '[1,2,3]')$$);
SELECT sqlstate_of($$SELECT '[1,2]'::float16vector <=> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::float16vector <+> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '{}/2'::sparsevector <-> '{}/3'$$);
SELECT sqlstate_of($$SELECT l2_squared_distance('{}/2'::sparsevector, '{}/3')$$);
SELECT sqlstate_of($$SELECT '{}/2'::sparsevector <#> '{}/3'$$);
SELECT sqlstate_of($$SELECT inner_product('{}/2'::sparsevector, '{}/3')$$);
SELECT sqlstate_of($$SELECT '{}/2'::sparsevector <=> '{}/3'$$);
SELECT sqlstate_of($$SELECT '{}/2'::sparsevector <+> '{}/3'$$);
SELECT sqlstate_of($$SELECT '01011010'::binaryvector <~> '0101101001011010'$$);
SELECT sqlstate_of($$SELECT '01011010'::binaryvector <%> '0101101001011010'$$);

-- no distance between different types
SELECT sqlstate_of($$SELECT '[1,2]'::floatvector <-> '[1,2]'::float16vector$$);

-- the kernel set in use is one of the known ones; only a superuser changes
-- it, for testing (sql/distance_kernels.sql runs every set against scalar)
SELECT current_setting('milvus.distance_kernels')
       IN ('scalar', 'popcnt', 'avx2', 'avx512', 'avx512_vpopcntdq') AS known_kernels;
SELECT sqlstate_of($$SET milvus.distance_kernels = 'scalar'$$) AS superuser_sets_scalar;
SELECT current_setting('milvus.distance_kernels') AS kernels;
RESET milvus.distance_kernels;
SELECT sqlstate_of($$SET milvus.no_such_setting = 1$$);
