/*
 * hnswutils.c
 *		What build, insert, scan and vacuum of milvus_hnsw share: distances,
 *		pages and their WAL, candidate heaps, loading elements, the layer
 *		search and the neighbour selection heuristic.
 *
 * The search (MvHnswSearchLayer) is the HNSW paper's SEARCH-LAYER over either
 * graph kind.  In a build graph it follows the arena's offsets (copying a
 * list under the element's lock when other processes share the graph),
 * computes distances from the element's vector, and keeps its visit marks in
 * this process, by the element's offset; on disk it reads neighbour tuples, loads
 * each neighbour once per operation (the distance to the operation's query is
 * computed on the page, under the buffer lock, and cached in the element),
 * and marks visits in the element.  Either way a visit is a stamp, so a scan
 * can resume layer 0 with the same visited set.
 * Candidates that do not make the result list can be kept in a "discarded"
 * heap: the iterative scan resumes from them.
 */
#include "postgres.h"

#include <math.h>

#include "access/relation.h"
#include "access/xloginsert.h"
#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "hnsw.h"
#include "milvus/distance.h"
#include "milvus/vector.h"
#include "milvus/vector_common.h"

/* Choose how distances are computed from the opclass's support function */
void
MvHnswInitDist(MvHnswDist *dist, Relation index)
{
	FmgrInfo   *proc = index_getprocinfo(index, 1, 1);
	PGFunction	f = proc->fn_addr;

	dist->proc = proc;
	dist->collation = index->rd_indcollation[0];
	if (f == milvus_floatvector_l2_squared_distance)
		dist->metric = MV_HNSW_F32_L2;
	else if (f == milvus_floatvector_negative_inner_product)
		dist->metric = MV_HNSW_F32_IP;
	else if (f == milvus_floatvector_cosine_distance)
		dist->metric = MV_HNSW_F32_COSINE;
	else if (f == milvus_float16vector_l2_squared_distance)
		dist->metric = MV_HNSW_F16_L2;
	else if (f == milvus_float16vector_negative_inner_product)
		dist->metric = MV_HNSW_F16_IP;
	else if (f == milvus_float16vector_cosine_distance)
		dist->metric = MV_HNSW_F16_COSINE;
	else if (f == milvus_binaryvector_hamming_distance)
		dist->metric = MV_HNSW_BIT_HAMMING;
	else if (f == milvus_binaryvector_jaccard_distance)
		dist->metric = MV_HNSW_BIT_JACCARD;
	else
		dist->metric = MV_HNSW_GENERIC;
}

/* NaN (cosine of a zero vector) sorts last, as float8 NaN does in SQL */
static inline float
finite_or_last(double d)
{
	return isnan(d) ? INFINITY : (float) d;
}

/*
 * Distance between two vectors of the index's type (plain varlenas of the
 * same dimension), in the support function's units.
 */
float
MvHnswDistance(const MvHnswDist *dist, Pointer a, Pointer b)
{
	switch (dist->metric)
	{
		case MV_HNSW_F32_L2:
			return MvKernels->f32_l2sq(((FloatVector *) a)->x, ((FloatVector *) b)->x,
									   ((FloatVector *) a)->dim);
		case MV_HNSW_F32_IP:
			return -MvKernels->f32_dot(((FloatVector *) a)->x, ((FloatVector *) b)->x,
									   ((FloatVector *) a)->dim);
		case MV_HNSW_F32_COSINE:
			{
				float		ab,
							aa,
							bb;

				MvKernels->f32_cosine_parts(((FloatVector *) a)->x, ((FloatVector *) b)->x,
											((FloatVector *) a)->dim, &ab, &aa, &bb);
				return finite_or_last(MvCosineDistance(ab, aa, bb));
			}
		case MV_HNSW_F16_L2:
			return MvKernels->f16_l2sq(((Float16Vector *) a)->x, ((Float16Vector *) b)->x,
									   ((Float16Vector *) a)->dim);
		case MV_HNSW_F16_IP:
			return -MvKernels->f16_dot(((Float16Vector *) a)->x, ((Float16Vector *) b)->x,
									   ((Float16Vector *) a)->dim);
		case MV_HNSW_F16_COSINE:
			{
				float		ab,
							aa,
							bb;

				MvKernels->f16_cosine_parts(((Float16Vector *) a)->x, ((Float16Vector *) b)->x,
											((Float16Vector *) a)->dim, &ab, &aa, &bb);
				return finite_or_last(MvCosineDistance(ab, aa, bb));
			}
		case MV_HNSW_BIT_HAMMING:
			return (float) MvKernels->bits_xor_popcount(((BinaryVector *) a)->x,
														((BinaryVector *) b)->x,
														((BinaryVector *) a)->dim / 8);
		case MV_HNSW_BIT_JACCARD:
			{
				uint64		and_count,
							or_count;

				MvKernels->bits_and_or_popcount(((BinaryVector *) a)->x,
												((BinaryVector *) b)->x,
												((BinaryVector *) a)->dim / 8,
												&and_count, &or_count);
				if (or_count == 0)
					return 0.0f;
				return (float) (1.0 - (double) and_count / (double) or_count);
			}
		case MV_HNSW_GENERIC:
			break;
	}
	return finite_or_last(DatumGetFloat8(FunctionCall2Coll(dist->proc, dist->collation,
														   PointerGetDatum(a),
														   PointerGetDatum(b))));
}

/* Highest level whose neighbour tuple still fits one page */
int
MvHnswMaxLevel(int m)
{
	int			fit = (int) ((MV_HNSW_MAX_TUPLE_SIZE -
							  offsetof(MvHnswNeighborTupleData, indextids)) /
							 (m * sizeof(ItemPointerData))) - 2;

	return Min(fit, MV_HNSW_MAX_LEVEL);
}

/*
 * Draw a level for the element of heaptid: floor(-ln(U) / ln(m)), as the HNSW
 * paper.  U comes from the backend's random state, or, when
 * milvus.hnsw_level_seed is set, from a hash of the seed and the heap TID, so
 * that the same rows get the same levels in every build, process and order.
 */
