/*
 * hnswseal.c
 *		Seal a milvus_hnsw index's growing segment into its graph, compact
 *		its tombstones, and report what the segments hold.
 *
 * A seal runs in three steps, under MV_HNSW_SEAL_LOCK (one seal, compaction
 * or vacuum per index at a time):
 *
 *   freeze   the tail page, if it holds rows, is closed: a fresh tail is
 *            linked after it (one record: metapage, old tail, new tail).
 *            Inserts go on appending to the new tail; the pages from the
 *            head up to it no longer change but for flags.
 *   link     in memory when the graph fits in maintenance_work_mem
 *            (hnswsealmem.c: it links and writes the rows in waves, and
 *            releases each wave's pages itself); else, and for rows it had no
 *            room for, each frozen row not flagged goes into the graph as an
 *            insert puts it (hnswinsert.c), then is flagged sealed in a record
 *            of its own; a row the vacuum callback names dead is flagged dead
 *            instead.  A scan that read the row before its flag finds it in
 *            both parts and hands it out once (hnswscan.c keeps the TIDs it
 *            returned).
 *   release  under MV_HNSW_GROWING_LOCK exclusively (no reader on the chain),
 *            the head moves past the pages linked and they go to the front
 *            of the free list (one record: metapage, last page released):
 *            every 32 pages while linking, when no scan is reading the chain
 *            at that moment, so that the graph pages the rows still to link
 *            need are taken from them (hnswinsert.c), and at the end.
 *
 * A crash anywhere leaves rows either in the growing segment, flagged or
 * not, or in both parts: the next seal takes up the frozen pages again and
 * skips flagged rows, and a row whose element was written but not yet
 * flagged joins its own element (an insert that meets an equal vector with
 * its heap TID adds nothing), unless that element is not linked yet; then
 * the graph holds it twice: scans return it once, and both elements stay
 * until the row is deleted (a parallel seal may leave one such row per
 * process).  After linking, a seal links what its link-backs cut off
 * (MvHnswLinkUnreached, within maintenance_work_mem), as VACUUM's pass 3
 * does.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "catalog/pg_am_d.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/procarray.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "hnsw.h"
#include "milvus/guc.h"

bool		(*MvHnswCoordinatorRunning) (void) = NULL;

/* Whether rel is a milvus_hnsw index */
bool
MvHnswIsIndex(Relation rel)
{
	return rel->rd_rel->relkind == RELKIND_INDEX && rel->rd_indam != NULL &&
		rel->rd_indam->ambuild == mvhnsw_build;
}

void
MvHnswSealProgress(MvHnswSealReport report, void *arg, MvHnswSealPhase phase, int64 done,
				int64 total)
{
	if (report)
		report(arg, phase, done, total);
}

/*
 * Close the chain to new rows.  Returns the first page not frozen (Invalid
 * when there is nothing to seal) and sets *head to the chain's head.
 */
static BlockNumber
freeze(Relation index, BlockNumber *head)
{
	Buffer		metabuf = ReadBuffer(index, MV_HNSW_METAPAGE_BLKNO);
	MvHnswMetaPage meta;
	Buffer		tailbuf;
	Page		tailpage;
	BlockNumber stop;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = MvHnswPageGetMeta(BufferGetPage(metabuf));
	*head = meta->growingHead;
	if (!BlockNumberIsValid(*head))
	{
		UnlockReleaseBuffer(metabuf);
		return InvalidBlockNumber;
	}
	stop = meta->growingTail;
	tailbuf = ReadBuffer(index, stop);
	LockBuffer(tailbuf, BUFFER_LOCK_EXCLUSIVE);
	tailpage = BufferGetPage(tailbuf);
	if (PageGetMaxOffsetNumber(tailpage) > 0)
	{
		MvHnswPageEdit edit;
		Buffer		newbuf;
		Page		newpage;

		MvHnswEditStart(&edit, index, false);
		meta = MvHnswPageGetMeta(MvHnswEditRegister(&edit, metabuf, false));
		tailpage = MvHnswEditRegister(&edit, tailbuf, false);
		stop = MvHnswGrowingNewPage(&edit, meta, &newbuf, &newpage);
		MvHnswPageGetOpaque(tailpage)->nextblkno = stop;
		meta->growingTuples += PageGetMaxOffsetNumber(tailpage);
		meta->growingTail = stop;
		MvHnswEditFinish(&edit);
		UnlockReleaseBuffer(newbuf);
	}
	else if (stop == *head)
		stop = InvalidBlockNumber;	/* one empty page: nothing to seal */
	UnlockReleaseBuffer(tailbuf);
	UnlockReleaseBuffer(metabuf);
	return stop;
}

