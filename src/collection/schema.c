/*
 * schema.c
 *		The per-backend cache of collection schemas that the C data path reads.
 *
 * A call of milvus.insert used to read the catalog (the collection, its
 * fields, its partitions) with half a dozen queries before it did any work.
 * Here that happens once per backend and collection: the entry is built with
 * SPI from the same catalog rows (milvus._collection resolves the name, the
 * alias and the database, and raises its errors), with the column types read
 * from the table.
 *
 * Entries go when something they were made from changes.  Every catalog table
 * has a statement trigger, milvus._catalog_changed, that queues a relcache
 * invalidation of milvus.collections; PostgreSQL delivers it to the changing
 * backend at the next command and to every other backend when the change
 * commits, and the callback below then empties the cache.  A change to a
 * collection's table (ALTER TABLE, a new partition, DROP) arrives as that
 * table's own invalidation and drops the entries for it.  So aliases,
 * partitions and fields made or dropped in another session are seen by the
 * next call that starts after they commit.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "utils/datum.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "milvus/collection.h"

PG_FUNCTION_INFO_V1(milvus_catalog_changed);

/* a key: database name, a NUL, then the collection or alias name */
#define KEY_SIZE	(2 * (MV_NAME_MAX_LENGTH + 1))

typedef struct CacheEntry
{
	char		key[KEY_SIZE];
	MvCollection *coll;
} CacheEntry;

static HTAB *cache = NULL;
static MemoryContext cache_cxt = NULL;

static const char *const type_names[] = {
	[MV_TYPE_BOOL] = "BOOL",
	[MV_TYPE_INT8] = "INT8",
	[MV_TYPE_INT16] = "INT16",
	[MV_TYPE_INT32] = "INT32",
	[MV_TYPE_INT64] = "INT64",
	[MV_TYPE_FLOAT] = "FLOAT",
	[MV_TYPE_DOUBLE] = "DOUBLE",
	[MV_TYPE_VARCHAR] = "VARCHAR",
	[MV_TYPE_JSON] = "JSON",
	[MV_TYPE_ARRAY] = "ARRAY",
	[MV_TYPE_FLOAT_VECTOR] = "FLOAT_VECTOR",
	[MV_TYPE_FLOAT16_VECTOR] = "FLOAT16_VECTOR",
	[MV_TYPE_BINARY_VECTOR] = "BINARY_VECTOR",
	[MV_TYPE_SPARSE_FLOAT_VECTOR] = "SPARSE_FLOAT_VECTOR",
};

int
MvDataTypeFromName(const char *name)
{
	for (int i = 0; i < lengthof(type_names); i++)
		if (strcmp(name, type_names[i]) == 0)
			return i;
	return -1;
}

static void
free_collection(MvCollection *c)
{
	for (int i = 0; i < MV_COLL_NPLANS; i++)
		if (c->plans[i])
			SPI_freeplan(c->plans[i]);
	MemoryContextDelete(c->cxt);
}

/* entries invalidated while a call used them, freed when none does */
static List *dead = NIL;

static void
free_dead(void)
{
	ListCell   *lc;
	List	   *keep = NIL;

	foreach(lc, dead)
	{
		MvCollection *c = lfirst(lc);

		if (c->pins > 0)
			keep = lappend(keep, c);
		else
			free_collection(c);
	}
	list_free(dead);
	dead = keep;
}

/*
 * Take an entry out of use.  (Invalidation callbacks run in the middle of
 * other work, even while a call executes with the entry: it is only marked
 * here and freed by the next lookup.)
 */
static void
free_entry(CacheEntry *e)
{
	if (e->coll)
	{
		MemoryContext old = MemoryContextSwitchTo(cache_cxt);

		e->coll->dead = true;
		dead = lappend(dead, e->coll);
		MemoryContextSwitchTo(old);
	}
	e->coll = NULL;
}

void
MvCollectionUnpin(MvCollection *c)
{
	Assert(c->pins > 0);
	c->pins--;
}

/*
 * The catalog's tables, noted when an entry is made: the callback below may
 * not read the system catalogs, so it compares with these.  Any of them
 * changing (or being dropped with the extension) empties the cache.
 */
static Oid	catalog_tables[8];
static int	ncatalog_tables = 0;

