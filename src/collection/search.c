/*
 * search.c
 *		milvus.search in C: the common search without PL/pgSQL's per-call cost.
 *
 * The PL/pgSQL search (milvus._search_plpgsql, src/sql/78_collection_search.sql)
 * read the catalog with a dozen queries and built, planned and ran a new
 * statement on every call.  Here the collection comes from the schema cache
 * (schema.c), the query vectors are converted from JSON in C (values.c, with
 * milvus._bad_value raising the errors), and the statement, the same text the
 * PL/pgSQL builds, is prepared once and kept:
 *
 *	SELECT (q."$i" - 1)::integer, h.id, h.distance, h.entity
 *	  FROM unnest($2) WITH ORDINALITY AS q("$q", "$i")
 *	 CROSS JOIN LATERAL (SELECT ... FROM <table> t WHERE <filter on $1>
 *	                       AND <partitions in $3> ORDER BY <distance> LIMIT k) h
 *
 * Every value the caller gave is a parameter; the text holds identifiers, the
 * compiled filter (which refers to $1 only), limit and offset.  Plans are kept
 * per collection entry, keyed by their text, and go with the entry (a memory
 * context callback frees them), so any catalog or table change replans.  A
 * statement with a filter or partition names is planned for each call's
 * values, as PL/pgSQL's EXECUTE was (the planner folds a filter's parameters
 * and estimates it); one without them has nothing a value could change and
 * keeps its generic plan.
 *
 * The C path takes what it checks to be fine; anything else -- range search,
 * grouping, search_params.offset, and every call that the PL/pgSQL would
 * reject before running its statement -- is handed to milvus._search_plpgsql
 * with the same arguments, which gives the same answers and raises the same
 * errors as before.  Errors that can only arise later (the filter's, a bad
 * query vector) are raised here by the same code the PL/pgSQL reaches, in the
 * same order.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "fmgr.h"
#include "funcapi.h"
#include "jit/jit.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/params.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "milvus/collection.h"

PG_FUNCTION_INFO_V1(milvus_search);

/* kept statements per collection entry; the least recently used goes */
#define MAX_PLANS	16

/* milvus.search's arguments */
enum
{
	ARG_COLLECTION, ARG_DATA, ARG_ANNS_FIELD, ARG_LIMIT, ARG_OFFSET, ARG_FILTER,
	ARG_FILTER_PARAMS, ARG_OUTPUT_FIELDS, ARG_PARTITION_NAMES, ARG_SEARCH_PARAMS,
	ARG_GROUP_BY_FIELD, ARG_GROUP_SIZE, ARG_STRICT_GROUP_SIZE, NARGS
};

/* the statement's parameters */
enum
{
	PARAM_FILTER,				/* $1 text[]: the filter's values */
	PARAM_QUERIES,				/* $2: the query vectors, typed, or as text[] */
	PARAM_PARTITIONS,			/* $3 text[]: partition_names */
	PARAM_KEYS,					/* $4 text[]: dynamic keys among output_fields */
	NPARAMS
};

typedef struct KeptPlan
{
	char	   *sql;
	SPIPlanPtr	plan;
	uint64		used;
} KeptPlan;

/* What a search needs of a collection beyond its schema, kept with it */
typedef struct SearchState
{
	MvCollection *c;
	MemoryContextCallback callback;
	char	   *ext_schema;		/* quoted: where the distance functions are */
	char	  **index_metric;	/* per field: its index's metric_type, or NULL */
	int			npartitions;
	char	  **partitions;
	MvFilterSchema filter_schema;
	int			nplans;
	KeptPlan	plans[MAX_PLANS];
	uint64		clock;
} SearchState;

typedef struct StateEntry
{
	MvCollection *key;
	SearchState *state;
} StateEntry;

static HTAB *states = NULL;

/* One call's choices, once the C path has checked them */
typedef struct Search
{
	MvCollection *c;
	SearchState *s;
	MvCollField *f;				/* the anns field */
	const char *metric;
	int32		limit;
	int32		offset;
	/* the query vectors: JSON, or the text[] of a vector-typed argument */
	Jsonb	   *queries;
	bool		wrap;			/* queries is one vector, not an array of them */
	Datum		texts;
	int			nq;
	char	   *filter_sql;
	Datum		filter_params;
	bool		partitions;
	char	   *entity_sql;
	Datum		keys;
	int			ef;				/* -1: none asked for */
} Search;

