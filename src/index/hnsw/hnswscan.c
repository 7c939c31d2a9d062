/*
 * hnswscan.c
 *		Ordered scans of a milvus_hnsw index, iterative beyond ef_search.
 *
 * The first call descends the upper layers with ef = 1 and searches layer 0
 * with ef = milvus.hnsw_ef_search, keeping every visited candidate that did
 * not make the list in a "discarded" heap.  Rows come out nearest first.
 * When the list is used up and the executor still asks (a WHERE clause
 * rejected rows), layer 0 is searched again from the best ef_search
 * discarded candidates, with the same visited set and a list twice as long,
 * of which only the nearest half is handed out (and none farther than a
 * candidate still waiting): each row then comes out with ef_search found
 * beyond it, as a plain search's top rows do.  Output never goes backwards: a
 * later batch's element nearer than a row already returned is skipped (it
 * would break ORDER BY), so later batches cost recall, not order.
 *
 * The walk goes on until the graph is exhausted or milvus.hnsw_max_scan_tuples
 * elements have been visited (a filter that rejects most of what lies near
 * the query, e.g. one correlated with the vectors).  Then the scan finishes
 * with an exact pass: it reads every element of the index in page order,
 * keeps those not returned yet and no nearer than the last row returned, and
 * hands them out sorted, so the query still gets every row that passes its
 * filter, in order; a NOTICE says the bound was reached.  The pass keeps at
 * most work_mem worth of rows and reads the index again when the executor
 * wants more than that.  A NOTICE also counts the rows skipped for order.
 *
 * The growing segment (hnswgrowing.c) is read first: the rows its sketch
 * cannot rule out (hnswsketch.c), or every row, measured exactly and kept in
 * a min-heap.  Each call hands out whichever is nearer, the heap's top or the
 * graph's next row, so the two parts come out merged in distance order.
 * Before it would hand out a row farther than the sketch vouches for, the
 * scan measures the rest of the segment, skipping (and counting, as below)
 * rows nearer than one already handed out.  A seal may link a row into the
 * graph after the scan read it as growing: every heap TID handed out is
 * remembered, and a row met again is passed over.
 *
 * A filtered scan (MvHnswScanSetFilter, for the hybrid search) hands out only
 * heap TIDs its filter passes: the layer-0 walk keeps going through elements
 * that fail (MvHnswSearchLayer), growing rows that fail are dropped, and the
 * exact pass skips them.  With a budget, the scan ends, with no more rows,
 * once the walk has read more elements than that; the caller then knows
 * (MvHnswScanGetCounters) that it should answer some other way.
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "hnsw.h"

typedef struct MvHnswScanOpaqueData
{
	MemoryContext ctx;			/* everything of the current scan */
	bool		started;
	bool		finished;
	bool		graphDone;		/* the graph has no row left to hand out */
	MvHnswRow  *growing;		/* the growing segment's rows: a min-heap */
	int			ngrowing;
	bool		growingPartial; /* a sketch's rows only (hnswsketch.c) */
	float		growingTrust;	/* no growing row left out is nearer (hnswsketch.c) */
	MvHnswSketchRest sketchRest;	/* rows the sketch picked, not measured yet */
	int			sketchK;		/* the nearest rows the sketch last picked for */
	MvHnswDist	graphDist;		/* to measure the rest of them */
	Pointer		growingQuery;
	MvHnswGraph *graph;
	MvHnswHeap	discarded;
	MvHnswCandidate *results;	/* current batch, nearest first */
	int			nresults;
	int			pos;			/* next candidate in results */
	int			tidpos;			/* next heap TID of results[pos] */
	float		lastDistance;
	int64		skipped;		/* found too late to keep the order */
	MvHnswCache *returned;		/* heap TIDs handed out (to a non-NULL marker) */
	/* the exact pass, once the walk has reached its bound or run dry */
	bool		exact;
	bool		exactMore;		/* the last pass kept only the nearest part */
	MvHnswRow  *exactItems;		/* sorted, nearest first */
	int			nexact;
	int			exactPos;
	/* a filtered scan; these outlive rescans */
	MvHnswTidFilter filter;
	void	   *filterArg;
	int64		budget;
	int64		rejected;
	int64		measured;		/* growing rows */
} MvHnswScanOpaqueData;

