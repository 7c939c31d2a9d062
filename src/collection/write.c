/*
 * write.c
 *		milvus.insert and milvus.upsert: JSON rows into a collection's table.
 *
 * A call turns its rows into the table's column Datums (values.c), in field
 * order, stages them as a tuplestore, and runs the collection's prepared
 *
 *	INSERT INTO <table> (<columns>) SELECT b.*, $1
 *	  FROM milvus._pending_rows() AS b(<columns and types>) RETURNING <pk>
 *
 * where milvus._pending_rows() hands the staged rows to the executor.  So the
 * rows take the same road as a typed INSERT: partition routing, constraints,
 * defaults, triggers, row-level security and the primary key's unique index
 * all apply, with the caller's privileges, and a batch is one statement
 * (atomic, one error for the first bad row).  Upsert deletes the batch's
 * primary keys from every partition first, as Milvus does.  The plans are
 * prepared once per backend and collection and kept with its schema
 * (schema.c).
 *
 * PostgreSQL makes a primary key unique per partition only; a collection
 * with several partitions serialises the API's writers with an advisory
 * lock on its table and checks the keys it wrote across partitions, as the
 * SQL path did.  doc/collections.md says what that does not cover.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"

#include "milvus/collection.h"

PG_FUNCTION_INFO_V1(milvus_insert);
PG_FUNCTION_INFO_V1(milvus_upsert);
PG_FUNCTION_INFO_V1(milvus_insert_text);
PG_FUNCTION_INFO_V1(milvus_upsert_text);
PG_FUNCTION_INFO_V1(milvus_pending_rows);

/* MvCollection.plans */
enum
{
	PLAN_INSERT,				/* fields without auto_id ones */
	PLAN_INSERT_ALL,			/* every field: upsert, and auto_id off */
	PLAN_DELETE,				/* upsert's delete by primary key */
	PLAN_DUPLICATE				/* a key in two partitions */
};

/* the columns of one insert plan: field index per column, -1 for "$meta" */
typedef struct BatchShape
{
	int			ncols;
	int		   *field;
	TupleDesc	desc;
} BatchShape;

typedef struct WriteState
{
	BatchShape	shape[2];		/* [all fields] */
	bool		shaped[2];
	Datum		lock_key;		/* hashtext('milvus.collection') */
} WriteState;

/* the rows milvus._pending_rows() gives next, and their columns */
static Tuplestorestate *pending = NULL;
static TupleDesc pending_desc = NULL;

static WriteState *
write_state(MvCollection *c)
{
	if (c->write_state == NULL)
		c->write_state = MemoryContextAllocZero(c->cxt, sizeof(WriteState));
	return c->write_state;
}

/* which fields a batch carries */
static bool
carries(const MvCollField *f, bool all)
{
	return all || !f->auto_id;
}

static BatchShape *
batch_shape(MvCollection *c, bool all)
{
	WriteState *ws = write_state(c);
	BatchShape *shape = &ws->shape[all];
	MemoryContext old;
	int			col = 0;

	if (ws->shaped[all])
		return shape;
	old = MemoryContextSwitchTo(c->cxt);
	shape->field = palloc(sizeof(int) * (c->nfields + 1));
	shape->desc = CreateTemplateTupleDesc(c->nfields + 1);
	for (int i = 0; i < c->nfields; i++)
	{
		MvCollField *f = &c->fields[i];

		if (!carries(f, all))
			continue;
		shape->field[col] = i;
		TupleDescInitEntry(shape->desc, col + 1, f->name, f->typid, f->typmod, 0);
		col++;
	}
	if (c->dynamic_field)
	{
		shape->field[col] = -1;
		TupleDescInitEntry(shape->desc, col + 1, "$meta", JSONBOID, -1, 0);
		col++;
	}
	shape->ncols = col;
	shape->desc->natts = col;
	MemoryContextSwitchTo(old);
	ws->shaped[all] = true;
	return shape;
}

static SPIPlanPtr
keep(MvCollection *c, int which, const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	c->plans[which] = plan;
	return plan;
}

