/*
 * hybrid_path.c
 *		The planner side of the hybrid search: recognise a filtered (or
 *		index-less) vector top-k over a table and offer a custom path for it.
 *
 * A query of the form
 *
 *		SELECT ... FROM t WHERE <filter> ORDER BY <vector column> <op> <query> LIMIT k
 *
 * where <op> is a distance operator of a milvus_hnsw operator class and
 * <query> does not depend on the row, gets one more path for t next to those
 * PostgreSQL made (set_rel_pathlist_hook; partitions of a partitioned table
 * each get theirs, merged by a Merge Append as index scans would be).  The
 * path computes the filter as a bitmap (the cheapest bitmap PostgreSQL can
 * build from the B-tree, GIN or other indexes on the filter's columns) and
 * then, in the executor, on the bitmap's actual count, either measures the
 * rows that pass exactly or walks the milvus_hnsw graph testing elements
 * against the bitmap (hybrid_scan.c).  With no index on the filter's
 * columns, or no filter and no milvus_hnsw index, the path is an exact scan
 * of the table that keeps a top-k heap (hybrid_exact.c): Milvus's FLAT.
 *
 * It is priced from the filter's estimated selectivity, the bitmap path's own
 * cost and the index's size, with the cheaper of the two strategies; the
 * executor decides again on the actual count.  milvus.enable_hybrid_search
 * off adds no path; queries of any other form see no change.
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "utils/catcache.h"
#include "utils/lsyscache.h"
#include "utils/spccache.h"
#include "utils/syscache.h"

#include "milvus/hnsw.h"
#include "hybrid_int.h"

/* rows a LIMIT given by a parameter is planned for */
#define MV_HYBRID_DEFAULT_K		100

bool		MvHybridEnabled = true;
int			MvHybridStrategySetting = MV_HYBRID_AUTO;
double		MvHybridWalkBudget = 0.3;

static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;

static Plan *hybrid_plan_path(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
							  List *tlist, List *clauses, List *custom_plans);

static const CustomPathMethods hybrid_path_methods = {
	.CustomName = MV_HYBRID_NAME,
	.PlanCustomPath = hybrid_plan_path,
};

/* What the ORDER BY asks for */
typedef struct OrderTarget
{
	OpExpr	   *op;				/* <vector column> <op> <query>, or commuted */
	Var		   *var;
	Expr	   *query;
} OrderTarget;

static Oid
hnsw_am_oid(void)
{
	return get_am_oid("milvus_hnsw", true);
}

/* Is opno an ORDER BY operator of a milvus_hnsw operator family (of opfamily, if given)? */
static bool
is_distance_operator(Oid opno, Oid amoid, Oid opfamily)
{
	CatCList   *list = SearchSysCacheList1(AMOPOPID, ObjectIdGetDatum(opno));
	bool		found = false;

	for (int i = 0; i < list->n_members && !found; i++)
	{
		Form_pg_amop amop = (Form_pg_amop) GETSTRUCT(&list->members[i]->tuple);

		found = amop->amopmethod == amoid && amop->amoppurpose == AMOP_ORDER &&
			(!OidIsValid(opfamily) || amop->amopfamily == opfamily);
	}
	ReleaseSysCacheList(list);
	return found;
}

static Expr *
strip_relabel(Expr *e)
{
	while (e && IsA(e, RelabelType))
		e = ((RelabelType *) e)->arg;
	return e;
}

/*
 * The first ORDER BY key, if it is an ascending, NULLS LAST distance between
 * a vector column of rel and an expression that does not depend on the row
 */
static bool
find_order_target(PlannerInfo *root, RelOptInfo *rel, Oid amoid, OrderTarget *target)
{
	PathKey    *pk = (PathKey *) linitial(root->query_pathkeys);
	ListCell   *lc;

	if (pk->pk_strategy != BTLessStrategyNumber || pk->pk_nulls_first)
		return false;
	foreach(lc, pk->pk_eclass->ec_members)
	{
		EquivalenceMember *em = (EquivalenceMember *) lfirst(lc);
		OpExpr	   *op = (OpExpr *) strip_relabel(em->em_expr);
		Expr	   *a;
		Expr	   *b;

		if (em->em_is_const || !bms_equal(em->em_relids, rel->relids) ||
			!IsA(op, OpExpr) || list_length(op->args) != 2)
			continue;
		a = strip_relabel(linitial(op->args));
		b = strip_relabel(lsecond(op->args));
		if (!IsA(a, Var))
		{
			Expr	   *t = a;

			a = b;
			b = t;
		}
		if (!IsA(a, Var) || ((Var *) a)->varno != rel->relid ||
			((Var *) a)->varlevelsup != 0 || ((Var *) a)->varattno <= 0)
			continue;
		if (contain_var_clause((Node *) b) || contain_volatile_functions((Node *) b))
			continue;
		if (!is_distance_operator(op->opno, amoid, InvalidOid))
			continue;
		target->op = op;
		target->var = (Var *) a;
		target->query = b;
		return true;
	}
	return false;
}

