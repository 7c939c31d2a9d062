/*
 * values.c
 *		A field's JSON value as its column's Datum, for the C data path.
 *
 * Each field type accepts exactly what the SQL checks of milvus._value_sql
 * accept, and converts it as their casts do, so that milvus.insert gives the
 * same rows and the same errors whichever path runs.  A value that fails is
 * not explained here: milvus._bad_value (src/sql/75_collection_catalog.sql)
 * is called to raise the error, so every message and code stays written in
 * one place.
 *
 * Float vectors are the bulk of the work: 128 numbers a row and more.  The
 * SQL path printed the JSON array and read it back with strtof.  Here a
 * number goes straight from jsonb's numeric digits to a double when that is
 * exact (at most 2^53 as a decimal mantissa, a power of ten up to 22: one
 * correctly rounded operation) and the double then to a float; the only
 * case where that second rounding could differ from strtof's single one is
 * a double lying exactly halfway between two floats, which falls back, with
 * everything unusual (subnormals, huge exponents, long mantissas), to the
 * printed form and the type's input function.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "milvus/collection.h"
#include "milvus/half.h"
#include "milvus/vector.h"

/* numeric's stored form (src/backend/utils/adt/numeric.c: the on-disk format) */
#define NUM_SIGN_MASK			0xC000
#define NUM_NEG					0x4000
#define NUM_SHORT				0x8000
#define NUM_SPECIAL				0xC000
#define NUM_SHORT_SIGN_MASK		0x2000
#define NUM_SHORT_WEIGHT_SIGN	0x0040
#define NUM_SHORT_WEIGHT_MASK	0x003F
#define NUM_DEC_DIGITS			4	/* decimal digits per NumericDigit */

/* bounds the SQL checks compare with, as numerics */
typedef enum Bound
{
	BOUND_INT8_MIN, BOUND_INT8_MAX, BOUND_INT16_MIN, BOUND_INT16_MAX,
	BOUND_INT32_MIN, BOUND_INT32_MAX, BOUND_INT64_MIN, BOUND_INT64_MAX,
	BOUND_FLOAT_MAX, BOUND_DOUBLE_MAX, BOUND_HALF, BOUND_FLOAT_TINY, BOUND_ZERO,
	NBOUNDS
} Bound;

static const char *const bound_text[NBOUNDS] = {
	"-128", "127", "-32768", "32767", "-2147483648", "2147483647",
	"-9223372036854775808", "9223372036854775807",
	"3.4028234663852886e38", "1.7976931348623157e308", "65520", "1.401298464324817e-45", "0"
};
static Numeric bounds[NBOUNDS];

static Numeric
bound(Bound b)
{
	if (bounds[b] == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		bounds[b] = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(bound_text[b]),
														ObjectIdGetDatum(InvalidOid),
														Int32GetDatum(-1)));
		MemoryContextSwitchTo(old);
	}
	return bounds[b];
}

static int
cmp(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a), NumericGetDatum(b)));
}

static Numeric
num_abs(Numeric a)
{
	return DatumGetNumeric(DirectFunctionCall1(numeric_abs, NumericGetDatum(a)));
}

static bool
is_integral(Numeric a)
{
	Datum		t = DirectFunctionCall2(numeric_trunc, NumericGetDatum(a), Int32GetDatum(0));

	return DatumGetBool(DirectFunctionCall2(numeric_eq, NumericGetDatum(a), t));
}

static bool
in_range(Numeric a, Bound lo, Bound hi)
{
	return cmp(a, bound(lo)) >= 0 && cmp(a, bound(hi)) <= 0;
}

void
MvCallRaiser(const char *name, int nargs, Oid *argtypes, Datum *args, bool *nulls)
{
	Oid			fn = LookupFuncName(list_make2(makeString("milvus"), makeString(pstrdup(name))),
									nargs, argtypes, false);
	FmgrInfo	flinfo;

	LOCAL_FCINFO(fcinfo, FUNC_MAX_ARGS);

	fmgr_info(fn, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, nargs, InvalidOid, NULL, NULL);
	for (int i = 0; i < nargs; i++)
	{
		fcinfo->args[i].value = args[i];
		fcinfo->args[i].isnull = nulls[i];
	}
	FunctionCallInvoke(fcinfo);
	elog(ERROR, "milvus.%s did not raise an error", name);
}

