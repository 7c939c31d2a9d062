/*
 * hnswsealmem.c
 *		Seal a milvus_hnsw growing segment in memory: load the graph into a
 *		build's arena, link the rows there, and write what changed.
 *
 * A seal that links its rows one at a time on disk (hnswseal.c) reads every
 * element its searches meet from shared buffers, and prunes lists it has to
 * measure afresh: a perf profile put half its time in reading, copying and
 * pinning, and it ran at three times the serial build's time per row.  When
 * the graph fits in maintenance_work_mem and the rows fill more than
 * MV_HNSW_SEAL_RELEASE_PAGES growing pages, a seal instead works as the
 * build does:
 *
 *   load    every element that is not a free slot (tombstones included:
 *           walked through, never chosen) goes into an arena as the build's
 *           (hnswgraph.c), with its vector and its lists, links as offsets;
 *           a list gets distances only when a link-back first prunes it;
 *   link    each frozen row is added as the build adds one (MvHnswGraphAdd),
 *           then what pruning cut off is linked (MvHnswGraphLinkUnreached);
 *   write   each new element is placed with no links, as an insert places
 *           one (a free slot, the insert page, a page of the growing free
 *           list, a new page); then the new elements' lists are written, then
 *           the entry point, then the lists that changed (those that only
 *           gain links first), a page at a time, the slots that changed
 *           logged as byte ranges, a few lists a record; then the rows are
 *           flagged sealed, a growing page at a time.
 *
 * Rows it could not add (the arena filled) stay unflagged: hnswseal.c then
 * links them one at a time, and releases the pages.
 *
 * Searches meanwhile: a new element becomes reachable only once its own
 * lists are written, and its row leaves the growing segment only after every
 * list that links to it is; a scan that meets a row in both parts returns it
 * once.  The lists that only gain links are written before those that drop
 * one, but a page at a time: between two pages, a row whose last link a
 * dropping list takes away can be out of reach until the page with its new
 * link is written (the seal one row at a time checks a few links deep
 * before it unlinks one, hnswinsert.c).  The seal writes lists as it
 * computed them, so nothing else may change them: it holds
 * MV_HNSW_UPDATE_LOCK exclusively from the load to the end (inserts into the
 * graph, which sessions with milvus.hnsw_growing_segment off make, wait;
 * vacuums and compactions wait for MV_HNSW_SEAL_LOCK already).
 *
 * A crash (or an error) before the rows are flagged leaves elements for
 * rows still growing.  The next seal's load finds them by heap TID: an
 * element whose heap TIDs are all such rows is made a tombstone (for a
 * compaction to free) and its rows are linked afresh; a row that joined an
 * older element is flagged sealed as it is.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "hnsw.h"
#include "milvus/guc.h"

/* A frozen row not flagged yet, in chain order */
typedef struct SealRow
{
	ItemPointerData heaptid;
	OffsetNumber off;
	BlockNumber blkno;
	bool		present;		/* an element holds it already (a seal that stopped) */
	uint8		flag;			/* to set: MV_HNSW_GROWING_SEALED, _DEAD, or 0 */
} SealRow;

/* A frozen page */
typedef struct SealPage
{
	BlockNumber blkno;
	int			ntuples;		/* flagged or not */
	int			firstRow;		/* its first row in SealMem.rows */
	int64		tuplesBefore;	/* on the frozen pages before it: progress counts tuples */
} SealPage;

typedef struct FrozenEntry
{
	ItemPointerData heaptid;	/* hash key */
	int			row;
} FrozenEntry;

typedef struct SealMem
{
	Relation	index;
	MvHnswSealer *sg;
	MvHnswMetaPageData meta;
	MvHnswGraph *g;
	Page		copy;
	/* the frozen rows */
	SealRow    *rows;
	int			nrows;
	int			maxrows;
	SealPage   *pages;			/* the frozen pages, in chain order */
	int			npages;
	int			maxpages;
	Size		vsize;			/* the largest vector of a frozen row */
	HTAB	   *frozen;			/* heap TID -> row */
	/* where each loaded element sits: TID -> offset in the arena */
	BlockNumber nblocks;
	uint32	   *pageFirst;		/* per block: the index of its offset 1 in offs */
	uint16	   *pageCount;		/* per block: offsets mapped */
	MvHnswOffset *offs;
	uint32		noffs;
	uint32		maxoffs;
	/* elements made tombstones because their rows are still frozen */
	ItemPointerData *orphans;
	int			norphans;
	int			maxorphans;
} SealMem;

