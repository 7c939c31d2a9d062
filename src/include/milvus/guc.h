/*
 * guc.h
 *		Every milvus.* setting, declared in src/guc.c.
 */
#ifndef MILVUS_GUC_H
#define MILVUS_GUC_H

#include "utils/guc.h"

/* Milvus's default request limits (quotaAndLimits.limits.*) */
#define MV_SEARCH_MAX_GROUP_SIZE_DEFAULT 10
#define MV_SEARCH_MAX_NQ_DEFAULT	16384
#define MV_SEARCH_MAX_TOPK_DEFAULT	16384
#define MV_SEARCH_LIMIT_MAX			(1 << 30)

extern void MvDefineSettings(void);

/*
 * milvus.debug_pause_at, for tests only (src/debug_pause.c): a backend that
 * reaches a point the setting names waits while another session holds the
 * advisory lock (MV_PAUSE_LOCK_KEY, point), i.e. pg_advisory_lock(1835625590, point).
 */
#define MV_PAUSE_LOCK_KEY			1835625590	/* 'milv' */

typedef enum MvPausePoint
{
	MV_PAUSE_HNSW_BUILD_LOAD = 1,	/* a build participant, before it reads the heap */
	MV_PAUSE_HNSW_BUILD_WRITE,	/* the graph in memory, before its pages are written */
	MV_PAUSE_HNSW_VACUUM_REPAIR,	/* elements tombstoned, before links are repaired */
	MV_PAUSE_HNSW_VACUUM_FREE,	/* links repaired, before tombstones are freed */
	MV_PAUSE_HNSW_SEAL_LINK,	/* a seal linked its first row, before the rest */
	MV_PAUSE_HNSW_SEAL_RELEASE,	/* a seal linked its rows, before it frees pages */
	MV_PAUSE_HNSW_TRUNCATE,		/* free pages unlisted, before the index is cut short */
	MV_PAUSE_HNSW_GROWING_WALK, /* a walk of the growing chain read its first page */
} MvPausePoint;

extern PGDLLIMPORT int MvPausePoints;	/* bit n set: point n is named */

extern void MvPauseWait(MvPausePoint point);
extern bool MvPauseCheckHook(char **newval, void **extra, GucSource source);
extern void MvPauseAssignHook(const char *newval, void *extra);

/* Wait at point if milvus.debug_pause_at names it and its lock is held */
static inline void
MvPause(MvPausePoint point)
{
	if (unlikely(MvPausePoints & (1 << point)))
		MvPauseWait(point);
}

/*
 * milvus.debug_check_seal_lists, for tests only (src/index/hnsw/hnswprune.c):
 * every link-back that uses a list a seal remembered measures the list afresh
 * as well and raises an error when the two disagree
 */
extern PGDLLIMPORT bool MvDebugCheckSealLists;

#endif							/* MILVUS_GUC_H */
