-- Vector search over Milvus collections: search, range search, grouping
-- search and hybrid_search (doc/collections.md).
--
-- One statement answers every query vector: the vectors are unnested and each
-- is joined LATERAL to "ORDER BY field <op> query LIMIT k" over the
-- collection, so an index on the field can serve it and the filter is a real
-- WHERE clause.  Distances are reported as Milvus reports them: L2 as the
-- squared Euclidean distance, ascending (ranked by <->, which orders the
-- same); IP and COSINE as similarities, descending; HAMMING and JACCARD as
-- distances, ascending.

-- How a metric reports and ranks: the distance reported for "f" against
-- "q", the ordering expression (always ascending), and whether larger
-- reported values are closer
CREATE FUNCTION milvus._metric_sql(metric text, f text, q text,
                                   OUT distance text, OUT ordering text, OUT larger_is_closer boolean)
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE metric
               WHEN 'L2' THEN format('@extschema@.l2_squared_distance(%s, %s)', f, q)
               WHEN 'IP' THEN format('@extschema@.inner_product(%s, %s)', f, q)
               WHEN 'COSINE' THEN format('(1 - @extschema@.cosine_distance(%s, %s))', f, q)
               WHEN 'HAMMING' THEN format('@extschema@.hamming_distance(%s, %s)', f, q)
               WHEN 'JACCARD' THEN format('@extschema@.jaccard_distance(%s, %s)', f, q) END,
           format('%s OPERATOR(@extschema@.%s) %s', f,
                  CASE metric WHEN 'L2' THEN '<->' WHEN 'IP' THEN '<#>' WHEN 'COSINE' THEN '<=>'
                              WHEN 'HAMMING' THEN '<~>' WHEN 'JACCARD' THEN '<%>' END, q),
           metric IN ('IP', 'COSINE')
$$;