/* Collect the heap TIDs of the rows on frozen page blkno not flagged yet */
static void
collect_rows(SealMem *sm, BlockNumber blkno, BlockNumber *next)
{
	Buffer		buf = ReadBuffer(sm->index, blkno);
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	MvHnswCheckGrowingPage(sm->index, page, blkno);
	if (sm->npages == sm->maxpages)
	{
		sm->maxpages *= 2;
		sm->pages = repalloc_huge(sm->pages, sizeof(SealPage) * sm->maxpages);
	}
	sm->pages[sm->npages].blkno = blkno;
	sm->pages[sm->npages].ntuples = PageGetMaxOffsetNumber(page);
	sm->pages[sm->npages].firstRow = sm->nrows;
	sm->pages[sm->npages].tuplesBefore = sm->npages == 0 ? 0 :
		sm->pages[sm->npages - 1].tuplesBefore + sm->pages[sm->npages - 1].ntuples;
	sm->npages++;
	for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page);
		 off = OffsetNumberNext(off))
	{
		MvHnswGrowingTuple gtup = (MvHnswGrowingTuple) PageGetItem(page, PageGetItemId(page, off));
		SealRow    *row;
		FrozenEntry *fe;
		bool		found;

		if (gtup->flags != 0)
			continue;
		sm->vsize = Max(sm->vsize, VARSIZE(gtup->data));
		if (sm->nrows == sm->maxrows)
		{
			sm->maxrows *= 2;
			sm->rows = repalloc_huge(sm->rows, sizeof(SealRow) * sm->maxrows);
		}
		row = &sm->rows[sm->nrows];
		row->heaptid = gtup->heaptid;
		row->blkno = blkno;
		row->off = off;
		row->present = false;
		row->flag = 0;
		fe = hash_search(sm->frozen, &gtup->heaptid, HASH_ENTER, &found);
		if (!found)
			fe->row = sm->nrows;
		sm->nrows++;
	}
	*next = MvHnswPageGetOpaque(page)->nextblkno;
	UnlockReleaseBuffer(buf);
}

/* The unflagged rows on the frozen pages before page p (p = npages: all) */
static int
rows_before(SealMem *sm, int p)
{
	return p < sm->npages ? sm->pages[p].firstRow : sm->nrows;
}

/*
 * The tuples, flagged or not, on the frozen pages before page p: a seal's
 * progress counts them, as the seal one row at a time does, so that it ends
 * at the total of the segment's tuples
 */
static int64
tuples_before(SealMem *sm, int p)
{
	if (p < sm->npages)
		return sm->pages[p].tuplesBefore;
	return sm->pages[p - 1].tuplesBefore + sm->pages[p - 1].ntuples;
}

/* The arena offset of the element at tid, 0 if none was loaded there */
static MvHnswOffset
element_at(SealMem *sm, ItemPointer tid)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);

	if (blkno >= sm->nblocks || off < FirstOffsetNumber || off > sm->pageCount[blkno])
		return 0;
	return sm->offs[sm->pageFirst[blkno] + off - 1];
}

/*
 * An element whose heap TIDs all belong to frozen rows was written by a seal
 * that stopped before it flagged them: it becomes a tombstone here (and on
 * its page before anything is written) and its rows are linked afresh.  Rows
 * that joined an older element are there already.
 */
static void
check_frozen(SealMem *sm, MvHnswElement *e)
{
	int			nfrozen = 0;
	int			rows[MV_HNSW_HEAPTIDS];

	for (int i = 0; i < e->nheaptids; i++)
	{
		FrozenEntry *fe = hash_search(sm->frozen, &e->heaptids[i], HASH_FIND, NULL);

		if (fe != NULL)
			rows[nfrozen++] = fe->row;
	}
	if (nfrozen == 0)
		return;
	if (nfrozen < e->nheaptids)
	{
		for (int i = 0; i < nfrozen; i++)
			sm->rows[rows[i]].present = true;
		return;
	}
	e->deleted = MV_HNSW_TOMBSTONE;
	e->nheaptids = 0;
	if (sm->norphans == sm->maxorphans)
	{
		sm->maxorphans = Max(16, sm->maxorphans * 2);
		sm->orphans = sm->orphans == NULL ?
			palloc(sizeof(ItemPointerData) * sm->maxorphans) :
			repalloc(sm->orphans, sizeof(ItemPointerData) * sm->maxorphans);
	}
	sm->orphans[sm->norphans++] = e->tid;
}

/*
 * Load the element tuples of graph page blkno into the arena; false when the
 * arena is full.
 */
