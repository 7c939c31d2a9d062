/*
 * report.c
 *		The results of milvus_bench: a CSV file and a gnuplot picture.
 *
 * Each run adds one CSV row, written and flushed at once so an interrupted
 * sweep keeps what it measured; so do an index method's write jobs
 * (--inserts, --copy), in a row of their own ("job" = writes) whose query
 * columns are empty and which the plot leaves out, and so does the seal of
 * --unsealed ("job" = seal).  At the end, the runs are grouped into plot
 * lines by their series (the method, plus the settings and connection counts
 * that vary outside the method's own sweep) and drawn as recall against QPS
 * on a log scale, the picture ANN benchmarks show.  gnuplot runs as a child
 * process; without it the data and script are still written.  A summary
 * table, a row per filter and a column pair (recall, QPS) per method, goes
 * to stdout.
 */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench.h"

extern char **environ;

static FILE *csv;
static BenchRecord *records;
static int	nrecords;
static int	maxrecords;

static const char *const csv_columns =
"dataset,metric,method,params,series,connections,format,queries,k,"
"filter,filter_rows,rows,dim,"
"recall,avg_rows,short_queries,notices,qps,p50_ms,p99_ms,mean_ms,"
"load_s,load_rows_per_s,load_mb_per_s,build_s,table_bytes,"
"raw_bytes_per_s,heap_bytes_per_s,plan,"
"job,wal_compression,"
"inserts,insert_rows_per_s,insert_wal_bytes_per_row,"
"insert_plain_rows_per_s,insert_plain_wal_bytes_per_row,insert_rate_ratio,insert_wal_ratio,"
"copy_rows,copy_rows_per_s,copy_wal_bytes_per_row,"
"copy_plain_rows_per_s,copy_plain_wal_bytes_per_row,copy_rate_ratio,copy_wal_ratio,"
"insert_graph_rows_per_s,insert_graph_wal_bytes_per_row,insert_graph_rate_ratio,"
"insert_graph_wal_ratio,"
"copy_graph_rows_per_s,copy_graph_wal_bytes_per_row,copy_graph_rate_ratio,copy_graph_wal_ratio,"
"unsealed_rows,seal_how,seal_rows,seal_s,seal_rows_per_s,seal_ms_per_row,build_ms_per_row,"
"search_p99_quiet_ms,search_p99_seal_ms,insert_p99_quiet_ms,insert_max_quiet_ms,"
"insert_p99_seal_ms,insert_max_seal_ms,filter_indexes";

#define CSV_FIELDS			67
#define CSV_FIELD_JOB		29

void
bench_report_open(const char *path)
{
	csv = fopen(path, "w");
	if (csv == NULL)
		bench_fatal("could not create \"%s\": %s", path, strerror(errno));
	fprintf(csv, "%s\n", csv_columns);
	fflush(csv);
}

/* s between quotes, a quote inside written twice (CSV and gnuplot alike). */
static void
put_quoted(FILE *f, const char *s, char quote)
{
	fputc(quote, f);
	for (; *s; s++)
	{
		if (*s == quote)
			fputc(quote, f);
		fputc(*s, f);
	}
	fputc(quote, f);
}

/* A number, or nothing for NaN (not measured). */
static void
csv_number(double v, const char *fmt)
{
	fputc(',', csv);
	if (!isnan(v))
		fprintf(csv, fmt, v);
}

/* A text field, quoted when it holds a comma or a quote. */
static void
csv_text(const char *s, bool first)
{
	if (!first)
		fputc(',', csv);
	if (strpbrk(s, ",\"\n") == NULL)
		fputs(s, csv);
	else
		put_quoted(csv, s, '"');
}

/* Keep a run for the plot. */
static void
keep_record(const BenchRecord *rec)
{
	if (nrecords == maxrecords)
	{
		maxrecords = maxrecords ? 2 * maxrecords : 16;
		records = realloc(records, maxrecords * sizeof(BenchRecord));
		if (records == NULL)
			bench_fatal("out of memory");
	}
	records[nrecords++] = *rec;
}

