/*
 * distance_avx512.c
 *		Distance kernels for x86-64 CPUs with AVX-512 (F, BW and VL).
 *
 * Built like distance_avx2.c, sixteen lanes wide: only these functions are
 * compiled for AVX-512, one generic body per kernel is inlined into an f32 and
 * an f16 version (binary16 widened by VCVTPH2PS as it is loaded), and four
 * independent accumulators hide the FMA latency.  The last n % 16 elements,
 * and the last bytes of a bit vector, come in through masked loads, which
 * read nothing past the end and fill the rest with zeros.
 *
 * Two sets differ only in their bit kernels: one counts bits with VPSHUFB
 * nibble lookups (AVX-512BW), the other with VPOPCNTQ for CPUs that have
 * AVX512_VPOPCNTDQ (Ice Lake and later, Zen 4).  Both use the AVX2
 * bits_lut_sums (MvBitsLutSumsAvx2); no AVX-512 version is written.
 */
#include "postgres.h"

#include "milvus/distance.h"
#include "milvus/half.h"
#include "distance_kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>

#define MV_AVX512_ISA		"avx512f,avx512bw,avx512vl,avx2,fma,f16c,popcnt"
#define MV_TARGET_AVX512	__attribute__((target(MV_AVX512_ISA)))
#define MV_TARGET_VPOPCNTDQ	__attribute__((target(MV_AVX512_ISA ",avx512vpopcntdq")))

#define MV_AVX512_LANES		16	/* floats in a __m512 */
#define MV_AVX512_UNROLL	4	/* independent accumulators */

/* The mask of the first len lanes of sixteen (all of them if len >= 16). */
static MV_TARGET_AVX512 pg_attribute_always_inline __mmask16
lane_mask(int len)
{
	if (len >= MV_AVX512_LANES)
		return 0xffff;
	return (__mmask16) ((1u << len) - 1);
}

/*
 * Load the elements of a float or binary16 array from element i that mask
 * selects (all 16 for a full block), as floats; the others are zero.
 */
static MV_TARGET_AVX512 pg_attribute_always_inline __m512
load16(const void *p, int i, __mmask16 mask, bool half)
{
	if (half)
		return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, (const uint16 *) p + i));
	return _mm512_maskz_loadu_ps(mask, (const float *) p + i);
}

/* Add up the accumulators s[] and their sixteen lanes. */
static MV_TARGET_AVX512 pg_attribute_always_inline float
reduce(const __m512 *s)
{
	__m512		sum = s[0];
	int			j;

	for (j = 1; j < MV_AVX512_UNROLL; j++)
		sum = _mm512_add_ps(sum, s[j]);
	return _mm512_reduce_add_ps(sum);
}

/* Add op's terms for sixteen lanes of x and y to acc. */
static MV_TARGET_AVX512 pg_attribute_always_inline __m512
sum_step(__m512 x, __m512 y, __m512 acc, MvSumOp op)
{
	switch (op)
	{
		case MV_SUM_L2SQ:
			return _mm512_fmadd_ps(_mm512_sub_ps(x, y), _mm512_sub_ps(x, y), acc);
		case MV_SUM_DOT:
			return _mm512_fmadd_ps(x, y, acc);
		case MV_SUM_L1:
			return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(x, y)));
	}
	return acc;
}

/* Sum op's terms over n elements of a and b. */
static MV_TARGET_AVX512 pg_attribute_always_inline float
avx512_sum(const void *a, const void *b, int n, bool half, MvSumOp op)
{
	const __mmask16 all = 0xffff;
	__m512		s[MV_AVX512_UNROLL] = {{0}};	/* all zeros */
	int			i = 0;
	int			j;

	for (; i + MV_AVX512_LANES * MV_AVX512_UNROLL <= n; i += MV_AVX512_LANES * MV_AVX512_UNROLL)
		for (j = 0; j < MV_AVX512_UNROLL; j++)
			s[j] = sum_step(load16(a, i + j * MV_AVX512_LANES, all, half),
							load16(b, i + j * MV_AVX512_LANES, all, half), s[j], op);
	for (; i < n; i += MV_AVX512_LANES)
	{
		__mmask16	mask = lane_mask(n - i);

		s[0] = sum_step(load16(a, i, mask, half), load16(b, i, mask, half), s[0], op);
	}
	return reduce(s);
}

/* Add x.y, x.x and y.y for sixteen lanes to ab, aa and bb. */
static MV_TARGET_AVX512 pg_attribute_always_inline void
cosine_step(__m512 x, __m512 y, __m512 *ab, __m512 *aa, __m512 *bb)
{
	*ab = _mm512_fmadd_ps(x, y, *ab);
	*aa = _mm512_fmadd_ps(x, x, *aa);
	*bb = _mm512_fmadd_ps(y, y, *bb);
}