typedef MvHnswScanOpaqueData *MvHnswScanOpaque;

/* ambeginscan */
IndexScanDesc
mvhnsw_beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	MvHnswScanOpaque so = palloc0(sizeof(MvHnswScanOpaqueData));

	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw scan",
									ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	return scan;
}

/*
 * Measure every live row of the growing segment into so->growing, a row the
 * filter fails dropped; unordered.
 */
static void
read_growing(MvHnswScanOpaque so, Relation index, const MvHnswDist *dist, Pointer query)
{
	so->ngrowing = MvHnswGrowingRead(index, dist, query, &so->growing);
	so->measured += so->ngrowing;
	if (so->filter)
	{
		int			kept = 0;

		for (int i = 0; i < so->ngrowing; i++)
			if (so->filter(so->filterArg, &so->growing[i].heaptid))
				so->growing[kept++] = so->growing[i];
		so->rejected += so->ngrowing - kept;
		so->ngrowing = kept;
	}
}

/*
 * Keep, in place, the rows the scan may still hand out: not handed out
 * already, and not nearer than the last row returned (found too late for
 * the ORDER BY: counted as skipped).  Returns how many are kept.
 */
static int
keep_unreturned(MvHnswScanOpaque so, MvHnswRow *rows, int n)
{
	int			kept = 0;

	for (int i = 0; i < n; i++)
	{
		if (MvHnswCacheLookup(so->returned, &rows[i].heaptid) != NULL)
			continue;
		if (rows[i].distance < so->lastDistance)
		{
			so->skipped++;
			continue;
		}
		rows[kept++] = rows[i];
	}
	return kept;
}

/*
 * The scan is about to hand out a row farther than it trusts the sketch's
 * rows to reach (or has handed them all out): measure the whole growing
 * segment.  A row already handed out is passed over, and one nearer than the
 * last row returned is skipped (found too late for the ORDER BY), as the
 * graph's later batches skip theirs.
 */
static void
read_growing_rest(IndexScanDesc scan, MvHnswScanOpaque so)
{
	so->growingPartial = false;
	ereport(DEBUG2,
			(errmsg_internal("milvus_hnsw index \"%s\": the scan passed what the sketch vouches for; measuring every growing row",
							 RelationGetRelationName(scan->indexRelation))));
	read_growing(so, scan->indexRelation, &so->graphDist, so->growingQuery);
	so->ngrowing = keep_unreturned(so, so->growing, so->ngrowing);
	MvHnswRowHeapify(so->growing, so->ngrowing);
}

/* Add rows measured since the scan began to its heap of growing rows */
static void
add_growing(MvHnswScanOpaque so, MvHnswRow *rows, int n)
{
	so->growing = so->growing ? repalloc(so->growing, sizeof(MvHnswRow) * (so->ngrowing + n + 1))
		: palloc(sizeof(MvHnswRow) * (n + 1));
	memcpy(so->growing + so->ngrowing, rows, sizeof(MvHnswRow) * n);
	so->ngrowing += keep_unreturned(so, so->growing + so->ngrowing, n);
	MvHnswRowHeapify(so->growing, so->ngrowing);
}

/*
 * The scan is about to hand out a row farther than it trusts the sketch's
 * rows measured so far to reach: measure the next of the rows the sketch
 * picked and left (nearer than any it did not pick), which raises the
 * distance trusted.  A row handed out already is passed over, as is one
 * nearer than the last row returned (counted as skipped).
 */
