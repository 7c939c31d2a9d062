-- milvus_hnsw: the HNSW graph index (approximate nearest neighbours by ORDER BY ... LIMIT)

CREATE FUNCTION milvus_hnsw_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME', 'milvus_hnsw_handler' LANGUAGE C;

CREATE ACCESS METHOD milvus_hnsw TYPE INDEX HANDLER milvus_hnsw_handler;
COMMENT ON ACCESS METHOD milvus_hnsw IS 'HNSW graph index for approximate nearest-neighbour search';

-- Support function 1 is the distance the graph is built on: L2 uses the
-- squared distance, which orders rows as <-> does without the square root.

CREATE OPERATOR CLASS floatvector_l2_ops
    FOR TYPE floatvector USING milvus_hnsw AS
    OPERATOR 1 <-> (floatvector, floatvector) FOR ORDER BY float_ops,
    FUNCTION 1 l2_squared_distance(floatvector, floatvector);

CREATE OPERATOR CLASS floatvector_ip_ops
    FOR TYPE floatvector USING milvus_hnsw AS
    OPERATOR 1 <#> (floatvector, floatvector) FOR ORDER BY float_ops,
    FUNCTION 1 negative_inner_product(floatvector, floatvector);

CREATE OPERATOR CLASS floatvector_cosine_ops
    FOR TYPE floatvector USING milvus_hnsw AS
    OPERATOR 1 <=> (floatvector, floatvector) FOR ORDER BY float_ops,
    FUNCTION 1 cosine_distance(floatvector, floatvector);

CREATE OPERATOR CLASS float16vector_l2_ops
    FOR TYPE float16vector USING milvus_hnsw AS
    OPERATOR 1 <-> (float16vector, float16vector) FOR ORDER BY float_ops,
    FUNCTION 1 l2_squared_distance(float16vector, float16vector);

CREATE OPERATOR CLASS float16vector_ip_ops
    FOR TYPE float16vector USING milvus_hnsw AS
    OPERATOR 1 <#> (float16vector, float16vector) FOR ORDER BY float_ops,
    FUNCTION 1 negative_inner_product(float16vector, float16vector);

CREATE OPERATOR CLASS float16vector_cosine_ops
    FOR TYPE float16vector USING milvus_hnsw AS
    OPERATOR 1 <=> (float16vector, float16vector) FOR ORDER BY float_ops,
    FUNCTION 1 cosine_distance(float16vector, float16vector);

CREATE OPERATOR CLASS binaryvector_hamming_ops
    FOR TYPE binaryvector USING milvus_hnsw AS
    OPERATOR 1 <~> (binaryvector, binaryvector) FOR ORDER BY float_ops,
    FUNCTION 1 hamming_distance(binaryvector, binaryvector);

CREATE OPERATOR CLASS binaryvector_jaccard_ops
    FOR TYPE binaryvector USING milvus_hnsw AS
    OPERATOR 1 <%> (binaryvector, binaryvector) FOR ORDER BY float_ops,
    FUNCTION 1 jaccard_distance(binaryvector, binaryvector);

-- Walk an index and list every broken invariant; no rows means clean.  With
-- reachability, also the live elements a walk of layer 0 does not reach.
CREATE FUNCTION milvus_hnsw_verify(index regclass, reachability boolean DEFAULT false)
    RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'milvus_hnsw_verify' LANGUAGE C STRICT;

-- What an index holds: pages, elements, tombstones among them (free slots
-- included), heap TIDs (rows), the entry point's level (-1 when empty), how
-- it was built, the free slots vacuum left for inserts to reuse, and how many
-- slots inserts have reused since the index was built.
CREATE FUNCTION milvus_hnsw_stats(index regclass,
    OUT pages bigint, OUT elements bigint, OUT tombstones bigint, OUT heap_tids bigint,
    OUT entry_level integer, OUT m integer, OUT ef_construction integer, OUT dimensions integer,
    OUT free_slots bigint, OUT reused bigint)
    AS 'MODULE_PATHNAME', 'milvus_hnsw_stats' LANGUAGE C STRICT;
