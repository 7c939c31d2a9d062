/*
 * plans.c
 *		What the C read and delete functions (search.c, query.c) share: a
 *		collection's read state and kept plans, and the pieces of their
 *		statements.
 *
 * A read state holds what those functions need of a collection beyond its
 * schema (index metrics, partition names, the filter schema, the primary-key
 * condition) and the statements they keep prepared, keyed by their text.  It
 * lives in the schema-cache entry's memory context, and a callback on that
 * context frees the plans when the entry goes, so any catalog or table
 * change replans.
 *
 * The helpers mirror the PL/pgSQL helpers of src/sql/76_collection_data.sql
 * (milvus._filter, _read_partitions, _entity_sql, _check_window): each
 * returns false where its PL/pgSQL twin would raise an error, so that the
 * caller hands the call to its PL/pgSQL body, which raises it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/params.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "milvus/collection.h"
#include "milvus/guc.h"

typedef struct StateEntry
{
	MvCollection *key;
	MvReadState *state;
} StateEntry;

static HTAB *states = NULL;

bool
MvIsVector(MvDataType t)
{
	return t == MV_TYPE_FLOAT_VECTOR || t == MV_TYPE_FLOAT16_VECTOR ||
		t == MV_TYPE_BINARY_VECTOR || t == MV_TYPE_SPARSE_FLOAT_VECTOR;
}

static MvFieldType
filter_type(MvDataType t)
{
	return MvIsVector(t) ? MV_FIELD_VECTOR : (MvFieldType) t;
}

/* the two enums agree from BOOL to ARRAY */
StaticAssertDecl((int) MV_TYPE_BOOL == (int) MV_FIELD_BOOL &&
				 (int) MV_TYPE_INT64 == (int) MV_FIELD_INT64 &&
				 (int) MV_TYPE_VARCHAR == (int) MV_FIELD_VARCHAR &&
				 (int) MV_TYPE_ARRAY == (int) MV_FIELD_ARRAY,
				 "MvDataType and MvFieldType must agree on scalar types");

/* The collection entry went: free its plans */
static void
state_gone(void *arg)
{
	MvReadState *s = arg;

	for (int i = 0; i < s->nplans; i++)
		SPI_freeplan(s->plans[i].plan);
	s->nplans = 0;
	hash_search(states, &s->c, HASH_REMOVE, NULL);
}

static char **
spi_strings(int col, MemoryContext cxt)
{
	char	  **out = MemoryContextAllocZero(cxt, sizeof(char *) * Max(SPI_processed, 1));

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, col);

		out[i] = v ? MemoryContextStrdup(cxt, v) : NULL;
	}
	return out;
}

