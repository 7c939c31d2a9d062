/*
 * coordinator.c
 *		The data coordinator's database worker: seals and compacts the
 *		growing segments of the milvus_hnsw indexes of one database.
 *
 * Every milvus.data_coordinator_naptime it lists the database's milvus_hnsw
 * indexes and, for each, in a transaction of its own that holds back no
 * VACUUM while it seals (it is marked PROC_IN_VACUUM; the only snapshot it
 * holds is the one a seal registers while it prunes heap pages, hnswseal.c):
 * takes RowExclusiveLock on the table and the
 * index if it can without waiting, reads the segment, seals it when it holds
 * milvus.seal_rows rows or has not changed for milvus.seal_idle_time, and
 * compacts when vacuum left tombstones.  Seal and compaction do not wait for
 * a seal or vacuum under way either; the next round tries again.  An error
 * is logged as a WARNING and that index is left alone for
 * MV_COORDINATOR_RETRY_ROUNDS rounds.
 *
 * The worker leaves when its database has no milvus_hnsw index (the
 * launcher comes back later), when milvus.data_coordinator is turned off,
 * and when DROP DATABASE holds its database: it looks at least every
 * MV_COORDINATOR_DROP_POLL_MS, between two indexes, since DROP DATABASE
 * waits only 5 seconds for other sessions to leave.  SIGTERM ends it at once
 * when idle; during a seal it interrupts the seal as it would a backend's.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "milvus/workers.h"

#include "coordinator.h"

/* An index whose round failed is left alone for this many rounds (a minute by default) */
#define MV_COORDINATOR_RETRY_ROUNDS	60

/* What the worker remembers of an index between rounds */
typedef struct MvWatch
{
	Oid			indexid;		/* hash key */
	int64		growingRows;	/* as last seen */
	TimestampTz changedAt;		/* when growingRows last changed or a seal ran */
	TimestampTz retryAt;		/* after an error, nothing before this */
	bool		sealFailed;		/* the last seal failed: seal again, rows or not */
	bool		seen;			/* in this round's list */
} MvWatch;

static HTAB *watches = NULL;

/* the seal or compaction under way, which SIGTERM interrupts */
static volatile sig_atomic_t in_job = false;
static MvJob current_job;

/* SIGTERM: leave after this index; in a seal, stop it as die() would */
static void
handle_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	ShutdownRequestPending = true;
	if (in_job)
	{
		InterruptPending = true;
		ProcDiePending = true;
	}
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * Let VACUUM elsewhere ignore this transaction's xmin, as it ignores another
 * VACUUM's (PROC_IN_VACUUM; cleared when the transaction ends).  The worker
 * reads no table data: only the catalog (the list of indexes, opening one, a
 * distance function's fmgr_info in a seal), whose rows for what it has locked
 * cannot go away, and index pages.  But each catalog read takes a snapshot:
 * for as long as a seal ran, no VACUUM in the database could remove a row
 * deleted meanwhile (a regression test caught one that left every dead row),
 * and every round's short transactions could do the same to a VACUUM that
 * came at the wrong moment.  Lazy VACUUM sets the flag for the same reason.
 * The parallel workers of its seals set it too (hnswsealparallel.c).
 */
void
MvMarkInVacuum(void)
{
	LWLockAcquire(ProcArrayLock, LW_EXCLUSIVE);
	MyProc->statusFlags |= PROC_IN_VACUUM;
	ProcGlobal->statusFlags[MyProc->pgxactoff] = MyProc->statusFlags;
	LWLockRelease(ProcArrayLock);
}

/* Run a seal or compaction of the index without waiting; its result */
static int64
run_job(Relation index, MvJobKind kind)
{
	int64		result;

	if (ShutdownRequestPending)
		return -1;
	MvJobBegin(&current_job, RelationGetRelid(index), kind);
	in_job = true;
	if (kind == MV_JOB_SEAL)
		result = MvHnswSeal(index, false, MvSealParallelWorkers, MvJobReport, &current_job);
	else
		result = MvHnswCompact(index, false, MvJobReport, &current_job);
	in_job = false;
	MvJobEnd(&current_job, result);
	return result;
}

/* Seal and compact one index as due; in a transaction.  Sets name for errors. */
static void
coordinate_index(Oid indexid, MvWatch *watch, char *name)
{
	TimestampTz now = GetCurrentTimestamp();
	Oid			heapid = IndexGetRelation(indexid, true);
	Relation	index;
	MvHnswSegmentInfo info;
	bool		due;

	/* dropped, or busy: skip this round rather than wait */
	if (!OidIsValid(heapid) || !ConditionalLockRelationOid(heapid, RowExclusiveLock))
		return;
	if (!ConditionalLockRelationOid(indexid, RowExclusiveLock))
		return;
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(indexid)))
		return;

	index = index_open(indexid, NoLock);
	strlcpy(name, RelationGetRelationName(index), NAMEDATALEN);
	if (!MvHnswIndexReadable(index))
	{
		index_close(index, NoLock);
		return;
	}

	/*
	 * No catalog snapshot left while the seal runs (it registers its own
	 * while it prunes heap pages; PROC_IN_VACUUM keeps either from holding
	 * back a VACUUM, however long the seal takes)
	 */
	InvalidateCatalogSnapshot();

	MvHnswGetSegmentInfo(index, &info);
	if (info.growingRows != watch->growingRows)
	{
		watch->growingRows = info.growingRows;
		watch->changedAt = now;
	}
	/* a failed seal may have left its rows linked and its pages unreleased */
	due = watch->sealFailed || info.growingRows >= MvSealRows ||
		(info.growingRows > 0 &&
		 TimestampDifferenceExceeds(watch->changedAt, now, MvSealIdleTime * 1000));
	if (due)
	{
		int64		sealed = run_job(index, MV_JOB_SEAL);

		if (sealed >= 0)
		{
			watch->sealFailed = false;
			watch->changedAt = GetCurrentTimestamp();
			ereport(DEBUG1,
					(errmsg_internal("milvus data coordinator sealed " INT64_FORMAT " rows of index \"%s\"",
									 sealed, name)));
		}
		else
			ereport(DEBUG1,
					(errmsg_internal("milvus data coordinator found index \"%s\" busy", name)));
	}
	if (info.pendingTombstones > 0)
	{
		int64		freed = run_job(index, MV_JOB_COMPACTION);

		if (freed >= 0)
			ereport(DEBUG1,
					(errmsg_internal("milvus data coordinator freed " INT64_FORMAT " tombstones of index \"%s\"",
									 freed, name)));
	}
	index_close(index, NoLock);
}

