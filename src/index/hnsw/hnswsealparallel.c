/*
 * hnswsealparallel.c
 *		Seal a milvus_hnsw index's growing segment with parallel workers.
 *
 * The leader freezes the chain (hnswseal.c), lists its pages in a DSM
 * segment, launches the workers and links pages as one of them.  Each
 * participant claims the next page from a shared counter and links its rows
 * into the graph on disk as a serial seal does, each with its own element
 * cache and list memory (a share of maintenance_work_mem): the inserts of a
 * seal already share the graph with other inserters, under the same page
 * and buffer locks, so participants need nothing more between them.  A
 * participant marks a page done once every row on it is flagged; the leader
 * hands the longest run of done pages at the head of the chain to the free
 * list every MV_HNSW_SEAL_RELEASE_PAGES pages, as a serial seal does, and the
 * rest when every participant has finished.  A crash or an error leaves
 * what a serial seal leaves: rows flagged or not on frozen pages, which the
 * next seal takes up again.
 *
 * milvus.seal() and milvus.flush() ask for max_parallel_maintenance_workers,
 * as CREATE INDEX and VACUUM do; the data coordinator for
 * milvus.seal_parallel_workers, 0 by default, as autovacuum never goes
 * parallel; VACUUM's own seal is serial.  The workers of a data
 * coordinator's seal mark their transactions PROC_IN_VACUUM as it does.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "executor/instrument.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "hnsw.h"
#include "milvus/guc.h"
#include "milvus/workers.h"

#define PARALLEL_KEY_SEAL_SHARED		UINT64CONST(0xB000000000000011)

/* Rows per participant below which a seal asks for no more workers */
#define MV_HNSW_SEAL_ROWS_PER_WORKER	1000

/* One frozen page */
typedef struct MvHnswSealSlot
{
	BlockNumber blkno;
	pg_atomic_uint32 rows;		/* 0 until linked, then 1 + the rows on the page */
} MvHnswSealSlot;

/* In the DSM segment; npages slots follow */
typedef struct MvHnswSealShared
{
	Oid			indexrelid;
	uint32		npages;
	int64		total;			/* rows on the frozen pages */
	Size		budget;			/* each participant's memory */
	bool		inVacuum;		/* the leader is a data coordinator (PROC_IN_VACUUM) */
	pg_atomic_uint32 next;		/* the next slot to claim */
	pg_atomic_uint64 done;		/* rows done, for progress */
	pg_atomic_uint64 linked;	/* rows linked into the graph */
} MvHnswSealShared;

#define SealSlots(shared) \
	((MvHnswSealSlot *) ((char *) (shared) + MAXALIGN(sizeof(MvHnswSealShared))))

/* What the leader tracks to hand pages to the free list */
typedef struct MvHnswSealLeader
{
	Relation	index;
	MvHnswSealShared *shared;
	BlockNumber stop;			/* the first page not frozen */
	uint32		released;		/* slots handed to the free list */
	MvHnswSealReport report;
	void	   *arg;
} MvHnswSealLeader;

/*
 * Hand the run of done pages after those released to the free list: when it
 * is MV_HNSW_SEAL_RELEASE_PAGES long and no scan reads the chain, or, with
 * wait, whatever it holds (every page is done then).
 */
static void
release_done(MvHnswSealLeader *leader, bool wait)
{
	MvHnswSealShared *shared = leader->shared;
	MvHnswSealSlot *slots = SealSlots(shared);
	uint32		end = leader->released;
	int64		ntuples = 0;
	uint32		rows;

	while (end < shared->npages && (rows = pg_atomic_read_u32(&slots[end].rows)) != 0)
	{
		ntuples += rows - 1;
		end++;
	}
	pg_read_barrier();
	if (end == leader->released ||
		(!wait && end - leader->released < MV_HNSW_SEAL_RELEASE_PAGES))
		return;
	if (MvHnswSealRelease(leader->index, slots[leader->released].blkno, slots[end - 1].blkno,
						  end < shared->npages ? slots[end].blkno : leader->stop, ntuples, wait))
		leader->released = end;
}

/* Link pages until none is left to claim; the leader also releases and reports */
static void
participate(MvHnswSealShared *shared, Relation index, MvHnswSealLeader *leader)
{
	MvHnswSealSlot *slots = SealSlots(shared);
	MvHnswSealer *sg = MvHnswSealerCreate(index, shared->budget);

	for (;;)
	{
		uint32		i = pg_atomic_fetch_add_u32(&shared->next, 1);
		int64		done = 0;
		int64		linked;
		int			nrows;
		BlockNumber next;

		if (i >= shared->npages)
			break;
		linked = MvHnswSealPage(sg, slots[i].blkno, NULL, NULL, NULL, NULL, NULL, &done,
								shared->total, &nrows, &next);
		pg_atomic_fetch_add_u64(&shared->linked, (uint64) linked);
		/* a full barrier: the page's flags are set before it reads done */
		pg_atomic_fetch_add_u64(&shared->done, (uint64) done);
		pg_atomic_write_u32(&slots[i].rows, (uint32) nrows + 1);
		if (leader)
		{
			MvHnswSealProgress(leader->report, leader->arg, MV_HNSW_SEAL_LINK,
							   (int64) pg_atomic_read_u64(&shared->done), shared->total);
			release_done(leader, false);
		}
	}
	MvHnswSealerFree(sg);
}

