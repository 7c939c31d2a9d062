/*
 * runner.c
 *		Run the queries of one run and measure recall, throughput and latency.
 *
 * Each connection is a thread with its own PGconn.  A thread connects, applies
 * the run's session settings, prepares "SELECT id FROM <table> [WHERE
 * <filter>] ORDER BY emb <op> $1::<vector type> LIMIT k" (a filter on the
 * query's own label adds $2, int4), runs a few warm-up queries, then waits
 * at a barrier; the clock starts when all have arrived.  Threads then take query
 * numbers from a shared counter until none are left, so every query runs
 * exactly once whatever the number of connections, and QPS is the number of
 * queries over the wall time.  Latency is per query, from sending it to
 * having its rows.  Query vectors are encoded before the clock starts.  The
 * server's NOTICEs (e.g. an index scan stopped at its tuple limit) are not
 * printed: the run counts the queries that drew one and logs the first.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define STMT_NAME			"mvbench_q"
#define INT4OID				23		/* pg_type.oid of int4, for the filter's $2 */

/* What all threads of a run share. */
typedef struct RunShared
{
	const BenchDataset *ds;
	const BenchRunSpec *spec;
	char		sql[512];
	char	  **params;			/* encoded query vectors */
	int		   *param_len;
	uint32_t   *filter_values;	/* per query, $2 in network order, or NULL without one */
	char	   *explain_sql;	/* EXPLAIN of the first query, run by thread 0 */
	pthread_barrier_t start;
	atomic_int	next;			/* next query number to take */
	atomic_bool failed;
	pthread_mutex_t error_lock;
	char		error[1024];
	double	   *latency_ms;		/* per query */
	int32_t    *ids;			/* per query, k result ids */
	int		   *nids;			/* per query, rows returned */
	char		plan[256];
} RunShared;

typedef struct RunThread
{
	RunShared  *sh;
	int			index;
	pthread_t	tid;
	bool		timed;			/* past the barrier: count NOTICEs */
	int			notices;		/* NOTICEs received while timed */
	int			noticed_queries;	/* timed queries with at least one */
	char		first_notice[512];
} RunThread;

/* libpq notice receiver: count the run's NOTICEs instead of printing them. */
static void
count_notice(void *arg, const PGresult *res)
{
	RunThread  *t = arg;

	if (!t->timed)
		return;
	if (t->notices++ == 0)
		snprintf(t->first_notice, sizeof(t->first_notice), "%s",
				 PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?
				 PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "");
}

/* Record the first error of the run; the others only stop their threads. */
static void
run_fail(RunShared *sh, const char *msg, int thread)
{
	pthread_mutex_lock(&sh->error_lock);
	if (!atomic_load(&sh->failed))
		snprintf(sh->error, sizeof(sh->error), "connection %d: %s", thread + 1, msg);
	atomic_store(&sh->failed, true);
	pthread_mutex_unlock(&sh->error_lock);
}

/* "[1,2,3]", the text form of floatvector. */
static char *
encode_text(const float *x, int dim, int *len)
{
	size_t		cap = 3 + (size_t) dim * 17;
	char	   *s = bench_malloc(cap);
	size_t		n = 0;

	s[n++] = '[';
	for (int j = 0; j < dim; j++)
		n += snprintf(s + n, cap - n, "%s%.9g", j ? "," : "", x[j]);
	s[n++] = ']';
	s[n] = '\0';
	*len = (int) n;
	return s;
}

/* Apply the run's session settings; false with the error recorded. */
static bool
apply_settings(PGconn *conn, const BenchRunSpec *spec, RunShared *sh, int thread)
{
	char		msg[768];

	for (int i = 0; i < spec->nsettings; i++)
		if (!bench_set_config(conn, spec->settings[i].name, spec->settings[i].value,
							  msg, sizeof(msg)))
		{
			run_fail(sh, msg, thread);
			return false;
		}
	return true;
}

/*
 * Boil EXPLAIN (COSTS OFF) output down to its node names, outermost first:
 * "Limit>Gather Merge(2)>Sort>Parallel Seq Scan".
 */