static bool
load_page(SealMem *sm, BlockNumber blkno)
{
	MvHnswGraph *g = sm->g;
	Page		copy = sm->copy;
	Buffer		buf = ReadBuffer(sm->index, blkno);
	OffsetNumber maxoff;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(copy, BufferGetPage(buf), BLCKSZ);
	UnlockReleaseBuffer(buf);
	if (PageIsNew(copy) || MvHnswPageGetOpaque(copy)->flags != MV_HNSW_PAGE_GRAPH)
		return true;

	maxoff = PageGetMaxOffsetNumber(copy);
	if (sm->noffs + maxoff > sm->maxoffs)
	{
		sm->maxoffs = Max(sm->maxoffs * 2, sm->noffs + maxoff);
		sm->offs = repalloc_huge(sm->offs, sizeof(MvHnswOffset) * sm->maxoffs);
	}
	sm->pageFirst[blkno] = sm->noffs;
	sm->pageCount[blkno] = maxoff;
	memset(sm->offs + sm->noffs, 0, sizeof(MvHnswOffset) * maxoff);
	sm->noffs += maxoff;

	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		ItemId		iid = PageGetItemId(copy, off);
		MvHnswElementTuple etup;
		ItemPointerData tid;
		Pointer		inline_value;
		MvHnswChunkRef ref;
		Size		vlen;
		Size		size;
		MvHnswElement *e;
		Pointer		value;

		if (!ItemIdIsNormal(iid))
			continue;
		etup = (MvHnswElementTuple) PageGetItem(copy, iid);
		if (etup->type != MV_HNSW_ELEMENT_TUPLE || etup->deleted == MV_HNSW_FREE)
			continue;
		ItemPointerSet(&tid, blkno, off);
		if (etup->level > MV_HNSW_MAX_LEVEL)
			MvHnswReportBadPointer(sm->index, &tid, "element");
		inline_value = etup->data;
		if (etup->flags & MV_HNSW_ELEMENT_CHUNKED)
		{
			memcpy(&ref, etup->data, sizeof(ref));
			inline_value += sizeof(ref);
			if (ref.len < VARHDRSZ || ref.len >= VARSIZE(inline_value) ||
				offsetof(MvHnswElementTupleData, data) + sizeof(ref) + ref.len >
				ItemIdGetLength(iid))
				MvHnswReportBadPointer(sm->index, &tid, "element");
		}
		vlen = VARSIZE(inline_value);
		if (!(etup->flags & MV_HNSW_ELEMENT_CHUNKED) &&
			offsetof(MvHnswElementTupleData, data) + vlen > ItemIdGetLength(iid))
			MvHnswReportBadPointer(sm->index, &tid, "element");
		size = MV_HNSW_CHUNK_SIZE(g->m, etup->level, vlen);
		e = MvHnswArenaAlloc(g, size);
		if (e == NULL)
			return false;
		memset(e, 0, MAXALIGN(sizeof(MvHnswElement)));
		e->tid = tid;
		e->neighbortid = etup->neighbortid;
		e->level = etup->level;
		e->deleted = etup->deleted;
		e->version = etup->version;
		for (int i = 0; i < MV_HNSW_HEAPTIDS && ItemPointerIsValid(&etup->heaptids[i]); i++)
			e->heaptids[e->nheaptids++] = etup->heaptids[i];
		for (int lc = 0; lc <= e->level; lc++)
			MvHnswElementList(e, g->m, lc)->length = 0;
		value = (Pointer) e + size - MAXALIGN(vlen);
		if (etup->flags & MV_HNSW_ELEMENT_CHUNKED)
		{
			memcpy(value, inline_value, ref.len);
			MvHnswReadChunks(sm->index, ref.next, value, ref.len);
		}
		else
			memcpy(value, inline_value, vlen);
		MvHnswSetElementValue(e, value);
		pg_atomic_fetch_add_u32(&g->arena->nelements, 1);
		sm->offs[sm->pageFirst[blkno] + off - 1] = MvHnswOff(g, e);
		if (e->nheaptids > 0)
			check_frozen(sm, e);
	}
	return true;
}

/* Read an element's lists from its neighbour tuple, links to loaded elements only */
static void
load_lists(SealMem *sm, MvHnswElement *e, Buffer *buf)
{
	MvHnswGraph *g = sm->g;
	BlockNumber blkno = ItemPointerGetBlockNumber(&e->neighbortid);
	OffsetNumber off = ItemPointerGetOffsetNumber(&e->neighbortid);
	MvHnswOffset self = MvHnswOff(g, e);
	Page		page;
	ItemId		iid;
	MvHnswNeighborTuple ntup = NULL;

	if (!BufferIsValid(*buf) || BufferGetBlockNumber(*buf) != blkno)
	{
		if (BufferIsValid(*buf))
			ReleaseBuffer(*buf);
		if (blkno >= sm->nblocks)
			MvHnswReportBadPointer(sm->index, &e->neighbortid, "neighbour");
		*buf = ReadBuffer(sm->index, blkno);
	}
	LockBuffer(*buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(*buf);
	if (off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page))
	{
		iid = PageGetItemId(page, off);
		if (ItemIdIsNormal(iid))
			ntup = (MvHnswNeighborTuple) PageGetItem(page, iid);
	}
	if (ntup == NULL || ntup->type != MV_HNSW_NEIGHBOR_TUPLE || ntup->version != e->version ||
		ntup->count != (e->level + 2) * g->m)
	{
		LockBuffer(*buf, BUFFER_LOCK_UNLOCK);
		MvHnswReportBadPointer(sm->index, &e->neighbortid, "neighbour");
	}
	for (int lc = 0; lc <= e->level; lc++)
	{
		MvHnswNeighborArray *list = MvHnswElementList(e, g->m, lc);
		int			start = MvHnswLayerStart(g->m, lc);

		list->length = 0;
		list->closerSet = false;
		list->unmeasured = true;
		for (int i = 0; i < MvHnswLayerM(g->m, lc); i++)
		{
			MvHnswOffset t;

			if (!ItemPointerIsValid(&ntup->indextids[start + i]))
				continue;
			t = element_at(sm, &ntup->indextids[start + i]);
			if (t != 0 && t != self)
				list->items[list->length++].element = t;
		}
	}
	LockBuffer(*buf, BUFFER_LOCK_UNLOCK);
}

/*
 * The entry point is an element this seal made a tombstone (check_frozen: a
 * seal that stopped before flagging its rows had made it the entry point).
 * Its lists may lead nowhere: it may have none yet, or the graph may have no
 * live element at all, and no row added could find a neighbour from it.
 * Make the highest live element the entry point, as a compaction's repair
 * does (hnswvacuum.c), or none, so that the first row added becomes it;
 * write_graph writes it.  A tombstone a VACUUM made keeps its lists, which
 * searches walk through, and stays the entry point until the compaction.
 */
