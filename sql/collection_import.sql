-- Bulk import (milvus.bulk_insert) of each format from the files in
-- data/import (made by data/import/make_fixtures.py), malformed files, the
-- task list, privileges, milvus.import_table and milvus.export_collection;
-- in the calling session (milvus.import_in_background = off).
\getenv abs_srcdir PG_ABS_SRCDIR
\set dir :abs_srcdir '/data/import'
SELECT set_config('test.import_dir', :'dir', false) IS NOT NULL AS set;

-- the files as JSON paths; errors with the directory left out
CREATE FUNCTION imp_files(VARIADIC names text[]) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (SELECT jsonb_agg(current_setting('test.import_dir') || '/' || n) FROM unnest(names) n);

CREATE FUNCTION imp_error(statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    detail text;
    context text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, context = PG_EXCEPTION_CONTEXT;
    RETURN replace(SQLSTATE || ': ' || SQLERRM || coalesce(' DETAIL: ' || nullif(detail, ''), '')
                   || coalesce(' CONTEXT: ' || substring(context FROM 'bulk_insert file [^\n]*'), ''),
                   current_setting('test.import_dir'), '<dir>');
END
$$;

SET milvus.import_in_background = off;
SELECT milvus.create_collection('imp', schema => '{"fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "vector", "type": "FLOAT_VECTOR", "dim": 4},
    {"name": "color", "type": "VARCHAR", "max_length": 40, "nullable": true}]}');

-- column-based .npy files, one per field (a flat list is one group, as
-- Milvus's do_bulk_insert takes it); version 2.0 headers and wider dtypes
SELECT milvus.bulk_insert('imp', imp_files('ok/id.npy', 'ok/vector.npy', 'ok/color.npy')) > 0 AS task;
SELECT milvus.bulk_insert('imp', jsonb_build_array(imp_files('v2/id.npy', 'v2/vector.npy'))) > 0 AS task;
-- row-based JSON, {"rows": [...]} or a bare array, and CSV
SELECT milvus.bulk_insert('imp', imp_files('rows.json')) > 0 AS task;
SELECT milvus.bulk_insert('imp', imp_files('rows_array.json')) > 0 AS task;
SELECT milvus.bulk_insert('imp', imp_files('rows.csv')) > 0 AS task;
SELECT id, vector, color FROM imp ORDER BY id;

-- each task is listed with its rows
SELECT t ->> 'state' AS state, t -> 'row_count' AS row_count, t -> 'progress' AS progress,
       jsonb_array_length(t -> 'files') AS files
  FROM milvus.list_import_tasks('imp') t;
SELECT milvus.get_import_state(t.task_id) ->> 'state' AS state
  FROM milvus.import_tasks t ORDER BY t.task_id LIMIT 1;
SELECT imp_error('SELECT milvus.get_import_state(-1)');

-- malformed files fail with the file, the row and the field, and import nothing
SELECT count(*) AS before FROM imp \gset
SELECT imp_error(format('SELECT milvus.bulk_insert(''imp'', %L)', f)) FROM (VALUES
    (imp_files('truncated/id.npy', 'truncated/vector.npy')),
    (imp_files('wrong_dtype/id.npy', 'wrong_dtype/vector.npy')),
    (imp_files('wrong_shape/id.npy', 'wrong_shape/vector.npy')),
    (imp_files('wrong_rows/id.npy', 'wrong_rows/vector.npy')),
    (imp_files('fortran/id.npy')),
    (imp_files('big_endian/id.npy')),
    (imp_files('unknown/id.npy', 'unknown/vector.npy', 'unknown/weight.npy')),
    (imp_files('ok/id.npy')),
    (imp_files('nan/id.npy', 'nan/vector.npy')),
    (imp_files('not_npy.npy')),
    (imp_files('huge_shape/id.npy')),
    (imp_files('huge_dtype/title.npy')),
    (imp_files('bad.json')),
    (imp_files('missing_field.json')),
    (imp_files('no_rows.json')),
    (imp_files('bad_value.csv')),
    (imp_files('bad_header.csv')),
    (imp_files('nothing_here.json')),
    (jsonb_build_array(imp_files('rows.json', 'rows.csv'))),
    (imp_files('rows.parquet')),
    ('["relative/path.json"]'),
    ('[]'),
    ('{"file": "x"}'),
    ('[[["too", "deep"]]]')) v(f);
-- a duplicate key in the last file of a task keeps the earlier files' rows out too
SELECT imp_error(format('SELECT milvus.bulk_insert(''imp'', %L)',
                        jsonb_build_array(imp_files('v2/id.npy', 'v2/vector.npy')) || '[]'::jsonb));
SELECT imp_error(format('SELECT milvus.bulk_insert(''imp'', %L)', imp_files('rows_array.json')));
SELECT count(*) = :before AS nothing_imported FROM imp;
SELECT count(*) AS failed_tasks_recorded FROM milvus.import_tasks WHERE state <> 'Completed';

-- into a partition
SELECT milvus.create_partition('imp', 'p1');
SELECT milvus.create_collection('imp2', dimension => 4);
SELECT milvus.create_partition('imp2', 'p1');
SELECT milvus.bulk_insert('imp2', imp_files('ok/id.npy', 'ok/vector.npy'), partition_name => 'p1') > 0 AS task;
SELECT "$partition", count(*) FROM imp2 GROUP BY 1;
SELECT imp_error(format('SELECT milvus.bulk_insert(''imp2'', %L, ''nope'')', imp_files('rows.json')));

-- reading server files needs pg_read_server_files, as COPY FROM a file does
CREATE ROLE imp_user;
GRANT CREATE ON SCHEMA public TO imp_user;
SET ROLE imp_user;
SELECT milvus.create_collection('imp_own', dimension => 4);
SELECT imp_error(format('SELECT milvus.bulk_insert(''imp_own'', %L)', imp_files('rows.json')));
RESET ROLE;
GRANT pg_read_server_files TO imp_user;
SET ROLE imp_user;
SELECT milvus.bulk_insert('imp_own', imp_files('ok/id.npy', 'ok/vector.npy')) > 0 AS task;
-- a role sees only its own tasks
SELECT count(*) AS my_tasks FROM milvus.list_import_tasks();
SELECT imp_error(format('SELECT milvus.bulk_insert(''imp'', %L)', imp_files('rows.json')));
RESET ROLE;

-- (the import worker, milvus.import_in_background = on, is tested in TAP
-- 021, on a cluster whose worker slots the test knows)

-- migration in from any table: pgvector's vector, halfvec and sparsevec by
-- their text form
CREATE TABLE pgv_items (item_id bigint, embedding text, half text, sparse text, label text);
INSERT INTO pgv_items VALUES
    (1, '[1,2,3]', '[1,0.5,0]', '{1:0.5,3:2}/5', 'a'),
    (2, '[4,5,6]', '[0,0,1]', '{2:1}/5', NULL);
SELECT milvus.create_collection('migrated', schema => '{"fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "v", "type": "FLOAT_VECTOR", "dim": 3},
    {"name": "h", "type": "FLOAT16_VECTOR", "dim": 3},
    {"name": "s", "type": "SPARSE_FLOAT_VECTOR"},
    {"name": "label", "type": "VARCHAR", "max_length": 8, "nullable": true}]}');
