/*
 * seal.c
 *		Search with an unsealed tail, and the cost of sealing it (--unsealed).
 *
 * For an index method, the index is built on the data set without its last
 * N rows, and those rows are then COPYed back: an index with a growing
 * segment (milvus_hnsw) takes them there, unsealed.  main.c runs the queries
 * in that state, holding bench_seal_guard's SHARE lock on the table from
 * another connection meanwhile: it conflicts with VACUUM's lock, so neither
 * autovacuum nor a data coordinator can seal the rows during the runs.  With
 * the lock released, bench_seal_measure times the seal: one connection
 * searches without pause and another inserts a row every
 * INSERT_INTERVAL_MS, first for a quiet stretch, then while the control
 * connection seals (milvus.seal(index) when the extension has it, else
 * VACUUM, which seals too).  Each statement's latency is counted in the
 * phase in which it started.  main.c then runs the queries again, sealed.
 * The rows the seal linked are the growth of milvus_hnsw_stats' heap_tids
 * across it, which counts graph entries only.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#define SEAL_FIRST_ID		(BENCH_FIRST_NEW_ID + 200000000)	/* apart from the write jobs' */
#define INSERT_INTERVAL_MS	20	/* the inserting connection's pace */
#define BENCH_MAX_SEAL_SETTINGS	16	/* as main.c's MAX_AXES */

#define SEARCH_STMT			"bench_seal_search"
#define INSERT_STMT			"bench_seal_insert"

enum
{
	PHASE_QUIET,
	PHASE_SEAL,
	PHASE_STOP,
	NPHASES = PHASE_STOP
};

/* Latencies one thread measured, with the phase each statement started in. */
typedef struct Samples
{
	double	   *ms;
	int		   *phase;
	int			n;
	int			cap;
} Samples;

/* What the measurement's threads share. */
typedef struct SealShared
{
	const BenchDataset *ds;
	const BenchTable *table;
	const BenchRunSpec *search;
	atomic_int	phase;
	pthread_barrier_t ready;
	atomic_bool failed;
	pthread_mutex_t error_lock;
	char		error[1024];
} SealShared;

typedef struct SealThread
{
	SealShared *sh;
	bool		inserter;
	pthread_t	tid;
	Samples		samples;
} SealThread;

static void
samples_add(Samples *s, double ms, int phase)
{
	if (s->n == s->cap)
	{
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->ms = realloc(s->ms, s->cap * sizeof(double));
		s->phase = realloc(s->phase, s->cap * sizeof(int));
		if (s->ms == NULL || s->phase == NULL)
			bench_fatal("out of memory");
	}
	s->ms[s->n] = ms;
	s->phase[s->n] = phase;
	s->n++;
}

/* The latencies of one phase, summarised. */
static void
samples_summary(const Samples *s, int phase, BenchLatency *out)
{
	double	   *v = bench_malloc((s->n ? s->n : 1) * sizeof(double));
	int			n = 0;

	for (int i = 0; i < s->n; i++)
		if (s->phase[i] == phase)
			v[n++] = s->ms[i];
	bench_sort_doubles(v, n);
	out->n = n;
	out->p50_ms = bench_percentile(v, n, 0.50);
	out->p99_ms = bench_percentile(v, n, 0.99);
	out->max_ms = n ? v[n - 1] : 0;
	free(v);
}

static void
seal_fail(SealShared *sh, const char *msg)
{
	pthread_mutex_lock(&sh->error_lock);
	if (!atomic_load(&sh->failed))
		snprintf(sh->error, sizeof(sh->error), "%s", msg);
	atomic_store(&sh->failed, true);
	pthread_mutex_unlock(&sh->error_lock);
}

/* Prepare the search of a run spec (runner.c's statement, without a filter) */
static bool
prepare_search(PGconn *conn, SealShared *sh, char *err, size_t errlen)
{
	const BenchRunSpec *spec = sh->search;
	char		sql[512];
	PGresult   *res;
	bool		ok;

	for (int i = 0; i < spec->nsettings; i++)
		if (!bench_set_config(conn, spec->settings[i].name, spec->settings[i].value, err, errlen))
			return false;
	snprintf(sql, sizeof(sql), "SELECT id FROM %s ORDER BY emb %s $1::floatvector LIMIT %d",
			 sh->table->name, bench_metric_operator(spec->metric), spec->k);
	res = PQprepare(conn, SEARCH_STMT, sql, 0, NULL);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		snprintf(err, errlen, "could not prepare \"%s\": %s", sql, PQerrorMessage(conn));
	PQclear(res);
	return ok;
}