/* Read what the read functions need of c from the catalog, once per entry */
MvReadState *
MvReadStateGet(MvCollection *c)
{
	StateEntry *e;
	bool		found;
	MvReadState *s;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	HeapTuple	tup;
	Oid			vector_type = InvalidOid;

	if (states == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(MvCollection *);
		ctl.entrysize = sizeof(StateEntry);
		ctl.hcxt = TopMemoryContext;
		states = hash_create("milvus read states", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(states, &c, HASH_FIND, NULL);
	if (e)
		return e->state;

	s = MemoryContextAllocZero(c->cxt, sizeof(MvReadState));
	s->c = c;
	s->index_metric = MemoryContextAllocZero(c->cxt, sizeof(char *) * Max(c->nfields, 1));
	s->filter_schema.nfields = c->nfields;
	s->filter_schema.dynamic_field = c->dynamic_field;
	s->filter_schema.fields = MemoryContextAllocZero(c->cxt, sizeof(MvFilterField) * Max(c->nfields, 1));
	for (int i = 0; i < c->nfields; i++)
	{
		MvCollField *f = &c->fields[i];

		s->filter_schema.fields[i].name = f->name;
		s->filter_schema.fields[i].type = filter_type(f->type);
		if (f->type == MV_TYPE_ARRAY)
			s->filter_schema.fields[i].element_type = filter_type(f->element_type);
		if (MvIsVector(f->type))
			vector_type = f->typid;
	}

	SPI_connect();
	args[0] = CStringGetTextDatum(c->db_name);
	args[1] = CStringGetTextDatum(c->collection_name);
	if (SPI_execute_with_args("SELECT i.field_name, i.metric_type FROM milvus.indexes i"
							  " WHERE i.db_name = $1 AND i.collection_name = $2",
							  2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the indexes of collection \"%s\"", c->collection_name);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		char	   *field = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
		char	   *metric = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);

		for (int i = 0; i < c->nfields; i++)
			if (metric && strcmp(c->fields[i].name, field) == 0)
				s->index_metric[i] = MemoryContextStrdup(c->cxt, metric);
	}
	if (SPI_execute_with_args("SELECT p.partition_name FROM milvus.partitions p"
							  " WHERE p.db_name = $1 AND p.collection_name = $2",
							  2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the partitions of collection \"%s\"", c->collection_name);
	s->npartitions = SPI_processed;
	s->partitions = spi_strings(1, c->cxt);
	SPI_finish();

	/* @extschema@: the vector types' schema */
	if (OidIsValid(vector_type) &&
		HeapTupleIsValid(tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(vector_type))))
	{
		char	   *nsp = get_namespace_name(((Form_pg_type) GETSTRUCT(tup))->typnamespace);

		ReleaseSysCache(tup);
		s->ext_schema = MemoryContextStrdup(c->cxt, quote_identifier(nsp));
	}

	s->callback.func = state_gone;
	s->callback.arg = s;
	MemoryContextRegisterResetCallback(c->cxt, &s->callback);
	e = hash_search(states, &c, HASH_ENTER, &found);
	e->state = s;
	return s;
}

/* milvus._ids_sql(c, ids) for ids that are not NULL: the same for any ids */
const char *
MvReadIdsSql(MvReadState *s)
{
	Oid			argtype = s->c->row_type;

	if (s->ids_sql)
		return s->ids_sql;
	SPI_connect();
	if (SPI_execute_with_args("SELECT milvus._ids_sql($1, '[]'::jsonb)", 1, &argtype, &s->c->row,
							  NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not build the ids condition of collection \"%s\"", s->c->collection_name);
	s->ids_sql = MemoryContextStrdup(s->c->cxt,
									 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	return s->ids_sql;
}

/*
 * The kept plan of a statement.  One whose values can change the plan (a
 * filter's, partition names) is planned for each call (per_call), as
 * PL/pgSQL's EXECUTE was; the others keep their generic plan.  The least
 * recently used plan goes when there are MV_READ_MAX_PLANS.
 */
SPIPlanPtr
MvReadPlan(MvReadState *s, const char *sql, int nargs, Oid *argtypes, bool per_call)
{
	MvKeptPlan *slot = NULL;
	SPIPlanPtr	plan;

	for (int i = 0; i < s->nplans; i++)
		if (strcmp(s->plans[i].sql, sql) == 0)
		{
			s->plans[i].used = ++s->clock;
			return s->plans[i].plan;
		}
	plan = SPI_prepare_cursor(sql, nargs, argtypes,
							  CURSOR_OPT_PARALLEL_OK |
							  (per_call ? CURSOR_OPT_CUSTOM_PLAN : CURSOR_OPT_GENERIC_PLAN));
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	if (s->nplans < MV_READ_MAX_PLANS)
		slot = &s->plans[s->nplans++];
	else
	{
		slot = &s->plans[0];
		for (int i = 1; i < MV_READ_MAX_PLANS; i++)
			if (s->plans[i].used < slot->used)
				slot = &s->plans[i];
		SPI_freeplan(slot->plan);
		pfree(slot->sql);
	}
	slot->sql = MemoryContextStrdup(s->c->cxt, sql);
	slot->plan = plan;
	slot->used = ++s->clock;
	return plan;
}

/*
 * Run a kept plan, in SPI, with these parameters into the call's result, a
 * set of the row type it expects
 */
void
MvReadExecute(FunctionCallInfo fcinfo, SPIPlanPtr plan, int nparams, const Oid *argtypes,
			  const Datum *values, const bool *nulls, bool read_only)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ParamListInfo params = makeParamList(nparams);
	SPIExecuteOptions options;
	DestReceiver *dest;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	for (int i = 0; i < nparams; i++)
	{
		params->params[i].ptype = argtypes[i];
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].value = values[i];
		params->params[i].isnull = nulls[i];
	}
	dest = CreateDestReceiver(DestTuplestore);
	SetTuplestoreDestReceiverParams(dest, rsinfo->setResult, rsinfo->econtext->ecxt_per_query_memory,
									false, rsinfo->setDesc,
									gettext_noop("structure of query does not match function result type"));
	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = read_only;
	options.must_return_tuples = true;
	options.dest = dest;
	if (SPI_execute_plan_extended(plan, &options) < 0)
		elog(ERROR, "could not run a kept statement: %s", SPI_result_code_string(SPI_result));
	dest->rDestroy(dest);
}

/* milvus._filter: the condition ("true" for none) and its values */
void
MvReadFilter(MvReadState *s, text *filter, Jsonb *filter_params, char **sql, Datum *params)
{
	char	   *f = filter ? text_to_cstring(filter) : NULL;
	MvFilterSql *compiled;

	if (f == NULL || f[strspn(f, " ")] == '\0')
	{
		*sql = "true";
		*params = PointerGetDatum(construct_empty_array(TEXTOID));
		return;
	}
	if (filter_params == NULL)
		filter_params = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	compiled = MvFilterCompile(f, &s->filter_schema, filter_params, NULL);
	*sql = psprintf("(%s)", compiled->sql);
	*params = MvFilterParamsArray(compiled);
}

/*
 * milvus._read_partitions: false where it raises an error; *named says
 * whether the statement is to test "$partition" = ANY (names)
 */
bool
MvReadPartitions(MvReadState *s, ArrayType *names, bool *named)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	*named = false;
	if (names == NULL)
		return true;
	deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		return true;
	if (s->c->has_partition_key)
		return false;
	for (int i = 0; i < n; i++)
	{
		char	   *name;
		bool		found = false;

		if (nulls[i])
			return false;
		name = TextDatumGetCString(elems[i]);
		for (int p = 0; p < s->npartitions && !found; p++)
			found = strcmp(s->partitions[p], name) == 0;
		if (!found)
			return false;
	}
	*named = true;
	return true;
}

