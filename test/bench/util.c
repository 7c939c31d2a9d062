/*
 * util.c
 *		Small helpers of milvus_bench: messages, memory, clocks, argument
 *		parsing and libpq calls that report errors in one way.
 *
 * The tool is a client program, so an error it cannot recover from prints one
 * line and exits with status 1; nothing here returns on allocation failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench.h"

/* Print "milvus_bench: error: ..." and exit. */
void
bench_fatal(const char *fmt,...)
{
	va_list		ap;

	char		msg[4096];
	size_t		len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* libpq's messages end in a newline of their own */
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	fflush(stdout);
	fprintf(stderr, "milvus_bench: error: %s\n", msg);
	exit(1);
}

/* Print a progress line on stderr, so stdout carries only results. */
void
bench_log(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "milvus_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void *
bench_malloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
		bench_fatal("out of memory (%zu bytes)", size);
	return p;
}

void *
bench_calloc(size_t n, size_t size)
{
	void	   *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		bench_fatal("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

char *
bench_strdup(const char *s)
{
	size_t		len = strlen(s) + 1;

	return memcpy(bench_malloc(len), s, len);
}

/* Seconds on a monotonic clock. */
double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Parse a whole decimal integer in [min, max]; false if s is anything else. */
bool
bench_parse_int(const char *s, long min, long max, long *result)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*result = v;
	return true;
}

/* Split a list at each sep into fresh strings; empty items are kept. */
int
bench_split(const char *list, char sep, char ***items)
{
	int			n = 1;
	int			i = 0;
	const char *p;

	for (p = list; *p; p++)
		if (*p == sep)
			n++;
	*items = bench_calloc(n, sizeof(char *));
	p = list;
	for (;;)
	{
		const char *comma = strchr(p, sep);
		size_t		len = comma ? (size_t) (comma - p) : strlen(p);

		(*items)[i] = bench_malloc(len + 1);
		memcpy((*items)[i], p, len);
		(*items)[i][len] = '\0';
		i++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return n;
}

void
bench_free_list(char **items, int n)
{
	for (int i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

/* mkdir -p */
void
bench_mkdirs(const char *path)
{
	char	   *copy = bench_strdup(path);

	for (char *p = copy + 1;; p++)
	{
		if (*p == '/' || *p == '\0')
		{
			char		save = *p;

			*p = '\0';
			if (mkdir(copy, 0777) != 0 && errno != EEXIST)
				bench_fatal("could not create directory \"%s\": %s",
							copy, strerror(errno));
			*p = save;
			if (save == '\0')
				break;
		}
	}
	free(copy);
}

/* Notices (e.g. "table does not exist, skipping") are noise here. */
static void
ignore_notice(void *arg, const char *message)
{
	(void) arg;
	(void) message;
}

/* Connect; on failure return NULL with libpq's message in errbuf. */
PGconn *
bench_connect(const char *conninfo, char *errbuf, size_t errlen)
{
	PGconn	   *conn = PQconnectdb(conninfo);

	if (PQstatus(conn) != CONNECTION_OK)
	{
		snprintf(errbuf, errlen, "could not connect to the server: %s",
				 PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, ignore_notice, NULL);
	return conn;
}

/* Run one statement; on an unexpected status return NULL with the message. */
PGresult *
bench_exec(PGconn *conn, const char *sql, ExecStatusType expect,
		   char *errbuf, size_t errlen)
{
	PGresult   *res = PQexec(conn, sql);

	if (PQresultStatus(res) != expect)
	{
		snprintf(errbuf, errlen, "query failed: %s\nquery was: %.200s",
				 PQerrorMessage(conn), sql);
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * Run a query returning one value (NULL for SQL NULL); exits on error.
 * Caller frees the result.
 */
char *
bench_query_value(PGconn *conn, const char *sql)
{
	char		err[1024];
	PGresult   *res = bench_exec(conn, sql, PGRES_TUPLES_OK, err, sizeof(err));
	char	   *v;

	if (res == NULL)
		bench_fatal("%s", err);
	if (PQntuples(res) != 1 || PQnfields(res) != 1)
		bench_fatal("query returned %d rows, expected one: %s", PQntuples(res), sql);
	v = PQgetisnull(res, 0, 0) ? NULL : bench_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* set_config(name, value) for the session; false with the message in errbuf. */
bool
bench_set_config(PGconn *conn, const char *name, const char *value, char *errbuf, size_t errlen)
{
	const char *values[2] = {name, value};
	PGresult   *res = PQexecParams(conn, "SELECT set_config($1, $2, false)",
								   2, NULL, values, NULL, NULL, 0);
	bool		ok = PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		snprintf(errbuf, errlen, "could not set \"%s\" to \"%s\": %s",
				 name, value, PQerrorMessage(conn));
	PQclear(res);
	return ok;
}

static int
double_cmp(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

void
bench_sort_doubles(double *v, int n)
{
	qsort(v, n, sizeof(double), double_cmp);
}

/* Nearest-rank percentile of n sorted values, 0 < p <= 1. */
double
bench_percentile(const double *sorted, int n, double p)
{
	int			rank = (int) (p * n + 0.999999);

	if (n == 0)
		return 0;
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

/* Run a statement that returns no rows; exit on error. */
void
bench_exec_or_die(PGconn *conn, const char *sql)
{
	char		err[1024];
	PGresult   *res = bench_exec(conn, sql, PGRES_COMMAND_OK, err, sizeof(err));

	if (res == NULL)
		bench_fatal("%s", err);
	PQclear(res);
}

const char *
bench_metric_name(BenchMetric metric)
{
	switch (metric)
	{
		case BENCH_METRIC_L2:
			return "l2";
		case BENCH_METRIC_IP:
			return "ip";
		case BENCH_METRIC_COSINE:
			return "cosine";
	}
	return "?";
}

const char *
bench_metric_operator(BenchMetric metric)
{
	switch (metric)
	{
		case BENCH_METRIC_L2:
			return "<->";
		case BENCH_METRIC_IP:
			return "<#>";
		case BENCH_METRIC_COSINE:
			return "<=>";
	}
	return "?";
}

const char *
bench_vector_type_name(BenchVectorType type)
{
	return type == BENCH_PGVECTOR ? "vector" : "floatvector";
}

/*
 * A vector's binary (send/recv) form, all in network order: a 4-byte header,
 * then dim float4.  floatvector's header is int32 dim; pgvector's vector's is
 * int16 dim and an int16 that must be 0.
 */
char *
bench_vector_binary(BenchVectorType type, const float *x, int dim, int *len)
{
	uint32_t   *w = bench_malloc(4 + 4 * (size_t) dim);

	if (type == BENCH_PGVECTOR)
		w[0] = htonl((uint32_t) dim << 16);
	else
		w[0] = htonl((uint32_t) dim);
	for (int j = 0; j < dim; j++)
	{
		uint32_t	bits;

		memcpy(&bits, &x[j], 4);
		w[j + 1] = htonl(bits);
	}
	*len = 4 + 4 * dim;
	return (char *) w;
}

/* A query's one value as an unsigned integer; exit on error. */
static uint64_t
query_uint64(PGconn *conn, const char *sql, const char *what)
{
	PGresult   *res = PQexec(conn, sql);
	uint64_t	v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		bench_fatal("could not read %s: %s", what, PQerrorMessage(conn));
	v = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

/* pg_current_wal_insert_lsn() in bytes */
uint64_t
bench_wal_position(PGconn *conn)
{
	return query_uint64(conn, "SELECT pg_current_wal_insert_lsn() - '0/0'", "the WAL position");
}

/* The redo position of the last completed checkpoint, in bytes. */
static uint64_t
checkpoint_redo(PGconn *conn)
{
	return query_uint64(conn, "SELECT redo_lsn - '0/0' FROM pg_control_checkpoint()",
						"the last checkpoint's redo position");
}

/*
 * Run a CHECKPOINT, so the next change to every page logs its full image, as
 * it does after any checkpoint; returns its redo position.
 */
uint64_t
bench_checkpoint(PGconn *conn)
{
	bench_exec_or_die(conn, "CHECKPOINT");
	return checkpoint_redo(conn);
}

/* Whether a checkpoint has completed since the one whose redo position is given. */
bool
bench_checkpoint_moved(PGconn *conn, uint64_t redo)
{
	return checkpoint_redo(conn) != redo;
}
