/*
 * vector_parse.c
 *		Text parsers of the vector types (see vector_parse.h for the forms).
 *
 * A parser walks the NUL-terminated input once, writes at most the number of
 * elements the caller allows, and reports the first problem with its byte
 * offset.  Nothing here allocates, raises an error or depends on the server,
 * so the fuzz targets link this file on its own.
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "milvus/vector_parse.h"

static inline bool
mv_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static inline const char *
skip_space(const char *p)
{
	while (mv_isspace(*p))
		p++;
	return p;
}

static int
count_char_plus_one(const char *str, char c)
{
	int			n = 1;

	for (; *str; str++)
		if (*str == c && n < INT_MAX)
			n++;
	return n;
}

/* Return an upper bound on the elements of a dense literal */
int
MvParseDenseBound(const char *str)
{
	return count_char_plus_one(str, ',');
}

/* Return an upper bound on the entries of a sparse literal */
int
MvParseSparseBound(const char *str)
{
	return count_char_plus_one(str, ':');
}

/* Return an upper bound on the bits of a bit-string literal */
int
MvParseBitsBound(const char *str)
{
	size_t		len = strlen(str);

	return len > INT_MAX ? INT_MAX : (int) len;
}

static MvParseResult
parse_fail(MvParseCode code, const char *start, const char *at, const char *expected)
{
	MvParseResult r;

	r.code = code;
	r.position = (int) (at - start);
	r.expected = expected;
	r.count = 0;
	r.dim = 0;
	return r;
}

/*
 * Read one float4 at *pp.  Leading white space is the caller's job: strtof
 * would skip it too, but then "[ ,1]" would not be caught at the right place.
 */
static MvParseCode
parse_float(const char **pp, float *value)
{
	const char *p = *pp;
	char	   *end;
	float		v;

	if (*p == '\0' || mv_isspace(*p))
		return MV_PARSE_SYNTAX;
	errno = 0;
	v = strtof(p, &end);
	if (end == p)
		return MV_PARSE_SYNTAX;
	if (isnan(v))
		return MV_PARSE_NOT_FINITE;
	if (isinf(v) && errno != ERANGE)
		return MV_PARSE_INFINITY;
	/* as float4in: overflow, and underflow all the way to zero, are errors */
	if (errno == ERANGE && (isinf(v) || v == 0.0f))
		return MV_PARSE_OUT_OF_RANGE;
	*value = v;
	*pp = end;
	return MV_PARSE_OK;
}

