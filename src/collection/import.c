/*
 * import.c
 *		milvus.bulk_insert: rows from server files into a collection, in
 *		Milvus's import formats.
 *
 * files is Milvus's list: each element is one file or a list of files read
 * together.  A group of .npy files is column-based, one file per field named
 * after it (npy.c); a .json file is row-based ({"rows": [...]} or a bare
 * array of row objects); a .csv file has a header of field names and a row
 * per line, vectors and JSON written as JSON in their cells.  Rows go through
 * the same writer as milvus.insert (write.c), flushed every IMPORT_FLUSH_ROWS
 * rows so memory stays bounded, in the caller's transaction: an import is all
 * or nothing, and is recorded in milvus.import_tasks when it completes.
 * Errors carry a context line naming the file, the row and the field.
 *
 * Reading files on the server needs the privileges of pg_read_server_files,
 * as COPY FROM a file does.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>
#include <sys/stat.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "milvus/collection.h"
#include "milvus/half.h"
#include "milvus/vector.h"
#include "milvus/workers.h"

PG_FUNCTION_INFO_V1(milvus_bulk_insert);

#define IMPORT_FLUSH_ROWS	8192	/* rows per INSERT */
#define NPY_CHUNK_ROWS		1024	/* rows read from each file at a time, */
#define NPY_CHUNK_BYTES		(16 * 1024 * 1024)	/* fewer if a file's would pass this */

/* where an import is, for the error context */
typedef struct ImportPosition
{
	const char *file;
	int64		row;			/* 0-based, -1 before the first */
	const char *field;
	int64		bytes_done;		/* of the files, for the progress report */
	int64		rows_done;
} ImportPosition;

/* Write the staged rows if there are enough, and report the progress */
static void
import_flush(MvWriter *w, ImportPosition *pos, bool force)
{
	const int	index[] = {PROGRESS_COPY_BYTES_PROCESSED, PROGRESS_COPY_TUPLES_PROCESSED};
	int64		val[2];

	if (!force && MvWriterStaged(w) < IMPORT_FLUSH_ROWS)
		return;
	pos->rows_done += MvWriterFlush(w);
	val[0] = pos->bytes_done;
	val[1] = pos->rows_done;
	pgstat_progress_update_multi_param(2, index, val);
}

static void
import_context(void *arg)
{
	ImportPosition *pos = arg;

	if (pos->file == NULL)
		return;
	if (pos->row < 0)
		errcontext("bulk_insert file \"%s\"", pos->file);
	else if (pos->field)
		errcontext("bulk_insert file \"%s\", row %lld, field \"%s\"", pos->file,
				   (long long) pos->row, pos->field);
	else
		errcontext("bulk_insert file \"%s\", row %lld", pos->file, (long long) pos->row);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t		n = strlen(s),
				m = strlen(suffix);

	return n >= m && pg_strcasecmp(s + n - m, suffix) == 0;
}

static void
import_error(const char *msg, const char *detail) pg_attribute_noreturn();
static void
import_error(const char *msg, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
			 errmsg("%s", msg),
			 detail ? errdetail_internal("%s", detail) : 0));
}

/*
 * .npy groups
 */

/* UTF-32LE characters as a server-encoded string */
static char *
utf32_string(const char *p, int itemsize)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < itemsize / 4; i++)
	{
		uint32		ch;
		unsigned char utf8[8];

		memcpy(&ch, p + i * 4, 4);
		if (ch == 0)
			break;
		if (ch > 0x10FFFF || (ch >= 0xD800 && ch <= 0xDFFF))
			import_error("a string holds an invalid Unicode character", NULL);
		unicode_to_utf8(ch, utf8);
		appendBinaryStringInfo(&buf, (char *) utf8, pg_utf_mblen(utf8));
	}
	return pg_any_to_server(buf.data, buf.len, PG_UTF8);
}

static int64
read_int(const char *p, int size)
{
	switch (size)
	{
		case 1:
			return *(const int8 *) p;
		case 2:
			{
				int16		v;

				memcpy(&v, p, 2);
				return v;
			}
		case 4:
			{
				int32		v;

				memcpy(&v, p, 4);
				return v;
			}
		default:
			{
				int64		v;

				memcpy(&v, p, 8);
				return v;
			}
	}
}

static double
read_float(const char *p, int size)
{
	if (size == 2)
	{
		uint16		h;

		memcpy(&h, p, 2);
		return MvHalfToFloat(h);
	}
	if (size == 4)
	{
		float		v;

		memcpy(&v, p, 4);
		return v;
	}
	{
		double		v;

		memcpy(&v, p, 8);
		return v;
	}
}

