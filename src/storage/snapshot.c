/*
 * snapshot.c
 *		Collection snapshots in the bucket: the object calls and the data
 *		streams behind milvus.create_snapshot and milvus.restore_snapshot.
 *
 * The snapshot functions themselves are PL/pgSQL (src/sql/85_storage_snapshots.sql):
 * they read the catalog and write the manifest.  Here are the parts that
 * touch S3 or stream rows.  Every key is relative to <milvus.s3_prefix>
 * snapshots/, so these functions reach no other object of the bucket.
 *
 * milvus._snapshot_copy_out writes one table partition in PostgreSQL's COPY
 * BINARY format (header, one tuple per row from the types' send functions,
 * trailer), read through an SPI cursor under the caller's active snapshot, so
 * that every partition of one create_snapshot call sees the same MVCC
 * snapshot.  The stream is cut into parts of MV_SNAPSHOT_PART_BYTES, each
 * uploaded as its own object as soon as it is full: memory stays at one part
 * and one batch of rows, whatever the partition's size.
 *
 * milvus._snapshot_copy_in loads parts back with COPY FROM (BeginCopyFrom
 * with a data source callback) that downloads one part at a time and hands
 * its bytes on; the parts of a partition form one COPY stream.
 *
 * Progress of both shows in pg_stat_progress_copy (command COPY TO or COPY
 * FROM, type CALLBACK), as for milvus.bulk_insert.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "commands/progress.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "pgstat.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "milvus/storage.h"

PG_FUNCTION_INFO_V1(milvus_snapshot_put);
PG_FUNCTION_INFO_V1(milvus_snapshot_get);
PG_FUNCTION_INFO_V1(milvus_snapshot_list);
PG_FUNCTION_INFO_V1(milvus_snapshot_delete);
PG_FUNCTION_INFO_V1(milvus_snapshot_copy_out);
PG_FUNCTION_INFO_V1(milvus_snapshot_copy_in);

/* rows fetched from the cursor at a time */
#define MV_SNAPSHOT_FETCH_ROWS	1000

/* COPY BINARY's signature, then flags and header extension length (0, 0) */
static const char copy_signature[11] = "PGCOPY\n\377\r\n\0";

/* The client's configuration; ERROR when no bucket is set */
static void
snapshot_config(MvS3Config *config)
{
	if (MvS3Bucket == NULL || MvS3Bucket[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("milvus.s3_bucket is not set"),
				 errdetail("Snapshots are stored in an S3 bucket."),
				 errhint("Set milvus.s3_bucket and the other milvus.s3_* settings (doc/storage.md).")));
	MvS3ConfigFromSettings(config);
}

/* snapshots/<key>, refusing keys that could leave the folder */
static char *
snapshot_key(const char *key)
{
	if (key[0] == '/' || strstr(key, "..") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid snapshot object key \"%s\"", key),
				 errdetail("A key may not start with \"/\" or contain \"..\".")));
	return psprintf("%s%s", MV_S3_SNAPSHOT_FOLDER, key);
}

/* ERROR with the client's message when a call failed */
static void
snapshot_check(MvS3Status status, MvS3Result *result, const char *what)
{
	if (status == MV_S3_OK)
		return;
	/* a cancel stopped the request: say so, not that S3 failed */
	CHECK_FOR_INTERRUPTS();
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("could not %s in S3", what),
			 errdetail("%s (after %d attempts).", result->error, result->attempts)));
}

/* milvus._snapshot_put(key, data): store a text object */
Datum
milvus_snapshot_put(PG_FUNCTION_ARGS)
{
	char	   *key = snapshot_key(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	text	   *data = PG_GETARG_TEXT_PP(1);
	MvS3Config	config;
	MvS3Result	result;

	snapshot_config(&config);
	snapshot_check(MvS3Put(&config, key, VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), &result),
				   &result, "store a snapshot object");
	PG_RETURN_VOID();
}

