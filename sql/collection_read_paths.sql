--
-- milvus.query, milvus.get and milvus.delete are C (src/collection/query.c)
-- over their PL/pgSQL bodies: each call here runs both ways and must give
-- the same rows, or the same SQLSTATE, message, detail and hint.  "C" or
-- "plpgsql" says which path the C function took.
--
\set SHOW_CONTEXT never
SET track_functions = 'all';

SELECT milvus.create_collection('rp_docs', 2, metric_type => 'L2');
SELECT * FROM milvus.insert('rp_docs', '[
  {"id": 1, "vector": [1, 0], "color": "red", "doc": 1},
  {"id": 2, "vector": [0, 2], "color": "blue", "doc": 1},
  {"id": 3, "vector": [2, 2], "color": "red", "doc": 2},
  {"id": 4, "vector": [3, 1], "color": "green", "doc": 2},
  {"id": 5, "vector": [-1, -1], "color": "blue", "doc": 3},
  {"id": 7, "vector": [1, 0], "color": "red", "doc": 9}]');
SELECT milvus.create_partition('rp_docs', 'archive');
SELECT * FROM milvus.insert('rp_docs', '[{"id": 6, "vector": [0, 0]}]', 'archive');
SELECT milvus.create_collection('rp_sims', schema => '{"fields": [
    {"name": "id", "type": "VARCHAR", "max_length": 8, "is_primary": true},
    {"name": "a", "type": "FLOAT_VECTOR", "dim": 2},
    {"name": "h", "type": "FLOAT16_VECTOR", "dim": 2},
    {"name": "bits", "type": "BINARY_VECTOR", "dim": 8},
    {"name": "sp", "type": "SPARSE_FLOAT_VECTOR"},
    {"name": "tags", "type": "ARRAY", "element_type": "INT64", "max_capacity": 4},
    {"name": "js", "type": "JSON"}]}');
SELECT * FROM milvus.insert('rp_sims', '[
  {"id": "x", "a": [1, 0], "h": [1, 0], "bits": [15], "sp": {"0": 1, "5": 2}, "tags": [1,2], "js": {"k": 1}},
  {"id": "y", "a": [2, 2], "h": [2, 2], "bits": [255], "sp": {"5": 1}, "tags": [3], "js": {}},
  {"id": "z", "a": [0, -1], "h": [0, -1], "bits": [0], "sp": {"1": 3}, "tags": [], "js": [1]}]');
SELECT milvus.create_collection('rp_pk', schema => '{"fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "k", "type": "INT64", "is_partition_key": true},
    {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}');
SELECT * FROM milvus.insert('rp_pk', '[{"id": 1, "k": 1, "v": [1, 1]}, {"id": 2, "k": 2, "v": [2, 1]}, {"id": 3, "k": 2, "v": [0, 0]}]');

-- one call's rows as text, or its error; whether it went through a PL/pgSQL
-- body (an error raised there names it in its context)
CREATE FUNCTION rp_run(call text, OUT r text, OUT in_plpgsql boolean) LANGUAGE plpgsql AS $$
DECLARE d text; h text; ctx text;
BEGIN
    in_plpgsql := false;
    EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(s.r) ORDER BY s.o), ''[]'')::text FROM %s WITH ORDINALITY s(r, o)', call)
        INTO r;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
    r := SQLSTATE || ': ' || SQLERRM || ' D: ' || coalesce(d, '') || ' H: ' || coalesce(h, '');
    in_plpgsql := ctx ~ 'function milvus\._(query|delete)_plpgsql';
END $$;

-- a delete's count and the rows left, rolled back
CREATE FUNCTION rp_run_delete(call text, OUT r text, OUT in_plpgsql boolean) LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        SELECT * INTO r, in_plpgsql FROM rp_run(call);
        r := r || ' left: ' || (SELECT string_agg(x, ',' ORDER BY x) FROM (
                 SELECT id::text FROM rp_docs UNION ALL SELECT id FROM rp_sims
                 UNION ALL SELECT 'pk' || id FROM rp_pk) s(x));
        RAISE EXCEPTION USING ERRCODE = 'P0099';
    EXCEPTION WHEN SQLSTATE 'P0099' THEN
        RETURN;
    END;
END $$;

CREATE FUNCTION rp_calls(fn regprocedure) RETURNS bigint LANGUAGE sql AS $$
    SELECT coalesce(pg_stat_get_xact_function_calls(fn), 0)
$$;