int
MvHnswRandomLevel(int m, ItemPointer heaptid)
{
	double		u;				/* in (0, 1] */
	int			level;

	if (MvHnswLevelSeed >= 0)
	{
		uint64		h = hash_bytes_extended((const unsigned char *) heaptid,
											sizeof(ItemPointerData),
											(uint64) MvHnswLevelSeed);

		u = ((double) (h >> 11) + 1.0) / (double) (UINT64CONST(1) << 53);
	}
	else
		u = 1.0 - pg_prng_double(&pg_global_prng_state);
	level = (int) floor(-log(u) / log((double) m));

	return Min(level, MvHnswMaxLevel(m));
}

/* Error unless a vector has the index's dimension (all our types store it alike) */
void
MvHnswCheckValueDims(Relation index, const MvHnswMetaPageData *meta, Pointer value)
{
	MvHnswDist	dist;

	MvHnswInitDist(&dist, index);
	if (dist.metric != MV_HNSW_GENERIC)
		MvCheckSameDims(((FloatVector *) value)->dim, (int) meta->dimensions);
}

/* A detoasted copy with a 4-byte header, in the current memory context */
Pointer
MvHnswDetoastCopy(Datum value)
{
	struct varlena *v = PG_DETOAST_DATUM(value);
	Pointer		copy;

	if ((Pointer) v != DatumGetPointer(value))
		return (Pointer) v;		/* already a fresh copy */
	copy = palloc(VARSIZE(v));
	memcpy(copy, v, VARSIZE(v));
	return copy;
}

bool
MvHnswValuesEqual(Pointer a, Pointer b)
{
	return VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0;
}

/*
 * How many vector bytes a split element tuple holds inline when it may take
 * space bytes of a page, line pointer excluded.
 */
Size
MvHnswInlineLength(Size space)
{
	Size		fixed = offsetof(MvHnswElementTupleData, data) + sizeof(MvHnswChunkRef);

	space = TYPEALIGN_DOWN(MAXIMUM_ALIGNOF, space);
	return space > fixed ? space - fixed : 0;
}

/* Zero the alignment padding after used bytes of a tuple; returns its size */
static Size
pad_tuple(char *tuple, Size used)
{
	memset(tuple + used, 0, MAXALIGN(used) - used);
	return MAXALIGN(used);
}

/*
 * Form an element tuple (neighbour TID left invalid) holding the first inlen
 * bytes of its vector: all of them, or with chunktid (where the rest starts)
 * a prefix.  Returns its size.
 */
Size
MvHnswFormElement(MvHnswElementTuple etup, int level, ItemPointerData *heaptids,
				  int nheaptids, Pointer value, Size inlen, ItemPointer chunktid)
{
	char	   *dst = etup->data;

	memset(etup, 0, offsetof(MvHnswElementTupleData, data));
	etup->type = MV_HNSW_ELEMENT_TUPLE;
	etup->level = level;
	for (int i = 0; i < MV_HNSW_HEAPTIDS; i++)
	{
		if (i < nheaptids)
			etup->heaptids[i] = heaptids[i];
		else
			ItemPointerSetInvalid(&etup->heaptids[i]);
	}
	ItemPointerSetInvalid(&etup->neighbortid);
	if (chunktid != NULL)
	{
		MvHnswChunkRef ref;

		ref.next = *chunktid;
		ref.len = (uint16) inlen;
		etup->flags = MV_HNSW_ELEMENT_CHUNKED;
		memcpy(dst, &ref, sizeof(ref));
		dst += sizeof(ref);
	}
	memcpy(dst, value, inlen);
	return pad_tuple((char *) etup, dst + inlen - (char *) etup);
}

/* Form the chunk tuple of vector bytes [off, off + len); returns its size */
Size
MvHnswFormChunk(MvHnswChunkTuple ctup, Pointer value, Size off, Size len, ItemPointer next)
{
	ctup->type = MV_HNSW_CHUNK_TUPLE;
	ctup->unused = 0;
	ctup->len = (uint16) len;
	if (next != NULL)
		ctup->next = *next;
	else
		ItemPointerSetInvalid(&ctup->next);
	memcpy(ctup->data, value + off, len);
	return pad_tuple((char *) ctup, offsetof(MvHnswChunkTupleData, data) + len);
}

/* Initialize a page of the given kind */
void
MvHnswInitPage(Page page, uint16 flags)
{
	MvHnswPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(MvHnswPageOpaqueData));
	opaque = MvHnswPageGetOpaque(page);
	opaque->nextblkno = InvalidBlockNumber;
	opaque->flags = flags;
	opaque->page_id = MV_HNSW_PAGE_ID;
}

/* Initialize the metapage of an empty graph */
void
MvHnswFillMetaPage(Page page, int dims, int m, int efConstruction)
{
	MvHnswMetaPage meta;

	MvHnswInitPage(page, MV_HNSW_PAGE_META);
	meta = MvHnswPageGetMeta(page);
	/* the layout is fixed: new fields come out of reserved */
	StaticAssertStmt(sizeof(MvHnswMetaPageData) == 96, "milvus_hnsw metapage changed size");
	memset(meta, 0, sizeof(MvHnswMetaPageData));
	meta->magic = MV_HNSW_MAGIC;
	meta->version = MV_HNSW_VERSION;
	meta->dimensions = dims;
	meta->m = m;
	meta->efConstruction = efConstruction;
	meta->entryBlkno = InvalidBlockNumber;
	meta->entryOffno = InvalidOffsetNumber;
	meta->entryLevel = -1;
	meta->insertPage = InvalidBlockNumber;
	meta->growingHead = InvalidBlockNumber;
	meta->growingTail = InvalidBlockNumber;
	((PageHeader) page)->pd_lower =
		((char *) meta + sizeof(MvHnswMetaPageData)) - (char *) page;
}

/* Copy the metapage, checking it is ours */
void
MvHnswReadMeta(Relation index, MvHnswMetaPageData *meta)
{
	Buffer		buf = MvHnswReadBuffer(index, MV_HNSW_METAPAGE_BLKNO);
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	memcpy(meta, MvHnswPageGetMeta(page), sizeof(MvHnswMetaPageData));
	UnlockReleaseBuffer(buf);

	if (meta->magic != MV_HNSW_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a milvus_hnsw index",
						RelationGetRelationName(index))));
	if (meta->version < MV_HNSW_MIN_VERSION || meta->version > MV_HNSW_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("milvus_hnsw index \"%s\" has version %u, expected %d to %d",
						RelationGetRelationName(index), meta->version, MV_HNSW_MIN_VERSION,
						MV_HNSW_VERSION),
				 errhint("REINDEX it.")));
}

