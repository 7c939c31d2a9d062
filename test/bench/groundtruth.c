/*
 * groundtruth.c
 *		Exact nearest neighbours with OpenBLAS, cached on disk, and recall.
 *
 * For a block of queries Q and all base vectors B, one cblas_sgemm gives the
 * dot products Q B^T; with the norms computed once, that is every distance:
 * L2 as |q|^2 + |b|^2 - 2 q.b, inner product as -q.b, cosine as
 * 1 - q.b / (|q| |b|).  A bounded max-heap per query keeps the BENCH_GT_K
 * smallest.  Single precision loses digits in |q|^2 + |b|^2 - 2 q.b, so the
 * kept candidates are then re-measured in double precision and re-sorted.
 *
 * Under a filter, only the rows that pass it are offered to the heaps, so the
 * answer is the exact top-k of what the filtered query may return.  Where
 * the rows passing depend on the query (ownlabel), each query gets the rows
 * of its own value; the sets of the values met are kept (PassSets).
 *
 * The result is cached in <cache dir>/gt-<data set>-<metric>[-<filter>].bin
 * with the data set's fingerprint; a cache holding at least the queries asked for is used
 * as is, and a later run with more queries recomputes and replaces it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>

#include "bench.h"

#define GT_MAGIC			"MVBGT001"
#define GT_BLOCK_BYTES		((size_t) 256 * 1024 * 1024)	/* for one block of Q B^T */
#define RECALL_EPSILON		1e-3	/* as ANN-benchmarks' "k-nn" recall */
#define GT_PASS_SETS		64		/* filter values whose rows are kept at a time */

typedef struct GtHeader
{
	char		magic[8];
	uint32_t	metric;
	uint32_t	k;
	uint32_t	nquery;
	uint32_t	dim;
	uint64_t	nbase;
	uint64_t	fingerprint;
} GtHeader;

/* A max-heap of (distance, id) pairs, the worst of the best at the top. */
typedef struct GtHeap
{
	int			n;
	float		d[BENCH_GT_K];
	int32_t		id[BENCH_GT_K];
} GtHeap;

static void
heap_sift_down(GtHeap *h, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1,
					r = l + 1,
					m = i;
		float		td;
		int32_t		tid;

		if (l < h->n && h->d[l] > h->d[m])
			m = l;
		if (r < h->n && h->d[r] > h->d[m])
			m = r;
		if (m == i)
			return;
		td = h->d[i];
		tid = h->id[i];
		h->d[i] = h->d[m];
		h->id[i] = h->id[m];
		h->d[m] = td;
		h->id[m] = tid;
		i = m;
	}
}

