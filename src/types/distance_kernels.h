/*
 * distance_kernels.h
 *		What the kernel sets of src/types/distance*.c share; private to them.
 *
 * Each set's file writes its kernels as a few generic bodies, always inlined,
 * that take the element type and the operation as constant arguments:
 *
 *	sum(a, b, n, half, op)						float, op an MvSumOp
 *	cosine(a, b, n, half, &ab, &aa, &bb)		a.b, a.a and b.b in one pass
 *	bits(a, b, nbytes, op, counts)				counts[0] (and counts[1] for
 *												MV_BIT_AND_OR), op an MvBitOp
 *
 * and the macros below stamp out, from those, the entry points with the
 * signatures of MvKernelSet, each compiled with the set's target attribute,
 * and the set itself, whose bits_lut_sums and sketch_bounds are named by the
 * file (MvBitsLutSumsScalar or MvBitsLutSumsAvx2, MvSketchBoundsScalar or
 * MvSketchBoundsAvx2).  f16_to_f32 is written out in each file.
 */
#ifndef MILVUS_DISTANCE_KERNELS_H
#define MILVUS_DISTANCE_KERNELS_H

#include <float.h>
#include <math.h>

#include "milvus/distance.h"

/* what a sum kernel adds up, term by term */
typedef enum MvSumOp
{
	MV_SUM_L2SQ,				/* (a - b)^2 */
	MV_SUM_DOT,					/* a * b */
	MV_SUM_L1					/* |a - b| */
} MvSumOp;

/* what a bit kernel counts */
typedef enum MvBitOp
{
	MV_BIT_POPCOUNT,			/* bits of a (b is unused) */
	MV_BIT_XOR,					/* bits of a ^ b */
	MV_BIT_AND_OR				/* bits of a & b, and of a | b */
} MvBitOp;

/* the sets, in distance_portable.c, distance_avx2.c and distance_avx512.c */
extern const MvKernelSet MvKernelSetPortable;
#if defined(__x86_64__)
extern const MvKernelSet MvKernelSetPopcnt;
extern const MvKernelSet MvKernelSetAvx2;
extern const MvKernelSet MvKernelSetAvx512;
extern const MvKernelSet MvKernelSetAvx512Vpopcntdq;
#endif

/*
 * Define f32_l2sq_<sfx>, f32_dot_<sfx>, f32_l1_<sfx>, f32_cosine_parts_<sfx>
 * and their f16_ twins from the bodies sum and cosine, and f32_fwht_<sfx>,
 * whose butterflies the compiler vectorises for the target (each element's
 * additions happen in the same order in every set, so all give the same bits).
 */
#define MV_DEFINE_FLOAT_KERNELS(sfx, target, sum, cosine) \
static target float \
f32_l2sq_##sfx(const float *a, const float *b, int n) \
{ \
	return sum(a, b, n, false, MV_SUM_L2SQ); \
} \
static target float \
f32_dot_##sfx(const float *a, const float *b, int n) \
{ \
	return sum(a, b, n, false, MV_SUM_DOT); \
} \
static target float \
f32_l1_##sfx(const float *a, const float *b, int n) \
{ \
	return sum(a, b, n, false, MV_SUM_L1); \
} \
static target void \
f32_cosine_parts_##sfx(const float *a, const float *b, int n, \
					   float *ab, float *aa, float *bb) \
{ \
	cosine(a, b, n, false, ab, aa, bb); \
} \
static target float \
f16_l2sq_##sfx(const uint16 *a, const uint16 *b, int n) \
{ \
	return sum(a, b, n, true, MV_SUM_L2SQ); \
} \
static target float \
f16_dot_##sfx(const uint16 *a, const uint16 *b, int n) \
{ \
	return sum(a, b, n, true, MV_SUM_DOT); \
} \
static target float \
f16_l1_##sfx(const uint16 *a, const uint16 *b, int n) \
{ \
	return sum(a, b, n, true, MV_SUM_L1); \
} \
static target void \
f16_cosine_parts_##sfx(const uint16 *a, const uint16 *b, int n, \
					   float *ab, float *aa, float *bb) \
{ \
	cosine(a, b, n, true, ab, aa, bb); \
} \
static target void \
f32_fwht_##sfx(float *a, int n) \
{ \
	int			h = 1; \
\
	Assert((n & (n - 1)) == 0);	/* a power of 2 */ \
	/* the first three rounds, eight elements at a time in registers */ \
	for (int i = 0; n >= 8 && i < n; i += 8) \
	{ \
		float	   *p = a + i; \
		float		b0 = p[0] + p[1], b1 = p[0] - p[1], b2 = p[2] + p[3], b3 = p[2] - p[3]; \
		float		b4 = p[4] + p[5], b5 = p[4] - p[5], b6 = p[6] + p[7], b7 = p[6] - p[7]; \
		float		c0 = b0 + b2, c1 = b1 + b3, c2 = b0 - b2, c3 = b1 - b3; \
		float		c4 = b4 + b6, c5 = b5 + b7, c6 = b4 - b6, c7 = b5 - b7; \
\
		p[0] = c0 + c4; p[1] = c1 + c5; p[2] = c2 + c6; p[3] = c3 + c7; \
		p[4] = c0 - c4; p[5] = c1 - c5; p[6] = c2 - c6; p[7] = c3 - c7; \
	} \
	if (n >= 8) \
		h = 8; \
	for (; h < n; h <<= 1) \
		for (int i = 0; i < n; i += 2 * h) \
		{ \
			float	   *restrict lo = a + i; \
			float	   *restrict hi = a + i + h; \
\
			for (int j = 0; j < h; j++) \
			{ \
				float		x = lo[j]; \
				float		y = hi[j]; \
\
				lo[j] = x + y; \
				hi[j] = x - y; \
			} \
		} \
}

