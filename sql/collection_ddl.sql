--
-- Collections: Milvus's naming rule, databases, create_collection in both
-- forms, describe / list / has / rename / drop, partitions, aliases and
-- their errors.  Names that try to smuggle SQL must be refused by the
-- naming rule before anything reaches a statement.
--
\set SHOW_CONTEXT never

--
-- Names
--
SELECT CASE WHEN length(name) > 20 THEN format('%s... (%s)', left(name, 3), length(name)) ELSE name END AS name,
       sqlstate_detail_of(format('SELECT milvus._check_name(''collection'', %L)', name)) AS result
FROM (VALUES ('docs'), ('_x1'), ('A_b_9'), (''), ('1abc'), ('a-b'), ('a b'), ('é'), ('$meta'),
             ('docs; DROP TABLE x'), ('x"y'), ('x''y'), (repeat('a', 255)), (repeat('a', 256))) v(name)
ORDER BY name;
SELECT sqlstate_detail_of('SELECT milvus._check_name(''collection'', NULL)');
-- PostgreSQL identifiers have 63 bytes: longer names keep 54 characters and a hash
SELECT milvus._pg_name(repeat('a', 63)) = repeat('a', 63) AS short_kept,
       length(milvus._pg_name(repeat('a', 64))) AS long_length,
       milvus._pg_name(repeat('a', 64)) <> milvus._pg_name(repeat('a', 64) || 'b') AS distinct_names;

--
-- Databases: "default" is the schema public
--
SELECT * FROM milvus.list_databases();
SELECT milvus.describe_database();
SELECT milvus.create_database('analytics');
SELECT milvus.create_database('analytics', '{"x": 1}');           -- exists
SELECT sqlstate_detail_of('SELECT milvus.create_database(''pg_toast'')');  -- schema exists
SELECT sqlstate_detail_of('SELECT milvus.create_database(''a;b'')');
SELECT * FROM milvus.list_databases();
SELECT nspname FROM pg_namespace WHERE nspname = 'analytics';
SELECT milvus.describe_database('analytics');
SELECT sqlstate_detail_of('SELECT milvus.describe_database(''nope'')');
SELECT sqlstate_detail_of('SELECT milvus.drop_database(''default'')');
SELECT sqlstate_of('SELECT milvus.use_database(''nope'')');
SELECT sqlstate_of('SET milvus.collection_database = ''no pe''');

--
-- The quick form: an id, a vector, the dynamic field, an index, loaded
--
SELECT milvus.create_collection('quick', 4);
SELECT jsonb_pretty(milvus.describe_collection('quick') - 'collection_id');
\d quick
SELECT milvus.get_load_state('quick'), milvus.list_indexes('quick');
SELECT milvus.create_collection('quick_str', 8, primary_field_name => 'pk', id_type => 'string',
                                vector_field_name => 'emb', metric_type => 'L2', max_length => 36,
                                enable_dynamic_field => false, description => 'string ids');
SELECT milvus.describe_collection('quick_str') -> 'fields' AS fields,
       milvus.describe_collection('quick_str') -> 'description' AS description,
       milvus.describe_collection('quick_str') -> 'enable_dynamic_field' AS dynamic;
SELECT obj_description('quick_str'::regclass);
SELECT milvus.create_collection('quick_auto', 2, auto_id => true);
SELECT format_type(atttypid, atttypmod), attidentity FROM pg_attribute
 WHERE attrelid = 'quick_auto'::regclass AND attname = 'id';
SELECT sqlstate_detail_of('SELECT milvus.create_collection(''q'')');
SELECT sqlstate_detail_of('SELECT milvus.create_collection(''q'', 2, id_type => ''uuid'')');
SELECT sqlstate_detail_of('SELECT milvus.create_collection(''quick'', 4)');
SELECT sqlstate_detail_of('SELECT milvus.create_collection(''q'', 0)');
SELECT sqlstate_detail_of('SELECT milvus.create_collection(''q'', 2, metric_type => ''HAMMING'')');
SELECT milvus.has_collection('q');      -- nothing was left behind