/* One write job's columns: rows, both rates and WAL per row, the ratios; empty when not run. */
static void
csv_write_job(const BenchWriteResult *indexed, const BenchWriteResult *plain)
{
	bool		ran = indexed->rows > 0;

	csv_number(ran ? indexed->rows : NAN, "%.0f");
	csv_number(ran ? indexed->rows_per_s : NAN, "%.1f");
	csv_number(ran ? indexed->wal_bytes_per_row : NAN, "%.0f");
	csv_number(ran ? plain->rows_per_s : NAN, "%.1f");
	csv_number(ran ? plain->wal_bytes_per_row : NAN, "%.0f");
	csv_number(ran ? indexed->rows_per_s / plain->rows_per_s : NAN, "%.4f");
	csv_number(ran ? indexed->wal_bytes_per_row / plain->wal_bytes_per_row : NAN, "%.3f");
}

/* A job's graph-insert pass: both rates and WAL per row, the ratios; empty when not run. */
static void
csv_graph_job(const BenchWriteResult *graph, const BenchWriteResult *plain)
{
	bool		ran = graph->rows > 0;

	csv_number(ran ? graph->rows_per_s : NAN, "%.1f");
	csv_number(ran ? graph->wal_bytes_per_row : NAN, "%.0f");
	csv_number(ran ? graph->rows_per_s / plain->rows_per_s : NAN, "%.4f");
	csv_number(ran ? graph->wal_bytes_per_row / plain->wal_bytes_per_row : NAN, "%.3f");
}

/* The --unsealed columns: the growing rows, and a seal row's figures. */
static void
csv_seal(const BenchRecord *rec)
{
	const BenchSeal *s = rec->seal;

	csv_number(rec->unsealed_mode ? rec->unsealed_rows : NAN, "%.0f");
	if (s == NULL)
	{
		fputs(",,,,,,,,,,,,", csv);
		return;
	}
	csv_text(s->how, false);
	csv_number((double) s->seal_rows, "%.0f");
	csv_number(s->seal_s, "%.3f");
	csv_number(s->seal_rows / s->seal_s, "%.1f");
	csv_number(s->seal_s * 1000 / s->seal_rows, "%.4f");
	csv_number(s->build_s * 1000 / s->build_rows, "%.4f");
	csv_number(s->search_quiet.p99_ms, "%.3f");
	csv_number(s->search_seal.p99_ms, "%.3f");
	csv_number(s->insert_quiet.p99_ms, "%.3f");
	csv_number(s->insert_quiet.max_ms, "%.3f");
	csv_number(s->insert_seal.p99_ms, "%.3f");
	csv_number(s->insert_seal.max_ms, "%.3f");
}

void
bench_report_add(const BenchRecord *rec)
{
	const BenchRunResult *r = &rec->result;
	const BenchWrites *w = rec->writes;
	bool		query = w == NULL && rec->seal == NULL;
	bool		exact = rec->method->index_using == NULL;
	double		raw_bytes = (double) rec->filter_rows * rec->dim * sizeof(float);

	if (query)
		keep_record(rec);
	csv_text(rec->dataset, true);
	csv_text(rec->metric, false);
	csv_text(rec->method->name, false);
	csv_text(rec->params, false);
	csv_text(rec->series, false);
	fprintf(csv, ",%d,%s", rec->connections, rec->binary ? "binary" : "text");
	if (w == NULL)
		fprintf(csv, ",%d,%d", rec->nqueries, rec->k);
	else
		fputs(",,", csv);
	csv_text(rec->filter, false);
	fprintf(csv, ",%zu,%zu,%d", rec->filter_rows, rec->nbase, rec->dim);
	if (query)
	{
		csv_number(r->recall, "%.4f");
		csv_number(r->avg_rows, "%.3f");
		fprintf(csv, ",%d,%d", r->short_queries, r->notices);
		csv_number(r->qps, "%.2f");
		csv_number(r->p50_ms, "%.3f");
		csv_number(r->p99_ms, "%.3f");
		csv_number(r->mean_ms, "%.3f");
	}
	else
		fputs(",,,,,,,,", csv);	/* recall to mean_ms */
	csv_number(rec->table.load_s, "%.3f");
	csv_number(rec->table.load_rows_per_s, "%.0f");
	csv_number(rec->table.load_mb_per_s, "%.1f");
	csv_number(rec->build_s, "%.3f");
	csv_number((double) rec->table.table_bytes, "%.0f");
	csv_number(exact && query ? raw_bytes * r->qps : NAN, "%.0f");
	csv_number(exact && query ? rec->table.table_bytes * r->qps : NAN, "%.0f");
	csv_text(query ? r->plan : "", false);
	if (w == NULL)
		fprintf(csv, ",%s,,,,,,,,,,,,,,,,,,,,,,,", query ? "queries" : "seal");
	else
	{
		csv_text("writes", false);
		csv_text(w->wal_compression, false);
		csv_write_job(&w->insert_indexed, &w->insert_plain);
		csv_write_job(&w->copy_indexed, &w->copy_plain);
		csv_graph_job(&w->insert_graph, &w->insert_plain);
		csv_graph_job(&w->copy_graph, &w->copy_plain);
	}
	csv_seal(rec);
	csv_text(rec->table.filter_indexes ? "on" : "off", false);
	fputc('\n', csv);
	if (fflush(csv) != 0)
		bench_fatal("could not write the CSV file: %s", strerror(errno));
}

