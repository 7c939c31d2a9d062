/*
 * export.c
 *		milvus.export_collection: a collection's rows to server files in the
 *		formats milvus.bulk_insert reads (migration out).
 *
 * One snapshot serves the whole export (the queries run read-only, under the
 * calling statement's snapshot), rows in primary key order.  JSON is one
 * {"rows": [...]} file of the row objects milvus.query returns with
 * output_fields ["*"]; CSV has a header of field names, VARCHAR values as
 * they are and every other value as its JSON; .npy is a file per field, as
 * Milvus's column-based import wants.  The call returns the files as the
 * list bulk_insert takes.  Writing server files needs the privileges of
 * pg_write_server_files, as COPY TO a file does; reading the collection needs
 * SELECT on it.
 */
#include "postgres.h"

#include <sys/stat.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "milvus/collection.h"
#include "milvus/vector.h"

PG_FUNCTION_INFO_V1(milvus_export_collection);

#define EXPORT_FETCH_ROWS	1000

typedef enum ExportFormat
{
	EXPORT_JSON,
	EXPORT_CSV,
	EXPORT_NPY
} ExportFormat;

static FILE *
open_out(const char *path)
{
	FILE	   *fp = AllocateFile(path, PG_BINARY_W);

	if (fp == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for writing: %m", path)));
	return fp;
}

static void
write_out(FILE *fp, const char *path, const void *data, size_t len)
{
	if (len > 0 && fwrite(data, 1, len, fp) != len)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", path)));
}

static void
close_out(FILE *fp, const char *path)
{
	if (FreeFile(fp) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\": %m", path)));
}

