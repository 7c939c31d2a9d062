/*
 * hnswparallel.c
 *		Parallel build of a milvus_hnsw index (PostgreSQL 15 has no
 *		amcanbuildparallel: the AM starts its own workers, as nbtsort.c does).
 *
 * The leader sets up a DSM segment holding the shared state, a parallel heap
 * scan and the graph arena (the estimated graph with room to spare, at most
 * maintenance_work_mem), launches the workers and scans as one of them.
 * Each participant takes heap blocks from the parallel scan and adds its
 * rows to the one shared graph (MvHnswGraphAdd, in hnswgraph.c); the arena
 * holds offsets, never pointers, as the segment maps at different
 * addresses.  When every participant is done, the leader writes
 * the pages from the graph as a serial build does, still in parallel mode
 * (no WAL is written until it ends).  If the arena fills, participants stop
 * adding and the caller builds serially.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "executor/instrument.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "optimizer/plancat.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/pmsignal.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "hnsw.h"
#include "milvus/guc.h"

#define PARALLEL_KEY_MVHNSW_SHARED	UINT64CONST(0xB000000000000001)
#define PARALLEL_KEY_MVHNSW_ARENA	UINT64CONST(0xB000000000000002)

/* A shared arena: the estimated graph times this, plus this many bytes */
#define MV_HNSW_ARENA_SLACK			1.5
#define MV_HNSW_ARENA_MIN			(4 * 1024 * 1024)

/* How often (ms) a waiting leader refreshes the progress counter */
#define MV_HNSW_PROGRESS_INTERVAL	100

/* In the DSM segment; a ParallelTableScanDescData follows */
typedef struct MvHnswParallelShared
{
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	int			nparticipants;	/* launched workers and the leader */
	ConditionVariable donecv;	/* signalled as each participant finishes */
	slock_t		mutex;			/* guards the two fields below */
	int			ndone;
	double		reltuples;		/* heap tuples the finished participants scanned */
	pg_atomic_uint64 indtuples; /* rows added to the graph */
} MvHnswParallelShared;

#define ParallelTableScanFromShared(shared) \
	((ParallelTableScanDesc) ((char *) (shared) + BUFFERALIGN(sizeof(MvHnswParallelShared))))

struct MvHnswLeader
{
	ParallelContext *pcxt;
	MvHnswParallelShared *shared;
	MvHnswArena *arena;
	Snapshot	snapshot;
	MvHnswParallelUsage usage;
	Relation	heap;
	Relation	index;
};

/* One participant's scan */
typedef struct MvHnswParticipant
{
	MvHnswParallelShared *shared;
	MvHnswGraph *graph;
	MemoryContext tmpCtx;
	bool		leader;			/* reports progress */
} MvHnswParticipant;

/*
 * Workers to ask for: what the planner allows for an index build on heap
 * (max_parallel_maintenance_workers, the table's parallel_workers), or 0
 * when the estimated graph would not fit an arena of *arenaSize bytes.  With
 * workers, *arenaSize becomes what the estimate needs with room to spare:
 * the arena is shared memory, allocated (and on Linux committed) whole.
 */
int
MvHnswParallelWorkers(Relation heap, Relation index, Size *arenaSize)
{
	int			nworkers;
	int			m = MvHnswGetM(index);
	int			dims = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	BlockNumber pages;
	double		tuples;
	double		allvisfrac;
	double		perElement;
	double		needed;

	nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
	if (nworkers == 0)
		return 0;

	/* an element: its chunk with a level-0 list, and upper lists 1/(m-1) of the time */
	estimate_rel_size(heap, NULL, &pages, &tuples, &allvisfrac);
	perElement = MV_HNSW_CHUNK_SIZE(m, 0, MvHnswValueSizeEstimate(index, dims)) +
		(double) MV_HNSW_LIST_SIZE(m) / (m - 1);
	needed = MV_HNSW_ARENA_START + tuples * perElement;
	if (needed > *arenaSize)
	{
		ereport(DEBUG1,
				(errmsg_internal("milvus_hnsw: a graph of about %.0f tuples would not fit maintenance_work_mem, building serially",
								 tuples)));
		return 0;
	}
	*arenaSize = (Size) Min((double) *arenaSize,
							needed * MV_HNSW_ARENA_SLACK + MV_HNSW_ARENA_MIN);
	return nworkers;
}