/* Begin a set of page changes: one GenericXLog record, or none while building */
void
MvHnswEditStart(MvHnswPageEdit *edit, Relation index, bool building)
{
	edit->index = index;
	edit->building = building;
	edit->nbuffers = 0;
	edit->state = building ? NULL : GenericXLogStart(index);
}

/* The page to change; the buffer must be locked exclusively */
Page
MvHnswEditRegister(MvHnswPageEdit *edit, Buffer buffer, bool isNew)
{
	if (edit->nbuffers >= MAX_GENERIC_XLOG_PAGES)
		elog(ERROR, "milvus_hnsw: too many pages in one change");
	edit->buffers[edit->nbuffers++] = buffer;
	if (edit->building)
		return BufferGetPage(buffer);
	return GenericXLogRegisterBuffer(edit->state, buffer,
									 isNew ? GENERIC_XLOG_FULL_IMAGE : 0);
}

/* Apply and log the changes (the buffers stay locked) */
void
MvHnswEditFinish(MvHnswPageEdit *edit)
{
	if (edit->building)
	{
		for (int i = 0; i < edit->nbuffers; i++)
			MarkBufferDirty(edit->buffers[i]);
	}
	else
		GenericXLogFinish(edit->state);
}

/*
 * Log changes already made in place to up to MAX_GENERIC_XLOG_PAGES pages
 * (the caller is in a critical section with the buffers locked exclusively)
 * as the generic WAL record GenericXLogFinish would write for them: a page
 * flagged image as a full-page image, any other as its listed byte ranges,
 * fragments (offset, length, bytes) that PostgreSQL's generic_redo replays,
 * zeroing the page's hole as it is here.  For the small, known changes of
 * the growing segment (an appended row: the header and line pointers, and
 * the tuple; a flag byte; a new tail), without GenericXLog's page copies and
 * byte-by-byte comparison.  Sets the pages' LSN and dirties them.
 */
void
MvHnswLogPages(Relation index, MvHnswPageLog *pages, int npages)
{
	static char delta[MAX_GENERIC_XLOG_PAGES][BLCKSZ + MV_HNSW_LOG_RANGES * sizeof(MvHnswRange)];
	XLogRecPtr	lsn;

	Assert(npages <= MAX_GENERIC_XLOG_PAGES);
	for (int p = 0; p < npages; p++)
		MarkBufferDirty(pages[p].buffer);
	if (!RelationNeedsWAL(index))
		return;

	XLogBeginInsert();
	for (int p = 0; p < npages; p++)
	{
		Page		page = BufferGetPage(pages[p].buffer);
		Size		len = 0;

		if (pages[p].image)
		{
			XLogRegisterBuffer(p, pages[p].buffer, REGBUF_FORCE_IMAGE | REGBUF_STANDARD);
			continue;
		}
		Assert(pages[p].nranges <= MV_HNSW_LOG_RANGES);
		for (int i = 0; i < pages[p].nranges; i++)
		{
			OffsetNumber offset = pages[p].ranges[i].offset;
			OffsetNumber length = pages[p].ranges[i].length;

			Assert(len + sizeof(offset) + sizeof(length) + length <= sizeof(delta[p]));
			memcpy(delta[p] + len, &offset, sizeof(offset));
			len += sizeof(offset);
			memcpy(delta[p] + len, &length, sizeof(length));
			len += sizeof(length);
			memcpy(delta[p] + len, page + offset, length);
			len += length;
		}
		XLogRegisterBuffer(p, pages[p].buffer, REGBUF_STANDARD);
		XLogRegisterBufData(p, delta[p], len);
	}
	lsn = XLogInsert(RM_GENERIC_ID, 0);
	for (int p = 0; p < npages; p++)
		PageSetLSN(BufferGetPage(pages[p].buffer), lsn);
}

/* The same for one page's byte ranges */
void
MvHnswLogRanges(Relation index, Buffer buffer, const MvHnswRange *ranges, int nranges)
{
	MvHnswPageLog page;

	page.buffer = buffer;
	page.image = false;
	page.nranges = nranges;
	memcpy(page.ranges, ranges, sizeof(MvHnswRange) * nranges);
	MvHnswLogPages(index, &page, 1);
}

/* A new page at the end of the index, locked exclusively */
Buffer
MvHnswNewBuffer(Relation index, bool building)
{
	Buffer		buf;

	if (!building)
		LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	if (!building)
		UnlockRelationForExtension(index, ExclusiveLock);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	return buf;
}

/* Candidate heaps */

static inline bool
heap_above(const MvHnswHeap *heap, const MvHnswCandidate *a, const MvHnswCandidate *b)
{
	return heap->maxheap ? a->distance > b->distance : a->distance < b->distance;
}

void
MvHnswHeapInit(MvHnswHeap *heap, int capacity, bool maxheap)
{
	heap->capacity = Max(capacity, 8);
	heap->items = palloc(sizeof(MvHnswCandidate) * heap->capacity);
	heap->length = 0;
	heap->maxheap = maxheap;
}

void
MvHnswHeapPush(MvHnswHeap *heap, MvHnswCandidate c)
{
	int			i;

	if (heap->length == heap->capacity)
	{
		heap->capacity *= 2;
		heap->items = repalloc_huge(heap->items, sizeof(MvHnswCandidate) * heap->capacity);
	}
	i = heap->length++;
	while (i > 0)
	{
		int			parent = (i - 1) / 2;

		if (!heap_above(heap, &c, &heap->items[parent]))
			break;
		heap->items[i] = heap->items[parent];
		i = parent;
	}
	heap->items[i] = c;
}

