/*
 * hnswvacuum.c
 *		Vacuum a milvus_hnsw index: drop dead heap TIDs, turn emptied elements
 *		into tombstones, repair the links around them, and free their slots.
 *
 * Pass 1 reads every graph page once, asks the callback about each heap TID
 * and rewrites the elements that lost some; an element left with none becomes
 * a tombstone (deleted flag; its vector and links stay, so searches already
 * under way, and inserts that picked it as a neighbour a moment ago, still
 * walk through it).  Pass 2 replaces a tombstoned entry point by the highest
 * live element, then visits every live element that links to a new tombstone
 * and repairs only the affected layer lists: a list keeps its live
 * neighbours, and the tombstones' slots are filled again from the neighbours
 * of the tombstones (through tombstones, a few hops), chosen by the same
 * heuristic as inserts.  No graph
 * search per element, which is what makes pgvector's vacuum slow.  Links an
 * insert added meanwhile are kept.  Pass 3 gives live elements that fewer
 * than m live lists lead to links from their nearest neighbours, then walks
 * layer 0 from the entry point and links the few live elements it does not
 * reach.  Pass 4 marks the
 * tombstones free, for inserts to reuse (hnswinsert.c), and points the
 * metapage's hint at the lowest page holding free slots.  Tombstones a vacuum
 * left unfreed (it stopped) go through passes 2 and 4 of the next one.  Every
 * page change is one GenericXLog record.  Chunk tuples of freed vectors are
 * not reused; every page scan here passes over them.
 *
 * Before pass 1, ambulkdelete seals the growing segment (hnswseal.c), dropping
 * the rows the callback names, and amvacuumcleanup seals it too, so a VACUUM
 * leaves every row in the graph.  While a data coordinator runs, passes 2 to 4
 * are left to its compaction (MvHnswCompact: the same passes with nothing
 * dead), and the metapage counts the tombstones waiting for it.  A seal, a
 * compaction and a vacuum of one index never run at once (MV_HNSW_SEAL_LOCK).
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"

#include "hnsw.h"
#include "milvus/guc.h"

/* rounds of linking unreached elements, each after a fresh walk */
#define MV_HNSW_LINK_ROUNDS			8

/* rounds of a repair: old neighbours, then through tombstones */
#define MV_HNSW_REPAIR_ROUNDS		4

typedef struct MvHnswVacuumState
{
	Relation	index;
	IndexBulkDeleteResult *stats;
	IndexBulkDeleteCallback callback;
	void	   *callback_state;
	BufferAccessStrategy bas;
	HTAB	   *deleted;		/* TIDs of the tombstones to repair and free */
	int64		ndeleted;		/* tombstoned by this vacuum */
	BlockNumber freeLow;		/* lowest page with a free slot before; 0: none */
	ItemPointerData best;		/* highest live element seen */
	int			bestLevel;
	int			m;
	MemoryContext ctx;
	bool		building;		/* called by a build: no WAL, no vacuum delay */
	bool		repair;			/* passes 2 to 4 too, else leave them to a compaction */
	int			skipLevel;		/* of the message when layer 0 outgrows memory */
} MvHnswVacuumState;

/* vacuum_delay_point, but not while a build uses this file's passes */
static inline void
delay_point(MvHnswVacuumState *vs)
{
	if (vs->building)
		CHECK_FOR_INTERRUPTS();
	else
		vacuum_delay_point();
}

static bool
is_new_tombstone(MvHnswVacuumState *vs, ItemPointer tid)
{
	bool		found;

	hash_search(vs->deleted, tid, HASH_FIND, &found);
	return found;
}

/* Pass 1: remove dead heap TIDs from one page's elements */
static void
remove_heap_tids(MvHnswVacuumState *vs, BlockNumber blkno)
{
	Buffer		buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, vs->bas);
	Page		page;
	MvHnswPageEdit edit;
	bool		editing = false;
	OffsetNumber maxoff;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		MvHnswElementTuple etup = (MvHnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
		ItemPointerData keep[MV_HNSW_HEAPTIDS];
		int			nkeep = 0;
		int			nremoved = 0;

		if (etup->type != MV_HNSW_ELEMENT_TUPLE)
			continue;
		if (etup->deleted == MV_HNSW_FREE)
		{
			if (vs->freeLow == 0 && !(etup->flags & MV_HNSW_ELEMENT_CHUNKED))
				vs->freeLow = blkno;
			continue;
		}
		if (etup->deleted)
		{
			ItemPointerData tid;

			/* left by a vacuum that stopped before freeing it: finish the job */
			ItemPointerSet(&tid, blkno, off);
			hash_search(vs->deleted, &tid, HASH_ENTER, NULL);
			continue;
		}
		for (int i = 0; i < MV_HNSW_HEAPTIDS && ItemPointerIsValid(&etup->heaptids[i]); i++)
		{
			if (vs->callback(&etup->heaptids[i], vs->callback_state))
				nremoved++;
			else
				keep[nkeep++] = etup->heaptids[i];
		}
		vs->stats->tuples_removed += nremoved;
		vs->stats->num_index_tuples += nkeep;

		if (nremoved > 0)
		{
			if (!editing)
			{
				MvHnswEditStart(&edit, vs->index, false);
				page = MvHnswEditRegister(&edit, buf, false);
				editing = true;
				etup = (MvHnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
			}
			for (int i = 0; i < MV_HNSW_HEAPTIDS; i++)
			{
				if (i < nkeep)
					etup->heaptids[i] = keep[i];
				else
					ItemPointerSetInvalid(&etup->heaptids[i]);
			}
			if (nkeep == 0)
			{
				ItemPointerData tid;

				etup->deleted = MV_HNSW_TOMBSTONE;
				ItemPointerSet(&tid, blkno, off);
				hash_search(vs->deleted, &tid, HASH_ENTER, NULL);
				vs->ndeleted++;
			}
		}
		if (nkeep > 0 && etup->level > vs->bestLevel)
		{
			ItemPointerSet(&vs->best, blkno, off);
			vs->bestLevel = etup->level;
		}
	}
	if (editing)
		MvHnswEditFinish(&edit);
	UnlockReleaseBuffer(buf);
}

