/*
 * hnswverify.c
 *		milvus_hnsw_verify(regclass): walk an index and list every broken
 *		invariant, in the spirit of amcheck.  No rows means clean.
 *
 * It reads every page once into a map of tuples, then checks: the metapage
 * (magic, version, options, entry point), page ids and the page chain, and
 * for every element its heap TIDs against its deleted flag, the chunk chain
 * of a split vector (chunk tuples on no other chain, lengths adding up; a
 * chunk on no chain is an insert's crash leak, not reported), its neighbour
 * tuple (exists, belongs to it alone, has (level + 2) * m slots) and every
 * link (points at an element that reaches that layer, not itself, not twice).
 * Links to tombstones are allowed: vacuum repairs them as it can, and the
 * graph stays walkable through them.  With reachability, it also walks layer
 * 0 from the entry point and lists the live elements the walk misses: none
 * after a build or a VACUUM, nor after inserts, which unlink an element only
 * when a bounded check finds another way to it (hnswinsert.c; concurrent
 * inserts unlinking neighbouring elements may still race, and the next VACUUM links
 * what they strand).  The walk costs a pass over the index, so that check is
 * not the default.  On a primary the index is locked
 * against inserts and vacuum (ShareLock); on a standby only AccessShareLock
 * is possible, so run it when replay is quiet.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "hnsw.h"

PG_FUNCTION_INFO_V1(milvus_hnsw_verify);

/* stop listing after this many problems */
#define MV_HNSW_VERIFY_MAX_PROBLEMS	1000

typedef struct VerifyItem
{
	ItemPointerData tid;		/* hash key */
	bool		reached;		/* element: walked to from the entry point */
	uint8		type;
	uint8		level;
	uint8		deleted;
	int			nheaptids;
	bool		heaptidsPacked;
	ItemPointerData neighbortid;
	int			count;			/* neighbour tuple slots */
	ItemPointerData *links;		/* neighbour tuple: copies of its slots */
	bool		owned;			/* neighbour or chunk tuple: something points at it */
	bool		chunked;		/* element: its vector goes on in chunks */
	Size		vallen;			/* chunked element: vector bytes in all */
	Size		chunklen;		/* chunked element or chunk: vector bytes it holds */
	ItemPointerData chunknext;	/* chunked element or chunk: the next chunk */
} VerifyItem;

typedef struct VerifyState
{
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
	int			problems;
	uint32		version;		/* the metapage's */
} VerifyState;

static void
problem(VerifyState *vs, const char *fmt,...) pg_attribute_printf(2, 3);

static void
problem(VerifyState *vs, const char *fmt,...)
{
	va_list		args;
	StringInfoData buf;
	Datum		value;
	bool		isnull = false;

	if (++vs->problems > MV_HNSW_VERIFY_MAX_PROBLEMS)
		return;
	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	value = CStringGetTextDatum(buf.data);
	tuplestore_putvalues(vs->tupstore, vs->tupdesc, &value, &isnull);
}

#define TID_ARGS(t) ItemPointerGetBlockNumberNoCheck(t), ItemPointerGetOffsetNumberNoCheck(t)

/*
 * The growing chain runs from the metapage's head to its tail, the free list
 * from growingFree to its end, both over growing pages only, and every
 * growing page is on one of them, but those that only free, unlisted growing
 * and new pages follow, and those at or past a truncation's recorded cut: a
 * crash in a truncation (hnswtruncate.c) leaves such pages, which the next
 * one lists again.
 */
