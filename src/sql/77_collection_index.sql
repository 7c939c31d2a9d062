-- Indexes and loading of Milvus collections (doc/collections.md).
--
-- Milvus's index names map onto what PostgreSQL has: FLAT, BIN_FLAT and (for
-- now) AUTOINDEX on a vector field mean exact search and are only recorded;
-- HNSW builds this extension's milvus_hnsw access method when it is
-- installed; scalar indexes become B-tree (GIN for JSON and ARRAY) indexes;
-- every other index type is refused as not supported yet.  Loading reads the
-- collection into shared buffers (src/collection/load.c) and records the
-- state; a released collection still answers searches and queries, from
-- disk through the buffer cache as any table does.

CREATE FUNCTION milvus._prewarm(regclass) RETURNS bigint
    AS 'MODULE_PATHNAME', 'milvus_prewarm_table' LANGUAGE C STRICT VOLATILE;

-- The metric a vector field is searched with when nothing says otherwise
CREATE FUNCTION milvus._default_metric(data_type text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE data_type WHEN 'BINARY_VECTOR' THEN 'HAMMING'
                      WHEN 'SPARSE_FLOAT_VECTOR' THEN 'IP'
                      ELSE 'COSINE' END;

-- Check a metric against a vector field's type; return it in upper case
CREATE FUNCTION milvus._check_metric(f milvus.fields, metric_type text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    m text := upper(coalesce(metric_type, milvus._default_metric(f.data_type)));
    allowed text[] := CASE f.data_type WHEN 'BINARY_VECTOR' THEN ARRAY['HAMMING', 'JACCARD']
                                       WHEN 'SPARSE_FLOAT_VECTOR' THEN ARRAY['IP']
                                       ELSE ARRAY['L2', 'IP', 'COSINE'] END;
BEGIN
    IF m = 'BM25' AND f.data_type = 'SPARSE_FLOAT_VECTOR' OR m = 'MHJACCARD' AND f.data_type = 'BINARY_VECTOR' THEN
        RAISE EXCEPTION 'metric type % on % field "%" is not supported yet', m, f.data_type, f.field_name
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = CASE m WHEN 'BM25' THEN 'BM25 scores full-text search, which this extension does not have yet.'
                                  ELSE 'MHJACCARD compares MinHash signatures, which this extension does not have yet.' END,
                  HINT = format('The metric types of %s fields here are %s.', f.data_type, array_to_string(allowed, ', '));
    ELSIF NOT m = ANY (allowed) THEN
        RAISE EXCEPTION 'metric type % does not apply to field "%"', m, f.field_name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Field "%s" is %s; its metric types are %s.', f.field_name, f.data_type,
                                  array_to_string(allowed, ', '));
    END IF;
    RETURN m;
END
$$;

CREATE FUNCTION milvus._field(c milvus.collections, field_name text) RETURNS milvus.fields
LANGUAGE plpgsql STABLE AS $$
DECLARE
    f milvus.fields;
BEGIN
    SELECT * INTO f FROM milvus.fields x
     WHERE x.db_name = c.db_name AND x.collection_name = c.collection_name AND x.field_name = _field.field_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'field "%" does not exist in collection "%"', field_name, c.collection_name
            USING ERRCODE = 'undefined_column';
    END IF;
    RETURN f;
END
$$;

-- An index parameter as a positive integer
CREATE FUNCTION milvus._int_param(params jsonb, key text, index_type text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF params -> key IS NULL THEN
        RETURN NULL;
    ELSIF (params ->> key) !~ '^\s*[0-9]{1,10}\s*$' OR (params ->> key)::bigint > 2147483647 THEN
        RAISE EXCEPTION 'index parameter % of % must be a positive integer', key, index_type
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Got %s.', milvus._describe_json(params -> key));
    END IF;
    RETURN (params ->> key)::integer;
END
$$;

-- The WITH clause of a milvus_hnsw index for Milvus's HNSW params on a field.
-- Milvus takes M from 2 to 2048 and efConstruction from 1 up; the access
-- method m from MV_HNSW_MIN_M to MV_HNSW_MAX_M (2 to 100) and ef_construction
-- from 4 to 1000, at least 2 * m (src/index/hnsw/hnsw.h).  An efConstruction
-- outside what the access method takes is moved to the nearest value it does,
-- with a NOTICE, so Milvus's examples build; an M above 100 is refused.
CREATE FUNCTION milvus._hnsw_with(p jsonb, field_name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    m integer := milvus._int_param(p, 'M', 'HNSW');
    ef integer := milvus._int_param(p, 'efConstruction', 'HNSW');
    need integer;
    built integer;
BEGIN
    IF m < 2 OR m > 2048 THEN
        RAISE EXCEPTION 'index parameter M of HNSW must be between 2 and 2048' USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Got %s.', m);
    ELSIF m > 100 THEN
        RAISE EXCEPTION 'index parameter M of HNSW must be at most 100 here' USING ERRCODE = 'feature_not_supported',
                  DETAIL = format('Got %s.  Milvus takes M from 2 to 2048; the milvus_hnsw access method links '
                                  'at most 100 neighbours per element (200 on layer 0).', m),
                  HINT = 'Use an M from 2 to 100.';
    ELSIF ef < 1 THEN
        RAISE EXCEPTION 'index parameter efConstruction of HNSW must be at least 1'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('Got %s.', ef);
    END IF;
    need := greatest(4, 2 * coalesce(m, 16));
    built := CASE WHEN ef IS NULL AND need <= 64 THEN NULL ELSE least(greatest(coalesce(ef, 64), need), 1000) END;
    IF built IS DISTINCT FROM ef THEN
        RAISE NOTICE 'HNSW index on field "%" is built with efConstruction %', field_name, built
            USING DETAIL = CASE WHEN built = 1000
                                THEN format('efConstruction is %s; the milvus_hnsw access method takes at most 1000.', ef)
                                ELSE format('efConstruction is %s; the milvus_hnsw access method needs at least '
                                            '4 and 2 * M (M is %s).', coalesce(ef::text, 'not given, 64'),
                                            coalesce(m::text, 'not given, 16')) END;
    END IF;
    IF m IS NULL AND built IS NULL THEN
        RETURN '';
    END IF;
    RETURN ' WITH (' || concat_ws(', ', 'm = ' || m, 'ef_construction = ' || built) || ')';
END
$$;

-- Refuse an index type Milvus builds and this extension does not, saying what it does build
CREATE FUNCTION milvus._index_not_built(index_type text, f milvus.fields,
                                        detail text DEFAULT 'This extension does not build that index type yet.')
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'index type % on % field "%" is not supported yet', index_type, f.data_type, f.field_name
        USING ERRCODE = 'feature_not_supported', DETAIL = detail,
              HINT = 'Built here: FLAT (BIN_FLAT for binary vectors) and AUTOINDEX on vector fields, which '
                     'search exactly without an index; HNSW on FLOAT_VECTOR, FLOAT16_VECTOR and BINARY_VECTOR '
                     'fields; AUTOINDEX, INVERTED, STL_SORT, Trie and BITMAP on scalar fields.';
END
$$;

-- The milvus_hnsw operator class for a field type and metric
CREATE FUNCTION milvus._hnsw_opclass(data_type text, metric text) RETURNS name
LANGUAGE sql IMMUTABLE
RETURN (CASE data_type WHEN 'FLOAT_VECTOR' THEN 'floatvector' WHEN 'FLOAT16_VECTOR' THEN 'float16vector'
                       WHEN 'BINARY_VECTOR' THEN 'binaryvector' ELSE 'sparsevector' END
        || '_' || lower(metric) || '_ops')::name;

-- The PostgreSQL index of a collection's index, by its name in the table's schema
CREATE FUNCTION milvus._index_relation(c milvus.collections, index_name name) RETURNS regclass
LANGUAGE sql STABLE
RETURN (SELECT x.oid::regclass FROM pg_catalog.pg_class t JOIN pg_catalog.pg_class x
                                 ON x.relnamespace = t.relnamespace AND x.relname = index_name
         WHERE t.oid = c.relid AND x.relkind IN ('i', 'I'));

CREATE FUNCTION milvus.create_index(
    collection_name text,
    field_name text DEFAULT NULL,
    index_type text DEFAULT 'AUTOINDEX',
    metric_type text DEFAULT NULL,
    params jsonb DEFAULT NULL,
    index_name text DEFAULT NULL,
    index_params jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
    f milvus.fields;
    it text := upper(coalesce(index_type, 'AUTOINDEX'));
    name text := coalesce(index_name, field_name);
    p jsonb := coalesce(params, '{}');
    m text;
    old milvus.indexes;
    ddl text;
    before oid[];
    idx name;
    ip jsonb;
BEGIN
    IF index_params IS NOT NULL THEN
        -- the IndexParams form: one index or a list of them
        IF field_name IS NOT NULL THEN
            RAISE EXCEPTION 'create_index takes either field_name or index_params, not both'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        FOR ip IN SELECT value FROM jsonb_array_elements(CASE jsonb_typeof(index_params)
                                                              WHEN 'array' THEN index_params
                                                              ELSE jsonb_build_array(index_params) END) LOOP
            PERFORM milvus.create_index(c.collection_name, ip ->> 'field_name', ip ->> 'index_type',
                                        ip ->> 'metric_type', ip -> 'params', ip ->> 'index_name');
        END LOOP;
        RETURN;
    END IF;
    IF field_name IS NULL THEN
        RAISE EXCEPTION 'create_index needs a field_name' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM milvus._check_name('index', name);
    PERFORM milvus._require_owner(c);
    f := milvus._field(c, field_name);
    IF jsonb_typeof(p) <> 'object' THEN
        RAISE EXCEPTION 'index params must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- pymilvus puts the metric and the index type into params too
    m := coalesce(metric_type, p ->> 'metric_type');
    it := upper(coalesce(p ->> 'index_type', it));
    p := p - 'metric_type' - 'index_type';

    IF milvus._is_vector(f.data_type) THEN
        -- an index type not built is that, whatever the metric (BM25 for SPARSE_INVERTED_INDEX)
        IF it IN ('IVF_FLAT', 'IVF_SQ8', 'IVF_PQ', 'IVF_RABITQ', 'HNSW_SQ', 'HNSW_PQ', 'HNSW_PRQ', 'SCANN',
                  'DISKANN', 'AISAQ', 'GPU_IVF_FLAT', 'GPU_IVF_PQ', 'GPU_CAGRA', 'GPU_BRUTE_FORCE', 'BIN_IVF_FLAT',
                  'SPARSE_INVERTED_INDEX', 'SPARSE_WAND', 'MINHASH_LSH', 'FAISS') THEN
            PERFORM milvus._index_not_built(it, f);
        END IF;
        m := milvus._check_metric(f, m);
        CASE
        WHEN it IN ('FLAT', 'AUTOINDEX') AND f.data_type <> 'BINARY_VECTOR'
             OR it IN ('BIN_FLAT', 'AUTOINDEX') AND f.data_type = 'BINARY_VECTOR' THEN
            ddl := NULL;        -- exact search: nothing to build
        WHEN it = 'HNSW' AND EXISTS (SELECT FROM pg_catalog.pg_opclass o JOIN pg_catalog.pg_am a ON a.oid = o.opcmethod
                                      WHERE a.amname = 'milvus_hnsw'
                                        AND o.opcname = milvus._hnsw_opclass(f.data_type, m)) THEN
            ddl := format('CREATE INDEX ON %s USING milvus_hnsw (%I @extschema@.%I)', milvus._qualified(c.relid),
                          f.field_name, milvus._hnsw_opclass(f.data_type, m));
            ddl := ddl || milvus._hnsw_with(p, f.field_name);
        WHEN it = 'FLAT' OR it = 'BIN_FLAT' THEN
            RAISE EXCEPTION 'index type % does not apply to % field "%"', it, f.data_type, f.field_name
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'FLAT is for float vectors, BIN_FLAT for binary vectors.';
        WHEN it = 'HNSW' THEN
            PERFORM milvus._index_not_built(it, f, format('The access method milvus_hnsw has no operator class %s.',
                                                          milvus._hnsw_opclass(f.data_type, m)));
        ELSE
            RAISE EXCEPTION 'unknown index type "%"', coalesce(index_type, p ->> 'index_type')
                USING ERRCODE = 'invalid_parameter_value';
        END CASE;
    ELSE
        m := NULL;
        IF it IN ('NGRAM', 'RTREE') THEN
            PERFORM milvus._index_not_built(it, f);
        ELSIF it NOT IN ('AUTOINDEX', 'INVERTED', 'STL_SORT', 'TRIE', 'BITMAP') THEN
            RAISE EXCEPTION 'index type % does not apply to % field "%"', it, f.data_type, f.field_name
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Scalar fields take AUTOINDEX, INVERTED, STL_SORT, Trie or BITMAP.';
        END IF;
        ddl := format('CREATE INDEX ON %s USING %s (%I)', milvus._qualified(c.relid),
                      CASE WHEN f.data_type IN ('JSON', 'ARRAY') THEN 'gin' ELSE 'btree' END, f.field_name);
    END IF;

    SELECT * INTO old FROM milvus.indexes x
     WHERE x.db_name = c.db_name AND x.collection_name = c.collection_name
       AND (x.field_name = f.field_name OR x.index_name = name);
    IF FOUND THEN
        IF old.field_name = f.field_name AND old.index_name = name AND old.index_type = it
           AND old.metric_type IS NOT DISTINCT FROM m AND old.params = p THEN
            RETURN;             -- as Milvus: the same index again is no error
        END IF;
        IF old.field_name <> f.field_name THEN
            RAISE EXCEPTION 'index "%" already exists in collection "%"', name, c.collection_name
                USING ERRCODE = 'duplicate_object',
                      DETAIL = format('It indexes field "%s".', old.field_name);
        END IF;
        RAISE EXCEPTION 'field "%" of collection "%" already has index "%"', old.field_name, c.collection_name,
                        old.index_name
            USING ERRCODE = 'duplicate_object',
                  DETAIL = 'A field has at most one index.',
                  HINT = 'Drop the index first with milvus.drop_index().';
    END IF;

    IF ddl IS NOT NULL THEN
        before := ARRAY(SELECT indexrelid FROM pg_catalog.pg_index WHERE indrelid = c.relid);
        EXECUTE ddl;
        SELECT x.relname INTO idx FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid
         WHERE i.indrelid = c.relid AND i.indexrelid <> ALL (before);
    END IF;
    INSERT INTO milvus.indexes VALUES (c.db_name, c.collection_name, name, f.field_name, it, m, p, idx);
END
$$;

CREATE FUNCTION milvus.list_indexes(collection_name text, field_name text DEFAULT NULL) RETURNS SETOF text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
BEGIN
    RETURN QUERY SELECT i.index_name FROM milvus.indexes i
                  WHERE i.db_name = c.db_name AND i.collection_name = c.collection_name
                    AND (list_indexes.field_name IS NULL OR i.field_name = list_indexes.field_name)
                  ORDER BY 1;
END
$$;

CREATE FUNCTION milvus.describe_index(collection_name text, index_name text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
    i milvus.indexes;
    n bigint;
BEGIN
    SELECT * INTO i FROM milvus.indexes x
     WHERE x.db_name = c.db_name AND x.collection_name = c.collection_name AND x.index_name = describe_index.index_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'index "%" does not exist in collection "%"', index_name, c.collection_name
            USING ERRCODE = 'undefined_object';
    END IF;
    EXECUTE format('SELECT count(*) FROM %s', milvus._qualified(c.relid)) INTO n;
    RETURN i.params || jsonb_strip_nulls(jsonb_build_object(
        'index_type', i.index_type, 'metric_type', i.metric_type,
        'field_name', i.field_name, 'index_name', i.index_name,
        'total_rows', n, 'indexed_rows', n, 'pending_index_rows', 0, 'state', 'Finished',
        'pg_index', milvus._qualified(milvus._index_relation(c, i.pg_index_name))));
END
$$;

CREATE FUNCTION milvus.drop_index(collection_name text, index_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
    i milvus.indexes;
BEGIN
    PERFORM milvus._check_name('index', index_name);
    PERFORM milvus._require_owner(c);
    DELETE FROM milvus.indexes x
     WHERE x.db_name = c.db_name AND x.collection_name = c.collection_name AND x.index_name = drop_index.index_name
    RETURNING * INTO i;
    IF FOUND AND milvus._index_relation(c, i.pg_index_name) IS NOT NULL THEN
        EXECUTE format('DROP INDEX %s', milvus._qualified(milvus._index_relation(c, i.pg_index_name)));
    END IF;
END
$$;

--
-- Loading
--

-- Read every partition of a collection, with its indexes and TOAST data
CREATE FUNCTION milvus._load(c milvus.collections) RETURNS bigint
LANGUAGE sql AS $$
    SELECT coalesce(sum(milvus._prewarm(p.relid)), 0)::bigint FROM milvus.partitions p
     WHERE p.db_name = c.db_name AND p.collection_name = c.collection_name
$$;

CREATE FUNCTION milvus.load_collection(collection_name text, replica_number integer DEFAULT 1,
                                       refresh boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
BEGIN
    PERFORM milvus._require_owner(c);
    IF replica_number IS DISTINCT FROM 1 THEN
        RAISE EXCEPTION 'replica_number must be 1' USING ERRCODE = 'feature_not_supported',
            DETAIL = 'A server keeps one copy in shared buffers; read replicas are hot standbys.';
    END IF;
    PERFORM milvus._load(c);
    UPDATE milvus.collections x SET load_state = 'Loaded'
     WHERE x.db_name = c.db_name AND x.collection_name = c.collection_name;
END
$$;

CREATE FUNCTION milvus.refresh_load(collection_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
BEGIN
    IF c.load_state = 'Loaded' THEN
        PERFORM milvus._load(c);
    END IF;
END
$$;

-- Released: the state changes; PostgreSQL's buffer manager evicts as it needs
CREATE FUNCTION milvus.release_collection(collection_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
BEGIN
    PERFORM milvus._require_owner(c);
    UPDATE milvus.collections x SET load_state = 'NotLoad'
     WHERE x.db_name = c.db_name AND x.collection_name = c.collection_name;
END
$$;

CREATE FUNCTION milvus.get_load_state(collection_name text, partition_name text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c milvus.collections;
BEGIN
    IF NOT milvus.has_collection(collection_name) THEN
        RETURN 'NotExist';
    END IF;
    c := milvus._collection(collection_name);
    IF partition_name IS NOT NULL AND NOT milvus.has_partition(collection_name, partition_name) THEN
        RETURN 'NotExist';
    END IF;
    RETURN c.load_state;
END
$$;
