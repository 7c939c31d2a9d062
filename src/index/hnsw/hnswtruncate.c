/*
 * hnswtruncate.c
 *		Give the free growing pages at the end of a milvus_hnsw index back to
 *		the file system.
 *
 * A seal hands the growing pages it has linked to the free list, and the
 * graph takes its new pages from there first; what it does not take waits
 * for the next rows.  After a seal, a compaction or a VACUUM, the run of
 * free pages at the end of the relation is cut off, as VACUUM truncates a
 * heap:
 *
 *   - with milvus.hnsw_truncate on, outside a transaction block and parallel
 *     mode (a parallel VACUUM's index passes), and only when
 *     AccessExclusiveLock on the index is granted at once: no other session
 *     has the index open (no scan, insert or plan of its table).  It is let
 *     go as soon as the pages are cut off, as VACUUM lets a heap's go.  What
 *     other sessions remember of the pages cut off goes with the smgr
 *     invalidation smgrtruncate sends at once, whether this transaction
 *     commits or not: the tail an insert appends to is the relation's smgr
 *     target block (hnswgrowing.c), the buffer map checks each buffer's tag
 *     (hnswbuffer.c), and sketches start again when growingReleased moves
 *     (hnswsketch.c).
 *   - growing pages in that run that no list holds (left by a crash in a
 *     truncation) go back on the free list first.
 *   - MV_HNSW_FREE_RESERVE free pages stay, the lowest: a seal takes graph
 *     pages from them before it has emptied a page of its own, rather than
 *     extend the index past the pages the next truncation gives back.
 *   - when the growing chain is one empty page among the pages cut off (the
 *     fresh tail a seal's freeze took), the lowest free page becomes the
 *     chain's page instead, and the old one goes on the free list, in one
 *     record; growingReleased moves on by one.
 *   - the metapage records the cut (truncateFrom), the free list is linked
 *     past the pages cut off, one record per link that changes, the WAL is
 *     flushed, RelationTruncate cuts them off (WAL-logged), and the metapage
 *     forgets the cut.
 *
 * Every record leaves the chain and the list whole.  A crash after the cut
 * was recorded and before it was made leaves growing pages from the cut on
 * that no list holds; the next truncation puts them back on the free list
 * first, wherever they are by then, and milvus_hnsw_verify accepts them in
 * the meantime (and any at the very end of the index).
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/storage.h"
#include "miscadmin.h"
#include "storage/lmgr.h"

#include "hnsw.h"
#include "milvus/guc.h"
#include "milvus/hnsw.h"

/* What a page of the index is to a truncation */
typedef enum
{
	PAGE_OTHER,					/* the graph, the metapage, or not known yet */
	PAGE_FREE,					/* on the free list */
	PAGE_CHAIN					/* on the growing chain */
} PageRole;

/* The free list's end: block 0, or Invalid in older indexes */
static inline bool
list_ends(BlockNumber blkno)
{
	return blkno == MV_HNSW_METAPAGE_BLKNO || !BlockNumberIsValid(blkno);
}

static BlockNumber
next_of(Relation index, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, blkno);
	BlockNumber next;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	next = MvHnswPageGetOpaque(BufferGetPage(buf))->nextblkno;
	UnlockReleaseBuffer(buf);
	return next;
}

/*
 * Mark the pages of a list from first on with role; false when it leaves the
 * relation or loops (not truncated then: milvus_hnsw_verify names the fault).
 */
static bool
mark_list(Relation index, BlockNumber first, PageRole *roles, BlockNumber nblocks,
		  PageRole role)
{
	for (BlockNumber blkno = first; !list_ends(blkno); blkno = next_of(index, blkno))
	{
		if (blkno >= nblocks || roles[blkno] != PAGE_OTHER)
			return false;
		roles[blkno] = role;
	}
	return true;
}

/* Whether a page no list holds is a growing page or a new one */
static bool
loose_page(Relation index, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, blkno);
	Page		page;
	bool		loose;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	loose = PageIsNew(page) ||
		MvHnswPageGetOpaque(page)->flags == MV_HNSW_PAGE_GROWING;
	UnlockReleaseBuffer(buf);
	return loose;
}

