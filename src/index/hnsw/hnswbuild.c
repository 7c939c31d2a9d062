/*
 * hnswbuild.c
 *		Build a milvus_hnsw index.
 *
 * The build happens in two phases.  In memory: every heap row goes into a
 * graph held in a memory context bounded by maintenance_work_mem, with the
 * same search and neighbour heuristic as an insert.  On disk: the graph is
 * written page by page in insertion order, an element's neighbour tuple
 * after it or where a later page has room, a vector split across pages when
 * that packs them (writer_place).
 * Neighbour tuples point at elements not written yet, so the layout is
 * computed first on a scratch page and the pages are then written with every
 * TID known.  If the graph outgrows maintenance_work_mem, what is in memory is
 * written out and the remaining rows are inserted one by one on disk (with a
 * NOTICE: that is much slower).  No WAL is written during the build; at its
 * end every page is logged as a full image (log_newpage_range).
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"

#include "hnsw.h"

typedef struct MvHnswBuildState
{
	Relation	heap;
	Relation	index;
	MvHnswGraph *graph;			/* in memory, until it spills */
	MemoryContext graphCtx;
	MemoryContext tmpCtx;
	Size		memoryLimit;
	bool		spilled;		/* rows now go straight to disk */
	double		indtuples;
	int64		elements;
	MvHnswElement *head;
	MvHnswElement *tail;
} MvHnswBuildState;

/* Whether the heuristic keeps c: no kept item of items[0..n) is nearer to it than the base */
static bool
is_closer(MvHnswGraph *g, MvHnswCandidate *c, MvHnswCandidate *items, int n)
{
	for (int j = 0; j < n; j++)
		if (items[j].closer &&
			MvHnswDistance(&g->dist, c->element->value, items[j].element->value) < c->distance)
			return false;
	return true;
}

/*
 * Add c to a full neighbour list and drop one, as MvHnswSelectNeighbors
 * would over the list plus c (with pruned connections kept, that drops the
 * farthest pruned item, or the farthest item if none is pruned).  The list
 * is kept sorted with each item's keep flag, so the next time only c and the
 * items whose flag c can change are measured: a kept item can only lose to
 * a newly kept one, a pruned one can only come back once some kept item was
 * lost.  Dropping the farthest pruned item (or the last) changes no flag.
 */
static void
prune_list(MvHnswGraph *g, MvHnswNeighborArray *list, int lm, MvHnswCandidate c)
{
	MvHnswCandidate items[2 * MV_HNSW_MAX_M + 1];
	int			n = lm + 1;
	int			drop = n - 1;

	if (!list->closerSet)
	{
		memcpy(items, list->items, sizeof(MvHnswCandidate) * lm);
		items[lm] = c;
		qsort(items, n, sizeof(MvHnswCandidate), MvHnswCandidateCmp);
		for (int i = 0; i < n; i++)
			items[i].closer = is_closer(g, &items[i], items, i);
	}
	else
	{
		MvHnswCandidate *added[2 * MV_HNSW_MAX_M + 1];
		int			nadded = 0;
		bool		removed = false;
		int			p = 0;

		while (p < lm && list->items[p].distance <= c.distance)
			p++;
		memcpy(items, list->items, sizeof(MvHnswCandidate) * p);
		items[p] = c;
		memcpy(items + p + 1, list->items + p, sizeof(MvHnswCandidate) * (lm - p));
		items[p].closer = is_closer(g, &items[p], items, p);
		if (items[p].closer)
			added[nadded++] = &items[p];
		for (int i = p + 1; i < n; i++)
		{
			MvHnswCandidate *x = &items[i];

			if (x->closer)
			{
				for (int j = 0; j < nadded; j++)
					if (MvHnswDistance(&g->dist, x->element->value,
									   added[j]->element->value) < x->distance)
					{
						x->closer = false;
						removed = true;
						break;
					}
			}
			else if (removed && is_closer(g, x, items, i))
			{
				x->closer = true;
				added[nadded++] = x;
			}
		}
	}

	for (int i = n - 1; i >= 0; i--)
		if (!items[i].closer)
		{
			drop = i;
			break;
		}
	memcpy(list->items, items, sizeof(MvHnswCandidate) * drop);
	memcpy(list->items + drop, items + drop + 1, sizeof(MvHnswCandidate) * (n - 1 - drop));
	list->length = lm;
	list->closerSet = true;
}

