/*
 * hnsw.c
 *		The milvus_hnsw access method: handler, options, cost estimate,
 *		opclass validation and build phase names.
 *
 * The index answers ORDER BY <column> <op> <vector> LIMIT k and nothing
 * else.  Its cost model prices what a scan does: the first batch visits about
 * ef_search * m elements before the first row; each further row costs one more
 * element visit (a random index page and one distance), which is what makes a
 * filter rejecting most rows expensive and lets the planner prefer an exact
 * plan over the few rows that pass.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/amvalidate.h"
#include "access/reloptions.h"
#include "catalog/pg_am.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
#include "utils/syscache.h"

#include "hnsw.h"

/* milvus.* settings of the index, defined in src/guc.c */
bool		MvHnswGrowingSegment = true;
bool		MvHnswTruncate = true;
bool		MvHnswSealInMemoryEnabled = true;
int			MvHnswGrowingRerank = MV_HNSW_DEFAULT_GROWING_RERANK;
int			MvHnswEfSearch = MV_HNSW_DEFAULT_EF_SEARCH;
int			MvHnswMaxScanTuples = MV_HNSW_DEFAULT_MAX_SCAN_TUPLES;
int			MvHnswLevelSeed = MV_HNSW_MIN_LEVEL_SEED;

/* the planner's price of one distance: as src/planner/distance_cost.c */
#define MV_HNSW_COST_BYTES_PER_OPERATOR	64.0

static relopt_kind mvhnsw_relopt_kind;
static bool mvhnsw_relopts_defined = false;

PG_FUNCTION_INFO_V1(milvus_hnsw_handler);

/* Register the reloptions, once per backend, before the first parse */
static void
define_reloptions(void)
{
	if (mvhnsw_relopts_defined)
		return;
	mvhnsw_relopt_kind = add_reloption_kind();
	add_int_reloption(mvhnsw_relopt_kind, "m",
					  "Links per element on layers above 0 (twice as many on layer 0)",
					  MV_HNSW_DEFAULT_M, MV_HNSW_MIN_M, MV_HNSW_MAX_M,
					  AccessExclusiveLock);
	add_int_reloption(mvhnsw_relopt_kind, "ef_construction",
					  "Candidate list length when building the graph",
					  MV_HNSW_DEFAULT_EF_CONSTRUCTION, MV_HNSW_MIN_EF_CONSTRUCTION,
					  MV_HNSW_MAX_EF_CONSTRUCTION, AccessExclusiveLock);
	mvhnsw_relopts_defined = true;
}

/* amoptions */
static bytea *
mvhnsw_options(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"m", RELOPT_TYPE_INT, offsetof(MvHnswOptions, m)},
		{"ef_construction", RELOPT_TYPE_INT, offsetof(MvHnswOptions, efConstruction)},
	};
	MvHnswOptions *opts;

	define_reloptions();
	opts = (MvHnswOptions *) build_reloptions(reloptions, validate, mvhnsw_relopt_kind,
											  sizeof(MvHnswOptions), tab, lengthof(tab));
	if (validate && opts != NULL && opts->efConstruction < 2 * opts->m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be greater than or equal to 2 * m"),
				 errdetail("ef_construction is %d and m is %d.", opts->efConstruction, opts->m)));
	return (bytea *) opts;
}

int
MvHnswGetM(Relation index)
{
	MvHnswOptions *opts = (MvHnswOptions *) index->rd_options;

	return opts ? opts->m : MV_HNSW_DEFAULT_M;
}

int
MvHnswGetEfConstruction(Relation index)
{
	MvHnswOptions *opts = (MvHnswOptions *) index->rd_options;

	return opts ? opts->efConstruction : MV_HNSW_DEFAULT_EF_CONSTRUCTION;
}

/* amcostestimate */
static void
mvhnsw_costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
					Cost *indexStartupCost, Cost *indexTotalCost,
					Selectivity *indexSelectivity, double *indexCorrelation,
					double *indexPages)
{
	IndexOptInfo *info = path->indexinfo;
	Relation	index;
	MvHnswDist	dist;
	int			m;
	int			dims;
	double		bytes;
	double		tuples = Max(info->tuples, 1.0);
	double		pages = Max((double) info->pages, 1.0);
	double		perElement;
	double		first;
	double		spc_random_page_cost;

	*indexSelectivity = 1.0;
	*indexCorrelation = 0.0;
	*indexPages = info->pages;

	/* only ORDER BY can use the index, even with enable_seqscan off */
	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		return;
	}

	index = index_open(info->indexoid, NoLock);
	MvHnswInitDist(&dist, index);
	m = MvHnswGetM(index);
	dims = Max(TupleDescAttr(RelationGetDescr(index), 0)->atttypmod, 1);
	index_close(index, NoLock);

	switch (dist.metric)
	{
		case MV_HNSW_F16_L2:
		case MV_HNSW_F16_IP:
		case MV_HNSW_F16_COSINE:
			bytes = dims * 2.0;
			break;
		case MV_HNSW_BIT_HAMMING:
		case MV_HNSW_BIT_JACCARD:
			bytes = dims / 8.0;
			break;
		default:
			bytes = dims * 4.0;
			break;
	}
	get_tablespace_page_costs(info->reltablespace, &spc_random_page_cost, NULL);

	/*
	 * Visiting an element: its share of the index pages read at random, one
	 * distance, and the tuple overhead.
	 */
	perElement = spc_random_page_cost * pages / tuples +
		cpu_operator_cost * (1.0 + bytes / MV_HNSW_COST_BYTES_PER_OPERATOR) +
		cpu_index_tuple_cost;

	/* the first batch: about ef_search * m elements, plus the descent */
	first = Min(tuples, MvHnswEfSearch * (double) m + m * log(tuples) / log((double) m));

	*indexStartupCost = first * perElement;
	*indexTotalCost = *indexStartupCost + (tuples - first) * perElement;
}

