/*
 * load.c
 *		Create the benchmark table, fill it with COPY BINARY, build indexes.
 *
 * The table is (id int4, label int4, bucket int4, emb floatvector(dim)), id
 * being the row number in the data set, so results compare with the ground
 * truth directly, and label and bucket (id % 100) the columns filters test;
 * the pgvector layout has emb vector(dim) instead.  COPY's binary form sends
 * each vector as its type's send/recv form (bench_vector_binary).  A table
 * comment records the data set's fingerprint and the column set, so
 * --reuse-tables can tell a complete table from a stale, half-loaded or
 * older-layout one.  The COPY (bench_copy_rows) also serves --copy
 * (copyload.c).  bench_filter_indexes adds or drops the B-tree indexes the
 * filters may use, apart from the load, so they change no load time.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define COPY_CHUNK			(1024 * 1024)

/* The B-tree indexes of bench_filter_indexes: <table>_<suffix>_idx ON <table> (<key>). */
static const struct
{
	const char *suffix;
	const char *key;
} filter_indexes[] = {
	{"label", "label"},			/* labelN, ownlabel */
	{"bucket", "bucket"},		/* pctN, bucketN */
	{"permille", "(id % 1000)"},	/* permilleN; the filter's expression to the letter */
};

/* The bytes COPY BINARY sends before the first row. */
static const char copy_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

/* A buffer of COPY data, flushed to the server when full. */
typedef struct CopyBuf
{
	PGconn	   *conn;
	char	   *data;
	size_t		len;
	size_t		sent;			/* bytes sent so far, for MB/s */
} CopyBuf;

static void
copy_flush(CopyBuf *b)
{
	if (b->len == 0)
		return;
	if (PQputCopyData(b->conn, b->data, (int) b->len) != 1)
		bench_fatal("could not send COPY data: %s", PQerrorMessage(b->conn));
	b->sent += b->len;
	b->len = 0;
}

