/*
 * hybrid_exact.c
 *		Exact top-k: measure every visible row that passes the filter.
 *
 * The rows come either from a TIDBitmap (the filter computed by a bitmap
 * index scan: the table AM's bitmap interface visits each page once, checks
 * visibility page at a time and follows HOT chains) or from a scan of the
 * whole table (Milvus's FLAT search).  Each row is tested against the whole
 * filter (a bitmap may be lossy, or cover only some of the clauses; row-level
 * security policies are part of it), then measured by the distance
 * operator's own function straight from the slot: a vector stored inline is
 * read in place, with no copy.  A max-heap keeps the k nearest; the result
 * is sorted by distance, then TID, so running the same search again with a
 * larger k under the same snapshot returns the same rows first (the custom
 * scan relies on it to hand out more than k rows).  Rows whose vector is
 * NULL sort last, as ORDER BY puts them.
 */
#include "postgres.h"

#include <math.h>

#include "access/tableam.h"
#include "executor/executor.h"
#include "miscadmin.h"

#include "hybrid_int.h"

/* Ascending: distance (NaN after numbers, NULL last), then TID */
static int
exact_row_cmp(const void *a, const void *b)
{
	const MvExactRow *x = (const MvExactRow *) a;
	const MvExactRow *y = (const MvExactRow *) b;

	if (x->isnull != y->isnull)
		return x->isnull ? 1 : -1;
	if (!x->isnull)
	{
		bool		xnan = isnan(x->distance);
		bool		ynan = isnan(y->distance);

		if (xnan != ynan)
			return xnan ? 1 : -1;
		if (!xnan && x->distance != y->distance)
			return x->distance < y->distance ? -1 : 1;
	}
	return ItemPointerCompare((ItemPointer) &x->tid, (ItemPointer) &y->tid);
}

/* The distance of the slot's row to the query; NULL when either is NULL */
double
MvExactDistance(MvExactSearch *es, TupleTableSlot *slot, bool *isnull)
{
	Datum		value = slot_getattr(slot, es->attno, isnull);

	if (*isnull || es->queryNull)
	{
		*isnull = true;
		return 0;
	}
	es->distances++;
	return DatumGetFloat8(FunctionCall2Coll(&es->distfn, es->collation, value, es->query));
}

/*
 * A max-heap of the k nearest so far, the farthest on top; its array grows
 * with the rows offered, so a k far above the rows there are (LIMIT ALL, a
 * large LIMIT) allocates no more than they need
 */
typedef struct TopK
{
	MvExactRow *rows;
	int			n;
	int			k;
	int			cap;
} TopK;

static void
topk_sift_down(TopK *h, int i)
{
	MvExactRow	x = h->rows[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && exact_row_cmp(&h->rows[c + 1], &h->rows[c]) > 0)
			c++;
		if (exact_row_cmp(&h->rows[c], &x) <= 0)
			break;
		h->rows[i] = h->rows[c];
		i = c;
	}
	h->rows[i] = x;
}

static void
topk_offer(TopK *h, const MvExactRow *row)
{
	if (h->n < h->k)
	{
		int			i;

		if (h->n == h->cap)
		{
			h->cap = (int) Min((int64) h->cap * 2, (int64) h->k);
			h->rows = repalloc_huge(h->rows, sizeof(MvExactRow) * h->cap);
		}
		i = h->n++;

		while (i > 0)
		{
			int			p = (i - 1) / 2;

			if (exact_row_cmp(&h->rows[p], row) >= 0)
				break;
			h->rows[i] = h->rows[p];
			i = p;
		}
		h->rows[i] = *row;
	}
	else if (exact_row_cmp(row, &h->rows[0]) < 0)
	{
		h->rows[0] = *row;
		topk_sift_down(h, 0);
	}
}

/* Test the slot's row against the filter and offer it */
static void
offer_slot(MvExactSearch *es, TopK *h, TupleTableSlot *slot)
{
	ExprContext *econtext = es->econtext;
	MvExactRow	row;

	es->rowsRead++;
	if (es->exclude && MvTidSetContains(es->exclude, &slot->tts_tid))
		return;
	ResetExprContext(econtext);
	econtext->ecxt_scantuple = slot;
	if (es->qual && !ExecQual(es->qual, econtext))
		return;
	es->rowsPassed++;
	{
		MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);

		row.distance = MvExactDistance(es, slot, &row.isnull);
		MemoryContextSwitchTo(old);
	}
	/* nearer than a row already handed out: it would break the order */
	if (es->exclude && !row.isnull && row.distance < es->lastDistance)
		return;
	row.tid = slot->tts_tid;
	topk_offer(h, &row);
}

/*
 * The k nearest rows that pass the filter, from the bitmap's rows or (tbm
 * NULL) the whole table, sorted into *rows (palloc'd); returns how many.
 */
int
MvExactTopK(MvExactSearch *es, TIDBitmap *tbm, int k, MvExactRow **rows)
{
	TopK		h;
	TableScanDesc scan;
	TupleTableSlot *slot = es->slot;

	h.k = Max(k, 1);
	h.n = 0;
	h.cap = Min(h.k, 1024);
	h.rows = palloc(sizeof(MvExactRow) * h.cap);

	if (tbm != NULL)
	{
		TBMIterator *it = tbm_begin_iterate(tbm);
		TBMIterateResult *res;

		scan = table_beginscan_bm(es->rel, es->snapshot, 0, NULL);
		while ((res = tbm_iterate(it)) != NULL)
		{
			CHECK_FOR_INTERRUPTS();
			if (!table_scan_bitmap_next_block(scan, res))
				continue;
			while (table_scan_bitmap_next_tuple(scan, res, slot))
				offer_slot(es, &h, slot);
		}
		tbm_end_iterate(it);
	}
	else
	{
		scan = table_beginscan(es->rel, es->snapshot, 0, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			CHECK_FOR_INTERRUPTS();
			offer_slot(es, &h, slot);
		}
	}
	table_endscan(scan);
	ExecClearTuple(slot);

	qsort(h.rows, h.n, sizeof(MvExactRow), exact_row_cmp);
	*rows = h.rows;
	return h.n;
}
