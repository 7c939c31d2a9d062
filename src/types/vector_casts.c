/*
 * vector_casts.c
 *		Conversions between the vector types and to and from SQL arrays,
 *		bit strings, and binary_quantize().
 *
 * Every cast validates what it builds exactly as the type's input function
 * would: array elements must be finite and non-null, half-precision results
 * must be in range, the target typmod must match.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/varbit.h"

#include "milvus/half.h"
#include "milvus/vector.h"
#include "milvus/vector_common.h"

PG_FUNCTION_INFO_V1(milvus_array_to_floatvector);
PG_FUNCTION_INFO_V1(milvus_array_to_float16vector);
PG_FUNCTION_INFO_V1(milvus_floatvector_to_array);
PG_FUNCTION_INFO_V1(milvus_float16vector_to_array);
PG_FUNCTION_INFO_V1(milvus_floatvector_to_float16vector);
PG_FUNCTION_INFO_V1(milvus_float16vector_to_floatvector);
PG_FUNCTION_INFO_V1(milvus_floatvector_to_sparsevector);
PG_FUNCTION_INFO_V1(milvus_float16vector_to_sparsevector);
PG_FUNCTION_INFO_V1(milvus_sparsevector_to_floatvector);
PG_FUNCTION_INFO_V1(milvus_sparsevector_to_float16vector);
PG_FUNCTION_INFO_V1(milvus_floatvector_binary_quantize);
PG_FUNCTION_INFO_V1(milvus_float16vector_binary_quantize);
PG_FUNCTION_INFO_V1(milvus_varbit_to_binaryvector);
PG_FUNCTION_INFO_V1(milvus_binaryvector_to_varbit);

/*
 * Read a one-dimensional array of real, double precision, integer or numeric
 * into a palloc'd float buffer; returns the element count.
 */
static int
array_to_floats(ArrayType *array, MvVectorKind kind, float **out)
{
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	float	   *result;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D"),
				 errdetail("A %d-dimensional array cannot become a %s.",
						   ARR_NDIM(array), MvVectorTypeName(kind))));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
	MvCheckDim(kind, n);

	result = palloc(sizeof(float) * n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("array must not contain nulls"),
					 errdetail("Element %d is null.", i + 1)));
		switch (elemtype)
		{
			case FLOAT4OID:
				result[i] = DatumGetFloat4(elems[i]);
				break;
			case FLOAT8OID:
				{
					double		d = DatumGetFloat8(elems[i]);

					result[i] = (float) d;
					/* as the text form and float8 -> real: no overflow, no underflow to 0 */
					if ((isinf(result[i]) && !isinf(d)) ||
						(result[i] == 0.0f && d != 0.0))
						ereport(ERROR,
								(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
								 errmsg("value out of range for type %s",
										MvVectorTypeName(kind)),
								 errdetail("Element %d, %g, does not fit in a 4-byte float.",
										   i + 1, d)));
					break;
				}
			case INT4OID:
				result[i] = (float) DatumGetInt32(elems[i]);
				break;
			case NUMERICOID:
				result[i] = DatumGetFloat4(DirectFunctionCall1(numeric_float4, elems[i]));
				break;
			default:
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("cannot cast an array of %s to %s",
								format_type_be(elemtype), MvVectorTypeName(kind))));
		}
		MvCheckElement(kind, result[i]);
	}
	*out = result;
	return n;
}

/* Build an array of the requested element type from floats */
static ArrayType *
floats_to_array(const float *x, int n, Oid elemtype)
{
	Datum	   *datums = palloc(sizeof(Datum) * n);
	int16		typlen;
	bool		typbyval;
	char		typalign;

	for (int i = 0; i < n; i++)
	{
		switch (elemtype)
		{
			case FLOAT4OID:
				datums[i] = Float4GetDatum(x[i]);
				break;
			case FLOAT8OID:
				datums[i] = Float8GetDatum((double) x[i]);
				break;
			case INT4OID:
				datums[i] = DirectFunctionCall1(ftoi4, Float4GetDatum(x[i]));
				break;
			case NUMERICOID:
				/* via double: 15 significant digits read back as the same float */
				datums[i] = DirectFunctionCall1(float8_numeric, Float8GetDatum((double) x[i]));
				break;
			default:
				elog(ERROR, "unsupported array element type %u", elemtype);
		}
	}
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return construct_array(datums, n, elemtype, typlen, typbyval, typalign);
}

