/*
 * bench_kernels.c
 *		Micro-benchmark of the distance kernels, every kernel set the CPU runs.
 *
 * Each kernel is called on one query vector against a pool of base vectors
 * that, all together, take about POOL_BYTES and so stay in L1/L2, walking
 * the pool the way a scan would.  A measurement repeats the calls for at
 * least the given time and keeps the best of REPEATS; the table gives
 * nanoseconds per call, the bytes of input (and output) per call as GB/s,
 * and for the float kernels GFLOP/s, counting per element 3 for l2sq
 * (subtract, multiply, add), 2 for dot, 2 for l1 (subtract, add) and 6 for
 * cosine_parts.
 */
#include "postgres_fe.h"

#include <time.h>

#include "milvus/distance.h"
#include "milvus/half.h"

#define MAX_SETS		8
#define POOL_BYTES		(128 * 1024)
#define MAX_DIM			1536
#define REPEATS			15
#define DEFAULT_MIN_MS	10

/* what is timed */
typedef enum Kernel
{
	K_F32_L2SQ,
	K_F32_DOT,
	K_F32_L1,
	K_F32_COSINE,
	K_F16_L2SQ,
	K_F16_DOT,
	K_F16_L1,
	K_F16_COSINE,
	K_F16_TO_F32,
	K_BITS_POPCOUNT,
	K_BITS_XOR,
	K_BITS_AND_OR,
	NUM_KERNELS
} Kernel;

typedef struct KernelInfo
{
	const char *name;
	int			elsize;			/* bytes per element read from each input */
	int			inputs;			/* vectors read per call */
	int			flops;			/* per element, 0 for none */
	bool		bits;			/* timed at bit_dims, not float_dims */
} KernelInfo;

static const KernelInfo kernels[NUM_KERNELS] = {
	{"f32_l2sq", 4, 2, 3, false},
	{"f32_dot", 4, 2, 2, false},
	{"f32_l1", 4, 2, 2, false},
	{"f32_cosine_parts", 4, 2, 6, false},
	{"f16_l2sq", 2, 2, 3, false},
	{"f16_dot", 2, 2, 2, false},
	{"f16_l1", 2, 2, 2, false},
	{"f16_cosine_parts", 2, 2, 6, false},
	{"f16_to_f32", 2, 1, 0, false},
	{"bits_popcount", 1, 1, 0, true},
	{"bits_xor_popcount", 1, 2, 0, true},
	{"bits_and_or_popcount", 1, 2, 0, true},
};

static const int float_dims[] = {128, 784, 1536};
static const int bit_dims[] = {1024};	/* in bits */

/* the pools: POOL_BYTES of vectors, and a spare one past the end */
#define POOL_LEN		(POOL_BYTES + MAX_DIM * sizeof(float))
static float f32_pool[POOL_LEN / sizeof(float)] pg_attribute_aligned(64);
static uint16 f16_pool[POOL_LEN / sizeof(uint16)] pg_attribute_aligned(64);
static uint8 bit_pool[POOL_LEN] pg_attribute_aligned(64);
static float f32_out[MAX_DIM] pg_attribute_aligned(64);

/* keeps the compiler from dropping the calls */
static volatile double sink;

/* Monotonic time in nanoseconds. */
static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/*
 * Call kernel k of set iterations times on vectors of n elements (bytes for
 * the bit kernels): vector 0 of the pool against vectors 1 to count - 1.
 */
