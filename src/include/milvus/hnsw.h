/*
 * hnsw.h
 *		What the rest of the extension needs of the milvus_hnsw index: its
 *		session settings and their limits.
 *
 * Everything else of the access method is private to src/index/hnsw/.
 */
#ifndef MILVUS_HNSW_H
#define MILVUS_HNSW_H

#include <limits.h>

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

extern PGDLLIMPORT int MvHnswEfSearch;
extern PGDLLIMPORT int MvHnswLevelSeed;
extern PGDLLIMPORT int MvHnswMaxScanTuples;

#endif							/* MILVUS_HNSW_H */
