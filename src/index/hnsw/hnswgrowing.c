/*
 * hnswgrowing.c
 *		The growing segment of a milvus_hnsw index: the page chain inserts
 *		append to, and the exact scan of it that searches merge with the graph.
 *
 * An append writes one growing tuple to the tail page under that page's lock
 * alone, as one small generic WAL record (MvHnswLogRanges: the page header
 * and line pointers, and the tuple); only when the tail is full does it
 * lock the metapage and add a page (from the free list of emptied pages, else
 * a new one), in one record with the old tail and the metapage.  Readers take
 * MV_HNSW_GROWING_LOCK shared for the whole walk of the chain; hnswseal.c
 * takes it exclusively to hand pages to the free list, so a reader never
 * follows a link out of a page that is being reused.  Rows flagged sealed
 * are in the graph now and rows flagged dead are gone; both are skipped.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "storage/lmgr.h"

#include "hnsw.h"
#include "milvus/guc.h"

/* a new tail logs the metapage's head (if it changes), tail and count as one range */
StaticAssertDecl(offsetof(MvHnswMetaPageData, growingTail) ==
				 offsetof(MvHnswMetaPageData, growingHead) + sizeof(BlockNumber) &&
				 offsetof(MvHnswMetaPageData, growingTuples) ==
				 offsetof(MvHnswMetaPageData, growingTail) + sizeof(BlockNumber) &&
				 offsetof(MvHnswMetaPageData, reused) ==
				 offsetof(MvHnswMetaPageData, growingTuples) + sizeof(uint64),
				 "the growing segment's metapage fields must be adjacent");
StaticAssertDecl(offsetof(MvHnswGrowingTupleData, data) % 8 == 0,
				 "growing tuple vectors must start 8-byte aligned");

/* Whether a page is the live tail of the chain with room for size bytes */
static bool
tail_takes(Page page, Size size)
{
	MvHnswPageOpaque opaque;

	if (PageIsNew(page))
		return false;
	opaque = MvHnswPageGetOpaque(page);
	return (opaque->flags & MV_HNSW_PAGE_GROWING) &&
		!BlockNumberIsValid(opaque->nextblkno) &&
		PageGetFreeSpace(page) >= size;
}

/*
 * Append the tuple to the tail page, locked exclusively, and log what
 * PageAddItem changed: pd_lower and pd_upper (and the header's flags, which
 * an append-only page never has reason to change: logged if they did), the
 * new line pointer, and the tuple (logging the header with every line
 * pointer cost up to 80 bytes more per row on a page of 128-dimension rows;
 * the two bytes of the flags, 8 bytes a record once aligned).
 */
static void
append_logged(Relation index, Buffer buf, MvHnswGrowingTuple gtup, Size size)
{
	Page		page = BufferGetPage(buf);
	uint16		flags = ((PageHeader) page)->pd_flags;
	OffsetNumber off;
	MvHnswRange ranges[3];

	START_CRIT_SECTION();
	off = PageAddItem(page, (Item) gtup, size, InvalidOffsetNumber, false, false);
	if (off == InvalidOffsetNumber)
		elog(PANIC, "milvus_hnsw: failed to add growing tuple to \"%s\"",
			 RelationGetRelationName(index));
	ranges[0].offset = flags == ((PageHeader) page)->pd_flags ?
		offsetof(PageHeaderData, pd_lower) : offsetof(PageHeaderData, pd_flags);
	ranges[0].length = offsetof(PageHeaderData, pd_special) - ranges[0].offset;
	ranges[1].offset = (char *) PageGetItemId(page, off) - (char *) page;
	ranges[1].length = sizeof(ItemIdData);
	ranges[2].offset = ItemIdGetOffset(PageGetItemId(page, off));
	ranges[2].length = size;
	MvHnswLogRanges(index, buf, ranges, 3);
	END_CRIT_SECTION();
}

/*
 * Whether the free list from first on holds more than keep pages (reading
 * the links of its first keep pages)
 */
