--
-- Casts: arrays <-> dense vectors, floatvector <-> float16vector,
-- dense <-> sparse, bit strings <-> binaryvector
--

-- arrays to floatvector
SELECT '{1,2.5,-3}'::real[]::floatvector AS from_real,
       '{1,2.5,-3}'::float8[]::floatvector AS from_float8,
       '{1,2,-3}'::int[]::floatvector AS from_int,
       '{1,2.5,-3}'::numeric[]::floatvector AS from_numeric;
SELECT ARRAY[0.1, 1e-45, 3.4028234e38]::float8[]::floatvector AS float8_rounded,
       ARRAY[16777217, 2147483647]::int[]::floatvector AS int_rounded,
       ARRAY[0.1, 1.00000001]::numeric[]::floatvector AS numeric_rounded;
-- numeric goes through numeric -> real, which refuses underflow
SELECT sqlstate_of($$SELECT ARRAY[1e-50]::numeric[]::floatvector$$);
-- float8 refuses underflow to zero too, as the text form and float8 -> real do
SELECT sqlstate_detail_of($$SELECT ARRAY[1, -1e-50]::float8[]::floatvector$$);
SELECT sqlstate_of($$SELECT 1e-50::float8::real$$) AS postgres_float8_to_real;
-- every way into a dense vector agrees with the text form: the same elements
-- or the same SQLSTATE, for numbers at the edges of float32 and of half
CREATE FUNCTION cast_result(statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE statement INTO result;
    RETURN result;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;
SELECT t, x, from_text, from_real, from_float8, from_numeric,
       from_text = ALL (ARRAY[from_real, from_float8, from_numeric]) AS agree
FROM (SELECT t, x, i,
             cast_result(format('SELECT ''[%s]''::%s::text', x, t)) AS from_text,
             cast_result(format('SELECT ARRAY[%s]::real[]::%s::text', x, t)) AS from_real,
             cast_result(format('SELECT ARRAY[%s]::float8[]::%s::text', x, t)) AS from_float8,
             cast_result(format('SELECT ARRAY[%s]::numeric[]::%s::text', x, t)) AS from_numeric
      FROM unnest(ARRAY['1e-50', '-1e-50', '1e-46', '7e-46', '8e-46', '1e-45', '1e-39',
                        '2.9e-8', '6e-8', '65519', '65520', '-65520', '3.4028235e38',
                        '3.5e38', '-1e39']) WITH ORDINALITY AS u(x, i),
           unnest(ARRAY['floatvector', 'float16vector']) AS t) s
ORDER BY t DESC, i;
DROP FUNCTION cast_result(text);
-- an array with other bounds is still just its elements
SELECT '[0:2]={7,8,9}'::real[]::floatvector AS lower_bound_0;
-- assignment casts: an array goes into a vector column without a cast
CREATE TEMP TABLE cast_target (v floatvector(3), h float16vector(3));
INSERT INTO cast_target VALUES (ARRAY[1,2,3]::real[], ARRAY[4,5,6]::float8[]);
INSERT INTO cast_target VALUES (ARRAY[1,2,3], ARRAY[4.5,5,6]);
SELECT * FROM cast_target;
SELECT sqlstate_of($$INSERT INTO cast_target (v) VALUES (ARRAY[1,2]::real[])$$);
SELECT ARRAY[1,2,3]::real[]::floatvector(3) AS typmod_ok;
SELECT sqlstate_detail_of($$SELECT ARRAY[1,2,3]::real[]::floatvector(2)$$);

-- floatvector to arrays
SELECT '[1,2.5,-3]'::floatvector::real[] AS to_real,
       '[1,2.5,-3]'::floatvector::float8[] AS to_float8,
       '[1,2.5,-3.5]'::floatvector::int[] AS to_int_rounded_half_even,
       '[1,0.1,-3]'::floatvector::numeric[] AS to_numeric;
SELECT '[0.1]'::floatvector::float8[] AS float32_widened;
SELECT sqlstate_of($$SELECT '[3e9]'::floatvector::int[]$$);
-- round trips
SELECT bool_and(a::floatvector::real[] = a) AS real_round_trip,
       bool_and(a::floatvector::float8[]::floatvector = a::floatvector) AS float8_round_trip,
       -- numeric keeps 15 significant digits, enough to read back the same float32
       bool_and(a::floatvector::numeric[]::floatvector = a::floatvector) AS numeric_round_trip
FROM (SELECT test_reals(n, 0.8) AS a FROM unnest(ARRAY[1, 17, 1536]) n) s;

-- arrays to and from float16vector
SELECT '{1,2.5,-3}'::real[]::float16vector AS from_real,
       '{0.1,65504,-65519}'::float8[]::float16vector AS from_float8,
       '{1,2049,-3}'::int[]::float16vector AS from_int,
       '{1,2.5,0.1}'::numeric[]::float16vector AS from_numeric;
SELECT '[1,0.1,-3]'::float16vector::real[] AS to_real,
       '[1,0.1,-3]'::float16vector::float8[] AS to_float8,
       '[1,2.5,-3.5]'::float16vector::int[] AS to_int,
       '[1,0.5,-3]'::float16vector::numeric[] AS to_numeric;
SELECT sqlstate_detail_of($$SELECT '{1,65520}'::real[]::float16vector$$);
SELECT sqlstate_detail_of($$SELECT '{100000}'::int[]::float16vector$$);
SELECT sqlstate_of($$SELECT '{1,2}'::real[]::float16vector(3)$$);

-- floatvector <-> float16vector: rounding to half, widening exactly
SELECT '[1,0.1,-65504,1e-8]'::floatvector::float16vector AS to_half,
       '[1,0.1,-65504,6e-8]'::float16vector::floatvector AS to_float;
SELECT bool_and(h::float16vector::floatvector = h::floatvector) AS halves_exact
FROM (SELECT test_halves(n, 0.9) AS h FROM unnest(ARRAY[1, 17, 1536, 32768]) n) s;
SELECT '[1,2]'::floatvector::float16vector(2) AS typmod_ok;
SELECT sqlstate_detail_of($$SELECT '[1,70000]'::floatvector::float16vector$$);
SELECT sqlstate_of($$SELECT '[1,2]'::floatvector::float16vector(3)$$);
SELECT sqlstate_of($$SELECT '[1,2]'::float16vector::floatvector(3)$$);
-- assignment cast between the two
CREATE TEMP TABLE half_target (h float16vector);
INSERT INTO half_target VALUES ('[0.1,2]'::floatvector);
SELECT * FROM half_target;

-- dense -> sparse keeps the non-zero elements
SELECT '[0,1.5,0,-0,2]'::floatvector::sparsevector AS fv_to_sv,
       '[0,0,0]'::floatvector::sparsevector AS all_zero,
       '[0,0.1,0]'::float16vector::sparsevector AS hv_to_sv;
SELECT '[0,1,0]'::floatvector::sparsevector(3) AS typmod_ok;
SELECT sqlstate_of($$SELECT '[0,1,0]'::floatvector::sparsevector(4)$$);
SELECT sqlstate_of($$SELECT '[0,1,0]'::float16vector::sparsevector(4)$$);
-- sparse -> dense fills in the zeros
SELECT '{2:1.5,5:2}/5'::sparsevector::floatvector AS sv_to_fv,
       '{}/3'::sparsevector::floatvector AS empty_to_fv,
       '{1:0.1,3:-2}/3'::sparsevector::float16vector AS sv_to_hv;
SELECT '{1:1}/2'::sparsevector::floatvector(2) AS typmod_ok;
SELECT sqlstate_of($$SELECT '{1:1}/2'::sparsevector::floatvector(3)$$);
SELECT sqlstate_of($$SELECT '{1:1}/2'::sparsevector::float16vector(3)$$);
SELECT sqlstate_detail_of($$SELECT '{1:1}/32769'::sparsevector::floatvector$$);
SELECT sqlstate_detail_of($$SELECT '{1:1}/32769'::sparsevector::float16vector$$);
SELECT sqlstate_detail_of($$SELECT '{1:1,2:70000}/2'::sparsevector::float16vector$$);
SELECT vector_dims('{32768:1}/32768'::sparsevector::floatvector) AS largest_dense;
-- round trips
SELECT bool_and(a::floatvector::sparsevector::floatvector = a::floatvector) AS fv_round_trip,
       bool_and(h::float16vector::sparsevector::float16vector = h::float16vector) AS hv_round_trip,
       bool_and(nnz(a::floatvector::sparsevector) = (SELECT count(*) FROM unnest(a) x WHERE x <> 0)) AS nnz_ok
FROM (SELECT test_sparse_reals(n, 0.95) AS a, test_halves(n, 0.95) AS h
      FROM unnest(ARRAY[1, 7, 17, 1536, 32768]) n) s;

-- bit strings <-> binaryvector: the same bits in the same order
SELECT B'01011010'::binaryvector AS from_bit,
       B'0101101011110000'::varbit::binaryvector AS from_varbit,
       '10000001'::bit(8)::binaryvector AS from_bit_8;
SELECT '0101101011110000'::binaryvector::varbit AS to_varbit,
       pg_typeof('01011010'::binaryvector::varbit);
SELECT bool_and(b::varbit::binaryvector::varbit = b::varbit) AS round_trip,
       bool_and(b::varbit::binaryvector::text = b) AS same_text
FROM (SELECT test_bits(8 * n, 0.85) AS b FROM unnest(ARRAY[1, 7, 17, 1536, 32768]) n) s;
SELECT B'01011010'::binaryvector(8) AS typmod_ok;
SELECT sqlstate_of($$SELECT B'01011010'::binaryvector(16)$$);
SELECT sqlstate_detail_of($$SELECT B'0101101'::binaryvector$$);
SELECT sqlstate_of($$SELECT B''::binaryvector$$);
SELECT sqlstate_of($$SELECT repeat('1', 262152)::varbit::binaryvector$$);
-- assignment casts into a binaryvector column
CREATE TEMP TABLE bit_target (b binaryvector(8));
INSERT INTO bit_target VALUES (B'11110000'), (B'00001111'::varbit);
SELECT * FROM bit_target;

-- casts that do not exist
SELECT sqlstate_of($$SELECT '[1]'::floatvector::binaryvector$$);
SELECT sqlstate_of($$SELECT '{1:1}/8'::sparsevector::binaryvector$$);
SELECT sqlstate_of($$SELECT '{1,2}'::bigint[]::floatvector$$);
