/*
 * segments.c
 *		SQL functions of the growing segment (src/sql/82_hnsw_segments.sql):
 *		milvus.seal() and milvus.compact_index(), which seal or compact one
 *		index now, and the rows of the view milvus.segments.
 *
 * They work without preloading; then no shared state exists, the view's
 * columns that come from it are NULL and a seal reports its progress
 * nowhere.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "coordinator.h"

#define MV_SEGMENTS_COLUMNS		15

PG_FUNCTION_INFO_V1(milvus_compact_index);
PG_FUNCTION_INFO_V1(milvus_seal);
PG_FUNCTION_INFO_V1(milvus_segments);

/*
 * The OIDs of this database's milvus_hnsw indexes, in cxt; in a transaction.
 * Other sessions' temporary indexes are left out: their pages are not ours
 * to read.
 */
List *
MvHnswIndexes(MemoryContext cxt)
{
	Oid			am = get_am_oid("milvus_hnsw", true);
	List	   *indexes = NIL;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;

	if (!OidIsValid(am))
		return NIL;
	rel = table_open(RelationRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);

		if (form->relkind == RELKIND_INDEX && form->relam == am &&
			(form->relpersistence != RELPERSISTENCE_TEMP ||
			 isTempOrTempToastNamespace(form->relnamespace)))
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);

			indexes = lappend_oid(indexes, form->oid);
			MemoryContextSwitchTo(old);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return indexes;
}

static void
not_hnsw_index(Oid relid)
{
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a milvus_hnsw index", name),
				 errdetail("It is a partitioned index; each partition has its own segment."),
				 errhint("Name the index of a partition, or call milvus.flush() on the collection.")));
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("\"%s\" is not a milvus_hnsw index", name)));
}

/*
 * Seal or compact an index now, waiting for a seal, compaction or vacuum
 * under way; the caller must own the table, as for VACUUM
 */
static int64
run_now(Oid indexid, MvJobKind kind)
{
	Oid			heapid;
	Relation	heap;
	Relation	index;
	MvJob		job;
	volatile int64 result = -1;

	PreventCommandDuringRecovery(kind == MV_JOB_SEAL ? "milvus.seal()" : "milvus.compact_index()");

	/* refuse before locking anything, as VACUUM does */
	heapid = IndexGetRelation(indexid, true);
	if (!OidIsValid(heapid) || get_rel_relkind(indexid) != RELKIND_INDEX)
		not_hnsw_index(indexid);
	if (!pg_class_ownercheck(heapid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(get_rel_relkind(heapid)),
					   get_rel_name(heapid));

	heap = table_open(heapid, RowExclusiveLock);
	index = index_open(indexid, RowExclusiveLock);
	if (!MvHnswIsIndex(index))
		not_hnsw_index(indexid);

	MvJobBegin(&job, indexid, kind);
	PG_TRY();
	{
		if (kind == MV_JOB_SEAL)
			result = MvHnswSeal(index, true, max_parallel_maintenance_workers, MvJobReport, &job);
		else
			result = MvHnswCompact(index, true, MvJobReport, &job);
	}
	PG_CATCH();
	{
		MvJobEnd(&job, -1);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MvJobEnd(&job, result);

	index_close(index, NoLock);
	table_close(heap, NoLock);
	return result;
}

/* milvus.seal(index regclass): seal the growing segment now; the rows sealed */
Datum
milvus_seal(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(run_now(PG_GETARG_OID(0), MV_JOB_SEAL));
}

/* milvus.compact_index(index regclass): compact now; the tombstones freed */
Datum
milvus_compact_index(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(run_now(PG_GETARG_OID(0), MV_JOB_COMPACTION));
}

static const char *
phase_name(MvHnswSealPhase phase)
{
	switch (phase)
	{
		case MV_HNSW_SEAL_FREEZE:
			return "freezing";
		case MV_HNSW_SEAL_LINK:
			return "linking";
		case MV_HNSW_SEAL_RELEASE:
			return "releasing";
		case MV_HNSW_COMPACT:
			return "compacting";
		case MV_HNSW_SEAL_WRITE:
			return "writing";
	}
	return NULL;
}

/*
 * Whether an open index has a segment to read: a milvus_hnsw index whose
 * build has written its metapage (CREATE INDEX CONCURRENTLY leaves it empty
 * for a while)
 */
bool
MvHnswIndexReadable(Relation index)
{
	return MvHnswIsIndex(index) && RelationGetNumberOfBlocks(index) > 0;
}

/* One row of milvus.segments; false when the index is gone or unreadable */
static bool
segment_row(Oid indexid, Datum *values, bool *nulls)
{
	Relation	index = try_relation_open(indexid, AccessShareLock);
	MvHnswSegmentInfo info;
	MvIndexState st;
	int			i = 0;

	if (index == NULL)
		return false;
	if (!MvHnswIndexReadable(index))
	{
		relation_close(index, AccessShareLock);
		return false;
	}
	MvHnswGetSegmentInfo(index, &info);

	memset(nulls, 0, MV_SEGMENTS_COLUMNS * sizeof(bool));
	values[i++] = ObjectIdGetDatum(indexid);
	values[i++] = ObjectIdGetDatum(index->rd_index->indrelid);
	values[i++] = Int64GetDatum(info.growingRows);
	values[i++] = Int64GetDatum(info.growingDead);
	values[i++] = Int64GetDatum(info.growingBytes);
	values[i++] = Int64GetDatum(info.sealedRows);
	values[i++] = Int64GetDatum(info.deletedElements);
	values[i++] = Int64GetDatum(info.pendingTombstones);
	relation_close(index, AccessShareLock);

	/* from shared memory: last seal, last compaction, then the job under way */
	if (!MvIndexGetState(indexid, &st))
	{
		memset(&st, 0, sizeof(st));
		nulls[i] = nulls[i + 1] = true;
	}
	nulls[i] = nulls[i] || st.lastSeal == 0;
	values[i++] = TimestampTzGetDatum(st.lastSeal);
	nulls[i] = nulls[i] || st.lastCompaction == 0;
	values[i++] = TimestampTzGetDatum(st.lastCompaction);
	if (st.running == MV_JOB_NONE)
	{
		for (; i < MV_SEGMENTS_COLUMNS; i++)
			nulls[i] = true;
		return true;
	}
	values[i++] = CStringGetTextDatum(st.running == MV_JOB_SEAL ? "seal" : "compaction");
	values[i++] = Int32GetDatum(st.pid);
	if (phase_name(st.phase) != NULL)
		values[i] = CStringGetTextDatum(phase_name(st.phase));
	else
		nulls[i] = true;
	i++;
	values[i++] = Int64GetDatum(st.done);
	values[i++] = Int64GetDatum(st.total);
	return true;
}

/* The rows of milvus.segments: every milvus_hnsw index of this database */
Datum
milvus_segments(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *indexes;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	indexes = MvHnswIndexes(CurrentMemoryContext);
	foreach(lc, indexes)
	{
		Datum		values[MV_SEGMENTS_COLUMNS];
		bool		nulls[MV_SEGMENTS_COLUMNS];

		CHECK_FOR_INTERRUPTS();
		if (segment_row(lfirst_oid(lc), values, nulls))
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