static void
dtype_mismatch(const MvCollField *f, const MvNpyFile *nf, const char *wanted) pg_attribute_noreturn();
static void
dtype_mismatch(const MvCollField *f, const MvNpyFile *nf, const char *wanted)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("file \"%s\" does not hold field \"%s\"'s values", nf->path, f ? f->name : "$meta"),
			 errdetail("The field needs %s; the file has dtype kind '%c', %d bytes an element, %d dimension%s of %lld.",
					   wanted, nf->kind, nf->kind == 'U' ? nf->itemsize / 4 : nf->itemsize, nf->ndim,
					   nf->ndim == 1 ? "" : "s", (long long) nf->cols)));
}

/* Check that a file fits its field; dynamic is the "$meta" file */
static void
check_npy_field(const MvCollField *f, const MvNpyFile *nf)
{
	bool		ok;

	if (f == NULL || f->type == MV_TYPE_VARCHAR || f->type == MV_TYPE_JSON)
	{
		if (nf->kind != 'U' || nf->ndim != 1)
			dtype_mismatch(f, nf, "strings (dtype <U)");
		return;
	}
	switch (f->type)
	{
		case MV_TYPE_BOOL:
			ok = nf->kind == 'b' && nf->ndim == 1;
			if (!ok)
				dtype_mismatch(f, nf, "booleans (dtype ?)");
			break;
		case MV_TYPE_INT8:
		case MV_TYPE_INT16:
		case MV_TYPE_INT32:
		case MV_TYPE_INT64:
			ok = nf->kind == 'i' && nf->ndim == 1 &&
				(nf->itemsize == 1 || nf->itemsize == 2 || nf->itemsize == 4 || nf->itemsize == 8);
			if (!ok)
				dtype_mismatch(f, nf, "integers (dtype int8 to int64)");
			break;
		case MV_TYPE_FLOAT:
		case MV_TYPE_DOUBLE:
			ok = nf->kind == 'f' && nf->ndim == 1 && (nf->itemsize == 4 || nf->itemsize == 8);
			if (!ok)
				dtype_mismatch(f, nf, "floats (dtype float32 or float64)");
			break;
		case MV_TYPE_FLOAT_VECTOR:
		case MV_TYPE_FLOAT16_VECTOR:
			ok = nf->kind == 'f' && nf->ndim == 2 && nf->cols == f->dim &&
				(nf->itemsize == 2 || nf->itemsize == 4 || nf->itemsize == 8);
			if (!ok)
				dtype_mismatch(f, nf, psprintf("a (rows, %d) array of floats", f->dim));
			break;
		case MV_TYPE_BINARY_VECTOR:
			ok = nf->kind == 'u' && nf->itemsize == 1 && nf->ndim == 2 && nf->cols * 8 == f->dim;
			if (!ok)
				dtype_mismatch(f, nf, psprintf("a (rows, %d) array of uint8, 8 bits a byte", f->dim / 8));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("field \"%s\" cannot be imported from a .npy file", f->name),
					 errhint("Import ARRAY and SPARSE_FLOAT_VECTOR fields from JSON or CSV files.")));
	}
}

static Datum
float_vector_datum(const MvCollField *f, const MvNpyFile *nf, const char *p)
{
	FloatVector *v = MvFloatVectorAlloc(f->dim);

	for (int i = 0; i < f->dim; i++)
	{
		double		x = read_float(p + i * nf->itemsize, nf->itemsize);

		if (isnan(x) || isinf(x) || fabs(x) > FLT_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("element %d of the vector is %g, which a 4-byte float vector cannot hold", i, x)));
		v->x[i] = (float) x;
	}
	return PointerGetDatum(v);
}

static Datum
float16_vector_datum(const MvCollField *f, const MvNpyFile *nf, const char *p)
{
	Float16Vector *v = MvFloat16VectorAlloc(f->dim);

	for (int i = 0; i < f->dim; i++)
	{
		double		x = read_float(p + i * nf->itemsize, nf->itemsize);

		if (isnan(x) || isinf(x) || fabs(x) > MV_HALF_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("element %d of the vector is %g, which a half-precision vector cannot hold", i, x)));
		v->x[i] = MvFloatToHalf((float) x);
	}
	return PointerGetDatum(v);
}

