/*
 * guc.c
 *		Every milvus.* setting, in alphabetical order.
 *
 * Settings are defined whether or not the library is preloaded; the prefix is
 * reserved so that a misspelt milvus.* name is an error, not a silent
 * placeholder.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "milvus/distance.h"
#include "milvus/guc.h"
#include "milvus/hnsw.h"

static char *collection_database = NULL;
static char *debug_pause_at = NULL;
static char *distance_kernels = NULL;
static int	search_max_group_size = MV_SEARCH_MAX_GROUP_SIZE_DEFAULT;
static int	search_max_nq = MV_SEARCH_MAX_NQ_DEFAULT;
static int	search_max_topk = MV_SEARCH_MAX_TOPK_DEFAULT;

/* Is c allowed in a Milvus name (digits only after the first character)? */
static bool
milvus_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		(!first && c >= '0' && c <= '9');
}

/* Accept a Milvus name: [A-Za-z_][A-Za-z0-9_]*, at most 255 characters */
static bool
check_collection_database(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;
	int			len = strlen(s);

	if (len == 0 || len > 255 || !milvus_name_char(s[0], true))
	{
		GUC_check_errdetail("A database name starts with a letter or an underscore and has at most 255 characters.");
		return false;
	}
	for (int i = 1; i < len; i++)
	{
		if (!milvus_name_char(s[i], false))
		{
			GUC_check_errdetail("A database name holds only letters, digits and underscores.");
			return false;
		}
	}
	return true;
}

/* Define the settings; called once from _PG_init after MvKernelsInit */
void
MvDefineSettings(void)
{
	DefineCustomStringVariable("milvus.collection_database",
							   "Sets the Milvus database that the milvus.* collection functions use.",
							   "A Milvus database is a PostgreSQL schema; \"default\" is the schema public. "
							   "milvus.use_database() sets this for the session.",
							   &collection_database,
							   "default",
							   PGC_USERSET,
							   0,
							   check_collection_database, NULL, NULL);

	DefineCustomStringVariable("milvus.debug_pause_at",
							   "Names the points where a backend waits, for tests only.",
							   "A backend that reaches a named point waits while another session "
							   "holds pg_advisory_lock(1835625590, <point number>); see doc/indexes.md.",
							   &debug_pause_at,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT | GUC_NOT_IN_SAMPLE,
							   MvPauseCheckHook, MvPauseAssignHook, NULL);

	DefineCustomStringVariable("milvus.distance_kernels",
							   "Shows the SIMD kernel set the distance functions use.",
							   "Chosen when the library loads, the best the CPU supports: "
							   "avx512_vpopcntdq, avx512, avx2, popcnt or scalar.",
							   &distance_kernels,
							   MvKernels->name,
							   PGC_INTERNAL,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
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
