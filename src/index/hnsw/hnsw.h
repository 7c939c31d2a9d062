/*
 * hnsw.h
 *		Private header of the milvus_hnsw index access method.
 *
 * On disk.  Block 0 is the metapage.  Graph pages follow, linked through
 * their special space in the order they were added.  Each graph node is two
 * tuples: an element tuple (heap TIDs, level, deleted flag, a pointer to its
 * neighbour tuple, the vector) and a neighbour tuple (index TIDs of its
 * neighbours: 2m slots for layer 0, then m for each layer above), usually on
 * one page.  A vector need not fit where its element goes: the element then
 * holds a prefix (flag MV_HNSW_ELEMENT_CHUNKED, an MvHnswChunkRef first in
 * data), and the rest follows in chunk tuples on other graph pages, each
 * pointing at the next.  The build puts neighbour tuples wherever a page has
 * room and splits a vector when its pages would otherwise exceed
 * MV_HNSW_PACK_RATIO times the vectors' bytes (two whole 784-dimension
 * vectors fill only 79 % of a page; a split vector costs a scan one more
 * page read); an insert splits only a vector that does not fit a page.
 * Chunks are written once and never change; a tombstone keeps its chunks.
 * Indexes written before chunks existed (version 1) have 0 in the flags
 * (then unused), so they read as before.
 *
 * The growing segment (hnswgrowing.c).  An insert appends a growing tuple
 * (heap TID, flags, the vector) to the tail of a chain of growing pages, from
 * the metapage's growingHead to its growingTail, and touches no graph page;
 * scans measure every growing row exactly and merge them with the graph's
 * stream.  A seal (hnswseal.c) closes the chain to new rows, links each row
 * into the graph (in memory as a build does, hnswsealmem.c, when the graph
 * fits; else as an insert would), flagging it sealed, and hands the sealed
 * pages to the free list (growingFree) that later tails, and new graph
 * pages, are taken from.  A vector too large for a growing page goes straight into the graph.
 * Version 2 indexes have the growing fields Invalid/0 and read as before.
 *
 * In memory.  One MvHnswElement per graph node, whether it belongs to the
 * graph a build holds in its arena (neighbour lists follow the element, links
 * are offsets from the arena base, so the arena reads the same in every
 * process of a parallel build) or was loaded from disk by an insert, scan or
 * vacuum (neighbours are read from the neighbour tuple each time; loaded
 * elements are cached per operation by TID).  The vector is found through an
 * offset from the element itself in both.  One search routine serves both.
 *
 * Growing locks.  An append locks only the tail page (and the metapage,
 * then the tail, when it adds a page); it checks under the tail's lock that
 * the page is still the tail (nextblkno Invalid); a frozen page's next is
 * the new tail, and the free list ends in block 0, so no page that is not
 * the tail passes that check.  Scans read the chain under
 * MV_HNSW_GROWING_LOCK shared; a seal empties pages only under it exclusively,
 * so no reader is ever on a page that is being reused.  One seal, compaction
 * or vacuum at a time per index: MV_HNSW_SEAL_LOCK, taken before any other.
 *
 * Locking.  A build graph shared by parallel workers: an element's LWLock
 * guards its heap TIDs and neighbour lists (readers copy a list under it in
 * shared mode), the arena's entry lock the entry point; an insert that may
 * become the entry point holds that lock exclusively throughout.  On disk:
 * inserts hold MV_HNSW_UPDATE_LOCK shared, or exclusively when they
 * may change the entry point; vacuum takes it exclusively to change the entry
 * point.  Buffer locks are taken one at a time, except when an element is
 * appended or put in a free slot: metapage first, then the insert page or the
 * free slot's page, then new pages or the slot's neighbour page.
 *
 * Space reuse.  Vacuum turns an element whose rows are all dead into a
 * tombstone (MV_HNSW_TOMBSTONE: vector and links kept, so a search that
 * reaches one still walks through it), repairs every live list that links to
 * it, and only then marks it free (MV_HNSW_FREE); the metapage's freeBlkno
 * points at the lowest page that may hold free slots.  An insert (under the
 * metapage's exclusive lock, which serialises appends and reuse) overwrites a
 * free, unchunked element of its own tuple size and level or above in place,
 * shrinking its neighbour tuple to the new level, and bumps the version of
 * both tuples.  Why that is safe: no live list links to a free slot, and
 * inserts never pick a deleted element, so only tombstones' and free slots'
 * lists (and the searches under way) lead to it; a search or insert that
 * loaded the old element holds a consistent copy (old vector, no heap TIDs,
 * deleted) and, when it reads the slot's neighbour tuple, sees a version
 * other than its copy's and takes no links from it; a stale link that now
 * leads to the new element is only a long link.  Vacuum never runs twice at
 * once, and marks slots free only after waiting (under MV_HNSW_UPDATE_LOCK)
 * for the inserts that may have linked to them before they were tombstones.
 */
#ifndef MILVUS_INDEX_HNSW_H
#define MILVUS_INDEX_HNSW_H

#include "access/amapi.h"
#include "access/parallel.h"
#include "access/generic_xlog.h"
#include "access/itup.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "executor/instrument.h"
#include "nodes/execnodes.h"
#include "port/atomics.h"
#include "storage/bufmgr.h"
#include "storage/dsm.h"
#include "storage/shm_toc.h"
#include "storage/lwlock.h"
#include "utils/hsearch.h"
#include "utils/relcache.h"