/* One search; its seconds, or negative with the error in err */
static double
search_one(PGconn *conn, const char *vec, int len, char *err, size_t errlen)
{
	const int	format = 1;
	double		start = bench_now();
	PGresult   *res = PQexecPrepared(conn, SEARCH_STMT, 1, &vec, &len, &format, 0);
	double		secs = bench_now() - start;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		snprintf(err, errlen, "search failed: %s", PQerrorMessage(conn));
		secs = -1;
	}
	PQclear(res);
	return secs;
}

static void
sleep_until(double t)
{
	double		left = t - bench_now();

	if (left > 0)
	{
		struct timespec ts = {(time_t) left, (long) ((left - (time_t) left) * 1e9)};

		nanosleep(&ts, NULL);
	}
}

/*
 * A searching connection (queries in turn, without pause) or an inserting
 * one (a row every INSERT_INTERVAL_MS), until the phase is PHASE_STOP.
 */
static void *
seal_thread(void *arg)
{
	SealThread *t = arg;
	SealShared *sh = t->sh;
	const BenchDataset *ds = sh->ds;
	int			nq = sh->search->nqueries;
	char	  **vecs = bench_calloc(nq, sizeof(char *));
	int		   *lens = bench_calloc(nq, sizeof(int));
	char		err[1024];
	PGconn	   *conn = bench_connect(sh->search->conninfo, err, sizeof(err));
	bool		ok = conn != NULL;
	double		next = 0;

	if (ok && t->inserter)
		bench_insert_prepare(conn, ds, sh->table, INSERT_STMT);
	else if (ok)
	{
		ok = prepare_search(conn, sh, err, sizeof(err));
		for (int q = 0; q < nq; q++)
			vecs[q] = bench_vector_binary(BENCH_FLOATVECTOR, ds->queries + (size_t) q * ds->dim,
										 ds->dim, &lens[q]);
	}
	if (!ok)
		seal_fail(sh, err);
	pthread_barrier_wait(&sh->ready);

	for (int i = 0; ok && !atomic_load(&sh->failed); i++)
	{
		int			phase = atomic_load(&sh->phase);
		double		secs;

		if (phase == PHASE_STOP)
			break;
		if (t->inserter)
		{
			next = (next == 0 ? bench_now() : next) + INSERT_INTERVAL_MS / 1000.0;
			secs = bench_insert_one(conn, ds, INSERT_STMT, SEAL_FIRST_ID + i, i,
									err, sizeof(err));
		}
		else
			secs = search_one(conn, vecs[i % nq], lens[i % nq], err, sizeof(err));
		if (secs < 0)
		{
			seal_fail(sh, err);
			break;
		}
		samples_add(&t->samples, secs * 1000.0, phase);
		if (t->inserter)
			sleep_until(next);
	}
	PQfinish(conn);
	for (int q = 0; q < nq; q++)
		free(vecs[q]);
	free(vecs);
	free(lens);
	return NULL;
}

/* Graph entries (heap TIDs) of the table's milvus_hnsw index */
static int64_t
graph_tids(PGconn *conn, const BenchTable *table)
{
	char		sql[256];
	char	   *v;
	int64_t		n;

	snprintf(sql, sizeof(sql), "SELECT heap_tids FROM milvus_hnsw_stats('%s_idx')", table->name);
	v = bench_query_value(conn, sql);
	n = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return n;
}

/*
 * Build method's index on the table without its last n rows, then COPY them
 * back, unsealed.  Fills in the build half of seal.
 */
