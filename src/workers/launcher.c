/*
 * launcher.c
 *		The data coordinator's launcher: one background worker, started by the
 *		postmaster, that starts a database worker (coordinator.c) in every
 *		database that needs one.
 *
 * Every milvus.data_coordinator_naptime it lists the databases that accept
 * connections and starts a worker in each that has none.  A worker that
 * finds no milvus_hnsw index leaves, and says in shared memory when to try
 * that database again (MV_COORDINATOR_IDLE_ROUNDS rounds later), so a
 * database without the extension costs a process start now and then, not a
 * process.  Templates get no worker: CREATE DATABASE cannot copy a template
 * that anyone is connected to.  A database that DROP DATABASE holds gets
 * none either: the worker would only wait to fail.  When max_worker_processes
 * leaves no slot, the launcher says so once and tries again each round.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "milvus/workers.h"

#include "coordinator.h"

/* milvus.* settings of the data coordinator, defined in src/guc.c */
bool		MvDataCoordinator = true;
int			MvDataCoordinatorNaptime = MV_COORDINATOR_DEFAULT_NAPTIME;
int			MvSealRows = MV_DEFAULT_SEAL_ROWS;
int			MvSealIdleTime = MV_DEFAULT_SEAL_IDLE_TIME;
int			MvSealParallelWorkers = MV_DEFAULT_SEAL_PARALLEL_WORKERS;

/* A database the launcher has seen, with the worker it started there */
typedef struct MvLaunched
{
	Oid			dbid;
	BackgroundWorkerHandle *handle;
} MvLaunched;

typedef struct MvDatabase
{
	Oid			dbid;
	NameData	name;
} MvDatabase;

static MvLaunched launched[MV_COORDINATOR_MAX_DATABASES];

/* Whether a data coordinator serves this database: the hnsw insert and vacuum paths ask */
static bool
coordinator_running(void)
{
	return MvDataCoordinator && MvCoordinatorServes();
}

/* What the launcher and the database workers share: milvus's function, a database connection */
static void
worker_init(BackgroundWorker *worker, const char *function, int restart_time)
{
	memset(worker, 0, sizeof(BackgroundWorker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker->bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker->bgw_restart_time = restart_time;
	strlcpy(worker->bgw_library_name, "milvus", BGW_MAXLEN);
	strlcpy(worker->bgw_function_name, function, BGW_MAXLEN);
}

/* Register the launcher and the shared memory when preloaded */
void
MvWorkersInit(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;

	MvStateInit();
	MvHnswCoordinatorRunning = coordinator_running;

	worker_init(&worker, "MvLauncherMain", MV_COORDINATOR_RESTART_SECONDS);
	strlcpy(worker.bgw_name, "milvus data coordinator launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "milvus data coordinator launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

/* The databases that may have a worker: they accept connections and are no template */
static MvDatabase *
list_databases(int *ndatabases)
{
	MemoryContext cxt = CurrentMemoryContext;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	int			n = 0;
	int			size = 16;
	MvDatabase *databases;

	StartTransactionCommand();
	databases = MemoryContextAlloc(cxt, size * sizeof(MvDatabase));
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);

		if (!db->datallowconn || db->datistemplate)
			continue;
		if (n == size)
		{
			size *= 2;
			databases = repalloc(databases, size * sizeof(MvDatabase));
		}
		databases[n].dbid = db->oid;
		databases[n].name = db->datname;
		n++;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();

	*ndatabases = n;
	return databases;
}

/* The launcher's entry for a database, a free one if it has none */
static MvLaunched *
launched_for(Oid dbid)
{
	MvLaunched *free_entry = NULL;

	for (int i = 0; i < MV_COORDINATOR_MAX_DATABASES; i++)
	{
		if (launched[i].dbid == dbid)
			return &launched[i];
		if (launched[i].dbid == InvalidOid && free_entry == NULL)
			free_entry = &launched[i];
	}
	return free_entry;
}

/* Whether the worker started there still runs or is about to */
static bool
launched_alive(MvLaunched *entry)
{
	pid_t		pid;

	return entry->handle != NULL &&
		GetBackgroundWorkerPid(entry->handle, &pid) != BGWH_STOPPED;
}

/* Start a database worker; false when no background worker slot is free */
static bool
start_worker(MvLaunched *entry, const MvDatabase *db)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	MemoryContext old;
	bool		started;

	worker_init(&worker, "MvCoordinatorMain", BGW_NEVER_RESTART);
	snprintf(worker.bgw_name, BGW_MAXLEN, "milvus data coordinator for database %s",
			 NameStr(db->name));
	strlcpy(worker.bgw_type, "milvus data coordinator", BGW_MAXLEN);
	worker.bgw_main_arg = ObjectIdGetDatum(db->dbid);
	worker.bgw_notify_pid = MyProcPid;

	old = MemoryContextSwitchTo(TopMemoryContext);
	started = RegisterDynamicBackgroundWorker(&worker, &handle);
	MemoryContextSwitchTo(old);
	if (!started)
		return false;
	if (entry->handle != NULL)
		pfree(entry->handle);
	entry->dbid = db->dbid;
	entry->handle = handle;
	return true;
}

/* One round: a worker for every database that wants one */
static void
launch_round(void)
{
	static bool short_of_workers = false;
	int			ndatabases;
	MvDatabase *databases = list_databases(&ndatabases);
	Oid		   *live = palloc(Max(ndatabases, 1) * sizeof(Oid));

	for (int i = 0; i < ndatabases; i++)
	{
		MvLaunched *entry = launched_for(databases[i].dbid);

		live[i] = databases[i].dbid;
		if (entry == NULL || launched_alive(entry) ||
			!MvDatabaseWantsWorker(databases[i].dbid) ||
			MvDatabaseBeingDropped(databases[i].dbid))
			continue;
		if (!start_worker(entry, &databases[i]))
		{
			if (!short_of_workers)
				ereport(LOG,
						(errmsg("milvus data coordinator could not start a worker for database \"%s\"",
								NameStr(databases[i].name)),
						 errdetail("No background worker slot is free."),
						 errhint("Raise max_worker_processes; the launcher tries again each round.")));
			short_of_workers = true;
			break;
		}
		short_of_workers = false;
	}

	/* forget the databases that are gone */
	for (int i = 0; i < MV_COORDINATOR_MAX_DATABASES; i++)
	{
		bool		found = false;

		for (int j = 0; j < ndatabases && !found; j++)
			found = launched[i].dbid == live[j];
		if (launched[i].dbid != InvalidOid && !found && !launched_alive(&launched[i]))
		{
			if (launched[i].handle != NULL)
				pfree(launched[i].handle);
			launched[i].dbid = InvalidOid;
			launched[i].handle = NULL;
		}
	}
	MvDatabasesForget(live, ndatabases);
}

/* The launcher's main loop */
void
MvLauncherMain(Datum arg)
{
	MemoryContext round_cxt;

	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	MvLauncherAttach();
	ereport(DEBUG1, (errmsg_internal("milvus data coordinator launcher started")));

	round_cxt = AllocSetContextCreate(TopMemoryContext, "milvus launcher round",
									  ALLOCSET_DEFAULT_SIZES);
	while (!ShutdownRequestPending)
	{
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (MvDataCoordinator)
		{
			MemoryContext old = MemoryContextSwitchTo(round_cxt);

			launch_round();
			MemoryContextSwitchTo(old);
			MemoryContextReset(round_cxt);
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 MvDataCoordinatorNaptime, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	ereport(DEBUG1, (errmsg_internal("milvus data coordinator launcher stopped")));
	proc_exit(0);
}
