-- Data in Milvus collections: insert, upsert, delete, get and query
-- (doc/collections.md).
--
-- Rows arrive as JSON objects, the way Milvus clients send them.  Insert and
-- upsert are C (src/collection/write.c): they convert each value to its
-- column's type with the checks milvus._value_sql writes in SQL (still used
-- for default values and ids), and pass the rows to one prepared INSERT per
-- batch through milvus._pending_rows(), so a bad value anywhere raises an
-- error naming the field and the row, and nothing is inserted.  The errors
-- themselves are raised by milvus._bad_value and milvus._bad_row below.
-- Filters are compiled by milvus.compile_filter into SQL that refers only to
-- $1, the text[] of the values the user wrote.

-- Raise the error a row deserves; VOLATILE so that it is never folded away
CREATE FUNCTION milvus._bad_row(kind text, n bigint, o jsonb, fields text[], collection_name text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    extra text;
BEGIN
    IF kind = 'object' THEN
        RAISE EXCEPTION 'data[%] is not an object', n
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('A row is a JSON object of field names and values; got %s.',
                                  milvus._describe_json(o));
    ELSIF kind = 'extra' THEN
        SELECT k INTO extra FROM jsonb_object_keys(o) k WHERE k <> ALL (fields) ORDER BY k LIMIT 1;
        RAISE EXCEPTION 'data[%] has field "%", which collection "%" does not have', n, extra, collection_name
            USING ERRCODE = 'undefined_column',
                  HINT = 'A collection created with enable_dynamic_field keeps such keys in its "$meta" column.';
    ELSIF kind = 'auto_id' THEN
        RAISE EXCEPTION 'data[%] has a value for primary field "%", whose ids are generated', n, fields[1]
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The primary field has auto_id set.';
    END IF;
    RETURN false;
END
$$;

-- Rows as an array: Milvus takes one object or a list of them
CREATE FUNCTION milvus._rows(data jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF jsonb_typeof(data) = 'object' THEN
        RETURN jsonb_build_array(data);
    ELSIF jsonb_typeof(data) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'data must be a JSON array of rows or one row'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Got %s.', coalesce(milvus._describe_json(data), 'NULL'));
    END IF;
    RETURN data;
END
$$;

CREATE FUNCTION milvus._fields(c milvus.collections) RETURNS SETOF milvus.fields
LANGUAGE sql STABLE AS $$
    SELECT * FROM milvus.fields f
     WHERE f.db_name = c.db_name AND f.collection_name = c.collection_name ORDER BY f.field_id
$$;

CREATE FUNCTION milvus._pk(c milvus.collections) RETURNS milvus.fields
LANGUAGE sql STABLE AS $$
    SELECT * FROM milvus._fields(c) f WHERE f.is_primary
$$;

-- The partition a write goes to: partition_name, checked, or _default
CREATE FUNCTION milvus._write_partition(c milvus.collections, partition_name text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF partition_name IS NULL THEN
        RETURN CASE WHEN c.partition_key IS NULL THEN '_default' END;
    END IF;
    IF c.partition_key IS NOT NULL THEN
        RAISE EXCEPTION 'collection "%" has a partition key: rows go to partitions by its value', c.collection_name
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Leave partition_name out.';
    END IF;
    RETURN (milvus._partition(c, partition_name)).partition_name;
END
$$;

-- The partitions a read covers, as a SQL condition on $3 (NULL: all)
CREATE FUNCTION milvus._read_partitions(c milvus.collections, partition_names text[], alias text DEFAULT 't')
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p text;
BEGIN
    IF partition_names IS NULL OR cardinality(partition_names) = 0 THEN
        RETURN 'true';
    END IF;
    IF c.partition_key IS NOT NULL THEN
        RAISE EXCEPTION 'collection "%" has a partition key: its partitions cannot be named', c.collection_name
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Filter on the partition key field instead.';
    END IF;
    FOREACH p IN ARRAY partition_names LOOP
        PERFORM milvus._partition(c, p);
    END LOOP;
    RETURN format('%I."$partition" = ANY ($3)', alias);
END
$$;

-- The rows a milvus.insert or milvus.upsert call staged, for its INSERT
CREATE FUNCTION milvus._pending_rows() RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'milvus_pending_rows' LANGUAGE C VOLATILE ROWS 1000;

-- Insert rows; return how many and their primary keys.  A collection with
-- several partitions, whose primary key PostgreSQL makes unique per
-- partition only, serialises the API's writers with an advisory lock on its
-- table (no privilege beyond INSERT is needed, as LOCK TABLE would) and
-- checks the keys written across partitions.
CREATE FUNCTION milvus.insert(collection_name text, data jsonb, partition_name text DEFAULT NULL)
RETURNS TABLE (insert_count bigint, ids jsonb)
    AS 'MODULE_PATHNAME', 'milvus_insert' LANGUAGE C VOLATILE ROWS 1;

-- Milvus's upsert: delete by primary key in any partition, then insert
CREATE FUNCTION milvus.upsert(collection_name text, data jsonb, partition_name text DEFAULT NULL)
RETURNS TABLE (upsert_count bigint, ids jsonb)
    AS 'MODULE_PATHNAME', 'milvus_upsert' LANGUAGE C VOLATILE ROWS 1;

-- The same with the rows as JSON text, which an untyped literal or a text
-- parameter reaches: read without a numeric per number (rows_text.c), the
-- same rows and errors as the jsonb form
CREATE FUNCTION milvus.insert(collection_name text, data text, partition_name text DEFAULT NULL)
RETURNS TABLE (insert_count bigint, ids jsonb)
    AS 'MODULE_PATHNAME', 'milvus_insert_text' LANGUAGE C VOLATILE ROWS 1;
CREATE FUNCTION milvus.upsert(collection_name text, data text, partition_name text DEFAULT NULL)
RETURNS TABLE (upsert_count bigint, ids jsonb)
    AS 'MODULE_PATHNAME', 'milvus_upsert_text' LANGUAGE C VOLATILE ROWS 1;

-- The schema milvus.compile_filter checks a filter against
CREATE FUNCTION milvus._filter_schema(c milvus.collections) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'fields', jsonb_agg(jsonb_strip_nulls(jsonb_build_object('name', f.field_name, 'type', f.data_type,
                                                                 'element_type', f.element_type))
                            ORDER BY f.field_id),
        'enable_dynamic_field', c.enable_dynamic_field)
      FROM milvus._fields(c) f
$$;

-- A filter as a SQL condition on $1 (its values), or 'true' for none
CREATE FUNCTION milvus._filter(c milvus.collections, filter text, filter_params jsonb,
                               OUT sql text, OUT params text[])
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF filter IS NULL OR btrim(filter) = '' THEN
        sql := 'true';
        params := '{}';
    ELSE
        SELECT '(' || x.sql || ')', x.params INTO sql, params
          FROM milvus.compile_filter(filter, milvus._filter_schema(c), coalesce(filter_params, '{}')) x;
    END IF;
END
$$;

-- The SQL condition "primary key in ids" with ids in $2 as jsonb
CREATE FUNCTION milvus._ids_sql(c milvus.collections, ids jsonb, alias text DEFAULT 't') RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    pk milvus.fields := milvus._pk(c);
BEGIN
    IF ids IS NULL THEN
        RETURN 'true';
    END IF;
    IF jsonb_typeof(ids) NOT IN ('array', 'number', 'string') THEN
        RAISE EXCEPTION 'ids must be a primary key or a JSON array of them'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Got %s.', milvus._describe_json(ids));
    END IF;
    RETURN format('%I.%I = ANY (ARRAY(SELECT %s FROM jsonb_array_elements(CASE jsonb_typeof($2) WHEN ''array'''
                  ' THEN $2 ELSE jsonb_build_array($2) END) WITH ORDINALITY AS i("$v", "$n")))',
                  alias, pk.field_name,
                  milvus._value_sql(pk, 'NULLIF(i."$v", ''null'')', 'i."$n" - 1', src => 'ids'));
END
$$;

-- Functions that run a filter do so without JIT: LLVM takes time and memory
-- growing faster than the expression it compiles, and a filter may be 1 MiB
-- (24,000 or-ed pairs of comparisons took 54 s and 2.7 GB to compile)
--
-- The delete in PL/pgSQL.  milvus.delete (C, src/collection/query.c, below)
-- runs the statement built here as a kept plan and hands this function every
-- call it raises an error for before its statement runs.
CREATE FUNCTION milvus._delete_plpgsql(collection_name text, ids jsonb DEFAULT NULL, filter text DEFAULT NULL,
                                       partition_name text DEFAULT NULL, filter_params jsonb DEFAULT NULL)
RETURNS TABLE (delete_count bigint)
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
    f record;
BEGIN
    IF (ids IS NULL) = (filter IS NULL OR btrim(filter) = '') THEN
        RAISE EXCEPTION 'delete takes either ids or a filter'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN ids IS NULL THEN 'It got neither.' ELSE 'It got both.' END;
    END IF;
    f := milvus._filter(c, filter, filter_params);
    EXECUTE format('WITH d AS (DELETE FROM %s t WHERE %s AND %s AND %s RETURNING 1) SELECT count(*) FROM d',
                   milvus._qualified(c.relid), f.sql, milvus._ids_sql(c, ids),
                   milvus._read_partitions(c, CASE WHEN partition_name IS NOT NULL THEN ARRAY[partition_name] END))
        INTO delete_count USING f.params, ids, ARRAY[partition_name];
    RETURN NEXT;
END
$$;

CREATE FUNCTION milvus.delete(collection_name text, ids jsonb DEFAULT NULL, filter text DEFAULT NULL,
                              partition_name text DEFAULT NULL, filter_params jsonb DEFAULT NULL)
RETURNS TABLE (delete_count bigint)
    AS 'MODULE_PATHNAME', 'milvus_delete' LANGUAGE C VOLATILE;

-- A stored value as Milvus returns it in JSON
CREATE FUNCTION milvus._binary_json(v @extschema@.binaryvector) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_agg(substring(s FROM i FOR 8)::bit(8)::int ORDER BY i)
      FROM (SELECT v::bit varying::text) b(s), generate_series(1, length(s), 8) i
$$;

CREATE FUNCTION milvus._sparse_json(v @extschema@.sparsevector) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(jsonb_object_agg((m[1]::bigint - 1)::text, m[2]::numeric), '{}')
      FROM regexp_matches(v::text, '(\d+):([^,}]+)', 'g') m
$$;

CREATE FUNCTION milvus._output_sql(f milvus.fields, alias text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE f.data_type
    WHEN 'FLOAT_VECTOR' THEN format('to_jsonb((%I.%I)::real[])', alias, f.field_name)
    WHEN 'FLOAT16_VECTOR' THEN format('to_jsonb((%I.%I)::real[])', alias, f.field_name)
    WHEN 'BINARY_VECTOR' THEN format('milvus._binary_json(%I.%I)', alias, f.field_name)
    WHEN 'SPARSE_FLOAT_VECTOR' THEN format('milvus._sparse_json(%I.%I)', alias, f.field_name)
    ELSE format('to_jsonb(%I.%I)', alias, f.field_name) END;

-- The jsonb object of output fields: "*" is every field, a name that is no
-- field is a key of the dynamic field, "$meta" is all of them
CREATE FUNCTION milvus._entity_sql(c milvus.collections, output_fields text[], with_pk boolean,
                                   alias text DEFAULT 't')
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    f milvus.fields;
    name text;
    wanted text[] := '{}';
    pairs text[] := '{}';
    parts text[] := '{}';
    dyn text[] := '{}';
    all_meta boolean := false;
BEGIN
    FOREACH name IN ARRAY coalesce(output_fields, '{}') LOOP
        IF name = '*' THEN
            wanted := wanted || ARRAY(SELECT x.field_name FROM milvus._fields(c) x);
            all_meta := c.enable_dynamic_field;
        ELSIF name = '$meta' AND c.enable_dynamic_field THEN
            all_meta := true;
        ELSIF EXISTS (SELECT FROM milvus._fields(c) x WHERE x.field_name = name) THEN
            wanted := wanted || name;
        ELSIF c.enable_dynamic_field THEN
            dyn := dyn || name;
        ELSE
            RAISE EXCEPTION 'field "%" does not exist in collection "%"', name, c.collection_name
                USING ERRCODE = 'undefined_column';
        END IF;
    END LOOP;
    IF all_meta THEN
        parts := parts || format('%I."$meta"', alias);
    END IF;
    FOREACH name IN ARRAY dyn LOOP
        parts := parts || format('CASE WHEN %1$I."$meta" ? %2$L THEN jsonb_build_object(%2$L, %1$I."$meta" -> %2$L)'
                                 ' ELSE ''{}''::jsonb END', alias, name);
    END LOOP;
    FOR f IN SELECT * FROM milvus._fields(c) x
              WHERE x.field_name = ANY (wanted) OR (with_pk AND x.is_primary) LOOP
        pairs := pairs || format('%L, %s', f.field_name, milvus._output_sql(f, alias));
        IF cardinality(pairs) = 40 THEN
            parts := parts || ('jsonb_build_object(' || array_to_string(pairs, ', ') || ')');
            pairs := '{}';
        END IF;
    END LOOP;
    IF cardinality(pairs) > 0 OR cardinality(parts) = 0 THEN
        parts := parts || ('jsonb_build_object(' || array_to_string(pairs, ', ') || ')');
    END IF;
    RETURN array_to_string(parts, ' || ');
END
$$;

-- Check limit and offset against milvus.search_max_topk
CREATE FUNCTION milvus._check_window("limit" integer, "offset" integer) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    -- (the library, which defines the setting, is loaded: callers looked up
    -- the collection through C first)
    topk int := current_setting('milvus.search_max_topk')::int;
BEGIN
    IF "limit" IS NOT NULL AND "limit" < 1 THEN
        RAISE EXCEPTION 'limit must be at least 1' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('It is %s.', "limit");
    END IF;
    IF "offset" IS NOT NULL AND "offset" < 0 THEN
        RAISE EXCEPTION 'offset must not be negative' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('It is %s.', "offset");
    END IF;
    IF coalesce("limit", 0)::bigint + coalesce("offset", 0) > topk THEN
        RAISE EXCEPTION 'limit plus offset must be at most %', topk
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('They are %s and %s.', "limit", coalesce("offset", 0)),
                  HINT = 'The setting milvus.search_max_topk sets the limit.';
    END IF;
END
$$;

-- The query in PL/pgSQL (without JIT, as milvus.delete).  milvus.query (C,
-- src/collection/query.c, below) runs the statement built here as a kept
-- plan and hands this function every call it raises an error for before its
-- statement runs.
CREATE FUNCTION milvus._query_plpgsql(
    collection_name text,
    filter text DEFAULT '',
    output_fields text[] DEFAULT NULL,
    "limit" integer DEFAULT NULL,
    "offset" integer DEFAULT 0,
    partition_names text[] DEFAULT NULL,
    filter_params jsonb DEFAULT NULL,
    ids jsonb DEFAULT NULL)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE SET jit = off AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
    pk milvus.fields := milvus._pk(c);
    f record := milvus._filter(c, filter, filter_params);
    cond text;
BEGIN
    PERFORM milvus._check_window("limit", "offset");
    cond := format('%s AND %s AND %s', f.sql, milvus._ids_sql(c, ids), milvus._read_partitions(c, partition_names));
    IF 'count(*)' = ANY (output_fields) THEN
        IF cardinality(output_fields) > 1 THEN
            RAISE EXCEPTION 'count(*) cannot be queried with other output fields'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        RETURN QUERY EXECUTE format('SELECT jsonb_build_object(''count(*)'', count(*)) FROM %s t WHERE %s',
                                    milvus._qualified(c.relid), cond)
            USING f.params, ids, partition_names;
        RETURN;
    END IF;
    IF f.sql = 'true' AND ids IS NULL AND "limit" IS NULL THEN
        RAISE EXCEPTION 'query needs a filter, ids or a limit'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'As Milvus, a query without a filter returns at most "limit" rows; count(*) counts them all.';
    END IF;
    RETURN QUERY EXECUTE format('SELECT %s FROM %s t WHERE %s ORDER BY t.%I LIMIT %s OFFSET %s',
                                milvus._entity_sql(c, output_fields, true), milvus._qualified(c.relid), cond,
                                pk.field_name, coalesce("limit"::text, 'ALL'), coalesce("offset", 0))
        USING f.params, ids, partition_names;
END
$$;

CREATE FUNCTION milvus.query(
    collection_name text,
    filter text DEFAULT '',
    output_fields text[] DEFAULT NULL,
    "limit" integer DEFAULT NULL,
    "offset" integer DEFAULT 0,
    partition_names text[] DEFAULT NULL,
    filter_params jsonb DEFAULT NULL,
    ids jsonb DEFAULT NULL)
RETURNS SETOF jsonb
    AS 'MODULE_PATHNAME', 'milvus_query' LANGUAGE C STABLE;

-- milvus.query(collection_name, output_fields => output_fields, partition_names
-- => partition_names, ids => coalesce(ids, '[]')), called from C directly
CREATE FUNCTION milvus.get(collection_name text, ids jsonb, output_fields text[] DEFAULT NULL,
                           partition_names text[] DEFAULT NULL)
RETURNS SETOF jsonb
    AS 'MODULE_PATHNAME', 'milvus_get' LANGUAGE C STABLE;