/*
 * The graph a seal inserts through, kept from row to row so that each
 * element is read once, within maintenance_work_mem:
 *   - an eighth for the vectors of the elements loaded first; the rest keep
 *     none and are measured on their pages (a search does so without a copy;
 *     the heuristic reads them again, until the row is done);
 *   - three eighths for the neighbour lists it measured (hnswprune.c), so
 *     that a link-back into a list it met before measures only what changes;
 *   - the rest for the elements themselves; the graph starts afresh only when
 *     everything outgrows maintenance_work_mem.
 * Lists earn their memory best: one costs about 600 bytes and saves up to a
 * few hundred distances, a kept 784-dimension vector costs 4 kB and saves a
 * page read.  Starting afresh whenever the cache filled (as this did once)
 * made a 784-dimension seal spend 61 % of its time loading elements, mostly
 * copying vectors and faulting in fresh memory.  rowctx is reset after each row.
 */
struct MvHnswSealer
{
	Relation	index;
	Size		budget;			/* maintenance_work_mem, or this process's share */
	MemoryContext graphctx;
	MemoryContext rowctx;
	MvHnswGraph *graph;
	Page		copy;			/* the page being linked */
	/* rows whose heap tuples are gone for good (MvHnswSealerRowGone), or NULL */
	Relation	heap;
	BlockNumber heapBlocks;
	Buffer		heapBuf;		/* the heap page last looked at, pinned */
	GlobalVisState *vistest;	/* what pruning may remove */
	Snapshot	snapshot;		/* held while pruning (see MvHnswSealerWatchHeap) */
};

MvHnswSealer *
MvHnswSealerCreate(Relation index, Size budget)
{
	MvHnswSealer *sg = palloc0(sizeof(MvHnswSealer));

	sg->index = index;
	sg->budget = budget;
	sg->graphctx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw seal graph",
										 ALLOCSET_DEFAULT_SIZES);
	sg->rowctx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw seal row",
									   ALLOCSET_DEFAULT_SIZES);
	sg->copy = palloc(BLCKSZ);
	return sg;
}

/*
 * Let the sealer drop rows whose heap tuples are gone for good, as a
 * VACUUM's seal does through its callback: a seal by milvus.seal() or the
 * data coordinator would otherwise link rows deleted since their insert, for
 * the next VACUUM to make tombstones of and a compaction to free (a sixth of
 * a churn round's deletions in churn_rounds.sh).  Only for a heap table, and
 * not in parallel mode.
 */
void
MvHnswSealerWatchHeap(MvHnswSealer *sg)
{
	Relation	heap;

	if (IsInParallelMode())
		return;
	heap = table_open(IndexGetRelation(RelationGetRelid(sg->index), false), NoLock);
	if (heap->rd_rel->relam != HEAP_TABLE_AM_OID)
	{
		table_close(heap, NoLock);
		return;
	}
	sg->heap = heap;
	sg->heapBlocks = RelationGetNumberOfBlocks(heap);
	sg->heapBuf = InvalidBuffer;
	sg->vistest = GlobalVisTestFor(heap);

	/*
	 * Pruning asks whether transactions are still running, which may read
	 * pg_subtrans; a snapshot keeps the pages it may read from being cut off
	 * meanwhile, as VACUUM's does.  The data coordinator holds none of its
	 * own; it is marked PROC_IN_VACUUM, so this one holds back no VACUUM.
	 */
	sg->snapshot = RegisterSnapshot(GetLatestSnapshot());
}

