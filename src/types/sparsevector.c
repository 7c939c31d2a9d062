/*
 * sparsevector.c
 *		The sparsevector type: I/O, typmod, norms, distances and B-tree
 *		comparison.
 *
 * Text form is '{i:v, ...}/dim' with 1-based indices in strictly increasing
 * order (as pgvector's sparsevec); zeros are dropped on input.  Stored
 * indices are 0-based.  Distances merge the two sorted index lists and
 * accumulate in double.
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

#include "milvus/vector.h"
#include "milvus/vector_common.h"
#include "milvus/vector_parse.h"

PG_FUNCTION_INFO_V1(milvus_sparsevector_in);
PG_FUNCTION_INFO_V1(milvus_sparsevector_out);
PG_FUNCTION_INFO_V1(milvus_sparsevector_typmod_in);
PG_FUNCTION_INFO_V1(milvus_sparsevector_recv);
PG_FUNCTION_INFO_V1(milvus_sparsevector_send);
PG_FUNCTION_INFO_V1(milvus_sparsevector_coerce);
PG_FUNCTION_INFO_V1(milvus_sparsevector_dims);
PG_FUNCTION_INFO_V1(milvus_sparsevector_nnz);
PG_FUNCTION_INFO_V1(milvus_sparsevector_norm);
PG_FUNCTION_INFO_V1(milvus_sparsevector_l2_normalize);
PG_FUNCTION_INFO_V1(milvus_sparsevector_l2_distance);
PG_FUNCTION_INFO_V1(milvus_sparsevector_l2_squared_distance);
PG_FUNCTION_INFO_V1(milvus_sparsevector_inner_product);
PG_FUNCTION_INFO_V1(milvus_sparsevector_negative_inner_product);
PG_FUNCTION_INFO_V1(milvus_sparsevector_cosine_distance);
PG_FUNCTION_INFO_V1(milvus_sparsevector_l1_distance);

/* Allocate a sparsevector of dimension dim with room for nnz entries */
SparseVector *
MvSparseVectorAlloc(int dim, int nnz)
{
	Size		size = SPARSEVECTOR_SIZE(nnz);
	SparseVector *result = (SparseVector *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	result->nnz = nnz;
	return result;
}

Datum
milvus_sparsevector_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			bound = Min(MvParseSparseBound(str), MV_SPARSE_MAX_NNZ);
	int32	   *indices = palloc(sizeof(int32) * bound);
	float	   *values = palloc(sizeof(float) * bound);
	MvParseResult parsed;
	SparseVector *result;

	parsed = MvParseSparse(str, indices, values, bound, MV_SPARSE_MAX_DIM);
	if (parsed.code != MV_PARSE_OK)
		MvReportParseError(MV_SPARSEVECTOR, str, &parsed);
	MvCheckTypmod(MV_SPARSEVECTOR, parsed.dim, typmod);

	result = MvSparseVectorAlloc(parsed.dim, parsed.count);
	memcpy(result->indices, indices, sizeof(int32) * parsed.count);
	memcpy(SPARSEVECTOR_VALUES(result), values, sizeof(float) * parsed.count);
	pfree(indices);
	pfree(values);
	PG_RETURN_POINTER(result);
}

Datum
milvus_sparsevector_out(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVECTOR_P(0);
	float	   *values = SPARSEVECTOR_VALUES(v);
	StringInfoData buf;

	initStringInfo(&buf);
	enlargeStringInfo(&buf, v->nnz * (FLOAT_SHORTEST_DECIMAL_LEN + 12) + 16);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < v->nnz; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfo(&buf, "%d:", v->indices[i] + 1);
		MvAppendFloat(&buf, values[i]);
	}
	appendStringInfo(&buf, "}/%d", v->dim);
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(buf.data);
}

Datum
milvus_sparsevector_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(MvTypmodIn(MV_SPARSEVECTOR, PG_GETARG_ARRAYTYPE_P(0)));
}

/*
 * Binary input: int32 dim, int32 nnz, nnz int32 0-based indices, nnz float4
 * values, network byte order.  Checked as strictly as the text form.
 */