void
bench_report_close(void)
{
	if (csv && fclose(csv) != 0)
		bench_fatal("could not write the CSV file: %s", strerror(errno));
	csv = NULL;
}

static int
record_recall_cmp(const void *a, const void *b)
{
	const BenchRecord *x = *(const BenchRecord *const *) a;
	const BenchRecord *y = *(const BenchRecord *const *) b;

	if (x->result.recall != y->result.recall)
		return x->result.recall < y->result.recall ? -1 : 1;
	return (x->result.qps > y->result.qps) - (x->result.qps < y->result.qps);
}

/* Run "gnuplot script"; false when it could not run or failed. */
static bool
run_gnuplot(const char *script)
{
	char	   *argv[] = {"gnuplot", (char *) script, NULL};
	pid_t		pid;
	int			status;
	int			rc = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);

	if (rc != 0)
	{
		bench_log("could not run gnuplot: %s (install it with \"apt-get install gnuplot-nox\")",
				  strerror(rc));
		return false;
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
	{
		bench_log("gnuplot failed on \"%s\"", script);
		return false;
	}
	return true;
}

/*
 * Write <stem>.dat and <stem>.gp (one data block per series, points in recall
 * order) and render <stem>.png with gnuplot.
 */
void
bench_report_plot(const char *stem)
{
	char		dat[1024],
				gp[1024],
				png[1024],
				title[256];
	FILE	   *fd,
			   *fg;
	const BenchRecord **sorted;
	double		min_recall = 1.0,
				min_qps = INFINITY,
				max_qps = 0;
	int			nseries = 0;

	if (nrecords == 0)
		return;
	snprintf(dat, sizeof(dat), "%s.dat", stem);
	snprintf(gp, sizeof(gp), "%s.gp", stem);
	snprintf(png, sizeof(png), "%s.png", stem);
	snprintf(title, sizeof(title), "%s (%zu x %d), %s, k = %d, %d queries",
			 records[0].dataset, records[0].nbase, records[0].dim, records[0].metric,
			 records[0].k, records[0].nqueries);
	fd = fopen(dat, "w");
	fg = fopen(gp, "w");
	if (fd == NULL || fg == NULL)
		bench_fatal("could not create the plot files \"%s.*\": %s", stem, strerror(errno));

	sorted = bench_malloc(nrecords * sizeof(BenchRecord *));
	for (int i = 0; i < nrecords; i++)
	{
		sorted[i] = &records[i];
		min_recall = fmin(min_recall, records[i].result.recall);
		min_qps = fmin(min_qps, records[i].result.qps);
		max_qps = fmax(max_qps, records[i].result.qps);
	}
	qsort(sorted, nrecords, sizeof(BenchRecord *), record_recall_cmp);

	fprintf(fg, "set terminal pngcairo size 900,700 noenhanced font ',10'\n");
	fprintf(fg, "set output ");
	put_quoted(fg, png, '\'');
	fprintf(fg, "\nset title ");
	put_quoted(fg, title, '\'');
	fprintf(fg, "\nset xlabel 'Recall@%d'\n", records[0].k);
	fprintf(fg, "set ylabel 'Queries per second (log scale)'\n");
	fprintf(fg, "set logscale y\nset grid\nset key below maxcols 2\n");
	/* recall from the tenth below the worst run; QPS a factor of two either side */
	fprintf(fg, "set xrange [%.1f:1.01]\n", fmax(0.0, floor((min_recall - 0.05) * 10) / 10));
	fprintf(fg, "set yrange [%g:%g]\n", min_qps / 2, max_qps * 2);
	/* a log axis labels only powers of ten; add 2 and 5 times them */
	fprintf(fg, "set ytics add (");
	for (int e = (int) floor(log10(min_qps / 2)); e <= (int) ceil(log10(max_qps * 2)); e++)
		fprintf(fg, "%s%g, %g", e == (int) floor(log10(min_qps / 2)) ? "" : ", ",
				2 * pow(10, e), 5 * pow(10, e));
	fprintf(fg, ")\n");
	fprintf(fg, "plot");

	/* one block per series, in order of first appearance */
	for (int i = 0; i < nrecords; i++)
	{
		bool		seen = false;

		for (int j = 0; j < i && !seen; j++)
			seen = strcmp(records[j].series, records[i].series) == 0;
		if (seen)
			continue;
		fprintf(fd, "# %s\n", records[i].series);
		for (int j = 0; j < nrecords; j++)
			if (strcmp(sorted[j]->series, records[i].series) == 0)
				fprintf(fd, "%.5f %.3f\n", sorted[j]->result.recall, sorted[j]->result.qps);
		fprintf(fd, "\n\n");
		fprintf(fg, "%s \\\n  ", nseries ? "," : "");
		put_quoted(fg, dat, '\'');
		fprintf(fg, " index %d using 1:2 with linespoints title ", nseries);
		put_quoted(fg, records[i].series, '\'');
		nseries++;
	}
	fprintf(fg, "\n");
	free(sorted);
	if (fclose(fd) != 0 || fclose(fg) != 0)
		bench_fatal("could not write the plot files \"%s.*\": %s", stem, strerror(errno));
	if (run_gnuplot(gp))
		bench_log("plot: %s", png);
}