/* one element of a .npy file as field f's Datum */
static Datum
npy_datum(const MvCollField *f, const MvNpyFile *nf, const char *p)
{
	static const int64 lo[] = {PG_INT8_MIN, PG_INT16_MIN, PG_INT32_MIN, PG_INT64_MIN};
	static const int64 hi[] = {PG_INT8_MAX, PG_INT16_MAX, PG_INT32_MAX, PG_INT64_MAX};
	int64		iv;
	double		dv;
	char	   *s;

	switch (f->type)
	{
		case MV_TYPE_BOOL:
			return BoolGetDatum(*p != 0);
		case MV_TYPE_INT8:
		case MV_TYPE_INT16:
		case MV_TYPE_INT32:
		case MV_TYPE_INT64:
			iv = read_int(p, nf->itemsize);
			if (iv < lo[f->type - MV_TYPE_INT8] || iv > hi[f->type - MV_TYPE_INT8])
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("value %lld is out of the range of field \"%s\"", (long long) iv, f->name)));
			if (f->type == MV_TYPE_INT64)
				return Int64GetDatum(iv);
			if (f->type == MV_TYPE_INT32)
				return Int32GetDatum((int32) iv);
			return Int16GetDatum((int16) iv);
		case MV_TYPE_FLOAT:
			dv = read_float(p, nf->itemsize);
			if (isnan(dv) || isinf(dv) || fabs(dv) > FLT_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("value %g is out of the range of field \"%s\"", dv, f->name)));
			return Float4GetDatum((float) dv);
		case MV_TYPE_DOUBLE:
			dv = read_float(p, nf->itemsize);
			if (isnan(dv) || isinf(dv))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("value %g is out of the range of field \"%s\"", dv, f->name)));
			return Float8GetDatum(dv);
		case MV_TYPE_VARCHAR:
			s = utf32_string(p, nf->itemsize);
			if (strlen(s) > f->max_length)
				ereport(ERROR,
						(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
						 errmsg("a string of %zu bytes is longer than field \"%s\"'s max_length %d",
								strlen(s), f->name, f->max_length)));
			return CStringGetTextDatum(s);
		case MV_TYPE_JSON:
			return DirectFunctionCall1(jsonb_in, CStringGetDatum(utf32_string(p, nf->itemsize)));
		case MV_TYPE_FLOAT_VECTOR:
			return float_vector_datum(f, nf, p);
		case MV_TYPE_FLOAT16_VECTOR:
			return float16_vector_datum(f, nf, p);
		case MV_TYPE_BINARY_VECTOR:
			{
				BinaryVector *v = MvBinaryVectorAlloc(f->dim);

				memcpy(v->x, p, f->dim / 8);
				return PointerGetDatum(v);
			}
		default:
			elog(ERROR, "unexpected field type %d", (int) f->type);
	}
	return (Datum) 0;
}

/* the field a .npy file is for: its name without directory and suffix */
static char *
npy_field_name(const char *path)
{
	const char *base = strrchr(path, '/');
	char	   *name = pstrdup(base ? base + 1 : path);

	name[strlen(name) - 4] = '\0';
	return name;
}

