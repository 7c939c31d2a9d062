/*
 * vector_common.h
 *		Helpers every vector type shares: typmods, limits checks, errors.
 */
#ifndef MILVUS_VECTOR_COMMON_H
#define MILVUS_VECTOR_COMMON_H

#include "lib/stringinfo.h"
#include "utils/array.h"

#include "milvus/vector_parse.h"

/* which type a message is about */
typedef enum MvVectorKind
{
	MV_FLOATVECTOR,
	MV_FLOAT16VECTOR,
	MV_BINARYVECTOR,
	MV_SPARSEVECTOR
} MvVectorKind;

extern const char *MvVectorTypeName(MvVectorKind kind);
extern int	MvVectorMaxDim(MvVectorKind kind);

/* raise the error a failed text parse deserves */
extern void MvReportParseError(MvVectorKind kind, const char *input,
							   const MvParseResult *result) pg_attribute_noreturn();

/* error unless 1 <= dim <= the type's maximum (and, for bits, a multiple of 8) */
extern void MvCheckDim(MvVectorKind kind, int64 dim);
/* error unless dim matches the column's typmod (-1 means any) */
extern void MvCheckTypmod(MvVectorKind kind, int dim, int32 typmod);
/* error unless two operands have the same dimension */
extern void MvCheckSameDims(int a, int b);
/* error unless the element is finite */
extern void MvCheckElement(MvVectorKind kind, float value);

/* an int32 header field of binary input; 22P03 when the value ends first */
extern int32 MvRecvInt32(StringInfo buf, MvVectorKind kind, const char *what);

extern int32 MvTypmodIn(MvVectorKind kind, ArrayType *typmods);
extern char *MvTypmodOut(int32 typmod);

/* element-wise arithmetic shared by the dense types */
typedef enum MvArithOp
{
	MV_ARITH_ADD,
	MV_ARITH_SUB,
	MV_ARITH_MUL
} MvArithOp;

static inline float
MvArith(MvArithOp op, float x, float y)
{
	switch (op)
	{
		case MV_ARITH_ADD:
			return x + y;
		case MV_ARITH_SUB:
			return x - y;
		case MV_ARITH_MUL:
			return x * y;
	}
	return 0.0f;
}

/*
 * Clip subvector(v, start, count) (1-based, as substring()) to a vector of
 * dim elements; returns the element count and sets *offset (0-based).
 */
extern int	MvSubvectorRange(MvVectorKind kind, int dim, int32 start, int32 count,
							 int64 *offset);

/* round to half precision, refusing NaN, infinity and overflow */
extern uint16 MvFloatToHalfChecked(float value);

/* 1 - cosine similarity from a.b, a.a and b.b; NaN when either norm is 0 */
extern double MvCosineDistance(double ab, double aa, double bb);

/* append the shortest text that reads back as exactly this float */
extern void MvAppendFloat(StringInfo buf, float value);

/*
 * Define the B-tree support functions milvus_<prefix>_{cmp,lt,le,eq,ne,ge,gt}
 * on top of a static int <prefix>_cmp(Type *a, Type *b).
 */
#define MV_CMP_FUNCTION(prefix, suffix, Type, getarg, expr) \
PG_FUNCTION_INFO_V1(milvus_##prefix##_##suffix); \
Datum milvus_##prefix##_##suffix(PG_FUNCTION_ARGS); \
Datum \
milvus_##prefix##_##suffix(PG_FUNCTION_ARGS) \
{ \
	Type	   *a = getarg(0); \
	Type	   *b = getarg(1); \
	int			c = prefix##_cmp(a, b); \
	PG_FREE_IF_COPY(a, 0); \
	PG_FREE_IF_COPY(b, 1); \
	expr; \
}

#define MV_DEFINE_CMP_FUNCTIONS(prefix, Type, getarg) \
	MV_CMP_FUNCTION(prefix, cmp, Type, getarg, PG_RETURN_INT32(c)) \
	MV_CMP_FUNCTION(prefix, lt, Type, getarg, PG_RETURN_BOOL(c < 0)) \
	MV_CMP_FUNCTION(prefix, le, Type, getarg, PG_RETURN_BOOL(c <= 0)) \
	MV_CMP_FUNCTION(prefix, eq, Type, getarg, PG_RETURN_BOOL(c == 0)) \
	MV_CMP_FUNCTION(prefix, ne, Type, getarg, PG_RETURN_BOOL(c != 0)) \
	MV_CMP_FUNCTION(prefix, ge, Type, getarg, PG_RETURN_BOOL(c >= 0)) \
	MV_CMP_FUNCTION(prefix, gt, Type, getarg, PG_RETURN_BOOL(c > 0))

#endif							/* MILVUS_VECTOR_COMMON_H */