/* milvus._snapshot_get(key): a text object, or NULL when it is not there */
Datum
milvus_snapshot_get(PG_FUNCTION_ARGS)
{
	char	   *key = snapshot_key(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	MvS3Config	config;
	MvS3Result	result;
	StringInfoData body;
	MvS3Status	status;

	snapshot_config(&config);
	initStringInfo(&body);
	status = MvS3Get(&config, key, &body, &result);
	if (status == MV_S3_NOT_FOUND)
		PG_RETURN_NULL();
	snapshot_check(status, &result, "read a snapshot object");
	PG_RETURN_TEXT_P(cstring_to_text_with_len(body.data, body.len));
}

typedef struct SnapshotListState
{
	ReturnSetInfo *rsinfo;
} SnapshotListState;

static void
snapshot_list_one(void *arg, const char *key, int64 size)
{
	SnapshotListState *state = arg;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	values[0] = CStringGetTextDatum(key + strlen(MV_S3_SNAPSHOT_FOLDER));
	values[1] = Int64GetDatum(size);
	tuplestore_putvalues(state->rsinfo->setResult, state->rsinfo->setDesc, values, nulls);
}

/* milvus._snapshot_list(key_prefix): (key, size) of every object under it */
Datum
milvus_snapshot_list(PG_FUNCTION_ARGS)
{
	char	   *prefix = snapshot_key(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	MvS3Config	config;
	MvS3Result	result;
	SnapshotListState state;

	snapshot_config(&config);
	InitMaterializedSRF(fcinfo, 0);
	state.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	snapshot_check(MvS3List(&config, prefix, 0, snapshot_list_one, &state, &result),
				   &result, "list snapshot objects");
	return (Datum) 0;
}

/* milvus._snapshot_delete(key): remove an object */
Datum
milvus_snapshot_delete(PG_FUNCTION_ARGS)
{
	char	   *key = snapshot_key(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	MvS3Config	config;
	MvS3Result	result;

	snapshot_config(&config);
	snapshot_check(MvS3Delete(&config, key, &result), &result, "delete a snapshot object");
	PG_RETURN_VOID();
}

/* The columns of a text[] as a list of String nodes, and quoted for SQL */
static List *
snapshot_columns(ArrayType *columns, StringInfo sql)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *names = NIL;

	deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *name;

		if (nulls[i])
			elog(ERROR, "null column name");
		name = TextDatumGetCString(elems[i]);
		names = lappend(names, makeString(name));
		if (sql)
			appendStringInfo(sql, "%s%s", i > 0 ? ", " : "", quote_identifier(name));
	}
	return names;
}

/* Refuse to read rel unless the user may SELECT it or a table it is a partition of */
static void
snapshot_check_read(Oid relid)
{
	List	   *rels = lcons_oid(relid, get_partition_ancestors(relid));
	bool		allowed = false;
	ListCell   *lc;

	foreach(lc, rels)
	{
		Oid			r = lfirst_oid(lc);

		/* reading a partition directly would bypass its parent's policies */
		if (check_enable_rls(r, InvalidOid, true) == RLS_ENABLED)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot snapshot table \"%s\": it has row-level security",
							get_rel_name(r))));
		if (pg_class_aclcheck(r, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
			allowed = true;
	}
	if (!allowed)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid))));
}

/* The owner of a relation */
static Oid
snapshot_owner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

typedef struct SnapshotOut
{
	MvS3Config	config;
	const char *folder;			/* snapshots/<db>/<name>/ */
	const char *tag;			/* the partition's part name prefix */
	StringInfoData part;		/* bytes not uploaded yet */
	int64		part_bytes;
	int			nparts;
	int64		total;
	StringInfoData objects;		/* JSON array elements */
} SnapshotOut;

/* Upload what the current part holds as the next object */
static void
snapshot_flush(SnapshotOut *out)
{
	MvS3Result	result;
	char	   *name = psprintf("%s-%05d.bin", out->tag, out->nparts);
	char	   *key = psprintf("%s%s", out->folder, name);

	snapshot_check(MvS3Put(&out->config, key, out->part.data, out->part.len, &result),
				   &result, "store a snapshot part");
	appendStringInfo(&out->objects, "%s{\"key\": \"%s\", \"size\": %d}",
					 out->nparts > 0 ? ", " : "", name, out->part.len);
	out->total += out->part.len;
	out->nparts++;
	resetStringInfo(&out->part);
	pgstat_progress_update_param(PROGRESS_COPY_BYTES_PROCESSED, out->total);
}