/* Record where a truncation cuts (0: none) */
static void
set_cut(Relation index, BlockNumber cut)
{
	MvHnswPageEdit edit;
	Buffer		metabuf = ReadBuffer(index, MV_HNSW_METAPAGE_BLKNO);

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, index, false);
	MvHnswPageGetMeta(MvHnswEditRegister(&edit, metabuf, false))->truncateFrom = cut;
	MvHnswEditFinish(&edit);
	UnlockReleaseBuffer(metabuf);
}

/*
 * Make free page newtail the growing chain's only page in place of the empty
 * page oldtail, which goes on the free list: one record with the metapage,
 * both pages, and the page whose link led to newtail (prev; Invalid: the
 * metapage's).
 */
static void
move_tail(Relation index, BlockNumber newtail, BlockNumber prev, BlockNumber oldtail)
{
	MvHnswPageEdit edit;
	Buffer		metabuf = ReadBuffer(index, MV_HNSW_METAPAGE_BLKNO);
	Buffer		prevbuf = InvalidBuffer;
	Buffer		tailbuf;
	Buffer		oldbuf;
	MvHnswMetaPage meta;
	Page		tailpage;
	Page		oldpage;
	BlockNumber after;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	if (BlockNumberIsValid(prev))
	{
		prevbuf = ReadBuffer(index, prev);
		LockBuffer(prevbuf, BUFFER_LOCK_EXCLUSIVE);
	}
	tailbuf = ReadBuffer(index, newtail);
	LockBuffer(tailbuf, BUFFER_LOCK_EXCLUSIVE);
	oldbuf = ReadBuffer(index, oldtail);
	LockBuffer(oldbuf, BUFFER_LOCK_EXCLUSIVE);
	/* never Invalid: a stale tail would take a free page ending there for a tail */
	after = MvHnswPageGetOpaque(BufferGetPage(tailbuf))->nextblkno;
	if (list_ends(after))
		after = MV_HNSW_METAPAGE_BLKNO;

	MvHnswEditStart(&edit, index, false);
	meta = MvHnswPageGetMeta(MvHnswEditRegister(&edit, metabuf, false));
	if (BufferIsValid(prevbuf))
	{
		Page		prevpage = MvHnswEditRegister(&edit, prevbuf, false);

		MvHnswPageGetOpaque(prevpage)->nextblkno = after;
	}
	else
		meta->growingFree = after;
	tailpage = MvHnswEditRegister(&edit, tailbuf, true);
	MvHnswInitPage(tailpage, MV_HNSW_PAGE_GROWING);
	oldpage = MvHnswEditRegister(&edit, oldbuf, false);
	MvHnswPageGetOpaque(oldpage)->nextblkno =
		list_ends(meta->growingFree) ? MV_HNSW_METAPAGE_BLKNO : meta->growingFree;
	meta->growingFree = oldtail;
	meta->growingHead = newtail;
	meta->growingTail = newtail;
	meta->growingTuples = 0;
	/* sketches read on from the page they read last: make them start again */
	meta->growingReleased++;
	MvHnswEditFinish(&edit);

	UnlockReleaseBuffer(oldbuf);
	UnlockReleaseBuffer(tailbuf);
	if (BufferIsValid(prevbuf))
		UnlockReleaseBuffer(prevbuf);
	UnlockReleaseBuffer(metabuf);
}

/* Put page blkno, which no list holds, on the free list as an empty growing page */
static void
relist(Relation index, BlockNumber blkno)
{
	MvHnswPageEdit edit;
	Buffer		metabuf = ReadBuffer(index, MV_HNSW_METAPAGE_BLKNO);
	Buffer		buf;
	MvHnswMetaPage meta;
	Page		page;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, index, false);
	meta = MvHnswPageGetMeta(MvHnswEditRegister(&edit, metabuf, false));
	page = MvHnswEditRegister(&edit, buf, true);
	MvHnswInitPage(page, MV_HNSW_PAGE_GROWING);
	MvHnswPageGetOpaque(page)->nextblkno =
		list_ends(meta->growingFree) ? MV_HNSW_METAPAGE_BLKNO : meta->growingFree;
	meta->growingFree = blkno;
	MvHnswEditFinish(&edit);
	UnlockReleaseBuffer(buf);
	UnlockReleaseBuffer(metabuf);
}