/* A milvus_hnsw index on the column whose operator class orders by the operator */
static IndexOptInfo *
find_vector_index(RelOptInfo *rel, Oid amoid, OrderTarget *target)
{
	ListCell   *lc;

	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *index = (IndexOptInfo *) lfirst(lc);

		if (index->relam == amoid && index->indpred == NIL &&
			index->indexkeys[0] == target->var->varattno &&
			is_distance_operator(target->op->opno, amoid, index->opfamily[0]))
			return index;
	}
	return NULL;
}

/*
 * The cheapest unparameterized bitmap heap path PostgreSQL can build for the
 * filter, or NULL.  The paths the planner kept may not include one (a
 * cheaper plain path dominates it), so the index paths are made again into
 * an empty list, with plain index scans priced out of the way.
 */
static BitmapHeapPath *
filter_bitmap_path(PlannerInfo *root, RelOptInfo *rel)
{
	List	   *pathlist = rel->pathlist;
	List	   *partial = rel->partial_pathlist;
	bool		indexscan = enable_indexscan;
	bool		indexonlyscan = enable_indexonlyscan;
	bool		bitmapscan = enable_bitmapscan;
	BitmapHeapPath *best = NULL;
	ListCell   *lc;

	rel->pathlist = NIL;
	rel->partial_pathlist = NIL;
	enable_indexscan = false;
	enable_indexonlyscan = false;
	enable_bitmapscan = true;
	PG_TRY();
	{
		create_index_paths(root, rel);
	}
	PG_FINALLY();
	{
		enable_indexscan = indexscan;
		enable_indexonlyscan = indexonlyscan;
		enable_bitmapscan = bitmapscan;
	}
	PG_END_TRY();

	foreach(lc, rel->pathlist)
	{
		Path	   *path = (Path *) lfirst(lc);

		if (IsA(path, BitmapHeapPath) && path->param_info == NULL &&
			(best == NULL || path->total_cost < best->path.total_cost))
			best = (BitmapHeapPath *) path;
	}
	rel->pathlist = pathlist;
	rel->partial_pathlist = partial;
	return best;
}

/* The index's m, and the cost of one element of a walk: its share of pages, a distance */
static Cost
element_cost(IndexOptInfo *index, Cost distance, int *m)
{
	Relation	irel = index_open(index->indexoid, NoLock);
	double		spc_random_page_cost;

	*m = MvHnswGetM(irel);
	index_close(irel, NoLock);
	get_tablespace_page_costs(index->reltablespace, &spc_random_page_cost, NULL);
	return distance + cpu_index_tuple_cost +
		spc_random_page_cost * Max(index->pages, 1) / Max(index->tuples, 1.0);
}

/*
 * The walk that tests candidates on the table is the plain index scan's,
 * with a budget after which the bitmap and the exact search take over.  It
 * is priced as the ordered scan of the index the planner made, 2 % cheaper
 * (beyond add_path's 1 % fuzz, which would otherwise prefer a parallel-safe
 * scan), since it is never slower and bounds that scan's worst case (a
 * filter whose rows lie far from the query).  False when there is no such
 * scan.
 */
static bool
walk_costs(RelOptInfo *rel, IndexOptInfo *index, Cost *startup, Cost *total)
{
	ListCell   *lc;

	foreach(lc, rel->pathlist)
	{
		IndexPath  *ipath = (IndexPath *) lfirst(lc);

		if (IsA(ipath, IndexPath) && ipath->indexinfo == index &&
			ipath->path.pathkeys != NIL && ipath->path.param_info == NULL)
		{
			*startup = ipath->path.startup_cost * 0.98;
			*total = ipath->path.total_cost * 0.98;
			return true;
		}
	}
	return false;
}