-- The vector field a search runs on, and its metric
CREATE FUNCTION milvus._search_field(c milvus.collections, anns_field text, search_params jsonb,
                                     OUT f milvus.fields, OUT metric text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    index_metric text;
    asked text := upper(search_params ->> 'metric_type');
BEGIN
    IF anns_field IS NULL THEN
        IF (SELECT count(*) FROM milvus._fields(c) x WHERE milvus._is_vector(x.data_type)) > 1 THEN
            RAISE EXCEPTION 'collection "%" has several vector fields: name one in anns_field', c.collection_name
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT * INTO f FROM milvus._fields(c) x WHERE milvus._is_vector(x.data_type);
    ELSE
        f := milvus._field(c, anns_field);
        IF NOT milvus._is_vector(f.data_type) THEN
            RAISE EXCEPTION 'anns_field "%" is not a vector field', anns_field
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Field "%s" is %s.', anns_field, f.data_type);
        END IF;
    END IF;
    SELECT i.metric_type INTO index_metric FROM milvus.indexes i
     WHERE i.db_name = c.db_name AND i.collection_name = c.collection_name AND i.field_name = f.field_name;
    IF asked IS NOT NULL AND index_metric IS NOT NULL AND asked <> index_metric THEN
        RAISE EXCEPTION 'metric type % does not match the index of field "%"', asked, f.field_name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The index uses %s.', index_metric);
    END IF;
    metric := milvus._check_metric(f, coalesce(asked, index_metric));
END
$$;

-- A search parameter: in search_params.params, or in search_params itself
CREATE FUNCTION milvus._search_param(search_params jsonb, key text) RETURNS jsonb
LANGUAGE sql IMMUTABLE
RETURN coalesce(search_params -> 'params' -> key, search_params -> key);

CREATE FUNCTION milvus._number_param(search_params jsonb, key text) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v jsonb := milvus._search_param(search_params, key);
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        RETURN NULL;
    ELSIF jsonb_typeof(v) <> 'number' THEN
        RAISE EXCEPTION 'search parameter % must be a number', key
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Got %s.', milvus._describe_json(v));
    END IF;
    RETURN v::text::double precision;
END
$$;

-- A search's limit: NULL is Milvus's default, 10 (a query has none: NULL is
-- no limit there)
CREATE FUNCTION milvus._search_limit("limit" integer) RETURNS integer
LANGUAGE sql IMMUTABLE
RETURN coalesce("limit", 10);

-- The search in PL/pgSQL.  milvus.search (C, src/collection/search.c) runs
-- the common search itself, with the statement built here kept prepared, and
-- hands this function every call it does not take: range search, grouping
-- search, search_params.offset, and every call this raises an error for
-- before its statement runs.  (Without JIT, as milvus.delete.)
CREATE FUNCTION milvus._search_plpgsql(collection_name text, data anycompatible, anns_field text, "limit" integer,
                                       "offset" integer, filter text, filter_params jsonb, output_fields text[],
                                       partition_names text[], search_params jsonb, group_by_field text,
                                       group_size integer, strict_group_size boolean)
RETURNS TABLE (query_index integer, id text, distance double precision, entity jsonb)
LANGUAGE plpgsql STABLE SET jit = off AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
    pk milvus.fields := milvus._pk(c);
    sf record;
    m record;
    f record;
    g milvus.fields;
    gexpr text;
    sp jsonb := coalesce(search_params, '{}');
    off integer := coalesce("offset", (sp ->> 'offset')::integer, 0);
    gsize integer := coalesce(group_size, 1);
    queries jsonb;
    texts text[];
    qexpr text;
    nq integer;
    radius double precision;
    range_filter double precision;
    conds text;
    outputs text[] := output_fields;
    ef integer;
    old_ef text;
    sql text;
BEGIN
    IF jsonb_typeof(sp) <> 'object' THEN
        RAISE EXCEPTION 'search_params must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    sf := milvus._search_field(c, anns_field, sp);
    m := milvus._metric_sql(sf.metric, format('t.%I', (sf.f).field_name), 'q."$q"');
    "limit" := milvus._search_limit("limit");
    PERFORM milvus._check_window("limit", off);

    -- the query vectors: JSON (text, json, jsonb) or an array of a vector type
    IF pg_typeof(data) IN ('text'::regtype, 'json'::regtype, 'jsonb'::regtype) THEN
        queries := data::text::jsonb;
        IF jsonb_typeof(queries) = 'array' AND jsonb_array_length(queries) > 0
           AND jsonb_typeof(queries -> 0) IN ('number', 'string') AND (sf.f).data_type <> 'BINARY_VECTOR'
           OR jsonb_typeof(queries) = 'object'
           OR jsonb_typeof(queries) = 'array' AND (sf.f).data_type = 'BINARY_VECTOR'
              AND jsonb_typeof(queries -> 0) = 'number' THEN
            queries := jsonb_build_array(queries);      -- one vector
        ELSIF jsonb_typeof(queries) = 'string' AND (sf.f).data_type = 'BINARY_VECTOR' THEN
            queries := jsonb_build_array(queries);
        ELSIF jsonb_typeof(queries) IS DISTINCT FROM 'array' THEN
            RAISE EXCEPTION 'data must be a JSON array of query vectors'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Got %s.', coalesce(milvus._describe_json(queries), 'NULL'));
        END IF;
        nq := jsonb_array_length(queries);
        qexpr := format('ARRAY(SELECT %s FROM jsonb_array_elements($2) WITH ORDINALITY AS d("$v", "$n") ORDER BY d."$n")',
                        milvus._value_sql(sf.f, 'NULLIF(d."$v", ''null'')', 'd."$n" - 1'));
    ELSIF pg_typeof(data)::text IN ('floatvector[]', 'float16vector[]', 'binaryvector[]', 'sparsevector[]',
                                    'floatvector', 'float16vector', 'binaryvector', 'sparsevector')
          OR pg_typeof(data)::text LIKE '%.%vector' OR pg_typeof(data)::text LIKE '%.%vector[]' THEN
        IF pg_typeof(data)::text LIKE '%[]' THEN
            texts := data::text::text[];
        ELSE
            texts := ARRAY[data::text];
        END IF;
        nq := cardinality(texts);
        qexpr := format('$4::%s[]', milvus._sql_type((sf.f).data_type, (sf.f).params));
    ELSE
        RAISE EXCEPTION 'data must be JSON or an array of vectors, not %', pg_typeof(data)
            USING ERRCODE = 'datatype_mismatch';
    END IF;
    IF coalesce(nq, 0) = 0 THEN
        RAISE EXCEPTION 'data holds no query vector' USING ERRCODE = 'invalid_parameter_value';
    ELSIF nq > current_setting('milvus.search_max_nq')::integer THEN
        RAISE EXCEPTION 'too many query vectors: %', nq
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('A search takes at most %s; the setting milvus.search_max_nq sets that.',
                                  current_setting('milvus.search_max_nq', true));
    END IF;

    -- range search: Milvus's ring between radius and range_filter
    radius := milvus._number_param(sp, 'radius');
    range_filter := milvus._number_param(sp, 'range_filter');
    conds := format('t.%I IS NOT NULL', (sf.f).field_name);
    IF radius IS NOT NULL THEN
        conds := conds || format(' AND %s %s %s', m.distance, CASE WHEN m.larger_is_closer THEN '>' ELSE '<' END,
                                 radius);
    END IF;
    IF range_filter IS NOT NULL THEN
        IF radius IS NULL THEN
            RAISE EXCEPTION 'range_filter needs a radius' USING ERRCODE = 'invalid_parameter_value';
        ELSIF m.larger_is_closer AND range_filter <= radius OR NOT m.larger_is_closer AND range_filter >= radius THEN
            RAISE EXCEPTION 'range_filter % does not lie on the near side of radius %', range_filter, radius
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('For %s, %s.', sf.metric,
                                      CASE WHEN m.larger_is_closer THEN 'radius < distance <= range_filter'
                                           ELSE 'range_filter <= distance < radius' END);
        END IF;
        conds := conds || format(' AND %s %s %s', m.distance, CASE WHEN m.larger_is_closer THEN '<=' ELSE '>=' END,
                                 range_filter);
    END IF;

    f := milvus._filter(c, filter, filter_params);
    conds := conds || format(' AND %s AND %s', f.sql, milvus._read_partitions(c, partition_names));

    IF group_by_field IS NULL THEN
        sql := format('SELECT t.%1$I::text AS id, %2$s AS distance, %3$s AS entity, %4$s AS "$o1", 0 AS "$o2"'
                      ' FROM %5$s t WHERE %6$s ORDER BY %4$s LIMIT %7$s OFFSET %8$s',
                      pk.field_name, m.distance, milvus._entity_sql(c, outputs, false), m.ordering,
                      milvus._qualified(c.relid), conds, "limit", off);
    ELSE
        IF c.enable_dynamic_field AND NOT EXISTS (SELECT FROM milvus._fields(c) x WHERE x.field_name = group_by_field) THEN
            -- a key of the dynamic field, grouped by its JSON value
            PERFORM milvus._check_name('field', group_by_field);
            gexpr := format('t."$meta" -> %L', group_by_field);
        ELSE
            g := milvus._field(c, group_by_field);
            gexpr := format('t.%I', g.field_name);
        END IF;
        IF g.data_type NOT IN ('BOOL', 'INT8', 'INT16', 'INT32', 'INT64', 'VARCHAR') THEN
            RAISE EXCEPTION 'cannot group by field "%"', group_by_field
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Field "%s" is %s; grouping takes BOOL, INT8, INT16, INT32, INT64 and VARCHAR fields.',
                                      group_by_field, g.data_type);
        END IF;
        IF gsize < 1 OR gsize > coalesce(current_setting('milvus.search_max_group_size', true), '10')::integer THEN
            RAISE EXCEPTION 'group_size must be between 1 and %', current_setting('milvus.search_max_group_size', true)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('It is %s; the setting milvus.search_max_group_size sets the upper bound.', gsize);
        END IF;
        IF NOT group_by_field = ANY (coalesce(outputs, '{}')) THEN
            outputs := coalesce(outputs, '{}') || group_by_field;
        END IF;
        -- exact: rank every matching row, keep group_size per group and the
        -- groups whose best hit is among the first offset + limit
        sql := format('SELECT x.id, x.distance, x.entity, x."$grank" AS "$o1", x."$r" AS "$o2" FROM ('
                      ' SELECT s.*, dense_rank() OVER (ORDER BY s."$best", s."$g") AS "$grank" FROM ('
                      '  SELECT t.%1$I::text AS id, %2$s AS distance, %3$s AS entity, %4$s AS "$g",'
                      '   row_number() OVER (PARTITION BY %4$s ORDER BY %5$s, t.%1$I) AS "$k",'
                      '   min(%5$s) OVER (PARTITION BY %4$s) AS "$best", %5$s AS "$r"'
                      '  FROM %6$s t WHERE %7$s) s WHERE s."$k" <= %8$s) x'
                      ' WHERE x."$grank" > %9$s AND x."$grank" <= %10$s ORDER BY x."$grank", x."$r"',
                      pk.field_name, m.distance, milvus._entity_sql(c, outputs, false), gexpr,
                      m.ordering, milvus._qualified(c.relid), conds, gsize, off, off + "limit");
    END IF;

    -- HNSW's search breadth, when the index is installed and asked for
    ef := milvus._number_param(sp, 'ef');
    IF ef IS NOT NULL AND current_setting('milvus.hnsw_ef_search', true) IS NOT NULL THEN
        old_ef := current_setting('milvus.hnsw_ef_search');
        PERFORM pg_catalog.set_config('milvus.hnsw_ef_search', greatest(ef, "limit" + off)::text, true);
    END IF;
    RETURN QUERY EXECUTE format('SELECT (q."$i" - 1)::integer, h.id, h.distance, h.entity'
                                ' FROM unnest(%s) WITH ORDINALITY AS q("$q", "$i")'
                                ' CROSS JOIN LATERAL (%s) h ORDER BY q."$i", h."$o1", h."$o2", h.id', qexpr, sql)
        USING f.params, queries, partition_names, texts;
    IF old_ef IS NOT NULL THEN
        PERFORM pg_catalog.set_config('milvus.hnsw_ef_search', old_ef, true);
    END IF;
