/*
 * hybrid_scan.c
 *		The executor side of the hybrid search: the custom scan node.
 *
 * At its first row the node evaluates the query vector and, when it has a
 * bitmap child (a Bitmap Index Scan, or a BitmapAnd/BitmapOr of them), runs
 * it once into a TIDBitmap of the rows the filter's indexable clauses match;
 * the bitmap is kept across rescans that change none of its parameters.
 * Then it chooses by the bitmap's actual count (milvus.hybrid_strategy
 * "auto"), with the planner's unit costs:
 *
 *	exact	measure every row of the bitmap (or, with no bitmap, of the
 *			table) that is visible and passes the whole filter, keep the k
 *			nearest (hybrid_exact.c), hand them out in order;
 *	graph	walk the milvus_hnsw index, testing each element's heap TIDs
 *			against the bitmap without touching the heap, going on through
 *			elements that fail (MvHnswScanSetFilter); fetch the rows that
 *			pass from the heap as an index scan does, and test the whole
 *			filter on them.
 *
 * When the planner found the plain index scan cheapest, the node runs that
 * scan's walk instead, testing candidates on the table, and makes no bitmap
 * unless the walk gives up, or a rescan shows that the loops (several query
 * vectors) can share one bitmap, which then pays for itself:
 *
 *	walk	the milvus_hnsw scan without a filter; every row it hands out is
 *			fetched and tested against the filter.
 *
 * A walk (graph or walk) has a budget: it may cost milvus.hybrid_walk_budget
 * times what the exact search was priced at.  A walk that goes over (a filter
 * that matches rows far from the query, so the walk goes through many that
 * fail) ends, and the rest of the rows come from the exact search, which
 * passes over the rows already handed out and those nearer than the last one.
 *
 * The filter is always tested on the row itself, as read under the query's
 * snapshot: the bitmap only narrows the candidates (it may be lossy, cover
 * only some clauses, or point at dead rows), so MVCC, row-level security
 * policies (part of the filter) and every clause hold as in any scan.  More
 * rows than the planned k (OFFSET, a cursor): the exact search runs again
 * for four times as many and hands out those after the ones it gave.
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "storage/bufmgr.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "milvus/hnsw.h"
#include "hybrid_int.h"

typedef struct HybridScanState
{
	CustomScanState css;
	/* from the plan */
	Oid			indexoid;
	Oid			opno;
	AttrNumber	attno;
	Oid			collation;
	int			k;
	double		rowCost;
	double		elementCost;
	double		tuples;
	int			m;
	int			planned;
	double		estRows;		/* rows in the bitmap, as planned */
	double		walkCost;		/* the index scan's, for the LIMIT; -1: none */
	ExprState  *queryExpr;
	int16		queryTyplen;	/* the query vector's type, to copy it */
	bool		queryTypbyval;
	ExprState  *qual;
	PlanState  *bitmapPlan;		/* NULL: the whole table */
	/* one execution; reset by a rescan */
	MemoryContext ctx;
	bool		started;
	int			strategy;
	bool		fallback;		/* the walk went over budget: exact from there */
	/* the filter's bitmap: kept across rescans that change none of its parameters */
	MemoryContext bitmapCtx;	/* the TID set made from it */
	TIDBitmap  *tbm;
	double		bitmapCount;	/* its rows, lossy pages estimated */
	int64		bitmapEntries;	/* its exact TIDs and lossy pages */
	bool		bitmapLasts;	/* a rescan kept it: loops share one bitmap */
	MvTidSet   *set;			/* the bitmap, for the walk */
	MvExactSearch es;
	MvExactRow *rows;			/* the exact search's current top rows */
	int			nrows;
	int			pos;
	int			kcur;			/* rows that search was asked for */
	Relation	index;
	IndexScanDesc iscan;
	MvTidSet   *emitted;		/* rows the walk handed out */
	double		lastDistance;
	/* for EXPLAIN ANALYZE, summed over executions */
	int64		loops;
	int64		exactLoops;
	int64		graphLoops;
	int64		walkLoops;
	int64		fallbacks;
	int64		bitmaps;		/* bitmaps computed */
	int64		filterRows;		/* rows they matched */
	int64		lossyPages;
	int64		visited;		/* graph elements */
	int64		distances;		/* distances to the query computed */
	int64		rejected;		/* rows read that failed the filter */
	int64		skipped;		/* elements and rows the walk found outside the bitmap */
} HybridScanState;