/* Offer one candidate to a heap of capacity k. */
static inline void
heap_offer(GtHeap *h, int k, float d, int32_t id)
{
	if (h->n < k)
	{
		int			i = h->n++;

		/* sift up */
		while (i > 0 && h->d[(i - 1) / 2] < d)
		{
			h->d[i] = h->d[(i - 1) / 2];
			h->id[i] = h->id[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		h->d[i] = d;
		h->id[i] = id;
	}
	else if (d < h->d[0])
	{
		h->d[0] = d;
		h->id[0] = id;
		heap_sift_down(h, 0);
	}
}

/* Distance in double precision, in the metric's own units (L2 not squared). */
double
bench_gt_distance(const float *a, const float *b, int dim, BenchMetric metric)
{
	double		dot = 0,
				na = 0,
				nb = 0,
				l2 = 0;

	for (int j = 0; j < dim; j++)
	{
		double		x = a[j],
					y = b[j];

		dot += x * y;
		na += x * x;
		nb += y * y;
		l2 += (x - y) * (x - y);
	}
	switch (metric)
	{
		case BENCH_METRIC_L2:
			return sqrt(l2);
		case BENCH_METRIC_IP:
			return -dot;
		case BENCH_METRIC_COSINE:
			return (na == 0 || nb == 0) ? NAN : 1.0 - dot / sqrt(na * nb);
	}
	return NAN;
}

/* Squared norms of n rows. */
static float *
row_norms(const float *x, size_t n, int dim)
{
	float	   *norms = bench_malloc(n * sizeof(float));

	for (size_t i = 0; i < n; i++)
		norms[i] = cblas_sdot(dim, x + i * dim, 1, x + i * dim, 1);
	return norms;
}

/*
 * The rows passing a filter, per filter value: one set for a fixed filter,
 * one per value met for a per-query filter (the least recently made one
 * replaced past GT_PASS_SETS values).
 */
typedef struct PassSets
{
	const BenchDataset *ds;
	const BenchFilter *filter;
	int			nsets;
	int			next;			/* the set to replace when all are taken */
	int32_t		value[GT_PASS_SETS];
	size_t		npass[GT_PASS_SETS];
	bool	   *pass[GT_PASS_SETS];	/* nbase each */
} PassSets;

/* The rows that pass the filter for query q; *npass gets their count. */
static const bool *
pass_for_query(PassSets *ps, int q, size_t *npass)
{
	int32_t		value = bench_filter_value(ps->filter, ps->ds, q);
	int			s;

	for (s = 0; s < ps->nsets; s++)
		if (ps->value[s] == value)
			break;
	if (s == ps->nsets)
	{
		if (ps->nsets < GT_PASS_SETS)
			ps->pass[ps->nsets++] = bench_malloc(ps->ds->nbase * sizeof(bool));
		else
		{
			s = ps->next;
			ps->next = (ps->next + 1) % GT_PASS_SETS;
		}
		ps->value[s] = value;
		ps->npass[s] = 0;
		for (size_t i = 0; i < ps->ds->nbase; i++)
			ps->npass[s] += ps->pass[s][i] = bench_filter_accepts(ps->filter, ps->ds, q, i);
	}
	*npass = ps->npass[s];
	return ps->pass[s];
}

static void
pass_sets_free(PassSets *ps)
{
	for (int s = 0; s < ps->nsets; s++)
		free(ps->pass[s]);
}

typedef struct GtPair
{
	double		d;
	int32_t		id;
} GtPair;

static int
pair_cmp(const void *a, const void *b)
{
	const GtPair *x = a,
			   *y = b;

	/* NaN (a zero vector under cosine) sorts last, as in PostgreSQL */
	if (isnan(x->d) || isnan(y->d))
		return isnan(x->d) - isnan(y->d);
	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return x->id - y->id;
}

/* Compute the ground truth of the first nquery queries among the rows passing the filter. */
static void
gt_compute(const BenchDataset *ds, BenchMetric metric, PassSets *ps, int nquery,
		   BenchGroundTruth *gt)
{
	size_t		n = ds->nbase;
	int			dim = ds->dim;
	size_t		block = GT_BLOCK_BYTES / (n * sizeof(float));
	float	   *bnorm = row_norms(ds->base, n, dim);
	float	   *qnorm = row_norms(ds->queries, nquery, dim);
	float	   *dots;
	GtHeap	   *heap = bench_malloc(sizeof(GtHeap));
	GtPair		pairs[BENCH_GT_K];
	double		start = bench_now();

	if (block < 1)
		block = 1;
	if (block > (size_t) nquery)
		block = nquery;
	dots = bench_malloc(block * n * sizeof(float));
	gt->nquery = nquery;
	gt->ids = bench_malloc((size_t) nquery * BENCH_GT_K * sizeof(int32_t));
	gt->dists = bench_malloc((size_t) nquery * BENCH_GT_K * sizeof(float));

	for (size_t q0 = 0; q0 < (size_t) nquery; q0 += block)
	{
		size_t		nq = (q0 + block <= (size_t) nquery) ? block : nquery - q0;

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
					(int) nq, (int) n, dim, 1.0f,
					ds->queries + q0 * dim, dim, ds->base, dim,
					0.0f, dots, (int) n);

		for (size_t qi = 0; qi < nq; qi++)
		{
			size_t		q = q0 + qi;
			const float *row = dots + qi * n;
			float		qn = qnorm[q];
			float		qinv = qn > 0 ? 1.0f / sqrtf(qn) : 0.0f;
			size_t		npass;
			const bool *pass = pass_for_query(ps, (int) q, &npass);
			int			k = npass < BENCH_GT_K ? (int) npass : BENCH_GT_K;

			heap->n = 0;
			for (size_t i = 0; i < n; i++)
			{
				float		d;

				if (!pass[i])
					continue;
				switch (metric)
				{
					case BENCH_METRIC_L2:
						d = qn + bnorm[i] - 2.0f * row[i];
						break;
					case BENCH_METRIC_IP:
						d = -row[i];
						break;
					default:
						d = bnorm[i] > 0 && qn > 0 ?
							1.0f - row[i] * qinv / sqrtf(bnorm[i]) : INFINITY;
						break;
				}
				heap_offer(heap, k, d, (int32_t) i);
			}

			for (int j = 0; j < k; j++)
			{
				pairs[j].id = heap->id[j];
				pairs[j].d = bench_gt_distance(ds->queries + q * dim,
											   ds->base + (size_t) heap->id[j] * dim,
											   dim, metric);
			}
			qsort(pairs, k, sizeof(GtPair), pair_cmp);
			for (int j = 0; j < BENCH_GT_K; j++)
			{
				/* fewer rows than BENCH_GT_K pass: pad with -1 */
				gt->ids[q * BENCH_GT_K + j] = j < k ? pairs[j].id : -1;
				gt->dists[q * BENCH_GT_K + j] = j < k ? (float) pairs[j].d : INFINITY;
			}
		}
	}
	bench_log("ground truth: %d queries x %zu of %zu base vectors%s, %s, in %.1f s",
			  nquery, gt->npass, n, gt->npass_query ? " (mean)" : "",
			  bench_metric_name(metric), bench_now() - start);
	free(dots);
	free(heap);
	free(bnorm);
	free(qnorm);
}

static void
gt_header_init(GtHeader *h, const BenchDataset *ds, BenchMetric metric, int nquery)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, GT_MAGIC, 8);
	h->metric = metric;
	h->k = BENCH_GT_K;
	h->nquery = nquery;
	h->dim = ds->dim;
	h->nbase = ds->nbase;
	h->fingerprint = ds->fingerprint;
}

