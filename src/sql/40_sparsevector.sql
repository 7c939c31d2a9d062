-- sparsevector: index/value pairs, text form '{1:0.5,7:1.5}/1000' (1-based indices)

CREATE TYPE sparsevector;

CREATE FUNCTION sparsevector_in(cstring, oid, integer) RETURNS sparsevector
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevector_out(sparsevector) RETURNS cstring
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevector_typmod_in(cstring[]) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_typmod_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevector_recv(internal, oid, integer) RETURNS sparsevector
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevector_send(sparsevector) RETURNS bytea
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE sparsevector (
    INPUT = sparsevector_in,
    OUTPUT = sparsevector_out,
    TYPMOD_IN = sparsevector_typmod_in,
    TYPMOD_OUT = milvus_vector_typmod_out,
    RECEIVE = sparsevector_recv,
    SEND = sparsevector_send,
    STORAGE = external,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4
);

CREATE FUNCTION sparsevector(sparsevector, integer, boolean) RETURNS sparsevector
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_coerce' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (sparsevector AS sparsevector)
    WITH FUNCTION sparsevector(sparsevector, integer, boolean) AS IMPLICIT;

-- functions

CREATE FUNCTION vector_dims(sparsevector) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_norm(sparsevector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION nnz(sparsevector) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_nnz' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l2_normalize(sparsevector) RETURNS sparsevector
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_l2_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION l2_distance(sparsevector, sparsevector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION l2_squared_distance(sparsevector, sparsevector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_l2_squared_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION inner_product(sparsevector, sparsevector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION negative_inner_product(sparsevector, sparsevector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_negative_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION cosine_distance(sparsevector, sparsevector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION l1_distance(sparsevector, sparsevector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;

-- operators

CREATE OPERATOR <-> (LEFTARG = sparsevector, RIGHTARG = sparsevector,
    FUNCTION = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = sparsevector, RIGHTARG = sparsevector,
    FUNCTION = negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = sparsevector, RIGHTARG = sparsevector,
    FUNCTION = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = sparsevector, RIGHTARG = sparsevector,
    FUNCTION = l1_distance, COMMUTATOR = '<+>');

-- B-tree: equality and ordering, for DISTINCT, GROUP BY, ORDER BY and unique indexes

CREATE FUNCTION sparsevector_lt(sparsevector, sparsevector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevector_le(sparsevector, sparsevector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevector_eq(sparsevector, sparsevector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevector_ne(sparsevector, sparsevector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevector_ge(sparsevector, sparsevector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevector_gt(sparsevector, sparsevector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevector_cmp(sparsevector, sparsevector) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR < (LEFTARG = sparsevector, RIGHTARG = sparsevector, PROCEDURE = sparsevector_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = sparsevector, RIGHTARG = sparsevector, PROCEDURE = sparsevector_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = sparsevector, RIGHTARG = sparsevector, PROCEDURE = sparsevector_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR <> (LEFTARG = sparsevector, RIGHTARG = sparsevector, PROCEDURE = sparsevector_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = sparsevector, RIGHTARG = sparsevector, PROCEDURE = sparsevector_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = sparsevector, RIGHTARG = sparsevector, PROCEDURE = sparsevector_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);

CREATE OPERATOR CLASS sparsevector_ops
    DEFAULT FOR TYPE sparsevector USING btree AS
    OPERATOR 1 <,
    OPERATOR 2 <=,
    OPERATOR 3 =,
    OPERATOR 4 >=,
    OPERATOR 5 >,
    FUNCTION 1 sparsevector_cmp(sparsevector, sparsevector);