static bool
is_vector(MvDataType t)
{
	return t == MV_TYPE_FLOAT_VECTOR || t == MV_TYPE_FLOAT16_VECTOR ||
		t == MV_TYPE_BINARY_VECTOR || t == MV_TYPE_SPARSE_FLOAT_VECTOR;
}

static MvFieldType
filter_type(MvDataType t)
{
	return is_vector(t) ? MV_FIELD_VECTOR : (MvFieldType) t;
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
	SearchState *s = arg;

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

/* Read what a search needs of c from the catalog, once per entry */
static SearchState *
search_state(MvCollection *c)
{
	StateEntry *e;
	bool		found;
	SearchState *s;
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
		states = hash_create("milvus search states", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(states, &c, HASH_FIND, NULL);
	if (e)
		return e->state;

	s = MemoryContextAllocZero(c->cxt, sizeof(SearchState));
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
		if (is_vector(f->type))
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

/*
 * Search parameters
 */

/* milvus._search_param: search_params.params.key, else search_params.key */
static JsonbValue *
search_param(Jsonb *sp, const char *key)
{
	JsonbValue *params;
	JsonbValue *v;

	if (sp == NULL)
		return NULL;
	params = getKeyJsonValueFromContainer(&sp->root, "params", 6, NULL);
	if (params && params->type == jbvBinary && JsonContainerIsObject(params->val.binary.data) &&
		(v = getKeyJsonValueFromContainer(params->val.binary.data, key, strlen(key), NULL)) != NULL)
		return v;
	return getKeyJsonValueFromContainer(&sp->root, key, strlen(key), NULL);
}

/* whether milvus._number_param(sp, key) is not NULL */
static bool
has_number_param(Jsonb *sp, const char *key)
{
	JsonbValue *v = search_param(sp, key);

	return v != NULL && v->type != jbvNull;
}

static char *
upper_text(const char *s)
{
	return TextDatumGetCString(DirectFunctionCall1Coll(upper, DEFAULT_COLLATION_OID,
													   CStringGetTextDatum(s)));
}

/*
 * milvus._search_field and milvus._check_metric: the field and its metric,
 * or false where they raise an error
 */
static bool
choose_field(Search *q, FunctionCallInfo fcinfo, Jsonb *sp)
{
	MvCollection *c = q->c;
	MvCollField *f = NULL;
	int			fi = -1;
	char	   *asked = NULL;
	const char *index_metric;
	const char *m;

	if (PG_ARGISNULL(ARG_ANNS_FIELD))
	{
		for (int i = 0; i < c->nfields; i++)
			if (is_vector(c->fields[i].type))
			{
				if (f)
					return false;	/* several: name one */
				f = &c->fields[i];
				fi = i;
			}
		if (f == NULL)
			return false;
	}
	else
	{
		char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(ARG_ANNS_FIELD));

		for (int i = 0; i < c->nfields && f == NULL; i++)
			if (strcmp(c->fields[i].name, name) == 0)
			{
				f = &c->fields[i];
				fi = i;
			}
		if (f == NULL || !is_vector(f->type))
			return false;
	}
	if (sp)
	{
		JsonbValue *v = getKeyJsonValueFromContainer(&sp->root, "metric_type", 11, NULL);

		if (v && v->type != jbvNull)
		{
			if (v->type != jbvString)
				return false;
			asked = upper_text(pnstrdup(v->val.string.val, v->val.string.len));
		}
	}
	index_metric = q->s->index_metric[fi];
	if (asked && index_metric && strcmp(asked, index_metric) != 0)
		return false;
	m = asked ? asked : index_metric;
	if (m == NULL)
		m = f->type == MV_TYPE_BINARY_VECTOR ? "HAMMING" :
			f->type == MV_TYPE_SPARSE_FLOAT_VECTOR ? "IP" : "COSINE";
	else
		m = upper_text(m);
	switch (f->type)
	{
		case MV_TYPE_BINARY_VECTOR:
			if (strcmp(m, "HAMMING") != 0 && strcmp(m, "JACCARD") != 0)
				return false;
			break;
		case MV_TYPE_SPARSE_FLOAT_VECTOR:
			if (strcmp(m, "IP") != 0)
				return false;
			break;
		default:
			if (strcmp(m, "L2") != 0 && strcmp(m, "IP") != 0 && strcmp(m, "COSINE") != 0)
				return false;
	}
	q->f = f;
	q->metric = m;
	return true;
}

/* milvus._check_window: false where it raises an error */
static bool
window_ok(int32 limit, int32 offset)
{
	const char *topk = GetConfigOption("milvus.search_max_topk", true, false);

	return limit >= 1 && offset >= 0 &&
		(int64) limit + offset <= (topk ? pg_strtoint32(topk) : 16384);
}

/*
 * The query vectors, as the PL/pgSQL reads them; false where it raises an
 * error
 */
static bool
take_queries(Search *q, FunctionCallInfo fcinfo)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, ARG_DATA);
	bool		binary = q->f->type == MV_TYPE_BINARY_VECTOR;
	const char *max_nq = GetConfigOption("milvus.search_max_nq", true, false);

	if (!OidIsValid(type) || PG_ARGISNULL(ARG_DATA))
		return false;
	if (type == TEXTOID || type == JSONOID || type == JSONBOID)
	{
		Jsonb	   *j;
		JsonbValue	first;
		bool		array,
					scalar;
		int			n;

		if (type == JSONBOID)
			j = DatumGetJsonbP(PG_GETARG_DATUM(ARG_DATA));
		else
			j = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
												   CStringGetDatum(text_to_cstring(PG_GETARG_TEXT_PP(ARG_DATA)))));
		scalar = JB_ROOT_IS_SCALAR(j);
		array = JB_ROOT_IS_ARRAY(j) && !scalar;
		n = array ? JB_ROOT_COUNT(j) : 0;
		if (n > 0)
		{
			JsonbValue *v = getIthJsonbValueFromContainer(&j->root, 0);

			first = *v;
		}
		else
			first.type = jbvNull;
		if ((n > 0 && (first.type == jbvNumeric || first.type == jbvString) && !binary) ||
			JB_ROOT_IS_OBJECT(j) || (n > 0 && binary && first.type == jbvNumeric))
			q->wrap = true;
		else if (scalar && binary)
		{
			JsonbValue	v;

			if (!JsonbExtractScalar(&j->root, &v) || v.type != jbvString)
				return false;
			q->wrap = true;
		}
		else if (!array)
			return false;
		q->queries = j;
		q->nq = q->wrap ? 1 : n;
	}
	else
	{
		char	   *name = format_type_be(type);
		int			len = strlen(name);
		bool		is_array = len > 2 && strcmp(name + len - 2, "[]") == 0;
		const char *dot = strchr(name, '.');
		static const char *const names[] = {
			"floatvector", "float16vector", "binaryvector", "sparsevector"
		};
		bool		ok = false;
		char	   *out;
		Oid			outfunc;
		bool		varlena;
		ArrayType  *texts;

		for (int i = 0; i < lengthof(names) && !ok; i++)
			ok = strncmp(name, names[i], strlen(names[i])) == 0 &&
				(name[strlen(names[i])] == '\0' || strcmp(name + strlen(names[i]), "[]") == 0);
		/* LIKE '%.%vector' and LIKE '%.%vector[]' */
		if (!ok && dot)
		{
			int			end = is_array ? len - 2 : len;

			ok = end - (int) (dot - name) - 1 >= 6 && strncmp(name + end - 6, "vector", 6) == 0;
		}
		if (!ok)
			return false;
		getTypeOutputInfo(type, &outfunc, &varlena);
		out = OidOutputFunctionCall(outfunc, PG_GETARG_DATUM(ARG_DATA));
		if (is_array)
			texts = DatumGetArrayTypeP(OidInputFunctionCall(F_ARRAY_IN, out, TEXTOID, -1));
		else
		{
			Datum		t = CStringGetTextDatum(out);

			texts = construct_array(&t, 1, TEXTOID, -1, false, TYPALIGN_INT);
		}
		q->texts = PointerGetDatum(texts);
		q->nq = ArrayGetNItems(ARR_NDIM(texts), ARR_DIMS(texts));
	}
	return q->nq > 0 && q->nq <= (max_nq ? pg_strtoint32(max_nq) : 16384);
}

