/*
 * state.c
 *		The data coordinator's shared memory: the launcher's pid, one slot per
 *		database (its worker and when to look at it again), one slot per
 *		index (the seal or compaction under way and when each last ran).
 *
 * Everything sits in one fixed-size struct under one LWLock; every access is
 * a few stores, so nobody holds the lock across a call that may wait.  A
 * process clears what it owns on exit (before_shmem_exit), so a worker that
 * dies by FATAL leaves no "running" behind.  The index slots are what
 * milvus.segments shows; when all are taken a new index simply has none.
 */
#include "postgres.h"

#include <signal.h>

#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "coordinator.h"

#define MV_COORDINATOR_TRANCHE	"milvus data coordinator"

typedef struct MvDatabaseSlot
{
	Oid			dbid;			/* InvalidOid: free */
	int			pid;			/* its worker, 0 when none runs */
	TimestampTz recheckAt;		/* start no worker before this */
} MvDatabaseSlot;

typedef struct MvIndexSlot
{
	Oid			dbid;
	Oid			indexid;		/* InvalidOid: free */
	MvJobKind	running;
	int			pid;			/* of the process running it */
	MvHnswSealPhase phase;
	int64		done;
	int64		total;
	TimestampTz lastSeal;		/* 0: never */
	TimestampTz lastCompaction;
} MvIndexSlot;

typedef struct MvCoordinatorState
{
	LWLock	   *lock;
	int			launcherPid;
	Latch	   *launcherLatch;	/* set to make the launcher look now */
	MvDatabaseSlot databases[MV_COORDINATOR_MAX_DATABASES];
	MvIndexSlot indexes[MV_COORDINATOR_MAX_INDEXES];
} MvCoordinatorState;

static MvCoordinatorState *state = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static bool job_cleanup_registered = false;

/* Ask for the space and the lock */
static void
state_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(MvCoordinatorState)));
	RequestNamedLWLockTranche(MV_COORDINATOR_TRANCHE, 1);
}