static bool
list_longer_than(Relation index, BlockNumber first, int keep)
{
	BlockNumber blkno = first;

	for (int i = 0; i <= keep; i++)
	{
		Buffer		buf;

		if (blkno == MV_HNSW_METAPAGE_BLKNO || !BlockNumberIsValid(blkno))
			return false;
		if (i == keep)
			break;
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		blkno = MvHnswPageGetOpaque(BufferGetPage(buf))->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	return true;
}

/*
 * A page to become the chain's new tail or a new graph page, locked
 * exclusively and not changed yet: the first of the free list (*nextfree:
 * what the metapage's free list becomes), else a new one (*nextfree: the
 * list as it is).  A growing page (graph false) leaves the list its last
 * MV_HNSW_FREE_RESERVE pages: they are for the graph pages a seal needs
 * before it has emptied a page of its own, so that it need not extend the
 * index past the pages a truncation could give back (hnswtruncate.c).  The
 * caller holds the metapage exclusively.
 */
Buffer
MvHnswGrowingTakePage(Relation index, MvHnswMetaPage meta, bool graph, BlockNumber *nextfree)
{
	BlockNumber freeblk = meta->growingFree;
	Buffer		buf;

	*nextfree = freeblk;
	if (list_longer_than(index, freeblk, graph ? 0 : MV_HNSW_FREE_RESERVE))
	{
		buf = ReadBuffer(index, freeblk);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		/* the list ends in block 0 (hnswseal.c), or Invalid in older indexes */
		*nextfree = MvHnswPageGetOpaque(BufferGetPage(buf))->nextblkno;
		if (!BlockNumberIsValid(*nextfree))
			*nextfree = MV_HNSW_METAPAGE_BLKNO;
	}
	else
		buf = MvHnswNewBuffer(index, false);
	return buf;
}

/* The same, for a seal's freeze: registered in its edit (metapage included) */
BlockNumber
MvHnswGrowingNewPage(MvHnswPageEdit *edit, MvHnswMetaPage meta, Buffer *buf, Page *page)
{
	BlockNumber nextfree;

	*buf = MvHnswGrowingTakePage(edit->index, meta, false, &nextfree);
	meta->growingFree = nextfree;
	*page = MvHnswEditRegister(edit, *buf, true);
	MvHnswInitPage(*page, MV_HNSW_PAGE_GROWING);
	return BufferGetBlockNumber(*buf);
}

/*
 * Add to a metapage's log entry the range of its fields at offset..offset+length
 * (fields of MvHnswMetaPageData): a new tail changes a handful of them, and
 * logging those alone keeps a row's WAL near the table's own.
 */
static void
meta_range(MvHnswPageLog *log, MvHnswMetaPage meta, Size offset, Size length)
{
	MvHnswRange *range = &log->ranges[log->nranges++];

	Assert(log->nranges <= MV_HNSW_LOG_RANGES);
	range->offset = ((char *) meta + offset) - (char *) BufferGetPage(log->buffer);
	range->length = length;
}

/*
 * Append a row to the growing segment; false (nothing written) when its
 * vector is too large for a growing page, for the caller to insert it into
 * the graph instead.
 */
bool
MvHnswGrowingAppend(Relation index, Pointer value, ItemPointer heaptid)
{
	Size		size = MV_HNSW_GROWING_TUPLE_SIZE(VARSIZE(value));
	MvHnswGrowingTuple gtup;
	Buffer		metabuf;
	MvHnswMetaPageData metacopy;
	MvHnswAppendHint *hint;
	MvHnswMetaPage meta;
	BlockNumber tail;
	Buffer		buf = InvalidBuffer;
	Page		page;
	Buffer		newbuf;
	Page		newpage;
	BlockNumber newblk;
	BlockNumber nextfree;
	MvHnswPageLog pages[3];
	int			npages;
	Size		from;			/* the first metapage byte a new tail logs */

	if (size > MV_HNSW_MAX_TUPLE_SIZE)
		return false;
	gtup = palloc0(size);
	gtup->type = MV_HNSW_GROWING_TUPLE;
	gtup->heaptid = *heaptid;
	memcpy(gtup->data, value, VARSIZE(value));

	/*
	 * The usual case: the tail this backend last saw has room, and only it is
	 * locked.  The metapage is read once per relcache entry, for the
	 * dimensions, and whenever the tail is not known.  The tail is kept as
	 * the relation's smgr target block, which every backend forgets at once
	 * when the index is cut short (hnswtruncate.c: smgrtruncate's
	 * invalidation is sent at once, committed or not).
	 */
	hint = MvHnswGetAppendHint(index);
	tail = RelationGetTargetBlock(index);
	if (hint->dims == 0 || !BlockNumberIsValid(tail))
	{
		MvHnswReadMeta(index, &metacopy);
		hint->dims = metacopy.dimensions;
		tail = metacopy.growingTail;
	}
	metacopy.dimensions = hint->dims;
	MvHnswCheckValueDims(index, &metacopy, value);
	if (BlockNumberIsValid(tail))
	{
		buf = MvHnswReadBuffer(index, tail);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		if (tail_takes(BufferGetPage(buf), size))
		{
			append_logged(index, buf, gtup, size);
			UnlockReleaseBuffer(buf);
			pfree(gtup);
			return true;
		}
		UnlockReleaseBuffer(buf);
		buf = InvalidBuffer;
	}

	/* the tail is full, or moved: metapage first, then the tail, then a page */
	metabuf = ReadBuffer(index, MV_HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = MvHnswPageGetMeta(BufferGetPage(metabuf));
	tail = meta->growingTail;
	if (BlockNumberIsValid(tail))
	{
		buf = ReadBuffer(index, tail);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		if (tail_takes(BufferGetPage(buf), size))
		{
			/* another insert added this page since: no metapage change */
			append_logged(index, buf, gtup, size);
			RelationSetTargetBlock(index, tail);
			UnlockReleaseBuffer(buf);
			UnlockReleaseBuffer(metabuf);
			pfree(gtup);
			return true;
		}
	}
	newbuf = MvHnswGrowingTakePage(index, meta, false, &nextfree);
	newblk = BufferGetBlockNumber(newbuf);

	/* one record: the metapage's fields changed, the old tail's link, the new page whole */
	START_CRIT_SECTION();
	newpage = BufferGetPage(newbuf);
	MvHnswInitPage(newpage, MV_HNSW_PAGE_GROWING);
	if (PageAddItem(newpage, (Item) gtup, size, InvalidOffsetNumber, false, false) ==
		InvalidOffsetNumber)
		elog(PANIC, "milvus_hnsw: failed to add growing tuple to \"%s\"",
			 RelationGetRelationName(index));
	npages = 0;
	pages[npages].buffer = metabuf;
	pages[npages].image = false;
	pages[npages].nranges = 0;
	if (meta->version != MV_HNSW_VERSION)
	{
		/* an index of an older version holds a growing segment now */
		meta->version = MV_HNSW_VERSION;
		meta_range(&pages[npages], meta, offsetof(MvHnswMetaPageData, version),
				   sizeof(meta->version));
	}
	/* the tail and the count always; the head and the free list if they change */
	from = BufferIsValid(buf) ? offsetof(MvHnswMetaPageData, growingTail) :
		offsetof(MvHnswMetaPageData, growingHead);
	meta_range(&pages[npages], meta, from, offsetof(MvHnswMetaPageData, reused) - from);
	if (nextfree != meta->growingFree)
		meta_range(&pages[npages], meta, offsetof(MvHnswMetaPageData, growingFree),
				   sizeof(meta->growingFree));
	npages++;
	if (BufferIsValid(buf))
	{
		page = BufferGetPage(buf);
		MvHnswPageGetOpaque(page)->nextblkno = newblk;
		meta->growingTuples += PageGetMaxOffsetNumber(page);
		pages[npages].buffer = buf;
		pages[npages].image = false;
		pages[npages].nranges = 1;
		pages[npages].ranges[0].offset = ((PageHeader) page)->pd_special +
			offsetof(MvHnswPageOpaqueData, nextblkno);
		pages[npages].ranges[0].length = sizeof(BlockNumber);
		npages++;
	}
	else
		meta->growingHead = newblk;
	meta->growingFree = nextfree;
	meta->growingTail = newblk;
	pages[npages].buffer = newbuf;
	pages[npages].image = true;
	pages[npages].nranges = 0;
	npages++;
	MvHnswLogPages(index, pages, npages);
	END_CRIT_SECTION();

	RelationSetTargetBlock(index, newblk);
	UnlockReleaseBuffer(newbuf);
	if (BufferIsValid(buf))
		UnlockReleaseBuffer(buf);
	UnlockReleaseBuffer(metabuf);
	pfree(gtup);
	return true;
}

/* Raise the error of a growing chain broken at block blkno */
void
MvHnswReportBrokenChain(Relation index, BlockNumber blkno)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("milvus_hnsw index \"%s\" has a broken growing chain at block %u",
					RelationGetRelationName(index), blkno),
			 errhint("REINDEX it.")));
}