static void
replace_entry(SealMem *sm)
{
	MvHnswGraph *g = sm->g;
	MvHnswOffset off;
	MvHnswOffset best = 0;
	int			bestLevel = -1;
	MvHnswElement *e;

	for (off = MV_HNSW_ARENA_START; (e = MvHnswArenaNext(g, &off)) != NULL;)
		if (!e->deleted && e->level > bestLevel)
		{
			best = MvHnswOff(g, e);
			bestLevel = e->level;
		}
	g->arena->entry = best;
}

/* Load the whole graph; false when it does not fit */
static bool
load_graph(SealMem *sm)
{
	MvHnswGraph *g = sm->g;
	MvHnswOffset off;
	MvHnswElement *e;
	Buffer		buf = InvalidBuffer;

	sm->pageFirst = palloc_extended(sizeof(uint32) * (Size) sm->nblocks,
									MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	sm->pageCount = palloc_extended(sizeof(uint16) * (Size) sm->nblocks,
									MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	sm->maxoffs = 1024;
	sm->offs = palloc(sizeof(MvHnswOffset) * (sm->maxoffs));
	for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < sm->nblocks; blkno++)
	{
		CHECK_FOR_INTERRUPTS();
		if (!load_page(sm, blkno))
			return false;
	}
	for (off = MV_HNSW_ARENA_START; (e = MvHnswArenaNext(g, &off)) != NULL;)
	{
		CHECK_FOR_INTERRUPTS();
		load_lists(sm, e, &buf);
	}
	if (BufferIsValid(buf))
		ReleaseBuffer(buf);

	if (BlockNumberIsValid(sm->meta.entryBlkno))
	{
		ItemPointerData entry;

		ItemPointerSet(&entry, sm->meta.entryBlkno, sm->meta.entryOffno);
		g->arena->entry = element_at(sm, &entry);
		if (g->arena->entry == 0)
			MvHnswReportBadPointer(sm->index, &entry, "entry point");
		if (MvHnswTidIn(sm->orphans, sm->norphans, &entry))
			replace_entry(sm);
	}
	return true;
}

/*
 * Add the rows of frozen page p to the graph, in order; rows a non-NULL
 * callback (or else the sealer) names dead are flagged so instead.  *full is
 * set once the arena has no room.  Returns the rows added.
 */
static int64
add_page(SealMem *sm, int p, bool *full, IndexBulkDeleteCallback callback,
		 void *callback_state, IndexBulkDeleteResult *stats, MemoryContext rowctx)
{
	Page		copy = sm->copy;
	Buffer		buf = ReadBuffer(sm->index, sm->pages[p].blkno);
	int			end = rows_before(sm, p + 1);
	int64		added = 0;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(copy, BufferGetPage(buf), BLCKSZ);
	UnlockReleaseBuffer(buf);

	for (int row = sm->pages[p].firstRow; row < end; row++)
	{
		SealRow    *r = &sm->rows[row];
		MvHnswGrowingTuple gtup = (MvHnswGrowingTuple) PageGetItem(copy, PageGetItemId(copy, r->off));
		MemoryContext oldctx;

		CHECK_FOR_INTERRUPTS();
		if (r->present)
			r->flag = MV_HNSW_GROWING_SEALED;
		else if (callback != NULL ? callback(&r->heaptid, callback_state) :
				 MvHnswSealerRowGone(sm->sg, &r->heaptid))
		{
			r->flag = MV_HNSW_GROWING_DEAD;
			if (stats)
				stats->tuples_removed++;
		}
		else if (!*full)
		{
			oldctx = MemoryContextSwitchTo(rowctx);
			if (MvHnswGraphAdd(sm->g, gtup->data, &r->heaptid))
			{
				r->flag = MV_HNSW_GROWING_SEALED;
				added++;
			}
			else
				*full = true;
			MemoryContextSwitchTo(oldctx);
			MemoryContextReset(rowctx);
		}
	}
	return added;
}

/* Order elements by the page of their neighbour tuple */
static int
neighbortid_cmp(const void *a, const void *b)
{
	return ItemPointerCompare(&(*(MvHnswElement *const *) a)->neighbortid,
							  &(*(MvHnswElement *const *) b)->neighbortid);
}

/* Order elements by the page of their element tuple */
static int
tid_cmp(const void *a, const void *b)
{
	return ItemPointerCompare(&(*(MvHnswElement *const *) a)->tid,
							  &(*(MvHnswElement *const *) b)->tid);
}

/* The neighbour tuple of element e on a locked page, checked, or an ERROR */
static MvHnswNeighborTuple
neighbors_on(SealMem *sm, Page page, MvHnswElement *e)
{
	OffsetNumber off = ItemPointerGetOffsetNumber(&e->neighbortid);
	MvHnswNeighborTuple ntup = NULL;

	if (off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page) &&
		ItemIdIsNormal(PageGetItemId(page, off)))
		ntup = (MvHnswNeighborTuple) PageGetItem(page, PageGetItemId(page, off));
	if (ntup == NULL || ntup->type != MV_HNSW_NEIGHBOR_TUPLE || ntup->version != e->version ||
		ntup->count != (e->level + 2) * sm->g->m)
		MvHnswReportBadPointer(sm->index, &e->neighbortid, "neighbour");
	return ntup;
}