#include "milvus/hnsw.h"

#define MV_HNSW_MAGIC				0x4D564853	/* "MVHS" */
/*
 * Version 2 indexes may hold chunked elements, which version 1 libraries
 * would misread: they refuse version 2.  Version 3 indexes may hold a
 * growing segment, which version 2 libraries would not search.  Version 1 indexes (every vector
 * whole in its element, the flags zero) read as they are, and stay so:
 * their columns are too narrow for an insert to need chunks.
 */
#define MV_HNSW_VERSION				3
#define MV_HNSW_MIN_VERSION			1	/* the oldest still read */
#define MV_HNSW_PAGE_ID				0xFF9A
#define MV_HNSW_METAPAGE_BLKNO		0

/* Reloptions */
#define MV_HNSW_MIN_M					2
#define MV_HNSW_DEFAULT_M				16
#define MV_HNSW_MAX_M					100
#define MV_HNSW_MIN_EF_CONSTRUCTION		4
#define MV_HNSW_DEFAULT_EF_CONSTRUCTION	64
#define MV_HNSW_MAX_EF_CONSTRUCTION		1000

/* Heap TIDs one element holds: identical vectors share a node */
#define MV_HNSW_HEAPTIDS			10

/* Levels are a uint8 on disk; the neighbour tuple must fit a page too */
#define MV_HNSW_MAX_LEVEL			31

/* Heavyweight page locks on block numbers no page has */
#define MV_HNSW_UPDATE_LOCK			0xFFFFFFFE
#define MV_HNSW_GROWING_LOCK		0xFFFFFFFD	/* readers of the growing chain */
#define MV_HNSW_SEAL_LOCK			0xFFFFFFFC	/* a seal, compaction or vacuum */

/* Build sub-phases shown in pg_stat_progress_create_index */
#define MV_HNSW_PHASE_LOAD			2
#define MV_HNSW_PHASE_WRITE			3
#define MV_HNSW_PHASE_SPILL			4

/* Page kinds, in the special space */
#define MV_HNSW_PAGE_META			0x0001
#define MV_HNSW_PAGE_GRAPH			0x0002
#define MV_HNSW_PAGE_GROWING		0x0004	/* growing segment, or its free list */

typedef struct MvHnswPageOpaqueData
{
	BlockNumber nextblkno;		/* next page of the same kind, or Invalid */
	uint16		flags;
	uint16		page_id;		/* MV_HNSW_PAGE_ID, for tools */
} MvHnswPageOpaqueData;

typedef MvHnswPageOpaqueData *MvHnswPageOpaque;

#define MvHnswPageGetOpaque(page) ((MvHnswPageOpaque) PageGetSpecialPointer(page))

typedef struct MvHnswMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		dimensions;
	uint16		m;
	uint16		efConstruction;
	BlockNumber entryBlkno;		/* entry point, Invalid when the graph is empty */
	OffsetNumber entryOffno;
	int16		entryLevel;		/* -1 when the graph is empty */
	BlockNumber insertPage;		/* last graph page: new elements go here */
	uint64		elements;		/* element tuples written, tombstones included */
	uint64		deleted;		/* tombstones and free slots (low after a crash
								 * in vacuum's pass 1; nothing reads it) */
	/* growing segment: InvalidBlockNumber / 0 while it has no page */
	BlockNumber growingHead;
	BlockNumber growingTail;
	uint64		growingTuples;	/* tuples on the chain's pages before the tail */
	uint64		reused;			/* free slots inserts have reused, ever */
	BlockNumber freeBlkno;		/* lowest page that may hold free slots; 0: none */
	BlockNumber growingFree;	/* first emptied growing page; 0 or Invalid: none */
	uint32		pendingTombstones;	/* left by a vacuum for a compaction */
	uint32		growingReleased;	/* tuples on the chain pages emptied so far (wraps) */
	BlockNumber truncateFrom;	/* where a truncation under way cuts; 0: none */
	uint32		reserved[1];
} MvHnswMetaPageData;

typedef MvHnswMetaPageData *MvHnswMetaPage;

#define MvHnswPageGetMeta(page) ((MvHnswMetaPage) PageGetContents(page))

#define MV_HNSW_ELEMENT_TUPLE		1
#define MV_HNSW_NEIGHBOR_TUPLE		2
#define MV_HNSW_CHUNK_TUPLE			3

typedef struct MvHnswElementTupleData
{
	uint8		type;			/* MV_HNSW_ELEMENT_TUPLE */
	uint8		level;
	uint8		deleted;		/* 0, MV_HNSW_TOMBSTONE or MV_HNSW_FREE */
	uint8		version;		/* bumped when the slot is reused */
	ItemPointerData heaptids[MV_HNSW_HEAPTIDS]; /* valid ones first */
	ItemPointerData neighbortid;
	uint16		flags;			/* MV_HNSW_ELEMENT_CHUNKED, else 0 */
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* the vector, a 4-byte-header varlena */
} MvHnswElementTupleData;

typedef MvHnswElementTupleData *MvHnswElementTuple;

/*
 * Values of deleted: no heap TIDs, still walkable.  A tombstone may still be
 * linked from live lists; a free slot is not, and an insert may reuse it.
 */
