/*
 * workers.h
 *		The data coordinator (src/workers/): background workers that seal and
 *		compact the growing segments of milvus_hnsw indexes, and its settings.
 *
 * A launcher, started by the postmaster when the library is preloaded,
 * starts one worker per database; that worker seals an index's growing
 * segment when it is large or has gone idle, and compacts what vacuum left.
 * See doc/indexes.md, "Growing segment and the data coordinator".
 */
#ifndef MILVUS_WORKERS_H
#define MILVUS_WORKERS_H

#include <limits.h>

/* milvus.data_coordinator_naptime: milliseconds between two rounds */
#define MV_COORDINATOR_MIN_NAPTIME		10
#define MV_COORDINATOR_DEFAULT_NAPTIME	1000
#define MV_COORDINATOR_MAX_NAPTIME		3600000

/* milvus.seal_rows: growing rows that make a seal due */
#define MV_MIN_SEAL_ROWS				1
#define MV_DEFAULT_SEAL_ROWS			10000
#define MV_MAX_SEAL_ROWS				INT_MAX

/* milvus.seal_idle_time: seconds a growing segment stays unchanged before a seal */
#define MV_MIN_SEAL_IDLE_TIME			1
#define MV_DEFAULT_SEAL_IDLE_TIME		10
#define MV_MAX_SEAL_IDLE_TIME			(INT_MAX / 1000)

/* milvus.seal_parallel_workers: parallel workers a data coordinator's seal may use */
#define MV_DEFAULT_SEAL_PARALLEL_WORKERS	0
#define MV_MAX_SEAL_PARALLEL_WORKERS		1024

extern PGDLLIMPORT bool MvDataCoordinator;
extern PGDLLIMPORT int MvDataCoordinatorNaptime;
extern PGDLLIMPORT int MvSealRows;
extern PGDLLIMPORT int MvSealIdleTime;
extern PGDLLIMPORT int MvSealParallelWorkers;

/*
 * Mark this process's transactions as lazy VACUUM's are (PROC_IN_VACUUM), so
 * that no VACUUM waits for the snapshots they take: the data coordinator's
 * and its parallel seal workers'
 */
extern void MvMarkInVacuum(void);

/* Register the launcher and the shared memory; _PG_init calls it */
extern void MvWorkersInit(void);

/*
 * The import worker (importer.c): run bulk_insert task task_id once the
 * caller's transaction xid commits; false if no worker slot is free
 */
extern PGDLLIMPORT bool MvImportInBackground;
extern bool MvImportWorkerStart(int64 task_id, TransactionId xid);

#endif							/* MILVUS_WORKERS_H */
