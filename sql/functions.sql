--
-- vector_dims, vector_norm, l2_normalize, subvector, element-wise + - *,
-- concatenation, binary_quantize
--

-- vector_dims
SELECT vector_dims('[1,2,3]'::floatvector) AS fv,
       vector_dims('[1,2,3,4]'::float16vector) AS hv,
       vector_dims('0101101000000000'::binaryvector) AS bv,
       vector_dims('{2:1}/1000'::sparsevector) AS sv;

-- vector_norm: exact on small examples, and against the reference
SELECT vector_norm('[3,4]'::floatvector) AS fv_5,
       vector_norm('[0,0,0]'::floatvector) AS fv_0,
       vector_norm('[-3,0,4]'::float16vector) AS hv_5,
       vector_norm('[1,1,1,1]'::floatvector) AS fv_2;
-- accumulated in double: 1e-12 relative
SELECT n,
       within(vector_norm(a::floatvector), ref_norm(a::float8[]), 1e-12, ref_norm(a::float8[])) AS fv,
       within(vector_norm(h::float16vector), ref_norm(h::float8[]), 1e-12, ref_norm(h::float8[])) AS hv,
       within(vector_norm(a::floatvector::sparsevector), ref_norm(a::float8[]), 1e-12,
              ref_norm(a::float8[])) AS sv
FROM (SELECT n, test_reals(n, 0.3) AS a, test_halves(n, 0.3) AS h
      FROM unnest(ARRAY[1, 7, 17, 1536, 32768]) n) s
ORDER BY n;
-- no float32 overflow in the squares
-- (1.7014118346046923e38 is 2^127)
SELECT within(vector_norm('[1.7014118346046923e38,1.7014118346046923e38]'::floatvector),
              2 ^ 127 * sqrt(2::float8), 1e-15, 2 ^ 127) AS fv_large,
       within(vector_norm('[65504,65504]'::float16vector), 65504 * sqrt(2::float8), 1e-15, 65504) AS hv_large;

-- l2_normalize
SELECT l2_normalize('[3,4]'::floatvector) AS fv,
       l2_normalize('[0,0]'::floatvector) AS fv_zero_stays_zero,
       l2_normalize('[-5]'::floatvector) AS fv_one,
       l2_normalize('[3,4]'::float16vector) AS hv,
       l2_normalize('[0,0]'::float16vector) AS hv_zero;
-- the result has norm 1 up to float32 (half) rounding of each element
SELECT n,
       within(vector_norm(l2_normalize(a::floatvector)), 1, 1e-6) AS fv_unit,
       within(vector_norm(l2_normalize(h::float16vector)), 1, 2e-3) AS hv_unit,
       within(vector_norm(l2_normalize(a::floatvector::sparsevector)), 1, 1e-6) AS sv_unit,
       -- it points the same way
       within(l2_normalize(a::floatvector) <=> a::floatvector, 0, 1e-6) AS fv_same_direction
FROM (SELECT n, test_reals(n, 0.4) AS a, test_halves(n, 0.4) AS h
      FROM unnest(ARRAY[1, 7, 17, 1536, 32768]) n) s
ORDER BY n;
-- large elements normalise without overflow
SELECT l2_normalize('[1.7014118346046923e38,-1.7014118346046923e38]'::floatvector) AS fv_large,
       l2_normalize('[65504,0]'::float16vector) AS hv_large,
       l2_normalize('[1e-40,0]'::floatvector) AS fv_subnormal;

-- subvector(v, start, count): 1-based, clipped to the vector like substring()
SELECT subvector('[1,2,3,4,5]'::floatvector, 1, 3) AS first_3,
       subvector('[1,2,3,4,5]'::floatvector, 3, 3) AS middle,
       subvector('[1,2,3,4,5]'::floatvector, 5, 1) AS last,
       subvector('[1,2,3,4,5]'::floatvector, 1, 5) AS whole;
SELECT subvector('[1,2,3,4,5]'::floatvector, 4, 100) AS clipped_end,
       subvector('[1,2,3,4,5]'::floatvector, 0, 2) AS from_0,
       subvector('[1,2,3,4,5]'::floatvector, -2, 5) AS from_minus_2,
       subvector('[1,2,3,4,5]'::floatvector, -100, 2147483647) AS everything,
       subvector('[1,2,3,4,5]'::floatvector, 2, 2147483647) AS no_overflow;
SELECT subvector('[1,2,3,4,5]'::float16vector, 2, 3) AS hv,
       subvector('[1,2,3,4,5]'::float16vector, -1, 3) AS hv_clipped,
       subvector('[0.1,65504]'::float16vector, 2, 1) AS hv_exact;
-- same as substring() on a text of one letter per element
SELECT count(*) AS cases,
       bool_and(vector_dims(subvector(v, s, c)) = length(substring('abcdefg', s, c))) AS dims_agree,
       bool_and(subvector(v, s, c)::real[] = (('{' || array_to_string(ARRAY(
           SELECT ascii(ch) - 96 FROM regexp_split_to_table(substring('abcdefg', s, c), '') ch), ',')
           || '}')::real[])) AS elements_agree
FROM (SELECT '[1,2,3,4,5,6,7]'::floatvector AS v) x,
     generate_series(-3, 8) s, generate_series(0, 10) c
