--
-- Data in collections: insert, upsert, delete, get and query; every value
-- checked against its field, a failed batch inserts nothing.
--
\set SHOW_CONTEXT never

SELECT milvus.create_collection('items', schema => $${
  "enable_dynamic_field": true,
  "fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "flag", "type": "BOOL", "default_value": true},
    {"name": "i8", "type": "INT8", "nullable": true},
    {"name": "i16", "type": "INT16", "nullable": true},
    {"name": "i32", "type": "INT32", "nullable": true},
    {"name": "f", "type": "FLOAT", "nullable": true, "default_value": 1.5},
    {"name": "d", "type": "DOUBLE", "nullable": true},
    {"name": "title", "type": "VARCHAR", "max_length": 6, "default_value": "none"},
    {"name": "meta", "type": "JSON", "nullable": true},
    {"name": "tags", "type": "ARRAY", "element_type": "VARCHAR", "max_length": 3, "max_capacity": 2, "nullable": true},
    {"name": "nums", "type": "ARRAY", "element_type": "INT16", "max_capacity": 3, "nullable": true},
    {"name": "fv", "type": "FLOAT_VECTOR", "dim": 3},
    {"name": "hv", "type": "FLOAT16_VECTOR", "dim": 2},
    {"name": "bv", "type": "BINARY_VECTOR", "dim": 16},
    {"name": "sv", "type": "SPARSE_FLOAT_VECTOR"}
  ]}$$);

-- one row with every value, one with only what is required, one object alone
SELECT * FROM milvus.insert('items', $$[
  {"id": 1, "flag": false, "i8": -128, "i16": 32767, "i32": -5, "f": 0.25, "d": 1.25e10, "title": "héllo",
   "meta": {"a": [1, 2]}, "tags": ["x", "yz"], "nums": [1, -2, 3], "fv": [1, 2.5, -3], "hv": [0.5, 2],
   "bv": [255, 1], "sv": {"0": 0.5, "7": 1.5}, "color": "red", "size": 3},
  {"id": 2, "fv": [0, 0, 1], "hv": [1, 1], "bv": "0000000100000010", "sv": {}}
]$$);
SELECT * FROM milvus.insert('items', '{"id": 3, "fv": [1, 1, 1], "hv": [0, 1], "bv": [0, 0], "sv": {"999999999": 1}}');
SELECT * FROM milvus.insert('items', '[]');
SELECT id, flag, i8, i16, i32, f, d, title, meta, tags, nums, fv, hv, bv, sv, "$meta", "$partition"
  FROM items ORDER BY id;
-- what query returns: every field, dynamic keys flattened into the row
SELECT * FROM milvus.query('items', output_fields => '{*}', "limit" => 10);

-- every kind of bad value, each naming the field and the row
SELECT CASE WHEN length(v) > 90 THEN left(v, 40) || '...' ELSE v END AS data,
       sqlstate_detail_of(format('SELECT milvus.insert(''items'', %L)', v)) AS result
FROM (VALUES
  ('[{"id": 9, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}, 5]'),
  ('[{"fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": "9", "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9.5, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9223372036854775808, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "i8": 128, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "i16": -32769, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "i32": true, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "flag": 1, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "f": 1e39, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "d": "1.5", "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "title": "abcdefg", "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "title": "ééé!", "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "title": 5, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "tags": "a", "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "tags": ["a", "b", "c"], "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "tags": ["abcd"], "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "tags": [1], "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "nums": [1, 2.5], "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "nums": [40000], "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "nums": [null], "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "fv": [1,2], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "fv": [1,2,"3"], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "fv": [1,2,[3]], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "fv": [1,2,1e39], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "fv": {"0": 1}, "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "fv": [1,2,3], "hv": [1,70000], "bv": [0,0], "sv": {}}]'),
  ('[{"id": 9, "fv": [1,2,3], "hv": [1,1], "bv": [0], "sv": {}}]'),
  ('[{"id": 9, "fv": [1,2,3], "hv": [1,1], "bv": [0,256], "sv": {}}]'),
  ('[{"id": 9, "fv": [1,2,3], "hv": [1,1], "bv": "0101", "sv": {}}]'),
  ('[{"id": 9, "fv": [1,2,3], "hv": [1,1], "bv": "010101010101010x", "sv": {}}]'),
  ('[{"id": 9, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": [1]}]'),
  ('[{"id": 9, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {"-1": 1}}]'),
  ('[{"id": 9, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {"1000000000": 1}}]'),
  ('[{"id": 9, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {"1": "x"}}]'),
  ('[{"id": 9, "meta": "' || repeat('x', 65535) || '", "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]'),
  ('{"id": 9}'), ('5'), ('"x"')) v(v);
