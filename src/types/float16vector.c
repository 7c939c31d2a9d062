/*
 * float16vector.c
 *		The float16vector type (IEEE binary16 elements): I/O, typmod,
 *		element-wise arithmetic, norms, distances and B-tree comparison.
 *
 * Elements are stored as binary16 bit patterns and read as float32 (every
 * half is exactly a float).  Input rounds to nearest even; a finite input of
 * magnitude 65520 or more would round to infinity and is refused.
 * Arithmetic runs in float32 and rounds once on the way back.
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "milvus/distance.h"
#include "milvus/half.h"
#include "milvus/vector.h"
#include "milvus/vector_common.h"
#include "milvus/vector_parse.h"

#include "dense_functions.h"

PG_FUNCTION_INFO_V1(milvus_float16vector_in);
PG_FUNCTION_INFO_V1(milvus_float16vector_out);
PG_FUNCTION_INFO_V1(milvus_float16vector_typmod_in);
PG_FUNCTION_INFO_V1(milvus_float16vector_recv);
PG_FUNCTION_INFO_V1(milvus_float16vector_send);
PG_FUNCTION_INFO_V1(milvus_float16vector_coerce);
PG_FUNCTION_INFO_V1(milvus_float16vector_dims);
PG_FUNCTION_INFO_V1(milvus_float16vector_norm);
PG_FUNCTION_INFO_V1(milvus_float16vector_l2_normalize);
PG_FUNCTION_INFO_V1(milvus_float16vector_subvector);

/* Allocate a zeroed float16vector of dim elements */
Float16Vector *
MvFloat16VectorAlloc(int dim)
{
	Size		size = FLOAT16VECTOR_SIZE(dim);
	Float16Vector *result = (Float16Vector *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

/* Round a float to half, refusing NaN, infinity and what overflows */
uint16
MvFloatToHalfChecked(float value)
{
	uint16		h;

	MvCheckElement(MV_FLOAT16VECTOR, value);
	h = MvFloatToHalf(value);
	if (unlikely(MvHalfIsInf(h)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range for type float16vector"),
				 errdetail("%g is outside the half-precision range of -65504 to 65504.",
						   (double) value)));
	return h;
}

Datum
milvus_float16vector_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			bound = Min(MvParseDenseBound(str), MV_DENSE_MAX_DIM);
	float	   *buf = palloc(sizeof(float) * bound);
	MvParseResult parsed;
	Float16Vector *result;

	parsed = MvParseDense(str, buf, bound);
	if (parsed.code != MV_PARSE_OK)
		MvReportParseError(MV_FLOAT16VECTOR, str, &parsed);
	MvCheckTypmod(MV_FLOAT16VECTOR, parsed.count, typmod);

	result = MvFloat16VectorAlloc(parsed.count);
	for (int i = 0; i < parsed.count; i++)
		result->x[i] = MvFloatToHalfChecked(buf[i]);
	pfree(buf);
	PG_RETURN_POINTER(result);
}

Datum
milvus_float16vector_out(PG_FUNCTION_ARGS)
{
	Float16Vector *v = PG_GETARG_FLOAT16VECTOR_P(0);
	StringInfoData buf;

	initStringInfo(&buf);
	enlargeStringInfo(&buf, v->dim * (FLOAT_SHORTEST_DECIMAL_LEN + 1) + 2);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < v->dim; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		MvAppendFloat(&buf, MvHalfToFloat(v->x[i]));
	}
	appendStringInfoChar(&buf, ']');
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(buf.data);
}

Datum
milvus_float16vector_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(MvTypmodIn(MV_FLOAT16VECTOR, PG_GETARG_ARRAYTYPE_P(0)));
}

/* Binary input: int32 dim, then dim uint16 half bit patterns, network order */
Datum
milvus_float16vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int32		dim = MvRecvInt32(buf, MV_FLOAT16VECTOR, "dimension");
	Float16Vector *result;

	MvCheckDim(MV_FLOAT16VECTOR, dim);
	MvCheckTypmod(MV_FLOAT16VECTOR, dim, typmod);
	if ((Size) (buf->len - buf->cursor) < sizeof(uint16) * (Size) dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("insufficient data left in message"),
				 errdetail("A float16vector of %d dimensions needs %zu bytes.",
						   dim, sizeof(uint16) * (Size) dim)));

	result = MvFloat16VectorAlloc(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = (uint16) pq_getmsgint(buf, sizeof(uint16));
		MvCheckElement(MV_FLOAT16VECTOR, MvHalfToFloat(result->x[i]));
	}
	PG_RETURN_POINTER(result);
}