/* Create (postmaster) or find the state */
static void
state_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	state = ShmemInitStruct("milvus data coordinator", sizeof(MvCoordinatorState), &found);
	if (!found)
	{
		memset(state, 0, sizeof(MvCoordinatorState));
		state->lock = &(GetNamedLWLockTranche(MV_COORDINATOR_TRANCHE))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Install the shared memory hooks; only while preloading */
void
MvStateInit(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = state_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = state_startup;
}

/* Whether there is shared state: the library was preloaded */
bool
MvStateAvailable(void)
{
	return state != NULL;
}

/* The database's slot, taking a free one if create; NULL if none. Lock held. */
static MvDatabaseSlot *database_slot(Oid dbid, bool create);

/*
 * Whether a data coordinator serves this database: MvHnswCoordinatorRunning,
 * which every insert into a growing segment asks.  The answer is read without
 * the lock while this database's worker runs or has been asked for (a stale
 * answer costs at most a warning or a VACUUM's repair left to the worker).
 * When none runs, the launcher is asked, once, to start one now rather than
 * at its next look, and the answer is yes as long as the database has a slot.
 */
bool
MvCoordinatorServes(void)
{
	static int	cached = -1;	/* this database's slot, as last found */
	MvDatabaseSlot *slot;
	Latch	   *latch = NULL;

	if (state == NULL || ((volatile MvCoordinatorState *) state)->launcherPid == 0)
		return false;
	if (cached >= 0 && state->databases[cached].dbid == MyDatabaseId)
	{
		volatile MvDatabaseSlot *known = &state->databases[cached];

		/* a worker runs, or the launcher was asked for one already */
		if (known->pid != 0 || known->recheckAt == 0)
			return true;
	}

	LWLockAcquire(state->lock, LW_EXCLUSIVE);
	slot = database_slot(MyDatabaseId, true);
	if (slot != NULL)
	{
		cached = slot - state->databases;
		if (slot->pid == 0)
		{
			slot->recheckAt = 0;
			latch = state->launcherLatch;
		}
	}
	LWLockRelease(state->lock);
	if (latch != NULL)
		SetLatch(latch);
	return slot != NULL;
}

static void
launcher_detach(int code, Datum arg)
{
	LWLockAcquire(state->lock, LW_EXCLUSIVE);
	if (state->launcherPid == MyProcPid)
	{
		state->launcherPid = 0;
		state->launcherLatch = NULL;
	}
	LWLockRelease(state->lock);
}

/* Record this process as the launcher until it exits */
void
MvLauncherAttach(void)
{
	LWLockAcquire(state->lock, LW_EXCLUSIVE);
	state->launcherPid = MyProcPid;
	state->launcherLatch = MyLatch;
	LWLockRelease(state->lock);
	before_shmem_exit(launcher_detach, (Datum) 0);
}

static MvDatabaseSlot *
database_slot(Oid dbid, bool create)
{
	MvDatabaseSlot *free_slot = NULL;

	for (int i = 0; i < MV_COORDINATOR_MAX_DATABASES; i++)
	{
		MvDatabaseSlot *slot = &state->databases[i];

		if (slot->dbid == dbid)
			return slot;
		if (slot->dbid == InvalidOid && free_slot == NULL)
			free_slot = slot;
	}
	if (create && free_slot != NULL)
	{
		memset(free_slot, 0, sizeof(MvDatabaseSlot));
		free_slot->dbid = dbid;
	}
	return create ? free_slot : NULL;
}

static void
database_detach_on_exit(int code, Datum arg)
{
	MvDatabaseDetach(DatumGetObjectId(arg), 0);
}

/*
 * Record this process as the worker of a database; false if another runs
 * there already (a launcher restarted without knowing its workers) or the
 * slots are full.
 */
bool
MvDatabaseAttach(Oid dbid)
{
	MvDatabaseSlot *slot;
	bool		attached = false;

	LWLockAcquire(state->lock, LW_EXCLUSIVE);
	slot = database_slot(dbid, true);
	if (slot != NULL && (slot->pid == 0 || kill(slot->pid, 0) != 0))
	{
		slot->pid = MyProcPid;
		slot->recheckAt = 0;
		attached = true;
	}
	LWLockRelease(state->lock);
	if (attached)
		before_shmem_exit(database_detach_on_exit, ObjectIdGetDatum(dbid));
	return attached;
}

/*
 * Whether the launcher should start a worker for the database now: none is
 * attached and the time a leaving worker set has come.  False too when no
 * slot is left for the database.
 */
bool
MvDatabaseWantsWorker(Oid dbid)
{
	MvDatabaseSlot *slot;
	bool		wants = false;

	LWLockAcquire(state->lock, LW_EXCLUSIVE);
	slot = database_slot(dbid, true);
	if (slot != NULL)
		wants = slot->pid == 0 && slot->recheckAt <= GetCurrentTimestamp();
	LWLockRelease(state->lock);
	return wants;
}

/* This process leaves the database's slot; no new worker before recheck_at */
void
MvDatabaseDetach(Oid dbid, TimestampTz recheck_at)
{
	MvDatabaseSlot *slot;

	LWLockAcquire(state->lock, LW_EXCLUSIVE);
	slot = database_slot(dbid, false);
	if (slot != NULL && slot->pid == MyProcPid)
	{
		slot->pid = 0;
		slot->recheckAt = Max(slot->recheckAt, recheck_at);
	}
	LWLockRelease(state->lock);
}

static bool
oid_in(Oid oid, const Oid *oids, int noids)
{
	for (int i = 0; i < noids; i++)
	{
		if (oids[i] == oid)
			return true;
	}
	return false;
}

/* Free the slots of databases not in live (dropped ones) that no worker holds */
void
MvDatabasesForget(const Oid *live, int nlive)
{
	LWLockAcquire(state->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MV_COORDINATOR_MAX_DATABASES; i++)
	{
		MvDatabaseSlot *slot = &state->databases[i];

		if (slot->dbid != InvalidOid && slot->pid == 0 && !oid_in(slot->dbid, live, nlive))
			slot->dbid = InvalidOid;
	}
	for (int i = 0; i < MV_COORDINATOR_MAX_INDEXES; i++)
	{
		MvIndexSlot *slot = &state->indexes[i];

		if (slot->indexid != InvalidOid && slot->running == MV_JOB_NONE &&
			!oid_in(slot->dbid, live, nlive))
			slot->indexid = InvalidOid;
	}
	LWLockRelease(state->lock);
}

/* Free the slots of the database's indexes not in live (dropped ones) */
void
MvIndexesForget(Oid dbid, const Oid *live, int nlive)
{
	if (state == NULL)
		return;
	LWLockAcquire(state->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MV_COORDINATOR_MAX_INDEXES; i++)
	{
		MvIndexSlot *slot = &state->indexes[i];

		if (slot->indexid != InvalidOid && slot->dbid == dbid &&
			slot->running == MV_JOB_NONE && !oid_in(slot->indexid, live, nlive))
			slot->indexid = InvalidOid;
	}
	LWLockRelease(state->lock);
}

/* Whether DROP DATABASE (which holds the database's lock exclusively) is under way */
bool
MvDatabaseBeingDropped(Oid dbid)
{
	LOCKTAG		tag;

	/* as LockSharedObject would, without waiting; a session lock needs no transaction */
	SET_LOCKTAG_OBJECT(tag, InvalidOid, DatabaseRelationId, dbid, 0);
	if (LockAcquire(&tag, AccessShareLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		return true;
	LockRelease(&tag, AccessShareLock, true);
	return false;
}

/* The index's slot in this database, taking a free one if create; -1 if none. Lock held. */
static int
index_slot(Oid indexid, bool create)
{
	int			free_slot = -1;

	for (int i = 0; i < MV_COORDINATOR_MAX_INDEXES; i++)
	{
		MvIndexSlot *slot = &state->indexes[i];

		if (slot->indexid == indexid && slot->dbid == MyDatabaseId)
			return i;
		if (slot->indexid == InvalidOid && free_slot < 0)
			free_slot = i;
	}
	if (create && free_slot >= 0)
	{
		memset(&state->indexes[free_slot], 0, sizeof(MvIndexSlot));
		state->indexes[free_slot].dbid = MyDatabaseId;
		state->indexes[free_slot].indexid = indexid;
		return free_slot;
	}
	return -1;
}

/* The job's slot if it is still the job's index's; lock held */
static MvIndexSlot *
job_slot(const MvJob *job)
{
	MvIndexSlot *slot;

	if (state == NULL || job->slot < 0)
		return NULL;
	slot = &state->indexes[job->slot];
	if (slot->indexid != job->indexid || slot->dbid != job->dbid)
		return NULL;
	return slot;
}

/* A process that exits in the middle of a job leaves nothing running */
static void
jobs_cleanup(int code, Datum arg)
{
	LWLockAcquire(state->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MV_COORDINATOR_MAX_INDEXES; i++)
	{
		MvIndexSlot *slot = &state->indexes[i];

		if (slot->indexid != InvalidOid && slot->pid == MyProcPid)
		{
			slot->running = MV_JOB_NONE;
			slot->pid = 0;
		}
	}
	LWLockRelease(state->lock);
}

/*
 * Prepare to report a seal or compaction of an index of this database.  The
 * slot shows the job only once it reports: a seal that finds the index busy
 * leaves the other process's progress alone.
 */
void
MvJobBegin(MvJob *job, Oid indexid, MvJobKind kind)
{
	job->dbid = MyDatabaseId;
	job->indexid = indexid;
	job->kind = kind;
	job->slot = -1;
	if (state == NULL)
		return;
	if (!job_cleanup_registered)
	{
		before_shmem_exit(jobs_cleanup, (Datum) 0);
		job_cleanup_registered = true;
	}
	LWLockAcquire(state->lock, LW_EXCLUSIVE);
	job->slot = index_slot(indexid, true);
	LWLockRelease(state->lock);
}

/* The MvHnswSealReport of a job: arg is the MvJob */
void
MvJobReport(void *arg, MvHnswSealPhase phase, int64 done, int64 total)
{
	MvJob	   *job = (MvJob *) arg;
	MvIndexSlot *slot;

	if (state == NULL)
		return;
	LWLockAcquire(state->lock, LW_EXCLUSIVE);
	slot = job_slot(job);
	if (slot != NULL)
	{
		slot->running = job->kind;
		slot->pid = MyProcPid;
		slot->phase = phase;
		slot->done = done;
		slot->total = total;
	}
	LWLockRelease(state->lock);
}

/* The job ended: result is MvHnswSeal's or MvHnswCompact's, -1 when it did not run */
void
MvJobEnd(MvJob *job, int64 result)
{
	MvIndexSlot *slot;

	if (state == NULL)
		return;
	LWLockAcquire(state->lock, LW_EXCLUSIVE);
	slot = job_slot(job);
	if (slot != NULL)
	{
		if (slot->pid == MyProcPid)
		{
			slot->running = MV_JOB_NONE;
			slot->pid = 0;
			slot->phase = 0;
			slot->done = slot->total = 0;
		}
		if (result >= 0 && job->kind == MV_JOB_SEAL)
			slot->lastSeal = GetCurrentTimestamp();
		else if (result >= 0)
			slot->lastCompaction = GetCurrentTimestamp();
	}
	LWLockRelease(state->lock);
}

/* Copy what the index's slot in this database holds; false if it has none */
bool
MvIndexGetState(Oid indexid, MvIndexState *out)
{
	int			i;

	if (state == NULL)
		return false;
	LWLockAcquire(state->lock, LW_SHARED);
	i = index_slot(indexid, false);
	if (i >= 0)
	{
		MvIndexSlot *slot = &state->indexes[i];

		out->running = slot->running;
		out->pid = slot->pid;
		out->phase = slot->phase;
		out->done = slot->done;
		out->total = slot->total;
		out->lastSeal = slot->lastSeal;
		out->lastCompaction = slot->lastCompaction;
	}
	LWLockRelease(state->lock);
	return i >= 0;
}
