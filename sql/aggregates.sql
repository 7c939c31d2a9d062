--
-- avg() and sum() over floatvector and float16vector
--

CREATE TEMP TABLE agg_fv (g int, v floatvector);
INSERT INTO agg_fv VALUES (1, '[1,2,3]'), (1, '[4,5,6]'), (1, '[7,8,10]'),
                          (2, '[0.5,-1,0]'), (2, NULL), (3, NULL);

SELECT avg(v), sum(v) FROM agg_fv WHERE g = 1;
SELECT g, avg(v), sum(v), count(v) FROM agg_fv GROUP BY g ORDER BY g;
-- no rows, or only NULLs: NULL, as for avg() and sum() of numbers
SELECT avg(v), sum(v) FROM agg_fv WHERE false;
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM agg_fv WHERE g = 3;
-- one row
SELECT avg(v), sum(v) FROM agg_fv WHERE g = 2;

-- DISTINCT, FILTER and as a window function (running and sliding frames)
SELECT avg(DISTINCT v) AS avg_distinct, sum(DISTINCT v) AS sum_distinct
FROM (VALUES ('[1,2]'::floatvector), ('[1,2]'), ('[3,4]')) t(v);
SELECT sum(v) FILTER (WHERE v <> '[1,2]') AS filtered
FROM (VALUES ('[1,2]'::floatvector), ('[1,2]'), ('[3,4]')) t(v);
SELECT i, v, avg(v) OVER (ORDER BY i) AS running_avg, sum(v) OVER (ORDER BY i) AS running_sum,
       sum(v) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS pair_sum
FROM (VALUES (1, '[1,10]'::floatvector), (2, '[2,20]'), (3, NULL), (4, '[4,40]')) t(i, v)
ORDER BY i;
SELECT i, avg(v) OVER (ORDER BY i) AS running_avg
FROM (VALUES (1, '[1,10]'::float16vector), (2, '[2,20]'), (3, '[4,40]')) t(i, v)
ORDER BY i;

-- the sums are kept in double: no float32 round-off, no overflow on the way
SELECT avg(v) AS avg_exact, sum(v) AS sum_rounded_once
FROM (VALUES ('[16777216]'::floatvector), ('[1]'), ('[1]'), ('[-16777216]')) t(v);
SELECT avg(v) AS avg_of_huge FROM (VALUES ('[3e38]'::floatvector), ('[3e38]')) t(v);
-- a final sum beyond float32 is an error
SELECT sqlstate_of($$SELECT sum(v) FROM (VALUES ('[3e38]'::floatvector), ('[3e38]')) t(v)$$);

-- against the reference at a large dimension
SELECT bool_and(x = y) AS avg_elements_exact
FROM (SELECT unnest(avg(a::floatvector)::real[]) AS x,
             unnest((SELECT array_agg(e ORDER BY i) FROM (
                 SELECT i, avg(r[i]::float8)::real AS e
                 FROM (SELECT test_reals(1537, s) AS r FROM unnest(ARRAY[0.1, 0.2, 0.3]) s) d,
                      generate_series(1, 1537) i
                 GROUP BY i) q)) AS y
      FROM (SELECT test_reals(1537, s) AS a FROM unnest(ARRAY[0.1, 0.2, 0.3]) s) d) c;

-- float16vector: accumulated in double, rounded to half at the end
CREATE TEMP TABLE agg_hv (v float16vector);
INSERT INTO agg_hv VALUES ('[1,2,0.5]'), ('[2,3,0.25]'), ('[3,4,0.125]');
SELECT avg(v), sum(v) FROM agg_hv;
SELECT avg(v), sum(v) FROM agg_hv WHERE false;
SELECT pg_typeof(avg(v)), pg_typeof(sum(v)) FROM agg_hv;
SELECT avg(v) AS avg_of_large FROM (VALUES ('[65504]'::float16vector), ('[65504]')) t(v);
SELECT sqlstate_of($$SELECT sum(v) FROM (VALUES ('[65504]'::float16vector), ('[65504]')) t(v)$$);

-- dimensions must agree
SELECT sqlstate_of($$SELECT avg(v) FROM (VALUES ('[1,2]'::floatvector), ('[1,2,3]')) t(v)$$);
SELECT sqlstate_of($$SELECT sum(v) FROM (VALUES ('[1,2]'::floatvector), ('[1]')) t(v)$$);
SELECT sqlstate_of($$SELECT avg(v) FROM (VALUES ('[1,2]'::float16vector), ('[1,2,3]')) t(v)$$);
SELECT sqlstate_of($$SELECT sum(v) FROM (VALUES ('[1,2]'::float16vector), ('[1]')) t(v)$$);

