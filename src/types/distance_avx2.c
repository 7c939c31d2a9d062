/*
 * distance_avx2.c
 *		Distance kernels for x86-64 CPUs with AVX2, FMA and F16C.
 *
 * Only the functions here are compiled for those instructions (through the
 * target attribute), so the module still loads on any x86-64 and distance.c
 * calls them only after asking the CPU.  Each float kernel is one generic
 * body, inlined with constant arguments into an f32 and an f16 version:
 * binary16 input is widened with VCVTPH2PS as it is loaded.  The bodies keep
 * four independent accumulators of eight lanes, enough to hide the four-cycle
 * FMA latency at two loads a cycle; the last n % 8 elements are loaded
 * zero-padded, which adds nothing to any sum.  Bits are counted with VPSHUFB
 * nibble lookups, which measured faster than a loop of POPCNT instructions
 * (test/bench/kernels).
 */
#include "postgres.h"

#include "milvus/distance.h"
#include "milvus/half.h"
#include "distance_kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>

#define MV_TARGET_AVX2	__attribute__((target("avx2,fma,f16c")))

#define MV_AVX2_LANES	8		/* floats in a __m256 */
#define MV_AVX2_UNROLL	4		/* independent accumulators */

/* Load 8 elements of a float or binary16 array, from element i, as floats. */
static MV_TARGET_AVX2 pg_attribute_always_inline __m256
load8(const void *p, int i, bool half)
{
	if (half)
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) ((const uint16 *) p + i)));
	return _mm256_loadu_ps((const float *) p + i);
}

