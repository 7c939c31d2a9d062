/*
 * fuzz_dense.c
 *		libFuzzer target for MvParseDense, the floatvector text parser.
 *
 * Beyond "does not crash": the result must be consistent with the input,
 * an accepted vector must hold only finite numbers, a tighter limit must be
 * refused with MV_PARSE_TOO_MANY, and printing the vector with "%.9g" and
 * parsing it again must give the same floats bit for bit.
 */
#include "postgres.h"

#include <math.h>

#include "milvus/vector_parse.h"
#include "fuzz_common.h"

/* Print a parsed vector back as a literal */
static char *
format_dense(const float *x, int n)
{
	FuzzText	t = {0};
	char		num[32];

	fuzz_text_append(&t, "[");
	for (int i = 0; i < n; i++)
	{
		snprintf(num, sizeof(num), "%s%.9g", i > 0 ? "," : "", x[i]);
		fuzz_text_append(&t, num);
	}
	fuzz_text_append(&t, "]");
	return t.data;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *str = fuzz_cstring(data, size);
	int			bound = MvParseDenseBound(str);
	float	   *out = malloc(sizeof(float) * bound);
	MvParseResult r;

	FUZZ_CHECK(bound >= 1 && out != NULL);
	r = MvParseDense(str, out, bound);
	FUZZ_CHECK_RESULT(r, str, bound);

	if (r.code == MV_PARSE_OK)
	{
		char	   *again = format_dense(out, r.count);
		float	   *out2 = malloc(sizeof(float) * r.count);
		MvParseResult r2;

		FUZZ_CHECK(r.count >= 1);
		for (int i = 0; i < r.count; i++)
			FUZZ_CHECK(isfinite(out[i]));

		r2 = MvParseDense(again, out2, r.count);
		FUZZ_CHECK(r2.code == MV_PARSE_OK && r2.count == r.count);
		FUZZ_CHECK(memcmp(out, out2, sizeof(float) * r.count) == 0);

		if (r.count > 1)
			FUZZ_CHECK(MvParseDense(str, out2, r.count - 1).code == MV_PARSE_TOO_MANY);
		free(out2);
		free(again);
	}
	free(out);
	free(str);
	return 0;
}