MvHnswCandidate
MvHnswHeapPop(MvHnswHeap *heap)
{
	MvHnswCandidate top = heap->items[0];
	MvHnswCandidate last = heap->items[--heap->length];
	int			i = 0;

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= heap->length)
			break;
		if (child + 1 < heap->length &&
			heap_above(heap, &heap->items[child + 1], &heap->items[child]))
			child++;
		if (!heap_above(heap, &heap->items[child], &last))
			break;
		heap->items[i] = heap->items[child];
		i = child;
	}
	if (heap->length > 0)
		heap->items[i] = last;
	return top;
}

int
MvHnswCandidateCmp(const void *a, const void *b)
{
	float		da = ((const MvHnswCandidate *) a)->distance;
	float		db = ((const MvHnswCandidate *) b)->distance;

	return (da > db) - (da < db);
}

/* Bytes a vector of the index's type with dims dimensions takes, about */
Size
MvHnswValueSizeEstimate(Relation index, int dims)
{
	MvHnswDist	dist;

	MvHnswInitDist(&dist, index);
	switch (dist.metric)
	{
		case MV_HNSW_F16_L2:
		case MV_HNSW_F16_IP:
		case MV_HNSW_F16_COSINE:
			return offsetof(Float16Vector, x) + sizeof(uint16) * dims;
		case MV_HNSW_BIT_HAMMING:
		case MV_HNSW_BIT_JACCARD:
			return offsetof(BinaryVector, x) + (dims + 7) / 8;
		default:
			return offsetof(FloatVector, x) + sizeof(float) * dims;
	}
}

/* Whether tids[0..n) holds tid */
bool
MvHnswTidIn(const ItemPointerData *tids, int n, ItemPointer tid)
{
	for (int i = 0; i < n; i++)
		if (MvHnswTidEq(&tids[i], tid))
			return true;
	return false;
}

/* Set up a graph to search; on disk, loaded elements are cached in ctx */
MvHnswGraph *
MvHnswGraphCreate(Relation index, bool ondisk, MemoryContext ctx, bool keepValues,
				  int m, int efConstruction)
{
	MvHnswGraph *g = MemoryContextAllocZero(ctx, sizeof(MvHnswGraph));

	g->index = index;
	g->ondisk = ondisk;
	g->ctx = ctx;
	g->keepValues = keepValues;
	g->m = m;
	g->efConstruction = efConstruction;
	MvHnswInitDist(&g->dist, index);
	if (ondisk)
		g->cache = MvHnswCacheCreate(ctx);
	return g;
}

void
MvHnswReportBadPointer(Relation index, ItemPointer tid, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("milvus_hnsw index \"%s\" has an invalid %s pointer (%u,%u)",
					RelationGetRelationName(index), what,
					ItemPointerGetBlockNumberNoCheck(tid),
					ItemPointerGetOffsetNumberNoCheck(tid)),
			 errhint("REINDEX it; milvus_hnsw_verify() lists what is wrong.")));
}

/* The tuple a TID points to on a locked page (and its length), or NULL if there is none */
static Item
tuple_at(Page page, ItemPointer tid, uint8 type, Size *len)
{
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	ItemId		iid;
	Item		item;

	if (PageIsNew(page) || off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page))
		return NULL;
	iid = PageGetItemId(page, off);
	if (!ItemIdIsNormal(iid))
		return NULL;
	item = PageGetItem(page, iid);
	if (*(uint8 *) item != type)
		return NULL;
	if (len != NULL)
		*len = ItemIdGetLength(iid);
	return item;
}


/*
 * Copy the rest of a chunked vector, from the chunk at first on, into value,
 * which holds its first have bytes.  Chunks are never changed once written,
 * so no lock is held from one to the next.
 */
void
MvHnswReadChunks(Relation index, ItemPointerData first, Pointer value, Size have)
{
	Size		total = VARSIZE(value);
	ItemPointerData tid = first;

	while (have < total)
	{
		Buffer		buf;
		MvHnswChunkTuple ctup;
		Size		len = 0;

		if (!ItemPointerIsValid(&tid))
			MvHnswReportBadPointer(index, &tid, "vector chunk");
		buf = MvHnswReadBuffer(index, ItemPointerGetBlockNumber(&tid));
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		ctup = (MvHnswChunkTuple) tuple_at(BufferGetPage(buf), &tid, MV_HNSW_CHUNK_TUPLE, &len);
		if (ctup == NULL || ctup->len == 0 || ctup->len > total - have ||
			offsetof(MvHnswChunkTupleData, data) + ctup->len > len)
		{
			UnlockReleaseBuffer(buf);
			MvHnswReportBadPointer(index, &tid, "vector chunk");
		}
		memcpy(value + have, ctup->data, ctup->len);
		have += ctup->len;
		tid = ctup->next;
		UnlockReleaseBuffer(buf);
	}
}

/*
 * Where a loaded element keeps its vector, or NULL if it keeps none: past a
 * budget, in a context of their own, whose allocated bytes are the count.
 */
static inline MemoryContext
value_context(MvHnswGraph *g)
{
	if (!g->keepValues)
		return NULL;
	if (g->valueBudget == 0)
		return g->ctx;
	if (g->valueCtx == NULL)
		g->valueCtx = AllocSetContextCreate(g->ctx, "milvus_hnsw kept vectors",
											ALLOCSET_DEFAULT_SIZES);
	if (MemoryContextMemAllocated(g->valueCtx, false) >= g->valueBudget)
		return NULL;
	return g->valueCtx;
}

/*
 * Copy the vector of element tuple etup (len bytes) at tid, on the share
 * locked buffer buf, into memory of ctx; the buffer is released.  A chunked
 * vector is put together after the buffer is released.
 */
static Pointer
copy_vector(MvHnswGraph *g, ItemPointer tid, Buffer buf, MvHnswElementTuple etup, Size len,
			MemoryContext ctx)
{
	Pointer		value;

	if (etup->flags & MV_HNSW_ELEMENT_CHUNKED)
	{
		MvHnswChunkRef ref;
		Pointer		prefix = etup->data + sizeof(MvHnswChunkRef);

		memcpy(&ref, etup->data, sizeof(ref));
		if (ref.len < VARHDRSZ || ref.len >= VARSIZE(prefix) ||
			offsetof(MvHnswElementTupleData, data) + sizeof(ref) + ref.len > len)
		{
			UnlockReleaseBuffer(buf);
			MvHnswReportBadPointer(g->index, tid, "element");
		}
		value = MemoryContextAlloc(ctx, VARSIZE(prefix));
		memcpy(value, prefix, ref.len);
		UnlockReleaseBuffer(buf);
		MvHnswReadChunks(g->index, ref.next, value, ref.len);
		return value;
	}
	value = MemoryContextAlloc(ctx, VARSIZE(etup->data));
	memcpy(value, etup->data, VARSIZE(etup->data));
	UnlockReleaseBuffer(buf);
	return value;
}