/*
 * Write the lists of n elements, sorted by their neighbour tuples' pages:
 * each page once, the slots that differ from the page's as byte ranges, up
 * to MV_HNSW_LOG_RANGES a record (not GenericXLog, whose page copies and
 * byte-by-byte comparison were most of the writing's time).  Without
 * drops, only the lists that keep every link the page has are written: the
 * caller writes those first, so that the links a dropped one is replaced
 * by (a link-back's prune keeps its target reachable another way, in the
 * graph the seal computed) are mostly there before it goes.  Returns how
 * many lists it left for that second call, moved to the front of elems.
 */
static int
write_lists(SealMem *sm, MvHnswElement **elems, int n, bool drops)
{
	MvHnswGraph *g = sm->g;
	ItemPointerData slots[(MV_HNSW_MAX_LEVEL + 2) * MV_HNSW_MAX_M];
	int			left = 0;

	qsort(elems, n, sizeof(MvHnswElement *), neighbortid_cmp);
	for (int i = 0; i < n;)
	{
		BlockNumber blkno = ItemPointerGetBlockNumber(&elems[i]->neighbortid);
		Buffer		buf = ReadBuffer(sm->index, blkno);
		Page		page;
		int			end = i;
		MvHnswRange ranges[MV_HNSW_LOG_RANGES];
		int			nranges = 0;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		while (end < n && ItemPointerGetBlockNumber(&elems[end]->neighbortid) == blkno)
			neighbors_on(sm, page, elems[end++]);

		START_CRIT_SECTION();
		for (; i < end; i++)
		{
			MvHnswElement *e = elems[i];
			MvHnswNeighborTuple ntup = neighbors_on(sm, page, e);
			int			first = -1;
			int			last = -1;

			for (int lc = 0; lc <= e->level; lc++)
			{
				MvHnswNeighborArray *list = MvHnswElementList(e, g->m, lc);
				ItemPointerData *layer = slots + MvHnswLayerStart(g->m, lc);

				for (int j = 0; j < MvHnswLayerM(g->m, lc); j++)
				{
					if (j < list->length)
						layer[j] = MvHnswPtr(g, list->items[j].element)->tid;
					else
						ItemPointerSetInvalid(&layer[j]);
				}
			}
			for (int j = 0; j < ntup->count; j++)
				if (!MvHnswTidEq(&slots[j], &ntup->indextids[j]))
				{
					if (first < 0)
						first = j;
					last = j;
				}
			if (first < 0)
				continue;
			if (!drops)
			{
				bool		dropping = false;

				for (int j = 0; j < ntup->count && !dropping; j++)
					dropping = ItemPointerIsValid(&ntup->indextids[j]) &&
						!MvHnswTidIn(slots, ntup->count, &ntup->indextids[j]);
				if (dropping)
				{
					elems[left++] = e;	/* left <= i: not read again here */
					continue;
				}
			}
			/* a record holds what it logs and nothing else changed (for replay checks) */
			if (nranges == MV_HNSW_LOG_RANGES)
			{
				MvHnswLogRanges(sm->index, buf, ranges, nranges);
				nranges = 0;
			}
			memcpy(&ntup->indextids[first], &slots[first],
				   sizeof(ItemPointerData) * (last - first + 1));
			ranges[nranges].offset = (char *) &ntup->indextids[first] - (char *) page;
			ranges[nranges].length = sizeof(ItemPointerData) * (last - first + 1);
			nranges++;
		}
		if (nranges > 0)
			MvHnswLogRanges(sm->index, buf, ranges, nranges);
		END_CRIT_SECTION();
		UnlockReleaseBuffer(buf);
	}
	return left;
}

/*
 * Write the heap TIDs and deleted flags of loaded elements, a page at a time:
 * of those rows joined, and of those made tombstones (check_frozen)
 */
static void
write_heaptids(SealMem *sm, MvHnswElement **elems, int n)
{
	qsort(elems, n, sizeof(MvHnswElement *), tid_cmp);
	for (int i = 0; i < n;)
	{
		BlockNumber blkno = ItemPointerGetBlockNumber(&elems[i]->tid);
		Buffer		buf = ReadBuffer(sm->index, blkno);
		MvHnswPageEdit edit;
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		MvHnswEditStart(&edit, sm->index, false);
		page = MvHnswEditRegister(&edit, buf, false);
		for (; i < n && ItemPointerGetBlockNumber(&elems[i]->tid) == blkno; i++)
		{
			MvHnswElement *e = elems[i];
			OffsetNumber off = ItemPointerGetOffsetNumber(&e->tid);
			MvHnswElementTuple etup = NULL;

			if (off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page))
				etup = (MvHnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
			if (etup == NULL || etup->type != MV_HNSW_ELEMENT_TUPLE || etup->version != e->version)
				MvHnswReportBadPointer(sm->index, &e->tid, "element");
			etup->deleted = e->deleted;
			for (int j = 0; j < MV_HNSW_HEAPTIDS; j++)
			{
				if (j < e->nheaptids)
					etup->heaptids[j] = e->heaptids[j];
				else
					ItemPointerSetInvalid(&etup->heaptids[j]);
			}
		}
		MvHnswEditFinish(&edit);
		UnlockReleaseBuffer(buf);
	}
}