/* Compute a.b, a.a and b.b over n elements in one pass. */
static MV_TARGET_AVX512 pg_attribute_always_inline void
avx512_cosine_parts(const void *a, const void *b, int n, bool half,
					float *ab, float *aa, float *bb)
{
	const __mmask16 all = 0xffff;
	/* all zeros; a loop of stores here would become a memset call */
	__m512		sab[MV_AVX512_UNROLL] = {{0}};
	__m512		saa[MV_AVX512_UNROLL] = {{0}};
	__m512		sbb[MV_AVX512_UNROLL] = {{0}};
	int			i = 0;
	int			j;

	for (; i + MV_AVX512_LANES * MV_AVX512_UNROLL <= n; i += MV_AVX512_LANES * MV_AVX512_UNROLL)
		for (j = 0; j < MV_AVX512_UNROLL; j++)
			cosine_step(load16(a, i + j * MV_AVX512_LANES, all, half),
						load16(b, i + j * MV_AVX512_LANES, all, half),
						&sab[j], &saa[j], &sbb[j]);
	for (; i < n; i += MV_AVX512_LANES)
	{
		__mmask16	mask = lane_mask(n - i);

		cosine_step(load16(a, i, mask, half), load16(b, i, mask, half),
					&sab[0], &saa[0], &sbb[0]);
	}
	*ab = reduce(sab);
	*aa = reduce(saa);
	*bb = reduce(sbb);
}

MV_DEFINE_FLOAT_KERNELS(avx512, MV_TARGET_AVX512, avx512_sum, avx512_cosine_parts)

/*
 * Widen n binary16 values to float exactly as MvHalfToFloat does.
 * VCVTPH2PS sets the quiet bit of a signalling NaN; MvHalfToFloat keeps the
 * payload as it is, so the bit is flipped back in those lanes.
 */
static MV_TARGET_AVX512 void
f16_to_f32_avx512(const uint16 *in, float *out, int n)
{
	int			i;

	for (i = 0; i < n; i += MV_AVX512_LANES)
	{
		__mmask16	mask = lane_mask(n - i);
		__m256i		h = _mm256_maskz_loadu_epi16(mask, in + i);
		__m256i		mag = _mm256_and_si256(h, _mm256_set1_epi16(0x7fff));
		__mmask16	nan = _mm256_cmpgt_epi16_mask(mag, _mm256_set1_epi16(0x7c00));
		__mmask16	snan = _mm256_mask_cmplt_epi16_mask(nan, mag, _mm256_set1_epi16(0x7e00));
		__m512i		f = _mm512_castps_si512(_mm512_cvtph_ps(h));

		f = _mm512_mask_xor_epi32(f, snan, f, _mm512_set1_epi32(0x00400000));
		_mm512_mask_storeu_ps(out + i, mask, _mm512_castsi512_ps(f));
	}
}

/*
 * The 64 bytes op counts at byte i of a and b: a, a ^ b, a & b or, when
 * second, a | b.  Bytes outside mask read as zero.
 */
static MV_TARGET_AVX512 pg_attribute_always_inline __m512i
bits_operand(const uint8 *a, const uint8 *b, int i, __mmask64 mask,
			 MvBitOp op, bool second)
{
	__m512i		x = _mm512_maskz_loadu_epi8(mask, a + i);

	switch (op)
	{
		case MV_BIT_POPCOUNT:
			break;
		case MV_BIT_XOR:
			return _mm512_xor_si512(x, _mm512_maskz_loadu_epi8(mask, b + i));
		case MV_BIT_AND_OR:
			if (second)
				return _mm512_or_si512(x, _mm512_maskz_loadu_epi8(mask, b + i));
			return _mm512_and_si512(x, _mm512_maskz_loadu_epi8(mask, b + i));
	}
	return x;
}

/* The mask of the first len (0 to 63) bytes of a block. */
static MV_TARGET_AVX512 pg_attribute_always_inline __mmask64
tail_mask(int len)
{
	return ((__mmask64) 1 << len) - 1;
}

/*
 * Count the set bits of each 64-bit lane of v: two lookups of 4-bit counts
 * with VPSHUFB, then VPSADBW adds each lane's eight byte counts.
 */