static Datum
jsonb_datum(JsonbValue *v)
{
	return JsonbPGetDatum(JsonbValueToJsonb(v));
}

/* milvus._bad_value(spec || {"src": src}, v, n) */
static void
bad_value(const MvCollField *f, JsonbValue *v, int64 n, const char *src) pg_attribute_noreturn();
static void
bad_value(const MvCollField *f, JsonbValue *v, int64 n, const char *src)
{
	Oid			types[3] = {JSONBOID, JSONBOID, INT8OID};
	Datum		args[3];
	bool		nulls[3] = {false, v == NULL, false};
	char	   *extra = psprintf("{\"src\": \"%s\"}", src);

	args[0] = DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(f->spec),
								  DirectFunctionCall1(jsonb_in, CStringGetDatum(extra)));
	args[1] = v ? jsonb_datum(v) : (Datum) 0;
	args[2] = Int64GetDatum(n);
	MvCallRaiser("_bad_value", 3, types, args, nulls);
	pg_unreachable();
}

void
MvReportBadRow(const MvCollection *c, const char *kind, int64 n, JsonbValue *row)
{
	Oid			types[5] = {TEXTOID, INT8OID, JSONBOID, TEXTARRAYOID, TEXTOID};
	Datum		args[5];
	bool		nulls[5] = {false, false, false, false, false};
	Datum	   *names = palloc(sizeof(Datum) * (c->nfields + 1));
	int			nnames = 0;

	/* the primary field first, as the SQL path lists them */
	names[nnames++] = CStringGetTextDatum(c->fields[c->pk].name);
	for (int i = 0; i < c->nfields; i++)
		if (i != c->pk)
			names[nnames++] = CStringGetTextDatum(c->fields[i].name);
	args[0] = CStringGetTextDatum(kind);
	args[1] = Int64GetDatum(n);
	args[2] = jsonb_datum(row);
	args[3] = PointerGetDatum(construct_array(names, nnames, TEXTOID, -1, false, TYPALIGN_INT));
	args[4] = CStringGetTextDatum(c->collection_name);
	if (strcmp(kind, "object") == 0)
		nulls[3] = nulls[4] = true;
	MvCallRaiser("_bad_row", 5, types, args, nulls);
	pg_unreachable();
}

/*
 * mantissa * 10^exp10 as the float strtof gives for it, when one double
 * operation gets there exactly; false to leave it to strtof
 */
bool
MvDecimalToFloat(uint64 mantissa, int exp10, bool negative, float *out)
{
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	double		d;
	uint64		bits;

	if (mantissa == 0)
	{
		*out = 0.0f;
		return true;
	}
	if (mantissa > (UINT64CONST(1) << 53) || exp10 > 22 || exp10 < -22)
		return false;
	d = exp10 >= 0 ? (double) mantissa * pow10[exp10] : (double) mantissa / pow10[-exp10];
	/* only normal floats well inside the range: the rest as the SQL path */
	if (d < FLT_MIN || d > 3.0e38)
		return false;
	memcpy(&bits, &d, sizeof(bits));
	/* exactly halfway between two floats: strtof may round the other way */
	if ((bits & ((UINT64CONST(1) << 29) - 1)) == (UINT64CONST(1) << 28))
		return false;
	*out = negative ? -(float) d : (float) d;
	return true;
}

/*
 * A numeric as the float strtof would make of its printed form, when that
 * can be had exactly without printing; false to fall back
 */
