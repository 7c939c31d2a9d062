/*
 * guc.c
 *		Every milvus.* setting, in alphabetical order.
 *
 * Settings are defined whether or not the library is preloaded; the prefix is
 * reserved so that a misspelt milvus.* name is an error, not a silent
 * placeholder.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/guc.h"

#include "milvus/collection.h"
#include "milvus/distance.h"
#include "milvus/guc.h"
#include "milvus/hnsw.h"
#include "milvus/hybrid.h"
#include "milvus/storage.h"
#include "milvus/workers.h"

static char *collection_database = NULL;
static char *debug_pause_at = NULL;
bool		MvDebugCheckSealLists = false;
static int	distance_kernels = 0;
static int	search_max_group_size = MV_SEARCH_MAX_GROUP_SIZE_DEFAULT;
static int	search_max_nq = MV_SEARCH_MAX_NQ_DEFAULT;
static int	search_max_topk = MV_SEARCH_MAX_TOPK_DEFAULT;

/* milvus.s3_*: read by the archive module (src/storage/archive.c) */
char	   *MvS3AccessKeyId = NULL;
char	   *MvS3Bucket = NULL;
char	   *MvS3CaFile = NULL;
int			MvS3ConnectTimeout = MV_S3_DEFAULT_CONNECT_TIMEOUT;
char	   *MvS3Endpoint = NULL;
int			MvS3MaxRetries = MV_S3_DEFAULT_RETRIES;
int			MvS3MultipartThreshold = (int) (MV_S3_DEFAULT_MULTIPART_THRESHOLD / 1024);
int			MvS3PartSize = (int) (MV_S3_DEFAULT_PART_SIZE / 1024);
char	   *MvS3Prefix = NULL;
char	   *MvS3Region = NULL;
char	   *MvS3SecretAccessKey = NULL;
int			MvS3StallTimeout = MV_S3_DEFAULT_STALL_TIMEOUT;
int			MvS3Timeout = MV_S3_DEFAULT_TIMEOUT;
bool		MvS3VirtualHost = false;
int			MvS3WalCompression = MV_S3_COMPRESSION_NONE;

static const struct config_enum_entry s3_wal_compression_options[] = {
	{"off", MV_S3_COMPRESSION_NONE, false},
	{"lz4", MV_S3_COMPRESSION_LZ4, false},
	{"zstd", MV_S3_COMPRESSION_ZSTD, false},
	{NULL, 0, false}
};

/* every kernel set there is, and the names milvus.distance_kernels accepts */
static MvKernelSetInfo kernel_sets[MV_MAX_KERNEL_SETS];
static struct config_enum_entry kernel_set_options[MV_MAX_KERNEL_SETS + 1];

static const struct config_enum_entry hybrid_strategy_options[] = {
	{"auto", MV_HYBRID_AUTO, false},
	{"exact", MV_HYBRID_EXACT, false},
	{"graph", MV_HYBRID_GRAPH, false},
	{"walk", MV_HYBRID_WALK, false},
	{NULL, 0, false}
};

/* Accept a Milvus name (milvus/collection.h) */
static bool
check_collection_database(char **newval, void **extra, GucSource source)
{
	/* bytes: the postmaster, reading the configuration file, has no encoding */
	switch (MvNameCheck(*newval, strlen(*newval)))
	{
		case MV_NAME_OK:
			return true;
		case MV_NAME_BAD_CHAR:
			GUC_check_errdetail("A database name holds only letters, digits and underscores.");
			return false;
		default:
			GUC_check_errdetail("A database name starts with a letter or an underscore and has at most %d characters.",
								MV_NAME_MAX_LENGTH);
			return false;
	}
}

