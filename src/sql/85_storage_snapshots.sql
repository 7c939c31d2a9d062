--
-- Collection snapshots in the S3 bucket (doc/storage.md, "Snapshots"): the
-- catalog side in PL/pgSQL, the objects and the data streams in C
-- (src/storage/snapshot.c).  A snapshot is a folder
-- <milvus.s3_prefix>/snapshots/<db>/<snapshot>/ holding manifest.json and,
-- per partition, <partition>/data-NNNNN.bin: its rows as one COPY BINARY
-- stream cut into parts.  The manifest is written last: a folder without one
-- is not a snapshot (list_snapshots skips it, drop_snapshot removes it).
--

-- Object calls; keys are relative to <prefix>/snapshots/
CREATE FUNCTION milvus._snapshot_put(key text, data text) RETURNS void
    AS 'MODULE_PATHNAME', 'milvus_snapshot_put' LANGUAGE C STRICT;
CREATE FUNCTION milvus._snapshot_get(key text) RETURNS text
    AS 'MODULE_PATHNAME', 'milvus_snapshot_get' LANGUAGE C STRICT;
CREATE FUNCTION milvus._snapshot_list(key_prefix text) RETURNS TABLE (key text, size bigint)
    AS 'MODULE_PATHNAME', 'milvus_snapshot_list' LANGUAGE C STRICT;
CREATE FUNCTION milvus._snapshot_delete(key text) RETURNS void
    AS 'MODULE_PATHNAME', 'milvus_snapshot_delete' LANGUAGE C STRICT;
-- One table partition's rows out, under the caller's snapshot; and back in
CREATE FUNCTION milvus._snapshot_copy_out(rel regclass, columns text[], folder text, tag text,
                                          part_bytes integer) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'milvus_snapshot_copy_out' LANGUAGE C STRICT;
CREATE FUNCTION milvus._snapshot_copy_in(rel regclass, columns text[], keys text[]) RETURNS bigint
    AS 'MODULE_PATHNAME', 'milvus_snapshot_copy_in' LANGUAGE C STRICT;

-- <db>/<snapshot>/, the folder of a snapshot of the current database
CREATE FUNCTION milvus._snapshot_folder(snapshot_name text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM milvus._check_name('snapshot', snapshot_name);
    RETURN (milvus._database()).db_name || '/' || snapshot_name || '/';
END
$$;

-- The manifest of a snapshot, or 42704
CREATE FUNCTION milvus._snapshot_manifest(snapshot_name text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    m jsonb := milvus._snapshot_get(milvus._snapshot_folder(snapshot_name) || 'manifest.json')::jsonb;
BEGIN
    IF m IS NULL THEN
        RAISE EXCEPTION 'snapshot "%" does not exist', snapshot_name
            USING ERRCODE = 'undefined_object',
                  DETAIL = format('Database "%s" has no snapshot of that name in the bucket.',
                                  (milvus._database()).db_name);
    END IF;
    RETURN m;
END
$$;

-- STABLE: every statement here, and the cursors of _snapshot_copy_out, run
-- under the calling statement's snapshot, one MVCC snapshot for the catalog
-- rows and every partition's data
CREATE FUNCTION milvus.create_snapshot(collection_name text, snapshot_name text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
    folder text := milvus._snapshot_folder(snapshot_name);
    cols text[];
    p milvus.partitions;
    o jsonb;
    parts jsonb := '[]';
    rows bigint := 0;
    bytes bigint := 0;
    seq text;
    manifest jsonb;
BEGIN
    IF NOT has_table_privilege(c.relid, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for collection "%"', c.collection_name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('A snapshot of a collection needs SELECT on its table %s.',
                                  milvus._qualified(c.relid));
    END IF;
    IF milvus._snapshot_get(folder || 'manifest.json') IS NOT NULL THEN
        RAISE EXCEPTION 'snapshot "%" already exists', snapshot_name
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Choose another name, or drop it with milvus.drop_snapshot.';
    END IF;
    SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO cols
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = c.relid AND a.attnum > 0 AND NOT a.attisdropped;
    FOR p IN SELECT * FROM milvus.partitions x
              WHERE x.db_name = c.db_name AND x.collection_name = c.collection_name
              ORDER BY x.partition_id LOOP
        o := milvus._snapshot_copy_out(p.relid, cols, folder || p.partition_name || '/', 'data',
                                       64 * 1024 * 1024);
        parts := parts || jsonb_build_object('partition_name', p.partition_name,
                                             'rows', o -> 'rows', 'bytes', o -> 'bytes',
                                             'objects', (SELECT jsonb_agg(jsonb_build_object(
                                                                'key', p.partition_name || '/' || (x ->> 'key'),
                                                                'size', x -> 'size'))
                                                           FROM jsonb_array_elements(o -> 'objects') x));
        rows := rows + (o ->> 'rows')::bigint;
        bytes := bytes + (o ->> 'bytes')::bigint;
    END LOOP;
    seq := (SELECT pg_get_serial_sequence(c.relid::text, f.field_name)
              FROM milvus.fields f
             WHERE f.db_name = c.db_name AND f.collection_name = c.collection_name AND f.is_primary AND f.auto_id);
    manifest := jsonb_build_object(
        'format_version', 1,
        'snapshot_name', snapshot_name,
        'db_name', c.db_name,
        'collection_name', c.collection_name,
        'created_at', now(),
        'postgresql_version', current_setting('server_version'),
        'extension_version', (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'milvus'),
        'schema', milvus.describe_collection(c.collection_name),
        'load_state', c.load_state,
        'auto_id_last_value', CASE WHEN seq IS NOT NULL THEN pg_sequence_last_value(seq::regclass) END,
        'indexes', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'index_name', i.index_name, 'field_name', i.field_name,
                               'index_type', i.index_type, 'metric_type', i.metric_type,
                               'params', i.params) ORDER BY i.index_name), '[]')
                      FROM milvus.indexes i
                     WHERE i.db_name = c.db_name AND i.collection_name = c.collection_name),
        'columns', to_jsonb(cols),
        'data_format', 'PostgreSQL COPY BINARY; the parts of a partition, in order, are one stream',
        'rows', rows,
        'bytes', bytes,
        'partitions', parts);
    PERFORM milvus._snapshot_put(folder || 'manifest.json', jsonb_pretty(manifest));
    RETURN manifest;