static void
check_growing_chain(VerifyState *vs, const MvHnswMetaPageData *meta, BlockNumber *nexts,
					bool *growing, const bool *graph, BlockNumber nblocks)
{
	BlockNumber last = InvalidBlockNumber;
	BlockNumber held = MV_HNSW_METAPAGE_BLKNO;	/* the last graph or chain page */
	BlockNumber blkno;
	BlockNumber freeblk = meta->growingFree == 0 ? InvalidBlockNumber : meta->growingFree;

	for (blkno = meta->growingHead; BlockNumberIsValid(blkno); blkno = nexts[blkno])
	{
		if (blkno >= nblocks || !growing[blkno])
		{
			problem(vs, "growing chain reaches page %u, which is not a growing page", blkno);
			return;
		}
		growing[blkno] = false;
		last = blkno;
		held = Max(held, blkno);
	}
	if (last != meta->growingTail)
		problem(vs, "metapage growing tail is %u, the growing chain ends at %u",
				meta->growingTail, last);
	for (blkno = freeblk; BlockNumberIsValid(blkno) && blkno != MV_HNSW_METAPAGE_BLKNO;
		 blkno = nexts[blkno])
	{
		if (blkno >= nblocks || !growing[blkno])
		{
			problem(vs, "growing free list reaches page %u, which is not a free growing page",
					blkno);
			return;
		}
		growing[blkno] = false;
	}
	for (blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
		if (graph[blkno])
			held = Max(held, blkno);
	for (blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < held; blkno++)
		if (growing[blkno] && (meta->truncateFrom == 0 || blkno < meta->truncateFrom))
			problem(vs, "growing page %u is neither in the growing chain nor free", blkno);
}

static VerifyItem *
lookup(HTAB *items, ItemPointer tid)
{
	return hash_search(items, tid, HASH_FIND, NULL);
}

/* Read one graph page into the map, checking its own structure */
static void
read_page(VerifyState *vs, Relation index, BlockNumber blkno, HTAB *items,
		  BlockNumber *next, uint16 *flags)
{
	Buffer		buf = ReadBuffer(index, blkno);
	Page		page;
	MvHnswPageOpaque opaque;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	*next = InvalidBlockNumber;
	*flags = 0;
	if (PageIsNew(page))
	{
		if (page[0] != 0 || memcmp(page, page + 1, BLCKSZ - 1) != 0)
			problem(vs, "page %u has no page header but is not all zeros", blkno);
		UnlockReleaseBuffer(buf);
		return;
	}
	opaque = MvHnswPageGetOpaque(page);
	if (opaque->page_id != MV_HNSW_PAGE_ID)
	{
		problem(vs, "page %u has page id 0x%04x, expected 0x%04x", blkno, opaque->page_id,
				MV_HNSW_PAGE_ID);
		UnlockReleaseBuffer(buf);
		return;
	}
	*next = opaque->nextblkno;
	*flags = opaque->flags;
	if (opaque->flags == MV_HNSW_PAGE_GROWING)
	{
		/* the growing chain or its free list: rows, each with a heap TID */
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page);
			 off = OffsetNumberNext(off))
		{
			MvHnswGrowingTuple gtup = (MvHnswGrowingTuple) PageGetItem(page, PageGetItemId(page, off));

			if (gtup->type != MV_HNSW_GROWING_TUPLE)
				problem(vs, "growing page %u holds a tuple of type %u at %u", blkno,
						gtup->type, off);
			else if (!ItemPointerIsValid(&gtup->heaptid))
				problem(vs, "growing tuple (%u,%u) has no heap TID", blkno, off);
		}
		UnlockReleaseBuffer(buf);
		return;
	}
	if (opaque->flags != MV_HNSW_PAGE_GRAPH)
	{
		problem(vs, "page %u has flags 0x%04x, expected a graph page", blkno, opaque->flags);
		UnlockReleaseBuffer(buf);
		return;
	}

	for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page);
		 off = OffsetNumberNext(off))
	{
		ItemId		iid = PageGetItemId(page, off);
		Item		item;
		VerifyItem *vi;
		ItemPointerData tid;
		Size		len = ItemIdGetLength(iid);

		ItemPointerSet(&tid, blkno, off);
		if (!ItemIdIsNormal(iid))
		{
			problem(vs, "item (%u,%u) is not a normal line pointer", blkno, off);
			continue;
		}
		item = PageGetItem(page, iid);
		vi = hash_search(items, &tid, HASH_ENTER, NULL);
		vi->type = *(uint8 *) item;
		vi->links = NULL;
		vi->owned = false;
		vi->reached = false;
		vi->chunked = false;
		if (vi->type == MV_HNSW_ELEMENT_TUPLE)
		{
			MvHnswElementTuple etup = (MvHnswElementTuple) item;
			bool		ended = false;
			MvHnswChunkRef ref;

			if (etup->flags & ~MV_HNSW_ELEMENT_CHUNKED)
				problem(vs, "element (%u,%u) has unknown flags 0x%04x", blkno, off, etup->flags);
			if (etup->flags & MV_HNSW_ELEMENT_CHUNKED)
			{
				Size		head = offsetof(MvHnswElementTupleData, data) + sizeof(ref);

				if (len >= head)
					memcpy(&ref, etup->data, sizeof(ref));
				if (len < head + VARHDRSZ || ref.len < VARHDRSZ || len < head + ref.len)
				{
					problem(vs, "chunked element (%u,%u) is %zu bytes, too short for its vector prefix",
							blkno, off, len);
					vi->type = 0;
					continue;
				}
				if (vs->version < 2)
					problem(vs, "element (%u,%u) is chunked in a version %u index",
							blkno, off, vs->version);
				vi->chunked = true;
				vi->chunklen = ref.len;
				vi->chunknext = ref.next;
				vi->vallen = VARSIZE(etup->data + sizeof(ref));
			}
			else if (len < MV_HNSW_ELEMENT_TUPLE_SIZE(VARHDRSZ) ||
					 len < MV_HNSW_ELEMENT_TUPLE_SIZE(VARSIZE(etup->data)))
			{
				problem(vs, "element (%u,%u) is %zu bytes, too short for its vector", blkno, off, len);
				vi->type = 0;
				continue;
			}
			vi->level = etup->level;
			vi->deleted = etup->deleted;
			vi->neighbortid = etup->neighbortid;
			vi->nheaptids = 0;
			vi->heaptidsPacked = true;
			for (int i = 0; i < MV_HNSW_HEAPTIDS; i++)
			{
				if (ItemPointerIsValid(&etup->heaptids[i]))
				{
					vi->nheaptids++;
					if (ended)
						vi->heaptidsPacked = false;
				}
				else
					ended = true;
			}
		}
		else if (vi->type == MV_HNSW_NEIGHBOR_TUPLE)
		{
			MvHnswNeighborTuple ntup = (MvHnswNeighborTuple) item;

			vi->count = ntup->count;
			if (len < offsetof(MvHnswNeighborTupleData, indextids) +
				ntup->count * sizeof(ItemPointerData))
			{
				problem(vs, "neighbour tuple (%u,%u) is %zu bytes, too short for %d links",
						blkno, off, len, ntup->count);
				vi->type = 0;
				continue;
			}
			vi->links = palloc(sizeof(ItemPointerData) * Max(ntup->count, 1));
			memcpy(vi->links, ntup->indextids, sizeof(ItemPointerData) * ntup->count);
		}
		else if (vi->type == MV_HNSW_CHUNK_TUPLE)
		{
			MvHnswChunkTuple ctup = (MvHnswChunkTuple) item;

			if (len < offsetof(MvHnswChunkTupleData, data) ||
				len < offsetof(MvHnswChunkTupleData, data) + ctup->len || ctup->len == 0)
			{
				problem(vs, "chunk tuple (%u,%u) is %zu bytes, not right for its %zu vector bytes",
						blkno, off, len, len < offsetof(MvHnswChunkTupleData, data) ? 0 : (Size) ctup->len);
				vi->type = 0;
				continue;
			}
			vi->chunklen = ctup->len;
			vi->chunknext = ctup->next;
		}
		else
			problem(vs, "item (%u,%u) has unknown type %d", blkno, off, vi->type);
	}
	UnlockReleaseBuffer(buf);
}

