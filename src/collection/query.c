/*
 * query.c
 *		milvus.query, milvus.get and milvus.delete in C, as search.c does
 *		milvus.search.
 *
 * The PL/pgSQL bodies (milvus._query_plpgsql and milvus._delete_plpgsql,
 * src/sql/76_collection_data.sql) read the catalog with several queries and
 * built, planned and ran a new statement on every call.  Here the collection
 * comes from the schema cache (schema.c) and the statement, the same text
 * the PL/pgSQL builds, is kept prepared with the collection's entry
 * (plans.c):
 *
 *	SELECT <entity> FROM <table> t WHERE <filter on $1> AND <pk in $2>
 *	   AND <partitions in $3> ORDER BY t.<pk> LIMIT <limit> OFFSET <offset>
 *	SELECT jsonb_build_object('count(*)', count(*)) FROM <table> t WHERE ...
 *	WITH d AS (DELETE FROM <table> t WHERE ... RETURNING 1) SELECT count(*) FROM d
 *
 * with $1 the filter's values, $2 the ids (jsonb), $3 the partition names
 * and $4 the dynamic keys among output_fields: every value the caller gave is
 * a parameter.  A statement with a filter or partition names is planned for
 * each call's values, as EXECUTE was; one by ids or over everything keeps its
 * generic plan.
 *
 * Every call the PL/pgSQL would reject before its statement runs (a NULL
 * collection name, a bad window, ids or partition names, count(*) with other
 * fields, neither filter nor ids nor limit, an unknown output field, a NULL
 * among the names; for delete, both or neither of ids and filter), and every
 * call without the table privileges its statement needs, goes to the
 * PL/pgSQL with the same arguments, which raises the same errors.  A filter's
 * errors are raised here by the compiler the PL/pgSQL reaches, at the point
 * it reaches it.  milvus.get is the query by ids its SQL body was.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "jit/jit.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include "milvus/collection.h"

PG_FUNCTION_INFO_V1(milvus_query);
PG_FUNCTION_INFO_V1(milvus_get);
PG_FUNCTION_INFO_V1(milvus_delete);

/* milvus.query's arguments */
enum
{
	QARG_COLLECTION, QARG_FILTER, QARG_OUTPUT_FIELDS, QARG_LIMIT, QARG_OFFSET,
	QARG_PARTITION_NAMES, QARG_FILTER_PARAMS, QARG_IDS, NQARGS
};

/* milvus.delete's */
enum
{
	DARG_COLLECTION, DARG_IDS, DARG_FILTER, DARG_PARTITION_NAME, DARG_FILTER_PARAMS, NDARGS
};

/* the statements' parameters */
enum
{
	PARAM_FILTER,				/* $1 text[]: the filter's values */
	PARAM_IDS,					/* $2 jsonb: ids */
	PARAM_PARTITIONS,			/* $3 text[]: the partition names */
	PARAM_KEYS,					/* $4 text[]: dynamic keys among output_fields */
	NPARAMS
};

/* A call's statement and its parameters */
typedef struct Statement
{
	MvReadState *s;
	char	   *filter_sql;
	const char *ids_sql;
	bool		partitions;
	Datum		values[NPARAMS];
	bool		nulls[NPARAMS];
} Statement;

/*
 * The WHERE condition the PL/pgSQL builds: the filter (already taken), ids
 * and partitions; false where milvus._ids_sql or _read_partitions raise
 */
static bool
take_condition(Statement *st, Jsonb *ids, ArrayType *partition_names)
{
	st->ids_sql = "true";
	st->nulls[PARAM_IDS] = ids == NULL;
	if (ids)
	{
		/* jsonb_typeof(ids) IN ('array', 'number', 'string') */
		if (JB_ROOT_IS_SCALAR(ids))
		{
			JsonbValue	v;

			if (!JsonbExtractScalar(&ids->root, &v) ||
				(v.type != jbvNumeric && v.type != jbvString))
				return false;
		}
		else if (!JB_ROOT_IS_ARRAY(ids))
			return false;
		st->ids_sql = MvReadIdsSql(st->s);
		st->values[PARAM_IDS] = JsonbPGetDatum(ids);
	}
	if (!MvReadPartitions(st->s, partition_names, &st->partitions))
		return false;
	st->nulls[PARAM_PARTITIONS] = partition_names == NULL;
	if (partition_names)
		st->values[PARAM_PARTITIONS] = PointerGetDatum(partition_names);
	return true;
}

/*
 * Run sql with st's parameters into the call's result, without JIT as the
 * PL/pgSQL's SET clause has it
 */