/* Is opfamily a btree operator family? */
static bool
is_btree_opfamily(Oid opfamily)
{
	HeapTuple	tup = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(opfamily));
	bool		result = false;

	if (HeapTupleIsValid(tup))
	{
		result = ((Form_pg_opfamily) GETSTRUCT(tup))->opfmethod == BTREE_AM_OID;
		ReleaseSysCache(tup);
	}
	return result;
}

/* amvalidate: the checks contrib/bloom's blvalidate makes, for ORDER BY opclasses */
static bool
mvhnsw_validate(Oid opclassoid)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	Oid			opfamilyoid;
	Oid			opcintype;
	char	   *opclassname;
	HeapTuple	familytup;
	Form_pg_opfamily familyform;
	char	   *opfamilyname;
	CatCList   *proclist,
			   *oprlist;
	List	   *grouplist;
	OpFamilyOpFuncGroup *opclassgroup;
	ListCell   *lc;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opfamilyoid = classform->opcfamily;
	opcintype = classform->opcintype;
	opclassname = NameStr(classform->opcname);

	familytup = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(opfamilyoid));
	if (!HeapTupleIsValid(familytup))
		elog(ERROR, "cache lookup failed for operator family %u", opfamilyoid);
	familyform = (Form_pg_opfamily) GETSTRUCT(familytup);
	opfamilyname = NameStr(familyform->opfname);

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));
	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));

	for (int i = 0; i < proclist->n_members; i++)
	{
		HeapTuple	proctup = &proclist->members[i]->tuple;
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(proctup);

		if (procform->amproclefttype != procform->amprocrighttype)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("milvus_hnsw opfamily %s contains support function %s with cross-type registration",
							opfamilyname, format_procedure(procform->amproc))));
			result = false;
		}
		if (procform->amproclefttype != opcintype)
			continue;
		if (procform->amprocnum != 1)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("milvus_hnsw opfamily %s contains function %s with invalid support number %d",
							opfamilyname, format_procedure(procform->amproc),
							procform->amprocnum)));
			result = false;
			continue;
		}
		if (!check_amproc_signature(procform->amproc, FLOAT8OID, true, 2, 2,
									opcintype, opcintype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("milvus_hnsw opfamily %s contains function %s with wrong signature for support number %d",
							opfamilyname, format_procedure(procform->amproc),
							procform->amprocnum)));
			result = false;
		}
	}

	for (int i = 0; i < oprlist->n_members; i++)
	{
		HeapTuple	oprtup = &oprlist->members[i]->tuple;
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(oprtup);

		if (oprform->amopstrategy != 1)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("milvus_hnsw opfamily %s contains operator %s with invalid strategy number %d",
							opfamilyname, format_operator(oprform->amopopr),
							oprform->amopstrategy)));
			result = false;
		}
		if (oprform->amoppurpose != AMOP_ORDER ||
			!is_btree_opfamily(oprform->amopsortfamily))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("milvus_hnsw opfamily %s contains operator %s that is not an ORDER BY operator with a btree sort family",
							opfamilyname, format_operator(oprform->amopopr))));
			result = false;
		}
		if (!check_amop_signature(oprform->amopopr, FLOAT8OID,
								  oprform->amoplefttype, oprform->amoprighttype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("milvus_hnsw opfamily %s contains operator %s with wrong signature",
							opfamilyname, format_operator(oprform->amopopr))));
			result = false;
		}
	}

	grouplist = identify_opfamily_groups(oprlist, proclist);
	opclassgroup = NULL;
	foreach(lc, grouplist)
	{
		OpFamilyOpFuncGroup *group = (OpFamilyOpFuncGroup *) lfirst(lc);

		if (group->lefttype == opcintype && group->righttype == opcintype)
			opclassgroup = group;
	}
	if (opclassgroup == NULL || (opclassgroup->functionset & (((uint64) 1) << 1)) == 0)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("milvus_hnsw opclass %s is missing support function 1",
						opclassname)));
		result = false;
	}
	if (opclassgroup == NULL || (opclassgroup->operatorset & (((uint64) 1) << 1)) == 0)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("milvus_hnsw opclass %s is missing operator 1", opclassname)));
		result = false;
	}

	ReleaseCatCacheList(proclist);
	ReleaseCatCacheList(oprlist);
	ReleaseSysCache(familytup);
	ReleaseSysCache(classtup);
	return result;
}

/* ambuildphasename */
static char *
mvhnsw_buildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case MV_HNSW_PHASE_LOAD:
			return "building graph in memory";
		case MV_HNSW_PHASE_WRITE:
			return "writing graph pages";
		case MV_HNSW_PHASE_SPILL:
			return "inserting on disk (graph outgrew maintenance_work_mem)";
		default:
			return NULL;
	}
}

Datum
milvus_hnsw_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = 1;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = true;	/* vacuum's reachability pass */
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = mvhnsw_build;
	am->ambuildempty = mvhnsw_buildempty;
	am->aminsert = mvhnsw_insert;
	am->ambulkdelete = mvhnsw_bulkdelete;
	am->amvacuumcleanup = mvhnsw_vacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = mvhnsw_costestimate;
	am->amoptions = mvhnsw_options;
	am->amproperty = NULL;
	am->ambuildphasename = mvhnsw_buildphasename;
	am->amvalidate = mvhnsw_validate;
	am->amadjustmembers = NULL;
	am->ambeginscan = mvhnsw_beginscan;
	am->amrescan = mvhnsw_rescan;
	am->amgettuple = mvhnsw_gettuple;
	am->amgetbitmap = NULL;
	am->amendscan = mvhnsw_endscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}