/* Raise that error if the chain leads to page blkno, not a growing page */
void
MvHnswCheckGrowingPage(Relation index, Page page, BlockNumber blkno)
{
	if (!(MvHnswPageGetOpaque(page)->flags & MV_HNSW_PAGE_GROWING))
		MvHnswReportBrokenChain(index, blkno);
}

/* The growing tuple a seal is to flag at off of locked page blkno, or an ERROR */
static MvHnswGrowingTuple
tuple_to_flag(Relation index, Page page, BlockNumber blkno, OffsetNumber off)
{
	MvHnswGrowingTuple gtup = NULL;

	if (off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page))
		gtup = (MvHnswGrowingTuple) PageGetItem(page, PageGetItemId(page, off));
	if (gtup == NULL || gtup->type != MV_HNSW_GROWING_TUPLE)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("milvus_hnsw index \"%s\" has no growing tuple at (%u,%u)",
						RelationGetRelationName(index), blkno, off),
				 errdetail("A seal was to flag the row there."),
				 errhint("REINDEX it.")));
	return gtup;
}

/* Set a flag on one growing tuple, as its own record */
void
MvHnswGrowingSetFlag(Relation index, BlockNumber blkno, OffsetNumber off, uint8 flag)
{
	Buffer		buf = ReadBuffer(index, blkno);
	Page		page;
	MvHnswGrowingTuple gtup;
	MvHnswRange range;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	gtup = tuple_to_flag(index, page, blkno, off);
	START_CRIT_SECTION();
	gtup->flags |= flag;
	range.offset = (char *) &gtup->flags - (char *) page;
	range.length = sizeof(gtup->flags);
	MvHnswLogRanges(index, buf, &range, 1);
	END_CRIT_SECTION();
	UnlockReleaseBuffer(buf);
}