/* Make the elements of rows a stopped seal left tombstones, and count them */
static void
write_orphans(SealMem *sm)
{
	MvHnswElement **elems = palloc(sizeof(MvHnswElement *) * (sm->norphans));
	Buffer		metabuf;
	MvHnswPageEdit edit;
	MvHnswMetaPage meta;

	for (int i = 0; i < sm->norphans; i++)
		elems[i] = MvHnswPtr(sm->g, element_at(sm, &sm->orphans[i]));
	write_heaptids(sm, elems, sm->norphans);
	pfree(elems);

	metabuf = ReadBuffer(sm->index, MV_HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, sm->index, false);
	meta = MvHnswPageGetMeta(MvHnswEditRegister(&edit, metabuf, false));
	meta->deleted += sm->norphans;
	meta->pendingTombstones = (uint32) Min((uint64) meta->pendingTombstones + sm->norphans,
										   PG_UINT32_MAX);
	MvHnswEditFinish(&edit);
	UnlockReleaseBuffer(metabuf);
	ereport(LOG,
			(errmsg("milvus_hnsw index \"%s\": %d elements of rows a seal left unflagged are tombstones now",
					RelationGetRelationName(sm->index), sm->norphans)));
}

/* Point the metapage, and the seal's copy of it, at the arena's entry point */
static void
write_entry(SealMem *sm)
{
	MvHnswElement *entry = MvHnswPtr(sm->g, sm->g->arena->entry);
	Buffer		metabuf = ReadBuffer(sm->index, MV_HNSW_METAPAGE_BLKNO);
	MvHnswPageEdit edit;
	MvHnswMetaPage meta;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, sm->index, false);
	meta = MvHnswPageGetMeta(MvHnswEditRegister(&edit, metabuf, false));
	meta->entryBlkno = ItemPointerGetBlockNumber(&entry->tid);
	meta->entryOffno = ItemPointerGetOffsetNumber(&entry->tid);
	meta->entryLevel = entry->level;
	MvHnswEditFinish(&edit);
	UnlockReleaseBuffer(metabuf);
	sm->meta.entryBlkno = ItemPointerGetBlockNumber(&entry->tid);
	sm->meta.entryOffno = ItemPointerGetOffsetNumber(&entry->tid);
	sm->meta.entryLevel = entry->level;
}

/* Flag rows [from, to) the seal added or found dead, a growing page at a time */
static void
write_flags(SealMem *sm, int from, int to)
{
	OffsetNumber *offs = palloc(sizeof(OffsetNumber) * (MaxOffsetNumber));
	uint8	   *flags = palloc(sizeof(uint8) * (MaxOffsetNumber));

	for (int i = from; i < to;)
	{
		BlockNumber blkno = sm->rows[i].blkno;
		int			n = 0;

		CHECK_FOR_INTERRUPTS();
		for (; i < to && sm->rows[i].blkno == blkno; i++)
		{
			if (sm->rows[i].flag == 0)
				continue;
			offs[n] = sm->rows[i].off;
			flags[n++] = sm->rows[i].flag;
		}
		if (n > 0)
			MvHnswGrowingSetFlags(sm->index, blkno, offs, flags, n);
	}
	pfree(offs);
	pfree(flags);
}

/*
 * Place new element e with no links (with setEntry, as the entry point if
 * the index has none); *written counts the elements placed
 */
static void
place_element(SealMem *sm, MvHnswElement *e, bool setEntry, int64 *written)
{
	CHECK_FOR_INTERRUPTS();
	e->tid = MvHnswAppendUnlinked(sm->index, sm->g->m, MvHnswElementValue(e), e->level,
								  e->heaptids, e->nheaptids, setEntry, &e->neighbortid,
								  &e->version);
	e->changed = 0;
	/* tests hold a seal with one row's element written and the rest not */
	if (++(*written) == 1)
		MvPause(MV_PAUSE_HNSW_SEAL_LINK);
}

/*
 * Write everything the rows of frozen pages [p, end) changed, in the order
 * that keeps them findable; *written counts the elements placed
 */