END
$$;

-- Search: C (src/collection/search.c), which runs the statement the PL/pgSQL
-- above builds as a kept plan, and calls the PL/pgSQL for everything else
CREATE FUNCTION milvus.search(
    collection_name text,
    data anycompatible,
    anns_field text DEFAULT NULL,
    "limit" integer DEFAULT 10,
    "offset" integer DEFAULT NULL,
    filter text DEFAULT '',
    filter_params jsonb DEFAULT NULL,
    output_fields text[] DEFAULT NULL,
    partition_names text[] DEFAULT NULL,
    search_params jsonb DEFAULT NULL,
    group_by_field text DEFAULT NULL,
    group_size integer DEFAULT NULL,
    strict_group_size boolean DEFAULT false)
RETURNS TABLE (query_index integer, id text, distance double precision, entity jsonb)
    AS 'MODULE_PATHNAME', 'milvus_search' LANGUAGE C STABLE;

-- Milvus's hybrid_search: several searches (AnnSearchRequest) fused by a
-- ranker.  RRFRanker(k) scores a hit sum(1 / (k + rank)); WeightedRanker
-- scores it sum(weight * score), each score first mapped to [0, 1] when
-- norm_score is true (arctan for IP and L2, (1 + x) / 2 for COSINE).
CREATE FUNCTION milvus.hybrid_search(
    collection_name text,
    reqs jsonb,
    ranker jsonb DEFAULT '{"strategy": "rrf", "params": {"k": 60}}',
    "limit" integer DEFAULT 10,
    output_fields text[] DEFAULT NULL,
    partition_names text[] DEFAULT NULL)
