/*
 * hnswsketch.c
 *		A backend's sketch of an index's growing segment, so that a scan
 *		measures exactly only the growing rows the sketch cannot rule out.
 *
 * Measuring every growing row costs a scan the bytes of every unsealed
 * vector: 31 MB a query for 10,000 rows of 784 dimensions, far more than the
 * graph walk.  So a backend that searches an index keeps, in its own memory,
 * a sketch of the growing rows, after RaBitQ (Gao and Long, 2024):
 *
 * - every vector (normalised first for cosine) is padded with zeros to D, a
 *   power of 2, and rotated at random (three rounds of fixed sign flips,
 *   then a Walsh-Hadamard transform), which keeps distances and inner
 *   products;
 * - up to 32 centroids c are found in a sample of the rows (k-means++ seeds,
 *   a few Lloyd rounds), and each row keeps the D signs of x = v - c, c its
 *   nearest centroid, with |x|^2 / |x|_1, <sign(x), c>, the bits set, an
 *   error factor, and |x|^2 (l2) or <x, c> (ip, cosine);
 * - a query, rotated the same way and quantised to 8 bits per dimension,
 *   gives each row the estimate <x, q - c> ~ |x|^2 / |x|_1 <sign(x), q - c>,
 *   the signed sum from passes over the codes that look the query's weights
 *   up four bits at a time (MvKernels->bits_lut_sums, 6-bit weights: one
 *   pass for the weights' high 6 bits, one for their low 2), hence an
 *   estimate of the row's distance, with RaBitQ's error bound (eps0
 *   standard errors) and a term for the query's quantisation; a query
 *   whose 6-bit quantisation would widen the bounds little takes one pass,
 *   at 6 bits.
 *
 * The rows whose lower bound is no farther than the ef_search-th nearest
 * upper bound may be among the ef_search nearest: at most
 * milvus.hnsw_growing_rerank times ef_search of them are measured exactly on
 * their pages, nearest lower bound first, until a quarter of ef_search of
 * the rows measured are nearer than the next one's lower bound, which then
 * bounds what the sketch vouches for; the scan measures the other picks, a
 * window at a time, only when it gets to them.  The scan is told the
 * distance the sketch vouches for (no row left out is nearer, with high
 * probability) and measures the whole segment before it hands out a row
 * beyond it (hnswscan.c); a search whose sketch vouches for fewer of the
 * rows it measured than it was to measure first measures the whole segment
 * at once.
 *
 * For l2 and cosine, the sketch keeps its rows by centroid, each
 * centroid's by |x|, padded to whole blocks of codes (sort_rows; rows read
 * since follow in chain order until a quarter of the rows are such, or
 * gone, and the rows are sorted again).  A search takes the centroids
 * nearest the query first, and passes over each block whose rows are all
 * farther from the query than the ef_search-th nearest upper bound so far
 * by the triangle inequality, |q - v| >= | |q - c| - |x| |: on
 * Fashion-MNIST it reads about 3 in 5 blocks.
 *
 * The sketch follows the chain under MV_HNSW_GROWING_LOCK, the lock a scan
 * reads the chain under anyway.  Rows are only ever appended at the tail, so
 * the sketch remembers the last page it read and how far, and reads on from
 * there, new rows going to their nearest centroid.  A seal empties pages
 * from the head of the chain only (several times as it goes) and adds
 * their tuples to the metapage's growingReleased; each row remembers its
 * place in the chain counted the same way, so the sketch drops the rows of
 * the emptied pages without reading anything again (and starts again only
 * if the page it was to read on from was emptied too; so does a sketch of
 * another relfilenode).  A hot standby replays releases without the lock: a
 * walk there that a release overtook (growingReleased moved while it read)
 * may have gone on into the free list, so its sketch is not used, and a
 * picked page found given to the graph meanwhile is passed over (the graph
 * holds its rows).  A relcache invalidation does not start it again
 * (ANALYZE sends them), but frees it once its index is gone.  A row a vacuum
 * or a seal has flagged since it was sketched is found so when it is
 * measured, and forgotten.  When the rows have doubled since the centroids
 * were found, the sketch starts again with new ones.
 *
 * A sketch never holds more than work_mem; a segment that needs more is
 * measured whole, as without a sketch, until a seal empties pages.  Vectors of
 * bits, sparse vectors, fewer than 64 dimensions and segments too small for
 * a sketch to pay have none.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/xlog.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "milvus/distance.h"
#include "milvus/vector.h"
#include "hnsw.h"

/* a segment smaller than this many times the rows to measure is read whole */
#define SKETCH_MIN_RATIO	2

/*
 * Bits of the query per dimension.  RaBitQ quantises a query's residual to
 * each centroid to 4 bits; this sketch quantises the query itself, over its
 * whole range, once for all centroids, and 4 bits then blur rows that
 * differ by less than a cluster's spread.  8 bits take two passes of
 * bits_lut_sums (weights of 6 bits); a query whose quantisation term at 6
 * bits would be at most SKETCH_FAST_SHARE of the bounds' own term takes
 * one pass at 6 bits: Fashion-MNIST's queries do, at the same recall,
 * while clustered rows that differ from each other by much less than the
 * query's range need 8 (doc/benchmarks.md).
 */
#define SKETCH_QUERY_BITS	8
#define SKETCH_FAST_BITS	MV_LUT_WEIGHT_BITS
#define SKETCH_FAST_SHARE	0.25
StaticAssertDecl(SKETCH_QUERY_BITS == MV_LUT_WEIGHT_BITS + 2,
				 "a query's weights are two passes of bits_lut_sums: their low 2 bits and high 6");

/*
 * How many standard errors a row's estimate is trusted within (RaBitQ's
 * eps0, which RaBitQ sets to 1.9: on clustered test data that lost 3 % of the
 * true neighbours; with 3.0 the recall there was that of measuring every row)
 */
#define SKETCH_EPS0			3.0

/*
 * A search first measures picks until 1 / SKETCH_FIRST_SHARE of ef_search
 * of the rows measured are nearer than the next pick's lower bound.  With
 * most rows in the graph, a LIMIT of ef_search / 2 takes few growing rows;
 * measuring all ef_search of them first cost an unsealed search two thirds
 * more rows measured, each on a page of its own (doc/benchmarks.md).  A scan
 * that goes farther measures the rest of the picks as it gets to them.
 */
#define SKETCH_FIRST_SHARE	4

/* pages a search pins at once to measure its rows */
#define SKETCH_WINDOW		16

/*
 * Tuples released since the sketch last looked beyond which it starts again:
 * places are 32-bit and compared by their difference, which must not wrap.
 */
#define SKETCH_MAX_RELEASED	((uint32) 1 << 30)

/*
 * Rounds of random sign flips and a Walsh-Hadamard transform the rotation
 * takes.  One round leaves the rows of a cluster that vary along a few
 * coordinates (the clustered rows of hnsw_sketch) with codes whose errors
 * go together, past RaBitQ's bound; three spread them as a random rotation
 * would.
 */
#define SKETCH_ROTATION_ROUNDS	3

/* fewer dimensions than this rank rows too coarsely in one bit each */
#define SKETCH_MIN_DIMS		64

/* the sketch starts again with new centroids once its rows have doubled past this */
#define SKETCH_MIN_MEAN_ROWS	256

/*
 * The rows are laid out in cluster order (sort_rows) once there are this
 * many a centroid, and again when the rows read since, or the rows gone,
 * pass 1 / SKETCH_RESORT_SHARE of them
 */
#define SKETCH_SORT_MIN_ROWS	(2 * MV_LUT_BLOCK)
#define SKETCH_RESORT_SHARE		4

/*
 * The rounding allowed for in the triangle inequality: relative to the
 * norms, and for cosine's unit vectors (normalised, then rotated in floats)
 * an absolute margin besides
 */
#define SKETCH_NORM_SLACK		1e-3f
#define SKETCH_UNIT_SLACK		1e-4f

/* centroids: one per this many rows, at most SKETCH_MAX_CENTROIDS */
#define SKETCH_ROWS_PER_CENTROID	64
#define SKETCH_MAX_CENTROIDS		32
#define SKETCH_SAMPLE_PER_CENTROID	16
#define SKETCH_KMEANS_ROUNDS		3