#define MV_HNSW_TOMBSTONE			1
#define MV_HNSW_FREE				2

/*
 * Pages past the hint an insert looks at for a free slot; an element of a
 * level above 0 looks at up to MV_HNSW_REUSE_LEVEL_SCALE times as many (a
 * free slot of its level is about m times rarer per level)
 */
#define MV_HNSW_REUSE_LOOKAHEAD		8
#define MV_HNSW_REUSE_LEVEL_SCALE	16

/* data holds an MvHnswChunkRef, then the first ref.len bytes of the vector */
#define MV_HNSW_ELEMENT_CHUNKED		0x0001

typedef struct MvHnswChunkRef
{
	ItemPointerData next;		/* the first chunk tuple */
	uint16		len;			/* bytes of the vector inline after this */
} MvHnswChunkRef;

/* The rest of a chunked element's vector, in order along next */
typedef struct MvHnswChunkTupleData
{
	uint8		type;			/* MV_HNSW_CHUNK_TUPLE */
	uint8		unused;
	uint16		len;			/* bytes of the vector in data */
	ItemPointerData next;		/* the next chunk, Invalid at the last */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} MvHnswChunkTupleData;

typedef MvHnswChunkTupleData *MvHnswChunkTuple;

/* A row of the growing segment */
#define MV_HNSW_GROWING_TUPLE		4

typedef struct MvHnswGrowingTupleData
{
	uint8		type;			/* MV_HNSW_GROWING_TUPLE */
	uint8		flags;			/* MV_HNSW_GROWING_SEALED or _DEAD, else 0 */
	uint16		unused;
	ItemPointerData heaptid;
	uint16		unused2;
	uint32		unused3;		/* the vector starts 8-byte aligned */
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* the vector, a 4-byte-header varlena */
} MvHnswGrowingTupleData;

typedef MvHnswGrowingTupleData *MvHnswGrowingTuple;

#define MV_HNSW_GROWING_SEALED		0x01	/* in the graph now */
#define MV_HNSW_GROWING_DEAD		0x02	/* a vacuum found its row dead */

#define MV_HNSW_GROWING_TUPLE_SIZE(valsize) \
	MAXALIGN(offsetof(MvHnswGrowingTupleData, data) + (valsize))

typedef struct MvHnswNeighborTupleData
{
	uint8		type;			/* MV_HNSW_NEIGHBOR_TUPLE */
	uint8		version;		/* its element's */
	uint16		count;			/* (level + 2) * m */
	ItemPointerData indextids[FLEXIBLE_ARRAY_MEMBER];
} MvHnswNeighborTupleData;

typedef MvHnswNeighborTupleData *MvHnswNeighborTuple;

#define MV_HNSW_ELEMENT_TUPLE_SIZE(valsize) \
	MAXALIGN(offsetof(MvHnswElementTupleData, data) + (valsize))
#define MV_HNSW_NEIGHBOR_TUPLE_SIZE(level, m) \
	MAXALIGN(offsetof(MvHnswNeighborTupleData, indextids) + \
			 ((level) + 2) * (m) * sizeof(ItemPointerData))
/* the largest tuple an empty graph page takes */
#define MV_HNSW_MAX_TUPLE_SIZE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - \
	 MAXALIGN(sizeof(MvHnswPageOpaqueData)) - sizeof(ItemIdData))

#define MV_HNSW_CHUNK_TUPLE_SIZE(len) \
	MAXALIGN(offsetof(MvHnswChunkTupleData, data) + (len))
/* the most vector bytes a chunk tuple holds: a page each */
#define MV_HNSW_CHUNK_MAX \
	(TYPEALIGN_DOWN(MAXIMUM_ALIGNOF, MV_HNSW_MAX_TUPLE_SIZE) - \
	 offsetof(MvHnswChunkTupleData, data))
/* the least of its vector a build writes inline when it splits an element */
#define MV_HNSW_MIN_INLINE			256
/*
 * A build splits a vector that would fit a page of its own only while its
 * pages exceed this many times the vectors' bytes: a split vector costs a
 * scan a second page read, so split no more than packing needs.
 */
#define MV_HNSW_PACK_RATIO			1.15

/* neighbour slots of a layer, and where they start in the neighbour tuple */
#define MvHnswLayerM(m, lc)			((lc) == 0 ? (m) * 2 : (m))
#define MvHnswLayerStart(m, lc)		((lc) == 0 ? 0 : ((lc) + 1) * (m))

/* Index options */
typedef struct MvHnswOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int			m;
	int			efConstruction;
} MvHnswOptions;

/* How distances are computed: straight into a kernel when we know it */
typedef enum MvHnswMetric
{
	MV_HNSW_F32_L2,
	MV_HNSW_F32_IP,
	MV_HNSW_F32_COSINE,
	MV_HNSW_F16_L2,
	MV_HNSW_F16_IP,
	MV_HNSW_F16_COSINE,
	MV_HNSW_BIT_HAMMING,
	MV_HNSW_BIT_JACCARD,
	MV_HNSW_GENERIC				/* through fmgr */
} MvHnswMetric;

typedef struct MvHnswDist
{
	MvHnswMetric metric;
	FmgrInfo   *proc;			/* support function 1 */
	Oid			collation;
} MvHnswDist;