SELECT count(*) FROM items;     -- nothing of the failed batches went in
-- a value that fails in the last row of a batch keeps the first rows out too
SELECT sqlstate_of($$SELECT milvus.insert('items', '[{"id": 10, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}},
                                                     {"id": 11, "fv": [1,2], "hv": [1,1], "bv": [0,0], "sv": {}}]')$$);
SELECT count(*) FROM items WHERE id IN (10, 11);
-- duplicate primary keys: already there, or twice in a batch
SELECT sqlstate_detail_of($$SELECT milvus.insert('items', '[{"id": 1, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]')$$);
SELECT sqlstate_detail_of($$SELECT milvus.insert('items', '[{"id": 12, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}},
                                                            {"id": 12, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]')$$);

-- without the dynamic field, an unknown key is an error
SELECT milvus.create_collection('strict', 2, enable_dynamic_field => false);
SELECT sqlstate_detail_of($$SELECT milvus.insert('strict', '[{"id": 1, "vector": [1, 2], "zeta": 1, "alpha": 2}]')$$);
SELECT sqlstate_detail_of($$SELECT milvus.query('strict', output_fields => '{alpha}', "limit" => 1)$$);

--
-- auto_id: the primary key is generated and must not be given
--
SELECT milvus.create_collection('auto', 2, auto_id => true);
SELECT * FROM milvus.insert('auto', '[{"vector": [1, 2]}, {"vector": [3, 4]}]');
SELECT sqlstate_detail_of($$SELECT milvus.insert('auto', '[{"id": 5, "vector": [1, 2]}]')$$);
SELECT milvus.create_collection('auto_str', 2, id_type => 'string', auto_id => true, max_length => 20);
SELECT * FROM milvus.insert('auto_str', '[{"vector": [1, 2]}]');
SELECT * FROM milvus.query('auto_str', output_fields => '{count(*)}');

--
-- partitions: insert into one, read some
--
SELECT milvus.create_partition('strict', 'p1');
SELECT * FROM milvus.insert('strict', '[{"id": 1, "vector": [1, 0]}]');
SELECT * FROM milvus.insert('strict', '[{"id": 2, "vector": [0, 1]}]', 'p1');
SELECT sqlstate_detail_of($$SELECT milvus.insert('strict', '[{"id": 3, "vector": [0, 1]}]', 'p2')$$);
-- a primary key is unique across partitions too
SELECT sqlstate_detail_of($$SELECT milvus.insert('strict', '[{"id": 2, "vector": [0, 1]}]')$$);
SELECT id, "$partition" FROM strict ORDER BY id;
SELECT * FROM milvus.query('strict', output_fields => '{count(*)}', partition_names => '{p1}');
SELECT * FROM milvus.get('strict', '[1, 2]', partition_names => '{_default}');
SELECT sqlstate_detail_of($$SELECT milvus.get('strict', '[1]', partition_names => '{nope}')$$);
-- upsert moves a row to the partition it names
SELECT * FROM milvus.upsert('strict', '[{"id": 2, "vector": [5, 5]}]');
SELECT id, vector, "$partition" FROM strict ORDER BY id;

-- partition key: rows go where their key hashes
SELECT milvus.create_collection('tenants', schema => '{"fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "tenant", "type": "VARCHAR", "max_length": 16, "is_partition_key": true},
    {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}', num_partitions => 4);
SELECT * FROM milvus.insert('tenants', '[{"id": 1, "tenant": "a", "v": [1, 0]}, {"id": 2, "tenant": "e", "v": [0, 1]},
                                         {"id": 3, "tenant": "i", "v": [1, 1]}]');
SELECT id, tenant, tableoid::regclass AS partition FROM tenants ORDER BY id;
SELECT sqlstate_detail_of($$SELECT milvus.insert('tenants', '[{"id": 4, "tenant": "a", "v": [1, 0]}]', 'p1')$$);
SELECT sqlstate_detail_of($$SELECT milvus.insert('tenants', '[{"id": 1, "tenant": "z", "v": [1, 0]}]')$$);
SELECT sqlstate_detail_of($$SELECT milvus.query('tenants', 'id > 0', partition_names => '{_default_0}')$$);

--
-- upsert: replace by primary key, the whole row
--
SELECT * FROM milvus.upsert('items', '[{"id": 2, "fv": [9, 9, 9], "hv": [1, 1], "bv": [0, 0], "sv": {}, "note": "new"},
                                       {"id": 20, "fv": [2, 2, 2], "hv": [1, 1], "bv": [0, 0], "sv": {}}]');
SELECT * FROM milvus.get('items', '[2, 20]', '{fv,title,note,i8}');
SELECT sqlstate_detail_of($$SELECT milvus.upsert('items', '[{"fv": [9, 9, 9], "hv": [1, 1], "bv": [0, 0], "sv": {}}]')$$);
SELECT sqlstate_detail_of($$SELECT milvus.upsert('items', '[{"id": 21, "fv": [9, 9, 9], "hv": [1, 1], "bv": [0, 0], "sv": {}},
                                                            {"id": 21, "fv": [9, 9, 9], "hv": [1, 1], "bv": [0, 0], "sv": {}}]')$$);
-- with auto_id the key to replace is given
SELECT * FROM milvus.upsert('auto', '[{"id": 1, "vector": [7, 7]}]');
SELECT * FROM milvus.get('auto', '1', '{vector}');

--
-- get and query
--
SELECT * FROM milvus.get('items', '[3, 1, 99]');
SELECT * FROM milvus.get('items', '3', '{sv,bv,hv,color,$meta}');
SELECT * FROM milvus.get('items', '[]');
SELECT sqlstate_detail_of($$SELECT milvus.get('items', '["x"]')$$);
SELECT sqlstate_detail_of($$SELECT milvus.get('items', '{"a": 1}')$$);
SELECT * FROM milvus.query('items', 'id >= 2', '{title}');
SELECT * FROM milvus.query('items', 'color == "red" or id == 3', '{color}');
SELECT * FROM milvus.query('items', 'id in {ids}', filter_params => '{"ids": [1, 3]}');
SELECT * FROM milvus.query('items', "limit" => 2, "offset" => 1);
SELECT * FROM milvus.query('items', output_fields => '{count(*)}');
SELECT * FROM milvus.query('items', 'id > 1', '{count(*)}');
SELECT sqlstate_detail_of($$SELECT milvus.query('items')$$);
SELECT sqlstate_detail_of($$SELECT milvus.query('items', output_fields => '{count(*), id}')$$);
SELECT sqlstate_detail_of($$SELECT milvus.query('items', "limit" => 0)$$);
SELECT sqlstate_detail_of($$SELECT milvus.query('items', "limit" => 10, "offset" => -1)$$);
SELECT sqlstate_detail_of($$SELECT milvus.query('items', "limit" => 16000, "offset" => 1000)$$);
SELECT sqlstate_detail_of($$SELECT milvus.query('items', 'id >')$$);
SELECT sqlstate_detail_of($$SELECT milvus.query('nope', 'id > 1')$$);
-- names and strings that try to reach the SQL stay names and strings
SELECT * FROM milvus.query('items', 'title == "x\" OR 1=1 --"', '{title}');
SELECT * FROM milvus.query('items', 'id == 1', ARRAY['x"); DROP TABLE items; --']);
SELECT sqlstate_detail_of($$SELECT milvus.query('strict', 'id == 1', ARRAY['x"); DROP TABLE items; --'])$$);
SELECT sqlstate_detail_of($$SELECT milvus.insert('items; DROP TABLE items', '[]')$$);
SELECT count(*) FROM items;

--
-- delete: by ids or by filter, optionally in one partition
--
SELECT * FROM milvus.delete('items', ids => '[1, 99]');
SELECT * FROM milvus.delete('items', filter => 'id >= {n}', filter_params => '{"n": 20}');
SELECT * FROM milvus.insert('strict', '[{"id": 3, "vector": [0, 1]}]', 'p1');
SELECT * FROM milvus.delete('strict', filter => 'id > 0', partition_name => 'p1');
SELECT id FROM strict ORDER BY id;
SELECT sqlstate_detail_of($$SELECT milvus.delete('items')$$);
SELECT sqlstate_detail_of($$SELECT milvus.delete('items', ids => '[2]', filter => 'id > 0')$$);
SELECT sqlstate_detail_of($$SELECT milvus.delete('strict', ids => '[1]', partition_name => 'nope')$$);
SELECT id FROM items ORDER BY id;
SELECT milvus.get_collection_stats('items');

-- through an alias
SELECT milvus.create_alias('items', 'things');
SELECT * FROM milvus.insert('things', '[{"id": 30, "fv": [1,2,3], "hv": [1,1], "bv": [0,0], "sv": {}}]');
SELECT * FROM milvus.query('things', 'id == 30');
SELECT milvus.drop_alias('things');

SELECT milvus.drop_collection(name) FROM milvus.list_collections() name;
