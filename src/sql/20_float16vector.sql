-- float16vector: IEEE half-precision elements, same text form as floatvector

CREATE TYPE float16vector;

CREATE FUNCTION float16vector_in(cstring, oid, integer) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_out(float16vector) RETURNS cstring
    AS 'MODULE_PATHNAME', 'milvus_float16vector_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_typmod_in(cstring[]) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_float16vector_typmod_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_recv(internal, oid, integer) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_send(float16vector) RETURNS bytea
    AS 'MODULE_PATHNAME', 'milvus_float16vector_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE float16vector (
    INPUT = float16vector_in,
    OUTPUT = float16vector_out,
    TYPMOD_IN = float16vector_typmod_in,
    TYPMOD_OUT = milvus_vector_typmod_out,
    RECEIVE = float16vector_recv,
    SEND = float16vector_send,
    STORAGE = external,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4
);

CREATE FUNCTION float16vector(float16vector, integer, boolean) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_coerce' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (float16vector AS float16vector)
    WITH FUNCTION float16vector(float16vector, integer, boolean) AS IMPLICIT;

-- functions

CREATE FUNCTION vector_dims(float16vector) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_float16vector_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_norm(float16vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_float16vector_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l2_normalize(float16vector) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_l2_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION subvector(float16vector, integer, integer) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_subvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION l2_distance(float16vector, float16vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_float16vector_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION l2_squared_distance(float16vector, float16vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_float16vector_l2_squared_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION inner_product(float16vector, float16vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_float16vector_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION negative_inner_product(float16vector, float16vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_float16vector_negative_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION cosine_distance(float16vector, float16vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_float16vector_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION l1_distance(float16vector, float16vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_float16vector_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;

CREATE FUNCTION float16vector_add(float16vector, float16vector) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_add' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_sub(float16vector, float16vector) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_sub' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_mul(float16vector, float16vector) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_mul' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_concat(float16vector, float16vector) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_concat' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- operators

CREATE OPERATOR <-> (LEFTARG = float16vector, RIGHTARG = float16vector,
    FUNCTION = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = float16vector, RIGHTARG = float16vector,
    FUNCTION = negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = float16vector, RIGHTARG = float16vector,
    FUNCTION = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = float16vector, RIGHTARG = float16vector,
    FUNCTION = l1_distance, COMMUTATOR = '<+>');

CREATE OPERATOR + (LEFTARG = float16vector, RIGHTARG = float16vector,
    FUNCTION = float16vector_add, COMMUTATOR = +);
CREATE OPERATOR - (LEFTARG = float16vector, RIGHTARG = float16vector,
    FUNCTION = float16vector_sub);
CREATE OPERATOR * (LEFTARG = float16vector, RIGHTARG = float16vector,
    FUNCTION = float16vector_mul, COMMUTATOR = *);
CREATE OPERATOR || (LEFTARG = float16vector, RIGHTARG = float16vector,
    FUNCTION = float16vector_concat);

-- B-tree: equality and ordering, for DISTINCT, GROUP BY, ORDER BY and unique indexes

CREATE FUNCTION float16vector_lt(float16vector, float16vector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_float16vector_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_le(float16vector, float16vector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_float16vector_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_eq(float16vector, float16vector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_float16vector_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_ne(float16vector, float16vector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_float16vector_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_ge(float16vector, float16vector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_float16vector_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_gt(float16vector, float16vector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_float16vector_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION float16vector_cmp(float16vector, float16vector) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_float16vector_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR < (LEFTARG = float16vector, RIGHTARG = float16vector, PROCEDURE = float16vector_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = float16vector, RIGHTARG = float16vector, PROCEDURE = float16vector_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = float16vector, RIGHTARG = float16vector, PROCEDURE = float16vector_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR <> (LEFTARG = float16vector, RIGHTARG = float16vector, PROCEDURE = float16vector_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = float16vector, RIGHTARG = float16vector, PROCEDURE = float16vector_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = float16vector, RIGHTARG = float16vector, PROCEDURE = float16vector_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);

CREATE OPERATOR CLASS float16vector_ops
    DEFAULT FOR TYPE float16vector USING btree AS
    OPERATOR 1 <,
    OPERATOR 2 <=,
    OPERATOR 3 =,
    OPERATOR 4 >=,
    OPERATOR 5 >,
    FUNCTION 1 float16vector_cmp(float16vector, float16vector);