WHERE length(substring('abcdefg', s, c)) > 0;
-- an empty range, and a negative count, are errors
SELECT sqlstate_detail_of($$SELECT subvector('[1,2,3]'::floatvector, 4, 1)$$);
SELECT sqlstate_detail_of($$SELECT subvector('[1,2,3]'::floatvector, 1, 0)$$);
SELECT sqlstate_detail_of($$SELECT subvector('[1,2,3]'::floatvector, -5, 6)$$);
SELECT sqlstate_detail_of($$SELECT subvector('[1,2,3]'::floatvector, 2147483647, 2147483647)$$);
SELECT sqlstate_of($$SELECT subvector('[1,2,3]'::floatvector, 1, -1)$$);
SELECT sqlstate_detail_of($$SELECT subvector('[1,2,3]'::float16vector, 0, 1)$$);
SELECT sqlstate_of($$SELECT subvector('[1,2,3]'::float16vector, 1, -1)$$);

-- element-wise arithmetic
SELECT '[1,2,3]'::floatvector + '[4,5,6]' AS add,
       '[1,2,3]'::floatvector - '[4,5,6]' AS sub,
       '[1,2,3]'::floatvector * '[4,5,6]' AS mul,
       '[0.1,0.2]'::floatvector + '[0.2,0.1]' AS float32_sum;
SELECT '[1,2,3]'::float16vector + '[4,5,6]' AS add,
       '[1,2,3]'::float16vector - '[4,5,6]' AS sub,
       '[1,2,3]'::float16vector * '[4,5,6]' AS mul,
       '[0.1,1000]'::float16vector + '[0.2,0.1]' AS rounded_to_half;
-- against the reference, element by element: float32 arithmetic rounds once
SELECT bool_and((a::floatvector + b::floatvector)::real[] = ARRAY(SELECT (x + y)::real FROM unnest(a, b) t(x, y))) AS add,
       bool_and((a::floatvector - b::floatvector)::real[] = ARRAY(SELECT (x - y)::real FROM unnest(a, b) t(x, y))) AS sub,
       bool_and((a::floatvector * b::floatvector)::real[] = ARRAY(SELECT (x::float8 * y)::real FROM unnest(a, b) t(x, y))) AS mul
FROM (SELECT test_reals(1537, 0.6) AS a, test_reals(1537, -0.6) AS b) s;
-- overflow to infinity is an error, underflow to zero is not
SELECT sqlstate_of($$SELECT '[3e38]'::floatvector + '[3e38]'$$);
SELECT sqlstate_of($$SELECT '[1,-3e38]'::floatvector - '[1,3e38]'$$);
SELECT sqlstate_of($$SELECT '[1e20,1]'::floatvector * '[1e20,1]'$$);
SELECT '[1e-30]'::floatvector * '[1e-30]' AS underflow;
SELECT sqlstate_of($$SELECT '[60000]'::float16vector + '[60000]'$$);
SELECT sqlstate_of($$SELECT '[-60000]'::float16vector - '[60000]'$$);
SELECT sqlstate_of($$SELECT '[1,300]'::float16vector * '[1,300]'$$);
SELECT '[65504]'::float16vector + '[15]' AS rounds_down_to_max,
       '[0.001]'::float16vector * '[0.001]' AS half_underflow;
-- dimensions must match
SELECT sqlstate_of($$SELECT '[1,2]'::floatvector + '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::floatvector - '[1]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::floatvector * '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::float16vector + '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::float16vector - '[1]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::float16vector * '[1,2,3]'$$);

-- concatenation
SELECT '[1,2]'::floatvector || '[3]'::floatvector AS fv,
       '[1]'::float16vector || '[0.1,3]'::float16vector AS hv,
       vector_dims(('[1]'::floatvector || '[2]'::floatvector) || '[3,4,5]'::floatvector) AS dims_5;
-- up to the dimension limit, and not one past it
SELECT vector_dims(a || a) AS fv_32768, vector_dims(h || h) AS hv_32768
FROM (SELECT array_fill(1, ARRAY[16384])::real[]::floatvector AS a,
             array_fill(1, ARRAY[16384])::real[]::float16vector AS h) s;
SELECT sqlstate_of($$SELECT array_fill(1, ARRAY[32768])::real[]::floatvector || '[1]'::floatvector$$);
SELECT sqlstate_of($$SELECT array_fill(1, ARRAY[16385])::real[]::float16vector
                            || array_fill(1, ARRAY[16384])::real[]::float16vector$$);

-- binary_quantize: a bit per element, set where the element is positive
SELECT binary_quantize('[1,-1,0,-0,0.001,-0.001,1e-45,3e38]'::floatvector) AS fv,
       binary_quantize('[1,-1,0,-0,0.001,-0.001,6e-8,65504]'::float16vector) AS hv;
SELECT binary_quantize(a::floatvector)::text
       = array_to_string(ARRAY(SELECT CASE WHEN x > 0 THEN '1' ELSE '0' END FROM unnest(a) x), '')
       AS matches_reference
FROM (SELECT test_reals(1536, 0.7) AS a) s;
SELECT sqlstate_detail_of($$SELECT binary_quantize('[1,2,3]'::floatvector)$$);
SELECT sqlstate_of($$SELECT binary_quantize('[1,2,3,4,5,6,7,8,9]'::float16vector)$$);