/* In memory */
struct MvHnswElement;
typedef struct MvHnswCache MvHnswCache;	/* hnswcache.c: TID -> loaded element */

/* Where a build-graph element sits: its offset from the arena base (0: none) */
typedef uint64 MvHnswOffset;

typedef struct MvHnswCandidate
{
	struct MvHnswElement *element;
	float		distance;
	bool		closer;			/* build lists: the heuristic keeps it */
} MvHnswCandidate;

/* A neighbour in a build-graph list: position-independent */
typedef struct MvHnswNeighbor
{
	MvHnswOffset element;
	float		distance;
	bool		closer;			/* the heuristic keeps it */
} MvHnswNeighbor;

typedef struct MvHnswNeighborArray
{
	int			length;
	bool		closerSet;		/* sorted nearest first, closer flags valid */
	bool		unmeasured;		/* read from a page by a seal: no distances yet */
	MvHnswNeighbor items[FLEXIBLE_ARRAY_MEMBER];
} MvHnswNeighborArray;

#define MV_HNSW_LIST_SIZE(lm) \
	MAXALIGN(offsetof(MvHnswNeighborArray, items) + (lm) * sizeof(MvHnswNeighbor))

/*
 * One graph node.  In a build graph it is the head of a chunk of the arena:
 * the element, its neighbour lists (layer 0, then one per upper layer), then
 * its vector.  Nothing in a chunk is a pointer, so the same arena reads alike
 * in every process that maps it.
 */
typedef struct MvHnswElement
{
	ItemPointerData tid;		/* element tuple; Invalid until written */
	ItemPointerData neighbortid;
	uint8		level;
	uint8		deleted;
	uint8		version;
	uint8		nheaptids;
	ItemPointerData heaptids[MV_HNSW_HEAPTIDS];
	int64		valueoff;		/* the vector, from the element; 0 when not kept */
	float		qdist;			/* distance to the operation's query */
	uint64		qstamp;			/* on disk: the query qdist was measured to */
	uint64		visited;		/* on disk: stamp of the last search that saw it */
	int32		indegree;		/* build graph: links to it at layer 0 */
	bool		relinked;		/* build graph: linked to make it reachable */
	uint8		changed;		/* build graph of a seal: MV_HNSW_CHANGED_* */
	LWLock		lock;			/* shared build graph: its heap TIDs and lists */
} MvHnswElement;

/* What a seal in memory (hnswsealmem.c) has to write of an element it loaded */
#define MV_HNSW_CHANGED_LISTS		0x01	/* its neighbour lists */
#define MV_HNSW_CHANGED_HEAPTIDS	0x02	/* its heap TIDs: a row joined it */

static inline Pointer
MvHnswElementValue(const MvHnswElement *e)
{
	return e->valueoff == 0 ? NULL : (Pointer) e + e->valueoff;
}

static inline void
MvHnswSetElementValue(MvHnswElement *e, Pointer value)
{
	e->valueoff = value == NULL ? 0 : value - (Pointer) e;
}

/* The neighbour list of a build-graph element at layer lc <= level */
static inline MvHnswNeighborArray *
MvHnswElementList(MvHnswElement *e, int m, int lc)
{
	Size		off = MAXALIGN(sizeof(MvHnswElement));

	if (lc > 0)
		off += MV_HNSW_LIST_SIZE(2 * m) + (lc - 1) * MV_HNSW_LIST_SIZE(m);
	return (MvHnswNeighborArray *) ((char *) e + off);
}

/* Bytes of a build-graph chunk */
#define MV_HNSW_CHUNK_SIZE(m, level, valsize) \
	(MAXALIGN(sizeof(MvHnswElement)) + MV_HNSW_LIST_SIZE(2 * (m)) + \
	 (level) * MV_HNSW_LIST_SIZE(m) + MAXALIGN(valsize))

/*
 * The memory a build graph lives in: backend-local for a serial build, a DSM
 * segment for a parallel one.  Chunks are handed out by a bump pointer from
 * just after this header, so the elements can be walked in order.
 */
typedef struct MvHnswArena
{
	Size		size;			/* bytes, this header included */
	pg_atomic_uint64 used;		/* offset of the first free byte */
	pg_atomic_uint32 nelements;	/* element numbers handed out */
	pg_atomic_uint32 full;		/* a chunk did not fit: add no more */
	int			tranche;		/* of the element and entry locks */
	MvHnswOffset entry;			/* entry point, 0 while empty; under entryLock */
	LWLock		entryLock;
	LWLock		entryWaitLock;	/* queue for entryLock in exclusive mode */
} MvHnswArena;

#define MV_HNSW_ARENA_START		MAXALIGN(sizeof(MvHnswArena))

/*
 * The graph a search walks: a build graph in an arena, or an index on disk
 * with the elements this operation has loaded.
 */
