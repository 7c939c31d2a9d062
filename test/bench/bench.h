/*
 * bench.h
 *		Shared declarations of milvus_bench, the benchmark tool.
 *
 * The tool reads a data set (dataset.c), loads it into a table with COPY
 * BINARY (load.c), computes or reuses the exact answers (groundtruth.c), runs
 * the queries over one or more connections (runner.c) and writes a CSV row
 * per run and a recall-versus-QPS plot (report.c).  A run may add a WHERE
 * clause (filter.c); its ground truth is then the exact answer among the rows
 * that pass.  With --inserts and --copy, inserts.c and copyload.c time
 * single-row inserts and a COPY into the table, with the index (its growing
 * segment on, then off) and without it, and the WAL they write.  With
 * --unsealed, seal.c builds the index without the data set's last rows,
 * adds them to its growing segment, and times the seal while other
 * connections search and insert.  With --collection-api, collapi.c
 * measures the collection API's data path (milvus.insert, milvus.search,
 * milvus.bulk_insert) against plain SQL instead.  What a "method" is, and
 * which settings it sweeps, lives in the table in methods.c; a method's
 * table layout also says which vector type holds the vectors: milvus's
 * floatvector or, to compare with, pgvector's vector.  main.c reads
 * the command line and walks the runs.
 */
#ifndef MILVUS_BENCH_H
#define MILVUS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libpq-fe.h"

#define BENCH_GT_K			100 /* neighbours kept per query in the ground truth */
#define BENCH_MAX_K			BENCH_GT_K
#define BENCH_NAME_LEN		64

#define lengthof(a)			(sizeof(a) / sizeof((a)[0]))

typedef enum BenchMetric
{
	BENCH_METRIC_L2,			/* <->, squared distances ordered the same */
	BENCH_METRIC_IP,			/* <#>, negative inner product */
	BENCH_METRIC_COSINE			/* <=>, one minus cosine similarity */
} BenchMetric;

/* A data set in memory: base vectors, query vectors, labels. */
typedef struct BenchDataset
{
	char		name[BENCH_NAME_LEN];	/* e.g. "fashion-mnist", "synthetic-100000-128-64" */
	int			dim;
	size_t		nbase;
	int			nquery;
	float	   *base;			/* nbase x dim, row-major */
	float	   *queries;		/* nquery x dim */
	int32_t    *labels;			/* nbase class labels (cluster for synthetic data) */
	int32_t    *query_labels;	/* nquery class labels of the queries, the same way */
	uint64_t	fingerprint;	/* hash of the base vectors, checks cached files */
} BenchDataset;

/* What a filter keeps (filter.c). */
typedef enum BenchFilterKind
{
	BENCH_FILTER_NONE,			/* every row */
	BENCH_FILTER_PCT,			/* bucket < value, bucket = id % 100 */
	BENCH_FILTER_LABEL,			/* label = value */
	BENCH_FILTER_OWNLABEL,		/* label = the query's own label, sent as $2 */
	BENCH_FILTER_BUCKET,		/* bucket = value */
	BENCH_FILTER_PERMILLE		/* id % 1000 = value */
} BenchFilterKind;

/* A filter: its name on the command line and in results, and its SQL. */
typedef struct BenchFilter
{
	char		name[BENCH_NAME_LEN];	/* "none", "pct10", "label0", "ownlabel", ... */
	BenchFilterKind kind;
	int			value;			/* unused by ownlabel: its value is the query's */
	char		where[64];		/* the WHERE condition, "" for none */
} BenchFilter;

/*
 * The exact top-BENCH_GT_K neighbours of the first nquery queries among the
 * rows that pass a filter (all rows without one).
 */
typedef struct BenchGroundTruth
{
	int			nquery;
	size_t		npass;			/* rows passing the filter (ownlabel: the mean per query) */
	size_t	   *npass_query;	/* per query, for a filter whose rows depend on the query */
	int32_t    *ids;			/* nquery x BENCH_GT_K, nearest first */
	float	   *dists;			/* their distances, in the metric's own units */
} BenchGroundTruth;

/*
 * One entry of the method table (methods.c): how the table is stored, which
 * index (if any) is built on it, and which session setting is swept.
 */