static Node *hybrid_create_state(CustomScan *cscan);
static void hybrid_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *hybrid_exec(CustomScanState *node);
static void hybrid_end(CustomScanState *node);
static void hybrid_rescan(CustomScanState *node);
static void hybrid_explain(CustomScanState *node, List *ancestors, ExplainState *es);

CustomScanMethods MvHybridScanMethods = {
	.CustomName = MV_HYBRID_NAME,
	.CreateCustomScanState = hybrid_create_state,
};

static const CustomExecMethods hybrid_exec_methods = {
	.CustomName = MV_HYBRID_NAME,
	.BeginCustomScan = hybrid_begin,
	.ExecCustomScan = hybrid_exec,
	.EndCustomScan = hybrid_end,
	.ReScanCustomScan = hybrid_rescan,
	.ExplainCustomScan = hybrid_explain,
};

static double
priv_float(List *priv, int n)
{
	return floatVal(list_nth(priv, n));
}

static int
priv_int(List *priv, int n)
{
	return intVal(list_nth(priv, n));
}

static Node *
hybrid_create_state(CustomScan *cscan)
{
	HybridScanState *hs = (HybridScanState *) newNode(sizeof(HybridScanState), T_CustomScanState);
	List	   *priv = cscan->custom_private;

	hs->css.methods = &hybrid_exec_methods;
	hs->css.flags = cscan->flags;
	hs->indexoid = (Oid) priv_int(priv, MV_HYBRID_PRIV_INDEX);
	hs->opno = (Oid) priv_int(priv, MV_HYBRID_PRIV_OPNO);
	hs->attno = (AttrNumber) priv_int(priv, MV_HYBRID_PRIV_ATTNO);
	hs->collation = (Oid) priv_int(priv, MV_HYBRID_PRIV_COLLATION);
	hs->k = Max(priv_int(priv, MV_HYBRID_PRIV_K), 1);
	hs->rowCost = priv_float(priv, MV_HYBRID_PRIV_ROW_COST);
	hs->elementCost = priv_float(priv, MV_HYBRID_PRIV_ELEMENT_COST);
	hs->tuples = priv_float(priv, MV_HYBRID_PRIV_TUPLES);
	hs->m = priv_int(priv, MV_HYBRID_PRIV_M);
	hs->planned = priv_int(priv, MV_HYBRID_PRIV_PLANNED);
	hs->estRows = priv_float(priv, MV_HYBRID_PRIV_ROWS);
	hs->walkCost = priv_float(priv, MV_HYBRID_PRIV_WALK_COST);
	return (Node *) hs;
}