/* The hook: add the hybrid search path where the query has its form */
static void
hybrid_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	Query	   *parse = root->parse;
	Oid			amoid;
	OrderTarget target;
	IndexOptInfo *index;
	BitmapHeapPath *bpath = NULL;
	CustomPath *cpath;
	Relation	table;
	bool		heap;
	double		ntuples;
	double		nrows;
	double		k;
	double		sel;
	QualCost	distcost;
	Cost		topk;
	Cost		rowCost;
	Cost		elementCost = 0;
	Cost		exactCost;
	Cost		graphCost = -1;
	Cost		walkCost = -1;
	Cost		walkStartup = 0;
	Cost		walkTotal = 0;
	double		bitmapRows = 0;
	int			m = 0;
	int			planned;

	if (prev_set_rel_pathlist_hook)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);

	if (!MvHybridEnabled || rte->rtekind != RTE_RELATION || rte->inh ||
		rte->relkind != RELKIND_RELATION || rte->tablesample != NULL ||
		(rel->reloptkind != RELOPT_BASEREL && rel->reloptkind != RELOPT_OTHER_MEMBER_REL) ||
		root->query_pathkeys == NIL || parse->limitCount == NULL ||
		parse->groupClause != NIL || parse->groupingSets != NIL || parse->hasAggs ||
		parse->hasWindowFuncs || parse->distinctClause != NIL || parse->setOperations != NULL ||
		parse->hasTargetSRFs)
		return;
	amoid = hnsw_am_oid();
	if (!OidIsValid(amoid) || !find_order_target(root, rel, amoid, &target))
		return;

	table = table_open(rte->relid, NoLock);
	heap = table->rd_rel->relam == HEAP_TABLE_AM_OID;
	table_close(table, NoLock);
	if (!heap)
		return;

	index = find_vector_index(rel, amoid, &target);
	if (rel->baserestrictinfo != NIL)
		bpath = filter_bitmap_path(root, rel);
	else if (index != NULL)
		return;					/* no filter: the index scan is the plan */

	ntuples = Max(rel->tuples, 1.0);
	nrows = Max(rel->rows, 1.0);
	sel = Min(nrows / ntuples, 1.0);
	k = root->limit_tuples > 0 ? root->limit_tuples : MV_HYBRID_DEFAULT_K;
	cost_qual_eval_node(&distcost, (Node *) target.op, root);
	topk = cpu_operator_cost * log2(Max(k, 2.0));

	/* exact: the rows that pass, read and measured, into a top-k heap */
	if (bpath != NULL)
	{
		Cost		bitmapCost;
		Selectivity bitmapSel;

		cost_bitmap_tree_node(bpath->bitmapqual, &bitmapCost, &bitmapSel);
		exactCost = bpath->path.total_cost + nrows * (distcost.per_tuple + topk);
		/* per row of the bitmap, which is what the executor counts */
		bitmapRows = Max(bitmapSel * ntuples, nrows);
		rowCost = (exactCost - bitmapCost) / bitmapRows;
		if (index != NULL)
		{
			/* a walk reads about ef_search * m elements to find ef_search that pass */
			double		visited;

			elementCost = element_cost(index, distcost.per_tuple, &m);
			visited = Min((double) index->tuples, MvHnswEfSearch * (double) m / sel);
			graphCost = bitmapCost + nrows * cpu_operator_cost + visited * elementCost +
				k * (rowCost + random_page_cost);
		}
	}
	else
	{
		Path	   *seq = create_seqscan_path(root, rel, NULL, 0);

		exactCost = seq->total_cost + nrows * (distcost.per_tuple + topk);
		rowCost = exactCost / ntuples;
	}

	if (index != NULL && bpath != NULL &&
		walk_costs(rel, index, &walkStartup, &walkTotal))
		walkCost = walkStartup + (walkTotal - walkStartup) * Min(k / nrows, 1.0);

	planned = MV_HYBRID_EXACT;
	if (graphCost >= 0 && graphCost < exactCost)
		planned = MV_HYBRID_GRAPH;
	if (walkCost >= 0 && walkCost < (planned == MV_HYBRID_GRAPH ? graphCost : exactCost))
		planned = MV_HYBRID_WALK;
	if (MvHybridStrategySetting == MV_HYBRID_EXACT ||
		(MvHybridStrategySetting == MV_HYBRID_GRAPH && graphCost >= 0) ||
		(MvHybridStrategySetting == MV_HYBRID_WALK && index != NULL))
		planned = MvHybridStrategySetting;

	cpath = makeNode(CustomPath);
	cpath->path.pathtype = T_CustomScan;
	cpath->path.parent = rel;
	cpath->path.pathtarget = rel->reltarget;
	cpath->path.param_info = NULL;
	cpath->path.parallel_aware = false;
	/* not parallel-aware, but it may run inside a parallel worker */
	cpath->path.parallel_safe = rel->consider_parallel &&
		is_parallel_safe(root, (Node *) target.query);
	cpath->path.parallel_workers = 0;
	cpath->path.rows = rel->rows;
	if (planned == MV_HYBRID_WALK)
	{
		cpath->path.startup_cost = walkStartup;
		cpath->path.total_cost = walkTotal;
	}
	else
	{
		/* every row's work is done before the first comes out */
		cpath->path.startup_cost = planned == MV_HYBRID_GRAPH ? graphCost : exactCost;

		/*
		 * The ORDER BY's distance is part of the query's target, whose cost
		 * the planner adds per row on top of this path, as it does under a
		 * sort: it is paid for here already (the search measured every row),
		 * so it is taken off the rows, and the path competes with "sort the
		 * filtered rows" on what it really saves.
		 */
		cpath->path.total_cost = cpath->path.startup_cost +
			rel->rows * (cpu_tuple_cost - distcost.per_tuple);
	}
	/* a strategy forced (for tests and comparisons) forces the path too */
	if (MvHybridStrategySetting != MV_HYBRID_AUTO)
	{
		cpath->path.startup_cost = 0;
		cpath->path.total_cost = 0;
	}
	cpath->path.pathkeys = list_make1(linitial(root->query_pathkeys));
	cpath->flags = CUSTOMPATH_SUPPORT_PROJECTION;
	cpath->custom_paths = bpath ? list_make1(bpath) : NIL;
	cpath->custom_private = list_make5(makeInteger(index ? (int) index->indexoid : 0),
									   makeInteger((int) target.op->opno),
									   makeInteger(target.var->varattno),
									   makeInteger((int) target.op->inputcollid),
									   makeInteger((int) Min(k, (double) INT_MAX / 8)));
	cpath->custom_private = lappend(cpath->custom_private, makeFloat(psprintf("%.17g", rowCost)));
	cpath->custom_private = lappend(cpath->custom_private, makeFloat(psprintf("%.17g", elementCost)));
	cpath->custom_private = lappend(cpath->custom_private, makeFloat(psprintf("%.17g", ntuples)));
	cpath->custom_private = lappend(cpath->custom_private, makeInteger(m));
	cpath->custom_private = lappend(cpath->custom_private, makeInteger(planned));
	cpath->custom_private = lappend(cpath->custom_private,
									makeFloat(psprintf("%.17g", bitmapRows > 0 ? bitmapRows : nrows)));
	cpath->custom_private = lappend(cpath->custom_private, makeFloat(psprintf("%.17g", walkCost)));
	/* the query vector's expression, for the plan's custom_exprs */
	cpath->custom_private = lappend(cpath->custom_private, target.query);
	cpath->methods = &hybrid_path_methods;
	add_path(rel, &cpath->path);
}

/* PlanCustomPath: the CustomScan, with the bitmap's plan as its child */
static Plan *
hybrid_plan_path(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
				 List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *quals = extract_actual_clauses(clauses, false);
	Expr	   *query = (Expr *) llast(best_path->custom_private);

	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = NIL;
	cscan->scan.scanrelid = rel->relid;
	cscan->flags = best_path->flags;
	cscan->custom_private = list_truncate(list_copy(best_path->custom_private), MV_HYBRID_NPRIV);
	cscan->custom_exprs = list_make2(copyObject(query), quals);
	cscan->custom_scan_tlist = NIL;
	if (custom_plans != NIL)
	{
		Plan	   *heapscan = (Plan *) linitial(custom_plans);

		Assert(IsA(heapscan, BitmapHeapScan));
		/* the bitmap alone: the rows are read by the hybrid scan */
		cscan->custom_plans = list_make1(heapscan->lefttree);
	}
	cscan->methods = &MvHybridScanMethods;
	return &cscan->scan.plan;
}

/* Install the hook and make the custom scan known (to parallel workers too) */
void
MvHybridInit(void)
{
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = hybrid_set_rel_pathlist;
	RegisterCustomScanMethods(&MvHybridScanMethods);
}