static void
compact_plan(PGresult *res, char *out, size_t outlen)
{
	size_t		n = 0;

	out[0] = '\0';
	for (int r = 0; r < PQntuples(res); r++)
	{
		const char *line = PQgetvalue(res, r, 0);
		const char *arrow = strstr(line, "->  ");
		const char *workers = strstr(line, "Workers Planned: ");
		const char *node;
		size_t		len;

		if (workers && n + 8 < outlen)
		{
			n += snprintf(out + n, outlen - n, "(%d)", atoi(workers + 17));
			continue;
		}
		if (r > 0 && arrow == NULL)
			continue;
		node = arrow ? arrow + 4 : line;
		len = strcspn(node, "(");
		for (const char *cut = node; (cut = strchr(cut, ' ')) != NULL && cut < node + len; cut++)
			if (strncmp(cut, " on ", 4) == 0 || strncmp(cut, " using ", 7) == 0)
			{
				len = cut - node;
				break;
			}
		while (len > 0 && node[len - 1] == ' ')
			len--;
		if (n + len + 2 >= outlen)
			break;
		n += snprintf(out + n, outlen - n, "%s%.*s", n ? ">" : "", (int) len, node);
	}
}

/* Run query q on conn and store its ids; false with the error recorded. */
static bool
run_query(PGconn *conn, RunShared *sh, int thread, int q, bool store)
{
	const BenchRunSpec *spec = sh->spec;
	const char *values[2] = {sh->params[q], NULL};
	int			lengths[2] = {sh->param_len[q], 4};
	const int	formats[2] = {spec->binary ? 1 : 0, 1};
	double		start;
	PGresult   *res;
	double		elapsed;
	int			n;

	if (sh->filter_values)
		values[1] = (const char *) &sh->filter_values[q];
	start = bench_now();
	res = PQexecPrepared(conn, STMT_NAME, sh->filter_values ? 2 : 1, values, lengths,
						 formats, 0);
	elapsed = bench_now() - start;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		char		msg[768];

		snprintf(msg, sizeof(msg), "query %d failed: %s", q, PQerrorMessage(conn));
		run_fail(sh, msg, thread);
		PQclear(res);
		return false;
	}
	if (store)
	{
		n = PQntuples(res) < spec->k ? PQntuples(res) : spec->k;
		for (int i = 0; i < n; i++)
			sh->ids[(size_t) q * spec->k + i] =
				PQgetisnull(res, i, 0) ? -1 : atoi(PQgetvalue(res, i, 0));
		sh->nids[q] = n;
		sh->latency_ms[q] = elapsed * 1000.0;
	}
	PQclear(res);
	return true;
}

static void *
run_thread(void *arg)
{
	RunThread  *t = arg;
	RunShared  *sh = t->sh;
	const BenchRunSpec *spec = sh->spec;
	char		err[1024];
	PGconn	   *conn = bench_connect(spec->conninfo, err, sizeof(err));
	PGresult   *res;
	bool		ok = conn != NULL;

	if (!ok)
		run_fail(sh, err, t->index);
	else
		PQsetNoticeReceiver(conn, count_notice, t);
	ok = ok && apply_settings(conn, spec, sh, t->index);
	if (ok)
	{
		const Oid	types[2] = {0, INT4OID};	/* $1's type comes from its cast */

		res = PQprepare(conn, STMT_NAME, sh->sql, sh->filter_values ? 2 : 1, types);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			snprintf(err, sizeof(err), "could not prepare \"%s\": %s",
					 sh->sql, PQerrorMessage(conn));
			run_fail(sh, err, t->index);
			ok = false;
		}
		PQclear(res);
	}
	if (ok && t->index == 0)
	{
		res = bench_exec(conn, sh->explain_sql, PGRES_TUPLES_OK, err, sizeof(err));
		if (res)
		{
			compact_plan(res, sh->plan, sizeof(sh->plan));
			PQclear(res);
		}
		else
		{
			run_fail(sh, err, t->index);
			ok = false;
		}
	}
	for (int i = 0; ok && i < spec->warmup; i++)
		ok = run_query(conn, sh, t->index, (t->index * spec->warmup + i) % spec->nqueries, false);

	/* everyone arrives, failed or not, or the others would wait forever */
	pthread_barrier_wait(&sh->start);
	t->timed = true;

	while (ok && !atomic_load(&sh->failed))
	{
		int			q = atomic_fetch_add(&sh->next, 1);
		int			before = t->notices;

		if (q >= spec->nqueries)
			break;
		ok = run_query(conn, sh, t->index, q, true);
		if (t->notices > before)
			t->noticed_queries++;
	}
	PQfinish(conn);
	return NULL;
}