static SPIPlanPtr
insert_plan(MvCollection *c, bool all)
{
	int			which = all ? PLAN_INSERT_ALL : PLAN_INSERT;
	BatchShape *shape;
	StringInfoData cols,
				defs;
	Oid			argtype = TEXTOID;

	if (c->plans[which])
		return c->plans[which];
	shape = batch_shape(c, all);
	initStringInfo(&cols);
	initStringInfo(&defs);
	for (int i = 0; i < shape->ncols; i++)
	{
		Form_pg_attribute att = TupleDescAttr(shape->desc, i);
		const char *name = quote_identifier(NameStr(att->attname));

		appendStringInfo(&cols, "%s%s", i ? ", " : "", name);
		appendStringInfo(&defs, "%s%s %s", i ? ", " : "", name,
						 format_type_with_typemod(att->atttypid, att->atttypmod));
	}
	return keep(c, which,
				psprintf("INSERT INTO %s (%s%s) SELECT b.*%s FROM milvus._pending_rows() AS b(%s) RETURNING %s",
						 c->qualified, cols.data, c->has_partition_key ? "" : ", \"$partition\"",
						 c->has_partition_key ? "" : ", $1", defs.data,
						 quote_identifier(c->fields[c->pk].name)),
				c->has_partition_key ? 0 : 1, &argtype);
}

static Oid
pk_array_type(MvCollection *c)
{
	return get_array_type(c->fields[c->pk].typid);
}

static SPIPlanPtr
pk_plan(MvCollection *c, int which)
{
	const char *pk = quote_identifier(c->fields[c->pk].name);
	Oid			argtype = pk_array_type(c);

	if (c->plans[which])
		return c->plans[which];
	if (which == PLAN_DELETE)
		return keep(c, which, psprintf("DELETE FROM %s t WHERE t.%s = ANY ($1)", c->qualified, pk),
					1, &argtype);
	return keep(c, which,
				psprintf("SELECT t.%1$s::text FROM %2$s t WHERE t.%1$s = ANY ($1)"
						 " GROUP BY t.%1$s HAVING count(*) > 1 LIMIT 1", pk, c->qualified),
				1, &argtype);
}

/* The partition a write goes to (milvus._write_partition), or NULL */
static char *
write_partition(MvCollection *c, text *partition_name)
{
	Oid			types[2] = {InvalidOid, TEXTOID};	/* (the row's type below) */
	Datum		args[2];
	Oid			fn;

	if (partition_name == NULL)
		return c->has_partition_key ? NULL : "_default";
	types[0] = c->row_type;
	fn = LookupFuncName(list_make2(makeString("milvus"), makeString("_write_partition")), 2, types, false);
	args[0] = c->row;
	args[1] = PointerGetDatum(partition_name);
	return TextDatumGetCString(OidFunctionCall2(fn, args[0], args[1]));
}

/* the "$meta" of a row: its keys that are no field */
static Datum
dynamic_part(MvCollection *c, JsonbContainer *row)
{
	JsonbParseState *state = NULL;
	JsonbIterator *it = JsonbIteratorInit(row);
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		bool		declared = false;

		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &v, true);
		for (int i = 0; i < c->nfields && !declared; i++)
			declared = strlen(c->fields[i].name) == k.val.string.len &&
				memcmp(c->fields[i].name, k.val.string.val, k.val.string.len) == 0;
		if (!declared)
		{
			pushJsonbValue(&state, WJB_KEY, &k);
			pushJsonbValue(&state, WJB_VALUE, &v);
		}
	}
	return JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL)));
}

static bool
has_key(JsonbContainer *row, const char *name)
{
	JsonbValue	key;

	key.type = jbvString;
	key.val.string.val = (char *) name;
	key.val.string.len = strlen(name);
	return findJsonbValueFromContainer(row, JB_FOBJECT, &key) != NULL;
}

/* the first key of a row that is no field, if any */
static bool
has_undeclared_key(MvCollection *c, JsonbContainer *row)
{
	int			declared = 0;

	for (int i = 0; i < c->nfields; i++)
		if (has_key(row, c->fields[i].name))
			declared++;
	return JsonContainerSize(row) > declared;
}