/*
 * Read an element tuple from a pinned buffer into a new element, measuring
 * it against the query; the buffer is released.  An unchunked vector is
 * measured on its page, and copied only if the element keeps it.
 */
static MvHnswElement *
load_element_from(MvHnswGraph *g, ItemPointer tid, Buffer buf)
{
	Page		page;
	MvHnswElementTuple etup;
	MvHnswElement *e;
	Size		len = 0;
	MemoryContext vctx;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	etup = (MvHnswElementTuple) tuple_at(page, tid, MV_HNSW_ELEMENT_TUPLE, &len);
	if (etup == NULL)
	{
		UnlockReleaseBuffer(buf);
		MvHnswReportBadPointer(g->index, tid, "element");
	}

	e = MemoryContextAllocZero(g->ctx, sizeof(MvHnswElement));
	e->tid = *tid;
	e->neighbortid = etup->neighbortid;
	e->level = etup->level;
	e->deleted = etup->deleted;
	e->version = etup->version;
	for (int i = 0; i < MV_HNSW_HEAPTIDS; i++)
	{
		if (!ItemPointerIsValid(&etup->heaptids[i]))
			break;
		e->heaptids[e->nheaptids++] = etup->heaptids[i];
	}
	e->qstamp = g->queryStamp;
	g->loaded++;
	if (etup->flags & MV_HNSW_ELEMENT_CHUNKED)
	{
		Pointer		value;

		/* only its links are wanted: leave the chunks unread */
		if (g->query == NULL && !g->keepValues)
		{
			UnlockReleaseBuffer(buf);
			return e;
		}
		vctx = value_context(g);
		value = copy_vector(g, tid, buf, etup, len, vctx ? vctx : CurrentMemoryContext);
		if (g->query != NULL)
			e->qdist = MvHnswDistance(&g->dist, g->query, value);
		if (vctx)
			MvHnswSetElementValue(e, value);
		else
			pfree(value);
		return e;
	}
	if (g->query != NULL)
		e->qdist = MvHnswDistance(&g->dist, g->query, etup->data);
	vctx = value_context(g);
	if (vctx)
		MvHnswSetElementValue(e, copy_vector(g, tid, buf, etup, len, vctx));
	else
		UnlockReleaseBuffer(buf);
	return e;
}

/*
 * Lock the page of an element loaded earlier and find its element tuple.
 * The slot may have been reused since: the tuple is then the new element's,
 * which costs a search no more than a long link does (see hnsw.h).
 */
static MvHnswElementTuple
element_tuple_again(MvHnswGraph *g, MvHnswElement *e, Buffer *buf, Size *len)
{
	MvHnswElementTuple etup;

	*buf = MvHnswReadBuffer(g->index, ItemPointerGetBlockNumber(&e->tid));
	LockBuffer(*buf, BUFFER_LOCK_SHARE);
	etup = (MvHnswElementTuple) tuple_at(BufferGetPage(*buf), &e->tid, MV_HNSW_ELEMENT_TUPLE, len);
	if (etup == NULL)
	{
		UnlockReleaseBuffer(*buf);
		MvHnswReportBadPointer(g->index, &e->tid, "element");
	}
	return etup;
}

/*
 * An element loaded earlier, as its slot holds it now: the same element, or,
 * if the slot was reused since (a graph insert elsewhere took a free slot),
 * the new one, read and cached in its place.  A seal's cache lives for
 * thousands of rows; a tombstone it remembers may be a live element by now.
 */
MvHnswElement *
MvHnswElementAgain(MvHnswGraph *g, MvHnswElement *e)
{
	Buffer		buf;
	Size		len = 0;
	MvHnswElementTuple etup = element_tuple_again(g, e, &buf, &len);
	bool		same = (etup->version == e->version);
	ItemPointerData tid = e->tid;

	UnlockReleaseBuffer(buf);
	if (same)
		return e;
	e = MvHnswLoadElement(g, &tid);
	MvHnswCacheInsert(g->cache, &tid, e);
	return e;
}

/*
 * The vector of an element: the one it keeps, or (on disk, past the value
 * budget) a copy read again from its page, which it holds until
 * MvHnswForgetVectors.
 */
Pointer
MvHnswElementVector(MvHnswGraph *g, MvHnswElement *e)
{
	Pointer		value = MvHnswElementValue(e);
	Buffer		buf;
	MvHnswElementTuple etup;
	Size		len = 0;

	if (value != NULL || !g->ondisk)
		return value;
	if (g->transientCtx == NULL)
		g->transientCtx = AllocSetContextCreate(g->ctx, "milvus_hnsw vectors read again",
												ALLOCSET_DEFAULT_SIZES);
	if (g->ntransient == g->maxtransient)
	{
		g->maxtransient = Max(64, g->maxtransient * 2);
		g->transient = g->transient == NULL ?
			MemoryContextAlloc(g->ctx, sizeof(MvHnswElement *) * g->maxtransient) :
			repalloc(g->transient, sizeof(MvHnswElement *) * g->maxtransient);
	}
	etup = element_tuple_again(g, e, &buf, &len);
	value = copy_vector(g, &e->tid, buf, etup, len, g->transientCtx);
	g->transient[g->ntransient++] = e;
	MvHnswSetElementValue(e, value);
	return value;
}

/* Drop the vectors MvHnswElementVector read again */
void
MvHnswForgetVectors(MvHnswGraph *g)
{
	for (int i = 0; i < g->ntransient; i++)
		MvHnswSetElementValue(g->transient[i], NULL);
	g->ntransient = 0;
	if (g->transientCtx != NULL)
		MemoryContextReset(g->transientCtx);
}