/*
 * Check the chunk chain of a chunked element: chunk tuples, each on no other
 * chain (so no loop), holding its vector's length exactly.  Chunks no element
 * points at are not reported: an insert that crashed leaves them, unused.
 */
static void
check_chunks(VerifyState *vs, HTAB *items, VerifyItem *e)
{
	Size		have = e->chunklen;
	ItemPointerData t = e->chunknext;

	while (have < e->vallen)
	{
		VerifyItem *c = ItemPointerIsValid(&t) ? lookup(items, &t) : NULL;

		if (c == NULL || c->type != MV_HNSW_CHUNK_TUPLE)
		{
			problem(vs, "vector of element (%u,%u) goes on at (%u,%u), which is not a chunk tuple",
					TID_ARGS(&e->tid), TID_ARGS(&t));
			return;
		}
		if (c->owned)
		{
			problem(vs, "chunk tuple (%u,%u) of element (%u,%u) is on another chain, or its chain loops",
					TID_ARGS(&t), TID_ARGS(&e->tid));
			return;
		}
		c->owned = true;
		have += c->chunklen;
		t = c->chunknext;
	}
	if (have != e->vallen)
		problem(vs, "chunks of element (%u,%u) hold %zu vector bytes, its vector has %zu",
				TID_ARGS(&e->tid), have, e->vallen);
	else if (ItemPointerIsValid(&t))
		problem(vs, "last chunk of element (%u,%u) links on to (%u,%u)",
				TID_ARGS(&e->tid), TID_ARGS(&t));
}