static void
read_growing_more(IndexScanDesc scan, MvHnswScanOpaque so)
{
	MvHnswRow  *more;
	int			n = MvHnswGrowingSketchMore(scan->indexRelation, &so->graphDist, so->growingQuery,
											&so->sketchRest, &more, &so->growingTrust);

	so->measured += n;
	ereport(DEBUG3,
			(errmsg_internal("milvus_hnsw index \"%s\": measured %d more growing rows the sketch picked",
							 RelationGetRelationName(scan->indexRelation), n)));
	add_growing(so, more, n);
	pfree(more);
}

/*
 * The scan went past every row the sketch picked: ask it for four times as
 * many nearest rows as it last did (a row measured twice is handed out
 * once).  False when the sketch cannot pick that many (the segment is too
 * small for it, or it cannot rank them): then the whole segment is measured.
 */
static bool
read_growing_wider(IndexScanDesc scan, MvHnswScanOpaque so)
{
	MvHnswRow  *rows;
	float		trust;
	int64		rejected = 0;	/* counted the first time */
	int			n;

	if (so->sketchK > INT_MAX / 4 / Max(MvHnswGrowingRerank, 1))
		return false;
	so->sketchK *= 4;
	n = MvHnswGrowingSketchRead(scan->indexRelation, &so->graphDist, so->growingQuery,
								so->sketchK, MvHnswGrowingRerank * so->sketchK, so->filter,
								so->filterArg, &rows, &trust, &rejected, &so->sketchRest);
	if (n < 0)
		return false;
	so->measured += n;
	so->growingTrust = trust;
	add_growing(so, rows, n);
	pfree(rows);
	return true;
}

/* amrescan */
void
mvhnsw_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	MvHnswScanOpaque so = (MvHnswScanOpaque) scan->opaque;

	MemoryContextReset(so->ctx);
	so->started = false;
	so->finished = false;
	so->graphDone = false;
	so->growing = NULL;
	so->ngrowing = 0;
	so->growingPartial = false;
	so->sketchRest.n = so->sketchRest.next = 0;
	so->sketchK = 0;
	so->graph = NULL;
	so->results = NULL;
	so->nresults = 0;
	so->pos = 0;
	so->tidpos = 0;
	so->lastDistance = -INFINITY;
	so->skipped = 0;
	so->returned = MvHnswCacheCreate(so->ctx);
	so->exact = false;
	so->exactMore = false;
	so->exactItems = NULL;
	so->nexact = 0;
	so->exactPos = 0;
	so->rejected = 0;
	so->measured = 0;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
}

/*
 * Hand out of a batch's results (sorted) at most the first maxemit, and only
 * those no farther than the nearest discarded candidate; the rest go back
 * with the discarded, to come out of a later batch that has looked further.
 */
static void
set_batch(MvHnswScanOpaque so, MvHnswCandidate *results, int n, int maxemit)
{
	MvHnswCandidate *top = MvHnswHeapTop(&so->discarded);
	int			keep = 0;

	while (keep < n && keep < maxemit &&
		   (top == NULL || results[keep].distance <= top->distance))
		keep++;
	for (int i = keep; i < n; i++)
		MvHnswHeapPush(&so->discarded, results[i]);
	if (so->results)
		pfree(so->results);
	so->results = results;
	so->nresults = keep;
	so->pos = 0;
	so->tidpos = 0;
}

/* Whether the walk went over its budget: then the scan hands out nothing more */
static inline bool
gave_up(MvHnswScanOpaque so)
{
	return so->graph != NULL && so->graph->overBudget;
}