static void
import_npy_group(MvCollection *c, MvWriter *w, char **paths, int npaths, ImportPosition *pos)
{
	const int  *colfield;
	int			ncols = MvWriterColumns(w, &colfield);
	MvNpyFile  *files = palloc0(sizeof(MvNpyFile) * npaths);
	int		   *filecol = palloc(sizeof(int) * ncols);	/* file of each column, or -1 */
	char	  **bufs = palloc0(sizeof(char *) * npaths);
	int64		rows = -1;
	int64		chunk = NPY_CHUNK_ROWS;
	Datum	   *values = palloc(sizeof(Datum) * ncols);
	bool	   *nulls = palloc(sizeof(bool) * ncols);
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "milvus import row",
												 ALLOCSET_DEFAULT_SIZES);

	for (int col = 0; col < ncols; col++)
		filecol[col] = -1;
	for (int i = 0; i < npaths; i++)
	{
		char	   *name = npy_field_name(paths[i]);
		int			col = -1;

		pos->file = paths[i];
		pos->row = -1;
		MvNpyOpen(&files[i], paths[i]);
		for (int j = 0; j < ncols && col < 0; j++)
			if ((colfield[j] >= 0 && strcmp(c->fields[colfield[j]].name, name) == 0) ||
				(colfield[j] < 0 && strcmp(name, "$meta") == 0))
				col = j;
		if (col < 0)
		{
			for (int k = 0; k < c->nfields; k++)
				if (strcmp(c->fields[k].name, name) == 0 && c->fields[k].auto_id)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("file \"%s\" has values for primary field \"%s\", whose ids are generated",
									paths[i], name)));
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("file \"%s\" is for field \"%s\", which collection \"%s\" does not have",
							paths[i], name, c->collection_name),
					 errhint("A .npy file is named after its field: <field>.npy.")));
		}
		if (filecol[col] >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("two files are for field \"%s\"", name)));
		filecol[col] = i;
		check_npy_field(colfield[col] >= 0 ? &c->fields[colfield[col]] : NULL, &files[i]);
		if (rows >= 0 && files[i].rows != rows)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("file \"%s\" has %lld rows, file \"%s\" %lld", paths[i],
							(long long) files[i].rows, paths[0], (long long) rows),
					 errdetail("The files of a group hold the fields of the same rows.")));
		rows = files[i].rows;
		chunk = Min(chunk, Max(1, NPY_CHUNK_BYTES / files[i].row_bytes));
	}
	for (int i = 0; i < npaths; i++)
		bufs[i] = MemoryContextAllocHuge(CurrentMemoryContext, chunk * files[i].row_bytes);
	/* a field with no file must have a default or be nullable */
	for (int col = 0; col < ncols; col++)
		if (filecol[col] < 0 && colfield[col] >= 0)
		{
			MvCollField *f = &c->fields[colfield[col]];

			if (!f->has_default && !f->nullable)
				ereport(ERROR,
						(errcode(ERRCODE_NOT_NULL_VIOLATION),
						 errmsg("the files have no values for field \"%s\"", f->name),
						 errdetail("Field \"%s\" is not nullable and has no default value.", f->name),
						 errhint("Add a file %s.npy to the group.", f->name)));
		}

	for (int64 start = 0; start < rows; start += chunk)
	{
		int64		n = Min(chunk, rows - start);

		for (int i = 0; i < npaths; i++)
		{
			pos->file = paths[i];
			pos->row = start;
			MvNpyRead(&files[i], bufs[i], n);
		}
		for (int64 r = 0; r < n; r++)
		{
			MemoryContext old = MemoryContextSwitchTo(rowcxt);

			CHECK_FOR_INTERRUPTS();
			pos->row = start + r;
			for (int col = 0; col < ncols; col++)
			{
				int			i = filecol[col];
				const MvCollField *f = colfield[col] >= 0 ? &c->fields[colfield[col]] : NULL;

				pos->file = i >= 0 ? paths[i] : paths[0];
				pos->field = f ? f->name : "$meta";
				nulls[col] = false;
				if (i >= 0 && f == NULL)
					values[col] = DirectFunctionCall1(jsonb_in,
													  CStringGetDatum(utf32_string(bufs[i] + r * files[i].row_bytes,
																				   files[i].itemsize)));
				else if (i >= 0)
					values[col] = npy_datum(f, &files[i], bufs[i] + r * files[i].row_bytes);
				else if (f == NULL)
					values[col] = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
				else
					values[col] = MvJsonToDatum(f, NULL, start + r, &nulls[col], paths[0]);
			}
			pos->field = NULL;
			MvWriterAddValues(w, values, nulls);
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
			import_flush(w, pos, false);
		}
		for (int i = 0; i < npaths; i++)
			pos->bytes_done += n * files[i].row_bytes;
	}
	for (int i = 0; i < npaths; i++)
		MvNpyClose(&files[i]);
	MemoryContextDelete(rowcxt);
}

/*
 * .json files
 */
static char *
read_whole_file(const char *path)
{
	FILE	   *fp = AllocateFile(path, PG_BINARY_R);
	StringInfoData buf;
	char		chunk[65536];
	size_t		n;

	if (fp == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	initStringInfo(&buf);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
	{
		CHECK_FOR_INTERRUPTS();
		if ((Size) buf.len + n >= MaxAllocSize)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("file \"%s\" is larger than 1 GB", path),
					 errhint("Split it, or import the rows as .npy or .csv files, which are read a part at a time.")));
		appendBinaryStringInfo(&buf, chunk, n);
	}
	if (ferror(fp))
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not read file \"%s\": %m", path)));
	FreeFile(fp);
	return buf.data;
}