/*
 * Read the cache if it matches the data set and holds at least nquery
 * queries.  A missing, foreign or damaged file is not an error: it is
 * recomputed.
 */
static bool
gt_read(const char *path, const BenchDataset *ds, BenchMetric metric, int nquery,
		BenchGroundTruth *gt)
{
	FILE	   *f = fopen(path, "rb");
	GtHeader	want,
				got;
	size_t		cells;
	bool		ok = false;

	if (f == NULL)
		return false;
	gt_header_init(&want, ds, metric, 0);
	if (fread(&got, sizeof(got), 1, f) == 1 &&
		memcmp(got.magic, want.magic, 8) == 0 &&
		got.metric == want.metric && got.k == want.k && got.dim == want.dim &&
		got.nbase == want.nbase && got.fingerprint == want.fingerprint &&
		got.nquery >= (uint32_t) nquery)
	{
		cells = (size_t) got.nquery * BENCH_GT_K;
		gt->ids = bench_malloc(cells * sizeof(int32_t));
		gt->dists = bench_malloc(cells * sizeof(float));
		if (fread(gt->ids, sizeof(int32_t), cells, f) == cells &&
			fread(gt->dists, sizeof(float), cells, f) == cells)
		{
			ok = true;
			gt->nquery = nquery;
			for (size_t i = 0; i < (size_t) nquery * BENCH_GT_K && ok; i++)
				if (gt->ids[i] < -1 || gt->ids[i] >= (int64_t) ds->nbase)
					ok = false;
		}
		if (!ok)
		{
			free(gt->ids);
			free(gt->dists);
			gt->ids = NULL;
			gt->dists = NULL;
		}
	}
	fclose(f);
	if (!ok)
		bench_log("ground truth cache \"%s\" does not fit this run; recomputing", path);
	return ok;
}

static void
gt_write(const char *path, const BenchDataset *ds, BenchMetric metric,
		 const BenchGroundTruth *gt)
{
	char		tmp[1100];
	FILE	   *f;
	GtHeader	h;
	size_t		cells = (size_t) gt->nquery * BENCH_GT_K;

	/* write aside and rename, so an interrupted run leaves no torn file */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (f == NULL)
		bench_fatal("could not create \"%s\": %s", tmp, strerror(errno));
	gt_header_init(&h, ds, metric, gt->nquery);
	if (fwrite(&h, sizeof(h), 1, f) != 1 ||
		fwrite(gt->ids, sizeof(int32_t), cells, f) != cells ||
		fwrite(gt->dists, sizeof(float), cells, f) != cells ||
		fclose(f) != 0)
		bench_fatal("could not write \"%s\": %s", tmp, strerror(errno));
	if (rename(tmp, path) != 0)
		bench_fatal("could not rename \"%s\" to \"%s\": %s", tmp, path, strerror(errno));
}