/* Run spec's queries and fill result; exits on any server error. */
void
bench_run(const BenchDataset *ds, const BenchGroundTruth *gt,
		  const BenchRunSpec *spec, BenchRunResult *result)
{
	RunShared  *sh = bench_calloc(1, sizeof(RunShared));
	RunThread  *threads = bench_calloc(spec->connections, sizeof(RunThread));
	int			nq = spec->nqueries;
	char	   *first;
	int			first_len;
	double		start,
				recall = 0,
				sum = 0,
				rows = 0;
	size_t		explain_len;
	char		explain_value[32] = "";

	sh->ds = ds;
	sh->spec = spec;
	/* the operators are the same for both vector types: see BenchVectorType */
	snprintf(sh->sql, sizeof(sh->sql),
			 "SELECT id FROM %s%s%s ORDER BY emb %s $1::%s LIMIT %d",
			 spec->table, spec->filter->where[0] ? " WHERE " : "", spec->filter->where,
			 bench_metric_operator(spec->metric), bench_vector_type_name(spec->vector_type),
			 spec->k);
	sh->params = bench_malloc(nq * sizeof(char *));
	sh->param_len = bench_malloc(nq * sizeof(int));
	for (int q = 0; q < nq; q++)
		sh->params[q] = spec->binary ?
			bench_vector_binary(spec->vector_type, ds->queries + (size_t) q * ds->dim, ds->dim,
								&sh->param_len[q]) :
			encode_text(ds->queries + (size_t) q * ds->dim, ds->dim, &sh->param_len[q]);
	if (bench_filter_per_query(spec->filter))
	{
		sh->filter_values = bench_malloc(nq * sizeof(uint32_t));
		for (int q = 0; q < nq; q++)
			sh->filter_values[q] = htonl((uint32_t) bench_filter_value(spec->filter, ds, q));
		snprintf(explain_value, sizeof(explain_value), ", %d",
				 (int) bench_filter_value(spec->filter, ds, 0));
	}
	first = encode_text(ds->queries, ds->dim, &first_len);
	explain_len = first_len + 96;
	sh->explain_sql = bench_malloc(explain_len);
	snprintf(sh->explain_sql, explain_len, "EXPLAIN (COSTS OFF) EXECUTE %s('%s'%s)", STMT_NAME,
			 first, explain_value);
	free(first);
	sh->latency_ms = bench_calloc(nq, sizeof(double));
	sh->ids = bench_malloc((size_t) nq * spec->k * sizeof(int32_t));
	sh->nids = bench_calloc(nq, sizeof(int));
	atomic_init(&sh->next, 0);
	atomic_init(&sh->failed, false);
	pthread_mutex_init(&sh->error_lock, NULL);
	pthread_barrier_init(&sh->start, NULL, spec->connections + 1);

	for (int i = 0; i < spec->connections; i++)
	{
		threads[i].sh = sh;
		threads[i].index = i;
		if (pthread_create(&threads[i].tid, NULL, run_thread, &threads[i]) != 0)
			bench_fatal("could not start a thread for connection %d", i + 1);
	}
	pthread_barrier_wait(&sh->start);
	start = bench_now();
	for (int i = 0; i < spec->connections; i++)
		pthread_join(threads[i].tid, NULL);
	result->wall_s = bench_now() - start;
	if (atomic_load(&sh->failed))
		bench_fatal("%s", sh->error);

	result->short_queries = 0;
	result->notices = 0;
	for (int i = 0; i < spec->connections; i++)
	{
		if (threads[i].notices > 0 && result->notices == 0)
			bench_log("first NOTICE of the run: %s", threads[i].first_notice);
		result->notices += threads[i].noticed_queries;
	}
	for (int q = 0; q < nq; q++)
	{
		recall += bench_gt_recall(ds, gt, spec->metric, spec->filter, q,
								  sh->ids + (size_t) q * spec->k, sh->nids[q], spec->k);
		sum += sh->latency_ms[q];
		rows += sh->nids[q];
		if (sh->nids[q] < bench_gt_want(gt, q, spec->k))
			result->short_queries++;
	}
	bench_sort_doubles(sh->latency_ms, nq);
	result->recall = recall / nq;
	result->avg_rows = rows / nq;
	result->qps = nq / result->wall_s;
	result->p50_ms = bench_percentile(sh->latency_ms, nq, 0.50);
	result->p99_ms = bench_percentile(sh->latency_ms, nq, 0.99);
	result->mean_ms = sum / nq;
	snprintf(result->plan, sizeof(result->plan), "%s", sh->plan);

	pthread_barrier_destroy(&sh->start);
	pthread_mutex_destroy(&sh->error_lock);
	for (int q = 0; q < nq; q++)
		free(sh->params[q]);
	free(sh->params);
	free(sh->param_len);
	free(sh->filter_values);
	free(sh->explain_sql);
	free(sh->latency_ms);
	free(sh->ids);
	free(sh->nids);
	free(sh);
	free(threads);
}