/* Return the element type of the function's declared result array */
static Oid
result_element_type(FunctionCallInfo fcinfo)
{
	Oid			rettype = get_fn_expr_rettype(fcinfo->flinfo);
	Oid			elemtype = OidIsValid(rettype) ? get_element_type(rettype) : InvalidOid;

	if (!OidIsValid(elemtype))
		elog(ERROR, "could not determine the result array type");
	return elemtype;
}

Datum
milvus_array_to_floatvector(PG_FUNCTION_ARGS)
{
	float	   *x;
	int			n = array_to_floats(PG_GETARG_ARRAYTYPE_P(0), MV_FLOATVECTOR, &x);
	FloatVector *result;

	MvCheckTypmod(MV_FLOATVECTOR, n, PG_GETARG_INT32(1));
	result = MvFloatVectorAlloc(n);
	memcpy(result->x, x, sizeof(float) * n);
	PG_RETURN_POINTER(result);
}

Datum
milvus_array_to_float16vector(PG_FUNCTION_ARGS)
{
	float	   *x;
	int			n = array_to_floats(PG_GETARG_ARRAYTYPE_P(0), MV_FLOAT16VECTOR, &x);
	Float16Vector *result;

	MvCheckTypmod(MV_FLOAT16VECTOR, n, PG_GETARG_INT32(1));
	result = MvFloat16VectorAlloc(n);
	for (int i = 0; i < n; i++)
		result->x[i] = MvFloatToHalfChecked(x[i]);
	PG_RETURN_POINTER(result);
}

Datum
milvus_floatvector_to_array(PG_FUNCTION_ARGS)
{
	FloatVector *v = PG_GETARG_FLOATVECTOR_P(0);

	PG_RETURN_ARRAYTYPE_P(floats_to_array(v->x, v->dim, result_element_type(fcinfo)));
}

Datum
milvus_float16vector_to_array(PG_FUNCTION_ARGS)
{
	Float16Vector *v = PG_GETARG_FLOAT16VECTOR_P(0);
	float	   *x = palloc(sizeof(float) * v->dim);

	for (int i = 0; i < v->dim; i++)
		x[i] = MvHalfToFloat(v->x[i]);
	PG_RETURN_ARRAYTYPE_P(floats_to_array(x, v->dim, result_element_type(fcinfo)));
}

Datum
milvus_floatvector_to_float16vector(PG_FUNCTION_ARGS)
{
	FloatVector *v = PG_GETARG_FLOATVECTOR_P(0);
	Float16Vector *result;

	MvCheckTypmod(MV_FLOAT16VECTOR, v->dim, PG_GETARG_INT32(1));
	result = MvFloat16VectorAlloc(v->dim);
	for (int i = 0; i < v->dim; i++)
		result->x[i] = MvFloatToHalfChecked(v->x[i]);
	PG_RETURN_POINTER(result);
}

Datum
milvus_float16vector_to_floatvector(PG_FUNCTION_ARGS)
{
	Float16Vector *v = PG_GETARG_FLOAT16VECTOR_P(0);
	FloatVector *result;

	MvCheckTypmod(MV_FLOATVECTOR, v->dim, PG_GETARG_INT32(1));
	result = MvFloatVectorAlloc(v->dim);
	for (int i = 0; i < v->dim; i++)
		result->x[i] = MvHalfToFloat(v->x[i]);
	PG_RETURN_POINTER(result);
}

/* Keep the non-zero elements of a dense float array */
static SparseVector *
floats_to_sparsevector(const float *x, int dim)
{
	int			nnz = 0;
	SparseVector *result;
	float	   *values;

	for (int i = 0; i < dim; i++)
		if (x[i] != 0.0f)
			nnz++;
	if (nnz > MV_SPARSE_MAX_NNZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sparsevector cannot have more than %d non-zero elements",
						MV_SPARSE_MAX_NNZ)));
	result = MvSparseVectorAlloc(dim, nnz);
	values = SPARSEVECTOR_VALUES(result);
	nnz = 0;
	for (int i = 0; i < dim; i++)
		if (x[i] != 0.0f)
		{
			result->indices[nnz] = i;
			values[nnz++] = x[i];
		}
	return result;
}

Datum
milvus_floatvector_to_sparsevector(PG_FUNCTION_ARGS)
{
	FloatVector *v = PG_GETARG_FLOATVECTOR_P(0);

	MvCheckTypmod(MV_SPARSEVECTOR, v->dim, PG_GETARG_INT32(1));
	PG_RETURN_POINTER(floats_to_sparsevector(v->x, v->dim));
}

