/*
 * distance.c
 *		Portable distance kernels, and the choice of kernel set at load time.
 *
 * Every kernel set fills the same MvKernelSet (distance.h): this file has the
 * portable one, a variant of it whose bit kernels use the POPCNT instruction,
 * and the dispatch; distance_avx2.c and distance_avx512.c have the SIMD sets.
 * MvKernelSetsSupported() asks the CPU, through __builtin_cpu_supports, which
 * sets it can run, and MvKernelsInit() keeps the last (best) of them.
 *
 * The portable kernels keep four independent partial sums, so that the
 * additions of consecutive elements do not wait for each other and the
 * compiler may put the four sums in one SSE/NEON register.  Half-precision
 * elements go through MvHalfToFloat, which is exact.
 */
#include "postgres.h"

#include <math.h>

#include "milvus/distance.h"
#include "milvus/half.h"

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
	MV_BIT_POPCOUNT,			/* bits of a */
	MV_BIT_XOR,					/* bits of a ^ b */
	MV_BIT_AND_OR				/* bits of a & b, and of a | b */
} MvBitOp;

#define MV_PORTABLE_LANES	4

#if defined(__x86_64__)
/* the SIMD sets, defined in distance_avx2.c and distance_avx512.c */
extern const MvKernelSet MvKernelSetAvx2;
extern const MvKernelSet MvKernelSetAvx512;
extern const MvKernelSet MvKernelSetAvx512Vpopcntdq;

#define MV_TARGET_POPCNT	__attribute__((target("popcnt")))
/* x86-64 has no popcount before POPCNT, and libgcc's fallback is slow */
#define MV_PORTABLE_HW_POPCOUNT	false
#elif defined(HAVE__BUILTIN_POPCOUNT)
/* elsewhere the compiler's builtin is the hardware instruction or as good */
#define MV_PORTABLE_HW_POPCOUNT	true
#else
#define MV_PORTABLE_HW_POPCOUNT	false
#endif

/* Read element i of a float or binary16 array as a float. */
static pg_attribute_always_inline float
element(const void *p, int i, bool half)
{
	if (half)
		return MvHalfToFloat(((const uint16 *) p)[i]);
	return ((const float *) p)[i];
}

/* One term of the sum computed by op. */
static pg_attribute_always_inline float
sum_term(float x, float y, MvSumOp op)
{
	float		d = x - y;

	switch (op)
	{
		case MV_SUM_L2SQ:
			return d * d;
		case MV_SUM_DOT:
			return x * y;
		case MV_SUM_L1:
			return fabsf(d);
	}
	return 0.0f;
}

/* Sum op's terms over n elements of a and b. */
static pg_attribute_always_inline float
portable_sum(const void *a, const void *b, int n, bool half, MvSumOp op)
{
	float		s[MV_PORTABLE_LANES] = {0};
	int			i = 0;
	int			j;

	for (; i + MV_PORTABLE_LANES <= n; i += MV_PORTABLE_LANES)
		for (j = 0; j < MV_PORTABLE_LANES; j++)
			s[j] += sum_term(element(a, i + j, half), element(b, i + j, half), op);
	for (; i < n; i++)
		s[0] += sum_term(element(a, i, half), element(b, i, half), op);
	return (s[0] + s[1]) + (s[2] + s[3]);
}

/* Compute a.b, a.a and b.b over n elements in one pass. */
static pg_attribute_always_inline void
portable_cosine_parts(const void *a, const void *b, int n, bool half,
					  float *ab, float *aa, float *bb)
{
	float		sab[MV_PORTABLE_LANES] = {0};
	float		saa[MV_PORTABLE_LANES] = {0};
	float		sbb[MV_PORTABLE_LANES] = {0};
	int			i = 0;
	int			j;

	for (; i < n; i += MV_PORTABLE_LANES)
	{
		for (j = 0; j < MV_PORTABLE_LANES && i + j < n; j++)
		{
			float		x = element(a, i + j, half);
			float		y = element(b, i + j, half);

			sab[j] += x * y;
			saa[j] += x * x;
			sbb[j] += y * y;
		}
	}
	*ab = (sab[0] + sab[1]) + (sab[2] + sab[3]);
	*aa = (saa[0] + saa[1]) + (saa[2] + saa[3]);
	*bb = (sbb[0] + sbb[1]) + (sbb[2] + sbb[3]);
}

/* Squared Euclidean distance of two float arrays. */
static float
f32_l2sq_portable(const float *a, const float *b, int n)
{
	return portable_sum(a, b, n, false, MV_SUM_L2SQ);
}

/* Inner product of two float arrays. */
static float
f32_dot_portable(const float *a, const float *b, int n)
{
	return portable_sum(a, b, n, false, MV_SUM_DOT);
}

