/*
 * distance_lut.c
 *		The block layout of the bits_lut_sums kernel and its lookup table.
 *
 * bits_lut_sums adds up, for many codes at once, the 8-bit weights of each
 * code's set bits: the growing-segment sketch's estimate of <sign(x), q>
 * for a query q quantised to 8 bits per dimension, with no population
 * counts: looking the weights up four bits at a time costs two byte
 * shuffles (VPSHUFB: the low and the high halves of the weights)
 * per group of four bits for 16 codes at once, once the codes of 32 rows are
 * interleaved so that one register holds a group of all of them, as in
 * Faiss's fast-scan product quantisation.  The layout is in distance.h.
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
MvBitsLutBuild(const uint8 *weights, int ngroups, uint8 *lut)
{
	Assert(ngroups % 2 == 0);	/* the table holds pairs of groups */
	for (int g = 0; g < ngroups; g++)
	{
		/* the pair's 64 bytes: low halves of g, of g + 1, high halves of g, of g + 1 */
		uint8	   *lo = lut + (Size) (g / 2) * 64 + (g % 2) * 16;
		uint8	   *hi = lo + 32;

		lo[0] = hi[0] = 0;
		for (int v = 1; v < 16; v++)
		{
			int			bit = pg_rightmost_one_pos32(v);
			uint8		w = weights[g * 4 + bit];

			/* v less its lowest set bit, plus that bit's weight */
			lo[v] = (uint8) (lo[v & (v - 1)] + (w & 0xF));
			hi[v] = (uint8) (hi[v & (v - 1)] + (w >> 4));
		}
	}
}

/* groups whose whole weights the portable bits_lut_sums tables at a time */
#define LUT_CHUNK_GROUPS	64

/*
 * bits_lut_sums in portable C: per chunk of groups, a table of each nibble
 * value's whole weight (low half plus 16 times the high half), then a lookup
 * per code and group
 */
void
MvBitsLutSumsScalar(const uint8 *codes, int ngroups, int nblocks, const uint8 *lut, uint32 *out)
{
	uint16		table[LUT_CHUNK_GROUPS][16];

	memset(out, 0, sizeof(uint32) * nblocks * MV_LUT_BLOCK);
	for (int g0 = 0; g0 < ngroups; g0 += LUT_CHUNK_GROUPS)
	{
		int			chunk = Min(LUT_CHUNK_GROUPS, ngroups - g0);

		for (int g = 0; g < chunk; g++)
		{
			const uint8 *lo = lut + (Size) ((g0 + g) / 2) * 64 + ((g0 + g) % 2) * 16;

			for (int v = 0; v < 16; v++)
				table[g][v] = (uint16) (lo[v] + 16 * lo[v + 32]);
		}
		for (int b = 0; b < nblocks; b++)
		{
			const uint8 *bytes = codes + (Size) b * MV_LUT_BLOCK_BYTES(ngroups) + (Size) g0 * 16;
			uint32	   *o = out + (Size) b * MV_LUT_BLOCK;

			for (int g = 0; g < chunk; g++, bytes += 16)
				for (int j = 0; j < 16; j++)
				{
					o[j] += table[g][bytes[j] & 0xF];
					o[j + 16] += table[g][bytes[j] >> 4];
				}
		}
	}
}