/* Convert one row to the batch's columns */
static void
convert_row(MvCollection *c, BatchShape *shape, bool all, JsonbValue *row, int64 n,
			const char *src, Datum *values, bool *nulls)
{
	JsonbContainer *obj;
	MvCollField *pkf = &c->fields[c->pk];

	if (row->type != jbvBinary || !JsonContainerIsObject(row->val.binary.data))
		MvReportBadRow(c, "object", n, row);
	obj = row->val.binary.data;
	if (!c->dynamic_field && has_undeclared_key(c, obj))
		MvReportBadRow(c, "extra", n, row);
	if (pkf->auto_id && !all && has_key(obj, pkf->name))
		MvReportBadRow(c, "auto_id", n, row);
	for (int col = 0; col < shape->ncols; col++)
	{
		int			i = shape->field[col];
		JsonbValue	key;

		if (i < 0)
		{
			values[col] = dynamic_part(c, obj);
			nulls[col] = false;
			continue;
		}
		key.type = jbvString;
		key.val.string.val = c->fields[i].name;
		key.val.string.len = strlen(c->fields[i].name);
		values[col] = MvJsonToDatum(&c->fields[i], findJsonbValueFromContainer(obj, JB_FOBJECT, &key),
									n, &nulls[col], src);
	}
}

/* a primary key as Milvus returns it in ids */
static void
push_id(JsonbParseState **state, MvCollField *pk, Datum d)
{
	JsonbValue	v;

	if (pk->type == MV_TYPE_VARCHAR)
	{
		v.type = jbvString;
		v.val.string.val = TextDatumGetCString(d);
		v.val.string.len = strlen(v.val.string.val);
	}
	else
	{
		v.type = jbvNumeric;
		v.val.numeric = int64_to_numeric(DatumGetInt64(d));
	}
	pushJsonbValue(state, WJB_ELEM, &v);
}

/* Run the insert; a duplicate key becomes the API's error */
static void
run_insert(MvCollection *c, bool upsert, SPIPlanPtr plan, Datum partition)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		if (SPI_execute_plan(plan, &partition, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "the insert into collection \"%s\" failed", c->collection_name);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("duplicate primary key in collection \"%s\"", c->collection_name),
				 edata->detail ? errdetail_internal("%s", edata->detail) : 0,
				 errhint(upsert ? "Each primary key may appear once in a batch."
						 : "milvus.upsert() replaces rows that exist.")));
	}
	PG_END_TRY();
}

static Datum
pk_array(MvCollection *c, Datum *pks, int n)
{
	MvCollField *pk = &c->fields[c->pk];
	char		align;
	int16		len;
	bool		byval;

	get_typlenbyvalalign(pk->typid, &len, &byval, &align);
	return PointerGetDatum(construct_array(pks, n, pk->typid, len, byval, align));
}

/* a key the batch wrote that another partition also holds */
static void
check_unique(MvCollection *c, Datum ids)
{
	/* (not read-only: the check must see the rows just written) */
	if (SPI_execute_plan(pk_plan(c, PLAN_DUPLICATE), &ids, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not check the primary keys of collection \"%s\"", c->collection_name);
	if (SPI_processed > 0)
	{
		char	   *dup = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("duplicate primary key %s in collection \"%s\"", dup, c->collection_name),
				 errdetail("Another partition holds a row with %s = %s.", c->fields[c->pk].name, dup)));
	}
}

struct MvWriter
{
	MvCollection *c;
	bool		upsert;
	bool		all;			/* the batch carries auto_id fields too */
	BatchShape *shape;
	Datum		partition;		/* "$partition", unless a partition key routes */
	Tuplestorestate *store;		/* the rows staged, nstaged of them */
	int64		nstaged;
	Datum	   *pks;			/* upsert: their primary keys */
	int64		maxpks;
	bool		locked;
	bool		want_ids;
	JsonbParseState *ids;		/* the keys written, when want_ids */
	int64		written;
	MemoryContext cxt;			/* the writer's, the caller's context */
	MemoryContext rowcxt;		/* reset after each row */
};

MvWriter *
MvWriterBegin(MvCollection *c, text *partition_name, bool upsert, bool want_ids)
{
	MvWriter   *w = palloc0(sizeof(MvWriter));
	char	   *part = write_partition(c, partition_name);

	w->c = c;
	w->upsert = upsert;
	w->all = upsert || !c->fields[c->pk].auto_id;
	w->shape = batch_shape(c, w->all);
	w->partition = part ? CStringGetTextDatum(part) : (Datum) 0;
	w->want_ids = want_ids;
	w->cxt = CurrentMemoryContext;
	w->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "milvus row", ALLOCSET_DEFAULT_SIZES);
	if (want_ids)
		pushJsonbValue(&w->ids, WJB_BEGIN_ARRAY, NULL);
	return w;
}

int
MvWriterColumns(MvWriter *w, const int **fields)
{
	*fields = w->shape->field;
	return w->shape->ncols;
}