/* Read a non-negative decimal integer that fits in int32 */
static MvParseCode
parse_int(const char **pp, int64 *value)
{
	const char *p = *pp;
	int64		v = 0;

	if (*p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return MV_PARSE_SYNTAX;
	while (*p >= '0' && *p <= '9')
	{
		v = v * 10 + (*p - '0');
		if (v > PG_INT32_MAX)
			return MV_PARSE_OUT_OF_RANGE;
		p++;
	}
	*value = v;
	*pp = p;
	return MV_PARSE_OK;
}

/* Parse '[x, y, ...]' into out[0 .. maxdim - 1] */
MvParseResult
MvParseDense(const char *str, float *out, int maxdim)
{
	const char *p = skip_space(str);
	MvParseResult r = {MV_PARSE_OK, 0, NULL, 0, 0};
	int			n = 0;

	if (*p != '[')
		return parse_fail(MV_PARSE_SYNTAX, str, p, "\"[\"");
	p = skip_space(p + 1);
	if (*p == ']')
		return parse_fail(MV_PARSE_EMPTY, str, p, NULL);

	for (;;)
	{
		const char *elem = p;
		float		v;
		MvParseCode code;

		if (n >= maxdim)
			return parse_fail(MV_PARSE_TOO_MANY, str, elem, NULL);
		code = parse_float(&p, &v);
		if (code != MV_PARSE_OK)
			return parse_fail(code, str, elem, "a number");
		out[n++] = v;

		p = skip_space(p);
		if (*p == ',')
			p = skip_space(p + 1);
		else if (*p == ']')
			break;
		else
			return parse_fail(MV_PARSE_SYNTAX, str, p, "\",\" or \"]\"");
	}

	p = skip_space(p + 1);
	if (*p != '\0')
		return parse_fail(MV_PARSE_SYNTAX, str, p, "end of input");
	r.count = n;
	return r;
}

/*
 * Parse '{i:v, ...}/dim'.  Indices are 1-based in the text and 0-based in
 * indices[]; entries whose value is zero are checked but not stored.
 */
MvParseResult
MvParseSparse(const char *str, int32 *indices, float *values, int maxnnz, int maxdim)
{
	const char *p = skip_space(str);
	MvParseResult r = {MV_PARSE_OK, 0, NULL, 0, 0};
	int			n = 0;
	int64		previous = 0;
	int64		dim;
	const char *last_index = NULL;
	MvParseCode code;

	if (*p != '{')
		return parse_fail(MV_PARSE_SYNTAX, str, p, "\"{\"");
	p = skip_space(p + 1);

	if (*p != '}')
	{
		for (;;)
		{
			const char *at = p;
			int64		index;
			float		v;

			code = parse_int(&p, &index);
			if (code != MV_PARSE_OK)
				return parse_fail(code == MV_PARSE_SYNTAX ? MV_PARSE_SYNTAX : MV_PARSE_BAD_INDEX,
								  str, at, "an index");
			if (index < 1)
				return parse_fail(MV_PARSE_BAD_INDEX, str, at, NULL);
			if (index == previous)
				return parse_fail(MV_PARSE_DUPLICATE, str, at, NULL);
			if (index < previous)
				return parse_fail(MV_PARSE_UNSORTED, str, at, NULL);
			previous = index;
			last_index = at;

			p = skip_space(p);
			if (*p != ':')
				return parse_fail(MV_PARSE_SYNTAX, str, p, "\":\"");
			p = skip_space(p + 1);
			at = p;
			code = parse_float(&p, &v);
			if (code != MV_PARSE_OK)
				return parse_fail(code, str, at, "a number");
			if (v != 0.0f)
			{
				if (n >= maxnnz)
					return parse_fail(MV_PARSE_TOO_MANY, str, at, NULL);
				indices[n] = (int32) (index - 1);
				values[n] = v;
				n++;
			}

			p = skip_space(p);
			if (*p == ',')
				p = skip_space(p + 1);
			else if (*p == '}')
				break;
			else
				return parse_fail(MV_PARSE_SYNTAX, str, p, "\",\" or \"}\"");
		}
	}

	p = skip_space(p + 1);
	if (*p != '/')
		return parse_fail(MV_PARSE_SYNTAX, str, p, "\"/\" and the dimension");
	p = skip_space(p + 1);
	{
		const char *at = p;

		code = parse_int(&p, &dim);
		if (code == MV_PARSE_SYNTAX)
			return parse_fail(MV_PARSE_SYNTAX, str, at, "the dimension");
		if (code != MV_PARSE_OK || dim > maxdim)
			return parse_fail(MV_PARSE_DIM_TOO_LARGE, str, at, NULL);
		if (dim < 1)
			return parse_fail(MV_PARSE_BAD_DIM, str, at, NULL);
	}
	if (previous > dim)
		return parse_fail(MV_PARSE_BAD_INDEX, str, last_index, NULL);
	p = skip_space(p);
	if (*p != '\0')
		return parse_fail(MV_PARSE_SYNTAX, str, p, "end of input");

	r.count = n;
	r.dim = (int) dim;
	return r;
}

/* Parse a string of '0' and '1' characters, most significant bit first */
MvParseResult
MvParseBits(const char *str, uint8 *out, int maxbits)
{
	const char *p = skip_space(str);
	MvParseResult r = {MV_PARSE_OK, 0, NULL, 0, 0};
	int			n = 0;

	for (; *p == '0' || *p == '1'; p++)
	{
		if (n >= maxbits)
			return parse_fail(MV_PARSE_TOO_MANY, str, p, NULL);
		if (n % 8 == 0)
			out[n / 8] = 0;
		if (*p == '1')
			out[n / 8] |= (uint8) (0x80 >> (n % 8));
		n++;
	}
	{
		const char *end = p;

		p = skip_space(p);
		if (*p != '\0')
			return parse_fail(MV_PARSE_SYNTAX, str, p,
							  p == end ? "\"0\" or \"1\"" : "end of input");
		if (n == 0)
			return parse_fail(MV_PARSE_EMPTY, str, end, NULL);
		if (n % 8 != 0)
		{
			r = parse_fail(MV_PARSE_BIT_COUNT, str, end, NULL);
			r.count = n;
			return r;
		}
	}
	r.count = n;
	return r;
}
