--
-- Long lists in filters, run through the collection API: each list is one
-- parameter (an array the planner makes a constant), so 200,000 values cost
-- memory in proportion to the list.  When every element was a parameter of
-- its own, each copied the whole parameter array: 20,000 values ran out of
-- memory.
--
\set SHOW_CONTEXT never

SELECT milvus.create_collection('lists', schema => $${"fields": [
  {"name": "id", "type": "INT64", "is_primary": true},
  {"name": "i32", "type": "INT32"},
  {"name": "i8", "type": "INT8"},
  {"name": "f", "type": "FLOAT"},
  {"name": "d", "type": "DOUBLE"},
  {"name": "title", "type": "VARCHAR", "max_length": 16},
  {"name": "flag", "type": "BOOL"},
  {"name": "meta", "type": "JSON"},
  {"name": "tags", "type": "ARRAY", "element_type": "VARCHAR", "max_length": 16, "max_capacity": 2},
  {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}],
  "enable_dynamic_field": true}$$);

-- 2,000 rows; the lists below hold the even ones among 200,000 values
SELECT * FROM milvus.insert('lists', (
    SELECT jsonb_agg(jsonb_build_object('id', g, 'i32', g, 'i8', g % 100, 'f', g / 4.0, 'd', g / 8.0,
                                        'title', 't' || g, 'flag', g % 2 = 0,
                                        'meta', jsonb_build_object('k', g, 's', 't' || g, 'a', jsonb_build_array(g)),
                                        'tags', jsonb_build_array('t' || g), 'color', 't' || g,
                                        'v', jsonb_build_array(g, 1)))
      FROM generate_series(1, 2000) g));

CREATE FUNCTION lists_count(filter text, params jsonb DEFAULT '{}') RETURNS bigint
LANGUAGE sql AS $$
    SELECT (q ->> 'count(*)')::bigint
      FROM milvus.query('lists', filter, output_fields => '{count(*)}', filter_params => params) q
$$;

-- the values: 2, 4, ..., 400000 as integers, as FLOAT and DOUBLE values of the
-- same rows, as titles; 200,000 times false
CREATE TABLE lists_params AS
SELECT jsonb_build_object(
           'ids', jsonb_agg(2 * g),
           'floats', jsonb_agg(to_jsonb(2 * g / 4.0)),
           'doubles', jsonb_agg(to_jsonb(2 * g / 8.0)),
           'titles', jsonb_agg('t' || 2 * g),
           'bools', jsonb_agg(false)) AS p
  FROM generate_series(1, 200000) g;
SELECT jsonb_array_length(p -> 'ids') AS values_per_list FROM lists_params;

SELECT filter, lists_count(filter, (SELECT p FROM lists_params)) AS count
FROM (VALUES
    ('id in {ids}'),
    ('id not in {ids}'),
    ('i8 in {ids}'),
    ('f in {floats}'),
    ('d in {doubles}'),
    ('title in {titles}'),
    ('flag in {bools}'),
    ('meta["k"] in {ids}'),
    ('meta["k"] not in {ids}'),
    ('color in {titles}'),
    ('array_contains_any(tags, {titles})'),
    ('json_contains_any(meta["a"], {ids})'),
    ('json_contains_any(meta["k"], {ids})'),
    ('id in {ids} and title in {titles} and f in {floats}')
) v(filter);

-- written out in the filter: as many as 1 MiB holds
SELECT lists_count(f) AS count, octet_length(f) <= 1024 * 1024 AS within_the_limit
  FROM (SELECT 'id in [' || string_agg((2 * g)::text, ',') || ']' AS f
          FROM generate_series(1, 140000) g) s;

-- search and delete take the same lists
SELECT count(*) FROM milvus.search('lists', '[[1, 1]]', "limit" => 3000,
                                   filter => 'id in {ids}',
                                   filter_params => (SELECT p FROM lists_params));
SELECT * FROM milvus.delete('lists', filter => 'id not in {ids}',
                            filter_params => (SELECT p FROM lists_params));
SELECT lists_count('id >= 0') AS left;

DROP TABLE lists_params;
SELECT milvus.drop_collection('lists');
