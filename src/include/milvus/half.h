/*
 * half.h
 *		Exact scalar conversions between float and IEEE 754 binary16.
 *
 * MvFloatToHalf rounds to nearest, ties to even, exactly as the F16C
 * instruction VCVTPS2PH with rounding mode 0 does for every non-NaN float
 * (test/kernels checks all 2^32); a NaN becomes the canonical quiet NaN,
 * where the instruction would keep part of the payload.  No stored vector
 * holds a NaN, so the difference never reaches disk.  Finite floats of
 * magnitude 65520 or more become infinity; callers that must refuse that
 * check MvHalfIsInf on the result.
 */
#ifndef MILVUS_HALF_H
#define MILVUS_HALF_H

#include <string.h>

#define MV_HALF_MAX		65504.0f

static inline float
MvHalfToFloat(uint16 h)
{
	uint32		sign = ((uint32) (h & 0x8000)) << 16;
	uint32		exponent = (h >> 10) & 0x1f;
	uint32		mantissa = h & 0x3ff;
	uint32		bits;
	float		result;

	if (exponent == 0x1f)
		bits = sign | 0x7f800000 | (mantissa << 13);
	else if (exponent != 0)
		bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
	else
	{
		/* zero or subnormal: mantissa * 2^-24 is exact in float */
		result = (float) mantissa * (1.0f / 16777216.0f);
		return sign ? -result : result;
	}
	memcpy(&result, &bits, sizeof(result));
	return result;
}

static inline uint16
MvFloatToHalf(float value)
{
	uint32		bits;
	uint32		sign;
	uint16		result;

	memcpy(&bits, &value, sizeof(bits));
	sign = bits & 0x80000000u;
	bits ^= sign;

	if (bits >= ((127u + 16) << 23))
	{
		/* 65536 or more, infinity, NaN */
		result = (bits > 0x7f800000u) ? 0x7e00 : 0x7c00;
	}
	else if (bits < (113u << 23))
	{
		/* subnormal or zero: let the FPU round by adding 0.5 */
		float		magnitude;
		float		shifted;
		uint32		shifted_bits;

		memcpy(&magnitude, &bits, sizeof(magnitude));
		shifted = magnitude + 0.5f;
		memcpy(&shifted_bits, &shifted, sizeof(shifted_bits));
		result = (uint16) (shifted_bits - (126u << 23));
	}
	else
	{
		uint32		mantissa_odd = (bits >> 13) & 1;

		bits += 0xc8000000u + 0xfff;	/* rebias exponent, round half up */
		bits += mantissa_odd;			/* ... or to even */
		result = (uint16) (bits >> 13);
	}
	return result | (uint16) (sign >> 16);
}

static inline bool
MvHalfIsInf(uint16 h)
{
	return (h & 0x7fff) == 0x7c00;
}

#endif							/* MILVUS_HALF_H */
