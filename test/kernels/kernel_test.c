/*
 * kernel_test.c
 *		The distance kernels against a double-precision reference, without a
 *		server.
 *
 * The program links src/types/distance*.c directly and takes every kernel
 * set the CPU can run from MvKernelSetsSupported().  Each kernel of each set
 * is run at many lengths, on fixed-seed data of several kinds, from aligned
 * and misaligned addresses, with NaN or all-ones sentinels just past the end
 * so that a kernel reading too far fails.  Float results must lie within the
 * worst-case rounding error of the computation (see float_tolerance); counts
 * of bits and widened binary16 values must be exact.  Last, MvFloatToHalf is
 * compared with the F16C instruction.  Output is TAP: one line per (kernel
 * set, kernel), diagnostics on "#" lines, the plan at the end; the exit
 * status is non-zero if anything failed.  Before the tests, a line
 * "SKIP <set>: <reason>" names each kernel set that is not run because this
 * CPU cannot run it (scripts/test counts those lines as skipped).
 */
#include "postgres_fe.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <time.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "milvus/distance.h"
#include "milvus/half.h"

#define MAX_SETS		8
#define MAX_DIM			65536	/* the longest run: all binary16 patterns */
#define SENTINEL_LEN	64		/* elements or bytes past the end */
#define MAX_MESSAGES	5		/* diagnostics printed per group */

/* the lengths every kernel is run at: the required ones and loop edges */
static const int test_dims[] = {
	0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 129, 784, 1536, 32768
};

/* the float kernels, run the same way on float and binary16 input */
typedef enum FloatKernel
{
	K_L2SQ,
	K_DOT,
	K_L1,
	K_COSINE
} FloatKernel;

static const char *const float_kernel_names[] = {"l2sq", "dot", "l1", "cosine_parts"};

/* the kinds of data every float kernel sees */
typedef enum DataKind
{
	DATA_MIXED,					/* signs, zeros, huge, tiny, integers */
	DATA_UNIT,					/* uniform in [-1, 1) */
	DATA_TINY,					/* products fall below FLT_MIN */
	NUM_DATA_KINDS
} DataKind;

/* the kinds of data every bit kernel sees */
typedef enum BitKind
{
	BITS_RANDOM,
	BITS_SPARSE,				/* one bit per byte */
	BITS_ONES,
	BITS_ZEROS,
	BITS_SAME,					/* b is a copy of a */
	NUM_BIT_KINDS
} BitKind;

static uint64 rng_state;
static int	test_count;
static double worst_ratio;		/* largest float error / its bound so far */
static char worst_where[128];
static int	failed_count;
static int	group_failures;

/* buffers with room for the data, a misaligned start and the sentinels */
#define BUFFER_LEN		(MAX_DIM + 1 + SENTINEL_LEN)
static float fa[BUFFER_LEN] pg_attribute_aligned(64);
static float fb[BUFFER_LEN] pg_attribute_aligned(64);
static float fout[BUFFER_LEN] pg_attribute_aligned(64);
static uint16 ha[BUFFER_LEN] pg_attribute_aligned(64);
static uint16 hb[BUFFER_LEN] pg_attribute_aligned(64);
static uint8 ba[BUFFER_LEN] pg_attribute_aligned(64);
static uint8 bb[BUFFER_LEN] pg_attribute_aligned(64);

/* Start the random sequence again from seed. */
static void
rng_seed(uint64 seed)
{
	rng_state = seed;
}

