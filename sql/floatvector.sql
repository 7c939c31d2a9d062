--
-- floatvector: text input and output, typmods, storage
--

-- input forms: white space around every token, signs, exponents
SELECT '[1,2,3]'::floatvector;
SELECT ' [ 1 , -2.5 ,3e2 ] '::floatvector;
SELECT E'[\t1,\n2\r]'::floatvector;
SELECT '[+1.5, -0, 0, 1e-3, 1E+3, .5, 5.]'::floatvector;
SELECT '[42]'::floatvector;

-- output is the shortest text that reads back as the same float32
SELECT '[0.1, 0.2, 0.3333333333333333]'::floatvector;
SELECT '[3.4028235e38, -3.4028235e38, 1.1754944e-38, 1e-45]'::floatvector;
SELECT '[16777217, 123456789, 1.00000001]'::floatvector;
-- as real: subnormals are kept, underflow to zero is refused
SELECT '[1e-40]'::floatvector AS subnormal;
SELECT sqlstate_of($$SELECT '[1e-50]'::floatvector$$) AS underflow_to_zero;

-- text round trip is exact for every float32 (compare as real arrays)
SELECT count(*) AS mismatches
FROM (SELECT test_reals(1000, 0.5) AS r) s,
     LATERAL unnest(r, (r::floatvector)::text::floatvector::real[]) AS t(x, y)
WHERE x IS DISTINCT FROM y;

-- typmod
SELECT '[1,2,3]'::floatvector(3);
SELECT format_type('floatvector'::regtype, 3), format_type('floatvector'::regtype, -1);

CREATE TEMP TABLE fv (id int, v floatvector(3));
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'fv'::regclass AND attnum > 0 ORDER BY attnum;
INSERT INTO fv VALUES (1, '[1,2,3]'), (2, '[-1.5,0,1e10]'), (3, NULL);
SELECT sqlstate_of($$INSERT INTO fv VALUES (4, '[1,2]')$$);
SELECT sqlstate_of($$INSERT INTO fv VALUES (4, '[1,2,3,4]'::floatvector)$$);
SELECT sqlstate_of($$UPDATE fv SET v = '[1]' WHERE id = 1$$);
SELECT * FROM fv ORDER BY id;

-- a column without typmod takes any dimension
CREATE TEMP TABLE fv_any (v floatvector);
INSERT INTO fv_any VALUES ('[1]'), ('[1,2]'), ('[1,2,3,4,5,6,7,8,9]');
SELECT v, vector_dims(v) FROM fv_any ORDER BY vector_dims(v);

-- explicit length coercion
SELECT '[1,2]'::floatvector::floatvector(2);
SELECT sqlstate_detail_of($$SELECT '[1,2]'::floatvector::floatvector(3)$$);

-- equality and ordering on small examples (btree.sql has more)
SELECT '[1,2,3]'::floatvector = '[1,2,3]'::floatvector AS eq,
       '[1,2,3]'::floatvector <> '[1,2,4]'::floatvector AS ne,
       '[1,2,3]'::floatvector < '[1,2,4]'::floatvector AS lt,
       '[0]'::floatvector = '[-0]'::floatvector AS zero_is_minus_zero;

-- the element type is float32
SELECT '[0.1]'::floatvector = '[0.100000001]'::floatvector AS same_float32;

-- NULL in, NULL out: every function is strict
SELECT vector_dims(NULL::floatvector), l2_distance(NULL, '[1]'::floatvector);