Datum
milvus_float16vector_to_sparsevector(PG_FUNCTION_ARGS)
{
	Float16Vector *v = PG_GETARG_FLOAT16VECTOR_P(0);
	float	   *x = palloc(sizeof(float) * v->dim);

	MvCheckTypmod(MV_SPARSEVECTOR, v->dim, PG_GETARG_INT32(1));
	for (int i = 0; i < v->dim; i++)
		x[i] = MvHalfToFloat(v->x[i]);
	PG_RETURN_POINTER(floats_to_sparsevector(x, v->dim));
}

/* Error unless a sparse vector's dimension fits a dense type */
static void
check_sparse_densifiable(const SparseVector *v, MvVectorKind kind, int32 typmod)
{
	if (v->dim > MV_DENSE_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot have more than %d dimensions",
						MvVectorTypeName(kind), MV_DENSE_MAX_DIM),
				 errdetail("The sparsevector has %d dimensions.", v->dim)));
	MvCheckTypmod(kind, v->dim, typmod);
}

Datum
milvus_sparsevector_to_floatvector(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVECTOR_P(0);
	const float *values = SPARSEVECTOR_VALUES(v);
	FloatVector *result;

	check_sparse_densifiable(v, MV_FLOATVECTOR, PG_GETARG_INT32(1));
	result = MvFloatVectorAlloc(v->dim);
	for (int i = 0; i < v->nnz; i++)
		result->x[v->indices[i]] = values[i];
	PG_RETURN_POINTER(result);
}

Datum
milvus_sparsevector_to_float16vector(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVECTOR_P(0);
	const float *values = SPARSEVECTOR_VALUES(v);
	Float16Vector *result;

	check_sparse_densifiable(v, MV_FLOAT16VECTOR, PG_GETARG_INT32(1));
	result = MvFloat16VectorAlloc(v->dim);
	for (int i = 0; i < v->nnz; i++)
		result->x[v->indices[i]] = MvFloatToHalfChecked(values[i]);
	PG_RETURN_POINTER(result);
}

/* One bit per element, set when the element is positive (as Milvus and pgvector) */
static BinaryVector *
quantize(const float *x, int dim)
{
	BinaryVector *result;

	if (dim % 8 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("binaryvector dimension must be a multiple of 8"),
				 errdetail("binary_quantize was given a vector of %d dimensions.", dim),
				 errhint("Pad the vector with zeros to a multiple of 8 dimensions.")));
	result = MvBinaryVectorAlloc(dim);
	for (int i = 0; i < dim; i++)
		if (x[i] > 0)
			result->x[i / 8] |= (uint8) (0x80 >> (i % 8));
	return result;
}

Datum
milvus_floatvector_binary_quantize(PG_FUNCTION_ARGS)
{
	FloatVector *v = PG_GETARG_FLOATVECTOR_P(0);

	PG_RETURN_POINTER(quantize(v->x, v->dim));
}

Datum
milvus_float16vector_binary_quantize(PG_FUNCTION_ARGS)
{
	Float16Vector *v = PG_GETARG_FLOAT16VECTOR_P(0);
	float	   *x = palloc(sizeof(float) * v->dim);

	for (int i = 0; i < v->dim; i++)
		x[i] = MvHalfToFloat(v->x[i]);
	PG_RETURN_POINTER(quantize(x, v->dim));
}

/* bit varying and binaryvector share the layout: packed, most significant bit first */
Datum
milvus_varbit_to_binaryvector(PG_FUNCTION_ARGS)
{
	VarBit	   *bits = PG_GETARG_VARBIT_P(0);
	BinaryVector *result;

	MvCheckDim(MV_BINARYVECTOR, VARBITLEN(bits));
	MvCheckTypmod(MV_BINARYVECTOR, VARBITLEN(bits), PG_GETARG_INT32(1));
	result = MvBinaryVectorAlloc(VARBITLEN(bits));
	memcpy(result->x, VARBITS(bits), result->dim / 8);
	PG_RETURN_POINTER(result);
}

Datum
milvus_binaryvector_to_varbit(PG_FUNCTION_ARGS)
{
	BinaryVector *v = PG_GETARG_BINARYVECTOR_P(0);
	Size		size = VARBITTOTALLEN(v->dim);
	VarBit	   *result = (VarBit *) palloc0(size);

	SET_VARSIZE(result, size);
	VARBITLEN(result) = v->dim;
	memcpy(VARBITS(result), v->x, v->dim / 8);
	PG_RETURN_VARBIT_P(result);
}