/* Point the metapage past a tombstoned entry point; count the tombstones */
static void
repair_entry_point(MvHnswVacuumState *vs)
{
	Buffer		metabuf;
	MvHnswMetaPageData meta;
	MvHnswPageEdit edit;
	MvHnswMetaPage m;
	bool		replace = false;

	/* wait for inserts, which read the entry point under the shared lock */
	LockPage(vs->index, MV_HNSW_UPDATE_LOCK, ExclusiveLock);
	MvHnswReadMeta(vs->index, &meta);
	if (BlockNumberIsValid(meta.entryBlkno))
	{
		MvHnswGraph *g = MvHnswGraphCreate(vs->index, true, vs->ctx, false, vs->m, 0);
		ItemPointerData tid;

		ItemPointerSet(&tid, meta.entryBlkno, meta.entryOffno);
		replace = MvHnswLoadElement(g, &tid)->deleted;
	}

	metabuf = ReadBuffer(vs->index, MV_HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, vs->index, false);
	m = MvHnswPageGetMeta(MvHnswEditRegister(&edit, metabuf, false));
	if (replace)
	{
		if (ItemPointerIsValid(&vs->best))
		{
			m->entryBlkno = ItemPointerGetBlockNumber(&vs->best);
			m->entryOffno = ItemPointerGetOffsetNumber(&vs->best);
			m->entryLevel = vs->bestLevel;
		}
		else
		{
			m->entryBlkno = InvalidBlockNumber;
			m->entryOffno = InvalidOffsetNumber;
			m->entryLevel = -1;
		}
	}
	m->deleted += vs->ndeleted;
	/* what a compaction has to repair; a repairing vacuum clears it when done */
	m->pendingTombstones = (uint32) Min(hash_get_num_entries(vs->deleted), PG_UINT32_MAX);
	MvHnswEditFinish(&edit);
	UnlockReleaseBuffer(metabuf);
	UnlockPage(vs->index, MV_HNSW_UPDATE_LOCK, ExclusiveLock);
}

/*
 * Neighbours for e at layer lc by a search from the entry point, for when
 * every candidate near it is gone; returns how many were written to result.
 */
static int
search_replacements(MvHnswVacuumState *vs, MvHnswElement *e, int lc, ItemPointerData *result,
					int maxresult)
{
	MvHnswMetaPageData meta;
	MvHnswGraph *g;
	ItemPointerData entrytid;
	MvHnswCandidate *layers[MV_HNSW_MAX_LEVEL + 1];
	int			counts[MV_HNSW_MAX_LEVEL + 1];
	MvHnswCandidate nearest;
	int			n = 0;

	MvHnswReadMeta(vs->index, &meta);
	if (!BlockNumberIsValid(meta.entryBlkno) || meta.entryLevel < lc)
		return 0;
	g = MvHnswGraphCreate(vs->index, true, CurrentMemoryContext, true, vs->m,
						  MvHnswGetEfConstruction(vs->index));
	g->query = MvHnswElementValue(e);
	ItemPointerSet(&entrytid, meta.entryBlkno, meta.entryOffno);
	MvHnswFindNeighbors(g, MvHnswGetElement(g, &entrytid), lc, layers, counts, &nearest);
	/* counts[lc] can reach ef_construction, more than result holds */
	for (int i = 0; i < counts[lc] && n < maxresult; i++)
	{
		ItemPointer t = &layers[lc][i].element->tid;

		if (!ItemPointerEquals(t, &e->tid) && !is_new_tombstone(vs, t))
			result[n++] = *t;
	}
	return n;
}

/*
 * Rebuild layer lc of element e, which links to new tombstones.  Its live
 * old neighbours (round 0) all stay: only the tombstones' slots are filled
 * again, with candidates from the neighbours of the tombstones (round 1), and
 * further rounds go through tombstones only while fewer than lm live
 * candidates were found; the heuristic chooses among the nearest 2 * lm of
 * them.  Choosing the whole list again by the heuristic among the nearest
 * candidates instead dropped the long links that join clusters: on clustered
 * data, after deleting 30 % of 20,000 rows, a walk of layer 0 from the entry
 * point reached as few as 4 % of the live elements, and recall fell.
 */