/* Check one element, its vector chunks, its neighbour tuple and its links */
static void
check_element(VerifyState *vs, HTAB *items, VerifyItem *e, int m, int maxlevel)
{
	ItemPointer tid = &e->tid;
	VerifyItem *n;

	if (e->level > maxlevel)
		problem(vs, "element (%u,%u) has level %d, above the maximum %d for m = %d",
				TID_ARGS(tid), e->level, maxlevel, m);
	if (e->deleted > MV_HNSW_FREE)
		problem(vs, "element (%u,%u) has deleted = %d", TID_ARGS(tid), e->deleted);
	if (e->deleted && e->nheaptids > 0)
		problem(vs, "deleted element (%u,%u) still has %d heap TIDs", TID_ARGS(tid),
				e->nheaptids);
	if (!e->deleted && e->nheaptids == 0)
		problem(vs, "live element (%u,%u) has no heap TID", TID_ARGS(tid));
	if (!e->heaptidsPacked)
		problem(vs, "element (%u,%u) has a gap in its heap TIDs", TID_ARGS(tid));
	if (e->chunked)
		check_chunks(vs, items, e);

	n = ItemPointerIsValid(&e->neighbortid) ? lookup(items, &e->neighbortid) : NULL;
	if (n == NULL || n->type != MV_HNSW_NEIGHBOR_TUPLE)
	{
		problem(vs, "element (%u,%u) points to (%u,%u), which is not a neighbour tuple",
				TID_ARGS(tid), TID_ARGS(&e->neighbortid));
		return;
	}
	if (n->owned)
		problem(vs, "neighbour tuple (%u,%u) belongs to more than one element",
				TID_ARGS(&e->neighbortid));
	n->owned = true;
	if (n->count != (e->level + 2) * m)
	{
		problem(vs, "neighbour tuple (%u,%u) of element (%u,%u) has %d slots, expected %d",
				TID_ARGS(&e->neighbortid), TID_ARGS(tid), n->count, (e->level + 2) * m);
		return;
	}

	for (int lc = 0; lc <= e->level; lc++)
	{
		int			start = MvHnswLayerStart(m, lc);
		int			lm = MvHnswLayerM(m, lc);

		for (int i = 0; i < lm; i++)
		{
			ItemPointer link = &n->links[start + i];
			VerifyItem *target;

			if (!ItemPointerIsValid(link))
				continue;
			if (ItemPointerEquals(link, tid))
			{
				problem(vs, "element (%u,%u) links to itself at layer %d", TID_ARGS(tid), lc);
				continue;
			}
			for (int j = 0; j < i; j++)
				if (ItemPointerEquals(link, &n->links[start + j]))
					problem(vs, "element (%u,%u) links twice to (%u,%u) at layer %d",
							TID_ARGS(tid), TID_ARGS(link), lc);
			target = lookup(items, link);
			if (target == NULL || target->type != MV_HNSW_ELEMENT_TUPLE)
				problem(vs, "element (%u,%u) links at layer %d to (%u,%u), which is not an element",
						TID_ARGS(tid), lc, TID_ARGS(link));
			/* a deleted element's stale link may lead to a slot reused lower */
			else if (target->level < lc && !e->deleted)
				problem(vs, "element (%u,%u) links at layer %d to (%u,%u) of level %d",
						TID_ARGS(tid), lc, TID_ARGS(link), target->level);
			else if (!e->deleted && target->deleted == MV_HNSW_FREE)
				problem(vs, "live element (%u,%u) links at layer %d to free slot (%u,%u)",
						TID_ARGS(tid), lc, TID_ARGS(link));
		}
	}
}