/*
 * milvus._snapshot_copy_out(rel regclass, columns text[], folder text,
 * tag text, part_bytes integer): write rel's rows, the given columns, in COPY
 * BINARY format to <folder><tag>-NNNNN.bin parts; returns
 * {"rows": n, "bytes": n, "objects": [{"key": name, "size": n}, ...]}
 */
Datum
milvus_snapshot_copy_out(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ArrayType  *columns = PG_GETARG_ARRAYTYPE_P(1);
	SnapshotOut out;
	StringInfoData sql;
	List	   *names;
	int			ncols;
	FmgrInfo   *send;
	SPIPlanPtr	plan;
	Portal		portal;
	int64		rows = 0;
	MemoryContext batch_context;
	MemoryContext oldcontext;
	char	   *json;
	int16		trailer = pg_hton16(-1);
	uint32		zero = 0;
	Oid			save_userid;
	int			save_sec_context;

	snapshot_check_read(relid);
	memset(&out, 0, sizeof(out));
	snapshot_config(&out.config);
	out.folder = snapshot_key(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	out.tag = text_to_cstring(PG_GETARG_TEXT_PP(3));
	/* a '/' would let "../" in the tag lead the parts out of the folder */
	if (out.tag[0] == '\0' || strchr(out.tag, '/') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid snapshot part name prefix \"%s\"", out.tag),
				 errdetail("A prefix must not be empty or contain \"/\".")));
	out.part_bytes = Max(PG_GETARG_INT32(4), 1024);
	initStringInfo(&out.part);
	enlargeStringInfo(&out.part, (int) Min(out.part_bytes + BLCKSZ, MaxAllocSize - 1));
	initStringInfo(&out.objects);

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	names = snapshot_columns(columns, &sql);
	ncols = list_length(names);
	appendStringInfo(&sql, " FROM ONLY %s",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												get_rel_name(relid)));

	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, relid);
	pgstat_progress_update_param(PROGRESS_COPY_COMMAND, PROGRESS_COPY_COMMAND_TO);
	pgstat_progress_update_param(PROGRESS_COPY_TYPE, PROGRESS_COPY_TYPE_CALLBACK);

	appendBinaryStringInfo(&out.part, copy_signature, sizeof(copy_signature));
	appendBinaryStringInfo(&out.part, (char *) &zero, 4);
	appendBinaryStringInfo(&out.part, (char *) &zero, 4);

	batch_context = AllocSetContextCreate(CurrentMemoryContext, "milvus snapshot batch",
										  ALLOCSET_DEFAULT_SIZES);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* read-only: the cursor runs under the caller's snapshot, taking no new one */
	plan = SPI_prepare(sql.data, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql.data, SPI_result_code_string(SPI_result));

	/*
	 * SELECT on the collection's table covers its partitions, but a partition
	 * read directly checks its own privileges: open the cursor as the
	 * partition's owner, having checked the user's right above
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(snapshot_owner(relid), save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	SetUserIdAndSecContext(save_userid, save_sec_context);

	send = palloc(sizeof(FmgrInfo) * ncols);
	for (;;)
	{
		SPITupleTable *tuptable;

		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(portal, true, MV_SNAPSHOT_FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		tuptable = SPI_tuptable;
		if (rows == 0)
		{
			for (int i = 0; i < ncols; i++)
			{
				Oid			func;
				bool		isvarlena;

				getTypeBinaryOutputInfo(TupleDescAttr(tuptable->tupdesc, i)->atttypid,
										&func, &isvarlena);
				fmgr_info(func, &send[i]);
			}
		}
		oldcontext = MemoryContextSwitchTo(batch_context);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tuple = tuptable->vals[r];
			int16		n16 = pg_hton16((int16) ncols);

			appendBinaryStringInfo(&out.part, (char *) &n16, 2);
			for (int i = 0; i < ncols; i++)
			{
				bool		isnull;
				Datum		value = SPI_getbinval(tuple, tuptable->tupdesc, i + 1, &isnull);

				if (isnull)
				{
					int32		len = pg_hton32(-1);

					appendBinaryStringInfo(&out.part, (char *) &len, 4);
				}
				else
				{
					bytea	   *b = SendFunctionCall(&send[i], value);
					int32		len = pg_hton32(VARSIZE(b) - VARHDRSZ);

					appendBinaryStringInfo(&out.part, (char *) &len, 4);
					appendBinaryStringInfo(&out.part, VARDATA(b), VARSIZE(b) - VARHDRSZ);
				}
			}
			rows++;
			if (out.part.len >= out.part_bytes)
				snapshot_flush(&out);
		}
		MemoryContextSwitchTo(oldcontext);
		MemoryContextReset(batch_context);
		pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, rows);
		SPI_freetuptable(tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();

	appendBinaryStringInfo(&out.part, (char *) &trailer, 2);
	snapshot_flush(&out);
	pgstat_progress_end_command();
	pfree(out.part.data);

	json = psprintf("{\"rows\": " INT64_FORMAT ", \"bytes\": " INT64_FORMAT ", \"objects\": [%s]}",
					rows, out.total, out.objects.data);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/* The state of the COPY FROM data source; COPY's callback has no argument */
