/*
 * hnswparallelctx.c
 *		What every parallel context of milvus_hnsw carries besides its own
 *		state (the parallel build, hnswparallel.c, and the parallel seal,
 *		hnswsealparallel.c): the query text the workers show in
 *		pg_stat_activity, and their WAL and buffer use, which the leader adds
 *		to its own for pg_stat_statements and EXPLAIN, as nbtsort.c does.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "executor/instrument.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"

#include "hnsw.h"

#define PARALLEL_KEY_QUERY_TEXT		UINT64CONST(0xB000000000000003)
#define PARALLEL_KEY_WAL_USAGE		UINT64CONST(0xB000000000000004)
#define PARALLEL_KEY_BUFFER_USAGE	UINT64CONST(0xB000000000000005)

/* Reserve room for them in pcxt's estimator, before InitializeParallelDSM */
void
MvHnswParallelEstimateUsage(ParallelContext *pcxt)
{
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(sizeof(WalUsage), pcxt->nworkers));
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(sizeof(BufferUsage), pcxt->nworkers));
	shm_toc_estimate_keys(&pcxt->estimator, 2);
	if (debug_query_string)
	{
		shm_toc_estimate_chunk(&pcxt->estimator, strlen(debug_query_string) + 1);
		shm_toc_estimate_keys(&pcxt->estimator, 1);
	}
}

/* Put them in pcxt's segment, after InitializeParallelDSM */
void
MvHnswParallelStoreUsage(ParallelContext *pcxt, MvHnswParallelUsage *usage)
{
	usage->walusage = shm_toc_allocate(pcxt->toc, mul_size(sizeof(WalUsage), pcxt->nworkers));
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_WAL_USAGE, usage->walusage);
	usage->bufferusage = shm_toc_allocate(pcxt->toc,
										  mul_size(sizeof(BufferUsage), pcxt->nworkers));
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_BUFFER_USAGE, usage->bufferusage);
	if (debug_query_string)
	{
		Size		len = strlen(debug_query_string) + 1;
		char	   *querycopy = shm_toc_allocate(pcxt->toc, len);

		memcpy(querycopy, debug_query_string, len);
		shm_toc_insert(pcxt->toc, PARALLEL_KEY_QUERY_TEXT, querycopy);
	}
}

/* Add the finished workers' WAL and buffer use to the leader's */
void
MvHnswParallelAccumUsage(ParallelContext *pcxt, MvHnswParallelUsage *usage)
{
	for (int i = 0; i < pcxt->nworkers_launched; i++)
		InstrAccumParallelQuery(&usage->bufferusage[i], &usage->walusage[i]);
}

/* In a worker, before its work: show the query, start counting */
void
MvHnswParallelWorkerBegin(shm_toc *toc)
{
	debug_query_string = shm_toc_lookup(toc, PARALLEL_KEY_QUERY_TEXT, true);
	pgstat_report_activity(STATE_RUNNING, debug_query_string);
	InstrStartParallelQuery();
}

/* In a worker, after its work: hand the leader what it used */
void
MvHnswParallelWorkerEnd(shm_toc *toc)
{
	WalUsage   *walusage = shm_toc_lookup(toc, PARALLEL_KEY_WAL_USAGE, false);
	BufferUsage *bufferusage = shm_toc_lookup(toc, PARALLEL_KEY_BUFFER_USAGE, false);

	InstrEndParallelQuery(&bufferusage[ParallelWorkerNumber], &walusage[ParallelWorkerNumber]);
}
