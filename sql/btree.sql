--
-- B-tree operator classes: =, <>, <, <=, >, >= and the comparison behind
-- DISTINCT, GROUP BY, ORDER BY and unique indexes.
--
-- The order: element by element over the common prefix, then the shorter
-- vector first.  Sparse vectors order as the dense vectors they stand for;
-- bits order bytewise, as bit varying does.
--

-- the operator classes are complete
SELECT opcname, amvalidate(opc.oid)
FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
WHERE am.amname = 'btree'
  AND opcname IN ('floatvector_ops', 'float16vector_ops', 'binaryvector_ops', 'sparsevector_ops')
ORDER BY opcname;

-- ordering rules, including across dimensions
SELECT v FROM (VALUES ('[1,2,3]'::floatvector), ('[1,2]'), ('[1,3]'), ('[0,9,9,9]'), ('[1]'),
                      ('[-1,100]'), ('[1,2,3,-1]'), ('[1,2,2.5]'), ('[-0.5]'), ('[1,2,3]')) t(v)
ORDER BY v;
SELECT v FROM (VALUES ('[1,2,3]'::float16vector), ('[1,2]'), ('[1,3]'), ('[0,9,9,9]'), ('[1]'),
                      ('[-1,100]'), ('[1,2,3,-1]'), ('[1,2,2.5]'), ('[-0.5]')) t(v)
ORDER BY v;
SELECT v FROM (VALUES ('{1:1,2:2,3:3}/3'::sparsevector), ('{1:1,2:2}/2'), ('{1:1,2:3}/2'),
                      ('{2:9,3:9,4:9}/4'), ('{1:1}/1'), ('{1:-1,2:100}/2'), ('{1:1,2:2,3:3,4:-1}/4'),
                      ('{1:1,2:2,3:2.5}/3'), ('{1:-0.5}/1'), ('{}/2'), ('{}/1'), ('{2:-1}/2'),
                      ('{3:1}/3'), ('{3:-1}/3')) t(v)
ORDER BY v;
SELECT v FROM (VALUES ('01011010'::binaryvector), ('0101101000000000'), ('01011011'), ('00000000'),
                      ('0000000011111111'), ('11111111'), ('0101101011111111'), ('00000000')) t(v)
ORDER BY v;

-- every operator agrees with the comparison
SELECT count(*) AS pairs,
       bool_and((a < b) = (c < 0) AND (a <= b) = (c <= 0) AND (a = b) = (c = 0)
                AND (a <> b) = (c <> 0) AND (a >= b) = (c >= 0) AND (a > b) = (c > 0)) AS consistent,
       bool_and(floatvector_cmp(b, a) = -c) AS antisymmetric
FROM (SELECT a, b, floatvector_cmp(a, b) AS c
      FROM (VALUES ('[1,2,3]'::floatvector), ('[1,2]'), ('[1,3]'), ('[-1]'), ('[1,2,3,0]'), ('[0]'))
           x(a),
           (VALUES ('[1,2,3]'::floatvector), ('[1,2]'), ('[1,3]'), ('[-1]'), ('[1,2,3,0]'), ('[-0]'))
           y(b)) s;

-- on random vectors the order is the one of their elements as real[]
-- (sparse, half and dense), and of their bits as bit varying
CREATE TEMP TABLE order_data AS
SELECT i, ARRAY(SELECT (floor(random() * 5) - 2)::real
                FROM generate_series(1, 1 + (i % 4))) AS a
FROM (SELECT setseed(0.42)) s, generate_series(1, 400) i;
SELECT count(*) AS rows,
       count(DISTINCT a) AS distinct_arrays,
       count(DISTINCT a::floatvector) AS distinct_fv,
       count(DISTINCT a::float16vector) AS distinct_hv,
       count(DISTINCT a::floatvector::sparsevector) AS distinct_sv
FROM order_data;
SELECT bool_and(fv_rank = ref_rank) AS fv_order, bool_and(hv_rank = ref_rank) AS hv_order,
       bool_and(sv_rank = ref_rank) AS sv_order
FROM (SELECT dense_rank() OVER (ORDER BY a) AS ref_rank,
             dense_rank() OVER (ORDER BY a::floatvector) AS fv_rank,
             dense_rank() OVER (ORDER BY a::float16vector) AS hv_rank,
             dense_rank() OVER (ORDER BY a::floatvector::sparsevector) AS sv_rank
      FROM order_data) r;