void
bench_unsealed_prepare(PGconn *conn, const BenchDataset *ds, const BenchTable *table,
					   const BenchMethod *method, BenchMetric metric, int n, BenchSeal *seal)
{
	char		sql[256];
	size_t		first = ds->nbase - n;
	double		start,
				secs;

	memset(seal, 0, sizeof(*seal));
	seal->unsealed_rows = n;
	seal->build_rows = first;
	bench_index_drop(conn, table);
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id >= %zu", table->name, first);
	bench_exec_or_die(conn, sql);
	snprintf(sql, sizeof(sql), "VACUUM %s", table->name);
	bench_exec_or_die(conn, sql);
	bench_log("%s: building the index on the first %zu rows", method->name, first);
	seal->build_s = bench_index_build(conn, table, method, metric);

	start = bench_now();
	bench_copy_rows(conn, table->name, table->storage->vector_type, n, (int32_t) first,
					ds->labels + first, ds->base + first * ds->dim, ds->dim);
	secs = bench_now() - start;
	bench_log("%s: the last %d rows COPYed back in %.2f s (%.0f rows/s); the graph holds %lld rows",
			  method->name, n, secs, n / secs, (long long) graph_tids(conn, table));
}

/* Hold a SHARE lock on the table from a connection of its own: no VACUUM, no seal */
PGconn *
bench_seal_guard(const char *conninfo, const BenchTable *table)
{
	char		err[1024];
	char		sql[256];
	PGconn	   *guard = bench_connect(conninfo, err, sizeof(err));

	if (guard == NULL)
		bench_fatal("%s", err);
	bench_exec_or_die(guard, "BEGIN");
	snprintf(sql, sizeof(sql), "LOCK TABLE %s IN SHARE MODE", table->name);
	bench_exec_or_die(guard, sql);
	return guard;
}

void
bench_seal_guard_release(PGconn *guard)
{
	bench_exec_or_die(guard, "COMMIT");
	PQfinish(guard);
}

/* A setting's value on conn, malloc'd */
static char *
current_setting(PGconn *conn, const char *name)
{
	const char *values[1] = {name};
	PGresult   *res = PQexecParams(conn, "SELECT current_setting($1)", 1, NULL, values, NULL,
								   NULL, 0);
	char	   *value;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		bench_fatal("could not read \"%s\": %s", name, PQerrorMessage(conn));
	value = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (value == NULL)
		bench_fatal("out of memory");
	return value;
}

/*
 * Search and insert from two connections for quiet_s seconds, then seal the
 * table's index from conn, with settings applied for the seal alone, while
 * they go on; fill in the rest of seal.  The rows inserted are deleted, and a
 * VACUUM clears them, before returning.
 */
