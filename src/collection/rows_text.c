/*
 * rows_text.c
 *		Rows given as JSON text, read straight into a write's batch.
 *
 * milvus.insert's data as jsonb costs PostgreSQL a numeric for every number
 * before the function runs: for rows of 128 floats that parse is most of the
 * call.  milvus.insert(text) and milvus.upsert(text), which an untyped
 * literal or a text parameter reaches, read the text here instead: float
 * vectors with strtof, which gives exactly what the jsonb path gives (both
 * round the number's exact decimal value once), scalars as the same
 * JsonbValues the jsonb path converts, in field order, with the same
 * function (values.c).
 *
 * This reader takes only the plain cases: well-formed JSON, keys that are
 * fields and appear once, strings without \u escapes, float vectors of
 * normal floats, and no field of a type it does not read (JSON, ARRAY, the
 * other vectors).  Keys that are no field go to the dynamic field as jsonb
 * parses their values.  Anything else, including every error,
 * makes it give up, and the caller parses the text as jsonb and takes the
 * jsonb path, so rows and errors are the same either way.  The one
 * difference is order: the collection is looked up before the text is
 * parsed, so text that is not JSON sent to a collection that does not exist
 * reports the collection.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "milvus/collection.h"
#include "milvus/vector.h"

typedef struct Reader
{
	const char *p;
	const char *end;
} Reader;

/* what a row gave a field */
typedef struct FieldValue
{
	bool		present;
	JsonbValue	v;				/* a scalar */
	FloatVector *vector;		/* a float vector */
} FieldValue;

/* a key that is no field, for the dynamic field: its name and its value's text */
typedef struct Extra
{
	char	   *key;
	int			keylen;
	const char *value;
	int			valuelen;
} Extra;

typedef struct RowValues
{
	FieldValue *fv;				/* per field */
	List	   *extras;			/* of Extra */
} RowValues;

static void
skip_ws(Reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool
expect(Reader *r, char ch)
{
	skip_ws(r);
	if (r->p < r->end && *r->p == ch)
	{
		r->p++;
		return true;
	}
	return false;
}

/*
 * A string without \u escapes: *out points into the text itself when it has
 * no escapes (no copy per key or value), else into a palloc'd decoded copy;
 * either way not NUL-terminated, so only with *len
 */
static bool
read_string(Reader *r, char **out, int *len)
{
	const char *start;
	StringInfoData buf;

	skip_ws(r);
	if (r->p >= r->end || *r->p != '"')
		return false;
	start = ++r->p;
	while (r->p < r->end && *r->p != '"' && *r->p != '\\' && (unsigned char) *r->p >= 0x20)
		r->p++;
	if (r->p < r->end && *r->p == '"')
	{
		*out = unconstify(char *, start);
		*len = r->p - start;
		r->p++;
		return true;
	}
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, start, r->p - start);
	while (r->p < r->end && *r->p != '"')
	{
		char		ch = *r->p++;

		if ((unsigned char) ch < 0x20)
			return false;
		if (ch == '\\')
		{
			if (r->p >= r->end)
				return false;
			switch (*r->p++)
			{
				case '"':
					ch = '"';
					break;
				case '\\':
					ch = '\\';
					break;
				case '/':
					ch = '/';
					break;
				case 'b':
					ch = '\b';
					break;
				case 'f':
					ch = '\f';
					break;
				case 'n':
					ch = '\n';
					break;
				case 'r':
					ch = '\r';
					break;
				case 't':
					ch = '\t';
					break;
				default:
					return false;	/* \u and anything else: the jsonb path */
			}
		}
		appendStringInfoChar(&buf, ch);
	}
	if (r->p >= r->end)
		return false;
	r->p++;
	*out = buf.data;
	*len = buf.len;
	return true;
}

/* a JSON number: its text, and its value as digits and a power of ten */
typedef struct Number
{
	const char *start;
	int			len;
	uint64		mantissa;		/* the first 19 significant digits */
	int			exp10;
	bool		negative;
	bool		exact;			/* mantissa * 10^exp10 is the value */
} Number;