static void
import_json(MvWriter *w, const char *path, ImportPosition *pos)
{
	char	   *text = read_whole_file(path);
	Jsonb	   *doc = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
	JsonbContainer *rows = &doc->root;
	JsonbValue *found = NULL;
	JsonbIterator *it;
	JsonbValue	row;
	JsonbIteratorToken tok;
	int64		n = 0;

	pos->bytes_done += strlen(text);
	if (JsonContainerIsObject(rows))
	{
		JsonbValue	key;

		key.type = jbvString;
		key.val.string.val = "rows";
		key.val.string.len = 4;
		found = findJsonbValueFromContainer(rows, JB_FOBJECT, &key);
		if (found == NULL || found->type != jbvBinary || !JsonContainerIsArray(found->val.binary.data))
			import_error(psprintf("file \"%s\" has no \"rows\" array", path),
						 "A row-based JSON file is {\"rows\": [{...}, ...]} or an array of row objects.");
		rows = found->val.binary.data;
	}
	else if (!JsonContainerIsArray(rows) || JsonContainerIsScalar(rows))
		import_error(psprintf("file \"%s\" is not an array of rows", path),
					 "A row-based JSON file is {\"rows\": [{...}, ...]} or an array of row objects.");
	it = JsonbIteratorInit(rows);
	while ((tok = JsonbIteratorNext(&it, &row, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		CHECK_FOR_INTERRUPTS();
		pos->row = n;
		MvWriterAddJson(w, &row, n++, path);
		import_flush(w, pos, false);
	}
}

/*
 * .csv files: RFC 4180, a header of field names
 */
typedef struct CsvReader
{
	FILE	   *fp;
	StringInfoData line;
	char	  **cells;
	bool	   *quoted;
	int			ncells;
	int			maxcells;
} CsvReader;

/* the next record's cells; false at the end of the file */
static bool
csv_next(CsvReader *r, const char *path)
{
	int			ch;
	bool		inquote = false,
				any = false;
	StringInfoData cell;

	r->ncells = 0;
	initStringInfo(&cell);
	if (r->maxcells == 0)
	{
		r->maxcells = 16;
		r->cells = palloc(sizeof(char *) * r->maxcells);
		r->quoted = palloc(sizeof(bool) * r->maxcells);
	}
	r->quoted[0] = false;
	while ((ch = getc(r->fp)) != EOF)
	{
		any = true;
		if (inquote)
		{
			if (ch == '"')
			{
				int			next = getc(r->fp);

				if (next == '"')
					appendStringInfoChar(&cell, '"');
				else
				{
					inquote = false;
					if (next != EOF)
						ungetc(next, r->fp);
				}
			}
			else
				appendStringInfoChar(&cell, ch);
			continue;
		}
		if (ch == '"' && cell.len == 0)
		{
			inquote = true;
			r->quoted[r->ncells] = true;
		}
		else if (ch == ',' || ch == '\n')
		{
			if (r->ncells + 1 >= r->maxcells)
			{
				r->maxcells *= 2;
				r->cells = repalloc(r->cells, sizeof(char *) * r->maxcells);
				r->quoted = repalloc(r->quoted, sizeof(bool) * r->maxcells);
			}
			if (cell.len > 0 && cell.data[cell.len - 1] == '\r' && ch == '\n')
				cell.data[--cell.len] = '\0';
			r->cells[r->ncells++] = cell.data;
			initStringInfo(&cell);
			r->quoted[r->ncells] = false;
			if (ch == '\n')
				return true;
		}
		else
			appendStringInfoChar(&cell, ch);
	}
	if (inquote)
		import_error(psprintf("file \"%s\" ends inside a quoted value", path), NULL);
	if (ferror(r->fp))
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not read file \"%s\": %m", path)));
	if (!any || (r->ncells == 0 && cell.len == 0))
		return false;
	r->cells[r->ncells++] = cell.data;
	return true;
}