/* milvus._filter: the condition and its values */
static void
take_filter(Search *q, FunctionCallInfo fcinfo)
{
	char	   *filter = PG_ARGISNULL(ARG_FILTER) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(ARG_FILTER));
	MvFilterSql *compiled;
	Jsonb	   *params;

	if (filter == NULL || filter[strspn(filter, " ")] == '\0')
	{
		q->filter_sql = "true";
		q->filter_params = PointerGetDatum(construct_empty_array(TEXTOID));
		return;
	}
	params = PG_ARGISNULL(ARG_FILTER_PARAMS) ? NULL : PG_GETARG_JSONB_P(ARG_FILTER_PARAMS);
	if (params == NULL)
		params = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	compiled = MvFilterCompile(filter, &q->s->filter_schema, params, NULL);
	q->filter_sql = psprintf("(%s)", compiled->sql);
	q->filter_params = MvFilterParamsArray(compiled);
}

/* milvus._read_partitions: false where it raises an error */
static bool
take_partitions(Search *q, FunctionCallInfo fcinfo)
{
	ArrayType  *names;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	q->partitions = false;
	if (PG_ARGISNULL(ARG_PARTITION_NAMES))
		return true;
	names = PG_GETARG_ARRAYTYPE_P(ARG_PARTITION_NAMES);
	deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		return true;
	if (q->c->has_partition_key)
		return false;
	for (int i = 0; i < n; i++)
	{
		char	   *name;
		bool		found = false;

		if (nulls[i])
			return false;
		name = TextDatumGetCString(elems[i]);
		for (int p = 0; p < q->s->npartitions && !found; p++)
			found = strcmp(q->s->partitions[p], name) == 0;
		if (!found)
			return false;
	}
	q->partitions = true;
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
 * milvus._entity_sql(c, output_fields, false): the jsonb object of the
 * output fields, with the dynamic keys asked for as $4's elements; false
 * where it raises an error
 */
static bool
take_outputs(Search *q, FunctionCallInfo fcinfo)
{
	MvCollection *c = q->c;
	bool	   *wanted = palloc0(sizeof(bool) * Max(c->nfields, 1));
	bool		all_meta = false;
	Datum	   *keys = NULL;
	int			nkeys = 0;
	StringInfoData parts;
	int			nparts = 0;
	int			npairs = 0;

	if (!PG_ARGISNULL(ARG_OUTPUT_FIELDS))
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(ARG_OUTPUT_FIELDS), TEXTOID, -1, false,
						  TYPALIGN_INT, &elems, &nulls, &n);
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

	initStringInfo(&parts);
	if (all_meta)
	{
		appendStringInfoString(&parts, "t.\"$meta\"");
		nparts++;
	}
	for (int i = 0; i < nkeys; i++)
		appendStringInfo(&parts, "%sCASE WHEN t.\"$meta\" ? $4[%d] THEN jsonb_build_object($4[%d], t.\"$meta\" -> $4[%d])"
						 " ELSE '{}'::jsonb END", nparts++ ? " || " : "", i + 1, i + 1, i + 1);
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
	q->entity_sql = parts.data;
	q->keys = PointerGetDatum(nkeys ? construct_array(keys, nkeys, TEXTOID, -1, false, TYPALIGN_INT)
							  : construct_empty_array(TEXTOID));
	return true;
}

