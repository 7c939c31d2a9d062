/*
 * hnswinsert.c
 *		Insert into a milvus_hnsw index's graph: one new node per row, on disk.
 *
 * aminsert appends to the growing segment (hnswgrowing.c); the graph insert
 * here serves seals, rows too large for a growing page, and sessions with
 * milvus.hnsw_growing_segment off.
 *
 * An insert (1) draws a level, (2) takes the update lock (exclusively if it
 * may become the entry point), (3) searches the graph for its neighbours as
 * HNSW's INSERT does, (4) appends its element and neighbour tuples and, if
 * need be, the new entry point in one WAL record, then (5) adds a link back
 * from each neighbour, one WAL record each (a generic record of the slot's
 * bytes, written directly): into a free slot, else in place of
 * the neighbour the heuristic would drop (a tombstone first).  At layer 0 a
 * dropped neighbour must stay reachable: under its tuple lock (so that two
 * inserts never each count on the link the other removes) it goes only if the
 * new element links to it, or a chain of four other elements still leads to
 * it, or it can be added to the new element's list (keeps_reachable); else
 * the link-back is not made.  In (4) a free
 * element vacuum left, of the same tuple size and a level no lower, takes the
 * new node in place (reuse_slot) before anything is appended.  A crash between
 * (4) and (5) leaves a valid graph with fewer links, never a broken one.  A
 * vector equal to an existing live element joins that element's heap TIDs.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"

#include "hnsw.h"

/* Add a heap TID to an existing element of equal vector; false if it is full */
static bool
add_duplicate(MvHnswGraph *g, MvHnswElement *e, ItemPointer heaptid, bool building)
{
	Buffer		buf = ReadBuffer(g->index, ItemPointerGetBlockNumber(&e->tid));
	MvHnswPageEdit edit;
	Page		page;
	MvHnswElementTuple etup;
	bool		added = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(&edit, g->index, building);
	page = MvHnswEditRegister(&edit, buf, false);
	etup = (MvHnswElementTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&e->tid)));
	if (!etup->deleted)
	{
		for (int i = 0; i < MV_HNSW_HEAPTIDS; i++)
		{
			/* a seal that crashed after linking the row: it is there already */
			if (ItemPointerEquals(&etup->heaptids[i], heaptid))
			{
				GenericXLogAbort(edit.state);
				UnlockReleaseBuffer(buf);
				return true;
			}
			if (!ItemPointerIsValid(&etup->heaptids[i]))
			{
				etup->heaptids[i] = *heaptid;
				added = true;
				break;
			}
		}
	}
	if (added)
		MvHnswEditFinish(&edit);
	else if (!building)
		GenericXLogAbort(edit.state);
	UnlockReleaseBuffer(buf);
	return added;
}

/*
 * Add a new page after prev (the insert page, or NULL) to the graph page
 * chain, as the metapage's insert page, in the edit; returns it locked.  A
 * page a seal emptied (the growing segment's free list) is taken before the
 * relation is extended, so that the rows a seal links in take the room they
 * came from.
 */
static Buffer
new_graph_page(MvHnswPageEdit *edit, MvHnswMetaPage meta, Page prev, Page *page)
{
	Buffer		buf;
	BlockNumber nextfree;

	if (edit->building)
		buf = MvHnswNewBuffer(edit->index, true);
	else
	{
		buf = MvHnswGrowingTakePage(edit->index, meta, true, &nextfree);
		meta->growingFree = nextfree;
	}

	*page = MvHnswEditRegister(edit, buf, true);
	MvHnswInitPage(*page, MV_HNSW_PAGE_GRAPH);
	if (prev != NULL)
		MvHnswPageGetOpaque(prev)->nextblkno = BufferGetBlockNumber(buf);
	meta->insertPage = BufferGetBlockNumber(buf);
	return buf;
}

