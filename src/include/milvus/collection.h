/*
 * collection.h
 *		The collection room's door (src/collection/): Milvus's name rule,
 *		the filter-expression parser and compiler.
 *
 * The collection DDL and the rarer calls (range and grouping search, calls
 * that end in an error before their statement) are PL/pgSQL
 * (src/sql/7*_collection_*.sql); they reach the C code here through
 * SQL-callable functions: milvus._check_name (name.c) and
 * milvus.compile_filter (filter_api.c), which milvus._filter calls with the
 * collection's schema in Milvus's JSON form.  load.c's milvus._prewarm needs
 * nothing from this header.
 *
 * The data path is C.  Every call finds the collection in a per-backend
 * schema cache (schema.c).  milvus.insert and milvus.upsert (write.c) turn
 * the JSON rows into the columns' Datums (values.c; rows given as text are
 * read by rows_text.c without a jsonb parse) and hand them, a batch at a
 * time, to a prepared INSERT that reads them from milvus._pending_rows(), so
 * the executor routes rows to partitions and applies constraints, triggers
 * and row-level security.  milvus.bulk_insert (import.c, npy.c) feeds the
 * same batches from server files; milvus.export_collection (export.c) writes
 * them back out.  milvus.search (search.c) and milvus.query, get and delete
 * (query.c) compile their filter with MvFilterCompile and run plans kept with
 * the collection's cache entry (plans.c).
 *
 * Filters go through two layers.  The parser (filter_parse.c) is free of
 * server calls: it allocates through a caller-supplied function, never raises
 * an error and never frees, so the libFuzzer target links it alone and a
 * caller frees the whole tree at once (a memory context, an arena).  The
 * compiler (filter_sql.c) checks the tree against a collection schema, fills
 * in template values and emits a WHERE-clause condition in which every value
 * the user wrote is a parameter: the text refers to ($1[N])::<type>, where $1
 * is a text[] of the values in order, so user text never reaches the SQL
 * string.  doc/filter-expressions.md has the grammar and what each construct
 * becomes.
 */
#ifndef MILVUS_COLLECTION_H
#define MILVUS_COLLECTION_H

#include "executor/spi.h"
#include "utils/jsonb.h"

/*
 * Milvus's name rule, for databases, collections, partitions, aliases, fields
 * and indexes: [A-Za-z_][A-Za-z0-9_]*, at most MV_NAME_MAX_LENGTH characters.
 */
#define MV_NAME_MAX_LENGTH		255

/*
 * Milvus's limits on fields (limits.c gives them to SQL as milvus._limit);
 * the vector dimensions' are MV_DENSE_MAX_DIM and MV_BINARY_MAX_DIM (vector.h)
 */
#define MV_VARCHAR_MAX_LENGTH	65535	/* bytes */
#define MV_JSON_MAX_BYTES		65536	/* a JSON value's text */
#define MV_ARRAY_MAX_CAPACITY	4096

typedef enum MvNameProblem
{
	MV_NAME_OK = 0,
	MV_NAME_EMPTY,
	MV_NAME_TOO_LONG,			/* more than MV_NAME_MAX_LENGTH */
	MV_NAME_BAD_FIRST,			/* the first character is not a letter or _ */
	MV_NAME_BAD_CHAR			/* a later character is not a letter, digit or _ */
} MvNameProblem;

/*
 * What, if anything, is wrong with a name, in that order of precedence;
 * length is the name's length in characters (or in bytes for a caller that
 * has no encoding, such as a setting's check in the postmaster: a valid name
 * is ASCII, so only which problem is reported can differ)
 */
extern MvNameProblem MvNameCheck(const char *name, int length);


/* longest filter expression accepted, in bytes */
#define MV_FILTER_MAX_LENGTH	(1024 * 1024)
/* highest expression tree: "a + b + c" is 3 levels high, "a or b or c" 2 */
#define MV_FILTER_MAX_DEPTH		256
/*
 * deepest nesting of parentheses, brackets, calls and prefix operators; twice
 * the tree limit, so that the fully parenthesized print of any tree parses
 */
#define MV_FILTER_MAX_NESTING	(2 * MV_FILTER_MAX_DEPTH)

/*
 * The tree
 */