/* Load the last len (1 to 7) elements from element i, zero-padded to 8. */
static MV_TARGET_AVX2 pg_attribute_always_inline __m256
load8_tail(const void *p, int i, int len, bool half)
{
	if (half)
	{
		uint16		buf[MV_AVX2_LANES] = {0};

		memcpy(buf, (const uint16 *) p + i, len * sizeof(uint16));
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) buf));
	}
	return _mm256_maskload_ps((const float *) p + i,
							  _mm256_cmpgt_epi32(_mm256_set1_epi32(len),
												 _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}

/* Add the eight lanes of v. */
static MV_TARGET_AVX2 pg_attribute_always_inline float
hsum8(__m256 v)
{
	__m128		s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* Add up the accumulators s[] and their eight lanes. */
static MV_TARGET_AVX2 pg_attribute_always_inline float
reduce(const __m256 *s)
{
	__m256		sum = s[0];
	int			j;

	for (j = 1; j < MV_AVX2_UNROLL; j++)
		sum = _mm256_add_ps(sum, s[j]);
	return hsum8(sum);
}

/* Add op's terms for eight lanes of x and y to acc. */
static MV_TARGET_AVX2 pg_attribute_always_inline __m256
sum_step(__m256 x, __m256 y, __m256 acc, MvSumOp op)
{
	switch (op)
	{
		case MV_SUM_L2SQ:
			return _mm256_fmadd_ps(_mm256_sub_ps(x, y), _mm256_sub_ps(x, y), acc);
		case MV_SUM_DOT:
			return _mm256_fmadd_ps(x, y, acc);
		case MV_SUM_L1:
			return _mm256_add_ps(acc, _mm256_andnot_ps(_mm256_set1_ps(-0.0f),
													   _mm256_sub_ps(x, y)));
	}
	return acc;
}

/* Sum op's terms over n elements of a and b. */
static MV_TARGET_AVX2 pg_attribute_always_inline float
avx2_sum(const void *a, const void *b, int n, bool half, MvSumOp op)
{
	__m256		s[MV_AVX2_UNROLL] = {{0}};	/* all zeros */
	int			i = 0;
	int			j;

	for (; i + MV_AVX2_LANES * MV_AVX2_UNROLL <= n; i += MV_AVX2_LANES * MV_AVX2_UNROLL)
		for (j = 0; j < MV_AVX2_UNROLL; j++)
			s[j] = sum_step(load8(a, i + j * MV_AVX2_LANES, half),
							load8(b, i + j * MV_AVX2_LANES, half), s[j], op);
	for (; i + MV_AVX2_LANES <= n; i += MV_AVX2_LANES)
		s[0] = sum_step(load8(a, i, half), load8(b, i, half), s[0], op);
	if (i < n)
		s[1] = sum_step(load8_tail(a, i, n - i, half),
						load8_tail(b, i, n - i, half), s[1], op);
	return reduce(s);
}

/* Add x.y, x.x and y.y for eight lanes to ab, aa and bb. */
static MV_TARGET_AVX2 pg_attribute_always_inline void
cosine_step(__m256 x, __m256 y, __m256 *ab, __m256 *aa, __m256 *bb)
{
	*ab = _mm256_fmadd_ps(x, y, *ab);
	*aa = _mm256_fmadd_ps(x, x, *aa);
	*bb = _mm256_fmadd_ps(y, y, *bb);
}

/* Compute a.b, a.a and b.b over n elements in one pass. */
static MV_TARGET_AVX2 pg_attribute_always_inline void
avx2_cosine_parts(const void *a, const void *b, int n, bool half,
				  float *ab, float *aa, float *bb)
{
	/* all zeros; a loop of stores here would become a memset call */
	__m256		sab[MV_AVX2_UNROLL] = {{0}};
	__m256		saa[MV_AVX2_UNROLL] = {{0}};
	__m256		sbb[MV_AVX2_UNROLL] = {{0}};
	int			i = 0;
	int			j;

	for (; i + MV_AVX2_LANES * MV_AVX2_UNROLL <= n; i += MV_AVX2_LANES * MV_AVX2_UNROLL)
		for (j = 0; j < MV_AVX2_UNROLL; j++)
			cosine_step(load8(a, i + j * MV_AVX2_LANES, half),
						load8(b, i + j * MV_AVX2_LANES, half),
						&sab[j], &saa[j], &sbb[j]);
	for (; i + MV_AVX2_LANES <= n; i += MV_AVX2_LANES)
		cosine_step(load8(a, i, half), load8(b, i, half),
					&sab[0], &saa[0], &sbb[0]);
	if (i < n)
		cosine_step(load8_tail(a, i, n - i, half),
					load8_tail(b, i, n - i, half),
					&sab[1], &saa[1], &sbb[1]);
	*ab = reduce(sab);
	*aa = reduce(saa);
	*bb = reduce(sbb);
}

MV_DEFINE_FLOAT_KERNELS(avx2, MV_TARGET_AVX2, avx2_sum, avx2_cosine_parts)

/*
 * Widen eight binary16 values to float exactly as MvHalfToFloat does.
 * VCVTPH2PS sets the quiet bit of a signalling NaN; MvHalfToFloat keeps the
 * payload as it is, so the bit is cleared again in those lanes.
 */
static MV_TARGET_AVX2 pg_attribute_always_inline __m256
half8_to_float(__m128i h)
{
	__m128i		mag = _mm_and_si128(h, _mm_set1_epi16(0x7fff));
	__m128i		snan = _mm_and_si128(_mm_cmpgt_epi16(mag, _mm_set1_epi16(0x7c00)),
									 _mm_cmpgt_epi16(_mm_set1_epi16(0x7e00), mag));
	__m256i		quiet = _mm256_and_si256(_mm256_cvtepi16_epi32(snan),
										 _mm256_set1_epi32(0x00400000));

	return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_castps_si256(_mm256_cvtph_ps(h)),
												quiet));
}

