/*
 * floatvector.c
 *		The floatvector type (float32 elements): I/O, typmod, element-wise
 *		arithmetic, norms, distances and B-tree comparison.
 *
 * Distances call the kernel set chosen at load time (distance.h).  Every
 * result is returned as float8; the kernels accumulate in float32 lanes,
 * which is what Milvus and pgvector do as well.
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "milvus/distance.h"
#include "milvus/vector.h"
#include "milvus/vector_common.h"
#include "milvus/vector_parse.h"

#include "dense_functions.h"

PG_FUNCTION_INFO_V1(milvus_floatvector_in);
PG_FUNCTION_INFO_V1(milvus_floatvector_out);
PG_FUNCTION_INFO_V1(milvus_floatvector_typmod_in);
PG_FUNCTION_INFO_V1(milvus_vector_typmod_out);
PG_FUNCTION_INFO_V1(milvus_floatvector_recv);
PG_FUNCTION_INFO_V1(milvus_floatvector_send);
PG_FUNCTION_INFO_V1(milvus_floatvector_coerce);
PG_FUNCTION_INFO_V1(milvus_floatvector_dims);
PG_FUNCTION_INFO_V1(milvus_floatvector_norm);
PG_FUNCTION_INFO_V1(milvus_floatvector_l2_normalize);
PG_FUNCTION_INFO_V1(milvus_floatvector_subvector);

/* Allocate a zeroed floatvector of dim elements */
FloatVector *
MvFloatVectorAlloc(int dim)
{
	Size		size = FLOATVECTOR_SIZE(dim);
	FloatVector *result = (FloatVector *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

Datum
milvus_floatvector_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			bound = Min(MvParseDenseBound(str), MV_DENSE_MAX_DIM);
	float	   *buf = palloc(sizeof(float) * bound);
	MvParseResult parsed;
	FloatVector *result;

	parsed = MvParseDense(str, buf, bound);
	if (parsed.code != MV_PARSE_OK)
		MvReportParseError(MV_FLOATVECTOR, str, &parsed);
	MvCheckTypmod(MV_FLOATVECTOR, parsed.count, typmod);

	result = MvFloatVectorAlloc(parsed.count);
	memcpy(result->x, buf, sizeof(float) * parsed.count);
	pfree(buf);
	PG_RETURN_POINTER(result);
}

Datum
milvus_floatvector_out(PG_FUNCTION_ARGS)
{
	FloatVector *v = PG_GETARG_FLOATVECTOR_P(0);
	StringInfoData buf;

	initStringInfo(&buf);
	enlargeStringInfo(&buf, v->dim * (FLOAT_SHORTEST_DECIMAL_LEN + 1) + 2);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < v->dim; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		MvAppendFloat(&buf, v->x[i]);
	}
	appendStringInfoChar(&buf, ']');
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(buf.data);
}

Datum
milvus_floatvector_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(MvTypmodIn(MV_FLOATVECTOR, PG_GETARG_ARRAYTYPE_P(0)));
}

/* shared by every vector type: the typmod is the dimension */
Datum
milvus_vector_typmod_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(MvTypmodOut(PG_GETARG_INT32(0)));
}

/* Binary input: int32 dim, then dim float4 values, network byte order */
Datum
milvus_floatvector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int32		dim = MvRecvInt32(buf, MV_FLOATVECTOR, "dimension");
	FloatVector *result;

	MvCheckDim(MV_FLOATVECTOR, dim);
	MvCheckTypmod(MV_FLOATVECTOR, dim, typmod);
	if ((Size) (buf->len - buf->cursor) < sizeof(float) * (Size) dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("insufficient data left in message"),
				 errdetail("A floatvector of %d dimensions needs %zu bytes.",
						   dim, sizeof(float) * (Size) dim)));

	result = MvFloatVectorAlloc(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = pq_getmsgfloat4(buf);
		MvCheckElement(MV_FLOATVECTOR, result->x[i]);
	}
	PG_RETURN_POINTER(result);
}

Datum
milvus_floatvector_send(PG_FUNCTION_ARGS)
{
	FloatVector *v = PG_GETARG_FLOATVECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, v->dim);
	for (int i = 0; i < v->dim; i++)
		pq_sendfloat4(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Length coercion: floatvector to floatvector(n) */
Datum
milvus_floatvector_coerce(PG_FUNCTION_ARGS)
{
	FloatVector *v = PG_GETARG_FLOATVECTOR_P(0);

	MvCheckTypmod(MV_FLOATVECTOR, v->dim, PG_GETARG_INT32(1));
	PG_RETURN_POINTER(v);
}

Datum
milvus_floatvector_dims(PG_FUNCTION_ARGS)
{
	FloatVector *v = PG_GETARG_FLOATVECTOR_P(0);

	PG_RETURN_INT32(v->dim);
}

/* Euclidean norm, accumulated in double */
static double
floatvector_norm(const FloatVector *v)
{
	double		sum = 0.0;

	for (int i = 0; i < v->dim; i++)
		sum += (double) v->x[i] * v->x[i];
	return sqrt(sum);
}

Datum
milvus_floatvector_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(floatvector_norm(PG_GETARG_FLOATVECTOR_P(0)));
}

/* Scale to unit length; the zero vector stays zero */
Datum
milvus_floatvector_l2_normalize(PG_FUNCTION_ARGS)
{
	FloatVector *v = PG_GETARG_FLOATVECTOR_P(0);
	double		norm = floatvector_norm(v);
	FloatVector *result = MvFloatVectorAlloc(v->dim);

	if (norm > 0)
		for (int i = 0; i < v->dim; i++)
			result->x[i] = (float) (v->x[i] / norm);
	PG_RETURN_POINTER(result);
}

/* The elements from 1-based position start, count of them, clipped */
Datum
milvus_floatvector_subvector(PG_FUNCTION_ARGS)
{
	FloatVector *v = PG_GETARG_FLOATVECTOR_P(0);
	int64		start;
	int			count;
	FloatVector *result;

	count = MvSubvectorRange(MV_FLOATVECTOR, v->dim, PG_GETARG_INT32(1),
							 PG_GETARG_INT32(2), &start);
	result = MvFloatVectorAlloc(count);
	memcpy(result->x, v->x + start, sizeof(float) * count);
	PG_RETURN_POINTER(result);
}

/* Apply an element-wise operation, refusing overflow to infinity */
static FloatVector *
floatvector_arith(FloatVector *a, FloatVector *b, MvArithOp op)
{
	FloatVector *result;

	MvCheckSameDims(a->dim, b->dim);
	result = MvFloatVectorAlloc(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = MvArith(op, a->x[i], b->x[i]);
	for (int i = 0; i < a->dim; i++)
		if (unlikely(isinf(result->x[i])))
			float_overflow_error();
	return result;
}

MV_DEFINE_DENSE_ARITH(floatvector, PG_GETARG_FLOATVECTOR_P)
MV_DEFINE_DENSE_CONCAT(floatvector, FloatVector, MV_FLOATVECTOR, MvFloatVectorAlloc, PG_GETARG_FLOATVECTOR_P)
MV_DEFINE_DENSE_DISTANCES(floatvector, FloatVector, PG_GETARG_FLOATVECTOR_P, f32)

/* Order by elements, then by dimension (a prefix sorts first) */
static int
floatvector_cmp(FloatVector *a, FloatVector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

MV_DEFINE_CMP_FUNCTIONS(floatvector, FloatVector, PG_GETARG_FLOATVECTOR_P)
