/*
 * guc.h
 *		Every milvus.* setting, declared in src/guc.c.
 */
#ifndef MILVUS_GUC_H
#define MILVUS_GUC_H

extern void MvDefineSettings(void);

#endif							/* MILVUS_GUC_H */