static bool
numeric_to_float_fast(Numeric num, float *out)
{
	const char *p = VARDATA_ANY(num);
	Size		size = VARSIZE_ANY_EXHDR(num);
	uint16		header;
	const int16 *digits;
	int			ndigits,
				weight,
				exp10;
	bool		negative;
	uint64		mantissa = 0;

	memcpy(&header, p, sizeof(uint16));
	if ((header & NUM_SIGN_MASK) == NUM_SPECIAL)
		return false;
	if (header & NUM_SHORT)
	{
		negative = (header & NUM_SHORT_SIGN_MASK) != 0;
		weight = (header & NUM_SHORT_WEIGHT_SIGN) ? (int) (header | ~NUM_SHORT_WEIGHT_MASK)
			: (int) (header & NUM_SHORT_WEIGHT_MASK);
		digits = (const int16 *) (p + sizeof(uint16));
		ndigits = (size - sizeof(uint16)) / sizeof(int16);
	}
	else
	{
		int16		w;

		negative = (header & NUM_SIGN_MASK) == NUM_NEG;
		memcpy(&w, p + sizeof(uint16), sizeof(int16));
		weight = w;
		digits = (const int16 *) (p + 2 * sizeof(uint16));
		ndigits = (size - 2 * sizeof(uint16)) / sizeof(int16);
	}
	if (ndigits > 4)
		return false;
	for (int i = 0; i < ndigits; i++)
		mantissa = mantissa * 10000 + (uint16) digits[i];
	exp10 = NUM_DEC_DIGITS * (weight - ndigits + 1);
	return MvDecimalToFloat(mantissa, exp10, negative, out);
}

/* a value through the column type's input function, as the SQL casts do */
static Datum
input_datum(const MvCollField *f, const char *text)
{
	Oid			input,
				ioparam;

	getTypeInputInfo(f->typid, &input, &ioparam);
	return OidInputFunctionCall(input, (char *) text, ioparam, f->typmod);
}

static char *
json_text(JsonbValue *v)
{
	Jsonb	   *j = JsonbValueToJsonb(v);

	return JsonbToCString(NULL, &j->root, VARSIZE(j));
}

/* the elements of a JSON array value, or NULL if v is no array */
static JsonbValue *
array_elements(JsonbValue *v, int *count)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	JsonbValue *elems;
	int			n = 0;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data) ||
		JsonContainerIsScalar(v->val.binary.data))
		return NULL;
	*count = JsonContainerSize(v->val.binary.data);
	elems = palloc(sizeof(JsonbValue) * Max(*count, 1));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		if (tok == WJB_ELEM)
			elems[n++] = e;
	return elems;
}

/*
 * Whether a vector element passes _value_sql's check: at most max (float) or
 * below it (half), and zero or not below the smallest subnormal float
 */
static bool
float_element_ok(Numeric num, Bound max)
{
	Numeric		a = num_abs(num);
	int			c = cmp(a, bound(max));

	if (c > 0 || (c == 0 && max == BOUND_HALF))
		return false;
	return cmp(a, bound(BOUND_ZERO)) == 0 || cmp(a, bound(BOUND_FLOAT_TINY)) >= 0;
}

static Datum
float_vector(const MvCollField *f, JsonbValue *v, int64 n, const char *src)
{
	int			count;
	JsonbValue *elems = array_elements(v, &count);
	FloatVector *vec;
	bool		exact = true;

	if (elems == NULL || count != f->dim)
		bad_value(f, v, n, src);
	vec = MvFloatVectorAlloc(f->dim);
	for (int i = 0; i < count; i++)
	{
		if (elems[i].type != jbvNumeric)
			bad_value(f, v, n, src);
		if (exact && numeric_to_float_fast(elems[i].val.numeric, &vec->x[i]))
			continue;
		exact = false;
		if (!float_element_ok(elems[i].val.numeric, BOUND_FLOAT_MAX))
			bad_value(f, v, n, src);
	}
	if (exact)
		return PointerGetDatum(vec);
	pfree(vec);
	return input_datum(f, json_text(v));
}

static Datum
float16_vector(const MvCollField *f, JsonbValue *v, int64 n, const char *src)
{
	int			count;
	JsonbValue *elems = array_elements(v, &count);

	if (elems == NULL || count != f->dim)
		bad_value(f, v, n, src);
	for (int i = 0; i < count; i++)
		if (elems[i].type != jbvNumeric || !float_element_ok(elems[i].val.numeric, BOUND_HALF))
			bad_value(f, v, n, src);
	return input_datum(f, json_text(v));
}