typedef enum MvFilterKind
{
	MVF_INT,					/* ival */
	MVF_FLOAT,					/* fval */
	MVF_STRING,					/* str, len (decoded; may hold any byte but NUL) */
	MVF_BOOL,					/* bval */
	MVF_LIST,					/* [child, ...] */
	MVF_TEMPLATE,				/* {str} */
	MVF_FIELD,					/* str, then path[npath]; str "$meta" is the dynamic field */
	MVF_UNARY,					/* op child[0] */
	MVF_ARITH,					/* child[0] op child[1] */
	MVF_COMPARE,				/* child[0] op child[1] */
	MVF_RANGE,					/* child[0] op child[1] op2 child[2] */
	MVF_IN,						/* child[0] [not] in child[1] */
	MVF_LIKE,					/* child[0] like child[1] */
	MVF_ISNULL,					/* child[0] is [not] null */
	MVF_EXISTS,					/* exists child[0] */
	MVF_AND,					/* child[0] and child[1] and ... */
	MVF_OR,						/* child[0] or child[1] or ... */
	MVF_CALL					/* func(child, ...) */
} MvFilterKind;

typedef enum MvFilterOp
{
	MVF_OP_NONE,
	/* unary */
	MVF_OP_NEG, MVF_OP_PLUS, MVF_OP_NOT,
	/* arithmetic and bitwise */
	MVF_OP_ADD, MVF_OP_SUB, MVF_OP_MUL, MVF_OP_DIV, MVF_OP_MOD, MVF_OP_POW,
	MVF_OP_BITAND, MVF_OP_BITOR, MVF_OP_BITXOR,
	/* comparison */
	MVF_OP_EQ, MVF_OP_NE, MVF_OP_LT, MVF_OP_LE, MVF_OP_GT, MVF_OP_GE
} MvFilterOp;

typedef enum MvFilterFunc
{
	MVF_FN_JSON_CONTAINS,
	MVF_FN_JSON_CONTAINS_ALL,
	MVF_FN_JSON_CONTAINS_ANY,
	MVF_FN_ARRAY_CONTAINS,
	MVF_FN_ARRAY_CONTAINS_ALL,
	MVF_FN_ARRAY_CONTAINS_ANY,
	MVF_FN_ARRAY_LENGTH
} MvFilterFunc;

/* one step of a path: ["key"] or [index] */
typedef struct MvFilterPathStep
{
	bool		is_index;
	int32		index;
	const char *key;
	int			keylen;
	int			position;
} MvFilterPathStep;

/* (fields ordered without padding: a long list is mostly these) */
typedef struct MvFilterNode
{
	MvFilterKind kind;
	MvFilterOp	op;
	MvFilterOp	op2;			/* MVF_RANGE: the second comparison */
	MvFilterFunc func;			/* MVF_CALL */
	bool		negated;		/* not in, is not null */
	bool		parenthesized;	/* written in parentheses (parser bookkeeping) */
	bool		bval;
	int			position;		/* byte offset in the input where it starts */
	int			depth;			/* height of the tree below, 1 for a leaf */
	int			len;
	int			nchildren;
	int			npath;
	int64		ival;
	double		fval;
	const char *str;
	struct MvFilterNode **children;
	MvFilterPathStep *path;
} MvFilterNode;

/*
 * The parser
 */
typedef void *(*MvFilterAllocFn) (void *context, size_t size);

typedef struct MvFilterAllocator
{
	MvFilterAllocFn alloc;		/* may return NULL: the parse then fails */
	void	   *context;
} MvFilterAllocator;

typedef enum MvFilterCode
{
	MVF_OK = 0,
	MVF_ERR_SYNTAX,				/* see expected */
	MVF_ERR_RANGE,				/* a number that does not fit int64 or double */
	MVF_ERR_ESCAPE,				/* a bad escape sequence in a string */
	MVF_ERR_UNSUPPORTED,		/* Milvus syntax this implementation refuses; see expected */
	MVF_ERR_TOO_LONG,			/* more than MV_FILTER_MAX_LENGTH bytes */
	MVF_ERR_TOO_DEEP,			/* past MV_FILTER_MAX_DEPTH or MV_FILTER_MAX_NESTING */
	MVF_ERR_NO_MEMORY			/* the allocator returned NULL */
} MvFilterCode;

typedef struct MvFilterParseResult
{
	MvFilterCode code;
	int			position;		/* 0-based byte offset of the problem */
	int			length;			/* bytes of the offending token, 0 at the end */
	const char *expected;		/* SYNTAX: what should have been there;
								 * UNSUPPORTED: what was refused */
	MvFilterNode *root;			/* MVF_OK only */
} MvFilterParseResult;

extern MvFilterParseResult MvFilterParse(const char *text, const MvFilterAllocator *allocator);

