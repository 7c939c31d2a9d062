/*
 * hnswgraph.c
 *		The in-memory HNSW graph of a milvus_hnsw build: its arena, adding a
 *		row to it, linking what no search would reach, writing it to pages.
 *
 * The graph lives in an arena handed out by a bump pointer: an element, its
 * neighbour lists and its vector in one chunk, links as offsets from the
 * arena base.  A serial build keeps the arena in backend memory and takes no
 * locks; a parallel build (hnswparallel.c) puts it in a DSM segment that the
 * leader and its workers all add to, under the per-element and entry-point
 * locks.  Rows come one at a time, a vector and its heap TID
 * (MvHnswGraphAdd), and are linked with the same search and neighbour
 * heuristic as an insert; whoever feeds them (a build's heap scan, or a
 * seal in memory, hnswsealmem.c, which loads the graph on disk into the
 * arena first) decides what to do when the arena is full.  For a seal, an
 * element notes what of it changed (MV_HNSW_CHANGED_*), and a list read from
 * a page gets its distances when a link-back first prunes it.  Each process
 * keeps its own search marks, by the element's offset.
 *
 * Writing (MvHnswGraphWrite), once no process adds to the graph: elements
 * that pruning left unreachable are linked first; then the graph is written
 * page by page in the order the elements sit in the arena, an element's
 * neighbour tuple after it or where a later page has room, a vector split
 * across pages when that packs them (writer_place).  Neighbour tuples point
 * at elements not written yet, so the layout is computed first on a scratch
 * page and the pages are then written with every TID known.  No WAL is
 * written: the caller logs the pages.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"

#include "hnsw.h"

/* An empty arena of size bytes whose locks belong to tranche */
void
MvHnswArenaInit(MvHnswArena *arena, Size size, int tranche)
{
	arena->size = size;
	pg_atomic_init_u64(&arena->used, MV_HNSW_ARENA_START);
	pg_atomic_init_u32(&arena->nelements, 0);
	pg_atomic_init_u32(&arena->full, 0);
	arena->tranche = tranche;
	arena->entry = 0;
	LWLockInitialize(&arena->entryLock, tranche);
	LWLockInitialize(&arena->entryWaitLock, tranche);
}

/*
 * An arena in this backend of up to size bytes: it is only touched as it
 * fills, and asked for in halves when the whole is refused.
 */