static void
run(const MvKernelSet *set, Kernel k, int n, int count, long iterations)
{
	double		acc = 0;
	long		it;
	int			j = 1;

	for (it = 0; it < iterations; it++)
	{
		const float *fq = f32_pool;
		const float *fv = f32_pool + (size_t) j * n;
		const uint16 *hq = f16_pool;
		const uint16 *hv = f16_pool + (size_t) j * n;
		const uint8 *bq = bit_pool;
		const uint8 *bv = bit_pool + (size_t) j * n;
		float		ab,
					aa,
					bb;
		uint64		and_count,
					or_count;

		switch (k)
		{
			case K_F32_L2SQ:
				acc += set->f32_l2sq(fq, fv, n);
				break;
			case K_F32_DOT:
				acc += set->f32_dot(fq, fv, n);
				break;
			case K_F32_L1:
				acc += set->f32_l1(fq, fv, n);
				break;
			case K_F32_COSINE:
				set->f32_cosine_parts(fq, fv, n, &ab, &aa, &bb);
				acc += ab + aa + bb;
				break;
			case K_F16_L2SQ:
				acc += set->f16_l2sq(hq, hv, n);
				break;
			case K_F16_DOT:
				acc += set->f16_dot(hq, hv, n);
				break;
			case K_F16_L1:
				acc += set->f16_l1(hq, hv, n);
				break;
			case K_F16_COSINE:
				set->f16_cosine_parts(hq, hv, n, &ab, &aa, &bb);
				acc += ab + aa + bb;
				break;
			case K_F16_TO_F32:
				set->f16_to_f32(hv, f32_out, n);
				acc += f32_out[n - 1];
				break;
			case K_BITS_POPCOUNT:
				acc += set->bits_popcount(bv, n);
				break;
			case K_BITS_XOR:
				acc += set->bits_xor_popcount(bq, bv, n);
				break;
			case K_BITS_AND_OR:
				set->bits_and_or_popcount(bq, bv, n, &and_count, &or_count);
				acc += and_count + or_count;
				break;
			case NUM_KERNELS:
				break;
		}
		if (++j == count)
			j = 1;
	}
	sink += acc;
}

/* Time kernel k of set at n elements and print a row of the table. */
static void
bench(const MvKernelSet *set, Kernel k, int n, double min_ns)
{
	const KernelInfo *info = &kernels[k];
	size_t		vector_bytes = (size_t) n * info->elsize;
	int			count = Max(2, (int) (POOL_BYTES / vector_bytes));
	long		iterations = 1000;
	double		best = 0;
	double		bytes;
	int			r;

	/* grow the count until one run takes min_ns */
	for (;;)
	{
		double		start = now_ns();
		double		elapsed;

		run(set, k, n, count, iterations);
		elapsed = now_ns() - start;
		if (elapsed >= min_ns)
			break;
		iterations = (long) (iterations * Min(100.0, 1.5 * min_ns / Max(elapsed, 1.0)));
	}
	for (r = 0; r < REPEATS; r++)
	{
		double		start = now_ns();
		double		per_call;

		run(set, k, n, count, iterations);
		per_call = (now_ns() - start) / iterations;
		if (r == 0 || per_call < best)
			best = per_call;
	}

	bytes = (double) vector_bytes * info->inputs;
	if (k == K_F16_TO_F32)
		bytes += (double) n * sizeof(float);
	printf("%-17s %-21s %6d %9.1f %8.1f", set->name, info->name,
		   info->bits ? n * 8 : n, best, bytes / best);
	if (info->flops > 0)
		printf(" %8.1f", (double) n * info->flops / best);
	printf("\n");
	fflush(stdout);
}

/*
 * The growing-segment sketch's scan: bits_lut_sums over SKETCH_ROWS codes of
 * SKETCH_BITS bits, in blocks, against a query quantised to MV_LUT_WEIGHT_BITS bits, as a
 * lookup table; best of REPEATS, in nanoseconds a code and microseconds a
 * scan.  The codes (1.3 MB) overflow the L2 cache, as a sketch's do.
 */
#define SKETCH_ROWS		10000
#define SKETCH_BITS		1024

