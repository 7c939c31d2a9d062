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

extern int32 MvTypmodIn(MvVectorKind kind, ArrayType *typmods);
extern char *MvTypmodOut(int32 typmod);

/* 1 - cosine similarity from a.b, a.a and b.b; NaN when either norm is 0 */
extern double MvCosineDistance(double ab, double aa, double bb);

/* append the shortest text that reads back as exactly this float */
extern void MvAppendFloat(StringInfo buf, float value);

#endif							/* MILVUS_VECTOR_COMMON_H */