MvHnswArena *
MvHnswArenaCreateLocal(MemoryContext ctx, Size size)
{
	MvHnswArena *arena;

	for (;;)
	{
		arena = MemoryContextAllocExtended(ctx, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
		if (arena != NULL || size <= 1024 * 1024)
			break;
		size /= 2;
	}
	if (arena == NULL)
		arena = MemoryContextAllocHuge(ctx, size);
	MvHnswArenaInit(arena, size, 0);
	return arena;
}

/* Make g a build graph over arena, mapped in this process */
void
MvHnswGraphAttach(MvHnswGraph *g, MvHnswArena *arena, bool shared)
{
	Size		minChunk = MV_HNSW_CHUNK_SIZE(g->m, 0, VARHDRSZ);

	g->arena = arena;
	g->base = (char *) arena;
	g->shared = shared;
	/* slots narrower than any chunk: one element per slot */
	g->slotShift = 0;
	while (((Size) 2 << g->slotShift) <= minChunk)
		g->slotShift++;
}

/* A chunk of size bytes, or NULL (and the arena marked full) if none is left */
MvHnswElement *
MvHnswArenaAlloc(MvHnswGraph *g, Size size)
{
	MvHnswArena *arena = g->arena;
	uint64		used = pg_atomic_read_u64(&arena->used);

	do
	{
		if (used + size > arena->size)
		{
			pg_atomic_write_u32(&arena->full, 1);
			return NULL;
		}
	} while (!pg_atomic_compare_exchange_u64(&arena->used, &used, used + size));
	return MvHnswPtr(g, used);
}

/*
 * The element at *off, advancing *off past its chunk; NULL after the last.
 * Only while no process adds to the graph.
 */
MvHnswElement *
MvHnswArenaNext(MvHnswGraph *g, MvHnswOffset *off)
{
	MvHnswElement *e;

	if (*off >= pg_atomic_read_u64(&g->arena->used))
		return NULL;
	e = MvHnswPtr(g, *off);
	*off += MV_HNSW_CHUNK_SIZE(g->m, e->level, VARSIZE(MvHnswElementValue(e)));
	return e;
}

/*
 * Measure the distances of a list a seal read from its page to its element
 * (the page keeps none), once something needs them
 */
static void
measure_list(MvHnswGraph *g, MvHnswElement *e, MvHnswNeighborArray *list)
{
	Pointer		value = MvHnswElementValue(e);

	for (int i = 0; i < list->length; i++)
	{
		MvHnswElement *t = MvHnswPtr(g, list->items[i].element);

		list->items[i].distance = MvHnswDistance(&g->dist, value, MvHnswElementValue(t));
	}
	list->unmeasured = false;
	list->closerSet = false;
}

/*
 * Add c to element n's full neighbour list and drop one (MvHnswPruneList);
 * the list stays sorted with each item's keep flag for the next time.
 */
static void
prune_list(MvHnswGraph *g, MvHnswElement *n, MvHnswNeighborArray *list, int lm,
		   MvHnswNeighbor c)
{
	MvHnswCandidate items[2 * MV_HNSW_MAX_M + 1];
	MvHnswCandidate cand;
	MvHnswCandidate dropped;

	if (list->unmeasured)
		measure_list(g, n, list);

	for (int i = 0; i < lm; i++)
	{
		items[i].element = MvHnswPtr(g, list->items[i].element);
		items[i].distance = list->items[i].distance;
		items[i].closer = list->items[i].closer;
	}
	cand.element = MvHnswPtr(g, c.element);
	cand.distance = c.distance;
	cand.closer = false;
	MvHnswPruneList(g, items, lm, list->closerSet, cand, &dropped);
	for (int i = 0; i < lm; i++)
	{
		list->items[i].element = MvHnswOff(g, items[i].element);
		list->items[i].distance = items[i].distance;
		list->items[i].closer = items[i].closer;
	}
	list->length = lm;
	list->closerSet = true;
}

/*
 * Hold the entry lock for an insert of the given level: shared, unless the
 * insert may become the entry point.  Exclusive waiters queue on the wait
 * lock, so that a stream of shared holders cannot starve them.
 */
static void
lock_entry(MvHnswGraph *g, int level)
{
	MvHnswArena *arena = g->arena;

	LWLockAcquire(&arena->entryWaitLock, LW_EXCLUSIVE);
	LWLockRelease(&arena->entryWaitLock);
	LWLockAcquire(&arena->entryLock, LW_SHARED);
	if (arena->entry == 0 || level > MvHnswPtr(g, arena->entry)->level)
	{
		LWLockRelease(&arena->entryLock);
		LWLockAcquire(&arena->entryWaitLock, LW_EXCLUSIVE);
		LWLockAcquire(&arena->entryLock, LW_EXCLUSIVE);
		LWLockRelease(&arena->entryWaitLock);
	}
}

/* Add a heap TID to an element holding the same vector, if it has room */
static bool
add_duplicate(MvHnswGraph *g, MvHnswElement *dup, ItemPointer heaptid)
{
	bool		added = false;

	if (g->shared)
		LWLockAcquire(&dup->lock, LW_EXCLUSIVE);
	if (dup->nheaptids < MV_HNSW_HEAPTIDS)
	{
		dup->heaptids[dup->nheaptids++] = *heaptid;
		dup->changed |= MV_HNSW_CHANGED_HEAPTIDS;
		added = true;
	}
	if (g->shared)
		LWLockRelease(&dup->lock);
	return added;
}

/*
 * Add a row to a build graph; false, with nothing added, when the arena has
 * no room left.  In a shared graph, an element's lists are changed under its
 * lock, and an element is complete before any list or the entry point refers
 * to it.
 */
bool
MvHnswGraphAdd(MvHnswGraph *g, Pointer value, ItemPointer heaptid)
{
	MvHnswArena *arena = g->arena;
	int			level = MvHnswRandomLevel(g->m, heaptid);
	MvHnswElement *entry;
	MvHnswElement *e;
	MvHnswCandidate *layers[MV_HNSW_MAX_LEVEL + 1];
	int			counts[MV_HNSW_MAX_LEVEL + 1];
	MvHnswCandidate nearest;
	Size		size = MV_HNSW_CHUNK_SIZE(g->m, level, VARSIZE(value));
	Pointer		evalue;
	bool		added = true;

	g->query = value;
	if (g->shared)
		lock_entry(g, level);
	entry = arena->entry == 0 ? NULL : MvHnswPtr(g, arena->entry);
	if (entry != NULL)
	{
		MvHnswFindNeighbors(g, entry, level, layers, counts, &nearest);
		if (nearest.element != NULL && nearest.distance == 0 &&
			MvHnswValuesEqual(MvHnswElementValue(nearest.element), value) &&
			add_duplicate(g, nearest.element, heaptid))
			goto done;
	}
	else
	{
		for (int lc = 0; lc <= level; lc++)
			counts[lc] = 0;
	}

	e = MvHnswArenaAlloc(g, size);
	if (e == NULL)
	{
		added = false;
		goto done;
	}
	memset(e, 0, MAXALIGN(sizeof(MvHnswElement)));
	e->level = level;
	e->heaptids[0] = *heaptid;
	e->nheaptids = 1;
	pg_atomic_fetch_add_u32(&arena->nelements, 1);
	if (g->shared)
		LWLockInitialize(&e->lock, arena->tranche);
	for (int lc = 0; lc <= level; lc++)
	{
		MvHnswNeighborArray *list = MvHnswElementList(e, g->m, lc);

		list->length = counts[lc];
		list->closerSet = false;
		list->unmeasured = false;
		for (int i = 0; i < counts[lc]; i++)
		{
			list->items[i].element = MvHnswOff(g, layers[lc][i].element);
			list->items[i].distance = layers[lc][i].distance;
			list->items[i].closer = false;
		}
	}
	evalue = (Pointer) e + size - MAXALIGN(VARSIZE(value));
	memcpy(evalue, value, VARSIZE(value));
	MvHnswSetElementValue(e, evalue);

	/* link back, pruning with the heuristic when a list is full */
	for (int lc = 0; entry != NULL && lc <= Min(level, entry->level); lc++)
	{
		int			lm = MvHnswLayerM(g->m, lc);

		for (int i = 0; i < counts[lc]; i++)
		{
			MvHnswElement *n = layers[lc][i].element;
			MvHnswNeighborArray *list = MvHnswElementList(n, g->m, lc);
			MvHnswNeighbor c;

			c.element = MvHnswOff(g, e);
			c.distance = layers[lc][i].distance;
			c.closer = false;
			if (g->shared)
				LWLockAcquire(&n->lock, LW_EXCLUSIVE);
			if (list->length < lm)
			{
				list->items[list->length++] = c;
				list->closerSet = false;
			}
			else
				prune_list(g, n, list, lm, c);
			n->changed |= MV_HNSW_CHANGED_LISTS;
			if (g->shared)
				LWLockRelease(&n->lock);
		}
	}

	/* in a shared graph only an exclusive holder of the entry lock gets here */
	if (entry == NULL || level > entry->level)
		arena->entry = MvHnswOff(g, e);

done:
	if (g->shared)
		LWLockRelease(&arena->entryLock);
	return added;
}

/* Make room for the visit stamp of a build-graph slot */
void
MvHnswGrowVisits(MvHnswGraph *g, uint64 slot)
{
	uint64		old = g->nvisits;
	uint64		size = Max(old * 2, 1024);

	while (size <= slot)
		size *= 2;
	if (g->visits == NULL)
		g->visits = MemoryContextAllocHuge(g->ctx, sizeof(uint32) * size);
	else
		g->visits = repalloc_huge(g->visits, sizeof(uint32) * size);
	memset(g->visits + old, 0, sizeof(uint32) * (size - old));
	g->nvisits = size;
}

/* Mark (with the graph's visit stamp) everything reachable from x at layer 0 */
static void
reach_from(MvHnswGraph *g, MvHnswElement *x, MvHnswElement **queue)
{
	int64		head = 0,
				tail = 0;

	if (MvHnswVisit(g, x))
		return;
	queue[tail++] = x;
	while (head < tail)
	{
		MvHnswNeighborArray *list = MvHnswElementList(queue[head++], g->m, 0);

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < list->length; i++)
		{
			MvHnswElement *t = MvHnswPtr(g, list->items[i].element);

			if (!MvHnswVisit(g, t))
				queue[tail++] = t;
		}
	}
}