-- every pair, for the sparse comparison's many cases
SELECT count(*) AS pairs,
       bool_and(sparsevector_cmp(x.a::floatvector::sparsevector, y.a::floatvector::sparsevector)
                = btarraycmp(x.a, y.a)) AS sv_cmp,
       bool_and(float16vector_cmp(x.a::float16vector, y.a::float16vector) = btarraycmp(x.a, y.a)) AS hv_cmp
FROM (SELECT DISTINCT a FROM order_data) x, (SELECT DISTINCT a FROM order_data) y;
CREATE TEMP TABLE bit_order AS
SELECT i, test_bits(8 * (1 + i % 3), i / 1000.0) AS b FROM generate_series(1, 300) i;
SELECT bool_and(bv_rank = ref_rank) AS bv_order
FROM (SELECT dense_rank() OVER (ORDER BY b::varbit) AS ref_rank,
             dense_rank() OVER (ORDER BY b::binaryvector) AS bv_rank
      FROM bit_order) r;

-- DISTINCT and GROUP BY (sorted: there is no hash operator class)
SELECT DISTINCT v FROM (VALUES ('[1,2]'::floatvector), ('[1,2]'), ('[2,1]'), ('[1,2,0]'), ('[1,2]')) t(v)
ORDER BY v;
SELECT v, count(*) FROM (VALUES ('[0.1]'::float16vector), ('[0.09998]'), ('[0.2]'), ('[0]')) t(v)
GROUP BY v ORDER BY v;
SELECT count(DISTINCT v) AS zero_and_minus_zero
FROM (VALUES ('[-0,1]'::float16vector), ('[0,1]'), ('[0,1]'::floatvector::float16vector)) t(v);
SELECT v, count(*) FROM (VALUES ('{1:1}/3'::sparsevector), ('{1:1,2:0}/3'), ('{1:1}/4'), ('{}/3')) t(v)
GROUP BY v ORDER BY v;
SELECT v, count(*) FROM (VALUES ('01011010'::binaryvector), (B'01011010'::binaryvector), ('01011011')) t(v)
GROUP BY v ORDER BY v;
-- and through an index
CREATE TEMP TABLE idx_fv (id int, v floatvector);
INSERT INTO idx_fv SELECT i, ARRAY[i % 10, i % 3]::real[] FROM generate_series(1, 1000) i;
CREATE INDEX ON idx_fv (v);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM idx_fv WHERE v = '[1,1]';
SELECT count(*) FROM idx_fv WHERE v = '[1,1]';
SELECT count(*) FROM idx_fv WHERE v < '[1,1]';
SELECT count(*) FROM idx_fv WHERE v >= '[9,2]';
SELECT DISTINCT v FROM idx_fv WHERE v BETWEEN '[2]' AND '[3]' ORDER BY v;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- unique indexes refuse a duplicate vector
CREATE TEMP TABLE uniq (fv floatvector UNIQUE, hv float16vector UNIQUE,
                        bv binaryvector UNIQUE, sv sparsevector UNIQUE);
INSERT INTO uniq VALUES ('[1,2]', '[1,2]', '01011010', '{1:1}/2');
INSERT INTO uniq VALUES ('[1,2,0]', '[1,2,0]', '0101101000000000', '{1:1}/3');
SELECT sqlstate_of($$INSERT INTO uniq (fv) VALUES ('[1,2]')$$);
SELECT sqlstate_of($$INSERT INTO uniq (fv) VALUES ('[-0,0]'), ('[0,-0]')$$);
SELECT sqlstate_of($$INSERT INTO uniq (hv) VALUES ('[1.0001,2]')$$);
SELECT sqlstate_of($$INSERT INTO uniq (bv) VALUES (B'01011010')$$);
SELECT sqlstate_of($$INSERT INTO uniq (sv) VALUES ('{1:1,2:0}/2')$$);
SELECT sqlstate_of($$INSERT INTO uniq (sv) VALUES ('[1,0]'::floatvector)$$);
SELECT * FROM uniq ORDER BY fv;

-- min() and max() are not defined; ORDER BY ... LIMIT 1 does the job
SELECT v FROM (VALUES ('[2]'::floatvector), ('[1,5]'), ('[1]')) t(v) ORDER BY v LIMIT 1;
SELECT v FROM (VALUES ('[2]'::floatvector), ('[1,5]'), ('[1]')) t(v) ORDER BY v DESC LIMIT 1;