static Datum
binary_vector(const MvCollField *f, JsonbValue *v, int64 n, const char *src)
{
	BinaryVector *vec;

	if (v->type == jbvString)
	{
		if (v->val.string.len != f->dim || f->dim == 0)
			bad_value(f, v, n, src);
		vec = MvBinaryVectorAlloc(f->dim);
		for (int i = 0; i < f->dim; i++)
		{
			char		ch = v->val.string.val[i];

			if (ch != '0' && ch != '1')
				bad_value(f, v, n, src);
			if (ch == '1')
				vec->x[i / 8] |= 1 << (7 - i % 8);
		}
	}
	else
	{
		int			count;
		JsonbValue *elems = array_elements(v, &count);

		if (elems == NULL || (int64) count * 8 != f->dim)
			bad_value(f, v, n, src);
		vec = MvBinaryVectorAlloc(f->dim);
		for (int i = 0; i < count; i++)
		{
			bool		err = false;
			int32		byte;

			if (elems[i].type != jbvNumeric || !is_integral(elems[i].val.numeric))
				bad_value(f, v, n, src);
			byte = numeric_int4_opt_error(elems[i].val.numeric, &err);
			if (err || byte < 0 || byte > 255)
				bad_value(f, v, n, src);
			vec->x[i] = (uint8) byte;
		}
	}
	return PointerGetDatum(vec);
}

/* Milvus's {"index": value} as the sparse vector's text, 1-based */
static Datum
sparse_vector(const MvCollField *f, JsonbValue *v, int64 n, const char *src)
{
	JsonbIterator *it;
	JsonbValue	k,
				val;
	JsonbIteratorToken tok;
	int			count;
	int64	   *keys;
	char	  **vals;
	int		   *order;
	int			nkeys = 0;
	StringInfoData buf;

	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		bad_value(f, v, n, src);
	count = JsonContainerSize(v->val.binary.data);
	keys = palloc(sizeof(int64) * Max(count, 1));
	vals = palloc(sizeof(char *) * Max(count, 1));
	order = palloc(sizeof(int) * Max(count, 1));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		tok = JsonbIteratorNext(&it, &val, true);
		if (k.val.string.len < 1 || k.val.string.len > 9)
			bad_value(f, v, n, src);
		keys[nkeys] = 0;
		for (int i = 0; i < k.val.string.len; i++)
		{
			char		ch = k.val.string.val[i];

			if (ch < '0' || ch > '9')
				bad_value(f, v, n, src);
			keys[nkeys] = keys[nkeys] * 10 + (ch - '0');
		}
		if (val.type != jbvNumeric || cmp(num_abs(val.val.numeric), bound(BOUND_FLOAT_MAX)) > 0)
			bad_value(f, v, n, src);
		vals[nkeys] = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(val.val.numeric)));
		order[nkeys] = nkeys;
		nkeys++;
	}
	/* ascending index (jsonb keeps keys by length, then bytes) */
	for (int i = 1; i < nkeys; i++)
		for (int j = i; j > 0 && keys[order[j - 1]] > keys[order[j]]; j--)
		{
			int			t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < nkeys; i++)
		appendStringInfo(&buf, "%s" INT64_FORMAT ":%s", i ? "," : "", keys[order[i]] + 1, vals[order[i]]);
	appendStringInfo(&buf, "}/%d", MV_SPARSE_MAX_DIM);
	return input_datum(f, buf.data);
}