/* SQL evaluated for the collection's catalog row: one text value */
static char *
catalog_text(MvCollection *c, const char *sql)
{
	char	   *result;

	if (SPI_execute_with_args(sql, 1, &c->row_type, &c->row, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not build the export query");
	result = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return result;
}

/* the rows, in primary key order */
static char *
row_source(MvCollection *c)
{
	return psprintf("FROM %s t ORDER BY t.%s", c->qualified, quote_identifier(c->fields[c->pk].name));
}

/* Run query through a cursor, calling each(row) for every row */
static void
for_each_row(const char *query, void (*each) (HeapTuple, TupleDesc, void *), void *arg)
{
	SPIPlanPtr	plan = SPI_prepare(query, 0, NULL);
	Portal		portal;
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "milvus export rows",
												 ALLOCSET_DEFAULT_SIZES);

	if (plan == NULL)
		elog(ERROR, "could not prepare the export query: %s", SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, EXPORT_FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			MemoryContext old = MemoryContextSwitchTo(rowcxt);

			CHECK_FOR_INTERRUPTS();
			each(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, arg);
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(rowcxt);
}

/*
 * JSON
 */
typedef struct JsonOut
{
	FILE	   *fp;
	char	   *path;
	int64		n;
} JsonOut;

static void
json_row(HeapTuple tup, TupleDesc desc, void *arg)
{
	JsonOut    *out = arg;
	char	   *text = SPI_getvalue(tup, desc, 1);

	if (out->n++ > 0)
		write_out(out->fp, out->path, ",\n", 2);
	write_out(out->fp, out->path, text, strlen(text));
}

static void
export_json(MvCollection *c, const char *dir, List **files)
{
	JsonOut		out;
	char	   *expr = catalog_text(c, "SELECT milvus._entity_sql($1, '{*}', true)");

	out.path = psprintf("%s/%s.json", dir, c->collection_name);
	out.fp = open_out(out.path);
	out.n = 0;
	write_out(out.fp, out.path, "{\"rows\": [\n", 11);
	for_each_row(psprintf("SELECT (%s)::text %s", expr, row_source(c)), json_row, &out);
	write_out(out.fp, out.path, "\n]}\n", 4);
	close_out(out.fp, out.path);
	*files = lappend(*files, list_make1(out.path));
}

/*
 * CSV
 */
static void
csv_cell(StringInfo line, const char *value, bool isnull)
{
	if (isnull)
		return;
	if (value[0] == '\0' || strpbrk(value, ",\"\r\n") != NULL)
	{
		appendStringInfoChar(line, '"');
		for (const char *p = value; *p; p++)
		{
			if (*p == '"')
				appendStringInfoChar(line, '"');
			appendStringInfoChar(line, *p);
		}
		appendStringInfoChar(line, '"');
	}
	else
		appendStringInfoString(line, value);
}

static void
csv_row(HeapTuple tup, TupleDesc desc, void *arg)
{
	JsonOut    *out = arg;
	StringInfoData line;

	initStringInfo(&line);
	for (int i = 1; i <= desc->natts; i++)
	{
		char	   *v = SPI_getvalue(tup, desc, i);

		if (i > 1)
			appendStringInfoChar(&line, ',');
		csv_cell(&line, v ? v : "", v == NULL);
	}
	appendStringInfoChar(&line, '\n');
	write_out(out->fp, out->path, line.data, line.len);
}

static void
export_csv(MvCollection *c, const char *dir, List **files)
{
	JsonOut		out;
	StringInfoData header;
	char	   *exprs = catalog_text(c,
									 "SELECT string_agg(CASE WHEN f.data_type = 'VARCHAR'"
									 "   THEN format('t.%I', f.field_name) ELSE milvus._output_sql(f, 't') END"
									 "   || '::text', ', ' ORDER BY f.field_id)"
									 " || CASE WHEN ($1).enable_dynamic_field THEN ', t.\"$meta\"::text' ELSE '' END"
									 " FROM milvus.fields f"
									 " WHERE f.db_name = ($1).db_name AND f.collection_name = ($1).collection_name");

	out.path = psprintf("%s/%s.csv", dir, c->collection_name);
	out.fp = open_out(out.path);
	out.n = 0;
	initStringInfo(&header);
	for (int i = 0; i < c->nfields; i++)
	{
		if (i > 0)
			appendStringInfoChar(&header, ',');
		csv_cell(&header, c->fields[i].name, false);
	}
	appendStringInfoString(&header, c->dynamic_field ? ",$meta\n" : "\n");
	write_out(out.fp, out.path, header.data, header.len);
	for_each_row(psprintf("SELECT %s %s", exprs, row_source(c)), csv_row, &out);
	close_out(out.fp, out.path);
	*files = lappend(*files, list_make1(out.path));
}

/*
 * .npy
 */
typedef struct NpyColumn
{
	const MvCollField *f;		/* NULL: "$meta" */
	char	   *path;
	FILE	   *fp;
	char		descr[16];
	int			width;			/* bytes of one row */
	int			chars;			/* strings: characters a row */
} NpyColumn;

/* the dtype of each field type's values (a vector's elements), if any */
static const struct
{
	const char *descr;
	int			size;
}			npy_types[] = {
	[MV_TYPE_BOOL] = {"|b1", 1},
	[MV_TYPE_INT8] = {"|i1", 1},
	[MV_TYPE_INT16] = {"<i2", 2},
	[MV_TYPE_INT32] = {"<i4", 4},
	[MV_TYPE_INT64] = {"<i8", 8},
	[MV_TYPE_FLOAT] = {"<f4", 4},
	[MV_TYPE_DOUBLE] = {"<f8", 8},
	[MV_TYPE_FLOAT_VECTOR] = {"<f4", 4},
	[MV_TYPE_FLOAT16_VECTOR] = {"<f2", 2},
	[MV_TYPE_BINARY_VECTOR] = {"|u1", 1},
	[MV_TYPE_SPARSE_FLOAT_VECTOR] = {NULL, 0},
};

typedef struct NpyOut
{
	int			ncols;
	NpyColumn  *cols;
	char	   *buf;
} NpyOut;

static void
npy_header(NpyColumn *col, int64 rows)
{
	char	   *dict;
	int			pad;
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};

	if (col->f && (col->f->type == MV_TYPE_FLOAT_VECTOR || col->f->type == MV_TYPE_FLOAT16_VECTOR))
		dict = psprintf("{'descr': '%s', 'fortran_order': False, 'shape': (" INT64_FORMAT ", %d), }",
						col->descr, rows, col->f->dim);
	else if (col->f && col->f->type == MV_TYPE_BINARY_VECTOR)
		dict = psprintf("{'descr': '%s', 'fortran_order': False, 'shape': (" INT64_FORMAT ", %d), }",
						col->descr, rows, col->f->dim / 8);
	else
		dict = psprintf("{'descr': '%s', 'fortran_order': False, 'shape': (" INT64_FORMAT ",), }",
						col->descr, rows);
	pad = (64 - (10 + strlen(dict) + 1) % 64) % 64;
	dict = psprintf("%s%*s\n", dict, pad, "");
	pre[8] = strlen(dict) & 0xFF;
	pre[9] = (strlen(dict) >> 8) & 0xFF;
	write_out(col->fp, col->path, pre, 10);
	write_out(col->fp, col->path, dict, strlen(dict));
}

/* a string as width/4 UTF-32LE characters, zero-padded */
static void
put_utf32(char *dst, const char *s, int chars)
{
	unsigned char *utf8 = (unsigned char *) pg_server_to_any(s, strlen(s), PG_UTF8);
	int			n = 0;

	memset(dst, 0, chars * 4);
	while (*utf8 && n < chars)
	{
		pg_wchar	ch = utf8_to_unicode(utf8);
		uint32		v = ch;

		memcpy(dst + n * 4, &v, 4);
		utf8 += pg_utf_mblen(utf8);
		n++;
	}
}

/*
 * A scalar field's value as its dtype says: kind is the dtype's kind
 * character (b, i or f, descr[1]) and size its bytes.  INT8 is a smallint
 * column, written as one byte.
 */
static void
npy_scalar(char *buf, Datum d, char kind, int size)
{
	union
	{
		int8		i1;
		int16		i2;
		int32		i4;
		int64		i8;
		float4		f4;
		float8		f8;
	}			v;

	if (kind == 'b')
		v.i1 = DatumGetBool(d) ? 1 : 0;
	else if (kind == 'f' && size == 4)
		v.f4 = DatumGetFloat4(d);
	else if (kind == 'f' && size == 8)
		v.f8 = DatumGetFloat8(d);
	else if (kind == 'i' && size == 1)
		v.i1 = (int8) DatumGetInt16(d);
	else if (kind == 'i' && size == 2)
		v.i2 = DatumGetInt16(d);
	else if (kind == 'i' && size == 4)
		v.i4 = DatumGetInt32(d);
	else if (kind == 'i' && size == 8)
		v.i8 = DatumGetInt64(d);
	else
		elog(ERROR, "unexpected .npy element kind '%c' of %d bytes", kind, size);
	/* every member starts at the union's first byte */
	memcpy(buf, &v, size);
}

static void
npy_row(HeapTuple tup, TupleDesc desc, void *arg)
{
	NpyOut	   *out = arg;

	for (int i = 0; i < out->ncols; i++)
	{
		NpyColumn  *col = &out->cols[i];
		bool		isnull;
		Datum		d = SPI_getbinval(tup, desc, i + 1, &isnull);
		char	   *buf = out->buf;

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("field \"%s\" has NULL values, which a .npy file cannot hold",
							col->f ? col->f->name : "$meta"),
					 errhint("Export the collection as json or csv.")));
		if (col->f == NULL || col->f->type == MV_TYPE_VARCHAR || col->f->type == MV_TYPE_JSON)
		{
			char	   *s = col->f && col->f->type == MV_TYPE_VARCHAR ? TextDatumGetCString(d)
				: DatumGetCString(DirectFunctionCall1(jsonb_out, d));

			put_utf32(buf, s, col->chars);
		}
		else
			switch (col->f->type)
			{
				case MV_TYPE_FLOAT_VECTOR:
					memcpy(buf, DatumGetFloatVector(d)->x, col->width);
					break;
				case MV_TYPE_FLOAT16_VECTOR:
					memcpy(buf, DatumGetFloat16Vector(d)->x, col->width);
					break;
				case MV_TYPE_BINARY_VECTOR:
					memcpy(buf, DatumGetBinaryVector(d)->x, col->width);
					break;
				default:
					npy_scalar(buf, d, col->descr[1], col->width);
			}
		write_out(col->fp, col->path, buf, col->width);
	}
}

