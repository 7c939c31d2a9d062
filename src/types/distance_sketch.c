/*
 * distance_sketch.c
 *		The sketch_bounds kernel in portable C: a growing-segment sketch's
 *		distance bounds of each row for a query (hnswsketch.c; the terms are
 *		in distance.h).
 */
#include "postgres.h"

#include "milvus/distance.h"
#include "distance_kernels.h"

void
MvSketchBoundsScalar(const MvSketchRows *rows, const MvSketchQuery *query, int n,
					 float *lower, float *upper)
{
	for (int r = 0; r < n; r++)
		mv_sketch_bound_row(rows, query, r, &lower[r], &upper[r]);
}