/* read a number in the one pass that checks JSON's syntax; false if none */
static bool
scan_number(Reader *r, Number *num)
{
	const char *p;
	int			digits = 0;

	skip_ws(r);
	p = num->start = r->p;
	num->mantissa = 0;
	num->exp10 = 0;
	num->negative = false;
	num->exact = true;
	if (p < r->end && *p == '-')
	{
		num->negative = true;
		p++;
	}
	if (p >= r->end || *p < '0' || *p > '9')
		return false;
	if (*p == '0')
		p++;
	else
		for (; p < r->end && *p >= '0' && *p <= '9'; p++)
		{
			if (digits < 19)
			{
				num->mantissa = num->mantissa * 10 + (*p - '0');
				digits++;
			}
			else
			{
				num->exp10++;	/* a digit past 19: exact only if a zero */
				num->exact &= *p == '0';
			}
		}
	if (p < r->end && *p == '.')
	{
		p++;
		if (p >= r->end || *p < '0' || *p > '9')
			return false;
		for (; p < r->end && *p >= '0' && *p <= '9'; p++)
		{
			if (num->mantissa == 0 && *p == '0')
				num->exp10--;	/* a leading zero */
			else if (digits < 19)
			{
				num->mantissa = num->mantissa * 10 + (*p - '0');
				digits++;
				num->exp10--;
			}
			else
				num->exact &= *p == '0';
		}
	}
	if (p < r->end && (*p == 'e' || *p == 'E'))
	{
		int			e = 0;
		bool		eneg = false;

		p++;
		if (p < r->end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p >= r->end || *p < '0' || *p > '9')
			return false;
		for (; p < r->end && *p >= '0' && *p <= '9'; p++)
			e = Min(e * 10 + (*p - '0'), 100000);
		num->exp10 += eneg ? -e : e;
	}
	num->len = p - num->start;
	r->p = p;
	return true;
}

/*
 * A number as a normal float, exactly as strtof reads it: straight from its
 * digits through MvDecimalToFloat, or the text to strtof when that cannot
 */
static bool
read_float(Reader *r, float *out)
{
	Number		num;
	char		buf[64];

	if (!scan_number(r, &num))
		return false;

	/*
	 * Long numbers and zeros with a far exponent: numeric's limits on scale
	 * and exponent (jsonb's errors, e.g. for 0e-20000 or 1.0 with 20,000
	 * zeros) decide
	 */
	if (num.len >= (int) sizeof(buf) || (num.mantissa == 0 && Abs(num.exp10) > 22))
		return false;
	if (num.exact && MvDecimalToFloat(num.mantissa, num.exp10, num.negative, out))
	{
		if (num.mantissa == 0)
			*out = 0.0f;		/* (jsonb's numeric has no negative zero) */
		return true;
	}
	memcpy(buf, num.start, num.len);
	buf[num.len] = '\0';
	errno = 0;
	*out = strtof(buf, NULL);
	/* near the limits the jsonb path's exact checks decide */
	if (errno != 0 || isinf(*out) || fabsf(*out) >= FLT_MAX || (*out != 0 && fabsf(*out) < FLT_MIN))
		return false;
	if (*out == 0)
		*out = 0.0f;
	return true;
}

/* a float vector's elements as a normal float each */
static bool
read_float_vector(Reader *r, const MvCollField *f, FloatVector **out)
{
	FloatVector *vec = MvFloatVectorAlloc(f->dim);
	int			n = 0;

	if (!expect(r, '['))
		return false;
	if (expect(r, ']'))
		return false;			/* (empty: the dimension check's error) */
	for (;;)
	{
		if (n >= f->dim || !read_float(r, &vec->x[n]))
			return false;
		n++;
		if (expect(r, ']'))
			break;
		if (!expect(r, ','))
			return false;
	}
	if (n != f->dim)
		return false;
	*out = vec;
	return true;
}

