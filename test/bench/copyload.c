/*
 * copyload.c
 *		Time a COPY of new rows into the benchmark table, and its WAL.
 *
 * With --copy N, after a method's queries (and the --inserts passes), N new
 * rows go into the table in one COPY ... FROM STDIN (FORMAT binary), the
 * loader's statement (load.c): once while the index is there, and once more,
 * the same rows, after main.c has dropped it, for the unindexed rate.  A pass
 * starts with a CHECKPOINT, like the inserts, and the rows are deleted
 * afterwards.
 *
 * The rows are drawn from the data set but hold vectors it does not: row i
 * is the midpoint of base row a = i * stride mod nbase and another row of the
 * same label (Fashion-MNIST: class; synthetic data: cluster), the next one
 * after a for the first nbase rows, the one after that for the next nbase,
 * and so on.  So the new vectors follow the data's distribution, and none
 * equals a row of the table (an equal vector would only join an existing
 * graph node, which costs an index much less than a new one).  A pass may
 * start at a later row (first), as the inserts may.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define COPY_FIRST_ID		(BENCH_FIRST_NEW_ID + 500000000)	/* apart from the inserts' */
#define COPY_STRIDE			7919	/* a prime: consecutive rows take unrelated base rows */

static size_t
gcd(size_t a, size_t b)
{
	while (b != 0)
	{
		size_t		t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* The new vectors first to first + n - 1 of the COPY, n x dim. */
static float *
new_vectors(const BenchDataset *ds, int first, int n)
{
	float	   *out = bench_malloc((size_t) n * ds->dim * sizeof(float));
	size_t		stride = COPY_STRIDE;

	/* a stride prime to nbase visits every base row once per nbase rows */
	while (gcd(stride, ds->nbase) != 1)
		stride++;
	for (int i = 0; i < n; i++)
	{
		size_t		a = (size_t) (first + i) * stride % ds->nbase;
		size_t		round = (size_t) (first + i) / ds->nbase;
		size_t		b = a;
		const float *xa = ds->base + a * ds->dim;
		const float *xb;
		float	   *x = out + (size_t) i * ds->dim;

		/* the (round + 1)-th row after a with a's label; a itself if there is none */
		for (size_t seen = 0, j = (a + 1) % ds->nbase; j != a; j = (j + 1) % ds->nbase)
			if (ds->labels[j] == ds->labels[a] && seen++ == round)
			{
				b = j;
				break;
			}
		xb = ds->base + b * ds->dim;
		for (int d = 0; d < ds->dim; d++)
			x[d] = (xa[d] + xb[d]) / 2;
	}
	return out;
}

/*
 * COPY n new rows into the table right after a CHECKPOINT; what names the
 * pass in the log ("hnsw, with the index").
 */
void
bench_copy(PGconn *conn, const BenchDataset *ds, const BenchTable *table,
		   const char *what, int first, int n, BenchWriteResult *result)
{
	char		sql[256];
	float	   *vectors = new_vectors(ds, first, n);
	uint64_t	redo,
				wal0,
				wal1;
	double		start;
	size_t		bytes;

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id >= %d", table->name, BENCH_FIRST_NEW_ID);
	bench_exec_or_die(conn, sql);
	redo = bench_checkpoint(conn);

	wal0 = bench_wal_position(conn);
	start = bench_now();
	bytes = bench_copy_rows(conn, table->name, table->storage->vector_type, n, COPY_FIRST_ID,
							NULL, vectors, ds->dim);
	result->seconds = bench_now() - start;
	wal1 = bench_wal_position(conn);

	result->rows = n;
	result->rows_per_s = n / result->seconds;
	result->wal_bytes_per_row = (double) (wal1 - wal0) / n;
	result->checkpointed = bench_checkpoint_moved(conn, redo);
	bench_log("%s: COPY of %d rows: %.0f rows/s (%.2f s, %.1f MB/s); WAL %.0f bytes/row",
			  what, n, result->rows_per_s, result->seconds, bytes / 1e6 / result->seconds,
			  result->wal_bytes_per_row);
	if (result->checkpointed)
		bench_log("%s: warning: another checkpoint completed during the COPY, "
				  "so WAL per row counts more full-page images (raise max_wal_size)", what);

	bench_exec_or_die(conn, sql);
	free(vectors);
}