/*
 * Whether the heap tuple a growing row points to is gone for good: its line
 * pointer is dead, which pruning sets only when every tuple of its HOT chain
 * is dead to every snapshot, and logs with the conflict a hot standby needs
 * (its queries that could still see the row are cancelled before it goes
 * from their scans).  Each heap page is pruned first, if it may have
 * something to prune and its cleanup lock is free, as a scan that reads it
 * would (if what it may prune is old enough: pd_prune_xid, as
 * heap_page_prune_opt checks).  A dead line pointer stays dead until VACUUM
 * has removed the index's entries for it, which waits for this seal
 * (MV_HNSW_SEAL_LOCK).
 */
bool
MvHnswSealerRowGone(MvHnswSealer *sg, ItemPointer tid)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber offnum = ItemPointerGetOffsetNumber(tid);
	Page		page;
	bool		gone = false;

	if (sg->heap == NULL || blkno >= sg->heapBlocks)
		return false;
	if (!BufferIsValid(sg->heapBuf) || BufferGetBlockNumber(sg->heapBuf) != blkno)
	{
		TransactionId prunexid;

		if (BufferIsValid(sg->heapBuf))
			ReleaseBuffer(sg->heapBuf);
		sg->heapBuf = ReadBuffer(sg->heap, blkno);
		page = BufferGetPage(sg->heapBuf);
		prunexid = ((PageHeader) page)->pd_prune_xid;

		if (TransactionIdIsValid(prunexid) &&
			GlobalVisTestIsRemovableXid(sg->vistest, prunexid) &&
			ConditionalLockBufferForCleanup(sg->heapBuf))
		{
			int			ndead;

			/* as heap_page_prune_opt calls it (no old_snapshot_threshold limit) */
			heap_page_prune(sg->heap, sg->heapBuf, InvalidTransactionId, sg->vistest,
							InvalidTransactionId, 0, &ndead, NULL);
			LockBuffer(sg->heapBuf, BUFFER_LOCK_UNLOCK);
		}
	}
	LockBuffer(sg->heapBuf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(sg->heapBuf);
	if (offnum >= FirstOffsetNumber && offnum <= PageGetMaxOffsetNumber(page))
		gone = ItemIdIsDead(PageGetItemId(page, offnum));
	LockBuffer(sg->heapBuf, BUFFER_LOCK_UNLOCK);
	return gone;
}

void
MvHnswSealerFree(MvHnswSealer *sg)
{
	if (BufferIsValid(sg->heapBuf))
		ReleaseBuffer(sg->heapBuf);
	if (sg->snapshot != NULL)
		UnregisterSnapshot(sg->snapshot);
	if (sg->heap != NULL)
		table_close(sg->heap, NoLock);
	MemoryContextDelete(sg->rowctx);
	MemoryContextDelete(sg->graphctx);
	pfree(sg->copy);
	pfree(sg);
}

static void
insert_row(MvHnswSealer *sg, Pointer value, ItemPointer heaptid)
{
	MemoryContext oldctx;

	if (sg->graph != NULL && MemoryContextMemAllocated(sg->graphctx, true) > sg->budget)
	{
		MemoryContextReset(sg->graphctx);
		sg->graph = NULL;
	}
	if (sg->graph == NULL)
	{
		sg->graph = MvHnswInsertGraph(sg->index, sg->graphctx);
		sg->graph->valueBudget = sg->budget / 8;
		MvHnswRememberLists(sg->graph, sg->budget * 3 / 8);
	}
	oldctx = MemoryContextSwitchTo(sg->rowctx);
	MvHnswInsertWith(sg->graph, value, heaptid, false);
	MemoryContextSwitchTo(oldctx);
	MvHnswForgetVectors(sg->graph);
	MemoryContextReset(sg->rowctx);
}

/*
 * Link the rows of frozen page blkno into the graph; rows a non-NULL callback
 * names are flagged dead instead.  Returns the rows linked, and sets *nrows
 * to the rows on the page and *next to the page after it in the chain.
 */