/* Add a row to the in-memory graph */
static void
insert_in_memory(MvHnswBuildState *state, Pointer value, ItemPointer heaptid)
{
	MvHnswGraph *g = state->graph;
	MvHnswElement *e;
	MvHnswCandidate *layers[MV_HNSW_MAX_LEVEL + 1];
	int			counts[MV_HNSW_MAX_LEVEL + 1];
	MvHnswCandidate nearest;
	MemoryContext oldctx;

	g->query = value;
	if (g->entry != NULL)
	{
		int			level = MvHnswRandomLevel(g->m);

		MvHnswFindNeighbors(g, g->entry, level, layers, counts, &nearest);
		if (nearest.element != NULL && nearest.distance == 0 &&
			nearest.element->nheaptids < MV_HNSW_HEAPTIDS &&
			MvHnswValuesEqual(nearest.element->value, value))
		{
			nearest.element->heaptids[nearest.element->nheaptids++] = *heaptid;
			return;
		}

		oldctx = MemoryContextSwitchTo(state->graphCtx);
		e = palloc0(sizeof(MvHnswElement));
		e->level = level;
	}
	else
	{
		oldctx = MemoryContextSwitchTo(state->graphCtx);
		e = palloc0(sizeof(MvHnswElement));
		e->level = MvHnswRandomLevel(g->m);
		for (int lc = 0; lc <= e->level; lc++)
			counts[lc] = 0;
	}

	e->heaptids[0] = *heaptid;
	e->nheaptids = 1;
	e->value = palloc(VARSIZE(value));
	memcpy(e->value, value, VARSIZE(value));
	e->neighbors = palloc(sizeof(MvHnswNeighborArray *) * (e->level + 1));
	for (int lc = 0; lc <= e->level; lc++)
	{
		int			lm = MvHnswLayerM(g->m, lc);

		e->neighbors[lc] = palloc(offsetof(MvHnswNeighborArray, items) +
								  sizeof(MvHnswCandidate) * lm);
		e->neighbors[lc]->length = counts[lc];
		e->neighbors[lc]->closerSet = false;
		if (counts[lc] > 0)
			memcpy(e->neighbors[lc]->items, layers[lc], sizeof(MvHnswCandidate) * counts[lc]);
	}
	MemoryContextSwitchTo(oldctx);

	if (state->tail)
		state->tail->next = e;
	else
		state->head = e;
	state->tail = e;
	state->elements++;

	/* link back, pruning with the heuristic when a list is full */
	for (int lc = 0; g->entry != NULL && lc <= Min(e->level, g->entry->level); lc++)
	{
		int			lm = MvHnswLayerM(g->m, lc);

		for (int i = 0; i < counts[lc]; i++)
		{
			MvHnswElement *n = layers[lc][i].element;
			MvHnswNeighborArray *list = n->neighbors[lc];
			MvHnswCandidate c;

			if (list->length < lm)
			{
				list->items[list->length].element = e;
				list->items[list->length].distance = layers[lc][i].distance;
				list->length++;
				list->closerSet = false;
				continue;
			}
			c.element = e;
			c.distance = layers[lc][i].distance;
			prune_list(g, list, lm, c);
		}
	}

	if (g->entry == NULL || e->level > g->entry->level)
		g->entry = e;
}

