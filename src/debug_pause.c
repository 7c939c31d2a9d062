/*
 * debug_pause.c
 *		Named points where a backend waits, so that a test can hold a build or
 *		a vacuum at a known step (milvus.debug_pause_at; for testing only).
 *
 * A backend that reaches a point named in the setting takes and at once
 * releases the session advisory lock (MV_PAUSE_LOCK_KEY, point number) in
 * exclusive mode: while a test session holds that lock, the backend waits,
 * visible in pg_locks as an ungranted advisory lock, and a cancel, a
 * terminate or the postmaster's death ends the wait as any lock wait.  Parallel
 * workers inherit the setting with the rest of the leader's GUCs, and the
 * members of one lock group do not block each other.  A call site must hold
 * no LWLock or buffer content lock (a pause there could not be interrupted).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "milvus/guc.h"

/* By number, as the advisory lock's second key */
static const char *const pause_names[] = {
	[MV_PAUSE_HNSW_BUILD_LOAD] = "hnsw_build_load",
	[MV_PAUSE_HNSW_BUILD_WRITE] = "hnsw_build_write",
	[MV_PAUSE_HNSW_VACUUM_REPAIR] = "hnsw_vacuum_repair",
	[MV_PAUSE_HNSW_VACUUM_FREE] = "hnsw_vacuum_free",
	[MV_PAUSE_HNSW_SEAL_LINK] = "hnsw_seal_link",
	[MV_PAUSE_HNSW_SEAL_RELEASE] = "hnsw_seal_release",
	[MV_PAUSE_HNSW_TRUNCATE] = "hnsw_truncate",
	[MV_PAUSE_HNSW_GROWING_WALK] = "hnsw_growing_walk",
};

int			MvPausePoints = 0;

/* Wait while a session holds the advisory lock of point */
void
MvPauseWait(MvPausePoint point)
{
	LOCKTAG		tag;

	if (InterruptHoldoffCount > 0 || CritSectionCount > 0)
		elog(ERROR, "pause point \"%s\" reached with interrupts held off", pause_names[point]);
	ereport(LOG,
			(errmsg("milvus: at pause point \"%s\"", pause_names[point]),
			 errhidestmt(true)));
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, MV_PAUSE_LOCK_KEY, (uint32) point, 2);
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
	LockRelease(&tag, ExclusiveLock, true);
}

/* Check hook of milvus.debug_pause_at: a list of point names, kept as a bit mask */
bool
MvPauseCheckHook(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *names;
	ListCell   *lc;
	int			points = 0;

	if (!SplitIdentifierString(raw, ',', &names))
	{
		GUC_check_errdetail("List syntax is invalid.");
		pfree(raw);
		list_free(names);
		return false;
	}
	foreach(lc, names)
	{
		const char *name = lfirst(lc);
		int			point;

		for (point = 1; point < lengthof(pause_names); point++)
			if (strcmp(name, pause_names[point]) == 0)
				break;
		if (point == lengthof(pause_names))
		{
			GUC_check_errdetail("Unknown pause point \"%s\".", name);
			GUC_check_errhint("The points are hnsw_build_load, hnsw_build_write, "
							  "hnsw_vacuum_repair, hnsw_vacuum_free, hnsw_seal_link, "
							  "hnsw_seal_release, hnsw_truncate and hnsw_growing_walk.");
			pfree(raw);
			list_free(names);
			return false;
		}
		points |= 1 << point;
	}
	pfree(raw);
	list_free(names);
	*extra = malloc(sizeof(int));
	if (*extra == NULL)
		return false;
	*(int *) *extra = points;
	return true;
}

/* Assign hook of milvus.debug_pause_at */
void
MvPauseAssignHook(const char *newval, void *extra)
{
	MvPausePoints = *(int *) extra;
}