/* Lock the metapage and the insert page (if any) into a new edit */
static void
lock_insert_page(MvHnswPageEdit *edit, Relation index, bool building, Buffer *metabuf,
				 MvHnswMetaPage *meta, Buffer *buf, Page *page)
{
	*metabuf = ReadBuffer(index, MV_HNSW_METAPAGE_BLKNO);
	LockBuffer(*metabuf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(edit, index, building);
	*meta = MvHnswPageGetMeta(MvHnswEditRegister(edit, *metabuf, false));
	*buf = InvalidBuffer;
	*page = NULL;
	if (BlockNumberIsValid((*meta)->insertPage))
	{
		*buf = ReadBuffer(index, (*meta)->insertPage);
		LockBuffer(*buf, BUFFER_LOCK_EXCLUSIVE);
		*page = MvHnswEditRegister(edit, *buf, false);
	}
}

/*
 * Write the vector bytes past inlen into chunk tuples, a new page each, the
 * last chunk first so each knows its next; returns the first one's TID.  A
 * WAL record holds at most MAX_GENERIC_XLOG_PAGES pages, so each page is its
 * own record (with the metapage and the page it is linked after).  The
 * element is written after them: a crash in between leaks these pages
 * (nothing points at them; they stay in the page chain, unused), it never
 * leaves a pointer to a page that is not there.
 */
static ItemPointerData
append_chunks(Relation index, Pointer value, Size inlen, bool building)
{
	Size		vlen = VARSIZE(value);
	int			nchunks = (int) ((vlen - inlen + MV_HNSW_CHUNK_MAX - 1) / MV_HNSW_CHUNK_MAX);
	MvHnswChunkTuple ctup = palloc(BLCKSZ);
	ItemPointerData next;

	ItemPointerSetInvalid(&next);
	for (int i = nchunks - 1; i >= 0; i--)
	{
		Size		off = inlen + i * MV_HNSW_CHUNK_MAX;
		Size		size = MvHnswFormChunk(ctup, value, off, Min(MV_HNSW_CHUNK_MAX, vlen - off),
										   ItemPointerIsValid(&next) ? &next : NULL);
		MvHnswPageEdit edit;
		MvHnswMetaPage meta;
		Buffer		metabuf,
					buf,
					cbuf;
		Page		page,
					cpage;

		CHECK_FOR_INTERRUPTS();
		lock_insert_page(&edit, index, building, &metabuf, &meta, &buf, &page);
		cbuf = new_graph_page(&edit, meta, page, &cpage);
		if (PageAddItem(cpage, (Item) ctup, size, FirstOffsetNumber, false, false) !=
			FirstOffsetNumber)
			elog(ERROR, "milvus_hnsw: failed to add index item to \"%s\"",
				 RelationGetRelationName(index));
		MvHnswEditFinish(&edit);
		ItemPointerSet(&next, BufferGetBlockNumber(cbuf), FirstOffsetNumber);
		UnlockReleaseBuffer(cbuf);
		if (BufferIsValid(buf))
			UnlockReleaseBuffer(buf);
		UnlockReleaseBuffer(metabuf);
	}
	pfree(ctup);
	return next;
}

/*
 * Put a new node into a free slot, if one fits: an unchunked free element of
 * exactly esize bytes and of level or above, on the metapage's hint page or
 * the few after it (more for an element above level 0).  The element tuple
 * is overwritten in place, its neighbour tuple shrunk to the new level, both with the next version, and the
 * metapage updated, in one record.  Returns the slot's TID, or an invalid TID
 * when none fits (the hint then moves past the pages that hold no free slot).
 */
static ItemPointerData
reuse_slot(Relation index, int m, MvHnswElementTuple etup, Size esize,
		   MvHnswNeighborTuple ntup, Size nsize, int level, bool setEntry)
{
	Buffer		metabuf = ReadBuffer(index, MV_HNSW_METAPAGE_BLKNO);
	MvHnswMetaPage meta;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber hint;
	BlockNumber newhint = 0;
	BlockNumber blkno;
	Buffer		buf = InvalidBuffer;
	OffsetNumber slot = InvalidOffsetNumber;
	ItemPointerData etid;
	int			scale = 1;

	ItemPointerSetInvalid(&etid);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = MvHnswPageGetMeta(BufferGetPage(metabuf));
	hint = meta->freeBlkno;
	if (hint == 0 || hint >= nblocks)
	{
		UnlockReleaseBuffer(metabuf);
		return etid;
	}

	for (int i = 0; i < level && scale < MV_HNSW_REUSE_LEVEL_SCALE; i++)
		scale = Min(scale * m, MV_HNSW_REUSE_LEVEL_SCALE);
	for (blkno = hint; blkno < nblocks && blkno < hint + MV_HNSW_REUSE_LOOKAHEAD * scale; blkno++)
	{
		Page		page;
		int			nfree = 0;

		/*
		 * Looked at under a share lock: only inserts, which hold the
		 * metapage exclusively meanwhile, take free slots, so a slot found
		 * free is still free under the exclusive lock taken for it below.
		 */
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!PageIsNew(page) && MvHnswPageGetOpaque(page)->flags == MV_HNSW_PAGE_GRAPH)
		{
			for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page);
				 off = OffsetNumberNext(off))
			{
				ItemId		iid = PageGetItemId(page, off);
				MvHnswElementTuple old = (MvHnswElementTuple) PageGetItem(page, iid);

				if (old->type != MV_HNSW_ELEMENT_TUPLE || old->deleted != MV_HNSW_FREE ||
					(old->flags & MV_HNSW_ELEMENT_CHUNKED))
					continue;
				nfree++;
				if (slot == InvalidOffsetNumber && ItemIdGetLength(iid) == esize &&
					old->level >= level)
					slot = off;
			}
		}
		/* the lowest page with a free slot left after this insert */
		if (newhint == 0 && nfree > (slot != InvalidOffsetNumber ? 1 : 0))
			newhint = blkno;
		if (slot != InvalidOffsetNumber)
		{
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			break;
		}
		UnlockReleaseBuffer(buf);
		buf = InvalidBuffer;
	}
	if (newhint == 0)
	{
		/* pages past the window may hold some: the next insert looks there */
		if (slot != InvalidOffsetNumber)
			newhint = blkno + 1;
		else
			newhint = blkno;
		if (newhint >= nblocks)
			newhint = 0;
	}

	if (slot != InvalidOffsetNumber)
	{
		MvHnswPageEdit edit;
		Page		page;
		MvHnswElementTuple old;
		ItemPointerData ntid;
		Buffer		nbuf;
		Page		npage;
		MvHnswNeighborTuple oldn;
		uint8		version;

		MvHnswEditStart(&edit, index, false);
		meta = MvHnswPageGetMeta(MvHnswEditRegister(&edit, metabuf, false));
		page = MvHnswEditRegister(&edit, buf, false);
		old = (MvHnswElementTuple) PageGetItem(page, PageGetItemId(page, slot));
		ntid = old->neighbortid;
		version = old->version + 1;
		if (ItemPointerGetBlockNumber(&ntid) == blkno)
		{
			nbuf = buf;
			npage = page;
		}
		else
		{
			nbuf = ReadBuffer(index, ItemPointerGetBlockNumber(&ntid));
			LockBuffer(nbuf, BUFFER_LOCK_EXCLUSIVE);
			npage = MvHnswEditRegister(&edit, nbuf, false);
		}
		oldn = NULL;
		if (ItemPointerGetOffsetNumber(&ntid) <= PageGetMaxOffsetNumber(npage))
			oldn = (MvHnswNeighborTuple) PageGetItem(npage, PageGetItemId(npage, ItemPointerGetOffsetNumber(&ntid)));
		if (oldn == NULL || oldn->type != MV_HNSW_NEIGHBOR_TUPLE ||
			oldn->count != (old->level + 2) * m)
			elog(ERROR, "milvus_hnsw: free element (%u,%u) of \"%s\" has no neighbour tuple",
				 blkno, slot, RelationGetRelationName(index));

		ItemPointerSet(&etid, blkno, slot);
		/* a search before the slot was freed may have picked it: no self link */
		for (int i = 0; i < ntup->count; i++)
			if (ItemPointerEquals(&ntup->indextids[i], &etid))
				ItemPointerSetInvalid(&ntup->indextids[i]);
		ntup->version = version;
		etup->neighbortid = ntid;
		etup->version = version;
		memcpy(old, etup, esize);
		if (!PageIndexTupleOverwrite(npage, ItemPointerGetOffsetNumber(&ntid), (Item) ntup, nsize))
			elog(ERROR, "milvus_hnsw: failed to overwrite index item in \"%s\"",
				 RelationGetRelationName(index));

		meta->reused++;
		/* low after a crash between vacuum's pass 1 and its count: never wrap */
		if (meta->deleted > 0)
			meta->deleted--;
		meta->freeBlkno = newhint;
		if (setEntry && (!BlockNumberIsValid(meta->entryBlkno) || level > meta->entryLevel))
		{
			meta->entryBlkno = blkno;
			meta->entryOffno = slot;
			meta->entryLevel = level;
		}
		MvHnswEditFinish(&edit);
		if (nbuf != buf)
			UnlockReleaseBuffer(nbuf);
		UnlockReleaseBuffer(buf);
	}
	else if (newhint != hint)
	{
		MvHnswPageEdit edit;

		MvHnswEditStart(&edit, index, false);
		meta = MvHnswPageGetMeta(MvHnswEditRegister(&edit, metabuf, false));
		meta->freeBlkno = newhint;
		MvHnswEditFinish(&edit);
	}
	UnlockReleaseBuffer(metabuf);
	return etid;
}