--
-- The full form: every data type and field option
--
SELECT milvus.create_collection('everything', schema => $${
  "description": "all types",
  "enable_dynamic_field": true,
  "fields": [
    {"name": "pk", "type": "INT64", "is_primary": true, "description": "the key"},
    {"name": "flag", "type": "BOOL", "default_value": true},
    {"name": "i8", "type": "INT8", "nullable": true},
    {"name": "i16", "type": "DataType.INT16", "nullable": true},
    {"name": "i32", "type": "Int32", "nullable": true},
    {"name": "i64", "type": 5, "default_value": -7},
    {"name": "f", "type": "FLOAT", "nullable": true, "default_value": 1.5},
    {"name": "d", "type": "DOUBLE", "nullable": true},
    {"name": "title", "type": "VARCHAR", "max_length": 10, "default_value": "none"},
    {"name": "meta", "type": "JSON", "nullable": true},
    {"name": "tags", "type": "ARRAY", "element_type": "VARCHAR", "max_length": 4, "max_capacity": 3, "nullable": true},
    {"name": "nums", "type": "ARRAY", "params": {"element_type": "INT64", "max_capacity": 2}, "nullable": true},
    {"name": "fv", "type": "FLOAT_VECTOR", "params": {"dim": 3}},
    {"name": "hv", "type": "Float16Vector", "dim": 2},
    {"name": "bv", "type": "BINARY_VECTOR", "dim": 16},
    {"name": "sv", "type": "SPARSE_FLOAT_VECTOR"}
  ]}$$);
SELECT jsonb_pretty(milvus.describe_collection('everything') - 'collection_id');
SELECT attname, format_type(atttypid, atttypmod), attnotnull, pg_get_expr(adbin, adrelid) AS default
  FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
 WHERE attrelid = 'everything'::regclass AND attnum > 0 ORDER BY attnum;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'everything'::regclass ORDER BY conname;
SELECT col_description('everything'::regclass, 1);
-- describe_collection's output is a schema create_collection takes back
SELECT milvus.create_collection('everything2', schema => milvus.describe_collection('everything'));
SELECT (milvus.describe_collection('everything2') - 'collection_id' - 'collection_name' - 'table')
     = (milvus.describe_collection('everything') - 'collection_id' - 'collection_name' - 'table') AS same;
SELECT milvus.drop_collection('everything2');

-- schema errors, each naming what is wrong
SELECT s AS schema, sqlstate_detail_of(format('SELECT milvus.create_collection(''bad'', schema => %L)', s)) AS result
FROM (VALUES
  ('[]'), ('{}'), ('{"fields": []}'), ('{"fields": [1]}'),
  ('{"fields": [{"name": "id", "type": "INT64"}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "id", "type": "FLOAT_VECTOR", "dim": 2}]}'),
  ('{"fields": [{"name": "id", "type": "DOUBLE", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true, "nullable": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}'),
  ('{"fields": [{"name": "id", "type": "VARCHAR", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}'),
  ('{"fields": [{"name": "id", "type": "VARCHAR", "max_length": 65536, "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR"}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 40000}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": "x"}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "BINARY_VECTOR", "dim": 12}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2, "nullable": true}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "BFLOAT16_VECTOR", "dim": 2}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}, {"name": "x", "type": "STRUCT"}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}, {"name": "a", "type": "ARRAY", "element_type": "JSON", "max_capacity": 2}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}, {"name": "a", "type": "ARRAY", "element_type": "INT8"}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}, {"name": "j", "type": "JSON", "default_value": {}}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}, {"name": "n", "type": "INT8", "default_value": 300}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}, {"name": "s", "type": "VARCHAR", "max_length": 2, "default_value": "abc"}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}, {"name": "k", "type": "FLOAT", "is_partition_key": true}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}, {"name": "k", "type": "INT64", "is_partition_key": true}, {"name": "k2", "type": "INT64", "is_partition_key": true}]}'),
  ('{"num_partitions": 2000, "fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}, {"name": "k", "type": "INT64", "is_partition_key": true}]}'),
  ('{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}, {"name": "a234567890123456789012345678901234567890123456789012345678901234", "type": "INT64"}]}'),
  ('{"fields": [{"name": "id\"; DROP TABLE quick; --", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}')
) v(s);
SELECT sqlstate_detail_of($$SELECT milvus.create_collection('bad', num_partitions => 4, schema =>
    '{"fields": [{"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}')$$);
SELECT milvus.has_collection('bad'), milvus.has_collection('quick');

