--
-- Search: Milvus's metric semantics, several query vectors, filters,
-- partitions, output fields, range search, grouping search, hybrid_search
-- and the limits.
--
\set SHOW_CONTEXT never

SELECT milvus.create_collection('docs', 2, metric_type => 'L2');
SELECT * FROM milvus.insert('docs', '[
  {"id": 1, "vector": [1, 0], "color": "red", "doc": 1},
  {"id": 2, "vector": [0, 2], "color": "blue", "doc": 1},
  {"id": 3, "vector": [2, 2], "color": "red", "doc": 2},
  {"id": 4, "vector": [3, 1], "color": "green", "doc": 2},
  {"id": 5, "vector": [-1, -1], "color": "blue", "doc": 3}]');

-- L2: squared Euclidean distance, nearest first; the call reads as in pymilvus
SELECT * FROM milvus.search(collection_name => 'docs', data => '[[0.5, 0.5]]', "limit" => 3);
SELECT id, l2_squared_distance(vector, '[0.5,0.5]') FROM docs ORDER BY 2 LIMIT 3;
-- several query vectors: one row per hit, numbered from 0
SELECT * FROM milvus.search('docs', '[[1, 0], [3, 1]]', "limit" => 2, output_fields => '{color}');
-- one vector alone, jsonb, and arrays of the vector type
SELECT * FROM milvus.search('docs', '[1, 0]'::jsonb, "limit" => 1);
SELECT * FROM milvus.search('docs', ARRAY['[1,0]', '[-1,-1]']::floatvector[], "limit" => 1);
SELECT * FROM milvus.search('docs', '[2,2]'::floatvector, "limit" => 1);
-- offset, filter, output fields
SELECT * FROM milvus.search('docs', '[[0, 0]]', "limit" => 2, "offset" => 1, output_fields => '{*}');
SELECT * FROM milvus.search('docs', '[[0, 0]]', filter => 'color == "red"', output_fields => '{color,doc}');
SELECT * FROM milvus.search('docs', '[[0, 0]]', filter => 'doc in {d}', filter_params => '{"d": [2, 3]}');
SELECT * FROM milvus.search('docs', '[[0, 0]]', "limit" => 2, search_params => '{"offset": 3}');
-- range search: range_filter <= distance < radius for L2
SELECT * FROM milvus.search('docs', '[[0, 0]]', search_params => '{"params": {"radius": 8, "range_filter": 2}}');
SELECT * FROM milvus.search('docs', '[[0, 0]]', search_params => '{"radius": 4.5}');
-- grouping search: limit counts groups, group_size hits per group
SELECT * FROM milvus.search('docs', '[[0, 0]]', "limit" => 2, group_by_field => 'doc');
SELECT * FROM milvus.search('docs', '[[0, 0]]', "limit" => 2, group_by_field => 'doc', group_size => 2,
                            strict_group_size => true);
SELECT * FROM milvus.search('docs', '[[0, 0]]', "limit" => 1, "offset" => 1, group_by_field => 'doc',
                            group_size => 2);

-- partitions
SELECT milvus.create_partition('docs', 'archive');
SELECT * FROM milvus.insert('docs', '[{"id": 6, "vector": [0, 0]}]', 'archive');
SELECT * FROM milvus.search('docs', '[[0, 0]]', "limit" => 1);
SELECT * FROM milvus.search('docs', '[[0, 0]]', "limit" => 1, partition_names => '{_default}');
SELECT * FROM milvus.search('docs', '[[0, 0]]', "limit" => 1, partition_names => '{archive}');

-- IP and COSINE report similarities, largest first
SELECT milvus.create_collection('sims', schema => '{"fields": [
    {"name": "id", "type": "VARCHAR", "max_length": 8, "is_primary": true},
    {"name": "a", "type": "FLOAT_VECTOR", "dim": 2},
    {"name": "b", "type": "FLOAT_VECTOR", "dim": 2},
    {"name": "h", "type": "FLOAT16_VECTOR", "dim": 2},
    {"name": "bits", "type": "BINARY_VECTOR", "dim": 8},
    {"name": "sp", "type": "SPARSE_FLOAT_VECTOR"}]}',
    index_params => '[{"field_name": "a", "index_type": "FLAT", "metric_type": "IP"},
                      {"field_name": "b", "index_type": "FLAT", "metric_type": "COSINE"}]');
