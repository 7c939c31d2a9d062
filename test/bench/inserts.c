/*
 * inserts.c
 *		Time single-row inserts into the benchmark table, and their WAL.
 *
 * With --inserts N, after a method's queries, N rows go in one INSERT
 * statement each (autocommit, a prepared statement, the vector in binary),
 * over the control connection: once while the index is there, and once more,
 * the same rows, after main.c has dropped it, for the unindexed rate.  The
 * vectors are the data set's query vectors, which the table does not hold
 * (past the first nquery rows, one element is shifted so that no vector
 * repeats: an equal vector would only join an existing graph node).  A pass
 * starts with a CHECKPOINT, so its first rows pay full-page images for every
 * page they touch first; the WAL of the first and second half is reported
 * apart, the second being closer to a steady state.  The rows are deleted
 * afterwards (their index entries stay until a VACUUM).  A pass may start
 * at a later row (first), so that repeated passes into one index (one per
 * --write-set value) add new vectors rather than the deleted rows' again.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define INSERT_STMT		"bench_insert"

/*
 * Prepare stmt, the single-row insert into table: $1 the id, $2 the vector
 * in binary; label and bucket -1, outside every filter.
 */
void
bench_insert_prepare(PGconn *conn, const BenchDataset *ds, const BenchTable *table,
					 const char *stmt)
{
	char		sql[512];
	PGresult   *res;

	snprintf(sql, sizeof(sql),
			 "INSERT INTO %s (id, label, bucket, emb) VALUES ($1::int4, -1, -1, $2::floatvector(%d))",
			 table->name, ds->dim);
	res = PQprepare(conn, stmt, sql, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		bench_fatal("could not prepare the insert: %s", PQerrorMessage(conn));
	PQclear(res);
}

/*
 * Run stmt for the i-th new row, with the given id: the vector is query
 * i mod nquery, one element shifted past the first round.  Returns the
 * seconds it took, or a negative number with the error in errbuf.
 */
double
bench_insert_one(PGconn *conn, const BenchDataset *ds, const char *stmt, int32_t id, int i,
				 char *errbuf, size_t errlen)
{
	float	   *x = bench_malloc(sizeof(float) * ds->dim);
	int			q = i % ds->nquery;
	int			round = i / ds->nquery;
	uint32_t	nid = htonl((uint32_t) id);
	const char *values[2];
	int			lengths[2];
	const int	formats[2] = {1, 1};
	char	   *vec;
	PGresult   *res;
	double		start,
				secs;

	memcpy(x, ds->queries + (size_t) q * ds->dim, sizeof(float) * ds->dim);
	if (round > 0)
		x[round % ds->dim] += (float) round;
	vec = bench_vector_binary(BENCH_FLOATVECTOR, x, ds->dim, &lengths[1]);
	values[0] = (const char *) &nid;
	lengths[0] = 4;
	values[1] = vec;
	start = bench_now();
	res = PQexecPrepared(conn, stmt, 2, values, lengths, formats, 0);
	secs = bench_now() - start;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		snprintf(errbuf, errlen, "insert %d failed: %s", i, PQerrorMessage(conn));
		secs = -1;
	}
	PQclear(res);
	free(vec);
	free(x);
	return secs;
}

/* Insert rows [from, to) of the run, vectors from row first on; returns the seconds */
static double
insert_rows(PGconn *conn, const BenchDataset *ds, int first, int from, int to)
{
	double		start = bench_now();
	char		err[1024];

	for (int i = from; i < to; i++)
		if (bench_insert_one(conn, ds, INSERT_STMT, BENCH_FIRST_NEW_ID + i, first + i,
							 err, sizeof(err)) < 0)
			bench_fatal("%s", err);
	return bench_now() - start;
}

/*
 * Insert n rows one statement each, right after a CHECKPOINT; what names the
 * pass in the log ("hnsw, with the index").
 */
void
bench_inserts(PGconn *conn, const BenchDataset *ds, const BenchTable *table,
			  const char *what, int first, int n, BenchWriteResult *result)
{
	char		sql[512];
	uint64_t	redo,
				wal0,
				wal1,
				wal2;
	double		s1,
				s2;
	int			half = n / 2;

	bench_insert_prepare(conn, ds, table, INSERT_STMT);
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id >= %d", table->name, BENCH_FIRST_NEW_ID);
	bench_exec_or_die(conn, sql);
	redo = bench_checkpoint(conn);

	wal0 = bench_wal_position(conn);
	s1 = insert_rows(conn, ds, first, 0, half);
	wal1 = bench_wal_position(conn);
	s2 = insert_rows(conn, ds, first, half, n);
	wal2 = bench_wal_position(conn);

	result->rows = n;
	result->seconds = s1 + s2;
	result->rows_per_s = n / result->seconds;
	result->wal_bytes_per_row = (double) (wal2 - wal0) / n;
	result->checkpointed = bench_checkpoint_moved(conn, redo);
	bench_log("%s: %d single-row inserts: %.0f rows/s; WAL %.0f bytes/row "
			  "(first %d rows after a CHECKPOINT: %.0f, the next %d: %.0f)",
			  what, n, result->rows_per_s, result->wal_bytes_per_row,
			  half, half > 0 ? (double) (wal1 - wal0) / half : 0.0,
			  n - half, (double) (wal2 - wal1) / (n - half));
	if (result->checkpointed)
		bench_log("%s: warning: another checkpoint completed during the inserts, "
				  "so WAL per row counts more full-page images (raise max_wal_size)", what);

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id >= %d", table->name, BENCH_FIRST_NEW_ID);
	bench_exec_or_die(conn, sql);
	bench_exec_or_die(conn, "DEALLOCATE " INSERT_STMT);
}