/*
 * Split one CSV line (ours: quotes only around fields that need them) into at
 * most max fields, in place; returns how many.
 */
static int
csv_split(char *line, char **fields, int max)
{
	int			n = 0;
	char	   *p = line;

	while (n < max)
	{
		char	   *out = p;

		fields[n++] = p;
		if (*p == '"')
		{
			for (p++;; p++)
			{
				if (*p == '\0')
					return -1;	/* unterminated quote */
				if (*p == '"' && p[1] != '"')
					break;
				if (*p == '"')
					p++;
				*out++ = *p;
			}
			p++;
			if (*p != ',' && *p != '\0')
				return -1;
		}
		else
		{
			p += strcspn(p, ",");
			out = p;
		}
		if (*p == '\0')
		{
			*out = '\0';
			break;
		}
		*out = '\0';
		p++;
	}
	return n;
}

/* Read the runs of a CSV file this tool wrote, for bench_report_plot. */
void
bench_report_load(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[8192];
	char	   *fields[CSV_FIELDS + 1];
	int			lineno = 1;

	if (f == NULL)
		bench_fatal("could not open \"%s\": %s", path, strerror(errno));
	if (fgets(line, sizeof(line), f) == NULL ||
		strncmp(line, csv_columns, strlen(csv_columns)) != 0)
		bench_fatal("file \"%s\" is not a CSV file of this version of milvus_bench", path);
	while (fgets(line, sizeof(line), f) != NULL)
	{
		BenchRecord rec = {0};
		int			n;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		n = csv_split(line, fields, CSV_FIELDS + 1);
		/*
		 * dataset,metric,method,params,series,connections,format,queries,k,
		 * filter,filter_rows,rows,dim,recall,avg_rows,short_queries,notices,qps
		 */
		if (n < 0)
			bench_fatal("file \"%s\", line %d: unterminated quoted field", path, lineno);
		if (n != CSV_FIELDS)
			bench_fatal("file \"%s\", line %d: expected %d fields, found %d",
						path, lineno, CSV_FIELDS, n);
		if (strcmp(fields[CSV_FIELD_JOB], "queries") != 0)
			continue;			/* a method's write jobs: not a point of the plot */
		snprintf(rec.dataset, sizeof(rec.dataset), "%s", fields[0]);
		snprintf(rec.metric, sizeof(rec.metric), "%s", fields[1]);
		snprintf(rec.series, sizeof(rec.series), "%s", fields[4]);
		rec.nqueries = atoi(fields[7]);
		rec.k = atoi(fields[8]);
		snprintf(rec.filter, sizeof(rec.filter), "%s", fields[9]);
		rec.filter_rows = strtoull(fields[10], NULL, 10);
		rec.nbase = strtoull(fields[11], NULL, 10);
		rec.dim = atoi(fields[12]);
		rec.result.recall = strtod(fields[13], NULL);
		rec.result.avg_rows = strtod(fields[14], NULL);
		rec.result.qps = strtod(fields[17], NULL);
		if (!(rec.result.qps > 0) || !(rec.result.recall >= 0))
			bench_fatal("file \"%s\", line %d: bad recall or qps", path, lineno);
		keep_record(&rec);
	}
	fclose(f);
	if (nrecords == 0)
		bench_fatal("file \"%s\" holds no runs", path);
}