typedef struct BenchMethod
{
	const char *name;			/* as given to --method and shown in results */
	const char *storage;		/* "inline", "toast" or "pgvector": the table layout */
	const char *index_using;	/* CREATE INDEX ... ON table <this>, or NULL */
	const char *sweep_setting;	/* session setting swept across runs, or NULL */
	const char *sweep_values;	/* its values, comma-separated */
	const char *filtered_setting;	/* "NAME=VALUE" for runs with a filter, or NULL */
	const char *description;
} BenchMethod;

/*
 * The type of the vector column.  Both spell the metrics' operators alike
 * (<->, <#>, <=>) and name their operator classes <type>_<metric>_ops, so
 * only the type name and the binary form differ.
 */
typedef enum BenchVectorType
{
	BENCH_FLOATVECTOR,			/* milvus: int32 dim, then dim float4 */
	BENCH_PGVECTOR				/* pgvector's vector: int16 dim, int16 0, dim float4 */
} BenchVectorType;

/* A table layout: storage parameters for CREATE TABLE ... WITH (...). */
typedef struct BenchStorage
{
	const char *name;
	const char *table_options;	/* NULL for PostgreSQL's defaults */
	BenchVectorType vector_type;
} BenchStorage;

/* A session setting applied on every connection of a run. */
typedef struct BenchSetting
{
	char	   *name;
	char	   *value;
} BenchSetting;

/* A loaded table and what loading (and indexing) it cost. */
typedef struct BenchTable
{
	char		name[BENCH_NAME_LEN];
	const BenchStorage *storage;
	bool		loaded_now;		/* false when --reuse-tables found it in place */
	double		load_s;
	double		load_rows_per_s;
	double		load_mb_per_s;
	int64_t		table_bytes;	/* pg_table_size: heap, TOAST, FSM and VM */
	bool		filter_indexes; /* the B-tree indexes filters may use are there */
} BenchTable;

/* What one run is: everything the runner needs besides the data. */
typedef struct BenchRunSpec
{
	const BenchMethod *method;
	const char *conninfo;
	const char *table;
	BenchVectorType vector_type;
	const BenchFilter *filter;
	BenchMetric metric;
	BenchSetting *settings;
	int			nsettings;
	int			connections;
	int			nqueries;
	int			k;
	int			warmup;
	bool		binary;			/* pass the vector in binary format */
} BenchRunSpec;

/* What one run measured. */
typedef struct BenchRunResult
{
	double		recall;
	double		avg_rows;		/* rows returned per query */
	int			short_queries;	/* queries returning fewer than min(k, rows passing) */
	int			notices;		/* timed queries that drew a NOTICE from the server */
	double		qps;
	double		p50_ms;
	double		p99_ms;
	double		mean_ms;
	double		wall_s;
	char		plan[256];		/* compact plan shape, e.g. "Limit>Sort>Seq Scan" */
} BenchRunResult;

/* One pass of a write job (inserts.c, copyload.c) over one state of the table. */
typedef struct BenchWriteResult
{
	int			rows;			/* 0: not run */
	double		seconds;
	double		rows_per_s;
	double		wal_bytes_per_row;	/* from the CHECKPOINT before the first row */
	bool		checkpointed;	/* another checkpoint completed during the pass */
} BenchWriteResult;

/*
 * The write jobs of an index method: each with the index and its growing
 * segment (milvus.hnsw_growing_segment on), with the index and inserts
 * linked into the graph at once (off), then without the index.
 */
typedef struct BenchWrites
{
	char		wal_compression[16];	/* the session's setting during the passes */
	char		write_set[128];	/* "name=value" of the --write-set value, or "" */
	BenchWriteResult insert_indexed;
	BenchWriteResult insert_graph;
	BenchWriteResult insert_plain;
	BenchWriteResult copy_indexed;
	BenchWriteResult copy_graph;
	BenchWriteResult copy_plain;
} BenchWrites;