/*
 * Define bits_popcount_<sfx>, bits_xor_popcount_<sfx> and
 * bits_and_or_popcount_<sfx> from the body bits.
 */
#define MV_DEFINE_BIT_KERNELS(sfx, target, bits) \
static target uint64 \
bits_popcount_##sfx(const uint8 *a, int nbytes) \
{ \
	uint64		counts[2]; \
\
	bits(a, NULL, nbytes, MV_BIT_POPCOUNT, counts); \
	return counts[0]; \
} \
static target uint64 \
bits_xor_popcount_##sfx(const uint8 *a, const uint8 *b, int nbytes) \
{ \
	uint64		counts[2]; \
\
	bits(a, b, nbytes, MV_BIT_XOR, counts); \
	return counts[0]; \
} \
static target void \
bits_and_or_popcount_##sfx(const uint8 *a, const uint8 *b, int nbytes, \
						   uint64 *and_count, uint64 *or_count) \
{ \
	uint64		counts[2]; \
\
	bits(a, b, nbytes, MV_BIT_AND_OR, counts); \
	*and_count = counts[0]; \
	*or_count = counts[1]; \
}

/* bits_lut_sums: in portable C, and with AVX2 (distance_avx2.c, x86-64 only) */
extern void MvBitsLutSumsScalar(const uint8 *codes, int ngroups, int nblocks,
								const uint8 *lut, uint32 *out);
extern void MvBitsLutSumsAvx2(const uint8 *codes, int ngroups, int nblocks,
							  const uint8 *lut, uint32 *out);

/* sketch_bounds: in portable C, and with AVX2 (distance_avx2.c, x86-64 only) */
extern void MvSketchBoundsScalar(const MvSketchRows *rows, const MvSketchQuery *query, int n,
								 float *lower, float *upper);
extern void MvSketchBoundsAvx2(const MvSketchRows *rows, const MvSketchQuery *query, int n,
							   float *lower, float *upper);

/* sketch_bounds of one row, in portable C: the AVX2 kernel's last rows too */
static inline void
mv_sketch_bound_row(const MvSketchRows *rows, const MvSketchQuery *query, int r,
					float *lower, float *upper)
{
	int			j = rows->cent[r];
	float		sq = query->base + 2 * (query->lo * rows->ones[r] + query->delta * rows->dots[r]);
	float		xy = rows->scale[r] * sq - rows->signC[r];
	float		span = rows->err[r] * query->ynorm[j] + rows->scale[r] * query->qerr;
	float		estimate;
	float		low;

	if (query->l2)
	{
		estimate = rows->aux[r] + query->constant[j] - 2 * xy;
		span *= 2;
		low = estimate - span;
		low = low > 0 ? low : 0;
	}
	else
	{
		estimate = -(xy + rows->aux[r] + query->constant[j]);
		low = estimate - span;
	}
	if (rows->gone[r])
		*lower = *upper = INFINITY;
	else if (!(fabsf(estimate) <= FLT_MAX) || !(fabsf(span) <= FLT_MAX))
	{
		*lower = -INFINITY;
		*upper = INFINITY;
	}
	else
	{
		*lower = low;
		*upper = estimate + span;
	}
}

/*
 * The initializer of a set named setname, of the float kernels (and
 * f16_to_f32) with suffix fsfx, the bit kernels with suffix bsfx, lutfn for
 * bits_lut_sums and boundsfn for sketch_bounds.
 */
#define MV_KERNEL_SET(setname, fsfx, bsfx, lutfn, boundsfn) \
{ \
	.name = setname, \
	.f32_l2sq = f32_l2sq_##fsfx, \
	.f32_dot = f32_dot_##fsfx, \
	.f32_l1 = f32_l1_##fsfx, \
	.f32_cosine_parts = f32_cosine_parts_##fsfx, \
	.f32_fwht = f32_fwht_##fsfx, \
	.f16_l2sq = f16_l2sq_##fsfx, \
	.f16_dot = f16_dot_##fsfx, \
	.f16_l1 = f16_l1_##fsfx, \
	.f16_cosine_parts = f16_cosine_parts_##fsfx, \
	.f16_to_f32 = f16_to_f32_##fsfx, \
	.bits_popcount = bits_popcount_##bsfx, \
	.bits_xor_popcount = bits_xor_popcount_##bsfx, \
	.bits_and_or_popcount = bits_and_or_popcount_##bsfx, \
	.bits_lut_sums = lutfn, \
	.sketch_bounds = boundsfn, \
}

#endif							/* MILVUS_DISTANCE_KERNELS_H */