/* the tree as text, fully parenthesized; parsing it gives an equal tree */
extern char *MvFilterPrint(const MvFilterNode *node, const MvFilterAllocator *allocator);
/* whether two trees are equal, positions aside */
extern bool MvFilterEqual(const MvFilterNode *a, const MvFilterNode *b);

/*
 * The compiler (server side)
 */
typedef enum MvFieldType
{
	MV_FIELD_BOOL,
	MV_FIELD_INT8,
	MV_FIELD_INT16,
	MV_FIELD_INT32,
	MV_FIELD_INT64,
	MV_FIELD_FLOAT,
	MV_FIELD_DOUBLE,
	MV_FIELD_VARCHAR,
	MV_FIELD_JSON,
	MV_FIELD_ARRAY,
	MV_FIELD_VECTOR				/* any vector type: not usable in a filter */
} MvFieldType;

typedef struct MvFilterField
{
	const char *name;			/* also the column name */
	MvFieldType type;
	MvFieldType element_type;	/* MV_FIELD_ARRAY only */
} MvFilterField;

typedef struct MvFilterSchema
{
	int			nfields;
	MvFilterField *fields;
	bool		dynamic_field;	/* undeclared keys live in jsonb column "$meta" */
} MvFilterSchema;

typedef struct MvFilterSql
{
	char	   *sql;			/* a boolean SQL expression over the columns */
	int			nparams;
	char	  **params;			/* the elements of $1, in order */
} MvFilterSql;

/* a schema from Milvus's JSON form: {"fields": [...], "enable_dynamic_field": b} */
extern MvFilterSchema *MvFilterSchemaFromJsonb(Jsonb *schema);

/*
 * Compile a filter; filter_params may be NULL.  rel_alias, when not NULL,
 * qualifies every column.  Errors are raised with ereport.
 */
extern MvFilterSql *MvFilterCompile(const char *filter, const MvFilterSchema *schema,
									Jsonb *filter_params, const char *rel_alias);

/* the same, for a tree MvFilterParse made of filter */
extern MvFilterSql *MvFilterCompileTree(const char *filter, const MvFilterNode *tree,
										const MvFilterSchema *schema, Jsonb *filter_params,
										const char *rel_alias);

/* the parameters as a text[] Datum, ready to pass as $1 */
extern Datum MvFilterParamsArray(const MvFilterSql *compiled);

/* raise the error a failed parse deserves */
extern void MvFilterReportParseError(const char *filter,
									 const MvFilterParseResult *result) pg_attribute_noreturn();

/* a palloc-based allocator in CurrentMemoryContext */
extern const MvFilterAllocator *MvFilterPallocAllocator(void);


/*
 * The schema cache (schema.c)
 *
 * A collection's fields, partitions and table, read from the catalog once
 * per backend and kept until the catalog or the table changes: a statement
 * trigger on every catalog table (milvus._catalog_changed) sends a relcache
 * invalidation for milvus.collections, which empties the cache in every
 * backend at commit, and a change to the table itself drops its entry.
 */
typedef enum MvDataType
{
	MV_TYPE_BOOL,
	MV_TYPE_INT8,
	MV_TYPE_INT16,
	MV_TYPE_INT32,
	MV_TYPE_INT64,
	MV_TYPE_FLOAT,
	MV_TYPE_DOUBLE,
	MV_TYPE_VARCHAR,
	MV_TYPE_JSON,
	MV_TYPE_ARRAY,
	MV_TYPE_FLOAT_VECTOR,
	MV_TYPE_FLOAT16_VECTOR,
	MV_TYPE_BINARY_VECTOR,
	MV_TYPE_SPARSE_FLOAT_VECTOR
} MvDataType;

typedef struct MvCollField
{
	char	   *name;			/* also the column's name */
	MvDataType	type;
	MvDataType	element_type;	/* MV_TYPE_ARRAY only */
	int			dim;			/* vectors */
	int			max_length;		/* VARCHAR, and ARRAY of VARCHAR */
	int			max_capacity;	/* ARRAY */
	bool		is_primary;
	bool		auto_id;
	bool		nullable;
	bool		has_default;
	Datum		default_value;	/* the column's Datum, when has_default */
	Jsonb	   *spec;			/* what milvus._bad_value reports about it */
	Oid			typid;			/* the column's type and typmod */
	int32		typmod;
	int16		typlen;
	bool		typbyval;
} MvCollField;

#define MV_COLL_NPLANS	8