/*
 * Append the element and neighbour tuples of a new node at the insert page
 * (or new pages), updating the metapage; returns the element's TID and sets
 * *ntid and *version to its neighbour tuple's TID and its version.  A
 * vector too large for a page goes first into chunks, and the element keeps
 * what fits beside its neighbour tuple on one page.  With setEntry, a node
 * above the entry point's level becomes the entry point.
 */
static ItemPointerData
append_element(Relation index, int m, Pointer value, int level, ItemPointerData *heaptids,
			   int nheaptids, MvHnswCandidate **layers, int *counts, bool building,
			   bool setEntry, ItemPointer ntid, uint8 *version)
{
	Size		vlen = VARSIZE(value);
	Size		nsize = MV_HNSW_NEIGHBOR_TUPLE_SIZE(level, m);
	MvHnswElementTuple etup = palloc(BLCKSZ);
	MvHnswNeighborTuple ntup = palloc0(nsize);
	Size		esize;
	Size		pair;
	Buffer		metabuf,
				buf,
				ebuf,
				nbuf;
	Page		page,
				epage,
				npage;
	MvHnswMetaPage meta;
	MvHnswPageEdit edit;
	Buffer		locked[3];
	int			nlocked = 0;
	ItemPointerData etid;
	OffsetNumber eoff,
				noff;

	if (MV_HNSW_ELEMENT_TUPLE_SIZE(vlen) <= MV_HNSW_MAX_TUPLE_SIZE)
		esize = MvHnswFormElement(etup, level, heaptids, nheaptids, value, vlen, NULL);
	else
	{
		Size		inlen = MvHnswInlineLength(MV_HNSW_MAX_TUPLE_SIZE - nsize - sizeof(ItemIdData));
		ItemPointerData chunk = append_chunks(index, value, inlen, building);

		esize = MvHnswFormElement(etup, level, heaptids, nheaptids, value, inlen, &chunk);
	}
	pair = esize + nsize + 2 * sizeof(ItemIdData);

	ntup->type = MV_HNSW_NEIGHBOR_TUPLE;
	ntup->count = (level + 2) * m;
	for (int i = 0; i < ntup->count; i++)
		ItemPointerSetInvalid(&ntup->indextids[i]);
	for (int lc = 0; lc <= level; lc++)
		for (int i = 0; i < counts[lc]; i++)
			ntup->indextids[MvHnswLayerStart(m, lc) + i] = layers[lc][i].element->tid;

	/* a free slot of the same size, unless building or the vector is chunked */
	if (!building && !(etup->flags & MV_HNSW_ELEMENT_CHUNKED))
	{
		etid = reuse_slot(index, m, etup, esize, ntup, nsize, level, setEntry);
		if (ItemPointerIsValid(&etid))
		{
			*ntid = etup->neighbortid;
			*version = etup->version;
			pfree(etup);
			pfree(ntup);
			return etid;
		}
	}

	/* metapage first, then the insert page, then new pages */
	lock_insert_page(&edit, index, building, &metabuf, &meta, &buf, &page);
	if (BufferIsValid(buf))
		locked[nlocked++] = buf;

	if (page != NULL && PageGetExactFreeSpace(page) >= pair)
	{
		ebuf = nbuf = buf;
		epage = npage = page;
	}
	else
	{
		ebuf = new_graph_page(&edit, meta, page, &epage);
		locked[nlocked++] = ebuf;
		nbuf = ebuf;
		npage = epage;
		/* a large vector: its neighbour tuple starts the next page */
		if (PageGetExactFreeSpace(epage) < pair)
		{
			nbuf = new_graph_page(&edit, meta, epage, &npage);
			locked[nlocked++] = nbuf;
		}
	}

	eoff = OffsetNumberNext(PageGetMaxOffsetNumber(epage));
	noff = (npage == epage) ? OffsetNumberNext(eoff) : FirstOffsetNumber;
	ItemPointerSet(&etup->neighbortid, BufferGetBlockNumber(nbuf), noff);
	if (PageAddItem(epage, (Item) etup, esize, eoff, false, false) != eoff ||
		PageAddItem(npage, (Item) ntup, nsize, noff, false, false) != noff)
		elog(ERROR, "milvus_hnsw: failed to add index item to \"%s\"",
			 RelationGetRelationName(index));
	ItemPointerSet(&etid, BufferGetBlockNumber(ebuf), eoff);

	meta->elements++;
	if (setEntry && (!BlockNumberIsValid(meta->entryBlkno) || level > meta->entryLevel))
	{
		meta->entryBlkno = ItemPointerGetBlockNumber(&etid);
		meta->entryOffno = eoff;
		meta->entryLevel = level;
	}
	MvHnswEditFinish(&edit);

	for (int i = 0; i < nlocked; i++)
		UnlockReleaseBuffer(locked[i]);
	UnlockReleaseBuffer(metabuf);
	*ntid = etup->neighbortid;
	*version = etup->version;
	pfree(etup);
	pfree(ntup);
	return etid;
}