typedef struct MvHnswGraph
{
	Relation	index;
	bool		ondisk;
	MvHnswDist	dist;
	int			m;
	int			efConstruction;
	MemoryContext ctx;			/* elements and caches live here */
	MvHnswCache *cache;			/* on disk: TID -> loaded element */
	uint64		stamp;			/* current search */
	bool		keepValues;		/* copy vectors of loaded elements */
	Pointer		query;			/* the vector distances are measured to */
	uint64		queryStamp;		/* bumped when query changes (a seal's inserts) */
	int64		loaded;			/* elements read from disk */
	/*
	 * On disk, with keepValues: the bytes of vectors loaded elements keep
	 * (valueBudget 0: no bound), allocated.  Past the budget an element keeps none: a
	 * search measures it on its page, and MvHnswElementVector reads it into
	 * transientCtx for the caller, until MvHnswForgetVectors.
	 */
	Size		valueBudget;
	MemoryContext valueCtx;		/* the kept vectors, when there is a budget */
	MemoryContext transientCtx;
	struct MvHnswElement **transient;	/* elements given a transient vector */
	int			ntransient;
	int			maxtransient;
	/* a filtered scan: only elements with a heap TID that passes are results */
	/* on disk: the lists a seal remembers (hnswprune.c), NULL when none */
	HTAB	   *lists;
	Size		listsBudget;
	Size		listsBytes;
	MvHnswTidFilter filter;
	void	   *filterArg;
	int64		budget;			/* loaded beyond it: the search gives up (0: never) */
	int64		filteredOut;	/* elements met that the filter rejected */
	bool		overBudget;
	/* build graph */
	char	   *base;			/* the arena, where this process maps it */
	MvHnswArena *arena;
	bool		shared;			/* other processes add to it: take locks */
	uint32	   *visits;			/* low bits of the stamp of the last search, per slot */
	uint64		nvisits;
	int			slotShift;		/* an element's slot: its offset >> slotShift */
} MvHnswGraph;

#define MvHnswPtr(g, off)	((MvHnswElement *) ((g)->base + (off)))
#define MvHnswOff(g, e)		((MvHnswOffset) ((char *) (e) - (g)->base))

/* A growable array of candidates kept as a binary heap */
typedef struct MvHnswHeap
{
	MvHnswCandidate *items;
	int			length;
	int			capacity;
	bool		maxheap;		/* farthest on top, else nearest */
} MvHnswHeap;

/* A set of page changes: GenericXLog, or plain writes while building */
typedef struct MvHnswPageEdit
{
	GenericXLogState *state;
	Relation	index;
	bool		building;
	int			nbuffers;
	Buffer		buffers[MAX_GENERIC_XLOG_PAGES];
} MvHnswPageEdit;

/* hnsw.c */
extern int	MvHnswGetEfConstruction(Relation index);

/* hnswcache.c */
extern MvHnswCache *MvHnswCacheCreate(MemoryContext ctx);
extern struct MvHnswElement *MvHnswCacheLookup(MvHnswCache *cache, ItemPointer tid);
extern void MvHnswCacheInsert(MvHnswCache *cache, ItemPointer tid, struct MvHnswElement *element);
extern void MvHnswCachePrefetch(MvHnswCache *cache, ItemPointerData *tids, int n);

/* A hint to the CPU: this memory is about to be read */
#if defined(__GNUC__) || defined(__clang__)
#define mv_prefetch(addr)	__builtin_prefetch(addr)
#else
#define mv_prefetch(addr)	((void) 0)
#endif

/*
 * hnswbuffer.c.  An append's hint: the index's dimensions and the last tail
 * page it saw, which may no longer be the tail (appends check, under the
 * page's lock).
 */
typedef struct MvHnswAppendHint
{
	uint32		dims;			/* 0: not read yet */
} MvHnswAppendHint;

extern MvHnswAppendHint *MvHnswGetAppendHint(Relation index);
extern Buffer MvHnswReadBuffer(Relation index, BlockNumber blkno);
extern void MvHnswPrefetchItem(Relation index, ItemPointer tid);
extern void MvHnswPrefetchTuple(Relation index, ItemPointer tid);

/* A row and its distance to a query */
typedef struct MvHnswRow
{
	float		distance;
	ItemPointerData heaptid;
} MvHnswRow;

/* hnswgrowing.c */
extern bool MvHnswGrowingAppend(Relation index, Pointer value, ItemPointer heaptid);
typedef void (*MvHnswGrowingVisit) (Page page, BlockNumber blkno, void *arg);
extern bool MvHnswGrowingWalk(Relation index, MvHnswGrowingVisit visit, void *arg);
extern bool MvHnswGrowingWalkFrom(Relation index, BlockNumber blkno,
								  MvHnswGrowingVisit visit, void *arg);
extern int	MvHnswGrowingRead(Relation index, const MvHnswDist *dist, Pointer query,
							  MvHnswRow **rows);
extern void MvHnswRowHeapify(MvHnswRow *rows, int n);
extern MvHnswRow MvHnswRowPop(MvHnswRow *rows, int *n);

/* hnswsketch.c */

/*
 * The rows a sketch search picked and left unmeasured when it stopped early,
 * nearest lower bound first, for the scan to measure when it gets there
 */
typedef struct MvHnswSketchRest
{
	int			n;
	int			next;			/* the first not measured yet */
	ItemPointerData *where;		/* each one's growing tuple */
	ItemPointerData *heaptids;
	float	   *lower;			/* each one's lower bound, a distance */
	float		trust;			/* no growing row left out of them all is nearer */
} MvHnswSketchRest;

extern int	MvHnswGrowingSketchRead(Relation index, const MvHnswDist *dist, Pointer query,
									int k, int want, MvHnswTidFilter filter, void *filterArg,
									MvHnswRow **rows, float *trust, int64 *rejected,
									MvHnswSketchRest *rest);
