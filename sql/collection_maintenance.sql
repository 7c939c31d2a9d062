--
-- Collection maintenance: truncate_collection, load_collection reading a
-- collection into shared buffers, and a collection's table renamed in SQL.
--
\set SHOW_CONTEXT never

--
-- truncate_collection: the rows go, on every partition; the schema,
-- partitions, indexes and aliases stay, and the collection takes rows again
--
SELECT milvus.create_collection('trunc', schema => $${"fields": [
    {"name": "id", "type": "INT64", "is_primary": true, "auto_id": true},
    {"name": "title", "type": "VARCHAR", "max_length": 8},
    {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}$$,
    index_params => '[{"field_name": "v", "index_type": "FLAT", "metric_type": "L2"},
                      {"field_name": "title", "index_type": "INVERTED"}]');
SELECT milvus.create_partition('trunc', 'p1');
SELECT milvus.create_alias('trunc', 'trunc_alias');
SELECT (milvus.insert('trunc', '[{"title": "a", "v": [1, 0]}, {"title": "b", "v": [0, 1]}]')).insert_count;
SELECT (milvus.insert('trunc', '[{"title": "c", "v": [1, 1]}]', 'p1')).insert_count;

CREATE TABLE trunc_before AS
SELECT milvus.describe_collection('trunc') AS described,
       ARRAY(SELECT milvus.list_partitions('trunc')) AS partitions,
       ARRAY(SELECT milvus.list_indexes('trunc')) AS indexes,
       ARRAY(SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indrelid
              WHERE h.inhparent = 'trunc'::regclass ORDER BY 1) AS pg_indexes;
SELECT milvus.get_collection_stats('trunc'), (SELECT count(*) FROM "trunc$p1") AS in_p1;

SELECT milvus.truncate_collection('trunc_alias');
SELECT milvus.get_collection_stats('trunc'), (SELECT count(*) FROM "trunc$p1") AS in_p1,
       (SELECT count(*) FROM "trunc$_default") AS in_default;
SELECT * FROM milvus.query('trunc', 'id > 0');
SELECT described = milvus.describe_collection('trunc') AS same_schema,
       partitions = ARRAY(SELECT milvus.list_partitions('trunc')) AS same_partitions,
       indexes = ARRAY(SELECT milvus.list_indexes('trunc')) AS same_indexes,
       pg_indexes = ARRAY(SELECT indexrelid::regclass::text FROM pg_index i
                            JOIN pg_inherits h ON h.inhrelid = i.indrelid
                           WHERE h.inhparent = 'trunc'::regclass ORDER BY 1) AS same_pg_indexes,
       cardinality(pg_indexes) AS pg_index_count
  FROM trunc_before;
SELECT milvus.list_aliases('trunc');
SELECT (milvus.insert('trunc', '[{"title": "d", "v": [2, 2]}]', 'p1')).insert_count;
SELECT e ->> 'title' AS title FROM milvus.query('trunc', 'id > 0', '{title}') e;
SELECT id::bigint > 3 AS new_id FROM milvus.search('trunc', '[[2, 2]]', "limit" => 1);
DROP TABLE trunc_before;
SELECT milvus.drop_alias('trunc_alias'), milvus.drop_collection('trunc');

-- a partition key's HASH partitions are truncated too
SELECT milvus.create_collection('trunc_hash', schema => $${"fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "k", "type": "INT64", "is_partition_key": true},
    {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}$$, num_partitions => 4);
SELECT (milvus.insert('trunc_hash', (SELECT jsonb_agg(jsonb_build_object('id', g, 'k', g, 'v', '[1, 1]'::jsonb))
                                     FROM generate_series(1, 40) g))).insert_count;
SELECT count(*) AS partitions_with_rows FROM pg_inherits h
 WHERE h.inhparent = 'trunc_hash'::regclass AND (xpath('/row/c/text()',
       query_to_xml(format('SELECT count(*) AS c FROM %s', h.inhrelid::regclass), false, true, '')))[1]::text::int > 0;
SELECT milvus.truncate_collection('trunc_hash');
SELECT milvus.get_collection_stats('trunc_hash'), milvus.describe_collection('trunc_hash') -> 'num_partitions' AS num_partitions;

-- the caller needs TRUNCATE on the table, as for TRUNCATE itself
CREATE ROLE regress_milvus_truncator;
GRANT SELECT ON trunc_hash TO regress_milvus_truncator;
SET ROLE regress_milvus_truncator;
SELECT sqlstate_of($$SELECT milvus.truncate_collection('trunc_hash')$$);
RESET ROLE;
REVOKE SELECT ON trunc_hash FROM regress_milvus_truncator;
DROP ROLE regress_milvus_truncator;
SELECT sqlstate_detail_of($$SELECT milvus.truncate_collection('nope')$$);
SELECT milvus.drop_collection('trunc_hash');

--
-- load_collection reads every block of the collection's tables, their TOAST
-- tables and their indexes into shared buffers.  Each relation is first
-- given a new file by moving it to another tablespace and back: the copy
-- bypasses shared buffers, so no block of it is there until something reads
-- it (pg_buffercache counts them).
--
CREATE EXTENSION pg_buffercache;
SET allow_in_place_tablespaces = true;
CREATE TABLESPACE regress_milvus_cold LOCATION '';
RESET allow_in_place_tablespaces;

-- vectors of 1,000 dimensions, which a collection keeps inline (its
-- toast_tuple_target)
SELECT milvus.create_collection('loaded', schema => $${"fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "title", "type": "VARCHAR", "max_length": 16},
    {"name": "v", "type": "FLOAT_VECTOR", "dim": 1000}]}$$,
    index_params => '[{"field_name": "v", "index_type": "HNSW", "metric_type": "L2", "params": {"M": 4}},
                      {"field_name": "title", "index_type": "INVERTED"}]');
SELECT milvus.create_partition('loaded', 'p1');
SELECT (milvus.insert('loaded', (SELECT jsonb_agg(jsonb_build_object('id', g, 'title', 't' || g,
                                                                     'v', (SELECT jsonb_agg(g + j) FROM generate_series(1, 1000) j)))
                                 FROM generate_series(1, 300) g), p)).insert_count
  FROM (VALUES ('_default'), ('p1')) v(p) WHERE p = '_default'
UNION ALL
SELECT (milvus.insert('loaded', (SELECT jsonb_agg(jsonb_build_object('id', g, 'title', 't' || g,
                                                                     'v', (SELECT jsonb_agg(g - j) FROM generate_series(1, 1000) j)))
                                 FROM generate_series(301, 400) g), 'p1')).insert_count;
-- sealed now: a data coordinator sealing them later would read pages into
-- shared buffers while the checks below count them
SELECT milvus.flush('loaded');

-- the relations a load should read: each partition, its TOAST table and
-- every index of either
CREATE TEMP TABLE loaded_rels AS
SELECT c.oid::regclass AS rel, c.relkind, c.relnamespace = 'pg_toast'::regnamespace AS in_toast,
       h.inhrelid::regclass AS part
  FROM pg_inherits h
  JOIN pg_class p ON p.oid = h.inhrelid
  JOIN pg_class c ON c.oid IN (p.oid, p.reltoastrelid)
                  OR c.oid IN (SELECT i.indexrelid FROM pg_index i WHERE i.indrelid IN (p.oid, p.reltoastrelid))
 WHERE h.inhparent = 'loaded'::regclass;
SELECT part, count(*) FILTER (WHERE r.relkind = 'r') AS tables, count(*) FILTER (WHERE r.relkind = 't') AS toast,
       count(*) FILTER (WHERE r.relkind = 'i' AND NOT in_toast) AS indexes,
       count(*) FILTER (WHERE r.relkind = 'i' AND in_toast) AS toast_indexes,
       string_agg(DISTINCT am.amname, ', ') AS access_methods
  FROM loaded_rels r JOIN pg_class c ON c.oid = r.rel LEFT JOIN pg_am am ON am.oid = c.relam AND r.relkind = 'i'
 GROUP BY part ORDER BY part::text;

CREATE FUNCTION loaded_buffers() RETURNS TABLE (kind text, blocks bigint, in_buffers bigint)
LANGUAGE sql AS $$
    SELECT CASE WHEN r.relkind = 'r' THEN 'tables' WHEN r.in_toast THEN 'toast' ELSE 'indexes' END,
           sum(pg_relation_size(r.rel) / current_setting('block_size')::int)::bigint,
           sum((SELECT count(*) FROM pg_buffercache b
                 WHERE b.relfilenode = pg_relation_filenode(r.rel) AND b.relforknumber = 0
                   AND b.reldatabase = (SELECT oid FROM pg_database WHERE datname = current_database())))::bigint
      FROM loaded_rels r GROUP BY 1 ORDER BY 1
$$;

-- new files, out of shared buffers (a table's TOAST table and its index move
-- with the table)
CREATE FUNCTION loaded_cool() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT rel, relkind FROM loaded_rels WHERE NOT in_toast ORDER BY relkind DESC, rel::text LOOP
        EXECUTE format('ALTER %s %s SET TABLESPACE regress_milvus_cold',
                       CASE WHEN r.relkind = 'i' THEN 'INDEX' ELSE 'TABLE' END, r.rel);
        EXECUTE format('ALTER %s %s SET TABLESPACE pg_default',
                       CASE WHEN r.relkind = 'i' THEN 'INDEX' ELSE 'TABLE' END, r.rel);
    END LOOP;
END
$$;
SELECT loaded_cool();
SELECT kind, blocks > 0 AS has_blocks, in_buffers FROM loaded_buffers();
SELECT milvus.load_collection('loaded');
SELECT kind, blocks > 0 AS has_blocks, in_buffers = blocks AS all_in_buffers FROM loaded_buffers();
SELECT milvus.get_load_state('loaded');
-- refresh_load reads them again
SELECT loaded_cool();
SELECT sum(in_buffers) AS in_buffers FROM loaded_buffers();
SELECT milvus.refresh_load('loaded');
SELECT kind, in_buffers = blocks AS all_in_buffers FROM loaded_buffers();

DROP FUNCTION loaded_cool();
DROP FUNCTION loaded_buffers();
DROP TABLE loaded_rels;
SELECT milvus.drop_collection('loaded');
DROP TABLESPACE regress_milvus_cold;
DROP EXTENSION pg_buffercache;

--
-- A collection's table renamed in SQL: the catalog follows tables by OID, so
-- the collection keeps its Milvus name and keeps working under the new
-- table name; rename_collection names the table after the collection again
--
SELECT milvus.create_collection('renamed_in_sql', 2, metric_type => 'L2');
SELECT milvus.create_partition('renamed_in_sql', 'p1');
SELECT (milvus.insert('renamed_in_sql', '[{"id": 1, "vector": [1, 0]}, {"id": 2, "vector": [0, 1]}]')).insert_count;
ALTER TABLE renamed_in_sql RENAME TO some_other_name;
ALTER TABLE "renamed_in_sql$p1" RENAME TO some_other_part;
SELECT milvus.has_collection('renamed_in_sql'), milvus.describe_collection('renamed_in_sql') ->> 'table' AS "table";
SELECT (milvus.insert('renamed_in_sql', '[{"id": 3, "vector": [1, 1]}]', 'p1')).insert_count;
SELECT (milvus.upsert('renamed_in_sql', '[{"id": 1, "vector": [2, 0]}]')).upsert_count;
SELECT * FROM milvus.query('renamed_in_sql', 'id > 0', '{vector}');
SELECT * FROM milvus.search('renamed_in_sql', '[[1, 1]]', "limit" => 2, partition_names => '{p1,_default}');
SELECT * FROM milvus.delete('renamed_in_sql', ids => '[2]');
SELECT milvus.create_partition('renamed_in_sql', 'p2');
SELECT partition_name, relid FROM milvus.partitions WHERE collection_name = 'renamed_in_sql' ORDER BY 1;
SELECT milvus.drop_index('renamed_in_sql', 'vector');
SELECT milvus.create_index('renamed_in_sql', 'vector', 'HNSW', 'L2', '{"M": 4}');
SELECT milvus.describe_index('renamed_in_sql', 'vector') ->> 'index_type' AS index_type;
SELECT milvus.load_collection('renamed_in_sql'), milvus.get_load_state('renamed_in_sql');
SELECT milvus.get_collection_stats('renamed_in_sql');
-- the table's new name is taken, as any table's: not by a new collection
SELECT sqlstate_of($$SELECT milvus.create_collection('some_other_name', 2)$$);
SELECT milvus.has_collection('some_other_name');
-- rename_collection names the tables after the collection again
SELECT milvus.rename_collection('renamed_in_sql', 'renamed_back');
SELECT milvus.describe_collection('renamed_back') ->> 'table' AS "table";
SELECT partition_name, relid FROM milvus.partitions WHERE collection_name = 'renamed_back' ORDER BY 1;
SELECT count(*) FROM milvus.query('renamed_back', 'id > 0');
-- DROP TABLE under a name of its own takes the catalog entries along
ALTER TABLE renamed_back RENAME TO renamed_again;
DROP TABLE renamed_again;
SELECT milvus.has_collection('renamed_back'),
       (SELECT count(*) FROM milvus.partitions WHERE collection_name = 'renamed_back') AS partitions;