typedef struct MvCollection
{
	char	   *db_name;
	char	   *collection_name;	/* the name, not the alias it was found by */
	Oid			relid;
	char	   *qualified;		/* the table's name, schema-qualified and quoted */
	bool		dynamic_field;	/* undeclared keys go to jsonb column "$meta" */
	bool		has_partition_key;
	int			npartitions;
	int			nfields;
	MvCollField *fields;		/* in field_id order */
	int			pk;				/* index of the primary field */
	Datum		row;			/* its milvus.collections row, for SQL helpers */
	Oid			row_type;		/* that row's type */
	SPIPlanPtr	plans[MV_COLL_NPLANS];	/* kept statements, freed with the entry */
	void	   *write_state;	/* write.c's, in cxt */
	MemoryContext cxt;			/* everything above lives here */
	int			pins;			/* calls using it now (MvCollectionUnpin) */
	bool		dead;			/* invalidated: freed when no call uses it */
} MvCollection;

/*
 * The collection (or alias) name stands for in the current database
 * (milvus.collection_database); errors as milvus._collection raises them.
 * The entry is pinned: an invalidation while it is in use (another session's
 * commit, seen when a lock is taken) does not free it before the caller
 * unpins it, in a PG_FINALLY.
 */
extern MvCollection *MvCollectionLookup(const char *name);
extern void MvCollectionUnpin(MvCollection *c);

/* a name as milvus.fields spells a data type, or -1 */
extern int	MvDataTypeFromName(const char *name);

/*
 * JSON values as column Datums (values.c)
 *
 * MvJsonToDatum turns field f's value v of row n (v NULL when the row has
 * none or it is JSON null) into the column's Datum, or raises the error
 * milvus._bad_value gives for it; src names the rows in messages ("data").
 */
extern Datum MvJsonToDatum(const MvCollField *f, JsonbValue *v, int64 n, bool *isnull,
						   const char *src);

/*
 * Call milvus.<name>(argtypes), one of the SQL functions that raise the
 * collection API's errors, with args, some of them NULL; it must raise
 */
extern void MvCallRaiser(const char *name, int nargs, Oid *argtypes, Datum *args,
						 bool *nulls) pg_attribute_noreturn();

/*
 * Writing rows (write.c): a writer stages rows, as JSON objects or as the
 * batch's column Datums (MvWriterColumns: the field index of each column,
 * -1 for the dynamic field "$meta"), and each flush writes the staged rows
 * with one prepared INSERT.  partition_name may be NULL; the caller pins c.
 */
typedef struct MvWriter MvWriter;

extern MvWriter *MvWriterBegin(MvCollection *c, text *partition_name, bool upsert, bool want_ids);
extern int	MvWriterColumns(MvWriter *w, const int **fields);
extern void MvWriterAddJson(MvWriter *w, JsonbValue *row, int64 n, const char *src);
extern void MvWriterAddValues(MvWriter *w, Datum *values, bool *nulls);
extern int64 MvWriterStaged(MvWriter *w);

/*
 * Rows as JSON text (rows_text.c): stage them all and return true, or
 * return false with nothing staged for the caller to take the jsonb path;
 * all says whether the batch carries auto_id fields
 */
extern bool MvWriterAddText(MvWriter *w, MvCollection *c, bool all, const char *text, int len);
extern int64 MvWriterFlush(MvWriter *w);
/* flush; the rows written in all, and their ids as a jsonb array if asked for */
extern int64 MvWriterEnd(MvWriter *w, Datum *ids);

/*
 * NumPy .npy files (npy.c), for bulk import
 */
typedef struct MvNpyFile
{
	char	   *path;
	FILE	   *fp;
	char		kind;			/* dtype kind: b, i, u, f or U */
	int			itemsize;		/* bytes of one element (U: 4 per character) */
	int			ndim;			/* 1 or 2 */
	int64		rows;
	int64		cols;			/* 1 when ndim is 1 */
	int64		row_bytes;
	long		data_offset;
} MvNpyFile;

/* open a file and read its header; errors name the file and what is wrong */
extern void MvNpyOpen(MvNpyFile *f, const char *path);
/* read the next nrows rows into buf (nrows * row_bytes) */
extern void MvNpyRead(MvNpyFile *f, char *buf, int64 nrows);
extern void MvNpyClose(MvNpyFile *f);

/*
 * Import tasks (import.c), for the import worker: take a Pending task
 * (false if it is not one), run it with its Completed state in the current
 * transaction, or mark it Failed
 */
extern bool MvImportTaskStart(int64 task_id);
extern void MvImportTaskRun(int64 task_id);
extern void MvImportTaskFailed(int64 task_id, const char *reason);

/*
 * mantissa * 10^exp10 as a float exactly as strtof rounds it, when that is
 * cheap to get; false when it is not (values.c)
 */
