/*
 * importer.c
 *		The import worker: a background worker that runs one milvus.bulk_insert
 *		task (Milvus's import job) off the caller's session.
 *
 * With milvus.import_in_background on (no preloading is needed),
 * milvus.bulk_insert records a Pending task, registers one of these workers
 * and returns the task's id at once.  The worker connects to the caller's
 * database as the caller's session user and takes the caller's current role,
 * as SET ROLE would, so the import has exactly the caller's privileges (and
 * a NOLOGIN role reached by SET ROLE works).  It first waits for the caller's transaction: if that aborts,
 * the task never existed and the worker leaves.  Then it marks the task
 * Importing, and runs the whole import and the task's Completed state in one
 * transaction, so an import is all or nothing whatever happens to the
 * worker.  An error marks the task Failed with the message, in a transaction
 * of its own.  Its progress shows in pg_stat_progress_copy, which
 * milvus.get_import_state reads.  A worker killed with the server (or by
 * pg_terminate_backend) leaves its task Importing with a pid that is gone;
 * milvus.get_import_state reports such a task as Failed.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "milvus/collection.h"
#include "milvus/workers.h"

PGDLLEXPORT void MvImporterMain(Datum arg);

bool		MvImportInBackground = true;

/* What the caller passes in bgw_extra */
typedef struct ImporterArgs
{
	Oid			dbid;
	Oid			sessionid;		/* the caller's session user, who could log in */
	Oid			userid;			/* the caller's current role */
	TransactionId xid;			/* the caller's transaction, which made the task */
} ImporterArgs;

bool
MvImportWorkerStart(int64 task_id, TransactionId xid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	ImporterArgs args;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "milvus", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "MvImporterMain", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "milvus import task " INT64_FORMAT, task_id);
	strlcpy(worker.bgw_type, "milvus import", BGW_MAXLEN);
	worker.bgw_main_arg = Int64GetDatum(task_id);
	args.dbid = MyDatabaseId;
	args.sessionid = GetSessionUserId();
	args.userid = GetUserId();
	args.xid = xid;
	memcpy(worker.bgw_extra, &args, sizeof(args));
	worker.bgw_notify_pid = 0;
	return RegisterDynamicBackgroundWorker(&worker, &handle);
}

/* Mark the task failed with the error's message, in a transaction of its own */
static void
mark_failed(int64 task_id, ErrorData *edata)
{
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MvImportTaskFailed(task_id, edata->message);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

void
MvImporterMain(Datum arg)
{
	int64		task_id = DatumGetInt64(arg);
	ImporterArgs args;
	bool		pending;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/*
	 * Connect as the session user (a role that can log in), then take the
	 * caller's current role, as SET ROLE does: that role may be NOLOGIN.
	 */
	BackgroundWorkerInitializeConnectionByOid(args.dbid, args.sessionid, 0);
	if (args.userid != args.sessionid)
	{
		StartTransactionCommand();
		SetCurrentRoleId(args.userid, superuser_arg(args.userid));
		CommitTransactionCommand();
	}

	/* the caller's transaction first: its end makes the task, or not */
	StartTransactionCommand();
	if (TransactionIdIsValid(args.xid) && TransactionIdIsInProgress(args.xid))
		XactLockTableWait(args.xid, NULL, NULL, XLTW_None);
	CommitTransactionCommand();

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pending = MvImportTaskStart(task_id);
	PopActiveSnapshot();
	CommitTransactionCommand();
	if (!pending)
		proc_exit(0);

	PG_TRY();
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "milvus import");
		MvImportTaskRun(task_id);
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_CATCH();
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		ErrorData  *edata = CopyErrorData();

		/* (a shutdown or a terminate is FATAL and never comes here) */
		EmitErrorReport();
		FlushErrorState();
		MemoryContextSwitchTo(old);
		AbortCurrentTransaction();
		mark_failed(task_id, edata);
	}
	PG_END_TRY();
	proc_exit(0);
}
