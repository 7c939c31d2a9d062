/*
 * hnswbuild.c
 *		Build a milvus_hnsw index.
 *
 * The build happens in two phases.  In memory: every heap row goes into a
 * build graph (hnswgraph.c) in an arena of maintenance_work_mem bytes.  On
 * disk: the graph is written page by page after the metapage.  No WAL is
 * written during the build; at its end every page is logged as a full image
 * (log_newpage_range).
 *
 * A serial build scans the heap here and keeps the arena in backend memory;
 * a parallel build (hnswparallel.c) shares it with workers in a DSM segment,
 * and this backend writes the pages once they are done.  When a serial
 * build's arena is full, what it holds is written out and the remaining rows
 * are inserted one by one on disk (with a NOTICE: that is much slower); a
 * parallel build whose arena fills is thrown away and done again serially.
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"

#include "hnsw.h"
#include "milvus/guc.h"

typedef struct MvHnswBuildState
{
	Relation	heap;
	Relation	index;
	MvHnswGraph *graph;			/* in memory, until it spills */
	MemoryContext graphCtx;
	MemoryContext tmpCtx;
	bool		spilled;		/* rows now go straight to disk */
	double		indtuples;
} MvHnswBuildState;

/* Count the elements written in the build's progress */
static void
report_written(int64 done, void *arg)
{
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done);
}

/* Write a build graph to pages after the metapage, as the write sub-phase */
static void
flush_graph(MvHnswGraph *g, Relation index)
{
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, MV_HNSW_PHASE_WRITE);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL,
								 pg_atomic_read_u32(&g->arena->nelements));
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
	MvPause(MV_PAUSE_HNSW_BUILD_WRITE);

	MvHnswGraphWrite(g, index, report_written, NULL);
}

/* Per heap row of the serial build scan */
static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *arg)
{
	MvHnswBuildState *state = (MvHnswBuildState *) arg;
	MemoryContext oldctx;
	Pointer		value;

	if (isnull[0])
		return;
	CHECK_FOR_INTERRUPTS();

	oldctx = MemoryContextSwitchTo(state->tmpCtx);
	value = MvHnswDetoastCopy(values[0]);

	if (!state->spilled && !MvHnswGraphAdd(state->graph, value, tid))
	{
		ereport(NOTICE,
				(errmsg("milvus_hnsw graph no longer fits into maintenance_work_mem after %.0f tuples",
						state->indtuples),
				 errdetail("The rest of the rows are inserted one by one, which is much slower."),
				 errhint("Increase maintenance_work_mem to build the index faster.")));
		flush_graph(state->graph, index);
		MemoryContextDelete(state->graphCtx);
		state->graphCtx = NULL;
		state->graph = NULL;
		state->spilled = true;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, MV_HNSW_PHASE_SPILL);
	}
	if (state->spilled)
		MvHnswInsertOnDisk(index, value, tid, true);

	state->indtuples += 1;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) state->indtuples);
	MemoryContextSwitchTo(oldctx);
	MemoryContextReset(state->tmpCtx);
}

/* Build in this backend alone; returns the heap tuples scanned */
static double
build_serial(Relation heap, Relation index, IndexInfo *indexInfo, double *indtuples)
{
	MvHnswBuildState state;
	double		reltuples;

	memset(&state, 0, sizeof(state));
	state.heap = heap;
	state.index = index;
	state.graphCtx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw build graph",
										   ALLOCSET_DEFAULT_SIZES);
	state.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw build tuple",
										 ALLOCSET_DEFAULT_SIZES);
	state.graph = MvHnswGraphCreate(index, false, state.graphCtx, true, MvHnswGetM(index),
									MvHnswGetEfConstruction(index));
	MvHnswGraphAttach(state.graph,
					  MvHnswArenaCreateLocal(state.graphCtx,
											 (Size) maintenance_work_mem * 1024),
					  false);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, MV_HNSW_PHASE_LOAD);
	MvPause(MV_PAUSE_HNSW_BUILD_LOAD);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   build_callback, &state, NULL);

	if (!state.spilled)
	{
		flush_graph(state.graph, index);
		MemoryContextDelete(state.graphCtx);
	}
	else
		MvHnswLinkUnreached(index, true, LOG);
	MemoryContextDelete(state.tmpCtx);
	*indtuples = state.indtuples;
	return reltuples;
}

/*
 * Build with parallel workers and this backend sharing one graph; false if
 * no worker could be launched or the graph did not fit, and nothing was
 * written.
 */
static bool
build_parallel(Relation heap, Relation index, IndexInfo *indexInfo, int nworkers,
			   Size arenaSize, double *reltuples, double *indtuples)
{
	MvHnswLeader *leader;
	MvHnswGraph *g;
	bool		fits;

	leader = MvHnswParallelBegin(heap, index, indexInfo, nworkers, arenaSize);
	if (leader == NULL)
		return false;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, MV_HNSW_PHASE_LOAD);
	g = MvHnswParallelScan(leader, reltuples, indtuples);
	fits = pg_atomic_read_u32(&g->arena->full) == 0;
	if (fits)
		flush_graph(g, index);
	MvHnswParallelEnd(leader);
	if (!fits)
	{
		ereport(NOTICE,
				(errmsg("milvus_hnsw graph no longer fits into maintenance_work_mem after %.0f tuples of a parallel build",
						*indtuples),
				 errdetail("The index is built again without parallel workers."),
				 errhint("Increase maintenance_work_mem to build the index faster.")));
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
	}
	return fits;
}

/* ambuild */
IndexBuildResult *
mvhnsw_build(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	int			dims = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	int			m = MvHnswGetM(index);
	int			efConstruction = MvHnswGetEfConstruction(index);
	Size		arenaSize = (Size) maintenance_work_mem * 1024;
	int			nworkers;
	double		reltuples = 0;
	double		indtuples = 0;
	Buffer		metabuf;

	if (dims < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column does not have dimensions"),
				 errhint("Declare the column with its dimension, e.g. floatvector(768).")));
	if (efConstruction < 2 * m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be greater than or equal to 2 * m")));
	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	metabuf = MvHnswNewBuffer(index, true);
	MvHnswFillMetaPage(BufferGetPage(metabuf), dims, m, efConstruction);
	MarkBufferDirty(metabuf);
	UnlockReleaseBuffer(metabuf);

	nworkers = MvHnswParallelWorkers(heap, index, &arenaSize);
	if (nworkers == 0 ||
		!build_parallel(heap, index, indexInfo, nworkers, arenaSize, &reltuples, &indtuples))
		reltuples = build_serial(heap, index, indexInfo, &indtuples);

	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged index, an empty graph */
void
mvhnsw_buildempty(Relation index)
{
	Page		page = (Page) palloc(BLCKSZ);

	MvHnswFillMetaPage(page, TupleDescAttr(RelationGetDescr(index), 0)->atttypmod,
					   MvHnswGetM(index), MvHnswGetEfConstruction(index));
	PageSetChecksumInplace(page, MV_HNSW_METAPAGE_BLKNO);
	smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, MV_HNSW_METAPAGE_BLKNO,
			  (char *) page, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM,
				MV_HNSW_METAPAGE_BLKNO, page, true);
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
}