static void
add_pk(MvWriter *w, Datum pk)
{
	MvCollField *f = &w->c->fields[w->c->pk];

	if (w->nstaged >= w->maxpks)
	{
		w->maxpks = Max(64, w->maxpks * 2);
		w->pks = w->pks ? repalloc_huge(w->pks, sizeof(Datum) * w->maxpks)
			: MemoryContextAllocHuge(w->cxt, sizeof(Datum) * w->maxpks);
	}
	w->pks[w->nstaged] = datumCopy(pk, f->typbyval, f->typlen);
}

static void
stage(MvWriter *w, Datum *values, bool *nulls)
{
	MemoryContext old = MemoryContextSwitchTo(w->cxt);

	if (w->store == NULL)
		w->store = tuplestore_begin_heap(false, false, work_mem);
	if (w->upsert)
		for (int col = 0; col < w->shape->ncols; col++)
			if (w->shape->field[col] == w->c->pk)
				add_pk(w, values[col]);
	tuplestore_putvalues(w->store, w->shape->desc, values, nulls);
	w->nstaged++;
	MemoryContextSwitchTo(old);
}

void
MvWriterAddValues(MvWriter *w, Datum *values, bool *nulls)
{
	stage(w, values, nulls);
}

void
MvWriterAddJson(MvWriter *w, JsonbValue *row, int64 n, const char *src)
{
	MemoryContext old = MemoryContextSwitchTo(w->rowcxt);
	Datum	   *values = palloc(sizeof(Datum) * w->shape->ncols);
	bool	   *nulls = palloc(sizeof(bool) * w->shape->ncols);

	convert_row(w->c, w->shape, w->all, row, n, src, values, nulls);
	stage(w, values, nulls);
	MemoryContextSwitchTo(old);
	MemoryContextReset(w->rowcxt);
}

int64
MvWriterStaged(MvWriter *w)
{
	return w->nstaged;
}

/* Write the staged rows: one INSERT (after upsert's DELETE) */
int64
MvWriterFlush(MvWriter *w)
{
	MvCollection *c = w->c;
	Tuplestorestate *store = w->store;
	int64		count;
	Datum	   *got;
	MemoryContext old;

	if (w->nstaged == 0)
		return 0;
	SPI_connect();
	if (c->npartitions > 1 && !w->locked)
	{
		WriteState *ws = write_state(c);

		if (ws->lock_key == (Datum) 0)
			ws->lock_key = DirectFunctionCall1Coll(hashtext, DEFAULT_COLLATION_OID,
												   CStringGetTextDatum("milvus.collection"));
		DirectFunctionCall2(pg_advisory_xact_lock_int4, ws->lock_key, Int32GetDatum((int32) c->relid));
		w->locked = true;
	}
	if (w->upsert)
	{
		Datum		keys = pk_array(c, w->pks, w->nstaged);

		if (SPI_execute_plan(pk_plan(c, PLAN_DELETE), &keys, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "the delete from collection \"%s\" failed", c->collection_name);
	}
	pending = store;
	pending_desc = w->shape->desc;
	w->store = NULL;
	w->nstaged = 0;
	PG_TRY();
	{
		run_insert(c, w->upsert, insert_plan(c, w->all), w->partition);
	}
	PG_FINALLY();
	{
		if (pending == store)	/* (not taken: the executor did not end it) */
			tuplestore_end(store);
		pending = NULL;
		pending_desc = NULL;
	}
	PG_END_TRY();

	count = SPI_processed;
	got = palloc(sizeof(Datum) * Max(count, 1));
	for (uint64 i = 0; i < count; i++)
	{
		bool		isnull;

		got[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		if (w->want_ids)
		{
			old = MemoryContextSwitchTo(w->cxt);
			push_id(&w->ids, &c->fields[c->pk], got[i]);
			MemoryContextSwitchTo(old);
		}
	}
	if (w->locked)
		check_unique(c, pk_array(c, got, count));
	SPI_finish();
	w->written += count;
	return count;
}

/* Flush, and give the count and (when asked for) the ids of all rows written */
int64
MvWriterEnd(MvWriter *w, Datum *ids)
{
	MvWriterFlush(w);
	if (ids)
		*ids = JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&w->ids, WJB_END_ARRAY, NULL)));
	MemoryContextDelete(w->rowcxt);
	return w->written;
}

