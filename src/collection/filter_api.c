/*
 * filter_api.c
 *		SQL-callable wrappers of the filter-expression compiler.
 *
 *	milvus.compile_filter(filter, schema, filter_params) -> (sql, params)
 *	milvus.parse_filter(filter) -> the expression fully parenthesized
 *	milvus._filter_memory(filter, schema, max_bytes, filter_params) -> bytes
 *	milvus._filter_list(list, NULL::type) -> type[]
 *
 * compile_filter is also how the collection API reaches the compiler:
 * milvus._filter (src/sql/76_collection_data.sql), which query, search and
 * delete call, passes it the collection's schema in Milvus's JSON form
 * (milvus._filter_schema) and runs the SQL it returns with the params as $1.
 * The others are for tests and for looking at what a filter means.
 * _filter_memory parses and compiles in
 * a memory context of its own and reports what the context holds at the end:
 * the tree, the SQL and the parameters, all of it but the intermediate
 * strings the compiler frees as it goes.  The parser's allocator refuses to
 * go past max_bytes, so a parser that needed far more fails with "out of
 * memory" instead of taking the server's memory.
 *
 * Compiled filters call _filter_list: a list of values is one parameter, the
 * text of an array, and the cast text::type[] (array_in) is only STABLE, so
 * the planner would leave it to run once per row.  _filter_list is the same
 * input function declared IMMUTABLE, which it is for the element types
 * filters use (their input functions are immutable), so a list becomes a
 * constant array when the plan is made.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "milvus/collection.h"

PG_FUNCTION_INFO_V1(milvus_compile_filter);
PG_FUNCTION_INFO_V1(milvus_parse_filter);
PG_FUNCTION_INFO_V1(milvus_filter_memory);
PG_FUNCTION_INFO_V1(milvus_filter_list);

/* The parser's allocator for _filter_memory: a context with a ceiling */
typedef struct BoundedContext
{
	MemoryContext context;
	Size		max_bytes;
} BoundedContext;

/* Compile a filter against a Milvus-shaped schema */
Datum
milvus_compile_filter(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	MvFilterSchema *schema;
	MvFilterSql *compiled;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("filter must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("schema must not be null")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	schema = MvFilterSchemaFromJsonb(PG_GETARG_JSONB_P(1));
	compiled = MvFilterCompile(text_to_cstring(PG_GETARG_TEXT_PP(0)), schema,
							   PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2), NULL);
	values[0] = CStringGetTextDatum(compiled->sql);
	values[1] = MvFilterParamsArray(compiled);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* Parse a filter and print its tree fully parenthesized */
Datum
milvus_parse_filter(PG_FUNCTION_ARGS)
{
	char	   *filter = text_to_cstring(PG_GETARG_TEXT_PP(0));
	MvFilterParseResult r = MvFilterParse(filter, MvFilterPallocAllocator());

	char	   *printed;

	if (r.code != MVF_OK)
		MvFilterReportParseError(filter, &r);
	printed = MvFilterPrint(r.root, MvFilterPallocAllocator());
	/* strings print as decoded, and an escape may have made invalid bytes */
	pg_verifymbstr(printed, strlen(printed), false);
	PG_RETURN_TEXT_P(cstring_to_text(printed));
}

static void *
bounded_alloc(void *context, size_t size)
{
	BoundedContext *b = context;

	if (MemoryContextMemAllocated(b->context, true) + size > b->max_bytes)
		return NULL;
	return MemoryContextAlloc(b->context, size);
}

/* Bytes a filter takes to parse and compile; the parse may take max_bytes */
Datum
milvus_filter_memory(PG_FUNCTION_ARGS)
{
	char	   *filter = text_to_cstring(PG_GETARG_TEXT_PP(0));
	MvFilterSchema *schema = MvFilterSchemaFromJsonb(PG_GETARG_JSONB_P(1));
	int64		max_bytes = PG_GETARG_INT64(2);
	Jsonb	   *filter_params = PG_GETARG_JSONB_P(3);
	BoundedContext bounded;
	MvFilterAllocator allocator = {bounded_alloc, &bounded};
	MvFilterParseResult r;
	MemoryContext old;
	int64		used;

	if (max_bytes < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_bytes must be at least 1")));
	bounded.context = AllocSetContextCreate(CurrentMemoryContext, "milvus filter memory",
											ALLOCSET_DEFAULT_SIZES);
	bounded.max_bytes = max_bytes;
	old = MemoryContextSwitchTo(bounded.context);
	r = MvFilterParse(filter, &allocator);
	if (r.code != MVF_OK)
		MvFilterReportParseError(filter, &r);
	(void) MvFilterCompileTree(filter, r.root, schema, filter_params, NULL);
	MemoryContextSwitchTo(old);
	used = MemoryContextMemAllocated(bounded.context, true);
	MemoryContextDelete(bounded.context);
	PG_RETURN_INT64(used);
}

/* An array of the second argument's type from its text: a compiled list */
Datum
milvus_filter_list(PG_FUNCTION_ARGS)
{
	Oid			element = get_fn_expr_argtype(fcinfo->flinfo, 1);

	switch (element)
	{
		case BOOLOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
		case TEXTOID:
		case VARCHAROID:
		case JSONBOID:
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("milvus._filter_list does not take elements of type %s",
							format_type_be(element))));
	}
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(OidInputFunctionCall(F_ARRAY_IN, text_to_cstring(PG_GETARG_TEXT_PP(0)),
										 element, -1));
}