/* one scalar of type t (a field's, or an ARRAY's element type); false if bad */
static bool
scalar_datum(MvDataType t, int max_length, JsonbValue *v, Datum *out)
{
	Numeric		num;

	switch (t)
	{
		case MV_TYPE_BOOL:
			if (v->type != jbvBool)
				return false;
			*out = BoolGetDatum(v->val.boolean);
			return true;
		case MV_TYPE_INT8:
		case MV_TYPE_INT16:
		case MV_TYPE_INT32:
		case MV_TYPE_INT64:
			{
				static const Bound lo[] = {BOUND_INT8_MIN, BOUND_INT16_MIN, BOUND_INT32_MIN, BOUND_INT64_MIN};
				int			which = t - MV_TYPE_INT8;

				if (v->type != jbvNumeric)
					return false;
				num = v->val.numeric;
				if (!is_integral(num) || !in_range(num, lo[which], lo[which] + 1))
					return false;
				if (t == MV_TYPE_INT64)
					*out = DirectFunctionCall1(numeric_int8, NumericGetDatum(num));
				else if (t == MV_TYPE_INT32)
					*out = DirectFunctionCall1(numeric_int4, NumericGetDatum(num));
				else
					*out = DirectFunctionCall1(numeric_int2, NumericGetDatum(num));
				return true;
			}
		case MV_TYPE_FLOAT:
			if (v->type != jbvNumeric || cmp(num_abs(v->val.numeric), bound(BOUND_FLOAT_MAX)) > 0)
				return false;
			*out = DirectFunctionCall1(numeric_float4, NumericGetDatum(v->val.numeric));
			return true;
		case MV_TYPE_DOUBLE:
			if (v->type != jbvNumeric || cmp(num_abs(v->val.numeric), bound(BOUND_DOUBLE_MAX)) > 0)
				return false;
			*out = DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric));
			return true;
		case MV_TYPE_VARCHAR:
			if (v->type != jbvString || v->val.string.len > max_length)
				return false;
			*out = PointerGetDatum(cstring_to_text_with_len(v->val.string.val, v->val.string.len));
			return true;
		default:
			elog(ERROR, "unexpected scalar type %d", (int) t);
	}
	return false;
}

static Datum
array_field(const MvCollField *f, JsonbValue *v, int64 n, const char *src)
{
	int			count;
	JsonbValue *elems = array_elements(v, &count);
	Datum	   *datums;
	Oid			elemtype = get_element_type(f->typid);
	int16		elemlen;
	bool		elembyval;
	char		elemalign;

	if (elems == NULL || count > f->max_capacity)
		bad_value(f, v, n, src);
	/* the element checks in milvus._value_sql's jsonpath allow DOUBLE's whole range */
	datums = palloc(sizeof(Datum) * Max(count, 1));
	for (int i = 0; i < count; i++)
	{
		bool		ok;

		if (f->element_type == MV_TYPE_DOUBLE)
		{
			ok = elems[i].type == jbvNumeric;
			if (ok)
				datums[i] = DirectFunctionCall1(numeric_float8, NumericGetDatum(elems[i].val.numeric));
		}
		else
			ok = scalar_datum(f->element_type, f->max_length, &elems[i], &datums[i]);
		if (!ok)
			bad_value(f, v, n, src);
	}
	get_typlenbyvalalign(elemtype, &elemlen, &elembyval, &elemalign);
	return PointerGetDatum(construct_array(datums, count, elemtype, elemlen, elembyval, elemalign));
}

Datum
MvJsonToDatum(const MvCollField *f, JsonbValue *v, int64 n, bool *isnull, const char *src)
{
	Datum		d;

	*isnull = false;
	if (v == NULL || v->type == jbvNull)
	{
		if (f->has_default && strcmp(src, "default_value") != 0)
			return f->default_value;
		if (f->nullable)
		{
			*isnull = true;
			return (Datum) 0;
		}
		bad_value(f, NULL, n, src);
	}
	switch (f->type)
	{
		case MV_TYPE_JSON:
			{
				Jsonb	   *j = JsonbValueToJsonb(v);

				if (strlen(JsonbToCString(NULL, &j->root, VARSIZE(j))) > MV_JSON_MAX_BYTES)
					bad_value(f, v, n, src);
				return JsonbPGetDatum(j);
			}
		case MV_TYPE_ARRAY:
			return array_field(f, v, n, src);
		case MV_TYPE_FLOAT_VECTOR:
			return float_vector(f, v, n, src);
		case MV_TYPE_FLOAT16_VECTOR:
			return float16_vector(f, v, n, src);
		case MV_TYPE_BINARY_VECTOR:
			return binary_vector(f, v, n, src);
		case MV_TYPE_SPARSE_FLOAT_VECTOR:
			return sparse_vector(f, v, n, src);
		default:
			if (!scalar_datum(f->type, f->max_length, v, &d))
				bad_value(f, v, n, src);
			return d;
	}
}
