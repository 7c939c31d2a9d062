/*
 * hybrid_int.h
 *		What the files of src/hybrid/ share: the plan's layout, the TID set,
 *		the exact search.
 */
#ifndef MILVUS_HYBRID_INT_H
#define MILVUS_HYBRID_INT_H

#include "access/relscan.h"
#include "fmgr.h"
#include "nodes/execnodes.h"
#include "nodes/extensible.h"
#include "nodes/tidbitmap.h"

#include "milvus/hybrid.h"

#define MV_HYBRID_NAME			"Milvus Hybrid Search"

/*
 * custom_private of the CustomScan, a list of Integer and Float nodes in
 * this order; custom_exprs holds the query vector's expression, then the
 * filter (an implicit-AND list); custom_plans the bitmap's plan, if any.
 */
enum
{
	MV_HYBRID_PRIV_INDEX,		/* milvus_hnsw index OID, or 0 */
	MV_HYBRID_PRIV_OPNO,		/* the distance operator */
	MV_HYBRID_PRIV_ATTNO,		/* the vector column */
	MV_HYBRID_PRIV_COLLATION,	/* the operator's input collation */
	MV_HYBRID_PRIV_K,			/* rows the LIMIT wants, as planned */
	MV_HYBRID_PRIV_ROW_COST,	/* planner cost of measuring one row exactly */
	MV_HYBRID_PRIV_ELEMENT_COST,	/* planner cost of one element of a walk */
	MV_HYBRID_PRIV_TUPLES,		/* rows in the table, as planned */
	MV_HYBRID_PRIV_M,			/* the index's m */
	MV_HYBRID_PRIV_PLANNED,		/* the strategy the cost model expects */
	MV_HYBRID_PRIV_ROWS,		/* rows in the bitmap (else passing the filter), as planned */
	MV_HYBRID_PRIV_WALK_COST,	/* the index scan's cost for the LIMIT, or -1 */
	MV_HYBRID_NPRIV
};

/* tidset.c */
typedef struct MvTidSet
{
	uint64	   *keys;			/* (block << 16 | offset) + 1; 0: empty */
	uint32		mask;
	int64		count;
	bool		lossy;			/* holds whole pages (offset 0) */
} MvTidSet;

extern void MvTidBitmapCount(TIDBitmap *tbm, int64 *exact, int64 *lossyPages);
extern MvTidSet *MvTidSetFromBitmap(TIDBitmap *tbm, int64 entries);
extern MvTidSet *MvTidSetCreate(int64 expected);
extern void MvTidSetAdd(MvTidSet *set, ItemPointer tid);
extern bool MvTidSetContains(const MvTidSet *set, ItemPointer tid);

/* hybrid_exact.c */
typedef struct MvExactRow
{
	double		distance;
	ItemPointerData tid;		/* of the visible tuple version */
	bool		isnull;			/* NULL vector: sorts last */
} MvExactRow;

typedef struct MvExactSearch
{
	Relation	rel;
	Snapshot	snapshot;
	TupleTableSlot *slot;		/* a slot of the table's own kind */
	ExprState  *qual;			/* the filter, or NULL */
	ExprContext *econtext;
	AttrNumber	attno;			/* the vector column */
	FmgrInfo	distfn;
	Oid			collation;
	Datum		query;
	bool		queryNull;
	/* rows not to offer: handed out already, or nearer than lastDistance */
	MvTidSet   *exclude;
	double		lastDistance;
	/* counters */
	int64		rowsRead;		/* visible rows read */
	int64		rowsPassed;		/* of those, rows that passed the filter */
	int64		distances;		/* distances computed */
} MvExactSearch;

extern double MvExactDistance(MvExactSearch *es, TupleTableSlot *slot, bool *isnull);
extern int	MvExactTopK(MvExactSearch *es, TIDBitmap *tbm, int k, MvExactRow **rows);

/* hybrid_scan.c */
extern CustomScanMethods MvHybridScanMethods;

#endif							/* MILVUS_HYBRID_INT_H */
