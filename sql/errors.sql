--
-- Every error a user can cause with a value, with its SQLSTATE.  By design
-- (src/types/vector_common.c): malformed text 22P02; a number out of range,
-- infinity included, 22003; too many dimensions 54000; NaN, no element,
-- mismatched dimensions, bad sparse indices and bit counts not a multiple of
-- 8 22000; bad type modifiers 22023; arrays with nulls 22004.
-- Mismatched operands of distances, arithmetic and aggregates are in
-- distances.sql, functions.sql and aggregates.sql.
--

--
-- floatvector literals
--
SELECT input, sqlstate_detail_of(format('SELECT %L::floatvector', input)) AS error
FROM (VALUES (''), ('   '), ('1,2'), ('[1,2'), ('[1,,2]'), ('[,1]'), ('[1 2]'), ('[a]'),
             ('[1]x'), ('[1,2,]'), ('[[1]]'), ('{1,2}'), ('[--1]'), ('[1e]'), ('[1;2]'),
             ('[]'), ('[ ]'),
             ('[NaN]'), ('[1,nan]'), ('[-NaN]'),
             ('[1e39]'), ('[-1e39]'), ('[1,3.5e38]')) v(input);
-- infinity is a number out of range (22003), as the array casts and the
-- binary input already report it
SELECT input, sqlstate_code_of(format('SELECT %L::floatvector', input)) AS sqlstate
FROM (VALUES ('[inf]'), ('[-inf]'), ('[Infinity]'), ('[1,-Infinity]')) v(input);
-- one dimension too many, and far too many
SELECT n, sqlstate_of(format('SELECT %L::floatvector', '[' || repeat('1,', n - 1) || '1]')) AS error
FROM unnest(ARRAY[32769, 100000]) n;

--
-- float16vector literals: the same parser, then the half range
--
SELECT input, sqlstate_detail_of(format('SELECT %L::float16vector', input)) AS error
FROM (VALUES (''), ('[1,2'), ('[1,,2]'), ('[a]'), ('[1]x'), ('[]'),
             ('[NaN]'), ('[1e39]'),
             ('[65520]'), ('[-65520]'), ('[1,100000]'), ('[3e38]')) v(input);
SELECT input, sqlstate_code_of(format('SELECT %L::float16vector', input)) AS sqlstate
FROM (VALUES ('[inf]'), ('[-Infinity]')) v(input);
SELECT sqlstate_of(format('SELECT %L::float16vector', '[' || repeat('1,', 32768) || '1]')) AS error_32769;

--
-- binaryvector literals
--
SELECT input, sqlstate_detail_of(format('SELECT %L::binaryvector', input)) AS error
FROM (VALUES (''), ('   '), ('0101101'), ('010110100'), ('1'), ('01011012'),
             ('abc'), ('01011010x'), ('0x5a'), ('[0,1]'), ('B01011010')) v(input);
-- white space inside the bits is malformed (what the detail should say
-- there is not settled, so only the SQLSTATE)
SELECT input, sqlstate_code_of(format('SELECT %L::binaryvector', input)) AS sqlstate
FROM (VALUES ('0101 1010'), ('01011010 1')) v(input);
SELECT bits, sqlstate_of(format('SELECT %L::binaryvector', repeat('1', bits))) AS error
FROM unnest(ARRAY[262145, 262152, 300000]) bits;

--
-- sparsevector literals
--
SELECT input, sqlstate_detail_of(format('SELECT %L::sparsevector', input)) AS error
FROM (VALUES (''), ('{1:1}'), ('{1:1}/'), ('{1:1}/x'), ('{1:1}/5x'), ('{1:1}/-1'), ('1:1/5'),
             ('{1:}/5'), ('{:1}/5'), ('{1 1}/5'), ('{1:1,}/5'), ('{,}/5'), ('{1:1 2:2}/5'),
             ('{1.5:1}/5'), ('{-1:1}/5'), ('{a:1}/5'), ('{1:a}/5'), ('[1,2]'),
             ('{1:1}/0'), ('{}/0'),
             ('{0:1}/5'), ('{6:1}/5'), ('{1:1,6:1}/5'), ('{3000000000:1}/5'),
             ('{2:1,1:1}/5'), ('{1:1,3:1,2:1}/5'), ('{1:1,1:2}/5'), ('{2:0,2:0}/5'),
             ('{1:NaN}/5'), ('{1:1e39}/5'), ('{1:-1e39}/5')) v(input);