static void
repair_layer(MvHnswVacuumState *vs, MvHnswGraph *g, MvHnswElement *e, int lc,
			 ItemPointerData *old, int nold)
{
	int			lm = MvHnswLayerM(vs->m, lc);
	int			start = MvHnswLayerStart(vs->m, lc);
	int			maxfrontier = lm * lm + nold;
	ItemPointerData *frontier = palloc(sizeof(ItemPointerData) * maxfrontier);
	ItemPointerData *next = palloc(sizeof(ItemPointerData) * maxfrontier);
	int			nfrontier = 0;
	MvHnswCandidate *cands = palloc(sizeof(MvHnswCandidate) * maxfrontier);
	int			ncands = 0;
	MvHnswCandidate *kept = palloc(sizeof(MvHnswCandidate) * lm);
	int			nkept;
	int			nstay = -1;		/* cands[0..nstay) are live old neighbours */
	ItemPointerData *ntids = palloc(sizeof(ItemPointerData) * MvHnswLayerM(vs->m, 0));
	Buffer		buf;
	Page		page;
	MvHnswNeighborTuple ntup;
	MvHnswPageEdit edit;
	ItemPointerData result[2 * MV_HNSW_MAX_M];
	int			nresult = 0;

	g->stamp++;
	e->visited = g->stamp;
	memcpy(frontier, old, sizeof(ItemPointerData) * nold);
	nfrontier = nold;

	for (int round = 0; round < MV_HNSW_REPAIR_ROUNDS && nfrontier > 0; round++)
	{
		int			nnext = 0;

		if (round == 1)
			nstay = ncands;		/* the live old neighbours */
		if (round >= 2 && ncands >= lm)
			break;
		for (int i = 0; i < nfrontier; i++)
		{
			MvHnswElement *x = MvHnswGetElement(g, &frontier[i]);
			int			n;

			if (x->visited == g->stamp)
				continue;
			x->visited = g->stamp;
			if (!x->deleted && !is_new_tombstone(vs, &x->tid))
			{
				if (ncands < maxfrontier)
				{
					cands[ncands].element = x;
					cands[ncands].distance = MvHnswDistance(&g->dist, MvHnswElementValue(e),
															MvHnswElementValue(x));
					ncands++;
				}
				continue;
			}
			/* a tombstone: its neighbours are the candidates of the next round */
			n = MvHnswLoadNeighborTids(g, x, lc, ntids);
			for (int j = 0; j < n && nnext < maxfrontier; j++)
				next[nnext++] = ntids[j];
		}
		memcpy(frontier, next, sizeof(ItemPointerData) * nnext);
		nfrontier = nnext;
	}

	if (nstay < 0)
		nstay = ncands;
	for (int i = 0; i < nstay && nresult < lm; i++)
		result[nresult++] = cands[i].element->tid;
	qsort(cands + nstay, ncands - nstay, sizeof(MvHnswCandidate), MvHnswCandidateCmp);
	nkept = MvHnswSelectNeighbors(g, cands + nstay, Min(ncands - nstay, 2 * lm), lm - nresult,
								  kept);
	for (int i = 0; i < nkept; i++)
		result[nresult++] = kept[i].element->tid;
	if (nresult == 0)
		nresult = search_replacements(vs, e, lc, result, lm);

	/* write, keeping links that inserts added since we read the list */
	buf = ReadBuffer(vs->index, ItemPointerGetBlockNumber(&e->neighbortid));
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, vs->index, false);
	page = MvHnswEditRegister(&edit, buf, false);
	ntup = (MvHnswNeighborTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&e->neighbortid)));
	for (int i = 0; i < lm; i++)
	{
		ItemPointer t = &ntup->indextids[start + i];

		if (ItemPointerIsValid(t) && !MvHnswTidIn(old, nold, t) &&
			!MvHnswTidIn(result, nresult, t) && !is_new_tombstone(vs, t) && nresult < lm)
			result[nresult++] = *t;
	}
	for (int i = 0; i < lm; i++)
	{
		if (i < nresult)
			ntup->indextids[start + i] = result[i];
		else
			ItemPointerSetInvalid(&ntup->indextids[start + i]);
	}
	MvHnswEditFinish(&edit);
	UnlockReleaseBuffer(buf);
}

/* Pass 2: repair the live elements of one page that link to new tombstones */
static void
repair_page(MvHnswVacuumState *vs, BlockNumber blkno)
{
	MemoryContext oldctx = MemoryContextSwitchTo(vs->ctx);
	MvHnswGraph *g = MvHnswGraphCreate(vs->index, true, vs->ctx, true, vs->m, 0);
	Buffer		buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, vs->bas);
	Page		page;
	ItemPointerData *live;
	int			nlive = 0;
	ItemPointerData *tids = palloc(sizeof(ItemPointerData) * MvHnswLayerM(vs->m, 0));

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	live = palloc(sizeof(ItemPointerData) * (PageGetMaxOffsetNumber(page) + 1));
	for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page);
		 off = OffsetNumberNext(off))
	{
		MvHnswElementTuple etup = (MvHnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

		if (etup->type == MV_HNSW_ELEMENT_TUPLE && !etup->deleted)
		{
			ItemPointerSet(&live[nlive], blkno, off);
			nlive++;
		}
	}
	UnlockReleaseBuffer(buf);

	for (int i = 0; i < nlive; i++)
	{
		MvHnswElement *e = MvHnswGetElement(g, &live[i]);

		if (e->deleted)
			continue;
		for (int lc = 0; lc <= e->level; lc++)
		{
			int			n = MvHnswLoadNeighborTids(g, e, lc, tids);
			bool		affected = false;

			for (int j = 0; j < n && !affected; j++)
				affected = is_new_tombstone(vs, &tids[j]);
			if (affected)
				repair_layer(vs, g, e, lc, tids, n);
		}
	}
	MemoryContextSwitchTo(oldctx);
	MemoryContextReset(vs->ctx);
}

