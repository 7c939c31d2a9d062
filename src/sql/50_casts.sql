-- casts between the vector types, SQL arrays and bit strings; binary_quantize()

-- floatvector <-> arrays
CREATE FUNCTION array_to_floatvector(real[], integer, boolean) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_array_to_floatvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (real[] AS floatvector) WITH FUNCTION array_to_floatvector(real[], integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION floatvector_to_real_array(floatvector) RETURNS real[]
    AS 'MODULE_PATHNAME', 'milvus_floatvector_to_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (floatvector AS real[]) WITH FUNCTION floatvector_to_real_array(floatvector) AS ASSIGNMENT;
CREATE FUNCTION array_to_floatvector(double precision[], integer, boolean) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_array_to_floatvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (double precision[] AS floatvector) WITH FUNCTION array_to_floatvector(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION floatvector_to_double_array(floatvector) RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'milvus_floatvector_to_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (floatvector AS double precision[]) WITH FUNCTION floatvector_to_double_array(floatvector) AS ASSIGNMENT;
CREATE FUNCTION array_to_floatvector(integer[], integer, boolean) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_array_to_floatvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (integer[] AS floatvector) WITH FUNCTION array_to_floatvector(integer[], integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION floatvector_to_integer_array(floatvector) RETURNS integer[]
    AS 'MODULE_PATHNAME', 'milvus_floatvector_to_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (floatvector AS integer[]) WITH FUNCTION floatvector_to_integer_array(floatvector) AS ASSIGNMENT;
CREATE FUNCTION array_to_floatvector(numeric[], integer, boolean) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_array_to_floatvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (numeric[] AS floatvector) WITH FUNCTION array_to_floatvector(numeric[], integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION floatvector_to_numeric_array(floatvector) RETURNS numeric[]
    AS 'MODULE_PATHNAME', 'milvus_floatvector_to_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (floatvector AS numeric[]) WITH FUNCTION floatvector_to_numeric_array(floatvector) AS ASSIGNMENT;

-- float16vector <-> arrays
CREATE FUNCTION array_to_float16vector(real[], integer, boolean) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_array_to_float16vector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (real[] AS float16vector) WITH FUNCTION array_to_float16vector(real[], integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION float16vector_to_real_array(float16vector) RETURNS real[]
    AS 'MODULE_PATHNAME', 'milvus_float16vector_to_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (float16vector AS real[]) WITH FUNCTION float16vector_to_real_array(float16vector) AS ASSIGNMENT;
CREATE FUNCTION array_to_float16vector(double precision[], integer, boolean) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_array_to_float16vector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (double precision[] AS float16vector) WITH FUNCTION array_to_float16vector(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION float16vector_to_double_array(float16vector) RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'milvus_float16vector_to_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (float16vector AS double precision[]) WITH FUNCTION float16vector_to_double_array(float16vector) AS ASSIGNMENT;
CREATE FUNCTION array_to_float16vector(integer[], integer, boolean) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_array_to_float16vector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (integer[] AS float16vector) WITH FUNCTION array_to_float16vector(integer[], integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION float16vector_to_integer_array(float16vector) RETURNS integer[]
    AS 'MODULE_PATHNAME', 'milvus_float16vector_to_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (float16vector AS integer[]) WITH FUNCTION float16vector_to_integer_array(float16vector) AS ASSIGNMENT;
CREATE FUNCTION array_to_float16vector(numeric[], integer, boolean) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_array_to_float16vector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (numeric[] AS float16vector) WITH FUNCTION array_to_float16vector(numeric[], integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION float16vector_to_numeric_array(float16vector) RETURNS numeric[]
    AS 'MODULE_PATHNAME', 'milvus_float16vector_to_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (float16vector AS numeric[]) WITH FUNCTION float16vector_to_numeric_array(float16vector) AS ASSIGNMENT;

-- between vector types
CREATE FUNCTION floatvector_to_float16vector(floatvector, integer, boolean) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_to_float16vector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (floatvector AS float16vector) WITH FUNCTION floatvector_to_float16vector(floatvector, integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION float16vector_to_floatvector(float16vector, integer, boolean) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_to_floatvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (float16vector AS floatvector) WITH FUNCTION float16vector_to_floatvector(float16vector, integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION floatvector_to_sparsevector(floatvector, integer, boolean) RETURNS sparsevector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_to_sparsevector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (floatvector AS sparsevector) WITH FUNCTION floatvector_to_sparsevector(floatvector, integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION float16vector_to_sparsevector(float16vector, integer, boolean) RETURNS sparsevector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_to_sparsevector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (float16vector AS sparsevector) WITH FUNCTION float16vector_to_sparsevector(float16vector, integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION sparsevector_to_floatvector(sparsevector, integer, boolean) RETURNS floatvector
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_to_floatvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (sparsevector AS floatvector) WITH FUNCTION sparsevector_to_floatvector(sparsevector, integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION sparsevector_to_float16vector(sparsevector, integer, boolean) RETURNS float16vector
    AS 'MODULE_PATHNAME', 'milvus_sparsevector_to_float16vector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (sparsevector AS float16vector) WITH FUNCTION sparsevector_to_float16vector(sparsevector, integer, boolean) AS ASSIGNMENT;

-- binaryvector <-> bit strings (same packed layout)
CREATE FUNCTION varbit_to_binaryvector(bit varying, integer, boolean) RETURNS binaryvector
    AS 'MODULE_PATHNAME', 'milvus_varbit_to_binaryvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (bit varying AS binaryvector)
    WITH FUNCTION varbit_to_binaryvector(bit varying, integer, boolean) AS ASSIGNMENT;
CREATE CAST (bit AS binaryvector)
    WITH FUNCTION varbit_to_binaryvector(bit varying, integer, boolean) AS ASSIGNMENT;
CREATE FUNCTION binaryvector_to_varbit(binaryvector) RETURNS bit varying
    AS 'MODULE_PATHNAME', 'milvus_binaryvector_to_varbit' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (binaryvector AS bit varying)
    WITH FUNCTION binaryvector_to_varbit(binaryvector) AS ASSIGNMENT;

-- one bit per element: 1 where the element is positive
CREATE FUNCTION binary_quantize(floatvector) RETURNS binaryvector
    AS 'MODULE_PATHNAME', 'milvus_floatvector_binary_quantize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION binary_quantize(float16vector) RETURNS binaryvector
    AS 'MODULE_PATHNAME', 'milvus_float16vector_binary_quantize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
