/*
 * distance.c
 *		Which distance kernel set is in use: the best the CPU runs, chosen at
 *		load time, or another it runs, chosen by milvus.distance_kernels.
 *
 * Every kernel set fills the same MvKernelSet (distance.h): the portable one
 * and its POPCNT variant live in distance_portable.c, the SIMD ones in
 * distance_avx2.c and distance_avx512.c, each compiled for its instructions
 * through target attributes so that the module loads on any x86-64.  The sets
 * form a ladder, each needing the CPU features of the one below and more.
 * MvKernelSetsKnown() walks it, asking the CPU through __builtin_cpu_supports
 * (which also checks that the OS saves the AVX registers), and says for each
 * set whether it runs here and if not, which features are missing.
 */
#include "postgres.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "milvus/distance.h"
#include "distance_kernels.h"

const MvKernelSet *MvKernels = &MvKernelSetPortable;

/* the CPU features a kernel set may need */
typedef enum MvCpuFeature
{
	MV_CPU_POPCNT,
	MV_CPU_AVX2,
	MV_CPU_FMA,
	MV_CPU_F16C,
	MV_CPU_AVX512F,
	MV_CPU_AVX512BW,
	MV_CPU_AVX512VL,
	MV_CPU_AVX512VPOPCNTDQ,
	MV_CPU_NUM_FEATURES
} MvCpuFeature;

static const char *const cpu_feature_names[MV_CPU_NUM_FEATURES] = {
	"POPCNT", "AVX2", "FMA", "F16C", "AVX512F", "AVX512BW", "AVX512VL", "AVX512_VPOPCNTDQ"
};

/* the ladder of sets, portable first; each needs its features and those below */
typedef struct MvKernelLevel
{
	const char *name;
	MvCpuFeature features[3];
	int			nfeatures;
} MvKernelLevel;

static const MvKernelLevel kernel_levels[] = {
	{"scalar", {0}, 0},
	{"popcnt", {MV_CPU_POPCNT}, 1},
	{"avx2", {MV_CPU_AVX2, MV_CPU_FMA, MV_CPU_F16C}, 3},
	{"avx512", {MV_CPU_AVX512F, MV_CPU_AVX512BW, MV_CPU_AVX512VL}, 3},
	{"avx512_vpopcntdq", {MV_CPU_AVX512VPOPCNTDQ}, 1},
};

StaticAssertDecl(lengthof(kernel_levels) <= MV_MAX_KERNEL_SETS,
				 "MV_MAX_KERNEL_SETS is too small");

/* The compiled set of a level, or NULL off x86-64 for the SIMD ones */
static const MvKernelSet *
level_set(int level)
{
	switch (level)
	{
		case 0:
			return &MvKernelSetPortable;
#if defined(__x86_64__)
		case 1:
			return &MvKernelSetPopcnt;
		case 2:
			return &MvKernelSetAvx2;
		case 3:
			return &MvKernelSetAvx512;
		case 4:
			return &MvKernelSetAvx512Vpopcntdq;
#endif
	}
	return NULL;
}

#if defined(__x86_64__)
/*
 * Whether the CPU has the feature.  F16C comes from CPUID itself, as clang
 * before 16 does not know __builtin_cpu_supports("f16c"); it is usable only
 * with AVX, whose check (through AVX2's) covers the OS's saving of the YMM
 * registers, and every set that needs it needs AVX2 too.
 */
static bool
cpu_has(MvCpuFeature feature)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;

	switch (feature)
	{
		case MV_CPU_POPCNT:
			return __builtin_cpu_supports("popcnt");
		case MV_CPU_AVX2:
			return __builtin_cpu_supports("avx2");
		case MV_CPU_FMA:
			return __builtin_cpu_supports("fma");
		case MV_CPU_F16C:
			return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
		case MV_CPU_AVX512F:
			return __builtin_cpu_supports("avx512f");
		case MV_CPU_AVX512BW:
			return __builtin_cpu_supports("avx512bw");
		case MV_CPU_AVX512VL:
			return __builtin_cpu_supports("avx512vl");
		case MV_CPU_AVX512VPOPCNTDQ:
			return __builtin_cpu_supports("avx512vpopcntdq");
		case MV_CPU_NUM_FEATURES:
			break;
	}
	return false;
}
#endif

/*
 * Fill info[] with every kernel set there is, portable first and best last,
 * saying for each whether this CPU runs it; returns how many.
 */
int
MvKernelSetsKnown(MvKernelSetInfo *info, int max)
{
	/* the reasons, kept for the caller: the CPU does not change */
	static char missing[lengthof(kernel_levels)][128];
	bool		lacks[MV_CPU_NUM_FEATURES] = {0};
	int			n = Min((int) lengthof(kernel_levels), max);

#if defined(__x86_64__)
	__builtin_cpu_init();
#endif
	for (int level = 0; level < n; level++)
	{
		const MvKernelLevel *l = &kernel_levels[level];

		info[level].name = l->name;
		info[level].set = level_set(level);
		info[level].missing = NULL;
		if (info[level].set == NULL)
		{
			info[level].missing = "it is only built for x86-64";
			continue;
		}
#if defined(__x86_64__)
		for (int f = 0; f < l->nfeatures; f++)
			lacks[l->features[f]] = !cpu_has(l->features[f]);
#endif
		/* every feature this level and those below need, that the CPU lacks */
		missing[level][0] = '\0';
		for (int below = 0; below <= level; below++)
		{
			for (int f = 0; f < kernel_levels[below].nfeatures; f++)
			{
				MvCpuFeature feature = kernel_levels[below].features[f];

				if (!lacks[feature])
					continue;
				snprintf(missing[level] + strlen(missing[level]),
						 sizeof(missing[level]) - strlen(missing[level]), "%s%s",
						 missing[level][0] ? ", " : "the CPU lacks ",
						 cpu_feature_names[feature]);
			}
		}
		if (missing[level][0])
			info[level].missing = missing[level];
	}
	return n;
}

/*
 * Fill sets[] with every kernel set this CPU can run, portable first and the
 * one MvKernelsInit() chooses last; returns how many.
 */
int
MvKernelSetsSupported(const MvKernelSet **sets, int max)
{
	MvKernelSetInfo info[MV_MAX_KERNEL_SETS];
	int			nknown = MvKernelSetsKnown(info, lengthof(info));
	int			n = 0;

	for (int i = 0; i < nknown && n < max; i++)
	{
		if (info[i].missing == NULL)
			sets[n++] = info[i].set;
	}
	return n;
}

/* Point MvKernels at the best kernel set this CPU supports. */
void
MvKernelsInit(void)
{
	const MvKernelSet *sets[MV_MAX_KERNEL_SETS];
	int			nsets = MvKernelSetsSupported(sets, lengthof(sets));

	MvKernels = sets[nsets - 1];
}