/* milvus._number_param(sp, 'ef') as the integer the PL/pgSQL keeps */
static bool
take_ef(Search *q, Jsonb *sp)
{
	JsonbValue *v = search_param(sp, "ef");
	double		d;

	q->ef = -1;
	if (v == NULL || v->type == jbvNull)
		return true;
	if (v->type != jbvNumeric)
		return false;
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
	d = rint(d);
	if (isnan(d) || !FLOAT8_FITS_IN_INT32(d))
		return false;
	q->ef = (int) d;
	return true;
}

/*
 * The statement
 */

static void
append_metric(StringInfo buf, Search *q, bool distance)
{
	const char *f = quote_identifier(q->f->name);
	const char *s = q->s->ext_schema;
	const char *m = q->metric;

	if (distance)
	{
		if (strcmp(m, "COSINE") == 0)
			appendStringInfo(buf, "(1 - %s.cosine_distance(t.%s, q.\"$q\"))", s, f);
		else
			appendStringInfo(buf, "%s.%s(t.%s, q.\"$q\")", s,
							 strcmp(m, "L2") == 0 ? "l2_squared_distance" :
							 strcmp(m, "IP") == 0 ? "inner_product" :
							 strcmp(m, "HAMMING") == 0 ? "hamming_distance" : "jaccard_distance", f);
	}
	else
		appendStringInfo(buf, "t.%s OPERATOR(%s.%s) q.\"$q\"", f, s,
						 strcmp(m, "L2") == 0 ? "<->" : strcmp(m, "IP") == 0 ? "<#>" :
						 strcmp(m, "COSINE") == 0 ? "<=>" : strcmp(m, "HAMMING") == 0 ? "<~>" : "<%>");
}