static void
hybrid_begin(CustomScanState *node, EState *estate, int eflags)
{
	HybridScanState *hs = (HybridScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	Relation	rel = node->ss.ss_currentRelation;

	/*
	 * Rows are read into a slot of the table's own kind (PostgreSQL 15 gives
	 * a custom scan a virtual one), and always projected from it into the
	 * node's result slot, so system columns such as ctid work.  Expressions
	 * over the row are compiled for that kind of slot: for a virtual one
	 * they would skip deforming the tuple.
	 */
	hs->es.slot = table_slot_create(rel, &estate->es_tupleTable);
	node->ss.ps.scanops = hs->es.slot->tts_ops;
	node->ss.ps.scanopsfixed = true;
	node->ss.ps.scanopsset = true;
	ExecAssignProjectionInfo(&node->ss.ps, RelationGetDescr(rel));
	hs->queryExpr = ExecInitExpr((Expr *) linitial(cscan->custom_exprs), &node->ss.ps);
	get_typlenbyval(exprType(linitial(cscan->custom_exprs)), &hs->queryTyplen, &hs->queryTypbyval);
	hs->qual = ExecInitQual((List *) lsecond(cscan->custom_exprs), &node->ss.ps);
	if (cscan->custom_plans != NIL)
	{
		hs->bitmapPlan = ExecInitNode((Plan *) linitial(cscan->custom_plans), estate, eflags);
		node->custom_ps = list_make1(hs->bitmapPlan);
	}
	if (OidIsValid(hs->indexoid))
		hs->index = index_open(hs->indexoid, AccessShareLock);
	hs->ctx = AllocSetContextCreate(estate->es_query_cxt, "milvus hybrid search",
									ALLOCSET_DEFAULT_SIZES);
	hs->bitmapCtx = AllocSetContextCreate(estate->es_query_cxt, "milvus hybrid search bitmap",
										  ALLOCSET_DEFAULT_SIZES);

	hs->es.rel = rel;
	hs->es.snapshot = estate->es_snapshot;

	hs->es.qual = hs->qual;
	hs->es.econtext = node->ss.ps.ps_ExprContext;
	hs->es.attno = hs->attno;
	hs->es.collation = hs->collation;
	fmgr_info(get_opcode(hs->opno), &hs->es.distfn);
}

/* The walk's test of a heap TID: is it in the bitmap? */
static bool
in_bitmap(void *arg, ItemPointer heaptid)
{
	return MvTidSetContains((MvTidSet *) arg, heaptid);
}

/* Gather the index scan's counters into the totals, once per walk */
static void
end_walk(HybridScanState *hs)
{
	MvHnswScanCounters c;

	if (hs->iscan == NULL)
		return;
	MvHnswScanGetCounters(hs->iscan, &c);
	hs->visited += c.visited;
	hs->distances += c.visited + c.growing;
	hs->skipped += c.skipped;
	index_endscan(hs->iscan);
	hs->iscan = NULL;
}

/*
 * Run the bitmap plan, in the query's context as the executor would: index
 * AMs may keep what they allocate there across rescans, so it must not be a
 * context of ours that is reset; the bitmap itself is freed with tbm_free.
 */
static void
compute_bitmap(HybridScanState *hs)
{
	MemoryContext old = MemoryContextSwitchTo(hs->css.ss.ps.state->es_query_cxt);
	int64		exact;
	int64		lossy;

	hs->tbm = (TIDBitmap *) MultiExecProcNode(hs->bitmapPlan);
	MemoryContextSwitchTo(old);
	if (hs->tbm == NULL || !IsA(hs->tbm, TIDBitmap))
		elog(ERROR, "milvus hybrid search: unrecognized result from the bitmap plan");
	MvTidBitmapCount(hs->tbm, &exact, &lossy);
	hs->bitmaps++;
	hs->lossyPages += lossy;
	hs->filterRows += exact;
	hs->bitmapEntries = exact + lossy;
	hs->bitmapCount = exact;
	if (lossy > 0)
	{
		/* a lossy page holds about the table's mean rows per page */
		BlockNumber pages = RelationGetNumberOfBlocks(hs->es.rel);

		hs->bitmapCount += lossy * (pages > 0 ? Max(hs->tuples / pages, 1.0) : 1.0);
	}
}

/* Evaluate the query, compute the bitmap, choose the strategy */
static void
start(HybridScanState *hs)
{
	ExprContext *econtext = hs->css.ss.ps.ps_ExprContext;
	MemoryContext old = MemoryContextSwitchTo(hs->ctx);
	Datum		query;
	bool		isnull;
	double		count = hs->tuples;
	double		exactCost;
	bool		walk;

	hs->started = true;
	hs->loops++;
	ResetExprContext(econtext);
	query = ExecEvalExpr(hs->queryExpr, econtext, &isnull);
	hs->es.queryNull = isnull;
	/* out of the per-tuple context, which the exact search resets */
	if (!isnull)
		query = datumCopy(query, hs->queryTypbyval, hs->queryTyplen);
	hs->es.query = query;

	/*
	 * A walk that tests rows on the table starts at once; its bitmap is made
	 * only if it gives up.  A bitmap still held from the last loop decides
	 * on its count instead.
	 */
	walk = hs->index != NULL &&
		(MvHybridStrategySetting == MV_HYBRID_WALK ||
		 (MvHybridStrategySetting == MV_HYBRID_AUTO && hs->planned == MV_HYBRID_WALK &&
		  hs->tbm == NULL && !hs->bitmapLasts));
	if (hs->bitmapPlan && hs->tbm == NULL && !walk)
		compute_bitmap(hs);
	if (hs->bitmapPlan)
		count = hs->tbm ? hs->bitmapCount : hs->estRows;

	/*
	 * exact: every row that passes; graph: ef_search * m / selectivity
	 * elements; walk: as the planner priced the index scan
	 */
	exactCost = count * hs->rowCost;
	hs->strategy = walk ? MV_HYBRID_WALK : MV_HYBRID_EXACT;
	if (!walk && hs->index != NULL && MvHybridStrategySetting != MV_HYBRID_EXACT)
	{
		double		best = exactCost;

		if (hs->tbm != NULL && count > 0)
		{
			double		visited = Min(hs->tuples,
									  MvHnswEfSearch * (double) hs->m * hs->tuples / count);
			double		graphCost = visited * hs->elementCost + hs->k * hs->rowCost;

			if (MvHybridStrategySetting == MV_HYBRID_GRAPH || graphCost < best)
			{
				hs->strategy = MV_HYBRID_GRAPH;
				best = graphCost;
			}
		}
		if (MvHybridStrategySetting == MV_HYBRID_AUTO && hs->walkCost >= 0 && hs->walkCost < best)
			hs->strategy = MV_HYBRID_WALK;
	}

	if (hs->strategy != MV_HYBRID_EXACT)
	{
		ScanKeyData orderby;
		int64		budget;
		bool		graph = hs->strategy == MV_HYBRID_GRAPH;

		if (graph)
			hs->graphLoops++;
		else
			hs->walkLoops++;
		if (graph && hs->set == NULL)
		{
			MemoryContextSwitchTo(hs->bitmapCtx);
			hs->set = MvTidSetFromBitmap(hs->tbm, hs->bitmapEntries);
			MemoryContextSwitchTo(hs->ctx);
		}
		/* it grows: a LIMIT far above the rows there are costs nothing up front */
		hs->emitted = MvTidSetCreate(Min(hs->k, 1024));
		hs->lastDistance = -INFINITY;
		/* the walk may cost hybrid_walk_budget times the exact search */
		budget = (int64) Min(exactCost * MvHybridWalkBudget / Max(hs->elementCost, 1e-9),
							 (double) PG_INT64_MAX / 2);
		/* forced: no budget, the walk goes on */
		budget = MvHybridStrategySetting != MV_HYBRID_AUTO ? 0 : Max(budget, 1);
		ScanKeyEntryInitialize(&orderby, isnull ? SK_ISNULL : 0, 1, InvalidStrategy,
							   InvalidOid, hs->collation, InvalidOid, query);
		hs->iscan = index_beginscan(hs->es.rel, hs->index, hs->es.snapshot, 0, 1);
		index_rescan(hs->iscan, NULL, 0, &orderby, 1);
		MvHnswScanSetFilter(hs->iscan, graph ? in_bitmap : NULL, graph ? hs->set : NULL, budget);
	}
	else
		hs->exactLoops++;
	hs->kcur = hs->k;
	MemoryContextSwitchTo(old);
}

/* The walk's next row that passes the filter, or NULL */
static TupleTableSlot *
graph_next(HybridScanState *hs)
{
	TupleTableSlot *slot = hs->es.slot;
	ExprContext *econtext = hs->css.ss.ps.ps_ExprContext;

	while (index_getnext_slot(hs->iscan, ForwardScanDirection, slot))
	{
		double		distance;
		bool		isnull;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		ResetExprContext(econtext);
		econtext->ecxt_scantuple = slot;
		if (hs->qual && !ExecQual(hs->qual, econtext))
		{
			hs->rejected++;
			continue;
		}
		/* where the walk is, should it go over budget later */
		old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
		distance = MvExactDistance(&hs->es, slot, &isnull);
		MemoryContextSwitchTo(old);
		if (!isnull)
			hs->lastDistance = Max(hs->lastDistance, distance);
		old = MemoryContextSwitchTo(hs->ctx);
		MvTidSetAdd(hs->emitted, &slot->tts_tid);
		MemoryContextSwitchTo(old);
		return slot;
	}
	return NULL;
}

/* The exact search's next row, searching (again, for more) when needed */
static TupleTableSlot *
exact_next(HybridScanState *hs)
{
	TupleTableSlot *slot = hs->es.slot;

	for (;;)
	{
		MemoryContext old;
		int			given;

		while (hs->pos < hs->nrows)
		{
			MvExactRow *row = &hs->rows[hs->pos++];

			if (table_tuple_fetch_row_version(hs->es.rel, &row->tid, hs->es.snapshot, slot))
				return slot;
		}
		/* the last search found fewer than it was asked for: that was all */
		if (hs->rows != NULL && hs->nrows < hs->kcur)
			return NULL;
		given = hs->pos;
		if (hs->rows != NULL)
		{
			if (hs->kcur >= INT_MAX / 4)
				return NULL;
			hs->kcur *= 4;
			pfree(hs->rows);
		}
		old = MemoryContextSwitchTo(hs->ctx);
		hs->nrows = MvExactTopK(&hs->es, hs->tbm, hs->kcur, &hs->rows);
		MemoryContextSwitchTo(old);
		/* the same snapshot gives the same order: skip what was handed out */
		hs->pos = given;
	}
}

static TupleTableSlot *
hybrid_next(ScanState *ss)
{
	HybridScanState *hs = (HybridScanState *) ss;
	TupleTableSlot *slot;

	if (!hs->started)
		start(hs);
	if (hs->strategy != MV_HYBRID_EXACT && !hs->fallback)
	{
		MvHnswScanCounters c;

		slot = graph_next(hs);
		if (slot != NULL)
			return slot;
		MvHnswScanGetCounters(hs->iscan, &c);
		end_walk(hs);
		if (!c.overBudget)
			return NULL;
		/* the walk gave up: the rest exactly, after what it handed out */
		if (hs->bitmapPlan && hs->tbm == NULL)
			compute_bitmap(hs);
		hs->fallback = true;
		hs->fallbacks++;
		hs->es.exclude = hs->emitted;
		hs->es.lastDistance = hs->lastDistance;
	}
	slot = exact_next(hs);
	return slot;
}

/* EvalPlanQual: the row still passes the filter */
static bool
hybrid_recheck(ScanState *ss, TupleTableSlot *slot)
{
	HybridScanState *hs = (HybridScanState *) ss;
	ExprContext *econtext = ss->ps.ps_ExprContext;

	ResetExprContext(econtext);
	econtext->ecxt_scantuple = slot;
	return hs->qual == NULL || ExecQual(hs->qual, econtext);
}

static TupleTableSlot *
hybrid_exec(CustomScanState *node)
{
	return ExecScan(&node->ss, hybrid_next, hybrid_recheck);
}

/* Drop the filter's bitmap: the next execution computes it */
static void
forget_bitmap(HybridScanState *hs)
{
	if (hs->tbm)
		tbm_free(hs->tbm);
	hs->tbm = NULL;
	hs->set = NULL;
	MemoryContextReset(hs->bitmapCtx);
}

/* Forget the execution (its walk and rows); keep the totals and the bitmap */
static void
reset_execution(HybridScanState *hs)
{
	end_walk(hs);
	hs->distances += hs->es.distances;
	hs->es.distances = 0;
	hs->es.exclude = NULL;
	hs->es.lastDistance = 0;
	hs->rows = NULL;
	hs->nrows = 0;
	hs->pos = 0;
	hs->emitted = NULL;
	hs->started = false;
	hs->fallback = false;
	MemoryContextReset(hs->ctx);
}

static void
hybrid_rescan(CustomScanState *node)
{
	HybridScanState *hs = (HybridScanState *) node;

	reset_execution(hs);
	if (hs->bitmapPlan)
	{
		/* a parameter of the bitmap changed: compute it again, else reuse it */
		if (node->ss.ps.chgParam != NULL)
			UpdateChangedParamSet(hs->bitmapPlan, node->ss.ps.chgParam);
		if (hs->bitmapPlan->chgParam != NULL)
			forget_bitmap(hs);
		else
		{
			/*
			 * The loops (query vectors) share one bitmap: making it is paid
			 * once, so even a planned walk makes it and chooses on its count.
			 */
			hs->bitmapLasts = true;
		}
	}
	ExecScanReScan(&node->ss);
}

static void
hybrid_end(CustomScanState *node)
{
	HybridScanState *hs = (HybridScanState *) node;

	reset_execution(hs);
	forget_bitmap(hs);
	if (hs->bitmapPlan)
		ExecEndNode(hs->bitmapPlan);
	if (hs->index)
		index_close(hs->index, AccessShareLock);
	MemoryContextDelete(hs->ctx);
	MemoryContextDelete(hs->bitmapCtx);
}

static const char *
strategy_name(int strategy)
{
	switch (strategy)
	{
		case MV_HYBRID_GRAPH:
			return "graph";
		case MV_HYBRID_WALK:
			return "walk";
		default:
			return "exact";
	}
}

/* EXPLAIN: what the scan orders by, filters on, and (ANALYZE) what it did */
static void
hybrid_explain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	HybridScanState *hs = (HybridScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *quals = (List *) lsecond(cscan->custom_exprs);
	List	   *context;
	bool		useprefix = list_length(es->rtable) > 1 || es->verbose;
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(node->ss.ss_currentRelation),
										  hs->attno - 1);
	Var		   *var = makeVar(cscan->scan.scanrelid, hs->attno, att->atttypid,
							  att->atttypmod, att->attcollation, 0);
	Expr	   *order;

	context = set_deparse_context_plan(es->deparse_cxt, (Plan *) cscan, ancestors);
	order = make_opclause(hs->opno, get_op_rettype(hs->opno), false, (Expr *) var,
						  (Expr *) linitial(cscan->custom_exprs), InvalidOid, hs->collation);
	ExplainPropertyText("Order By", deparse_expression((Node *) order, context, useprefix, false), es);
	if (quals != NIL)
		ExplainPropertyText("Filter", deparse_expression((Node *) make_ands_explicit(quals),
														 context, useprefix, false), es);
	if (hs->index != NULL)
		ExplainPropertyText("Vector Index", RelationGetRelationName(hs->index), es);
	ExplainPropertyText("Planned Strategy", strategy_name(hs->planned), es);
	if (es->analyze && hs->loops > 0)
	{
		StringInfoData used;
		int			kinds = (hs->exactLoops > 0) + (hs->graphLoops > 0) + (hs->walkLoops > 0);

		/* a walk the LIMIT stopped is still open */
		end_walk(hs);

		initStringInfo(&used);
		if (hs->exactLoops > 0)
			appendStringInfoString(&used, "exact");
		if (hs->graphLoops > 0)
			appendStringInfo(&used, "%sgraph", used.len > 0 ? " and " : "");
		if (hs->walkLoops > 0)
			appendStringInfo(&used, "%swalk", used.len > 0 ? " and " : "");
		if (kinds == 1 && hs->fallbacks > 0)
			appendStringInfoString(&used, ", then exact");
		ExplainPropertyText("Strategy", used.data, es);
		/* per bitmap: a rescan that changes none of its parameters reuses it */
		if (hs->bitmaps > 0)
		{
			ExplainPropertyInteger("Bitmaps", NULL, hs->bitmaps, es);
			ExplainPropertyInteger("Filter Rows", NULL, hs->filterRows / hs->bitmaps, es);
		}
		if (hs->lossyPages > 0)
			ExplainPropertyInteger("Lossy Pages", NULL, hs->lossyPages / hs->bitmaps, es);
		if (hs->graphLoops > 0 || hs->walkLoops > 0)
			ExplainPropertyInteger("Elements Visited", NULL, hs->visited / hs->loops, es);
		ExplainPropertyInteger("Distances", NULL,
							   (hs->distances + hs->es.distances) / hs->loops, es);
		if (hs->graphLoops > 0)
			ExplainPropertyInteger("Elements Skipped", NULL, hs->skipped / hs->loops, es);
		ExplainPropertyInteger("Rows Rejected", NULL,
							   (hs->rejected + hs->es.rowsRead - hs->es.rowsPassed) / hs->loops, es);
		if (hs->fallbacks > 0)
			ExplainPropertyInteger("Walks Over Budget", NULL, hs->fallbacks, es);
	}
}
