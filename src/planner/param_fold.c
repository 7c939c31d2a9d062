/*
 * param_fold.c
 *		Fold $1[N] of a text[] parameter to its element, reading the array once.
 *
 * A compiled filter reaches SQL with every literal an element of one text[]
 * parameter, "($1[N])::type".  When a plan is made for known parameter values
 * (plpgsql's EXECUTE ... USING, a custom plan), eval_const_expressions turns
 * each reference to $1 into a Const holding a copy of the whole array and
 * only then folds the subscript: a filter of n literals costs n copies of an
 * array of n elements, memory quadratic in its length (a chain of 24,000
 * "id > N" terms ran out of memory at 3 GB).  This planner hook does the same
 * folding first, from one deconstruction of the array per parameter: each
 * $1[N] with a constant N becomes a Const of the element, exactly what the
 * planner would have made of it, and the rest of planning sees no reference
 * to $1 to copy.  It touches only what the planner would fold anyway: a
 * PARAM_EXTERN text[] parameter marked PARAM_FLAG_CONST, subscripted once by
 * a constant, outside an assignment.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "utils/array.h"

#include "milvus/planner.h"

static planner_hook_type prev_planner_hook = NULL;

/* One text[] parameter, deconstructed once */
typedef struct FoldedParam
{
	int			paramid;
	bool		usable;			/* a constant text[] of one dimension, or NULL */
	bool		isnull;			/* the array itself */
	int			lbound;
	int			nelems;
	Datum	   *elems;
	bool	   *nulls;
} FoldedParam;

typedef struct FoldContext
{
	ParamListInfo params;
	List	   *folded;			/* of FoldedParam * */
} FoldContext;

/* Whether the tree subscripts a text[] parameter: else there is nothing to do */
static bool
subscripts_param(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, subscripts_param, context, 0);
	if (IsA(node, SubscriptingRef) &&
		((SubscriptingRef *) node)->refcontainertype == TEXTARRAYOID &&
		IsA(((SubscriptingRef *) node)->refexpr, Param))
		return true;
	return expression_tree_walker(node, subscripts_param, context);
}

/* The parameter paramid, deconstructed; usable is false unless it qualifies */
static FoldedParam *
folded_param(FoldContext *ctx, int paramid)
{
	ParamExternData prmdata;
	ParamExternData *prm;
	FoldedParam *f;
	ListCell   *lc;

	foreach(lc, ctx->folded)
	{
		f = lfirst(lc);
		if (f->paramid == paramid)
			return f;
	}
	f = palloc0(sizeof(FoldedParam));
	f->paramid = paramid;
	ctx->folded = lappend(ctx->folded, f);
	if (paramid <= 0 || paramid > ctx->params->numParams)
		return f;
	if (ctx->params->paramFetch != NULL)
		prm = ctx->params->paramFetch(ctx->params, paramid, true, &prmdata);
	else
		prm = &ctx->params->params[paramid - 1];
	if (prm->ptype != TEXTARRAYOID || !(prm->pflags & PARAM_FLAG_CONST))
		return f;
	if (prm->isnull)
		f->isnull = true;
	else
	{
		ArrayType  *array = DatumGetArrayTypeP(prm->value);

		if (ARR_NDIM(array) > 1)
			return f;
		if (ARR_NDIM(array) == 1)
		{
			f->lbound = ARR_LBOUND(array)[0];
			deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT,
							  &f->elems, &f->nulls, &f->nelems);
		}
	}
	f->usable = true;
	return f;
}

/* $N[const], or NULL if the node is not one we fold */
static Node *
fold_subscript(SubscriptingRef *sbsref, FoldContext *ctx)
{
	Param	   *param;
	Const	   *index;
	FoldedParam *f;
	int64		i;

	if (sbsref->refcontainertype != TEXTARRAYOID || sbsref->refassgnexpr != NULL ||
		sbsref->reflowerindexpr != NIL || list_length(sbsref->refupperindexpr) != 1 ||
		!IsA(sbsref->refexpr, Param) || !IsA(linitial(sbsref->refupperindexpr), Const))
		return NULL;
	param = (Param *) sbsref->refexpr;
	index = linitial(sbsref->refupperindexpr);
	if (param->paramkind != PARAM_EXTERN || param->paramtype != TEXTARRAYOID ||
		index->consttype != INT4OID)
		return NULL;
	f = folded_param(ctx, param->paramid);
	if (!f->usable)
		return NULL;

	/* a NULL array or subscript, or one out of range, gives NULL */
	i = index->constisnull ? -1 : (int64) DatumGetInt32(index->constvalue) - f->lbound;
	if (f->isnull || i < 0 || i >= f->nelems || f->nulls[i])
		return (Node *) makeConst(sbsref->refrestype, sbsref->reftypmod, sbsref->refcollid,
								  -1, (Datum) 0, true, false);
	return (Node *) makeConst(sbsref->refrestype, sbsref->reftypmod, sbsref->refcollid,
							  -1, PointerGetDatum(PG_DETOAST_DATUM_COPY(f->elems[i])),
							  false, false);
}

static Node *
fold_mutator(Node *node, FoldContext *ctx)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, fold_mutator, ctx, 0);
	if (IsA(node, SubscriptingRef))
	{
		Node	   *folded = fold_subscript((SubscriptingRef *) node, ctx);

		if (folded)
			return folded;
	}
	return expression_tree_mutator(node, fold_mutator, ctx);
}

static PlannedStmt *
mv_planner(Query *parse, const char *query_string, int cursorOptions,
		   ParamListInfo boundParams)
{
	if (boundParams != NULL && subscripts_param((Node *) parse, NULL))
	{
		FoldContext ctx = {boundParams, NIL};

		parse = (Query *) fold_mutator((Node *) parse, &ctx);
	}
	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/* Install the hook, after whichever was there */
void
MvParamFoldInit(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = mv_planner;
}