static void
bench_sketch(const MvKernelSet *set, double min_ns)
{
	int			nwords = SKETCH_BITS / 64;
	int			ngroups = SKETCH_BITS / 4;
	int			nblocks = (SKETCH_ROWS + MV_LUT_BLOCK - 1) / MV_LUT_BLOCK;
	uint64	   *bits = malloc(sizeof(uint64) * nwords);
	uint8	   *weights = malloc(SKETCH_BITS);
	uint8	   *codes = calloc(nblocks, MV_LUT_BLOCK_BYTES(ngroups));
	uint8	   *lut = malloc(MV_LUT_BYTES(ngroups));
	uint32	   *out = malloc(sizeof(uint32) * nblocks * MV_LUT_BLOCK);
	double		best = 0;

	for (int i = 0; i < SKETCH_ROWS; i++)
	{
		for (int w = 0; w < nwords; w++)
			bits[w] = ((uint64) rand() << 40) ^ ((uint64) rand() << 20) ^ (uint64) rand();
		MvBitsLutSetCode(codes, ngroups, i, bits);
	}
	for (int i = 0; i < SKETCH_BITS; i++)
		weights[i] = (uint8) (rand() % (MV_LUT_WEIGHT_MAX + 1));
	MvBitsLutBuild(weights, ngroups, lut);

	for (int r = 0; r < REPEATS; r++)
	{
		double		start = now_ns();
		long		scans = 0;
		double		per_scan;

		do
		{
			set->bits_lut_sums(codes, ngroups, nblocks, lut, out);
			sink += out[scans % SKETCH_ROWS];
			scans++;
		} while (now_ns() - start < min_ns);
		per_scan = (now_ns() - start) / scans;
		if (r == 0 || per_scan < best)
			best = per_scan;
	}
	printf("%-17s %-21s %6d %9.1f %8.1f  (a code; %d codes: %.1f us)\n", set->name,
		   "bits_lut_sums", SKETCH_BITS, best / SKETCH_ROWS,
		   (double) SKETCH_BITS / 8 * SKETCH_ROWS / best, SKETCH_ROWS, best / 1000);
	fflush(stdout);
	free(bits);
	free(weights);
	free(codes);
	free(lut);
	free(out);
}

/*
 * Time every kernel of every set.  Arguments: the least time of one
 * measurement in milliseconds, then optionally the names of the sets to time.
 */
int
main(int argc, char **argv)
{
	const MvKernelSet *sets[MAX_SETS];
	int			nsets = MvKernelSetsSupported(sets, MAX_SETS);
	double		min_ns = 1e6 * ((argc > 1) ? atof(argv[1]) : DEFAULT_MIN_MS);
	size_t		i;
	int			s;
	int			k;
	int			d;

	srand(1);
	for (i = 0; i < lengthof(f32_pool); i++)
		f32_pool[i] = (float) ((double) rand() / RAND_MAX * 2.0 - 1.0);
	for (i = 0; i < lengthof(f16_pool); i++)
		f16_pool[i] = MvFloatToHalf((float) ((double) rand() / RAND_MAX * 2.0 - 1.0));
	for (i = 0; i < lengthof(bit_pool); i++)
		bit_pool[i] = (uint8) rand();

	printf("# pool of %d KiB per kernel, best of %d runs of at least %.0f ms\n",
		   POOL_BYTES / 1024, REPEATS, min_ns / 1e6);
	printf("%-17s %-21s %6s %9s %8s %8s\n",
		   "set", "kernel", "dim", "ns/call", "GB/s", "GFLOP/s");
	for (s = 0; s < nsets; s++)
	{
		bool		wanted = (argc <= 2);

		for (i = 2; i < argc; i++)
			if (strcmp(argv[i], sets[s]->name) == 0)
				wanted = true;
		if (!wanted)
			continue;
		for (k = 0; k < NUM_KERNELS; k++)
		{
			if (kernels[k].bits)
			{
				for (d = 0; d < lengthof(bit_dims); d++)
					bench(sets[s], k, bit_dims[d] / 8, min_ns);
			}
			else
			{
				for (d = 0; d < lengthof(float_dims); d++)
					bench(sets[s], k, float_dims[d], min_ns);
			}
		}
		bench_sketch(sets[s], min_ns);
	}
	return sink == 42.0 ? 1 : 0;
}