/* The frozen pages from head up to stop, in chain order; sets *npages */
static BlockNumber *
frozen_pages(Relation index, BlockNumber head, BlockNumber stop, uint32 *npages)
{
	uint32		cap = 64;
	uint32		n = 0;
	BlockNumber *blocks = palloc(sizeof(BlockNumber) * cap);

	for (BlockNumber blkno = head; blkno != stop;)
	{
		Buffer		buf;
		Page		page;

		CHECK_FOR_INTERRUPTS();
		if (n == cap)
		{
			cap *= 2;
			blocks = repalloc_huge(blocks, sizeof(BlockNumber) * cap);
		}
		blocks[n++] = blkno;
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		MvHnswCheckGrowingPage(index, page, blkno);
		blkno = MvHnswPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	*npages = n;
	return blocks;
}

/*
 * Link the frozen pages from head up to stop (total rows) with up to nworkers
 * parallel workers and release them.  Returns the rows linked, or -1 when the
 * seal is too small for workers, or none could be launched: the caller then
 * seals serially, nothing done yet.
 */
int64
MvHnswSealParallel(Relation index, BlockNumber head, BlockNumber stop, int64 total,
				   int nworkers, MvHnswSealReport report, void *arg)
{
	ParallelContext *pcxt;
	MvHnswSealShared *shared;
	MvHnswSealSlot *slots;
	MvHnswSealLeader leader;
	BlockNumber *blocks;
	uint32		npages;
	Size		estshared;
	MvHnswParallelUsage usage;
	bool		pushed;
	int64		linked;

	/* a test holding a seal at a pause point expects one process there */
	nworkers = Min(nworkers, total / MV_HNSW_SEAL_ROWS_PER_WORKER - 1);
	if (nworkers <= 0 || MvPausePoints != 0 || IsInParallelMode())
		return -1;
	blocks = frozen_pages(index, head, stop, &npages);
	nworkers = Min(nworkers, (int) npages - 1);
	if (nworkers <= 0)
	{
		pfree(blocks);
		return -1;
	}

	/* the workers take the leader's snapshots; a data coordinator has none */
	pushed = !ActiveSnapshotSet();
	if (pushed)
		PushActiveSnapshot(GetTransactionSnapshot());
	EnterParallelMode();
	pcxt = CreateParallelContext("milvus", "mvhnsw_seal_worker_main", nworkers);
	estshared = add_size(MAXALIGN(sizeof(MvHnswSealShared)),
						 mul_size(sizeof(MvHnswSealSlot), npages));
	shm_toc_estimate_chunk(&pcxt->estimator, estshared);
	shm_toc_estimate_keys(&pcxt->estimator, 1);
	MvHnswParallelEstimateUsage(pcxt);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		if (pushed)
			PopActiveSnapshot();
		pfree(blocks);
		return -1;
	}

	shared = shm_toc_allocate(pcxt->toc, estshared);
	shared->indexrelid = RelationGetRelid(index);
	shared->npages = npages;
	shared->total = total;
	shared->budget = (Size) maintenance_work_mem * 1024 / (nworkers + 1);
	shared->inVacuum = (MyProc->statusFlags & PROC_IN_VACUUM) != 0;
	pg_atomic_init_u32(&shared->next, 0);
	pg_atomic_init_u64(&shared->done, 0);
	pg_atomic_init_u64(&shared->linked, 0);
	slots = SealSlots(shared);
	for (uint32 i = 0; i < npages; i++)
	{
		slots[i].blkno = blocks[i];
		pg_atomic_init_u32(&slots[i].rows, 0);
	}
	pfree(blocks);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_SEAL_SHARED, shared);
	MvHnswParallelStoreUsage(pcxt, &usage);

	LaunchParallelWorkers(pcxt);
	if (pcxt->nworkers_launched == 0)
	{
		WaitForParallelWorkersToFinish(pcxt);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		if (pushed)
			PopActiveSnapshot();
		return -1;
	}
	ereport(DEBUG1,
			(errmsg_internal("milvus_hnsw: sealing %lld rows with %d parallel workers",
							 (long long) total, pcxt->nworkers_launched)));

	leader.index = index;
	leader.shared = shared;
	leader.stop = stop;
	leader.released = 0;
	leader.report = report;
	leader.arg = arg;
	participate(shared, index, &leader);
	WaitForParallelWorkersToFinish(pcxt);
	MvHnswParallelAccumUsage(pcxt, &usage);

	MvPause(MV_PAUSE_HNSW_SEAL_RELEASE);
	MvHnswSealProgress(report, arg, MV_HNSW_SEAL_RELEASE,
					   (int64) pg_atomic_read_u64(&shared->done), total);
	release_done(&leader, true);
	Assert(leader.released == npages);
	linked = (int64) pg_atomic_read_u64(&shared->linked);

	DestroyParallelContext(pcxt);
	ExitParallelMode();
	if (pushed)
		PopActiveSnapshot();
	return linked;
}

/* Entry point of a parallel seal worker */
void
mvhnsw_seal_worker_main(dsm_segment *seg, shm_toc *toc)
{
	MvHnswSealShared *shared;
	Relation	index;

	shared = shm_toc_lookup(toc, PARALLEL_KEY_SEAL_SHARED, false);
	if (shared->inVacuum)
		MvMarkInVacuum();

	/* the lock the leader holds (milvus.seal, segments.c) */
	index = index_open(shared->indexrelid, RowExclusiveLock);

	MvHnswParallelWorkerBegin(toc);
	participate(shared, index, NULL);
	MvHnswParallelWorkerEnd(toc);

	index_close(index, RowExclusiveLock);
}