static MV_TARGET_AVX512 pg_attribute_always_inline __m512i
popcount_lanes_lut(__m512i v)
{
	const __m512i nibble_counts = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3,
																	   1, 2, 2, 3, 2, 3, 3, 4));
	const __m512i low4 = _mm512_set1_epi8(0x0f);
	__m512i		lo = _mm512_shuffle_epi8(nibble_counts, _mm512_and_si512(v, low4));
	__m512i		hi = _mm512_shuffle_epi8(nibble_counts,
										 _mm512_and_si512(_mm512_srli_epi16(v, 4), low4));

	return _mm512_sad_epu8(_mm512_add_epi8(lo, hi), _mm512_setzero_si512());
}

/* Add op's counts for the bytes of the block at i that mask selects. */
static MV_TARGET_AVX512 pg_attribute_always_inline void
lut_block(const uint8 *a, const uint8 *b, int i, __mmask64 mask, MvBitOp op,
		  __m512i *c0, __m512i *c1)
{
	*c0 = _mm512_add_epi64(*c0, popcount_lanes_lut(bits_operand(a, b, i, mask, op, false)));
	if (op == MV_BIT_AND_OR)
		*c1 = _mm512_add_epi64(*c1, popcount_lanes_lut(bits_operand(a, b, i, mask, op, true)));
}

/* The same with VPOPCNTQ. */
static MV_TARGET_VPOPCNTDQ pg_attribute_always_inline void
vpopcntdq_block(const uint8 *a, const uint8 *b, int i, __mmask64 mask,
				MvBitOp op, __m512i *c0, __m512i *c1)
{
	*c0 = _mm512_add_epi64(*c0, _mm512_popcnt_epi64(bits_operand(a, b, i, mask, op, false)));
	if (op == MV_BIT_AND_OR)
		*c1 = _mm512_add_epi64(*c1, _mm512_popcnt_epi64(bits_operand(a, b, i, mask, op, true)));
}

/*
 * Count op's bits over nbytes of a and b into counts[0] and counts[1], with
 * VPSHUFB lookups.  Full blocks load without a mask, which measures faster
 * than masking every block.
 *
 * Only a function compiled for AVX512_VPOPCNTDQ may inline vpopcntdq_block,
 * hence a second copy of this loop, for that target, below.
 */
static MV_TARGET_AVX512 pg_attribute_always_inline void
avx512_bits_lut(const uint8 *a, const uint8 *b, int nbytes, MvBitOp op,
				uint64 *counts)
{
	__m512i		c0 = _mm512_setzero_si512();
	__m512i		c1 = _mm512_setzero_si512();
	int			i;

	for (i = 0; i + 64 <= nbytes; i += 64)
		lut_block(a, b, i, ~(__mmask64) 0, op, &c0, &c1);
	if (i < nbytes)
		lut_block(a, b, i, tail_mask(nbytes - i), op, &c0, &c1);
	counts[0] = (uint64) _mm512_reduce_add_epi64(c0);
	counts[1] = (uint64) _mm512_reduce_add_epi64(c1);
}

/* The same with VPOPCNTQ; see avx512_bits_lut. */
static MV_TARGET_VPOPCNTDQ pg_attribute_always_inline void
avx512_bits_vpopcntdq(const uint8 *a, const uint8 *b, int nbytes, MvBitOp op,
					  uint64 *counts)
{
	__m512i		c0 = _mm512_setzero_si512();
	__m512i		c1 = _mm512_setzero_si512();
	int			i;

	for (i = 0; i + 64 <= nbytes; i += 64)
		vpopcntdq_block(a, b, i, ~(__mmask64) 0, op, &c0, &c1);
	if (i < nbytes)
		vpopcntdq_block(a, b, i, tail_mask(nbytes - i), op, &c0, &c1);
	counts[0] = (uint64) _mm512_reduce_add_epi64(c0);
	counts[1] = (uint64) _mm512_reduce_add_epi64(c1);
}

MV_DEFINE_BIT_KERNELS(avx512, MV_TARGET_AVX512, avx512_bits_lut)
MV_DEFINE_BIT_KERNELS(vpopcntdq, MV_TARGET_VPOPCNTDQ, avx512_bits_vpopcntdq)

const MvKernelSet MvKernelSetAvx512 = MV_KERNEL_SET("avx512", avx512, avx512, MvBitsLutSumsAvx2, MvSketchBoundsAvx2);

/* the same, counting bits with VPOPCNTQ */
const MvKernelSet MvKernelSetAvx512Vpopcntdq =
MV_KERNEL_SET("avx512_vpopcntdq", avx512, vpopcntdq, MvBitsLutSumsAvx2, MvSketchBoundsAvx2);

#endif							/* __x86_64__ */