/* The position of s among the n strings, or -1. */
static int
find_string(const char *const *list, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return i;
	return -1;
}

/*
 * Print the query runs as one Markdown table: a row per filter, a recall and
 * QPS column pair per method (and per value of any setting that varies), so
 * that milvus's methods and pgvector's stand side by side.  A filter's cell
 * holds its last run.  Nothing for a single run.
 */
void
bench_report_summary(void)
{
	const char **columns = bench_malloc(nrecords * sizeof(char *));
	const char **filters = bench_malloc(nrecords * sizeof(char *));
	const BenchRecord **first_of_filter = bench_malloc(nrecords * sizeof(BenchRecord *));
	int			ncolumns = 0,
				nfilters = 0,
				indexed = 0,
				unindexed = 0;
	bool		one_count = true;	/* all runs had the same number of connections */

	for (int i = 0; i < nrecords; i++)
	{
		const BenchRecord *r = &records[i];

		if (find_string(columns, ncolumns, r->column) < 0)
			columns[ncolumns++] = r->column;
		if (find_string(filters, nfilters, r->filter) < 0)
		{
			first_of_filter[nfilters] = r;
			filters[nfilters++] = r->filter;
		}
		if (strcmp(r->filter, "none") != 0 && r->table.filter_indexes)
			indexed++;
		else if (strcmp(r->filter, "none") != 0)
			unindexed++;
		one_count &= r->connections == records[0].connections;
	}
	if (ncolumns * nfilters > 1)
	{
		char		conns[32] = "";

		if (one_count)
			snprintf(conns, sizeof(conns), ", %d connection%s", records[0].connections,
					 records[0].connections > 1 ? "s" : "");
		printf("\nRecall@%d and QPS: %s (%zu x %d), %s, %d queries%s%s\n\n",
			   records[0].k, records[0].dataset, records[0].nbase, records[0].dim,
			   records[0].metric, records[0].nqueries, conns,
			   indexed + unindexed == 0 ? "" :
			   unindexed == 0 ? ", B-tree indexes on the filter columns" :
			   indexed == 0 ? ", no indexes on the filter columns" :
			   ", filter columns indexed for some runs");
		printf("| filter | WHERE | rows passing |");
		for (int c = 0; c < ncolumns; c++)
			printf(" %s recall@%d | %s QPS |", columns[c], records[0].k, columns[c]);
		printf("\n|---|---|---:|");
		for (int c = 0; c < ncolumns; c++)
			printf("---:|---:|");
		printf("\n");
		for (int f = 0; f < nfilters; f++)
		{
			BenchFilter filter;
			bool		per_query = bench_filter_parse(filters[f], &filter) &&
				bench_filter_per_query(&filter);

			printf("| %s | %s%s | %zu%s |", filters[f], filter.where,
				   per_query ? " (the query's own)" : "",
				   first_of_filter[f]->filter_rows, per_query ? " (mean)" : "");
			for (int c = 0; c < ncolumns; c++)
			{
				const BenchRecord *last = NULL;

				for (int i = 0; i < nrecords; i++)
					if (strcmp(records[i].filter, filters[f]) == 0 &&
						strcmp(records[i].column, columns[c]) == 0)
						last = &records[i];
				if (last)
					printf(" %.4f | %.1f |", last->result.recall, last->result.qps);
				else
					printf(" | |");
			}
			printf("\n");
		}
		fflush(stdout);
	}
	free(columns);
	free(filters);
	free(first_of_filter);
}