typedef struct SketchEntry
{
	Oid			indexOid;		/* hash key */
	bool		inUse;			/* a scan is reading it: keep it */
	bool		stale;			/* a measured row was not where it was read */
	bool		maybeDropped;	/* a relcache invalidation named the index */
	Oid			relNumber;		/* rd_node.relNode */
	uint32		released;		/* the metapage's growingReleased it has followed */
	MvHnswMetric metric;
	int			vdims;			/* the vectors' dimensions */
	int			dims;			/* the sketch's: vdims rounded up to a power of 2 */
	int			nwords;			/* 64-bit words of a code's bits */
	int			ngroups;		/* groups of four bits of a code */
	uint64	   *bits;			/* one code's bits, while it is sketched */
	float	   *signs;			/* dims random signs, over sqrt(dims) */
	int			tooBig;			/* work_mem (kB) it outgrew at this growingReleased; 0: none */
	MemoryContext ctx;			/* arrays below; NULL: empty */
	float	   *mean;			/* ncent * dims centroids; NULL: none yet */
	int			ncent;
	/*
	 * per centroid, summed over the rows sketched since the centroids were
	 * found (those dropped since stay counted: pick_rows compares their means)
	 */
	double		scaleSum[SKETCH_MAX_CENTROIDS];
	double		errSum[SKETCH_MAX_CENTROIDS];
	int			meanRows;		/* rows when the centroids were found */
	int			n;
	int			cap;
	uint8	   *codes;			/* the codes, in bits_lut_sums's blocks */
	float	   *scale;			/* |x|^2 / |x|_1 */
	float	   *aux;			/* |x|^2 (l2), <x, c> (ip, cosine) */
	float	   *signC;			/* scale * <sign(x), c> */
	float	   *err;			/* bound on |<x, y> - estimate| per unit |y| */
	float	   *xnorm;			/* |x| */
	uint16	   *ones;			/* bits set in the code */
	uint8	   *cent;			/* the row's centroid */
	bool	   *gone;			/* found flagged when measured, released, or padding */
	ItemPointerData *heaptids;
	ItemPointerData *where;		/* the growing tuple */
	uint32	   *ord;			/* its place in the chain, counted as growingReleased */
	int			ngone;			/* gone rows, padding aside */
	/*
	 * Rows [0, nsorted) are in cluster order (sort_rows; l2 and cosine): each
	 * centroid's rows, |x| ascending, from block clusterBlock[c], padded
	 * with gone rows to whole blocks of codes; rows read since follow, in
	 * chain order.  Per sorted block, the least and greatest |x| of its
	 * rows (lo > hi: none live).
	 */
	int			nsorted;
	int			pads;
	bool		noSort;			/* sort_rows found no room in work_mem */
	int			clusterBlock[SKETCH_MAX_CENTROIDS + 1];
	float	   *blockLo;
	float	   *blockHi;
	BlockNumber lastBlk;		/* last chain page read, Invalid: none */
	OffsetNumber lastOff;		/* its last tuple read */
	uint32		lastPageOrd;	/* the place of lastBlk's first tuple */
	uint32		nextOrd;		/* the place of the next tuple after lastOff */
} SketchEntry;

/*
 * The per-row arrays besides the codes, which grow, shift and go together
 * (make_room, drop_released, sort_rows, forget, row_bytes)
 */
#define SKETCH_ROW_ARRAYS(X) \
	X(scale) X(aux) X(signC) X(err) X(xnorm) X(ones) X(cent) X(gone) X(heaptids) X(where) X(ord)

static HTAB *sketches = NULL;
static bool someMaybeDropped = false;	/* some entry's maybeDropped is set */

static void
forget(SketchEntry *e)
{
	if (e->ctx)
		MemoryContextDelete(e->ctx);
	e->ctx = NULL;
	e->mean = NULL;
	e->signs = NULL;
	e->ncent = 0;
	memset(e->scaleSum, 0, sizeof(e->scaleSum));
	memset(e->errSum, 0, sizeof(e->errSum));
	e->meanRows = 0;
	e->n = e->cap = 0;
	e->ngone = e->nsorted = e->pads = 0;
	e->noSort = false;
	e->blockLo = e->blockHi = NULL;
	e->codes = NULL;
	e->bits = NULL;
#define FORGET_ARRAY(a) e->a = NULL;
	SKETCH_ROW_ARRAYS(FORGET_ARRAY)
#undef FORGET_ARRAY
	e->lastBlk = InvalidBlockNumber;
	e->lastOff = InvalidOffsetNumber;
}

/*
 * A relcache invalidation: the index may have been dropped.  Most are not
 * drops (ANALYZE, VACUUM and ALTER INDEX send them too), and what a sketch
 * depends on it checks itself (relfilenode, growingReleased), so the sketch is kept
 * and entry_for frees it only if its index is gone.
 */
static void
invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	SketchEntry *e;

	hash_seq_init(&status, sketches);
	while ((e = hash_seq_search(&status)) != NULL)
		if (!OidIsValid(relid) || e->indexOid == relid)
		{
			e->maybeDropped = true;
			someMaybeDropped = true;
		}
}

/* Free the sketches of indexes an invalidation named and that no longer exist */
static void
free_dropped(Oid current)
{
	HASH_SEQ_STATUS status;
	SketchEntry *e;

	someMaybeDropped = false;
	hash_seq_init(&status, sketches);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		if (!e->maybeDropped)
			continue;
		e->maybeDropped = false;
		if (e->indexOid != current && !e->inUse &&
			!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(e->indexOid)))
		{
			forget(e);
			hash_search(sketches, &e->indexOid, HASH_REMOVE, NULL);
		}
	}
}

static SketchEntry *
entry_for(Relation index)
{
	SketchEntry *e;
	bool		found;

	if (sketches == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(SketchEntry);
		sketches = hash_create("milvus_hnsw growing sketches", 16, &ctl,
							   HASH_ELEM | HASH_BLOBS);
		CacheRegisterRelcacheCallback(invalidate, (Datum) 0);
	}
	if (someMaybeDropped)
		free_dropped(RelationGetRelid(index));
	e = hash_search(sketches, &RelationGetRelid(index), HASH_ENTER, &found);
	if (!found)
	{
		e->ctx = NULL;
		e->inUse = false;
		e->stale = false;
		e->maybeDropped = false;
		e->tooBig = 0;
		e->relNumber = InvalidOid;
		forget(e);
	}
	return e;
}

/* Whether metric has a sketch */
static bool
sketchable(MvHnswMetric metric)
{
	switch (metric)
	{
		case MV_HNSW_F32_L2:
		case MV_HNSW_F32_IP:
		case MV_HNSW_F32_COSINE:
		case MV_HNSW_F16_L2:
		case MV_HNSW_F16_IP:
		case MV_HNSW_F16_COSINE:
			return true;
		default:
			return false;
	}
}

/* value as floats in out (dims of them), normalised for cosine */
static void
as_floats(MvHnswMetric metric, Pointer value, int dims, float *out)
{
	bool		cosine = false;

	switch (metric)
	{
		case MV_HNSW_F32_COSINE:
			cosine = true;
			/* FALLTHROUGH */
		case MV_HNSW_F32_L2:
		case MV_HNSW_F32_IP:
			memcpy(out, ((FloatVector *) value)->x, sizeof(float) * dims);
			break;
		case MV_HNSW_F16_COSINE:
			cosine = true;
			/* FALLTHROUGH */
		default:
			MvKernels->f16_to_f32(((Float16Vector *) value)->x, out, dims);
			break;
	}
	if (cosine)
	{
		double		norm = 0;

		/* in double: squares of coordinates near FLT_MAX overflow a float */
		for (int i = 0; i < dims; i++)
			norm += (double) out[i] * out[i];
		if (norm > 0)
		{
			float		inv = (float) (1.0 / sqrt(norm));

			for (int i = 0; i < dims; i++)
				out[i] *= inv;
		}
	}
}