/*
 * Write a new node with no links, for a seal in memory (hnswsealmem.c) to
 * write its lists into later: placed as an insert places one, its heap TIDs
 * and vector, the entry point left as it is unless setEntry (as
 * append_element).  Returns the element's TID and sets *ntid and *version as
 * append_element does.
 */
ItemPointerData
MvHnswAppendUnlinked(Relation index, int m, Pointer value, int level,
					 ItemPointerData *heaptids, int nheaptids, bool setEntry,
					 ItemPointer ntid, uint8 *version)
{
	int			counts[MV_HNSW_MAX_LEVEL + 1] = {0};

	return append_element(index, m, value, level, heaptids, nheaptids, NULL, counts, false,
						  setEntry, ntid, version);
}

/*
 * An element's neighbour tuple on its page, locked exclusively in *buf, or
 * NULL (the buffer still locked) if it is no longer the element's.
 */
static MvHnswNeighborTuple
lock_neighbors(MvHnswGraph *g, MvHnswElement *e, Buffer *buf)
{
	Page		page;
	MvHnswNeighborTuple ntup;

	*buf = ReadBuffer(g->index, ItemPointerGetBlockNumber(&e->neighbortid));
	LockBuffer(*buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(*buf);
	ntup = (MvHnswNeighborTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&e->neighbortid)));
	if (ntup->type != MV_HNSW_NEIGHBOR_TUPLE || ntup->version != e->version ||
		ntup->count != (e->level + 2) * g->m)
		return NULL;
	return ntup;
}

