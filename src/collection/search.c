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
 * per collection entry, keyed by their text, and go with the entry (plans.c,
 * shared with query.c), so any catalog or table change replans.  A
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

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "jit/jit.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "milvus/collection.h"
#include "milvus/guc.h"

PG_FUNCTION_INFO_V1(milvus_search);

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

/* One call's choices, once the C path has checked them */
typedef struct Search
{
	MvCollection *c;
	MvReadState *s;
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
			if (MvIsVector(c->fields[i].type))
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
		if (f == NULL || !MvIsVector(f->type))
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
	return q->nq > 0 && q->nq <= (max_nq ? pg_strtoint32(max_nq) : MV_SEARCH_MAX_NQ_DEFAULT);
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

/* Run the search into the call's result; false to leave it to the PL/pgSQL */
static bool
run(Search *q, FunctionCallInfo fcinfo)
{
	char	   *sql = statement(q);
	Oid			argtypes[NPARAMS] = {TEXTARRAYOID, InvalidOid, TEXTARRAYOID, TEXTARRAYOID};
	Datum		values[NPARAMS];
	bool		nulls[NPARAMS] = {false, false, !q->partitions, false};
	SPIPlanPtr	plan;
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
		MvSetForCall("jit", "off");
	if (q->ef >= 0)
		MvSetForCall("milvus.hnsw_ef_search", psprintf("%d", Max(q->ef, q->limit + q->offset)));

	values[PARAM_FILTER] = q->filter_params;
	values[PARAM_PARTITIONS] = q->partitions ? PG_GETARG_DATUM(ARG_PARTITION_NAMES) : 0;
	values[PARAM_KEYS] = q->keys;

	SPI_connect();
	plan = MvReadPlan(q->s, sql, NPARAMS, argtypes,
					  strcmp(q->filter_sql, "true") != 0 || q->partitions);
	values[PARAM_QUERIES] = q->queries ? query_array(q) : q->texts;
	MvReadExecute(fcinfo, plan, NPARAMS, argtypes, values, nulls, true);
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
	q.s = MvReadStateGet(c);
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
	if (!MvReadWindowOk(true, q.limit, true, q.offset) || !take_queries(&q, fcinfo))
		return false;
	MvReadFilter(q.s, PG_ARGISNULL(ARG_FILTER) ? NULL : PG_GETARG_TEXT_PP(ARG_FILTER),
				 PG_ARGISNULL(ARG_FILTER_PARAMS) ? NULL : PG_GETARG_JSONB_P(ARG_FILTER_PARAMS),
				 &q.filter_sql, &q.filter_params);
	if (!MvReadPartitions(q.s, PG_ARGISNULL(ARG_PARTITION_NAMES) ? NULL :
						  PG_GETARG_ARRAYTYPE_P(ARG_PARTITION_NAMES), &q.partitions) ||
		!MvReadEntity(q.s, PG_ARGISNULL(ARG_OUTPUT_FIELDS) ? NULL :
					  PG_GETARG_ARRAYTYPE_P(ARG_OUTPUT_FIELDS), false, PARAM_KEYS + 1,
					  &q.entity_sql, &q.keys) ||
		!take_ef(&q, sp))
		return false;
	return run(&q, fcinfo);
}

/* milvus._search_plpgsql with this call's arguments and result */
static Datum
search_plpgsql(FunctionCallInfo fcinfo)
{
	static const Oid types[NARGS] = {TEXTOID, ANYCOMPATIBLEOID, TEXTOID, INT4OID, INT4OID, TEXTOID,
	JSONBOID, TEXTARRAYOID, TEXTARRAYOID, JSONBOID, TEXTOID, INT4OID, BOOLOID};

	return MvCallPlpgsql(fcinfo, "_search_plpgsql", NARGS, types);
}

/* milvus.search: see milvus._search_plpgsql for the arguments */
Datum
milvus_search(PG_FUNCTION_ARGS)
{
	return MvReadCall(fcinfo, "search", NARGS, search, search_plpgsql);
}