/* milvus._output_sql */
static void
append_output(StringInfo buf, MvCollField *f)
{
	const char *col = quote_identifier(f->name);

	switch (f->type)
	{
		case MV_TYPE_FLOAT_VECTOR:
		case MV_TYPE_FLOAT16_VECTOR:
			appendStringInfo(buf, "to_jsonb((t.%s)::real[])", col);
			break;
		case MV_TYPE_BINARY_VECTOR:
			appendStringInfo(buf, "milvus._binary_json(t.%s)", col);
			break;
		case MV_TYPE_SPARSE_FLOAT_VECTOR:
			appendStringInfo(buf, "milvus._sparse_json(t.%s)", col);
			break;
		default:
			appendStringInfo(buf, "to_jsonb(t.%s)", col);
	}
}

/*
 * milvus._entity_sql(c, output_fields, with_pk): the jsonb object of the
 * output fields, with the dynamic keys asked for as the elements of
 * parameter $keys_param (in *keys) rather than literals; false where it
 * raises an error
 */
bool
MvReadEntity(MvReadState *s, ArrayType *output_fields, bool with_pk, int keys_param,
			 char **sql, Datum *keys_array)
{
	MvCollection *c = s->c;
	bool	   *wanted = palloc0(sizeof(bool) * Max(c->nfields, 1));
	bool		all_meta = false;
	Datum	   *keys = NULL;
	int			nkeys = 0;
	StringInfoData parts;
	int			nparts = 0;
	int			npairs = 0;

	if (output_fields)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(output_fields, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		keys = palloc(sizeof(Datum) * Max(n, 1));
		for (int i = 0; i < n; i++)
		{
			char	   *name;
			int			field = -1;

			if (nulls[i])
				return false;
			name = TextDatumGetCString(elems[i]);
			if (strcmp(name, "*") == 0)
			{
				for (int j = 0; j < c->nfields; j++)
					wanted[j] = true;
				all_meta = c->dynamic_field;
				continue;
			}
			if (strcmp(name, "$meta") == 0 && c->dynamic_field)
			{
				all_meta = true;
				continue;
			}
			for (int j = 0; j < c->nfields && field < 0; j++)
				if (strcmp(c->fields[j].name, name) == 0)
					field = j;
			if (field >= 0)
				wanted[field] = true;
			else if (c->dynamic_field)
				keys[nkeys++] = elems[i];
			else
				return false;
		}
	}
	if (with_pk)
		wanted[c->pk] = true;

	initStringInfo(&parts);
	if (all_meta)
	{
		appendStringInfoString(&parts, "t.\"$meta\"");
		nparts++;
	}
	for (int i = 0; i < nkeys; i++)
		appendStringInfo(&parts, "%sCASE WHEN t.\"$meta\" ? $%d[%d] THEN jsonb_build_object($%d[%d], t.\"$meta\" -> $%d[%d])"
						 " ELSE '{}'::jsonb END", nparts++ ? " || " : "",
						 keys_param, i + 1, keys_param, i + 1, keys_param, i + 1);
	for (int i = 0; i < c->nfields; i++)
	{
		if (!wanted[i])
			continue;
		if (npairs == 0)
			appendStringInfo(&parts, "%sjsonb_build_object(", nparts++ ? " || " : "");
		else
			appendStringInfoString(&parts, ", ");
		appendStringInfo(&parts, "%s, ", quote_literal_cstr(c->fields[i].name));
		append_output(&parts, &c->fields[i]);
		if (++npairs == 40)
		{
			appendStringInfoChar(&parts, ')');
			npairs = 0;
		}
	}
	if (npairs > 0)
		appendStringInfoChar(&parts, ')');
	else if (nparts == 0)
		appendStringInfoString(&parts, "jsonb_build_object()");
	*sql = parts.data;
	*keys_array = PointerGetDatum(nkeys ? construct_array(keys, nkeys, TEXTOID, -1, false, TYPALIGN_INT)
								  : construct_empty_array(TEXTOID));
	return true;
}