/*
 * Lock the page of element e's neighbour tuple exclusively and start an edit
 * of it (*buf pinned and locked, edit started, either way); the tuple, or
 * NULL if it is no longer e's (the slot was reused since e was read).
 */
static MvHnswNeighborTuple
edit_neighbors(MvHnswGraph *g, MvHnswElement *e, bool building, Buffer *buf,
			   MvHnswPageEdit *edit)
{
	Page		page;
	MvHnswNeighborTuple ntup;

	*buf = ReadBuffer(g->index, ItemPointerGetBlockNumber(&e->neighbortid));
	LockBuffer(*buf, BUFFER_LOCK_EXCLUSIVE);
	MvHnswEditStart(edit, g->index, building);
	page = MvHnswEditRegister(edit, *buf, false);
	ntup = (MvHnswNeighborTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&e->neighbortid)));
	if (ntup->type != MV_HNSW_NEIGHBOR_TUPLE || ntup->version != e->version ||
		ntup->count != (e->level + 2) * g->m)
		return NULL;
	return ntup;
}

/*
 * The new element's own layer-0 list, as an insert keeps it to give every
 * element that a link-back unlinks a detour: the neighbours it chose and wrote
 * there, of which those that already serve as a detour stay.
 */
typedef struct MvHnswDetours
{
	MvHnswElement *element;		/* the new element, as read back from disk */
	MvHnswCandidate *chosen;	/* its layer-0 neighbours, as written */
	int			nchosen;
	bool	   *kept;			/* chosen[i] is a detour now: never give it up */
	bool	   *gone;			/* chosen[i] gave its place to a detour */
} MvHnswDetours;

/* Mark chosen neighbour tid, if it is one, as a detour */
static void
keep_chosen(MvHnswDetours *d, ItemPointer tid)
{
	for (int i = 0; i < d->nchosen; i++)
		if (ItemPointerEquals(&d->chosen[i].element->tid, tid))
			d->kept[i] = true;
}

/*
 * Does an element other than n link to x at layer 0, one that an element
 * other than x links to in turn when depth is 1 (so that a pair linked only to
 * each other does not vouch for itself)?  Links are mostly mutual, so x's own
 * neighbours are asked, until one says yes.
 */
static bool
linked_from_other(MvHnswGraph *g, MvHnswElement *x, MvHnswElement *n, int depth)
{
	int			lm = MvHnswLayerM(g->m, 0);
	ItemPointerData *tids = palloc(sizeof(ItemPointerData) * lm);
	ItemPointerData *utids = palloc(sizeof(ItemPointerData) * lm);
	int			ntids = MvHnswLoadNeighborTids(g, x, 0, tids);
	bool		found = false;

	for (int i = 0; i < ntids && !found; i++)
	{
		MvHnswElement *u;
		int			nutids;

		if (ItemPointerEquals(&tids[i], &n->tid))
			continue;
		u = MvHnswGetElement(g, &tids[i]);
		if (u->deleted == MV_HNSW_FREE)
			continue;
		nutids = MvHnswLoadNeighborTids(g, u, 0, utids);
		for (int j = 0; j < nutids && !found; j++)
			found = ItemPointerEquals(&utids[j], &x->tid);
		if (found && depth > 0)
			found = linked_from_other(g, u, x, depth - 1);
	}
	pfree(tids);
	pfree(utids);
	return found;
}