/* Mark (with the graph's visit stamp) everything reachable from x at layer 0 */
static void
reach_from(MvHnswGraph *g, MvHnswElement *x, MvHnswElement **queue)
{
	int			head = 0,
				tail = 0;

	if (x->visited == g->stamp)
		return;
	x->visited = g->stamp;
	queue[tail++] = x;
	while (head < tail)
	{
		MvHnswNeighborArray *list = queue[head++]->neighbors[0];

		for (int i = 0; i < list->length; i++)
		{
			MvHnswElement *t = list->items[i].element;

			if (t->visited != g->stamp)
			{
				t->visited = g->stamp;
				queue[tail++] = t;
			}
		}
	}
}

/*
 * Make every element reachable at layer 0 from the entry point: pruning can
 * leave a few that nothing links to, and no search would find them.  Each is
 * linked from the nearest reached element among its own neighbours, into a
 * free slot or in place of that element's farthest link whose target has
 * another (and was not itself linked here).
 */
static void
link_unreached(MvHnswBuildState *state)
{
	MvHnswGraph *g = state->graph;
	int			lm = MvHnswLayerM(g->m, 0);
	MvHnswElement **queue;

	if (g->entry == NULL)
		return;
	queue = palloc(sizeof(MvHnswElement *) * state->elements);
	for (MvHnswElement *e = state->head; e != NULL; e = e->next)
		e->indegree = 0;
	for (MvHnswElement *e = state->head; e != NULL; e = e->next)
		for (int i = 0; i < e->neighbors[0]->length; i++)
			e->neighbors[0]->items[i].element->indegree++;

	g->stamp++;
	reach_from(g, g->entry, queue);
	for (MvHnswElement *x = state->head; x != NULL; x = x->next)
	{
		MvHnswNeighborArray *out = x->neighbors[0];

		CHECK_FOR_INTERRUPTS();
		if (x->visited == g->stamp)
			continue;
		/* out is nearest first: the heuristic keeps candidates in order */
		for (int i = 0; i < out->length; i++)
		{
			MvHnswElement *nb = out->items[i].element;
			MvHnswNeighborArray *list = nb->neighbors[0];
			int			victim = -1;

			if (nb->visited != g->stamp)
				continue;
			if (list->length < lm)
				victim = list->length++;
			else
			{
				for (int j = 0; j < list->length; j++)
					if (list->items[j].element->indegree > 1 && !list->items[j].element->relinked &&
						(victim < 0 || list->items[j].distance > list->items[victim].distance))
						victim = j;
				if (victim < 0)
					continue;
				list->items[victim].element->indegree--;
			}
			list->items[victim].element = x;
			list->items[victim].distance = out->items[i].distance;
			x->indegree++;
			x->relinked = true;
			reach_from(g, x, queue);
			break;
		}
	}
	pfree(queue);
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
			for (int i = 0; i < e->neighbors[lc]->length; i++)
				ntup->indextids[MvHnswLayerStart(m, lc) + i] =
					e->neighbors[lc]->items[i].element->tid;
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
	Size		vlen = VARSIZE(e->value);
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
	size = MvHnswFormElement(w->etup, e->level, e->heaptids, e->nheaptids, e->value, inlen,
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
				   MvHnswFormChunk(ctup, e->value, inlen, len,
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

/* Write the in-memory graph to pages after the metapage and point the metapage at it */
static void
flush_graph(MvHnswBuildState *state)
{
	MvHnswGraph *g = state->graph;
	MvHnswPageWriter w;
	Buffer		metabuf;
	MvHnswMetaPage meta;
	BlockNumber first = RelationGetNumberOfBlocks(state->index);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, MV_HNSW_PHASE_WRITE);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, state->elements);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);

	link_unreached(state);

	/* pass 1 finds where every tuple goes, pass 2 writes the same layout */
	for (int pass = 1; pass <= 2 && state->head != NULL; pass++)
	{
		int64		done = 0;

		writer_start(&w, state->index, g, pass == 1, first);
		for (MvHnswElement *e = state->head; e != NULL; e = e->next)
		{
			CHECK_FOR_INTERRUPTS();
			writer_place(&w, e);
			if (pass == 2)
				pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, ++done);
		}
		writer_finish(&w);
	}

	metabuf = ReadBuffer(state->index, MV_HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = MvHnswPageGetMeta(BufferGetPage(metabuf));
	if (g->entry != NULL)
	{
		meta->entryBlkno = ItemPointerGetBlockNumber(&g->entry->tid);
		meta->entryOffno = ItemPointerGetOffsetNumber(&g->entry->tid);
		meta->entryLevel = g->entry->level;
		meta->insertPage = w.blkno;
	}
	meta->elements = state->elements;
	MarkBufferDirty(metabuf);
	UnlockReleaseBuffer(metabuf);
}