/*
 * Link x from nb at layer 0 (distance apart): into a free slot, else in
 * place of nb's farthest link whose target has another (and was not itself
 * linked here); then mark what x reaches.  False if nb has no such link.
 */
static bool
link_from(MvHnswGraph *g, MvHnswElement *x, MvHnswElement *nb, float distance,
		  MvHnswElement **queue)
{
	int			lm = MvHnswLayerM(g->m, 0);
	MvHnswNeighborArray *list = MvHnswElementList(nb, g->m, 0);
	int			victim = -1;

	if (list->unmeasured)
		measure_list(g, nb, list);
	if (list->length < lm)
		victim = list->length++;
	else
	{
		for (int j = 0; j < list->length; j++)
		{
			MvHnswElement *t = MvHnswPtr(g, list->items[j].element);

			if (t->indegree > 1 && !t->relinked &&
				(victim < 0 || list->items[j].distance > list->items[victim].distance))
				victim = j;
		}
		if (victim < 0)
			return false;
		MvHnswPtr(g, list->items[victim].element)->indegree--;
	}
	list->items[victim].element = MvHnswOff(g, x);
	list->items[victim].distance = distance;
	list->closerSet = false;
	nb->changed |= MV_HNSW_CHANGED_LISTS;
	x->indegree++;
	x->relinked = true;
	reach_from(g, x, queue);
	return true;
}