static void
export_npy(MvCollection *c, const char *dir, List **files)
{
	NpyOut		out;
	StringInfoData select,
				stats;
	List	   *group = NIL;
	int64		rows;
	int			maxwidth = 1;

	out.ncols = c->nfields + (c->dynamic_field ? 1 : 0);
	out.cols = palloc0(sizeof(NpyColumn) * out.ncols);
	initStringInfo(&select);
	initStringInfo(&stats);
	appendStringInfoString(&stats, "SELECT count(*)");
	for (int i = 0; i < out.ncols; i++)
	{
		NpyColumn  *col = &out.cols[i];
		const MvCollField *f = i < c->nfields ? &c->fields[i] : NULL;
		const char *name = f ? f->name : "$meta";
		const char *column = psprintf("t.%s", quote_identifier(name));

		col->f = f;
		col->path = psprintf("%s/%s.npy", dir, name);
		appendStringInfo(&select, "%s%s", i ? ", " : "", column);
		if (f == NULL || f->type == MV_TYPE_VARCHAR || f->type == MV_TYPE_JSON)
			appendStringInfo(&stats, ", coalesce(max(char_length(%s%s)), 0)", column,
							 f && f->type == MV_TYPE_VARCHAR ? "" : "::text");
		else
			appendStringInfoString(&stats, ", 0");
		if (f == NULL || f->type == MV_TYPE_VARCHAR || f->type == MV_TYPE_JSON)
			continue;
		if (npy_types[f->type].descr == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("field \"%s\" cannot be exported to a .npy file", f->name),
					 errhint("Export ARRAY and SPARSE_FLOAT_VECTOR fields as json or csv.")));
		strcpy(col->descr, npy_types[f->type].descr);
		col->width = npy_types[f->type].size *
			(f->type == MV_TYPE_FLOAT_VECTOR || f->type == MV_TYPE_FLOAT16_VECTOR ? f->dim
			 : f->type == MV_TYPE_BINARY_VECTOR ? f->dim / 8 : 1);
	}
	appendStringInfo(&stats, " FROM %s t", c->qualified);
	if (SPI_execute(stats.data, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not count the rows to export");
	rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &(bool) {false}));
	for (int i = 0; i < out.ncols; i++)
	{
		NpyColumn  *col = &out.cols[i];

		if (col->width == 0)
		{
			col->chars = Max(1, pg_strtoint32(SPI_getvalue(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, i + 2)));
			snprintf(col->descr, sizeof(col->descr), "<U%d", col->chars);
			col->width = 4 * col->chars;
		}
		maxwidth = Max(maxwidth, col->width);
		col->fp = open_out(col->path);
		npy_header(col, rows);
		group = lappend(group, col->path);
	}
	out.buf = palloc(maxwidth);
	for_each_row(psprintf("SELECT %s %s", select.data, row_source(c)), npy_row, &out);
	for (int i = 0; i < out.ncols; i++)
		close_out(out.cols[i].fp, out.cols[i].path);
	*files = lappend(*files, group);
}

