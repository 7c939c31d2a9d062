/*
 * dataset.c
 *		The data sets milvus_bench measures on.
 *
 * "fashion-mnist" reads the IDX files of Debian's dataset-fashion-mnist
 * package with zlib: the 60,000 training images are the base vectors, the
 * 10,000 test images the queries, each image 28 x 28 grey levels (0..255)
 * kept as they are, as ANN-benchmarks does; the classes of both (the train
 * and t10k label files) are the labels of the rows and of the queries.
 *
 * "synthetic:N:DIM[:CLUSTERS]" draws N base vectors and the queries from the
 * same mixture of Gaussian clusters with a fixed seed, so a given spec always
 * gives the same vectors; queries come from their own random stream, so the
 * first q queries do not depend on how many are asked for.  A point's label
 * is its cluster.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bench.h"

#define FMNIST_NBASE		60000
#define FMNIST_NQUERY		10000
#define FMNIST_SIDE			28
#define IDX_MAGIC_UBYTE_1D	0x00000801
#define IDX_MAGIC_UBYTE_3D	0x00000803

#define SYNTH_SEED			UINT64_C(20240601)
#define SYNTH_DEFAULT_CLUSTERS 64
#define SYNTH_MAX_DIM		32768	/* floatvector's limit */
#define SYNTH_SPREAD		0.5		/* cluster radius per coordinate; centres ~ N(0, 1) */

/* An open IDX file: its name for messages and the zlib stream. */
typedef struct IdxFile
{
	char		path[1024];
	gzFile		gz;
} IdxFile;

/* Read exactly len bytes or exit naming the file. */
static void
idx_read(IdxFile *f, void *buf, size_t len)
{
	char	   *p = buf;

	while (len > 0)
	{
		unsigned	chunk = len > (1U << 30) ? (1U << 30) : (unsigned) len;
		int			got = gzread(f->gz, p, chunk);

		if (got < 0)
		{
			int			errnum;
			const char *msg = gzerror(f->gz, &errnum);

			bench_fatal("could not read \"%s\": %s", f->path,
						errnum == Z_ERRNO ? strerror(errno) : msg);
		}
		if (got == 0)
			bench_fatal("file \"%s\" is truncated", f->path);
		p += got;
		len -= got;
	}
}

static uint32_t
idx_read_be32(IdxFile *f)
{
	unsigned char b[4];

	idx_read(f, b, 4);
	return ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16) |
		((uint32_t) b[2] << 8) | b[3];
}

/*
 * Open dir/name and check its header: the magic number and, for images, the
 * 28 x 28 shape.  Returns the item count the header declares.
 */
static uint32_t
idx_open(IdxFile *f, const char *dir, const char *name, uint32_t magic)
{
	uint32_t	got_magic;
	uint32_t	count;

	snprintf(f->path, sizeof(f->path), "%s/%s", dir, name);
	f->gz = gzopen(f->path, "rb");
	if (f->gz == NULL)
		bench_fatal("could not open \"%s\": %s\n"
					"hint: install the data set with \"apt-get install dataset-fashion-mnist\""
					" or point --dataset-dir at a folder holding it",
					f->path, errno ? strerror(errno) : "out of memory");
	got_magic = idx_read_be32(f);
	if (got_magic != magic)
		bench_fatal("file \"%s\" is not an IDX file of the expected kind (magic 0x%08x, expected 0x%08x)",
					f->path, got_magic, magic);
	count = idx_read_be32(f);
	if (magic == IDX_MAGIC_UBYTE_3D)
	{
		uint32_t	rows = idx_read_be32(f);
		uint32_t	cols = idx_read_be32(f);

		if (rows != FMNIST_SIDE || cols != FMNIST_SIDE)
			bench_fatal("file \"%s\" holds %ux%u images, expected %dx%d",
						f->path, rows, cols, FMNIST_SIDE, FMNIST_SIDE);
	}
	return count;
}

