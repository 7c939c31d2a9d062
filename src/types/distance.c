/*
 * distance.c
 *		Choice of distance kernel set at load time.
 *
 * Every kernel set fills the same MvKernelSet (distance.h): the portable one
 * and its POPCNT variant live in distance_portable.c, the SIMD ones in
 * distance_avx2.c and distance_avx512.c, each compiled for its instructions
 * through target attributes so that the module loads on any x86-64.
 * MvKernelSetsSupported() asks the CPU, through __builtin_cpu_supports (which
 * also checks that the OS saves the AVX registers), which sets it can run;
 * MvKernelsInit() keeps the last, best, of them.
 */
#include "postgres.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "milvus/distance.h"
#include "distance_kernels.h"

#define MV_MAX_KERNEL_SETS	8

const MvKernelSet *MvKernels = &MvKernelSetPortable;

#if defined(__x86_64__)
/*
 * Whether the CPU has F16C, from CPUID itself: clang before 16 does not know
 * __builtin_cpu_supports("f16c").  Only asked after AVX2, whose check covers
 * the OS's saving of the YMM registers.
 */
static bool
cpu_has_f16c(void)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;

	return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}
#endif

/*
 * Fill sets[] with every kernel set this CPU can run, portable first and the
 * one MvKernelsInit() chooses last; returns how many.
 */
int
MvKernelSetsSupported(const MvKernelSet **sets, int max)
{
	const MvKernelSet *found[MV_MAX_KERNEL_SETS];
	int			nfound = 0;
	int			i;

	found[nfound++] = &MvKernelSetPortable;
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("popcnt"))
	{
		found[nfound++] = &MvKernelSetPopcnt;
		if (__builtin_cpu_supports("avx2") &&
			__builtin_cpu_supports("fma") &&
			cpu_has_f16c())
		{
			found[nfound++] = &MvKernelSetAvx2;
			if (__builtin_cpu_supports("avx512f") &&
				__builtin_cpu_supports("avx512bw") &&
				__builtin_cpu_supports("avx512vl"))
			{
				found[nfound++] = &MvKernelSetAvx512;
				if (__builtin_cpu_supports("avx512vpopcntdq"))
					found[nfound++] = &MvKernelSetAvx512Vpopcntdq;
			}
		}
	}
#endif
	for (i = 0; i < nfound && i < max; i++)
		sets[i] = found[i];
	return Min(nfound, max);
}

/* Point MvKernels at the best kernel set this CPU supports. */
void
MvKernelsInit(void)
{
	const MvKernelSet *sets[MV_MAX_KERNEL_SETS];
	int			nsets = MvKernelSetsSupported(sets, lengthof(sets));

	MvKernels = sets[nsets - 1];
}