/* Manhattan distance of two float arrays. */
static float
f32_l1_portable(const float *a, const float *b, int n)
{
	return portable_sum(a, b, n, false, MV_SUM_L1);
}

/* The three sums of cosine similarity of two float arrays. */
static void
f32_cosine_parts_portable(const float *a, const float *b, int n,
						  float *ab, float *aa, float *bb)
{
	portable_cosine_parts(a, b, n, false, ab, aa, bb);
}

/* Squared Euclidean distance of two binary16 arrays. */
static float
f16_l2sq_portable(const uint16 *a, const uint16 *b, int n)
{
	return portable_sum(a, b, n, true, MV_SUM_L2SQ);
}

/* Inner product of two binary16 arrays. */
static float
f16_dot_portable(const uint16 *a, const uint16 *b, int n)
{
	return portable_sum(a, b, n, true, MV_SUM_DOT);
}

/* Manhattan distance of two binary16 arrays. */
static float
f16_l1_portable(const uint16 *a, const uint16 *b, int n)
{
	return portable_sum(a, b, n, true, MV_SUM_L1);
}

/* The three sums of cosine similarity of two binary16 arrays. */
static void
f16_cosine_parts_portable(const uint16 *a, const uint16 *b, int n,
						  float *ab, float *aa, float *bb)
{
	portable_cosine_parts(a, b, n, true, ab, aa, bb);
}

/* Widen n binary16 values to float. */
static void
f16_to_f32_portable(const uint16 *in, float *out, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		out[i] = MvHalfToFloat(in[i]);
}