static void
import_csv(MvCollection *c, MvWriter *w, const char *path, ImportPosition *pos)
{
	CsvReader	r = {0};
	char	  **header;
	int			ncols;
	int		   *field;
	int64		n = 0;
	int64		bytes_before = pos->bytes_done;
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "milvus import row",
												 ALLOCSET_DEFAULT_SIZES);

	r.fp = AllocateFile(path, PG_BINARY_R);
	if (r.fp == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	if (!csv_next(&r, path))
		import_error(psprintf("file \"%s\" is empty", path), "A CSV file starts with a header of field names.");
	ncols = r.ncells;
	header = palloc(sizeof(char *) * ncols);
	field = palloc(sizeof(int) * ncols);
	for (int j = 0; j < ncols; j++)
	{
		header[j] = r.cells[j];
		field[j] = -1;
		for (int i = 0; i < c->nfields; i++)
			if (strcmp(c->fields[i].name, header[j]) == 0)
				field[j] = i;
		if (field[j] < 0 && strcmp(header[j], "$meta") != 0 && !c->dynamic_field)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of file \"%s\" is no field of collection \"%s\"",
							header[j], path, c->collection_name)));
	}
	while (csv_next(&r, path))
	{
		MemoryContext old = MemoryContextSwitchTo(rowcxt);
		JsonbParseState *state = NULL;
		JsonbValue	row;
		JsonbValue *obj;

		CHECK_FOR_INTERRUPTS();
		pos->row = n;
		if (r.ncells == 1 && r.cells[0][0] == '\0' && !r.quoted[0])
		{
			MemoryContextSwitchTo(old);
			continue;			/* an empty line */
		}
		if (r.ncells != ncols)
			import_error(psprintf("row %lld of file \"%s\" has %d values, its header %d",
								  (long long) n, path, r.ncells, ncols), NULL);
		pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		for (int j = 0; j < ncols; j++)
		{
			JsonbValue	key,
						val;
			const MvCollField *f = field[j] >= 0 ? &c->fields[field[j]] : NULL;

			if (r.cells[j][0] == '\0' && !r.quoted[j])
				continue;		/* an empty cell: no value */
			pos->field = header[j];
			if (f == NULL && strcmp(header[j], "$meta") == 0)
			{
				/* the dynamic field's keys join the row */
				Jsonb	   *meta = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(r.cells[j])));
				JsonbIterator *it = JsonbIteratorInit(&meta->root);
				JsonbIteratorToken tok;

				if (!JsonContainerIsObject(&meta->root))
					import_error("the $meta column holds a JSON object", NULL);
				while ((tok = JsonbIteratorNext(&it, &val, true)) != WJB_DONE)
					if (tok == WJB_KEY || tok == WJB_VALUE)
						pushJsonbValue(&state, tok, &val);
				continue;
			}
			key.type = jbvString;
			key.val.string.val = header[j];
			key.val.string.len = strlen(header[j]);
			if (f == NULL || f->type == MV_TYPE_VARCHAR)
			{
				val.type = jbvString;
				val.val.string.val = r.cells[j];
				val.val.string.len = strlen(r.cells[j]);
			}
			else
			{
				Jsonb	   *j2 = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(r.cells[j])));

				if (!JsonbExtractScalar(&j2->root, &val))
				{
					val.type = jbvBinary;
					val.val.binary.data = &j2->root;
					val.val.binary.len = VARSIZE(j2) - VARHDRSZ;
				}
			}
			pushJsonbValue(&state, WJB_KEY, &key);
			pushJsonbValue(&state, WJB_VALUE, &val);
		}
		pos->field = NULL;
		obj = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
		row.type = jbvBinary;
		{
			Jsonb	   *j = JsonbValueToJsonb(obj);

			row.val.binary.data = &j->root;
			row.val.binary.len = VARSIZE(j) - VARHDRSZ;
		}
		MvWriterAddJson(w, &row, n++, path);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
		if (MvWriterStaged(w) >= IMPORT_FLUSH_ROWS)
		{
			pos->bytes_done = bytes_before + ftello(r.fp);
			import_flush(w, pos, true);
		}
	}
	pos->bytes_done = bytes_before + ftello(r.fp);
	FreeFile(r.fp);
	MemoryContextDelete(rowcxt);
}

/*
 * The call
 */

/* files as groups of paths: [a, [b, c]] is the groups [a] and [b, c] */
static List *
file_groups(Jsonb *files)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	List	   *groups = NIL;
	List	   *current = NIL;
	int			depth = 0;

	if (!JsonContainerIsArray(&files->root) || JsonContainerIsScalar(&files->root) ||
		JsonContainerSize(&files->root) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("files must be a non-empty JSON array of file paths"),
				 errhint("As Milvus: [\"rows.json\"], or [[\"id.npy\", \"vector.npy\"]] for a group of .npy files.")));
	it = JsonbIteratorInit(&files->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if (tok == WJB_BEGIN_ARRAY)
		{
			if (++depth > 2)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("files nests arrays deeper than a list of groups")));
			continue;
		}
		if (tok == WJB_END_ARRAY)
		{
			if (depth-- == 2 && current != NIL)
			{
				groups = lappend(groups, current);
				current = NIL;
			}
			continue;
		}
		if (tok != WJB_ELEM)
			continue;
		if (v.type != jbvString || v.val.string.len == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a file in files is not a path string")));
		if (depth == 1)
			groups = lappend(groups, list_make1(pnstrdup(v.val.string.val, v.val.string.len)));
		else
			current = lappend(current, pnstrdup(v.val.string.val, v.val.string.len));
	}
	/* a flat list of .npy files is one group, as Milvus's do_bulk_insert takes it */
	if (list_length(groups) > 1)
	{
		ListCell   *lc;
		bool		all_npy = true;

		foreach(lc, groups)
			all_npy &= list_length(lfirst(lc)) == 1 && ends_with(linitial(lfirst(lc)), ".npy");
		if (all_npy && JsonbIteratorNext(&it, &v, false) == WJB_DONE)
		{
			List	   *one = NIL;

			foreach(lc, groups)
				one = lappend(one, linitial(lfirst(lc)));
			groups = list_make1(one);
		}
	}
	return groups;
}