extern int	MvHnswGrowingSketchMore(Relation index, const MvHnswDist *dist, Pointer query,
									MvHnswSketchRest *rest, MvHnswRow **rows, float *trust);
extern Buffer MvHnswGrowingTakePage(Relation index, MvHnswMetaPage meta, bool graph,
									 BlockNumber *nextfree);
extern BlockNumber MvHnswGrowingNewPage(MvHnswPageEdit *edit, MvHnswMetaPage meta,
										Buffer *buf, Page *page);
extern void MvHnswReportBrokenChain(Relation index, BlockNumber blkno)
			pg_attribute_noreturn();
extern void MvHnswCheckGrowingPage(Relation index, Page page, BlockNumber blkno);
extern void MvHnswGrowingSetFlag(Relation index, BlockNumber blkno, OffsetNumber off,
								 uint8 flag);
extern void MvHnswGrowingSetFlags(Relation index, BlockNumber blkno, const OffsetNumber *offs,
								  const uint8 *flags, int n);

/* hnswseal.c */

/* Free pages a new growing page leaves on the list, for a seal's graph pages */
#define MV_HNSW_FREE_RESERVE		4

/* A seal hands the pages it has linked to the free list every this many */
#define MV_HNSW_SEAL_RELEASE_PAGES	32

/* One process's graph and buffers for linking growing rows */
typedef struct MvHnswSealer MvHnswSealer;

extern int64 MvHnswSealLocked(Relation index, IndexBulkDeleteCallback callback,
							  void *callback_state, IndexBulkDeleteResult *stats,
							  int nworkers, MvHnswSealReport report, void *arg,
							  int64 *onDisk);
extern void MvHnswSealProgress(MvHnswSealReport report, void *arg, MvHnswSealPhase phase,
							   int64 done, int64 total);
extern MvHnswSealer *MvHnswSealerCreate(Relation index, Size budget);
extern void MvHnswSealerWatchHeap(MvHnswSealer *sg);
extern void MvHnswSealerFree(MvHnswSealer *sg);
extern int64 MvHnswSealPage(MvHnswSealer *sg, BlockNumber blkno,
							IndexBulkDeleteCallback callback, void *callback_state,
							IndexBulkDeleteResult *stats, MvHnswSealReport report, void *arg,
							int64 *done, int64 total, int *nrows, BlockNumber *next);
extern bool MvHnswSealRelease(Relation index, BlockNumber head, BlockNumber last,
							  BlockNumber stop, int64 ntuples, bool wait);
extern bool MvHnswSealerRowGone(MvHnswSealer *sg, ItemPointer tid);

/* hnswsealmem.c */
extern int64 MvHnswSealInMemory(MvHnswSealer *sg, Relation index, BlockNumber *head,
								BlockNumber stop, Size budget, IndexBulkDeleteCallback callback,
								void *callback_state, IndexBulkDeleteResult *stats,
								MvHnswSealReport report, void *arg, int64 total,
								bool *complete, BlockNumber *last, int64 *ntuples,
								int64 *unreached);

/* hnswtruncate.c */
extern BlockNumber MvHnswTruncateFree(Relation index);

/* hnswsealparallel.c */
extern int64 MvHnswSealParallel(Relation index, BlockNumber head, BlockNumber stop,
								int64 total, int nworkers, MvHnswSealReport report,
								void *arg);
extern PGDLLEXPORT void mvhnsw_seal_worker_main(dsm_segment *seg, shm_toc *toc);

/* hnswgraph.c */
typedef void (*MvHnswWriteProgress) (int64 written, void *arg);

extern void MvHnswArenaInit(MvHnswArena *arena, Size size, int tranche);
extern MvHnswArena *MvHnswArenaCreateLocal(MemoryContext ctx, Size size);
extern void MvHnswGraphAttach(MvHnswGraph *g, MvHnswArena *arena, bool shared);
extern MvHnswElement *MvHnswArenaAlloc(MvHnswGraph *g, Size size);
extern MvHnswElement *MvHnswArenaNext(MvHnswGraph *g, MvHnswOffset *off);
extern bool MvHnswGraphAdd(MvHnswGraph *g, Pointer value, ItemPointer heaptid);
extern int64 MvHnswGraphLinkUnreached(MvHnswGraph *g);
extern void MvHnswGrowVisits(MvHnswGraph *g, uint64 slot);
extern void MvHnswGraphWrite(MvHnswGraph *g, Relation index, MvHnswWriteProgress progress,
							 void *arg);

/* hnswutils.c */
extern void MvHnswInitDist(MvHnswDist *dist, Relation index);
extern float MvHnswDistance(const MvHnswDist *dist, Pointer a, Pointer b);
extern int	MvHnswMaxLevel(int m);
extern int	MvHnswRandomLevel(int m, ItemPointer heaptid);
extern void MvHnswCheckValueDims(Relation index, const MvHnswMetaPageData *meta,
								 Pointer value);
extern Pointer MvHnswDetoastCopy(Datum value);
extern void MvHnswReportBadPointer(Relation index, ItemPointer tid, const char *what)
			pg_attribute_noreturn();
