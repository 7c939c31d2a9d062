/*
 * load.c
 *		Read a table into shared buffers: the work of load_collection.
 *
 * Milvus loads a collection into its query nodes' memory before it serves
 * searches.  Here the data lives in PostgreSQL's buffer cache already, so
 * loading reads every block of a partition, of its TOAST table (where long
 * vectors live) and of their indexes once, as contrib/pg_prewarm's "buffer"
 * mode does, and the buffer manager keeps what fits.  The SQL side
 * (src/sql/77_collection_index.sql) calls this for each partition.
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/relcache.h"

PG_FUNCTION_INFO_V1(milvus_prewarm_table);

/* Read every block of one relation's main fork; return how many */
static int64
prewarm_relation(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	BlockNumber nblocks = 0;

	if (RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
	{
		nblocks = RelationGetNumberOfBlocksInFork(rel, MAIN_FORKNUM);
		for (BlockNumber blkno = 0; blkno < nblocks; blkno++)
		{
			CHECK_FOR_INTERRUPTS();
			ReleaseBuffer(ReadBufferExtended(rel, MAIN_FORKNUM, blkno, RBM_NORMAL, NULL));
		}
	}
	relation_close(rel, AccessShareLock);
	return nblocks;
}

/* Read a relation, its indexes, its TOAST table and that one's index */
static int64
prewarm_with_indexes(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	Oid			toastrelid = rel->rd_rel->reltoastrelid;
	int64		nblocks;
	ListCell   *lc;

	relation_close(rel, AccessShareLock);
	nblocks = prewarm_relation(relid);
	foreach(lc, indexes)
		nblocks += prewarm_relation(lfirst_oid(lc));
	list_free(indexes);
	if (OidIsValid(toastrelid))
		nblocks += prewarm_with_indexes(toastrelid);
	return nblocks;
}

/*
 * Load one table (a partition of a collection) with its indexes and TOAST
 * data into shared buffers and return the number of blocks read.  The caller
 * needs SELECT on the table.
 */
Datum
milvus_prewarm_table(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Relation	rel;
	AclResult	aclresult;

	rel = relation_open(relid, AccessShareLock);
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, get_relkind_objtype(rel->rd_rel->relkind),
					   RelationGetRelationName(rel));
	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", RelationGetRelationName(rel))));
	if (RELATION_IS_OTHER_TEMP(rel))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot load temporary tables of other sessions")));

	/* the lock stays until the end of the transaction */
	relation_close(rel, NoLock);
	PG_RETURN_INT64(prewarm_with_indexes(relid));
}