static void
write_graph(SealMem *sm, int p, int end, MvHnswSealReport report, void *arg, int64 total,
			int64 *written)
{
	MvHnswGraph *g = sm->g;
	int			from = rows_before(sm, p);
	int			to = rows_before(sm, end);
	int64		doneFrom = tuples_before(sm, p);
	int64		doneTo = tuples_before(sm, end);
	uint32		nelements = pg_atomic_read_u32(&g->arena->nelements);
	MvHnswElement **placed = MemoryContextAllocHuge(CurrentMemoryContext,
													sizeof(MvHnswElement *) * nelements);
	MvHnswElement **changed = MemoryContextAllocHuge(CurrentMemoryContext,
													 sizeof(MvHnswElement *) * nelements);
	MvHnswElement **joined = MemoryContextAllocHuge(CurrentMemoryContext,
													sizeof(MvHnswElement *) * nelements);
	int			nplaced = 0;
	int			nchanged = 0;
	int			njoined = 0;
	MvHnswOffset off;
	MvHnswElement *e;
	ItemPointerData oldEntry;

	if (sm->norphans > 0)
		write_orphans(sm);
	sm->norphans = 0;

	/*
	 * A graph with no entry point on disk gets it with its first element, in
	 * the same record: a crash before write_entry would leave live elements
	 * and no entry point, which milvus_hnsw_verify rejects
	 */
	if (!BlockNumberIsValid(sm->meta.entryBlkno) && g->arena->entry != 0 &&
		!ItemPointerIsValid(&MvHnswPtr(g, g->arena->entry)->tid))
	{
		e = MvHnswPtr(g, g->arena->entry);
		place_element(sm, e, true, written);
		placed[nplaced++] = e;
		sm->meta.entryBlkno = ItemPointerGetBlockNumber(&e->tid);
		sm->meta.entryOffno = ItemPointerGetOffsetNumber(&e->tid);
		sm->meta.entryLevel = e->level;
	}

	for (off = MV_HNSW_ARENA_START; (e = MvHnswArenaNext(g, &off)) != NULL;)
	{
		if (ItemPointerIsValid(&e->tid))
		{
			if (e->changed & MV_HNSW_CHANGED_LISTS)
				changed[nchanged++] = e;
			if (e->changed & MV_HNSW_CHANGED_HEAPTIDS)
				joined[njoined++] = e;
			e->changed = 0;
			continue;
		}
		place_element(sm, e, false, written);
		placed[nplaced++] = e;
		/* rows done: those of the waves before, and about one a new element */
		MvHnswSealProgress(report, arg, MV_HNSW_SEAL_WRITE, Min(doneFrom + nplaced, doneTo),
						   total);
	}

	write_lists(sm, placed, nplaced, true);
	ItemPointerSet(&oldEntry, sm->meta.entryBlkno, sm->meta.entryOffno);
	if (g->arena->entry != 0 &&
		(!BlockNumberIsValid(sm->meta.entryBlkno) ||
		 !ItemPointerEquals(&MvHnswPtr(g, g->arena->entry)->tid, &oldEntry)))
		write_entry(sm);
	write_heaptids(sm, joined, njoined);
	nchanged = write_lists(sm, changed, nchanged, false);
	write_lists(sm, changed, nchanged, true);
	write_flags(sm, from, to);
	pfree(placed);
	pfree(changed);
	pfree(joined);
}

/*
 * Leave the seal to the caller (on disk), nothing written: say why, if worth
 * saying
 */
static int64
decline(SealMem *sm, MemoryContext ctx, MemoryContext oldctx, const char *why)
{
	UnlockPage(sm->index, MV_HNSW_UPDATE_LOCK, ExclusiveLock);
	MemoryContextSwitchTo(oldctx);
	MemoryContextDelete(ctx);
	if (why != NULL)
		ereport(DEBUG1,
				(errmsg("milvus_hnsw index \"%s\": %s, the seal links rows on disk",
						RelationGetRelationName(sm->index), why)));
	return -1;
}

/*
 * Seal the frozen pages from *head up to stop in memory, if there are more
 * than MV_HNSW_SEAL_RELEASE_PAGES of them and the graph fits in budget bytes:
 * returns the rows linked, having flagged them and the dead ones, or -1 when
 * it did not (nothing written).  A smaller seal gains less than loading the
 * graph costs, and in one wave its elements could not take the pages their
 * rows came from: those that found no free slot would extend the index past
 * the growing pages, which then could not be cut off.  The rows go in waves
 * of an eighth of the pages (at least MV_HNSW_SEAL_RELEASE_PAGES), each
 * written whole and its pages handed to the free list (when no scan reads the
 * chain), so that the next waves' elements take the room their rows came
 * from; *head moves past them.
 * *complete says whether every row is flagged: rows left unflagged (the
 * arena filled) are the caller's to link.  *last and *ntuples are set to the
 * last frozen page and the tuples from *head to it, for the last release;
 * *unreached to the live elements the last wave's walk could not link (for
 * the caller's walk on disk, MvHnswLinkUnreached, which searches for them).
 */