/* Per heap row a participant scans */
static void
parallel_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				  bool tupleIsAlive, void *arg)
{
	MvHnswParticipant *p = (MvHnswParticipant *) arg;
	MemoryContext oldctx;
	Pointer		value;

	if (isnull[0])
		return;
	CHECK_FOR_INTERRUPTS();
	if (!PostmasterIsAlive())
		proc_exit(1);
	/* once full, the rest of the scan only runs out */
	if (pg_atomic_read_u32(&p->graph->arena->full) != 0)
		return;

	oldctx = MemoryContextSwitchTo(p->tmpCtx);
	value = MvHnswDetoastCopy(values[0]);
	if (MvHnswGraphAdd(p->graph, value, tid))
	{
		uint64		done = pg_atomic_add_fetch_u64(&p->shared->indtuples, 1);

		if (p->leader)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) done);
	}
	MemoryContextSwitchTo(oldctx);
	MemoryContextReset(p->tmpCtx);
}

/*
 * Scan this participant's share of the heap into the shared graph and say
 * so; returns the graph as this process sees it.
 */
static MvHnswGraph *
participate(MvHnswParallelShared *shared, MvHnswArena *arena, Relation heap,
			Relation index, bool leader)
{
	MvHnswParticipant p;
	IndexInfo  *indexInfo;
	TableScanDesc scan;
	double		reltuples;

	p.shared = shared;
	p.leader = leader;
	p.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw build tuple",
									 ALLOCSET_DEFAULT_SIZES);
	p.graph = MvHnswGraphCreate(index, false, CurrentMemoryContext, true, MvHnswGetM(index),
								MvHnswGetEfConstruction(index));
	MvHnswGraphAttach(p.graph, arena, true);

	indexInfo = BuildIndexInfo(index);
	indexInfo->ii_Concurrent = shared->isconcurrent;
	MvPause(MV_PAUSE_HNSW_BUILD_LOAD);
	scan = table_beginscan_parallel(heap, ParallelTableScanFromShared(shared));
	reltuples = table_index_build_scan(heap, index, indexInfo, true, leader,
									   parallel_callback, &p, scan);
	MemoryContextDelete(p.tmpCtx);

	SpinLockAcquire(&shared->mutex);
	shared->reltuples += reltuples;
	shared->ndone++;
	SpinLockRelease(&shared->mutex);
	ConditionVariableSignal(&shared->donecv);
	return p.graph;
}

/*
 * The tranche of the build graph's LWLocks: one id for the cluster's life,
 * kept in a few bytes of the main shared memory (a new id per build would
 * grow every backend's tranche name table), and registered in this process.
 */
static int
lock_tranche(void)
{
	static int	tranche = 0;

	if (tranche == 0)
	{
		int		   *shared;
		bool		found;

		LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
		shared = ShmemInitStruct("milvus_hnsw build lock tranche", sizeof(int), &found);
		if (!found)
			*shared = LWLockNewTrancheId();
		tranche = *shared;
		LWLockRelease(AddinShmemInitLock);
		LWLockRegisterTranche(tranche, "milvus_hnsw_build");
	}
	return tranche;
}

/*
 * Set up the shared state and launch up to nworkers workers; NULL (and back
 * out of parallel mode) when none could be launched.
 */