/* Layer 0 of the whole graph in memory, for pass 3 */
typedef struct MvHnswLayer0
{
	HTAB	   *map;			/* TID -> element number */
	int			n;
	int			capacity;
	ItemPointerData *tids;
	ItemPointerData *neighbortids;
	uint8	   *levels;
	uint8	   *versions;
	bool	   *live;
	int		   *indegree;
	int		   *links;			/* lm per element, -1 for none */
	bool	   *reached;
	bool	   *relinked;		/* linked by this pass */
} MvHnswLayer0;

typedef struct MvHnswLayer0Entry
{
	ItemPointerData tid;		/* hash key */
	int			num;
} MvHnswLayer0Entry;

static int
layer0_find(MvHnswLayer0 *l0, ItemPointer tid)
{
	MvHnswLayer0Entry *entry = hash_search(l0->map, tid, HASH_FIND, NULL);

	return entry ? entry->num : -1;
}

/* Mark everything reachable from start through layer 0 */
static void
layer0_reach(MvHnswLayer0 *l0, int lm, int start, int *queue)
{
	int			head = 0,
				tail = 0;

	if (start < 0 || l0->reached[start])
		return;
	l0->reached[start] = true;
	queue[tail++] = start;
	while (head < tail)
	{
		int			e = queue[head++];

		for (int i = 0; i < lm; i++)
		{
			int			t = l0->links[e * lm + i];

			if (t >= 0 && !l0->reached[t])
			{
				l0->reached[t] = true;
				queue[tail++] = t;
			}
		}
	}
}

/*
 * Write x into the layer-0 list of element nb: into a free slot, else in
 * place of victim (if still there; *replaced says so).  Returns the slot, or
 * -1.
 */
static int
write_link(MvHnswVacuumState *vs, ItemPointer nbNeighbortid, ItemPointer victim, ItemPointer x,
		   bool *replaced)
{
	int			lm = MvHnswLayerM(vs->m, 0);
	Buffer		buf = ReadBuffer(vs->index, ItemPointerGetBlockNumber(nbNeighbortid));
	Page		page;
	MvHnswNeighborTuple ntup;
	MvHnswPageEdit edit;
	int			slot = -1;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, vs->index, vs->building);
	page = MvHnswEditRegister(&edit, buf, false);
	ntup = (MvHnswNeighborTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(nbNeighbortid)));
	/* a concurrent insert may have linked x since the walk: then nothing to do */
	for (int j = 0; j < lm; j++)
		if (ItemPointerEquals(&ntup->indextids[j], x))
		{
			if (!vs->building)
				GenericXLogAbort(edit.state);
			UnlockReleaseBuffer(buf);
			*replaced = false;
			return j;
		}
	for (int j = 0; j < lm && slot < 0; j++)
		if (!ItemPointerIsValid(&ntup->indextids[j]))
			slot = j;
	for (int j = 0; j < lm && slot < 0 && victim != NULL; j++)
		if (ItemPointerEquals(&ntup->indextids[j], victim))
			slot = j;
	if (slot >= 0)
	{
		*replaced = ItemPointerIsValid(&ntup->indextids[slot]);
		ntup->indextids[slot] = *x;
		MvHnswEditFinish(&edit);
	}
	else if (!vs->building)
		GenericXLogAbort(edit.state);
	UnlockReleaseBuffer(buf);
	return slot;
}

/*
 * Link element x from the nearest reached live element among its own
 * neighbours that does not link to it yet (or, if it has none, found by a
 * search from searchEntry, or else the nearest of the whole layer): into a
 * free slot, else in place of that element's farthest link whose target has
 * more than keep others.  Returns whether it did.
 */
