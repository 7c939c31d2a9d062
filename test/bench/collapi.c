/*
 * collapi.c
 *		--collection-api: the collection API's data path against plain SQL.
 *
 * On one connection, with synthetic vectors (dataset.c's synthetic:ROWS:DIM,
 * fixed seed), four measurements; each is repeated --repeat times, and the
 * things compared alternate within a repetition (their order rotating from
 * one repetition to the next), so the noise of a shared machine falls on
 * every side alike.  The report gives min / median / max per figure.
 *
 *  1. Batches: milvus.insert of --collection-batch rows a call into a fresh
 *     collection (create_collection's quick form), against a typed INSERT ...
 *     SELECT FROM unnest($1::bigint[], $2::floatvector[]) of the same batches
 *     into another fresh collection's table, and one COPY BINARY of all rows
 *     for reference; rows/s.
 *  2. Single rows: milvus.insert of one row object a call against a plain
 *     single-row INSERT, both prepared, alternating call by call; ms a call.
 *  3. Search: milvus.search of one query vector on a collection with an HNSW
 *     index made by milvus.create_index, loaded, against the prepared ORDER
 *     BY ... LIMIT on its table, alternating; and one call with 10 vectors
 *     against the same 10 vectors as single calls.
 *  4. Bulk import: milvus.bulk_insert of .npy files the tool writes, polled
 *     with milvus.get_import_state; skipped when the server has no such
 *     function.
 *
 * Every value reaches the server as a parameter (the typed paths' in binary);
 * the one name spliced into SQL, a collection's table, is quoted with
 * PQescapeIdentifier.  The JSON and binary parameters are made before the
 * clock starts, so a figure is the server's work plus the round trip.  One
 * CSV row per figure and repetition; a table of min / median / max at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define CAPI_MAX_FIGURES	64
#define CAPI_GROUP			10	/* query vectors in one search call (item 3) */
#define CAPI_INT8_OID		20	/* pg_type's int8, fixed in the catalog */
#define CAPI_COPY_CHUNK		(1024 * 1024)
#define CAPI_HNSW_PARAMS	"{\"M\": 16, \"efConstruction\": 64}"
#define CAPI_NPY_SEED		UINT64_C(20240602)
#define CAPI_NPY_CHUNK		4096	/* .npy rows generated and written at a time */
#define CAPI_POLL_US		20000	/* get_import_state every 20 ms */
#define CAPI_IMPORT_TIMEOUT_S 3600.0

/* The collections the measurements make and drop. */
#define CAPI_BATCH_COLLECTION	"mvbench_capi_batch"
#define CAPI_ROW_API_COLLECTION	"mvbench_capi_row_api"
#define CAPI_ROW_SQL_COLLECTION	"mvbench_capi_row_sql"
#define CAPI_SEARCH_COLLECTION	"mvbench_capi_search"
#define CAPI_BULK_COLLECTION	"mvbench_capi_bulk"

/* data as an untyped parameter, as drivers send text: the text form of milvus.insert */
#define CAPI_INSERT_SQL		"SELECT insert_count FROM milvus.insert($1, $2)"
/* data as jsonb: the jsonb form */
#define CAPI_INSERT_JSONB_SQL	"SELECT insert_count FROM milvus.insert($1, $2::jsonb)"

/* A growable byte buffer: JSON text, binary parameters, COPY data. */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

/* One figure of the report: a value per repetition. */
typedef struct CapiFigure
{
	char		item[4];
	char		name[96];
	char		unit[8];
	double		v[BENCH_MAX_REPEAT];
	int			n;
} CapiFigure;

/* The rows of items 1 and 3, in every form they are sent in. */
typedef struct CapiBatches
{
	int			n;				/* batches */
	int		   *rows;			/* rows in each */
	char	  **json;			/* milvus.insert's data: an array of row objects */
	Buf		   *ids;			/* binary bigint[] */
	Buf		   *vectors;		/* binary floatvector[] */
	Buf			copy;			/* COPY BINARY of all the rows */
} CapiBatches;

typedef struct CapiRun
{
	PGconn	   *conn;
	const BenchCollectionSpec *spec;
	BenchDataset ds;
	Oid			floatvector_oid;
	const char *metric;			/* Milvus's name of --metric */
	const char *op;				/* its operator */
	CapiBatches batches;
	FILE	   *csv;
	CapiFigure	figures[CAPI_MAX_FIGURES];
	int			nfigures;
	char		skipped[256];	/* item 4's reason for not running, or "" */
} CapiRun;

