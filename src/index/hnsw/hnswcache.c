/*
 * hnswcache.c
 *		The elements an on-disk operation has loaded, by TID.
 *
 * A scan, insert or vacuum loads each element it meets once and keeps it
 * (with its distance to the query and its visit stamp) for the rest of the
 * operation.  The lookup runs for every neighbour of every expanded element,
 * so it is an open-addressing table (lib/simplehash.h) keyed by the TID
 * packed into 48 bits, not a dynahash table: no hash_bytes over a 6-byte
 * key, no bucket chains.
 */
#include "postgres.h"

#include "common/hashfn.h"

#include "hnsw.h"

typedef struct MvHnswCacheEntry
{
	uint64		key;			/* block << 16 | offset */
	MvHnswElement *element;
	char		status;			/* simplehash's */
} MvHnswCacheEntry;

#define SH_PREFIX		mvhnsw_cache
#define SH_ELEMENT_TYPE	MvHnswCacheEntry
#define SH_KEY_TYPE		uint64
#define SH_KEY			key
#define tid_hash(k)			hash_combine(murmurhash32((uint32) (k)), (uint32) ((k) >> 32))
#define SH_HASH_KEY(tb, k)	tid_hash(k)
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_SCOPE		static inline
#define SH_DEFINE
#define SH_DECLARE
#include "lib/simplehash.h"

static inline uint64
tid_key(ItemPointer tid)
{
	return ((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) |
		ItemPointerGetOffsetNumberNoCheck(tid);
}

/* An empty cache in ctx */
MvHnswCache *
MvHnswCacheCreate(MemoryContext ctx)
{
	return (MvHnswCache *) mvhnsw_cache_create(ctx, 256, NULL);
}

/* The element loaded for tid, or NULL */
MvHnswElement *
MvHnswCacheLookup(MvHnswCache *cache, ItemPointer tid)
{
	MvHnswCacheEntry *entry = mvhnsw_cache_lookup((mvhnsw_cache_hash *) cache, tid_key(tid));

	return entry ? entry->element : NULL;
}

/*
 * Start loading the slots of tids[0..n) into the CPU cache, so that the
 * lookups that follow miss in parallel rather than one after another (the
 * table of a seal holds every element it met: megabytes, mostly not cached).
 */
void
MvHnswCachePrefetch(MvHnswCache *cache, ItemPointerData *tids, int n)
{
	mvhnsw_cache_hash *tb = (mvhnsw_cache_hash *) cache;

	for (int i = 0; i < n; i++)
	{
		uint64		key = tid_key(&tids[i]);
		uint32		hash = tid_hash(key);

		mv_prefetch(&tb->data[mvhnsw_cache_initial_bucket(tb, hash)]);
	}
}

/* Remember the element loaded for tid */
void
MvHnswCacheInsert(MvHnswCache *cache, ItemPointer tid, MvHnswElement *element)
{
	bool		found;
	MvHnswCacheEntry *entry = mvhnsw_cache_insert((mvhnsw_cache_hash *) cache, tid_key(tid), &found);

	entry->element = element;
}