/*
 * Before a link-back unlinks victim from a neighbour n at layer 0, make the
 * new element link to it: n -> new -> victim then replaces n -> victim, so
 * whatever the walk reached through that link it still reaches.  The victim
 * goes into a free slot of the new element's list, or in place of the
 * farthest chosen neighbour that is no detour yet and that another way still
 * leads to (checked under its tuple lock, as every unlinking is: see
 * keeps_reachable).  True if the new element links to victim now; false when
 * no place could be made.  No buffer lock is held while other elements are
 * read.
 */
static bool
add_detour(MvHnswGraph *g, MvHnswDetours *d, ItemPointer victim, bool building)
{
	int			lm = MvHnswLayerM(g->m, 0);
	ItemPointerData *tids = palloc(sizeof(ItemPointerData) * lm);
	int			ntids = MvHnswLoadNeighborTids(g, d->element, 0, tids);
	bool		tried[2 * MV_HNSW_MAX_M] = {false};

	for (int i = 0; i < ntids; i++)
	{
		if (ItemPointerEquals(&tids[i], victim))
		{
			keep_chosen(d, victim);
			return true;
		}
	}
	for (;;)
	{
		ItemPointerData give;
		int			chosen = -1;
		bool		locked = false;
		bool		done = false;
		Buffer		buf;
		MvHnswNeighborTuple ntup;
		MvHnswPageEdit edit;

		CHECK_FOR_INTERRUPTS();
		/* a free slot needs no one to give way; else the farthest chosen one not tried */
		ItemPointerSetInvalid(&give);
		if (ntids >= lm)
		{
			for (int j = 0; j < d->nchosen; j++)
			{
				bool		listed = false;

				if (d->kept[j] || tried[j] ||
					(chosen >= 0 && d->chosen[j].distance <= d->chosen[chosen].distance))
					continue;
				for (int i = 0; i < ntids && !listed; i++)
					listed = ItemPointerEquals(&tids[i], &d->chosen[j].element->tid);
				if (listed)
					chosen = j;
			}
			if (chosen < 0)
				return false;
			tried[chosen] = true;
			give = d->chosen[chosen].element->tid;
			if (!building)
			{
				if (!ConditionalLockTuple(g->index, &give, ExclusiveLock))
					continue;
				locked = true;
			}
			if (!linked_from_other(g, d->chosen[chosen].element, d->element, 3))
			{
				if (locked)
					UnlockTuple(g->index, &give, ExclusiveLock);
				continue;
			}
		}

		/* the list may have changed since it was read: decide again on the page */
		ntup = edit_neighbors(g, d->element, building, &buf, &edit);
		if (ntup != NULL)
		{
			int			slot = -1;
			bool		present = false;

			for (int i = 0; i < lm && !present; i++)
			{
				present = ItemPointerEquals(&ntup->indextids[i], victim);
				if (slot < 0 && (ItemPointerIsValid(&give) ?
								 ItemPointerEquals(&ntup->indextids[i], &give) :
								 !ItemPointerIsValid(&ntup->indextids[i])))
					slot = i;
			}
			if (!present && slot >= 0)
			{
				ntup->indextids[slot] = *victim;
				MvHnswEditFinish(&edit);
				if (chosen >= 0)
					d->gone[chosen] = true;
			}
			else if (!building)
				GenericXLogAbort(edit.state);
			done = present || slot >= 0;
		}
		else if (!building)
			GenericXLogAbort(edit.state);
		UnlockReleaseBuffer(buf);
		if (locked)
			UnlockTuple(g->index, &give, ExclusiveLock);
		if (ntup == NULL)
			return false;		/* not the new element's list: never loop on it */
		if (done)
		{
			keep_chosen(d, victim);
			return true;
		}
		/* the list changed under us: read it again */
		ntids = MvHnswLoadNeighborTids(g, d->element, 0, tids);
	}
}

/*
 * Is it safe for n to unlink victim at layer 0?  Yes for a tombstone (vacuum
 * relinks what it led to); for an element the new element links to (a detour
 * already); for one that another way leads to; else only once the new
 * element links to it.  The caller holds victim's tuple lock, as everything
 * that unlinks an element at layer 0 does, so that two inserts never each
 * count on the link the other is taking away.
 */
static bool
keeps_reachable(MvHnswGraph *g, MvHnswDetours *d, MvHnswElement *n, ItemPointer victim,
				bool building)
{
	MvHnswElement *v = MvHnswGetElement(g, victim);

	if (v->deleted)
		return true;
	for (int i = 0; i < d->nchosen; i++)
	{
		/* still in the new element's list? add_detour reads it again */
		if (ItemPointerEquals(&d->chosen[i].element->tid, victim) && !d->gone[i])
			return add_detour(g, d, victim, building);
	}
	return linked_from_other(g, v, n, 3) || add_detour(g, d, victim, building);
}