extern void MvHnswReadChunks(Relation index, ItemPointerData first, Pointer value, Size have);
extern bool MvHnswTidIn(const ItemPointerData *tids, int n, ItemPointer tid);

/*
 * ItemPointerEquals, inline: a seal compares every slot of every list it
 * writes, and the out-of-line call was 6 % of its time
 */
static inline bool
MvHnswTidEq(const ItemPointerData *a, const ItemPointerData *b)
{
	return a->ip_posid == b->ip_posid && a->ip_blkid.bi_lo == b->ip_blkid.bi_lo &&
		a->ip_blkid.bi_hi == b->ip_blkid.bi_hi;
}

extern Size MvHnswInlineLength(Size space);
extern Size MvHnswFormElement(MvHnswElementTuple etup, int level, ItemPointerData *heaptids,
							  int nheaptids, Pointer value, Size inlen, ItemPointer chunktid);
extern Size MvHnswFormChunk(MvHnswChunkTuple ctup, Pointer value, Size off, Size len,
							ItemPointer next);

extern void MvHnswInitPage(Page page, uint16 flags);
extern void MvHnswFillMetaPage(Page page, int dims, int m, int efConstruction);
extern void MvHnswReadMeta(Relation index, MvHnswMetaPageData *meta);

extern void MvHnswEditStart(MvHnswPageEdit *edit, Relation index, bool building);
extern Page MvHnswEditRegister(MvHnswPageEdit *edit, Buffer buffer, bool isNew);
extern void MvHnswEditFinish(MvHnswPageEdit *edit);

/* A byte range of a page that a change wrote */
typedef struct MvHnswRange
{
	uint16		offset;
	uint16		length;
} MvHnswRange;

#define MV_HNSW_LOG_RANGES			4

/* One page of MvHnswLogPages: a full image, or the ranges it changed */
typedef struct MvHnswPageLog
{
	Buffer		buffer;
	bool		image;
	int			nranges;
	MvHnswRange ranges[MV_HNSW_LOG_RANGES];
} MvHnswPageLog;

extern void MvHnswLogPages(Relation index, MvHnswPageLog *pages, int npages);
extern void MvHnswLogRanges(Relation index, Buffer buffer, const MvHnswRange *ranges,
							int nranges);
extern Buffer MvHnswNewBuffer(Relation index, bool building);

extern void MvHnswHeapInit(MvHnswHeap *heap, int capacity, bool maxheap);
extern void MvHnswHeapPush(MvHnswHeap *heap, MvHnswCandidate c);
extern MvHnswCandidate MvHnswHeapPop(MvHnswHeap *heap);
static inline MvHnswCandidate *
MvHnswHeapTop(MvHnswHeap *heap)
{
	return heap->length > 0 ? &heap->items[0] : NULL;
}

extern MvHnswGraph *MvHnswGraphCreate(Relation index, bool ondisk, MemoryContext ctx,
									  bool keepValues, int m, int efConstruction);
extern MvHnswElement *MvHnswGetElement(MvHnswGraph *g, ItemPointer tid);
extern MvHnswElement *MvHnswLoadElement(MvHnswGraph *g, ItemPointer tid);
extern int	MvHnswLoadNeighborTids(MvHnswGraph *g, MvHnswElement *e, int lc,
								   ItemPointerData *tids);
extern float MvHnswQueryDistance(MvHnswGraph *g, MvHnswElement *e);
extern Pointer MvHnswElementVector(MvHnswGraph *g, MvHnswElement *e);
extern MvHnswElement *MvHnswElementAgain(MvHnswGraph *g, MvHnswElement *e);
extern void MvHnswForgetVectors(MvHnswGraph *g);
extern void MvHnswNewSearch(MvHnswGraph *g);

/*
 * Mark an element visited by the current search; false if it was not yet.
 * A build graph keeps the marks in this process, so that processes sharing
 * the graph search it at the same time, in an array indexed by the element's
 * offset shifted right by less than the smallest chunk: unique per element,
 * and the check touches neither the element nor its cache line.
 */
static inline bool
MvHnswVisit(MvHnswGraph *g, MvHnswElement *e)
{
	uint64		slot;

	if (g->ondisk)
	{
		if (e->visited == g->stamp)
			return true;
		e->visited = g->stamp;
		return false;
	}
	slot = MvHnswOff(g, e) >> g->slotShift;
	if (unlikely(slot >= g->nvisits))
		MvHnswGrowVisits(g, slot);
	if (g->visits[slot] == (uint32) g->stamp)
		return true;
	g->visits[slot] = (uint32) g->stamp;
	return false;
}

/* Whether the current search has visited an element of a build graph */
static inline bool
MvHnswVisited(MvHnswGraph *g, MvHnswElement *e)
{
	uint64		slot = MvHnswOff(g, e) >> g->slotShift;

	return slot < g->nvisits && g->visits[slot] == (uint32) g->stamp;
}

extern int	MvHnswSearchLayer(MvHnswGraph *g, MvHnswCandidate *entries, int nentries,
							  int ef, int lc, bool newSearch, MvHnswHeap *discarded,
							  MvHnswCandidate **result);
extern int	MvHnswSelectNeighbors(MvHnswGraph *g, MvHnswCandidate *cands, int ncands,
								  int lm, MvHnswCandidate *out);