RETURNS TABLE (query_index integer, id text, distance double precision, entity jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c milvus.collections := milvus._collection(collection_name);
    strategy text := lower(coalesce(ranker ->> 'strategy', ranker ->> 'type'));
    rp jsonb := coalesce(ranker -> 'params', ranker);
    k double precision;
    weights double precision[];
    norm boolean := coalesce((rp ->> 'norm_score')::boolean, true);
    metrics text[] := '{}';
    r jsonb;
BEGIN
    "limit" := milvus._search_limit("limit");
    PERFORM milvus._check_window("limit", 0);
    IF jsonb_typeof(reqs) IS DISTINCT FROM 'array' OR jsonb_array_length(reqs) = 0
       OR jsonb_array_length(reqs) > 1024 THEN
        RAISE EXCEPTION 'reqs must be a JSON array of 1 to 1024 search requests'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A request is {"data": [[...]], "anns_field": "...", "param": {...}, "limit": 10, "expr": "..."}.';
    END IF;
    FOR r IN SELECT value FROM jsonb_array_elements(reqs) LOOP
        metrics := metrics || (milvus._search_field(c, r ->> 'anns_field', coalesce(r -> 'param', '{}'))).metric;
    END LOOP;
    IF strategy = 'rrf' THEN
        k := coalesce((rp ->> 'k')::double precision, 60);
        IF k <= 0 OR k >= 16384 THEN
            RAISE EXCEPTION 'RRFRanker k must be above 0 and below 16384' USING ERRCODE = 'invalid_parameter_value',
                DETAIL = format('It is %s.', k);
        END IF;
    ELSIF strategy = 'weighted' THEN
        weights := ARRAY(SELECT x::double precision FROM jsonb_array_elements_text(rp -> 'weights') x);
        IF cardinality(weights) <> jsonb_array_length(reqs) THEN
            RAISE EXCEPTION 'WeightedRanker needs one weight per request'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('It has %s weights for %s requests.', coalesce(cardinality(weights), 0),
                                      jsonb_array_length(reqs));
        ELSIF EXISTS (SELECT FROM unnest(weights) w WHERE w NOT BETWEEN 0 AND 1) THEN
            RAISE EXCEPTION 'WeightedRanker weights must lie between 0 and 1' USING ERRCODE = 'invalid_parameter_value';
        END IF;
    ELSE
        RAISE EXCEPTION 'unknown ranker %', coalesce(ranker::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Rankers are {"strategy": "rrf", "params": {"k": 60}} and {"strategy": "weighted", "params": {"weights": [...], "norm_score": true}}.';
    END IF;

    RETURN QUERY
    WITH hits AS (
        SELECT r.i, s.query_index, s.id, s.distance, s.entity, s.o AS rank
          FROM jsonb_array_elements(reqs) WITH ORDINALITY AS r(req, i)
         CROSS JOIN LATERAL milvus.search(collection_name, r.req -> 'data', r.req ->> 'anns_field',
                                          coalesce((r.req ->> 'limit')::integer, "limit"), 0,
                                          coalesce(r.req ->> 'expr', r.req ->> 'filter', ''),
                                          coalesce(r.req -> 'expr_params', r.req -> 'filter_params'),
                                          output_fields, partition_names, r.req -> 'param')
                            WITH ORDINALITY AS s(query_index, id, distance, entity, o)),
    ranked AS (
        SELECT h.query_index, h.id, h.entity,
               CASE WHEN strategy = 'rrf' THEN 1.0 / (k + row_number() OVER w)
                    ELSE weights[h.i] * CASE WHEN NOT norm THEN h.distance
                                             WHEN metrics[h.i] = 'COSINE' THEN (1 + h.distance) / 2
                                             WHEN metrics[h.i] = 'IP' THEN 0.5 + atan(h.distance) / pi()
                                             ELSE 1 - 2 * atan(h.distance) / pi() END END AS score
          FROM hits h
        WINDOW w AS (PARTITION BY h.i, h.query_index ORDER BY h.rank)),
    fused AS (
        SELECT x.query_index, x.id, sum(x.score) AS score, (array_agg(x.entity))[1] AS entity,
               row_number() OVER (PARTITION BY x.query_index ORDER BY sum(x.score) DESC, x.id) AS n
          FROM ranked x GROUP BY x.query_index, x.id)
    SELECT y.query_index, y.id, y.score, y.entity FROM fused y WHERE y.n <= "limit"
     ORDER BY y.query_index, y.n;
END
$$;