static void
write_rows(MvWriter *w, Jsonb *data)
{
	JsonbContainer *root = &data->root;

	if (JsonContainerIsScalar(root) ||
		!(JsonContainerIsArray(root) || JsonContainerIsObject(root)))
	{
		Oid			type = JSONBOID;
		Datum		arg = JsonbPGetDatum(data);
		bool		null = false;

		MvCallRaiser("_rows", 1, &type, &arg, &null);
	}
	if (JsonContainerIsObject(root))
	{
		JsonbValue	row;

		row.type = jbvBinary;
		row.val.binary.data = root;
		row.val.binary.len = VARSIZE(data) - VARHDRSZ;
		MvWriterAddJson(w, &row, 0, "data");
	}
	else
	{
		JsonbIterator *it = JsonbIteratorInit(root);
		JsonbValue	row;
		JsonbIteratorToken tok;
		int64		n = 0;

		while ((tok = JsonbIteratorNext(&it, &row, true)) != WJB_DONE)
		{
			if (tok != WJB_ELEM)
				continue;
			CHECK_FOR_INTERRUPTS();
			MvWriterAddJson(w, &row, n++, "data");
		}
	}
}

/*
 * The work of milvus.insert and milvus.upsert, with c pinned; data is jsonb,
 * or text that the text reader takes or gives back to be parsed as jsonb
 */
static void
write_call_rows(FunctionCallInfo fcinfo, MvCollection *c, bool upsert, bool is_text)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *partition_name = PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_P(2);
	Datum		result[2];
	bool		nulls[2] = {false, false};
	MvWriter   *w;

	if (PG_ARGISNULL(1))
	{
		Oid			type = JSONBOID;
		Datum		arg = 0;
		bool		null = true;

		write_partition(c, partition_name);
		MvCallRaiser("_rows", 1, &type, &arg, &null);
	}
	w = MvWriterBegin(c, partition_name, upsert, true);
	if (!is_text)
		write_rows(w, PG_GETARG_JSONB_P(1));
	else
	{
		text	   *data = PG_GETARG_TEXT_PP(1);

		if (!MvWriterAddText(w, c, upsert || !c->fields[c->pk].auto_id,
							 VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data)))
		{
			/* (tests watch for this to see which path ran) */
			ereport(DEBUG1, (errmsg_internal("milvus: the rows are read as jsonb")));
			write_rows(w, DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
															 CStringGetDatum(text_to_cstring(data)))));
		}
	}
	result[0] = Int64GetDatum(MvWriterEnd(w, &result[1]));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, result, nulls);
}

/* milvus.insert or milvus.upsert: (collection_name, data, partition_name) */
static Datum
write_call(FunctionCallInfo fcinfo, bool upsert, bool is_text)
{
	MvCollection *c;

	if (PG_ARGISNULL(0))
	{
		Oid			types[2] = {TEXTOID, TEXTOID};
		Datum		args[2] = {CStringGetTextDatum("collection"), 0};
		bool		argnulls[2] = {false, true};

		/* milvus._check_name('collection', NULL) says what is wrong */
		MvCallRaiser("_check_name", 2, types, args, argnulls);
	}
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	c = MvCollectionLookup(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_TRY();
	{
		write_call_rows(fcinfo, c, upsert, is_text);
	}
	PG_FINALLY();
	{
		MvCollectionUnpin(c);
	}
	PG_END_TRY();
	return (Datum) 0;
}

Datum
milvus_insert(PG_FUNCTION_ARGS)
{
	return write_call(fcinfo, false, false);
}

Datum
milvus_upsert(PG_FUNCTION_ARGS)
{
	return write_call(fcinfo, true, false);
}

Datum
milvus_insert_text(PG_FUNCTION_ARGS)
{
	return write_call(fcinfo, false, true);
}

Datum
milvus_upsert_text(PG_FUNCTION_ARGS)
{
	return write_call(fcinfo, true, true);
}

/*
 * milvus._pending_rows(): the rows a milvus.insert or milvus.upsert call
 * staged for its INSERT.  They are given once; any other call finds none.
 */
Datum
milvus_pending_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("milvus._pending_rows() must be called in FROM")));
	if (pending == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("there are no rows pending"),
				 errdetail("milvus._pending_rows() gives the rows of the milvus.insert or milvus.upsert call that runs it.")));
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = pending;
	rsinfo->setDesc = CreateTupleDescCopy(pending_desc);
	pending = NULL;
	return (Datum) 0;
}
