/*
 * coordinator.h
 *		Private to src/workers/: the data coordinator's shared state
 *		(state.c), the launcher (launcher.c), the database worker
 *		(coordinator.c) and the SQL functions (segments.c).
 */
#ifndef MILVUS_WORKERS_COORDINATOR_H
#define MILVUS_WORKERS_COORDINATOR_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "milvus/hnsw.h"
#include "postmaster/bgworker.h"
#include "utils/relcache.h"

/*
 * Fixed limits of the shared state: databases past the first
 * MV_COORDINATOR_MAX_DATABASES have no worker; indexes past
 * MV_COORDINATOR_MAX_INDEXES are still sealed, but milvus.segments shows no
 * progress or times for them.
 */
#define MV_COORDINATOR_MAX_DATABASES	64
#define MV_COORDINATOR_MAX_INDEXES		1024

/* A database worker that found no milvus_hnsw index comes back after this many rounds */
#define MV_COORDINATOR_IDLE_ROUNDS		30

/* The postmaster restarts a launcher that failed after this many seconds */
#define MV_COORDINATOR_RESTART_SECONDS	10

/*
 * Longest a database worker sleeps before it looks whether its database is
 * being dropped: DROP DATABASE waits 5 seconds for other sessions to leave.
 */
#define MV_COORDINATOR_DROP_POLL_MS		1000

typedef enum MvJobKind
{
	MV_JOB_NONE = 0,
	MV_JOB_SEAL,
	MV_JOB_COMPACTION
} MvJobKind;

/* A seal or compaction under way in this process, reported into shared memory */
typedef struct MvJob
{
	Oid			dbid;
	Oid			indexid;
	int			slot;			/* index slot, -1 when none */
	MvJobKind	kind;
} MvJob;

/* Shared memory (state.c) */
extern void MvStateInit(void);
extern bool MvStateAvailable(void);
extern bool MvCoordinatorServes(void);
extern void MvLauncherAttach(void);
extern bool MvDatabaseAttach(Oid dbid);
extern bool MvDatabaseWantsWorker(Oid dbid);
extern void MvDatabaseDetach(Oid dbid, TimestampTz recheck_at);
extern void MvDatabasesForget(const Oid *live, int nlive);
extern void MvIndexesForget(Oid dbid, const Oid *live, int nlive);
extern void MvJobBegin(MvJob *job, Oid indexid, MvJobKind kind);
extern void MvJobReport(void *arg, MvHnswSealPhase phase, int64 done, int64 total);
extern void MvJobEnd(MvJob *job, int64 result);

/* What milvus.segments shows of one index; false when nothing is known */
typedef struct MvIndexState
{
	MvJobKind	running;
	int			pid;
	MvHnswSealPhase phase;
	int64		done;
	int64		total;
	TimestampTz lastSeal;
	TimestampTz lastCompaction;
} MvIndexState;

extern bool MvIndexGetState(Oid indexid, MvIndexState *state);

/* The OIDs of this database's milvus_hnsw indexes, in cxt; in a transaction (segments.c) */
extern List *MvHnswIndexes(MemoryContext cxt);
extern bool MvHnswIndexReadable(Relation index);

/* Whether DROP DATABASE holds the database (state.c) */
extern bool MvDatabaseBeingDropped(Oid dbid);

/* The background workers' entry points */
extern PGDLLEXPORT void MvLauncherMain(Datum arg);
extern PGDLLEXPORT void MvCoordinatorMain(Datum arg);

#endif							/* MILVUS_WORKERS_COORDINATOR_H */