SELECT milvus.get_load_state('sims');
SELECT * FROM milvus.insert('sims', '[
  {"id": "x", "a": [1, 0], "b": [1, 0], "h": [1, 0], "bits": [15], "sp": {"0": 1, "5": 2}},
  {"id": "y", "a": [2, 2], "b": [2, 2], "h": [2, 2], "bits": [255], "sp": {"5": 1}},
  {"id": "z", "a": [0, -1], "b": [0, -1], "h": [0, -1], "bits": [0], "sp": {"1": 3}}]');
SELECT * FROM milvus.search('sims', '[[1, 1]]', 'a');
SELECT * FROM milvus.search('sims', '[[1, 1]]', 'b');
SELECT * FROM milvus.search('sims', '[[1, 1]]', 'a', search_params => '{"metric_type": "IP", "params": {"radius": 0, "range_filter": 2}}');
SELECT * FROM milvus.search('sims', '[[1, 1]]', 'h', search_params => '{"metric_type": "L2"}');
SELECT * FROM milvus.search('sims', '[[1, 1]]', 'h');        -- COSINE unless asked
SELECT * FROM milvus.search('sims', '[[255]]', 'bits');      -- HAMMING
SELECT * FROM milvus.search('sims', '["00001111"]', 'bits', search_params => '{"metric_type": "JACCARD"}');
SELECT * FROM milvus.search('sims', '[{"5": 1}]', 'sp');      -- IP on sparse vectors
SELECT * FROM milvus.search('sims', ARRAY['{6:1}/1000000000']::sparsevector[], 'sp');

-- errors
SELECT args, sqlstate_detail_of(format('SELECT * FROM milvus.search(%s)', args)) AS result
FROM (VALUES
  ($$'sims', '[[1, 1]]'$$),
  ($$'sims', '[[1, 1]]', 'id'$$),
  ($$'sims', '[[1, 1]]', 'nope'$$),
  ($$'sims', '[[1, 1]]', 'a', search_params => '{"metric_type": "L2"}'$$),
  ($$'sims', '[[1, 1]]', 'bits'$$),
  ($$'sims', '[[1, 1, 1]]', 'a'$$),
  ($$'sims', '[]', 'a'$$),
  ($$'sims', '"x"', 'a'$$),
  ($$'sims', 5, 'a'$$),
  ($$'sims', '[[1, 1]]', 'a', "limit" => 0$$),
  ($$'sims', '[[1, 1]]', 'a', "limit" => 16384, "offset" => 1$$),
  ($$'sims', '[[1, 1]]', 'a', search_params => '[]'$$),
  ($$'sims', '[[1, 1]]', 'a', search_params => '{"radius": "x"}'$$),
  ($$'sims', '[[1, 1]]', 'a', search_params => '{"range_filter": 1}'$$),
  ($$'sims', '[[1, 1]]', 'a', search_params => '{"radius": 1, "range_filter": 0.5}'$$),
  ($$'docs', '[[1, 1]]', search_params => '{"radius": 1, "range_filter": 2}'$$),
  ($$'sims', '[[1, 1]]', 'a', group_by_field => 'b'$$),
  ($$'sims', '[[1, 1]]', 'a', group_by_field => 'nope'$$),
  ($$'docs', '[[1, 1]]', group_by_field => 'id', group_size => 11$$),
  ($$'docs', '[[1, 1]]', filter => 'nope > 1 +'$$),
  ($$'docs', '[[1, 1]]', partition_names => '{nope}'$$),
  ($$'nope', '[[1, 1]]'$$)) v(args);