static void
import_group(MvCollection *c, MvWriter *w, List *group, ImportPosition *pos)
{
	int			n = list_length(group);
	char	  **paths = palloc(sizeof(char *) * n);
	int			npy = 0;

	for (int i = 0; i < n; i++)
	{
		paths[i] = list_nth(group, i);
		if (!is_absolute_path(paths[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("file \"%s\" is not an absolute path", paths[i]),
					 errdetail("bulk_insert reads files on the database server.")));
		npy += ends_with(paths[i], ".npy");
	}
	if (npy == n)
	{
		import_npy_group(c, w, paths, n, pos);
		return;
	}
	if (n > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a group of several files must be .npy files"),
				 errdetail("A .json or .csv file holds whole rows and stands alone.")));
	pos->file = paths[0];
	pos->row = -1;
	if (ends_with(paths[0], ".json"))
		import_json(w, paths[0], pos);
	else if (ends_with(paths[0], ".csv"))
		import_csv(c, w, paths[0], pos);
	else
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("file \"%s\" is not a .json, .npy or .csv file", paths[0]),
				 errhint("The format is chosen by the file's suffix.")));
}

/* Record a task; return its id */
static int64
record_task(MvCollection *c, text *partition_name, Jsonb *files, const char *state, int64 rows)
{
	Oid			types[6] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID, INT8OID};
	Datum		args[6];
	char		nulls[6] = {' ', ' ', partition_name ? ' ' : 'n', ' ', ' ', ' '};
	bool		isnull;
	int64		id;

	args[0] = CStringGetTextDatum(c->db_name);
	args[1] = CStringGetTextDatum(c->collection_name);
	args[2] = PointerGetDatum(partition_name);
	args[3] = JsonbPGetDatum(files);
	args[4] = CStringGetTextDatum(state);
	args[5] = Int64GetDatum(rows);
	SPI_connect();
	if (SPI_execute_with_args("INSERT INTO milvus.import_tasks (db_name, collection_name, partition_name,"
							  " files, state, row_count, progress, finished_at)"
							  " VALUES ($1, $2, $3, $4, $5, $6, CASE $5 WHEN 'Completed' THEN 100 ELSE 0 END,"
							  " CASE $5 WHEN 'Completed' THEN clock_timestamp() END)"
							  " RETURNING task_id", 6, types, args, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not record the import task");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}

/* the total size of the files, for the progress report */
static int64
files_size(List *groups)
{
	ListCell   *lc,
			   *lc2;
	int64		total = 0;

	foreach(lc, groups)
		foreach(lc2, (List *) lfirst(lc))
	{
		struct stat st;

		if (stat((char *) lfirst(lc2), &st) == 0)
			total += st.st_size;
	}
	return total;
}

/* Import the files' rows into c; return how many */
static int64
import_files(MvCollection *c, text *partition_name, Jsonb *files)
{
	List	   *groups = file_groups(files);
	MvWriter   *w = MvWriterBegin(c, partition_name, false, false);
	ImportPosition pos = {NULL, -1, NULL, 0, 0};
	ErrorContextCallback errcb;
	ListCell   *lc;
	int64		rows;
	const int	index[] = {PROGRESS_COPY_COMMAND, PROGRESS_COPY_TYPE, PROGRESS_COPY_BYTES_TOTAL};
	int64		val[3];

	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, c->relid);
	val[0] = PROGRESS_COPY_COMMAND_FROM;
	val[1] = PROGRESS_COPY_TYPE_FILE;
	val[2] = files_size(groups);
	pgstat_progress_update_multi_param(3, index, val);
	errcb.callback = import_context;
	errcb.arg = &pos;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	foreach(lc, groups)
		import_group(c, w, lfirst(lc), &pos);
	pos.file = NULL;
	import_flush(w, &pos, true);
	rows = MvWriterEnd(w, NULL);
	error_context_stack = errcb.previous;
	pgstat_progress_end_command();
	return rows;
}

static bool
may_read_server_files(void)
{
	return has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES);
}

static void
check_privilege(void)
{
	if (!may_read_server_files())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to import from files on the server"),
				 errdetail("Only roles with privileges of the \"pg_read_server_files\" role may, as for COPY FROM a file."),
				 errhint("milvus.insert() takes rows from the client.")));
}

static uint64 task_statement(const char *sql, int64 task_id, const char *text_arg);