static void
note_catalog_tables(void)
{
	static const char *const names[] = {"databases", "collections", "fields", "partitions",
	"aliases", "indexes"};
	Oid			nsp = get_namespace_oid("milvus", false);

	ncatalog_tables = 0;
	for (int i = 0; i < lengthof(names); i++)
	{
		Oid			relid = get_relname_relid(names[i], nsp);

		if (OidIsValid(relid))
			catalog_tables[ncatalog_tables++] = relid;
	}
}

static bool
is_catalog_table(Oid relid)
{
	for (int i = 0; i < ncatalog_tables; i++)
		if (catalog_tables[i] == relid)
			return true;
	return false;
}

static void
invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	CacheEntry *e;
	bool		all = !OidIsValid(relid) || is_catalog_table(relid);

	if (all)
		ncatalog_tables = 0;	/* noted again by the next load */
	if (cache == NULL || hash_get_num_entries(cache) == 0)
		return;
	hash_seq_init(&seq, cache);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (all || e->coll == NULL || e->coll->relid == relid)
		{
			free_entry(e);
			hash_search(cache, e->key, HASH_REMOVE, NULL);
		}
	}
}

static void
init_cache(void)
{
	HASHCTL		ctl;

	cache_cxt = AllocSetContextCreate(TopMemoryContext, "milvus collection schemas",
									  ALLOCSET_SMALL_SIZES);
	ctl.keysize = KEY_SIZE;
	ctl.entrysize = sizeof(CacheEntry);
	ctl.hcxt = cache_cxt;
	cache = hash_create("milvus collection schemas", 16, &ctl,
						HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(invalidate, (Datum) 0);
}

static const char *
current_database_name(void)
{
	const char *db = GetConfigOption("milvus.collection_database", true, false);

	return (db && db[0]) ? db : "default";
}

static char *
spi_text(HeapTuple tup, TupleDesc desc, int col)
{
	return SPI_getvalue(tup, desc, col);
}

static bool
spi_bool(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

static int
spi_int(HeapTuple tup, TupleDesc desc, int col)
{
	char	   *s = SPI_getvalue(tup, desc, col);

	return s ? pg_strtoint32(s) : 0;
}

/* A field's default_value (JSON) as the column's Datum, in CurrentMemoryContext */
static Datum
default_datum(MvCollField *f, Jsonb *value)
{
	JsonbValue	v;
	bool		isnull;

	if (!JsonbExtractScalar(&value->root, &v))
		elog(ERROR, "default_value of field \"%s\" is not a scalar", f->name);
	return MvJsonToDatum(f, &v, 0, &isnull, "default_value");
}

/* Read one collection's schema from the catalog; NULL error raised if none */
static MvCollection *
load_collection(const char *name)
{
	MemoryContext cxt,
				old;
	MvCollection *c;
	Datum		arg;
	Oid			argtype = TEXTOID;
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		args[2];
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	bool		isnull;

	/* under the caller's context until it is complete: an error frees it */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "milvus collection", ALLOCSET_SMALL_SIZES);
	c = MemoryContextAllocZero(cxt, sizeof(MvCollection));
	c->cxt = cxt;

	SPI_connect();
	arg = CStringGetTextDatum(name);
	if (SPI_execute_with_args("SELECT x.db_name, x.collection_name, x.relid::oid, x.enable_dynamic_field,"
							  " x.partition_key IS NOT NULL, milvus._qualified(x.relid), x,"
							  " (SELECT count(*) FROM milvus.partitions p"
							  "   WHERE p.db_name = x.db_name AND p.collection_name = x.collection_name)"
							  " FROM milvus._collection($1) x",
							  1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the catalog entry of collection \"%s\"", name);
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(cxt);
	c->db_name = pstrdup(spi_text(tup, desc, 1));
	c->collection_name = pstrdup(spi_text(tup, desc, 2));
	c->relid = DatumGetObjectId(SPI_getbinval(tup, desc, 3, &isnull));
	c->dynamic_field = spi_bool(tup, desc, 4);
	c->has_partition_key = spi_bool(tup, desc, 5);
	c->qualified = pstrdup(spi_text(tup, desc, 6));
	c->row = datumCopy(SPI_getbinval(tup, desc, 7, &isnull), false, -1);
	c->row_type = SPI_gettypeid(desc, 7);
	c->npartitions = spi_int(tup, desc, 8);
	MemoryContextSwitchTo(old);

	args[0] = CStringGetTextDatum(c->db_name);
	args[1] = CStringGetTextDatum(c->collection_name);
	if (SPI_execute_with_args("SELECT f.field_name, f.data_type, f.element_type, f.params ->> 'dim',"
							  " f.params ->> 'max_length', f.params ->> 'max_capacity', f.is_primary,"
							  " f.auto_id, f.nullable, f.default_value, milvus._field_spec(f)"
							  " FROM milvus.fields f WHERE f.db_name = $1 AND f.collection_name = $2"
							  " ORDER BY f.field_id",
							  2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the fields of collection \"%s\"", name);
	desc = SPI_tuptable->tupdesc;
	c->nfields = SPI_processed;
	c->fields = MemoryContextAllocZero(cxt, sizeof(MvCollField) * Max(c->nfields, 1));
	c->pk = -1;
	for (int i = 0; i < c->nfields; i++)
	{
		MvCollField *f = &c->fields[i];
		char	   *type,
				   *elem;
		Datum		d;
		AttrNumber	attnum;

		tup = SPI_tuptable->vals[i];
		old = MemoryContextSwitchTo(cxt);
		f->name = pstrdup(spi_text(tup, desc, 1));
		type = spi_text(tup, desc, 2);
		elem = spi_text(tup, desc, 3);
		f->type = MvDataTypeFromName(type);
		f->element_type = elem ? MvDataTypeFromName(elem) : -1;
		if ((int) f->type < 0 || (elem && (int) f->element_type < 0))
			elog(ERROR, "field \"%s\" has an unknown data type %s", f->name, type);
		f->dim = spi_int(tup, desc, 4);
		f->max_length = spi_int(tup, desc, 5);
		f->max_capacity = spi_int(tup, desc, 6);
		f->is_primary = spi_bool(tup, desc, 7);
		f->auto_id = spi_bool(tup, desc, 8);
		f->nullable = spi_bool(tup, desc, 9);
		f->spec = DatumGetJsonbPCopy(SPI_getbinval(tup, desc, 11, &isnull));
		attnum = get_attnum(c->relid, f->name);
		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("collection \"%s\" has no column for its field \"%s\"", name, f->name),
					 errdetail("Its table %s has no column of that name.", c->qualified),
					 errhint("A column renamed or dropped with ALTER TABLE is not reflected in the "
							 "collection's catalog; rename it back.")));
		{
			Oid			collation;

			get_atttypetypmodcoll(c->relid, attnum, &f->typid, &f->typmod, &collation);
		}
		get_typlenbyval(f->typid, &f->typlen, &f->typbyval);
		d = SPI_getbinval(tup, desc, 10, &isnull);
		if (!isnull)
		{
			f->default_value = default_datum(f, DatumGetJsonbP(d));
			f->has_default = true;
		}
		if (f->is_primary)
			c->pk = i;
		MemoryContextSwitchTo(old);
	}
	if (c->pk < 0)
		elog(ERROR, "collection \"%s\" has no primary field", name);
	SPI_finish();
	MemoryContextSetParent(cxt, cache_cxt);
	return c;
}

MvCollection *
MvCollectionLookup(const char *name)
{
	char		key[KEY_SIZE];
	const char *db = current_database_name();
	CacheEntry *e;
	bool		found;
	MvCollection *c;

	if (cache == NULL)
		init_cache();
	if (dead != NIL)
		free_dead();
	/* a name too long to be a key is one milvus._collection refuses */
	if (strlen(db) > MV_NAME_MAX_LENGTH || strlen(name) > MV_NAME_MAX_LENGTH)
	{
		load_collection(name);
		elog(ERROR, "collection name \"%s\" is too long", name);
	}
	/* one string: names are [A-Za-z0-9_], so \x01 cannot occur in them */
	snprintf(key, sizeof(key), "%s\x01%s", db, name);
	e = hash_search(cache, key, HASH_FIND, NULL);
	if (e && e->coll)
	{
		e->coll->pins++;
		return e->coll;
	}
	if (ncatalog_tables == 0)
		note_catalog_tables();
	c = load_collection(name);
	e = hash_search(cache, key, HASH_ENTER, &found);
	if (found)
		free_entry(e);
	e->coll = c;
	c->pins++;
	return c;
}

/*
 * milvus._catalog_changed(): the statement trigger of the catalog tables.
 * It queues an invalidation of the trigger's table, which every backend's
 * callback above takes as "empty the cache".
 */
Datum
milvus_catalog_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("milvus._catalog_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}