/* Point the link of prev (Invalid: the metapage's growingFree) at next */
static void
set_link(Relation index, BlockNumber prev, BlockNumber next)
{
	MvHnswPageEdit edit;
	Buffer		buf;
	Page		page;

	buf = ReadBuffer(index, BlockNumberIsValid(prev) ? prev : MV_HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, index, false);
	page = MvHnswEditRegister(&edit, buf, false);
	if (BlockNumberIsValid(prev))
		MvHnswPageGetOpaque(page)->nextblkno = next;
	else
		MvHnswPageGetMeta(page)->growingFree = next;
	MvHnswEditFinish(&edit);
	UnlockReleaseBuffer(buf);
}

/* Link the free list past every page at or after end */
static void
unlink_from(Relation index, BlockNumber end)
{
	MvHnswMetaPageData meta;
	BlockNumber prev = InvalidBlockNumber;	/* the metapage */
	BlockNumber prevnext;
	BlockNumber blkno;

	MvHnswReadMeta(index, &meta);
	prevnext = meta.growingFree;
	for (blkno = meta.growingFree; !list_ends(blkno);)
	{
		BlockNumber next = next_of(index, blkno);

		if (blkno < end)
		{
			if (prevnext != blkno)
				set_link(index, prev, blkno);
			prev = blkno;
			prevnext = next;
		}
		blkno = next;
	}
	if (!list_ends(prevnext))
		set_link(index, prev, MV_HNSW_METAPAGE_BLKNO);
}

/* The page whose link leads to free page blkno (Invalid: the metapage's) */
static BlockNumber
list_prev(Relation index, BlockNumber first, BlockNumber blkno)
{
	BlockNumber prev = InvalidBlockNumber;

	for (BlockNumber b = first; !list_ends(b) && b != blkno; b = next_of(index, b))
		prev = b;
	return prev;
}

/* Where to cut so that the lowest MV_HNSW_FREE_RESERVE free pages stay */
static BlockNumber
cut_past_reserve(const PageRole *roles, BlockNumber nblocks, BlockNumber end)
{
	int			reserve = MV_HNSW_FREE_RESERVE;

	for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks && reserve > 0; blkno++)
	{
		if (roles[blkno] != PAGE_FREE)
			continue;
		reserve--;
		if (blkno >= end)
			end = blkno + 1;
	}
	return end;
}