/*
 * Link neighbour n back to the new element at layer lc; with force, even if
 * the heuristic would rather not.  Returns whether n now links to it.  At
 * layer 0, d gives a neighbour that is unlinked a detour first (add_detour);
 * a link-back that cannot is not made, unless forced.
 */
static bool
link_back(MvHnswGraph *g, MvHnswElement *n, MvHnswElement *newElement, float dnew, int lc,
		  bool building, bool force, MvHnswDetours *d)
{
	int			lm = MvHnswLayerM(g->m, lc);
	int			start = MvHnswLayerStart(g->m, lc);
	ItemPointerData *tids = palloc(sizeof(ItemPointerData) * lm);
	int			ntids = MvHnswLoadNeighborTids(g, n, lc, tids);
	ItemPointerData victim;
	Buffer		buf;
	MvHnswNeighborTuple ntup;
	int			slot = -1;
	bool		linked = false;
	bool		locked = false;
	bool		replaces = false;
	MvHnswListChoice choice;

	ItemPointerSetInvalid(&victim);
	choice.n = 0;
	if (ntids >= lm)
	{
		victim = MvHnswChooseVictim(g, n, lc, newElement, dnew, tids, ntids, lm, force, &choice);
		if (!ItemPointerIsValid(&victim))
			return false;
		if (d != NULL)
		{
			if (!building)
			{
				LockTuple(g->index, &victim, ExclusiveLock);
				locked = true;
			}
			if (!keeps_reachable(g, d, n, &victim, building) && !force)
			{
				if (locked)
					UnlockTuple(g->index, &victim, ExclusiveLock);
				return false;
			}
		}
	}

	/*
	 * The list may have changed since it was read: decide again on the page,
	 * in place under the buffer lock; the one slot written is its own WAL
	 * record (a generic record of those bytes, MvHnswLogRanges).
	 */
	ntup = lock_neighbors(g, n, &buf);
	if (ntup != NULL)
	{
		for (int i = 0; i < lm; i++)
		{
			ItemPointer t = &ntup->indextids[start + i];

			if (ItemPointerEquals(t, &newElement->tid))
			{
				slot = -1;
				linked = true;
				break;
			}
			if (slot < 0 && !ItemPointerIsValid(t))
				slot = i;
		}
		/* already linked (a vacuum may have linked it): nothing to replace */
		if (slot < 0 && !linked && ItemPointerIsValid(&victim))
		{
			for (int i = 0; i < lm; i++)
				if (ItemPointerEquals(&ntup->indextids[start + i], &victim))
					slot = i;
			replaces = (slot >= 0);
		}
	}
	if (slot >= 0)
	{
		ItemPointer t = &ntup->indextids[start + slot];

		START_CRIT_SECTION();
		*t = newElement->tid;
		if (building)
			MarkBufferDirty(buf);
		else
		{
			MvHnswRange range;

			range.offset = (char *) t - (char *) BufferGetPage(buf);
			range.length = sizeof(ItemPointerData);
			MvHnswLogRanges(g->index, buf, &range, 1);
		}
		END_CRIT_SECTION();
		linked = true;
		if (replaces)
			MvHnswListChosen(g, &choice);
	}
	UnlockReleaseBuffer(buf);
	if (locked)
		UnlockTuple(g->index, &victim, ExclusiveLock);
	return linked;
}

/*
 * A graph for inserts to share: the elements they load stay cached in ctx
 * (with their vectors), so that a seal's rows, inserted one after another,
 * read each element once.  Links are read from disk every time.
 */
MvHnswGraph *
MvHnswInsertGraph(Relation index, MemoryContext ctx)
{
	MvHnswMetaPageData meta;

	MvHnswReadMeta(index, &meta);
	return MvHnswGraphCreate(index, true, ctx, true, meta.m, MvHnswGetEfConstruction(index));
}

/*
 * Insert one vector (a detoasted copy) for one heap TID.  While building, no
 * WAL is written: the build logs every page at its end.
 */
void
MvHnswInsertOnDisk(Relation index, Pointer value, ItemPointer heaptid, bool building)
{
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "milvus_hnsw insert",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldctx = MemoryContextSwitchTo(ctx);

	MvHnswInsertWith(MvHnswInsertGraph(index, ctx), value, heaptid, building);
	MemoryContextSwitchTo(oldctx);
	MemoryContextDelete(ctx);
}

/*
 * Insert through a graph of MvHnswInsertGraph; what is not cached goes into
 * the current memory context, which the caller may reset after each row.
 */
