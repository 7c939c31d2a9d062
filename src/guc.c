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

static char *distance_kernels = NULL;

/* Define the settings; called once from _PG_init after MvKernelsInit */
void
MvDefineSettings(void)
{
	DefineCustomStringVariable("milvus.distance_kernels",
							   "Shows the SIMD kernel set the distance functions use.",
							   "Chosen when the library loads, the best the CPU supports: "
							   "avx512_vpopcntdq, avx512, avx2, popcnt or scalar.",
							   &distance_kernels,
							   MvKernels->name,
							   PGC_INTERNAL,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   NULL, NULL, NULL);

	MarkGUCPrefixReserved("milvus");
}
