/*
 * tidset.c
 *		A set of heap TIDs, built from a TIDBitmap, that a graph walk can test.
 *
 * PostgreSQL's TIDBitmap can be iterated but not asked whether it holds a
 * TID, and a filtered graph walk asks that of every element it visits.  The
 * set is an open-addressing hash table of 64-bit keys: a TID is
 * (block << 16 | offset) + 1, so 0 marks an empty slot, and a lossy page of
 * the bitmap (one that forgot its offsets) is stored as its block with
 * offset 0, which no TID has: every tuple on it may match, and the caller
 * rechecks the filter on the row.
 */
#include "postgres.h"

#include "nodes/tidbitmap.h"

#include "hybrid_int.h"

static inline uint64
tid_key(BlockNumber blkno, OffsetNumber offno)
{
	return (((uint64) blkno << 16) | offno) + 1;
}

static inline uint32
key_hash(uint64 key)
{
	key ^= key >> 33;
	key *= UINT64CONST(0xff51afd7ed558ccd);
	key ^= key >> 33;
	return (uint32) key;
}

static void
set_insert(MvTidSet *set, uint64 key)
{
	uint32		i = key_hash(key) & set->mask;

	while (set->keys[i] != 0)
	{
		if (set->keys[i] == key)
			return;
		i = (i + 1) & set->mask;
	}
	set->keys[i] = key;
}

static bool
set_contains(const MvTidSet *set, uint64 key)
{
	uint32		i = key_hash(key) & set->mask;

	while (set->keys[i] != 0)
	{
		if (set->keys[i] == key)
			return true;
		i = (i + 1) & set->mask;
	}
	return false;
}

/*
 * Count what the bitmap holds: exact TIDs, and pages it holds lossily.
 * Iterating does not consume the bitmap; it can be iterated again.
 */
void
MvTidBitmapCount(TIDBitmap *tbm, int64 *exact, int64 *lossyPages)
{
	TBMIterator *it = tbm_begin_iterate(tbm);
	TBMIterateResult *res;

	*exact = 0;
	*lossyPages = 0;
	while ((res = tbm_iterate(it)) != NULL)
	{
		if (res->ntuples >= 0)
			*exact += res->ntuples;
		else
			(*lossyPages)++;
	}
	tbm_end_iterate(it);
}

/*
 * The bitmap's TIDs and lossy pages as a set, in the current memory context;
 * entries is what MvTidBitmapCount counted (exact TIDs plus lossy pages)
 */
MvTidSet *
MvTidSetFromBitmap(TIDBitmap *tbm, int64 entries)
{
	MvTidSet   *set = MvTidSetCreate(entries);
	TBMIterator *it = tbm_begin_iterate(tbm);
	TBMIterateResult *res;

	while ((res = tbm_iterate(it)) != NULL)
	{
		if (res->ntuples < 0)
		{
			set_insert(set, tid_key(res->blockno, 0));
			set->lossy = true;
		}
		else
			for (int i = 0; i < res->ntuples; i++)
				set_insert(set, tid_key(res->blockno, res->offsets[i]));
	}
	tbm_end_iterate(it);
	return set;
}

/* Whether the set holds tid, or tid's page lossily */
bool
MvTidSetContains(const MvTidSet *set, ItemPointer tid)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);

	if (set_contains(set, tid_key(blkno, ItemPointerGetOffsetNumber(tid))))
		return true;
	return set->lossy && set_contains(set, tid_key(blkno, 0));
}

/* An empty set with room for about expected TIDs (MvTidSetAdd grows it) */
MvTidSet *
MvTidSetCreate(int64 expected)
{
	MvTidSet   *set = palloc0(sizeof(MvTidSet));
	uint64		cap = 16;

	while (cap < 2 * (uint64) expected + 1)
		cap <<= 1;
	if (cap > ((uint64) 1 << 32))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("hybrid search: a filter of " INT64_FORMAT " rows is too large for its TID set",
						expected)));
	set->keys = palloc_extended(cap * sizeof(uint64), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	set->mask = (uint32) (cap - 1);
	return set;
}

/* Add a TID, growing the table past half full */
void
MvTidSetAdd(MvTidSet *set, ItemPointer tid)
{
	if (2 * (uint64) (set->count + 1) > (uint64) set->mask + 1)
	{
		uint64	   *old = set->keys;
		uint64		oldcap = (uint64) set->mask + 1;

		if (oldcap >= ((uint64) 1 << 32))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("hybrid search: too many rows handed out for its TID set")));

		set->keys = palloc_extended(2 * oldcap * sizeof(uint64), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		set->mask = (uint32) (2 * oldcap - 1);
		for (uint64 i = 0; i < oldcap; i++)
			if (old[i] != 0)
				set_insert(set, old[i]);
		pfree(old);
	}
	set_insert(set, tid_key(ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid)));
	set->count++;
}