/* Reached live elements a last resort tries, nearest first */
#define MV_HNSW_RELINK_TRIES	8
/* elements a pass links by that last resort, each a scan of the whole graph */
#define MV_HNSW_RELINK_SCANS	1000

/*
 * Link x, none of whose own neighbours could, from the nearest reached live
 * elements of the whole graph, and give x a link to it if its list has room
 * (an element a seal added where every candidate was a tombstone has none)
 */
static bool
link_from_nearest(MvHnswGraph *g, MvHnswElement *x, MvHnswElement **queue)
{
	MvHnswCandidate best[MV_HNSW_RELINK_TRIES];
	int			nbest = 0;
	MvHnswOffset off;
	MvHnswElement *y;
	MvHnswNeighborArray *out = MvHnswElementList(x, g->m, 0);

	for (off = MV_HNSW_ARENA_START; (y = MvHnswArenaNext(g, &off)) != NULL;)
	{
		MvHnswCandidate c;
		int			at;

		if (y == x || y->deleted || !MvHnswVisited(g, y))
			continue;
		c.element = y;
		c.distance = MvHnswDistance(&g->dist, MvHnswElementValue(x), MvHnswElementValue(y));
		c.closer = false;
		if (nbest == MV_HNSW_RELINK_TRIES && c.distance >= best[nbest - 1].distance)
			continue;
		if (nbest < MV_HNSW_RELINK_TRIES)
			nbest++;
		for (at = nbest - 1; at > 0 && best[at - 1].distance > c.distance; at--)
			best[at] = best[at - 1];
		best[at] = c;
	}
	for (int i = 0; i < nbest; i++)
	{
		if (!link_from(g, x, best[i].element, best[i].distance, queue))
			continue;
		if (out->length < MvHnswLayerM(g->m, 0))
		{
			out->items[out->length].element = MvHnswOff(g, best[i].element);
			out->items[out->length].distance = best[i].distance;
			out->items[out->length].closer = false;
			out->length++;
			out->closerSet = false;
			x->changed |= MV_HNSW_CHANGED_LISTS;
		}
		return true;
	}
	return false;
}

