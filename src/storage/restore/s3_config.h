/*
 * s3_config.h
 *		The settings of the S3 programs in this folder (s3_config.c).
 */
#ifndef MILVUS_S3_CONFIG_H
#define MILVUS_S3_CONFIG_H

#include "milvus/storage.h"

/* the programs' exit statuses besides 0 */
#define MV_S3_EXIT_MISSING 1	/* the bucket does not have it */
#define MV_S3_EXIT_FAILED 2		/* anything else */

extern void MvS3ConfigRead(MvS3Config *config, const char *file, const char *progname);

#endif							/* MILVUS_S3_CONFIG_H */