/* Read an element tuple into a new element, measuring it against the query */
MvHnswElement *
MvHnswLoadElement(MvHnswGraph *g, ItemPointer tid)
{
	if (!ItemPointerIsValid(tid))
		MvHnswReportBadPointer(g->index, tid, "element");
	return load_element_from(g, tid, MvHnswReadBuffer(g->index, ItemPointerGetBlockNumber(tid)));
}

/*
 * The elements at tids (n <= 2m), from the cache or from disk, into out.
 * Elements not cached yet are read as a batch: all their buffers are pinned
 * first and the pages' line pointers and tuples prefetched one step ahead,
 * so that the cache misses of one element overlap the work on another (a
 * scan spends most of its time waiting on memory otherwise).
 */
/* ItemPointerEquals, inline */
static inline bool
tid_equal(ItemPointer a, ItemPointer b)
{
	return a->ip_posid == b->ip_posid &&
		a->ip_blkid.bi_lo == b->ip_blkid.bi_lo &&
		a->ip_blkid.bi_hi == b->ip_blkid.bi_hi;
}

static void
get_elements(MvHnswGraph *g, ItemPointerData *tids, int n, MvHnswElement **out)
{
	ItemPointerData pending[2 * MV_HNSW_MAX_M];
	MvHnswElement *loaded[2 * MV_HNSW_MAX_M];
	Buffer		bufs[2 * MV_HNSW_MAX_M];
	int			npending = 0;

	MvHnswCachePrefetch(g->cache, tids, n);
	for (int i = 0; i < n; i++)
	{
		bool		dup = false;

		out[i] = MvHnswCacheLookup(g->cache, &tids[i]);
		if (out[i] != NULL)
		{
			mv_prefetch(out[i]);	/* its visit stamp is read next */
			continue;
		}
		for (int j = 0; j < npending && !dup; j++)
			dup = tid_equal(&pending[j], &tids[i]);
		if (!dup)
		{
			if (!ItemPointerIsValid(&tids[i]))
				MvHnswReportBadPointer(g->index, &tids[i], "element");
			pending[npending++] = tids[i];
		}
	}
	if (npending == 0)
		return;

	for (int i = 0; i < npending; i++)
		MvHnswPrefetchItem(g->index, &pending[i]);
	for (int i = 0; i < npending; i++)
	{
		Page		page;

		bufs[i] = MvHnswReadBuffer(g->index, ItemPointerGetBlockNumber(&pending[i]));
		page = BufferGetPage(bufs[i]);
		mv_prefetch(page);
		if (ItemPointerGetOffsetNumber(&pending[i]) <= MaxOffsetNumber)
			mv_prefetch(PageGetItemId(page, ItemPointerGetOffsetNumber(&pending[i])));
	}
	for (int i = 0; i < npending; i++)
	{
		if (i + 1 < npending &&
			ItemPointerGetOffsetNumber(&pending[i + 1]) <= MaxOffsetNumber)
		{
			/* unlocked, only a hint: a stale line pointer costs a wasted prefetch */
			Page		page = BufferGetPage(bufs[i + 1]);
			char	   *item = (char *) page +
				ItemIdGetOffset(PageGetItemId(page, ItemPointerGetOffsetNumber(&pending[i + 1])));

			for (int off = 0; off < 4 * PG_CACHE_LINE_SIZE; off += PG_CACHE_LINE_SIZE)
				mv_prefetch(item + off);
		}
		loaded[i] = load_element_from(g, &pending[i], bufs[i]);
		MvHnswCacheInsert(g->cache, &pending[i], loaded[i]);
	}

	for (int i = 0; i < n; i++)
		for (int j = 0; out[i] == NULL && j < npending; j++)
			if (tid_equal(&pending[j], &tids[i]))
				out[i] = loaded[j];
}

/* The element at tid, from this operation's cache or from disk */
MvHnswElement *
MvHnswGetElement(MvHnswGraph *g, ItemPointer tid)
{
	MvHnswElement *e = MvHnswCacheLookup(g->cache, tid);

	if (e == NULL)
	{
		e = MvHnswLoadElement(g, tid);
		MvHnswCacheInsert(g->cache, tid, e);
	}
	return e;
}

/*
 * Copy the valid neighbour TIDs of an on-disk element at layer lc into tids
 * (room for 2m); returns how many.
 */
int
MvHnswLoadNeighborTids(MvHnswGraph *g, MvHnswElement *e, int lc, ItemPointerData *tids)
{
	Buffer		buf;
	Page		page;
	MvHnswNeighborTuple ntup;
	int			lm = MvHnswLayerM(g->m, lc);
	int			start = MvHnswLayerStart(g->m, lc);
	int			n = 0;

	if (lc > e->level)
		return 0;
	if (!ItemPointerIsValid(&e->neighbortid))
		MvHnswReportBadPointer(g->index, &e->neighbortid, "neighbour");

	buf = MvHnswReadBuffer(g->index, ItemPointerGetBlockNumber(&e->neighbortid));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	ntup = (MvHnswNeighborTuple) tuple_at(page, &e->neighbortid, MV_HNSW_NEIGHBOR_TUPLE, NULL);
	/* the slot was reused since e was read: e's links are gone */
	if (ntup != NULL && ntup->version != e->version)
	{
		UnlockReleaseBuffer(buf);
		return 0;
	}
	if (ntup == NULL || ntup->count != (e->level + 2) * g->m)
	{
		UnlockReleaseBuffer(buf);
		MvHnswReportBadPointer(g->index, &e->neighbortid, "neighbour");
	}
	for (int i = 0; i < lm; i++)
	{
		if (ItemPointerIsValid(&ntup->indextids[start + i]))
			tids[n++] = ntup->indextids[start + i];
	}
	UnlockReleaseBuffer(buf);
	return n;
}

/* Whether MvHnswQueryDistance will measure e on its page */
static inline bool
measured_on_page(MvHnswGraph *g, MvHnswElement *e)
{
	return e->qstamp != g->queryStamp && e->valueoff == 0;
}

