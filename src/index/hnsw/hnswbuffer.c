/*
 * hnswbuffer.c
 *		Pin milvus_hnsw pages without the shared buffer-mapping lookup.
 *
 * A graph walk pins a page per neighbour it measures, a few hundred per
 * query, and most of them were pinned by the same backend moments or queries
 * before.  ReadBuffer finds a page through the shared buffer-mapping hash
 * table, under a partition lock; on Fashion-MNIST that lookup was 16% of a
 * query's time (perf).  So each backend remembers, per index and block, the
 * buffer that last held the page, and ReadRecentBuffer pins that buffer
 * directly if it still holds the page (it checks the buffer's tag under the
 * buffer header lock, so a stale guess only costs the ordinary lookup).
 *
 * Before pinning a batch of pages, a walk asks MvHnswPrefetchItem to start
 * loading the buffer headers, page headers and line pointers in the buffers
 * the map remembers, so that their cache misses overlap instead of coming one
 * after the other (the header's spinlock was 9% of a query in perf).
 *
 * The map lives in the index's relcache entry (rd_amcache, in rd_indexcxt):
 * PostgreSQL frees it whenever the entry is rebuilt, and a new relfilenode
 * (REINDEX, TRUNCATE) never matches an old buffer's tag.
 */
#include "postgres.h"

#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"

/* blocks past this are read the ordinary way (the map stays under 4 MB) */
#define MV_HNSW_RECENT_MAX_BLOCKS	(1 << 20)

typedef struct MvHnswRecentBuffers
{
	MvHnswAppendHint hint;		/* for appends to the growing segment */
	BlockNumber nblocks;		/* entries in buffers */
	Buffer		buffers[FLEXIBLE_ARRAY_MEMBER];	/* InvalidBuffer if unknown */
} MvHnswRecentBuffers;

/* The map of this index, grown to hold blkno */
static MvHnswRecentBuffers *
recent_buffers(Relation index, BlockNumber blkno)
{
	MvHnswRecentBuffers *map = (MvHnswRecentBuffers *) index->rd_amcache;
	BlockNumber nblocks;
	MvHnswRecentBuffers *grown;

	if (map != NULL && blkno < map->nblocks)
		return map;

	nblocks = Max(blkno + 1, map != NULL ? map->nblocks * 2 : 1024);
	nblocks = Min(nblocks, MV_HNSW_RECENT_MAX_BLOCKS);
	grown = MemoryContextAllocZero(index->rd_indexcxt,
								   offsetof(MvHnswRecentBuffers, buffers) +
								   sizeof(Buffer) * nblocks);
	grown->nblocks = nblocks;
	if (map != NULL)
	{
		grown->hint = map->hint;
		memcpy(grown->buffers, map->buffers, sizeof(Buffer) * map->nblocks);
		pfree(map);
	}
	index->rd_amcache = grown;
	return grown;
}

/*
 * ReadBuffer for the pages of a milvus_hnsw index (main fork, default
 * strategy), trying the buffer that held the page last time first.
 */
Buffer
MvHnswReadBuffer(Relation index, BlockNumber blkno)
{
	MvHnswRecentBuffers *map;
	Buffer		buf;

	if (blkno >= MV_HNSW_RECENT_MAX_BLOCKS)
		return ReadBuffer(index, blkno);

	map = recent_buffers(index, blkno);
	buf = map->buffers[blkno];
	if (BufferIsValid(buf) &&
		ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, blkno, buf))
		return buf;

	buf = ReadBuffer(index, blkno);
	recent_buffers(index, blkno)->buffers[blkno] = buf;
	return buf;
}

/* The page in the buffer the map remembers for tid's block, or NULL */
static inline Page
remembered_page(Relation index, ItemPointer tid, Buffer *buf)
{
	MvHnswRecentBuffers *map = (MvHnswRecentBuffers *) index->rd_amcache;
	BlockNumber blkno = ItemPointerGetBlockNumberNoCheck(tid);

	if (map == NULL || blkno >= map->nblocks)
		return NULL;
	*buf = map->buffers[blkno];
	if (*buf <= 0)				/* unknown, or a local buffer */
		return NULL;
	return BufferGetBlock(*buf);
}

/*
 * Start loading into the CPU cache what reading the tuple at tid will touch
 * first: the buffer header, the page header and the tuple's line pointer, in
 * the buffer the map remembers for its page (nothing if it remembers none).
 * Only a hint: no pin, no lock.
 */
void
MvHnswPrefetchItem(Relation index, ItemPointer tid)
{
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);
	Buffer		buf;
	Page		page = remembered_page(index, tid, &buf);

	if (page == NULL)
		return;
	mv_prefetch(GetBufferDescriptor(buf - 1));
	mv_prefetch(page);
	if (off >= FirstOffsetNumber && off <= MaxOffsetNumber)
		mv_prefetch(PageGetItemId(page, off));
}

/*
 * Start loading the first cache lines of the tuple at tid, through its line
 * pointer (which MvHnswPrefetchItem should have fetched a step earlier), in
 * the buffer the map remembers.  Only a hint: the line pointer is read
 * unlocked, and a stale one costs a wasted prefetch.
 */
void
MvHnswPrefetchTuple(Relation index, ItemPointer tid)
{
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);
	Buffer		buf;
	Page		page = remembered_page(index, tid, &buf);
	ItemId		iid;

	if (page == NULL || off < FirstOffsetNumber || off > MaxOffsetNumber)
		return;
	iid = PageGetItemId(page, off);
	if (ItemIdGetOffset(iid) + 4 * PG_CACHE_LINE_SIZE > BLCKSZ)
		return;
	for (int i = 0; i < 4; i++)
		mv_prefetch((char *) page + ItemIdGetOffset(iid) + i * PG_CACHE_LINE_SIZE);
}

/*
 * What appends to this index remember between rows (dims 0 until known):
 * kept with the buffer map, so that a relcache flush (TRUNCATE, REINDEX)
 * forgets both.  The pointer is good until the next MvHnswReadBuffer of the
 * index, which may grow the map into new memory and free the old.
 */
MvHnswAppendHint *
MvHnswGetAppendHint(Relation index)
{
	return &recent_buffers(index, 0)->hint;
}
