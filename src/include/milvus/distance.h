/*
 * distance.h
 *		Distance kernels, one set per instruction-set level, chosen at load time.
 *
 * MvKernelsInit() points MvKernels at the best set the CPU supports (AVX-512,
 * AVX2+FMA+F16C, or portable C); the superuser setting milvus.distance_kernels
 * may point it at another the CPU runs, for testing.  All sets compute the
 * same quantities; they may differ only by float rounding.  Half-precision
 * inputs are IEEE binary16 bit patterns.  Bit kernels work on whole bytes.
 *
 * Read MvKernels at each call and never keep one of its function pointers:
 * the set may change between any two calls.
 */
#ifndef MILVUS_DISTANCE_H
#define MILVUS_DISTANCE_H

/*
 * What sketch_bounds reads of a growing-segment sketch's rows (hnswsketch.c)
 * and of a query.  For row r, j = cent[r]:
 *   sq = base + 2 (lo ones[r] + delta dots[r])        <sign(x), q>, quantised
 *   xy = scale[r] sq - signC[r]                        <x, q - c>
 *   span = err[r] ynorm[j] + scale[r] qerr
 *   l2: estimate = aux[r] + constant[j] - 2 xy, span doubled,
 *       lower = max(estimate - span, 0)
 *   ip, cosine: estimate = -(xy + aux[r] + constant[j]), lower = estimate - span
 *   upper = estimate + span
 * A row whose estimate or span is not finite gets lower -inf and upper inf;
 * a gone row gets inf for both.  Sets may differ only by float rounding.
 */
typedef struct MvSketchRows
{
	const uint32 *dots;			/* bits_lut_sums's sums */
	const uint16 *ones;			/* bits set in each code */
	const float *scale;
	const float *signC;
	const float *err;
	const float *aux;
	const uint8 *cent;			/* each row's centroid, below 256 */
	const bool *gone;
} MvSketchRows;

typedef struct MvSketchQuery
{
	const float *ynorm;			/* per centroid */
	const float *constant;		/* per centroid */
	float		base;
	float		lo;
	float		delta;
	float		qerr;
	bool		l2;
} MvSketchQuery;

typedef struct MvKernelSet
{
	const char *name;			/* "scalar", "popcnt", "avx2", ... */

	/* float32 */
	float		(*f32_l2sq) (const float *a, const float *b, int n);
	float		(*f32_dot) (const float *a, const float *b, int n);
	float		(*f32_l1) (const float *a, const float *b, int n);
	/* a.b, a.a and b.b in one pass */
	void		(*f32_cosine_parts) (const float *a, const float *b, int n,
									 float *ab, float *aa, float *bb);
	/* a, of n floats (a power of 2), through an unnormalised Walsh-Hadamard transform */
	void		(*f32_fwht) (float *a, int n);

	/* float16 */
	float		(*f16_l2sq) (const uint16 *a, const uint16 *b, int n);
	float		(*f16_dot) (const uint16 *a, const uint16 *b, int n);
	float		(*f16_l1) (const uint16 *a, const uint16 *b, int n);
	void		(*f16_cosine_parts) (const uint16 *a, const uint16 *b, int n,
									 float *ab, float *aa, float *bb);
	void		(*f16_to_f32) (const uint16 *in, float *out, int n);

	/* bits */
	uint64		(*bits_popcount) (const uint8 *a, int nbytes);
	uint64		(*bits_xor_popcount) (const uint8 *a, const uint8 *b, int nbytes);
	void		(*bits_and_or_popcount) (const uint8 *a, const uint8 *b, int nbytes,
										 uint64 *and_count, uint64 *or_count);

	/*
	 * For each code of nblocks blocks of MV_LUT_BLOCK codes, the sum of the
	 * weights of its set bits, each at most MV_LUT_WEIGHT_MAX (the dot
	 * product of a code's bits with a query quantised to
	 * MV_LUT_WEIGHT_BITS bits per dimension), looked up four bits at a time
	 * in lut: codes and lut as MvBitsLutSetCode and MvBitsLutBuild lay them
	 * out, ngroups = bits per code / 4, even.  out gets MV_LUT_BLOCK sums
	 * per block.
	 */
	void		(*bits_lut_sums) (const uint8 *codes, int ngroups, int nblocks,
								  const uint8 *lut, uint32 *out);

	/* the growing-segment sketch's bounds of rows 0 to n - 1 (MvSketchRows) */
	void		(*sketch_bounds) (const MvSketchRows *rows, const MvSketchQuery *query,
								  int n, float *lower, float *upper);
} MvKernelSet;

/*
 * The block layout of bits_lut_sums.  A block of MV_LUT_BLOCK codes holds,
 * for each group g of four bits (bits 4g to 4g + 3 of every code), 16 bytes:
 * byte j has the group's bits of code j in its low half and of code j + 16
 * in its high half.  The lookup table holds, for each group, 16 bytes: for
 * each nibble value v, the sum of the weights of the bits set in v.  Four
 * weights of MV_LUT_WEIGHT_BITS bits add up to at most 252: one byte, one
 * byte shuffle per group of 16 codes.
 */
#define MV_LUT_BLOCK		32
#define MV_LUT_BLOCK_BYTES(ngroups)	((Size) (ngroups) * 16)
#define MV_LUT_BYTES(ngroups)		((Size) (ngroups) * 16)
#define MV_LUT_WEIGHT_BITS	6
#define MV_LUT_WEIGHT_MAX	((1 << MV_LUT_WEIGHT_BITS) - 1)

/*
 * Store code i of a block layout (its ngroups * 4 bits as 64-bit words).  It
 * replaces code i's nibbles and keeps the other half of each byte (code
 * i +/- 16's); what bits_lut_sums gives for a code never stored is whatever
 * the bytes held.
 */
extern void MvBitsLutSetCode(uint8 *codes, int ngroups, int i, const uint64 *bits);

/* Store code j of the block layout src as code i of dst, as MvBitsLutSetCode */
extern void MvBitsLutCopyCode(uint8 *dst, int i, const uint8 *src, int j, int ngroups);

/* The lookup table of ngroups * 4 weights (0 to MV_LUT_WEIGHT_MAX) */
extern void MvBitsLutBuild(const uint8 *weights, int ngroups, uint8 *lut);

/* the most kernel sets there are */
#define MV_MAX_KERNEL_SETS	8

/* one kernel set the code knows of, and whether this CPU runs it */
typedef struct MvKernelSetInfo
{
	const char *name;
	const MvKernelSet *set;		/* NULL when not built for this architecture */
	const char *missing;		/* NULL when the CPU runs it; else why not */
} MvKernelSetInfo;

/* the set in use; valid after MvKernelsInit() */
extern PGDLLIMPORT const MvKernelSet *MvKernels;

extern void MvKernelsInit(void);

/*
 * Fill sets[] with every kernel set this CPU can run, portable first and the
 * one MvKernelsInit() chooses last; returns how many.
 */
extern int	MvKernelSetsSupported(const MvKernelSet **sets, int max);

/*
 * Fill info[] with every kernel set there is, portable first and best last,
 * saying for each whether this CPU runs it; returns how many.
 */
extern int	MvKernelSetsKnown(MvKernelSetInfo *info, int max);

#endif							/* MILVUS_DISTANCE_H */
