-- Bulk import into Milvus collections: Milvus's bulk_insert from server
-- files (src/collection/import.c), its task list, and import_table, the
-- migration of rows from any table (doc/collections.md).

CREATE TABLE milvus.import_tasks (
    task_id         bigserial PRIMARY KEY,
    db_name         text NOT NULL,
    collection_name text NOT NULL,
    partition_name  text,
    files           jsonb NOT NULL,
    state           text NOT NULL CHECK (state IN ('Pending', 'Importing', 'Completed', 'Failed')),
    row_count       bigint NOT NULL DEFAULT 0,
    progress        integer NOT NULL DEFAULT 0,
    reason          text,
    worker_pid      integer,
    owner           name NOT NULL DEFAULT current_user,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
COMMENT ON TABLE milvus.import_tasks IS 'Milvus bulk_insert tasks';
GRANT SELECT, INSERT, UPDATE ON milvus.import_tasks TO PUBLIC;
GRANT USAGE ON SEQUENCE milvus.import_tasks_task_id_seq TO PUBLIC;
ALTER TABLE milvus.import_tasks ENABLE ROW LEVEL SECURITY;
-- a role sees and records its own tasks
CREATE POLICY own ON milvus.import_tasks USING (owner = current_user) WITH CHECK (owner = current_user);

-- Import rows from files on the server; returns the task's id.  With
-- milvus.import_in_background on (the default), an import worker runs the
-- task once the calling transaction commits (src/workers/importer.c); off,
-- it runs in the caller's transaction.  Either way an import is all of its
-- rows or, on an error, none.
CREATE FUNCTION milvus.bulk_insert(collection_name text, files jsonb, partition_name text DEFAULT NULL)
RETURNS bigint
    AS 'MODULE_PATHNAME', 'milvus_bulk_insert' LANGUAGE C VOLATILE;

-- The import workers running now.  Read before the tasks (whose reads then
-- take a newer snapshot): a task still Importing in that snapshot whose
-- worker was already gone did not commit, so it failed; a worker that
-- commits after this read is seen alive, and its task Completed.
CREATE FUNCTION milvus._import_workers() RETURNS integer[]
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_catalog.pg_stat_clear_snapshot();
    RETURN (SELECT coalesce(array_agg(a.pid), '{}') FROM pg_catalog.pg_stat_activity a
             WHERE a.backend_type = 'milvus import');
END
$$;

-- A task as Milvus's get_bulk_insert_state describes it, given the workers
-- alive before it was read.  A running task's progress is its worker's in
-- pg_stat_progress_copy (bytes of the files read); a task whose worker is
-- gone without finishing (a server restart, pg_terminate_backend) failed,
-- and its rows were rolled back with it.
CREATE FUNCTION milvus._import_task_json(t milvus.import_tasks, workers integer[]) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (
    SELECT jsonb_build_object(
               'task_id', t.task_id,
               'state', CASE WHEN gone THEN 'Failed' ELSE t.state END,
               'row_count', CASE WHEN t.state = 'Importing' THEN coalesce(p.tuples_processed, 0) ELSE t.row_count END,
               'progress', CASE WHEN t.state = 'Importing'
                                THEN coalesce(least(99, (100 * p.bytes_processed / nullif(p.bytes_total, 0))::int), 0)
                                ELSE t.progress END,
               'reason', CASE WHEN gone THEN 'the import worker stopped before it finished; no row was imported'
                              ELSE coalesce(t.reason, '') END,
               'collection_name', t.collection_name, 'partition_name', t.partition_name,
               'files', t.files, 'create_ts', t.created_at, 'finish_ts', t.finished_at,
               'pid', CASE WHEN t.state = 'Importing' AND NOT gone THEN t.worker_pid END)
      FROM (SELECT t.state = 'Importing' AND NOT coalesce(t.worker_pid = ANY (workers), false) AS gone) g
      LEFT JOIN pg_catalog.pg_stat_progress_copy p
             ON t.state = 'Importing' AND NOT g.gone AND p.pid = t.worker_pid);

CREATE FUNCTION milvus.get_import_state(task_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    workers integer[] := milvus._import_workers();
    t milvus.import_tasks;
BEGIN
    SELECT * INTO t FROM milvus.import_tasks x WHERE x.task_id = get_import_state.task_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'import task % does not exist', task_id
            USING ERRCODE = 'undefined_object',
                  HINT = 'milvus.list_import_tasks() lists the tasks you started.';
    END IF;
    RETURN milvus._import_task_json(t, workers);
END
$$;

CREATE FUNCTION milvus.list_import_tasks(collection_name text DEFAULT NULL, "limit" integer DEFAULT NULL)
RETURNS SETOF jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    workers integer[] := milvus._import_workers();
BEGIN
    RETURN QUERY
        SELECT milvus._import_task_json(t, workers) FROM milvus.import_tasks t
         WHERE list_import_tasks.collection_name IS NULL OR t.collection_name = list_import_tasks.collection_name
         ORDER BY t.task_id DESC
         LIMIT list_import_tasks."limit";
END
$$;

-- Migrate rows from any table (or view) into a collection with one INSERT
-- ... SELECT, with the caller's privileges.  field_map maps field names to
-- source column names (by default a field takes the column of its name);
-- values go through their text form, so pgvector's vector, halfvec and
-- sparsevec columns (whose text is the same as floatvector's,
-- float16vector's and sparsevector's) need no pgvector here.
CREATE FUNCTION milvus.import_table(collection_name text, source regclass, field_map jsonb DEFAULT NULL,
                                    partition_name text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
    part text := milvus._write_partition(c, partition_name);
    f milvus.fields;
    col text;
    cols text[] := '{}';
    exprs text[] := '{}';
    n bigint;
BEGIN
    IF field_map IS NOT NULL AND jsonb_typeof(field_map) <> 'object' THEN
        RAISE EXCEPTION 'field_map must be a JSON object of field names and column names'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR col IN SELECT k FROM jsonb_object_keys(coalesce(field_map, '{}')) k LOOP
        PERFORM milvus._field(c, col);
    END LOOP;
    FOR f IN SELECT * FROM milvus._fields(c) LOOP
        col := coalesce(field_map ->> f.field_name, CASE WHEN field_map ? f.field_name THEN NULL ELSE f.field_name END);
        IF col IS NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                                       WHERE a.attrelid = source AND a.attname = col
                                         AND a.attnum > 0 AND NOT a.attisdropped) THEN
            IF field_map ? f.field_name THEN
                RAISE EXCEPTION 'column "%" of field "%" does not exist in %', col, f.field_name, source
                    USING ERRCODE = 'undefined_column';
            ELSIF f.auto_id OR f.nullable OR f.default_sql IS NOT NULL THEN
                CONTINUE;
            END IF;
            RAISE EXCEPTION '% has no column for field "%"', source, f.field_name
                USING ERRCODE = 'undefined_column',
                      HINT = 'Name its column in field_map: {"field": "column"}.';
        END IF;
        IF f.auto_id THEN
            RAISE EXCEPTION 'field "%" has auto_id set: its values are generated', f.field_name
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Leave it out of field_map, or map it to null.';
        END IF;
        cols := cols || format('%I', f.field_name);
        -- (a sparse vector's text names its dimension: Milvus's have none)
        exprs := exprs || format(CASE WHEN f.data_type = 'SPARSE_FLOAT_VECTOR'
                                      THEN 'regexp_replace((s.%I)::text, ''/[0-9]+$'', ''/1000000000'')::%s'
                                      ELSE '(s.%I)::text::%s' END,
                                 col, milvus._sql_type(f.data_type, f.params, f.element_type));
    END LOOP;
    IF c.partition_key IS NULL THEN
        cols := cols || '"$partition"'::text;
        exprs := exprs || '$1'::text;
    END IF;
    EXECUTE format('WITH ins AS (INSERT INTO %s (%s) SELECT %s FROM %s s RETURNING 1) SELECT count(*) FROM ins',
                   milvus._qualified(c.relid), array_to_string(cols, ', '), array_to_string(exprs, ', '), source)
        INTO n USING part;
    RETURN n;
END
$$;

-- Export a collection to server files in a format bulk_insert reads (json,
-- csv or npy), from one snapshot; returns the files as bulk_insert takes them
CREATE FUNCTION milvus.export_collection(collection_name text, directory text, format text DEFAULT 'json')
RETURNS jsonb
    AS 'MODULE_PATHNAME', 'milvus_export_collection' LANGUAGE C STABLE;
