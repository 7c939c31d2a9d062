/*
 * hnswprune.c
 *		Which neighbour a full list gives up for a new element: the HNSW
 *		heuristic over the list plus the new element, measured incrementally
 *		when the list's distances and keep flags are known.
 *
 * A build graph keeps each list sorted with its flags (hnswgraph.c).  A list
 * on disk holds only TIDs, so an insert measures the whole list, and the
 * heuristic's pairs, every time it links back into it: for a seal, which
 * links thousands of rows into the same lists, link-backs were over a third
 * of its time (perf, 784 dimensions).  So a seal's graph remembers each list it measured (lists, in the
 * graph's memory, up to listsBudget bytes), as the build keeps it, and uses
 * the memory only while it names the same elements as the list on the page
 * (anything else, another insert or a vacuum, changed the list: it is
 * measured afresh).  Elements are compared by their loaded copy, so that a
 * slot reused since (read back into the cache as a new element) never
 * matches.
 */
#include "postgres.h"

#include "utils/hsearch.h"

#include "hnsw.h"
#include "milvus/guc.h"

/* A list a seal remembers: element n's at layer lc, as it is after a link-back */
typedef struct MvHnswListKey
{
	ItemPointerData tid;		/* n's element tuple */
	uint16		lc;
} MvHnswListKey;

typedef struct MvHnswListMemo
{
	MvHnswListKey key;
	MvHnswElement *element;		/* n, as loaded */
	int			n;				/* items, 0 while unknown */
	MvHnswCandidate *items;		/* sorted nearest first, flags valid */
} MvHnswListMemo;

/* Whether the heuristic keeps c: no kept item of items[0..n) is nearer to it than the base */
static bool
is_closer(MvHnswGraph *g, MvHnswCandidate *c, MvHnswCandidate *items, int n)
{
	Pointer		cvalue = MvHnswElementVector(g, c->element);

	for (int j = 0; j < n; j++)
		if (items[j].closer &&
			MvHnswDistance(&g->dist, cvalue, MvHnswElementVector(g, items[j].element)) <
			c->distance)
			return false;
	return true;
}

/*
 * Add c to a full list of lm candidates in items (room for lm + 1) and drop
 * one, as MvHnswSelectNeighbors would over the list plus c (with pruned
 * connections kept, that drops the farthest pruned item, or the farthest item
 * if none is pruned).  With sorted, the list is sorted nearest first with
 * each item's keep flag, so only c and the items whose flag c can change are
 * measured: a kept item can only lose to a newly kept one, a pruned one can
 * only come back once some kept item was lost.  Dropping the farthest pruned
 * item (or the last) changes no flag.  On return items[0..lm) is the list,
 * sorted and flagged, and *dropped what was dropped (c itself, perhaps).
 */
