/*
 * distance_portable.c
 *		Distance kernels in portable C, for any CPU.
 *
 * The portable set is the reference the SIMD sets are tested against, and
 * what a CPU without AVX2 runs.  Its float kernels keep four independent
 * partial sums, so that the additions of consecutive elements do not wait for
 * each other and the compiler may hold the four sums in one SSE or NEON
 * register; binary16 elements go through MvHalfToFloat, which is exact.  On
 * x86-64 a second set differs only by counting bits with the POPCNT
 * instruction, for CPUs that have it but not AVX2.
 */
#include "postgres.h"

#include <math.h>

#include "milvus/distance.h"
#include "milvus/half.h"
#include "distance_kernels.h"

#define MV_PORTABLE_LANES	4
#define MV_TARGET_NONE			/* compiled for the baseline */

#if defined(__x86_64__)
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

/* Add up the partial sums s[]. */
static pg_attribute_always_inline float
add_lanes(const float *s)
{
	float		sum = 0.0f;
	int			j;

	for (j = 0; j < MV_PORTABLE_LANES; j++)
		sum += s[j];
	return sum;
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
	return add_lanes(s);
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
		/* the last block may be short */
		for (j = 0; j < MV_PORTABLE_LANES && i + j < n; j++)
		{
			float		x = element(a, i + j, half);
			float		y = element(b, i + j, half);

			sab[j] += x * y;
			saa[j] += x * x;
			sbb[j] += y * y;
		}
	}
	*ab = add_lanes(sab);
	*aa = add_lanes(saa);
	*bb = add_lanes(sbb);
}

MV_DEFINE_FLOAT_KERNELS(portable, MV_TARGET_NONE, portable_sum, portable_cosine_parts)

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
		x = y = 0;
		memcpy(&x, a + i, len);
		if (op != MV_BIT_POPCOUNT)
			memcpy(&y, b + i, len);
		count_word(x, y, op, hw, c[0]);
	}
	counts[0] = counts[1] = 0;
	for (j = 0; j < MV_PORTABLE_LANES; j++)
	{
		counts[0] += c[j][0];
		counts[1] += c[j][1];
	}
}

/* Count op's bits with the portable popcount. */
static pg_attribute_always_inline void
bits_portable(const uint8 *a, const uint8 *b, int nbytes, MvBitOp op,
			  uint64 *counts)
{
	portable_bits(a, b, nbytes, op, MV_PORTABLE_HW_POPCOUNT, counts);
}

MV_DEFINE_BIT_KERNELS(portable, MV_TARGET_NONE, bits_portable)

const MvKernelSet MvKernelSetPortable = MV_KERNEL_SET("scalar", portable, portable, MvBitsLutSumsScalar, MvSketchBoundsScalar);

#if defined(__x86_64__)

/* Count op's bits with the POPCNT instruction. */
static MV_TARGET_POPCNT pg_attribute_always_inline void
bits_popcnt(const uint8 *a, const uint8 *b, int nbytes, MvBitOp op,
			uint64 *counts)
{
	portable_bits(a, b, nbytes, op, true, counts);
}

MV_DEFINE_BIT_KERNELS(popcnt, MV_TARGET_POPCNT, bits_popcnt)

/* the portable float kernels with POPCNT bit kernels, for pre-AVX2 CPUs */
const MvKernelSet MvKernelSetPopcnt = MV_KERNEL_SET("popcnt", portable, popcnt, MvBitsLutSumsScalar, MvSketchBoundsScalar);

#endif							/* __x86_64__ */