/* The first batch: descend from the entry point, then search layer 0 */
static void
start_scan(IndexScanDesc scan)
{
	MvHnswScanOpaque so = (MvHnswScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	MvHnswMetaPageData meta;
	MvHnswGraph *g;
	ItemPointerData entrytid;
	MvHnswCandidate ep;
	MvHnswCandidate seeds[2];
	int			nseeds;
	MvHnswElement *entry;
	MvHnswCandidate *w;
	int			n;

	so->started = true;
	if (scan->orderByData == NULL || scan->numberOfOrderBys < 1)
		elog(ERROR, "cannot scan milvus_hnsw index without order");

	MvHnswReadMeta(index, &meta);
	g = MvHnswGraphCreate(index, true, so->ctx, false, meta.m, 0);
	if (!(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		g->query = MvHnswDetoastCopy(scan->orderByData[0].sk_argument);
		MvHnswCheckValueDims(index, &meta, g->query);
	}

	/*
	 * The growing segment before the graph: a row a seal links meanwhile is
	 * then in the graph when the walk gets there (and handed out once).
	 */
	so->ngrowing = MvHnswGrowingSketchRead(index, &g->dist, g->query, MvHnswEfSearch,
										   MvHnswGrowingRerank * MvHnswEfSearch,
										   so->filter, so->filterArg, &so->growing,
										   &so->growingTrust, &so->rejected, &so->sketchRest);
	so->graphDist = g->dist;
	so->growingQuery = g->query;
	so->growingPartial = (so->ngrowing >= 0);
	so->sketchK = MvHnswEfSearch;
	if (so->ngrowing >= 0)
		so->measured += so->ngrowing;
	else
		read_growing(so, index, &g->dist, g->query);
	MvHnswRowHeapify(so->growing, so->ngrowing);

	MvHnswReadMeta(index, &meta);
	if (!BlockNumberIsValid(meta.entryBlkno))
	{
		so->graphDone = true;
		return;
	}
	so->graph = g;
	g->filter = so->filter;
	g->filterArg = so->filterArg;
	g->budget = so->budget;
	ItemPointerSet(&entrytid, meta.entryBlkno, meta.entryOffno);

	if (scan->orderByData[0].sk_flags & SK_ISNULL)
	{
		/* NULL sorts every row alike: any order will do, so measure from the entry */
		g->keepValues = true;
		ep.element = MvHnswGetElement(g, &entrytid);
		g->keepValues = false;
		g->query = MvHnswElementValue(ep.element);
		ep.element->qdist = 0;
	}
	else
		ep.element = MvHnswGetElement(g, &entrytid);
	ep.distance = ep.element->qdist;
	entry = ep.element;

	for (int lc = meta.entryLevel; lc >= 1; lc--)
	{
		n = MvHnswSearchLayer(g, &ep, 1, 1, lc, true, NULL, &w);
		if (n > 0)
			ep = w[0];
	}
	/*
	 * Layer 0 starts from where the descent ended and from the entry point,
	 * so that a scan that runs long reaches all the entry point reaches,
	 * which is what vacuum keeps linked.
	 */
	seeds[0] = ep;
	nseeds = 1;
	if (entry != ep.element)
	{
		seeds[1].element = entry;
		seeds[1].distance = entry->qdist;
		nseeds = 2;
	}
	MvHnswHeapInit(&so->discarded, MvHnswEfSearch * 4, false);
	n = MvHnswSearchLayer(g, seeds, nseeds, MvHnswEfSearch, 0, true, &so->discarded, &w);
	set_batch(so, w, n, n);
}

/* The next batch from the best discarded candidates; false when there is none */
static bool
resume_scan(IndexScanDesc scan)
{
	MvHnswScanOpaque so = (MvHnswScanOpaque) scan->opaque;
	MvHnswGraph *g = so->graph;
	MvHnswCandidate *eps;
	MvHnswCandidate *w;
	int			neps = 0;
	int			n;

	if (so->discarded.length == 0)
		return false;
	/* a budget, when given, bounds the walk instead: checked between rounds */
	if (so->budget > 0 && g->loaded > so->budget)
	{
		g->overBudget = true;
		return false;
	}
	if (so->budget == 0 && g->loaded >= MvHnswMaxScanTuples)
	{
		ereport(NOTICE,
				(errmsg("milvus_hnsw index scan of \"%s\" reached milvus.hnsw_max_scan_tuples (%d) and finishes with an exact pass",
						RelationGetRelationName(scan->indexRelation), MvHnswMaxScanTuples),
				 errdetail("The graph walk visited " INT64_FORMAT " index elements; the rest of the rows come from reading the whole index.",
						   g->loaded),
				 errhint("A filter that rejects most rows near the query is faster with an exact plan.")));
		return false;
	}

	eps = palloc(sizeof(MvHnswCandidate) * MvHnswEfSearch);
	while (neps < MvHnswEfSearch && so->discarded.length > 0)
		eps[neps++] = MvHnswHeapPop(&so->discarded);
	n = MvHnswSearchLayer(g, eps, neps, 2 * MvHnswEfSearch, 0, false, &so->discarded, &w);
	pfree(eps);
	/* cut short by the budget: not a whole round, so none of it is handed out */
	if (g->overBudget)
	{
		pfree(w);
		return false;
	}
	set_batch(so, w, n, MvHnswEfSearch);
	return true;
}

static int
exact_item_cmp(const void *a, const void *b)
{
	float		da = ((const MvHnswRow *) a)->distance;
	float		db = ((const MvHnswRow *) b)->distance;

	return (da > db) - (da < db);
}

/* The rows of one pass so far: at most 2 * cap, trimmed to the nearest cap */
typedef struct MvHnswExactPass
{
	MvHnswRow *items;
	int			nitems;
	int			cap;
	float		limit;			/* farther than the cap-th kept: not needed */
} MvHnswExactPass;

/* Offer an element's rows (its distance and heap TIDs) to the pass */
static void
exact_offer(MvHnswScanOpaque so, MvHnswExactPass *pass, float distance,
			ItemPointerData *heaptids, int nheaptids)
{
	if (distance > pass->limit)
		return;
	for (int t = 0; t < nheaptids && ItemPointerIsValid(&heaptids[t]); t++)
	{
		if (MvHnswCacheLookup(so->returned, &heaptids[t]) != NULL)
			continue;
		if (so->filter && !so->filter(so->filterArg, &heaptids[t]))
			continue;
		if (distance < so->lastDistance)
		{
			so->skipped++;
			continue;
		}
		pass->items[pass->nitems].distance = distance;
		pass->items[pass->nitems].heaptid = heaptids[t];
		if (++pass->nitems == 2 * pass->cap)
		{
			/* keep the nearest cap; what is farther can wait for a later pass */
			qsort(pass->items, pass->nitems, sizeof(MvHnswRow), exact_item_cmp);
			pass->nitems = pass->cap;
			pass->limit = pass->items[pass->cap - 1].distance;
			so->exactMore = true;
		}
	}
}

/*
 * One exact pass: every live element of the index, measured against the
 * query; keep the rows not returned yet and no nearer than the last one
 * returned, the nearest `cap` of them, sorted.  Returns whether any was kept.
 * A whole vector is measured on its page, under the buffer lock; a split one
 * is loaded (its chunks read) after the lock is released.
 */
static bool
exact_pass(IndexScanDesc scan)
{
	MvHnswScanOpaque so = (MvHnswScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	MvHnswGraph *g = so->graph;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	MvHnswExactPass pass;
	MemoryContext loadctx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw exact pass",
												  ALLOCSET_DEFAULT_SIZES);
	MvHnswGraph *lg = MvHnswGraphCreate(index, true, CurrentMemoryContext, false, g->m, 0);
	OffsetNumber *split = palloc(sizeof(OffsetNumber) * MaxOffsetNumber);

	pass.cap = Max(1024, (int) Min((Size) work_mem * 1024 / sizeof(MvHnswRow),
								   (Size) MaxAllocSize / sizeof(MvHnswRow) / 2));
	pass.items = palloc(sizeof(MvHnswRow) * 2 * pass.cap);
	/* split vectors are loaded into loadctx, emptied after each page */
	lg->ctx = loadctx;
	lg->query = g->query;
	pass.nitems = 0;
	pass.limit = INFINITY;
	so->exactMore = false;
	so->skipped = 0;			/* this pass counts every row left behind */
	for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf = MvHnswReadBuffer(index, blkno);
		Page		page;
		int			nsplit = 0;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!PageIsNew(page) && (MvHnswPageGetOpaque(page)->flags & MV_HNSW_PAGE_GRAPH))
		{
			for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page);
				 off = OffsetNumberNext(off))
			{
				MvHnswElementTuple etup = (MvHnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

				if (etup->type != MV_HNSW_ELEMENT_TUPLE || etup->deleted)
					continue;
				if (etup->flags & MV_HNSW_ELEMENT_CHUNKED)
					split[nsplit++] = off;
				else
					exact_offer(so, &pass, MvHnswDistance(&g->dist, g->query, etup->data),
								etup->heaptids, MV_HNSW_HEAPTIDS);
			}
		}
		UnlockReleaseBuffer(buf);

		if (nsplit > 0)
		{
			MemoryContext oldctx = MemoryContextSwitchTo(loadctx);

			for (int i = 0; i < nsplit; i++)
			{
				ItemPointerData tid;
				MvHnswElement *e;

				ItemPointerSet(&tid, blkno, split[i]);
				e = MvHnswLoadElement(lg, &tid);
				if (!e->deleted)
					exact_offer(so, &pass, e->qdist, e->heaptids, e->nheaptids);
			}
			MemoryContextSwitchTo(oldctx);
			MemoryContextReset(loadctx);
		}
	}
	MemoryContextDelete(loadctx);
	pfree(split);

	qsort(pass.items, pass.nitems, sizeof(MvHnswRow), exact_item_cmp);
	if (pass.nitems > pass.cap)
	{
		pass.nitems = pass.cap;
		so->exactMore = true;
	}
	if (so->exactItems)
		pfree(so->exactItems);
	so->exactItems = pass.items;
	so->nexact = pass.nitems;
	so->exactPos = 0;
	return pass.nitems > 0;
}

