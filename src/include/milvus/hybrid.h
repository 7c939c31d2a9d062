/*
 * hybrid.h
 *		The hybrid search of src/hybrid/: a planner hook and a custom scan
 *		for "WHERE <filter> ORDER BY <vector> <distance op> <query> LIMIT k".
 */
#ifndef MILVUS_HYBRID_H
#define MILVUS_HYBRID_H

/* milvus.hybrid_strategy */
typedef enum MvHybridStrategy
{
	MV_HYBRID_AUTO,				/* by the cost model, on the filter's actual count */
	MV_HYBRID_EXACT,			/* always measure every row that passes */
	MV_HYBRID_GRAPH,			/* the walk testing the bitmap, whenever there is an index */
	MV_HYBRID_WALK				/* the walk testing rows on the table; the bitmap only if it gives up */
} MvHybridStrategy;

extern PGDLLIMPORT bool MvHybridEnabled;
extern PGDLLIMPORT int MvHybridStrategySetting;
extern PGDLLIMPORT double MvHybridWalkBudget;

/* Install the planner hook and register the custom scan */
extern void MvHybridInit(void);

#endif							/* MILVUS_HYBRID_H */