SELECT milvus.import_table('migrated', 'pgv_items',
                           '{"id": "item_id", "v": "embedding", "h": "half", "s": "sparse"}');
SELECT id, v, h, s, label FROM migrated ORDER BY id;
SELECT imp_error('SELECT milvus.import_table(''migrated'', ''pgv_items'')');
SELECT imp_error('SELECT milvus.import_table(''migrated'', ''pgv_items'', ''{"nope": "item_id"}'')');
SELECT imp_error('SELECT milvus.import_table(''migrated'', ''pgv_items'', ''{"id": "nope"}'')');
SELECT imp_error('SELECT milvus.import_table(''migrated'', ''pgv_items'', ''[1]'')');

-- migration out: export_collection writes the files bulk_insert reads back,
-- into pg_regress's results/ (as PostgreSQL's own copy test writes its
-- files), never into the checkout's data/; the test removes them at its end
\getenv abs_builddir PG_ABS_BUILDDIR
\set export_dir :abs_builddir '/results/exported'
SELECT set_config('test.export_dir', :'export_dir', false) IS NOT NULL AS set;
CREATE FUNCTION imp_roundtrip(source text, format text) RETURNS TABLE (files jsonb, same boolean)
LANGUAGE plpgsql AS $$
DECLARE
    target text := source || '_' || format;