/* Read the first n images of an image file as floats 0..255. */
static float *
idx_read_images(const char *dir, const char *name, size_t n)
{
	IdxFile		f;
	size_t		dim = FMNIST_SIDE * FMNIST_SIDE;
	uint32_t	count = idx_open(&f, dir, name, IDX_MAGIC_UBYTE_3D);
	unsigned char *raw;
	float	   *out;

	if (count < n)
		bench_fatal("file \"%s\" holds %u images, %zu needed", f.path, count, n);
	raw = bench_malloc(n * dim);
	idx_read(&f, raw, n * dim);
	gzclose(f.gz);
	out = bench_malloc(n * dim * sizeof(float));
	for (size_t i = 0; i < n * dim; i++)
		out[i] = raw[i];
	free(raw);
	return out;
}

/* Read the first n labels of a label file. */
static int32_t *
idx_read_labels(const char *dir, const char *name, size_t n)
{
	IdxFile		f;
	uint32_t	count = idx_open(&f, dir, name, IDX_MAGIC_UBYTE_1D);
	unsigned char *raw;
	int32_t    *out;

	if (count < n)
		bench_fatal("file \"%s\" holds %u labels, %zu needed", f.path, count, n);
	raw = bench_malloc(n);
	idx_read(&f, raw, n);
	gzclose(f.gz);
	out = bench_malloc(n * sizeof(int32_t));
	for (size_t i = 0; i < n; i++)
		out[i] = raw[i];
	free(raw);
	return out;
}

static void
load_fashion_mnist(const char *dir, int nquery, BenchDataset *ds)
{
	if (nquery > FMNIST_NQUERY)
		bench_fatal("fashion-mnist has %d queries, %d requested", FMNIST_NQUERY, nquery);
	snprintf(ds->name, sizeof(ds->name), "fashion-mnist");
	ds->dim = FMNIST_SIDE * FMNIST_SIDE;
	ds->nbase = FMNIST_NBASE;
	ds->nquery = nquery;
	ds->base = idx_read_images(dir, "train-images-idx3-ubyte.gz", ds->nbase);
	ds->labels = idx_read_labels(dir, "train-labels-idx1-ubyte.gz", ds->nbase);
	ds->queries = idx_read_images(dir, "t10k-images-idx3-ubyte.gz", nquery);
	ds->query_labels = idx_read_labels(dir, "t10k-labels-idx1-ubyte.gz", nquery);
}

/* xoshiro256**, seeded through splitmix64: fast, and the same everywhere. */
typedef struct BenchRng
{
	uint64_t	s[4];
	bool		have_spare;
	double		spare;
} BenchRng;

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static void
rng_seed(BenchRng *rng, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
	{
		uint64_t	z = (seed += UINT64_C(0x9e3779b97f4a7c15));

		z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
		z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
		rng->s[i] = z ^ (z >> 31);
	}
	rng->have_spare = false;
}

