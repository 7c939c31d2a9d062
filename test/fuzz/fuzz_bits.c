/*
 * fuzz_bits.c
 *		libFuzzer target for MvParseBits, the binaryvector text parser.
 *
 * An accepted bit string must hold a non-zero multiple of 8 bits, a tighter
 * limit must be refused with MV_PARSE_TOO_MANY, and printing the bytes back
 * as 0s and 1s and parsing again must give the same bytes.
 */
#include "postgres.h"

#include "milvus/vector_parse.h"
#include "fuzz_common.h"

/* Print parsed bits back as a literal, most significant bit first */
static char *
format_bits(const uint8 *x, int nbits)
{
	char	   *s = malloc(nbits + 1);

	FUZZ_CHECK(s != NULL);
	for (int i = 0; i < nbits; i++)
		s[i] = (x[i / 8] >> (7 - i % 8)) & 1 ? '1' : '0';
	s[nbits] = '\0';
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *str = fuzz_cstring(data, size);
	int			bound = MvParseBitsBound(str);
	uint8	   *out = malloc(bound / 8 + 1);
	MvParseResult r;

	FUZZ_CHECK(bound >= 0 && out != NULL);
	r = MvParseBits(str, out, bound);
	FUZZ_CHECK_RESULT(r, str, bound);

	if (r.code == MV_PARSE_OK)
	{
		int			nbytes = r.count / 8;
		char	   *again = format_bits(out, r.count);
		uint8	   *out2 = malloc(nbytes);
		MvParseResult r2;

		FUZZ_CHECK(r.count > 0 && r.count % 8 == 0);
		r2 = MvParseBits(again, out2, r.count);
		FUZZ_CHECK(r2.code == MV_PARSE_OK && r2.count == r.count);
		FUZZ_CHECK(memcmp(out, out2, nbytes) == 0);

		FUZZ_CHECK(MvParseBits(str, out2, r.count - 8).code == MV_PARSE_TOO_MANY);
		free(out2);
		free(again);
	}
	free(out);
	free(str);
	return 0;
}
