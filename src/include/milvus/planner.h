/*
 * planner.h
 *		The planner hooks of src/planner/.
 */
#ifndef MILVUS_PLANNER_H
#define MILVUS_PLANNER_H

/* param_fold.c: fold $1[N] of a constant text[] parameter cheaply */
extern void MvParamFoldInit(void);

#endif							/* MILVUS_PLANNER_H */