-- Milvus's full-text search schema: a BM25 function turning an analyzed
-- VARCHAR into a sparse vector.  Nothing here runs it, so it is refused
-- (0A000, naming the function and its type) rather than dropped, which left
-- an output field no insert could fill; an empty list is no function.
SELECT f AS functions, sqlstate_detail_of(format($$SELECT milvus.create_collection('bad', schema => %L)$$,
    '{"fields": [{"name": "id", "type": "INT64", "is_primary": true, "auto_id": true},
                 {"name": "text", "type": "VARCHAR", "max_length": 1000, "enable_analyzer": true},
                 {"name": "sparse", "type": "SPARSE_FLOAT_VECTOR"}]}'::jsonb
    || jsonb_build_object('functions', f::jsonb))) AS result
FROM (VALUES
  ('[{"name": "text_bm25_emb", "type": "BM25", "input_field_names": ["text"], "output_field_names": ["sparse"], "params": {}}]'),
  ('[{"name": "text_bm25_emb", "type": 1, "input_field_names": ["text"], "output_field_names": ["sparse"]}]'),
  ('[{"name": "emb", "type": "FunctionType.TEXTEMBEDDING", "input_field_names": ["text"], "output_field_names": ["sparse"]}]'),
  ('{"name": "text_bm25_emb", "type": "BM25"}')
) v(f);
SELECT milvus.has_collection('bad');
SELECT milvus.create_collection('nofunctions', schema => '{"functions": [], "fields": [
    {"name": "id", "type": "INT64", "is_primary": true}, {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}');
SELECT milvus.describe_collection('nofunctions') -> 'functions';
SELECT milvus.drop_collection('nofunctions');

--
-- Partition key: HASH partitions _default_0 ... _default_(n-1)
--
SELECT milvus.create_collection('tenants', schema => '{"fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "tenant", "type": "VARCHAR", "max_length": 16, "is_partition_key": true},
    {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}', num_partitions => 3);
SELECT * FROM milvus.list_partitions('tenants');
SELECT pg_get_partkeydef('tenants'::regclass);
SELECT milvus.describe_collection('tenants') -> 'num_partitions';
SELECT sqlstate_detail_of('SELECT milvus.create_partition(''tenants'', ''p1'')');
SELECT sqlstate_detail_of('SELECT milvus.drop_partition(''tenants'', ''_default_0'')');

--
-- Partitions
--
SELECT milvus.create_partition('quick', 'p2024');
SELECT milvus.create_partition('quick', 'p2025');
SELECT * FROM milvus.list_partitions('quick');
SELECT milvus.has_partition('quick', 'p2024'), milvus.has_partition('quick', 'nope');
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'quick'::regclass ORDER BY 1;
SELECT milvus.get_partition_stats('quick', 'p2024');
SELECT sqlstate_detail_of('SELECT milvus.create_partition(''quick'', ''p2024'')');
SELECT sqlstate_detail_of('SELECT milvus.create_partition(''quick'', ''p-1'')');
SELECT sqlstate_detail_of('SELECT milvus.drop_partition(''quick'', ''_default'')');
SELECT sqlstate_detail_of('SELECT milvus.get_partition_stats(''quick'', ''nope'')');
SELECT sqlstate_detail_of('SELECT milvus.create_partition(''nope'', ''p'')');
SELECT milvus.drop_partition('quick', 'p2025');
SELECT milvus.drop_partition('quick', 'p2025');     -- as Milvus: no error
SELECT * FROM milvus.list_partitions('quick');
SELECT to_regclass('"quick$p2025"') IS NULL AS dropped;

--
-- Aliases
--
SELECT milvus.create_alias('quick', 'current');
SELECT milvus.create_alias('quick', 'latest');
SELECT * FROM milvus.list_aliases('quick');
SELECT * FROM milvus.list_aliases();
SELECT milvus.describe_alias('current');
SELECT milvus.has_collection('current');
SELECT milvus.describe_collection('current') -> 'collection_name' AS name,
       milvus.describe_collection('current') -> 'aliases' AS aliases;
SELECT milvus.alter_alias('quick_str', 'current');
SELECT milvus.describe_alias('current') -> 'collection_name';
SELECT sqlstate_detail_of('SELECT milvus.create_alias(''quick'', ''latest'')');
SELECT sqlstate_detail_of('SELECT milvus.create_alias(''quick'', ''quick_str'')');
SELECT sqlstate_detail_of('SELECT milvus.create_alias(''latest'', ''other'')');   -- an alias of an alias
SELECT sqlstate_detail_of('SELECT milvus.alter_alias(''quick'', ''nope'')');
SELECT sqlstate_detail_of('SELECT milvus.describe_alias(''nope'')');
SELECT sqlstate_detail_of('SELECT milvus.create_collection(''latest'', 2)');
SELECT sqlstate_detail_of('SELECT milvus.drop_collection(''latest'')');
SELECT sqlstate_detail_of('SELECT milvus.drop_collection(''quick'')');
SELECT milvus.drop_alias('latest');
SELECT milvus.drop_alias('latest');                  -- as Milvus: no error
SELECT * FROM milvus.list_aliases();

--
-- Listing, stats, rename
--
SELECT * FROM milvus.list_collections();
SELECT milvus.get_collection_stats('quick');
SELECT milvus.rename_collection('quick', 'renamed');
SELECT * FROM milvus.list_collections();
SELECT milvus.has_collection('quick'), milvus.has_collection('renamed');
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'renamed'::regclass ORDER BY 1;
SELECT milvus.describe_alias('current') -> 'collection_name';   -- unchanged: it points to quick_str
SELECT sqlstate_detail_of('SELECT milvus.rename_collection(''renamed'', ''quick_str'')');
SELECT sqlstate_detail_of('SELECT milvus.rename_collection(''nope'', ''x'')');
SELECT sqlstate_detail_of('SELECT milvus.rename_collection(''renamed'', ''x y'')');
-- to another database: the tables move to its schema
SELECT milvus.rename_collection('renamed', 'moved', 'analytics');
SELECT milvus.use_database('analytics');
SHOW milvus.collection_database;
SELECT * FROM milvus.list_collections();
SELECT milvus.describe_collection('moved') -> 'table';
SELECT sqlstate_detail_of('SELECT milvus.drop_database(''analytics'')');
SELECT milvus.drop_collection('moved');
SELECT milvus.drop_collection('moved');              -- as Milvus: no error
SELECT milvus.drop_database('analytics');
SELECT milvus.drop_database('analytics');            -- as Milvus: no error
SELECT sqlstate_of('SELECT milvus.list_collections()');    -- the session's database is gone
RESET milvus.collection_database;

-- a long collection name becomes a shortened table name, recorded in the catalog
SELECT milvus.create_collection(repeat('c', 100), 2);
SELECT milvus.describe_collection(repeat('c', 100)) ->> 'table' AS table_name;
SELECT milvus.drop_collection(repeat('c', 100));

-- plain DROP TABLE and DROP SCHEMA take the catalog entries along
SELECT milvus.create_collection('plain', 2);
SELECT milvus.create_alias('plain', 'plain_alias');
SELECT milvus.create_partition('plain', 'p');
DROP TABLE "plain$p";
SELECT * FROM milvus.list_partitions('plain');
DROP TABLE plain;
SELECT milvus.has_collection('plain'), milvus.has_collection('plain_alias');
SELECT milvus.create_database('gone');
SET milvus.collection_database = 'gone';
SELECT milvus.create_collection('inside', 2);
RESET milvus.collection_database;
DROP SCHEMA gone CASCADE;
SELECT * FROM milvus.list_databases();
SELECT count(*) FROM milvus.collections WHERE db_name = 'gone';

-- drop_collection removes the table and every catalog entry
SELECT milvus.drop_alias('current');
SELECT milvus.drop_collection(name) FROM milvus.list_collections() name;
SELECT * FROM milvus.list_collections();
SELECT count(*) FROM milvus.collections;
SELECT count(*) FROM milvus.fields;
SELECT count(*) FROM milvus.partitions;
SELECT count(*) FROM milvus.indexes;
SELECT to_regclass('quick_str') IS NULL AS dropped;

-- a collection's partitions keep vectors inline up to a page, for exact
-- search (the hybrid search reads them with the row)
SELECT milvus.create_collection('inline_check', 4);
SELECT milvus.create_partition('inline_check', 'p2');
SELECT p.partition_name, c.reloptions
FROM milvus.partitions p JOIN pg_class c ON c.oid = p.relid
WHERE p.collection_name = 'inline_check' ORDER BY 1;
SELECT milvus.drop_collection('inline_check');
