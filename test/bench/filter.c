/*
 * filter.c
 *		The WHERE clauses of filtered runs, and which rows pass them.
 *
 * A filter is named on the command line (--filter) and means the same thing
 * to the server, as a SQL condition on the table's columns, and to the
 * client, as a test of a row number, so the ground truth can be restricted
 * to the rows the server may return:
 *
 *	none	no WHERE clause
 *	pctN	bucket < N, where bucket = id % 100 at load: N % of the rows
 *			(1 <= N <= 100), spread evenly and independent of the vectors
 *	labelN	label = N: one class of the data set (Fashion-MNIST: 10 % each,
 *			and close in space, unlike pctN; synthetic data: one cluster)
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define FILTER_BUCKETS		100		/* bucket = id % FILTER_BUCKETS */

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

/* Whether row id of the data set passes the filter. */
bool
bench_filter_accepts(const BenchFilter *filter, const BenchDataset *ds, size_t id)
{
	switch (filter->kind)
	{
		case BENCH_FILTER_NONE:
			return true;
		case BENCH_FILTER_PCT:
			return bench_filter_bucket(id) < filter->value;
		case BENCH_FILTER_LABEL:
			return ds->labels[id] == filter->value;
	}
	return false;
}