/* Report live elements a walk of layer 0 from the entry point does not reach */
static void
check_reachable(VerifyState *vs, HTAB *items, ItemPointer entry, int m, int64 elements)
{
	VerifyItem **queue = palloc(sizeof(VerifyItem *) * Max(elements, 1));
	int64		head = 0,
				tail = 0;
	VerifyItem *vi = lookup(items, entry);
	HASH_SEQ_STATUS seq;

	if (vi == NULL || vi->type != MV_HNSW_ELEMENT_TUPLE)
		return;
	vi->reached = true;
	queue[tail++] = vi;
	while (head < tail)
	{
		VerifyItem *e = queue[head++];
		VerifyItem *n;

		CHECK_FOR_INTERRUPTS();
		n = lookup(items, &e->neighbortid);
		if (n == NULL || n->type != MV_HNSW_NEIGHBOR_TUPLE || n->count != (e->level + 2) * m)
			continue;
		for (int i = 0; i < MvHnswLayerM(m, 0); i++)
		{
			VerifyItem *t;

			if (!ItemPointerIsValid(&n->links[i]))
				continue;
			t = lookup(items, &n->links[i]);
			if (t != NULL && t->type == MV_HNSW_ELEMENT_TUPLE && !t->reached && tail < elements)
			{
				t->reached = true;
				queue[tail++] = t;
			}
		}
	}

	hash_seq_init(&seq, items);
	while ((vi = hash_seq_search(&seq)) != NULL)
		if (vi->type == MV_HNSW_ELEMENT_TUPLE && !vi->deleted && !vi->reached)
			problem(vs, "live element (%u,%u) cannot be reached from the entry point at layer 0",
					TID_ARGS(&vi->tid));
}

