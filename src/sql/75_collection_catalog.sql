-- Milvus collections as tables: the catalog, Milvus's naming rule, databases,
-- collection DDL, partitions and aliases (doc/collections.md).
--
-- A Milvus database is a PostgreSQL schema ("default" is public); a
-- collection is a table in it, partitioned by LIST on the hidden column
-- "$partition" (one partition per Milvus partition, "_default" always), or by
-- HASH on its partition key.  The catalog tables below record what Milvus
-- would keep in etcd; the functions run with the caller's rights, so
-- creating a collection needs CREATE on the schema, and the catalog's
-- row-level security lets a role change only the entries of collections it
-- owns.  Everything built from a user's text is quoted with format('%I') or
-- format('%L') or passed as a parameter.

CREATE SCHEMA IF NOT EXISTS milvus;
GRANT USAGE ON SCHEMA milvus TO PUBLIC;

-- Milvus's name rule, [A-Za-z_][A-Za-z0-9_]*, at most 255 characters: return
-- the name, or raise invalid_name saying what is wrong (src/collection/name.c)
CREATE FUNCTION milvus._check_name(kind text, name text) RETURNS text
    AS 'MODULE_PATHNAME', 'milvus_check_name' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Milvus's limits ('varchar_max_length', 'json_max_bytes', 'array_max_capacity',
-- 'dense_max_dim', 'binary_max_dim', 'name_max_length'), defined once, in
-- src/collection/limits.c
CREATE FUNCTION milvus._limit(name text) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_limit' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- A PostgreSQL identifier for a Milvus name: names over 63 bytes, which
-- PostgreSQL would truncate, keep 54 characters and a hash
CREATE FUNCTION milvus._pg_name(s text) RETURNS name
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN octet_length(s) <= 63 THEN s::name
            ELSE (left(s, 54) || '_' || left(md5(s), 8))::name END;

CREATE SEQUENCE milvus.collection_id_seq;

