/*
 * filter.c
 *		The WHERE clauses of filtered runs, and which rows pass them.
 *
 * A filter is named on the command line (--filter) and means the same thing
 * to the server, as a SQL condition on the table's columns, and to the
 * client, as a test of a row number, so the ground truth can be restricted
 * to the rows the server may return:
 *
 *	none		no WHERE clause
 *	pctN		bucket < N, where bucket = id % 100 at load: N % of the rows
 *				(1 <= N <= 100), spread evenly and independent of the vectors
 *	bucketN		bucket = N (0 <= N <= 99): 1 % of the rows, spread the same way
 *	permilleN	id % 1000 = N (0 <= N <= 999): 0.1 % of the rows
 *	labelN		label = N: one class of the data set (Fashion-MNIST: 10 % each,
 *				and close in space, unlike pctN; synthetic data: one cluster)
 *	ownlabel	label = $2, the query's own class (cluster): most of its
 *				nearest neighbours pass, as in a search within one category
 *
 * The values of the fixed filters are literals in the statement, so its text
 * stays the same for every query (one prepared statement, generic plans
 * possible); ownlabel sends the query's label as a second parameter, int4.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define FILTER_BUCKETS		100		/* bucket = id % FILTER_BUCKETS */
#define FILTER_PERMILLE		1000	/* permilleN: id % FILTER_PERMILLE = N */

/* Parse one filter name; false if it is not one. */
bool
bench_filter_parse(const char *name, BenchFilter *filter)
{
	long		v;

	memset(filter, 0, sizeof(*filter));
	if (strlen(name) >= sizeof(filter->name))
		return false;
	snprintf(filter->name, sizeof(filter->name), "%s", name);
	if (strcmp(name, "none") == 0)
		filter->kind = BENCH_FILTER_NONE;
	else if (strncmp(name, "pct", 3) == 0 && bench_parse_int(name + 3, 1, FILTER_BUCKETS, &v))
	{
		filter->kind = BENCH_FILTER_PCT;
		filter->value = (int) v;
		snprintf(filter->where, sizeof(filter->where), "bucket < %d", filter->value);
	}
	else if (strncmp(name, "label", 5) == 0 && bench_parse_int(name + 5, 0, 1000000, &v))
	{
		filter->kind = BENCH_FILTER_LABEL;
		filter->value = (int) v;
		snprintf(filter->where, sizeof(filter->where), "label = %d", filter->value);
	}
	else if (strcmp(name, "ownlabel") == 0)
	{
		filter->kind = BENCH_FILTER_OWNLABEL;
		snprintf(filter->where, sizeof(filter->where), "label = $2");
	}
	else if (strncmp(name, "bucket", 6) == 0 &&
			 bench_parse_int(name + 6, 0, FILTER_BUCKETS - 1, &v))
	{
		filter->kind = BENCH_FILTER_BUCKET;
		filter->value = (int) v;
		snprintf(filter->where, sizeof(filter->where), "bucket = %d", filter->value);
	}
	else if (strncmp(name, "permille", 8) == 0 &&
			 bench_parse_int(name + 8, 0, FILTER_PERMILLE - 1, &v))
	{
		filter->kind = BENCH_FILTER_PERMILLE;
		filter->value = (int) v;
		/* the expression of the index load.c builds, so the planner can use it */
		snprintf(filter->where, sizeof(filter->where), "id %% %d = %d",
				 FILTER_PERMILLE, filter->value);
	}
	else
		return false;
	return true;
}

/* The bucket column's value for row id. */
int32_t
bench_filter_bucket(size_t id)
{
	return (int32_t) (id % FILTER_BUCKETS);
}

/* Whether the rows that pass depend on the query (its value is a parameter). */
bool
bench_filter_per_query(const BenchFilter *filter)
{
	return filter->kind == BENCH_FILTER_OWNLABEL;
}

/* The filter's value for a query: the query's label for ownlabel. */
int32_t
bench_filter_value(const BenchFilter *filter, const BenchDataset *ds, int query)
{
	if (filter->kind == BENCH_FILTER_OWNLABEL)
		return ds->query_labels[query];
	return filter->value;
}

/* Whether row id of the data set passes the filter, for the given query. */
bool
bench_filter_accepts(const BenchFilter *filter, const BenchDataset *ds, int query, size_t id)
{
	switch (filter->kind)
	{
		case BENCH_FILTER_NONE:
			return true;
		case BENCH_FILTER_PCT:
			return bench_filter_bucket(id) < filter->value;
		case BENCH_FILTER_LABEL:
			return ds->labels[id] == filter->value;
		case BENCH_FILTER_OWNLABEL:
			return ds->labels[id] == ds->query_labels[query];
		case BENCH_FILTER_BUCKET:
			return bench_filter_bucket(id) == filter->value;
		case BENCH_FILTER_PERMILLE:
			return (int32_t) (id % FILTER_PERMILLE) == filter->value;
	}
	return false;
}