/* Count the set bits of x, with the POPCNT-style builtin when hw. */
static pg_attribute_always_inline uint64
popcount64(uint64 x, bool hw)
{
#if defined(HAVE__BUILTIN_POPCOUNT)
	if (hw)
		return (uint64) __builtin_popcountll(x);
#endif
	x -= (x >> 1) & UINT64CONST(0x5555555555555555);
	x = (x & UINT64CONST(0x3333333333333333)) +
		((x >> 2) & UINT64CONST(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64CONST(0x0f0f0f0f0f0f0f0f);
	return (x * UINT64CONST(0x0101010101010101)) >> 56;
}

/* Add the counts op makes of one 64-bit word of a and b to c[0] and c[1]. */
static pg_attribute_always_inline void
count_word(uint64 x, uint64 y, MvBitOp op, bool hw, uint64 *c)
{
	switch (op)
	{
		case MV_BIT_POPCOUNT:
			c[0] += popcount64(x, hw);
			break;
		case MV_BIT_XOR:
			c[0] += popcount64(x ^ y, hw);
			break;
		case MV_BIT_AND_OR:
			c[0] += popcount64(x & y, hw);
			c[1] += popcount64(x | y, hw);
			break;
	}
}

/*
 * Count op's bits over nbytes of a and b (b unused for MV_BIT_POPCOUNT) into
 * counts[0] and counts[1], four words at a time with independent counters.
 */
static pg_attribute_always_inline void
portable_bits(const uint8 *a, const uint8 *b, int nbytes, MvBitOp op, bool hw,
			  uint64 *counts)
{
	uint64		c[MV_PORTABLE_LANES][2] = {{0}};
	uint64		x;
	uint64		y = 0;
	int			i = 0;
	int			j;

	for (; i + MV_PORTABLE_LANES * 8 <= nbytes; i += MV_PORTABLE_LANES * 8)
	{
		for (j = 0; j < MV_PORTABLE_LANES; j++)
		{
			memcpy(&x, a + i + j * 8, 8);
			if (op != MV_BIT_POPCOUNT)
				memcpy(&y, b + i + j * 8, 8);
			count_word(x, y, op, hw, c[j]);
		}
	}
	for (; i < nbytes; i += 8)
	{
		int			len = Min(nbytes - i, 8);

		/* a short last word is zero-padded, which counts nothing */
		x = 0;
		memcpy(&x, a + i, len);
		if (op != MV_BIT_POPCOUNT)
			memcpy(&y, b + i, len);
		count_word(x, y, op, hw, c[0]);
	}
	counts[0] = c[0][0] + c[1][0] + c[2][0] + c[3][0];
	counts[1] = c[0][1] + c[1][1] + c[2][1] + c[3][1];
}

/* Count the set bits of nbytes of a. */
static uint64
bits_popcount_portable(const uint8 *a, int nbytes)
{
	uint64		counts[2];

	portable_bits(a, NULL, nbytes, MV_BIT_POPCOUNT, MV_PORTABLE_HW_POPCOUNT,
				  counts);
	return counts[0];
}

/* Count the bits in which a and b differ (Hamming distance). */
static uint64
bits_xor_popcount_portable(const uint8 *a, const uint8 *b, int nbytes)
{
	uint64		counts[2];

	portable_bits(a, b, nbytes, MV_BIT_XOR, MV_PORTABLE_HW_POPCOUNT, counts);
	return counts[0];
}

/* Count the bits of a & b and of a | b (Jaccard, Tanimoto). */
static void
bits_and_or_popcount_portable(const uint8 *a, const uint8 *b, int nbytes,
							  uint64 *and_count, uint64 *or_count)
{
	uint64		counts[2];

	portable_bits(a, b, nbytes, MV_BIT_AND_OR, MV_PORTABLE_HW_POPCOUNT,
				  counts);
	*and_count = counts[0];
	*or_count = counts[1];
}

static const MvKernelSet MvKernelSetPortable = {
	.name = "scalar",
	.f32_l2sq = f32_l2sq_portable,
	.f32_dot = f32_dot_portable,
	.f32_l1 = f32_l1_portable,
	.f32_cosine_parts = f32_cosine_parts_portable,
	.f16_l2sq = f16_l2sq_portable,
	.f16_dot = f16_dot_portable,
	.f16_l1 = f16_l1_portable,
	.f16_cosine_parts = f16_cosine_parts_portable,
	.f16_to_f32 = f16_to_f32_portable,
	.bits_popcount = bits_popcount_portable,
	.bits_xor_popcount = bits_xor_popcount_portable,
	.bits_and_or_popcount = bits_and_or_popcount_portable,
};

#if defined(__x86_64__)

/* Count the set bits of nbytes of a with POPCNT. */
static MV_TARGET_POPCNT uint64
bits_popcount_popcnt(const uint8 *a, int nbytes)
{
	uint64		counts[2];

	portable_bits(a, NULL, nbytes, MV_BIT_POPCOUNT, true, counts);
	return counts[0];
}

/* Count the bits in which a and b differ with POPCNT. */
static MV_TARGET_POPCNT uint64
bits_xor_popcount_popcnt(const uint8 *a, const uint8 *b, int nbytes)
{
	uint64		counts[2];

	portable_bits(a, b, nbytes, MV_BIT_XOR, true, counts);
	return counts[0];
}

/* Count the bits of a & b and of a | b with POPCNT. */
static MV_TARGET_POPCNT void
bits_and_or_popcount_popcnt(const uint8 *a, const uint8 *b, int nbytes,
							uint64 *and_count, uint64 *or_count)
{
	uint64		counts[2];

	portable_bits(a, b, nbytes, MV_BIT_AND_OR, true, counts);
	*and_count = counts[0];
	*or_count = counts[1];
}

/* the portable float kernels with POPCNT bit kernels, for pre-AVX2 CPUs */
static const MvKernelSet MvKernelSetPopcnt = {
	.name = "popcnt",
	.f32_l2sq = f32_l2sq_portable,
	.f32_dot = f32_dot_portable,
	.f32_l1 = f32_l1_portable,
	.f32_cosine_parts = f32_cosine_parts_portable,
	.f16_l2sq = f16_l2sq_portable,
	.f16_dot = f16_dot_portable,
	.f16_l1 = f16_l1_portable,
	.f16_cosine_parts = f16_cosine_parts_portable,
	.f16_to_f32 = f16_to_f32_portable,
	.bits_popcount = bits_popcount_popcnt,
	.bits_xor_popcount = bits_xor_popcount_popcnt,
	.bits_and_or_popcount = bits_and_or_popcount_popcnt,
};

#endif							/* __x86_64__ */

const MvKernelSet *MvKernels = &MvKernelSetPortable;

/*
 * Fill sets[] with every kernel set this CPU can run, portable first and the
 * one MvKernelsInit() chooses last; returns how many.
 */
int
MvKernelSetsSupported(const MvKernelSet **sets, int max)
{
	const MvKernelSet *found[8];
	int			nfound = 0;
	int			i;

	found[nfound++] = &MvKernelSetPortable;
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("popcnt"))
	{
		found[nfound++] = &MvKernelSetPopcnt;
		if (__builtin_cpu_supports("avx2") &&
			__builtin_cpu_supports("fma") &&
			__builtin_cpu_supports("f16c"))
		{
			found[nfound++] = &MvKernelSetAvx2;
			if (__builtin_cpu_supports("avx512f") &&
				__builtin_cpu_supports("avx512bw") &&
				__builtin_cpu_supports("avx512vl"))
			{
				found[nfound++] = &MvKernelSetAvx512;
				if (__builtin_cpu_supports("avx512vpopcntdq"))
					found[nfound++] = &MvKernelSetAvx512Vpopcntdq;
			}
		}
	}
#endif
	for (i = 0; i < nfound && i < max; i++)
		sets[i] = found[i];
	return Min(nfound, max);
}

/* Point MvKernels at the best kernel set this CPU supports. */
void
MvKernelsInit(void)
{
	const MvKernelSet *sets[8];
	int			nsets = MvKernelSetsSupported(sets, lengthof(sets));

	MvKernels = sets[nsets - 1];
}
