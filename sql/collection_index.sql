--
-- Indexes and loading: Milvus's index names, what each becomes here, and the
-- load state.
--
\set SHOW_CONTEXT never

SELECT milvus.create_collection('docs', schema => '{"fields": [
    {"name": "id", "type": "INT64", "is_primary": true},
    {"name": "title", "type": "VARCHAR", "max_length": 20},
    {"name": "meta", "type": "JSON"},
    {"name": "tags", "type": "ARRAY", "element_type": "INT64", "max_capacity": 4},
    {"name": "v", "type": "FLOAT_VECTOR", "dim": 3},
    {"name": "h", "type": "FLOAT16_VECTOR", "dim": 3},
    {"name": "b", "type": "BINARY_VECTOR", "dim": 8},
    {"name": "s", "type": "SPARSE_FLOAT_VECTOR"}]}');
SELECT milvus.get_load_state('docs');

-- FLAT is exact search: recorded, no PostgreSQL index
SELECT milvus.create_index('docs', 'v', 'FLAT', 'L2');
SELECT milvus.describe_index('docs', 'v');
SELECT milvus.create_index('docs', 'v', 'FLAT', 'L2');        -- the same again: no error
SELECT sqlstate_detail_of($$SELECT milvus.create_index('docs', 'v', 'FLAT', 'IP')$$);
SELECT sqlstate_detail_of($$SELECT milvus.create_index('docs', 'h', 'FLAT', 'COSINE', index_name => 'v')$$);
-- pymilvus's IndexParams form, several at once
SELECT milvus.create_index('docs', index_params => '[
    {"field_name": "b", "index_type": "BIN_FLAT", "metric_type": "JACCARD", "index_name": "b_idx"},
    {"field_name": "s", "index_type": "AUTOINDEX", "metric_type": "IP"},
    {"field_name": "title", "index_type": "INVERTED"},
    {"field_name": "meta", "index_type": "INVERTED"},
    {"field_name": "tags", "index_type": "AUTOINDEX"}]');
SELECT * FROM milvus.list_indexes('docs');
SELECT * FROM milvus.list_indexes('docs', 'b');
SELECT milvus.describe_index('docs', 'b_idx') - 'pg_index';
SELECT milvus.describe_index('docs', 'title') ->> 'pg_index' AS title_index,
       milvus.describe_index('docs', 'meta') ->> 'pg_index' AS meta_index;
SELECT indexrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid = 'docs'::regclass AND NOT indisprimary ORDER BY 1::text;

-- errors
SELECT args, sqlstate_detail_of(format('SELECT milvus.create_index(''docs'', %s)', args)) AS result
FROM (VALUES
  ('''nope'', ''FLAT'''),
  ('''h'', ''FLAT'', ''HAMMING'''),
  ('''b'', ''FLAT'', ''HAMMING'''),
  ('''h'', ''IVF_FLAT'', ''L2'''),
  ('''h'', ''DISKANN'', ''L2'''),
  ('''s'', ''SPARSE_INVERTED_INDEX'', ''IP'''),
  -- index types Milvus builds and this extension does not are 0A000 whatever
  -- the metric, and list what is built
  ('''s'', ''SPARSE_INVERTED_INDEX'', ''BM25'', ''{"inverted_index_algo": "DAAT_MAXSCORE", "bm25_k1": 1.2, "bm25_b": 0.75}'''),
  ('''s'', ''SPARSE_WAND'', ''BM25'''),
  ('''s'', ''AUTOINDEX'', ''BM25'''),
  ('''b'', ''MINHASH_LSH'', ''MHJACCARD'''),
  ('''b'', ''BIN_FLAT'', ''MHJACCARD'''),
  ('''v'', ''FAISS'', ''L2'''),
  ('''title'', ''NGRAM'', params => ''{"min_gram": 2, "max_gram": 3}'''),
  ('''meta'', ''NGRAM'''),
  ('''title'', ''IVF_FLAT'''),
  ('''s'', ''HNSW'', ''IP'''),
  ('''h'', ''MAGIC'', ''L2'''),
  ('''title'', ''HNSW'''),
  ('''h'', ''FLAT'', ''L2'', ''[1]'''),
  ('''h'', ''FLAT'', ''L2'', index_name => ''a b'''),
  ('index_params => ''{}'', field_name => ''h''')) v(args);
-- the hint lists what is built
SELECT milvus.create_index('docs', 's', 'SPARSE_INVERTED_INDEX', 'BM25');
SELECT sqlstate_detail_of($$SELECT milvus.create_index('docs')$$);
SELECT sqlstate_detail_of($$SELECT milvus.describe_index('docs', 'nope')$$);

-- HNSW builds milvus_hnsw with M and efConstruction when the access method
-- has an operator class for the field's type and metric, and is "not
-- supported yet" otherwise; the checks hold either way
DO $$
DECLARE
    f record;
    have_opclass boolean;
    outcome text;