static uint64_t
rng_next(BenchRng *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1). */
static double
rng_uniform(BenchRng *rng)
{
	return (rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Standard normal, Marsaglia's polar method. */
static double
rng_normal(BenchRng *rng)
{
	double		u,
				v,
				s;

	if (rng->have_spare)
	{
		rng->have_spare = false;
		return rng->spare;
	}
	do
	{
		u = 2.0 * rng_uniform(rng) - 1.0;
		v = 2.0 * rng_uniform(rng) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	s = sqrt(-2.0 * log(s) / s);
	rng->spare = v * s;
	rng->have_spare = true;
	return u * s;
}

/* Draw n points around the given centres; labels get the cluster number. */
static void
synth_points(BenchRng *rng, const float *centres, int nclusters, int dim,
			 size_t n, float *out, int32_t *labels)
{
	for (size_t i = 0; i < n; i++)
	{
		int			c = (int) (rng_uniform(rng) * nclusters);
		const float *centre = centres + (size_t) c * dim;
		float	   *x = out + i * dim;

		for (int j = 0; j < dim; j++)
			x[j] = (float) (centre[j] + SYNTH_SPREAD * rng_normal(rng));
		if (labels)
			labels[i] = c;
	}
}

static void
load_synthetic(const char *spec, int nquery, BenchDataset *ds)
{
	char	  **parts;
	int			nparts = bench_split(spec, ':', &parts);
	long		n,
				dim,
				nclusters = SYNTH_DEFAULT_CLUSTERS;
	float	   *centres;
	BenchRng	rng;

	/* parts[0] is "synthetic" */
	if (nparts < 3 || nparts > 4 ||
		!bench_parse_int(parts[1], 1, 1000000000L, &n) ||
		!bench_parse_int(parts[2], 1, SYNTH_MAX_DIM, &dim) ||
		(nparts == 4 && !bench_parse_int(parts[3], 1, 1000000L, &nclusters)))
		bench_fatal("invalid data set \"%s\"\n"
					"hint: write synthetic:ROWS:DIM[:CLUSTERS], with 1 <= DIM <= %d, e.g. synthetic:100000:128",
					spec, SYNTH_MAX_DIM);
	bench_free_list(parts, nparts);

	snprintf(ds->name, sizeof(ds->name), "synthetic-%ld-%ld-%ld", n, dim, nclusters);
	ds->dim = (int) dim;
	ds->nbase = (size_t) n;
	ds->nquery = nquery;
	ds->base = bench_malloc(ds->nbase * dim * sizeof(float));
	ds->labels = bench_malloc(ds->nbase * sizeof(int32_t));
	ds->queries = bench_malloc((size_t) nquery * dim * sizeof(float));
	ds->query_labels = bench_malloc((size_t) nquery * sizeof(int32_t));
	centres = bench_malloc((size_t) nclusters * dim * sizeof(float));

	rng_seed(&rng, SYNTH_SEED);
	for (size_t i = 0; i < (size_t) nclusters * dim; i++)
		centres[i] = (float) rng_normal(&rng);
	synth_points(&rng, centres, nclusters, ds->dim, ds->nbase, ds->base, ds->labels);
	rng_seed(&rng, SYNTH_SEED + 1);
	synth_points(&rng, centres, nclusters, ds->dim, nquery, ds->queries, ds->query_labels);
	free(centres);
}

/* FNV-1a over 32-bit words of the base vectors, with the shape mixed in. */
static uint64_t
fingerprint(const BenchDataset *ds)
{
	const uint32_t *w = (const uint32_t *) ds->base;
	size_t		nwords = ds->nbase * ds->dim;
	uint64_t	h = UINT64_C(0xcbf29ce484222325) ^ ((uint64_t) ds->dim << 40) ^ ds->nbase;

	for (size_t i = 0; i < nwords; i++)
		h = (h ^ w[i]) * UINT64_C(0x100000001b3);
	return h;
}

/*
 * Load the data set named by spec with nquery queries.  fmnist_dir is where
 * the Fashion-MNIST files are.
 */
void
bench_dataset_load(const char *spec, const char *fmnist_dir, int nquery,
				   BenchDataset *ds)
{
	double		start = bench_now();

	memset(ds, 0, sizeof(*ds));
	if (strcmp(spec, "fashion-mnist") == 0 || strcmp(spec, "fmnist") == 0)
		load_fashion_mnist(fmnist_dir, nquery, ds);
	else if (strncmp(spec, "synthetic:", 10) == 0)
		load_synthetic(spec, nquery, ds);
	else
		bench_fatal("unknown data set \"%s\"\n"
					"hint: use fashion-mnist or synthetic:ROWS:DIM[:CLUSTERS]", spec);
	ds->fingerprint = fingerprint(ds);
	bench_log("data set %s: %zu base vectors, %d queries, %d dimensions (%.1f s)",
			  ds->name, ds->nbase, ds->nquery, ds->dim, bench_now() - start);
}

void
bench_dataset_free(BenchDataset *ds)
{
	free(ds->base);
	free(ds->queries);
	free(ds->labels);
	free(ds->query_labels);
	memset(ds, 0, sizeof(*ds));
}