/* The next number of a fixed sequence (splitmix64) */
static uint64
next_random(uint64 *state)
{
	uint64		z = (*state += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * value in the sketch's coordinates, dims floats in out: as floats
 * (normalised for cosine), padded with zeros, rotated at random (the signs
 * flipped, then a Walsh-Hadamard transform), which keeps distances and inner
 * products and spreads each vector's energy over all coordinates, as
 * RaBitQ's estimator and bound assume.
 */
static void
sketch_vector(SketchEntry *e, Pointer value, float *out)
{
	as_floats(e->metric, value, e->vdims, out);
	memset(out + e->vdims, 0, sizeof(float) * (e->dims - e->vdims));
	for (int round = 0; round < SKETCH_ROTATION_ROUNDS; round++)
	{
		const float *signs = e->signs + (Size) round * e->dims;

		for (int i = 0; i < e->dims; i++)
			out[i] *= signs[i];
		MvKernels->f32_fwht(out, e->dims);
	}
}

/* The rows sketched and not gone */
static int
live_rows(const SketchEntry *e)
{
	return e->n - e->pads - e->ngone;
}

/* Bytes a row of the sketch takes */
static Size
row_bytes(int nwords)
{
#define ARRAY_BYTES(a) + sizeof(*((SketchEntry *) NULL)->a)
	return nwords * sizeof(uint64) SKETCH_ROW_ARRAYS(ARRAY_BYTES);
#undef ARRAY_BYTES
}

/* p (NULL: not yet allocated) with room for size bytes, in ctx */
static void *
resize(MemoryContext ctx, void *p, Size size)
{
	return p ? repalloc(p, size) : MemoryContextAlloc(ctx, size);
}

/* The bytes of rows codes, rows a multiple of MV_LUT_BLOCK */
#define CODE_BYTES(e, rows)	((Size) (rows) / MV_LUT_BLOCK * MV_LUT_BLOCK_BYTES((e)->ngroups))

/* Room for rows more rows; false when the sketch would outgrow work_mem */
static bool
make_room(SketchEntry *e, int rows)
{
	int			cap;

	if (e->n + rows <= e->cap)
		return true;
	/* whole blocks of codes, for bits_lut_sums (whose sums past the last row go unread) */
	cap = TYPEALIGN(MV_LUT_BLOCK, e->n + rows);
	if ((double) cap * row_bytes(e->nwords) > (double) work_mem * 1024)
		return false;
	if ((double) Max(e->cap * 2, 1024) * row_bytes(e->nwords) <= (double) work_mem * 1024)
		cap = Max(cap, Max(e->cap * 2, 1024));
	e->codes = resize(e->ctx, e->codes, CODE_BYTES(e, cap));
	memset(e->codes + CODE_BYTES(e, e->cap), 0, CODE_BYTES(e, cap) - CODE_BYTES(e, e->cap));
#define GROW_ARRAY(a) e->a = resize(e->ctx, e->a, sizeof(*e->a) * cap);
	SKETCH_ROW_ARRAYS(GROW_ARRAY)
#undef GROW_ARRAY
	e->cap = cap;
	return true;
}

/* The centroid nearest v */
static int
nearest_centroid(const float *mean, int ncent, int dims, const float *v)
{
	int			best = 0;
	float		bestDist = INFINITY;

	for (int j = 0; j < ncent; j++)
	{
		float		d = MvKernels->f32_l2sq(v, mean + (Size) j * dims, dims);

		if (d < bestDist)
		{
			bestDist = d;
			best = j;
		}
	}
	return best;
}

/* Sketch one row, v as floats */
static void
add_row(SketchEntry *e, const float *v, ItemPointer heaptid, BlockNumber blkno,
		OffsetNumber off, uint32 ord)
{
	uint64	   *code = e->bits;
	int			j = nearest_centroid(e->mean, e->ncent, e->dims, v);
	const float *c = e->mean + (Size) j * e->dims;
	/* x = v - c: |x|^2, |x|_1, <x, c> = <v, c> - |c|^2, then <sign(x), c> */
	double		sq = MvKernels->f32_l2sq(v, c, e->dims);
	double		l1 = MvKernels->f32_l1(v, c, e->dims);
	double		xc = (double) MvKernels->f32_dot(v, c, e->dims) -
		MvKernels->f32_dot(c, c, e->dims);
	float		sc = 0;
	int			ones = 0;

	memset(code, 0, sizeof(uint64) * e->nwords);
	for (int i = 0; i < e->dims; i++)
	{
		bool		up = v[i] > c[i];

		code[i / 64] |= (uint64) up << (i % 64);
		ones += up;
		sc += up ? c[i] : -c[i];
	}
	e->scale[e->n] = l1 > 0 ? (float) (sq / l1) : 0;
	e->signC[e->n] = e->scale[e->n] * (float) sc;
	/*
	 * RaBitQ's bound: with f = <sign(x) / sqrt(D), x / |x|> = |x|_1 / (sqrt(D)
	 * |x|), the estimate of <x, y> errs by at most about eps0 |x| |y|
	 * sqrt((1 - f^2) / f^2) / sqrt(D - 1), with high probability.
	 */
	if (sq > 0 && l1 > 0)
	{
		double		f = l1 / (sqrt((double) e->dims) * sqrt(sq));

		e->err[e->n] = (float) (SKETCH_EPS0 * sqrt(sq) * sqrt(Max(0, 1 - f * f)) / f /
								sqrt((double) Max(e->dims - 1, 1)));
	}
	else
		e->err[e->n] = 0;
	e->aux[e->n] = (e->metric == MV_HNSW_F32_L2 || e->metric == MV_HNSW_F16_L2) ?
		(float) sq : (float) xc;
	e->xnorm[e->n] = (float) sqrt(sq);
	/* a row whose terms overflowed would make the sums mean nothing */
	if (isfinite(e->scale[e->n]) && isfinite(e->err[e->n]))
	{
		e->scaleSum[j] += e->scale[e->n];
		e->errSum[j] += e->err[e->n];
	}
	MvBitsLutSetCode(e->codes, e->ngroups, e->n, code);
	e->ones[e->n] = (uint16) ones;
	e->cent[e->n] = (uint8) j;
	e->gone[e->n] = false;
	e->heaptids[e->n] = *heaptid;
	ItemPointerSet(&e->where[e->n], blkno, off);
	e->ord[e->n] = ord;
	e->n++;
}

typedef struct ReadState
{
	SketchEntry *e;
	float	   *scratch;
	/* sampling for the centroids: every step-th live row, up to max */
	float	   *sample;			/* NULL when sketching */
	int			nsample;
	int			maxSample;
	int64		step;
	int64		seen;
	bool		full;			/* work_mem reached */
} ReadState;

/* The live rows of one chain page past what the sketch has read of it */
static void
read_page(Page page, BlockNumber blkno, void *arg)
{
	ReadState  *rs = (ReadState *) arg;
	SketchEntry *e = rs->e;
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	OffsetNumber first = FirstOffsetNumber;
	uint32		pageOrd = e->nextOrd;	/* the place of the page's first tuple */

	if (rs->full)
		return;
	if (blkno == e->lastBlk)
	{
		first = OffsetNumberNext(e->lastOff);
		pageOrd = e->lastPageOrd;
	}
	if (rs->sample == NULL && !make_room(e, maxoff))
	{
		rs->full = true;
		return;
	}
	for (OffsetNumber off = first; off <= maxoff; off = OffsetNumberNext(off))
	{
		ItemId		iid = PageGetItemId(page, off);
		MvHnswGrowingTuple gtup;

		if (!ItemIdIsNormal(iid))
			continue;
		gtup = (MvHnswGrowingTuple) PageGetItem(page, iid);
		if (gtup->type != MV_HNSW_GROWING_TUPLE || gtup->flags != 0)
			continue;
		if (rs->sample)
		{
			if (rs->seen++ % rs->step == 0 && rs->nsample < rs->maxSample)
				sketch_vector(e, gtup->data, rs->sample + (Size) rs->nsample++ * e->dims);
			continue;
		}
		sketch_vector(e, gtup->data, rs->scratch);
		add_row(e, rs->scratch, &gtup->heaptid, blkno, off, pageOrd + off - 1);
	}
	if (rs->sample == NULL)
	{
		e->lastBlk = blkno;
		e->lastOff = maxoff;
		e->lastPageOrd = pageOrd;
		e->nextOrd = pageOrd + maxoff;
	}
}

/*
 * ncent centroids of the n sample vectors, in mean: k-means++ seeds (each
 * next seed drawn with probability by its squared distance to the nearest
 * seed so far, from a fixed sequence, so a sketch is the same every time),
 * then SKETCH_KMEANS_ROUNDS rounds of Lloyd's; a centroid left without a
 * sample keeps its place.
 */
static void
find_centroids(float *mean, int ncent, int dims, const float *sample, int n)
{
	int		   *counts;
	int		   *assign;
	double	   *sums;
	float	   *nearest;
	uint64		rng = 0;

	if (n == 0)
		return;
	nearest = palloc(sizeof(float) * n);
	memcpy(mean, sample, sizeof(float) * dims);
	for (int r = 0; r < n; r++)
		nearest[r] = MvKernels->f32_l2sq(sample + (Size) r * dims, mean, dims);
	for (int j = 1; j < ncent; j++)
	{
		double		total = 0,
					target;
		int			pick = n - 1;

		CHECK_FOR_INTERRUPTS();
		for (int r = 0; r < n; r++)
			total += nearest[r];
		/* a fraction in [0, 1) of the total */
		target = (double) (next_random(&rng) >> 11) / (double) (UINT64CONST(1) << 53) * total;
		for (int r = 0; r < n; r++)
		{
			target -= nearest[r];
			if (target < 0)
			{
				pick = r;
				break;
			}
		}
		memcpy(mean + (Size) j * dims, sample + (Size) pick * dims, sizeof(float) * dims);
		for (int r = 0; r < n; r++)
			nearest[r] = Min(nearest[r],
							 MvKernels->f32_l2sq(sample + (Size) r * dims,
												 mean + (Size) j * dims, dims));
	}
	pfree(nearest);

	counts = palloc(sizeof(int) * ncent);
	assign = palloc(sizeof(int) * n);
	sums = palloc(sizeof(double) * dims * ncent);
	for (int round = 0; round < SKETCH_KMEANS_ROUNDS; round++)
	{
		CHECK_FOR_INTERRUPTS();
		for (int r = 0; r < n; r++)
			assign[r] = nearest_centroid(mean, ncent, dims, sample + (Size) r * dims);
		memset(counts, 0, sizeof(int) * ncent);
		memset(sums, 0, sizeof(double) * dims * ncent);
		for (int r = 0; r < n; r++)
		{
			counts[assign[r]]++;
			for (int i = 0; i < dims; i++)
				sums[(Size) assign[r] * dims + i] += sample[(Size) r * dims + i];
		}
		for (int j = 0; j < ncent; j++)
			if (counts[j] > 0)
				for (int i = 0; i < dims; i++)
					mean[(Size) j * dims + i] = (float) (sums[(Size) j * dims + i] / counts[j]);
	}
	pfree(counts);
	pfree(assign);
	pfree(sums);
}

/*
 * A seal emptied the chain's pages up to the place cut (its tuples, counted
 * as the metapage's growingReleased counts them, are the first to go, the
 * chain losing whole pages from its head): the rows before it are gone.
 * In chain order, those of whole blocks of codes go at once (a block moves
 * as it is) and the rest of the first block's are flagged; in cluster
 * order, they are flagged, for sort_rows to drop.  Returns how many went.
 */
static int
drop_released(SketchEntry *e, uint32 cut)
{
	int			live = 0;
	int			shift;

	if (e->nsorted > 0)
	{
		/* rows in cluster order: flag them, sort_rows drops them later */
		int			went = 0;

		for (int r = 0; r < e->n; r++)
			if (!e->gone[r] && (int32) (e->ord[r] - cut) < 0)
			{
				e->gone[r] = true;
				went++;
			}
		e->ngone += went;
		/* fewer live rows: a layout that found no room may find it now */
		if (went > 0)
			e->noSort = false;
		return went;
	}
	while (live < e->n && (int32) (e->ord[live] - cut) < 0)
		e->gone[live++] = true;
	shift = live / MV_LUT_BLOCK * MV_LUT_BLOCK;
	if (shift == 0)
		return live;
	memmove(e->codes, e->codes + CODE_BYTES(e, shift),
			CODE_BYTES(e, TYPEALIGN(MV_LUT_BLOCK, e->n) - shift));
#define SHIFT_ARRAY(a) memmove(e->a, e->a + shift, sizeof(*e->a) * (e->n - shift));
	SKETCH_ROW_ARRAYS(SHIFT_ARRAY)
#undef SHIFT_ARRAY
	e->n -= shift;
	e->meanRows = Max(0, e->meanRows - shift);
	e->ngone = 0;
	for (int r = 0; r < e->n; r++)
		e->ngone += e->gone[r];
	return live;
}

/* sort_rows's order: by centroid, then |x| */
static int
cluster_cmp(const void *a, const void *b, void *arg)
{
	const SketchEntry *e = (const SketchEntry *) arg;
	int			ra = *(const int *) a;
	int			rb = *(const int *) b;

	if (e->cent[ra] != e->cent[rb])
		return e->cent[ra] < e->cent[rb] ? -1 : 1;
	if (e->xnorm[ra] != e->xnorm[rb])
		return e->xnorm[ra] < e->xnorm[rb] ? -1 : 1;
	return ra < rb ? -1 : ra > rb;
}

/*
 * Lay the rows out in cluster order (SketchEntry), dropping gone ones, so
 * that a search can pass over the blocks of codes whose rows the triangle
 * inequality rules out; false, the layout left as it was, when it would
 * outgrow work_mem.
 */
static bool
sort_rows(SketchEntry *e)
{
	SketchEntry old = *e;
	int		   *order = palloc(sizeof(int) * Max(e->n, 1));
	int			nlive = 0;
	int			next = 0;
	int			i = 0;
	int			cap = 0;

	for (int r = 0; r < e->n; r++)
		if (!e->gone[r])
			order[nlive++] = r;
	qsort_arg(order, nlive, sizeof(int), cluster_cmp, e);
	for (int c = 0, from = 0; c < e->ncent; c++)
	{
		int			to = from;

		while (to < nlive && e->cent[order[to]] == c)
			to++;
		cap += TYPEALIGN(MV_LUT_BLOCK, to - from);
		from = to;
	}
	cap = Max(cap, MV_LUT_BLOCK);
	if ((double) cap * row_bytes(e->nwords) > (double) work_mem * 1024)
	{
		pfree(order);
		return false;
	}
	e->codes = MemoryContextAllocZero(e->ctx, CODE_BYTES(e, cap));
#define NEW_ARRAY(a) e->a = MemoryContextAlloc(e->ctx, sizeof(*e->a) * cap);
	SKETCH_ROW_ARRAYS(NEW_ARRAY)
#undef NEW_ARRAY
	e->blockLo = resize(e->ctx, old.blockLo, sizeof(float) * (cap / MV_LUT_BLOCK));
	e->blockHi = resize(e->ctx, old.blockHi, sizeof(float) * (cap / MV_LUT_BLOCK));
	e->pads = 0;
	for (int c = 0; c < e->ncent; c++)
	{
		e->clusterBlock[c] = i / MV_LUT_BLOCK;
		for (; next < nlive && old.cent[order[next]] == c; next++, i++)
		{
			int			r = order[next];

#define COPY_ROW(a) e->a[i] = old.a[r];
			SKETCH_ROW_ARRAYS(COPY_ROW)
#undef COPY_ROW
			MvBitsLutCopyCode(e->codes, i, old.codes, r, e->ngroups);
		}
		for (; i % MV_LUT_BLOCK != 0; i++, e->pads++)
		{
#define PAD_ROW(a) memset(&e->a[i], 0, sizeof(*e->a));
			SKETCH_ROW_ARRAYS(PAD_ROW)
#undef PAD_ROW
			e->gone[i] = true;
			e->cent[i] = (uint8) c;
		}
	}
	e->clusterBlock[e->ncent] = i / MV_LUT_BLOCK;
	for (int b = 0; b < i / MV_LUT_BLOCK; b++)
	{
		e->blockLo[b] = INFINITY;
		e->blockHi[b] = -INFINITY;
		for (int r = b * MV_LUT_BLOCK; r < (b + 1) * MV_LUT_BLOCK; r++)
			if (!e->gone[r])
			{
				e->blockLo[b] = Min(e->blockLo[b], e->xnorm[r]);
				e->blockHi[b] = Max(e->blockHi[b], e->xnorm[r]);
			}
	}
	pfree(old.codes);
#define FREE_ARRAY(a) pfree(old.a);
	SKETCH_ROW_ARRAYS(FREE_ARRAY)
#undef FREE_ARRAY
	pfree(order);
	/* the released rows dropped were counted when the centroids were found */
	e->meanRows = Max(0, e->meanRows - (old.n - old.pads - nlive));
	e->n = e->nsorted = i;
	e->cap = cap;
	e->ngone = 0;
	return true;
}

/* Whether a release moved growingReleased since meta was read */
static bool
released_since(Relation index, const MvHnswMetaPageData *meta)
{
	MvHnswMetaPageData now;

	MvHnswReadMeta(index, &now);
	return now.growingReleased != meta->growingReleased;
}

/*
 * Bring e up to the chain, the caller holding MV_HNSW_GROWING_LOCK; false
 * when the segment is not to be sketched.
 */
static bool
sync_sketch(SketchEntry *e, Relation index, const MvHnswMetaPageData *meta,
			MvHnswMetric metric)
{
	ReadState	rs;
	BlockNumber from;
	bool		fresh = false;

	if (e->relNumber != index->rd_node.relNode || e->metric != metric ||
		e->vdims != (int) meta->dimensions || e->stale)
	{
		forget(e);
		e->relNumber = index->rd_node.relNode;
		e->released = meta->growingReleased;
		e->metric = metric;
		e->vdims = meta->dimensions;
		e->dims = 64;
		while (e->dims < e->vdims)
			e->dims *= 2;
		e->nwords = e->dims / 64;
		e->ngroups = e->dims / 4;
		e->tooBig = 0;
		e->stale = false;
	}
	if (e->released != meta->growingReleased)
	{
		/*
		 * Seals emptied chain pages: drop their rows, or all when the page
		 * to read on from was emptied too, or may have been (read while it
		 * held no tuple, its place is also the place after it), or when so
		 * many went that the 32-bit places may have wrapped.
		 */
		if (e->ctx != NULL &&
			(!BlockNumberIsValid(e->lastBlk) ||
			 meta->growingReleased - e->released >= SKETCH_MAX_RELEASED ||
			 (int32) (meta->growingReleased - e->lastPageOrd) > 0 ||
			 (meta->growingReleased == e->lastPageOrd && e->lastOff == 0)))
			forget(e);
		else if (e->ctx != NULL)
		{
			int			dropped = drop_released(e, meta->growingReleased);

			ereport(DEBUG2,
					(errmsg_internal("milvus_hnsw index \"%s\": its sketch dropped %d rows of emptied pages",
									 RelationGetRelationName(index), dropped)));
		}
		e->released = meta->growingReleased;
		e->tooBig = 0;
	}
	if (e->tooBig >= work_mem)
		return false;
	if ((double) e->n * row_bytes(e->nwords) > (double) work_mem * 1024)
		forget(e);
	if (e->mean != NULL && live_rows(e) >= 2 * e->meanRows &&
		live_rows(e) >= SKETCH_MIN_MEAN_ROWS)
		forget(e);

	rs.e = e;
	rs.full = false;
	rs.sample = NULL;
	if (e->ctx == NULL)
	{
		int64		rows = Max(meta->growingTuples, 1);
		uint64		seed = 0;

		fresh = true;
		e->ctx = AllocSetContextCreate(TopMemoryContext, "milvus_hnsw growing sketch",
									   ALLOCSET_DEFAULT_SIZES);
		e->signs = MemoryContextAlloc(e->ctx, sizeof(float) * e->dims * SKETCH_ROTATION_ROUNDS);
		e->bits = MemoryContextAlloc(e->ctx, sizeof(uint64) * e->nwords);
		e->nextOrd = meta->growingReleased;
		for (int i = 0; i < e->dims * SKETCH_ROTATION_ROUNDS; i++)
			e->signs[i] = ((next_random(&seed) & 1) ? 1.0f : -1.0f) / sqrtf((float) e->dims);
		e->ncent = Max(1, Min(SKETCH_MAX_CENTROIDS, rows / SKETCH_ROWS_PER_CENTROID));
		rs.maxSample = e->ncent * SKETCH_SAMPLE_PER_CENTROID;
		rs.step = Max(1, rows / rs.maxSample);
		rs.seen = 0;
		rs.nsample = 0;
		rs.sample = MemoryContextAlloc(e->ctx, sizeof(float) * e->dims * rs.maxSample);
		MvHnswGrowingWalkFrom(index, meta->growingHead, read_page, &rs);
		e->ncent = Max(1, Min(e->ncent, rs.nsample));
		e->mean = MemoryContextAllocZero(e->ctx, sizeof(float) * e->dims * e->ncent);
		find_centroids(e->mean, e->ncent, e->dims, rs.sample, rs.nsample);
		e->meanRows = rs.seen;
		pfree(rs.sample);
		rs.sample = NULL;
	}
	rs.scratch = MemoryContextAlloc(e->ctx, sizeof(float) * e->dims);

	from = BlockNumberIsValid(e->lastBlk) ? e->lastBlk : meta->growingHead;
	MvHnswGrowingWalkFrom(index, from, read_page, &rs);
	pfree(rs.scratch);
	if (RecoveryInProgress() && released_since(index, meta))
	{
		/* a replayed release overtook the walk (see the header) */
		forget(e);
		return false;
	}
	if (rs.full)
	{
		forget(e);
		e->tooBig = work_mem;
		ereport(DEBUG1,
				(errmsg_internal("milvus_hnsw index \"%s\": a sketch of its growing segment would outgrow work_mem",
								 RelationGetRelationName(index))));
		return false;
	}
	if (metric != MV_HNSW_F32_IP && metric != MV_HNSW_F16_IP && !e->noSort &&
		e->n - e->pads >= e->ncent * SKETCH_SORT_MIN_ROWS &&
		(e->n - e->nsorted > e->nsorted / SKETCH_RESORT_SHARE ||
		 e->ngone > (e->n - e->pads) / SKETCH_RESORT_SHARE))
		e->noSort = !sort_rows(e);
	if (fresh)
		ereport(DEBUG1,
				(errmsg_internal("milvus_hnsw index \"%s\": sketched %d growing rows around %d centroids",
								 RelationGetRelationName(index), live_rows(e), e->ncent)));
	return true;
}

/*
 * The step of a query quantised to bits bits over [lo, hi]; 1 when the
 * coordinates are (nearly) all equal, so that no step has a finite inverse
 */
static float
quant_step(float lo, float hi, int bits)
{
	float		delta = (hi - lo) / ((1 << bits) - 1);

	return delta >= FLT_MIN ? delta : 1;
}

/* What turns an estimate into a distance: cosine's is 1 - <v, q>, its estimate -<v, q> */
static float
estimate_offset(MvHnswMetric metric)
{
	return (metric == MV_HNSW_F32_COSINE || metric == MV_HNSW_F16_COSINE) ? 1 : 0;
}

/* A max-heap of (estimate, row) keeping the best k estimates */
typedef struct Pick
{
	float		estimate;
	int			row;
} Pick;

static void
pick_sift_down(Pick *h, int n, int i)
{
	Pick		x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].estimate > h[c].estimate)
			c++;
		if (h[c].estimate <= x.estimate)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/* Add to h, of k at most; when it is full, estimate must be below h[0]'s */
static void
pick_push(Pick *h, int *n, int k, float estimate, int row)
{
	int			i;

	if (*n == k)
	{
		h[0].estimate = estimate;
		h[0].row = row;
		pick_sift_down(h, k, 0);
		return;
	}
	i = (*n)++;
	while (i > 0 && h[(i - 1) / 2].estimate < estimate)
	{
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i].estimate = estimate;
	h[i].row = row;
}

/* Centroids in the order of their distances to the query (NaN last) */
static int
centroid_cmp(const void *a, const void *b, void *arg)
{
	const float *ynorm = (const float *) arg;
	int			ja = *(const int *) a;
	int			jb = *(const int *) b;
	float		ya = isnan(ynorm[ja]) ? INFINITY : ynorm[ja];
	float		yb = isnan(ynorm[jb]) ? INFINITY : ynorm[jb];

	if (ya != yb)
		return ya < yb ? -1 : 1;
	return ja < jb ? -1 : ja > jb;
}

/*
 * Whether every row of sorted block b is farther than reach from a query y
 * = |q - c| away from the block's centroid c: |q - v| >= | y - |x| |, with
 * a margin for the rounding of both norms
 */
static bool
block_beyond(const SketchEntry *e, int b, float y, float reach)
{
	float		lo = e->blockLo[b];
	float		hi = e->blockHi[b];

	if (lo > hi)
		return true;			/* padding only */
	return (y - hi) - SKETCH_NORM_SLACK * (y + hi) > reach ||
		(lo - y) - SKETCH_NORM_SLACK * (lo + y) > reach;
}

/*
 * The sums of the query's weights over the codes of blocks [b0, b0 + nb),
 * into dots: one pass, or two (lutLow not NULL: 4 times the high bits' sum
 * plus the low bits', those in low)
 */
static void
code_sums(const SketchEntry *e, int b0, int nb, const uint8 *lut, const uint8 *lutLow,
		  uint32 *dots, uint32 *low)
{
	const uint8 *codes = e->codes + CODE_BYTES(e, (Size) b0 * MV_LUT_BLOCK);
	uint32	   *d = dots + (Size) b0 * MV_LUT_BLOCK;

	MvKernels->bits_lut_sums(codes, e->ngroups, nb, lut, d);
	if (lutLow != NULL)
	{
		uint32	   *l = low + (Size) b0 * MV_LUT_BLOCK;

		MvKernels->bits_lut_sums(codes, e->ngroups, nb, lutLow, l);
		for (int r = 0; r < nb * MV_LUT_BLOCK; r++)
			d[r] = 4 * d[r] + l[r];
	}
}

/*
 * The rows to measure for query: those passing filter (when not NULL) whose
 * estimate's lower bound is no farther than the k-th nearest upper bound
 * (all rows that may be among the k nearest), at most cap of them (those
 * of the nearest lower bounds), in *picks, their lower bounds as
 * estimates; returns how many, or -1 for a query the sketch cannot
 * estimate for.  *trust is the distance no row left out is nearer than
 * (with high probability).  *rejected counts the rows the filter was asked
 * about and failed; *qbits is the bits the query was quantised to,
 * *blocksRead the blocks of codes it read.  A row whose estimate overflowed
 * is measured.
 */
static int
pick_rows(SketchEntry *e, Pointer query, int k, int cap, MvHnswTidFilter filter,
		  void *filterArg, Pick *picks, float *trust, int *possible, int64 *rejected,
		  int *qbits, int *blocksRead)
{
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw sketch search",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(tmp);
	float	   *q = palloc(sizeof(float) * e->dims);
	uint8	   *weights = palloc(sizeof(uint8) * e->dims);
	uint8	   *lut = palloc(MV_LUT_BYTES(e->ngroups));
	uint8	   *lutLow = NULL;	/* 8 bits: the weights' low 2 bits' table */
	uint32	   *low = NULL;		/* and their sums */
	uint32	   *dots = palloc(sizeof(uint32) * TYPEALIGN(MV_LUT_BLOCK, e->n));
	float	   *lower = palloc(sizeof(float) * e->n);
	float	   *upperBound = palloc(sizeof(float) * e->n);
	int		   *near = palloc(sizeof(int) * e->n);	/* rows pass 3 looks at */
	int			nnear = 0;
	MvSketchRows rows;
	MvSketchQuery qterms;
	/* with a filter, per row: 0 not asked, 1 passes, 2 fails */
	uint8	   *passes = filter ? palloc0(sizeof(uint8) * e->n) : NULL;
	float	   *constant = palloc(sizeof(float) * e->ncent);
	float	   *ynorm = palloc(sizeof(float) * e->ncent);
	Pick	   *upper = palloc(sizeof(Pick) * k);
	int			corder[SKETCH_MAX_CENTROIDS];	/* centroids, nearest the query first */
	int			steps = (e->nsorted > 0) ? e->ncent : 0;
	bool		l2 = (e->metric == MV_HNSW_F32_L2 || e->metric == MV_HNSW_F16_L2);
	float		lo = INFINITY,
				hi = -INFINITY,
				delta,
				inv,
				qerr,
				threshold;
	int64		qsum = 0;
	float		base;
	double		scaleSum = 0;	/* the rows' scale: a factor of the quantisation term */
	double		spanSum = 0;	/* their err times |q - c|: the bounds' own term */
	int			bits;
	int			nblocks = TYPEALIGN(MV_LUT_BLOCK, e->n) / MV_LUT_BLOCK;
	int			nupper = 0;
	int			npicks = 0;

	sketch_vector(e, query, q);
	for (int i = 0; i < e->dims; i++)
	{
		lo = Min(lo, q[i]);
		hi = Max(hi, q[i]);
	}
	if (!isfinite(hi - lo) || !isfinite(MvKernels->f32_dot(q, q, e->dims)))
	{
		/* a query so large its squares overflow: no estimate means anything */
		MemoryContextSwitchTo(old);
		MemoryContextDelete(tmp);
		return -1;
	}
	/*
	 * per centroid c: |q - c|, measured (the triangle inequality below
	 * takes it as exact), and |q - c|^2 (l2) or <c, q> (ip, cosine)
	 */
	for (int j = 0; j < e->ncent; j++)
	{
		const float *c = e->mean + (Size) j * e->dims;
		float		ysq = MvKernels->f32_l2sq(q, c, e->dims);

		ynorm[j] = sqrtf(ysq);
		constant[j] = l2 ? ysq : MvKernels->f32_dot(c, q, e->dims);
		scaleSum += e->scaleSum[j];
		spanSum += e->errSum[j] * ynorm[j];
		corder[j] = j;
	}

	/*
	 * The bounds' quantisation term at 6 bits against their own: small, one
	 * pass at 6 bits; else two, at 8.  (The rounding errors being
	 * independent, the quantisation errs on <sign(x), q> by eps0 standard
	 * errors of a sum of dims of them, each within half a step.)
	 */
	bits = SKETCH_FAST_BITS;
	delta = quant_step(lo, hi, bits);
	qerr = SKETCH_EPS0 * delta * sqrtf((float) e->dims / 3.0f);
	if (qerr * scaleSum > SKETCH_FAST_SHARE * spanSum &&
		quant_step(lo, hi, SKETCH_QUERY_BITS) < delta)
	{
		bits = SKETCH_QUERY_BITS;
		delta = quant_step(lo, hi, bits);
		qerr = SKETCH_EPS0 * delta * sqrtf((float) e->dims / 3.0f);
	}
	*qbits = bits;
	inv = 1 / delta;
	for (int i = 0; i < e->dims; i++)
	{
		int			v = (int) ((q[i] - lo) * inv + 0.5f);

		weights[i] = (uint8) Min(v, (1 << bits) - 1);
		qsum += weights[i];
	}
	/* <sign(x), q> = 2 (sum of q over the set bits) - (sum of q), as quantised */
	base = -(lo * e->dims + delta * qsum);
	if (bits == SKETCH_QUERY_BITS)
	{
		/* two passes: the weights' low 2 bits, then their high 6, times 4 */
		uint8	   *high = palloc(sizeof(uint8) * e->dims);

		lutLow = palloc(MV_LUT_BYTES(e->ngroups));
		low = palloc(sizeof(uint32) * TYPEALIGN(MV_LUT_BLOCK, e->n));
		for (int i = 0; i < e->dims; i++)
		{
			high[i] = weights[i] >> 2;
			weights[i] &= 3;
		}
		MvBitsLutBuild(weights, e->ngroups, lutLow);
		MvBitsLutBuild(high, e->ngroups, lut);
	}
	else
		MvBitsLutBuild(weights, e->ngroups, lut);
	qterms.ynorm = ynorm;
	qterms.constant = constant;
	qterms.base = base;
	qterms.lo = lo;
	qterms.delta = delta;
	qterms.qerr = qerr;
	qterms.l2 = l2;

	/*
	 * Passes 1 and 2, a run of blocks at a time: each row's bounds (a gone
	 * row's lower one infinite), then the k nearest upper bounds of rows
	 * passing, and the rows whose lower bound is no farther than the k-th
	 * nearest upper bound so far (the bound only comes nearer, so they
	 * include every row pass 3 takes).  Rows in cluster order go first, the
	 * nearest centroid's first, passing over the blocks whose rows are all
	 * farther than that bound by the triangle inequality; then the rest.
	 */
	if (e->nsorted > 0)
		qsort_arg(corder, e->ncent, sizeof(int), centroid_cmp, ynorm);
	for (int step = 0; step <= steps; step++)
	{
		int			b0,
					b1,
					r0,
					r1;

		if (step < steps)
		{
			int			c = corder[step];
			float		reach = INFINITY;

			/*
			 * the k-th nearest upper bound as a distance between the vectors
			 * in the sketch's space: cosine's estimate is -<v, q>, and
			 * |v - q|^2 = 2 + 2 estimate for unit vectors (a zero vector,
			 * left as it is, is nearer q than that says, and not among rows
			 * nearer than a bound below -1/2)
			 */
			if (nupper == k)
				reach = l2 ? sqrtf(Max(upper[0].estimate, 0)) :
					sqrtf(Max(2 + 2 * upper[0].estimate, 0)) + SKETCH_UNIT_SLACK;

			b0 = e->clusterBlock[c];
			b1 = e->clusterBlock[c + 1];
			while (b0 < b1 && block_beyond(e, b0, ynorm[c], reach))
				b0++;
			while (b1 > b0 && block_beyond(e, b1 - 1, ynorm[c], reach))
				b1--;
		}
		else
		{
			b0 = e->nsorted / MV_LUT_BLOCK;
			b1 = nblocks;
		}
		if (b0 >= b1)
			continue;
		*blocksRead += b1 - b0;
		code_sums(e, b0, b1 - b0, lut, lutLow, dots, low);
		r0 = b0 * MV_LUT_BLOCK;
		r1 = Min(e->n, b1 * MV_LUT_BLOCK);
		rows.dots = dots + r0;
		rows.ones = e->ones + r0;
		rows.scale = e->scale + r0;
		rows.signC = e->signC + r0;
		rows.err = e->err + r0;
		rows.aux = e->aux + r0;
		rows.cent = e->cent + r0;
		rows.gone = e->gone + r0;
		MvKernels->sketch_bounds(&rows, &qterms, r1 - r0, lower + r0, upperBound + r0);
		for (int r = r0; r < r1; r++)
		{
			float		top = (nupper == k) ? upper[0].estimate : INFINITY;

			/*
			 * never a gone row, its page may be emptied: only a gone row has
			 * an infinite lower bound (sketch_bounds gives a row that
			 * overflowed -inf)
			 */
			if (lower[r] > top || lower[r] == INFINITY)
				continue;
			near[nnear++] = r;
			/* a full heap takes only a nearer bound: the k-th only comes nearer */
			if (nupper == k && upperBound[r] >= top)
				continue;
			if (filter)
			{
				passes[r] = filter(filterArg, &e->heaptids[r]) ? 1 : 2;
				if (passes[r] == 2)
				{
					(*rejected)++;
					continue;
				}
			}
			pick_push(upper, &nupper, k, upperBound[r], r);
		}
	}

	/* pass 3: the rows that may be among the k nearest, nearest lower bound first */
	threshold = (nupper == k) ? upper[0].estimate : INFINITY;
	*trust = threshold;
	for (int i = 0; i < nnear; i++)
	{
		int			r = near[i];

		if (lower[r] > threshold)
			continue;
		if (filter && passes[r] == 0)
		{
			passes[r] = filter(filterArg, &e->heaptids[r]) ? 1 : 2;
			if (passes[r] == 2)
				(*rejected)++;
		}
		if (filter && passes[r] == 2)
			continue;
		(*possible)++;
		if (npicks == cap && lower[r] >= picks[0].estimate)
		{
			*trust = Min(*trust, lower[r]);
			continue;
		}
		if (npicks == cap)
			*trust = Min(*trust, picks[0].estimate);
		pick_push(picks, &npicks, cap, lower[r], r);
	}
	*trust += estimate_offset(e->metric);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
	return npicks;
}

/*
 * The growing tuple at off on page, the caller holding the page's lock, if
 * it is still row heaptid and not flagged; else NULL, *moved telling whether
 * off holds no tuple at all (the page is not the one the row was read on).
 */
static MvHnswGrowingTuple
live_row(Page page, OffsetNumber off, ItemPointer heaptid, bool *moved)
{
	MvHnswGrowingTuple gtup;

	*moved = off > PageGetMaxOffsetNumber(page) || !ItemIdIsNormal(PageGetItemId(page, off));
	if (*moved)
		return NULL;
	gtup = (MvHnswGrowingTuple) PageGetItem(page, PageGetItemId(page, off));
	if (gtup->type != MV_HNSW_GROWING_TUPLE || gtup->flags != 0 ||
		!ItemPointerEquals(&gtup->heaptid, heaptid))
		return NULL;
	return gtup;
}

static int
lower_cmp(const void *a, const void *b)
{
	float		x = ((const Pick *) a)->estimate;
	float		y = ((const Pick *) b)->estimate;

	return (x > y) - (x < y);
}

static int
place_cmp(const void *a, const void *b, void *arg)
{
	SketchEntry *e = (SketchEntry *) arg;

	return ItemPointerCompare(&e->where[((const Pick *) a)->row],
							  &e->where[((const Pick *) b)->row]);
}

/*
 * Measure the picked rows on their pages, the caller holding
 * MV_HNSW_GROWING_LOCK; rows flagged since they were sketched are forgotten.
 * The picks go nearest lower bound first, SKETCH_WINDOW at a time, and stop
 * once k rows measured are all nearer than the next lower bound: no row
 * left is among the k nearest, and *trust comes down to that bound.  The
 * rows of a window lie on as many pages, rarely in the CPU's caches: they
 * are taken in page order, their pages pinned and line pointers prefetched
 * first, and each row's vector while the one before it is measured.  (A
 * window, not all at once: a small shared_buffers has room for few pins.)
 * Returns the rows measured; *tried counts the picks read.
 */
static int
measure(SketchEntry *e, Relation index, const MvHnswDist *dist, Pointer query,
		Pick *picks, int npicks, int k, float *trust, MvHnswRow *rows, int *tried)
{
	Buffer		bufs[SKETCH_WINDOW];
	Pick	   *nearest = palloc(sizeof(Pick) * k);	/* the k nearest measured */
	int			nnearest = 0;
	float		offset = estimate_offset(e->metric);
	int			n = 0;

	qsort(picks, npicks, sizeof(Pick), lower_cmp);
	*tried = npicks;
	for (int start = 0; start < npicks; start += SKETCH_WINDOW)
	{
		int			end = Min(npicks, start + SKETCH_WINDOW);

		if (nnearest == k && picks[start].estimate + offset > nearest[0].estimate)
		{
			*trust = Min(*trust, picks[start].estimate + offset);
			*tried = start;
			break;
		}
		qsort_arg(picks + start, end - start, sizeof(Pick), place_cmp, e);
		for (int i = start; i < end; i++)
		{
			BlockNumber blkno = ItemPointerGetBlockNumber(&e->where[picks[i].row]);
			Buffer	   *buf = &bufs[i - start];
			Page		page;

			if (i > start && BufferGetBlockNumber(buf[-1]) == blkno)
			{
				*buf = buf[-1];
				IncrBufferRefCount(*buf);
			}
			else
				*buf = MvHnswReadBuffer(index, blkno);
			page = BufferGetPage(*buf);
			mv_prefetch(page);
			mv_prefetch(PageGetItemId(page, ItemPointerGetOffsetNumber(&e->where[picks[i].row])));
		}
		for (int i = start; i < end; i++)
		{
			int			r = picks[i].row;
			Buffer		buf = bufs[i - start];
			OffsetNumber off = ItemPointerGetOffsetNumber(&e->where[r]);
			Page		page = BufferGetPage(buf);
			bool		moved;
			MvHnswGrowingTuple gtup;

			if (i + 1 < end)
			{
				/* unlocked, only a hint: a line pointer read too early costs a wasted prefetch */
				Page		next = BufferGetPage(bufs[i + 1 - start]);
				ItemId		nid = PageGetItemId(next, ItemPointerGetOffsetNumber(&e->where[picks[i + 1].row]));
				char	   *item = (char *) next + ItemIdGetOffset(nid);

				if (ItemIdGetOffset(nid) < BLCKSZ - 4 * PG_CACHE_LINE_SIZE)
					for (int o = 0; o < 4 * PG_CACHE_LINE_SIZE; o += PG_CACHE_LINE_SIZE)
						mv_prefetch(item + o);
			}
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			if (RecoveryInProgress() &&
				!(MvHnswPageGetOpaque(page)->flags & MV_HNSW_PAGE_GROWING))
			{
				/* a replayed release gave it to the graph, with its rows */
				e->stale = true;
				UnlockReleaseBuffer(buf);
				continue;
			}
			if (i == start || buf != bufs[i - 1 - start])
				MvHnswCheckGrowingPage(index, page, BufferGetBlockNumber(buf));
			gtup = live_row(page, off, &e->heaptids[r], &moved);
			if (moved)
				e->stale = true;	/* not the page the sketch read: start it again next time */
			else if (gtup == NULL)
			{
				e->gone[r] = true;
				e->ngone++;
			}
			else
			{
				rows[n].distance = MvHnswDistance(dist, query, gtup->data);
				rows[n].heaptid = gtup->heaptid;
				if (nnearest < k || rows[n].distance < nearest[0].estimate)
					pick_push(nearest, &nnearest, k, rows[n].distance, n);
				n++;
			}
			UnlockReleaseBuffer(buf);
		}
	}
	pfree(nearest);
	return n;
}

/* MvHnswGrowingSketchRead's work, under MV_HNSW_GROWING_LOCK */
static int
sketch_read_locked(SketchEntry *e, Relation index, const MvHnswDist *dist, Pointer query,
				   int k, int want, MvHnswTidFilter filter, void *filterArg, MvHnswRow **rows,
				   float *trust, int64 *rejected, MvHnswSketchRest *rest)
{
	MvHnswMetaPageData meta;
	Pick	   *picks;
	int			npicks;
	int			possible = 0;
	int64		rejectedBefore;
	int			vouched = 0;
	int			first;
	int			tried;
	int			qbits;
	int			blocksRead = 0;
	float		allTrust;
	int			n;

	/* the chain may have moved before the lock: read it again under it */
	MvHnswReadMeta(index, &meta);
	if (!BlockNumberIsValid(meta.growingHead) ||
		!sync_sketch(e, index, &meta, dist->metric) ||
		live_rows(e) < want * SKETCH_MIN_RATIO)
		return -1;
	picks = palloc(sizeof(Pick) * want);
	rejectedBefore = *rejected;
	npicks = pick_rows(e, query, k, want, filter, filterArg, picks, trust, &possible,
					   rejected, &qbits, &blocksRead);
	if (npicks < 0)
	{
		pfree(picks);
		return -1;
	}
	*rows = palloc(sizeof(MvHnswRow) * Max(npicks, 1));
	allTrust = *trust;
	first = (k + SKETCH_FIRST_SHARE - 1) / SKETCH_FIRST_SHARE;
	n = measure(e, index, dist, query, picks, npicks, first, trust, *rows, &tried);
	/* what measuring left, still nearest lower bound first */
	rest->n = npicks - tried;
	rest->next = 0;
	rest->trust = allTrust;
	if (rest->n > 0)
	{
		float		offset = estimate_offset(e->metric);

		rest->where = palloc(sizeof(ItemPointerData) * rest->n);
		rest->heaptids = palloc(sizeof(ItemPointerData) * rest->n);
		rest->lower = palloc(sizeof(float) * rest->n);
		for (int i = 0; i < rest->n; i++)
		{
			rest->where[i] = e->where[picks[tried + i].row];
			rest->heaptids[i] = e->heaptids[picks[tried + i].row];
			rest->lower[i] = picks[tried + i].estimate + offset;
		}
	}
	pfree(picks);
	for (int i = 0; i < n; i++)
		vouched += ((*rows)[i].distance <= *trust);
	if (vouched < Min(first, n))
	{
		/*
		 * Rows close to equidistant from the query: the sketch vouches for
		 * fewer of them than it was to measure first, and a scan would soon
		 * go past that and measure the rest anyway.  Measure it all now.
		 */
		ereport(DEBUG2,
				(errmsg_internal("milvus_hnsw index \"%s\": its sketch cannot rank the growing rows near this query; measuring all %d",
								 RelationGetRelationName(index), live_rows(e))));
		ereport(DEBUG3,
				(errmsg_internal("milvus_hnsw index \"%s\": its sketch vouches for %d of the %d nearest growing rows",
								 RelationGetRelationName(index), vouched, first)));
		*rejected = rejectedBefore;
		pfree(*rows);
		rest->n = 0;
		return -1;
	}
	ereport(DEBUG2,
			(errmsg_internal("milvus_hnsw index \"%s\": searched %d growing rows through its sketch",
							 RelationGetRelationName(index), live_rows(e))));
	ereport(DEBUG3,
			(errmsg_internal("milvus_hnsw index \"%s\": measured %d growing rows, of %d that may be among the %d nearest (the query at %d bits, %d of %d blocks of codes read)",
							 RelationGetRelationName(index), tried, possible, k, qbits,
							 blocksRead, (int) (TYPEALIGN(MV_LUT_BLOCK, e->n) / MV_LUT_BLOCK))));
	return n;
}

/*
 * The growing rows a scan is to measure first, with the sketch: the rows
 * passing filter that may be among the k nearest query, at most want of
 * them, measured exactly, in *rows; returns how many.  *trust is the
 * distance no row left out is nearer than (with high probability): the scan
 * reads the rest (MvHnswGrowingRead) before it hands out a farther row.
 * *rejected counts rows the filter failed.  Returns -1, having kept no row,
 * when the scan is to measure every growing row: a metric or a dimension
 * count without a sketch, too few rows, too many for work_mem, or a query
 * the sketch cannot rank the rows for.
 */
int
MvHnswGrowingSketchRead(Relation index, const MvHnswDist *dist, Pointer query, int k,
						int want, MvHnswTidFilter filter, void *filterArg, MvHnswRow **rows,
						float *trust, int64 *rejected, MvHnswSketchRest *rest)
{
	MvHnswMetaPageData meta;
	SketchEntry *e;
	int			n;

	rest->n = rest->next = 0;
	if (want <= 0 || query == NULL || !sketchable(dist->metric))
		return -1;
	MvHnswReadMeta(index, &meta);
	if (!BlockNumberIsValid(meta.growingHead) || meta.dimensions < SKETCH_MIN_DIMS ||
		meta.growingTuples < (uint64) want * SKETCH_MIN_RATIO)
		return -1;

	e = entry_for(index);
	LockPage(index, MV_HNSW_GROWING_LOCK, ShareLock);
	e->inUse = true;
	PG_TRY();
	{
		n = sketch_read_locked(e, index, dist, query, k, Max(want, k), filter, filterArg,
							   rows, trust, rejected, rest);
	}
	PG_CATCH();
	{
		/* a page read halfway may be read again: start the sketch again */
		e->inUse = false;
		forget(e);
		e->relNumber = InvalidOid;
		PG_RE_THROW();
	}
	PG_END_TRY();
	e->inUse = false;
	UnlockPage(index, MV_HNSW_GROWING_LOCK, ShareLock);
	return n;
}

/*
 * Measure the next SKETCH_WINDOW of the rows a sketch search left (rest),
 * under MV_HNSW_GROWING_LOCK, into *rows (palloc'd), and raise *trust to the
 * next one's lower bound, or to what they all vouch for once none is left;
 * returns how many were measured.  A row whose tuple is no longer where the
 * sketch read it, or is flagged, was sealed or found dead meanwhile (the
 * graph holds a sealed one) and is passed over.
 */
int
MvHnswGrowingSketchMore(Relation index, const MvHnswDist *dist, Pointer query,
						MvHnswSketchRest *rest, MvHnswRow **rows, float *trust)
{
	int			end = Min(rest->n, rest->next + SKETCH_WINDOW);
	int			n = 0;

	*rows = palloc(sizeof(MvHnswRow) * Max(end - rest->next, 1));
	LockPage(index, MV_HNSW_GROWING_LOCK, ShareLock);
	for (; rest->next < end; rest->next++)
	{
		ItemPointer where = &rest->where[rest->next];
		OffsetNumber off = ItemPointerGetOffsetNumber(where);
		Buffer		buf = MvHnswReadBuffer(index, ItemPointerGetBlockNumber(where));
		Page		page = BufferGetPage(buf);

		MvHnswGrowingTuple gtup;
		bool		moved;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		/* a page a release gave to the graph since holds no growing row */
		gtup = (MvHnswPageGetOpaque(page)->flags & MV_HNSW_PAGE_GROWING) ?
			live_row(page, off, &rest->heaptids[rest->next], &moved) : NULL;
		if (gtup != NULL)
		{
			(*rows)[n].distance = MvHnswDistance(dist, query, gtup->data);
			(*rows)[n].heaptid = gtup->heaptid;
			n++;
		}
		UnlockReleaseBuffer(buf);
	}
	UnlockPage(index, MV_HNSW_GROWING_LOCK, ShareLock);
	*trust = rest->next < rest->n ? Min(rest->trust, rest->lower[rest->next]) : rest->trust;
	return n;
}