/* Widen n binary16 values to float. */
static MV_TARGET_AVX2 void
f16_to_f32_avx2(const uint16 *in, float *out, int n)
{
	int			i = 0;

	for (; i + MV_AVX2_LANES <= n; i += MV_AVX2_LANES)
		_mm256_storeu_ps(out + i,
						 half8_to_float(_mm_loadu_si128((const __m128i *) (in + i))));
	for (; i < n; i++)
		out[i] = MvHalfToFloat(in[i]);
}

/*
 * Count the set bits of each 64-bit lane of v: two lookups of 4-bit counts
 * with VPSHUFB, then VPSADBW adds each lane's eight byte counts.
 */
static MV_TARGET_AVX2 pg_attribute_always_inline __m256i
popcount_lanes(__m256i v)
{
	const __m256i nibble_counts = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3,
												   1, 2, 2, 3, 2, 3, 3, 4,
												   0, 1, 1, 2, 1, 2, 2, 3,
												   1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i low4 = _mm256_set1_epi8(0x0f);
	__m256i		lo = _mm256_shuffle_epi8(nibble_counts, _mm256_and_si256(v, low4));
	__m256i		hi = _mm256_shuffle_epi8(nibble_counts,
										 _mm256_and_si256(_mm256_srli_epi16(v, 4), low4));

	return _mm256_sad_epu8(_mm256_add_epi8(lo, hi), _mm256_setzero_si256());
}

/* Add op's counts for 32 bytes x and y to c0 and c1. */
static MV_TARGET_AVX2 pg_attribute_always_inline void
bits_step(__m256i x, __m256i y, MvBitOp op, __m256i *c0, __m256i *c1)
{
	switch (op)
	{
		case MV_BIT_POPCOUNT:
			*c0 = _mm256_add_epi64(*c0, popcount_lanes(x));
			break;
		case MV_BIT_XOR:
			*c0 = _mm256_add_epi64(*c0, popcount_lanes(_mm256_xor_si256(x, y)));
			break;
		case MV_BIT_AND_OR:
			*c0 = _mm256_add_epi64(*c0, popcount_lanes(_mm256_and_si256(x, y)));
			*c1 = _mm256_add_epi64(*c1, popcount_lanes(_mm256_or_si256(x, y)));
			break;
	}
}

/* Add the four 64-bit lanes of v. */
static MV_TARGET_AVX2 pg_attribute_always_inline uint64
hsum4_epi64(__m256i v)
{
	__m128i		s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));

	return (uint64) _mm_cvtsi128_si64(s) + (uint64) _mm_extract_epi64(s, 1);
}

/*
 * Count op's bits over nbytes of a and b (b unused for MV_BIT_POPCOUNT) into
 * counts[0] and counts[1]; a short last block is zero-padded.
 */
static MV_TARGET_AVX2 pg_attribute_always_inline void
avx2_bits(const uint8 *a, const uint8 *b, int nbytes, MvBitOp op,
		  uint64 *counts)
{
	__m256i		c0 = _mm256_setzero_si256();
	__m256i		c1 = _mm256_setzero_si256();
	__m256i		y = _mm256_setzero_si256();
	int			i = 0;

	for (; i + 32 <= nbytes; i += 32)
	{
		if (op != MV_BIT_POPCOUNT)
			y = _mm256_loadu_si256((const __m256i *) (b + i));
		bits_step(_mm256_loadu_si256((const __m256i *) (a + i)), y, op, &c0, &c1);
	}
	if (i < nbytes)
	{
		uint8		abuf[32] = {0};
		uint8		bbuf[32] = {0};

		memcpy(abuf, a + i, nbytes - i);
		if (op != MV_BIT_POPCOUNT)
		{
			memcpy(bbuf, b + i, nbytes - i);
			y = _mm256_loadu_si256((const __m256i *) bbuf);
		}
		bits_step(_mm256_loadu_si256((const __m256i *) abuf), y, op, &c0, &c1);
	}
	counts[0] = hsum4_epi64(c0);
	counts[1] = hsum4_epi64(c1);
}

MV_DEFINE_BIT_KERNELS(avx2, MV_TARGET_AVX2, avx2_bits)

