-- The collection room's filter compiler (src/collection/filter_*.c): Milvus's
-- filter expressions compiled into parameterized SQL.  milvus.compile_filter
-- is also how the collection API reaches the compiler: milvus._filter
-- (76_collection_data.sql) calls it for query, search and delete.  The first
-- piece to need schema milvus, so it creates it.

CREATE SCHEMA milvus;

-- the condition as SQL text over the collection's columns, and the values it
-- refers to as $1[1], $1[2], ...: run it with EXECUTE ... USING params
CREATE FUNCTION milvus.compile_filter(filter text, schema jsonb, filter_params jsonb DEFAULT '{}')
    RETURNS TABLE (sql text, params text[])
    AS 'MODULE_PATHNAME', 'milvus_compile_filter' LANGUAGE C STABLE PARALLEL SAFE;

-- the expression as parsed, fully parenthesized
CREATE FUNCTION milvus.parse_filter(filter text) RETURNS text
    AS 'MODULE_PATHNAME', 'milvus_parse_filter' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- the bytes parsing and compiling a filter holds at the end (in a memory
-- context of its own), the parse being refused ("out of memory") past
-- max_bytes: for tests
CREATE FUNCTION milvus._filter_memory(filter text, schema jsonb, max_bytes bigint,
                                      filter_params jsonb DEFAULT '{}')
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'milvus_filter_memory' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- a list of values in a compiled filter: the text of an array of the second
-- argument's type, made a constant when the plan is made (filter_api.c)
CREATE FUNCTION milvus._filter_list(list text, element anyelement) RETURNS anyarray
    AS 'MODULE_PATHNAME', 'milvus_filter_list' LANGUAGE C IMMUTABLE PARALLEL SAFE;
