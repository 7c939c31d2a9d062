/*
 * guc.h
 *		Every milvus.* setting, declared in src/guc.c.
 */
#ifndef MILVUS_GUC_H
#define MILVUS_GUC_H

/* Milvus's default request limits (quotaAndLimits.limits.*) */
#define MV_SEARCH_MAX_GROUP_SIZE_DEFAULT 10
#define MV_SEARCH_MAX_NQ_DEFAULT	16384
#define MV_SEARCH_MAX_TOPK_DEFAULT	16384
#define MV_SEARCH_LIMIT_MAX			(1 << 30)

extern void MvDefineSettings(void);

#endif							/* MILVUS_GUC_H */