/*
 * Coordinate one index in a transaction of its own.  An error ends that
 * transaction and is logged as a WARNING; the worker goes on.
 */
static void
coordinate_index_xact(Oid indexid, MemoryContext cxt)
{
	MvWatch    *watch;
	bool		found;
	char		name[NAMEDATALEN];

	watch = hash_search(watches, &indexid, HASH_ENTER, &found);
	if (!found)
	{
		watch->growingRows = -1;
		watch->changedAt = 0;
		watch->retryAt = 0;
		watch->sealFailed = false;
	}
	watch->seen = true;
	if (watch->retryAt > GetCurrentTimestamp())
		return;

	snprintf(name, sizeof(name), "%u", indexid);
	PG_TRY();
	{
		StartTransactionCommand();
		MvMarkInVacuum();
		pgstat_report_activity(STATE_RUNNING, "milvus data coordinator");
		coordinate_index(indexid, watch, name);
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		HOLD_INTERRUPTS();
		errcontext("milvus data coordinator working on index \"%s\"", name);
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		if (in_job)
		{
			in_job = false;
			MvJobEnd(&current_job, -1);
			if (current_job.kind == MV_JOB_SEAL)
				watch->sealFailed = true;
		}
		pgstat_report_activity(STATE_IDLE, NULL);
		edata->elevel = WARNING;
		ThrowErrorData(edata);
		FreeErrorData(edata);
		watch->retryAt = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 (int64) MV_COORDINATOR_RETRY_ROUNDS *
													 MvDataCoordinatorNaptime);
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();
}

/* One round over the database's milvus_hnsw indexes; false when it has none */
static bool
coordinate_round(MemoryContext cxt)
{
	List	   *indexes;
	Oid		   *live;
	int			nlive = 0;
	ListCell   *lc;
	HASH_SEQ_STATUS seq;
	MvWatch    *watch;

	StartTransactionCommand();
	MvMarkInVacuum();
	indexes = MvHnswIndexes(cxt);
	CommitTransactionCommand();

	live = palloc(Max(list_length(indexes), 1) * sizeof(Oid));
	foreach(lc, indexes)
	{
		Oid			indexid = lfirst_oid(lc);

		live[nlive++] = indexid;
		/* the main loop leaves; no pause of the database for the launcher */
		if (ShutdownRequestPending || MvDatabaseBeingDropped(MyDatabaseId))
			return true;
		CHECK_FOR_INTERRUPTS();
		coordinate_index_xact(indexid, cxt);
	}

	/* forget the indexes that are gone */
	MvIndexesForget(MyDatabaseId, live, nlive);
	hash_seq_init(&seq, watches);
	while ((watch = hash_seq_search(&seq)) != NULL)
	{
		if (!watch->seen)
			hash_search(watches, &watch->indexid, HASH_REMOVE, NULL);
		else
			watch->seen = false;
	}
	return nlive > 0;
}

/* The database worker's main loop; arg is the database's OID */
void
MvCoordinatorMain(Datum arg)
{
	Oid			dbid = DatumGetObjectId(arg);
	TimestampTz next_round = 0;
	MemoryContext round_cxt;
	HASHCTL		ctl;

	pqsignal(SIGTERM, handle_sigterm);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);
	if (!MvDatabaseAttach(dbid))
		proc_exit(0);
	ereport(DEBUG1, (errmsg_internal("milvus data coordinator started")));

	round_cxt = AllocSetContextCreate(TopMemoryContext, "milvus data coordinator round",
									  ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(MvWatch);
	watches = hash_create("milvus data coordinator indexes", 64, &ctl, HASH_ELEM | HASH_BLOBS);

	while (!ShutdownRequestPending)
	{
		TimestampTz now;
		long		secs;
		int			usecs;
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (!MvDataCoordinator || MvDatabaseBeingDropped(dbid))
			break;

		now = GetCurrentTimestamp();
		if (now >= next_round)
		{
			MemoryContext old = MemoryContextSwitchTo(round_cxt);
			bool		any = coordinate_round(round_cxt);

			MemoryContextSwitchTo(old);
			MemoryContextReset(round_cxt);
			if (!any)
			{
				/* nothing to do here: the launcher comes back in a while */
				MvDatabaseDetach(dbid,
								 TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
															 (int64) MV_COORDINATOR_IDLE_ROUNDS *
															 MvDataCoordinatorNaptime));
				break;
			}
			now = GetCurrentTimestamp();
			next_round = TimestampTzPlusMilliseconds(now, MvDataCoordinatorNaptime);
		}

		TimestampDifference(now, next_round, &secs, &usecs);
		wait_ms = Min(secs * 1000 + usecs / 1000, MV_COORDINATOR_DROP_POLL_MS);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(wait_ms, 1), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	ereport(DEBUG1, (errmsg_internal("milvus data coordinator stopped")));
	proc_exit(0);
}