BEGIN
    FOR f IN SELECT * FROM (VALUES ('v', 'FLOAT_VECTOR', 'L2'), ('h', 'FLOAT16_VECTOR', 'COSINE'),
                                   ('b', 'BINARY_VECTOR', 'HAMMING')) x(name, type, metric) LOOP
        PERFORM milvus.drop_index('docs', i) FROM milvus.list_indexes('docs', f.name) i;
        have_opclass := EXISTS (SELECT FROM pg_opclass o JOIN pg_am a ON a.oid = o.opcmethod
                                 WHERE a.amname = 'milvus_hnsw'
                                   AND o.opcname = milvus._hnsw_opclass(f.type, f.metric));
        outcome := sqlstate_of(format($q$SELECT milvus.create_index('docs', %L, 'HNSW', %L,
                                          '{"M": 8, "efConstruction": 64}')$q$, f.name, f.metric));
        IF have_opclass AND outcome <> 'ok' OR NOT have_opclass AND outcome NOT LIKE '0A000%' THEN
            RAISE EXCEPTION 'HNSW on %: %', f.name, outcome;
        END IF;
        IF have_opclass AND NOT EXISTS (
                SELECT FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
                 WHERE i.indrelid = 'docs'::regclass AND a.amname = 'milvus_hnsw'
                   AND pg_get_indexdef(i.indexrelid) LIKE format('%%(%s %%%s)%%m=''8''%%ef_construction=''64''%%',
                                                                 f.name, milvus._hnsw_opclass(f.type, f.metric))) THEN
            RAISE EXCEPTION 'HNSW index on % missing or without its parameters', f.name;
        END IF;
        PERFORM milvus.drop_index('docs', f.name);
    END LOOP;
    RAISE NOTICE 'HNSW behaves as it should';
END
$$;

-- Milvus's HNSW ranges: M 2 to 2048, efConstruction 1 up.  The access method
-- wants ef_construction of at least 4 and 2 * m and at most 1000: create_index
-- moves efConstruction there with a NOTICE (Milvus's own example, M 64 with
-- efConstruction 100, builds); an M above the access method's 100 is 0A000.
CREATE FUNCTION hnsw_def_of(params jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    def text;
BEGIN
    PERFORM milvus.drop_index('docs', 'v');
    PERFORM milvus.create_index('docs', 'v', 'HNSW', 'L2', params);
    SELECT substring(pg_get_indexdef(i.indexrelid) FROM 'WITH \(.*\)$') INTO def
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
     WHERE i.indrelid = 'docs'::regclass AND a.amname = 'milvus_hnsw';
    RETURN coalesce(def, '(defaults)');
END
$$;
SELECT hnsw_def_of('{"M": 64, "efConstruction": 100}');
SELECT milvus.describe_index('docs', 'v') - 'pg_index' AS recorded;   -- Milvus's params, as given
SELECT hnsw_def_of('{"M": 64}');
SELECT hnsw_def_of('{"efConstruction": 1}');
SELECT hnsw_def_of('{"efConstruction": 2147483647}');
SELECT hnsw_def_of('{"M": 2}');
SELECT hnsw_def_of('{"M": 100, "efConstruction": 200}');
SELECT hnsw_def_of('{"M": 32, "efConstruction": 64}');
SELECT hnsw_def_of('{}');
SELECT p AS params, sqlstate_detail_of(format('SELECT hnsw_def_of(%L)', p)) AS result
FROM (VALUES ('{"M": 101}'), ('{"M": 2048, "efConstruction": 5000}'), ('{"M": 2049}'), ('{"M": 1}'),
             ('{"M": 0}'), ('{"efConstruction": 0}'), ('{"efConstruction": 2147483648}'),
             ('{"M": "x"}')) v(p);
SELECT milvus.drop_index('docs', 'v');
DROP FUNCTION hnsw_def_of(jsonb);

-- drop_index removes the PostgreSQL index too; dropping what is gone is no error
SELECT milvus.drop_index('docs', 'title');
SELECT milvus.drop_index('docs', 'title');
SELECT count(*) FROM pg_index WHERE indrelid = 'docs'::regclass AND pg_get_indexdef(indexrelid) LIKE '%(title)%';
SELECT * FROM milvus.list_indexes('docs');

--
-- Loading reads the collection into shared buffers and records it
--
SELECT * FROM milvus.insert('docs', (SELECT jsonb_agg(jsonb_build_object(
    'id', i, 'title', 't' || i, 'meta', jsonb_build_object('i', i), 'tags', jsonb_build_array(i),
    'v', jsonb_build_array(i, 0, 1), 'h', jsonb_build_array(1, i % 7, 0), 'b', jsonb_build_array(i % 256),
    's', jsonb_build_object(i::text, 1))) FROM generate_series(1, 500) i)) \gset
SELECT :insert_count;
SELECT milvus.load_collection('docs');
SELECT milvus.get_load_state('docs'), milvus.get_load_state('docs', '_default'), milvus.get_load_state('docs', 'nope');
SELECT milvus._prewarm(p.relid) > 0 AS read_blocks FROM milvus.partitions p WHERE p.collection_name = 'docs';
SELECT milvus.refresh_load('docs');
SELECT milvus.release_collection('docs');
SELECT milvus.get_load_state('docs');
-- a released collection still answers, as any table does
SELECT * FROM milvus.query('docs', 'id == 7', '{title}');
SELECT milvus.refresh_load('docs');            -- only reloads what is loaded
SELECT milvus.get_load_state('docs'), milvus.get_load_state('nope');
SELECT sqlstate_detail_of($$SELECT milvus.load_collection('docs', replica_number => 2)$$);
SELECT sqlstate_detail_of($$SELECT milvus._prewarm('pg_class_oid_index')$$);

SELECT milvus.drop_collection('docs');
SELECT count(*) FROM milvus.indexes;