BEGIN
    PERFORM milvus.create_collection(target, schema => milvus.describe_collection(source));
    files := milvus.export_collection(source, current_setting('test.export_dir'), format);
    PERFORM milvus.bulk_insert(target, files);
    EXECUTE format('SELECT NOT EXISTS (SELECT id, vector::text, color FROM %1$I EXCEPT ALL SELECT id, vector::text, color FROM %2$I)'
                   ' AND NOT EXISTS (SELECT id, vector::text, color FROM %2$I EXCEPT ALL SELECT id, vector::text, color FROM %1$I)',
                   source, target) INTO same;
    files := replace(files::text, current_setting('test.export_dir'), '<out>')::jsonb;
    PERFORM milvus.drop_collection(target);
    RETURN NEXT;
END
$$;
SELECT * FROM imp_roundtrip('imp', 'json');
SELECT * FROM imp_roundtrip('imp', 'csv');
-- .npy holds no NULL: imp's colors have some
SELECT imp_error('SELECT milvus.export_collection(''imp'', current_setting(''test.export_dir''), ''npy'')');
UPDATE imp SET color = 'none' WHERE color IS NULL;
SELECT * FROM imp_roundtrip('imp', 'npy');
-- every type a .npy file holds, at its limits, and the dynamic field: read back the same
SELECT milvus.create_collection('imp_types', schema => $${"enable_dynamic_field": true, "fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "flag", "type": "BOOL"},
    {"name": "i8", "type": "INT8"},
    {"name": "i16", "type": "INT16"},
    {"name": "i32", "type": "INT32"},
    {"name": "f", "type": "FLOAT"},
    {"name": "d", "type": "DOUBLE"},
    {"name": "title", "type": "VARCHAR", "max_length": 8},
    {"name": "meta", "type": "JSON"},
    {"name": "fv", "type": "FLOAT_VECTOR", "dim": 2},
    {"name": "hv", "type": "FLOAT16_VECTOR", "dim": 2},
    {"name": "bv", "type": "BINARY_VECTOR", "dim": 16}]}$$);
SELECT insert_count FROM milvus.insert('imp_types', $$[
  {"id": -9223372036854775808, "flag": true, "i8": -128, "i16": -32768, "i32": -2147483648, "f": -3.4e38,
   "d": -1.7e308, "title": "héllo", "meta": {"a": [1, "é"]}, "fv": [1, -2.5], "hv": [0.5, -65504],
   "bv": [255, 0], "color": "red"},
  {"id": 0, "flag": false, "i8": 0, "i16": 0, "i32": 0, "f": 1e-45, "d": 5e-324, "title": "", "meta": [],
   "fv": [0, 0], "hv": [0, 0], "bv": [0, 0], "size": 3},
  {"id": 9223372036854775807, "flag": true, "i8": 127, "i16": 32767, "i32": 2147483647, "f": 3.4e38,
   "d": 1.7e308, "title": "z", "meta": {"n": null}, "fv": [0.1, 1e-30], "hv": [65504, 6e-8],
   "bv": [1, 128], "k": {"x": 1}}]$$);
SELECT milvus.create_collection('imp_types_npy', schema => milvus.describe_collection('imp_types'));
SELECT replace(files::text, current_setting('test.export_dir'), '<out>') AS files,
       milvus.bulk_insert('imp_types_npy', files) > 0 AS task
  FROM milvus.export_collection('imp_types', current_setting('test.export_dir'), 'npy') files;
SELECT * FROM imp_types_npy ORDER BY id;
SELECT (SELECT string_agg(t::text, E'\n' ORDER BY id) FROM imp_types t)
     = (SELECT string_agg(t::text, E'\n' ORDER BY id) FROM imp_types_npy t) AS same;
SELECT imp_error('SELECT milvus.export_collection(''imp'', ''relative'', ''json'')');
SELECT imp_error('SELECT milvus.export_collection(''imp'', current_setting(''test.export_dir''), ''parquet'')');
SELECT imp_error('SELECT milvus.export_collection(''migrated'', current_setting(''test.export_dir''), ''npy'')');
SET ROLE imp_user;
SELECT imp_error('SELECT milvus.export_collection(''imp_own'', current_setting(''test.export_dir''), ''json'')');
RESET ROLE;

SELECT milvus.drop_collection(c) FROM unnest('{imp, imp2, migrated, imp_types, imp_types_npy}'::text[]) c;
SET ROLE imp_user;
SELECT milvus.drop_collection('imp_own');
RESET ROLE;
DELETE FROM milvus.import_tasks;
REVOKE CREATE ON SCHEMA public FROM imp_user;
DROP ROLE imp_user;
DROP TABLE pgv_items;
\setenv MV_EXPORT_DIR :export_dir
\! rm -r -- "$MV_EXPORT_DIR"
SELECT pg_stat_file(:'export_dir', true) IS NULL AS exported_files_removed;