static bool
link_from_near(MvHnswVacuumState *vs, MvHnswLayer0 *l0, int x, ItemPointer searchEntry, int keep)
{
	int			lm = MvHnswLayerM(vs->m, 0);
	MvHnswGraph *g = MvHnswGraphCreate(vs->index, true, vs->ctx, true, vs->m, 0);
	MvHnswElement *xe = MvHnswGetElement(g, &l0->tids[x]);
	MvHnswCandidate *near = palloc(sizeof(MvHnswCandidate) * lm);
	int		   *nearnum = palloc(sizeof(int) * lm);
	int			nnear = 0;

	for (int i = 0; i < lm; i++)
	{
		int			t = l0->links[x * lm + i];

		if (t < 0 || !l0->reached[t] || !l0->live[t])
			continue;
		near[nnear].element = MvHnswGetElement(g, &l0->tids[t]);
		near[nnear].distance = MvHnswDistance(&g->dist, MvHnswElementValue(xe),
											  MvHnswElementValue(near[nnear].element));
		nnear++;
	}
	if (nnear == 0 && searchEntry != NULL)
	{
		/* none of its own neighbours is reached: search for reached ones */
		MvHnswGraph *sg = MvHnswGraphCreate(vs->index, true, vs->ctx, true, vs->m,
											MvHnswGetEfConstruction(vs->index));
		MvHnswCandidate *layers[MV_HNSW_MAX_LEVEL + 1];
		int			counts[MV_HNSW_MAX_LEVEL + 1];
		MvHnswCandidate nearest;

		sg->query = MvHnswElementValue(xe);
		MvHnswFindNeighbors(sg, MvHnswGetElement(sg, searchEntry), 0, layers, counts, &nearest);
		for (int i = 0; i < counts[0] && nnear < lm; i++)
		{
			int			t = layer0_find(l0, &layers[0][i].element->tid);

			if (t < 0 || t == x || !l0->reached[t] || !l0->live[t])
				continue;
			near[nnear].element = MvHnswGetElement(g, &l0->tids[t]);
			near[nnear].distance = layers[0][i].distance;
			nnear++;
		}
	}
	if (nnear == 0 && searchEntry != NULL)
	{
		/*
		 * Last resort: the nearest reached live elements of the whole layer.
		 * A group that links only among itself (pruning can cut one off)
		 * lies far from everything reached, and a search from the entry point
		 * finds only its own members; one link joins the whole group, so this
		 * runs once per group, not per element.
		 */
		for (int t = 0; t < l0->n; t++)
		{
			MvHnswCandidate c;
			int			at;

			if (t == x || !l0->reached[t] || !l0->live[t])
				continue;
			if (t % 256 == 0)
				delay_point(vs);
			c.element = MvHnswGetElement(g, &l0->tids[t]);
			c.distance = MvHnswDistance(&g->dist, MvHnswElementValue(xe),
										MvHnswElementValue(c.element));
			c.closer = false;
			if (nnear == lm && c.distance >= near[lm - 1].distance)
				continue;
			at = (nnear < lm) ? nnear++ : lm - 1;
			while (at > 0 && near[at - 1].distance > c.distance)
			{
				near[at] = near[at - 1];
				at--;
			}
			near[at] = c;
		}
	}
	qsort(near, nnear, sizeof(MvHnswCandidate), MvHnswCandidateCmp);
	for (int i = 0; i < nnear; i++)
		nearnum[i] = layer0_find(l0, &near[i].element->tid);

	/* a free slot first, then in place of a link whose target has another */
	for (int pass = 0; pass < 2; pass++)
	{
		for (int i = 0; i < nnear; i++)
		{
			int			nb = nearnum[i];
			int		   *links = &l0->links[nb * lm];
			int			victim = -1;
			bool		room = false;
			float		farthest = -INFINITY;
			int			slot;
			bool		replaced;
			bool		linked = false;

			for (int j = 0; j < lm; j++)
			{
				room |= links[j] < 0;
				linked |= links[j] == x;
			}
			if (linked || room != (pass == 0))
				continue;
			for (int j = 0; j < lm && !room; j++)
			{
				float		d;

				/* not one of its last keep + 1 links, nor one this pass added */
				if (l0->indegree[links[j]] <= keep || l0->relinked[links[j]])
					continue;
				d = MvHnswDistance(&g->dist, MvHnswElementValue(near[i].element),
								   MvHnswElementValue(MvHnswGetElement(g, &l0->tids[links[j]])));
				if (d > farthest)
				{
					farthest = d;
					victim = links[j];
				}
			}
			if (!room && victim < 0)
				continue;
			slot = write_link(vs, &l0->neighbortids[nb], victim >= 0 ? &l0->tids[victim] : NULL,
							  &l0->tids[x], &replaced);
			if (slot < 0)
				continue;
			/* the copy in memory holds the same links, not in the same slots */
			for (int j = 0; j < lm; j++)
			{
				if (replaced ? links[j] == victim : links[j] < 0)
				{
					if (replaced)
						l0->indegree[victim]--;
					links[j] = x;
					break;
				}
			}
			l0->indegree[x]++;
			l0->relinked[x] = true;
			return true;
		}
	}
	return false;
}

/*
 * Pass 3: read layer 0 of the whole graph; in a repair, give elements few
 * live lists lead to more; walk it from the entry point, and link every live
 * element the walk does not reach (pruning by inserts, and repairs, can leave
 * a few so; no search would find them).  Gives up, saying so, when layer 0
 * does not fit in maintenance_work_mem.
 */