typedef struct SnapshotIn
{
	MvS3Config	config;
	Datum	   *keys;
	int			nkeys;
	int			next;			/* the next key to download */
	StringInfoData part;		/* the part being read */
	int			pos;
	int64		total;
} SnapshotIn;

static SnapshotIn *snapshot_in = NULL;

/* COPY FROM's data source: the parts' bytes in order, downloading as it goes */
static int
snapshot_read(void *outbuf, int minread, int maxread)
{
	SnapshotIn *in = snapshot_in;
	int			done = 0;

	while (done < minread)
	{
		int			n;

		if (in->pos >= in->part.len)
		{
			MvS3Result	result;
			char	   *key;

			if (in->next >= in->nkeys)
				break;
			CHECK_FOR_INTERRUPTS();
			key = snapshot_key(TextDatumGetCString(in->keys[in->next]));
			snapshot_check(MvS3Get(&in->config, key, &in->part, &result),
						   &result, "read a snapshot part");
			pfree(key);
			in->next++;
			in->pos = 0;
			in->total += in->part.len;
			continue;
		}
		n = Min(maxread - done, in->part.len - in->pos);
		memcpy((char *) outbuf + done, in->part.data + in->pos, n);
		in->pos += n;
		done += n;
	}
	return done;
}

/*
 * milvus._snapshot_copy_in(rel regclass, columns text[], keys text[]): load
 * the parts, one COPY BINARY stream, into rel's columns; returns the rows
 */
Datum
milvus_snapshot_copy_in(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ArrayType  *columns = PG_GETARG_ARRAYTYPE_P(1);
	ArrayType  *keys = PG_GETARG_ARRAYTYPE_P(2);
	SnapshotIn	in;
	Relation	rel;
	ParseState *pstate;
	CopyFromState cstate;
	List	   *names;
	List	   *options;
	bool	   *nulls;
	uint64		rows;

	if (pg_class_aclcheck(relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid))));
	memset(&in, 0, sizeof(in));
	snapshot_config(&in.config);
	deconstruct_array(keys, TEXTOID, -1, false, TYPALIGN_INT, &in.keys, &nulls, &in.nkeys);
	initStringInfo(&in.part);
	names = snapshot_columns(columns, NULL);
	options = list_make1(makeDefElem("format", (Node *) makeString("binary"), -1));

	rel = table_open(relid, RowExclusiveLock);
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot restore into table \"%s\": it has row-level security",
						RelationGetRelationName(rel))));
	pstate = make_parsestate(NULL);
	(void) addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);

	snapshot_in = &in;
	PG_TRY();
	{
		cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false, snapshot_read, names, options);
		rows = CopyFrom(cstate);
		EndCopyFrom(cstate);
	}
	PG_FINALLY();
	{
		snapshot_in = NULL;
	}
	PG_END_TRY();
	table_close(rel, NoLock);
	free_parsestate(pstate);
	pfree(in.part.data);
	PG_RETURN_INT64((int64) rows);
}