/* The next 64 random bits (splitmix64). */
static uint64
rng_next(void)
{
	uint64		z = (rng_state += UINT64CONST(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A uniform double in [0, 1). */
static double
rng_unit(void)
{
	return (double) (rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

/* A random sign. */
static double
rng_sign(void)
{
	return (rng_next() & 1) ? -1.0 : 1.0;
}

/* Record a failure of the current group, printing the first few. */
static void
pg_attribute_printf(1, 2)
fail(const char *fmt,...)
{
	va_list		args;

	if (group_failures++ < MAX_MESSAGES)
	{
		printf("# ");
		va_start(args, fmt);
		vprintf(fmt, args);
		va_end(args);
		printf("\n");
	}
}

/* Print the TAP line of the group just run, and start a new one. */
static void
end_group(const char *set, const char *what)
{
	test_count++;
	if (group_failures > 0)
	{
		failed_count++;
		if (group_failures > MAX_MESSAGES)
			printf("# ... %d failures in all\n", group_failures);
		printf("not ok %d - %s %s\n", test_count, set, what);
	}
	else
		printf("ok %d - %s %s\n", test_count, set, what);
	fflush(stdout);
	group_failures = 0;
}

/* One random float of the given kind. */
static float
random_float(DataKind kind)
{
	uint64		r = rng_next() % 10;

	switch (kind)
	{
		case DATA_MIXED:
			if (r < 4)
				return (float) (rng_sign() * rng_unit());
			if (r == 4)
				return 0.0f;
			if (r == 5)
				return (float) (rng_sign() * ldexp(1.0 + rng_unit(), 40 + (int) (rng_next() % 10)));
			if (r == 6)
				return (float) (rng_sign() * ldexp(1.0 + rng_unit(), -100 - (int) (rng_next() % 20)));
			if (r == 7)
				return (float) ((int) (rng_next() % 201) - 100);
			return (float) (rng_sign() * ldexp(1.0 + rng_unit(), (int) (rng_next() % 41) - 20));
		case DATA_UNIT:
			return (float) (rng_sign() * rng_unit());
		case DATA_TINY:
			return (float) (rng_sign() * ldexp(1.0 + rng_unit(), -100 + (int) (rng_next() % 40)));
		case NUM_DATA_KINDS:
			break;
	}
	return 0.0f;
}

/* One random finite binary16 value of the given kind. */
static uint16
random_half(DataKind kind)
{
	uint16		h;

	switch (kind)
	{
		case DATA_MIXED:
			/* any finite pattern: zeros, subnormals, up to 65504 */
			do
				h = (uint16) rng_next();
			while ((h & 0x7c00) == 0x7c00);
			return h;
		case DATA_UNIT:
			return MvFloatToHalf((float) (rng_sign() * rng_unit()));
		case DATA_TINY:
			/* subnormals only */
			return (uint16) (rng_next() & 0x83ff);
		case NUM_DATA_KINDS:
			break;
	}
	return 0;
}

/* Element i of a float or binary16 array as a double. */
static double
element(const void *p, int i, bool half)
{
	if (half)
		return (double) MvHalfToFloat(((const uint16 *) p)[i]);
	return (double) ((const float *) p)[i];
}

/*
 * Compute in double what kernel computes over n elements into ref[], and the
 * sums of the absolute values of their terms into abs_sum[].
 */
static void
reference(FloatKernel kernel, const void *a, const void *b, int n, bool half,
		  double *ref, double *abs_sum)
{
	int			i;

	ref[0] = ref[1] = ref[2] = 0.0;
	for (i = 0; i < n; i++)
	{
		double		x = element(a, i, half);
		double		y = element(b, i, half);

		switch (kernel)
		{
			case K_L2SQ:
				ref[0] += (x - y) * (x - y);
				break;
			case K_DOT:
				ref[0] += x * y;
				abs_sum[0] += fabs(x * y);
				break;
			case K_L1:
				ref[0] += fabs(x - y);
				break;
			case K_COSINE:
				ref[0] += x * y;
				abs_sum[0] += fabs(x * y);
				ref[1] += x * x;
				ref[2] += y * y;
				break;
		}
	}
	if (kernel != K_DOT && kernel != K_COSINE)
		abs_sum[0] = ref[0];
	abs_sum[1] = ref[1];
	abs_sum[2] = ref[2];
}

/*
 * The largest error a float computation of a sum of n terms may make.
 *
 * Each term is at most two float roundings away from its exact value
 * ((x - y)^2: a subtraction and a product), and however the sum is grouped
 * into lanes and partial sums, each term passes through at most n - 1
 * additions; with u the unit roundoff, the error is at most
 * gamma(n + 2) * sum |term| (Higham, Accuracy and Stability of Numerical
 * Algorithms, 2nd ed., section 4.2), where gamma(k) = k u / (1 - k u).  Below
 * FLT_MIN the roundings are absolute, at most FLT_TRUE_MIN / 2 each, and
 * there are at most 2n of them.  FMA only removes roundings.
 */
static double
float_tolerance(int n, double abs_sum)
{
	double		u = FLT_EPSILON / 2;
	double		k = (double) n + 2;

	return k * u / (1 - k * u) * abs_sum + n * (double) FLT_TRUE_MIN;
}

/* Run kernel of set on n elements of a and b into out[]. */
static void
run_float_kernel(const MvKernelSet *set, FloatKernel kernel, bool half,
				 const void *a, const void *b, int n, float *out)
{
	out[1] = out[2] = 0.0f;
	switch (kernel)
	{
		case K_L2SQ:
			out[0] = half ? set->f16_l2sq(a, b, n) : set->f32_l2sq(a, b, n);
			break;
		case K_DOT:
			out[0] = half ? set->f16_dot(a, b, n) : set->f32_dot(a, b, n);
			break;
		case K_L1:
			out[0] = half ? set->f16_l1(a, b, n) : set->f32_l1(a, b, n);
			break;
		case K_COSINE:
			if (half)
				set->f16_cosine_parts(a, b, n, &out[0], &out[1], &out[2]);
			else
				set->f32_cosine_parts(a, b, n, &out[0], &out[1], &out[2]);
			break;
	}
}

/* Check one run of kernel against the reference. */
static void
check_float_run(const MvKernelSet *set, FloatKernel kernel, bool half,
				const void *a, const void *b, int n, const char *what)
{
	float		got[3];
	double		ref[3];
	double		abs_sum[3] = {0};
	int			nresults = (kernel == K_COSINE) ? 3 : 1;
	int			r;

	run_float_kernel(set, kernel, half, a, b, n, got);
	reference(kernel, a, b, n, half, ref, abs_sum);
	for (r = 0; r < nresults; r++)
	{
		double		tolerance = float_tolerance(n, abs_sum[r]);

		double		error = fabs((double) got[r] - ref[r]);

		if (!(error <= tolerance))
			fail("n=%d %s: result %d is %.9g, reference %.17g, tolerance %.3g",
				 n, what, r, (double) got[r], ref[r], tolerance);
		else if (tolerance > 0 && error / tolerance > worst_ratio)
		{
			worst_ratio = error / tolerance;
			snprintf(worst_where, sizeof(worst_where), "%s %s%s n=%d %s",
					 set->name, half ? "f16_" : "f32_",
					 float_kernel_names[kernel], n, what);
		}
	}
}

/* Fill n elements of p with data of kind, then NaN sentinels. */
static void
fill_float_data(void *p, int n, bool half, DataKind kind)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		if (half)
			((uint16 *) p)[i] = random_half(kind);
		else
			((float *) p)[i] = random_float(kind);
	}
	for (i = n; i < n + SENTINEL_LEN; i++)
	{
		if (half)
			((uint16 *) p)[i] = 0x7e00;
		else
			((float *) p)[i] = NAN;
	}
}

/* Set element i of p to zero, or to NaN. */
static void
set_element(void *p, int i, bool half, bool nan)
{
	if (half)
		((uint16 *) p)[i] = nan ? 0x7e00 : 0;
	else
		((float *) p)[i] = nan ? NAN : 0.0f;
}

/*
 * The results that must be exact: zero vectors give zeros, a vector and its
 * copy give an L2 and L1 distance of 0 and a.b == a.a == b.b, and a NaN
 * anywhere makes the result NaN.
 */
static void
check_float_exact(const MvKernelSet *set, FloatKernel kernel, bool half,
				  void *a, void *b, int n)
{
	size_t		elsize = half ? sizeof(uint16) : sizeof(float);
	float		got[3];
	int			i;

	for (i = 0; i < n; i++)
	{
		set_element(a, i, half, false);
		set_element(b, i, half, false);
	}
	run_float_kernel(set, kernel, half, a, b, n, got);
	if (got[0] != 0.0f || got[1] != 0.0f || got[2] != 0.0f)
		fail("n=%d zero vectors: %g %g %g, want 0", n,
			 (double) got[0], (double) got[1], (double) got[2]);

	fill_float_data(a, n, half, DATA_MIXED);
	memcpy(b, a, (n + SENTINEL_LEN) * elsize);
	run_float_kernel(set, kernel, half, a, b, n, got);
	if ((kernel == K_L2SQ || kernel == K_L1) && got[0] != 0.0f)
		fail("n=%d identical vectors: %g, want exactly 0", n, (double) got[0]);
	if (kernel == K_COSINE && (got[0] != got[1] || got[1] != got[2]))
		fail("n=%d identical vectors: a.b %.9g a.a %.9g b.b %.9g differ", n,
			 (double) got[0], (double) got[1], (double) got[2]);

	if (n > 0)
	{
		int			k = (int) (rng_next() % n);

		set_element(a, k, half, true);
		run_float_kernel(set, kernel, half, a, b, n, got);
		if (!isnan(got[0]))
			fail("n=%d NaN at %d: result %g, want NaN", n, k, (double) got[0]);
	}
}

/* Test one float kernel of set on float (or binary16) input; one TAP line. */
static void
test_float_kernel(const MvKernelSet *set, FloatKernel kernel, bool half)
{
	static const char *const kind_names[] = {"mixed", "unit", "tiny"};
	char		name[64];
	int			d;
	int			kind;
	int			offset;

	rng_seed(UINT64CONST(20240601) + kernel);
	for (d = 0; d < lengthof(test_dims); d++)
	{
		int			n = test_dims[d];

		for (kind = 0; kind < NUM_DATA_KINDS; kind++)
		{
			/* offset 1: four- or two-byte aligned only */
			for (offset = 0; offset <= 1; offset++)
			{
				void	   *a = half ? (void *) (ha + offset) : (void *) (fa + offset);
				void	   *b = half ? (void *) (hb + offset) : (void *) (fb + offset);
				char		what[64];

				fill_float_data(a, n, half, kind);
				fill_float_data(b, n, half, kind);
				snprintf(what, sizeof(what), "%s data, offset %d",
						 kind_names[kind], offset);
				check_float_run(set, kernel, half, a, b, n, what);
			}
		}
		check_float_exact(set, kernel, half, half ? (void *) ha : (void *) fa,
						  half ? (void *) hb : (void *) fb, n);
	}
	snprintf(name, sizeof(name), "%s_%s", half ? "f16" : "f32",
			 float_kernel_names[kernel]);
	end_group(set->name, name);
}

/*
 * Test f16_to_f32 of set: all 65,536 patterns at once, then every test length
 * at two alignments with nothing written past the end; bit-exact against
 * MvHalfToFloat.
 */
static void
test_f16_to_f32(const MvKernelSet *set)
{
	const uint32 canary = 0xdeadbeef;
	int			d;
	int			offset;
	int			i;

	for (i = 0; i < MAX_DIM; i++)
		ha[i] = (uint16) i;
	set->f16_to_f32(ha, fout, MAX_DIM);
	for (i = 0; i < MAX_DIM; i++)
	{
		float		want = MvHalfToFloat((uint16) i);

		if (memcmp(&fout[i], &want, sizeof(float)) != 0)
		{
			uint32		got_bits;
			uint32		want_bits;

			memcpy(&got_bits, &fout[i], sizeof(got_bits));
			memcpy(&want_bits, &want, sizeof(want_bits));
			fail("half 0x%04x: 0x%08x, want 0x%08x", i, got_bits, want_bits);
		}
	}

	rng_seed(UINT64CONST(20240602));
	for (d = 0; d < lengthof(test_dims); d++)
	{
		int			n = test_dims[d];

		for (offset = 0; offset <= 1; offset++)
		{
			uint16	   *in = ha + offset;
			float	   *out = fout + offset;

			for (i = 0; i < n; i++)
				in[i] = (uint16) rng_next();
			for (i = 0; i < n + SENTINEL_LEN; i++)
				memcpy(&out[i], &canary, sizeof(canary));
			set->f16_to_f32(in, out, n);
			for (i = 0; i < n; i++)
			{
				float		want = MvHalfToFloat(in[i]);

				if (memcmp(&out[i], &want, sizeof(float)) != 0)
					fail("n=%d offset %d: element %d (0x%04x) wrong", n, offset, i, in[i]);
			}
			for (i = n; i < n + SENTINEL_LEN; i++)
				if (memcmp(&out[i], &canary, sizeof(canary)) != 0)
					fail("n=%d offset %d: wrote element %d, past the end", n, offset, i);
		}
	}
	end_group(set->name, "f16_to_f32");
}

/* The bits kernels, by the name used in the TAP line. */
typedef enum BitKernel
{
	K_POPCOUNT,
	K_XOR,
	K_AND_OR
} BitKernel;

static const char *const bit_kernel_names[] = {
	"bits_popcount", "bits_xor_popcount", "bits_and_or_popcount"
};

/* Count the set bits of x one by one. */
static int
count_bits(uint8 x)
{
	int			count = 0;
	int			bit;

	for (bit = 0; bit < 8; bit++)
		count += (x >> bit) & 1;
	return count;
}

/* Fill nbytes of a and b with data of kind, then all-ones sentinels. */
static void
fill_bit_data(uint8 *a, uint8 *b, int nbytes, BitKind kind)
{
	int			i;

	for (i = 0; i < nbytes; i++)
	{
		switch (kind)
		{
			case BITS_RANDOM:
			case BITS_SAME:
				a[i] = (uint8) rng_next();
				b[i] = (kind == BITS_SAME) ? a[i] : (uint8) rng_next();
				break;
			case BITS_SPARSE:
				a[i] = (uint8) (1 << (rng_next() % 8));
				b[i] = (uint8) (1 << (rng_next() % 8));
				break;
			case BITS_ONES:
				a[i] = b[i] = 0xff;
				break;
			case BITS_ZEROS:
			case NUM_BIT_KINDS:
				a[i] = b[i] = 0;
				break;
		}
	}
	memset(a + nbytes, 0xff, SENTINEL_LEN);
	memset(b + nbytes, 0xff, SENTINEL_LEN);
}

/* Test one bit kernel of set, exactly; one TAP line. */
static void
test_bit_kernel(const MvKernelSet *set, BitKernel kernel)
{
	int			d;
	int			kind;
	int			offset;

	rng_seed(UINT64CONST(20240603) + kernel);
	for (d = 0; d < lengthof(test_dims); d++)
	{
		int			nbytes = test_dims[d];

		for (kind = 0; kind < NUM_BIT_KINDS; kind++)
		{
			for (offset = 0; offset <= 1; offset++)
			{
				uint8	   *a = ba + offset;
				uint8	   *b = bb + offset;
				uint64		want[2] = {0, 0};
				uint64		got[2] = {0, 0};
				int			i;

				fill_bit_data(a, b, nbytes, kind);
				for (i = 0; i < nbytes; i++)
				{
					switch (kernel)
					{
						case K_POPCOUNT:
							want[0] += count_bits(a[i]);
							break;
						case K_XOR:
							want[0] += count_bits(a[i] ^ b[i]);
							break;
						case K_AND_OR:
							want[0] += count_bits(a[i] & b[i]);
							want[1] += count_bits(a[i] | b[i]);
							break;
					}
				}
				switch (kernel)
				{
					case K_POPCOUNT:
						got[0] = set->bits_popcount(a, nbytes);
						break;
					case K_XOR:
						got[0] = set->bits_xor_popcount(a, b, nbytes);
						break;
					case K_AND_OR:
						set->bits_and_or_popcount(a, b, nbytes, &got[0], &got[1]);
						break;
				}
				if (got[0] != want[0] || got[1] != want[1])
					fail("nbytes=%d kind %d offset %d: " UINT64_FORMAT "/" UINT64_FORMAT
						 ", want " UINT64_FORMAT "/" UINT64_FORMAT,
						 nbytes, kind, offset, got[0], got[1], want[0], want[1]);
			}
		}
	}
	end_group(set->name, bit_kernel_names[kernel]);
}

/*
 * Test f32_fwht of set: on small integers (every sum exact in a float) it
 * must give what a Walsh-Hadamard transform in double gives, for lengths 1
 * to 32,768; on random floats, the same bits as the portable set (the same
 * additions in the same order), portable being the first set.
 */
static void
test_fwht(const MvKernelSet *set, const MvKernelSet *portable)
{
	static const int lengths[] = {1, 2, 8, 64, 1024, 32768};

	rng_seed(UINT64CONST(20261205));
	for (int li = 0; li < lengthof(lengths); li++)
	{
		int			n = lengths[li];
		float	   *a = malloc(sizeof(float) * n);
		float	   *b = malloc(sizeof(float) * n);
		double	   *want = malloc(sizeof(double) * n);

		for (int i = 0; i < n; i++)
			want[i] = a[i] = (float) ((int) (rng_next() % 201) - 100);
		for (int h = 1; h < n; h <<= 1)
			for (int i = 0; i < n; i += 2 * h)
				for (int j = i; j < i + h; j++)
				{
					double		x = want[j];

					want[j] = x + want[j + h];
					want[j + h] = x - want[j + h];
				}
		set->f32_fwht(a, n);
		for (int i = 0; i < n; i++)
			if (a[i] != want[i])
			{
				fail("n=%d: element %d is %g, want %g", n, i, a[i], want[i]);
				break;
			}
		for (int i = 0; i < n; i++)
			a[i] = b[i] = (float) (rng_unit() * 2 - 1);
		set->f32_fwht(a, n);
		portable->f32_fwht(b, n);
		if (memcmp(a, b, sizeof(float) * n) != 0)
			fail("n=%d: random floats differ from the portable set's", n);
		free(a);
		free(b);
		free(want);
	}
	end_group(set->name, "f32_fwht");
}

/*
 * Test sketch_bounds of set against the terms of distance.h worked out in
 * double precision: for both metrics, row counts around the AVX2 kernel's
 * eight (the last rows in C), 32 centroids, gone rows (both bounds
 * infinite), rows whose span overflows a float or whose estimate is not
 * finite (lower -inf, upper inf), and no write past row n.  Finite bounds agree to within float rounding of the
 * terms summed.
 */
static void
test_sketch_bounds(const MvKernelSet *set)
{
	static const int counts[] = {0, 1, 7, 8, 9, 33, 100};
	float		ynorm[32];
	float		constant[32];

	rng_seed(UINT64CONST(20261205));
	for (int j = 0; j < 32; j++)
	{
		ynorm[j] = (float) (rng_unit() * 50);
		constant[j] = (float) (rng_sign() * rng_unit() * 1000);
	}
	for (int l2 = 0; l2 < 2; l2++)
		for (int c = 0; c < lengthof(counts); c++)
		{
			int			n = counts[c];
			uint32	   *dots = malloc(sizeof(uint32) * (n + 1));
			uint16	   *ones = malloc(sizeof(uint16) * (n + 1));
			float	   *f = malloc(sizeof(float) * 4 * (n + 1));
			uint8	   *cent = malloc(n + 1);
			bool	   *gone = malloc(n + 1);
			float	   *lower = malloc(sizeof(float) * (n + 1));
			float	   *upper = malloc(sizeof(float) * (n + 1));
			MvSketchRows rows = {dots, ones, f, f + n + 1, f + 2 * (n + 1), f + 3 * (n + 1), cent, gone};
			MvSketchQuery q = {ynorm, constant, -512.5f, -0.75f, 0.0125f, 0.3f, l2 == 1};

			for (int r = 0; r < n; r++)
			{
				dots[r] = (uint32) (rng_next() % 64000);
				ones[r] = (uint16) (rng_next() % 1025);
				f[r] = (float) (rng_unit() * 0.2);	/* scale */
				f[n + 1 + r] = (float) (rng_sign() * rng_unit() * 20);	/* signC */
				f[2 * (n + 1) + r] = (float) (rng_unit() * 0.5);	/* err */
				f[3 * (n + 1) + r] = (float) (rng_sign() * rng_unit() * 500);	/* aux */
				cent[r] = (uint8) (rng_next() % 32);
				gone[r] = (rng_next() % 7) == 0;
				if (rng_next() % 11 == 0)
					f[2 * (n + 1) + r] = 1e38f;	/* err: span overflows where |q - c| > 3.4 */
				if (rng_next() % 13 == 0)
				{
					/* aux: the estimate is not finite */
					static const float odd[] = {INFINITY, -INFINITY, NAN};

					f[3 * (n + 1) + r] = odd[rng_next() % 3];
				}
			}
			lower[n] = upper[n] = 12345.0f;
			set->sketch_bounds(&rows, &q, n, lower, upper);
			for (int r = 0; r < n; r++)
			{
				int			j = cent[r];
				double		sq = q.base + 2 * ((double) q.lo * ones[r] + (double) q.delta * dots[r]);
				double		xy = (double) f[r] * sq - f[n + 1 + r];
				double		span = (double) f[2 * (n + 1) + r] * ynorm[j] + (double) f[r] * q.qerr;
				double		aux = f[3 * (n + 1) + r];
				double		est = l2 ? aux + constant[j] - 2 * xy : -(xy + aux + constant[j]);
				double		wantLow,
							wantUp;
				double		slack;

				if (l2)
					span *= 2;
				wantLow = est - span;
				if (l2 && wantLow < 0)
					wantLow = 0;
				wantUp = est + span;
				if (gone[r])
				{
					if (!(isinf(lower[r]) && lower[r] > 0 && isinf(upper[r]) && upper[r] > 0))
						fail("l2=%d n=%d row %d (gone): lower %g upper %g, want inf inf",
							 l2, n, r, lower[r], upper[r]);
					continue;
				}
				if (!(fabs(est) <= FLT_MAX) || !(fabs(span) <= FLT_MAX))
				{
					if (!(isinf(lower[r]) && lower[r] < 0 && isinf(upper[r]) && upper[r] > 0))
						fail("l2=%d n=%d row %d (overflows): lower %g upper %g, want -inf inf",
							 l2, n, r, lower[r], upper[r]);
					continue;
				}
				/* each float term rounds by half an ulp; the largest of them bounds it */
				slack = 1e-5 * (fabs(aux) + fabs(constant[j]) + 2 * fabs(xy) +
								fabs((double) f[r] * sq) + 2 * span + 1);
				if (!(fabs(lower[r] - wantLow) <= slack) || !(fabs(upper[r] - wantUp) <= slack))
					fail("l2=%d n=%d row %d: lower %g upper %g, want %g %g",
						 l2, n, r, lower[r], upper[r], wantLow, wantUp);
			}
			if (lower[n] != 12345.0f || upper[n] != 12345.0f)
				fail("l2=%d n=%d: wrote past row n", l2, n);
			free(dots);
			free(ones);
			free(f);
			free(cent);
			free(gone);
			free(lower);
			free(upper);
		}
	end_group(set->name, "sketch_bounds");
}

/*
 * Test bits_lut_sums of set exactly: codes laid out by MvBitsLutSetCode over
 * bytes that held other codes, and weights tabled by MvBitsLutBuild, for
 * several code lengths (past the 512 groups the AVX2 kernel adds up before
 * it widens its sums, and past where not widening would wrap) and code
 * counts (a last block part full), against each code's weights added up bit
 * by bit; the word after the last block must stay untouched.
 */
static void
test_lut(const MvKernelSet *set)
{
	/* 1,026 and up: past where 16-bit sums of 252 a lookup would wrap without a flush */
	static const int group_counts[] = {2, 16, 256, 1026, 2050, 4098};
	static const int counts[] = {0, 1, 31, 33, 70};

	rng_seed(UINT64CONST(20261204));
	for (int gi = 0; gi < lengthof(group_counts); gi++)
	{
		int			ngroups = group_counts[gi];
		int			nwords = (ngroups * 4 + 63) / 64;

		for (int c = 0; c < lengthof(counts); c++)
		{
			for (int kind = 0; kind < NUM_BIT_KINDS; kind++)
			{
				int			n = counts[c];
				int			nblocks = (n + MV_LUT_BLOCK - 1) / MV_LUT_BLOCK;
				uint64	   *bits = calloc((Size) Max(n, 1) * nwords, sizeof(uint64));
				uint8	   *weights = malloc((Size) ngroups * 4);
				uint8	   *codes = malloc((Size) Max(nblocks, 1) * MV_LUT_BLOCK_BYTES(ngroups));
				uint8	   *lut = malloc(MV_LUT_BYTES(ngroups));
				uint32	   *out = malloc(sizeof(uint32) * (nblocks * MV_LUT_BLOCK + 1));

				/* old bytes, as a sketch's blocks hold after rows move: each code replaces its nibbles */
				memset(codes, 0xA5, (Size) Max(nblocks, 1) * MV_LUT_BLOCK_BYTES(ngroups));
				for (int i = 0; i < ngroups * 4; i++)
					weights[i] = kind == BITS_ONES ? MV_LUT_WEIGHT_MAX : kind == BITS_ZEROS ? 0 :
						kind == BITS_SPARSE ? (uint8) (1 << (rng_next() % MV_LUT_WEIGHT_BITS)) :
						(uint8) (rng_next() % (MV_LUT_WEIGHT_MAX + 1));
				for (int i = 0; i < n; i++)
				{
					for (int x = 0; x < nwords; x++)
						bits[(Size) i * nwords + x] = kind == BITS_ONES ? ~UINT64CONST(0) :
							kind == BITS_ZEROS ? 0 :
							kind == BITS_SPARSE ? UINT64CONST(1) << (rng_next() % 64) :
							rng_next();
					/* bits past the code's length are not part of it */
					if (ngroups * 4 % 64 != 0)
						bits[(Size) i * nwords + nwords - 1] &=
							(UINT64CONST(1) << (ngroups * 4 % 64)) - 1;
					MvBitsLutSetCode(codes, ngroups, i, bits + (Size) i * nwords);
				}
				MvBitsLutBuild(weights, ngroups, lut);
				out[nblocks * MV_LUT_BLOCK] = 0xdeadbeef;
				set->bits_lut_sums(codes, ngroups, nblocks, lut, out);
				for (int i = 0; i < n; i++)
				{
					uint32		want = 0;

					for (int bit = 0; bit < ngroups * 4; bit++)
						if (bits[(Size) i * nwords + bit / 64] >> (bit % 64) & 1)
							want += weights[bit];
					if (out[i] != want)
						fail("ngroups=%d n=%d kind %d: code %d gave %u, want %u",
							 ngroups, n, kind, i, out[i], want);
				}
				if (out[nblocks * MV_LUT_BLOCK] != 0xdeadbeef)
					fail("ngroups=%d n=%d: wrote past the last block", ngroups, n);
				free(bits);
				free(weights);
				free(codes);
				free(lut);
				free(out);
			}
		}
	}
	end_group(set->name, "bits_lut_sums");
}

/*
 * Check that every set is complete, that the portable set comes first, that
 * the supported sets are the known ones without a reason not to run, and that
 * MvKernelsInit() chooses the last one.
 */
static void
test_dispatch(const MvKernelSet **sets, int nsets)
{
	int			s;

	MvKernelSetInfo known[MV_MAX_KERNEL_SETS];
	int			nknown = MvKernelSetsKnown(known, MV_MAX_KERNEL_SETS);
	int			nrun = 0;

	if (nsets < 1 || strcmp(sets[0]->name, "scalar") != 0)
		fail("the portable set does not come first");
	/* the sets that run are exactly the known ones without a reason not to */
	for (s = 0; s < nknown; s++)
	{
		if (known[s].missing == NULL &&
			(nrun >= nsets || known[s].set != sets[nrun++]))
			fail("kernel set %s runs but is not among the supported sets", known[s].name);
	}
	if (nrun != nsets)
		fail("%d sets supported, %d known sets run", nsets, nrun);
	for (s = 0; s < nsets; s++)
	{
		const MvKernelSet *set = sets[s];

		if (!set->name || !set->f32_l2sq || !set->f32_dot || !set->f32_l1 ||
			!set->f32_cosine_parts || !set->f32_fwht || !set->f16_l2sq || !set->f16_dot ||
			!set->f16_l1 || !set->f16_cosine_parts || !set->f16_to_f32 ||
			!set->bits_popcount || !set->bits_xor_popcount ||
			!set->bits_and_or_popcount || !set->bits_lut_sums)
			fail("set %d is missing a kernel", s);
	}
	MvKernelsInit();
	if (MvKernels != sets[nsets - 1])
		fail("MvKernelsInit chose %s, not %s", MvKernels->name, sets[nsets - 1]->name);
	end_group("dispatch", "MvKernelsInit");
}

#if defined(__x86_64__)

/*
 * Compare MvFloatToHalf with VCVTPS2PH (round to nearest even) on every
 * stride-th float bit pattern.  A NaN must stay a quiet NaN of the same sign;
 * its payload may differ, since MvFloatToHalf returns the default NaN.
 */
static __attribute__((target("avx,f16c"))) void
check_float_to_half(uint64 stride, uint64 *checked, uint64 *nan_payloads)
{
	uint64		base;

	for (base = 0; base < UINT64CONST(0x100000000); base += 8 * stride)
	{
		uint32		in[8];
		uint16		want[8];
		__m128i		hw;
		int			i;

		for (i = 0; i < 8; i++)
			in[i] = (uint32) (base + i * stride);
		hw = _mm256_cvtps_ph(_mm256_loadu_ps((const float *) in), 0);
		memcpy(want, &hw, sizeof(want));
		for (i = 0; i < 8; i++)
		{
			float		f;
			uint16		got;

			memcpy(&f, &in[i], sizeof(f));
			got = MvFloatToHalf(f);
			if (got == want[i])
				continue;
			if (isnan(f) && (got & 0x7e00) == 0x7e00 &&
				(got & 0x8000) == (want[i] & 0x8000))
				(*nan_payloads)++;
			else
				fail("float 0x%08x: MvFloatToHalf 0x%04x, VCVTPS2PH 0x%04x",
					 in[i], got, want[i]);
		}
	}
	*checked = UINT64CONST(0x100000000) / stride;
}

#endif							/* __x86_64__ */

/* Test MvFloatToHalf against F16C when the CPU has it. */
static void
test_float_to_half(uint64 stride)
{
#if defined(__x86_64__)
	unsigned int eax,
				ebx,
				ecx,
				edx;

	/* CPUID itself: clang before 16 lacks __builtin_cpu_supports("f16c") */
	if (__builtin_cpu_supports("avx") &&
		__get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0)
	{
		uint64		checked = 0;
		uint64		nan_payloads = 0;
		clock_t		start = clock();

		check_float_to_half(stride, &checked, &nan_payloads);
		printf("# MvFloatToHalf: " UINT64_FORMAT " float patterns (stride " UINT64_FORMAT
			   ") in %.1f s; " UINT64_FORMAT " NaNs differ only in payload\n",
			   checked, stride, (double) (clock() - start) / CLOCKS_PER_SEC, nan_payloads);
		end_group("f16c", "MvFloatToHalf");
		return;
	}
#endif
	test_count++;
	printf("ok %d - f16c MvFloatToHalf # SKIP no F16C\n", test_count);
}

/*
 * Run every test.  An optional argument sets the stride through the float
 * bit patterns for MvFloatToHalf (default 1: all of them).
 */
int
main(int argc, char **argv)
{
	const MvKernelSet *sets[MAX_SETS];
	int			nsets = MvKernelSetsSupported(sets, MAX_SETS);
	MvKernelSetInfo known[MV_MAX_KERNEL_SETS];
	int			nknown = MvKernelSetsKnown(known, MV_MAX_KERNEL_SETS);
	uint64		stride = (argc > 1) ? strtoull(argv[1], NULL, 10) : 1;
	int			s;
	int			k;

	printf("# kernel sets:");
	for (s = 0; s < nsets; s++)
		printf(" %s", sets[s]->name);
	printf("\n");
	/* a set this CPU cannot run is not tested here: say so, never silently */
	for (s = 0; s < nknown; s++)
	{
		if (known[s].missing != NULL)
			printf("SKIP %s: %s\n", known[s].name, known[s].missing);
	}

	test_dispatch(sets, nsets);
	for (s = 0; s < nsets; s++)
	{
		for (k = K_L2SQ; k <= K_COSINE; k++)
			test_float_kernel(sets[s], k, false);
		for (k = K_L2SQ; k <= K_COSINE; k++)
			test_float_kernel(sets[s], k, true);
		test_f16_to_f32(sets[s]);
		test_fwht(sets[s], sets[0]);
		for (k = K_POPCOUNT; k <= K_AND_OR; k++)
			test_bit_kernel(sets[s], k);
		test_lut(sets[s]);
		test_sketch_bounds(sets[s]);
	}
	test_float_to_half(Max(stride, 1));

	printf("# largest float error: %.1f%% of its bound (%s)\n",
		   100 * worst_ratio, worst_where);

	printf("1..%d\n", test_count);
	if (failed_count > 0)
		printf("# %d of %d failed\n", failed_count, test_count);
	return failed_count > 0 ? 1 : 0;
}