/* Per heap row of the build scan */
static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *arg)
{
	MvHnswBuildState *state = (MvHnswBuildState *) arg;
	MemoryContext oldctx;
	Pointer		value;

	if (isnull[0])
		return;
	CHECK_FOR_INTERRUPTS();

	oldctx = MemoryContextSwitchTo(state->tmpCtx);
	value = MvHnswDetoastCopy(values[0]);

	if (state->spilled)
		MvHnswInsertOnDisk(index, value, tid, true);
	else
	{
		insert_in_memory(state, value, tid);
		if (MemoryContextMemAllocated(state->graphCtx, true) > state->memoryLimit)
		{
			ereport(NOTICE,
					(errmsg("milvus_hnsw graph no longer fits into maintenance_work_mem after %.0f tuples",
							state->indtuples + 1),
					 errdetail("The rest of the rows are inserted one by one, which is much slower."),
					 errhint("Increase maintenance_work_mem to build the index faster.")));
			flush_graph(state);
			MemoryContextDelete(state->graphCtx);
			state->graphCtx = NULL;
			state->graph = NULL;
			state->spilled = true;
			pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, MV_HNSW_PHASE_SPILL);
		}
	}

	state->indtuples += 1;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) state->indtuples);
	MemoryContextSwitchTo(oldctx);
	MemoryContextReset(state->tmpCtx);
}

/* ambuild */
IndexBuildResult *
mvhnsw_build(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	MvHnswBuildState state;
	int			dims = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	int			m = MvHnswGetM(index);
	int			efConstruction = MvHnswGetEfConstruction(index);
	double		reltuples;
	Buffer		metabuf;

	if (dims < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column does not have dimensions"),
				 errhint("Declare the column with its dimension, e.g. floatvector(768).")));
	if (efConstruction < 2 * m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be greater than or equal to 2 * m")));
	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	metabuf = MvHnswNewBuffer(index, true);
	MvHnswFillMetaPage(BufferGetPage(metabuf), dims, m, efConstruction);
	MarkBufferDirty(metabuf);
	UnlockReleaseBuffer(metabuf);

	memset(&state, 0, sizeof(state));
	state.heap = heap;
	state.index = index;
	state.memoryLimit = (Size) maintenance_work_mem * 1024;
	state.graphCtx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw build graph",
										   ALLOCSET_DEFAULT_SIZES);
	state.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw build tuple",
										 ALLOCSET_DEFAULT_SIZES);
	state.graph = MvHnswGraphCreate(index, false, state.graphCtx, true, m, efConstruction);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, MV_HNSW_PHASE_LOAD);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   build_callback, &state, NULL);

	if (!state.spilled)
	{
		flush_graph(&state);
		MemoryContextDelete(state.graphCtx);
	}
	else
		MvHnswLinkUnreached(index, true);
	MemoryContextDelete(state.tmpCtx);

	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = state.indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged index, an empty graph */
void
mvhnsw_buildempty(Relation index)
{
	Page		page = (Page) palloc(BLCKSZ);

	MvHnswFillMetaPage(page, TupleDescAttr(RelationGetDescr(index), 0)->atttypmod,
					   MvHnswGetM(index), MvHnswGetEfConstruction(index));
	PageSetChecksumInplace(page, MV_HNSW_METAPAGE_BLKNO);
	smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, MV_HNSW_METAPAGE_BLKNO,
			  (char *) page, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM,
				MV_HNSW_METAPAGE_BLKNO, page, true);
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
}
