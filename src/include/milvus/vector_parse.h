/*
 * vector_parse.h
 *		Text parsers of the vector types, free of server calls.
 *
 * The parsers neither allocate nor raise errors: the caller passes output
 * buffers sized with the matching *Bound function and turns a non-OK code
 * into an ereport.  That keeps them usable from the libFuzzer targets in
 * test/fuzz/, which link this file alone.
 *
 * Accepted forms (white space allowed around every token):
 *		dense	[1, 2.5, -3e-2]
 *		sparse	{1:0.5, 7:1.5}/1000		(1-based indices, strictly increasing)
 *		bits	01011010				(a string of 0s and 1s)
 */
#ifndef MILVUS_VECTOR_PARSE_H
#define MILVUS_VECTOR_PARSE_H

typedef enum MvParseCode
{
	MV_PARSE_OK = 0,
	MV_PARSE_SYNTAX,			/* malformed text; see expected */
	MV_PARSE_NOT_FINITE,		/* NaN */
	MV_PARSE_INFINITY,			/* an infinity written out */
	MV_PARSE_OUT_OF_RANGE,		/* a number that overflows or underflows float4 */
	MV_PARSE_EMPTY,				/* no elements */
	MV_PARSE_TOO_MANY,			/* more elements than allowed */
	MV_PARSE_BAD_INDEX,			/* sparse index < 1 or > dim */
	MV_PARSE_UNSORTED,			/* sparse indices not increasing */
	MV_PARSE_DUPLICATE,			/* sparse index repeated */
	MV_PARSE_BAD_DIM,			/* sparse dimension missing or below 1 */
	MV_PARSE_DIM_TOO_LARGE,		/* sparse dimension above the maximum */
	MV_PARSE_BIT_COUNT			/* bit count not a multiple of 8 */
} MvParseCode;

typedef struct MvParseResult
{
	MvParseCode code;
	int			position;		/* byte offset into the input where it went wrong */
	const char *expected;		/* for MV_PARSE_SYNTAX: what should have been there */
	int			count;			/* elements (dense, sparse nnz) or bits parsed */
	int			dim;			/* sparse: the declared dimension */
} MvParseResult;

/* upper bounds on the element count, for sizing output buffers */
extern int	MvParseDenseBound(const char *str);
extern int	MvParseSparseBound(const char *str);
extern int	MvParseBitsBound(const char *str);

extern MvParseResult MvParseDense(const char *str, float *out, int maxdim);
extern MvParseResult MvParseSparse(const char *str, int32 *indices, float *values,
								   int maxnnz, int maxdim);
extern MvParseResult MvParseBits(const char *str, uint8 *out, int maxbits);

#endif							/* MILVUS_VECTOR_PARSE_H */