END
$$;

-- The manifests of the current database's snapshots, by name
CREATE FUNCTION milvus.list_snapshots() RETURNS SETOF jsonb
LANGUAGE sql STABLE AS $$
    SELECT milvus._snapshot_get(o.key)::jsonb
      FROM milvus._snapshot_list((milvus._database()).db_name || '/') o
     WHERE o.key ~ '^[^/]+/[^/]+/manifest\.json$'
     ORDER BY o.key
$$;

CREATE FUNCTION milvus.restore_snapshot(snapshot_name text, collection_name text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    folder text := milvus._snapshot_folder(snapshot_name);
    m jsonb := milvus._snapshot_manifest(snapshot_name);
    name text := coalesce(restore_snapshot.collection_name, m ->> 'collection_name');
    c milvus.collections;
    cols text[];
    p jsonb;
    i jsonb;
    n bigint;
    rows bigint := 0;
    seq text;
BEGIN
    IF (m ->> 'format_version')::int IS DISTINCT FROM 1 THEN
        RAISE EXCEPTION 'snapshot "%" has format version %, not 1', snapshot_name, m ->> 'format_version'
            USING ERRCODE = 'feature_not_supported';
    END IF;
    PERFORM milvus.create_collection(name, schema => m -> 'schema');
    c := milvus._collection(name, via_alias => false);
    IF c.partition_key IS NULL THEN
        FOR p IN SELECT value FROM jsonb_array_elements(m -> 'partitions') LOOP
            IF p ->> 'partition_name' <> '_default' THEN
                PERFORM milvus.create_partition(name, p ->> 'partition_name');
            END IF;
        END LOOP;
    END IF;
    SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO cols
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = c.relid AND a.attnum > 0 AND NOT a.attisdropped;
    IF to_jsonb(cols) <> m -> 'columns' THEN
        RAISE EXCEPTION 'the columns of snapshot "%" do not match its schema', snapshot_name
            USING ERRCODE = 'data_corrupted',
                  DETAIL = format('The manifest has %s, the new table %s.', m -> 'columns', to_jsonb(cols));
    END IF;
    -- into the parent: the table routes each row to its partition
    FOR p IN SELECT value FROM jsonb_array_elements(m -> 'partitions') LOOP
        n := milvus._snapshot_copy_in(c.relid, cols,
                                      ARRAY(SELECT folder || (o ->> 'key')
                                              FROM jsonb_array_elements(p -> 'objects') o));
        IF n <> (p ->> 'rows')::bigint THEN
            RAISE EXCEPTION 'partition "%" of snapshot "%" gave % rows, not %',
                            p ->> 'partition_name', snapshot_name, n, p ->> 'rows'
                USING ERRCODE = 'data_corrupted';
        END IF;
        rows := rows + n;
    END LOOP;
    seq := (SELECT pg_get_serial_sequence(c.relid::text, f.field_name)
              FROM milvus.fields f
             WHERE f.db_name = c.db_name AND f.collection_name = c.collection_name AND f.is_primary AND f.auto_id);
    IF seq IS NOT NULL AND m ->> 'auto_id_last_value' IS NOT NULL THEN
        PERFORM setval(seq, (m ->> 'auto_id_last_value')::bigint);
    END IF;
    FOR i IN SELECT value FROM jsonb_array_elements(m -> 'indexes') LOOP
        PERFORM milvus.create_index(name, i ->> 'field_name', i ->> 'index_type', i ->> 'metric_type',
                                    i -> 'params', i ->> 'index_name');
    END LOOP;
    IF m ->> 'load_state' = 'Loaded' THEN
        PERFORM milvus.load_collection(name);
    END IF;
    RETURN jsonb_build_object('snapshot_name', snapshot_name, 'collection_name', name,
                              'rows', rows, 'created_at', m -> 'created_at');
END
$$;

-- Remove a snapshot: the manifest first, so that a drop cut short leaves no
-- half snapshot listed, then every object of its folder
CREATE FUNCTION milvus.drop_snapshot(snapshot_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    folder text := milvus._snapshot_folder(snapshot_name);
BEGIN
    PERFORM milvus._snapshot_manifest(snapshot_name);
    PERFORM milvus._snapshot_delete(folder || 'manifest.json');
    PERFORM milvus._snapshot_delete(o.key) FROM milvus._snapshot_list(folder) o;
END
$$;

-- The bucket has no per-role access: whoever may call these may read, write
-- or remove every snapshot in it (the object calls take any key under
-- snapshots/).  So all of them are for roles an administrator grants them to;
-- create_snapshot still checks SELECT on the collection.
REVOKE EXECUTE ON FUNCTION milvus.create_snapshot(text, text), milvus.list_snapshots(),
    milvus.restore_snapshot(text, text), milvus.drop_snapshot(text),
    milvus._snapshot_put(text, text), milvus._snapshot_get(text), milvus._snapshot_list(text),
    milvus._snapshot_delete(text),
    milvus._snapshot_copy_out(regclass, text[], text, text, integer),
    milvus._snapshot_copy_in(regclass, text[], text[]) FROM PUBLIC;
