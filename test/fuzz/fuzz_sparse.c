/*
 * fuzz_sparse.c
 *		libFuzzer target for MvParseSparse, the sparsevector text parser.
 *
 * An accepted vector must have 0-based indices strictly increasing and below
 * its dimension, finite non-zero values, a tighter entry limit must be
 * refused with MV_PARSE_TOO_MANY, and printing it back ("{i:%.9g,...}/dim")
 * and parsing again must give the same indices and value bits.
 */
#include "postgres.h"

#include <math.h>

#include "milvus/vector.h"
#include "milvus/vector_parse.h"
#include "fuzz_common.h"

/* Print a parsed vector back as a literal, with 1-based indices */
static char *
format_sparse(const int32 *indices, const float *values, int nnz, int dim)
{
	FuzzText	t = {0};
	char		entry[64];

	fuzz_text_append(&t, "{");
	for (int i = 0; i < nnz; i++)
	{
		snprintf(entry, sizeof(entry), "%s%d:%.9g", i > 0 ? "," : "",
				 indices[i] + 1, values[i]);
		fuzz_text_append(&t, entry);
	}
	snprintf(entry, sizeof(entry), "}/%d", dim);
	fuzz_text_append(&t, entry);
	return t.data;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *str = fuzz_cstring(data, size);
	int			bound = MvParseSparseBound(str);
	int32	   *indices = malloc(sizeof(int32) * bound);
	float	   *values = malloc(sizeof(float) * bound);
	MvParseResult r;

	FUZZ_CHECK(bound >= 1 && indices != NULL && values != NULL);
	r = MvParseSparse(str, indices, values, bound, MV_SPARSE_MAX_DIM);
	FUZZ_CHECK_RESULT(r, str, bound);

	if (r.code == MV_PARSE_OK)
	{
		int			n = r.count;
		char	   *again = format_sparse(indices, values, n, r.dim);
		int32	   *indices2 = malloc(sizeof(int32) * (n + 1));
		float	   *values2 = malloc(sizeof(float) * (n + 1));
		MvParseResult r2;

		FUZZ_CHECK(r.dim >= 1 && r.dim <= MV_SPARSE_MAX_DIM);
		for (int i = 0; i < n; i++)
		{
			FUZZ_CHECK(indices[i] >= 0 && indices[i] < r.dim);
			FUZZ_CHECK(i == 0 || indices[i] > indices[i - 1]);
			FUZZ_CHECK(isfinite(values[i]) && values[i] != 0.0f);
		}

		r2 = MvParseSparse(again, indices2, values2, n + 1, MV_SPARSE_MAX_DIM);
		FUZZ_CHECK(r2.code == MV_PARSE_OK && r2.count == n && r2.dim == r.dim);
		FUZZ_CHECK(memcmp(indices, indices2, sizeof(int32) * n) == 0);
		FUZZ_CHECK(memcmp(values, values2, sizeof(float) * n) == 0);

		if (n > 0)
			FUZZ_CHECK(MvParseSparse(str, indices2, values2, n - 1,
									 MV_SPARSE_MAX_DIM).code == MV_PARSE_TOO_MANY);
		free(indices2);
		free(values2);
		free(again);
	}
	free(indices);
	free(values);
	free(str);
	return 0;
}