/*
 * Get the ground truth of the first nquery queries under filter, from the
 * cache if it can.
 */
void
bench_gt_get(const BenchDataset *ds, BenchMetric metric, const BenchFilter *filter,
			 int nquery, const char *cache_dir, BenchGroundTruth *gt)
{
	char		path[1024];
	PassSets	ps = {.ds = ds, .filter = filter};
	size_t		npass,
				total = 0;
	bool		per_query = bench_filter_per_query(filter);

	memset(gt, 0, sizeof(*gt));
	if (per_query)
		gt->npass_query = bench_malloc(nquery * sizeof(size_t));
	for (int q = 0; q < (per_query ? nquery : 1); q++)
	{
		pass_for_query(&ps, q, &npass);
		if (npass == 0)
			bench_fatal("no row of the data set passes filter \"%s\"%s", filter->name,
						per_query ? " for one of the queries" : "");
		if (per_query)
			gt->npass_query[q] = npass;
		total += npass;
	}
	gt->npass = per_query ? (total + nquery / 2) / nquery : total;

	bench_mkdirs(cache_dir);
	snprintf(path, sizeof(path), "%s/gt-%s-%s%s%s.bin", cache_dir, ds->name,
			 bench_metric_name(metric), filter->kind == BENCH_FILTER_NONE ? "" : "-",
			 filter->kind == BENCH_FILTER_NONE ? "" : filter->name);
	if (gt_read(path, ds, metric, nquery, gt))
		bench_log("ground truth: read from cache \"%s\"", path);
	else
	{
		gt_compute(ds, metric, &ps, nquery, gt);
		gt_write(path, ds, metric, gt);
	}
	pass_sets_free(&ps);
}

void
bench_gt_free(BenchGroundTruth *gt)
{
	free(gt->ids);
	free(gt->dists);
	free(gt->npass_query);
	gt->ids = NULL;
	gt->dists = NULL;
	gt->npass_query = NULL;
}

/* The rows a query should return: k, or all that pass its filter when fewer. */
int
bench_gt_want(const BenchGroundTruth *gt, int query, int k)
{
	size_t		npass = gt->npass_query ? gt->npass_query[query] : gt->npass;

	return npass < (size_t) k ? (int) npass : k;
}

/*
 * Recall@k of one answer: the share of the k true neighbours matched, where
 * a returned row counts if its distance is within RECALL_EPSILON (relative)
 * of the k-th true distance, so ties and rounding in the server's float
 * arithmetic do not count as misses.  Duplicate ids count once, and so do
 * rows the filter should have rejected.  When fewer than k rows pass the
 * filter, all of them are the k true neighbours.
 */
double
bench_gt_recall(const BenchDataset *ds, const BenchGroundTruth *gt, BenchMetric metric,
				const BenchFilter *filter, int query, const int32_t *ids, int nids, int k)
{
	const float *q = ds->queries + (size_t) query * ds->dim;
	int			want = bench_gt_want(gt, query, k);
	double		kth = gt->dists[(size_t) query * BENCH_GT_K + want - 1];
	double		threshold = kth + RECALL_EPSILON * fabs(kth) + 1e-9;
	int			hits = 0;

	for (int i = 0; i < nids && i < k; i++)
	{
		bool		dup = false;
		double		d;

		if (ids[i] < 0 || (size_t) ids[i] >= ds->nbase ||
			!bench_filter_accepts(filter, ds, query, ids[i]))
			continue;
		for (int j = 0; j < i && !dup; j++)
			dup = ids[j] == ids[i];
		if (dup)
			continue;
		d = bench_gt_distance(q, ds->base + (size_t) ids[i] * ds->dim, ds->dim, metric);
		if (d <= threshold)
			hits++;
	}
	return (double) hits / want;
}
