/*
 * main.c
 *		milvus_bench: load a data set, run search methods, report recall,
 *		throughput and latency.  See doc/benchmarks.md.
 *
 * The runs of an invocation are the product of: the methods asked for, the
 * filters, the values of every --set setting, the values of each method's own
 * swept setting (methods.c), and the connection counts.  Each method's table is
 * loaded once per invocation (or reused with --reuse-tables), with B-tree
 * indexes on the filter columns when a filter is asked for (unless
 * --filter-indexes off), its index built once, and every run appends a CSV
 * row; a table of recall and QPS per filter and method, and the plot, come
 * at the end.  A pgvector method is skipped when the server has no pgvector.
 * With --inserts or --copy, a milvus index method's write jobs follow its
 * queries, with the index (its growing segment on, then off) and then
 * without it, and add one more CSV row (one per --write-set value).  With
 * --unsealed N, a milvus index method's index is built without the last N
 * rows, which are then added unsealed; its runs happen in that state, then
 * again after a seal that seal.c times while other connections search and
 * insert.  --collection-api runs collapi.c's measurements instead of all this.
 */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define DEFAULT_FMNIST_DIR	"/usr/share/datasets/fashion-mnist"
#define DEFAULT_QUERIES		1000
#define DEFAULT_K			10
#define DEFAULT_WARMUP		5
#define MAX_AXES			16
#define MAX_METHODS			32
#define MAX_CONNECTIONS		256
#define MAX_FILTERS			16
#define MAX_INSERTS			1000000000L
#define MAX_COPY			100000000L	/* the COPY's ids stay within int4 */
#define MAX_RUNS			1024	/* runs of one method and filter compared by --unsealed */
#define DEFAULT_SEAL_QUIET	10	/* seconds of searches and inserts before the seal */
#define DEFAULT_COLLECTION_ROWS	20000
#define DEFAULT_COLLECTION_DIM	128
#define DEFAULT_COLLECTION_BATCH 1000
#define DEFAULT_COLLECTION_INSERTS 1000
#define DEFAULT_REPEAT		3
#define DEFAULT_BULK_ROWS	1000000

/* A setting and the values a sweep gives it. */
typedef struct SweepAxis
{
	char	   *name;
	char	  **values;
	int			nvalues;
} SweepAxis;

typedef struct BenchOptions
{
	const char *conninfo;
	const char *dataset;
	const char *dataset_dir;
	const BenchMethod *methods[MAX_METHODS];
	int			nmethods;
	BenchMetric metric;
	BenchFilter filters[MAX_FILTERS];
	int			nfilters;
	bool		filter_indexes; /* B-tree indexes on the filter columns, when filtering */
	int			nqueries;
	int			k;
	int			warmup;
	int			inserts;		/* single-row inserts per indexed method, 0 for none */
	int			copy;			/* rows COPYed per indexed method, 0 for none */
	SweepAxis	write_set;		/* a setting the write jobs repeat over; nvalues 0: none */
	int			unsealed;		/* rows added unsealed after the build, 0 for none */
	int			seal_quiet;		/* seconds before the timed seal */
	BenchSetting seal_settings[MAX_AXES];	/* for the timed seal, over the build's */
	int			nseal_settings;
	int			collection_api; /* run collapi.c's measurements instead */
	BenchCollectionSpec collection; /* their sizes */
	int			connections[MAX_CONNECTIONS];
	int			nconnections;
	SweepAxis	sweeps[MAX_AXES];
	int			nsweeps;
	BenchSetting build_settings[MAX_AXES];
	int			nbuild_settings;
	bool		binary;
	int			reuse_tables;	/* ints, as getopt_long sets its flags */
	int			gt_only;
	int			no_plot;
	const char *replot;			/* a CSV file to draw again, or NULL */
	char	   *out_dir;
	const char *name;
} BenchOptions;

static void
usage(void)
{
	printf("milvus_bench measures vector search in PostgreSQL with the milvus extension.\n\n"
		   "Usage:\n  milvus_bench [OPTION]...\n\n"
		   "Options:\n"
		   "  -d, --conninfo=CONNINFO    libpq connection string (default: PG* environment)\n"
		   "  -D, --dataset=SPEC         fashion-mnist (default) or synthetic:ROWS:DIM[:CLUSTERS]\n"
		   "      --dataset-dir=DIR      Fashion-MNIST files (default " DEFAULT_FMNIST_DIR ")\n"
		   "  -m, --method=LIST          comma-separated methods (default flat; see --list-methods)\n"
		   "      --metric=METRIC        l2 (default), ip or cosine\n"
		   "      --filter=LIST          comma-separated filters (default none): none; pctN,\n"
		   "                             N%% of the rows (bucket < N); bucketN, 1%% (bucket = N);\n"
		   "                             permilleN, 0.1%% (id %% 1000 = N); labelN, label = N;\n"
		   "                             ownlabel, label = the query's own label\n"
		   "      --filter-indexes=on|off  B-tree indexes on label, bucket and id %% 1000 for\n"
		   "                             the filtered runs (default on)\n"
		   "  -q, --queries=N            queries per run (default %d)\n"
		   "  -k, --k=N                  neighbours per query, 1..%d (default %d)\n"
		   "  -c, --connections=LIST     comma-separated connection counts (default 1)\n"
		   "  -s, --set=NAME=V1[,V2...]  session setting for every run, swept over its values;\n"
		   "                             may be repeated (runs are the product of all values)\n"
		   "  -b, --build-set=NAME=VALUE session setting for loading, index builds, the write jobs\n"
		   "                             and the seal of --unsealed; may be repeated\n"
		   "  -f, --format=FORMAT        pass query vectors as binary (default) or text\n"
		   "  -w, --warmup=N             untimed queries per connection before each run (default %d)\n"
		   "      --inserts=N            after an index method's queries, time N single-row\n"
		   "                             inserts and their WAL, with the index and without it\n"
		   "      --copy=N               after an index method's queries, time a COPY of N new\n"
		   "                             rows and its WAL, with the index and without it\n"
		   "      --write-set=NAME=V1[,V2...]  repeat the write jobs for each value of a\n"
		   "                             session setting (e.g. wal_compression=off,lz4)\n"
		   "      --unsealed=N           build an index method's index without the last N rows,\n"
		   "                             add them unsealed, run the queries, time a seal\n"
		   "                             while searching and inserting, run them again sealed\n"
		   "      --seal-quiet=SECONDS   searches and inserts before the timed seal (default %d)\n"
		   "      --seal-set=NAME=VALUE  session setting for the timed seal only, over --build-set's\n"
		   "                             (e.g. max_parallel_maintenance_workers=1); may be repeated\n"
		   "      --collection-api       instead of the runs: the collection API (milvus.insert,\n"
		   "                             milvus.search, milvus.bulk_insert) against plain SQL\n"
		   "      --collection-rows=N    rows of its inserts and searched collection (default %d)\n"
		   "      --collection-dim=D     their dimensions (default %d)\n"
		   "      --collection-batch=N   rows per milvus.insert call (default %d)\n"
		   "      --collection-inserts=N single-row inserts per side and run (default %d)\n"
		   "      --repeat=R             runs of each collection API measurement (default %d)\n"
		   "      --bulk-rows=N          rows of the milvus.bulk_insert measurement, 0 to skip\n"
		   "                             (default %d)\n"
		   "  -o, --out=DIR              output folder (default: out/ beside the program)\n"
		   "  -n, --name=NAME            output file name stem (default DATASET-METRIC)\n"
		   "      --reuse-tables         keep a table that already holds this data set\n"
		   "      --gt-only              compute (or check) the ground truth and stop\n"
		   "      --no-plot              write the CSV file only\n"
		   "      --replot=FILE.csv      draw FILE.png again from a CSV file this tool wrote\n"
		   "      --list-methods         show the methods and exit\n"
		   "  -h, --help                 show this help and exit\n",
		   DEFAULT_QUERIES, BENCH_MAX_K, DEFAULT_K, DEFAULT_WARMUP, DEFAULT_SEAL_QUIET,
		   DEFAULT_COLLECTION_ROWS, DEFAULT_COLLECTION_DIM, DEFAULT_COLLECTION_BATCH,
		   DEFAULT_COLLECTION_INSERTS, DEFAULT_REPEAT, DEFAULT_BULK_ROWS);
}

