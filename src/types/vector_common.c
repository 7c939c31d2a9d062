/*
 * vector_common.c
 *		What the four vector types share: limits, typmods, error reporting
 *		and float formatting.
 *
 * Error codes are chosen once here so every type reports the same problem
 * the same way: malformed text is 22P02, a number out of range (including
 * infinity) 22003, too many dimensions 54000, and every other bad value
 * (NaN, empty, wrong dimension, bad sparse index) 22000.  Binary input too
 * short for what it announces is 22P03, as PostgreSQL's array_recv: never
 * the 08P01 of pq_getmsgint, which would blame the protocol, not the value.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "milvus/vector.h"
#include "milvus/vector_common.h"

/* Return the SQL name of a vector type */
const char *
MvVectorTypeName(MvVectorKind kind)
{
	switch (kind)
	{
		case MV_FLOATVECTOR:
			return "floatvector";
		case MV_FLOAT16VECTOR:
			return "float16vector";
		case MV_BINARYVECTOR:
			return "binaryvector";
		case MV_SPARSEVECTOR:
			return "sparsevector";
	}
	return "vector";			/* keep the compiler quiet */
}

/* Return the largest dimension a type can hold */
int
MvVectorMaxDim(MvVectorKind kind)
{
	switch (kind)
	{
		case MV_FLOATVECTOR:
		case MV_FLOAT16VECTOR:
			return MV_DENSE_MAX_DIM;
		case MV_BINARYVECTOR:
			return MV_BINARY_MAX_DIM;
		case MV_SPARSEVECTOR:
			return MV_SPARSE_MAX_DIM;
	}
	return 0;
}

/* Raise the error that a failed parse of input deserves */
void
MvReportParseError(MvVectorKind kind, const char *input, const MvParseResult *result)
{
	const char *type = MvVectorTypeName(kind);

	switch (result->code)
	{
		case MV_PARSE_OK:
			break;
		case MV_PARSE_SYNTAX:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type %s: \"%s\"", type, input),
					 errdetail("Expected %s at character %d.",
							   result->expected ? result->expected : "something else",
							   result->position + 1)));
			break;
		case MV_PARSE_NOT_FINITE:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("NaN is not allowed in type %s", type),
					 errdetail("The element at character %d is not a number.",
							   result->position + 1)));
			break;
		case MV_PARSE_INFINITY:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range for type %s", type),
					 errdetail("Infinity is not allowed (character %d).",
							   result->position + 1)));
			break;
		case MV_PARSE_OUT_OF_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range for type %s", type),
					 errdetail("The number at character %d does not fit in a 4-byte float.",
							   result->position + 1)));
			break;
		case MV_PARSE_EMPTY:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s must have at least 1 dimension", type)));
			break;
		case MV_PARSE_TOO_MANY:
			if (kind == MV_SPARSEVECTOR)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("sparsevector cannot have more than %d non-zero elements",
								MV_SPARSE_MAX_NNZ)));
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s cannot have more than %d dimensions",
							type, MvVectorMaxDim(kind))));
			break;
		case MV_PARSE_BAD_INDEX:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevector index out of bounds in \"%s\"", input),
					 errdetail("Indices run from 1 to the dimension; see character %d.",
							   result->position + 1)));
			break;
		case MV_PARSE_UNSORTED:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevector indices must be in ascending order"),
					 errdetail("The index at character %d is smaller than the one before it.",
							   result->position + 1)));
			break;
		case MV_PARSE_DUPLICATE:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevector indices must not contain duplicates"),
					 errdetail("The index at character %d repeats the one before it.",
							   result->position + 1)));
			break;
		case MV_PARSE_BAD_DIM:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevector dimension must be at least 1"),
					 errdetail("See character %d of \"%s\".", result->position + 1, input)));
			break;
		case MV_PARSE_DIM_TOO_LARGE:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("sparsevector cannot have more than %d dimensions",
							MV_SPARSE_MAX_DIM),
					 errdetail("See character %d of \"%s\".", result->position + 1, input)));
			break;
		case MV_PARSE_BIT_COUNT:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("binaryvector dimension must be a multiple of 8"),
					 errdetail_plural("The input has %d bit.", "The input has %d bits.",
									  result->count, result->count)));
			break;
	}
	elog(ERROR, "unexpected parse result %d", (int) result->code);
}