MvHnswLeader *
MvHnswParallelBegin(Relation heap, Relation index, IndexInfo *indexInfo, int nworkers,
					Size arenaSize)
{
	MvHnswLeader *leader;
	ParallelContext *pcxt;
	Snapshot	snapshot;
	Size		estshared;
	MvHnswParallelShared *shared;
	MvHnswArena *arena;
	MvHnswParallelUsage usage;
	int			tranche;

	EnterParallelMode();
	pcxt = CreateParallelContext("milvus", "mvhnsw_parallel_build_main", nworkers);

	/* CONCURRENTLY scans with an MVCC snapshot, a plain build sees all tuples */
	if (!indexInfo->ii_Concurrent)
		snapshot = SnapshotAny;
	else
		snapshot = RegisterSnapshot(GetTransactionSnapshot());

	estshared = add_size(BUFFERALIGN(sizeof(MvHnswParallelShared)),
						 table_parallelscan_estimate(heap, snapshot));
	shm_toc_estimate_chunk(&pcxt->estimator, estshared);
	shm_toc_estimate_chunk(&pcxt->estimator, arenaSize);
	shm_toc_estimate_keys(&pcxt->estimator, 2);
	MvHnswParallelEstimateUsage(pcxt);

	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		if (IsMVCCSnapshot(snapshot))
			UnregisterSnapshot(snapshot);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return NULL;
	}

	shared = shm_toc_allocate(pcxt->toc, estshared);
	shared->heaprelid = RelationGetRelid(heap);
	shared->indexrelid = RelationGetRelid(index);
	shared->isconcurrent = indexInfo->ii_Concurrent;
	shared->nparticipants = 0;
	ConditionVariableInit(&shared->donecv);
	SpinLockInit(&shared->mutex);
	shared->ndone = 0;
	shared->reltuples = 0;
	pg_atomic_init_u64(&shared->indtuples, 0);
	table_parallelscan_initialize(heap, ParallelTableScanFromShared(shared), snapshot);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_MVHNSW_SHARED, shared);

	tranche = lock_tranche();
	arena = shm_toc_allocate(pcxt->toc, arenaSize);
	MvHnswArenaInit(arena, arenaSize, tranche);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_MVHNSW_ARENA, arena);

	MvHnswParallelStoreUsage(pcxt, &usage);

	LaunchParallelWorkers(pcxt);
	if (pcxt->nworkers_launched == 0)
	{
		WaitForParallelWorkersToFinish(pcxt);
		if (IsMVCCSnapshot(snapshot))
			UnregisterSnapshot(snapshot);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return NULL;
	}
	/* a worker that failed to start would otherwise be waited for forever */
	WaitForParallelWorkersToAttach(pcxt);
	shared->nparticipants = pcxt->nworkers_launched + 1;
	ereport(DEBUG1,
			(errmsg_internal("milvus_hnsw: building with %d parallel workers",
							 pcxt->nworkers_launched)));

	leader = palloc0(sizeof(MvHnswLeader));
	leader->pcxt = pcxt;
	leader->shared = shared;
	leader->arena = arena;
	leader->snapshot = snapshot;
	leader->usage = usage;
	leader->heap = heap;
	leader->index = index;
	return leader;
}

/*
 * Scan as a participant, then wait for the others; returns the shared graph,
 * with the heap tuples scanned and the rows added.
 */
MvHnswGraph *
MvHnswParallelScan(MvHnswLeader *leader, double *reltuples, double *indtuples)
{
	MvHnswParallelShared *shared = leader->shared;
	MvHnswGraph *g;

	g = participate(shared, leader->arena, leader->heap, leader->index, true);
	for (;;)
	{
		int			ndone;

		SpinLockAcquire(&shared->mutex);
		ndone = shared->ndone;
		SpinLockRelease(&shared->mutex);
		if (ndone >= shared->nparticipants)
			break;
		ConditionVariableTimedSleep(&shared->donecv, MV_HNSW_PROGRESS_INTERVAL,
									WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
									 (int64) pg_atomic_read_u64(&shared->indtuples));
	}
	ConditionVariableCancelSleep();

	*reltuples = shared->reltuples;
	*indtuples = (double) pg_atomic_read_u64(&shared->indtuples);
	return g;
}

/* Wait for the workers to exit, count their WAL and buffer use, leave parallel mode */
void
MvHnswParallelEnd(MvHnswLeader *leader)
{
	WaitForParallelWorkersToFinish(leader->pcxt);
	MvHnswParallelAccumUsage(leader->pcxt, &leader->usage);
	if (IsMVCCSnapshot(leader->snapshot))
		UnregisterSnapshot(leader->snapshot);
	DestroyParallelContext(leader->pcxt);
	ExitParallelMode();
	pfree(leader);
}

/* Entry point of a parallel build worker */
void
mvhnsw_parallel_build_main(dsm_segment *seg, shm_toc *toc)
{
	MvHnswParallelShared *shared;
	MvHnswArena *arena;
	Relation	heap;
	Relation	index;
	LOCKMODE	heapLockmode;
	LOCKMODE	indexLockmode;

	shared = shm_toc_lookup(toc, PARALLEL_KEY_MVHNSW_SHARED, false);
	arena = shm_toc_lookup(toc, PARALLEL_KEY_MVHNSW_ARENA, false);

	/* the locks the leader holds, as index_build and nbtsort.c take them */
	if (!shared->isconcurrent)
	{
		heapLockmode = ShareLock;
		indexLockmode = AccessExclusiveLock;
	}
	else
	{
		heapLockmode = ShareUpdateExclusiveLock;
		indexLockmode = RowExclusiveLock;
	}
	heap = table_open(shared->heaprelid, heapLockmode);
	index = index_open(shared->indexrelid, indexLockmode);
	LWLockRegisterTranche(arena->tranche, "milvus_hnsw_build");

	MvHnswParallelWorkerBegin(toc);
	participate(shared, arena, heap, index, false);
	MvHnswParallelWorkerEnd(toc);

	index_close(index, indexLockmode);
	table_close(heap, heapLockmode);
}