/* a scalar as the JsonbValue jsonb would hold */
static bool
read_scalar(Reader *r, JsonbValue *v)
{
	Number		num;

	skip_ws(r);
	if (r->p >= r->end)
		return false;
	if (*r->p == '"')
	{
		v->type = jbvString;
		return read_string(r, &v->val.string.val, &v->val.string.len);
	}
	if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0)
	{
		r->p += 4;
		v->type = jbvBool;
		v->val.boolean = true;
		return true;
	}
	if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0)
	{
		r->p += 5;
		v->type = jbvBool;
		v->val.boolean = false;
		return true;
	}
	if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0)
	{
		r->p += 4;
		v->type = jbvNull;
		return true;
	}
	if (!scan_number(r, &num))
		return false;
	v->type = jbvNumeric;
	v->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(pnstrdup(num.start, num.len)),
														 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	return true;
}

/* the field a key names, or -1 */
static int
field_of(const MvCollection *c, const char *key, int len)
{
	for (int i = 0; i < c->nfields; i++)
		if (strncmp(c->fields[i].name, key, len) == 0 && c->fields[i].name[len] == '\0')
			return i;
	return -1;
}

static bool
readable_type(MvDataType t)
{
	return t <= MV_TYPE_VARCHAR || t == MV_TYPE_FLOAT_VECTOR;
}

/*
 * Check and skip any JSON value, for a key of the dynamic field; false on a
 * syntax error, a \u escape (jsonb decides those), or nesting past 64
 */
static bool
skip_value(Reader *r, int depth)
{
	Number		num;

	skip_ws(r);
	if (r->p >= r->end || depth > 64)
		return false;
	switch (*r->p)
	{
		case '{':
		case '[':
			{
				char		close = *r->p == '{' ? '}' : ']';
				bool		object = close == '}';

				r->p++;
				if (expect(r, close))
					return true;
				for (;;)
				{
					if (object)
					{
						char	   *key;
						int			len;

						if (!read_string(r, &key, &len) || !expect(r, ':'))
							return false;
					}
					if (!skip_value(r, depth + 1))
						return false;
					if (expect(r, close))
						return true;
					if (!expect(r, ','))
						return false;
				}
			}
		case '"':
			{
				char	   *str;
				int			len;

				return read_string(r, &str, &len);
			}
		case 't':
		case 'f':
		case 'n':
			{
				JsonbValue	v;

				return read_scalar(r, &v);
			}
		default:
			return scan_number(r, &num);
	}
}

/* One row object's values; false: give up */
static bool
read_row(Reader *r, MvCollection *c, bool all, RowValues *row)
{
	FieldValue *fv = row->fv;

	memset(fv, 0, sizeof(FieldValue) * c->nfields);
	row->extras = NIL;
	if (!expect(r, '{'))
		return false;
	if (expect(r, '}'))
		return true;
	for (;;)
	{
		char	   *key;
		int			len,
					i;
		const MvCollField *f;

		if (!read_string(r, &key, &len) || !expect(r, ':'))
			return false;
		i = field_of(c, key, len);
		if (i < 0)
		{
			Extra	   *extra;

			if (!c->dynamic_field)
				return false;	/* the jsonb path's error */
			extra = palloc(sizeof(Extra));
			extra->key = key;
			extra->keylen = len;
			skip_ws(r);
			extra->value = r->p;
			if (!skip_value(r, 0))
				return false;
			extra->valuelen = r->p - extra->value;
			row->extras = lappend(row->extras, extra);
			goto next;
		}
		if (fv[i].present)
			return false;		/* twice: jsonb keeps the last */
		f = &c->fields[i];
		if (f->auto_id && !all)
			return false;		/* the error the jsonb path gives */
		fv[i].present = true;
		skip_ws(r);
		if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0)
		{
			r->p += 4;
			fv[i].present = false;
		}
		else if (f->type == MV_TYPE_FLOAT_VECTOR)
		{
			if (!read_float_vector(r, f, &fv[i].vector))
				return false;
		}
		else if (!read_scalar(r, &fv[i].v))
			return false;
next:
		if (expect(r, '}'))
			return true;
		if (!expect(r, ','))
			return false;
	}
}