static void
run(Statement *st, FunctionCallInfo fcinfo, const char *sql, bool read_only)
{
	static Oid	argtypes[NPARAMS] = {TEXTARRAYOID, JSONBOID, TEXTARRAYOID, TEXTARRAYOID};
	SPIPlanPtr	plan;
	int			nest;

	nest = NewGUCNestLevel();
	if (jit_enabled)
		MvSetForCall("jit", "off");
	SPI_connect();
	plan = MvReadPlan(st->s, sql, NPARAMS, argtypes,
					  strcmp(st->filter_sql, "true") != 0 || st->partitions);
	MvReadExecute(fcinfo, plan, NPARAMS, argtypes, st->values, st->nulls, read_only);
	SPI_finish();
	AtEOXact_GUC(true, nest);
}

static bool
may(MvCollection *c, AclMode mode)
{
	return pg_class_aclcheck(c->relid, GetUserId(), mode) == ACLCHECK_OK;
}

/*
 * Check a query as milvus._query_plpgsql would, in its order, and run it if
 * every check passes.  False: the PL/pgSQL is to answer (or raise the error).
 */
static bool
query(FunctionCallInfo fcinfo, MvCollection *c)
{
	Statement	st;
	bool		has_limit = !PG_ARGISNULL(QARG_LIMIT);
	int32		limit = has_limit ? PG_GETARG_INT32(QARG_LIMIT) : 0;
	bool		has_offset = !PG_ARGISNULL(QARG_OFFSET);
	int32		offset = has_offset ? PG_GETARG_INT32(QARG_OFFSET) : 0;
	ArrayType  *outputs = PG_ARGISNULL(QARG_OUTPUT_FIELDS) ? NULL : PG_GETARG_ARRAYTYPE_P(QARG_OUTPUT_FIELDS);
	Jsonb	   *ids = PG_ARGISNULL(QARG_IDS) ? NULL : PG_GETARG_JSONB_P(QARG_IDS);
	bool		count = false;
	char	   *entity;
	StringInfoData sql;

	memset(&st, 0, sizeof(st));
	st.s = MvReadStateGet(c);
	MvReadFilter(st.s, PG_ARGISNULL(QARG_FILTER) ? NULL : PG_GETARG_TEXT_PP(QARG_FILTER),
				 PG_ARGISNULL(QARG_FILTER_PARAMS) ? NULL : PG_GETARG_JSONB_P(QARG_FILTER_PARAMS),
				 &st.filter_sql, &st.values[PARAM_FILTER]);
	if (!MvReadWindowOk(has_limit, limit, has_offset, offset) ||
		!take_condition(&st, ids, PG_ARGISNULL(QARG_PARTITION_NAMES) ? NULL :
						PG_GETARG_ARRAYTYPE_P(QARG_PARTITION_NAMES)))
		return false;

	/* 'count(*)' = ANY (output_fields) */
	if (outputs)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(outputs, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (int i = 0; i < n && !count; i++)
			count = !nulls[i] && strcmp(TextDatumGetCString(elems[i]), "count(*)") == 0;
		if (count && n > 1)
			return false;
	}
	st.values[PARAM_KEYS] = PointerGetDatum(construct_empty_array(TEXTOID));
	if (!count)
	{
		if (strcmp(st.filter_sql, "true") == 0 && ids == NULL && !has_limit)
			return false;
		if (!MvReadEntity(st.s, outputs, true, PARAM_KEYS + 1, &entity, &st.values[PARAM_KEYS]))
			return false;
	}
	if (!may(c, ACL_SELECT))
		return false;

	initStringInfo(&sql);
	if (count)
		appendStringInfo(&sql, "SELECT jsonb_build_object('count(*)', count(*)) FROM %s t WHERE ",
						 c->qualified);
	else
		appendStringInfo(&sql, "SELECT %s FROM %s t WHERE ", entity, c->qualified);
	appendStringInfo(&sql, "%s AND %s AND %s", st.filter_sql, st.ids_sql,
					 st.partitions ? "t.\"$partition\" = ANY ($3)" : "true");
	if (!count)
	{
		appendStringInfo(&sql, " ORDER BY t.%s LIMIT ", quote_identifier(c->fields[c->pk].name));
		if (has_limit)
			appendStringInfo(&sql, "%d", limit);
		else
			appendStringInfoString(&sql, "ALL");
		appendStringInfo(&sql, " OFFSET %d", offset);
	}
	run(&st, fcinfo, sql.data, true);
	return true;
}