/*
 * Set the flags of n rows of growing page blkno (offs[i] gets flags[i]) in
 * one record, as a seal in memory flags a page's rows once it has written
 * their elements
 */
void
MvHnswGrowingSetFlags(Relation index, BlockNumber blkno, const OffsetNumber *offs,
					  const uint8 *flags, int n)
{
	Buffer		buf = ReadBuffer(index, blkno);
	MvHnswPageEdit edit;
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, index, false);
	page = MvHnswEditRegister(&edit, buf, false);
	for (int i = 0; i < n; i++)
		tuple_to_flag(index, page, blkno, offs[i])->flags |= flags[i];
	MvHnswEditFinish(&edit);
	UnlockReleaseBuffer(buf);
}

/*
 * Call visit on each page of the growing chain, in order, share-locked,
 * under MV_HNSW_GROWING_LOCK (no seal empties a page meanwhile).  Nothing is
 * locked when the index has no growing page.  Returns whether the walk saw
 * the whole chain: always on a primary; on a hot standby, which replays
 * seals without that lock, false when a release was replayed while it
 * walked (growingReleased or the head moved): the walk may have followed an
 * emptied page into the free list, or stopped at a page the graph took, and
 * missed rows that are in neither part yet.  The caller then walks again.
 */
bool
MvHnswGrowingWalk(Relation index, MvHnswGrowingVisit visit, void *arg)
{
	MvHnswMetaPageData meta;
	MvHnswMetaPageData after;
	bool		whole;

	MvHnswReadMeta(index, &meta);
	if (!BlockNumberIsValid(meta.growingHead))
		return true;

	LockPage(index, MV_HNSW_GROWING_LOCK, ShareLock);
	/* the head may have moved before the lock: read it again under it */
	MvHnswReadMeta(index, &meta);
	whole = MvHnswGrowingWalkFrom(index, meta.growingHead, visit, arg);
	UnlockPage(index, MV_HNSW_GROWING_LOCK, ShareLock);
	if (!RecoveryInProgress())
		return true;
	MvHnswReadMeta(index, &after);
	return whole && after.growingReleased == meta.growingReleased &&
		after.growingHead == meta.growingHead;
}