/*
 * The next row of the exact pass (passes again while rows were left out),
 * left in place for exact_consume
 */
static bool
exact_peek(IndexScanDesc scan, MvHnswRow **row)
{
	MvHnswScanOpaque so = (MvHnswScanOpaque) scan->opaque;

	for (;;)
	{
		while (so->exactPos < so->nexact)
		{
			MvHnswRow  *item = &so->exactItems[so->exactPos];

			/* a row the walk returned may sit in the list of a later pass */
			if (MvHnswCacheLookup(so->returned, &item->heaptid) != NULL)
			{
				so->exactPos++;
				continue;
			}
			*row = item;
			return true;
		}
		if (so->exactItems != NULL && !so->exactMore)
			return false;
		if (!exact_pass(scan))
			return false;
	}
}

/*
 * The graph's next row, its distance and heap TID, left in place for
 * graph_consume; false when the graph has no more.  Walks on, then finishes
 * with the exact pass, as the header says.
 */
static bool
graph_peek(IndexScanDesc scan, float *distance, ItemPointer heaptid)
{
	MvHnswScanOpaque so = (MvHnswScanOpaque) scan->opaque;

	/* a round the budget cut short is not handed out */
	if (gave_up(so))
		return false;
	while (!so->graphDone)
	{
		CHECK_FOR_INTERRUPTS();
		if (so->exact)
		{
			MvHnswRow  *row;

			if (exact_peek(scan, &row))
			{
				*distance = row->distance;
				*heaptid = row->heaptid;
				return true;
			}
			so->graphDone = true;
			break;
		}
		while (so->pos < so->nresults)
		{
			MvHnswCandidate *c = &so->results[so->pos];
			MvHnswElement *e = c->element;

			if (so->tidpos == 0 && c->distance < so->lastDistance)
			{
				if (!e->deleted)
					so->skipped += e->nheaptids;
				so->pos++;
				continue;
			}
			if (e->deleted || so->tidpos >= e->nheaptids)
			{
				so->pos++;
				so->tidpos = 0;
				continue;
			}
			if (so->filter && !so->filter(so->filterArg, &e->heaptids[so->tidpos]))
			{
				so->rejected++;
				so->tidpos++;
				continue;
			}
			*distance = c->distance;
			*heaptid = e->heaptids[so->tidpos];
			return true;
		}
		if (resume_scan(scan))
			continue;
		if (gave_up(so))
			return false;
		/* the walk is over: what it did not return comes from an exact pass */
		so->exact = true;
	}
	return false;
}