/*
 * Groups bits_lut_sums adds up in 16-bit lanes before it widens them: each
 * 128-bit half of a register takes every other group, at most 4 *
 * MV_LUT_WEIGHT_MAX (252) a group, so 512 groups stay below 65,536.
 */
#define MV_LUT_FLUSH_GROUPS	512
StaticAssertDecl(MV_LUT_FLUSH_GROUPS % 2 == 0 &&
				 MV_LUT_FLUSH_GROUPS / 2 * 4 * MV_LUT_WEIGHT_MAX < 65536,
				 "bits_lut_sums's 16-bit sums must not wrap between flushes");

/*
 * Add r's bytes into 16-bit lanes: odd gets the odd bytes, even gets whole
 * lanes (each even byte plus 256 times the odd one, taken out at the end).
 */
static MV_TARGET_AVX2 pg_attribute_always_inline void
lut_add(__m256i r, __m256i *even, __m256i *odd)
{
	*even = _mm256_add_epi16(*even, r);
	*odd = _mm256_add_epi16(*odd, _mm256_srli_epi16(r, 8));
}

/*
 * bits_lut_sums with VPSHUFB: per pair of groups, one 32-byte load holds the
 * two groups' nibbles of 32 codes, another their two tables; the low
 * nibbles (codes 0 to 15) and the high ones (codes 16 to 31) each look their
 * weights up, two groups at once (one per 128-bit half).
 */
MV_TARGET_AVX2 void
MvBitsLutSumsAvx2(const uint8 *codes, int ngroups, int nblocks, const uint8 *lut, uint32 *out)
{
	const __m256i low4 = _mm256_set1_epi8(0x0f);

	Assert(ngroups % 2 == 0);	/* groups are read in pairs */
	for (int b = 0; b < nblocks; b++)
	{
		const uint8 *block = codes + (Size) b * MV_LUT_BLOCK_BYTES(ngroups);
		uint32	   *o = out + (Size) b * MV_LUT_BLOCK;

		memset(o, 0, sizeof(uint32) * MV_LUT_BLOCK);
		for (int g0 = 0; g0 < ngroups; g0 += MV_LUT_FLUSH_GROUPS)
		{
			int			gend = Min(ngroups, g0 + MV_LUT_FLUSH_GROUPS);

			/* [codes 0-15, 16-31][even, odd bytes] */
			__m256i		acc[2][2];
			uint16		lanes[2][2][16];

			for (int part = 0; part < 2; part++)
				acc[part][0] = acc[part][1] = _mm256_setzero_si256();
			for (int g = g0; g < gend; g += 2)
			{
				__m256i		c = _mm256_loadu_si256((const __m256i *) (block + (Size) g * 16));
				__m256i		na = _mm256_and_si256(c, low4);
				__m256i		nb = _mm256_and_si256(_mm256_srli_epi16(c, 4), low4);
				__m256i		t = _mm256_loadu_si256((const __m256i *) (lut + (Size) g * 16));

				lut_add(_mm256_shuffle_epi8(t, na), &acc[0][0], &acc[0][1]);
				lut_add(_mm256_shuffle_epi8(t, nb), &acc[1][0], &acc[1][1]);
			}
			for (int part = 0; part < 2; part++)
				for (int eo = 0; eo < 2; eo++)
					_mm256_storeu_si256((__m256i *) lanes[part][eo], acc[part][eo]);
			/* lane l covers bytes 2 (l % 8) and 2 (l % 8) + 1 of its 128-bit half */
			for (int part = 0; part < 2; part++)
				for (int l = 0; l < 16; l++)
				{
					uint16		odd = lanes[part][1][l];
					uint16		even = (uint16) (lanes[part][0][l] - (uint16) (odd << 8));
					int			code = part * 16 + (l % 8) * 2;

					o[code] += even;
					o[code + 1] += odd;
				}
		}
	}
}