/*
 * Call visit on the chain's pages from blkno (Invalid: none) to its tail, in
 * order, share-locked; the caller holds MV_HNSW_GROWING_LOCK.  A hot standby
 * replays seals without that lock, so a walk there may step from a page just
 * emptied onto the free list, which ends in block 0: the walk ends there
 * too; or onto a page the graph has taken since: there it stops and returns
 * false (on a primary that is a broken chain, an ERROR).  The caller tells
 * such walks by the metapage's growingReleased.
 */
bool
MvHnswGrowingWalkFrom(Relation index, BlockNumber blkno, MvHnswGrowingVisit visit, void *arg)
{
	for (bool first = true; BlockNumberIsValid(blkno) && blkno != MV_HNSW_METAPAGE_BLKNO;
		 first = false)
	{
		Buffer		buf;
		Page		page;

		/* tests hold a walk that has read its first page (on a standby) */
		if (!first)
			MvPause(MV_PAUSE_HNSW_GROWING_WALK);
		buf = MvHnswReadBuffer(index, blkno);
		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!(MvHnswPageGetOpaque(page)->flags & MV_HNSW_PAGE_GROWING) && RecoveryInProgress())
		{
			UnlockReleaseBuffer(buf);
			return false;
		}
		MvHnswCheckGrowingPage(index, page, blkno);
		visit(page, blkno, arg);
		blkno = MvHnswPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	return true;
}

typedef struct GrowingReadState
{
	const MvHnswDist *dist;
	Pointer		query;
	MvHnswRow  *rows;
	int			n;
	int			cap;
} GrowingReadState;

static void
read_page(Page page, BlockNumber blkno, void *arg)
{
	GrowingReadState *rs = (GrowingReadState *) arg;
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

	if (rs->n + maxoff > rs->cap)
	{
		rs->cap = Max(rs->cap * 2, rs->n + maxoff);
		rs->rows = rs->rows ? repalloc_huge(rs->rows, sizeof(MvHnswRow) * rs->cap)
			: palloc(sizeof(MvHnswRow) * rs->cap);
	}
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		MvHnswGrowingTuple gtup = (MvHnswGrowingTuple) PageGetItem(page, PageGetItemId(page, off));

		if (gtup->flags != 0)
			continue;
		rs->rows[rs->n].distance = rs->query ? MvHnswDistance(rs->dist, rs->query, gtup->data) : 0;
		rs->rows[rs->n].heaptid = gtup->heaptid;
		rs->n++;
	}
}

/*
 * Every live row of the growing segment with its distance to the query (0
 * for all when query is NULL), unordered; returns how many.
 */
int
MvHnswGrowingRead(Relation index, const MvHnswDist *dist, Pointer query, MvHnswRow **rows)
{
	GrowingReadState rs = {dist, query, NULL, 0, 0};

	/* on a hot standby, again if a seal's release overtook the walk */
	while (!MvHnswGrowingWalk(index, read_page, &rs))
		rs.n = 0;
	*rows = rs.rows;
	return rs.n;
}

/* A min-heap of rows by distance, so a scan sorts only what it hands out */
static inline bool
row_before(const MvHnswRow *a, const MvHnswRow *b)
{
	return a->distance < b->distance;
}

static void
sift_down(MvHnswRow *rows, int n, int i)
{
	MvHnswRow	x = rows[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && row_before(&rows[c + 1], &rows[c]))
			c++;
		if (!row_before(&rows[c], &x))
			break;
		rows[i] = rows[c];
		i = c;
	}
	rows[i] = x;
}

void
MvHnswRowHeapify(MvHnswRow *rows, int n)
{
	for (int i = n / 2 - 1; i >= 0; i--)
		sift_down(rows, n, i);
}

/* The nearest row; n must be positive */
MvHnswRow
MvHnswRowPop(MvHnswRow *rows, int *n)
{
	MvHnswRow	top = rows[0];

	rows[0] = rows[--(*n)];
	if (*n > 0)
		sift_down(rows, *n, 0);
	return top;
}