int64
MvHnswSealInMemory(MvHnswSealer *sg, Relation index, BlockNumber *head, BlockNumber stop,
				   Size budget, IndexBulkDeleteCallback callback, void *callback_state,
				   IndexBulkDeleteResult *stats, MvHnswSealReport report, void *arg,
				   int64 total, bool *complete, BlockNumber *last, int64 *ntuples,
				   int64 *unreached)
{
	MemoryContext ctx;
	MemoryContext oldctx;
	MemoryContext rowctx;
	SealMem		sm;
	HASHCTL		hctl;
	Size		arenaSize;
	bool		full = false;
	int64		added = 0;
	int64		written = 0;
	int			wave;
	int			released = 0;	/* pages handed to the free list */

	*unreached = 0;

	if (!MvHnswSealInMemoryEnabled)
		return -1;
	ctx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw seal in memory",
								ALLOCSET_DEFAULT_SIZES);
	rowctx = AllocSetContextCreate(ctx, "milvus_hnsw seal row", ALLOCSET_DEFAULT_SIZES);
	oldctx = MemoryContextSwitchTo(ctx);

	memset(&sm, 0, sizeof(sm));
	sm.index = index;
	sm.sg = sg;
	sm.copy = palloc(BLCKSZ);
	sm.maxrows = 1024;
	sm.rows = palloc(sizeof(SealRow) * sm.maxrows);
	sm.maxpages = 256;
	sm.pages = palloc(sizeof(SealPage) * sm.maxpages);
	hctl.keysize = sizeof(ItemPointerData);
	hctl.entrysize = sizeof(FrozenEntry);
	hctl.hcxt = ctx;
	sm.frozen = hash_create("milvus_hnsw frozen rows", 1024, &hctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	/* no graph insert may change a list between the load and the writes */
	LockPage(index, MV_HNSW_UPDATE_LOCK, ExclusiveLock);
	MvHnswReadMeta(index, &sm.meta);
	sm.nblocks = RelationGetNumberOfBlocks(index);
	for (BlockNumber blkno = *head; blkno != stop;)
	{
		CHECK_FOR_INTERRUPTS();
		/* a chain longer than the index loops */
		if ((BlockNumber) sm.npages >= sm.nblocks)
			MvHnswReportBrokenChain(index, blkno);
		collect_rows(&sm, blkno, &blkno);
	}
	/* one wave could not give its own pages to its elements: see above */
	if (sm.npages <= MV_HNSW_SEAL_RELEASE_PAGES)
		return decline(&sm, ctx, oldctx, NULL);
	if (MemoryContextMemAllocated(ctx, true) > budget / 2)
		return decline(&sm, ctx, oldctx,
					   "the growing rows take half of maintenance_work_mem");

	/*
	 * The arena takes what the rest leaves of the budget: the rows, the TID
	 * map (per block an index and a count, per element its two tuples'
	 * offsets), and per element a visit stamp (at least one; twice as many
	 * at most, as the stamps double), a place in the reachability walk's
	 * queue and in a wave's three lists of elements to write.  A graph whose
	 * live elements alone would not fit is not read.
	 */
	arenaSize = budget - Min(budget / 2, MemoryContextMemAllocated(ctx, true) +
							 (Size) sm.nblocks * (sizeof(uint32) + sizeof(uint16)) +
							 (Size) sm.meta.elements *
							 (2 * sizeof(MvHnswOffset) + 2 * sizeof(uint32) +
							  4 * sizeof(MvHnswElement *)));
	if ((double) (sm.meta.elements - Min(sm.meta.deleted, sm.meta.elements)) *
		MV_HNSW_CHUNK_SIZE(sm.meta.m, 0, sm.vsize) > (double) arenaSize)
		return decline(&sm, ctx, oldctx, "the graph does not fit in maintenance_work_mem");
	sm.g = MvHnswGraphCreate(index, false, ctx, false, sm.meta.m, sm.meta.efConstruction);
	MvHnswGraphAttach(sm.g, MvHnswArenaCreateLocal(ctx, arenaSize), false);

	if (!load_graph(&sm))
		return decline(&sm, ctx, oldctx, "the graph does not fit in maintenance_work_mem");

	wave = Max(MV_HNSW_SEAL_RELEASE_PAGES, (sm.npages + 7) / 8);
	ereport(DEBUG1,
			(errmsg("milvus_hnsw: sealing %d rows in memory, in waves of %d pages",
					sm.nrows, wave)));
	for (int p = 0; p < sm.npages && !full; p += wave)
	{
		int			end = Min(p + wave, sm.npages);

		for (int q = p; q < end; q++)
		{
			added += add_page(&sm, q, &full, callback, callback_state, stats, rowctx);
			MvHnswSealProgress(report, arg, MV_HNSW_SEAL_LINK, tuples_before(&sm, q + 1), total);
		}
		*unreached = MvHnswGraphLinkUnreached(sm.g);
		write_graph(&sm, p, end, report, arg, total, &written);
		MvHnswSealProgress(report, arg, MV_HNSW_SEAL_WRITE, tuples_before(&sm, end), total);

		/* the pages of this wave, and of waves not released before, go */
		if (!full && end < sm.npages)
		{
			int64		n = 0;

			for (int q = released; q < end; q++)
				n += sm.pages[q].ntuples;
			if (MvHnswSealRelease(index, *head, sm.pages[end - 1].blkno, sm.pages[end].blkno,
								  n, false))
			{
				*head = sm.pages[end].blkno;
				released = end;
			}
		}
	}
	if (full)
		ereport(DEBUG1,
				(errmsg("milvus_hnsw index \"%s\": maintenance_work_mem held %lld of %d rows, the seal links the rest on disk",
						RelationGetRelationName(index), (long long) added, sm.nrows)));
	*complete = !full;
	*last = sm.npages > 0 ? sm.pages[sm.npages - 1].blkno : InvalidBlockNumber;
	*ntuples = 0;
	for (int q = released; q < sm.npages; q++)
		*ntuples += sm.pages[q].ntuples;

	UnlockPage(index, MV_HNSW_UPDATE_LOCK, ExclusiveLock);
	MemoryContextSwitchTo(oldctx);
	MemoryContextDelete(ctx);
	return added;
}