/* Distance from the query to an element that keeps no vector, on its page */
static float
measure_on_page(MvHnswGraph *g, MvHnswElement *e)
{
	Buffer		buf;
	Size		len = 0;
	MvHnswElementTuple etup = element_tuple_again(g, e, &buf, &len);
	float		d;

	if (etup->flags & MV_HNSW_ELEMENT_CHUNKED)
	{
		Pointer		value = copy_vector(g, &e->tid, buf, etup, len, CurrentMemoryContext);

		d = MvHnswDistance(&g->dist, g->query, value);
		pfree(value);
		return d;
	}
	d = MvHnswDistance(&g->dist, g->query, etup->data);
	UnlockReleaseBuffer(buf);
	return d;
}

/* Distance from the operation's query to an element */
float
MvHnswQueryDistance(MvHnswGraph *g, MvHnswElement *e)
{
	if (g->ondisk)
	{
		/* loaded for an earlier query of the same graph (a seal): measure again */
		if (unlikely(e->qstamp != g->queryStamp))
		{
			Pointer		value = MvHnswElementValue(e);

			if (value != NULL)
				e->qdist = MvHnswDistance(&g->dist, g->query, value);
			else
				e->qdist = measure_on_page(g, e);
			e->qstamp = g->queryStamp;
		}
		return e->qdist;
	}
	return MvHnswDistance(&g->dist, g->query, MvHnswElementValue(e));
}

/*
 * Start a fresh visited set.  A build graph keeps 32 bits of the stamp per
 * slot: when they wrap, the old marks are cleared.
 */
void
MvHnswNewSearch(MvHnswGraph *g)
{
	g->stamp++;
	if (!g->ondisk && (uint32) g->stamp == 0)
	{
		if (g->visits != NULL)
			memset(g->visits, 0, sizeof(uint32) * g->nvisits);
		g->stamp++;
	}
}

/* Whether a filtered search may return e: live, with a heap TID that passes */
static bool
element_passes(MvHnswGraph *g, MvHnswElement *e)
{
	if (e->deleted)
		return false;
	for (int i = 0; i < e->nheaptids; i++)
		if (g->filter(g->filterArg, &e->heaptids[i]))
			return true;
	return false;
}

/*
 * SEARCH-LAYER: the ef nearest elements to g->query reachable at layer lc
 * from the entries (whose distances are set), sorted nearest first into
 * *result; returns how many.  newSearch starts a fresh visited set; else the
 * previous search's visits still count (the entries must have been visited).
 * With discarded, every visited candidate that leaves or never enters the
 * result list is pushed there.
 *
 * With g->filter, layer 0 is searched as filtered HNSW searches are (hnswlib,
 * Milvus): only elements that pass enter the result list, but every element
 * nearer than the list's farthest (or any, while the list is short) is
 * expanded, so the walk goes on through rows the filter rejects until it has
 * ef that pass.
 *
 * A filtered round may go far before its list fills: with g->budget, it gives
 * up, setting g->overBudget, once more than that many elements have been read
 * (its result is then partial).  The caller checks the budget between rounds.
 */
int
MvHnswSearchLayer(MvHnswGraph *g, MvHnswCandidate *entries, int nentries, int ef,
				  int lc, bool newSearch, MvHnswHeap *discarded, MvHnswCandidate **result)
{
	MvHnswHeap	C;				/* to expand, nearest on top */
	MvHnswHeap	W;				/* found, farthest on top */
	ItemPointerData *tids = NULL;
	MvHnswElement **loaded = NULL;
	MvHnswCandidate *out;
	bool		filtered = g->filter != NULL && lc == 0;

	if (newSearch)
		MvHnswNewSearch(g);
	MvHnswHeapInit(&C, ef * 2, false);
	MvHnswHeapInit(&W, ef + 1, true);
	loaded = palloc(sizeof(MvHnswElement *) * MvHnswLayerM(g->m, 0));
	if (g->ondisk)
		tids = palloc(sizeof(ItemPointerData) * MvHnswLayerM(g->m, 0));

	for (int i = 0; i < nentries; i++)
	{
		MvHnswVisit(g, entries[i].element);
		MvHnswHeapPush(&C, entries[i]);
		if (filtered && !element_passes(g, entries[i].element))
			continue;
		MvHnswHeapPush(&W, entries[i]);
		if (W.length > ef)
		{
			MvHnswCandidate far = MvHnswHeapPop(&W);

			if (discarded)
				MvHnswHeapPush(discarded, far);
		}
	}

	while (C.length > 0)
	{
		MvHnswCandidate c = MvHnswHeapPop(&C);
		int			n;
		int			nfresh;

		CHECK_FOR_INTERRUPTS();

		if (!filtered && c.distance > MvHnswHeapTop(&W)->distance)
			break;
		if (filtered && W.length >= ef && c.distance > MvHnswHeapTop(&W)->distance)
		{
			/* one that passes is in W or discarded already */
			if (discarded && !element_passes(g, c.element))
				MvHnswHeapPush(discarded, c);
			break;
		}
		/* a filtered round has no bound of its own: the budget is it */
		if (filtered && g->budget > 0 && g->loaded > g->budget)
		{
			g->overBudget = true;
			break;
		}

		/* the unvisited neighbours, in list order */
		nfresh = 0;
		if (g->ondisk)
		{
			/* the next to expand is often the nearest still waiting */
			if (C.length > 0)
				MvHnswPrefetchItem(g->index, &MvHnswHeapTop(&C)->element->neighbortid);
			n = MvHnswLoadNeighborTids(g, c.element, lc, tids);
			get_elements(g, tids, n, loaded);
			for (int i = 0; i < n; i++)
			{
				if (!MvHnswVisit(g, loaded[i]))
					loaded[nfresh++] = loaded[i];
			}
		}
		else if (lc <= c.element->level)
		{
			MvHnswNeighborArray *list = MvHnswElementList(c.element, g->m, lc);

			if (g->shared)
				LWLockAcquire(&c.element->lock, LW_SHARED);
			for (int i = 0; i < list->length; i++)
			{
				MvHnswElement *x = MvHnswPtr(g, list->items[i].element);

				if (!MvHnswVisit(g, x))
				{
					mv_prefetch(x);
					loaded[nfresh++] = x;
				}
			}
			if (g->shared)
				LWLockRelease(&c.element->lock);
		}

		/* on disk, elements measured on their pages: a step ahead, as below */
		if (g->ondisk)
			for (int i = 0; i < Min(nfresh, 2); i++)
				if (measured_on_page(g, loaded[i]))
					MvHnswPrefetchItem(g->index, &loaded[i]->tid);
		for (int i = 0; i < nfresh; i++)
		{
			MvHnswCandidate e;

			/* in memory, start fetching the next vector while measuring this one */
			if (!g->ondisk && i + 1 < nfresh)
				for (int off = 0; off < 4 * PG_CACHE_LINE_SIZE; off += PG_CACHE_LINE_SIZE)
					mv_prefetch(MvHnswElementValue(loaded[i + 1]) + off);
			/*
			 * on disk, the tuple of the next element measured on its page,
			 * whose line pointer was fetched a step ago, and the line
			 * pointer of the one after
			 */
			if (g->ondisk && i + 1 < nfresh && measured_on_page(g, loaded[i + 1]))
			{
				MvHnswPrefetchTuple(g->index, &loaded[i + 1]->tid);
				if (i + 2 < nfresh && measured_on_page(g, loaded[i + 2]))
					MvHnswPrefetchItem(g->index, &loaded[i + 2]->tid);
			}
			e.element = loaded[i];
			e.distance = MvHnswQueryDistance(g, e.element);

			if (filtered && !element_passes(g, e.element))
			{
				/* walked through while nearer than the list's farthest, never a result */
				g->filteredOut++;
				if (W.length < ef || e.distance < MvHnswHeapTop(&W)->distance)
					MvHnswHeapPush(&C, e);
				else if (discarded)
					MvHnswHeapPush(discarded, e);
				continue;
			}
			if (W.length < ef || e.distance < MvHnswHeapTop(&W)->distance)
			{
				MvHnswHeapPush(&C, e);
				MvHnswHeapPush(&W, e);
				if (W.length > ef)
				{
					MvHnswCandidate far = MvHnswHeapPop(&W);

					if (discarded)
						MvHnswHeapPush(discarded, far);
				}
			}
			else if (discarded)
				MvHnswHeapPush(discarded, e);
		}
	}

	/* what was left to expand and is in neither list, for a later batch */
	if (filtered && discarded && !g->overBudget)
		for (int i = 0; i < C.length; i++)
			if (!element_passes(g, C.items[i].element))
				MvHnswHeapPush(discarded, C.items[i]);

	out = palloc(sizeof(MvHnswCandidate) * Max(W.length, 1));
	memcpy(out, W.items, sizeof(MvHnswCandidate) * W.length);
	qsort(out, W.length, sizeof(MvHnswCandidate), MvHnswCandidateCmp);
	*result = out;
	pfree(C.items);
	pfree(W.items);
	if (tids)
		pfree(tids);
	pfree(loaded);
	return W.length;
}

