/*
 * milvus.c
 *		Entry point of the milvus extension: what happens when the library loads.
 *
 * The types and operators need nothing but the kernels chosen here, so they
 * work whether or not the library is in shared_preload_libraries.  Features
 * that need preloading (background workers, the WAL resource manager) check
 * process_shared_preload_libraries_in_progress themselves and say so.
 */
#include "postgres.h"

#include "fmgr.h"

#include "milvus/distance.h"
#include "milvus/guc.h"
#include "milvus/hybrid.h"
#include "milvus/planner.h"
#include "milvus/workers.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Choose the distance kernels, define the settings, install the planner hooks
 * and the hybrid search's custom scan; when preloaded, register the data
 * coordinator
 */
void
_PG_init(void)
{
	MvKernelsInit();
	MvDefineSettings();
	MvParamFoldInit();
	MvHybridInit();
	MvWorkersInit();
}
