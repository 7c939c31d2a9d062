/*
 * hnsw.h
 *		What the rest of the extension needs of the milvus_hnsw index: its
 *		session settings and their limits, and its growing segment (what the
 *		data coordinator of src/workers/ seals and compacts).
 *
 * Everything else of the access method is private to src/index/hnsw/.
 */
#ifndef MILVUS_HNSW_H
#define MILVUS_HNSW_H

#include <limits.h>

#include "storage/itemptr.h"
#include "utils/relcache.h"

struct IndexScanDescData;

/* milvus.hnsw_ef_search: candidate list length of a search */
#define MV_HNSW_MIN_EF_SEARCH			1
#define MV_HNSW_DEFAULT_EF_SEARCH		40
#define MV_HNSW_MAX_EF_SEARCH			1000

/* milvus.hnsw_max_scan_tuples: elements a scan's graph walk may visit before its exact pass */
#define MV_HNSW_MIN_MAX_SCAN_TUPLES		1
#define MV_HNSW_DEFAULT_MAX_SCAN_TUPLES	20000
#define MV_HNSW_MAX_MAX_SCAN_TUPLES		INT_MAX

/* milvus.hnsw_level_seed: -1 draws levels at random, else from the seed and heap TID */
#define MV_HNSW_MIN_LEVEL_SEED			(-1)
#define MV_HNSW_MAX_LEVEL_SEED			INT_MAX

/* milvus.hnsw_growing_rerank: growing rows measured exactly, per ef_search; 0: all */
#define MV_HNSW_DEFAULT_GROWING_RERANK	8
#define MV_HNSW_MAX_GROWING_RERANK		1000

extern PGDLLIMPORT bool MvHnswGrowingSegment;
extern PGDLLIMPORT bool MvHnswSealInMemoryEnabled;
extern PGDLLIMPORT bool MvHnswTruncate;	/* milvus.hnsw_truncate */
extern PGDLLIMPORT int MvHnswGrowingRerank;
extern PGDLLIMPORT int MvHnswEfSearch;
extern PGDLLIMPORT int MvHnswLevelSeed;
extern PGDLLIMPORT int MvHnswMaxScanTuples;

/*
 * The growing segment.  An insert appends its row to a chain of growing
 * pages beside the graph; a seal links the rows of the chain into the graph
 * and empties the pages it sealed.  A compaction repairs the links around
 * the tombstones a vacuum left and frees their slots.
 */
typedef struct MvHnswSegmentInfo
{
	int64		growingRows;	/* rows appended and not yet sealed */
	int64		growingDead;	/* rows a seal found dead, their pages not yet emptied */
	int64		growingBytes;	/* bytes of the growing pages in use */
	int64		sealedRows;		/* live graph elements */
	int64		deletedElements;	/* tombstones and free slots */
	int64		pendingTombstones;	/* tombstones waiting for a compaction */
} MvHnswSegmentInfo;

/* Phases of a seal, as reported */
typedef enum MvHnswSealPhase
{
	MV_HNSW_SEAL_FREEZE = 1,	/* closing the chain to new rows */
	MV_HNSW_SEAL_LINK,			/* linking the closed rows into the graph */
	MV_HNSW_SEAL_RELEASE,		/* emptying the sealed pages */
	MV_HNSW_COMPACT,			/* a compaction */
	MV_HNSW_SEAL_WRITE			/* writing what a seal linked in memory */
} MvHnswSealPhase;

typedef void (*MvHnswSealReport) (void *arg, MvHnswSealPhase phase, int64 done, int64 total);

/* The index's m (its links per element and layer) */
extern int	MvHnswGetM(Relation index);

/* Whether rel is a milvus_hnsw index */
extern bool MvHnswIsIndex(Relation rel);
extern void MvHnswGetSegmentInfo(Relation index, MvHnswSegmentInfo *info);

/*
 * Seal the index's growing segment: rows sealed, or -1 when wait is false and
 * another seal or a vacuum holds the index.  A seal of enough rows links them
 * with up to nworkers parallel workers besides this process.  The caller
 * holds at least RowExclusiveLock on the index's table.
 */
extern int64 MvHnswSeal(Relation index, bool wait, int nworkers, MvHnswSealReport report,
						void *arg);

/* Compact: tombstones freed, or -1 as for MvHnswSeal */
extern int64 MvHnswCompact(Relation index, bool wait, MvHnswSealReport report, void *arg);

/*
 * A filtered scan (the hybrid search of src/hybrid/): the walk goes through
 * every element but hands out only heap TIDs the filter passes, and gives up
 * once it has visited more than budget elements (0: never), so the caller can
 * answer exactly instead.  Set after index_beginscan, before the first row.
 */
typedef bool (*MvHnswTidFilter) (void *arg, ItemPointer heaptid);

typedef struct MvHnswScanCounters
{
	int64		visited;		/* graph elements read */
	int64		growing;		/* growing-segment rows measured */
	int64		skipped;		/* heap TIDs and elements the filter failed */
	bool		overBudget;		/* the walk gave up: the scan ended early */
} MvHnswScanCounters;

extern void MvHnswScanSetFilter(struct IndexScanDescData *scan, MvHnswTidFilter filter,
								void *arg, int64 budget);
extern void MvHnswScanGetCounters(struct IndexScanDescData *scan, MvHnswScanCounters *counters);

/*
 * Set by src/workers/: whether a data coordinator serves this database.  An
 * insert into an index with none warns once per session.
 */
extern bool (*MvHnswCoordinatorRunning) (void);

#endif							/* MILVUS_HNSW_H */
