-- Milvus's quick start in SQL, run by scripts/run in the database demo:
-- a collection, 3,000 rows through the API, an HNSW index, a filtered search,
-- a count, the same search in plain SQL, and its plans.  It drops the collection first,
-- so it runs again as often as you like (psql -a -f scripts/demo.sql demo).
CREATE EXTENSION IF NOT EXISTS milvus;
SELECT milvus.drop_collection('quick_setup');
SELECT milvus.create_collection('quick_setup', schema => '{
    "enable_dynamic_field": true,
    "fields": [
      {"name": "id", "type": "INT64", "is_primary": true},
      {"name": "vector", "type": "FLOAT_VECTOR", "dim": 8},
      {"name": "color", "type": "VARCHAR", "max_length": 16}]}');

-- rows from a fixed seed, 1,000 per insert; "size" is no field, so the dynamic field keeps it
SELECT setseed(0.42);
SELECT (i - 1) / 1000 AS batch,
       (milvus.insert('quick_setup', jsonb_agg(jsonb_build_object(
            'id', i,
            'vector', (SELECT jsonb_agg(round(random()::numeric, 3)) FROM generate_series(1, 8) WHERE i > 0),
            'color', (ARRAY['red', 'green', 'blue', 'yellow', 'purple'])[1 + i % 5],
            'size', 1 + floor(random() * 10)::int) ORDER BY i))).insert_count
FROM generate_series(1, 3000) i GROUP BY batch ORDER BY batch;

SELECT milvus.create_index('quick_setup', 'vector', 'HNSW', 'L2', '{"M": 16, "efConstruction": 64}');
SELECT milvus.load_collection('quick_setup');

-- the 5 red rows of size 5 or more nearest to the query vector (L2: squared distance)
SELECT * FROM milvus.search('quick_setup', '[[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]]',
                            filter => 'color == "red" and size >= 5', "limit" => 5,
                            output_fields => '{color,size}');
SELECT * FROM milvus.query('quick_setup', filter => 'color == "red" and size >= 5',
                           output_fields => '{count(*)}');

-- the collection is a table: the same search in plain SQL ...
SELECT id, color, "$meta" -> 'size' AS size,
       l2_squared_distance(vector, '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]') AS distance
FROM quick_setup
WHERE color = 'red' AND ("$meta" ->> 'size')::int >= 5
ORDER BY vector <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 5;
-- ... and without a filter the HNSW index serves ORDER BY ... LIMIT
EXPLAIN (COSTS OFF)
SELECT id FROM quick_setup ORDER BY vector <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 5;
-- ... and with a filter and an index on the filter's field, the hybrid search:
-- the filter as a bitmap first, then its rows measured exactly or the graph
-- walked (doc/indexes.md, "Hybrid search")
SELECT milvus.create_index('quick_setup', 'color', 'INVERTED');
ANALYZE quick_setup;
EXPLAIN (COSTS OFF)
SELECT id FROM quick_setup WHERE color = 'red' AND ("$meta" ->> 'size')::int >= 5
ORDER BY vector <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 5;