/* The truncation, under AccessExclusiveLock; the pages cut off */
static BlockNumber
truncate_locked(Relation index)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	MvHnswMetaPageData meta;
	PageRole   *roles;
	BlockNumber end;
	BlockNumber oldtail = InvalidBlockNumber;	/* an empty chain page in the run */
	BlockNumber newtail = InvalidBlockNumber;

	MvHnswReadMeta(index, &meta);
	roles = palloc0(sizeof(PageRole) * nblocks);
	if (!mark_list(index, meta.growingFree, roles, nblocks, PAGE_FREE) ||
		!mark_list(index, meta.growingHead, roles, nblocks, PAGE_CHAIN))
	{
		pfree(roles);
		return 0;
	}

	/* pages of a cut a crash cut short: back on the free list */
	if (meta.truncateFrom != 0)
	{
		for (BlockNumber blkno = Max(meta.truncateFrom, MV_HNSW_METAPAGE_BLKNO + 1);
			 blkno < nblocks; blkno++)
		{
			if (roles[blkno] == PAGE_OTHER && loose_page(index, blkno))
			{
				relist(index, blkno);
				roles[blkno] = PAGE_FREE;
			}
		}
		set_cut(index, 0);
		MvHnswReadMeta(index, &meta);
	}

	/* the run: free and loose pages, and the chain if it is one empty page */
	for (end = nblocks; end > MV_HNSW_METAPAGE_BLKNO + 1; end--)
	{
		BlockNumber blkno = end - 1;

		if (roles[blkno] == PAGE_FREE)
			continue;
		if (roles[blkno] == PAGE_CHAIN && meta.growingHead == blkno &&
			meta.growingTail == blkno)
		{
			Buffer		buf = ReadBuffer(index, blkno);
			bool		empty;

			LockBuffer(buf, BUFFER_LOCK_SHARE);
			empty = PageGetMaxOffsetNumber(BufferGetPage(buf)) == 0;
			UnlockReleaseBuffer(buf);
			if (!empty)
				break;
			oldtail = blkno;
			continue;
		}
		if (roles[blkno] == PAGE_OTHER && loose_page(index, blkno))
		{
			relist(index, blkno);
			roles[blkno] = PAGE_FREE;
			continue;
		}
		break;
	}

	/*
	 * The empty chain page moves to the lowest free page below it, if the cut
	 * past the reserve (counting it free and that page taken) still takes it.
	 */
	if (BlockNumberIsValid(oldtail))
	{
		for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < oldtail; blkno++)
		{
			if (roles[blkno] == PAGE_FREE)
			{
				newtail = blkno;
				break;
			}
		}
		if (BlockNumberIsValid(newtail))
		{
			roles[newtail] = PAGE_CHAIN;
			roles[oldtail] = PAGE_FREE;
			if (cut_past_reserve(roles, nblocks, end) > oldtail)
			{
				roles[newtail] = PAGE_FREE;
				roles[oldtail] = PAGE_CHAIN;
				newtail = InvalidBlockNumber;
			}
		}
		if (!BlockNumberIsValid(newtail))
			end = Max(end, oldtail + 1);
	}
	end = cut_past_reserve(roles, nblocks, end);
	pfree(roles);
	if (end >= nblocks)
		return 0;

	if (BlockNumberIsValid(newtail))
	{
		/* (relisted pages went to the list's front since meta was read) */
		MvHnswReadMeta(index, &meta);
		move_tail(index, newtail, list_prev(index, meta.growingFree, newtail), oldtail);
	}
	set_cut(index, end);
	unlink_from(index, end);
	MvPause(MV_PAUSE_HNSW_TRUNCATE);
	/*
	 * the records that unlist the pages reach disk before the file shrinks:
	 * up to the end of this backend's last record (not the insert position,
	 * which at the start of a WAL page lies past its header, beyond anything
	 * written: XLogFlush would raise an error)
	 */
	XLogFlush(XactLastRecEnd);
	RelationTruncate(index, end);
	set_cut(index, 0);
	return nblocks - end;
}

/*
 * Cut off the free pages at the end of the index, if the lock is granted at
 * once; the caller holds MV_HNSW_SEAL_LOCK.  Returns the pages cut off.
 */
BlockNumber
MvHnswTruncateFree(Relation index)
{
	BlockNumber nblocks;
	BlockNumber cut;
	MvHnswMetaPageData meta;

	/*
	 * (a parallel VACUUM's index passes cannot take the lock: it needs an
	 * XID; and this backend's own locks never stop it, so a scan of the index
	 * still open in this backend, a seal called from a query that scans it,
	 * must: only the caller's reference may be open)
	 */
	if (!MvHnswTruncate || IsTransactionBlock() || IsInParallelMode() || RecoveryInProgress() ||
		index->rd_refcnt > 1)
		return 0;
	nblocks = RelationGetNumberOfBlocks(index);
	MvHnswReadMeta(index, &meta);
	/* a crash after a cut, before it was forgotten: nothing past it to list */
	if (meta.truncateFrom != 0 && meta.truncateFrom >= nblocks)
	{
		set_cut(index, 0);
		meta.truncateFrom = 0;
	}
	/* most seals end on a graph page: no lock for those */
	if (meta.truncateFrom == 0 &&
		(nblocks <= MV_HNSW_METAPAGE_BLKNO + 1 || !loose_page(index, nblocks - 1)))
		return 0;
	if (!ConditionalLockRelation(index, AccessExclusiveLock))
	{
		ereport(DEBUG1,
				(errmsg_internal("milvus_hnsw index \"%s\": free pages at its end kept, the index is in use",
								 RelationGetRelationName(index))));
		return 0;
	}
	cut = truncate_locked(index);
	UnlockRelation(index, AccessExclusiveLock);
	if (cut > 0)
		ereport(DEBUG1,
				(errmsg_internal("milvus_hnsw index \"%s\": %u free pages at its end given back",
								 RelationGetRelationName(index), cut)));
	return cut;
}
