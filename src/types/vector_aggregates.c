/*
 * vector_aggregates.c
 *		avg() and sum() over floatvector and float16vector.
 *
 * The transition state is a float8[] holding the row count followed by the
 * running element sums, so the aggregates can run in parallel (the combine
 * function adds two states) and accumulate without float32 round-off.
 * Inside an aggregate the state array is updated in place.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/float.h"

#include "milvus/half.h"
#include "milvus/vector.h"
#include "milvus/vector_common.h"

PG_FUNCTION_INFO_V1(milvus_floatvector_accum);
PG_FUNCTION_INFO_V1(milvus_float16vector_accum);
PG_FUNCTION_INFO_V1(milvus_vector_combine);
PG_FUNCTION_INFO_V1(milvus_floatvector_avg);
PG_FUNCTION_INFO_V1(milvus_floatvector_sum);
PG_FUNCTION_INFO_V1(milvus_float16vector_avg);
PG_FUNCTION_INFO_V1(milvus_float16vector_sum);

/* Return the state's values after checking it is a 1-D float8[] without nulls */
static float8 *
state_values(ArrayType *state, int *n)
{
	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID)
		elog(ERROR, "expected a 1-D float8 array without nulls as aggregate state");
	*n = ARR_DIMS(state)[0];
	return (float8 *) ARR_DATA_PTR(state);
}

/* A fresh state: count 0 followed by dim zero sums */
static ArrayType *
state_new(int dim)
{
	Datum	   *zeros = palloc(sizeof(Datum) * (dim + 1));

	for (int i = 0; i <= dim; i++)
		zeros[i] = Float8GetDatum(0.0);
	return construct_array(zeros, dim + 1, FLOAT8OID, sizeof(float8),
						   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * Get a state to add a dim-dimensional vector to: the incoming one when we
 * may scribble on it, else a copy, else a new one for the first row.
 */
static ArrayType *
state_for_update(FunctionCallInfo fcinfo, int dim)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			n;

	state_values(state, &n);
	if (n == 1)
	{
		MemoryContext aggcontext;
		MemoryContext old;

		if (!AggCheckCallContext(fcinfo, &aggcontext))
			aggcontext = CurrentMemoryContext;
		old = MemoryContextSwitchTo(aggcontext);
		state = state_new(dim);
		MemoryContextSwitchTo(old);
		return state;
	}
	MvCheckSameDims(n - 1, dim);
	if (!AggCheckCallContext(fcinfo, NULL))
		state = PG_GETARG_ARRAYTYPE_P_COPY(0);
	return state;
}

Datum
milvus_floatvector_accum(PG_FUNCTION_ARGS)
{
	FloatVector *v = PG_GETARG_FLOATVECTOR_P(1);
	ArrayType  *state = state_for_update(fcinfo, v->dim);
	int			n;
	float8	   *s = state_values(state, &n);

	s[0] += 1.0;
	for (int i = 0; i < v->dim; i++)
		s[i + 1] += v->x[i];
	PG_RETURN_ARRAYTYPE_P(state);
}

Datum
milvus_float16vector_accum(PG_FUNCTION_ARGS)
{
	Float16Vector *v = PG_GETARG_FLOAT16VECTOR_P(1);
	ArrayType  *state = state_for_update(fcinfo, v->dim);
	int			n;
	float8	   *s = state_values(state, &n);

	s[0] += 1.0;
	for (int i = 0; i < v->dim; i++)
		s[i + 1] += MvHalfToFloat(v->x[i]);
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Add two partial states (parallel aggregation) */
Datum
milvus_vector_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *b = PG_GETARG_ARRAYTYPE_P(1);
	int			na,
				nb;
	float8	   *sb = state_values(b, &nb);
	float8	   *sa;
	ArrayType  *result;

	state_values(a, &na);
	if (nb == 1)
		PG_RETURN_ARRAYTYPE_P(a);
	if (na == 1)
		PG_RETURN_ARRAYTYPE_P(b);
	MvCheckSameDims(na - 1, nb - 1);
	result = AggCheckCallContext(fcinfo, NULL) ? a : PG_GETARG_ARRAYTYPE_P_COPY(0);
	sa = state_values(result, &na);
	for (int i = 0; i < na; i++)
		sa[i] += sb[i];
	PG_RETURN_ARRAYTYPE_P(result);
}

/*
 * Turn a state into per-element values: the sums, or the sums divided by the
 * count.  Returns NULL (no rows) as *count == 0.
 */
static float *
state_result(ArrayType *state, bool average, int *dim)
{
	int			n;
	float8	   *s = state_values(state, &n);
	float	   *x;

	*dim = n - 1;
	if (s[0] == 0.0)
		return NULL;
	x = palloc(sizeof(float) * (n - 1));
	for (int i = 1; i < n; i++)
	{
		float8		value = average ? s[i] / s[0] : s[i];

		x[i - 1] = (float) value;
		if (isinf(x[i - 1]))
			float_overflow_error();
	}
	return x;
}

static Datum
floatvector_final(FunctionCallInfo fcinfo, bool average)
{
	int			dim;
	float	   *x = state_result(PG_GETARG_ARRAYTYPE_P(0), average, &dim);
	FloatVector *result;

	if (x == NULL)
		PG_RETURN_NULL();
	result = MvFloatVectorAlloc(dim);
	memcpy(result->x, x, sizeof(float) * dim);
	PG_RETURN_POINTER(result);
}

static Datum
float16vector_final(FunctionCallInfo fcinfo, bool average)
{
	int			dim;
	float	   *x = state_result(PG_GETARG_ARRAYTYPE_P(0), average, &dim);
	Float16Vector *result;

	if (x == NULL)
		PG_RETURN_NULL();
	result = MvFloat16VectorAlloc(dim);
	for (int i = 0; i < dim; i++)
		result->x[i] = MvFloatToHalfChecked(x[i]);
	PG_RETURN_POINTER(result);
}

Datum
milvus_floatvector_avg(PG_FUNCTION_ARGS)
{
	return floatvector_final(fcinfo, true);
}

Datum
milvus_floatvector_sum(PG_FUNCTION_ARGS)
{
	return floatvector_final(fcinfo, false);
}

Datum
milvus_float16vector_avg(PG_FUNCTION_ARGS)
{
	return float16vector_final(fcinfo, true);
}

Datum
milvus_float16vector_sum(PG_FUNCTION_ARGS)
{
	return float16vector_final(fcinfo, false);
}