Datum
milvus_sparsevector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int32		dim = MvRecvInt32(buf, MV_SPARSEVECTOR, "dimension");
	int32		nnz = MvRecvInt32(buf, MV_SPARSEVECTOR, "number of non-zero elements");
	SparseVector *result;
	float	   *values;
	int			kept = 0;

	MvCheckDim(MV_SPARSEVECTOR, dim);
	MvCheckTypmod(MV_SPARSEVECTOR, dim, typmod);
	if (nnz < 0 || nnz > MV_SPARSE_MAX_NNZ || nnz > dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid number of non-zero elements %d in sparsevector", nnz),
				 errdetail("It must be between 0 and the smaller of the dimension and %d.",
						   MV_SPARSE_MAX_NNZ)));
	if ((Size) (buf->len - buf->cursor) < (sizeof(int32) + sizeof(float)) * (Size) nnz)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("insufficient data left in message"),
				 errdetail("A sparsevector of %d non-zero elements needs %zu bytes after its header.",
						   nnz, (sizeof(int32) + sizeof(float)) * (Size) nnz)));

	result = MvSparseVectorAlloc(dim, nnz);
	values = SPARSEVECTOR_VALUES(result);
	for (int i = 0; i < nnz; i++)
	{
		result->indices[i] = pq_getmsgint(buf, sizeof(int32));
		if (result->indices[i] < 0 || result->indices[i] >= dim)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevector index out of bounds"),
					 errdetail("0-based index %d is not below the dimension %d.",
							   result->indices[i], dim)));
		if (i > 0 && result->indices[i] == result->indices[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevector indices must not contain duplicates")));
		if (i > 0 && result->indices[i] < result->indices[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevector indices must be in ascending order")));
	}
	for (int i = 0; i < nnz; i++)
	{
		float		v = pq_getmsgfloat4(buf);

		MvCheckElement(MV_SPARSEVECTOR, v);
		if (v != 0.0f)
		{
			result->indices[kept] = result->indices[i];
			values[kept] = v;
			kept++;
		}
	}
	if (kept < nnz)
	{
		/* zeros were dropped: move the values next to the shorter index list */
		memmove(result->indices + kept, values, sizeof(float) * kept);
		result->nnz = kept;
		SET_VARSIZE(result, SPARSEVECTOR_SIZE(kept));
	}
	PG_RETURN_POINTER(result);
}

Datum
milvus_sparsevector_send(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVECTOR_P(0);
	float	   *values = SPARSEVECTOR_VALUES(v);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, v->dim);
	pq_sendint32(&buf, v->nnz);
	for (int i = 0; i < v->nnz; i++)
		pq_sendint32(&buf, v->indices[i]);
	for (int i = 0; i < v->nnz; i++)
		pq_sendfloat4(&buf, values[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Length coercion: sparsevector to sparsevector(n) */
Datum
milvus_sparsevector_coerce(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVECTOR_P(0);

	MvCheckTypmod(MV_SPARSEVECTOR, v->dim, PG_GETARG_INT32(1));
	PG_RETURN_POINTER(v);
}

Datum
milvus_sparsevector_dims(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVECTOR_P(0);

	PG_RETURN_INT32(v->dim);
}

Datum
milvus_sparsevector_nnz(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVECTOR_P(0);

	PG_RETURN_INT32(v->nnz);
}

static double
sparsevector_norm(const SparseVector *v)
{
	const float *values = SPARSEVECTOR_VALUES(v);
	double		sum = 0.0;

	for (int i = 0; i < v->nnz; i++)
		sum += (double) values[i] * values[i];
	return sqrt(sum);
}

Datum
milvus_sparsevector_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(sparsevector_norm(PG_GETARG_SPARSEVECTOR_P(0)));
}

/*
 * Scale to unit length.  Elements that underflow to zero are dropped so the
 * result stays canonical.
 */
Datum
milvus_sparsevector_l2_normalize(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVECTOR_P(0);
	double		norm = sparsevector_norm(v);
	const float *values = SPARSEVECTOR_VALUES(v);
	SparseVector *result;
	float	   *out;
	int			kept = 0;

	if (norm == 0.0)
		PG_RETURN_POINTER(MvSparseVectorAlloc(v->dim, 0));

	result = MvSparseVectorAlloc(v->dim, v->nnz);
	out = SPARSEVECTOR_VALUES(result);
	for (int i = 0; i < v->nnz; i++)
	{
		float		x = (float) (values[i] / norm);

		if (x != 0.0f)
		{
			result->indices[kept] = v->indices[i];
			out[kept++] = x;
		}
	}
	if (kept < v->nnz)
	{
		memmove(result->indices + kept, out, sizeof(float) * kept);
		result->nnz = kept;
		SET_VARSIZE(result, SPARSEVECTOR_SIZE(kept));
	}
	PG_RETURN_POINTER(result);
}

/* Sums a single merge pass over two sparse vectors can produce */
typedef struct SparseSums
{
	double		ab;				/* inner product */
	double		aa;				/* |a|^2 */
	double		bb;				/* |b|^2 */
	double		l2sq;			/* sum of (a - b)^2 */
	double		l1;				/* sum of |a - b| */
} SparseSums;

/* Walk both sorted index lists once, accumulating every sum */
static SparseSums
sparsevector_sums(const SparseVector *a, const SparseVector *b)
{
	const float *av = SPARSEVECTOR_VALUES(a);
	const float *bv = SPARSEVECTOR_VALUES(b);
	SparseSums	s = {0, 0, 0, 0, 0};
	int			i = 0,
				j = 0;

	MvCheckSameDims(a->dim, b->dim);
	while (i < a->nnz || j < b->nnz)
	{
		double		x = 0.0,
					y = 0.0;

		if (j >= b->nnz || (i < a->nnz && a->indices[i] < b->indices[j]))
			x = av[i++];
		else if (i >= a->nnz || b->indices[j] < a->indices[i])
			y = bv[j++];
		else
		{
			x = av[i++];
			y = bv[j++];
		}
		s.ab += x * y;
		s.aa += x * x;
		s.bb += y * y;
		s.l2sq += (x - y) * (x - y);
		s.l1 += fabs(x - y);
	}
	return s;
}

#define SPARSE_SUMS() \
	sparsevector_sums(PG_GETARG_SPARSEVECTOR_P(0), PG_GETARG_SPARSEVECTOR_P(1))

Datum
milvus_sparsevector_l2_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(sqrt(SPARSE_SUMS().l2sq));
}

Datum
milvus_sparsevector_l2_squared_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(SPARSE_SUMS().l2sq);
}

Datum
milvus_sparsevector_inner_product(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(SPARSE_SUMS().ab);
}

Datum
milvus_sparsevector_negative_inner_product(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(-SPARSE_SUMS().ab);
}

Datum
milvus_sparsevector_cosine_distance(PG_FUNCTION_ARGS)
{
	SparseSums	s = SPARSE_SUMS();

	PG_RETURN_FLOAT8(MvCosineDistance(s.ab, s.aa, s.bb));
}

Datum
milvus_sparsevector_l1_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(SPARSE_SUMS().l1);
}

/* Order as the dense vectors they stand for, then by dimension */
static int
sparsevector_cmp(SparseVector *a, SparseVector *b)
{
	const float *av = SPARSEVECTOR_VALUES(a);
	const float *bv = SPARSEVECTOR_VALUES(b);
	int			n = Min(a->nnz, b->nnz);

	for (int i = 0; i < n; i++)
	{
		/* the first differing position decides: a missing entry is a zero */
		if (a->indices[i] != b->indices[i])
		{
			if (a->indices[i] < b->indices[i])
				return av[i] < 0 ? -1 : 1;
			return bv[i] < 0 ? 1 : -1;
		}
		if (av[i] != bv[i])
			return av[i] < bv[i] ? -1 : 1;
	}
	if (a->nnz > n && a->indices[n] < b->dim)
		return av[n] < 0 ? -1 : 1;
	if (b->nnz > n && b->indices[n] < a->dim)
		return bv[n] < 0 ? 1 : -1;
	return (a->dim > b->dim) - (a->dim < b->dim);
}

MV_DEFINE_CMP_FUNCTIONS(sparsevector, SparseVector, PG_GETARG_SPARSEVECTOR_P)