static char *
statement(Search *q)
{
	StringInfoData sql;
	StringInfoData ordering;

	initStringInfo(&ordering);
	append_metric(&ordering, q, false);
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT (q.\"$i\" - 1)::integer, h.id, h.distance, h.entity FROM unnest(");
	if (q->queries)
		appendStringInfoString(&sql, "$2");
	else
		appendStringInfo(&sql, "$2::%s[]",
						 format_type_extended(q->f->typid, q->f->typmod,
											  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
	appendStringInfo(&sql, ") WITH ORDINALITY AS q(\"$q\", \"$i\") CROSS JOIN LATERAL ("
					 "SELECT t.%s::text AS id, ", quote_identifier(q->c->fields[q->c->pk].name));
	append_metric(&sql, q, true);
	appendStringInfo(&sql, " AS distance, %s AS entity, %s AS \"$o1\", 0 AS \"$o2\" FROM %s t"
					 " WHERE t.%s IS NOT NULL AND %s AND %s ORDER BY %s LIMIT %d OFFSET %d) h"
					 " ORDER BY q.\"$i\", h.\"$o1\", h.\"$o2\", h.id",
					 q->entity_sql, ordering.data, q->c->qualified, quote_identifier(q->f->name),
					 q->filter_sql, q->partitions ? "t.\"$partition\" = ANY ($3)" : "true",
					 ordering.data, q->limit, q->offset);
	return sql.data;
}

/*
 * The kept plan of a statement.  One whose values can change the plan (a
 * filter's, partition names) is planned for each call, as EXECUTE was.
 */
static SPIPlanPtr
kept_plan(Search *q, const char *sql, Oid *argtypes)
{
	SearchState *s = q->s;
	bool		per_call = strcmp(q->filter_sql, "true") != 0 || q->partitions;
	KeptPlan   *slot = NULL;
	SPIPlanPtr	plan;

	for (int i = 0; i < s->nplans; i++)
		if (strcmp(s->plans[i].sql, sql) == 0)
		{
			s->plans[i].used = ++s->clock;
			return s->plans[i].plan;
		}
	plan = SPI_prepare_cursor(sql, NPARAMS, argtypes,
							  CURSOR_OPT_PARALLEL_OK |
							  (per_call ? CURSOR_OPT_CUSTOM_PLAN : CURSOR_OPT_GENERIC_PLAN));
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	if (s->nplans < MAX_PLANS)
		slot = &s->plans[s->nplans++];
	else
	{
		slot = &s->plans[0];
		for (int i = 1; i < MAX_PLANS; i++)
			if (s->plans[i].used < slot->used)
				slot = &s->plans[i];
		SPI_freeplan(slot->plan);
		pfree(slot->sql);
	}
	slot->sql = MemoryContextStrdup(q->c->cxt, sql);
	slot->plan = plan;
	slot->used = ++s->clock;
	return plan;
}

/* The query vectors as an array of the field's type (their errors here) */
static Datum
query_array(Search *q)
{
	MvCollField *f = q->f;
	Datum	   *elems = palloc(sizeof(Datum) * q->nq);
	bool	   *nulls = palloc(sizeof(bool) * q->nq);
	int			dims[1] = {q->nq};
	int			lbs[1] = {1};
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (q->wrap)
	{
		JsonbValue	v;

		if (JB_ROOT_IS_SCALAR(q->queries))
			JsonbExtractScalar(&q->queries->root, &v);
		else
		{
			v.type = jbvBinary;
			v.val.binary.data = &q->queries->root;
			v.val.binary.len = VARSIZE(q->queries) - VARHDRSZ;
		}
		elems[0] = MvJsonToDatum(f, &v, 0, &nulls[0], "data");
	}
	else
	{
		JsonbIterator *it = JsonbIteratorInit(&q->queries->root);
		JsonbValue	v;
		JsonbIteratorToken tok;
		int			n = 0;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok != WJB_ELEM)
				continue;
			CHECK_FOR_INTERRUPTS();
			elems[n] = MvJsonToDatum(f, &v, n, &nulls[n], "data");
			n++;
		}
	}
	get_typlenbyvalalign(f->typid, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, f->typid,
											  typlen, typbyval, typalign));
}