/* Accept only a kernel set this CPU runs */
static bool
check_distance_kernels(int *newval, void **extra, GucSource source)
{
	const MvKernelSetInfo *info = &kernel_sets[*newval];
	StringInfoData runs;

	if (info->missing == NULL)
		return true;

	initStringInfo(&runs);
	for (int i = 0; i < MV_MAX_KERNEL_SETS && kernel_set_options[i].name; i++)
	{
		if (kernel_sets[i].missing == NULL)
			appendStringInfo(&runs, "%s%s", runs.len > 0 ? ", " : "", kernel_sets[i].name);
	}
	GUC_check_errcode(ERRCODE_FEATURE_NOT_SUPPORTED);
	GUC_check_errmsg("distance kernel set \"%s\" is not available", info->name);
	GUC_check_errdetail("The kernel set \"%s\" cannot run: %s.", info->name, info->missing);
	GUC_check_errhint("This CPU runs %s.", runs.data);
	return false;
}

/* Switch the distance functions to the set; takes effect at their next call */
static void
assign_distance_kernels(int newval, void *extra)
{
	MvKernels = kernel_sets[newval].set;
}

/* Define the settings; called once from _PG_init after MvKernelsInit */
void
MvDefineSettings(void)
{
	int			nkernel_sets;

	DefineCustomStringVariable("milvus.collection_database",
							   "Sets the Milvus database that the milvus.* collection functions use.",
							   "A Milvus database is a PostgreSQL schema; \"default\" is the schema public. "
							   "milvus.use_database() sets this for the session.",
							   &collection_database,
							   "default",
							   PGC_USERSET,
							   0,
							   check_collection_database, NULL, NULL);

	DefineCustomBoolVariable("milvus.data_coordinator",
							 "Runs the data coordinator, which seals and compacts milvus_hnsw indexes.",
							 "Needs milvus in shared_preload_libraries.  Off, its workers leave and "
							 "growing segments wait for VACUUM or milvus.seal().",
							 &MvDataCoordinator,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.data_coordinator_naptime",
							"Sets the time between two rounds of the data coordinator.",
							"Each round, the launcher starts a worker in every database "
							"that needs one, and each worker looks at every milvus_hnsw "
							"index of its database.",
							&MvDataCoordinatorNaptime,
							MV_COORDINATOR_DEFAULT_NAPTIME,
							MV_COORDINATOR_MIN_NAPTIME, MV_COORDINATOR_MAX_NAPTIME,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("milvus.debug_pause_at",
							   "Names the points where a backend waits, for tests only.",
							   "A backend that reaches a named point waits while another session "
							   "holds pg_advisory_lock(1835625590, <point number>); see doc/indexes.md.",
							   &debug_pause_at,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT | GUC_NOT_IN_SAMPLE,
							   MvPauseCheckHook, MvPauseAssignHook, NULL);

	DefineCustomBoolVariable("milvus.debug_check_seal_lists",
							 "Checks every neighbour list a seal remembers against the list "
							 "measured afresh, for tests only.",
							 "A disagreement raises an error; see doc/indexes.md.",
							 &MvDebugCheckSealLists,
							 false,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);

	nkernel_sets = MvKernelSetsKnown(kernel_sets, MV_MAX_KERNEL_SETS);
	for (int i = 0; i < nkernel_sets; i++)
	{
		kernel_set_options[i].name = kernel_sets[i].name;
		kernel_set_options[i].val = i;
		kernel_set_options[i].hidden = false;
		if (kernel_sets[i].set == MvKernels)
			distance_kernels = i;
	}
	kernel_set_options[nkernel_sets].name = NULL;
	DefineCustomEnumVariable("milvus.distance_kernels",
							 "Sets the SIMD kernel set the distance functions use.",
							 "For testing.  At load, the best set the CPU supports: "
							 "avx512_vpopcntdq, avx512, avx2, popcnt or scalar; a superuser "
							 "may choose another that the CPU runs.",
							 &distance_kernels,
							 distance_kernels,
							 kernel_set_options,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							 check_distance_kernels, assign_distance_kernels, NULL);

	DefineCustomBoolVariable("milvus.enable_hybrid_search",
							 "Enables the planner's use of the hybrid search.",
							 "A filtered (or index-less) ORDER BY <vector> <distance> <query> "
							 "LIMIT k may then run as a Milvus Hybrid Search custom scan: the "
							 "filter as a bitmap first, then an exact search of the rows that "
							 "pass or a graph walk that tests elements against the bitmap.",
							 &MvHybridEnabled,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.hnsw_ef_search",
							"Sets the candidate list length of milvus_hnsw index searches.",
							"Larger finds more of the true nearest neighbours, more slowly. "
							"A scan whose rows a WHERE clause rejects goes on past it.",
							&MvHnswEfSearch,
							MV_HNSW_DEFAULT_EF_SEARCH,
							MV_HNSW_MIN_EF_SEARCH, MV_HNSW_MAX_EF_SEARCH,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("milvus.hnsw_growing_segment",
							 "Inserts into milvus_hnsw indexes go to their growing segment.",
							 "On, the default, an insert appends its row to the index's growing "
							 "segment, searched exactly until a seal links it into the graph. "
							 "Off, it links the row into the graph at once, as a seal would.",
							 &MvHnswGrowingSegment,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.hnsw_growing_rerank",
							"Sets how many growing rows a milvus_hnsw search measures exactly, "
							"per milvus.hnsw_ef_search.",
							"A search ranks the growing segment's rows by a 1-bit sketch "
							"kept in the backend's memory (at most work_mem an index) and "
							"measures at most this many times milvus.hnsw_ef_search of them "
							"exactly. 0 measures every growing row exactly.",
							&MvHnswGrowingRerank,
							MV_HNSW_DEFAULT_GROWING_RERANK,
							0, MV_HNSW_MAX_GROWING_RERANK,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.hnsw_level_seed",
							"Seeds the levels milvus_hnsw gives new graph elements; for tests.",
							"-1, the default, draws each level at random.  A seed of 0 or more "
							"derives it from the seed and the row's heap TID, so the same rows "
							"get the same levels in every build (a serial build of the same "
							"table then gives the same graph).",
							&MvHnswLevelSeed,
							MV_HNSW_MIN_LEVEL_SEED,
							MV_HNSW_MIN_LEVEL_SEED, MV_HNSW_MAX_LEVEL_SEED,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.hnsw_max_scan_tuples",
							"Sets how many index elements the graph walk of a milvus_hnsw "
							"scan may visit before the scan finishes with an exact pass.",
							"Bounds the graph walk of filtered queries; the first ef_search "
							"batch always completes.  Reaching it raises a NOTICE.",
							&MvHnswMaxScanTuples,
							MV_HNSW_DEFAULT_MAX_SCAN_TUPLES,
							MV_HNSW_MIN_MAX_SCAN_TUPLES, MV_HNSW_MAX_MAX_SCAN_TUPLES,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("milvus.hnsw_seal_in_memory",
							 "Seals a milvus_hnsw growing segment in memory when the graph fits.",
							 "On, the default, a seal whose graph fits in maintenance_work_mem "
							 "loads the graph, links the rows there as a build does and writes "
							 "each changed page once.  Off, or when the graph does not fit, it "
							 "links the rows one at a time on disk.",
							 &MvHnswSealInMemoryEnabled,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("milvus.hnsw_truncate",
							 "Gives the free pages at the end of a milvus_hnsw index back "
							 "after a seal, a compaction or a VACUUM.",
							 "On, the default, as VACUUM truncates a heap: only when no other "
							 "session has the index open, under an AccessExclusiveLock held "
							 "for the truncation alone (which a hot standby replays).",
							 &MvHnswTruncate,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("milvus.hybrid_strategy",
							 "Sets how a hybrid search answers once it has its filter's bitmap.",
							 "auto, the default, chooses by cost, and on the bitmap's actual row "
							 "count once it has one.  exact, graph and walk force one (graph and "
							 "walk need a milvus_hnsw index; a forced walk has no budget).",
							 &MvHybridStrategySetting,
							 MV_HYBRID_AUTO,
							 hybrid_strategy_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomRealVariable("milvus.hybrid_walk_budget",
							 "Sets how much a hybrid search's graph walk may cost, as a multiple of the exact search.",
							 "A walk that goes over (a filter whose rows lie far from the query) "
							 "stops, and the exact search of the filter's rows finishes the query.",
							 &MvHybridWalkBudget,
							 0.3, 0.01, 1000.0,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("milvus.import_in_background",
							 "Runs milvus.bulk_insert in a background worker.",
							 "On, bulk_insert returns a task id at once and an import worker "
							 "runs the task after the calling transaction commits; off, the "
							 "import runs in the calling session and transaction.",
							 &MvImportInBackground,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomStringVariable("milvus.s3_access_key_id",
							   "Sets the access key id the S3 client signs with.",
							   "Empty, the default: the server's AWS_ACCESS_KEY_ID and "
							   "AWS_SECRET_ACCESS_KEY environment variables.  Only "
							   "superusers can read it.",
							   &MvS3AccessKeyId,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("milvus.s3_bucket",
							   "Sets the S3 bucket that WAL is archived to.",
							   "archive_library = 'milvus' archives nothing until it is set.",
							   &MvS3Bucket,
							   "",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("milvus.s3_ca_file",
							   "Sets the file of CA certificates that https servers are checked against.",
							   "Empty, the default: the system's CA store.  Only superusers "
							   "can read it.",
							   &MvS3CaFile,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.s3_connect_timeout",
							"Sets how long the S3 client waits for a connection.",
							"A request that cannot connect in time is tried again "
							"(milvus.s3_max_retries).",
							&MvS3ConnectTimeout,
							MV_S3_DEFAULT_CONNECT_TIMEOUT,
							MV_S3_MIN_TIMEOUT, MV_S3_MAX_TIMEOUT,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("milvus.s3_endpoint",
							   "Sets the URL of the S3 service, as scheme://host[:port].",
							   "Empty, the default: the server's AWS_ENDPOINT_URL, else "
							   "https://s3.<region>.amazonaws.com.",
							   &MvS3Endpoint,
							   "",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.s3_max_retries",
							"Sets how many times the S3 client tries a request again.",
							"Only after a failure that may pass: no connection, a timeout, "
							"a short body, HTTP 5xx or 429; with exponential backoff and jitter.",
							&MvS3MaxRetries,
							MV_S3_DEFAULT_RETRIES,
							MV_S3_MIN_RETRIES, MV_S3_MAX_RETRIES,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.s3_multipart_threshold",
							"Sets the size above which an upload goes up in parts.",
							"Smaller uploads are one PUT.  Each part of a multipart upload "
							"is retried on its own; a failed upload is aborted.",
							&MvS3MultipartThreshold,
							(int) (MV_S3_DEFAULT_MULTIPART_THRESHOLD / 1024),
							(int) (MV_S3_MIN_PART_SIZE / 1024),
							(int) (MV_S3_MAX_PART_SIZE / 1024),
							PGC_SIGHUP,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.s3_part_size",
							"Sets the size of the parts of a multipart upload.",
							"One part is held in memory.  A stream of more than 1000 parts "
							"doubles it every 1000 parts (S3 allows 10,000).",
							&MvS3PartSize,
							(int) (MV_S3_DEFAULT_PART_SIZE / 1024),
							(int) (MV_S3_MIN_PART_SIZE / 1024),
							(int) (MV_S3_MAX_PART_SIZE / 1024),
							PGC_SIGHUP,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomStringVariable("milvus.s3_prefix",
							   "Sets the folder of the bucket that objects go under.",
							   "WAL goes to <prefix>/wal/.  Empty, the default: the bucket's top.",
							   &MvS3Prefix,
							   "",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("milvus.s3_region",
							   "Sets the region requests are signed for.",
							   "Empty, the default: the server's AWS_REGION, else us-east-1.",
							   &MvS3Region,
							   "",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("milvus.s3_secret_access_key",
							   "Sets the secret access key the S3 client signs with.",
							   "Only superusers can read it, and SHOW ALL leaves it out.",
							   &MvS3SecretAccessKey,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.s3_stall_timeout",
							"Sets how long an S3 request may move less than 1 kB a second.",
							"A request that trickles for longer is abandoned and tried "
							"again (milvus.s3_max_retries), whatever milvus.s3_timeout says.",
							&MvS3StallTimeout,
							MV_S3_DEFAULT_STALL_TIMEOUT,
							MV_S3_MIN_STALL_TIMEOUT, MV_S3_MAX_STALL_TIMEOUT,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.s3_timeout",
							"Sets how long one S3 request may take in all.",
							"A request that takes longer is abandoned and tried again "
							"(milvus.s3_max_retries).",
							&MvS3Timeout,
							MV_S3_DEFAULT_TIMEOUT,
							MV_S3_MIN_TIMEOUT, MV_S3_MAX_TIMEOUT,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("milvus.s3_virtual_host",
							 "Addresses the bucket as a host name (bucket.host/key).",
							 "Off, the default: path-style addressing (host/bucket/key), which "
							 "S3-compatible servers on a plain address need.",
							 &MvS3VirtualHost,
							 false,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("milvus.s3_wal_compression",
							 "Compresses WAL files as the archive module uploads them.",
							 "off stores <name>, lz4 <name>.lz4, zstd <name>.zst; "
							 "milvus_s3_restore reads all three.",
							 &MvS3WalCompression,
							 MV_S3_COMPRESSION_NONE,
							 s3_wal_compression_options,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.seal_idle_time",
							"Sets how long a growing segment stays unchanged before the "
							"data coordinator seals it.",
							"Milvus's dataCoord.segment.maxIdleTime.",
							&MvSealIdleTime,
							MV_DEFAULT_SEAL_IDLE_TIME,
							MV_MIN_SEAL_IDLE_TIME, MV_MAX_SEAL_IDLE_TIME,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.seal_rows",
							"Sets how many rows a growing segment holds before the data "
							"coordinator seals it.",
							"Milvus seals a segment by size (dataCoord.segment.maxSize "
							"and sealProportion); rows are what a milvus_hnsw index counts.",
							&MvSealRows,
							MV_DEFAULT_SEAL_ROWS,
							MV_MIN_SEAL_ROWS, MV_MAX_SEAL_ROWS,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.seal_parallel_workers",
							"Sets the most parallel workers a data coordinator's seal "
							"uses besides its own process.",
							"0 seals serially, as autovacuum never goes parallel; "
							"milvus.seal() follows max_parallel_maintenance_workers.",
							&MvSealParallelWorkers,
							MV_DEFAULT_SEAL_PARALLEL_WORKERS,
							0, MV_MAX_SEAL_PARALLEL_WORKERS,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.search_max_group_size",
							"Sets the largest group_size a grouping search accepts.",
							"Milvus's quotaAndLimits.limits.maxGroupSize.",
							&search_max_group_size,
							MV_SEARCH_MAX_GROUP_SIZE_DEFAULT, 1, MV_SEARCH_LIMIT_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.search_max_nq",
							"Sets the largest number of query vectors one search accepts.",
							"Milvus's quotaAndLimits.limits.nq.",
							&search_max_nq,
							MV_SEARCH_MAX_NQ_DEFAULT, 1, MV_SEARCH_LIMIT_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("milvus.search_max_topk",
							"Sets the largest limit plus offset that search and query accept.",
							"Milvus's quotaAndLimits.limits.topK and maxQueryResultWindow.",
							&search_max_topk,
							MV_SEARCH_MAX_TOPK_DEFAULT, 1, MV_SEARCH_LIMIT_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("milvus");
}