int64
MvHnswSealPage(MvHnswSealer *sg, BlockNumber blkno, IndexBulkDeleteCallback callback,
			   void *callback_state, IndexBulkDeleteResult *stats, MvHnswSealReport report,
			   void *arg, int64 *done, int64 total, int *nrows, BlockNumber *next)
{
	Relation	index = sg->index;
	Page		copy = sg->copy;
	Buffer		buf;
	int64		linked = 0;

	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(copy, BufferGetPage(buf), BLCKSZ);
	UnlockReleaseBuffer(buf);
	MvHnswCheckGrowingPage(index, copy, blkno);

	for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(copy);
		 off = OffsetNumberNext(off))
	{
		MvHnswGrowingTuple gtup = (MvHnswGrowingTuple) PageGetItem(copy, PageGetItemId(copy, off));

		CHECK_FOR_INTERRUPTS();
		if (gtup->flags == 0)
		{
			if (callback != NULL ? callback(&gtup->heaptid, callback_state) :
				MvHnswSealerRowGone(sg, &gtup->heaptid))
			{
				MvHnswGrowingSetFlag(index, blkno, off, MV_HNSW_GROWING_DEAD);
				if (stats)
					stats->tuples_removed++;
			}
			else
			{
				insert_row(sg, gtup->data, &gtup->heaptid);
				MvHnswGrowingSetFlag(index, blkno, off, MV_HNSW_GROWING_SEALED);
				/* tests hold a seal with one row linked and the rest not */
				if (linked++ == 0)
					MvPause(MV_PAUSE_HNSW_SEAL_LINK);
			}
		}
		(*done)++;
		MvHnswSealProgress(report, arg, MV_HNSW_SEAL_LINK, *done, total);
	}
	*nrows = PageGetMaxOffsetNumber(copy);
	*next = MvHnswPageGetOpaque(copy)->nextblkno;
	return linked;
}

/*
 * Hand the frozen pages, head up to last, to the free list; the chain then
 * starts at stop.  Under MV_HNSW_GROWING_LOCK, exclusively: with wait, once
 * the scans reading the chain are done; without, only if none is (a seal
 * never waits for scans before its last release), returning whether it did.
 */