static void
buf_put(Buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap)
	{
		b->cap = (b->len + n) * 2 + 256;
		b->data = realloc(b->data, b->cap);
		if (b->data == NULL)
			bench_fatal("out of memory");
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
buf_put_be16(Buf *b, uint16_t v)
{
	v = htons(v);
	buf_put(b, &v, 2);
}

static void
buf_put_be32(Buf *b, uint32_t v)
{
	v = htonl(v);
	buf_put(b, &v, 4);
}

static void
buf_put_be64(Buf *b, uint64_t v)
{
	buf_put_be32(b, (uint32_t) (v >> 32));
	buf_put_be32(b, (uint32_t) v);
}

/* Append formatted text, keeping a terminating NUL past len. */
static void __attribute__((format(printf, 2, 3)))
buf_printf(Buf *b, const char *fmt,...)
{
	va_list		ap;
	char		small[256];
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if ((size_t) n < sizeof(small))
		buf_put(b, small, n + 1);
	else
	{
		char	   *big = bench_malloc(n + 1);

		va_start(ap, fmt);
		vsnprintf(big, n + 1, fmt, ap);
		va_end(ap);
		buf_put(b, big, n + 1);
		free(big);
	}
	b->len--;					/* the NUL stays, overwritten by the next append */
}

/* A vector as JSON, "[x,...]", each float with the digits that give it back exactly. */
static void
buf_json_vector(Buf *b, const float *x, int dim)
{
	buf_printf(b, "[");
	for (int j = 0; j < dim; j++)
		buf_printf(b, j ? ",%.9g" : "%.9g", x[j]);
	buf_printf(b, "]");
}

/* A floatvector in binary as an array element or COPY field: length, dim, floats. */
static void
buf_put_vector(Buf *b, const float *x, int dim)
{
	buf_put_be32(b, 4 + 4 * (uint32_t) dim);
	buf_put_be32(b, (uint32_t) dim);
	for (int j = 0; j < dim; j++)
	{
		uint32_t	bits;

		memcpy(&bits, &x[j], 4);
		buf_put_be32(b, bits);
	}
}

/* The header of a one-dimensional array of n elements in binary (array_recv). */
static void
buf_put_array_header(Buf *b, Oid elemtype, int n)
{
	buf_put_be32(b, 1);			/* dimensions */
	buf_put_be32(b, 0);			/* no NULLs */
	buf_put_be32(b, elemtype);
	buf_put_be32(b, (uint32_t) n);
	buf_put_be32(b, 1);			/* lower bound */
}

/* Record one repetition's value of a figure, and its CSV row. */
static void
figure_add(CapiRun *run, const char *item, const char *name, const char *unit, int rep,
		   double v)
{
	CapiFigure *f = NULL;

	for (int i = 0; i < run->nfigures && f == NULL; i++)
		if (strcmp(run->figures[i].item, item) == 0 && strcmp(run->figures[i].name, name) == 0)
			f = &run->figures[i];
	if (f == NULL)
	{
		if (run->nfigures == CAPI_MAX_FIGURES)
			bench_fatal("too many figures");
		f = &run->figures[run->nfigures++];
		snprintf(f->item, sizeof(f->item), "%s", item);
		snprintf(f->name, sizeof(f->name), "%s", name);
		snprintf(f->unit, sizeof(f->unit), "%s", unit);
		for (int r = 0; r < BENCH_MAX_REPEAT; r++)
			f->v[r] = NAN;
	}
	f->v[rep] = v;
	if (f->n < rep + 1)
		f->n = rep + 1;
	fprintf(run->csv, "%s,\"%s\",%s,%d,", item, name, unit, rep + 1);
	if (!isnan(v))
		fprintf(run->csv, "%.6g", v);
	fputc('\n', run->csv);
	fflush(run->csv);
}

/* Mean, p50 and p99 of one repetition's call latencies (seconds) as figures in ms; returns the mean. */
static double
latency_figures(CapiRun *run, const char *item, const char *name, int rep, double *secs, int n)
{
	char		label[96];
	double		sum = 0;

	for (int i = 0; i < n; i++)
		sum += secs[i];
	bench_sort_doubles(secs, n);
	snprintf(label, sizeof(label), "%s: mean", name);
	figure_add(run, item, label, "ms", rep, 1000 * sum / n);
	snprintf(label, sizeof(label), "%s: p50", name);
	figure_add(run, item, label, "ms", rep, 1000 * bench_percentile(secs, n, 0.50));
	snprintf(label, sizeof(label), "%s: p99", name);
	figure_add(run, item, label, "ms", rep, 1000 * bench_percentile(secs, n, 0.99));
	return sum / n;
}

/* Run a statement with parameters (text unless formats says otherwise); exit on an error. */
static PGresult *
exec_params(PGconn *conn, const char *sql, int n, const char *const *values,
			const int *lengths, const int *formats, ExecStatusType expect)
{
	PGresult   *res = PQexecParams(conn, sql, n, NULL, values, lengths, formats, 0);

	if (PQresultStatus(res) != expect)
		bench_fatal("query failed: %s\nquery was: %.200s", PQerrorMessage(conn), sql);
	return res;
}

/* Run a prepared statement; returns the seconds it took and, when wanted, its result. */
static double
timed_prepared(PGconn *conn, const char *stmt, int n, const char *const *values,
			   const int *lengths, const int *formats, ExecStatusType expect, PGresult **out)
{
	double		start = bench_now();
	PGresult   *res = PQexecPrepared(conn, stmt, n, values, lengths, formats, 0);
	double		secs = bench_now() - start;

	if (PQresultStatus(res) != expect)
		bench_fatal("statement %s failed: %s", stmt, PQerrorMessage(conn));
	if (out)
		*out = res;
	else
		PQclear(res);
	return secs;
}

static void
prepare_or_die(PGconn *conn, const char *stmt, const char *sql)
{
	PGresult   *res = PQprepare(conn, stmt, sql, 0, NULL);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		bench_fatal("could not prepare %s: %s\nquery was: %.200s", stmt, PQerrorMessage(conn), sql);
	PQclear(res);
}

static void
deallocate(PGconn *conn, const char *stmt)
{
	char		sql[128];

	snprintf(sql, sizeof(sql), "DEALLOCATE %s", stmt);
	bench_exec_or_die(conn, sql);
}

/* A query's single value as a number; exit on an error. */
static double
query_number(PGconn *conn, const char *sql, const char *param)
{
	const char *values[1] = {param};
	PGresult   *res = exec_params(conn, sql, param ? 1 : 0, values, NULL, NULL, PGRES_TUPLES_OK);
	double		v = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ?
		strtod(PQgetvalue(res, 0, 0), NULL) : NAN;

	PQclear(res);
	return v;
}

/* Call a collection function whose result does not matter: SELECT <call>, text parameters. */
static void
api_call(PGconn *conn, const char *call, int n, const char *const *values)
{
	PQclear(exec_params(conn, call, n, values, NULL, NULL, PGRES_TUPLES_OK));
}

static void
collection_drop(CapiRun *run, const char *name)
{
	const char *values[1] = {name};

	api_call(run->conn, "SELECT milvus.drop_collection($1)", 1, values);
}

/*
 * Make an empty collection with create_collection's quick form (INT64 "id",
 * FLOAT_VECTOR "vector", --metric), dropping one of that name first; its
 * table's quoted name goes to table.
 */
static void
collection_create(CapiRun *run, const char *name, char *table, size_t len)
{
	char		dim[16];
	const char *create[3] = {name, dim, run->metric};
	PGresult   *res;
	char	   *schema;
	char	   *rel;

	collection_drop(run, name);
	snprintf(dim, sizeof(dim), "%d", run->spec->dim);
	api_call(run->conn, "SELECT milvus.create_collection(collection_name => $1, "
			 "dimension => $2::int, metric_type => $3)", 3, create);
	res = exec_params(run->conn,
					  "SELECT n.nspname, c.relname FROM pg_class c "
					  "JOIN pg_namespace n ON n.oid = c.relnamespace "
					  "WHERE c.oid = (milvus.describe_collection($1) ->> 'table')::regclass",
					  1, create, NULL, NULL, PGRES_TUPLES_OK);
	if (PQntuples(res) != 1)
		bench_fatal("collection \"%s\" has no table", name);
	schema = PQescapeIdentifier(run->conn, PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
	rel = PQescapeIdentifier(run->conn, PQgetvalue(res, 0, 1), strlen(PQgetvalue(res, 0, 1)));
	if (schema == NULL || rel == NULL)
		bench_fatal("could not quote the table of \"%s\": %s", name, PQerrorMessage(run->conn));
	snprintf(table, len, "%s.%s", schema, rel);
	PQfreemem(schema);
	PQfreemem(rel);
	PQclear(res);
}

/* Check that table holds n rows. */
static void
check_rows(CapiRun *run, const char *table, double n, const char *what)
{
	char		sql[512];
	double		got;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	got = query_number(run->conn, sql, NULL);
	if (got != n)
		bench_fatal("%s left %.0f rows, expected %.0f", what, got, n);
}

/* Cut the data set's rows into batches and make every form they are sent in. */
static void
batches_make(CapiRun *run)
{
	CapiBatches *b = &run->batches;
	const BenchDataset *ds = &run->ds;
	int			size = run->spec->batch;
	static const char copy_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

	b->n = (int) ((ds->nbase + size - 1) / size);
	b->rows = bench_calloc(b->n, sizeof(int));
	b->json = bench_calloc(b->n, sizeof(char *));
	b->ids = bench_calloc(b->n, sizeof(Buf));
	b->vectors = bench_calloc(b->n, sizeof(Buf));
	buf_put(&b->copy, copy_header, sizeof(copy_header));
	for (int i = 0; i < b->n; i++)
	{
		size_t		first = (size_t) i * size;
		Buf			json = {0};

		b->rows[i] = (int) (ds->nbase - first < (size_t) size ? ds->nbase - first : (size_t) size);
		buf_put_array_header(&b->ids[i], CAPI_INT8_OID, b->rows[i]);
		buf_put_array_header(&b->vectors[i], run->floatvector_oid, b->rows[i]);
		buf_printf(&json, "[");
		for (int r = 0; r < b->rows[i]; r++)
		{
			int64_t		id = (int64_t) (first + r) + 1;
			const float *x = ds->base + (first + r) * ds->dim;

			buf_printf(&json, "%s{\"id\": %lld, \"vector\": ", r ? ", " : "", (long long) id);
			buf_json_vector(&json, x, ds->dim);
			buf_printf(&json, "}");
			buf_put_be32(&b->ids[i], 8);
			buf_put_be64(&b->ids[i], (uint64_t) id);
			buf_put_vector(&b->vectors[i], x, ds->dim);
			buf_put_be16(&b->copy, 2);
			buf_put_be32(&b->copy, 8);
			buf_put_be64(&b->copy, (uint64_t) id);
			buf_put_vector(&b->copy, x, ds->dim);
		}
		buf_printf(&json, "]");
		b->json[i] = json.data;
	}
	buf_put_be16(&b->copy, 0xffff);	/* -1: no more rows */
}

static void
batches_free(CapiBatches *b)
{
	for (int i = 0; i < b->n; i++)
	{
		free(b->json[i]);
		free(b->ids[i].data);
		free(b->vectors[i].data);
	}
	free(b->rows);
	free(b->json);
	free(b->ids);
	free(b->vectors);
	free(b->copy.data);
}

/* Item 1's API side: every batch through milvus.insert; returns the seconds. */
static double
batches_api(CapiRun *run, const char *name, const char *sql)
{
	const CapiBatches *b = &run->batches;
	double		start = bench_now();

	for (int i = 0; i < b->n; i++)
	{
		const char *values[2] = {name, b->json[i]};
		PGresult   *res = exec_params(run->conn, sql, 2, values, NULL, NULL, PGRES_TUPLES_OK);

		if (atoi(PQgetvalue(res, 0, 0)) != b->rows[i])
			bench_fatal("milvus.insert took %s rows of %d", PQgetvalue(res, 0, 0), b->rows[i]);
		PQclear(res);
	}
	return bench_now() - start;
}

/* Item 1's typed side: every batch as INSERT ... SELECT FROM unnest(...); returns the seconds. */
static double
batches_typed(CapiRun *run, const char *table)
{
	const CapiBatches *b = &run->batches;
	const int	formats[2] = {1, 1};
	char		sql[512];
	double		start;

	snprintf(sql, sizeof(sql), "INSERT INTO %s (id, vector) "
			 "SELECT * FROM unnest($1::bigint[], $2::floatvector[])", table);
	start = bench_now();
	for (int i = 0; i < b->n; i++)
	{
		const char *values[2] = {b->ids[i].data, b->vectors[i].data};
		const int	lengths[2] = {(int) b->ids[i].len, (int) b->vectors[i].len};

		PQclear(exec_params(run->conn, sql, 2, values, lengths, formats, PGRES_COMMAND_OK));
	}
	return bench_now() - start;
}

/* Every row in one COPY BINARY into table; returns the seconds. */
static double
batches_copy(CapiRun *run, const char *table)
{
	const Buf  *copy = &run->batches.copy;
	char		sql[512];
	PGresult   *res;
	double		start;

	snprintf(sql, sizeof(sql), "COPY %s (id, vector) FROM STDIN (FORMAT binary)", table);
	start = bench_now();
	res = PQexec(run->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		bench_fatal("could not start COPY into %s: %s", table, PQerrorMessage(run->conn));
	PQclear(res);
	for (size_t off = 0; off < copy->len; off += CAPI_COPY_CHUNK)
	{
		size_t		n = copy->len - off < CAPI_COPY_CHUNK ? copy->len - off : CAPI_COPY_CHUNK;

		if (PQputCopyData(run->conn, copy->data + off, (int) n) != 1)
			bench_fatal("could not send COPY data: %s", PQerrorMessage(run->conn));
	}
	if (PQputCopyEnd(run->conn, NULL) != 1)
		bench_fatal("could not end COPY: %s", PQerrorMessage(run->conn));
	while ((res = PQgetResult(run->conn)) != NULL)
	{
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			bench_fatal("COPY into %s failed: %s", table, PQerrorMessage(run->conn));
		PQclear(res);
	}
	return bench_now() - start;
}

/*
 * Item 1: the rows in batches through milvus.insert, a typed INSERT and COPY,
 * each into a fresh collection; the order rotates with the repetition.
 */
static void
item_batches(CapiRun *run)
{
	static const char *const names[4] = {
		"milvus.insert (text), batches", "typed INSERT ... unnest, batches", "COPY BINARY, all rows",
		"milvus.insert (jsonb), batches"
	};
	double		nrows = (double) run->ds.nbase;

	for (int rep = 0; rep < run->spec->repeat; rep++)
	{
		double		rate[4];

		for (int k = 0; k < 4; k++)
		{
			int			v = (rep + k) % 4;
			char		table[256];
			double		secs;

			collection_create(run, CAPI_BATCH_COLLECTION, table, sizeof(table));
			secs = v == 0 ? batches_api(run, CAPI_BATCH_COLLECTION, CAPI_INSERT_SQL) :
				v == 3 ? batches_api(run, CAPI_BATCH_COLLECTION, CAPI_INSERT_JSONB_SQL) :
				v == 1 ? batches_typed(run, table) : batches_copy(run, table);
			check_rows(run, table, nrows, names[v]);
			collection_drop(run, CAPI_BATCH_COLLECTION);
			rate[v] = nrows / secs;
			bench_log("1. %s, run %d: %.0f rows in %.3f s, %.0f rows/s",
					  names[v], rep + 1, nrows, secs, rate[v]);
			figure_add(run, "1", names[v], "rows/s", rep, rate[v]);
		}
		figure_add(run, "1", "milvus.insert (text) / typed INSERT", "x", rep, rate[0] / rate[1]);
		figure_add(run, "1", "milvus.insert (jsonb) / typed INSERT", "x", rep, rate[3] / rate[1]);
		figure_add(run, "1", "milvus.insert (text) / COPY", "x", rep, rate[0] / rate[2]);
	}
}

/* Item 2's parameters for the i-th row: the API's row object, the INSERT's id and vector. */
static void
row_params(const CapiRun *run, int64_t id, size_t i, Buf *json, Buf *bin_id, Buf *bin_vector)
{
	const float *x = run->ds.base + (i % run->ds.nbase) * run->ds.dim;

	json->len = bin_id->len = bin_vector->len = 0;
	buf_printf(json, "{\"id\": %lld, \"vector\": ", (long long) id);
	buf_json_vector(json, x, run->ds.dim);
	buf_printf(json, "}");
	buf_put_be64(bin_id, (uint64_t) id);
	buf_put_vector(bin_vector, x, run->ds.dim);
}

/* One single-row insert of item 2, through the API (api) or the plain INSERT; returns seconds. */
static double
row_insert(CapiRun *run, bool api, int64_t id, size_t i, Buf *p)
{
	row_params(run, id, i, &p[0], &p[1], &p[2]);
	if (api)
	{
		const char *values[2] = {CAPI_ROW_API_COLLECTION, p[0].data};

		return timed_prepared(run->conn, "capi_row_api", 2, values, NULL, NULL,
							  PGRES_TUPLES_OK, NULL);
	}
	else
	{
		/* the vector's length word is the COPY/array element's, not the parameter's */
		const char *values[2] = {p[1].data, p[2].data + 4};
		const int	lengths[2] = {(int) p[1].len, (int) p[2].len - 4};
		const int	formats[2] = {1, 1};

		return timed_prepared(run->conn, "capi_row_sql", 2, values, lengths, formats,
							  PGRES_COMMAND_OK, NULL);
	}
}

/*
 * Item 2: single-row inserts through milvus.insert and a plain INSERT, both
 * prepared, call by call in turn, each into a fresh collection; which goes
 * first in a pair changes with the repetition.
 */
static void
item_single_rows(CapiRun *run)
{
	int			n = run->spec->inserts;
	double	   *lat[2];
	Buf			p[3] = {{0}};

	lat[0] = bench_malloc(sizeof(double) * n);
	lat[1] = bench_malloc(sizeof(double) * n);
	for (int rep = 0; rep < run->spec->repeat; rep++)
	{
		char		table[256];
		char		sql[512];
		double		mean[2];

		collection_create(run, CAPI_ROW_API_COLLECTION, table, sizeof(table));
		collection_create(run, CAPI_ROW_SQL_COLLECTION, table, sizeof(table));
		prepare_or_die(run->conn, "capi_row_api", CAPI_INSERT_SQL);
		snprintf(sql, sizeof(sql), "INSERT INTO %s (id, vector) VALUES ($1::int8, $2::floatvector)",
				 table);
		prepare_or_die(run->conn, "capi_row_sql", sql);
		for (int i = 0; i < run->spec->warmup; i++)
		{
			row_insert(run, true, -1 - i, i, p);
			row_insert(run, false, -1 - i, i, p);
		}
		for (int i = 0; i < n; i++)
			for (int k = 0; k < 2; k++)
			{
				int			v = (rep + k) % 2;	/* 0: the API */

				lat[v][i] = row_insert(run, v == 0, i + 1, i, p);
			}
		mean[0] = latency_figures(run, "2", "milvus.insert, one row", rep, lat[0], n);
		mean[1] = latency_figures(run, "2", "INSERT, one row", rep, lat[1], n);
		figure_add(run, "2", "milvus.insert / INSERT, mean", "x", rep, mean[0] / mean[1]);
		bench_log("2. run %d: %d single-row inserts each: milvus.insert %.3f ms, INSERT %.3f ms "
				  "a call (mean)", rep + 1, n, 1000 * mean[0], 1000 * mean[1]);
		deallocate(run->conn, "capi_row_api");
		deallocate(run->conn, "capi_row_sql");
		collection_drop(run, CAPI_ROW_API_COLLECTION);
		collection_drop(run, CAPI_ROW_SQL_COLLECTION);
	}
	for (int i = 0; i < 3; i++)
		free(p[i].data);
	free(lat[0]);
	free(lat[1]);
}

/* How many ids of the first result's column 0 the second's has too. */
static int
common_ids(const PGresult *a, const PGresult *b)
{
	int			n = 0;

	for (int i = 0; i < PQntuples(a); i++)
		for (int j = 0; j < PQntuples(b); j++)
			if (strcmp(PQgetvalue(a, i, 0), PQgetvalue(b, j, 0)) == 0)
			{
				n++;
				break;
			}
	return n;
}

/* Item 3's collection: the rows by COPY, an HNSW index by milvus.create_index, loaded. */
static void
search_collection(CapiRun *run, char *table, size_t len)
{
	const char *name[1] = {CAPI_SEARCH_COLLECTION};
	const char *index[3] = {CAPI_SEARCH_COLLECTION, run->metric, CAPI_HNSW_PARAMS};
	char		sql[512];
	double		start;

	collection_create(run, CAPI_SEARCH_COLLECTION, table, len);
	batches_copy(run, table);
	/* the quick form's AUTOINDEX first: a field has one index */
	api_call(run->conn, "SELECT milvus.drop_index($1, 'vector')", 1, name);
	start = bench_now();
	api_call(run->conn, "SELECT milvus.create_index($1, 'vector', 'HNSW', $2, $3::jsonb)", 3, index);
	bench_log("3. milvus.create_index HNSW %s on %zu rows: %.1f s", CAPI_HNSW_PARAMS,
			  run->ds.nbase, bench_now() - start);
	api_call(run->conn, "SELECT milvus.load_collection($1)", 1, name);
	snprintf(sql, sizeof(sql), "VACUUM (ANALYZE) %s", table);
	bench_exec_or_die(run->conn, sql);
}

/*
 * Item 3: searches of one vector through milvus.search and the plain ORDER
 * BY ... LIMIT, call by call in turn, and one milvus.search of 10 vectors
 * before or after the same 10 as single calls (which one, and which single
 * call goes first, alternates).
 */
static void
item_search(CapiRun *run)
{
	const BenchDataset *ds = &run->ds;
	int			ngroups = ds->nquery / CAPI_GROUP;
	int			nq = ngroups * CAPI_GROUP;
	char		limit[16];
	char		table[256];
	char		sql[512];
	Buf		   *single = bench_calloc(nq, sizeof(Buf));
	Buf		   *group = bench_calloc(ngroups, sizeof(Buf));
	Buf		   *binary = bench_calloc(nq, sizeof(Buf));
	double	   *lat[3];
	const int	sql_formats[2] = {1, 0};
	long		overlap = 0;

	snprintf(limit, sizeof(limit), "%d", run->spec->k);
	search_collection(run, table, sizeof(table));
	prepare_or_die(run->conn, "capi_search_api",
				   "SELECT id, distance FROM milvus.search(collection_name => $1, "
				   "data => $2::jsonb, \"limit\" => $3::int)");
	snprintf(sql, sizeof(sql), "SELECT id, vector %s $1::floatvector AS distance FROM %s "
			 "ORDER BY vector %s $1::floatvector LIMIT $2::int", run->op, table, run->op);
	prepare_or_die(run->conn, "capi_search_sql", sql);

	for (int g = 0; g < ngroups; g++)
	{
		buf_printf(&group[g], "[");
		for (int j = 0; j < CAPI_GROUP; j++)
		{
			int			q = g * CAPI_GROUP + j;
			const float *x = ds->queries + (size_t) q * ds->dim;

			buf_printf(&single[q], "[");
			buf_json_vector(&single[q], x, ds->dim);
			buf_printf(&single[q], "]");
			buf_printf(&group[g], "%s%s", j ? ", " : "", single[q].data + 1);
			group[g].len--;		/* the single's closing bracket */
			buf_put_vector(&binary[q], x, ds->dim);
		}
		buf_printf(&group[g], "]");
	}
	for (int i = 0; i < 3; i++)
		lat[i] = bench_malloc(sizeof(double) * nq);

	for (int rep = -1; rep < run->spec->repeat; rep++)
	{
		int			n = rep < 0 ? (run->spec->warmup + CAPI_GROUP - 1) / CAPI_GROUP : ngroups;
		double		mean[3];
		double		sum_group = 0,
					sum_singles = 0;

		for (int g = 0; g < n && g < ngroups; g++)
		{
			bool		group_first = (rep + g) % 2 == 1;
			const char *gvalues[3] = {CAPI_SEARCH_COLLECTION, group[g].data, limit};
			PGresult   *res = NULL;

			if (group_first)
				lat[2][g] = timed_prepared(run->conn, "capi_search_api", 3, gvalues, NULL, NULL,
										   PGRES_TUPLES_OK, &res);
			for (int j = 0; j < CAPI_GROUP; j++)
			{
				int			q = g * CAPI_GROUP + j;
				const char *avalues[3] = {CAPI_SEARCH_COLLECTION, single[q].data, limit};
				const char *svalues[2] = {binary[q].data + 4, limit};
				const int	slengths[2] = {(int) binary[q].len - 4, 0};
				PGresult   *ares = NULL,
						   *sres = NULL;

				for (int k = 0; k < 2; k++)
				{
					if ((rep + k) % 2 == 0)
						lat[0][q] = timed_prepared(run->conn, "capi_search_api", 3, avalues, NULL,
												   NULL, PGRES_TUPLES_OK, &ares);
					else
						lat[1][q] = timed_prepared(run->conn, "capi_search_sql", 2, svalues,
												   slengths, sql_formats, PGRES_TUPLES_OK, &sres);
				}
				if (rep == 0)
					overlap += common_ids(ares, sres);
				sum_singles += lat[0][q];
				PQclear(ares);
				PQclear(sres);
			}
			if (!group_first)
				lat[2][g] = timed_prepared(run->conn, "capi_search_api", 3, gvalues, NULL, NULL,
										   PGRES_TUPLES_OK, &res);
			if (PQntuples(res) != CAPI_GROUP * run->spec->k)
				bench_fatal("milvus.search of %d vectors gave %d rows, expected %d", CAPI_GROUP,
							PQntuples(res), CAPI_GROUP * run->spec->k);
			PQclear(res);
			sum_group += lat[2][g];
		}
		if (rep < 0)
			continue;			/* the warm-up */
		mean[0] = latency_figures(run, "3", "milvus.search, 1 vector", rep, lat[0], nq);
		mean[1] = latency_figures(run, "3", "SELECT ... ORDER BY ... LIMIT", rep, lat[1], nq);
		mean[2] = latency_figures(run, "3", "milvus.search, 10 vectors", rep, lat[2], ngroups);
		figure_add(run, "3", "milvus.search / SELECT, mean", "x", rep, mean[0] / mean[1]);
		figure_add(run, "3", "10 vectors in one call / 10 calls", "x", rep,
				   sum_group / sum_singles);
		bench_log("3. run %d: %d searches each: milvus.search %.3f ms, SELECT %.3f ms (mean); "
				  "%d calls of 10 vectors: %.3f ms, %.3fx the 10 single calls", rep + 1, nq,
				  1000 * mean[0], 1000 * mean[1], ngroups, 1000 * mean[2], sum_group / sum_singles);
	}
	bench_log("3. milvus.search and SELECT found the same ids for %.2f%% of the hits",
			  100.0 * overlap / ((double) nq * run->spec->k));

	deallocate(run->conn, "capi_search_api");
	deallocate(run->conn, "capi_search_sql");
	collection_drop(run, CAPI_SEARCH_COLLECTION);
	for (int q = 0; q < nq; q++)
	{
		free(single[q].data);
		free(binary[q].data);
	}
	for (int g = 0; g < ngroups; g++)
		free(group[g].data);
	for (int i = 0; i < 3; i++)
		free(lat[i]);
	free(single);
	free(group);
	free(binary);
}

/*
 * Write a NumPy .npy file's header (format 1.0): magic, version 1.0, the
 * header's length as little-endian uint16, then the dict, padded with spaces
 * and a newline so that the data starts at a multiple of 64 bytes.
 */
static void
npy_header(FILE *f, const char *path, const char *descr, const char *shape)
{
	char		dict[256];
	int			len = snprintf(dict, sizeof(dict),
							   "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
							   descr, shape);
	int			hlen = len + 1 + (64 - (10 + len + 1) % 64) % 64;
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, hlen & 0xff, hlen >> 8};

	if (fwrite(pre, 1, 10, f) != 10 || fwrite(dict, 1, len, f) != (size_t) len)
		bench_fatal("could not write \"%s\": %s", path, strerror(errno));
	for (int i = len; i < hlen - 1; i++)
		fputc(' ', f);
	fputc('\n', f);
}

static FILE *
npy_open(const char *path)
{
	FILE	   *f = fopen(path, "wb");

	if (f == NULL || chmod(path, 0644) != 0)
		bench_fatal("could not create \"%s\": %s", path, strerror(errno));
	return f;
}

static void
npy_close(FILE *f, const char *path)
{
	if (ferror(f) || fclose(f) != 0)
		bench_fatal("could not write \"%s\": %s", path, strerror(errno));
}

/* splitmix64: the .npy vectors' random numbers, fixed seed */
static uint64_t
npy_next(uint64_t *state)
{
	uint64_t	z = (*state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * Write dir/id.npy ('<i8', shape (n,), ids 1..n) and dir/vector.npy ('<f4',
 * shape (n, dim), uniform in [-1, 1) from a fixed seed), little-endian
 * whatever the host, readable by everyone.
 */
static void
npy_write(const char *dir, long n, int dim)
{
	char		ids_path[1024];
	char		vec_path[1024];
	char		shape[64];
	FILE	   *ids,
			   *vec;
	unsigned char *chunk = bench_malloc((size_t) CAPI_NPY_CHUNK * dim * 4);
	uint64_t	state = CAPI_NPY_SEED;

	snprintf(ids_path, sizeof(ids_path), "%s/id.npy", dir);
	snprintf(vec_path, sizeof(vec_path), "%s/vector.npy", dir);
	ids = npy_open(ids_path);
	vec = npy_open(vec_path);
	snprintf(shape, sizeof(shape), "(%ld,)", n);
	npy_header(ids, ids_path, "<i8", shape);
	snprintf(shape, sizeof(shape), "(%ld, %d)", n, dim);
	npy_header(vec, vec_path, "<f4", shape);
	for (long first = 0; first < n; first += CAPI_NPY_CHUNK)
	{
		long		rows = n - first < CAPI_NPY_CHUNK ? n - first : CAPI_NPY_CHUNK;

		for (long r = 0; r < rows; r++)
		{
			uint64_t	id = (uint64_t) (first + r + 1);

			for (int b = 0; b < 8; b++)
				chunk[r * 8 + b] = (unsigned char) (id >> (8 * b));
		}
		if (fwrite(chunk, 8, rows, ids) != (size_t) rows)
			bench_fatal("could not write \"%s\": %s", ids_path, strerror(errno));
		for (long i = 0; i < rows * dim; i++)
		{
			float		x = (float) ((npy_next(&state) >> 11) * 0x1.0p-52 - 1.0);
			uint32_t	bits;

			memcpy(&bits, &x, 4);
			for (int b = 0; b < 4; b++)
				chunk[i * 4 + b] = (unsigned char) (bits >> (8 * b));
		}
		if (fwrite(chunk, 4 * dim, rows, vec) != (size_t) rows)
			bench_fatal("could not write \"%s\": %s", vec_path, strerror(errno));
	}
	npy_close(ids, ids_path);
	npy_close(vec, vec_path);
	free(chunk);
}

static void
npy_remove(const char *dir)
{
	char		path[1024];

	snprintf(path, sizeof(path), "%s/id.npy", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/vector.npy", dir);
	unlink(path);
	rmdir(dir);
}

/* Whether the server runs on this machine, so its pids are ours to read in /proc. */
static bool
server_is_local(PGconn *conn)
{
	const char *host = PQhost(conn);

	return host == NULL || host[0] == '\0' || host[0] == '/' ||
		strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
		strcmp(host, "::1") == 0;
}

/*
 * A line of /proc/<pid>/status of a local postgres process, in MB: field
 * "VmHWM:" (the peak RSS, shared buffers it touched included) or "RssAnon:"
 * (its private memory now); NaN when it cannot be read.
 */
static double
proc_status_mb(PGconn *conn, const char *pid, const char *field)
{
	char		path[128];
	char		line[256];
	FILE	   *f;
	double		mb = NAN;

	if (pid == NULL || !server_is_local(conn) || atol(pid) <= 0)
		return NAN;
	snprintf(path, sizeof(path), "/proc/%ld/comm", atol(pid));
	if ((f = fopen(path, "r")) == NULL)
		return NAN;
	if (fgets(line, sizeof(line), f) == NULL || strncmp(line, "postgres", 8) != 0)
	{
		fclose(f);
		return NAN;				/* not a server process: some other machine's pid */
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/status", atol(pid));
	if ((f = fopen(path, "r")) == NULL)
		return NAN;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			mb = strtod(line + strlen(field), NULL) / 1024;
	fclose(f);
	return mb;
}

static double
peak_rss_mb(PGconn *conn, const char *pid)
{
	return proc_status_mb(conn, pid, "VmHWM:");
}

static double
max_known(double a, double b)
{
	return isnan(a) ? b : isnan(b) ? a : fmax(a, b);
}

/*
 * One timed milvus.bulk_insert of the files in dir into a fresh collection,
 * on a connection of its own (so its backend's peak RSS is this import's),
 * polling get_import_state until Completed or Failed.
 */
static void
bulk_once(CapiRun *run, const char *dir, int rep)
{
	const char *poll_sql =
		"SELECT s ->> 'state', s ->> 'row_count', s ->> 'progress', s ->> 'reason', s ->> 'pid' "
		"FROM (SELECT milvus.get_import_state($1::bigint) AS s) AS q";
	char		err[1024];
	char		table[256];
	char		task[32];
	char		backend[16];
	Buf			files = {0};
	PGconn	   *conn;
	PGresult   *res;
	double		start,
				secs,
				rows = NAN,
				worker_mb = NAN,
				worker_private_mb = NAN,
				backend_mb;
	bool		done = false;

	collection_create(run, CAPI_BULK_COLLECTION, table, sizeof(table));
	/* mkdtemp's name has no character JSON would escape */
	buf_printf(&files, "[[\"%s/id.npy\", \"%s/vector.npy\"]]", dir, dir);
	if ((conn = bench_connect(run->spec->conninfo, err, sizeof(err))) == NULL)
		bench_fatal("%s", err);
	snprintf(backend, sizeof(backend), "%d", PQbackendPID(conn));

	start = bench_now();
	res = exec_params(conn, "SELECT milvus.bulk_insert($1, $2::jsonb)", 2,
					  (const char *[]) {CAPI_BULK_COLLECTION, files.data}, NULL, NULL,
					  PGRES_TUPLES_OK);
	snprintf(task, sizeof(task), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	while (!done)
	{
		const char *values[1] = {task};
		const char *state;

		res = exec_params(conn, poll_sql, 1, values, NULL, NULL, PGRES_TUPLES_OK);
		state = PQgetvalue(res, 0, 0);
		if (!PQgetisnull(res, 0, 4))
		{
			worker_mb = max_known(worker_mb, peak_rss_mb(conn, PQgetvalue(res, 0, 4)));
			worker_private_mb = max_known(worker_private_mb,
										  proc_status_mb(conn, PQgetvalue(res, 0, 4), "RssAnon:"));
		}
		if (strcmp(state, "Completed") == 0)
		{
			rows = strtod(PQgetvalue(res, 0, 1), NULL);
			done = true;
		}
		else if (strcmp(state, "Failed") == 0)
			bench_fatal("milvus.bulk_insert task %s failed: %s", task, PQgetvalue(res, 0, 3));
		else if (bench_now() - start > CAPI_IMPORT_TIMEOUT_S)
			bench_fatal("milvus.bulk_insert task %s still %s (progress %s) after %.0f s", task,
						state, PQgetvalue(res, 0, 2), CAPI_IMPORT_TIMEOUT_S);
		PQclear(res);
		if (!done)
			usleep(CAPI_POLL_US);
	}
	secs = bench_now() - start;
	backend_mb = peak_rss_mb(conn, backend);
	PQfinish(conn);
	check_rows(run, table, (double) run->spec->bulk_rows, "milvus.bulk_insert");
	collection_drop(run, CAPI_BULK_COLLECTION);
	free(files.data);

	bench_log("4. milvus.bulk_insert, run %d: %.0f rows in %.2f s, %.0f rows/s; peak RSS: "
			  "backend %.0f MB, worker %.0f MB (private, sampled: %.0f MB)", rep + 1, rows, secs,
			  rows / secs, backend_mb, worker_mb, worker_private_mb);
	figure_add(run, "4", "milvus.bulk_insert", "rows/s", rep, rows / secs);
	figure_add(run, "4", "peak RSS, backend", "MB", rep, backend_mb);
	figure_add(run, "4", "peak RSS, import worker", "MB", rep, worker_mb);
	/* (the RSS counts the shared buffers the worker filled; this is its own memory) */
	figure_add(run, "4", "largest private memory (RssAnon) seen, import worker", "MB", rep,
			   worker_private_mb);
}

/*
 * Item 4: milvus.bulk_insert(collection_name, files jsonb) of id.npy and
 * vector.npy, written once into a directory under /tmp the server can read.
 * The functions are looked up in pg_proc rather than with to_regproc, which
 * gives NULL for an overloaded name too.
 */
static void
item_bulk_insert(CapiRun *run)
{
	char		dir[] = "/tmp/milvus_bench_npy.XXXXXX";
	double		have = query_number(run->conn,
									"SELECT count(DISTINCT proname) FROM pg_proc "
									"WHERE pronamespace = 'milvus'::regnamespace "
									"AND proname IN ('bulk_insert', 'get_import_state')", NULL);

	if (run->spec->bulk_rows == 0)
		snprintf(run->skipped, sizeof(run->skipped), "skipped: --bulk-rows 0");
	else if (have != 2)
		snprintf(run->skipped, sizeof(run->skipped),
				 "skipped: milvus.bulk_insert not available");
	if (run->skipped[0])
	{
		bench_log("4. milvus.bulk_insert: %s", run->skipped);
		return;
	}
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) != 0)
		bench_fatal("could not create a directory \"%s\": %s", dir, strerror(errno));
	bench_log("4. writing %ld rows x %d dimensions as .npy into %s", run->spec->bulk_rows,
			  run->spec->dim, dir);
	npy_write(dir, run->spec->bulk_rows, run->spec->dim);
	for (int rep = 0; rep < run->spec->repeat; rep++)
		bulk_once(run, dir, rep);
	npy_remove(dir);
}

static int
value_cmp(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* A value in a width fit for its size; "n/a" for NaN. */
static const char *
format_value(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else if (fabs(v) >= 100)
		snprintf(buf, len, "%.0f", v);
	else if (fabs(v) >= 10)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.3f", v);
	return buf;
}

/* The table of min / median / max per figure on stdout, as Markdown. */
static void
print_summary(const CapiRun *run)
{
	printf("\n| item | measurement | unit | min | median | max |\n|---|---|---|---|---|---|\n");
	for (int i = 0; i < run->nfigures; i++)
	{
		const CapiFigure *f = &run->figures[i];
		double		v[BENCH_MAX_REPEAT];
		int			n = 0;
		char		a[32],
					b[32],
					c[32];
		double		median;

		for (int r = 0; r < f->n; r++)
			if (!isnan(f->v[r]))
				v[n++] = f->v[r];
		qsort(v, n, sizeof(double), value_cmp);
		median = n == 0 ? NAN : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
		printf("| %s | %s | %s | %s | %s | %s |\n", f->item, f->name, f->unit,
			   format_value(n ? v[0] : NAN, a, sizeof(a)), format_value(median, b, sizeof(b)),
			   format_value(n ? v[n - 1] : NAN, c, sizeof(c)));
	}
	if (run->skipped[0])
		printf("| 4 | milvus.bulk_insert: %s | | | | |\n", run->skipped);
	fflush(stdout);
}

/* Log the server and which language the API's data path is written in. */
static void
log_server(CapiRun *run)
{
	PGresult   *res = exec_params(run->conn,
								  "SELECT current_setting('server_version'), "
								  "(SELECT extversion FROM pg_extension WHERE extname = 'milvus'), "
								  "(SELECT string_agg(DISTINCT l.lanname, ',') FROM pg_proc p "
								  "JOIN pg_language l ON l.oid = p.prolang "
								  "WHERE p.pronamespace = 'milvus'::regnamespace "
								  "AND p.proname IN ('insert', 'search'))",
								  0, NULL, NULL, NULL, PGRES_TUPLES_OK);

	bench_log("PostgreSQL %s, milvus %s, milvus.insert and milvus.search in %s",
			  PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	PQclear(res);
}

void
bench_collection_api(PGconn *conn, const BenchCollectionSpec *spec)
{
	static CapiRun run;
	static const char *const metric_names[] = {"L2", "IP", "COSINE"};
	char		dataset[64];

	run.conn = conn;
	run.spec = spec;
	run.metric = metric_names[spec->metric];
	run.op = bench_metric_operator(spec->metric);
	run.floatvector_oid = (Oid) query_number(conn, "SELECT 'floatvector'::regtype::oid", NULL);
	if ((run.csv = fopen(spec->csv_path, "w")) == NULL)
		bench_fatal("could not create \"%s\": %s", spec->csv_path, strerror(errno));
	fprintf(run.csv, "item,measurement,unit,run,value\n");
	log_server(&run);

	snprintf(dataset, sizeof(dataset), "synthetic:%d:%d", spec->rows, spec->dim);
	bench_dataset_load(dataset, "", spec->queries, &run.ds);
	if (run.ds.nquery < CAPI_GROUP)
		bench_fatal("--queries %d: the search needs at least %d", run.ds.nquery, CAPI_GROUP);
	batches_make(&run);
	bench_log("%s, %d runs of each measurement, metric %s", run.ds.name, spec->repeat, run.metric);

	item_batches(&run);
	item_single_rows(&run);
	item_search(&run);
	item_bulk_insert(&run);

	fclose(run.csv);
	bench_log("results: %s", spec->csv_path);
	print_summary(&run);
	batches_free(&run.batches);
	bench_dataset_free(&run.ds);
}