static void
link_unreached_elements(MvHnswVacuumState *vs, BlockNumber nblocks)
{
	MemoryContext l0ctx;
	MemoryContext oldctx;
	int			lm = MvHnswLayerM(vs->m, 0);
	MvHnswLayer0 l0;
	HASHCTL		ctl;
	MvHnswMetaPageData meta;
	ItemPointerData entry;
	ItemPointerData *tids;
	int		   *queue;
	int			linked = 0;
	int			unlinked = 0;
	int			thickened = 0;

	/*
	 * Decide before reading anything (a seal calls this each time): per
	 * element its TIDs, level, version and flags, its hash entry, its lm
	 * links, in-degree and queue slot, about 2m * 4 + 50 bytes.
	 */
	MvHnswReadMeta(vs->index, &meta);
	if ((double) meta.elements *
		(2 * sizeof(ItemPointerData) + 3 * sizeof(uint8) + 2 * sizeof(bool) +
		 sizeof(MvHnswLayer0Entry) + 16 + (lm + 2) * sizeof(int)) >
		(double) maintenance_work_mem * 1024)
	{
		ereport(vs->skipLevel,
				(errmsg("milvus_hnsw index \"%s\": skipped linking unreachable elements, which needs more than maintenance_work_mem",
						RelationGetRelationName(vs->index))));
		return;
	}

	l0ctx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw layer 0",
								  ALLOCSET_DEFAULT_SIZES);
	oldctx = MemoryContextSwitchTo(l0ctx);
	tids = palloc(sizeof(ItemPointerData) * lm);
	memset(&l0, 0, sizeof(l0));
	ctl.keysize = sizeof(ItemPointerData);
	ctl.entrysize = sizeof(MvHnswLayer0Entry);
	ctl.hcxt = l0ctx;
	l0.map = hash_create("milvus_hnsw layer 0", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	l0.capacity = 1024;
	l0.tids = palloc(sizeof(ItemPointerData) * l0.capacity);
	l0.neighbortids = palloc(sizeof(ItemPointerData) * l0.capacity);
	l0.levels = palloc(sizeof(uint8) * l0.capacity);
	l0.versions = palloc(sizeof(uint8) * l0.capacity);
	l0.live = palloc(sizeof(bool) * l0.capacity);

	/* every element, tombstones too: they are walkable */
	for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		delay_point(vs);
		if (MemoryContextMemAllocated(l0ctx, true) > (Size) maintenance_work_mem * 1024)
		{
			ereport(vs->skipLevel,
					(errmsg("milvus_hnsw index \"%s\": skipped linking unreachable elements, which needs more than maintenance_work_mem",
							RelationGetRelationName(vs->index))));
			goto done;
		}
		buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, vs->bas);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page);
			 off = OffsetNumberNext(off))
		{
			MvHnswElementTuple etup = (MvHnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
			MvHnswLayer0Entry *me;

			if (etup->type != MV_HNSW_ELEMENT_TUPLE)
				continue;
			if (l0.n == l0.capacity)
			{
				l0.capacity *= 2;
				l0.tids = repalloc_huge(l0.tids, sizeof(ItemPointerData) * l0.capacity);
				l0.neighbortids = repalloc_huge(l0.neighbortids, sizeof(ItemPointerData) * l0.capacity);
				l0.levels = repalloc_huge(l0.levels, sizeof(uint8) * l0.capacity);
				l0.versions = repalloc_huge(l0.versions, sizeof(uint8) * l0.capacity);
				l0.live = repalloc_huge(l0.live, sizeof(bool) * l0.capacity);
			}
			ItemPointerSet(&l0.tids[l0.n], blkno, off);
			l0.neighbortids[l0.n] = etup->neighbortid;
			l0.levels[l0.n] = etup->level;
			l0.versions[l0.n] = etup->version;
			l0.live[l0.n] = !etup->deleted;
			me = hash_search(l0.map, &l0.tids[l0.n], HASH_ENTER, NULL);
			me->num = l0.n;
			l0.n++;
		}
		UnlockReleaseBuffer(buf);
	}
	if (l0.n == 0)
		goto done;

	l0.links = MemoryContextAllocHuge(l0ctx, sizeof(int) * (Size) l0.n * lm);
	l0.indegree = MemoryContextAllocHuge(l0ctx, sizeof(int) * (Size) l0.n);
	l0.reached = MemoryContextAllocHuge(l0ctx, sizeof(bool) * (Size) l0.n);
	l0.relinked = MemoryContextAllocZero(l0ctx, sizeof(bool) * (Size) l0.n);
	queue = MemoryContextAllocHuge(l0ctx, sizeof(int) * (Size) l0.n);
	memset(l0.indegree, 0, sizeof(int) * (Size) l0.n);
	memset(l0.reached, 0, sizeof(bool) * (Size) l0.n);
	for (int e = 0; e < l0.n; e++)
	{
		MvHnswGraph *g = MvHnswGraphCreate(vs->index, true, vs->ctx, false, vs->m, 0);
		MvHnswElement tmp;
		int			n;

		if (e % 256 == 0)
			delay_point(vs);
		memset(&tmp, 0, sizeof(tmp));
		tmp.tid = l0.tids[e];
		tmp.neighbortid = l0.neighbortids[e];
		tmp.level = l0.levels[e];
		tmp.version = l0.versions[e];
		n = MvHnswLoadNeighborTids(g, &tmp, 0, tids);
		for (int i = 0; i < lm; i++)
		{
			int			t = (i < n) ? layer0_find(&l0, &tids[i]) : -1;

			l0.links[e * lm + i] = t;
			/* a tombstone's list goes with it: count live lists only */
			if (t >= 0 && l0.live[e])
				l0.indegree[t]++;
		}
		MemoryContextReset(vs->ctx);
	}

	MvHnswReadMeta(vs->index, &meta);
	if (!BlockNumberIsValid(meta.entryBlkno))
		goto done;
	ItemPointerSet(&entry, meta.entryBlkno, meta.entryOffno);

	/*
	 * A repair (a vacuum's or a compaction's, where deletes have just taken
	 * lists away) also looks for elements that few live lists lead to: a
	 * search near one reaches it only through those few, and misses it when
	 * it expands none of them.  Deletes and link-backs (a victim given up)
	 * leave some so.  Each reached one gets links from its own nearest
	 * neighbours, up to m, each in place of a link whose target keeps m
	 * others; the rounds below then link anything that cost a way to.
	 */
	if (vs->repair)
	{
		layer0_reach(&l0, lm, layer0_find(&l0, &entry), queue);
		for (int x = 0; x < l0.n; x++)
		{
			if (!l0.live[x] || !l0.reached[x] || l0.indegree[x] >= vs->m)
				continue;
			delay_point(vs);
			while (l0.indegree[x] < vs->m && link_from_near(vs, &l0, x, NULL, vs->m))
				thickened++;
			MemoryContextReset(vs->ctx);
		}
	}

	/*
	 * A new link can take the place of one that something else needed, and
	 * can reach what a later candidate would have: walk again from the entry
	 * point after each round, until a walk reaches every live element.
	 */
	for (int round = 0; round < MV_HNSW_LINK_ROUNDS; round++)
	{
		memset(l0.reached, 0, sizeof(bool) * (Size) l0.n);
		layer0_reach(&l0, lm, layer0_find(&l0, &entry), queue);
		unlinked = 0;
		for (int x = 0; x < l0.n; x++)
			if (!l0.reached[x] && l0.live[x])
				unlinked++;
		if (unlinked == 0)
			break;
		for (int x = 0; x < l0.n; x++)
		{
			if (l0.reached[x] || !l0.live[x])
				continue;
			delay_point(vs);
			if (link_from_near(vs, &l0, x, round > 0 ? &entry : NULL, 1))
			{
				linked++;
				layer0_reach(&l0, lm, x, queue);
			}
			MemoryContextReset(vs->ctx);
		}
	}

	if (linked > 0 || unlinked > 0 || thickened > 0)
		ereport(DEBUG1,
				(errmsg("milvus_hnsw index \"%s\": linked %d unreachable elements, %d were left at the last walk; %d links to elements few lists led to",
						RelationGetRelationName(vs->index), linked, unlinked, thickened)));

