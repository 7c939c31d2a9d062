-- The planner support function prices a distance call by vector size, so
-- exact (FLAT) search over a large table goes parallel without any tuning.

-- one figure of the top plan node: 'Total Cost', 'Plan Rows', ...
CREATE FUNCTION plan_value(query text, field text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan->0->'Plan'->>field)::float8;
END $$;

-- One table, so every query below has the same row estimate; the filters
-- differ only in the price of the distance.  Result: how many
-- cpu_operator_costs one call is charged beyond the cheapest.
CREATE TABLE cost_dims (f3 floatvector(3), f1536 floatvector(1536),
                        h3 float16vector(3), h1536 float16vector(1536),
                        b8 binaryvector(8), b1536 binaryvector(1536),
                        s sparsevector(1000000));
CREATE FUNCTION extra_operators(expr text, baseline text) RETURNS float8 LANGUAGE sql AS $$
    SELECT round(((plan_value(format('SELECT 1 FROM cost_dims WHERE %s > 0', expr), 'Total Cost')
                   - plan_value(format('SELECT 1 FROM cost_dims WHERE %s > 0', baseline), 'Total Cost'))
                  / plan_value('SELECT 1 FROM cost_dims', 'Plan Rows')
                  / current_setting('cpu_operator_cost')::float8)::numeric, 1)::float8 $$;

-- one cpu_operator_cost per 64 bytes of vector: 1536 x 4 bytes is 96
SELECT extra_operators('f1536 <-> f1536', 'f3 <-> f3') AS floatvector_1536,
       extra_operators('h1536 <=> h1536', 'h3 <=> h3') AS float16vector_1536,
       extra_operators('b1536 <~> b1536', 'b8 <~> b8') AS binaryvector_1536;
-- a constant operand's own dimension counts when the other side has no typmod
SELECT extra_operators(format('f1536::floatvector <-> %L', array_fill(1, ARRAY[1536])::floatvector),
                       'f3 <-> f3') AS constant_1536;
-- a sparse column's typmod is its dimension, not its number of non-zeros:
-- only a constant's non-zeros count
SELECT extra_operators($$s <#> '{1:1,2:1,3:1,4:1,5:1,6:1,7:1,8:1}/1000000'$$, $$s <#> '{1:1}/1000000'$$)
       AS sparse_8_vs_1_nonzeros;

-- an exact top-10 over 10,000 x 1536 dimensions (vectors kept inline):
-- parallel with the default settings
CREATE TABLE flat_items (id int, emb floatvector(1536)) WITH (toast_tuple_target = 8160);
INSERT INTO flat_items
SELECT i, array_fill((i % 97)::real, ARRAY[1536])::floatvector FROM generate_series(1, 10000) i;
ANALYZE flat_items;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT id FROM flat_items ORDER BY emb <-> (SELECT emb FROM flat_items WHERE id = 50), id LIMIT 10;
-- and the answer is the serial one: the ten ids whose vectors equal id 50's
CREATE TEMP TABLE parallel_answer AS
SELECT id FROM flat_items ORDER BY emb <-> (SELECT emb FROM flat_items WHERE id = 50), id LIMIT 10;
SET max_parallel_workers_per_gather = 0;
SELECT array_agg(p.id ORDER BY p.id) AS parallel_ids, array_agg(s.id ORDER BY s.id) AS serial_ids
FROM parallel_answer p
FULL JOIN (SELECT id FROM flat_items ORDER BY emb <-> (SELECT emb FROM flat_items WHERE id = 50), id LIMIT 10) s
USING (id);
RESET max_parallel_workers_per_gather;
DROP TABLE flat_items;
DROP TABLE cost_dims;
DROP FUNCTION extra_operators(text, text);
DROP FUNCTION plan_value(text, text);
