--
-- float16vector: IEEE binary16 elements, same text form as floatvector
--

SELECT '[1,2,3]'::float16vector;
SELECT ' [ 1 , -2.5 ,3e2 ] '::float16vector;
SELECT '[-0, 0, 0.5, 0.25, 1024, 2048]'::float16vector;

-- values are rounded to the nearest half, and printed as that half exactly
SELECT '[0.1, 0.2, 0.3333333333333333, 3.14159]'::float16vector;
SELECT '[2049, 4097, 1.0001]'::float16vector;

-- round to nearest, ties to even: 1 + 2^-11 lies between 1 and 1 + 2^-10,
-- 1 + 3 * 2^-11 between 1 + 2^-10 and 1 + 2^-9
SELECT '[1.00048828125, 1.00146484375]'::float16vector;

-- the extremes: largest finite, smallest normal, smallest subnormal
SELECT '[65504, -65504, 6.103515625e-05, 5.9604644775390625e-08]'::float16vector;
-- below half of the smallest subnormal rounds to zero; half of it is a tie, to even (zero);
-- three halves of it is a tie between 1 and 2 subnormal steps, to even (2)
SELECT '[1e-8, 2.98023223876953125e-08, 8.94069671630859375e-08]'::float16vector;
-- 65519 rounds down to 65504; 65520 would round to infinity and is refused
SELECT '[65519, -65519]'::float16vector;
SELECT sqlstate_detail_of($$SELECT '[65520]'::float16vector$$);
SELECT sqlstate_detail_of($$SELECT '[1, -70000]'::float16vector$$);

-- every half multiple of 1/256 in [-4, 4] survives a text round trip exactly
SELECT count(*) AS mismatches
FROM (SELECT test_halves(2000, 0.25) AS r) s,
     LATERAL unnest(r, (r::float16vector)::text::float16vector::real[]) AS t(x, y)
WHERE x IS DISTINCT FROM y;

-- typmod
SELECT '[1,2,3]'::float16vector(3);
SELECT format_type('float16vector'::regtype, 3);
CREATE TEMP TABLE hv (id int, v float16vector(2));
INSERT INTO hv VALUES (1, '[1,2]'), (2, '[0.5,-65504]');
SELECT sqlstate_of($$INSERT INTO hv VALUES (3, '[1,2,3]')$$);
SELECT * FROM hv ORDER BY id;
SELECT sqlstate_detail_of($$SELECT '[1,2]'::float16vector::float16vector(3)$$);

-- equality compares the stored halves
SELECT '[0.1]'::float16vector = '[0.09998]'::float16vector AS same_half,
       '[0]'::float16vector = '[-0]'::float16vector AS zero_is_minus_zero,
       '[1,2]'::float16vector < '[1,3]'::float16vector AS lt;

SELECT vector_dims('[1,2,3,4,5]'::float16vector), vector_dims(NULL::float16vector);
