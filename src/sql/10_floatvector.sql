-- floatvector: float32 elements, text form '[1,2,3]'

CREATE TYPE floatvector;

CREATE FUNCTION floatvector_in(cstring, oid, integer) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_out(floatvector) RETURNS cstring
    AS 'MODULE_PATHNAME', 'milvus_floatvector_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_typmod_in(cstring[]) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_floatvector_typmod_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION milvus_vector_typmod_out(integer) RETURNS cstring
    AS 'MODULE_PATHNAME', 'milvus_vector_typmod_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_recv(internal, oid, integer) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_send(floatvector) RETURNS bytea
    AS 'MODULE_PATHNAME', 'milvus_floatvector_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- STORAGE external: float data does not compress, so never try; a table that
-- wants long vectors inline for exact scans sets toast_tuple_target.
CREATE TYPE floatvector (
    INPUT = floatvector_in,
    OUTPUT = floatvector_out,
    TYPMOD_IN = floatvector_typmod_in,
    TYPMOD_OUT = milvus_vector_typmod_out,
    RECEIVE = floatvector_recv,
    SEND = floatvector_send,
    STORAGE = external,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4
);

CREATE FUNCTION floatvector(floatvector, integer, boolean) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_coerce' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (floatvector AS floatvector)
    WITH FUNCTION floatvector(floatvector, integer, boolean) AS IMPLICIT;

-- functions

CREATE FUNCTION vector_dims(floatvector) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_floatvector_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_norm(floatvector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_floatvector_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l2_normalize(floatvector) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_l2_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION subvector(floatvector, integer, integer) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_subvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION l2_distance(floatvector, floatvector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_floatvector_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION l2_squared_distance(floatvector, floatvector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_floatvector_l2_squared_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION inner_product(floatvector, floatvector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_floatvector_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION negative_inner_product(floatvector, floatvector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_floatvector_negative_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION cosine_distance(floatvector, floatvector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_floatvector_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION l1_distance(floatvector, floatvector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_floatvector_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;

CREATE FUNCTION floatvector_add(floatvector, floatvector) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_add' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_sub(floatvector, floatvector) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_sub' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_mul(floatvector, floatvector) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_mul' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_concat(floatvector, floatvector) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_concat' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- operators

CREATE OPERATOR <-> (LEFTARG = floatvector, RIGHTARG = floatvector,
    FUNCTION = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = floatvector, RIGHTARG = floatvector,
    FUNCTION = negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = floatvector, RIGHTARG = floatvector,
    FUNCTION = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = floatvector, RIGHTARG = floatvector,
    FUNCTION = l1_distance, COMMUTATOR = '<+>');

CREATE OPERATOR + (LEFTARG = floatvector, RIGHTARG = floatvector,
    FUNCTION = floatvector_add, COMMUTATOR = +);
CREATE OPERATOR - (LEFTARG = floatvector, RIGHTARG = floatvector,
    FUNCTION = floatvector_sub);
CREATE OPERATOR * (LEFTARG = floatvector, RIGHTARG = floatvector,
    FUNCTION = floatvector_mul, COMMUTATOR = *);
CREATE OPERATOR || (LEFTARG = floatvector, RIGHTARG = floatvector,
    FUNCTION = floatvector_concat);

-- B-tree: equality and ordering, for DISTINCT, GROUP BY, ORDER BY and unique indexes

CREATE FUNCTION floatvector_lt(floatvector, floatvector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_floatvector_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_le(floatvector, floatvector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_floatvector_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_eq(floatvector, floatvector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_floatvector_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_ne(floatvector, floatvector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_floatvector_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_ge(floatvector, floatvector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_floatvector_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_gt(floatvector, floatvector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_floatvector_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION floatvector_cmp(floatvector, floatvector) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_floatvector_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR < (LEFTARG = floatvector, RIGHTARG = floatvector, PROCEDURE = floatvector_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = floatvector, RIGHTARG = floatvector, PROCEDURE = floatvector_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = floatvector, RIGHTARG = floatvector, PROCEDURE = floatvector_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR <> (LEFTARG = floatvector, RIGHTARG = floatvector, PROCEDURE = floatvector_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = floatvector, RIGHTARG = floatvector, PROCEDURE = floatvector_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = floatvector, RIGHTARG = floatvector, PROCEDURE = floatvector_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);

CREATE OPERATOR CLASS floatvector_ops
    DEFAULT FOR TYPE floatvector USING btree AS
    OPERATOR 1 <,
    OPERATOR 2 <=,
    OPERATOR 3 =,
    OPERATOR 4 >=,
    OPERATOR 5 >,
    FUNCTION 1 floatvector_cmp(floatvector, floatvector);