extern bool MvDecimalToFloat(uint64 mantissa, int exp10, bool negative, float *out);

/* raise the error milvus._bad_row gives: kind "object", "extra" or "auto_id" */
extern void MvReportBadRow(const MvCollection *c, const char *kind, int64 n,
						   JsonbValue *row) pg_attribute_noreturn();

/*
 * Search (search.c)
 *
 * milvus.search is C: for the common search (one anns field and its metric,
 * a filter, partitions, output fields, limit, offset, ef) it checks the call
 * as milvus._search_plpgsql does and runs the same statement as a plan kept
 * with the collection's cache entry; every other call (range and grouping
 * search, and each the PL/pgSQL rejects before its statement runs) goes to
 * milvus._search_plpgsql.  It exports nothing but the SQL function.
 */

/*
 * Query, get and delete (query.c)
 *
 * milvus.query and milvus.delete are C in the same way: a call that the
 * PL/pgSQL bodies (milvus._query_plpgsql, milvus._delete_plpgsql) would run
 * without an error before their statement runs the same statement as a kept
 * plan; every other call goes to the PL/pgSQL.  milvus.get is milvus.query
 * by ids, called directly.  They export nothing but the SQL functions.
 */

/*
 * What search.c and query.c share (plans.c): a collection's read state,
 * kept with its schema-cache entry, and the pieces of their statements.
 * Each Mv*Ok-style helper returns false where its PL/pgSQL twin raises an
 * error, for the caller to hand the call to its PL/pgSQL body.
 */
#define MV_READ_MAX_PLANS	16

typedef struct MvKeptPlan
{
	char	   *sql;			/* the key */
	SPIPlanPtr	plan;
	uint64		used;
} MvKeptPlan;

typedef struct MvReadState
{
	MvCollection *c;
	char	   *ext_schema;		/* quoted: the vector types' schema; NULL without
								 * vector fields */
	char	  **index_metric;	/* per field: its index's metric_type, or NULL */
	int			npartitions;
	char	  **partitions;
	MvFilterSchema filter_schema;
	char	   *ids_sql;		/* MvReadIdsSql's, once asked for */
	/* plans.c's */
	MemoryContextCallback callback;
	int			nplans;
	MvKeptPlan	plans[MV_READ_MAX_PLANS];
	uint64		clock;
} MvReadState;

extern bool MvIsVector(MvDataType t);
/* c's read state (the caller pins c) */
extern MvReadState *MvReadStateGet(MvCollection *c);
/* the statement kept under its text; per_call: planned for each call's values */
extern SPIPlanPtr MvReadPlan(MvReadState *s, const char *sql, int nargs, Oid *argtypes,
							 bool per_call);
/* run a kept plan, in SPI, into the call's materialized result */
extern void MvReadExecute(FunctionCallInfo fcinfo, SPIPlanPtr plan, int nparams,
						  const Oid *argtypes, const Datum *values, const bool *nulls,
						  bool read_only);
/* milvus._filter: *sql is "true" for no filter; filter and filter_params may be NULL */
extern void MvReadFilter(MvReadState *s, text *filter, Jsonb *filter_params, char **sql,
						 Datum *params);
/* milvus._ids_sql(c, ids) for ids not NULL: "primary key in $2" */
extern const char *MvReadIdsSql(MvReadState *s);
/* milvus._read_partitions; names may be NULL */
extern bool MvReadPartitions(MvReadState *s, ArrayType *names, bool *named);
/* milvus._entity_sql, dynamic keys as the elements of $keys_param */
extern bool MvReadEntity(MvReadState *s, ArrayType *output_fields, bool with_pk,
						 int keys_param, char **sql, Datum *keys);
/* milvus._check_window */
extern bool MvReadWindowOk(bool has_limit, int32 limit, bool has_offset, int32 offset);
/* set a setting until the caller's AtEOXact_GUC, as a SET clause does */
extern void MvSetForCall(const char *name, const char *value);
/* call milvus.<name>(types) with this call's arguments and result */
extern Datum MvCallPlpgsql(FunctionCallInfo fcinfo, const char *name, int nargs,
						   const Oid *types);
/*
 * run the call with its collection (argument 0) pinned, or, for a NULL name
 * or when run returns false, fallback
 */
extern Datum MvReadCall(FunctionCallInfo fcinfo, const char *name, int nargs,
						bool (*run) (FunctionCallInfo fcinfo, MvCollection *c),
						Datum (*fallback) (FunctionCallInfo fcinfo));

#endif							/* MILVUS_COLLECTION_H */