CREATE TABLE milvus.databases (
    db_name     text PRIMARY KEY,
    schema_name name NOT NULL UNIQUE,
    properties  jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE milvus.databases IS 'Milvus databases: one PostgreSQL schema each';

CREATE TABLE milvus.collections (
    db_name              text NOT NULL REFERENCES milvus.databases ON UPDATE CASCADE,
    collection_name      text NOT NULL,
    collection_id        bigint NOT NULL UNIQUE DEFAULT nextval('milvus.collection_id_seq'),
    relid                regclass NOT NULL UNIQUE,
    description          text NOT NULL DEFAULT '',
    enable_dynamic_field boolean NOT NULL DEFAULT false,
    partition_key        text,
    num_partitions       integer,
    load_state           text NOT NULL DEFAULT 'NotLoad'
                         CHECK (load_state IN ('NotLoad', 'Loading', 'Loaded')),
    properties           jsonb NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (db_name, collection_name)
);
COMMENT ON TABLE milvus.collections IS 'Milvus collections: one table each';

CREATE TABLE milvus.fields (
    db_name          text NOT NULL,
    collection_name  text NOT NULL,
    field_id         integer NOT NULL,
    field_name       text NOT NULL,
    data_type        text NOT NULL,
    element_type     text,
    params           jsonb NOT NULL DEFAULT '{}',
    is_primary       boolean NOT NULL DEFAULT false,
    auto_id          boolean NOT NULL DEFAULT false,
    nullable         boolean NOT NULL DEFAULT false,
    default_value    jsonb,
    default_sql      text,
    is_partition_key boolean NOT NULL DEFAULT false,
    description      text NOT NULL DEFAULT '',
    PRIMARY KEY (db_name, collection_name, field_name),
    UNIQUE (db_name, collection_name, field_id),
    FOREIGN KEY (db_name, collection_name) REFERENCES milvus.collections
        ON UPDATE CASCADE ON DELETE CASCADE
);
COMMENT ON TABLE milvus.fields IS 'Fields of Milvus collections: one column each';

CREATE TABLE milvus.partitions (
    db_name         text NOT NULL,
    collection_name text NOT NULL,
    partition_name  text NOT NULL,
    partition_id    bigint NOT NULL DEFAULT nextval('milvus.collection_id_seq'),
    relid           regclass NOT NULL UNIQUE,
    PRIMARY KEY (db_name, collection_name, partition_name),
    FOREIGN KEY (db_name, collection_name) REFERENCES milvus.collections
        ON UPDATE CASCADE ON DELETE CASCADE
);
COMMENT ON TABLE milvus.partitions IS 'Partitions of Milvus collections: one table partition each';

CREATE TABLE milvus.aliases (
    db_name         text NOT NULL,
    alias           text NOT NULL,
    collection_name text NOT NULL,
    PRIMARY KEY (db_name, alias),
    FOREIGN KEY (db_name, collection_name) REFERENCES milvus.collections ON UPDATE CASCADE
);
COMMENT ON TABLE milvus.aliases IS 'Aliases of Milvus collections';

CREATE TABLE milvus.indexes (
    db_name         text NOT NULL,
    collection_name text NOT NULL,
    index_name      text NOT NULL,
    field_name      text NOT NULL,
    index_type      text NOT NULL,
    metric_type     text,
    params          jsonb NOT NULL DEFAULT '{}',
    -- by name, not regclass: pg_restore creates indexes after it loads this
    -- table; an index lives in its table's schema
    pg_index_name   name,
    PRIMARY KEY (db_name, collection_name, index_name),
    UNIQUE (db_name, collection_name, field_name),
    FOREIGN KEY (db_name, collection_name, field_name) REFERENCES milvus.fields
        ON UPDATE CASCADE ON DELETE CASCADE
);
COMMENT ON TABLE milvus.indexes IS 'Indexes of Milvus collections; FLAT has no PostgreSQL index';

INSERT INTO milvus.databases VALUES ('default', 'public', '{}');

-- Any change to the catalog empties the schema cache of the C data path in
-- every backend (src/collection/schema.c)
CREATE FUNCTION milvus._catalog_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'milvus_catalog_changed' LANGUAGE C;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['databases', 'collections', 'fields', 'partitions', 'aliases', 'indexes'] LOOP
        EXECUTE format('CREATE TRIGGER schema_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON milvus.%I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION milvus._catalog_changed()', t);
    END LOOP;
END
$$;

-- pg_dump keeps the catalog's rows; "default" comes back with the extension
SELECT pg_catalog.pg_extension_config_dump('milvus.databases', 'WHERE db_name <> ''default''');
SELECT pg_catalog.pg_extension_config_dump('milvus.collections', '');
SELECT pg_catalog.pg_extension_config_dump('milvus.fields', '');
SELECT pg_catalog.pg_extension_config_dump('milvus.partitions', '');
SELECT pg_catalog.pg_extension_config_dump('milvus.aliases', '');
SELECT pg_catalog.pg_extension_config_dump('milvus.indexes', '');
SELECT pg_catalog.pg_extension_config_dump('milvus.collection_id_seq', '');

-- Whether the current role owns a table (through membership too)
CREATE FUNCTION milvus._owns_relation(relid regclass) RETURNS boolean
LANGUAGE sql STABLE
RETURN coalesce((SELECT pg_catalog.pg_has_role(c.relowner, 'USAGE')
                   FROM pg_catalog.pg_class c WHERE c.oid = relid), false);

-- Whether the current role may change a catalog entry: it owns the table or
-- schema, or that is gone (the entry is an orphan that milvus._on_drop, run
-- by whoever dropped it, removes)
CREATE FUNCTION milvus._may_write(relid regclass) RETURNS boolean
LANGUAGE sql STABLE
RETURN coalesce((SELECT pg_catalog.pg_has_role(c.relowner, 'USAGE')
                   FROM pg_catalog.pg_class c WHERE c.oid = relid), true);

CREATE FUNCTION milvus._may_write_collection(db text, coll text) RETURNS boolean
LANGUAGE sql STABLE
RETURN coalesce((SELECT milvus._may_write(c.relid) FROM milvus.collections c
                  WHERE c.db_name = db AND c.collection_name = coll), false);

-- Everyone reads the catalog; a role writes only the entries of what it
-- owns, and a new entry must point to something that exists
GRANT SELECT, INSERT, UPDATE, DELETE ON milvus.databases, milvus.collections, milvus.fields,
    milvus.partitions, milvus.aliases, milvus.indexes TO PUBLIC;
GRANT USAGE ON SEQUENCE milvus.collection_id_seq TO PUBLIC;
ALTER TABLE milvus.databases ENABLE ROW LEVEL SECURITY;
ALTER TABLE milvus.collections ENABLE ROW LEVEL SECURITY;
ALTER TABLE milvus.fields ENABLE ROW LEVEL SECURITY;
ALTER TABLE milvus.partitions ENABLE ROW LEVEL SECURITY;
ALTER TABLE milvus.aliases ENABLE ROW LEVEL SECURITY;
ALTER TABLE milvus.indexes ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON milvus.databases FOR SELECT USING (true);
CREATE POLICY write ON milvus.databases USING (
    coalesce((SELECT pg_catalog.pg_has_role(n.nspowner, 'USAGE') FROM pg_catalog.pg_namespace n
               WHERE n.nspname = schema_name), true));
CREATE POLICY exists ON milvus.databases AS RESTRICTIVE FOR INSERT WITH CHECK (
    EXISTS (SELECT FROM pg_catalog.pg_namespace n WHERE n.nspname = schema_name));
CREATE POLICY read ON milvus.collections FOR SELECT USING (true);
CREATE POLICY write ON milvus.collections USING (milvus._may_write(relid));
CREATE POLICY exists ON milvus.collections AS RESTRICTIVE FOR INSERT WITH CHECK (milvus._owns_relation(relid));
CREATE POLICY read ON milvus.fields FOR SELECT USING (true);
CREATE POLICY write ON milvus.fields USING (milvus._may_write_collection(db_name, collection_name));
CREATE POLICY read ON milvus.partitions FOR SELECT USING (true);
CREATE POLICY write ON milvus.partitions USING (milvus._may_write_collection(db_name, collection_name));
CREATE POLICY read ON milvus.aliases FOR SELECT USING (true);
CREATE POLICY write ON milvus.aliases USING (milvus._may_write_collection(db_name, collection_name));
CREATE POLICY read ON milvus.indexes FOR SELECT USING (true);
CREATE POLICY write ON milvus.indexes USING (milvus._may_write_collection(db_name, collection_name));

-- DROP TABLE or DROP SCHEMA in plain SQL takes the catalog entries along
CREATE FUNCTION milvus._on_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM milvus.aliases a USING milvus.collections c, pg_catalog.pg_event_trigger_dropped_objects() o
     WHERE o.classid = 'pg_catalog.pg_class'::regclass AND o.objsubid = 0 AND o.objid = c.relid::oid
       AND a.db_name = c.db_name AND a.collection_name = c.collection_name;
    DELETE FROM milvus.collections c USING pg_catalog.pg_event_trigger_dropped_objects() o
     WHERE o.classid = 'pg_catalog.pg_class'::regclass AND o.objsubid = 0 AND o.objid = c.relid::oid;
    DELETE FROM milvus.partitions p USING pg_catalog.pg_event_trigger_dropped_objects() o
     WHERE o.classid = 'pg_catalog.pg_class'::regclass AND o.objsubid = 0 AND o.objid = p.relid::oid;
    DELETE FROM milvus.databases d USING pg_catalog.pg_event_trigger_dropped_objects() o
     WHERE o.object_type = 'schema' AND o.object_name = d.schema_name AND d.db_name <> 'default';
END
$$;
CREATE EVENT TRIGGER milvus_collection_drop ON sql_drop EXECUTE FUNCTION milvus._on_drop();

-- The database a call works in: the argument, else milvus.collection_database
CREATE FUNCTION milvus._database(db_name text DEFAULT NULL) RETURNS milvus.databases
LANGUAGE plpgsql STABLE AS $$
DECLARE
    name text := coalesce(db_name, current_setting('milvus.collection_database', true), 'default');
    d milvus.databases;
BEGIN
    SELECT * INTO d FROM milvus.databases x WHERE x.db_name = name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'database "%" does not exist', name
            USING ERRCODE = 'invalid_catalog_name',
                  HINT = 'milvus.list_databases() lists the databases.';
    END IF;
    RETURN d;
END
$$;

-- The collection a name stands for, directly or through an alias
CREATE FUNCTION milvus._collection(name text, db_name text DEFAULT NULL, via_alias boolean DEFAULT true)
RETURNS milvus.collections
LANGUAGE plpgsql STABLE AS $$
DECLARE
    db text := (milvus._database(db_name)).db_name;
    c milvus.collections;
BEGIN
    PERFORM milvus._check_name('collection', name);
    SELECT * INTO c FROM milvus.collections x WHERE x.db_name = db AND x.collection_name = name;
    IF NOT FOUND AND via_alias THEN
        SELECT x.* INTO c FROM milvus.collections x JOIN milvus.aliases a USING (db_name, collection_name)
         WHERE a.db_name = db AND a.alias = name;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'collection "%" does not exist', name
            USING ERRCODE = 'undefined_table',
                  DETAIL = format('Database "%s" has no collection%s of that name.', db,
                                  CASE WHEN via_alias THEN ' or alias' ELSE '' END);
    END IF;
    RETURN c;
END
$$;

-- A relation's name, schema-qualified and quoted
CREATE FUNCTION milvus._qualified(relid regclass) RETURNS text
LANGUAGE sql STABLE
RETURN (SELECT format('%I.%I', n.nspname, c.relname)
          FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = relid);

CREATE FUNCTION milvus._require_owner(c milvus.collections) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT milvus._owns_relation(c.relid) THEN
        RAISE EXCEPTION 'must be owner of collection "%"', c.collection_name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Collection "%s" is table %s.', c.collection_name, c.relid);
    END IF;
END
$$;

-- A data type in any of Milvus's spellings (DataType.INT64, "Int64", 5, ...)
-- as its pymilvus name
CREATE FUNCTION milvus._data_type(t jsonb, what text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    s text;
    canon text;
BEGIN
    IF t IS NULL OR jsonb_typeof(t) = 'null' THEN
        RAISE EXCEPTION '% has no data type', what USING ERRCODE = 'invalid_parameter_value';
    ELSIF jsonb_typeof(t) = 'number' THEN
        canon := CASE t::text
            WHEN '1' THEN 'BOOL' WHEN '2' THEN 'INT8' WHEN '3' THEN 'INT16' WHEN '4' THEN 'INT32'
            WHEN '5' THEN 'INT64' WHEN '10' THEN 'FLOAT' WHEN '11' THEN 'DOUBLE'
            WHEN '20' THEN 'STRING' WHEN '21' THEN 'VARCHAR' WHEN '22' THEN 'ARRAY'
            WHEN '23' THEN 'JSON' WHEN '24' THEN 'GEOMETRY' WHEN '25' THEN 'TEXT'
            WHEN '26' THEN 'TIMESTAMPTZ' WHEN '100' THEN 'BINARY_VECTOR'
            WHEN '101' THEN 'FLOAT_VECTOR' WHEN '102' THEN 'FLOAT16_VECTOR'
            WHEN '103' THEN 'BFLOAT16_VECTOR' WHEN '104' THEN 'SPARSE_FLOAT_VECTOR'
            WHEN '105' THEN 'INT8_VECTOR' END;
    ELSIF jsonb_typeof(t) = 'string' THEN
        s := upper(replace(regexp_replace(t #>> '{}', '^DataType\.', '', 'i'), '_', ''));
        canon := CASE s
            WHEN 'BOOL' THEN 'BOOL' WHEN 'BOOLEAN' THEN 'BOOL'
            WHEN 'INT8' THEN 'INT8' WHEN 'INT16' THEN 'INT16' WHEN 'INT32' THEN 'INT32'
            WHEN 'INT64' THEN 'INT64' WHEN 'FLOAT' THEN 'FLOAT' WHEN 'DOUBLE' THEN 'DOUBLE'
            WHEN 'STRING' THEN 'STRING' WHEN 'VARCHAR' THEN 'VARCHAR' WHEN 'ARRAY' THEN 'ARRAY'
            WHEN 'JSON' THEN 'JSON' WHEN 'GEOMETRY' THEN 'GEOMETRY' WHEN 'TEXT' THEN 'TEXT'
            WHEN 'TIMESTAMPTZ' THEN 'TIMESTAMPTZ'
            WHEN 'BINARYVECTOR' THEN 'BINARY_VECTOR' WHEN 'FLOATVECTOR' THEN 'FLOAT_VECTOR'
            WHEN 'FLOAT16VECTOR' THEN 'FLOAT16_VECTOR' WHEN 'BFLOAT16VECTOR' THEN 'BFLOAT16_VECTOR'
            WHEN 'SPARSEFLOATVECTOR' THEN 'SPARSE_FLOAT_VECTOR' WHEN 'INT8VECTOR' THEN 'INT8_VECTOR'
            END;
    END IF;
    IF canon IS NULL THEN
        RAISE EXCEPTION '% has an unknown data type %', what, t
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The data types are BOOL, INT8, INT16, INT32, INT64, FLOAT, DOUBLE, VARCHAR, '
                         'JSON, ARRAY, FLOAT_VECTOR, FLOAT16_VECTOR, BINARY_VECTOR and SPARSE_FLOAT_VECTOR.';
    ELSIF canon IN ('STRING', 'GEOMETRY', 'TEXT', 'TIMESTAMPTZ', 'BFLOAT16_VECTOR', 'INT8_VECTOR') THEN
        RAISE EXCEPTION 'data type % of % is not supported yet', canon, what
            USING ERRCODE = 'feature_not_supported';
    END IF;
    RETURN canon;
END
$$;

-- The PostgreSQL type of a field's column (or of an ARRAY field's elements)
CREATE FUNCTION milvus._sql_type(data_type text, params jsonb, element_type text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE coalesce(element_type, data_type)
    WHEN 'BOOL' THEN 'boolean'
    WHEN 'INT8' THEN 'smallint'
    WHEN 'INT16' THEN 'smallint'
    WHEN 'INT32' THEN 'integer'
    WHEN 'INT64' THEN 'bigint'
    WHEN 'FLOAT' THEN 'real'
    WHEN 'DOUBLE' THEN 'double precision'
    WHEN 'VARCHAR' THEN format('character varying(%s)', params ->> 'max_length')
    WHEN 'JSON' THEN 'jsonb'
    WHEN 'FLOAT_VECTOR' THEN format('@extschema@.floatvector(%s)', params ->> 'dim')
    WHEN 'FLOAT16_VECTOR' THEN format('@extschema@.float16vector(%s)', params ->> 'dim')
    WHEN 'BINARY_VECTOR' THEN format('@extschema@.binaryvector(%s)', params ->> 'dim')
    -- Milvus's sparse vectors have no dimension: indices 0 to 999,999,999
    WHEN 'SPARSE_FLOAT_VECTOR' THEN '@extschema@.sparsevector(1000000000)'
END || CASE WHEN data_type = 'ARRAY' AND element_type IS NOT NULL THEN '[]' ELSE '' END;

CREATE FUNCTION milvus._is_vector(data_type text) RETURNS boolean
LANGUAGE sql IMMUTABLE
RETURN data_type IN ('FLOAT_VECTOR', 'FLOAT16_VECTOR', 'BINARY_VECTOR', 'SPARSE_FLOAT_VECTOR');

-- A field as the compact JSON the value checks carry into their messages
CREATE FUNCTION milvus._field_spec(f milvus.fields) RETURNS jsonb
LANGUAGE sql IMMUTABLE
RETURN jsonb_build_object('name', f.field_name, 'type', f.data_type, 'params', f.params)
       || CASE WHEN f.element_type IS NULL THEN '{}'::jsonb
               ELSE jsonb_build_object('element_type', f.element_type) END;

-- Describe a JSON value for an error message
CREATE FUNCTION milvus._describe_json(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE jsonb_typeof(v)
    WHEN 'string' THEN 'the string ' || CASE WHEN length(v::text) > 42
                                             THEN left(v::text, 40) || '..."' ELSE v::text END
    WHEN 'number' THEN 'the number ' || left(v::text, 40)
    WHEN 'boolean' THEN v::text
    WHEN 'array' THEN 'an array'
    WHEN 'object' THEN 'an object'
    ELSE 'null' END;

-- Raise the error a field's value deserves (v is NULL when the row lacks it);
-- called only when the checks in milvus._value_sql fail.  VOLATILE, or the
-- planner would call it while folding constants, checks or no checks.
CREATE FUNCTION milvus._bad_value(spec jsonb, v jsonb, n bigint) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    f text := spec ->> 'name';
    t text := spec ->> 'type';
    p jsonb := spec -> 'params';
    et text := spec ->> 'element_type';
    src text := coalesce(spec ->> 'src', 'data');
    msg text := CASE WHEN src = 'default_value' THEN format('invalid default_value for field "%s"', f)
                     ELSE format('invalid value for field "%s" in %s[%s]', f, src, n) END;
    lo numeric;
    hi numeric;
    i bigint;
    e jsonb;
    good boolean;
BEGIN
    IF v IS NULL THEN
        RAISE EXCEPTION '%[%] has no value for field "%"', src, n, f
            USING ERRCODE = 'not_null_violation',
                  DETAIL = format('Field "%s" is not nullable and has no default value.', f);
    END IF;
    IF t LIKE 'INT%' THEN
        IF jsonb_typeof(v) <> 'number' OR v::numeric <> trunc(v::numeric) THEN
            RAISE EXCEPTION '%', msg USING ERRCODE = 'invalid_parameter_value',
                DETAIL = format('Field "%s" is %s; got %s.', f, t, milvus._describe_json(v));
        END IF;
        RAISE EXCEPTION '%', msg USING ERRCODE = 'numeric_value_out_of_range',
            DETAIL = format('Field "%s" is %s; %s is out of its range.', f, t, v);
    ELSIF t IN ('FLOAT', 'DOUBLE') THEN
        IF jsonb_typeof(v) <> 'number' THEN
            RAISE EXCEPTION '%', msg USING ERRCODE = 'invalid_parameter_value',
                DETAIL = format('Field "%s" is %s; got %s.', f, t, milvus._describe_json(v));
        END IF;
        RAISE EXCEPTION '%', msg USING ERRCODE = 'numeric_value_out_of_range',
            DETAIL = format('Field "%s" is %s; %s is out of its range.', f, t, v);
    ELSIF t = 'BOOL' THEN
        RAISE EXCEPTION '%', msg USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('Field "%s" is BOOL; got %s.', f, milvus._describe_json(v));
    ELSIF t = 'VARCHAR' THEN
        IF jsonb_typeof(v) <> 'string' THEN
            RAISE EXCEPTION '%', msg USING ERRCODE = 'invalid_parameter_value',
                DETAIL = format('Field "%s" is VARCHAR; got %s.', f, milvus._describe_json(v));
        END IF;
        RAISE EXCEPTION '%', msg USING ERRCODE = 'string_data_right_truncation',
            DETAIL = format('Field "%s" is VARCHAR(max_length=%s); the string has %s bytes.',
                            f, p ->> 'max_length', octet_length(v #>> '{}'));
    ELSIF t = 'JSON' THEN
        RAISE EXCEPTION '%', msg USING ERRCODE = 'program_limit_exceeded',
            DETAIL = format('Field "%s" is JSON; a value has at most %s bytes, this one has %s.',
                            f, milvus._limit('json_max_bytes'), octet_length(v::text));
    ELSIF t = 'ARRAY' THEN
        IF jsonb_typeof(v) <> 'array' THEN
            RAISE EXCEPTION '%', msg USING ERRCODE = 'invalid_parameter_value',
                DETAIL = format('Field "%s" is ARRAY; got %s.', f, milvus._describe_json(v));
        ELSIF jsonb_array_length(v) > (p ->> 'max_capacity')::int THEN
            RAISE EXCEPTION '%', msg USING ERRCODE = 'data_exception',
                DETAIL = format('Field "%s" is ARRAY(max_capacity=%s); got %s elements.',
                                f, p ->> 'max_capacity', jsonb_array_length(v));
        END IF;
        FOR e, i IN SELECT x, o - 1 FROM jsonb_array_elements(v) WITH ORDINALITY a(x, o) LOOP
            IF et = 'VARCHAR' AND jsonb_typeof(e) = 'string'
               AND octet_length(e #>> '{}') > (p ->> 'max_length')::int THEN
                RAISE EXCEPTION '%', msg USING ERRCODE = 'string_data_right_truncation',
                    DETAIL = format('Element %s of field "%s" has %s bytes; its max_length is %s.',
                                    i, f, octet_length(e #>> '{}'), p ->> 'max_length');
            END IF;
            -- (an IF condition cannot hold CASE ... THEN: PL/pgSQL stops at THEN)
            good := jsonb_typeof(e) = CASE et WHEN 'BOOL' THEN 'boolean' WHEN 'VARCHAR' THEN 'string'
                                              ELSE 'number' END;
            IF NOT good OR (et LIKE 'INT%' AND e::numeric <> trunc(e::numeric)) THEN
                RAISE EXCEPTION '%', msg USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = format('Element %s of field "%s" should be %s; got %s.',
                                    i, f, et, milvus._describe_json(e));
            END IF;
        END LOOP;
        RAISE EXCEPTION '%', msg USING ERRCODE = 'numeric_value_out_of_range',
            DETAIL = format('An element of field "%s" is out of the range of %s.', f, et);
    ELSIF t IN ('FLOAT_VECTOR', 'FLOAT16_VECTOR', 'BINARY_VECTOR') THEN
        IF t = 'BINARY_VECTOR' AND jsonb_typeof(v) = 'string' THEN
            IF (v #>> '{}') !~ '^[01]*$' THEN
                RAISE EXCEPTION '%', msg USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = format('Field "%s" is BINARY_VECTOR; a string value holds only the bits 0 and 1.', f);
            END IF;
            RAISE EXCEPTION '%', msg USING ERRCODE = 'data_exception',
                DETAIL = format('Field "%s" is BINARY_VECTOR(dim=%s); got %s bits.',
                                f, p ->> 'dim', length(v #>> '{}'));
        ELSIF jsonb_typeof(v) <> 'array' THEN
            RAISE EXCEPTION '%', msg USING ERRCODE = 'invalid_parameter_value',
                DETAIL = format('Field "%s" is %s; got %s.', f, t, milvus._describe_json(v));
        ELSIF t = 'BINARY_VECTOR' AND jsonb_array_length(v) * 8 <> (p ->> 'dim')::int THEN
            RAISE EXCEPTION '%', msg USING ERRCODE = 'data_exception',
                DETAIL = format('Field "%s" is BINARY_VECTOR(dim=%s), given as %s numbers, one per byte; got %s.',
                                f, p ->> 'dim', (p ->> 'dim')::int / 8, jsonb_array_length(v));
        ELSIF t <> 'BINARY_VECTOR' AND jsonb_array_length(v) <> (p ->> 'dim')::int THEN
            RAISE EXCEPTION '%', msg USING ERRCODE = 'data_exception',
                DETAIL = format('Field "%s" is %s(dim=%s); got %s dimensions.',
                                f, t, p ->> 'dim', jsonb_array_length(v));
        END IF;
        FOR e, i IN SELECT x, o - 1 FROM jsonb_array_elements(v) WITH ORDINALITY a(x, o) LOOP
            IF jsonb_typeof(e) <> 'number' THEN
                RAISE EXCEPTION '%', msg USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = format('Element %s of field "%s" is %s, not a number.',
                                    i, f, milvus._describe_json(e));
            END IF;
        END LOOP;
        RAISE EXCEPTION '%', msg USING ERRCODE = 'numeric_value_out_of_range',
            DETAIL = format('An element of field "%s" is out of the range of %s.', f,
                            CASE t WHEN 'BINARY_VECTOR' THEN 'a byte (0 to 255)'
                                   WHEN 'FLOAT16_VECTOR' THEN 'a half-precision float'
                                   ELSE 'a 4-byte float' END);
    ELSIF t = 'SPARSE_FLOAT_VECTOR' THEN
        IF jsonb_typeof(v) <> 'object' THEN
            RAISE EXCEPTION '%', msg USING ERRCODE = 'invalid_parameter_value',
                DETAIL = format('Field "%s" is SPARSE_FLOAT_VECTOR, an object of index: value; got %s.',
                                f, milvus._describe_json(v));
        END IF;
        RAISE EXCEPTION '%', msg USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('Field "%s" is SPARSE_FLOAT_VECTOR: its keys are indices from 0 to 999999999, '
                            'its values 4-byte floats.', f);
    END IF;
    RAISE EXCEPTION '%', msg USING ERRCODE = 'invalid_parameter_value';
END
$$;

-- A sparse vector's text form from Milvus's {"index": value} (0-based)
CREATE FUNCTION milvus._sparse_literal(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN '{' || coalesce((SELECT string_agg((k::int + 1)::text || ':' || (v ->> k), ',' ORDER BY k::int)
                          FROM jsonb_object_keys(v) k), '')
       || '}/1000000000';

-- The SQL expression that turns jsonb expression x (NULL when the row has no
-- value) into field f's column type, or raises an error naming the field and
-- data[n]; the checks are plain SQL so a batch runs without a call per value
CREATE FUNCTION milvus._value_sql(f milvus.fields, x text, n text, skip_default boolean DEFAULT false,
                                  src text DEFAULT 'data')
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t text := milvus._sql_type(f.data_type, f.params, f.element_type);
    spec jsonb := milvus._field_spec(f) || jsonb_build_object('src', src);
    dim text := f.params ->> 'dim';
    ok text;
    conv text;
    absent text;
    elem_ok text;
    elem_conv text;
    num_ok text := '@.type() != "number"';
BEGIN
    CASE f.data_type
    WHEN 'BOOL' THEN
        ok := format('jsonb_typeof(%s) = ''boolean''', x);
        conv := format('(%s)::boolean', x);
    WHEN 'INT8', 'INT16', 'INT32', 'INT64' THEN
        ok := format('jsonb_typeof(%1$s) = ''number'' AND (%1$s)::numeric = trunc((%1$s)::numeric)'
                     ' AND (%1$s)::numeric BETWEEN %2$s AND %3$s', x,
                     CASE f.data_type WHEN 'INT8' THEN '-128' WHEN 'INT16' THEN '-32768'
                          WHEN 'INT32' THEN '-2147483648' ELSE '-9223372036854775808' END,
                     CASE f.data_type WHEN 'INT8' THEN '127' WHEN 'INT16' THEN '32767'
                          WHEN 'INT32' THEN '2147483647' ELSE '9223372036854775807' END);
        conv := format('((%s)::numeric)::%s', x, t);
    WHEN 'FLOAT' THEN
        ok := format('jsonb_typeof(%1$s) = ''number'' AND abs((%1$s)::numeric) <= 3.4028234663852886e38', x);
        conv := format('((%s)::numeric)::real', x);
    WHEN 'DOUBLE' THEN
        ok := format('jsonb_typeof(%1$s) = ''number'' AND abs((%1$s)::numeric) <= 1.7976931348623157e308', x);
        conv := format('((%s)::numeric)::double precision', x);
    WHEN 'VARCHAR' THEN
        ok := format('jsonb_typeof(%1$s) = ''string'' AND octet_length(%1$s #>> ''{}'') <= %2$s',
                     x, f.params ->> 'max_length');
        conv := format('(%s #>> ''{}'')::%s', x, t);
    WHEN 'JSON' THEN
        ok := format('octet_length((%s)::text) <= %s', x, milvus._limit('json_max_bytes'));
        conv := x;
    WHEN 'ARRAY' THEN
        CASE f.element_type
        WHEN 'BOOL' THEN
            elem_ok := '@.type() != "boolean"';
            elem_conv := 'e::boolean';
        WHEN 'INT8', 'INT16', 'INT32', 'INT64' THEN
            elem_ok := format('@.type() != "number" || @ != @.floor() || @ < %s || @ > %s',
                              CASE f.element_type WHEN 'INT8' THEN '-128' WHEN 'INT16' THEN '-32768'
                                   WHEN 'INT32' THEN '-2147483648' ELSE '-9223372036854775808' END,
                              CASE f.element_type WHEN 'INT8' THEN '127' WHEN 'INT16' THEN '32767'
                                   WHEN 'INT32' THEN '2147483647' ELSE '9223372036854775807' END);
            elem_conv := format('(e::numeric)::%s', milvus._sql_type(f.element_type, f.params));
        WHEN 'FLOAT' THEN
            elem_ok := '@.type() != "number" || @.abs() > 3.4028234663852886e38';
            elem_conv := '(e::numeric)::real';
        WHEN 'DOUBLE' THEN
            elem_ok := '@.type() != "number"';
            elem_conv := '(e::numeric)::double precision';
        WHEN 'VARCHAR' THEN
            elem_ok := '@.type() != "string"';
            elem_conv := 'e #>> ''{}''';
        END CASE;
        ok := format('jsonb_typeof(%1$s) = ''array'' AND jsonb_array_length(%1$s) <= %2$s'
                     ' AND NOT jsonb_path_exists(%1$s, %3$L)', x, f.params ->> 'max_capacity',
                     'strict $[*] ? (' || elem_ok || ')');
        IF f.element_type = 'VARCHAR' THEN
            ok := ok || format(' AND NOT EXISTS (SELECT FROM jsonb_array_elements_text(%s) e'
                               ' WHERE octet_length(e) > %s)', x, f.params ->> 'max_length');
        END IF;
        conv := format('ARRAY(SELECT %s FROM jsonb_array_elements(%s) WITH ORDINALITY a(e, i)'
                       ' ORDER BY i)::%s', elem_conv, x, t);
    WHEN 'FLOAT_VECTOR', 'FLOAT16_VECTOR' THEN
        ok := format('jsonb_typeof(%1$s) = ''array'' AND jsonb_array_length(%1$s) = %2$s'
                     ' AND NOT jsonb_path_exists(%1$s, %3$L)', x, dim,
                     'strict $[*] ? (' || num_ok || ' || @.abs() ' ||
                     CASE f.data_type WHEN 'FLOAT_VECTOR' THEN '> 3.4028234663852886e38'
                          ELSE '>= 65520' END ||
                     ' || (@ != 0 && @.abs() < 1.401298464324817e-45))');
        conv := format('((%s)::text)::%s', x, t);
    WHEN 'BINARY_VECTOR' THEN
        -- bytes as numbers (pymilvus sends bytes), or a string of bits
        ok := format('(jsonb_typeof(%1$s) = ''array'' AND jsonb_array_length(%1$s) * 8 = %2$s'
                     ' AND NOT jsonb_path_exists(%1$s, %3$L))'
                     ' OR (jsonb_typeof(%1$s) = ''string'' AND length(%1$s #>> ''{}'') = %2$s'
                     ' AND (%1$s #>> ''{}'') ~ ''^[01]+$'')', x, dim,
                     'strict $[*] ? (@.type() != "number" || @ != @.floor() || @ < 0 || @ > 255)');
        conv := format('(CASE WHEN jsonb_typeof(%1$s) = ''string'' THEN %1$s #>> ''{}'''
                       ' ELSE (SELECT string_agg(((e::numeric)::int)::bit(8)::text, '''' ORDER BY i)'
                       ' FROM jsonb_array_elements(%1$s) WITH ORDINALITY a(e, i)) END)::%2$s', x, t);
    WHEN 'SPARSE_FLOAT_VECTOR' THEN
        ok := format('jsonb_typeof(%1$s) = ''object'' AND NOT EXISTS (SELECT FROM jsonb_each(%1$s) kv'
                     ' WHERE kv.key !~ ''^[0-9]{1,9}$'' OR jsonb_typeof(kv.value) <> ''number'''
                     ' OR abs((kv.value)::numeric) > 3.4028234663852886e38)', x);
        conv := format('milvus._sparse_literal(%s)::%s', x, t);
    END CASE;

    IF f.default_sql IS NOT NULL AND NOT skip_default THEN
        absent := f.default_sql;
    ELSIF f.nullable THEN
        absent := format('NULL::%s', t);
    ELSE
        absent := format('milvus._bad_value(%L::jsonb, NULL, %s)::%s', spec, n, t);
    END IF;
    RETURN format('CASE WHEN %1$s IS NULL THEN %2$s WHEN %3$s THEN %4$s'
                  ' ELSE milvus._bad_value(%5$L::jsonb, %1$s, %6$s)::%7$s END',
                  x, absent, ok, conv, spec, n, t);
END
$$;

-- Read one field of a schema in Milvus's JSON form; params may sit in the
-- field (add_field's keywords) or under "params" (describe_collection's form)
CREATE FUNCTION milvus._parse_field(j jsonb, coll_auto_id boolean) RETURNS milvus.fields
LANGUAGE plpgsql STABLE AS $$
DECLARE
    f milvus.fields;
    p jsonb;
    name text;
    v jsonb;
    k text;
BEGIN
    IF jsonb_typeof(j) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'a field of the schema is not an object'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Got %s.', milvus._describe_json(j));
    END IF;
    name := coalesce(j ->> 'name', j ->> 'field_name', j ->> 'fieldName');
    PERFORM milvus._check_name('field', name);
    IF octet_length(name) > 63 THEN
        RAISE EXCEPTION 'field name "%" is too long', name
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'A field is a column, and PostgreSQL column names have at most 63 bytes.';
    END IF;
    f.field_name := name;
    f.data_type := milvus._data_type(coalesce(j -> 'type', j -> 'dtype', j -> 'data_type', j -> 'dataType'),
                                     format('field "%s"', name));
    f.description := coalesce(j ->> 'description', '');
    f.is_primary := coalesce((j ->> 'is_primary')::boolean, (j ->> 'isPrimary')::boolean, false);
    f.auto_id := f.is_primary AND coalesce((j ->> 'auto_id')::boolean, coll_auto_id, false);
    f.nullable := coalesce((j ->> 'nullable')::boolean, false);
    f.is_partition_key := coalesce((j ->> 'is_partition_key')::boolean, false);
    f.default_value := nullif(j -> 'default_value', 'null');
    p := coalesce(j -> 'params', '{}') || coalesce(j -> 'elementTypeParams', '{}');
    f.params := '{}';
    FOREACH k IN ARRAY ARRAY['dim', 'max_length', 'max_capacity'] LOOP
        v := coalesce(j -> k, p -> k);
        IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
            IF (v #>> '{}') !~ '^\s*[0-9]{1,9}\s*$' THEN
                RAISE EXCEPTION 'field "%": % must be a positive integer', name, k
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('Got %s.', milvus._describe_json(v));
            END IF;
            f.params := f.params || jsonb_build_object(k, (v #>> '{}')::int);
        END IF;
    END LOOP;
    IF f.data_type = 'ARRAY' THEN
        f.element_type := milvus._data_type(coalesce(j -> 'element_type', p -> 'element_type',
                                                     j -> 'elementDataType'),
                                            format('the elements of field "%s"', name));
    END IF;
    RETURN f;
END
$$;

-- Check a field against Milvus's rules and fill in its default
CREATE FUNCTION milvus._check_field(f milvus.fields) RETURNS milvus.fields
LANGUAGE plpgsql STABLE AS $$
DECLARE
    name text := f.field_name;
    dim int := (f.params ->> 'dim')::int;
    maxlen int := (f.params ->> 'max_length')::int;
    cap int := (f.params ->> 'max_capacity')::int;
    txt text;
BEGIN
    IF f.is_primary AND f.data_type NOT IN ('INT64', 'VARCHAR') THEN
        RAISE EXCEPTION 'primary field "%" must be INT64 or VARCHAR, not %', name, f.data_type
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF f.is_primary AND (f.nullable OR f.default_value IS NOT NULL) THEN
        RAISE EXCEPTION 'primary field "%" cannot be nullable or have a default value', name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF f.is_partition_key AND (f.data_type NOT IN ('INT64', 'VARCHAR') OR f.is_primary OR f.nullable) THEN
        RAISE EXCEPTION 'partition key field "%" must be a non-nullable INT64 or VARCHAR field other than the primary field', name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (f.data_type = 'VARCHAR' OR f.element_type = 'VARCHAR')
       AND (maxlen IS NULL OR maxlen NOT BETWEEN 1 AND milvus._limit('varchar_max_length')) THEN
        RAISE EXCEPTION 'VARCHAR field "%" needs max_length between 1 and %', name, milvus._limit('varchar_max_length')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN maxlen IS NULL THEN 'It has none.'
                                ELSE format('It has %s.', maxlen) END;
    END IF;
    IF f.data_type = 'ARRAY' THEN
        IF f.element_type NOT IN ('BOOL', 'INT8', 'INT16', 'INT32', 'INT64', 'FLOAT', 'DOUBLE', 'VARCHAR') THEN
            RAISE EXCEPTION 'ARRAY field "%" cannot hold %', name, f.element_type
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'Array elements are BOOL, INT8, INT16, INT32, INT64, FLOAT, DOUBLE or VARCHAR.';
        END IF;
        IF cap IS NULL OR cap NOT BETWEEN 1 AND milvus._limit('array_max_capacity') THEN
            RAISE EXCEPTION 'ARRAY field "%" needs max_capacity between 1 and %', name,
                milvus._limit('array_max_capacity')
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = CASE WHEN cap IS NULL THEN 'It has none.'
                                    ELSE format('It has %s.', cap) END;
        END IF;
    END IF;
    IF f.data_type IN ('FLOAT_VECTOR', 'FLOAT16_VECTOR')
       AND (dim IS NULL OR dim NOT BETWEEN 1 AND milvus._limit('dense_max_dim')) THEN
        RAISE EXCEPTION 'vector field "%" needs dim between 1 and %', name, milvus._limit('dense_max_dim')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN dim IS NULL THEN 'It has none.' ELSE format('It has %s.', dim) END;
    END IF;
    IF f.data_type = 'BINARY_VECTOR'
       AND (dim IS NULL OR dim NOT BETWEEN 8 AND milvus._limit('binary_max_dim') OR dim % 8 <> 0) THEN
        RAISE EXCEPTION 'binary vector field "%" needs dim, a multiple of 8 between 8 and %', name,
            milvus._limit('binary_max_dim')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN dim IS NULL THEN 'It has none.' ELSE format('It has %s.', dim) END;
    END IF;
    IF milvus._is_vector(f.data_type) AND (f.nullable OR f.default_value IS NOT NULL) THEN
        RAISE EXCEPTION 'vector field "%" cannot be nullable or have a default value', name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF f.data_type IN ('JSON', 'ARRAY') AND f.default_value IS NOT NULL THEN
        RAISE EXCEPTION '% field "%" cannot have a default value', f.data_type, name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF f.default_value IS NOT NULL THEN
        -- the default goes through the same checks as an inserted value
        EXECUTE format('SELECT (%s)::text FROM (SELECT $1 OFFSET 0) s(v)',
                       milvus._value_sql(f, 's.v', '0', true, 'default_value'))
           INTO txt USING f.default_value;
        f.default_sql := format('%L::%s', txt, milvus._sql_type(f.data_type, f.params, f.element_type));
    END IF;
    RETURN f;
END
$$;

-- The column definition of a field
CREATE FUNCTION milvus._column_sql(f milvus.fields, seq text) RETURNS text
LANGUAGE sql STABLE
RETURN format('%I %s', f.field_name, milvus._sql_type(f.data_type, f.params, f.element_type))
    || CASE WHEN f.auto_id AND f.data_type = 'INT64' THEN ' GENERATED BY DEFAULT AS IDENTITY'
            WHEN f.auto_id THEN format(' DEFAULT nextval(%L)::text', seq)
            WHEN f.default_sql IS NOT NULL THEN ' DEFAULT ' || f.default_sql
            ELSE '' END
    || CASE WHEN f.nullable THEN '' ELSE ' NOT NULL' END
    || CASE WHEN f.data_type = 'INT8' THEN format(' CHECK (%I BETWEEN -128 AND 127)', f.field_name)
            WHEN f.data_type = 'ARRAY' THEN format(' CHECK (cardinality(%I) <= %s)', f.field_name,
                                                   f.params ->> 'max_capacity')
            ELSE '' END;

--
-- Databases
--

CREATE FUNCTION milvus.create_database(db_name text, properties jsonb DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    schema name := milvus._pg_name(milvus._check_name('database', db_name));
BEGIN
    IF EXISTS (SELECT FROM milvus.databases d WHERE d.db_name = create_database.db_name) THEN
        RAISE EXCEPTION 'database "%" already exists', db_name USING ERRCODE = 'duplicate_database';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = schema) THEN
        RAISE EXCEPTION 'schema "%" already exists', schema
            USING ERRCODE = 'duplicate_schema',
                  DETAIL = format('Database "%s" would be schema "%s".', db_name, schema);
    END IF;
    EXECUTE format('CREATE SCHEMA %I', schema);
    INSERT INTO milvus.databases VALUES (db_name, schema, coalesce(properties, '{}'));
END
$$;

CREATE FUNCTION milvus.list_databases() RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT db_name FROM milvus.databases ORDER BY db_name <> 'default', db_name
$$;

CREATE FUNCTION milvus.describe_database(db_name text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('name', d.db_name, 'schema', d.schema_name) || d.properties
      FROM milvus._database(db_name) d
$$;

CREATE FUNCTION milvus.drop_database(db_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    d milvus.databases;
BEGIN
    PERFORM milvus._check_name('database', db_name);
    SELECT * INTO d FROM milvus.databases x WHERE x.db_name = drop_database.db_name;
    IF NOT FOUND THEN
        RETURN;                 -- as Milvus: dropping what is not there succeeds
    END IF;
    IF db_name = 'default' THEN
        RAISE EXCEPTION 'cannot drop the default database' USING ERRCODE = 'feature_not_supported';
    END IF;
    IF EXISTS (SELECT FROM milvus.collections c WHERE c.db_name = d.db_name) THEN
        RAISE EXCEPTION 'database "%" is not empty', db_name
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'Drop its collections first.';
    END IF;
    DELETE FROM milvus.databases x WHERE x.db_name = d.db_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'must be owner of database "%"', db_name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Database "%s" is schema %I.', db_name, d.schema_name);
    END IF;
    EXECUTE format('DROP SCHEMA %I', d.schema_name);
END
$$;

CREATE FUNCTION milvus.use_database(db_name text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM milvus._database(milvus._check_name('database', db_name));
    PERFORM pg_catalog.set_config('milvus.collection_database', db_name, false);
END
$$;

--
-- Collections
--

-- Create a collection from a schema in Milvus's JSON form
CREATE FUNCTION milvus._create_collection(collection_name text, schema jsonb, num_partitions integer,
                                          description text, properties jsonb)
RETURNS milvus.collections
LANGUAGE plpgsql AS $$
DECLARE
    d milvus.databases := milvus._database();
    c milvus.collections;
    f milvus.fields;
    fields milvus.fields[] := '{}';
    j jsonb;
    tbl name;
    seq text;
    cols text[] := '{}';
    pk milvus.fields;
    key milvus.fields;
    nparts int;
    i int;
    relid regclass;
    ftype text;
BEGIN
    PERFORM milvus._check_name('collection', collection_name);
    IF jsonb_typeof(schema) IS DISTINCT FROM 'object'
       OR jsonb_typeof(schema -> 'fields') IS DISTINCT FROM 'array'
       OR jsonb_array_length(schema -> 'fields') = 0 THEN
        RAISE EXCEPTION 'schema of collection "%" has no fields', collection_name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A schema is an object such as {"fields": [{"name": "id", "type": "INT64", "is_primary": true}, ...]}.';
    END IF;
    IF EXISTS (SELECT FROM milvus.collections x WHERE x.db_name = d.db_name
                                                  AND x.collection_name = _create_collection.collection_name)
       OR EXISTS (SELECT FROM milvus.aliases a WHERE a.db_name = d.db_name
                                                AND a.alias = _create_collection.collection_name) THEN
        RAISE EXCEPTION 'collection "%" already exists', collection_name
            USING ERRCODE = 'duplicate_table',
                  DETAIL = format('Database "%s" has a collection or alias of that name.', d.db_name);
    END IF;

    -- a function's output field would never be filled: refuse rather than drop it
    FOR j IN SELECT value FROM jsonb_array_elements(CASE jsonb_typeof(schema -> 'functions')
                                                         WHEN 'array' THEN schema -> 'functions'
                                                         WHEN 'object' THEN jsonb_build_array(schema -> 'functions')
                                                         ELSE '[]' END) LOOP
        ftype := regexp_replace(upper(coalesce(j ->> 'type', j ->> 'function_type', '?')), '^FUNCTIONTYPE\.', '');
        ftype := CASE ftype WHEN '1' THEN 'BM25' WHEN '2' THEN 'TEXTEMBEDDING' WHEN '3' THEN 'RERANK'
                            WHEN '4' THEN 'MINHASH' WHEN '5' THEN 'MOLFINGERPRINT' ELSE ftype END;
        RAISE EXCEPTION 'function "%" (%) of collection "%" is not supported yet',
                        coalesce(j ->> 'name', j ->> 'function_name', ''), ftype, collection_name
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'This extension does not run schema functions (BM25 full-text search, embeddings) yet, '
                           'so their output fields would never be filled.',
                  HINT = 'Leave out "functions" and their output fields, and insert vectors computed outside.';
    END LOOP;

    i := 100;                   -- Milvus numbers user fields from 100
    FOR j IN SELECT value FROM jsonb_array_elements(schema -> 'fields') LOOP
        f := milvus._parse_field(j, (schema ->> 'auto_id')::boolean);
        IF f.field_name = ANY (SELECT (x).field_name FROM unnest(fields) x) THEN
            RAISE EXCEPTION 'duplicate field name "%" in collection "%"', f.field_name, collection_name
                USING ERRCODE = 'duplicate_column';
        END IF;
        f := milvus._check_field(f);
        f.db_name := d.db_name;
        f.collection_name := collection_name;
        f.field_id := i;
        i := i + 1;
        fields := fields || f;
    END LOOP;
    SELECT * INTO pk FROM unnest(fields) x WHERE x.is_primary;
    IF (SELECT count(*) FROM unnest(fields) x WHERE x.is_primary) <> 1 THEN
        RAISE EXCEPTION 'collection "%" must have exactly one primary field', collection_name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Mark one INT64 or VARCHAR field with "is_primary": true.';
    END IF;
    IF NOT EXISTS (SELECT FROM unnest(fields) x WHERE milvus._is_vector(x.data_type)) THEN
        RAISE EXCEPTION 'collection "%" has no vector field', collection_name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (SELECT count(*) FROM unnest(fields) x WHERE x.is_partition_key) > 1 THEN
        RAISE EXCEPTION 'collection "%" has more than one partition key', collection_name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO key FROM unnest(fields) x WHERE x.is_partition_key;
    -- (a schema's own num_partitions, as describe_collection gives it, counts
    -- only with a partition key)
    nparts := coalesce(num_partitions, CASE WHEN key.field_name IS NOT NULL
                                            THEN (schema ->> 'num_partitions')::int END);
    IF key.field_name IS NULL AND nparts IS NOT NULL THEN
        RAISE EXCEPTION 'num_partitions needs a partition key' USING ERRCODE = 'invalid_parameter_value';
    ELSIF key.field_name IS NOT NULL THEN
        nparts := coalesce(nparts, 16);
        IF nparts NOT BETWEEN 1 AND 1024 THEN
            RAISE EXCEPTION 'num_partitions must be between 1 and 1024' USING ERRCODE = 'invalid_parameter_value',
                DETAIL = format('It is %s.', nparts);
        END IF;
    END IF;

    tbl := milvus._pg_name(collection_name);
    c.collection_id := nextval('milvus.collection_id_seq');
    seq := format('%I.%I', d.schema_name, milvus._pg_name(tbl || '$auto_id'));
    IF pk.auto_id AND pk.data_type = 'VARCHAR' THEN
        EXECUTE format('CREATE SEQUENCE %s', seq);
    END IF;
    FOREACH f IN ARRAY fields LOOP
        cols := cols || milvus._column_sql(f, seq);
    END LOOP;
    IF coalesce((schema ->> 'enable_dynamic_field')::boolean, (schema ->> 'enableDynamicField')::boolean, false) THEN
        cols := cols || '"$meta" jsonb NOT NULL DEFAULT ''{}'''::text;
        c.enable_dynamic_field := true;
    END IF;
    IF key.field_name IS NULL THEN
        cols := cols || '"$partition" text NOT NULL DEFAULT ''_default'''::text
                     || format('PRIMARY KEY (%I, "$partition")', pk.field_name);
        EXECUTE format('CREATE TABLE %I.%I (%s) PARTITION BY LIST ("$partition")',
                       d.schema_name, tbl, array_to_string(cols, ', '));
    ELSE
        cols := cols || format('PRIMARY KEY (%I, %I)', pk.field_name, key.field_name);
        EXECUTE format('CREATE TABLE %I.%I (%s) PARTITION BY HASH (%I)',
                       d.schema_name, tbl, array_to_string(cols, ', '), key.field_name);
    END IF;
    relid := format('%I.%I', d.schema_name, tbl)::regclass;
    IF pk.auto_id AND pk.data_type = 'VARCHAR' THEN
        EXECUTE format('ALTER SEQUENCE %s OWNED BY %s.%I', seq, relid, pk.field_name);
    END IF;
    EXECUTE format('COMMENT ON TABLE %s IS %L', relid,
                   'Milvus collection ' || collection_name ||
                   CASE WHEN coalesce(description, schema ->> 'description', '') = '' THEN ''
                        ELSE ': ' || coalesce(description, schema ->> 'description') END);
    FOREACH f IN ARRAY fields LOOP
        IF f.description <> '' THEN
            EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', relid, f.field_name, f.description);
        END IF;
    END LOOP;

    c.db_name := d.db_name;
    c.collection_name := collection_name;
    c.relid := relid;
    c.description := coalesce(description, schema ->> 'description', '');
    c.enable_dynamic_field := coalesce(c.enable_dynamic_field, false);
    c.partition_key := key.field_name;
    c.num_partitions := CASE WHEN key.field_name IS NOT NULL THEN nparts END;
    c.load_state := 'NotLoad';
    c.properties := coalesce(properties, '{}');
    c.created_at := now();
    INSERT INTO milvus.collections SELECT c.*;
    INSERT INTO milvus.fields SELECT (x).* FROM unnest(fields) x;
    IF key.field_name IS NULL THEN
        PERFORM milvus._add_partition(c, '_default');
    ELSE
        FOR i IN 0 .. nparts - 1 LOOP
            PERFORM milvus._add_partition(c, '_default_' || i, format('FOR VALUES WITH (MODULUS %s, REMAINDER %s)', nparts, i));
        END LOOP;
    END IF;
    RETURN c;
END
$$;

-- Add a table partition for Milvus partition p.  Its rows keep their vectors
-- inline up to a page (toast_tuple_target 8160, the largest): an exact search
-- reads them with the row instead of through TOAST (doc/collections.md).
CREATE FUNCTION milvus._add_partition(c milvus.collections, p text, bound text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    tbl name := milvus._pg_name((SELECT relname FROM pg_catalog.pg_class WHERE oid = c.relid) || '$' || p);
    schema name := (SELECT n.nspname FROM pg_catalog.pg_class r JOIN pg_catalog.pg_namespace n
                                       ON n.oid = r.relnamespace WHERE r.oid = c.relid);
BEGIN
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s %s WITH (toast_tuple_target = 8160)', schema, tbl, c.relid,
                   coalesce(bound, format('FOR VALUES IN (%L)', p)));
    INSERT INTO milvus.partitions (db_name, collection_name, partition_name, relid)
    VALUES (c.db_name, c.collection_name, p, format('%I.%I', schema, tbl)::regclass);
END
$$;

CREATE FUNCTION milvus.create_collection(
    collection_name text,
    dimension integer DEFAULT NULL,
    primary_field_name text DEFAULT 'id',
    id_type text DEFAULT 'int',
    vector_field_name text DEFAULT 'vector',
    metric_type text DEFAULT 'COSINE',
    auto_id boolean DEFAULT false,
    schema jsonb DEFAULT NULL,
    index_params jsonb DEFAULT NULL,
    num_partitions integer DEFAULT NULL,
    description text DEFAULT NULL,
    enable_dynamic_field boolean DEFAULT NULL,
    max_length integer DEFAULT milvus._limit('varchar_max_length'),
    consistency_level text DEFAULT NULL,
    properties jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections;
    ip jsonb;
BEGIN
    IF schema IS NULL THEN
        -- quick setup: an id, a float vector, the dynamic field, an index, loaded
        IF dimension IS NULL THEN
            RAISE EXCEPTION 'create_collection needs a dimension or a schema'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF lower(id_type) NOT IN ('int', 'string', 'str', 'int64', 'varchar') THEN
            RAISE EXCEPTION 'id_type must be "int" or "string", not "%"', id_type
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        schema := jsonb_build_object(
            'auto_id', auto_id,
            'enable_dynamic_field', coalesce(enable_dynamic_field, true),
            'fields', jsonb_build_array(
                jsonb_build_object('name', primary_field_name, 'is_primary', true, 'auto_id', auto_id,
                                   'type', CASE WHEN lower(id_type) IN ('int', 'int64') THEN 'INT64'
                                                ELSE 'VARCHAR' END)
                || CASE WHEN lower(id_type) IN ('int', 'int64') THEN '{}'::jsonb
                        ELSE jsonb_build_object('max_length', max_length) END,
                jsonb_build_object('name', vector_field_name, 'type', 'FLOAT_VECTOR', 'dim', dimension)));
        c := milvus._create_collection(collection_name, schema, num_partitions, description, properties);
        PERFORM milvus.create_index(collection_name, vector_field_name, 'AUTOINDEX', metric_type);
        PERFORM milvus.load_collection(collection_name);
    ELSE
        IF enable_dynamic_field IS NOT NULL THEN
            schema := schema || jsonb_build_object('enable_dynamic_field', enable_dynamic_field);
        END IF;
        c := milvus._create_collection(collection_name, schema, num_partitions, description, properties);
        -- index_params: one index or a list, each as create_index takes it
        FOR ip IN SELECT value FROM jsonb_array_elements(CASE jsonb_typeof(index_params)
                                                              WHEN 'array' THEN index_params
                                                              WHEN 'object' THEN jsonb_build_array(index_params)
                                                              ELSE '[]' END) LOOP
            PERFORM milvus.create_index(collection_name, ip ->> 'field_name', ip ->> 'index_type',
                                        ip ->> 'metric_type', ip -> 'params', ip ->> 'index_name');
        END LOOP;
        IF index_params IS NOT NULL THEN
            PERFORM milvus.load_collection(collection_name);
        END IF;
    END IF;
END
$$;

CREATE FUNCTION milvus.has_collection(collection_name text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    db text := (milvus._database()).db_name;
BEGIN
    PERFORM milvus._check_name('collection', collection_name);
    RETURN EXISTS (SELECT FROM milvus.collections c WHERE c.db_name = db AND c.collection_name = has_collection.collection_name)
        OR EXISTS (SELECT FROM milvus.aliases a WHERE a.db_name = db AND a.alias = has_collection.collection_name);
END
$$;

CREATE FUNCTION milvus.list_collections() RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT c.collection_name FROM milvus.collections c
     WHERE c.db_name = (milvus._database()).db_name ORDER BY 1
$$;

CREATE FUNCTION milvus.drop_collection(collection_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    db text := (milvus._database()).db_name;
    c milvus.collections;
BEGIN
    PERFORM milvus._check_name('collection', collection_name);
    IF EXISTS (SELECT FROM milvus.aliases a WHERE a.db_name = db AND a.alias = drop_collection.collection_name) THEN
        RAISE EXCEPTION 'cannot drop collection "%" through an alias', collection_name
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Name the collection itself, or drop the alias with milvus.drop_alias().';
    END IF;
    SELECT * INTO c FROM milvus.collections x WHERE x.db_name = db AND x.collection_name = drop_collection.collection_name;
    IF NOT FOUND THEN
        RETURN;                 -- as Milvus: dropping what is not there succeeds
    END IF;
    PERFORM milvus._require_owner(c);
    IF EXISTS (SELECT FROM milvus.aliases a WHERE a.db_name = db AND a.collection_name = c.collection_name) THEN
        RAISE EXCEPTION 'cannot drop collection "%": it has aliases', collection_name
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = format('Aliases: %s.', (SELECT string_agg(a.alias, ', ' ORDER BY a.alias)
                                                    FROM milvus.aliases a
                                                   WHERE a.db_name = db AND a.collection_name = c.collection_name)),
                  HINT = 'Drop the aliases first.';
    END IF;
    DELETE FROM milvus.collections x WHERE x.db_name = db AND x.collection_name = c.collection_name;
    EXECUTE format('DROP TABLE %s', milvus._qualified(c.relid));
END
$$;

CREATE FUNCTION milvus.rename_collection(old_name text, new_name text, target_db text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    d milvus.databases := milvus._database();
    td milvus.databases := milvus._database(coalesce(target_db, d.db_name));
    c milvus.collections;
    p record;
    tbl name;
BEGIN
    PERFORM milvus._check_name('collection', new_name);
    c := milvus._collection(old_name, d.db_name, false);
    PERFORM milvus._require_owner(c);
    IF EXISTS (SELECT FROM milvus.collections x WHERE x.db_name = td.db_name AND x.collection_name = new_name)
       OR EXISTS (SELECT FROM milvus.aliases a WHERE a.db_name = td.db_name AND a.alias = new_name) THEN
        RAISE EXCEPTION 'collection "%" already exists', new_name
            USING ERRCODE = 'duplicate_table',
                  DETAIL = format('Database "%s" has a collection or alias of that name.', td.db_name);
    END IF;
    IF td.db_name <> d.db_name AND EXISTS (SELECT FROM milvus.aliases a WHERE a.db_name = d.db_name
                                                                         AND a.collection_name = c.collection_name) THEN
        RAISE EXCEPTION 'cannot move collection "%" to another database: it has aliases', old_name
            USING ERRCODE = 'dependent_objects_still_exist', HINT = 'Drop the aliases first.';
    END IF;
    tbl := milvus._pg_name(new_name);
    EXECUTE format('ALTER TABLE %s RENAME TO %I', milvus._qualified(c.relid), tbl);
    FOR p IN SELECT * FROM milvus.partitions x
              WHERE x.db_name = c.db_name AND x.collection_name = c.collection_name LOOP
        EXECUTE format('ALTER TABLE %s RENAME TO %I', milvus._qualified(p.relid),
                       milvus._pg_name(tbl || '$' || p.partition_name));
        IF td.db_name <> d.db_name THEN
            EXECUTE format('ALTER TABLE %s SET SCHEMA %I', milvus._qualified(p.relid), td.schema_name);
        END IF;
    END LOOP;
    IF td.db_name <> d.db_name THEN
        EXECUTE format('ALTER TABLE %s SET SCHEMA %I', milvus._qualified(c.relid), td.schema_name);
    END IF;
    UPDATE milvus.collections x SET db_name = td.db_name, collection_name = new_name
     WHERE x.db_name = c.db_name AND x.collection_name = c.collection_name;
END
$$;

-- Milvus's describe_collection, as JSON
CREATE FUNCTION milvus.describe_collection(collection_name text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
BEGIN
    RETURN jsonb_build_object(
        'collection_name', c.collection_name,
        'auto_id', coalesce((SELECT f.auto_id FROM milvus.fields f
                              WHERE f.db_name = c.db_name AND f.collection_name = c.collection_name
                                AND f.is_primary), false),
        'num_shards', 1,
        'description', c.description,
        'fields', (SELECT jsonb_agg(
                      jsonb_build_object('field_id', f.field_id, 'name', f.field_name,
                                         'description', f.description, 'type', f.data_type,
                                         'params', f.params)
                      || CASE WHEN f.element_type IS NOT NULL
                              THEN jsonb_build_object('element_type', f.element_type) ELSE '{}'::jsonb END
                      || CASE WHEN f.is_primary THEN jsonb_build_object('is_primary', true, 'auto_id', f.auto_id)
                              ELSE '{}'::jsonb END
                      || CASE WHEN f.nullable THEN '{"nullable": true}'::jsonb ELSE '{}'::jsonb END
                      || CASE WHEN f.default_value IS NOT NULL
                              THEN jsonb_build_object('default_value', f.default_value) ELSE '{}'::jsonb END
                      || CASE WHEN f.is_partition_key THEN '{"is_partition_key": true}'::jsonb ELSE '{}'::jsonb END
                      ORDER BY f.field_id)
                     FROM milvus.fields f
                    WHERE f.db_name = c.db_name AND f.collection_name = c.collection_name),
        'functions', '[]'::jsonb,
        'aliases', (SELECT coalesce(jsonb_agg(a.alias ORDER BY a.alias), '[]') FROM milvus.aliases a
                     WHERE a.db_name = c.db_name AND a.collection_name = c.collection_name),
        'collection_id', c.collection_id,
        'consistency_level', 'Strong',
        'properties', c.properties,
        'num_partitions', (SELECT count(*) FROM milvus.partitions p
                            WHERE p.db_name = c.db_name AND p.collection_name = c.collection_name),
        'enable_dynamic_field', c.enable_dynamic_field,
        'db_name', c.db_name,
        'table', milvus._qualified(c.relid));
END
$$;

CREATE FUNCTION milvus.get_collection_stats(collection_name text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s', milvus._qualified(c.relid)) INTO n;
    RETURN jsonb_build_object('row_count', n);
END
$$;

CREATE FUNCTION milvus.truncate_collection(collection_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
BEGIN
    EXECUTE format('TRUNCATE %s', milvus._qualified(c.relid));
END
$$;

-- milvus.flush() is in 82_hnsw_segments.sql: it seals the growing segments

--
-- Partitions
--

CREATE FUNCTION milvus.create_partition(collection_name text, partition_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
BEGIN
    PERFORM milvus._check_name('partition', partition_name);
    PERFORM milvus._require_owner(c);
    IF c.partition_key IS NOT NULL THEN
        RAISE EXCEPTION 'collection "%" has a partition key: its partitions cannot be created by name', c.collection_name
            USING ERRCODE = 'feature_not_supported';
    END IF;
    IF EXISTS (SELECT FROM milvus.partitions p WHERE p.db_name = c.db_name AND p.collection_name = c.collection_name
                                                 AND p.partition_name = create_partition.partition_name) THEN
        RAISE EXCEPTION 'partition "%" of collection "%" already exists', partition_name, c.collection_name
            USING ERRCODE = 'duplicate_object';
    END IF;
    PERFORM milvus._add_partition(c, partition_name);
END
$$;

CREATE FUNCTION milvus.drop_partition(collection_name text, partition_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
    p milvus.partitions;
BEGIN
    PERFORM milvus._check_name('partition', partition_name);
    PERFORM milvus._require_owner(c);
    IF c.partition_key IS NOT NULL THEN
        RAISE EXCEPTION 'collection "%" has a partition key: its partitions cannot be dropped by name', c.collection_name
            USING ERRCODE = 'feature_not_supported';
    END IF;
    IF partition_name = '_default' THEN
        RAISE EXCEPTION 'cannot drop the _default partition' USING ERRCODE = 'feature_not_supported';
    END IF;
    DELETE FROM milvus.partitions x WHERE x.db_name = c.db_name AND x.collection_name = c.collection_name
                                      AND x.partition_name = drop_partition.partition_name
    RETURNING * INTO p;
    IF FOUND THEN
        EXECUTE format('DROP TABLE %s', milvus._qualified(p.relid));
    END IF;
END
$$;

CREATE FUNCTION milvus.has_partition(collection_name text, partition_name text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
BEGIN
    PERFORM milvus._check_name('partition', partition_name);
    RETURN EXISTS (SELECT FROM milvus.partitions p WHERE p.db_name = c.db_name AND p.collection_name = c.collection_name
                                                     AND p.partition_name = has_partition.partition_name);
END
$$;

CREATE FUNCTION milvus.list_partitions(collection_name text) RETURNS SETOF text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
BEGIN
    RETURN QUERY SELECT p.partition_name FROM milvus.partitions p
                  WHERE p.db_name = c.db_name AND p.collection_name = c.collection_name
                  ORDER BY p.partition_id;
END
$$;

-- A partition of a collection, or an error naming it
CREATE FUNCTION milvus._partition(c milvus.collections, partition_name text) RETURNS milvus.partitions
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p milvus.partitions;
BEGIN
    PERFORM milvus._check_name('partition', partition_name);
    SELECT * INTO p FROM milvus.partitions x WHERE x.db_name = c.db_name AND x.collection_name = c.collection_name
                                              AND x.partition_name = _partition.partition_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'partition "%" of collection "%" does not exist', partition_name, c.collection_name
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN p;
END
$$;

CREATE FUNCTION milvus.get_partition_stats(collection_name text, partition_name text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p milvus.partitions := milvus._partition(milvus._collection(collection_name), partition_name);
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s', milvus._qualified(p.relid)) INTO n;
    RETURN jsonb_build_object('row_count', n);
END
$$;

--
-- Aliases
--

CREATE FUNCTION milvus.create_alias(collection_name text, alias text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name, NULL, false);
BEGIN
    PERFORM milvus._check_name('alias', alias);
    PERFORM milvus._require_owner(c);
    IF EXISTS (SELECT FROM milvus.aliases a WHERE a.db_name = c.db_name AND a.alias = create_alias.alias) THEN
        RAISE EXCEPTION 'alias "%" already exists', alias USING ERRCODE = 'duplicate_object',
            HINT = 'milvus.alter_alias() points an alias to another collection.';
    END IF;
    IF EXISTS (SELECT FROM milvus.collections x WHERE x.db_name = c.db_name AND x.collection_name = alias) THEN
        RAISE EXCEPTION 'alias "%" is the name of a collection', alias USING ERRCODE = 'duplicate_object';
    END IF;
    INSERT INTO milvus.aliases VALUES (c.db_name, alias, c.collection_name);
END
$$;

CREATE FUNCTION milvus.alter_alias(collection_name text, alias text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name, NULL, false);
BEGIN
    PERFORM milvus._check_name('alias', alias);
    PERFORM milvus._require_owner(c);
    UPDATE milvus.aliases a SET collection_name = c.collection_name
     WHERE a.db_name = c.db_name AND a.alias = alter_alias.alias;
    IF NOT FOUND THEN
        IF EXISTS (SELECT FROM milvus.aliases a WHERE a.db_name = c.db_name AND a.alias = alter_alias.alias) THEN
            RAISE EXCEPTION 'must be owner of the collection alias "%" points to', alias
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RAISE EXCEPTION 'alias "%" does not exist', alias USING ERRCODE = 'undefined_object';
    END IF;
END
$$;

CREATE FUNCTION milvus.drop_alias(alias text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    db text := (milvus._database()).db_name;
BEGIN
    PERFORM milvus._check_name('alias', alias);
    DELETE FROM milvus.aliases a WHERE a.db_name = db AND a.alias = drop_alias.alias;
    IF NOT FOUND AND EXISTS (SELECT FROM milvus.aliases a WHERE a.db_name = db AND a.alias = drop_alias.alias) THEN
        RAISE EXCEPTION 'must be owner of the collection alias "%" points to', alias
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

CREATE FUNCTION milvus.describe_alias(alias text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    db text := (milvus._database()).db_name;
    a milvus.aliases;
BEGIN
    PERFORM milvus._check_name('alias', alias);
    SELECT * INTO a FROM milvus.aliases x WHERE x.db_name = db AND x.alias = describe_alias.alias;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'alias "%" does not exist', alias USING ERRCODE = 'undefined_object';
    END IF;
    RETURN jsonb_build_object('alias', a.alias, 'collection_name', a.collection_name, 'db_name', a.db_name);
END
$$;

CREATE FUNCTION milvus.list_aliases(collection_name text DEFAULT NULL) RETURNS SETOF text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    db text := (milvus._database()).db_name;
    c milvus.collections;
BEGIN
    IF collection_name IS NULL THEN
        RETURN QUERY SELECT a.alias FROM milvus.aliases a WHERE a.db_name = db ORDER BY 1;
    ELSE
        c := milvus._collection(collection_name, db, false);
        RETURN QUERY SELECT a.alias FROM milvus.aliases a
                      WHERE a.db_name = db AND a.collection_name = c.collection_name ORDER BY 1;
    END IF;
END
$$;