void
bench_seal_measure(PGconn *conn, const BenchDataset *ds, const BenchTable *table,
				   const BenchRunSpec *search, double quiet_s, const BenchSetting *settings,
				   int nsettings, BenchSeal *seal)
{
	char	   *saved[BENCH_MAX_SEAL_SETTINGS];
	char		err[1024];
	SealShared	sh = {0};
	SealThread	threads[2] = {{0}};
	char		sql[256];
	char	   *have_seal;
	PGresult   *res;
	int64_t		before;
	double		start;

	sh.ds = ds;
	sh.table = table;
	sh.search = search;
	atomic_init(&sh.phase, PHASE_QUIET);
	atomic_init(&sh.failed, false);
	pthread_mutex_init(&sh.error_lock, NULL);
	pthread_barrier_init(&sh.ready, NULL, 3);
	for (int i = 0; i < 2; i++)
	{
		threads[i].sh = &sh;
		threads[i].inserter = i == 1;
		if (pthread_create(&threads[i].tid, NULL, seal_thread, &threads[i]) != 0)
			bench_fatal("could not start a thread");
	}
	pthread_barrier_wait(&sh.ready);
	bench_log("seal: %.0f s of searches and inserts (a row every %d ms) before the seal",
			  quiet_s, INSERT_INTERVAL_MS);
	sleep_until(bench_now() + quiet_s);

	have_seal = bench_query_value(conn, "SELECT to_regprocedure('milvus.seal(regclass)') IS NOT NULL");
	snprintf(seal->how, sizeof(seal->how), "%s", strcmp(have_seal, "t") == 0 ? "milvus.seal" : "VACUUM");
	if (strcmp(have_seal, "t") == 0)
		snprintf(sql, sizeof(sql), "SELECT milvus.seal('%s_idx'::regclass)", table->name);
	else
		snprintf(sql, sizeof(sql), "VACUUM %s", table->name);
	free(have_seal);
	before = graph_tids(conn, table);
	if (before > (int64_t) seal->build_rows)
		bench_log("seal: warning: the graph holds %lld rows, more than the %zu built: something "
				  "sealed the growing rows before the timed seal (a data coordinator: run the "
				  "server with milvus.data_coordinator = off)",
				  (long long) before, seal->build_rows);
	if (nsettings > BENCH_MAX_SEAL_SETTINGS)
		bench_fatal("too many settings for the seal");
	for (int i = 0; i < nsettings; i++)
	{
		saved[i] = current_setting(conn, settings[i].name);
		if (!bench_set_config(conn, settings[i].name, settings[i].value, err, sizeof(err)))
			bench_fatal("%s", err);
		bench_log("seal: %s = %s", settings[i].name, settings[i].value);
	}
	atomic_store(&sh.phase, PHASE_SEAL);
	start = bench_now();
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
		bench_fatal("the seal failed: %s", PQerrorMessage(conn));
	PQclear(res);
	seal->seal_s = bench_now() - start;
	for (int i = 0; i < nsettings; i++)
	{
		if (!bench_set_config(conn, settings[i].name, saved[i], err, sizeof(err)))
			bench_fatal("%s", err);
		free(saved[i]);
	}
	atomic_store(&sh.phase, PHASE_STOP);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i].tid, NULL);
	if (atomic_load(&sh.failed))
		bench_fatal("%s", sh.error);
	seal->seal_rows = graph_tids(conn, table) - before;

	samples_summary(&threads[0].samples, PHASE_QUIET, &seal->search_quiet);
	samples_summary(&threads[0].samples, PHASE_SEAL, &seal->search_seal);
	samples_summary(&threads[1].samples, PHASE_QUIET, &seal->insert_quiet);
	samples_summary(&threads[1].samples, PHASE_SEAL, &seal->insert_seal);
	for (int i = 0; i < 2; i++)
	{
		free(threads[i].samples.ms);
		free(threads[i].samples.phase);
	}
	pthread_barrier_destroy(&sh.ready);
	pthread_mutex_destroy(&sh.error_lock);

	bench_log("seal (%s) of %lld rows: %.2f s, %.0f rows/s, %.3f ms/row; the build: %.3f ms/row "
			  "(%zu rows in %.2f s); seal / build per row: %.2fx",
			  seal->how, (long long) seal->seal_rows, seal->seal_s,
			  seal->seal_rows / seal->seal_s, seal->seal_s * 1000 / seal->seal_rows,
			  seal->build_s * 1000 / seal->build_rows, seal->build_rows, seal->build_s,
			  (seal->seal_s / seal->seal_rows) / (seal->build_s / seal->build_rows));
	bench_log("seal: searches p50/p99/max %.2f/%.2f/%.2f ms quiet (%d), %.2f/%.2f/%.2f ms during "
			  "the seal (%d): p99 %.2fx",
			  seal->search_quiet.p50_ms, seal->search_quiet.p99_ms, seal->search_quiet.max_ms,
			  seal->search_quiet.n, seal->search_seal.p50_ms, seal->search_seal.p99_ms,
			  seal->search_seal.max_ms, seal->search_seal.n,
			  seal->search_seal.p99_ms / seal->search_quiet.p99_ms);
	bench_log("seal: inserts p50/p99/max %.2f/%.2f/%.2f ms quiet (%d), %.2f/%.2f/%.2f ms during "
			  "the seal (%d)",
			  seal->insert_quiet.p50_ms, seal->insert_quiet.p99_ms, seal->insert_quiet.max_ms,
			  seal->insert_quiet.n, seal->insert_seal.p50_ms, seal->insert_seal.p99_ms,
			  seal->insert_seal.max_ms, seal->insert_seal.n);

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id >= %d", table->name, SEAL_FIRST_ID);
	bench_exec_or_die(conn, sql);
	snprintf(sql, sizeof(sql), "VACUUM %s", table->name);
	bench_exec_or_die(conn, sql);
}