void
MvHnswPruneList(MvHnswGraph *g, MvHnswCandidate *items, int lm, bool sorted, MvHnswCandidate c,
				MvHnswCandidate *dropped)
{
	int			n = lm + 1;
	int			drop = n - 1;

	if (!sorted)
	{
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

		while (p < lm && items[p].distance <= c.distance)
			p++;
		memmove(items + p + 1, items + p, sizeof(MvHnswCandidate) * (lm - p));
		items[p] = c;
		items[p].closer = is_closer(g, &items[p], items, p);
		if (items[p].closer)
			added[nadded++] = &items[p];
		for (int i = p + 1; i < n; i++)
		{
			MvHnswCandidate *x = &items[i];

			if (x->closer)
			{
				Pointer		xvalue = MvHnswElementVector(g, x->element);

				for (int j = 0; j < nadded; j++)
					if (MvHnswDistance(&g->dist, xvalue,
									   MvHnswElementVector(g, added[j]->element)) < x->distance)
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
	*dropped = items[drop];
	memmove(items + drop, items + drop + 1, sizeof(MvHnswCandidate) * (n - 1 - drop));
}

/* Remember the lists this graph measures, in up to budget bytes */
void
MvHnswRememberLists(MvHnswGraph *g, Size budget)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(MvHnswListKey);
	ctl.entrysize = sizeof(MvHnswListMemo);
	ctl.hcxt = g->ctx;
	g->lists = hash_create("milvus_hnsw remembered lists", 1024, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	g->listsBudget = budget;
	g->listsBytes = 0;
}

static MvHnswListMemo *
find_memo(MvHnswGraph *g, MvHnswElement *n, int lc, bool create)
{
	MvHnswListKey key;
	MvHnswListMemo *memo;
	bool		found;

	if (g->lists == NULL)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.tid = n->tid;
	key.lc = lc;
	if (!create)
		return hash_search(g->lists, &key, HASH_FIND, NULL);
	if (g->listsBytes + sizeof(MvHnswListMemo) + sizeof(MvHnswCandidate) * 2 * g->m >
		g->listsBudget)
		return hash_search(g->lists, &key, HASH_FIND, NULL);
	memo = hash_search(g->lists, &key, HASH_ENTER, &found);
	if (!found)
	{
		memo->element = n;
		memo->n = 0;
		memo->items = MemoryContextAlloc(g->ctx, sizeof(MvHnswCandidate) * MvHnswLayerM(g->m, lc));
		g->listsBytes += sizeof(MvHnswListMemo) + sizeof(MvHnswCandidate) * MvHnswLayerM(g->m, lc);
	}
	return memo;
}

/* Whether a remembered list holds exactly the elements of items[0..n) */
static bool
memo_matches(MvHnswListMemo *memo, MvHnswElement *e, MvHnswCandidate *items, int n)
{
	if (memo == NULL || memo->element != e || memo->n != n)
		return false;
	for (int i = 0; i < n; i++)
	{
		bool		found = false;

		for (int j = 0; j < n && !found; j++)
			found = (memo->items[j].element == items[i].element);
		if (!found)
			return false;
	}
	return true;
}

/*
 * milvus.debug_check_seal_lists: the list n's memory gave (items[0..lm),
 * sorted and flagged) against the same elements measured afresh, before
 * MvHnswPruneList adds c to it.  Both must name the same distances in the
 * same order with the same keep flags, and drop the same candidate, short of
 * a tie between two distances.
 */
static void
check_remembered(MvHnswGraph *g, MvHnswElement *n, const MvHnswCandidate *items, int lm,
				 MvHnswCandidate c)
{
	MvHnswCandidate fresh[2 * MV_HNSW_MAX_M + 1];
	MvHnswCandidate memo[2 * MV_HNSW_MAX_M + 1];
	MvHnswCandidate dropped;
	MvHnswCandidate dropped_memo;
	Pointer		nvalue = MvHnswElementVector(g, n);

	for (int i = 0; i < lm; i++)
	{
		fresh[i].element = items[i].element;
		fresh[i].distance = MvHnswDistance(&g->dist, nvalue,
										   MvHnswElementVector(g, items[i].element));
		fresh[i].closer = false;
	}
	qsort(fresh, lm, sizeof(MvHnswCandidate), MvHnswCandidateCmp);
	for (int i = 0; i < lm; i++)
	{
		fresh[i].closer = is_closer(g, &fresh[i], fresh, i);
		if (fresh[i].distance != items[i].distance ||
			(fresh[i].element != items[i].element &&
			 (i + 1 >= lm || fresh[i].distance != fresh[i + 1].distance) &&
			 (i == 0 || fresh[i].distance != fresh[i - 1].distance)) ||
			fresh[i].closer != items[i].closer)
			elog(ERROR, "milvus_hnsw: the remembered list of (%u,%u) differs from the list "
				 "measured afresh at item %d: distance %g against %g, keep %d against %d",
				 ItemPointerGetBlockNumber(&n->tid), ItemPointerGetOffsetNumber(&n->tid), i,
				 items[i].distance, fresh[i].distance, items[i].closer, fresh[i].closer);
	}
	memcpy(memo, items, sizeof(MvHnswCandidate) * lm);
	MvHnswPruneList(g, fresh, lm, false, c, &dropped);
	MvHnswPruneList(g, memo, lm, true, c, &dropped_memo);
	if (dropped.element != dropped_memo.element && dropped.distance != dropped_memo.distance)
		elog(ERROR, "milvus_hnsw: the remembered list of (%u,%u) drops a neighbour at distance "
			 "%g where the list measured afresh drops one at %g",
			 ItemPointerGetBlockNumber(&n->tid), ItemPointerGetOffsetNumber(&n->tid),
			 dropped_memo.distance, dropped.distance);
}

/*
 * The neighbour of n at layer lc that should make room for the new element
 * (whose distance to n is dnew), or an invalid TID if the new element is the
 * one the heuristic would drop; with force, then n's farthest neighbour.
 * n's list is full: tids holds it.  choice receives the list as it is once
 * the victim is replaced, for MvHnswListChosen.
 */
ItemPointerData
MvHnswChooseVictim(MvHnswGraph *g, MvHnswElement *n, int lc, MvHnswElement *newElement,
				   float dnew, ItemPointerData *tids, int ntids, int lm, bool force,
				   MvHnswListChoice *choice)
{
	MvHnswCandidate *items = choice->items;
	MvHnswCandidate c;
	MvHnswCandidate dropped;
	MvHnswListMemo *memo;
	bool		sorted;
	Pointer		nvalue;
	ItemPointerData victim;

	Assert(ntids == lm);
	choice->n = 0;
	choice->element = n;
	choice->lc = lc;
	for (int i = 0; i < ntids; i++)
	{
		MvHnswElement *x = MvHnswGetElement(g, &tids[i]);

		/* a seal's cache is old: is that tombstone still one? */
		if (x->deleted && g->lists != NULL)
			x = MvHnswElementAgain(g, x);
		if (x->deleted)
			return x->tid;		/* drop a tombstone first */
		items[i].element = x;
		items[i].closer = false;
	}

	memo = find_memo(g, n, lc, false);
	sorted = memo_matches(memo, n, items, ntids);
	if (sorted)
		memcpy(items, memo->items, sizeof(MvHnswCandidate) * ntids);
	else
	{
		nvalue = MvHnswElementVector(g, n);
		for (int i = 0; i < ntids; i++)
			items[i].distance = MvHnswDistance(&g->dist, nvalue,
											   MvHnswElementVector(g, items[i].element));
	}
	/* the new element as the cache holds it: what the list will name */
	c.element = g->lists != NULL ? MvHnswGetElement(g, &newElement->tid) : newElement;
	c.distance = dnew;
	c.closer = false;
	if (sorted && unlikely(MvDebugCheckSealLists))
		check_remembered(g, n, items, lm, c);
	MvHnswPruneList(g, items, lm, sorted, c, &dropped);

	if (dropped.element != c.element)
	{
		choice->n = lm;
		return dropped.element->tid;
	}
	if (force)
		return items[lm - 1].element->tid;	/* the farthest; the list is not remembered */
	ItemPointerSetInvalid(&victim);
	return victim;
}

/* The victim of choice was replaced by the new element: remember the list */
void
MvHnswListChosen(MvHnswGraph *g, MvHnswListChoice *choice)
{
	MvHnswListMemo *memo;

	if (choice->n == 0 || g->lists == NULL)
		return;
	memo = find_memo(g, choice->element, choice->lc, true);
	if (memo == NULL)
		return;
	memo->element = choice->element;
	memo->n = choice->n;
	memcpy(memo->items, choice->items, sizeof(MvHnswCandidate) * choice->n);
}