/*
 * Make every element reachable at layer 0 from the entry point: pruning can
 * leave a few that nothing links to, and no search would find them.  Each is
 * linked from the nearest reached element among its own neighbours, into a
 * free slot or in place of that element's farthest link whose target has
 * another (and was not itself linked here); failing that, from the nearest
 * reached elements of the whole graph.  Only once no process adds to the
 * graph.  A seal's graph may hold tombstones: they are neither linked nor
 * made to link (a compaction frees them and repairs what they lead to).
 * Returns how many live elements are still not reached.
 */
int64
MvHnswGraphLinkUnreached(MvHnswGraph *g)
{
	MvHnswElement **queue;
	MvHnswElement *x;
	MvHnswOffset off;
	int64		left = 0;
	int			scans = 0;

	if (g->arena->entry == 0)
		return 0;
	queue = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(MvHnswElement *) *
								   pg_atomic_read_u32(&g->arena->nelements));
	for (off = MV_HNSW_ARENA_START; (x = MvHnswArenaNext(g, &off)) != NULL;)
	{
		CHECK_FOR_INTERRUPTS();
		x->indegree = 0;
	}
	for (off = MV_HNSW_ARENA_START; (x = MvHnswArenaNext(g, &off)) != NULL;)
	{
		MvHnswNeighborArray *list = MvHnswElementList(x, g->m, 0);

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < list->length; i++)
			MvHnswPtr(g, list->items[i].element)->indegree++;
	}

	MvHnswNewSearch(g);
	reach_from(g, MvHnswPtr(g, g->arena->entry), queue);
	for (off = MV_HNSW_ARENA_START; (x = MvHnswArenaNext(g, &off)) != NULL;)
	{
		MvHnswNeighborArray *out = MvHnswElementList(x, g->m, 0);
		bool		linked = false;

		CHECK_FOR_INTERRUPTS();
		if (x->deleted || MvHnswVisited(g, x))
			continue;
		if (out->unmeasured)
			measure_list(g, x, out);
		/*
		 * out is nearest first in a build (the heuristic keeps candidates in
		 * order), in its page's order in a seal's graph
		 */
		for (int i = 0; i < out->length && !linked; i++)
		{
			MvHnswElement *nb = MvHnswPtr(g, out->items[i].element);

			if (!nb->deleted && MvHnswVisited(g, nb))
				linked = link_from(g, x, nb, out->items[i].distance, queue);
		}
		if (!linked && (scans++ >= MV_HNSW_RELINK_SCANS || !link_from_nearest(g, x, queue)))
			left++;
	}
	pfree(queue);
	return left;
}

/*
 * Pages being written in order, or laid out on a scratch page (dryrun).
 * Neighbour tuples wait in pending until a page has room for them.
 */
typedef struct MvHnswPageWriter
{
	Relation	index;
	MvHnswGraph *g;
	bool		dryrun;
	Page		page;
	BlockNumber first;
	BlockNumber blkno;			/* of the page being filled */
	double		vectorBytes;	/* of the elements placed so far */
	MvHnswElementTuple etup;	/* room for a page each */
	MvHnswNeighborTuple ntup;
	MvHnswElement **pending;	/* elements whose neighbour tuple waits */
	int			npending;
	int			maxpending;
	Size		pendingBytes;
} MvHnswPageWriter;

static void
writer_start(MvHnswPageWriter *w, Relation index, MvHnswGraph *g, bool dryrun, BlockNumber first)
{
	memset(w, 0, sizeof(*w));
	w->index = index;
	w->g = g;
	w->dryrun = dryrun;
	w->page = palloc(BLCKSZ);
	w->first = w->blkno = first;
	w->etup = palloc0(BLCKSZ);
	w->ntup = palloc0(BLCKSZ);
	w->maxpending = 64;
	w->pending = palloc(sizeof(MvHnswElement *) * w->maxpending);
	MvHnswInitPage(w->page, MV_HNSW_PAGE_GRAPH);
}