done:
	MemoryContextSwitchTo(oldctx);
	MemoryContextDelete(l0ctx);
}

static int
tid_cmp(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

/*
 * Pass 4: mark the tombstones free, now that no live list links to them
 * (pass 2 repaired every one that did, and inserts never link a deleted
 * element), and point the metapage's hint at the lowest page with free slots.
 */
static void
mark_free(MvHnswVacuumState *vs)
{
	long		n = hash_get_num_entries(vs->deleted);
	ItemPointerData *tids = palloc(sizeof(ItemPointerData) * Max(n, 1));
	HASH_SEQ_STATUS seq;
	ItemPointer tid;
	long		i = 0;
	BlockNumber low = vs->freeLow;
	Buffer		metabuf;
	MvHnswMetaPage meta;
	BlockNumber hint;

	hash_seq_init(&seq, vs->deleted);
	while ((tid = hash_seq_search(&seq)) != NULL)
		tids[i++] = *tid;
	qsort(tids, n, sizeof(ItemPointerData), tid_cmp);

	for (i = 0; i < n;)
	{
		BlockNumber blkno = ItemPointerGetBlockNumber(&tids[i]);
		Buffer		buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, vs->bas);
		MvHnswPageEdit edit;
		Page		page;

		delay_point(vs);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		MvHnswEditStart(&edit, vs->index, false);
		page = MvHnswEditRegister(&edit, buf, false);
		for (; i < n && ItemPointerGetBlockNumber(&tids[i]) == blkno; i++)
		{
			MvHnswElementTuple etup = (MvHnswElementTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&tids[i])));

			if (etup->type != MV_HNSW_ELEMENT_TUPLE || etup->deleted != MV_HNSW_TOMBSTONE)
				continue;
			etup->deleted = MV_HNSW_FREE;
			if (!(etup->flags & MV_HNSW_ELEMENT_CHUNKED) && (low == 0 || blkno < low))
				low = blkno;
		}
		MvHnswEditFinish(&edit);
		UnlockReleaseBuffer(buf);
	}

	/* inserts may have moved the hint meanwhile: only ever lower it */
	metabuf = ReadBuffer(vs->index, MV_HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	hint = MvHnswPageGetMeta(BufferGetPage(metabuf))->freeBlkno;
	if (low != 0 && (hint == 0 || low < hint))
	{
		MvHnswPageEdit edit;

		MvHnswEditStart(&edit, vs->index, false);
		meta = MvHnswPageGetMeta(MvHnswEditRegister(&edit, metabuf, false));
		meta->freeBlkno = low;
		MvHnswEditFinish(&edit);
	}
	UnlockReleaseBuffer(metabuf);
	pfree(tids);
}

/*
 * Link the elements a walk of layer 0 does not reach: for a build that went
 * on disk (the in-memory graph does this itself before it is written), and
 * at the end of a seal's linking, whose link-backs can cut off a group of
 * elements that link only among themselves (keeps_reachable looks a few
 * links deep, not at the whole graph).  When layer 0 outgrows
 * maintenance_work_mem it is skipped with a message at skipLevel.
 */
void
MvHnswLinkUnreached(Relation index, bool building, int skipLevel)
{
	MvHnswVacuumState vs;
	MvHnswMetaPageData meta;

	MvHnswReadMeta(index, &meta);
	memset(&vs, 0, sizeof(vs));
	vs.index = index;
	vs.m = meta.m;
	vs.building = building;
	vs.skipLevel = skipLevel;
	vs.ctx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw link",
								   ALLOCSET_DEFAULT_SIZES);
	link_unreached_elements(&vs, RelationGetNumberOfBlocks(index));
	MemoryContextDelete(vs.ctx);
}