static void
copy_put(CopyBuf *b, const void *p, size_t n)
{
	if (b->len + n > COPY_CHUNK)
		copy_flush(b);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
copy_put_int16(CopyBuf *b, int16_t v)
{
	uint16_t	n = htons((uint16_t) v);

	copy_put(b, &n, 2);
}

static void
copy_put_int32(CopyBuf *b, int32_t v)
{
	uint32_t	n = htonl((uint32_t) v);

	copy_put(b, &n, 4);
}

/* Append one row: four fields, each a length word and its value. */
static void
copy_put_row(CopyBuf *b, BenchVectorType type, int32_t id, int32_t label, int32_t bucket,
			 const float *x, int dim)
{
	copy_put_int16(b, 4);
	copy_put_int32(b, 4);
	copy_put_int32(b, id);
	copy_put_int32(b, 4);
	copy_put_int32(b, label);
	copy_put_int32(b, 4);
	copy_put_int32(b, bucket);
	copy_put_int32(b, 4 + 4 * dim);
	if (type == BENCH_PGVECTOR)
	{
		copy_put_int16(b, (int16_t) dim);
		copy_put_int16(b, 0);
	}
	else
		copy_put_int32(b, dim);
	for (int j = 0; j < dim; j++)
	{
		uint32_t	bits;

		memcpy(&bits, &x[j], 4);
		copy_put_int32(b, (int32_t) bits);
	}
}

/*
 * COPY n rows into table in one statement: ids from first_id, the given
 * labels and bucket id % 100; without labels the rows are new ones (the
 * write jobs'), label and bucket -1, outside every filter.  Returns the bytes
 * sent.
 */
size_t
bench_copy_rows(PGconn *conn, const char *table, BenchVectorType type, size_t n,
				int32_t first_id, const int32_t *labels, const float *vectors, int dim)
{
	char		sql[256];
	CopyBuf		b = {conn, bench_malloc(COPY_CHUNK), 0, 0};
	PGresult   *res;

	snprintf(sql, sizeof(sql), "COPY %s (id, label, bucket, emb) FROM STDIN (FORMAT binary)", table);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		bench_fatal("could not start COPY into \"%s\": %s", table, PQerrorMessage(conn));
	PQclear(res);

	copy_put(&b, copy_header, sizeof(copy_header));
	for (size_t i = 0; i < n; i++)
	{
		int32_t		id = first_id + (int32_t) i;

		copy_put_row(&b, type, id, labels ? labels[i] : -1,
					 labels ? bench_filter_bucket(id) : -1, vectors + i * dim, dim);
	}
	copy_put_int16(&b, -1);
	copy_flush(&b);
	free(b.data);

	if (PQputCopyEnd(conn, NULL) != 1)
		bench_fatal("could not end COPY: %s", PQerrorMessage(conn));
	while ((res = PQgetResult(conn)) != NULL)
	{
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			bench_fatal("COPY into \"%s\" failed: %s", table, PQerrorMessage(conn));
		PQclear(res);
	}
	return b.sent;
}

/* "mvbench_<data set>_<storage>", only lower-case letters, digits and '_'. */
static void
table_name(const BenchDataset *ds, const BenchStorage *storage, char *out, size_t outlen)
{
	char		raw[BENCH_NAME_LEN * 2];
	size_t		i;

	snprintf(raw, sizeof(raw), "mvbench_%s_%s", ds->name, storage->name);
	for (i = 0; raw[i] && i + 1 < outlen; i++)
		out[i] = isalnum((unsigned char) raw[i]) ? tolower((unsigned char) raw[i]) : '_';
	out[i] = '\0';
}

/*
 * Make table hold the data set in the given layout: load it, or with reuse
 * keep a complete table from an earlier run.  Fills in the load figures.
 */
void
bench_table_prepare(PGconn *conn, const BenchDataset *ds, const BenchStorage *storage,
					bool reuse, BenchTable *table)
{
	char		sql[1024];
	char		comment[128];
	char	   *v;
	double		start;
	size_t		bytes;
	size_t		nfound = 0;

	memset(table, 0, sizeof(*table));
	table_name(ds, storage, table->name, sizeof(table->name));
	table->storage = storage;
	/* the floatvector layouts' comment is that of the tool's earlier versions */
	snprintf(comment, sizeof(comment), "milvus_bench %016llx %zu x %d, id label bucket emb%s",
			 (unsigned long long) ds->fingerprint, ds->nbase, ds->dim,
			 storage->vector_type == BENCH_FLOATVECTOR ? "" : " vector");

	snprintf(sql, sizeof(sql),
			 "SELECT obj_description(to_regclass('%s'), 'pg_class')", table->name);
	v = bench_query_value(conn, sql);
	if (reuse && v != NULL && strcmp(v, comment) == 0)
	{
		bench_log("table %s: reusing the loaded data set", table->name);
		table->loaded_now = false;
		table->load_s = table->load_rows_per_s = table->load_mb_per_s = NAN;
	}
	else
	{
		snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", table->name);
		bench_exec_or_die(conn, sql);
		snprintf(sql, sizeof(sql),
				 "CREATE TABLE %s (id int4, label int4, bucket int4, emb %s(%d))%s%s%s",
				 table->name, bench_vector_type_name(storage->vector_type), ds->dim,
				 storage->table_options ? " WITH (" : "",
				 storage->table_options ? storage->table_options : "",
				 storage->table_options ? ")" : "");
		bench_exec_or_die(conn, sql);

		bench_log("table %s: loading %zu rows with COPY BINARY", table->name, ds->nbase);
		start = bench_now();
		bytes = bench_copy_rows(conn, table->name, storage->vector_type, ds->nbase, 0, ds->labels,
								ds->base, ds->dim);
		table->load_s = bench_now() - start;
		table->loaded_now = true;
		table->load_rows_per_s = ds->nbase / table->load_s;
		table->load_mb_per_s = bytes / 1e6 / table->load_s;
		bench_log("table %s: loaded in %.2f s (%.0f rows/s, %.1f MB/s)",
				  table->name, table->load_s, table->load_rows_per_s, table->load_mb_per_s);

		/* Set hint bits and the visibility map now, not during the first runs. */
		start = bench_now();
		snprintf(sql, sizeof(sql), "VACUUM (FREEZE, ANALYZE) %s", table->name);
		bench_exec_or_die(conn, sql);
		bench_log("table %s: VACUUM (FREEZE, ANALYZE) took %.2f s", table->name, bench_now() - start);

		snprintf(sql, sizeof(sql), "COMMENT ON TABLE %s IS '%s'", table->name, comment);
		bench_exec_or_die(conn, sql);
	}
	free(v);

	snprintf(sql, sizeof(sql), "SELECT pg_table_size('%s')", table->name);
	v = bench_query_value(conn, sql);
	table->table_bytes = strtoll(v, NULL, 10);
	free(v);

	/* a reused table may hold the filter indexes of an earlier run; a part of them is dropped */
	for (size_t i = 0; i < lengthof(filter_indexes); i++)
	{
		snprintf(sql, sizeof(sql), "SELECT to_regclass('%s_%s_idx') IS NOT NULL",
				 table->name, filter_indexes[i].suffix);
		v = bench_query_value(conn, sql);
		nfound += v != NULL && strcmp(v, "t") == 0;
		free(v);
	}
	table->filter_indexes = nfound > 0;
	if (nfound > 0 && nfound < lengthof(filter_indexes))
		bench_filter_indexes(conn, table, false);
}

/* Build method's index on the table; returns the seconds it took. */
double
bench_index_build(PGconn *conn, const BenchTable *table, const BenchMethod *method,
				  BenchMetric metric)
{
	char		sql[2048];
	int			len;
	const char *p;
	double		start;
	double		secs;
	char	   *size;

	len = snprintf(sql, sizeof(sql), "CREATE INDEX %s_idx ON %s ", table->name, table->name);
	for (p = method->index_using; *p && len < (int) sizeof(sql) - 16; p++)
	{
		if (strncmp(p, "{metric}", 8) == 0)
		{
			len += snprintf(sql + len, sizeof(sql) - len, "%s", bench_metric_name(metric));
			p += 7;
		}
		else
			sql[len++] = *p;
	}
	sql[len] = '\0';

	bench_index_drop(conn, table);
	bench_log("%s: %s", method->name, sql);
	start = bench_now();
	bench_exec_or_die(conn, sql);
	secs = bench_now() - start;
	snprintf(sql, sizeof(sql), "SELECT pg_relation_size('%s_idx')", table->name);
	size = bench_query_value(conn, sql);
	bench_log("%s: index built in %.2f s, %s bytes", method->name, secs, size ? size : "?");
	free(size);
	return secs;
}

void
bench_index_drop(PGconn *conn, const BenchTable *table)
{
	char		sql[256];

	snprintf(sql, sizeof(sql), "DROP INDEX IF EXISTS %s_idx", table->name);
	bench_exec_or_die(conn, sql);
}

/*
 * Make the B-tree indexes on the filter columns exist (want) or not, then,
 * when they were created, ANALYZE the table: the expression index gets its
 * statistics that way.  Without a change, nothing is done.
 */
void
bench_filter_indexes(PGconn *conn, BenchTable *table, bool want)
{
	char		sql[512];
	double		start;

	if (table->filter_indexes == want)
		return;
	start = bench_now();
	for (size_t i = 0; i < lengthof(filter_indexes); i++)
	{
		if (want)
			snprintf(sql, sizeof(sql), "CREATE INDEX IF NOT EXISTS %s_%s_idx ON %s (%s)",
					 table->name, filter_indexes[i].suffix, table->name, filter_indexes[i].key);
		else
			snprintf(sql, sizeof(sql), "DROP INDEX IF EXISTS %s_%s_idx",
					 table->name, filter_indexes[i].suffix);
		bench_exec_or_die(conn, sql);
	}
	if (want)
	{
		snprintf(sql, sizeof(sql), "ANALYZE %s", table->name);
		bench_exec_or_die(conn, sql);
	}
	table->filter_indexes = want;
	bench_log("table %s: B-tree indexes on label, bucket and (id %% 1000) %s in %.2f s",
			  table->name, want ? "created, table analyzed," : "dropped", bench_now() - start);
}