Datum
milvus_hnsw_verify(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		reachability = PG_GETARG_BOOL(1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LOCKMODE	lockmode = RecoveryInProgress() ? AccessShareLock : ShareLock;
	VerifyState vs;
	Relation	index;
	Buffer		metabuf;
	Page		metapage;
	MvHnswMetaPageData meta;
	MvHnswPageOpaque opaque;
	BlockNumber nblocks;
	HTAB	   *items;
	HASHCTL		ctl;
	HASH_SEQ_STATUS seq;
	VerifyItem *vi;
	BlockNumber *nexts;
	bool	   *inchain;
	bool	   *linked;
	bool	   *growing;
	BlockNumber head;
	BlockNumber last;
	int64		elements = 0;
	int			maxlevel;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	vs.tupstore = rsinfo->setResult;
	vs.tupdesc = rsinfo->setDesc;
	vs.problems = 0;

	index = relation_open(relid, lockmode);
	if (index->rd_rel->relkind != RELKIND_INDEX ||
		index->rd_indam == NULL || index->rd_indam->ambuild != mvhnsw_build)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a milvus_hnsw index", RelationGetRelationName(index))));

	nblocks = RelationGetNumberOfBlocks(index);
	if (nblocks == 0)
	{
		problem(&vs, "index has no metapage");
		relation_close(index, lockmode);
		return (Datum) 0;
	}

	metabuf = ReadBuffer(index, MV_HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_SHARE);
	metapage = BufferGetPage(metabuf);
	opaque = MvHnswPageGetOpaque(metapage);
	memcpy(&meta, MvHnswPageGetMeta(metapage), sizeof(meta));
	if (opaque->page_id != MV_HNSW_PAGE_ID || opaque->flags != MV_HNSW_PAGE_META)
		problem(&vs, "metapage has page id 0x%04x and flags 0x%04x", opaque->page_id,
				opaque->flags);
	UnlockReleaseBuffer(metabuf);

	if (meta.magic != MV_HNSW_MAGIC || meta.version < MV_HNSW_MIN_VERSION ||
		meta.version > MV_HNSW_VERSION)
	{
		problem(&vs, "metapage has magic 0x%08x version %u, expected 0x%08x version %d to %d",
				meta.magic, meta.version, MV_HNSW_MAGIC, MV_HNSW_MIN_VERSION, MV_HNSW_VERSION);
		relation_close(index, lockmode);
		return (Datum) 0;
	}
	vs.version = meta.version;
	if (meta.m < MV_HNSW_MIN_M || meta.m > MV_HNSW_MAX_M)
	{
		problem(&vs, "metapage has m = %d, outside %d..%d", meta.m, MV_HNSW_MIN_M, MV_HNSW_MAX_M);
		relation_close(index, lockmode);
		return (Datum) 0;
	}
	if (meta.dimensions < 1)
		problem(&vs, "metapage has %u dimensions", meta.dimensions);
	maxlevel = MvHnswMaxLevel(meta.m);

	ctl.keysize = sizeof(ItemPointerData);
	ctl.entrysize = sizeof(VerifyItem);
	ctl.hcxt = CurrentMemoryContext;
	items = hash_create("milvus_hnsw verify", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	nexts = palloc(sizeof(BlockNumber) * nblocks);
	inchain = palloc0(sizeof(bool) * nblocks);
	growing = palloc0(sizeof(bool) * nblocks);
	for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		uint16		flags;

		CHECK_FOR_INTERRUPTS();
		read_page(&vs, index, blkno, items, &nexts[blkno], &flags);
		inchain[blkno] = (flags == MV_HNSW_PAGE_GRAPH);
		growing[blkno] = (flags == MV_HNSW_PAGE_GROWING);
	}
	if (meta.freeBlkno != 0 &&
		(meta.freeBlkno >= nblocks || meta.freeBlkno == MV_HNSW_METAPAGE_BLKNO ||
		 !inchain[meta.freeBlkno]))
		problem(&vs, "metapage free-slot hint is page %u, which is not a graph page",
				meta.freeBlkno);

	/*
	 * Graph pages form one chain, in the order they were added, ending at the
	 * insert page; it starts at the graph page no other links to, which need
	 * not be the lowest (a graph page may be a growing page a seal emptied).
	 * An all-zero page is an extension a crash cut short: unused space, not
	 * damage.
	 */
	check_growing_chain(&vs, &meta, nexts, growing, inchain, nblocks);
	linked = palloc0(sizeof(bool) * nblocks);
	for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
		if (inchain[blkno] && BlockNumberIsValid(nexts[blkno]) && nexts[blkno] < nblocks)
			linked[nexts[blkno]] = true;
	head = InvalidBlockNumber;
	for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
		if (inchain[blkno] && !linked[blkno] && !BlockNumberIsValid(head))
			head = blkno;
	last = InvalidBlockNumber;
	for (BlockNumber blkno = head; BlockNumberIsValid(blkno); blkno = nexts[blkno])
	{
		if (blkno >= nblocks || blkno == MV_HNSW_METAPAGE_BLKNO || !inchain[blkno])
		{
			problem(&vs, "page %u links to page %u, which is not a graph page of the index",
					last, blkno);
			break;
		}
		inchain[blkno] = false;
		last = blkno;
	}
	for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
		if (inchain[blkno])
			problem(&vs, "graph page %u is not in the page chain", blkno);
	if (meta.insertPage != last)
		problem(&vs, "metapage insert page is %u, the page chain ends at %u",
				meta.insertPage, last);

	hash_seq_init(&seq, items);
	while ((vi = hash_seq_search(&seq)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (vi->type == MV_HNSW_ELEMENT_TUPLE)
		{
			elements++;
			check_element(&vs, items, vi, meta.m, maxlevel);
		}
	}
	hash_seq_init(&seq, items);
	while ((vi = hash_seq_search(&seq)) != NULL)
		if (vi->type == MV_HNSW_NEIGHBOR_TUPLE && !vi->owned)
			problem(&vs, "neighbour tuple (%u,%u) belongs to no element", TID_ARGS(&vi->tid));

	if ((uint64) elements != meta.elements)
		problem(&vs, "metapage counts " UINT64_FORMAT " elements, the pages hold " INT64_FORMAT,
				meta.elements, elements);

	if (BlockNumberIsValid(meta.entryBlkno))
	{
		ItemPointerData entry;

		ItemPointerSet(&entry, meta.entryBlkno, meta.entryOffno);
		vi = lookup(items, &entry);
		if (vi == NULL || vi->type != MV_HNSW_ELEMENT_TUPLE)
			problem(&vs, "entry point (%u,%u) is not an element", TID_ARGS(&entry));
		else if (vi->level != meta.entryLevel)
			problem(&vs, "entry point (%u,%u) has level %d, the metapage says %d",
					TID_ARGS(&entry), vi->level, meta.entryLevel);
		if (reachability)
			check_reachable(&vs, items, &entry, meta.m, elements);
	}
	else
	{
		if (meta.entryLevel != -1)
			problem(&vs, "metapage has no entry point but entry level %d", meta.entryLevel);
		hash_seq_init(&seq, items);
		while ((vi = hash_seq_search(&seq)) != NULL)
		{
			if (vi->type == MV_HNSW_ELEMENT_TUPLE && !vi->deleted)
			{
				problem(&vs, "metapage has no entry point but element (%u,%u) is live",
						TID_ARGS(&vi->tid));
				hash_seq_term(&seq);
				break;
			}
		}
	}

	if (vs.problems > MV_HNSW_VERIFY_MAX_PROBLEMS)
	{
		int			more = vs.problems - MV_HNSW_VERIFY_MAX_PROBLEMS;

		vs.problems = 0;
		problem(&vs, "... and %d more problems", more);
	}
	relation_close(index, lockmode);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(milvus_hnsw_stats);

/*
 * milvus_hnsw_stats(regclass): what the index holds, from one pass over its
 * pages: pages, elements, tombstones among them (free slots included), heap
 * TIDs (rows), the entry point's level, the options the graph was built with,
 * the free slots among the tombstones, and how many slots inserts reused.
 */
Datum
milvus_hnsw_stats(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Relation	index;
	TupleDesc	tupdesc;
	MvHnswMetaPageData meta;
	BlockNumber nblocks;
	int64		elements = 0,
				deleted = 0,
				free = 0,
				heaptids = 0;
	Datum		values[10];
	bool		nulls[10] = {false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	index = relation_open(relid, AccessShareLock);
	if (index->rd_rel->relkind != RELKIND_INDEX ||
		index->rd_indam == NULL || index->rd_indam->ambuild != mvhnsw_build)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a milvus_hnsw index", RelationGetRelationName(index))));
	MvHnswReadMeta(index, &meta);
	nblocks = RelationGetNumberOfBlocks(index);
	for (BlockNumber blkno = MV_HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page);
			 off = OffsetNumberNext(off))
		{
			MvHnswElementTuple etup = (MvHnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

			if (etup->type != MV_HNSW_ELEMENT_TUPLE)
				continue;
			elements++;
			if (etup->deleted)
				deleted++;
			if (etup->deleted == MV_HNSW_FREE)
				free++;
			for (int i = 0; i < MV_HNSW_HEAPTIDS && ItemPointerIsValid(&etup->heaptids[i]); i++)
				heaptids++;
		}
		UnlockReleaseBuffer(buf);
	}
	relation_close(index, AccessShareLock);

	values[0] = Int64GetDatum(nblocks);
	values[1] = Int64GetDatum(elements);
	values[2] = Int64GetDatum(deleted);
	values[3] = Int64GetDatum(heaptids);
	values[4] = Int32GetDatum(meta.entryLevel);
	values[5] = Int32GetDatum(meta.m);
	values[6] = Int32GetDatum(meta.efConstruction);
	values[7] = Int32GetDatum(meta.dimensions);
	values[8] = Int64GetDatum(free);
	values[9] = Int64GetDatum((int64) meta.reused);
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