void
MvHnswInsertWith(MvHnswGraph *g, Pointer value, ItemPointer heaptid, bool building)
{
	Relation	index = g->index;
	MvHnswMetaPageData meta;
	LOCKMODE	lockmode = ShareLock;
	int			level;
	MvHnswCandidate *layers[MV_HNSW_MAX_LEVEL + 1];
	int			counts[MV_HNSW_MAX_LEVEL + 1];
	MvHnswCandidate nearest;
	MvHnswElement *newElement;
	MvHnswDetours detours;
	ItemPointerData ntid;
	uint8		version;

	MvHnswReadMeta(index, &meta);
	MvHnswCheckValueDims(index, &meta, value);
	level = MvHnswRandomLevel(meta.m, heaptid);

	/* the entry point only changes under the exclusive lock */
	for (;;)
	{
		LockPage(index, MV_HNSW_UPDATE_LOCK, lockmode);
		MvHnswReadMeta(index, &meta);
		if (lockmode == ExclusiveLock ||
			(BlockNumberIsValid(meta.entryBlkno) && level <= meta.entryLevel))
			break;
		UnlockPage(index, MV_HNSW_UPDATE_LOCK, lockmode);
		lockmode = ExclusiveLock;
	}

	g->query = value;
	g->queryStamp++;
	for (int lc = 0; lc <= level; lc++)
		counts[lc] = 0;

	if (BlockNumberIsValid(meta.entryBlkno))
	{
		ItemPointerData entrytid;
		MvHnswElement *entry;

		ItemPointerSet(&entrytid, meta.entryBlkno, meta.entryOffno);
		entry = MvHnswGetElement(g, &entrytid);
		MvHnswFindNeighbors(g, entry, level, layers, counts, &nearest);

		if (nearest.element != NULL && nearest.distance == 0 &&
			MvHnswValuesEqual(MvHnswElementVector(g, nearest.element), value) &&
			add_duplicate(g, nearest.element, heaptid, building))
			goto done;
	}

	newElement = palloc0(sizeof(MvHnswElement));
	newElement->level = level;
	MvHnswSetElementValue(newElement, value);
	newElement->tid = append_element(index, g->m, value, level, heaptid, 1, layers, counts,
									 building, true, &ntid, &version);
	/*
	 * Read back for its detours; not from the cache, which may hold a reused
	 * slot's old element, and which takes it for later inserts.
	 */
	detours.element = MvHnswLoadElement(g, &newElement->tid);
	MvHnswCacheInsert(g->cache, &newElement->tid, detours.element);
	detours.chosen = layers[0];
	detours.nchosen = counts[0];
	detours.kept = palloc0(sizeof(bool) * Max(counts[0], 1));
	detours.gone = palloc0(sizeof(bool) * Max(counts[0], 1));

	for (int lc = Min(level, meta.entryLevel); lc >= 0; lc--)
	{
		bool		linked = false;
		MvHnswDetours *d = (lc == 0) ? &detours : NULL;

		for (int i = 0; i < counts[lc]; i++)
			linked |= link_back(g, layers[lc][i].element, newElement, layers[lc][i].distance,
								lc, building, false, d);
		/* unreachable at layer 0 is lost to every search: make the nearest link to it */
		if (lc == 0 && !linked && counts[0] > 0)
			link_back(g, layers[0][0].element, newElement, layers[0][0].distance, 0,
					  building, true, d);
	}

done:
	UnlockPage(index, MV_HNSW_UPDATE_LOCK, lockmode);
}

/*
 * aminsert: index one row, into the growing segment unless the session turned
 * it off (milvus.hnsw_growing_segment) or the vector is too large for it
 */
bool
mvhnsw_insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
			  Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
			  IndexInfo *indexInfo)
{
	static bool warned = false;	/* once per session */
	Pointer		value;
	bool		growing = false;

	if (isnull[0])
		return false;

	/* read only during this call: no copy unless it was toasted */
	value = (Pointer) PG_DETOAST_DATUM(values[0]);
	if (MvHnswGrowingSegment)
		growing = MvHnswGrowingAppend(index, value, heap_tid);
	if (!growing)
		MvHnswInsertOnDisk(index, value, heap_tid, false);
	else if (!warned &&
			 (MvHnswCoordinatorRunning == NULL || !MvHnswCoordinatorRunning()))
	{
		warned = true;
		ereport(WARNING,
				(errmsg("no data coordinator seals the growing segment of milvus_hnsw index \"%s\"",
						RelationGetRelationName(index)),
				 errdetail("New rows are searched exactly until they are sealed into the graph."),
				 errhint("Add milvus to shared_preload_libraries, or run VACUUM or milvus.seal() on the index.")));
	}
	if (value != DatumGetPointer(values[0]))
		pfree(value);
	return false;
}