/* Set a setting until AtEOXact_GUC, as a function's SET clause does */
static void
set_for_call(const char *name, const char *value)
{
	(void) set_config_option(name, value, superuser() ? PGC_SUSET : PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* Run the search into the call's result; false to leave it to the PL/pgSQL */
static bool
run(Search *q, FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *sql = statement(q);
	Oid			argtypes[NPARAMS] = {TEXTARRAYOID, InvalidOid, TEXTARRAYOID, TEXTARRAYOID};
	ParamListInfo params;
	SPIPlanPtr	plan;
	SPIExecuteOptions options;
	DestReceiver *dest;
	int			nest;

	argtypes[PARAM_QUERIES] = q->queries ? get_array_type(q->f->typid) : TEXTARRAYOID;

	/*
	 * Without SELECT on the table the PL/pgSQL's statement fails when it
	 * starts, before a bad query vector would: let it say so
	 */
	if (pg_class_aclcheck(q->c->relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return false;

	/* the PL/pgSQL's SET jit = off and its ef for the statement */
	nest = NewGUCNestLevel();
	if (jit_enabled)
		set_for_call("jit", "off");
	if (q->ef >= 0)
		set_for_call("milvus.hnsw_ef_search", psprintf("%d", Max(q->ef, q->limit + q->offset)));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	params = makeParamList(NPARAMS);
	params->numParams = NPARAMS;
	for (int i = 0; i < NPARAMS; i++)
	{
		params->params[i].ptype = argtypes[i];
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].isnull = false;
	}
	params->params[PARAM_FILTER].value = q->filter_params;
	params->params[PARAM_PARTITIONS].value = q->partitions ? PG_GETARG_DATUM(ARG_PARTITION_NAMES) : 0;
	params->params[PARAM_PARTITIONS].isnull = !q->partitions;
	params->params[PARAM_KEYS].value = q->keys;

	SPI_connect();
	plan = kept_plan(q, sql, argtypes);
	params->params[PARAM_QUERIES].value = q->queries ? query_array(q) : q->texts;

	dest = CreateDestReceiver(DestTuplestore);
	SetTuplestoreDestReceiverParams(dest, rsinfo->setResult, rsinfo->econtext->ecxt_per_query_memory,
									false, rsinfo->setDesc,
									gettext_noop("structure of query does not match function result type"));
	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = true;
	options.must_return_tuples = true;
	options.dest = dest;
	if (SPI_execute_plan_extended(plan, &options) != SPI_OK_SELECT)
		elog(ERROR, "the search of collection \"%s\" failed", q->c->collection_name);
	dest->rDestroy(dest);
	SPI_finish();
	AtEOXact_GUC(true, nest);
	return true;
}

/*
 * Check the call as the PL/pgSQL would, in its order; run it if every check
 * passes.  False: the PL/pgSQL is to answer (or raise the error).
 */
static bool
search(FunctionCallInfo fcinfo, MvCollection *c)
{
	Search		q;
	Jsonb	   *sp = PG_ARGISNULL(ARG_SEARCH_PARAMS) ? NULL : PG_GETARG_JSONB_P(ARG_SEARCH_PARAMS);

	memset(&q, 0, sizeof(q));
	q.c = c;
	q.s = search_state(c);
	if (sp && !JB_ROOT_IS_OBJECT(sp))
		return false;
	/* grouping, range search and search_params.offset stay in PL/pgSQL */
	if (!PG_ARGISNULL(ARG_GROUP_BY_FIELD) || has_number_param(sp, "radius") ||
		has_number_param(sp, "range_filter"))
		return false;
	if (PG_ARGISNULL(ARG_OFFSET))
	{
		JsonbValue *v = sp ? getKeyJsonValueFromContainer(&sp->root, "offset", 6, NULL) : NULL;

		if (v && v->type != jbvNull)
			return false;
		q.offset = 0;
	}
	else
		q.offset = PG_GETARG_INT32(ARG_OFFSET);
	if (q.s->ext_schema == NULL || !choose_field(&q, fcinfo, sp))
		return false;
	q.limit = PG_ARGISNULL(ARG_LIMIT) ? 10 : PG_GETARG_INT32(ARG_LIMIT);
	if (!window_ok(q.limit, q.offset) || !take_queries(&q, fcinfo))
		return false;
	take_filter(&q, fcinfo);
	if (!take_partitions(&q, fcinfo) || !take_outputs(&q, fcinfo) || !take_ef(&q, sp))
		return false;
	return run(&q, fcinfo);
}

/* milvus._search_plpgsql with this call's arguments and result */
static Datum
search_plpgsql(FunctionCallInfo fcinfo)
{
	FmgrInfo   *flinfo = fcinfo->flinfo->fn_extra;
	Datum		result;

	LOCAL_FCINFO(call, NARGS);

	if (flinfo == NULL)
	{
		Oid			types[NARGS] = {TEXTOID, ANYCOMPATIBLEOID, TEXTOID, INT4OID, INT4OID, TEXTOID,
		JSONBOID, TEXTARRAYOID, TEXTARRAYOID, JSONBOID, TEXTOID, INT4OID, BOOLOID};
		Oid			fn = LookupFuncName(list_make2(makeString("milvus"), makeString("_search_plpgsql")),
										NARGS, types, false);

		flinfo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FmgrInfo));
		fmgr_info_cxt(fn, flinfo, fcinfo->flinfo->fn_mcxt);
		/* its polymorphic argument's type, from this call */
		flinfo->fn_expr = fcinfo->flinfo->fn_expr;
		fcinfo->flinfo->fn_extra = flinfo;
	}
	InitFunctionCallInfoData(*call, flinfo, NARGS, fcinfo->fncollation, fcinfo->context,
							 fcinfo->resultinfo);
	for (int i = 0; i < NARGS; i++)
		call->args[i] = fcinfo->args[i];
	result = FunctionCallInvoke(call);
	fcinfo->isnull = call->isnull;
	return result;
}

/* milvus.search: see milvus._search_plpgsql for the arguments */
Datum
milvus_search(PG_FUNCTION_ARGS)
{
	MvCollection *c;
	volatile bool done = false;

	if (PG_NARGS() != NARGS)
		elog(ERROR, "milvus.search takes %d arguments", NARGS);
	if (PG_ARGISNULL(ARG_COLLECTION))
		return search_plpgsql(fcinfo);
	c = MvCollectionLookup(text_to_cstring(PG_GETARG_TEXT_PP(ARG_COLLECTION)));
	PG_TRY();
	{
		done = search(fcinfo, c);
	}
	PG_FINALLY();
	{
		MvCollectionUnpin(c);
	}
	PG_END_TRY();
	return done ? (Datum) 0 : search_plpgsql(fcinfo);
}