-- nq is limited by milvus.search_max_nq
SET milvus.search_max_nq = 2;
SELECT sqlstate_detail_of($$SELECT * FROM milvus.search('docs', '[[1, 1], [1, 2], [1, 3]]')$$);
RESET milvus.search_max_nq;
SET milvus.search_max_topk = 3;
SELECT sqlstate_detail_of($$SELECT * FROM milvus.search('docs', '[[1, 1]]', "limit" => 4)$$);
RESET milvus.search_max_topk;

--
-- hybrid_search: several searches fused by RRFRanker or WeightedRanker
--
SELECT * FROM milvus.hybrid_search('sims', '[
    {"data": [[1, 0]], "anns_field": "a", "param": {"metric_type": "IP"}, "limit": 3},
    {"data": [[0, -1]], "anns_field": "b", "limit": 3}]', "limit" => 3);
SELECT * FROM milvus.hybrid_search('sims', '[
    {"data": [[1, 0]], "anns_field": "a", "limit": 3},
    {"data": [[0, -1]], "anns_field": "b", "limit": 3}]',
    ranker => '{"strategy": "rrf", "params": {"k": 1}}', "limit" => 2, output_fields => '{a}');
SELECT * FROM milvus.hybrid_search('sims', '[
    {"data": [[1, 0]], "anns_field": "a", "limit": 3},
    {"data": [[0, -1]], "anns_field": "b", "limit": 3}]',
    ranker => '{"strategy": "weighted", "params": {"weights": [0.8, 0.2], "norm_score": true}}');
SELECT * FROM milvus.hybrid_search('sims', '[
    {"data": [[1, 0]], "anns_field": "a", "limit": 3},
    {"data": [[0, -1]], "anns_field": "b", "limit": 3, "expr": "id != \"z\""}]',
    ranker => '{"strategy": "weighted", "params": {"weights": [1, 1], "norm_score": false}}');
SELECT args, sqlstate_detail_of(format('SELECT * FROM milvus.hybrid_search(%s)', args)) AS result
FROM (VALUES
  ($$'sims', '[]'$$),
  ($$'sims', '{}'$$),
  ($$'sims', '[{"data": [[1, 0]], "anns_field": "a"}]', '{"strategy": "magic"}'$$),
  ($$'sims', '[{"data": [[1, 0]], "anns_field": "a"}]', '{"strategy": "rrf", "params": {"k": 0}}'$$),
  ($$'sims', '[{"data": [[1, 0]], "anns_field": "a"}]', '{"strategy": "weighted", "params": {"weights": [0.5, 0.5]}}'$$),
  ($$'sims', '[{"data": [[1, 0]], "anns_field": "a"}]', '{"strategy": "weighted", "params": {"weights": [2]}}'$$),
  ($$'sims', '[{"data": [[1, 0]], "anns_field": "nope"}]'$$)) v(args);

-- with an HNSW index the same call runs on the graph; ef is set for the call only
SELECT milvus.create_collection('graph', 8, metric_type => 'L2');
SELECT milvus.drop_index('graph', 'vector');
SELECT milvus.create_index('graph', 'vector', 'HNSW', 'L2', '{"M": 8, "efConstruction": 64}');
SELECT (milvus.insert('graph', (SELECT jsonb_agg(jsonb_build_object('id', i, 'vector',
          (SELECT jsonb_agg(round((sin(i * 7 + j) * 10)::numeric, 3)) FROM generate_series(1, 8) j)))
        FROM generate_series(1, 1000) i))).insert_count;
SELECT milvus.describe_index('graph', 'vector') ->> 'index_type' AS index_type;
SELECT cardinality(ARRAY(SELECT id::bigint FROM milvus.search('graph', '[[1, 2, 3, 4, 5, 6, 7, 8]]',
                                                         search_params => '{"params": {"ef": 100}}')
                   INTERSECT
                   (SELECT id FROM graph ORDER BY l2_squared_distance(vector, '[1,2,3,4,5,6,7,8]') LIMIT 10))) >= 9
       AS recall_at_least_90_percent;
SHOW milvus.hnsw_ef_search;
SELECT milvus.drop_collection('graph');

SELECT milvus.drop_collection('docs');
SELECT milvus.drop_collection('sims');