static void
graph_consume(MvHnswScanOpaque so)
{
	if (so->exact)
		so->exactPos++;
	else
		so->tidpos++;
}

/* amgettuple: the graph's rows and the growing segment's, merged by distance */
bool
mvhnsw_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	MvHnswScanOpaque so = (MvHnswScanOpaque) scan->opaque;
	MemoryContext oldctx = MemoryContextSwitchTo(so->ctx);

	if (!so->started)
		start_scan(scan);

	while (!so->finished)
	{
		float		distance = 0;
		ItemPointerData heaptid;
		bool		fromGraph;

		fromGraph = graph_peek(scan, &distance, &heaptid);
		while (so->growingPartial && !gave_up(so) &&
			   (so->ngrowing == 0 ||
				Min(so->growing[0].distance, fromGraph ? distance : INFINITY) > so->growingTrust))
		{
			if (so->sketchRest.next < so->sketchRest.n)
				read_growing_more(scan, so);
			else if (!read_growing_wider(scan, so))
				read_growing_rest(scan, so);
		}
		if (so->ngrowing > 0 && !gave_up(so) &&
			(!fromGraph || so->growing[0].distance <= distance))
		{
			MvHnswRow	row = MvHnswRowPop(so->growing, &so->ngrowing);

			distance = row.distance;
			heaptid = row.heaptid;
		}
		else if (fromGraph)
			graph_consume(so);
		else
		{
			so->finished = true;
			if (so->skipped > 0 && !gave_up(so))
				ereport(NOTICE,
						(errmsg("milvus_hnsw index scan of \"%s\" skipped " INT64_FORMAT " rows found after farther rows",
								RelationGetRelationName(scan->indexRelation), so->skipped),
						 errdetail("Returning them would have broken the ORDER BY; the query may return fewer rows than it asked for."),
						 errhint("Raise milvus.hnsw_ef_search.")));
			break;
		}

		/* a row a seal moved into the graph during the scan: once only */
		if (MvHnswCacheLookup(so->returned, &heaptid) != NULL)
			continue;
		/* any non-NULL pointer marks a returned row */
		MvHnswCacheInsert(so->returned, &heaptid, (struct MvHnswElement *) so);
		scan->xs_heaptid = heaptid;
		scan->xs_recheck = false;
		scan->xs_recheckorderby = false;
		so->lastDistance = distance;
		MemoryContextSwitchTo(oldctx);
		return true;
	}

	MemoryContextSwitchTo(oldctx);
	return false;
}

/*
 * Make the scan a filtered one (see the header); before its first row.
 * budget 0: the walk is bounded by milvus.hnsw_max_scan_tuples as usual.
 */
void
MvHnswScanSetFilter(IndexScanDesc scan, MvHnswTidFilter filter, void *arg, int64 budget)
{
	MvHnswScanOpaque so = (MvHnswScanOpaque) scan->opaque;

	so->filter = filter;
	so->filterArg = arg;
	so->budget = Max(budget, 0);
}

/* What the scan has done so far */
void
MvHnswScanGetCounters(IndexScanDesc scan, MvHnswScanCounters *counters)
{
	MvHnswScanOpaque so = (MvHnswScanOpaque) scan->opaque;

	counters->visited = so->graph ? so->graph->loaded : 0;
	counters->growing = so->measured;
	counters->skipped = so->rejected + (so->graph ? so->graph->filteredOut : 0);
	counters->overBudget = gave_up(so);
}

/* amendscan */
void
mvhnsw_endscan(IndexScanDesc scan)
{
	MvHnswScanOpaque so = (MvHnswScanOpaque) scan->opaque;

	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}