-- run a call with the C function fn and with its PL/pgSQL body plfn
CREATE FUNCTION rp_cmp(fn text, plfn text, args text, del boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE a record; b record; before bigint; path text;
    body regprocedure := CASE WHEN del
        THEN 'milvus._delete_plpgsql(text,jsonb,text,text,jsonb)'::regprocedure
        ELSE 'milvus._query_plpgsql(text,text,text[],integer,integer,text[],jsonb,jsonb)'::regprocedure END;
BEGIN
    before := rp_calls(body);
    IF del THEN
        a := rp_run_delete(format('%s(%s)', fn, args));
        b := rp_run_delete(format('%s(%s)', plfn, args));
    ELSE
        a := rp_run(format('%s(%s)', fn, args));
        before := rp_calls(body) - before;
        b := rp_run(format('%s(%s)', plfn, args));
    END IF;
    path := CASE WHEN a.in_plpgsql OR (NOT del AND before > 0) THEN 'plpgsql' ELSE 'C' END;
    RETURN CASE WHEN a.r IS NOT DISTINCT FROM b.r THEN 'same ' ELSE 'DIFF ' END || path || ' | ' || a.r
        || CASE WHEN a.r IS DISTINCT FROM b.r THEN E'\n   plpgsql: ' || b.r ELSE '' END;
END $$;

-- milvus.get as it was, over the PL/pgSQL query
CREATE FUNCTION rp_get_plpgsql(collection_name text, ids jsonb, output_fields text[] DEFAULT NULL,
                               partition_names text[] DEFAULT NULL)
RETURNS SETOF jsonb LANGUAGE sql STABLE AS $$
    SELECT * FROM milvus._query_plpgsql(collection_name, output_fields => output_fields,
                                        partition_names => partition_names, ids => coalesce(ids, '[]'))
$$;

-- query
SELECT args, rp_cmp('milvus.query', 'milvus._query_plpgsql', args) FROM (VALUES
  ($$'rp_docs', 'id > 2'$$),
  ($$'rp_docs', 'id > 2', '{color}'$$),
  ($$'rp_docs', 'id > 2', '{color,doc,vector}', 2, 1$$),
  ($$'rp_docs', '', "limit" => 3$$),
  ($$'rp_docs', ''$$),
  ($$'rp_docs', '   '$$),
  ($$'rp_docs', NULL, "limit" => 2, "offset" => 2$$),
  ($$'rp_docs', 'id > 0', "limit" => 2, "offset" => NULL$$),
  ($$'rp_docs', 'id > 0', "limit" => 0$$),
  ($$'rp_docs', 'id > 0', "offset" => -1$$),
  ($$'rp_docs', 'id > 0', "limit" => 16384, "offset" => 1$$),
  ($$'rp_docs', 'id > 0', "limit" => 16384$$),
  ($$'rp_docs', 'id > 0', "offset" => 16385$$),
  ($$'rp_docs', ids => '[1, 3, 99]'$$),
  ($$'rp_docs', ids => '3'$$),
  ($$'rp_docs', ids => '"3"'$$),
  ($$'rp_docs', ids => '[]'$$),
  ($$'rp_docs', ids => '{"a": 1}'$$),
  ($$'rp_docs', ids => 'null'$$),
  ($$'rp_docs', ids => 'true'$$),
  ($$'rp_docs', ids => '["x"]'$$),
  ($$'rp_docs', ids => '[1.5]'$$),
  ($$'rp_docs', ids => '[null]'$$),
  ($$'rp_docs', ids => '[1, 2]', filter => 'color == "red"'$$),
  ($$'rp_docs', ids => '[1, 2, 6]', "limit" => 1, "offset" => 1$$),
  ($$'rp_docs', output_fields => '{count(*)}'$$),
  ($$'rp_docs', 'color == "red"', '{count(*)}'$$),
  ($$'rp_docs', 'color == "red"', '{count(*),NULL}'$$),
  ($$'rp_docs', output_fields => '{count(*),id}'$$),
  ($$'rp_docs', output_fields => '{count(*)}', partition_names => '{archive}'$$),
  ($$'rp_docs', output_fields => '{count(*)}', ids => '[1,6]'$$),
  ($$'rp_docs', output_fields => '{count(*)}', ids => '{}'$$),
  ($$'rp_docs', output_fields => '{count(*)}', "limit" => 0$$),
  ($$'rp_docs', 'id < 3', '{*}'$$),
  ($$'rp_docs', 'id < 3', '{$meta}'$$),
  ($$'rp_docs', 'id < 3', '{*,$meta,color,id,zz,zz}'$$),
  ($$'rp_docs', 'id < 3', '{nope}'$$),
  ($$'rp_docs', 'id < 3', '{id,NULL}'$$),
  ($$'rp_docs', 'id < 3', '{}'$$),
  ($$'rp_docs', 'id < 3', '{vector}'$$),
  ($$'rp_docs', 'id > 0', partition_names => '{archive}'$$),
  ($$'rp_docs', 'id > 0', partition_names => '{archive,_default}', "limit" => 3$$),
  ($$'rp_docs', 'id > 0', partition_names => '{}'$$),
  ($$'rp_docs', 'id > 0', partition_names => '{nope}'$$),
  ($$'rp_docs', 'id > 0', partition_names => '{NULL}'$$),
  ($$'rp_docs', 'nope > 1 +'$$),
  ($$'rp_docs', 'doc in {d}'$$),
  ($$'rp_docs', 'doc in {d}', filter_params => '{"d": [2, 3]}'$$),
  ($$'rp_docs', 'doc in {d}', filter_params => '{"d": [2, 3]}', ids => '[1, 4]'$$),
  ($$'rp_docs', 'color like "r%"', "limit" => 1$$),
  ($$'rp_docs', 'nope > 1 +', "limit" => 0$$),
  ($$'rp_docs', 'id > 0', ids => '{"a": 1}', partition_names => '{nope}'$$),
  ($$NULL, 'id > 0'$$),
  ($$'rp_nope', 'id > 0'$$),
  ($$'bad name', 'id > 0'$$),
  ($$'rp_sims', 'id != "y"', '{*}'$$),
  ($$'rp_sims', 'array_contains(tags, 3) or js["k"] == 1', '{tags,js,sp,bits,h,a}'$$),
  ($$'rp_sims', ids => '["x", "z", "q"]'$$),
  ($$'rp_sims', ids => '"y"', output_fields => '{a}'$$),
  ($$'rp_sims', ids => '[1]'$$),
  ($$'rp_sims', ids => '["much too long"]'$$),
  ($$'rp_sims', 'id > "a"', '{nope}'$$),
  ($$'rp_sims', 'id > "a"', '{$meta}'$$),
  ($$'rp_pk', 'k == 2', '{*}'$$),
  ($$'rp_pk', 'k == 2', partition_names => '{_default}'$$),
  ($$'rp_pk', output_fields => '{count(*)}', partition_names => '{}'$$)
) v(args);

-- get: SQL over milvus.query
SELECT args, rp_cmp('milvus.get', 'rp_get_plpgsql', args) FROM (VALUES
  ($$'rp_docs', '[1, 2]'$$),
  ($$'rp_docs', NULL$$),
  ($$'rp_docs', '[1]', '{color}'$$),
  ($$'rp_docs', '[6, 1]', partition_names => '{archive}'$$),
  ($$'rp_docs', '{"a": 1}'$$),
  ($$'rp_docs', '["a"]'$$),
  ($$'rp_sims', '["y"]', '{*}'$$),
  ($$'rp_nope', '[1]'$$)
) v(args);

-- delete
SELECT args, rp_cmp('milvus.delete', 'milvus._delete_plpgsql', args, true) FROM (VALUES
  ($$'rp_docs', ids => '[1, 2]'$$),
  ($$'rp_docs', ids => '3'$$),
  ($$'rp_docs', filter => 'color == "red"'$$),
  ($$'rp_docs'$$),
  ($$'rp_docs', '[1]', 'id > 0'$$),
  ($$'rp_docs', ids => '[1]', filter => '  '$$),
  ($$'rp_docs', ids => NULL, filter => '  '$$),
  ($$'rp_docs', filter => 'doc in {d}', filter_params => '{"d": [2]}'$$),
  ($$'rp_docs', filter => 'doc in {d}'$$),
  ($$'rp_docs', filter => 'nope +'$$),
  ($$'rp_docs', ids => '[6, 1]', partition_name => 'archive'$$),
  ($$'rp_docs', filter => 'id > 0', partition_name => 'archive'$$),
  ($$'rp_docs', ids => '[1]', partition_name => 'nope'$$),
  ($$'rp_docs', ids => '{"x": 1}'$$),
  ($$'rp_docs', ids => '["x"]'$$),
  ($$'rp_docs', ids => '[]'$$),
  ($$'rp_sims', ids => '"x"'$$),
  ($$'rp_sims', filter => 'array_length(tags) > 0'$$),
  ($$'rp_pk', ids => '[1]', partition_name => '_default'$$),
  ($$'rp_pk', filter => 'k == 2'$$),
  ($$NULL, ids => '[1]'$$),
  ($$'rp_nope', ids => '[1]'$$)
) v(args);

-- a catalog change replans: the new partition is seen by the C path
SELECT * FROM milvus.query('rp_docs', 'id > 0', partition_names => '{archive}');
SELECT milvus.create_partition('rp_docs', 'later');
SELECT * FROM milvus.insert('rp_docs', '[{"id": 8, "vector": [0, 1]}]', 'later');
SELECT rp_cmp('milvus.query', 'milvus._query_plpgsql', $$'rp_docs', 'id > 0', partition_names => '{later}'$$);
SELECT * FROM milvus.delete('rp_docs', filter => 'id == 8', partition_name => 'later');
SELECT * FROM milvus.query('rp_docs', output_fields => '{count(*)}');

-- the call leaves jit as it was
SET jit = on;
SELECT count(*) FROM milvus.query('rp_docs', 'id > 0');
SHOW jit;
RESET jit;

SELECT milvus.drop_collection(x) FROM unnest(ARRAY['rp_docs', 'rp_sims', 'rp_pk']) x;
DROP FUNCTION rp_cmp, rp_calls, rp_run_delete, rp_run, rp_get_plpgsql;
RESET track_functions;