bool
MvHnswSealRelease(Relation index, BlockNumber head, BlockNumber last, BlockNumber stop,
				  int64 ntuples, bool wait)
{
	Buffer		metabuf;
	Buffer		lastbuf;
	MvHnswMetaPage meta;
	MvHnswPageEdit edit;
	Page		lastpage;
	BlockNumber oldfree;

	if (wait)
		LockPage(index, MV_HNSW_GROWING_LOCK, ExclusiveLock);
	else if (!ConditionalLockPage(index, MV_HNSW_GROWING_LOCK, ExclusiveLock))
		return false;
	metabuf = ReadBuffer(index, MV_HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	lastbuf = ReadBuffer(index, last);
	LockBuffer(lastbuf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, index, false);
	meta = MvHnswPageGetMeta(MvHnswEditRegister(&edit, metabuf, false));
	lastpage = MvHnswEditRegister(&edit, lastbuf, false);
	Assert(meta->growingHead == head);
	/*
	 * The free list ends in block 0, never in Invalid: an append that read
	 * this page as the tail before the seal froze it checks, under the page's
	 * lock, that its next is Invalid, and must not take a free page for it.
	 */
	oldfree = meta->growingFree;
	MvHnswPageGetOpaque(lastpage)->nextblkno =
		BlockNumberIsValid(oldfree) ? oldfree : MV_HNSW_METAPAGE_BLKNO;
	meta->growingFree = head;
	meta->growingHead = stop;
	/* backends' sketches of the chain (hnswsketch.c) drop what they had of them */
	meta->growingReleased += (uint32) ntuples;
	meta->growingTuples = (meta->growingTuples > (uint64) ntuples) ?
		meta->growingTuples - ntuples : 0;
	MvHnswEditFinish(&edit);
	UnlockReleaseBuffer(lastbuf);
	UnlockReleaseBuffer(metabuf);
	UnlockPage(index, MV_HNSW_GROWING_LOCK, ExclusiveLock);
	return true;
}

/* Whether the free list is empty: a graph page the seal needs would extend the index */
static bool
free_list_empty(Relation index)
{
	MvHnswMetaPageData meta;

	MvHnswReadMeta(index, &meta);
	return meta.growingFree == MV_HNSW_METAPAGE_BLKNO || !BlockNumberIsValid(meta.growingFree);
}

/*
 * Seal, the caller holding MV_HNSW_SEAL_LOCK; rows a non-NULL callback names
 * are dropped.  In memory (hnswsealmem.c) when the graph fits in
 * maintenance_work_mem; else, with nworkers above 0 and no callback, a seal
 * large enough links its rows with up to that many parallel workers
 * (hnswsealparallel.c); else one at a time.  Returns the rows linked, and
 * sets *onDisk (if not NULL) to those linked on disk: their link-backs'
 * reachability check looks a few links deep only, so the caller then links
 * what a walk from the entry point no longer reaches (MvHnswLinkUnreached),
 * unless a vacuum's repair is about to.  A seal in memory has done so
 * already.
 */
int64
MvHnswSealLocked(Relation index, IndexBulkDeleteCallback callback, void *callback_state,
				 IndexBulkDeleteResult *stats, int nworkers, MvHnswSealReport report,
				 void *arg, int64 *onDisk)
{
	BlockNumber head;
	BlockNumber stop;
	BlockNumber blkno;
	BlockNumber last = InvalidBlockNumber;
	MvHnswMetaPageData meta;
	int64		total;
	int64		done = 0;
	int64		ntuples = 0;
	int64		linked = 0;
	int64		inMemory;
	int64		unreached = 0;
	int64		npages = 0;		/* linked since the last release */
	bool		complete = false;
	Size		budget = (Size) maintenance_work_mem * 1024;
	MvHnswSealer *sg;

	if (onDisk)
		*onDisk = 0;
	MvHnswSealProgress(report, arg, MV_HNSW_SEAL_FREEZE, 0, 0);
	stop = freeze(index, &head);
	if (!BlockNumberIsValid(stop))
		return 0;
	MvHnswReadMeta(index, &meta);
	total = (int64) meta.growingTuples;

	MvHnswSealProgress(report, arg, MV_HNSW_SEAL_LINK, 0, total);
	sg = MvHnswSealerCreate(index, budget);
	if (callback == NULL)
		MvHnswSealerWatchHeap(sg);
	inMemory = MvHnswSealInMemory(sg, index, &head, stop, budget, callback, callback_state,
								  stats, report, arg, total, &complete, &last, &ntuples,
								  &unreached);
	/* what the walk in memory could not link is the walk on disk's */
	if (onDisk && unreached > 0)
		*onDisk = unreached;
	/* the rows on pages it released are done; the walk below counts the rest */
	if (inMemory >= 0)
		done = Max(0, total - ntuples);
	if (inMemory >= 0 && complete)
	{
		MvHnswSealerFree(sg);
		MvPause(MV_PAUSE_HNSW_SEAL_RELEASE);
		MvHnswSealProgress(report, arg, MV_HNSW_SEAL_RELEASE, total, total);
		MvHnswSealRelease(index, head, last, stop, ntuples, true);
		return inMemory;
	}
	if (inMemory < 0 && callback == NULL && nworkers > 0)
	{
		MvHnswSealerFree(sg);
		linked = MvHnswSealParallel(index, head, stop, total, nworkers, report, arg);
		if (linked >= 0)
		{
			if (onDisk)
				*onDisk = linked;
			return linked;
		}
		linked = 0;
		sg = MvHnswSealerCreate(index, budget);
		MvHnswSealerWatchHeap(sg);
	}

	last = InvalidBlockNumber;
	ntuples = 0;
	for (blkno = head; blkno != stop;)
	{
		int			nrows;
		BlockNumber next;

		/*
		 * Hand the pages linked so far to the free list, for the graph pages
		 * of the rows still to link (hnswinsert.c takes them first), if no
		 * scan is reading the chain: a seal never waits for scans here.
		 */
		if (npages > 0 && (npages >= MV_HNSW_SEAL_RELEASE_PAGES || free_list_empty(index)) &&
			MvHnswSealRelease(index, head, last, blkno, ntuples, false))
		{
			head = blkno;
			ntuples = 0;
			npages = 0;
		}
		linked += MvHnswSealPage(sg, blkno, callback, callback_state, stats, report, arg,
								 &done, total, &nrows, &next);
		ntuples += nrows;
		npages++;
		last = blkno;
		blkno = next;
	}
	MvHnswSealerFree(sg);
	MvPause(MV_PAUSE_HNSW_SEAL_RELEASE);
	MvHnswSealProgress(report, arg, MV_HNSW_SEAL_RELEASE, done, total);
	MvHnswSealRelease(index, head, last, stop, ntuples, true);
	if (onDisk)
		*onDisk = linked + unreached;
	return linked + Max(inMemory, 0);
}

static void
check_writable(Relation index, const char *what)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot %s milvus_hnsw index \"%s\" during recovery",
						what, RelationGetRelationName(index))));
}