/*
 * sketch_bounds, eight rows at a time: the per-centroid terms gathered by
 * each row's centroid, the same operations in the same order as
 * mv_sketch_bound_row, which takes the last rows.
 */
MV_TARGET_AVX2 void
MvSketchBoundsAvx2(const MvSketchRows *rows, const MvSketchQuery *query, int n,
				   float *lower, float *upper)
{
	const __m256 two = _mm256_set1_ps(2.0f);
	const __m256 zero = _mm256_setzero_ps();
	const __m256 inf = _mm256_set1_ps(INFINITY);
	const __m256 ninf = _mm256_set1_ps(-INFINITY);
	const __m256 fltmax = _mm256_set1_ps(FLT_MAX);
	const __m256 abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	const __m256 base = _mm256_set1_ps(query->base);
	const __m256 lo = _mm256_set1_ps(query->lo);
	const __m256 delta = _mm256_set1_ps(query->delta);
	const __m256 qerr = _mm256_set1_ps(query->qerr);
	int			r = 0;

	for (; r + 8 <= n; r += 8)
	{
		__m256i		j = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *) (rows->cent + r)));
		__m256		ynorm = _mm256_i32gather_ps(query->ynorm, j, 4);
		__m256		constant = _mm256_i32gather_ps(query->constant, j, 4);
		__m256		ones = _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *) (rows->ones + r))));
		/* signed: sums of weights below 256 over a growing row's dimensions stay far below 2^31 */
		__m256		dots = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *) (rows->dots + r)));
		__m256		scale = _mm256_loadu_ps(rows->scale + r);
		__m256		aux = _mm256_loadu_ps(rows->aux + r);
		__m256		sq = _mm256_add_ps(base, _mm256_mul_ps(two, _mm256_add_ps(_mm256_mul_ps(lo, ones),
																		   _mm256_mul_ps(delta, dots))));
		__m256		xy = _mm256_sub_ps(_mm256_mul_ps(scale, sq), _mm256_loadu_ps(rows->signC + r));
		__m256		span = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(rows->err + r), ynorm),
										 _mm256_mul_ps(scale, qerr));
		__m256		estimate;
		__m256		low;
		__m256		finite;
		__m256		gone;

		if (query->l2)
		{
			estimate = _mm256_sub_ps(_mm256_add_ps(aux, constant), _mm256_mul_ps(two, xy));
			span = _mm256_mul_ps(span, two);
			/* NaN gives 0, as in C: the row is not finite, and overflowed below */
			low = _mm256_max_ps(_mm256_sub_ps(estimate, span), zero);
		}
		else
		{
			estimate = _mm256_sub_ps(zero, _mm256_add_ps(_mm256_add_ps(xy, aux), constant));
			low = _mm256_sub_ps(estimate, span);
		}
		finite = _mm256_and_ps(_mm256_cmp_ps(_mm256_and_ps(estimate, abs), fltmax, _CMP_LE_OQ),
							   _mm256_cmp_ps(_mm256_and_ps(span, abs), fltmax, _CMP_LE_OQ));
		gone = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *) (rows->gone + r))),
													  _mm256_setzero_si256()));
		low = _mm256_blendv_ps(ninf, low, finite);
		_mm256_storeu_ps(lower + r, _mm256_blendv_ps(low, inf, gone));
		_mm256_storeu_ps(upper + r, _mm256_blendv_ps(_mm256_blendv_ps(inf, _mm256_add_ps(estimate, span), finite),
													 inf, gone));
	}
	for (; r < n; r++)
		mv_sketch_bound_row(rows, query, r, &lower[r], &upper[r]);
}

const MvKernelSet MvKernelSetAvx2 = MV_KERNEL_SET("avx2", avx2, avx2, MvBitsLutSumsAvx2, MvSketchBoundsAvx2);

#endif							/* __x86_64__ */
