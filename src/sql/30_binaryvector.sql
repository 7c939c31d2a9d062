-- binaryvector: packed bits, dimension a multiple of 8, text form '01011010'

CREATE TYPE binaryvector;

CREATE FUNCTION binaryvector_in(cstring, oid, integer) RETURNS binaryvector
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION binaryvector_out(binaryvector) RETURNS cstring
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION binaryvector_typmod_in(cstring[]) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_typmod_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION binaryvector_recv(internal, oid, integer) RETURNS binaryvector
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION binaryvector_send(binaryvector) RETURNS bytea
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE binaryvector (
    INPUT = binaryvector_in,
    OUTPUT = binaryvector_out,
    TYPMOD_IN = binaryvector_typmod_in,
    TYPMOD_OUT = milvus_vector_typmod_out,
    RECEIVE = binaryvector_recv,
    SEND = binaryvector_send,
    STORAGE = external,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4
);

CREATE FUNCTION binaryvector(binaryvector, integer, boolean) RETURNS binaryvector
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_coerce' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (binaryvector AS binaryvector)
    WITH FUNCTION binaryvector(binaryvector, integer, boolean) AS IMPLICIT;

CREATE FUNCTION vector_dims(binaryvector) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bit_count(binaryvector) RETURNS bigint
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_bit_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION hamming_distance(binaryvector, binaryvector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_hamming_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;
CREATE FUNCTION jaccard_distance(binaryvector, binaryvector) RETURNS float8
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_jaccard_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT milvus_distance_support;

CREATE OPERATOR <~> (LEFTARG = binaryvector, RIGHTARG = binaryvector,
    FUNCTION = hamming_distance, COMMUTATOR = '<~>');
CREATE OPERATOR <%> (LEFTARG = binaryvector, RIGHTARG = binaryvector,
    FUNCTION = jaccard_distance, COMMUTATOR = '<%>');

CREATE FUNCTION binaryvector_lt(binaryvector, binaryvector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION binaryvector_le(binaryvector, binaryvector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION binaryvector_eq(binaryvector, binaryvector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION binaryvector_ne(binaryvector, binaryvector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION binaryvector_ge(binaryvector, binaryvector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION binaryvector_gt(binaryvector, binaryvector) RETURNS bool
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION binaryvector_cmp(binaryvector, binaryvector) RETURNS integer
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR < (LEFTARG = binaryvector, RIGHTARG = binaryvector, PROCEDURE = binaryvector_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = binaryvector, RIGHTARG = binaryvector, PROCEDURE = binaryvector_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = binaryvector, RIGHTARG = binaryvector, PROCEDURE = binaryvector_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR <> (LEFTARG = binaryvector, RIGHTARG = binaryvector, PROCEDURE = binaryvector_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = binaryvector, RIGHTARG = binaryvector, PROCEDURE = binaryvector_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = binaryvector, RIGHTARG = binaryvector, PROCEDURE = binaryvector_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);

CREATE OPERATOR CLASS binaryvector_ops
    DEFAULT FOR TYPE binaryvector USING btree AS
    OPERATOR 1 <,
    OPERATOR 2 <=,
    OPERATOR 3 =,
    OPERATOR 4 >=,
    OPERATOR 5 >,
    FUNCTION 1 binaryvector_cmp(binaryvector, binaryvector);