/* the dynamic field of a row: its keys that are no field, as jsonb gives them */
static Datum
dynamic_part(List *extras)
{
	JsonbParseState *state = NULL;
	ListCell   *lc;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	foreach(lc, extras)
	{
		Extra	   *extra = lfirst(lc);
		JsonbValue	key,
					value;
		Jsonb	   *parsed = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																CStringGetDatum(pnstrdup(extra->value,
																						 extra->valuelen))));

		key.type = jbvString;
		key.val.string.val = extra->key;
		key.val.string.len = extra->keylen;
		pushJsonbValue(&state, WJB_KEY, &key);
		if (!JsonbExtractScalar(&parsed->root, &value))
		{
			value.type = jbvBinary;
			value.val.binary.data = &parsed->root;
			value.val.binary.len = VARSIZE(parsed) - VARHDRSZ;
		}
		pushJsonbValue(&state, WJB_VALUE, &value);
	}
	return JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL)));
}

bool
MvWriterAddText(MvWriter *w, MvCollection *c, bool all, const char *text, int len)
{
	Reader		r = {text, text + len};
	const int  *colfield;
	int			ncols = MvWriterColumns(w, &colfield);
	List	   *rows = NIL;
	ListCell   *lc;
	Datum	   *values;
	bool	   *nulls;
	int64		n = 0;
	MemoryContext rowcxt;
	Datum		empty_object;

	for (int col = 0; col < ncols; col++)
		if (colfield[col] >= 0 && !readable_type(c->fields[colfield[col]].type))
			return false;		/* a type read as jsonb */

	/* all of the text first: a malformed end is the jsonb path's error */
	skip_ws(&r);
	if (r.p < r.end && *r.p == '[')
	{
		r.p++;
		if (!expect(&r, ']'))
			for (;;)
			{
				RowValues  *row = palloc(sizeof(RowValues));

				CHECK_FOR_INTERRUPTS();
				row->fv = palloc(sizeof(FieldValue) * Max(c->nfields, 1));
				if (!read_row(&r, c, all, row))
					return false;
				rows = lappend(rows, row);
				if (expect(&r, ']'))
					break;
				if (!expect(&r, ','))
					return false;
			}
	}
	else
	{
		RowValues  *row = palloc(sizeof(RowValues));

		row->fv = palloc(sizeof(FieldValue) * Max(c->nfields, 1));
		if (!read_row(&r, c, all, row))
			return false;
		rows = lappend(rows, row);
	}
	skip_ws(&r);
	if (r.p != r.end)
		return false;

	/* then the values, in row and field order, as the jsonb path converts them */
	values = palloc(sizeof(Datum) * ncols);
	nulls = palloc(sizeof(bool) * ncols);
	empty_object = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "milvus text row", ALLOCSET_DEFAULT_SIZES);
	foreach(lc, rows)
	{
		RowValues  *row = lfirst(lc);
		FieldValue *fv = row->fv;
		MemoryContext old = MemoryContextSwitchTo(rowcxt);

		for (int col = 0; col < ncols; col++)
		{
			int			i = colfield[col];

			if (i < 0)
			{
				values[col] = row->extras ? dynamic_part(row->extras) : empty_object;
				nulls[col] = false;
			}
			else if (fv[i].vector)
			{
				values[col] = PointerGetDatum(fv[i].vector);
				nulls[col] = false;
			}
			else
				values[col] = MvJsonToDatum(&c->fields[i], fv[i].present ? &fv[i].v : NULL, n,
											&nulls[col], "data");
		}
		MvWriterAddValues(w, values, nulls);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
		n++;
	}
	MemoryContextDelete(rowcxt);
	return true;
}