/* Start or run a task for c; return its id */
static int64
bulk_insert(MvCollection *c, text *partition_name, Jsonb *files)
{
	int64		id;

	/* (checked before any file is touched, and again by the worker) */
	file_groups(files);
	if (!MvImportInBackground)
		return record_task(c, partition_name, files, "Completed", import_files(c, partition_name, files));
	id = record_task(c, partition_name, files, "Pending", 0);
	if (MvImportWorkerStart(id, GetTopTransactionId()))
		return id;
	/* no worker slot: the task runs here, as with the setting off */
	ereport(NOTICE,
			(errmsg("no background worker slot is free: importing in this session"),
			 errhint("Raise max_worker_processes to import in the background.")));
	task_statement("UPDATE milvus.import_tasks SET state = 'Completed', row_count = $2::bigint,"
				   " progress = 100, finished_at = clock_timestamp() WHERE task_id = $1", id,
				   psprintf(INT64_FORMAT, import_files(c, partition_name, files)));
	return id;
}

/* milvus.bulk_insert(collection_name, files, partition_name) */
Datum
milvus_bulk_insert(PG_FUNCTION_ARGS)
{
	MvCollection *c;
	volatile int64 id = 0;

	check_privilege();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("bulk_insert needs a collection_name and files")));
	c = MvCollectionLookup(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_TRY();
	{
		id = bulk_insert(c, PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_P(2), PG_GETARG_JSONB_P(1));
	}
	PG_FINALLY();
	{
		MvCollectionUnpin(c);
	}
	PG_END_TRY();
	PG_RETURN_INT64(id);
}

/* The import worker's side */

/* run one statement about a task; return the rows it touched */
static uint64
task_statement(const char *sql, int64 task_id, const char *text_arg)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		args[2] = {Int64GetDatum(task_id), text_arg ? CStringGetTextDatum(text_arg) : 0};
	uint64		n;

	SPI_connect();
	if (SPI_execute_with_args(sql, text_arg ? 2 : 1, types, args, NULL, false, 0) < 0)
		elog(ERROR, "could not update import task " INT64_FORMAT, task_id);
	n = SPI_processed;
	SPI_finish();
	return n;
}

bool
MvImportTaskStart(int64 task_id)
{
	return task_statement("UPDATE milvus.import_tasks SET state = 'Importing', worker_pid = pg_backend_pid()"
						  " WHERE task_id = $1 AND state = 'Pending'", task_id, NULL) == 1;
}

void
MvImportTaskFailed(int64 task_id, const char *reason)
{
	task_statement("UPDATE milvus.import_tasks SET state = 'Failed', reason = $2, finished_at = clock_timestamp()"
				   " WHERE task_id = $1", task_id, reason);
}

void
MvImportTaskRun(int64 task_id)
{
	Oid			type = INT8OID;
	Datum		arg = Int64GetDatum(task_id);
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	char	   *db,
			   *name;
	Datum		part;
	Jsonb	   *files;
	MvCollection *c;
	volatile int64 rows = 0;
	MemoryContext cxt = CurrentMemoryContext;

	/* the worker runs as the caller's role, so it has the caller's rights */
	check_privilege();
	SPI_connect();
	if (SPI_execute_with_args("SELECT db_name, collection_name, partition_name, files"
							  " FROM milvus.import_tasks WHERE task_id = $1",
							  1, &type, &arg, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "import task " INT64_FORMAT " is gone", task_id);
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		db = SPI_getvalue(tup, desc, 1);
		name = SPI_getvalue(tup, desc, 2);
		part = SPI_getbinval(tup, desc, 3, &isnull);
		part = isnull ? (Datum) 0 : PointerGetDatum(DatumGetTextPCopy(part));
		files = DatumGetJsonbPCopy(SPI_getbinval(tup, desc, 4, &isnull));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	SetConfigOption("milvus.collection_database", db, PGC_USERSET, PGC_S_SESSION);
	c = MvCollectionLookup(name);
	PG_TRY();
	{
		rows = import_files(c, part ? DatumGetTextPP(part) : NULL, files);
	}
	PG_FINALLY();
	{
		MvCollectionUnpin(c);
	}
	PG_END_TRY();
	SPI_connect();
	{
		Oid			types[2] = {INT8OID, INT8OID};
		Datum		args[2] = {Int64GetDatum(task_id), Int64GetDatum(rows)};

		if (SPI_execute_with_args("UPDATE milvus.import_tasks SET state = 'Completed', row_count = $2,"
								  " progress = 100, finished_at = clock_timestamp() WHERE task_id = $1",
								  2, types, args, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not complete import task " INT64_FORMAT, task_id);
	}
	SPI_finish();
}