extern void MvHnswFindNeighbors(MvHnswGraph *g, MvHnswElement *entry, int level,
								MvHnswCandidate **layers, int *counts,
								MvHnswCandidate *nearest);
extern int	MvHnswCandidateCmp(const void *a, const void *b);
extern Size MvHnswValueSizeEstimate(Relation index, int dims);
extern bool MvHnswValuesEqual(Pointer a, Pointer b);

/* hnswprune.c */
typedef struct MvHnswListChoice
{
	MvHnswElement *element;		/* whose list */
	int			lc;
	int			n;				/* items once the victim is replaced; 0: none */
	MvHnswCandidate items[2 * MV_HNSW_MAX_M + 1];
} MvHnswListChoice;

extern void MvHnswPruneList(MvHnswGraph *g, MvHnswCandidate *items, int lm, bool sorted,
							MvHnswCandidate c, MvHnswCandidate *dropped);
extern void MvHnswRememberLists(MvHnswGraph *g, Size budget);
extern ItemPointerData MvHnswChooseVictim(MvHnswGraph *g, MvHnswElement *n, int lc,
										  MvHnswElement *newElement, float dnew,
										  ItemPointerData *tids, int ntids, int lm, bool force,
										  MvHnswListChoice *choice);
extern void MvHnswListChosen(MvHnswGraph *g, MvHnswListChoice *choice);

/* hnswparallelctx.c */
typedef struct MvHnswParallelUsage
{
	WalUsage   *walusage;
	BufferUsage *bufferusage;
} MvHnswParallelUsage;

extern void MvHnswParallelEstimateUsage(ParallelContext *pcxt);
extern void MvHnswParallelStoreUsage(ParallelContext *pcxt, MvHnswParallelUsage *usage);
extern void MvHnswParallelAccumUsage(ParallelContext *pcxt, MvHnswParallelUsage *usage);
extern void MvHnswParallelWorkerBegin(shm_toc *toc);
extern void MvHnswParallelWorkerEnd(shm_toc *toc);

/* hnswparallel.c */
typedef struct MvHnswLeader MvHnswLeader;

extern int	MvHnswParallelWorkers(Relation heap, Relation index, Size *arenaSize);
extern MvHnswLeader *MvHnswParallelBegin(Relation heap, Relation index, IndexInfo *indexInfo,
										 int nworkers, Size arenaSize);
extern MvHnswGraph *MvHnswParallelScan(MvHnswLeader *leader, double *reltuples,
									   double *indtuples);
extern void MvHnswParallelEnd(MvHnswLeader *leader);
extern PGDLLEXPORT void mvhnsw_parallel_build_main(dsm_segment *seg, shm_toc *toc);

/* hnswinsert.c */
extern void MvHnswInsertOnDisk(Relation index, Pointer value, ItemPointer heaptid,
							   bool building);
extern MvHnswGraph *MvHnswInsertGraph(Relation index, MemoryContext ctx);
extern void MvHnswInsertWith(MvHnswGraph *g, Pointer value, ItemPointer heaptid,
							 bool building);
extern ItemPointerData MvHnswAppendUnlinked(Relation index, int m, Pointer value, int level,
											ItemPointerData *heaptids, int nheaptids,
											bool setEntry, ItemPointer ntid,
											uint8 *version);

/* hnswvacuum.c */
extern void MvHnswLinkUnreached(Relation index, bool building, int skipLevel);
extern int64 MvHnswVacuumGraph(Relation index, IndexBulkDeleteCallback callback,
							   void *callback_state, IndexBulkDeleteResult *stats,
							   bool repair);

/* AM callbacks */
extern IndexBuildResult *mvhnsw_build(Relation heap, Relation index, IndexInfo *indexInfo);
extern void mvhnsw_buildempty(Relation index);
extern bool mvhnsw_insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
						  Relation heap, IndexUniqueCheck checkUnique,
						  bool indexUnchanged, IndexInfo *indexInfo);
extern IndexBulkDeleteResult *mvhnsw_bulkdelete(IndexVacuumInfo *info,
												IndexBulkDeleteResult *stats,
												IndexBulkDeleteCallback callback,
												void *callback_state);
extern IndexBulkDeleteResult *mvhnsw_vacuumcleanup(IndexVacuumInfo *info,
												   IndexBulkDeleteResult *stats);
extern IndexScanDesc mvhnsw_beginscan(Relation index, int nkeys, int norderbys);
extern void mvhnsw_rescan(IndexScanDesc scan, ScanKey keys, int nkeys,
						  ScanKey orderbys, int norderbys);
extern bool mvhnsw_gettuple(IndexScanDesc scan, ScanDirection dir);
extern void mvhnsw_endscan(IndexScanDesc scan);

/* distance functions of src/types/ the index calls without fmgr */
extern Datum milvus_floatvector_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum milvus_floatvector_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum milvus_floatvector_cosine_distance(PG_FUNCTION_ARGS);
extern Datum milvus_float16vector_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum milvus_float16vector_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum milvus_float16vector_cosine_distance(PG_FUNCTION_ARGS);
extern Datum milvus_binaryvector_hamming_distance(PG_FUNCTION_ARGS);
extern Datum milvus_binaryvector_jaccard_distance(PG_FUNCTION_ARGS);

#endif							/* MILVUS_INDEX_HNSW_H */