/* What --collection-api measures (collapi.c). */
#define BENCH_MAX_REPEAT	32
typedef struct BenchCollectionSpec
{
	const char *conninfo;		/* for item 4's own connection */
	const char *csv_path;
	int			rows;			/* --collection-rows: items 1 and 3 */
	int			dim;			/* --collection-dim */
	int			batch;			/* --collection-batch: rows per milvus.insert (item 1) */
	int			inserts;		/* --collection-inserts: single-row calls per side (item 2) */
	int			queries;		/* --queries: search calls per side (item 3) */
	int			k;				/* --k: the searches' limit */
	int			warmup;			/* untimed calls of each kind first */
	int			repeat;			/* --repeat: runs of every measurement */
	long		bulk_rows;		/* --bulk-rows: rows of item 4, 0 to skip it */
	BenchMetric metric;
} BenchCollectionSpec;

/* Latencies of one kind of statement over one phase of the seal measurement. */
typedef struct BenchLatency
{
	int			n;
	double		p50_ms;
	double		p99_ms;
	double		max_ms;
} BenchLatency;

/*
 * A seal measured by seal.c: how long the seal of the growing segment took
 * against the build, and what a searching and an inserting connection saw
 * before it (quiet) and during it.
 */
typedef struct BenchSeal
{
	int			unsealed_rows;	/* --unsealed: rows added after the build */
	char		how[32];		/* "milvus.seal" or "VACUUM" */
	int64_t		seal_rows;		/* rows the seal linked into the graph */
	double		seal_s;
	double		build_s;		/* the build of the rows before them */
	size_t		build_rows;
	BenchLatency search_quiet;
	BenchLatency search_seal;
	BenchLatency insert_quiet;
	BenchLatency insert_seal;
} BenchSeal;

/*
 * One CSV row: the run, its table, what it measured.  A method's write jobs
 * make a row of their own, with writes set and the query columns empty.
 */
typedef struct BenchRecord
{
	char		dataset[BENCH_NAME_LEN];
	char		metric[16];
	const BenchMethod *method;	/* NULL for runs read back from a CSV file */
	char		params[256];	/* "name=value;..." of every setting of the run */
	char		series[256];	/* plot line this run belongs to */
	int			connections;
	bool		binary;
	int			nqueries;
	int			k;
	char		filter[BENCH_NAME_LEN];
	size_t		filter_rows;	/* rows passing the filter */
	char		column[256];	/* the run's column in the summary table: series less the filter */
	size_t		nbase;
	int			dim;
	BenchTable	table;
	double		build_s;		/* index build, NaN without an index */
	BenchRunResult result;		/* unused in a writes or seal row */
	const BenchWrites *writes;	/* NULL for a query run */
	const BenchSeal *seal;		/* a seal row (--unsealed); NULL otherwise */
	int			unsealed_rows;	/* --unsealed query runs: growing rows, 0 once sealed */
	bool		unsealed_mode;	/* whether unsealed_rows applies */
} BenchRecord;