/* milvus._check_window: false where it raises an error */
bool
MvReadWindowOk(bool has_limit, int32 limit, bool has_offset, int32 offset)
{
	const char *topk = GetConfigOption("milvus.search_max_topk", true, false);

	if ((has_limit && limit < 1) || (has_offset && offset < 0))
		return false;
	return (has_limit ? (int64) limit : 0) + (has_offset ? offset : 0) <=
		(topk ? pg_strtoint32(topk) : MV_SEARCH_MAX_TOPK_DEFAULT);
}

/* Set a setting until the caller's AtEOXact_GUC, as a function's SET clause does */
void
MvSetForCall(const char *name, const char *value)
{
	(void) set_config_option(name, value, superuser() ? PGC_SUSET : PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * Call milvus.<name>(types), the PL/pgSQL body of a C function, with this
 * call's arguments and result; its FmgrInfo is kept in fn_extra
 */
Datum
MvCallPlpgsql(FunctionCallInfo fcinfo, const char *name, int nargs, const Oid *types)
{
	FmgrInfo   *flinfo = fcinfo->flinfo->fn_extra;
	Datum		result;

	LOCAL_FCINFO(call, FUNC_MAX_ARGS);

	Assert(nargs == fcinfo->nargs && nargs <= FUNC_MAX_ARGS);
	if (flinfo == NULL)
	{
		Oid			fn = LookupFuncName(list_make2(makeString("milvus"), makeString(pstrdup(name))),
										nargs, types, false);

		flinfo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FmgrInfo));
		fmgr_info_cxt(fn, flinfo, fcinfo->flinfo->fn_mcxt);
		/* a polymorphic argument's type, from this call */
		flinfo->fn_expr = fcinfo->flinfo->fn_expr;
		fcinfo->flinfo->fn_extra = flinfo;
	}
	InitFunctionCallInfoData(*call, flinfo, nargs, fcinfo->fncollation, fcinfo->context,
							 fcinfo->resultinfo);
	for (int i = 0; i < nargs; i++)
		call->args[i] = fcinfo->args[i];
	result = FunctionCallInvoke(call);
	fcinfo->isnull = call->isnull;
	return result;
}

/*
 * The shape of the C read functions: the collection, argument 0, is looked
 * up and pinned while run takes the call; a NULL name, or a call run
 * declines, goes to the PL/pgSQL body (fallback)
 */
Datum
MvReadCall(FunctionCallInfo fcinfo, const char *name, int nargs,
		   bool (*run) (FunctionCallInfo fcinfo, MvCollection *c),
		   Datum (*fallback) (FunctionCallInfo fcinfo))
{
	MvCollection *c;
	volatile bool done = false;

	if (PG_NARGS() != nargs)
		elog(ERROR, "milvus.%s takes %d arguments", name, nargs);
	if (PG_ARGISNULL(0))
		return fallback(fcinfo);
	c = MvCollectionLookup(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_TRY();
	{
		done = run(fcinfo, c);
	}
	PG_FINALLY();
	{
		MvCollectionUnpin(c);
	}
	PG_END_TRY();
	return done ? (Datum) 0 : fallback(fcinfo);
}