/* Write the current page (linking it to the next if there is one) */
static void
writer_flush(MvHnswPageWriter *w, bool last)
{
	if (!last)
		MvHnswPageGetOpaque(w->page)->nextblkno = w->blkno + 1;
	if (!w->dryrun)
	{
		Buffer		buf = MvHnswNewBuffer(w->index, true);

		if (BufferGetBlockNumber(buf) != w->blkno)
			elog(ERROR, "milvus_hnsw: expected to write block %u, got %u",
				 w->blkno, BufferGetBlockNumber(buf));
		memcpy(BufferGetPage(buf), w->page, BLCKSZ);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
	if (!last)
	{
		w->blkno++;
		MvHnswInitPage(w->page, MV_HNSW_PAGE_GRAPH);
	}
}

/*
 * Add a tuple to the current page at *tid: the first pass records where, the
 * second checks it is the same place.
 */
static void
writer_add(MvHnswPageWriter *w, Item item, Size size, ItemPointer tid)
{
	OffsetNumber off = PageAddItem(w->page, item, size, InvalidOffsetNumber, false, false);

	if (off == InvalidOffsetNumber)
		elog(ERROR, "milvus_hnsw: failed to add index item to \"%s\"",
			 RelationGetRelationName(w->index));
	if (tid == NULL)
		return;
	if (w->dryrun)
		ItemPointerSet(tid, w->blkno, off);
	else if (ItemPointerGetBlockNumber(tid) != w->blkno || ItemPointerGetOffsetNumber(tid) != off)
		elog(ERROR, "milvus_hnsw: graph layout changed between passes");
}

/* Place the waiting neighbour tuples that fit the current page, oldest first */
static void
writer_place_pending(MvHnswPageWriter *w)
{
	int			m = w->g->m;
	int			done = 0;

	for (; done < w->npending; done++)
	{
		MvHnswElement *e = w->pending[done];
		MvHnswNeighborTuple ntup = w->ntup;
		Size		nsize = MV_HNSW_NEIGHBOR_TUPLE_SIZE(e->level, m);

		if (PageGetFreeSpace(w->page) < nsize)
			break;
		memset(ntup, 0, nsize);
		ntup->type = MV_HNSW_NEIGHBOR_TUPLE;
		ntup->count = (e->level + 2) * m;
		for (int i = 0; i < ntup->count; i++)
			ItemPointerSetInvalid(&ntup->indextids[i]);
		for (int lc = 0; lc <= e->level; lc++)
		{
			MvHnswNeighborArray *list = MvHnswElementList(e, m, lc);

			for (int i = 0; i < list->length; i++)
				ntup->indextids[MvHnswLayerStart(m, lc) + i] =
					MvHnswPtr(w->g, list->items[i].element)->tid;
		}
		writer_add(w, (Item) ntup, nsize, &e->neighbortid);
		w->pendingBytes -= nsize;
	}
	w->npending -= done;
	memmove(w->pending, w->pending + done, sizeof(MvHnswElement *) * w->npending);
}

/*
 * Place an element; its neighbour tuple waits for a page with room (this
 * one, or a later one), since nothing needs it next to its element.  The
 * element goes whole on the current page if it fits.  Else it is split, when
 * the page has room for MV_HNSW_MIN_INLINE bytes of its vector and either
 * the vector fits no page or the pages so far exceed MV_HNSW_PACK_RATIO times
 * the vectors' bytes: the element takes the rest of the page with a prefix,
 * and the rest follows in chunk tuples, each the first tuple of the next page
 * (so their TIDs are known ahead).  Else the waiting neighbour tuples fill
 * what they can of the page and a new page starts (given to them alone
 * when they fill it).
 */
static void
writer_place(MvHnswPageWriter *w, MvHnswElement *e)
{
	Pointer		value = MvHnswElementValue(e);
	Size		vlen = VARSIZE(value);
	Size		whole = MV_HNSW_ELEMENT_TUPLE_SIZE(vlen);
	Size		inlen = 0;
	Size		size;
	ItemPointerData chunk;

	w->vectorBytes += vlen;
	for (;;)
	{
		Size		space = PageGetFreeSpace(w->page);
		bool		over = (double) (w->blkno - w->first + 1) * BLCKSZ >
			MV_HNSW_PACK_RATIO * w->vectorBytes;

		if (whole <= space)
			inlen = vlen;
		else if ((over || whole > MV_HNSW_MAX_TUPLE_SIZE) &&
				 MvHnswInlineLength(space) >= MV_HNSW_MIN_INLINE)
			inlen = MvHnswInlineLength(space);
		if (inlen > 0)
			break;
		writer_place_pending(w);
		writer_flush(w, false);
		/* a page's worth of waiting neighbour tuples take the new page */
		if (w->pendingBytes + w->npending * sizeof(ItemIdData) >= PageGetExactFreeSpace(w->page))
			writer_place_pending(w);
	}
	ItemPointerSet(&chunk, w->blkno + 1, FirstOffsetNumber);
	size = MvHnswFormElement(w->etup, e->level, e->heaptids, e->nheaptids, value, inlen,
							 inlen < vlen ? &chunk : NULL);
	w->etup->neighbortid = e->neighbortid;	/* known in the second pass */
	writer_add(w, (Item) w->etup, size, &e->tid);
	while (inlen < vlen)
	{
		Size		len = Min(vlen - inlen, MV_HNSW_CHUNK_MAX);
		MvHnswChunkTuple ctup = (MvHnswChunkTuple) w->etup;

		writer_flush(w, false);
		ItemPointerSet(&chunk, w->blkno + 1, FirstOffsetNumber);
		writer_add(w, (Item) ctup,
				   MvHnswFormChunk(ctup, value, inlen, len,
								   inlen + len < vlen ? &chunk : NULL), NULL);
		inlen += len;
	}

	if (w->npending == w->maxpending)
	{
		w->maxpending *= 2;
		w->pending = repalloc(w->pending, sizeof(MvHnswElement *) * w->maxpending);
	}
	w->pending[w->npending++] = e;
	w->pendingBytes += MV_HNSW_NEIGHBOR_TUPLE_SIZE(e->level, w->g->m);
	writer_place_pending(w);
}

/* Place the neighbour tuples still waiting and write the last page */
static void
writer_finish(MvHnswPageWriter *w)
{
	writer_place_pending(w);
	while (w->npending > 0)
	{
		writer_flush(w, false);
		writer_place_pending(w);
	}
	writer_flush(w, true);
}

/*
 * Write a build graph to pages after the last page of index and point the
 * metapage at it, once no process adds to the graph.  progress, if given, is
 * told how many elements are written as they are.
 */
void
MvHnswGraphWrite(MvHnswGraph *g, Relation index, MvHnswWriteProgress progress, void *arg)
{
	MvHnswPageWriter w;
	Buffer		metabuf;
	MvHnswMetaPage meta;
	BlockNumber first = RelationGetNumberOfBlocks(index);
	int64		elements = pg_atomic_read_u32(&g->arena->nelements);

	MvHnswGraphLinkUnreached(g);

	/* pass 1 finds where every tuple goes, pass 2 writes the same layout */
	for (int pass = 1; pass <= 2 && elements > 0; pass++)
	{
		int64		done = 0;
		MvHnswOffset off;
		MvHnswElement *e;

		writer_start(&w, index, g, pass == 1, first);
		for (off = MV_HNSW_ARENA_START; (e = MvHnswArenaNext(g, &off)) != NULL;)
		{
			CHECK_FOR_INTERRUPTS();
			writer_place(&w, e);
			if (pass == 2 && progress != NULL)
				progress(++done, arg);
		}
		writer_finish(&w);
	}

	metabuf = ReadBuffer(index, MV_HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = MvHnswPageGetMeta(BufferGetPage(metabuf));
	if (g->arena->entry != 0)
	{
		MvHnswElement *entry = MvHnswPtr(g, g->arena->entry);

		meta->entryBlkno = ItemPointerGetBlockNumber(&entry->tid);
		meta->entryOffno = ItemPointerGetOffsetNumber(&entry->tid);
		meta->entryLevel = entry->level;
		meta->insertPage = w.blkno;
	}
	meta->elements = elements;
	MarkBufferDirty(metabuf);
	UnlockReleaseBuffer(metabuf);
}
