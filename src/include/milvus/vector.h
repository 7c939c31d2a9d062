/*
 * vector.h
 *		On-disk layout and limits of the four vector types.
 *
 * Every type is a varlena whose fixed header keeps the element data 8-byte
 * aligned: floatvector and float16vector store dim elements, binaryvector dim
 * bits (dim a multiple of 8), sparsevector nnz sorted 0-based indices followed
 * by nnz values.  The dimension is an int32 because Milvus's limits (32,768
 * dense dimensions, 262,144 bits) do not fit pgvector's int16.
 */
#ifndef MILVUS_VECTOR_H
#define MILVUS_VECTOR_H

#include "fmgr.h"

#define MV_DENSE_MAX_DIM		32768	/* Milvus proxy.maxDimension */
#define MV_BINARY_MAX_DIM		262144	/* 32,768 bytes, as Milvus */
#define MV_SPARSE_MAX_DIM		1000000000
#define MV_SPARSE_MAX_NNZ		1000000

typedef struct FloatVector
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int32		dim;
	float		x[FLEXIBLE_ARRAY_MEMBER];
} FloatVector;

typedef struct Float16Vector
{
	int32		vl_len_;
	int32		dim;
	uint16		x[FLEXIBLE_ARRAY_MEMBER];	/* IEEE 754 binary16 bit patterns */
} Float16Vector;

typedef struct BinaryVector
{
	int32		vl_len_;
	int32		dim;			/* in bits, a multiple of 8 */
	uint8		x[FLEXIBLE_ARRAY_MEMBER];	/* bit i is (x[i / 8] >> (7 - i % 8)) & 1 */
} BinaryVector;

typedef struct SparseVector
{
	int32		vl_len_;
	int32		dim;
	int32		nnz;
	int32		unused;
	int32		indices[FLEXIBLE_ARRAY_MEMBER];	/* 0-based, strictly increasing;
												 * nnz float values follow */
} SparseVector;

#define FLOATVECTOR_SIZE(dim)		(offsetof(FloatVector, x) + sizeof(float) * (Size) (dim))
#define FLOAT16VECTOR_SIZE(dim)		(offsetof(Float16Vector, x) + sizeof(uint16) * (Size) (dim))
#define BINARYVECTOR_SIZE(dim)		(offsetof(BinaryVector, x) + (Size) (dim) / 8)
#define SPARSEVECTOR_SIZE(nnz)		(offsetof(SparseVector, indices) + (sizeof(int32) + sizeof(float)) * (Size) (nnz))
#define SPARSEVECTOR_VALUES(v)		((float *) ((v)->indices + (v)->nnz))

#define DatumGetFloatVector(d)		((FloatVector *) PG_DETOAST_DATUM(d))
#define DatumGetFloat16Vector(d)	((Float16Vector *) PG_DETOAST_DATUM(d))
#define DatumGetBinaryVector(d)		((BinaryVector *) PG_DETOAST_DATUM(d))
#define DatumGetSparseVector(d)		((SparseVector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_FLOATVECTOR_P(n)	DatumGetFloatVector(PG_GETARG_DATUM(n))
#define PG_GETARG_FLOAT16VECTOR_P(n) DatumGetFloat16Vector(PG_GETARG_DATUM(n))
#define PG_GETARG_BINARYVECTOR_P(n) DatumGetBinaryVector(PG_GETARG_DATUM(n))
#define PG_GETARG_SPARSEVECTOR_P(n) DatumGetSparseVector(PG_GETARG_DATUM(n))

extern FloatVector *MvFloatVectorAlloc(int dim);
extern Float16Vector *MvFloat16VectorAlloc(int dim);
extern BinaryVector *MvBinaryVectorAlloc(int dim);
extern SparseVector *MvSparseVectorAlloc(int dim, int nnz);

#endif							/* MILVUS_VECTOR_H */