-- the support functions on their own: the state is {count, sums...}
SELECT floatvector_accum('{0}', '[1,2]') AS first,
       floatvector_accum('{1,1,2}', '[3,4]') AS second,
       float16vector_accum('{0}', '[0.5,1]') AS half;
SELECT milvus_vector_combine('{2,4,6}', '{1,1,1}') AS both,
       milvus_vector_combine('{0}', '{1,1,1}') AS left_empty,
       milvus_vector_combine('{2,4,6}', '{0}') AS right_empty,
       milvus_vector_combine('{0}', '{0}') AS both_empty;
SELECT floatvector_avg('{2,4,6}'), floatvector_sum('{2,4,6}'),
       float16vector_avg('{2,4,6}'), float16vector_sum('{2,4,6}'),
       floatvector_avg('{0}') IS NULL AS empty_is_null;
SELECT sqlstate_of($$SELECT milvus_vector_combine('{2,4,6}', '{1,1}')$$);
SELECT sqlstate_of($$SELECT floatvector_accum('{1,1,2}', '[1,2,3]')$$);
-- a state passed in from SQL is not changed by the call
SELECT s AS state_before, floatvector_accum(s, '[1,1]') AS after, s AS state_still
FROM (SELECT '{1,1,2}'::float8[] AS s) t;

--
-- Parallel aggregation gives the same results as serial
--
CREATE TABLE agg_parallel (id int, v floatvector(16), h float16vector(16));
INSERT INTO agg_parallel
SELECT i, a::floatvector, h::float16vector
FROM (SELECT i, ARRAY(SELECT ((i * 31 + j * 7) % 101 - 50)::real / 8 FROM generate_series(1, 16) j) AS a,
             ARRAY(SELECT ((i * 13 + j * 5) % 61 - 30)::real / 4 FROM generate_series(1, 16) j) AS h
      FROM generate_series(1, 20000) i) s;
ANALYZE agg_parallel;

-- serial
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE agg_serial AS
SELECT avg(v) AS avg_v, sum(v) AS sum_v, avg(h) AS avg_h, sum(h) AS sum_h FROM agg_parallel;
CREATE TEMP TABLE agg_serial_grouped AS
SELECT id % 7 AS g, avg(v) AS avg_v, sum(v) AS sum_v, avg(h) AS avg_h FROM agg_parallel GROUP BY 1;

-- parallel
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 4;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT avg(v), sum(v), avg(h), sum(h) FROM agg_parallel;
SELECT (avg(v), sum(v), avg(h), sum(h)) = (SELECT avg_v, sum_v, avg_h, sum_h FROM agg_serial) AS same
FROM agg_parallel;
SELECT count(*) AS groups, bool_and(p.avg_v = s.avg_v AND p.sum_v = s.sum_v AND p.avg_h = s.avg_h) AS same
FROM (SELECT id % 7 AS g, avg(v) AS avg_v, sum(v) AS sum_v, avg(h) AS avg_h
      FROM agg_parallel GROUP BY 1) p
JOIN agg_serial_grouped s USING (g);
-- and they are right: the element sums are exact in double (multiples of
-- 1/8 and 1/4), so the reference divides once in double and rounds once
SELECT avg_v::real[] = (SELECT array_agg(m ORDER BY i) FROM (
           SELECT i, (sum(x::float8) / count(*))::real AS m
           FROM agg_parallel, unnest(v::real[]) WITH ORDINALITY u(x, i) GROUP BY i) q) AS avg_v_ok,
       sum_v::real[] = (SELECT array_agg(m ORDER BY i) FROM (
           SELECT i, sum(x::float8)::real AS m
           FROM agg_parallel, unnest(v::real[]) WITH ORDINALITY u(x, i) GROUP BY i) q) AS sum_v_ok,
       avg_h = (SELECT array_agg(m ORDER BY i)::float16vector FROM (
           SELECT i, (sum(x::float8) / count(*))::real AS m
           FROM agg_parallel, unnest(h::real[]) WITH ORDINALITY u(x, i) GROUP BY i) q) AS avg_h_ok,
       sum_h
FROM agg_serial;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
DROP TABLE agg_parallel;
