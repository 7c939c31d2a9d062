-- avg() and sum() over dense vectors; the state is float8[] {count, sums...}

CREATE FUNCTION floatvector_accum(double precision[], floatvector) RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'milvus_floatvector_accum' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_accum(double precision[], float16vector) RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'milvus_float16vector_accum' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION milvus_vector_combine(double precision[], double precision[]) RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'milvus_vector_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_avg(double precision[]) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_avg' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_sum(double precision[]) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_sum' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_avg(double precision[]) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_avg' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_sum(double precision[]) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_sum' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE avg(floatvector) (
    SFUNC = floatvector_accum, STYPE = double precision[], FINALFUNC = floatvector_avg,
    COMBINEFUNC = milvus_vector_combine, INITCOND = '{0}', PARALLEL = SAFE);
CREATE AGGREGATE sum(floatvector) (
    SFUNC = floatvector_accum, STYPE = double precision[], FINALFUNC = floatvector_sum,
    COMBINEFUNC = milvus_vector_combine, INITCOND = '{0}', PARALLEL = SAFE);
CREATE AGGREGATE avg(float16vector) (
    SFUNC = float16vector_accum, STYPE = double precision[], FINALFUNC = float16vector_avg,
    COMBINEFUNC = milvus_vector_combine, INITCOND = '{0}', PARALLEL = SAFE);
CREATE AGGREGATE sum(float16vector) (
    SFUNC = float16vector_accum, STYPE = double precision[], FINALFUNC = float16vector_sum,
    COMBINEFUNC = milvus_vector_combine, INITCOND = '{0}', PARALLEL = SAFE);