static void
bad_argument(const char *option, const char *value, const char *expected)
{
	bench_fatal("invalid value \"%s\" for %s: %s\n"
				"hint: try \"milvus_bench --help\"", value, option, expected);
}

/* An integer option's value in [min, max]. */
static int
int_option(const char *option, const char *arg, long min, long max)
{
	long		v;
	char		expected[64];

	if (!bench_parse_int(arg, min, max, &v))
	{
		snprintf(expected, sizeof(expected), "expected an integer from %ld to %ld", min, max);
		bad_argument(option, arg, expected);
	}
	return (int) v;
}

/* The position of arg in the NULL-terminated words. */
static int
keyword_option(const char *option, const char *arg, const char *const *words)
{
	char		expected[128] = "expected one of:";

	for (int i = 0; words[i]; i++)
		if (strcmp(arg, words[i]) == 0)
			return i;
	for (int i = 0; words[i]; i++)
		snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
				 " %s", words[i]);
	bad_argument(option, arg, expected);
	return -1;					/* not reached */
}

/* "NAME=V1,V2" into an axis; NAME may not be empty nor any value. */
static void
parse_sweep(const char *option, const char *arg, SweepAxis *axis)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg || eq[1] == '\0')
		bad_argument(option, arg, "expected NAME=VALUE[,VALUE...]");
	axis->name = bench_strdup(arg);
	axis->name[eq - arg] = '\0';
	axis->nvalues = bench_split(eq + 1, ',', &axis->values);
	for (int i = 0; i < axis->nvalues; i++)
		if (axis->values[i][0] == '\0')
			bad_argument(option, arg, "empty value in the list");
}

/* Split an option's comma-separated list of at most max items. */
static int
split_option(const char *option, const char *arg, int max, char ***items)
{
	int			n = bench_split(arg, ',', items);

	if (n > max)
		bad_argument(option, arg, "too many values");
	return n;
}

static void
parse_methods(const char *arg, BenchOptions *opt)
{
	char	  **names;
	int			n = split_option("--method", arg, MAX_METHODS, &names);

	opt->nmethods = 0;
	for (int i = 0; i < n; i++)
	{
		const BenchMethod *m = bench_method_find(names[i]);

		if (m == NULL)
			bench_fatal("unknown method \"%s\"\nhint: \"milvus_bench --list-methods\" shows them",
						names[i]);
		if (bench_storage_find(m->storage) == NULL)
			bench_fatal("method \"%s\" names unknown table layout \"%s\"", m->name, m->storage);
		opt->methods[opt->nmethods++] = m;
	}
	bench_free_list(names, n);
}

static void
parse_filters(const char *arg, BenchOptions *opt)
{
	char	  **names;
	int			n = split_option("--filter", arg, MAX_FILTERS, &names);

	for (int i = 0; i < n; i++)
		if (!bench_filter_parse(names[i], &opt->filters[i]))
			bad_argument("--filter", names[i],
						 "expected none, pctN (1 <= N <= 100), bucketN (0 <= N <= 99), "
						 "permilleN (0 <= N <= 999), labelN or ownlabel");
	opt->nfilters = n;
	bench_free_list(names, n);
}

static void
parse_connections(const char *arg, BenchOptions *opt)
{
	char	  **items;
	int			n = split_option("--connections", arg, MAX_CONNECTIONS, &items);

	for (int i = 0; i < n; i++)
		opt->connections[i] = int_option("--connections", items[i], 1, MAX_CONNECTIONS);
	opt->nconnections = n;
	bench_free_list(items, n);
}

/* Default output folder: out/ beside the program, or ./out. */
static char *
default_out_dir(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	char	   *dir;

	if (slash == NULL)
		return bench_strdup("out");
	dir = bench_malloc(slash - argv0 + 5);
	memcpy(dir, argv0, slash - argv0);
	strcpy(dir + (slash - argv0), "/out");
	return dir;
}