/* util.c */
extern void bench_fatal(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));
extern void bench_log(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void *bench_malloc(size_t size);
extern void *bench_calloc(size_t n, size_t size);
extern char *bench_strdup(const char *s);
extern double bench_now(void);
extern bool bench_parse_int(const char *s, long min, long max, long *result);
extern int	bench_split(const char *list, char sep, char ***items);
extern void bench_free_list(char **items, int n);
extern void bench_mkdirs(const char *path);
extern PGconn *bench_connect(const char *conninfo, char *errbuf, size_t errlen);
extern PGresult *bench_exec(PGconn *conn, const char *sql, ExecStatusType expect,
							char *errbuf, size_t errlen);
extern void bench_exec_or_die(PGconn *conn, const char *sql);
extern char *bench_query_value(PGconn *conn, const char *sql);
extern bool bench_set_config(PGconn *conn, const char *name, const char *value,
							 char *errbuf, size_t errlen);
extern void bench_sort_doubles(double *v, int n);
extern double bench_percentile(const double *sorted, int n, double p);
extern const char *bench_metric_name(BenchMetric metric);
extern const char *bench_metric_operator(BenchMetric metric);
extern const char *bench_vector_type_name(BenchVectorType type);
extern char *bench_vector_binary(BenchVectorType type, const float *x, int dim, int *len);
extern uint64_t bench_wal_position(PGconn *conn);
extern uint64_t bench_checkpoint(PGconn *conn);
extern bool bench_checkpoint_moved(PGconn *conn, uint64_t redo);

/* dataset.c */
extern void bench_dataset_load(const char *spec, const char *fmnist_dir,
							   int nquery, BenchDataset *ds);
extern void bench_dataset_free(BenchDataset *ds);

/* methods.c */
extern const BenchMethod *bench_method_find(const char *name);
extern const BenchStorage *bench_storage_find(const char *name);
extern void bench_methods_print(void);

/* load.c */
extern void bench_table_prepare(PGconn *conn, const BenchDataset *ds,
								const BenchStorage *storage, bool reuse,
								BenchTable *table);
extern double bench_index_build(PGconn *conn, const BenchTable *table,
								const BenchMethod *method, BenchMetric metric);
extern void bench_index_drop(PGconn *conn, const BenchTable *table);
extern void bench_filter_indexes(PGconn *conn, BenchTable *table, bool want);
extern size_t bench_copy_rows(PGconn *conn, const char *table, BenchVectorType type, size_t n,
							  int32_t first_id, const int32_t *labels, const float *vectors,
							  int dim);

/* inserts.c */
#define BENCH_FIRST_NEW_ID	1000000000	/* rows the write jobs add have ids from here */
extern void bench_insert_prepare(PGconn *conn, const BenchDataset *ds, const BenchTable *table,
								 const char *stmt);
extern double bench_insert_one(PGconn *conn, const BenchDataset *ds, const char *stmt,
							   int32_t id, int i, char *errbuf, size_t errlen);
extern void bench_inserts(PGconn *conn, const BenchDataset *ds, const BenchTable *table,
						  const char *what, int first, int n, BenchWriteResult *result);

/* copyload.c */
extern void bench_copy(PGconn *conn, const BenchDataset *ds, const BenchTable *table,
					   const char *what, int first, int n, BenchWriteResult *result);

/* seal.c */
extern void bench_unsealed_prepare(PGconn *conn, const BenchDataset *ds, const BenchTable *table,
								   const BenchMethod *method, BenchMetric metric, int n,
								   BenchSeal *seal);
extern PGconn *bench_seal_guard(const char *conninfo, const BenchTable *table);
extern void bench_seal_guard_release(PGconn *guard);
extern void bench_seal_measure(PGconn *conn, const BenchDataset *ds, const BenchTable *table,
							   const BenchRunSpec *search, double quiet_s,
							   const BenchSetting *settings, int nsettings, BenchSeal *seal);

/* collapi.c */
extern void bench_collection_api(PGconn *conn, const BenchCollectionSpec *spec);

/* filter.c */
extern bool bench_filter_parse(const char *name, BenchFilter *filter);
extern int32_t bench_filter_bucket(size_t id);
extern bool bench_filter_per_query(const BenchFilter *filter);
extern int32_t bench_filter_value(const BenchFilter *filter, const BenchDataset *ds, int query);
extern bool bench_filter_accepts(const BenchFilter *filter, const BenchDataset *ds, int query,
								 size_t id);

/* groundtruth.c */
extern void bench_gt_get(const BenchDataset *ds, BenchMetric metric,
						 const BenchFilter *filter, int nquery,
						 const char *cache_dir, BenchGroundTruth *gt);
extern void bench_gt_free(BenchGroundTruth *gt);
extern int	bench_gt_want(const BenchGroundTruth *gt, int query, int k);
extern double bench_gt_distance(const float *a, const float *b, int dim,
								BenchMetric metric);
extern double bench_gt_recall(const BenchDataset *ds, const BenchGroundTruth *gt,
							  BenchMetric metric, const BenchFilter *filter, int query,
							  const int32_t *ids, int nids, int k);

/* runner.c */
extern void bench_run(const BenchDataset *ds, const BenchGroundTruth *gt,
					  const BenchRunSpec *spec, BenchRunResult *result);

/* report.c */
extern void bench_report_open(const char *path);
extern void bench_report_add(const BenchRecord *rec);
extern void bench_report_close(void);
extern void bench_report_load(const char *path);
extern void bench_report_plot(const char *stem);
extern void bench_report_summary(void);

#endif							/* MILVUS_BENCH_H */