/* Clear the metapage's count of tombstones waiting, after a repair */
static void
clear_pending(Relation index)
{
	Buffer		metabuf = ReadBuffer(index, MV_HNSW_METAPAGE_BLKNO);
	MvHnswPageEdit edit;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, index, false);
	MvHnswPageGetMeta(MvHnswEditRegister(&edit, metabuf, false))->pendingTombstones = 0;
	MvHnswEditFinish(&edit);
	UnlockReleaseBuffer(metabuf);
}

/*
 * Drop the dead heap TIDs of the graph (pass 1) and, with repair, repair and
 * free the tombstones (passes 2 to 4), those left by earlier vacuums
 * included.  Returns the tombstones it repaired.  The caller holds
 * MV_HNSW_SEAL_LOCK.
 */
int64
MvHnswVacuumGraph(Relation index, IndexBulkDeleteCallback callback, void *callback_state,
				  IndexBulkDeleteResult *stats, bool repair)
{
	MvHnswVacuumState vs;
	MvHnswMetaPageData meta;
	HASHCTL		ctl;
	BlockNumber nblocks;
	int64		repaired = 0;

	MvHnswReadMeta(index, &meta);
	memset(&vs, 0, sizeof(vs));
	vs.index = index;
	vs.stats = stats;
	vs.callback = callback;
	vs.callback_state = callback_state;
	vs.bas = GetAccessStrategy(BAS_BULKREAD);
	vs.m = meta.m;
	vs.repair = repair;
	vs.skipLevel = LOG;
	vs.bestLevel = -1;
	ItemPointerSetInvalid(&vs.best);
	vs.ctx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw vacuum",
								   ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(ItemPointerData);
	ctl.entrysize = sizeof(ItemPointerData);
	ctl.hcxt = CurrentMemoryContext;
	vs.deleted = hash_create("milvus_hnsw tombstones", 1024, &ctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	/* pages added after this point hold only rows inserted during the vacuum */
	nblocks = RelationGetNumberOfBlocks(index);
	for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		vacuum_delay_point();
		remove_heap_tids(&vs, blkno);
	}

	MvPause(MV_PAUSE_HNSW_VACUUM_REPAIR);
	repair_entry_point(&vs);
	if (!repair)
		goto done;

	/*
	 * Every insert that could link to a new tombstone has finished (the entry
	 * point repair waited for them), some on pages added since: repair those
	 * too.
	 */
	nblocks = RelationGetNumberOfBlocks(index);
	repaired = hash_get_num_entries(vs.deleted);
	if (repaired > 0)
	{
		for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
		{
			vacuum_delay_point();
			repair_page(&vs, blkno);
		}
	}
	link_unreached_elements(&vs, RelationGetNumberOfBlocks(index));
	MvPause(MV_PAUSE_HNSW_VACUUM_FREE);
	mark_free(&vs);
	clear_pending(index);

done:
	hash_destroy(vs.deleted);
	MemoryContextDelete(vs.ctx);
	FreeAccessStrategy(vs.bas);
	stats->num_pages = nblocks;
	return repaired;
}

/* Whether a data coordinator will seal and compact this index */
static bool
coordinator_running(void)
{
	return MvHnswCoordinatorRunning != NULL && MvHnswCoordinatorRunning();
}

/*
 * ambulkdelete: seal the growing segment, dropping its dead rows, then drop
 * the graph's; with a data coordinator, the tombstones wait for its
 * compaction.
 */
IndexBulkDeleteResult *
mvhnsw_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				  IndexBulkDeleteCallback callback, void *callback_state)
{
	bool		coordinator = coordinator_running();
	int64		onDisk;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	stats->num_index_tuples = 0;

	LockPage(info->index, MV_HNSW_SEAL_LOCK, ExclusiveLock);
	MvHnswSealLocked(info->index, callback, callback_state, stats, 0, NULL, NULL, &onDisk);
	/* a repair ends with the layer-0 pass the seal would need */
	MvHnswVacuumGraph(info->index, callback, callback_state, stats, !coordinator);
	if (onDisk > 0 && coordinator)
		MvHnswLinkUnreached(info->index, false, DEBUG1);
	UnlockPage(info->index, MV_HNSW_SEAL_LOCK, ExclusiveLock);
	return stats;
}

/* amvacuumcleanup: seal what is growing, also when no row was dead */
IndexBulkDeleteResult *
mvhnsw_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (!RecoveryInProgress())
	{
		int64		onDisk;

		LockPage(info->index, MV_HNSW_SEAL_LOCK, ExclusiveLock);
		MvHnswSealLocked(info->index, NULL, NULL, NULL, 0, NULL, NULL, &onDisk);
		if (onDisk > 0)
			MvHnswLinkUnreached(info->index, false, DEBUG1);
		/* what this VACUUM's seals emptied and the graph did not take */
		MvHnswTruncateFree(info->index);
		UnlockPage(info->index, MV_HNSW_SEAL_LOCK, ExclusiveLock);
	}
	if (stats == NULL)
	{
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		stats->num_index_tuples = info->num_heap_tuples;
		stats->estimated_count = info->estimated_count;
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}