/*
 * The HNSW paper's neighbour heuristic (SELECT-NEIGHBORS-HEURISTIC, keeping
 * pruned connections): from candidates sorted nearest first by distance to a
 * base element, keep one unless an already kept candidate is closer to it
 * than the base is, then fill up to lm with the pruned ones, nearest first.
 * Measures between candidates: an on-disk element that keeps no vector has it
 * read again (MvHnswElementVector).  Returns how many were written to out.
 */
int
MvHnswSelectNeighbors(MvHnswGraph *g, MvHnswCandidate *cands, int ncands, int lm,
					  MvHnswCandidate *out)
{
	MvHnswCandidate *pruned;
	int			nout = 0;
	int			npruned = 0;

	if (ncands <= lm)
	{
		memcpy(out, cands, sizeof(MvHnswCandidate) * ncands);
		return ncands;
	}

	pruned = palloc(sizeof(MvHnswCandidate) * ncands);
	for (int i = 0; i < ncands && nout < lm; i++)
	{
		MvHnswCandidate *c = &cands[i];
		bool		keep = true;

		for (int j = 0; j < nout; j++)
		{
			if (MvHnswDistance(&g->dist, MvHnswElementVector(g, c->element),
							  MvHnswElementVector(g, out[j].element)) < c->distance)
			{
				keep = false;
				break;
			}
		}
		if (keep)
			out[nout++] = *c;
		else
			pruned[npruned++] = *c;
	}
	for (int i = 0; i < npruned && nout < lm; i++)
		out[nout++] = pruned[i];
	pfree(pruned);
	return nout;
}

/*
 * Find the neighbours of a new element (g->query) of the given level, layer
 * by layer from the entry point: layers[lc] gets counts[lc] neighbours for
 * lc <= level.  Tombstones are walked through but never chosen.  *nearest is
 * the nearest element found at layer 0 (NULL if none).
 */
void
MvHnswFindNeighbors(MvHnswGraph *g, MvHnswElement *entry, int level,
					MvHnswCandidate **layers, int *counts, MvHnswCandidate *nearest)
{
	MvHnswCandidate *eps;
	int			neps = 1;

	eps = palloc(sizeof(MvHnswCandidate));
	eps[0].element = entry;
	eps[0].distance = MvHnswQueryDistance(g, entry);
	nearest->element = NULL;

	for (int lc = level; lc > entry->level; lc--)
	{
		layers[lc] = NULL;
		counts[lc] = 0;
	}
	for (int lc = entry->level; lc >= 0; lc--)
	{
		int			ef = (lc > level) ? 1 : g->efConstruction;
		MvHnswCandidate *w;
		int			nw = MvHnswSearchLayer(g, eps, neps, ef, lc, true, NULL, &w);

		if (lc <= level)
		{
			MvHnswCandidate *live = palloc(sizeof(MvHnswCandidate) * Max(nw, 1));
			int			nlive = 0;
			int			lm = MvHnswLayerM(g->m, lc);

			for (int i = 0; i < nw; i++)
				if (!w[i].element->deleted)
					live[nlive++] = w[i];
			layers[lc] = palloc(sizeof(MvHnswCandidate) * lm);
			counts[lc] = MvHnswSelectNeighbors(g, live, nlive, lm, layers[lc]);
			if (lc == 0 && nlive > 0)
				*nearest = live[0];
			eps = w;
			neps = nw;
		}
		else
		{
			eps = w;
			neps = Min(nw, 1);
		}
	}
}