/* Error unless dim is a valid dimension of the type */
void
MvCheckDim(MvVectorKind kind, int64 dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", MvVectorTypeName(kind))));
	if (dim > MvVectorMaxDim(kind))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot have more than %d dimensions",
						MvVectorTypeName(kind), MvVectorMaxDim(kind))));
	if (kind == MV_BINARYVECTOR && dim % 8 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("binaryvector dimension must be a multiple of 8"),
				 errdetail("The dimension is %lld.", (long long) dim)));
}

/* Error unless dim agrees with the typmod */
void
MvCheckTypmod(MvVectorKind kind, int dim, int32 typmod)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim),
				 errdetail("The column or cast has type %s(%d).",
						   MvVectorTypeName(kind), typmod)));
}

/* Error unless two operands have the same dimension */
void
MvCheckSameDims(int a, int b)
{
	if (a != b)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", a, b)));
}

/* Error unless value may be stored in the type */
void
MvCheckElement(MvVectorKind kind, float value)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN is not allowed in type %s",
						MvVectorTypeName(kind))));
	if (isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range for type %s", MvVectorTypeName(kind)),
				 errdetail("Infinity is not allowed.")));
}

/*
 * Read the int32 header field what (the dimension, the number of non-zeros)
 * of a binary value, refusing a value that ends before it.
 */
int32
MvRecvInt32(StringInfo buf, MvVectorKind kind, const char *what)
{
	if (buf->len - buf->cursor < (int) sizeof(int32))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("insufficient data left in message"),
				 errdetail("The %s of a %s takes 4 bytes; %d are left.",
						   what, MvVectorTypeName(kind), buf->len - buf->cursor)));
	return pq_getmsgint(buf, sizeof(int32));
}

/* Parse the typmod list of type(dim) */
int32
MvTypmodIn(MvVectorKind kind, ArrayType *typmods)
{
	int32	   *mods;
	int			n;

	mods = ArrayGetIntegerTypmods(typmods, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errdetail("Type %s takes one modifier, the dimension.",
						   MvVectorTypeName(kind))));
	if (mods[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s must be at least 1",
						MvVectorTypeName(kind))));
	if (mods[0] > MvVectorMaxDim(kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s cannot exceed %d",
						MvVectorTypeName(kind), MvVectorMaxDim(kind))));
	if (kind == MV_BINARYVECTOR && mods[0] % 8 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type binaryvector must be a multiple of 8")));
	return mods[0];
}

/* Print the typmod as "(dim)" */
char *
MvTypmodOut(int32 typmod)
{
	if (typmod < 0)
		return pstrdup("");
	return psprintf("(%d)", (int) typmod);
}

/* Append the shortest decimal that reads back as exactly value */
void
MvAppendFloat(StringInfo buf, float value)
{
	enlargeStringInfo(buf, FLOAT_SHORTEST_DECIMAL_LEN);
	buf->len += float_to_shortest_decimal_bufn(value, buf->data + buf->len);
	buf->data[buf->len] = '\0';
}

/* Return 1 - a.b / (|a| |b|), clamped to [0, 2]; NaN for a zero vector */
double
MvCosineDistance(double ab, double aa, double bb)
{
	double		denominator = sqrt(aa * bb);
	double		similarity;

	if (denominator == 0.0)
		return get_float8_nan();
	similarity = ab / denominator;
	if (similarity > 1.0)
		similarity = 1.0;
	else if (similarity < -1.0)
		similarity = -1.0;
	return 1.0 - similarity;
}

/* Clip a 1-based (start, count) range to dim elements; error if empty */
int
MvSubvectorRange(MvVectorKind kind, int dim, int32 start, int32 count, int64 *offset)
{
	int64		first = start;
	int64		end = (int64) start + count;

	if (count < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("negative subvector length not allowed")));
	first = Max(first, 1);
	end = Min(end, (int64) dim + 1);
	if (end <= first)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", MvVectorTypeName(kind)),
				 errdetail("The requested range holds no element of a %d-dimensional vector.",
						   dim)));
	*offset = first - 1;
	return (int) (end - first);
}