/* Take the seal lock; false when !wait and it is held */
static bool
lock_for_seal(Relation index, bool wait)
{
	if (wait)
	{
		LockPage(index, MV_HNSW_SEAL_LOCK, ExclusiveLock);
		return true;
	}
	return ConditionalLockPage(index, MV_HNSW_SEAL_LOCK, ExclusiveLock);
}

int64
MvHnswSeal(Relation index, bool wait, int nworkers, MvHnswSealReport report, void *arg)
{
	int64		n;
	int64		onDisk;

	check_writable(index, "seal");
	if (!lock_for_seal(index, wait))
		return -1;
	n = MvHnswSealLocked(index, NULL, NULL, NULL, nworkers, report, arg, &onDisk);
	if (onDisk > 0)
		MvHnswLinkUnreached(index, false, DEBUG1);
	/* also after a seal that found nothing: one before may have kept them */
	MvHnswTruncateFree(index);
	UnlockPage(index, MV_HNSW_SEAL_LOCK, ExclusiveLock);
	return n;
}

static bool
nothing_dead(ItemPointer itemptr, void *state)
{
	return false;
}

int64
MvHnswCompact(Relation index, bool wait, MvHnswSealReport report, void *arg)
{
	IndexBulkDeleteResult stats;
	int64		n;

	check_writable(index, "compact");
	if (!lock_for_seal(index, wait))
		return -1;
	memset(&stats, 0, sizeof(stats));
	MvHnswSealProgress(report, arg, MV_HNSW_COMPACT, 0, 0);
	n = MvHnswVacuumGraph(index, nothing_dead, NULL, &stats, true);
	MvHnswTruncateFree(index);
	MvHnswSealProgress(report, arg, MV_HNSW_COMPACT, n, n);
	UnlockPage(index, MV_HNSW_SEAL_LOCK, ExclusiveLock);
	return n;
}

/* Count one growing page into an MvHnswSegmentInfo */
static void
count_page(Page page, BlockNumber blkno, void *arg)
{
	MvHnswSegmentInfo *info = (MvHnswSegmentInfo *) arg;

	info->growingBytes += BLCKSZ - PageGetExactFreeSpace(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page);
		 off = OffsetNumberNext(off))
	{
		MvHnswGrowingTuple gtup = (MvHnswGrowingTuple) PageGetItem(page, PageGetItemId(page, off));

		if (gtup->flags == 0)
			info->growingRows++;
		else if (gtup->flags & MV_HNSW_GROWING_DEAD)
			info->growingDead++;
	}
}

/* What the two parts hold: the graph's counters, and a walk of the chain */
void
MvHnswGetSegmentInfo(Relation index, MvHnswSegmentInfo *info)
{
	MvHnswMetaPageData meta;

	memset(info, 0, sizeof(*info));
	MvHnswReadMeta(index, &meta);
	info->sealedRows = (int64) (meta.elements - Min(meta.deleted, meta.elements));
	info->deletedElements = (int64) meta.deleted;
	info->pendingTombstones = meta.pendingTombstones;
	/* on a hot standby, again if a seal's release overtook the walk */
	while (!MvHnswGrowingWalk(index, count_page, info))
		info->growingRows = info->growingDead = info->growingBytes = 0;
}
