/*
 * hnswvacuum.c
 *		Vacuum a milvus_hnsw index: drop dead heap TIDs, turn emptied elements
 *		into tombstones, and repair the links around them.
 *
 * Pass 1 reads every graph page once, asks the callback about each heap TID
 * and rewrites the elements that lost some; an element left with none becomes
 * a tombstone (deleted flag; its vector and links stay, so searches already
 * under way, and inserts that picked it as a neighbour a moment ago, still
 * walk through it).  Pass 2 replaces a tombstoned entry point by the highest
 * live element, then visits every live element that links to a new tombstone
 * and rebuilds only the affected layer lists: the candidates are its other
 * neighbours plus the neighbours of the tombstones it linked to (through
 * tombstones, a few hops), chosen by the same heuristic as inserts.  No graph
 * search per element, which is what makes pgvector's vacuum slow.  Links an
 * insert added meanwhile are kept.  Every page change is one GenericXLog
 * record.  Tombstones' space is not reused yet.
 */
#include "postgres.h"

#include "access/genam.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"

#include "hnsw.h"

/* rounds of a repair: old neighbours, then through tombstones */
#define MV_HNSW_REPAIR_ROUNDS		4

typedef struct MvHnswVacuumState
{
	Relation	index;
	IndexBulkDeleteResult *stats;
	IndexBulkDeleteCallback callback;
	void	   *callback_state;
	BufferAccessStrategy bas;
	HTAB	   *deleted;		/* TIDs tombstoned by this vacuum */
	int64		ndeleted;
	ItemPointerData best;		/* highest live element seen */
	int			bestLevel;
	int			m;
	MemoryContext ctx;
} MvHnswVacuumState;

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

		if (etup->type != MV_HNSW_ELEMENT_TUPLE || etup->deleted)
			continue;
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

				etup->deleted = 1;
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
	MvHnswEditFinish(&edit);
	UnlockReleaseBuffer(metabuf);
	UnlockPage(vs->index, MV_HNSW_UPDATE_LOCK, ExclusiveLock);
}

static bool
tid_in(ItemPointerData *tids, int n, ItemPointer tid)
{
	for (int i = 0; i < n; i++)
		if (ItemPointerEquals(&tids[i], tid))
			return true;
	return false;
}

/*
 * Neighbours for e at layer lc by a search from the entry point, for when
 * every candidate near it is gone; returns how many were written to result.
 */
static int
search_replacements(MvHnswVacuumState *vs, MvHnswElement *e, int lc, ItemPointerData *result)
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
	g->query = e->value;
	ItemPointerSet(&entrytid, meta.entryBlkno, meta.entryOffno);
	MvHnswFindNeighbors(g, MvHnswGetElement(g, &entrytid), lc, layers, counts, &nearest);
	for (int i = 0; i < counts[lc]; i++)
	{
		ItemPointer t = &layers[lc][i].element->tid;

		if (!ItemPointerEquals(t, &e->tid) && !is_new_tombstone(vs, t))
			result[n++] = *t;
	}
	return n;
}

/*
 * Rebuild layer lc of element e, which links to new tombstones.  Round 0
 * looks at its old neighbours, round 1 at the neighbours of the tombstones
 * among them, and further rounds go through tombstones only while fewer than
 * lm live candidates were found.  The nearest 2 * lm go to the heuristic.
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
					cands[ncands].distance = MvHnswDistance(&g->dist, e->value, x->value);
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

	qsort(cands, ncands, sizeof(MvHnswCandidate), MvHnswCandidateCmp);
	nkept = MvHnswSelectNeighbors(g, cands, Min(ncands, 2 * lm), lm, kept);
	for (int i = 0; i < nkept; i++)
		result[nresult++] = kept[i].element->tid;
	if (nresult == 0)
		nresult = search_replacements(vs, e, lc, result);

	/* write, keeping links that inserts added since we read the list */
	buf = ReadBuffer(vs->index, ItemPointerGetBlockNumber(&e->neighbortid));
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, vs->index, false);
	page = MvHnswEditRegister(&edit, buf, false);
	ntup = (MvHnswNeighborTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&e->neighbortid)));
	for (int i = 0; i < lm; i++)
	{
		ItemPointer t = &ntup->indextids[start + i];

		if (ItemPointerIsValid(t) && !tid_in(old, nold, t) && !tid_in(result, nresult, t) &&
			!is_new_tombstone(vs, t) && nresult < lm)
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

/* ambulkdelete */
IndexBulkDeleteResult *
mvhnsw_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				  IndexBulkDeleteCallback callback, void *callback_state)
{
	MvHnswVacuumState vs;
	MvHnswMetaPageData meta;
	HASHCTL		ctl;
	BlockNumber nblocks;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	MvHnswReadMeta(info->index, &meta);
	memset(&vs, 0, sizeof(vs));
	vs.index = info->index;
	vs.stats = stats;
	vs.callback = callback;
	vs.callback_state = callback_state;
	vs.bas = GetAccessStrategy(BAS_BULKREAD);
	vs.m = meta.m;
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
	nblocks = RelationGetNumberOfBlocks(info->index);
	stats->num_index_tuples = 0;
	for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		vacuum_delay_point();
		remove_heap_tids(&vs, blkno);
	}

	repair_entry_point(&vs);

	if (vs.ndeleted > 0)
	{
		for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
		{
			vacuum_delay_point();
			repair_page(&vs, blkno);
		}
	}

	hash_destroy(vs.deleted);
	MemoryContextDelete(vs.ctx);
	FreeAccessStrategy(vs.bas);
	stats->num_pages = nblocks;
	return stats;
}

/* amvacuumcleanup */
IndexBulkDeleteResult *
mvhnsw_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		stats->num_index_tuples = info->num_heap_tuples;
		stats->estimated_count = info->estimated_count;
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}