/* The same for milvus._delete_plpgsql */
static bool
delete(FunctionCallInfo fcinfo, MvCollection *c)
{
	Statement	st;
	Jsonb	   *ids = PG_ARGISNULL(DARG_IDS) ? NULL : PG_GETARG_JSONB_P(DARG_IDS);
	ArrayType  *partitions = NULL;
	bool		no_filter = true;
	char	   *sql;

	memset(&st, 0, sizeof(st));
	st.s = MvReadStateGet(c);
	/* (ids IS NULL) = (filter IS NULL OR btrim(filter) = ''), before the filter compiles */
	if (!PG_ARGISNULL(DARG_FILTER))
	{
		char	   *filter = text_to_cstring(PG_GETARG_TEXT_PP(DARG_FILTER));

		no_filter = filter[strspn(filter, " ")] == '\0';
	}
	if ((ids == NULL) == no_filter)
		return false;
	MvReadFilter(st.s, PG_ARGISNULL(DARG_FILTER) ? NULL : PG_GETARG_TEXT_PP(DARG_FILTER),
				 PG_ARGISNULL(DARG_FILTER_PARAMS) ? NULL : PG_GETARG_JSONB_P(DARG_FILTER_PARAMS),
				 &st.filter_sql, &st.values[PARAM_FILTER]);
	if (!PG_ARGISNULL(DARG_PARTITION_NAME))
	{
		Datum		name = PG_GETARG_DATUM(DARG_PARTITION_NAME);

		partitions = construct_array(&name, 1, TEXTOID, -1, false, TYPALIGN_INT);
	}
	if (!take_condition(&st, ids, partitions))
		return false;
	/* the PL/pgSQL passes ARRAY[partition_name] even when it is NULL; unused then */
	st.nulls[PARAM_PARTITIONS] = false;
	if (partitions == NULL)
	{
		bool		isnull = true;
		int			dims[1] = {1};
		int			lbs[1] = {1};
		Datum		none = (Datum) 0;

		st.values[PARAM_PARTITIONS] = PointerGetDatum(construct_md_array(&none, &isnull, 1, dims, lbs,
																		 TEXTOID, -1, false,
																		 TYPALIGN_INT));
	}
	st.values[PARAM_KEYS] = PointerGetDatum(construct_empty_array(TEXTOID));
	if (!may(c, ACL_SELECT) || !may(c, ACL_DELETE))
		return false;

	sql = psprintf("WITH d AS (DELETE FROM %s t WHERE %s AND %s AND %s RETURNING 1) SELECT count(*) FROM d",
				   c->qualified, st.filter_sql, st.ids_sql,
				   st.partitions ? "t.\"$partition\" = ANY ($3)" : "true");
	run(&st, fcinfo, sql, false);
	return true;
}

/* the PL/pgSQL bodies */
static Datum
query_plpgsql(FunctionCallInfo fcinfo)
{
	static const Oid types[NQARGS] = {TEXTOID, TEXTOID, TEXTARRAYOID, INT4OID, INT4OID,
	TEXTARRAYOID, JSONBOID, JSONBOID};

	return MvCallPlpgsql(fcinfo, "_query_plpgsql", NQARGS, types);
}

static Datum
delete_plpgsql(FunctionCallInfo fcinfo)
{
	static const Oid types[NDARGS] = {TEXTOID, JSONBOID, TEXTOID, TEXTOID, JSONBOID};

	return MvCallPlpgsql(fcinfo, "_delete_plpgsql", NDARGS, types);
}

/* milvus.query: see milvus._query_plpgsql for the arguments */
Datum
milvus_query(PG_FUNCTION_ARGS)
{
	return MvReadCall(fcinfo, "query", NQARGS, query, query_plpgsql);
}

/*
 * milvus.get(collection_name, ids, output_fields, partition_names): the
 * query milvus.get's SQL body was, milvus.query(collection_name,
 * output_fields => ..., partition_names => ..., ids => coalesce(ids, '[]'))
 */
Datum
milvus_get(PG_FUNCTION_ARGS)
{
	LOCAL_FCINFO(call, NQARGS);

	if (PG_NARGS() != 4)
		elog(ERROR, "milvus.get takes 4 arguments");
	InitFunctionCallInfoData(*call, fcinfo->flinfo, NQARGS, fcinfo->fncollation, fcinfo->context,
							 fcinfo->resultinfo);
	for (int i = 0; i < NQARGS; i++)
	{
		call->args[i].value = (Datum) 0;
		call->args[i].isnull = true;
	}
	call->args[QARG_COLLECTION] = fcinfo->args[0];
	call->args[QARG_FILTER].value = CStringGetTextDatum("");
	call->args[QARG_FILTER].isnull = false;
	call->args[QARG_OUTPUT_FIELDS] = fcinfo->args[2];
	call->args[QARG_OFFSET].value = Int32GetDatum(0);
	call->args[QARG_OFFSET].isnull = false;
	call->args[QARG_PARTITION_NAMES] = fcinfo->args[3];
	call->args[QARG_IDS] = fcinfo->args[1];
	if (PG_ARGISNULL(1))
	{
		call->args[QARG_IDS].value = DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));
		call->args[QARG_IDS].isnull = false;
	}
	return milvus_query(call);
}

/* milvus.delete: see milvus._delete_plpgsql for the arguments */
Datum
milvus_delete(PG_FUNCTION_ARGS)
{
	return MvReadCall(fcinfo, "delete", NDARGS, delete, delete_plpgsql);
}
