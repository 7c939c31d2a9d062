/*
 * binaryvector.c
 *		The binaryvector type (bits, dimension a multiple of 8 as in Milvus):
 *		I/O, typmod, Hamming and Jaccard distances, B-tree comparison.
 *
 * Text form is the bit string, most significant bit first: '01011010' is the
 * byte 0x5a.  Bits are stored packed, 8 to a byte.
 */
#include "postgres.h"

#include "libpq/pqformat.h"
#include "utils/builtins.h"

#include "milvus/distance.h"
#include "milvus/vector.h"
#include "milvus/vector_common.h"
#include "milvus/vector_parse.h"

PG_FUNCTION_INFO_V1(milvus_binaryvector_in);
PG_FUNCTION_INFO_V1(milvus_binaryvector_out);
PG_FUNCTION_INFO_V1(milvus_binaryvector_typmod_in);
PG_FUNCTION_INFO_V1(milvus_binaryvector_recv);
PG_FUNCTION_INFO_V1(milvus_binaryvector_send);
PG_FUNCTION_INFO_V1(milvus_binaryvector_coerce);
PG_FUNCTION_INFO_V1(milvus_binaryvector_dims);
PG_FUNCTION_INFO_V1(milvus_binaryvector_bit_count);
PG_FUNCTION_INFO_V1(milvus_binaryvector_hamming_distance);
PG_FUNCTION_INFO_V1(milvus_binaryvector_jaccard_distance);

/* Allocate an all-zero binaryvector of dim bits */
BinaryVector *
MvBinaryVectorAlloc(int dim)
{
	Size		size = BINARYVECTOR_SIZE(dim);
	BinaryVector *result = (BinaryVector *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

Datum
milvus_binaryvector_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			bound = Min(MvParseBitsBound(str), MV_BINARY_MAX_DIM);
	uint8	   *buf = palloc((bound + 7) / 8 + 1);
	MvParseResult parsed;
	BinaryVector *result;

	parsed = MvParseBits(str, buf, bound);
	if (parsed.code != MV_PARSE_OK)
		MvReportParseError(MV_BINARYVECTOR, str, &parsed);
	MvCheckTypmod(MV_BINARYVECTOR, parsed.count, typmod);

	result = MvBinaryVectorAlloc(parsed.count);
	memcpy(result->x, buf, parsed.count / 8);
	pfree(buf);
	PG_RETURN_POINTER(result);
}

Datum
milvus_binaryvector_out(PG_FUNCTION_ARGS)
{
	BinaryVector *v = PG_GETARG_BINARYVECTOR_P(0);
	char	   *result = palloc(v->dim + 1);

	for (int i = 0; i < v->dim; i++)
		result[i] = (v->x[i / 8] & (0x80 >> (i % 8))) ? '1' : '0';
	result[v->dim] = '\0';
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(result);
}

Datum
milvus_binaryvector_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(MvTypmodIn(MV_BINARYVECTOR, PG_GETARG_ARRAYTYPE_P(0)));
}

/* Binary input: int32 dim in bits, then dim / 8 bytes */
Datum
milvus_binaryvector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int32		dim = MvRecvInt32(buf, MV_BINARYVECTOR, "dimension");
	BinaryVector *result;

	MvCheckDim(MV_BINARYVECTOR, dim);
	MvCheckTypmod(MV_BINARYVECTOR, dim, typmod);
	if (buf->len - buf->cursor < dim / 8)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("insufficient data left in message"),
				 errdetail("A binaryvector of %d bits needs %d bytes.", dim, dim / 8)));
	result = MvBinaryVectorAlloc(dim);
	pq_copymsgbytes(buf, (char *) result->x, dim / 8);
	PG_RETURN_POINTER(result);
}

Datum
milvus_binaryvector_send(PG_FUNCTION_ARGS)
{
	BinaryVector *v = PG_GETARG_BINARYVECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, v->dim);
	pq_sendbytes(&buf, (char *) v->x, v->dim / 8);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Length coercion: binaryvector to binaryvector(n) */
Datum
milvus_binaryvector_coerce(PG_FUNCTION_ARGS)
{
	BinaryVector *v = PG_GETARG_BINARYVECTOR_P(0);

	MvCheckTypmod(MV_BINARYVECTOR, v->dim, PG_GETARG_INT32(1));
	PG_RETURN_POINTER(v);
}

Datum
milvus_binaryvector_dims(PG_FUNCTION_ARGS)
{
	BinaryVector *v = PG_GETARG_BINARYVECTOR_P(0);

	PG_RETURN_INT32(v->dim);
}

/* Number of bits set */
Datum
milvus_binaryvector_bit_count(PG_FUNCTION_ARGS)
{
	BinaryVector *v = PG_GETARG_BINARYVECTOR_P(0);

	PG_RETURN_INT64((int64) MvKernels->bits_popcount(v->x, v->dim / 8));
}

/* Number of positions where the bits differ */
Datum
milvus_binaryvector_hamming_distance(PG_FUNCTION_ARGS)
{
	BinaryVector *a = PG_GETARG_BINARYVECTOR_P(0);
	BinaryVector *b = PG_GETARG_BINARYVECTOR_P(1);

	MvCheckSameDims(a->dim, b->dim);
	PG_RETURN_FLOAT8((double) MvKernels->bits_xor_popcount(a->x, b->x, a->dim / 8));
}

/*
 * 1 - |a AND b| / |a OR b|.  Two all-zero vectors are equal sets, so their
 * distance is 0.
 */
Datum
milvus_binaryvector_jaccard_distance(PG_FUNCTION_ARGS)
{
	BinaryVector *a = PG_GETARG_BINARYVECTOR_P(0);
	BinaryVector *b = PG_GETARG_BINARYVECTOR_P(1);
	uint64		and_count;
	uint64		or_count;

	MvCheckSameDims(a->dim, b->dim);
	MvKernels->bits_and_or_popcount(a->x, b->x, a->dim / 8, &and_count, &or_count);
	if (or_count == 0)
		PG_RETURN_FLOAT8(0.0);
	PG_RETURN_FLOAT8(1.0 - (double) and_count / (double) or_count);
}

/* Order bytewise, then by dimension */
static int
binaryvector_cmp(BinaryVector *a, BinaryVector *b)
{
	int			c = memcmp(a->x, b->x, Min(a->dim, b->dim) / 8);

	if (c != 0)
		return c < 0 ? -1 : 1;
	return (a->dim > b->dim) - (a->dim < b->dim);
}

MV_DEFINE_CMP_FUNCTIONS(binaryvector, BinaryVector, PG_GETARG_BINARYVECTOR_P)
