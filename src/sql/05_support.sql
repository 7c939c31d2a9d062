-- planner support: prices a distance call by the size of its vectors

CREATE FUNCTION milvus_distance_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'milvus_distance_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
