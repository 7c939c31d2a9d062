/*
 * dense_functions.h
 *		SQL-callable wrappers that floatvector and float16vector share,
 *		generated per type so each stays a direct call into its kernel.
 *
 * A type file defines `static Type *<prefix>_arith(Type *, Type *, MvArithOp)`
 * and then expands these macros.  Both types name their fields dim and x.
 * Folder-private: only src/types/ includes it.
 */
#ifndef MILVUS_DENSE_FUNCTIONS_H
#define MILVUS_DENSE_FUNCTIONS_H

#define MV_SQL_FUNCTION(name) \
	PG_FUNCTION_INFO_V1(name); \
	Datum name(PG_FUNCTION_ARGS); \
	Datum name(PG_FUNCTION_ARGS)

/* + - * element-wise */
#define MV_DEFINE_DENSE_ARITH(prefix, getarg) \
MV_SQL_FUNCTION(milvus_##prefix##_add) \
{ \
	PG_RETURN_POINTER(prefix##_arith(getarg(0), getarg(1), MV_ARITH_ADD)); \
} \
MV_SQL_FUNCTION(milvus_##prefix##_sub) \
{ \
	PG_RETURN_POINTER(prefix##_arith(getarg(0), getarg(1), MV_ARITH_SUB)); \
} \
MV_SQL_FUNCTION(milvus_##prefix##_mul) \
{ \
	PG_RETURN_POINTER(prefix##_arith(getarg(0), getarg(1), MV_ARITH_MUL)); \
}

/* || */
#define MV_DEFINE_DENSE_CONCAT(prefix, Type, kind, alloc, getarg) \
MV_SQL_FUNCTION(milvus_##prefix##_concat) \
{ \
	Type	   *a = getarg(0); \
	Type	   *b = getarg(1); \
	Type	   *result; \
	MvCheckDim(kind, (int64) a->dim + b->dim); \
	result = alloc(a->dim + b->dim); \
	memcpy(result->x, a->x, sizeof(a->x[0]) * a->dim); \
	memcpy(result->x + a->dim, b->x, sizeof(b->x[0]) * b->dim); \
	PG_RETURN_POINTER(result); \
}

/*
 * Distances: fetch both arguments, check the dimensions, call the kernel
 * family k (f32 or f16); nothing else happens on this path.
 */
#define MV_DENSE_DISTANCE(prefix, suffix, Type, getarg, expr) \
MV_SQL_FUNCTION(milvus_##prefix##_##suffix) \
{ \
	Type	   *a = getarg(0); \
	Type	   *b = getarg(1); \
	MvCheckSameDims(a->dim, b->dim); \
	PG_RETURN_FLOAT8(expr); \
}


#define MV_DEFINE_DENSE_DISTANCES(prefix, Type, getarg, k) \
MV_DENSE_DISTANCE(prefix, l2_distance, Type, getarg, \
				  sqrt((double) MvKernels->k##_l2sq(a->x, b->x, a->dim))) \
MV_DENSE_DISTANCE(prefix, l2_squared_distance, Type, getarg, \
				  (double) MvKernels->k##_l2sq(a->x, b->x, a->dim)) \
MV_DENSE_DISTANCE(prefix, inner_product, Type, getarg, \
				  (double) MvKernels->k##_dot(a->x, b->x, a->dim)) \
MV_DENSE_DISTANCE(prefix, negative_inner_product, Type, getarg, \
				  -(double) MvKernels->k##_dot(a->x, b->x, a->dim)) \
MV_DENSE_DISTANCE(prefix, l1_distance, Type, getarg, \
				  (double) MvKernels->k##_l1(a->x, b->x, a->dim)) \
MV_SQL_FUNCTION(milvus_##prefix##_cosine_distance) \
{ \
	Type	   *a = getarg(0); \
	Type	   *b = getarg(1); \
	float		ab, \
				aa, \
				bb; \
	MvCheckSameDims(a->dim, b->dim); \
	MvKernels->k##_cosine_parts(a->x, b->x, a->dim, &ab, &aa, &bb); \
	PG_RETURN_FLOAT8(MvCosineDistance(ab, aa, bb)); \
}

#endif							/* MILVUS_DENSE_FUNCTIONS_H */