/* One NAME=VALUE of an option that takes a single value, added to settings */
static void
add_setting(const char *option, const char *arg, BenchSetting *settings, int *n)
{
	SweepAxis	axis;

	if (*n == MAX_AXES)
		bad_argument(option, arg, "too many settings");
	parse_sweep(option, arg, &axis);
	if (axis.nvalues != 1)
		bad_argument(option, arg, "expected one value");
	settings[*n].name = axis.name;
	settings[*n].value = axis.values[0];
	(*n)++;
	free(axis.values);
}

static void
parse_options(int argc, char **argv, BenchOptions *opt)
{
	enum
	{
		OPT_DATASET_DIR = 256, OPT_METRIC, OPT_FILTER, OPT_REPLOT, OPT_LIST, OPT_INSERTS,
		OPT_COPY, OPT_WRITE_SET, OPT_UNSEALED, OPT_SEAL_QUIET, OPT_SEAL_SET, OPT_FILTER_INDEXES,
		OPT_COLLECTION_ROWS, OPT_COLLECTION_DIM, OPT_COLLECTION_BATCH, OPT_COLLECTION_INSERTS,
		OPT_REPEAT, OPT_BULK_ROWS
	};
	const struct option long_options[] = {
		{"conninfo", required_argument, NULL, 'd'},
		{"dataset", required_argument, NULL, 'D'},
		{"dataset-dir", required_argument, NULL, OPT_DATASET_DIR},
		{"method", required_argument, NULL, 'm'},
		{"metric", required_argument, NULL, OPT_METRIC},
		{"filter", required_argument, NULL, OPT_FILTER},
		{"filter-indexes", required_argument, NULL, OPT_FILTER_INDEXES},
		{"queries", required_argument, NULL, 'q'},
		{"k", required_argument, NULL, 'k'},
		{"connections", required_argument, NULL, 'c'},
		{"set", required_argument, NULL, 's'},
		{"build-set", required_argument, NULL, 'b'},
		{"format", required_argument, NULL, 'f'},
		{"warmup", required_argument, NULL, 'w'},
		{"inserts", required_argument, NULL, OPT_INSERTS},
		{"copy", required_argument, NULL, OPT_COPY},
		{"write-set", required_argument, NULL, OPT_WRITE_SET},
		{"unsealed", required_argument, NULL, OPT_UNSEALED},
		{"seal-quiet", required_argument, NULL, OPT_SEAL_QUIET},
		{"seal-set", required_argument, NULL, OPT_SEAL_SET},
		{"collection-api", no_argument, &opt->collection_api, 1},
		{"collection-rows", required_argument, NULL, OPT_COLLECTION_ROWS},
		{"collection-dim", required_argument, NULL, OPT_COLLECTION_DIM},
		{"collection-batch", required_argument, NULL, OPT_COLLECTION_BATCH},
		{"collection-inserts", required_argument, NULL, OPT_COLLECTION_INSERTS},
		{"repeat", required_argument, NULL, OPT_REPEAT},
		{"bulk-rows", required_argument, NULL, OPT_BULK_ROWS},
		{"out", required_argument, NULL, 'o'},
		{"name", required_argument, NULL, 'n'},
		{"reuse-tables", no_argument, &opt->reuse_tables, 1},
		{"gt-only", no_argument, &opt->gt_only, 1},
		{"no-plot", no_argument, &opt->no_plot, 1},
		{"replot", required_argument, NULL, OPT_REPLOT},
		{"list-methods", no_argument, NULL, OPT_LIST},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	memset(opt, 0, sizeof(*opt));
	opt->conninfo = "";
	opt->dataset = "fashion-mnist";
	opt->dataset_dir = DEFAULT_FMNIST_DIR;
	opt->metric = BENCH_METRIC_L2;
	opt->nqueries = DEFAULT_QUERIES;
	opt->k = DEFAULT_K;
	opt->warmup = DEFAULT_WARMUP;
	opt->seal_quiet = DEFAULT_SEAL_QUIET;
	opt->connections[0] = 1;
	opt->nconnections = 1;
	opt->binary = true;
	opt->filter_indexes = true;
	opt->collection.rows = DEFAULT_COLLECTION_ROWS;
	opt->collection.dim = DEFAULT_COLLECTION_DIM;
	opt->collection.batch = DEFAULT_COLLECTION_BATCH;
	opt->collection.inserts = DEFAULT_COLLECTION_INSERTS;
	opt->collection.repeat = DEFAULT_REPEAT;
	opt->collection.bulk_rows = DEFAULT_BULK_ROWS;
	parse_methods("flat", opt);
	parse_filters("none", opt);

	while ((c = getopt_long(argc, argv, "d:D:m:q:k:c:s:b:f:w:o:n:h", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				opt->conninfo = optarg;
				break;
			case 'D':
				opt->dataset = optarg;
				break;
			case OPT_DATASET_DIR:
				opt->dataset_dir = optarg;
				break;
			case 'm':
				parse_methods(optarg, opt);
				break;
			case OPT_METRIC:
				/* in BenchMetric order */
				opt->metric = keyword_option("--metric", optarg,
											 (const char *[]) {"l2", "ip", "cosine", NULL});
				break;
			case OPT_FILTER:
				parse_filters(optarg, opt);
				break;
			case OPT_FILTER_INDEXES:
				opt->filter_indexes = keyword_option("--filter-indexes", optarg,
													 (const char *[]) {"off", "on", NULL}) == 1;
				break;
			case 'q':
				opt->nqueries = int_option("--queries", optarg, 1, 100000000L);
				break;
			case 'k':
				opt->k = int_option("--k", optarg, 1, BENCH_MAX_K);
				break;
			case 'c':
				parse_connections(optarg, opt);
				break;
			case 's':
				if (opt->nsweeps == MAX_AXES)
					bad_argument("--set", optarg, "too many settings");
				parse_sweep("--set", optarg, &opt->sweeps[opt->nsweeps++]);
				break;
			case 'b':
				add_setting("--build-set", optarg, opt->build_settings, &opt->nbuild_settings);
				break;
			case 'f':
				opt->binary = keyword_option("--format", optarg,
											 (const char *[]) {"text", "binary", NULL}) == 1;
				break;
			case 'w':
				opt->warmup = int_option("--warmup", optarg, 0, 1000000L);
				break;
			case OPT_INSERTS:
				opt->inserts = int_option("--inserts", optarg, 0, MAX_INSERTS);
				break;
			case OPT_COPY:
				opt->copy = int_option("--copy", optarg, 0, MAX_COPY);
				break;
			case OPT_WRITE_SET:
				parse_sweep("--write-set", optarg, &opt->write_set);
				if (opt->write_set.nvalues > MAX_AXES)
					bad_argument("--write-set", optarg, "too many values");
				break;
			case OPT_UNSEALED:
				opt->unsealed = int_option("--unsealed", optarg, 0, MAX_COPY);
				break;
			case OPT_SEAL_QUIET:
				opt->seal_quiet = int_option("--seal-quiet", optarg, 0, 3600);
				break;
			case OPT_SEAL_SET:
				add_setting("--seal-set", optarg, opt->seal_settings, &opt->nseal_settings);
				break;
			case OPT_COLLECTION_ROWS:
				opt->collection.rows = int_option("--collection-rows", optarg, 1, MAX_COPY);
				break;
			case OPT_COLLECTION_DIM:
				opt->collection.dim = int_option("--collection-dim", optarg, 1, 32768);
				break;
			case OPT_COLLECTION_BATCH:
				opt->collection.batch = int_option("--collection-batch", optarg, 1, 1000000L);
				break;
			case OPT_COLLECTION_INSERTS:
				opt->collection.inserts = int_option("--collection-inserts", optarg, 1,
													 MAX_COPY);
				break;
			case OPT_REPEAT:
				opt->collection.repeat = int_option("--repeat", optarg, 1, BENCH_MAX_REPEAT);
				break;
			case OPT_BULK_ROWS:
				opt->collection.bulk_rows = int_option("--bulk-rows", optarg, 0, MAX_COPY);
				break;
			case 'o':
				opt->out_dir = bench_strdup(optarg);
				break;
			case 'n':
				if (optarg[0] == '\0' || strchr(optarg, '/') != NULL)
					bad_argument("--name", optarg, "expected a file name stem without '/'");
				opt->name = optarg;
				break;
			case 0:				/* a flag getopt_long has set */
				break;
			case OPT_REPLOT:
				opt->replot = optarg;
				break;
			case OPT_LIST:
				bench_methods_print();
				exit(0);
			case 'h':
				usage();
				exit(0);
			default:
				fprintf(stderr, "Try \"milvus_bench --help\" for more information.\n");
				exit(1);
		}
	}
	if (optind < argc)
		bench_fatal("unexpected argument \"%s\"\nhint: try \"milvus_bench --help\"", argv[optind]);
	if (opt->out_dir == NULL)
		opt->out_dir = default_out_dir(argv[0]);
}

/* Apply settings on the control connection, for loading and index builds. */
static void
apply_build_settings(PGconn *conn, const BenchOptions *opt)
{
	char		err[1024];

	for (int i = 0; i < opt->nbuild_settings; i++)
		if (!bench_set_config(conn, opt->build_settings[i].name, opt->build_settings[i].value,
							  err, sizeof(err)))
			bench_fatal("%s", err);
}

/* Make sure the extension is there; returns the control connection. */
static PGconn *
connect_control(const BenchOptions *opt)
{
	char		err[1024];
	PGconn	   *conn = bench_connect(opt->conninfo, err, sizeof(err));
	PGresult   *res;

	if (conn == NULL)
		bench_fatal("%s", err);
	res = bench_exec(conn, "CREATE EXTENSION IF NOT EXISTS milvus", PGRES_COMMAND_OK,
					 err, sizeof(err));
	if (res == NULL)
		bench_fatal("%s\nhint: build and install the extension first (make && make install)", err);
	PQclear(res);
	apply_build_settings(conn, opt);
	return conn;
}

/* Append "name=value" to a ';'-separated list. */
static void
append_param(char *buf, size_t len, const char *name, const char *value)
{
	size_t		n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s=%s", n ? ";" : "", name, value);
}

/* Print the heading of the result lines on stdout. */
static void
print_heading(void)
{
	printf("%-14s %-11s %-4s %-48s %5s %7s %8s %9s %9s %9s %9s  %s\n",
		   "method", "filter", "fidx", "settings", "conns", "recall", "avg_rows", "qps",
		   "p50_ms", "p99_ms", "MB/s_raw", "plan");
}

static void
print_record(const BenchRecord *rec)
{
	const BenchRunResult *r = &rec->result;
	double		raw = (double) rec->filter_rows * rec->dim * sizeof(float) * r->qps / 1e6;

	printf("%-14s %-11s %-4s %-48s %5d %7.4f %8.3f %9.2f %9.3f %9.3f ",
		   rec->method->name, rec->filter, rec->table.filter_indexes ? "on" : "off",
		   rec->params[0] ? rec->params : "-",
		   rec->connections, r->recall, r->avg_rows, r->qps, r->p50_ms, r->p99_ms);
	if (rec->method->index_using == NULL)
		printf("%9.1f", raw);
	else
		printf("%9s", "-");
	printf("  %s", r->plan);
	if (r->short_queries > 0)
		printf("  [%d queries short of %d rows]", r->short_queries,
			   rec->filter_rows < (size_t) rec->k ? (int) rec->filter_rows : rec->k);
	if (r->notices > 0)
		printf("  [%d queries with a NOTICE]", r->notices);
	printf("\n");
	fflush(stdout);
}

/*
 * The setting axes of a method's runs: the --set settings and, unless --set
 * names the same setting, the method's own sweep, last.  Returns how many;
 * *own_sweep says whether the last is the method's (the caller frees its
 * values with bench_free_list).
 */
static int
method_axes(const BenchOptions *opt, const BenchMethod *method, SweepAxis *axes,
			bool *own_sweep_out)
{
	int			naxes = 0;
	bool		own_sweep = method->sweep_setting != NULL;

	for (int i = 0; i < opt->nsweeps; i++)
	{
		axes[naxes++] = opt->sweeps[i];
		if (own_sweep && strcmp(opt->sweeps[i].name, method->sweep_setting) == 0)
			own_sweep = false;
	}
	if (own_sweep)
	{
		axes[naxes].name = (char *) method->sweep_setting;
		axes[naxes].nvalues = bench_split(method->sweep_values, ',', &axes[naxes].values);
		naxes++;
	}
	*own_sweep_out = own_sweep;
	return naxes;
}

/* Append formatted text to a string held in a buffer of len bytes. */
static void __attribute__((format(printf, 3, 4)))
append_text(char *buf, size_t len, const char *fmt,...)
{
	size_t		n = strlen(buf);
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/*
 * Run every combination of the sweeps for one method and filter on its
 * table, against that filter's ground truth; the last axis is the
 * connection count.  A filtered run also gets filtered_setting
 * ("NAME=VALUE", the method's, when the server has it), NULL for none.
 * With --unsealed, state ("unsealed 10000", "sealed")
 * joins the series and unsealed_rows the records.  Returns the number of
 * runs, their results in results when not NULL (at most MAX_RUNS).
 */
static int
run_method(const BenchOptions *opt, const BenchDataset *ds, const BenchFilter *filter,
		   const BenchGroundTruth *gt, const BenchMethod *method, const BenchTable *table,
		   const char *filtered_setting, double build_s, const char *state, int unsealed_rows,
		   BenchRunResult *results)
{
	SweepAxis	axes[MAX_AXES + 1];
	bool		own_sweep;
	int			naxes = method_axes(opt, method, axes, &own_sweep);
	int			pos[MAX_AXES + 1] = {0};
	BenchSetting settings[MAX_AXES + 2];
	int			nsettings = naxes;
	char		extra[256];
	int			nruns = 0;

	if (filtered_setting && filter->kind != BENCH_FILTER_NONE)
	{
		snprintf(extra, sizeof(extra), "%s", filtered_setting);
		settings[nsettings].name = extra;
		settings[nsettings].value = strchr(extra, '=') + 1;
		settings[nsettings].value[-1] = '\0';
		nsettings++;
	}

	for (;;)
	{
		for (int ci = 0; ci < opt->nconnections; ci++)
		{
			BenchRunSpec spec = {0};
			BenchRecord rec = {0};

			snprintf(rec.series, sizeof(rec.series), "%s%s%s", method->name,
					 state ? " " : "", state ? state : "");
			snprintf(rec.column, sizeof(rec.column), "%s", rec.series);
			if (opt->nfilters > 1)
				append_text(rec.series, sizeof(rec.series), " filter=%s", filter->name);
			for (int a = 0; a < naxes; a++)
			{
				settings[a].name = axes[a].name;
				settings[a].value = axes[a].values[pos[a]];
				append_param(rec.params, sizeof(rec.params), axes[a].name, settings[a].value);
				/* the method's own sweep draws the line; other varying settings split it */
				if (axes[a].nvalues > 1 && !(own_sweep && a == naxes - 1))
					append_text(rec.series, sizeof(rec.series), " %s=%s",
								axes[a].name, settings[a].value);
				/* a summary column per value of every varying setting */
				if (axes[a].nvalues > 1)
					append_text(rec.column, sizeof(rec.column), " %s=%s",
								axes[a].name, settings[a].value);
			}
			for (int a = naxes; a < nsettings; a++)
				append_param(rec.params, sizeof(rec.params), settings[a].name,
							 settings[a].value);
			if (opt->nconnections > 1)
			{
				append_text(rec.series, sizeof(rec.series), " conns=%d", opt->connections[ci]);
				append_text(rec.column, sizeof(rec.column), " conns=%d", opt->connections[ci]);
			}

			spec.method = method;
			spec.conninfo = opt->conninfo;
			spec.table = table->name;
			spec.vector_type = table->storage->vector_type;
			spec.filter = filter;
			spec.metric = opt->metric;
			spec.settings = settings;
			spec.nsettings = nsettings;
			spec.connections = opt->connections[ci];
			spec.nqueries = opt->nqueries;
			spec.k = opt->k;
			spec.warmup = opt->warmup;
			spec.binary = opt->binary;
			bench_run(ds, gt, &spec, &rec.result);

			snprintf(rec.dataset, sizeof(rec.dataset), "%s", ds->name);
			snprintf(rec.metric, sizeof(rec.metric), "%s", bench_metric_name(opt->metric));
			rec.method = method;
			rec.connections = spec.connections;
			rec.binary = opt->binary;
			rec.nqueries = opt->nqueries;
			rec.k = opt->k;
			snprintf(rec.filter, sizeof(rec.filter), "%s", filter->name);
			rec.filter_rows = gt->npass;
			rec.nbase = ds->nbase;
			rec.dim = ds->dim;
			rec.table = *table;
			rec.build_s = build_s;
			rec.unsealed_mode = state != NULL;
			rec.unsealed_rows = unsealed_rows;
			bench_report_add(&rec);
			print_record(&rec);
			if (results && nruns < MAX_RUNS)
				results[nruns] = rec.result;
			nruns++;
		}

		/* next combination, odometer-style */
		{
			int			a = naxes - 1;

			while (a >= 0 && ++pos[a] == axes[a].nvalues)
				pos[a--] = 0;
			if (a < 0)
				break;
		}
	}
	if (own_sweep)
		bench_free_list(axes[naxes - 1].values, axes[naxes - 1].nvalues);
	return nruns;
}

/* Log indexed against unindexed for one write job. */
static void
log_ratio(const char *method, const char *job, const BenchWriteResult *indexed,
		  const BenchWriteResult *plain, const char *wal_compression)
{
	bench_log("%s: %s with the index / without: %.3gx the rate (%.0f / %.0f rows/s), "
			  "%.3gx the WAL per row (%.0f / %.0f bytes), wal_compression = %s",
			  method, job, indexed->rows_per_s / plain->rows_per_s,
			  indexed->rows_per_s, plain->rows_per_s,
			  indexed->wal_bytes_per_row / plain->wal_bytes_per_row,
			  indexed->wal_bytes_per_row, plain->wal_bytes_per_row, wal_compression);
}

/* The session's value of a setting, or "" when it does not exist. */
static void
show_setting(PGconn *conn, const char *name, char *out, size_t outlen)
{
	const char *values[1] = {name};
	PGresult   *res = PQexecParams(conn, "SELECT current_setting($1, true)",
								   1, NULL, values, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		bench_fatal("could not read %s: %s", name, PQerrorMessage(conn));
	snprintf(out, outlen, "%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
	PQclear(res);
}

static void
set_or_die(PGconn *conn, const char *name, const char *value)
{
	char		err[1024];

	if (!bench_set_config(conn, name, value, err, sizeof(err)))
		bench_fatal("%s", err);
}

/*
 * One state's passes: single-row inserts, then the COPY; growing, when not
 * NULL, is milvus.hnsw_growing_segment's value for them.
 */
static void
write_passes(PGconn *conn, const BenchOptions *opt, const BenchDataset *ds,
			 const BenchTable *table, const char *what, const char *growing, int pass,
			 BenchWriteResult *inserts, BenchWriteResult *copy)
{
	if (growing)
		set_or_die(conn, "milvus.hnsw_growing_segment", growing);
	if (opt->inserts > 0)
		bench_inserts(conn, ds, table, what, pass * opt->inserts, opt->inserts, inserts);
	if (opt->copy > 0)
		bench_copy(conn, ds, table, what, pass * opt->copy, opt->copy, copy);
}

/*
 * The write jobs of an index method, after its queries: single-row inserts
 * and a COPY into the indexed table, first into its growing segment, then
 * with milvus.hnsw_growing_segment off (into the graph at once, when the
 * extension has the setting), then the index dropped and the same rows
 * again, so all passes write to the same heap.  With --write-set, the passes
 * of each state repeat for each of its values, the v-th with the v-th set of
 * new rows (the same in every state).  Autovacuum is off for the
 * table meanwhile (it would vacuum the index in the middle of a pass and add
 * its WAL); a VACUUM afterwards, without the index, clears the rows the
 * passes deleted.  Adds the method's writes rows to the CSV file.
 */
static void
measure_writes(PGconn *conn, const BenchOptions *opt, const BenchDataset *ds,
			   const BenchMethod *method, const BenchTable *table, double build_s)
{
	BenchWrites w[MAX_AXES];
	int			nvalues = opt->write_set.nvalues > 0 ? opt->write_set.nvalues : 1;
	char		sql[512];
	char		what[BENCH_NAME_LEN + 128];
	char		growing[16];
	char		saved[128];

	memset(w, 0, sizeof(w));
	show_setting(conn, "milvus.hnsw_growing_segment", growing, sizeof(growing));
	if (opt->write_set.nvalues > 0)
		show_setting(conn, opt->write_set.name, saved, sizeof(saved));
	snprintf(sql, sizeof(sql), "ALTER TABLE %s SET (autovacuum_enabled = off)", table->name);
	bench_exec_or_die(conn, sql);

	for (int state = 0; state < 3; state++)
	{
		if (state == 1 && growing[0] == '\0')
			continue;			/* no growing segment to turn off */
		if (state == 2)
			bench_index_drop(conn, table);
		for (int v = 0; v < nvalues; v++)
		{
			BenchWrites *wv = &w[v];

			if (opt->write_set.nvalues > 0)
			{
				set_or_die(conn, opt->write_set.name, opt->write_set.values[v]);
				snprintf(wv->write_set, sizeof(wv->write_set), "%s=%s",
						 opt->write_set.name, opt->write_set.values[v]);
			}
			show_setting(conn, "wal_compression", wv->wal_compression,
						 sizeof(wv->wal_compression));
			snprintf(what, sizeof(what), "%s, %s%s%s", method->name,
					 state == 0 ? "with the index (growing segment)" :
					 state == 1 ? "with the index (graph inserts)" : "index dropped",
					 wv->write_set[0] ? ", " : "", wv->write_set);
			if (state == 0)
				write_passes(conn, opt, ds, table, what, growing[0] ? "on" : NULL, v,
							 &wv->insert_indexed, &wv->copy_indexed);
			else if (state == 1)
				write_passes(conn, opt, ds, table, what, "off", v,
							 &wv->insert_graph, &wv->copy_graph);
			else
				write_passes(conn, opt, ds, table, what, NULL, v,
							 &wv->insert_plain, &wv->copy_plain);
		}
	}
	if (growing[0])
		set_or_die(conn, "milvus.hnsw_growing_segment", growing);
	if (opt->write_set.nvalues > 0)
		set_or_die(conn, opt->write_set.name, saved);

	snprintf(sql, sizeof(sql), "ALTER TABLE %s RESET (autovacuum_enabled)", table->name);
	bench_exec_or_die(conn, sql);
	snprintf(sql, sizeof(sql), "VACUUM %s", table->name);
	bench_exec_or_die(conn, sql);

	for (int v = 0; v < nvalues; v++)
	{
		BenchRecord rec = {0};

		if (opt->inserts > 0)
		{
			log_ratio(method->name, "single-row inserts, growing segment", &w[v].insert_indexed,
					  &w[v].insert_plain, w[v].wal_compression);
			if (w[v].insert_graph.rows > 0)
				log_ratio(method->name, "single-row inserts, graph inserts", &w[v].insert_graph,
						  &w[v].insert_plain, w[v].wal_compression);
		}
		if (opt->copy > 0)
		{
			log_ratio(method->name, "COPY, growing segment", &w[v].copy_indexed,
					  &w[v].copy_plain, w[v].wal_compression);
			if (w[v].copy_graph.rows > 0)
				log_ratio(method->name, "COPY, graph inserts", &w[v].copy_graph,
						  &w[v].copy_plain, w[v].wal_compression);
		}

		snprintf(rec.dataset, sizeof(rec.dataset), "%s", ds->name);
		snprintf(rec.metric, sizeof(rec.metric), "%s", bench_metric_name(opt->metric));
		rec.method = method;
		for (int i = 0; i < opt->nbuild_settings; i++)
			append_param(rec.params, sizeof(rec.params), opt->build_settings[i].name,
						 opt->build_settings[i].value);
		if (w[v].write_set[0])
			append_param(rec.params, sizeof(rec.params), opt->write_set.name,
						 opt->write_set.values[v]);
		snprintf(rec.series, sizeof(rec.series), "%s writes", method->name);
		rec.connections = 1;
		rec.binary = true;
		snprintf(rec.filter, sizeof(rec.filter), "none");
		rec.filter_rows = ds->nbase;
		rec.nbase = ds->nbase;
		rec.dim = ds->dim;
		rec.table = *table;
		rec.build_s = build_s;
		rec.writes = &w[v];
		bench_report_add(&rec);
	}
}

/* Log the sealed runs against the unsealed ones, run by run. */
static void
log_unsealed(const char *method, const char *filter, int n, const BenchRunResult *unsealed,
			 const BenchRunResult *sealed, int nruns)
{
	for (int i = 0; i < nruns && i < MAX_RUNS; i++)
		bench_log("%s, filter %s, run %d: %d unsealed rows / all sealed: %.3gx the QPS "
				  "(%.1f / %.1f), recall %.4f - %.4f = %+.4f, p99 %.2f / %.2f ms",
				  method, filter, i + 1, n, unsealed[i].qps / sealed[i].qps, unsealed[i].qps,
				  sealed[i].qps, unsealed[i].recall, sealed[i].recall,
				  unsealed[i].recall - sealed[i].recall, unsealed[i].p99_ms, sealed[i].p99_ms);
}

/*
 * --unsealed: build the index without the last rows, add them, run the
 * queries with them unsealed (a SHARE lock held meanwhile keeps any VACUUM
 * or data coordinator from sealing them), time the seal while searching and
 * inserting, and run the queries again.  Adds a seal row to the CSV file.
 */
static double
measure_unsealed(PGconn *conn, const BenchOptions *opt, const BenchDataset *ds,
				 const BenchGroundTruth *gt, const BenchMethod *method, const BenchTable *table,
				 const char *filtered_setting)
{
	static BenchRunResult unsealed[MAX_FILTERS][MAX_RUNS];
	static BenchRunResult sealed[MAX_FILTERS][MAX_RUNS];
	int			nruns[MAX_FILTERS];
	BenchSeal	seal;
	char		state[64];
	PGconn	   *guard;
	SweepAxis	axes[MAX_AXES + 1];
	bool		own_sweep;
	int			naxes = method_axes(opt, method, axes, &own_sweep);
	BenchSetting settings[MAX_AXES + 1];
	BenchRunSpec spec = {0};
	BenchRecord rec = {0};

	if ((size_t) opt->unsealed >= ds->nbase)
		bench_fatal("--unsealed %d leaves no rows of the %zu to build the index on",
					opt->unsealed, ds->nbase);
	bench_unsealed_prepare(conn, ds, table, method, opt->metric, opt->unsealed, &seal);

	snprintf(state, sizeof(state), "unsealed %d", opt->unsealed);
	guard = bench_seal_guard(opt->conninfo, table);
	for (int f = 0; f < opt->nfilters; f++)
		nruns[f] = run_method(opt, ds, &opt->filters[f], &gt[f], method, table,
							  filtered_setting, seal.build_s, state, opt->unsealed, unsealed[f]);
	bench_seal_guard_release(guard);

	/* the seal's searches: the first value of every axis, one connection */
	for (int a = 0; a < naxes; a++)
	{
		settings[a].name = axes[a].name;
		settings[a].value = axes[a].values[0];
		append_param(rec.params, sizeof(rec.params), axes[a].name, axes[a].values[0]);
	}
	spec.method = method;
	spec.conninfo = opt->conninfo;
	spec.table = table->name;
	spec.vector_type = table->storage->vector_type;
	spec.metric = opt->metric;
	spec.settings = settings;
	spec.nsettings = naxes;
	spec.connections = 1;
	spec.nqueries = opt->nqueries;
	spec.k = opt->k;
	spec.binary = true;
	bench_seal_measure(conn, ds, table, &spec, opt->seal_quiet, opt->seal_settings,
					   opt->nseal_settings, &seal);

	snprintf(rec.dataset, sizeof(rec.dataset), "%s", ds->name);
	snprintf(rec.metric, sizeof(rec.metric), "%s", bench_metric_name(opt->metric));
	rec.method = method;
	snprintf(rec.series, sizeof(rec.series), "%s seal", method->name);
	rec.connections = 1;
	rec.binary = true;
	rec.nqueries = opt->nqueries;
	rec.k = opt->k;
	snprintf(rec.filter, sizeof(rec.filter), "none");
	rec.filter_rows = ds->nbase;
	rec.nbase = ds->nbase;
	rec.dim = ds->dim;
	rec.table = *table;
	rec.build_s = seal.build_s;
	rec.seal = &seal;
	rec.unsealed_mode = true;
	rec.unsealed_rows = opt->unsealed;
	bench_report_add(&rec);

	for (int f = 0; f < opt->nfilters; f++)
	{
		run_method(opt, ds, &opt->filters[f], &gt[f], method, table, filtered_setting,
				   seal.build_s, "sealed", 0, sealed[f]);
		log_unsealed(method->name, opt->filters[f].name, opt->unsealed, unsealed[f],
					 sealed[f], nruns[f]);
	}
	if (own_sweep)
		bench_free_list(axes[naxes - 1].values, axes[naxes - 1].nvalues);
	return seal.build_s;
}

/*
 * Whether the extension of a layout's vector type is there: connect_control
 * has created milvus; pgvector's "vector" is created here when the server
 * has it.  When it has not, say in one line that the method is skipped and
 * return false.
 */
static bool
method_ready(PGconn *conn, const BenchMethod *method, BenchVectorType type)
{
	static int	pgvector = -1;	/* not looked for yet; absent (0); created (1) */

	if (type == BENCH_FLOATVECTOR)
		return true;
	if (pgvector < 0)
	{
		char	   *v = bench_query_value(conn, "SELECT count(*) FROM pg_available_extensions "
										  "WHERE name = 'vector'");

		pgvector = strcmp(v, "0") != 0;
		free(v);
		if (pgvector)
		{
			bench_exec_or_die(conn, "CREATE EXTENSION IF NOT EXISTS vector");
			v = bench_query_value(conn, "SELECT extversion FROM pg_extension "
								  "WHERE extname = 'vector'");
			bench_log("pgvector %s", v ? v : "?");
			free(v);
		}
	}
	if (!pgvector)
		bench_log("%s: skipped: the server has no pgvector (extension \"vector\" is not installed)",
				  method->name);
	return pgvector == 1;
}

/*
 * The method's setting for its filtered runs, or NULL when it has none or the
 * server lacks it (hnsw.iterative_scan came with pgvector 0.8.0).
 */
static const char *
method_filtered_setting(PGconn *conn, const BenchMethod *method, BenchVectorType type)
{
	char		sql[128];
	char		name[128];
	char		value[128];

	if (method->filtered_setting == NULL)
		return NULL;
	/* the type's input function loads its library, which defines the settings */
	snprintf(sql, sizeof(sql), "SELECT '[1]'::%s::text", bench_vector_type_name(type));
	free(bench_query_value(conn, sql));
	snprintf(name, sizeof(name), "%.*s", (int) strcspn(method->filtered_setting, "="),
			 method->filtered_setting);
	show_setting(conn, name, value, sizeof(value));
	if (value[0] == '\0')
	{
		bench_log("%s: the server has no setting %s: the filtered runs go without %s",
				  method->name, name, method->filtered_setting);
		return NULL;
	}
	return method->filtered_setting;
}

/* --collection-api: collapi.c's measurements, written to OUT/NAME.csv. */
static int
run_collection_api(BenchOptions *opt)
{
	BenchCollectionSpec *spec = &opt->collection;
	char		path[1024];
	PGconn	   *conn;

	spec->conninfo = opt->conninfo;
	spec->queries = opt->nqueries;
	spec->k = opt->k;
	spec->warmup = opt->warmup;
	spec->metric = opt->metric;
	snprintf(path, sizeof(path), "%s/%s.csv", opt->out_dir,
			 opt->name ? opt->name : "collection-api");
	spec->csv_path = path;
	bench_mkdirs(opt->out_dir);
	conn = connect_control(opt);
	bench_collection_api(conn, spec);
	PQfinish(conn);
	return 0;
}

int
main(int argc, char **argv)
{
	BenchOptions opt;
	BenchDataset ds;
	BenchGroundTruth gt[MAX_FILTERS];
	BenchTable	tables[MAX_METHODS];
	int			ntables = 0;
	PGconn	   *conn;
	char		path[1024];
	const char *name;
	char		default_name[BENCH_NAME_LEN + 16];
	bool		filtering = false;

	parse_options(argc, argv, &opt);
	for (int f = 0; f < opt.nfilters; f++)
		filtering |= opt.filters[f].kind != BENCH_FILTER_NONE;
	if (opt.replot)
	{
		size_t		len = strlen(opt.replot);

		if (len < 5 || strcmp(opt.replot + len - 4, ".csv") != 0)
			bad_argument("--replot", opt.replot, "expected a .csv file");
		bench_report_load(opt.replot);
		snprintf(path, sizeof(path), "%.*s", (int) len - 4, opt.replot);
		bench_report_plot(path);
		return 0;
	}
	if (opt.collection_api)
		return run_collection_api(&opt);

	bench_mkdirs(opt.out_dir);
	bench_dataset_load(opt.dataset, opt.dataset_dir, opt.nqueries, &ds);
	if (opt.k > (int) ds.nbase)
		bench_fatal("k = %d is more than the %zu rows of the data set", opt.k, ds.nbase);
	snprintf(path, sizeof(path), "%s/cache", opt.out_dir);
	for (int f = 0; f < opt.nfilters; f++)
		bench_gt_get(&ds, opt.metric, &opt.filters[f], opt.nqueries, path, &gt[f]);
	if (opt.gt_only)
		return 0;

	snprintf(default_name, sizeof(default_name), "%s-%s", ds.name, bench_metric_name(opt.metric));
	name = opt.name ? opt.name : default_name;
	snprintf(path, sizeof(path), "%s/%s.csv", opt.out_dir, name);
	bench_report_open(path);
	conn = connect_control(&opt);
	print_heading();

	for (int i = 0; i < opt.nmethods; i++)
	{
		const BenchMethod *method = opt.methods[i];
		const BenchStorage *storage = bench_storage_find(method->storage);
		BenchTable *table = NULL;
		double		build_s = NAN;
		const char *filtered_setting;

		/* the write jobs and the seal are milvus_hnsw's: its type, its settings */
		bool		milvus_index = method->index_using &&
			storage->vector_type == BENCH_FLOATVECTOR;

		if (!method_ready(conn, method, storage->vector_type))
			continue;
		for (int t = 0; t < ntables && table == NULL; t++)
			if (tables[t].storage == storage)
				table = &tables[t];
		if (table == NULL)
		{
			table = &tables[ntables++];
			bench_table_prepare(conn, &ds, storage, opt.reuse_tables, table);
		}
		/* made when a filter runs; with off, dropped even when none runs */
		if (filtering || !opt.filter_indexes)
			bench_filter_indexes(conn, table, filtering && opt.filter_indexes);
		filtered_setting = filtering ?
			method_filtered_setting(conn, method, storage->vector_type) : NULL;
		if (method->index_using && !milvus_index &&
			(opt.unsealed > 0 || opt.inserts > 0 || opt.copy > 0))
			bench_log("%s: --unsealed, --inserts and --copy measure milvus_hnsw only: "
					  "not run for this method", method->name);

		if (milvus_index && opt.unsealed > 0)
			build_s = measure_unsealed(conn, &opt, &ds, gt, method, table, filtered_setting);
		else
		{
			if (method->index_using)
				build_s = bench_index_build(conn, table, method, opt.metric);
			else
				bench_index_drop(conn, table);
			for (int f = 0; f < opt.nfilters; f++)
				run_method(&opt, &ds, &opt.filters[f], &gt[f], method, table, filtered_setting,
						   build_s, NULL, 0, NULL);
		}
		if (milvus_index && (opt.inserts > 0 || opt.copy > 0))
		{
			/* measured against the table without any other index, as before */
			bench_filter_indexes(conn, table, false);
			measure_writes(conn, &opt, &ds, method, table, build_s);
		}
		if (method->index_using)
			bench_index_drop(conn, table);
	}
	PQfinish(conn);
	bench_report_close();
	bench_log("results: %s", path);
	bench_report_summary();

	if (!opt.no_plot)
	{
		snprintf(path, sizeof(path), "%s/%s", opt.out_dir, name);
		bench_report_plot(path);
	}
	for (int f = 0; f < opt.nfilters; f++)
		bench_gt_free(&gt[f]);
	bench_dataset_free(&ds);
	return 0;
}