Datum
milvus_float16vector_send(PG_FUNCTION_ARGS)
{
	Float16Vector *v = PG_GETARG_FLOAT16VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, v->dim);
	for (int i = 0; i < v->dim; i++)
		pq_sendint16(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Length coercion: float16vector to float16vector(n) */
Datum
milvus_float16vector_coerce(PG_FUNCTION_ARGS)
{
	Float16Vector *v = PG_GETARG_FLOAT16VECTOR_P(0);

	MvCheckTypmod(MV_FLOAT16VECTOR, v->dim, PG_GETARG_INT32(1));
	PG_RETURN_POINTER(v);
}

Datum
milvus_float16vector_dims(PG_FUNCTION_ARGS)
{
	Float16Vector *v = PG_GETARG_FLOAT16VECTOR_P(0);

	PG_RETURN_INT32(v->dim);
}

/* Euclidean norm, accumulated in double */
static double
float16vector_norm(const Float16Vector *v)
{
	double		sum = 0.0;

	for (int i = 0; i < v->dim; i++)
	{
		double		x = MvHalfToFloat(v->x[i]);

		sum += x * x;
	}
	return sqrt(sum);
}

Datum
milvus_float16vector_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(float16vector_norm(PG_GETARG_FLOAT16VECTOR_P(0)));
}

/* Scale to unit length; the zero vector stays zero */
Datum
milvus_float16vector_l2_normalize(PG_FUNCTION_ARGS)
{
	Float16Vector *v = PG_GETARG_FLOAT16VECTOR_P(0);
	double		norm = float16vector_norm(v);
	Float16Vector *result = MvFloat16VectorAlloc(v->dim);

	if (norm > 0)
		for (int i = 0; i < v->dim; i++)
			result->x[i] = MvFloatToHalf((float) (MvHalfToFloat(v->x[i]) / norm));
	PG_RETURN_POINTER(result);
}

/* The elements from 1-based position start, count of them, clipped */
Datum
milvus_float16vector_subvector(PG_FUNCTION_ARGS)
{
	Float16Vector *v = PG_GETARG_FLOAT16VECTOR_P(0);
	int64		start;
	int			count;
	Float16Vector *result;

	count = MvSubvectorRange(MV_FLOAT16VECTOR, v->dim, PG_GETARG_INT32(1),
							 PG_GETARG_INT32(2), &start);
	result = MvFloat16VectorAlloc(count);
	memcpy(result->x, v->x + start, sizeof(uint16) * count);
	PG_RETURN_POINTER(result);
}

/* Apply an element-wise operation in float32, refusing overflow */
static Float16Vector *
float16vector_arith(Float16Vector *a, Float16Vector *b, MvArithOp op)
{
	Float16Vector *result;

	MvCheckSameDims(a->dim, b->dim);
	result = MvFloat16VectorAlloc(a->dim);
	for (int i = 0; i < a->dim; i++)
	{
		float		x = MvHalfToFloat(a->x[i]);
		float		y = MvHalfToFloat(b->x[i]);
		float		r = MvArith(op, x, y);

		result->x[i] = MvFloatToHalf(r);
		if (unlikely(MvHalfIsInf(result->x[i])))
			float_overflow_error();
	}
	return result;
}

MV_DEFINE_DENSE_ARITH(float16vector, PG_GETARG_FLOAT16VECTOR_P)
MV_DEFINE_DENSE_CONCAT(float16vector, Float16Vector, MV_FLOAT16VECTOR, MvFloat16VectorAlloc, PG_GETARG_FLOAT16VECTOR_P)
MV_DEFINE_DENSE_DISTANCES(float16vector, Float16Vector, PG_GETARG_FLOAT16VECTOR_P, f16)

/* Order by element values, then by dimension */
static int
float16vector_cmp(Float16Vector *a, Float16Vector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		float		x = MvHalfToFloat(a->x[i]);
		float		y = MvHalfToFloat(b->x[i]);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

MV_DEFINE_CMP_FUNCTIONS(float16vector, Float16Vector, PG_GETARG_FLOAT16VECTOR_P)
