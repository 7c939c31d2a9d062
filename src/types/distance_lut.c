/*
 * distance_lut.c
 *		The block layout of the bits_lut_sums kernel and its lookup table.
 *
 * bits_lut_sums adds up, for many codes at once, the weights of each code's
 * set bits: the growing-segment sketch's estimate of <sign(x), q> for a
 * query q quantised to MV_LUT_WEIGHT_BITS (6) bits per dimension, with no
 * population counts: the sum of four such weights fits a byte, so looking
 * them up four bits at a time costs one byte shuffle (VPSHUFB) per group of
 * four bits for 16 codes at once, once the codes of 32 rows are interleaved
 * so that one register holds a group of all of them, as in Faiss's
 * fast-scan product quantisation.  (Weights of 8 bits took two shuffles, the
 * low and the high halves, and a scan twice as long.)  The layout is in
 * distance.h.
 */
#include "postgres.h"

#include "port/pg_bitutils.h"

#include "milvus/distance.h"
#include "distance_kernels.h"

void
MvBitsLutSetCode(uint8 *codes, int ngroups, int i, const uint64 *bits)
{
	uint8	   *block = codes + (Size) (i / MV_LUT_BLOCK) * MV_LUT_BLOCK_BYTES(ngroups);
	int			j = i % 16;
	int			shift = (i % MV_LUT_BLOCK) < 16 ? 0 : 4;
	uint8		keep = (uint8) (0xF0 >> shift);

	for (int g = 0; g < ngroups; g++)
	{
		uint8		nibble = (uint8) ((bits[g / 16] >> (4 * (g % 16))) & 0xF);
		uint8	   *byte = block + (Size) g * 16 + j;

		*byte = (uint8) ((*byte & keep) | (nibble << shift));
	}
}

void
MvBitsLutCopyCode(uint8 *dst, int i, const uint8 *src, int j, int ngroups)
{
	const uint8 *from = src + (Size) (j / MV_LUT_BLOCK) * MV_LUT_BLOCK_BYTES(ngroups) + j % 16;
	uint8	   *to = dst + (Size) (i / MV_LUT_BLOCK) * MV_LUT_BLOCK_BYTES(ngroups) + i % 16;
	int			fromShift = (j % MV_LUT_BLOCK) < 16 ? 0 : 4;
	int			toShift = (i % MV_LUT_BLOCK) < 16 ? 0 : 4;
	uint8		keep = (uint8) (0xF0 >> toShift);

	for (int g = 0; g < ngroups; g++)
	{
		uint8		nibble = (uint8) ((from[(Size) g * 16] >> fromShift) & 0xF);

		to[(Size) g * 16] = (uint8) ((to[(Size) g * 16] & keep) | (nibble << toShift));
	}
}

void
MvBitsLutBuild(const uint8 *weights, int ngroups, uint8 *lut)
{
	Assert(ngroups % 2 == 0);	/* the kernels take groups in pairs */
	for (int g = 0; g < ngroups; g++)
	{
		uint8	   *t = lut + (Size) g * 16;

		t[0] = 0;
		for (int v = 1; v < 16; v++)
		{
			int			bit = pg_rightmost_one_pos32(v);

			Assert(weights[g * 4 + bit] <= MV_LUT_WEIGHT_MAX);
			/* v less its lowest set bit, plus that bit's weight */
			t[v] = (uint8) (t[v & (v - 1)] + weights[g * 4 + bit]);
		}
	}
}

/* bits_lut_sums in portable C: a lookup per code and group */
void
MvBitsLutSumsScalar(const uint8 *codes, int ngroups, int nblocks, const uint8 *lut, uint32 *out)
{
	memset(out, 0, sizeof(uint32) * nblocks * MV_LUT_BLOCK);
	for (int b = 0; b < nblocks; b++)
	{
		const uint8 *bytes = codes + (Size) b * MV_LUT_BLOCK_BYTES(ngroups);
		uint32	   *o = out + (Size) b * MV_LUT_BLOCK;

		for (int g = 0; g < ngroups; g++, bytes += 16)
		{
			const uint8 *t = lut + (Size) g * 16;

			for (int j = 0; j < 16; j++)
			{
				o[j] += t[bytes[j] & 0xF];
				o[j + 16] += t[bytes[j] >> 4];
			}
		}
	}
}