-- infinity is out of range; a dimension above the limit is too many dimensions
SELECT input, sqlstate_code_of(format('SELECT %L::sparsevector', input)) AS sqlstate
FROM (VALUES ('{1:inf}/5'), ('{1:1,2:-Infinity}/5'),
             ('{}/1000000001'), ('{1:1}/3000000000')) v(input);

--
-- type modifiers
--
SELECT t, sqlstate_of(format('SELECT NULL::%s', t)) AS error
FROM (VALUES ('floatvector(0)'), ('floatvector(-1)'), ('floatvector(32769)'), ('floatvector(2,3)'),
             ('float16vector(0)'), ('float16vector(32769)'), ('float16vector(1,1)'),
             ('binaryvector(0)'), ('binaryvector(7)'), ('binaryvector(12)'), ('binaryvector(262152)'),
             ('sparsevector(0)'), ('sparsevector(1000000001)'), ('sparsevector(5,5)')) v(t);
SELECT sqlstate_of('CREATE TEMP TABLE bad_typmod (v floatvector(0))');
SELECT sqlstate_of('CREATE TEMP TABLE bad_typmod (v binaryvector(7))');
SELECT sqlstate_code_of($$SELECT NULL::floatvector('a')$$);
-- the largest modifiers are fine
SELECT t, sqlstate_of(format('SELECT NULL::%s', t)) AS result
FROM (VALUES ('floatvector(32768)'), ('float16vector(32768)'), ('binaryvector(262144)'),
             ('sparsevector(1000000000)'), ('floatvector(1)'), ('binaryvector(8)')) v(t);

--
-- a value that does not match the column's dimension
--
CREATE TEMP TABLE typmod_fv (v floatvector(3));
CREATE TEMP TABLE typmod_hv (v float16vector(3));
CREATE TEMP TABLE typmod_bv (v binaryvector(16));
CREATE TEMP TABLE typmod_sv (v sparsevector(3));
SELECT stmt, sqlstate_detail_of(stmt) AS error
FROM (VALUES ($$INSERT INTO typmod_fv VALUES ('[1,2]')$$),
             ($$INSERT INTO typmod_fv VALUES ('[1,2,3,4]'::floatvector)$$),
             ($$INSERT INTO typmod_fv VALUES (ARRAY[1,2]::real[])$$),
             ($$INSERT INTO typmod_fv VALUES ('{1:1}/4'::sparsevector)$$),
             ($$INSERT INTO typmod_hv VALUES ('[1,2]')$$),
             ($$INSERT INTO typmod_hv VALUES ('[1,2]'::floatvector)$$),
             ($$INSERT INTO typmod_bv VALUES ('01011010')$$),
             ($$INSERT INTO typmod_bv VALUES (B'01011010')$$),
             ($$INSERT INTO typmod_sv VALUES ('{1:1}/4')$$),
             ($$INSERT INTO typmod_sv VALUES ('[1,2]'::floatvector)$$)) v(stmt);

--
-- arrays
--
SELECT input, sqlstate_detail_of(format('SELECT %L::%s::floatvector', input, t)) AS to_floatvector,
       sqlstate_detail_of(format('SELECT %L::%s::float16vector', input, t)) AS to_float16vector
FROM (VALUES ('{}', 'real[]'), ('{NULL}', 'real[]'), ('{1,NULL,3}', 'float8[]'),
             ('{NULL,2}', 'int[]'), ('{1,NULL}', 'numeric[]'),
             ('{{1,2},{3,4}}', 'real[]'), ('{{1}}', 'int[]'),
             ('{NaN}', 'real[]'), ('{1,NaN}', 'float8[]'), ('{NaN}', 'numeric[]'),
             ('{Infinity}', 'real[]'), ('{-Infinity}', 'float8[]'), ('{Infinity}', 'numeric[]'),
             ('{1e300}', 'float8[]'), ('{-1e39}', 'float8[]'), ('{1e39}', 'numeric[]'),
             ('{70000}', 'real[]')) v(input, t);
SELECT sqlstate_of('SELECT array_fill(1, ARRAY[32769])::real[]::floatvector') AS fv_32769,
       sqlstate_of('SELECT array_fill(1, ARRAY[32769])::int[]::float16vector') AS hv_32769;