/* files as bulk_insert takes them: a list of groups */
static Datum
files_json(List *groups)
{
	JsonbParseState *state = NULL;
	ListCell   *lc,
			   *lc2;
	JsonbValue *result;

	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	foreach(lc, groups)
	{
		pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		foreach(lc2, (List *) lfirst(lc))
		{
			JsonbValue	v;

			v.type = jbvString;
			v.val.string.val = lfirst(lc2);
			v.val.string.len = strlen(v.val.string.val);
			pushJsonbValue(&state, WJB_ELEM, &v);
		}
		pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	}
	result = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	return JsonbPGetDatum(JsonbValueToJsonb(result));
}

static Datum
export_collection(MvCollection *c, const char *dir, const char *format)
{
	List	   *files = NIL;
	MemoryContext caller = CurrentMemoryContext;
	Datum		result;
	ExportFormat fmt;

	if (pg_strcasecmp(format, "json") == 0)
		fmt = EXPORT_JSON;
	else if (pg_strcasecmp(format, "csv") == 0)
		fmt = EXPORT_CSV;
	else if (pg_strcasecmp(format, "npy") == 0 || pg_strcasecmp(format, "numpy") == 0)
		fmt = EXPORT_NPY;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown export format \"%s\"", format),
				 errhint("The formats are json, csv and npy.")));
	if (!is_absolute_path(dir))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("directory \"%s\" is not an absolute path", dir),
				 errdetail("export_collection writes files on the database server.")));
	if (MakePGDirectory(dir) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", dir)));
	SPI_connect();
	switch (fmt)
	{
		case EXPORT_JSON:
			export_json(c, dir, &files);
			break;
		case EXPORT_CSV:
			export_csv(c, dir, &files);
			break;
		case EXPORT_NPY:
			export_npy(c, dir, &files);
			break;
	}
	{
		MemoryContext old = MemoryContextSwitchTo(caller);

		result = files_json(files);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return result;
}

/* milvus.export_collection(collection_name, directory, format) */
Datum
milvus_export_collection(PG_FUNCTION_ARGS)
{
	MvCollection *c;
	volatile Datum result = (Datum) 0;

	if (!has_privs_of_role(GetUserId(), ROLE_PG_WRITE_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to export to files on the server"),
				 errdetail("Only roles with privileges of the \"pg_write_server_files\" role may, as for COPY TO a file.")));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("export_collection needs a collection_name, a directory and a format")));
	c = MvCollectionLookup(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_TRY();
	{
		result = export_collection(c, text_to_cstring(PG_GETARG_TEXT_PP(1)),
								   text_to_cstring(PG_GETARG_TEXT_PP(2)));
	}
	PG_FINALLY();
	{
		MvCollectionUnpin(c);
	}
	PG_END_TRY();
	PG_RETURN_DATUM(result);
}
