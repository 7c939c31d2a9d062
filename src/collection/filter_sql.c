/*
 * filter_sql.c
 *		Compile a parsed filter expression into a parameterized SQL condition.
 *
 * The compiler walks the tree once, left to right.  Each node becomes an
 * Operand: its SQL text, a type domain (integer, real, double, numeric, text,
 * bool, jsonb, array, list) and a few flags.  A literal becomes a parameter as soon
 * as it is met, so $1 holds the values in the order they were written; its
 * SQL is the bare "$1[N]" (text), and the parent that decides the type adds
 * the cast.  A list of literals is one parameter, the text of an array
 * ("x = ANY (milvus._filter_list($1[N], NULL::bigint))", a constant array once
 * planned) or of a JSON array: the planner copies the whole of $1 for each
 * reference to it, so a reference per element would make a long list cost
 * memory quadratic in its length; for the same reason an or chain of
 * field == literal terms compiles as field in [..] (and an and chain of !=
 * as not in), see plan_merges.  Identifiers go through quote_identifier(),
 * JSON path keys are parameters too: nothing the user wrote is pasted into
 * the SQL.
 *
 * The output is shaped for the planner: a comparison of a column with a
 * literal stays "col op ($1[N])::type" (a B-tree index qual), array tests are
 * @> and && on the column (GIN), and an equality or exists on a JSON key path
 * carries an extra containment / key-existence test on the whole column that
 * a GIN index on it can serve.
 *
 * JSON values are typed at run time, as in Milvus: a comparison whose JSON
 * side holds another type (or is missing) is false, and != is then true.
 * The typed extraction is a CASE on jsonb_typeof (CASE, unlike AND, fixes the
 * order of evaluation, so a cast never sees a value of the wrong type), and
 * the comparison is wrapped in COALESCE to turn "unknown" into that answer.
 */
#include "postgres.h"

#include <errno.h>
#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "milvus/collection.h"

typedef enum Dom
{
	D_BOOL,
	D_INT,						/* pgtype says which */
	D_REAL,
	D_DOUBLE,
	D_NUMERIC,					/* a JSON number, or arithmetic on one */
	D_TEXT,
	D_JSON,
	D_ARRAY,					/* a whole ARRAY field; elem says of what */
	D_LIST						/* a [..] literal; elems */
} Dom;

typedef struct Operand
{
	Dom			dom;
	MvFieldType elem;			/* D_ARRAY */
	bool		literal;		/* a single value: sql is "$1[N]", of type text, or
								 * NULL in a list until as_dom needs it */
	bool		json;			/* NULL when a JSON value had another type */
	int			nkeys;			/* see json_column */
	int			nelems;			/* D_LIST */
	const char *sql;
	const char *pgtype;			/* D_INT: smallint, integer or bigint */
	const MvFilterField *field; /* a bare schema column, or an element of one */
	const MvFilterNode *node;	/* the literal (or any node, for positions) */
	/* a JSON path of object keys only: the column and the keys' parameters */
	const char *json_column;
	const char **keys;
	struct Operand *elems;		/* D_LIST */
} Operand;

typedef struct Compiler
{
	const char *filter;
	const MvFilterSchema *schema;
	Jsonb	   *params_json;
	const char *rel_alias;
	List	   *params;			/* of char *, in cxt */
	MemoryContext cxt;			/* where the compilation started */
} Compiler;

static Operand emit(Compiler *c, const MvFilterNode *n);
static Operand emit_value(Compiler *c, const MvFilterNode *n);
static MvFilterNode *resolve_template(Compiler *c, const MvFilterNode *t);

/*
 * Names
 */

static const struct
{
	const char *name;
	MvFieldType type;
}			field_types[] =
{
	{"BOOL", MV_FIELD_BOOL},
	{"INT8", MV_FIELD_INT8},
	{"INT16", MV_FIELD_INT16},
	{"INT32", MV_FIELD_INT32},
	{"INT64", MV_FIELD_INT64},
	{"FLOAT", MV_FIELD_FLOAT},
	{"DOUBLE", MV_FIELD_DOUBLE},
	{"VARCHAR", MV_FIELD_VARCHAR},
	{"JSON", MV_FIELD_JSON},
	{"ARRAY", MV_FIELD_ARRAY},
	{"FLOAT_VECTOR", MV_FIELD_VECTOR},
	{"FLOAT16_VECTOR", MV_FIELD_VECTOR},
	{"BFLOAT16_VECTOR", MV_FIELD_VECTOR},
	{"BINARY_VECTOR", MV_FIELD_VECTOR},
	{"SPARSE_FLOAT_VECTOR", MV_FIELD_VECTOR},
	{"INT8_VECTOR", MV_FIELD_VECTOR},
};

static const char *
field_type_name(MvFieldType type)
{
	int			i;

	if (type == MV_FIELD_VECTOR)
		return "vector";
	for (i = 0; i < (int) lengthof(field_types); i++)
		if (field_types[i].type == type)
			return field_types[i].name;
	return "?";
}

/* The SQL type of a scalar field's column (and of an ARRAY's elements) */
static const char *
sql_type(MvFieldType type)
{
	switch (type)
	{
		case MV_FIELD_BOOL:
			return "boolean";
		case MV_FIELD_INT8:
		case MV_FIELD_INT16:
			return "smallint";
		case MV_FIELD_INT32:
			return "integer";
		case MV_FIELD_INT64:
			return "bigint";
		case MV_FIELD_FLOAT:
			return "real";
		case MV_FIELD_DOUBLE:
			return "double precision";
		case MV_FIELD_VARCHAR:
			return "text";
		case MV_FIELD_JSON:
			return "jsonb";
		default:
			elog(ERROR, "no SQL type for field type %d", (int) type);
	}
	return NULL;				/* keep compiler quiet */
}

static Dom
field_dom(MvFieldType type)
{
	switch (type)
	{
		case MV_FIELD_BOOL:
			return D_BOOL;
		case MV_FIELD_INT8:
		case MV_FIELD_INT16:
		case MV_FIELD_INT32:
		case MV_FIELD_INT64:
			return D_INT;
		case MV_FIELD_FLOAT:
			return D_REAL;
		case MV_FIELD_DOUBLE:
			return D_DOUBLE;
		case MV_FIELD_VARCHAR:
			return D_TEXT;
		case MV_FIELD_JSON:
			return D_JSON;
		case MV_FIELD_ARRAY:
			return D_ARRAY;
		default:
			elog(ERROR, "no domain for field type %d", (int) type);
	}
	return D_BOOL;				/* keep compiler quiet */
}

/* How a message names an operand: field "age" (INT64), an integer, ... */
static char *
describe(const Operand *e)
{
	if (e->field && e->dom == D_ARRAY)
		return psprintf("field \"%s\" (ARRAY<%s>)", e->field->name,
						field_type_name(e->field->element_type));
	if (e->field && e->field->type == MV_FIELD_ARRAY)
		return psprintf("an element of field \"%s\" (ARRAY<%s>)", e->field->name,
						field_type_name(e->field->element_type));
	if (e->field)
		return psprintf("field \"%s\" (%s)", e->field->name, field_type_name(e->field->type));
	if (e->dom == D_JSON && e->node->kind == MVF_FIELD && e->node->npath == 0 &&
		strcmp(e->node->str, "$meta") == 0)
		return "the dynamic field \"$meta\"";
	if (e->literal)
	{
		switch (e->node->kind)
		{
			case MVF_INT:
				return "an integer";
			case MVF_FLOAT:
				return "a floating-point number";
			case MVF_STRING:
				return "a string";
			case MVF_BOOL:
				return "a boolean";
			default:
				break;
		}
	}
	switch (e->dom)
	{
		case D_LIST:
			return "a list";
		case D_BOOL:
			return "a boolean expression";
		case D_TEXT:
			return "a string expression";
		case D_JSON:
			return "a JSON value";
		case D_ARRAY:
			return "an array";
		default:
			return "a numeric expression";
	}
}

/* The 1-based character position of a byte offset, for messages */
static int
char_position(const char *filter, int offset)
{
	return pg_mbstrlen_with_len(filter, offset) + 1;
}

#define ERRPOS(c, n) errdetail("At character %d of the filter expression.", \
							   char_position((c)->filter, (n)->position))

/*
 * Parameters
 */

/*
 * Add a parameter; return "$1[N]".  The value is kept in the compiler's own
 * context: an operand of and / or is compiled in a shorter-lived one.
 */
static char *
add_param(Compiler *c, const char *value, int len)
{
	MemoryContext old = MemoryContextSwitchTo(c->cxt);
	char	   *copy = palloc(len + 1);

	memcpy(copy, value, len);
	copy[len] = '\0';
	c->params = lappend(c->params, copy);
	MemoryContextSwitchTo(old);
	return psprintf("$1[%d]", list_length(c->params));
}

static char *
add_param_str(Compiler *c, const char *value)
{
	return add_param(c, value, strlen(value));
}

/* A string the user wrote: check it is valid in the database encoding */
static char *
add_string_param(Compiler *c, const char *s, int len)
{
	pg_verifymbstr(s, len, false);
	return add_param(c, s, len);
}

/*
 * Conversions between domains
 */

static bool
is_numeric(Dom d)
{
	return d == D_INT || d == D_REAL || d == D_DOUBLE || d == D_NUMERIC;
}

static const char *
dom_type(Dom d)
{
	switch (d)
	{
		case D_BOOL:
			return "boolean";
		case D_INT:
			return "bigint";
		case D_REAL:
			return "real";
		case D_DOUBLE:
			return "double precision";
		case D_NUMERIC:
			return "numeric";
		case D_TEXT:
			return "text";
		case D_JSON:
			return "jsonb";
		default:
			elog(ERROR, "no SQL type for domain %d", (int) d);
	}
	return NULL;				/* keep compiler quiet */
}

/* A literal as jsonb: numbers and booleans are JSON text already */
static char *
literal_jsonb(const Operand *e, const char *sql)
{
	if (e->node->kind == MVF_STRING)
		return psprintf("to_jsonb(%s)", sql);
	return psprintf("(%s)::jsonb", sql);
}

static char *list_jsonb(Compiler *c, const Operand *e);
static const char *literal_param(Compiler *c, const MvFilterNode *n);

/* The SQL of e's value in domain d (the caller checked they are compatible) */
static const char *
as_dom(Compiler *c, const Operand *e, Dom d)
{
	if (e->dom == D_LIST && d == D_JSON)
		return list_jsonb(c, e);
	if (e->literal)
	{
		const char *sql = e->sql ? e->sql : literal_param(c, e->node);

		if (d == D_JSON)
			return literal_jsonb(e, sql);
		if (d == D_TEXT)
			return sql;
		return psprintf("(%s)::%s", sql, dom_type(d));
	}
	if (e->dom == d)
		return e->sql;
	if (e->dom == D_JSON)
	{
		switch (d)
		{
			case D_NUMERIC:
				return psprintf("(CASE WHEN jsonb_typeof(%s) = 'number' THEN (%s)::numeric END)",
								e->sql, e->sql);
			case D_TEXT:
				return psprintf("(CASE WHEN jsonb_typeof(%s) = 'string' THEN %s #>> '{}' END)",
								e->sql, e->sql);
			case D_BOOL:
				return psprintf("(CASE WHEN jsonb_typeof(%s) = 'boolean' THEN (%s)::boolean END)",
								e->sql, e->sql);
			default:
				break;
		}
	}
	else if (d == D_JSON)
		return psprintf("to_jsonb(%s)", e->sql);
	else if (is_numeric(e->dom) && is_numeric(d))
		return psprintf("(%s)::%s", e->sql, dom_type(d));
	elog(ERROR, "cannot convert domain %d to %d", (int) e->dom, (int) d);
	return NULL;				/* keep compiler quiet */
}

/* A literal's value as $1 holds it; buf has room for a number */
static const char *
literal_text(const MvFilterNode *n, char *buf, size_t size)
{
	switch (n->kind)
	{
		case MVF_INT:
			snprintf(buf, size, INT64_FORMAT, n->ival);
			return buf;
		case MVF_FLOAT:
			double_to_shortest_decimal_buf(n->fval, buf);
			return buf;
		case MVF_STRING:
			return n->str;
		case MVF_BOOL:
			return n->bval ? "true" : "false";
		default:
			elog(ERROR, "not a literal: %d", (int) n->kind);
	}
	return NULL;				/* keep compiler quiet */
}

/* Append a literal, or a list of them, as JSON text */
static void
append_json(StringInfo buf, const Operand *e)
{
	char		num[64];
	int			i;

	if (e->dom == D_LIST)
	{
		appendStringInfoChar(buf, '[');
		for (i = 0; i < e->nelems; i++)
		{
			if (i > 0)
				appendStringInfoString(buf, ", ");
			append_json(buf, &e->elems[i]);
		}
		appendStringInfoChar(buf, ']');
	}
	else if (e->node->kind == MVF_STRING)
		escape_json(buf, e->node->str);
	else
		appendStringInfoString(buf, literal_text(e->node, num, sizeof(num)));
}

/* Append one element of an array literal, double-quoted */
static void
append_array_element(StringInfo buf, const char *s, int len)
{
	int			i;

	appendStringInfoChar(buf, '"');
	for (i = 0; i < len; i++)
	{
		if (s[i] == '"' || s[i] == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, s[i]);
	}
	appendStringInfoChar(buf, '"');
}

/*
 * Literals as one array of type: a parameter holding an array literal of
 * their values, or with json of their JSON texts (lists among them too)
 */
static char *
array_param(Compiler *c, const Operand *values, int nvalues, bool json, const char *type)
{
	StringInfoData buf;
	StringInfoData item;
	char		num[64];
	char	   *sql;
	int			i;

	initStringInfo(&buf);
	initStringInfo(&item);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < nvalues; i++)
	{
		const Operand *v = &values[i];

		CHECK_FOR_INTERRUPTS();
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		if (json)
		{
			resetStringInfo(&item);
			append_json(&item, v);
			append_array_element(&buf, item.data, item.len);
		}
		else if (v->node->kind == MVF_STRING)
			append_array_element(&buf, v->node->str, v->node->len);
		else
			appendStringInfoString(&buf, literal_text(v->node, num, sizeof(num)));
	}
	appendStringInfoChar(&buf, '}');
	sql = add_param(c, buf.data, buf.len);
	pfree(buf.data);
	pfree(item.data);
	return psprintf("milvus._filter_list(%s, NULL::%s)", sql, type);
}

/* A [..] literal as a jsonb array: one parameter holding its JSON text */
static char *
list_jsonb(Compiler *c, const Operand *e)
{
	StringInfoData buf;
	char	   *sql;

	initStringInfo(&buf);
	append_json(&buf, e);
	sql = add_param(c, buf.data, buf.len);
	pfree(buf.data);
	return psprintf("(%s)::jsonb", sql);
}

/* Whether a list holds only literals (lists of literals included) */
static bool
all_literal(const Operand *e)
{
	int			i;

	if (e->literal)
		return true;
	if (e->dom != D_LIST)
		return false;
	for (i = 0; i < e->nelems; i++)
		if (!all_literal(&e->elems[i]))
			return false;
	return true;
}

/* A literal's numeric value, as a double */
static double
literal_value(const Operand *e)
{
	return e->node->kind == MVF_INT ? (double) e->node->ival : e->node->fval;
}

/* Whether a numeric literal survives a cast to real */
static bool
fits_real(const Operand *e)
{
	return fabs(literal_value(e)) <= FLT_MAX;
}

/*
 * A boolean condition from e: a bool as is, a JSON value when it is true.
 * what names the context for the error message.
 */
static const char *
as_condition(Compiler *c, const Operand *e, const char *what)
{
	if (e->dom == D_BOOL)
		return as_dom(c, e, D_BOOL);
	if (e->dom == D_JSON)
		return psprintf("COALESCE(%s = 'true'::jsonb, false)", e->sql);
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("%s must be a boolean expression, not %s", what, describe(e)),
			 ERRPOS(c, e->node)));
	return NULL;				/* keep compiler quiet */
}

static Operand
bool_expr(const MvFilterNode *n, char *sql)
{
	Operand		e = {0};

	e.dom = D_BOOL;
	e.sql = sql;
	e.node = n;
	return e;
}

/* cmp, or its answer for a JSON value of another type: true for != only */
static char *
json_answer(const char *cmp, bool json, MvFilterOp op)
{
	if (!json)
		return (char *) cmp;
	return psprintf("COALESCE(%s, %s)", cmp, op == MVF_OP_NE ? "true" : "false");
}

/*
 * Literals, fields, paths
 */

/*
 * A literal, not yet a parameter (sql NULL); a string is checked against the
 * database encoding here, wherever its value goes
 */
static Operand
literal_operand(const MvFilterNode *n)
{
	Operand		e = {0};

	e.literal = true;
	e.node = n;
	switch (n->kind)
	{
		case MVF_INT:
			e.dom = D_INT;
			e.pgtype = "bigint";
			break;
		case MVF_FLOAT:
			e.dom = D_DOUBLE;
			break;
		case MVF_STRING:
			e.dom = D_TEXT;
			pg_verifymbstr(n->str, n->len, false);
			break;
		case MVF_BOOL:
			e.dom = D_BOOL;
			break;
		default:
			elog(ERROR, "not a literal: %d", (int) n->kind);
	}
	return e;
}

/* A literal as a parameter of its own */
static const char *
literal_param(Compiler *c, const MvFilterNode *n)
{
	char		buf[64];

	if (n->kind == MVF_STRING)
		return add_param(c, n->str, n->len);
	return add_param_str(c, literal_text(n, buf, sizeof(buf)));
}

static Operand
emit_literal(Compiler *c, const MvFilterNode *n)
{
	Operand		e = literal_operand(n);

	e.sql = literal_param(c, n);
	return e;
}

static char *
column_sql(Compiler *c, const char *name)
{
	if (c->rel_alias)
		return psprintf("%s.%s", quote_identifier(c->rel_alias), quote_identifier(name));
	return (char *) quote_identifier(name);
}

static const MvFilterField *
find_field(const MvFilterSchema *schema, const char *name)
{
	int			i;

	for (i = 0; i < schema->nfields; i++)
		if (strcmp(schema->fields[i].name, name) == 0)
			return &schema->fields[i];
	return NULL;
}

/*
 * Whether #> may read a key as an array index: PostgreSQL takes a step that
 * strtol() reads whole (" 1", "-1") as one when the value is an array
 */
static bool
could_be_index(const char *key, int len)
{
	int			i = 0;

	while (i < len && isspace((unsigned char) key[i]))
		i++;
	if (i < len && (key[i] == '+' || key[i] == '-'))
		i++;
	if (i == len || !isdigit((unsigned char) key[i]))
		return false;
	while (i < len && isdigit((unsigned char) key[i]))
		i++;
	return i == len;
}

/* column #> ARRAY[keys], the keys (and indexes) being parameters */
static Operand
json_path(Compiler *c, const char *column, const char *first_key,
		  const MvFilterPathStep *steps, int nsteps, const MvFilterNode *n)
{
	Operand		e = {0};
	StringInfoData buf;
	int			nkeys = nsteps + (first_key ? 1 : 0);
	const char **keys = palloc(sizeof(char *) * (nkeys + 1));
	bool		keys_only = true;
	int			k = 0;
	int			i;

	if (first_key)
		keys[k++] = add_string_param(c, first_key, strlen(first_key));
	for (i = 0; i < nsteps; i++)
	{
		if (steps[i].is_index)
		{
			char		num[16];

			snprintf(num, sizeof(num), "%d", steps[i].index);
			keys[k++] = add_param_str(c, num);
			keys_only = false;
		}
		else
		{
			keys[k++] = add_string_param(c, steps[i].key, steps[i].keylen);
			if (could_be_index(steps[i].key, steps[i].keylen))
				keys_only = false;
		}
	}

	e.dom = D_JSON;
	e.node = n;
	if (nkeys == 0)
	{
		e.sql = column;
		return e;
	}
	initStringInfo(&buf);
	appendStringInfo(&buf, "(%s #> ARRAY[", column);
	for (i = 0; i < nkeys; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", keys[i]);
	appendStringInfoString(&buf, "])");
	e.sql = buf.data;
	/* the GIN-servable tests hold only for steps that always read an object */
	if (keys_only)
	{
		e.json_column = column;
		e.nkeys = nkeys;
		e.keys = keys;
	}
	return e;
}

static Operand
emit_field(Compiler *c, const MvFilterNode *n)
{
	const MvFilterField *f = find_field(c->schema, n->str);
	Operand		e = {0};

	if (strcmp(n->str, "$meta") == 0 && c->schema->dynamic_field)
		return json_path(c, column_sql(c, "$meta"), NULL, n->path, n->npath, n);
	if (f == NULL)
	{
		if (c->schema->dynamic_field && strcmp(n->str, "$meta") != 0)
			return json_path(c, column_sql(c, "$meta"), n->str, n->path, n->npath, n);
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("field \"%s\" does not exist", n->str),
				 ERRPOS(c, n),
				 errhint("The collection has no dynamic field, so a filter can use only the fields of its schema.")));
	}
	if (f->type == MV_FIELD_VECTOR)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("vector field \"%s\" cannot be used in a filter expression", f->name),
				 ERRPOS(c, n)));
	if (f->type == MV_FIELD_JSON)
	{
		e = json_path(c, column_sql(c, f->name), NULL, n->path, n->npath, n);
		if (n->npath == 0)
			e.field = f;
		return e;
	}

	e.field = f;
	e.node = n;
	e.sql = column_sql(c, f->name);
	if (f->type == MV_FIELD_ARRAY && n->npath == 1 && n->path[0].is_index)
	{
		char		num[16];

		if (n->path[0].index == PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("array index %d is out of range", n->path[0].index),
					 ERRPOS(c, n)));
		/* Milvus counts from 0, PostgreSQL from 1 */
		snprintf(num, sizeof(num), "%d", n->path[0].index);
		e.sql = psprintf("(%s)[(%s)::integer + 1]", e.sql, add_param_str(c, num));
		e.dom = field_dom(f->element_type);
		e.pgtype = e.dom == D_INT ? sql_type(f->element_type) : NULL;
		return e;
	}
	if (n->npath > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 f->type == MV_FIELD_ARRAY ?
				 errmsg("field \"%s\" (ARRAY) takes one numeric index, as in %s[0]", f->name, f->name) :
				 errmsg("field \"%s\" (%s) has no elements or keys", f->name, field_type_name(f->type)),
				 ERRPOS(c, n)));
	e.dom = field_dom(f->type);
	e.elem = f->element_type;
	e.pgtype = e.dom == D_INT ? sql_type(f->type) : NULL;
	return e;
}

/*
 * Operators
 */

static const char *
sql_op(MvFilterOp op)
{
	switch (op)
	{
		case MVF_OP_EQ:
			return "=";
		case MVF_OP_NE:
			return "<>";
		case MVF_OP_LT:
			return "<";
		case MVF_OP_LE:
			return "<=";
		case MVF_OP_GT:
			return ">";
		case MVF_OP_GE:
			return ">=";
		case MVF_OP_ADD:
			return "+";
		case MVF_OP_SUB:
			return "-";
		case MVF_OP_MUL:
			return "*";
		case MVF_OP_DIV:
			return "/";
		case MVF_OP_MOD:
			return "%";
		case MVF_OP_BITAND:
			return "&";
		case MVF_OP_BITOR:
			return "|";
		case MVF_OP_BITXOR:
			return "#";
		default:
			elog(ERROR, "no SQL operator for %d", (int) op);
	}
	return NULL;				/* keep compiler quiet */
}

/* The operator as Milvus spells it, for messages */
static const char *
milvus_op(MvFilterOp op)
{
	switch (op)
	{
		case MVF_OP_EQ:
			return "==";
		case MVF_OP_NE:
			return "!=";
		case MVF_OP_POW:
			return "**";
		case MVF_OP_BITXOR:
			return "^";
		case MVF_OP_NEG:
			return "-";
		case MVF_OP_PLUS:
			return "+";
		default:
			return sql_op(op);
	}
}

/* The domain two numeric operands are compared or combined in */
static Dom
numeric_domain(const Operand *a, const Operand *b)
{
	const Operand *lit;
	const Operand *other;

	if (a->dom == D_NUMERIC || b->dom == D_NUMERIC || a->dom == D_JSON || b->dom == D_JSON)
		return D_NUMERIC;
	if (a->dom == D_INT && b->dom == D_INT)
		return D_INT;
	if (a->dom == D_REAL && b->dom == D_REAL)
		return D_REAL;
	/* a FLOAT field against a literal compares in float32, as Milvus does */
	lit = a->literal ? a : b->literal ? b : NULL;
	other = lit == a ? b : a;
	if (lit && other->dom == D_REAL && fits_real(lit))
		return D_REAL;
	return D_DOUBLE;
}

/* An element type's domain accepts a literal: return false if not */
static bool
element_accepts(MvFieldType elem, const Operand *v)
{
	if (!v->literal)
		return false;
	switch (elem)
	{
		case MV_FIELD_BOOL:
			return v->node->kind == MVF_BOOL;
		case MV_FIELD_VARCHAR:
			return v->node->kind == MVF_STRING;
		case MV_FIELD_INT8:
		case MV_FIELD_INT16:
		case MV_FIELD_INT32:
		case MV_FIELD_INT64:
			return v->node->kind == MVF_INT;
		case MV_FIELD_FLOAT:
		case MV_FIELD_DOUBLE:
			return v->node->kind == MVF_INT || v->node->kind == MVF_FLOAT;
		default:
			return false;
	}
}

/* Check that an ARRAY field's elements can hold a literal */
static void
check_element(Compiler *c, const Operand *arr, const Operand *v)
{
	MvFieldType elem = arr->field->element_type;
	bool		in_range = true;

	if (!element_accepts(elem, v))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s cannot hold %s", describe(arr), describe(v)),
				 ERRPOS(c, v->node)));
	if (elem == MV_FIELD_INT8 || elem == MV_FIELD_INT16)
		in_range = v->node->ival >= PG_INT16_MIN && v->node->ival <= PG_INT16_MAX;
	else if (elem == MV_FIELD_INT32)
		in_range = v->node->ival >= PG_INT32_MIN && v->node->ival <= PG_INT32_MAX;
	else if (elem == MV_FIELD_FLOAT)
		in_range = fits_real(v);
	if (!in_range)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range for the elements of %s", describe(arr)),
				 ERRPOS(c, v->node)));
}

/*
 * The array type of an ARRAY field's column, as the collection API creates
 * it: VARCHAR(n) elements make character varying[], which @> and && accept
 * only against character varying[] (text[] would need a cast of the column,
 * and then a GIN index on it would not serve the test).
 */
static const char *
element_array_type(MvFieldType elem)
{
	return elem == MV_FIELD_VARCHAR ? "character varying" : sql_type(elem);
}

/* An array of literals in an ARRAY field's element type, range-checked */
static char *
element_array(Compiler *c, const Operand *arr, const Operand *values, int nvalues)
{
	int			i;

	for (i = 0; i < nvalues; i++)
		check_element(c, arr, &values[i]);
	return array_param(c, values, nvalues, false, element_array_type(arr->field->element_type));
}

/* col @> {"k1": {"k2": value}}: a GIN-servable consequence of path == value */
static char *
containment_hint(const Operand *path, const char *value)
{
	char	   *obj = (char *) value;
	int			i;

	for (i = path->nkeys - 1; i >= 0; i--)
		obj = psprintf("jsonb_build_object(%s, %s)", path->keys[i], obj);
	return psprintf("%s @> %s", path->json_column, obj);
}

static void pg_attribute_noreturn()
compare_error(Compiler *c, const MvFilterNode *at, MvFilterOp op, const Operand *l, const Operand *r)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("cannot compare %s with %s using \"%s\"", describe(l), describe(r),
					milvus_op(op)),
			 ERRPOS(c, at)));
}

/* l op r, with Milvus's typing */
static Operand
compare(Compiler *c, const MvFilterNode *at, MvFilterOp op, const Operand *l, const Operand *r)
{
	bool		equality = (op == MVF_OP_EQ || op == MVF_OP_NE);
	const Operand *json = l->dom == D_JSON ? l : r->dom == D_JSON ? r : NULL;
	const Operand *other = json == l ? r : l;
	const char *o = sql_op(op);
	char	   *cmp;
	Dom			d;

	/* an ARRAY field against a list, or a JSON value against a list */
	if (l->dom == D_LIST || r->dom == D_LIST)
	{
		const Operand *list = l->dom == D_LIST ? l : r;
		const Operand *x = list == l ? r : l;

		if (!equality || !all_literal(list))
			compare_error(c, at, op, l, r);
		if (x->dom == D_ARRAY)
			return bool_expr(at, psprintf("(%s %s %s)", x->sql, o,
										  element_array(c, x, list->elems, list->nelems)));
		if (x->dom == D_JSON)
			return bool_expr(at, json_answer(psprintf("(%s %s %s)", x->sql, o,
													  list_jsonb(c, list)), true, op));
		compare_error(c, at, op, l, r);
	}
	if (l->dom == D_ARRAY || r->dom == D_ARRAY)
		compare_error(c, at, op, l, r);

	/* JSON: == and != compare jsonb values, the others typed values */
	if (json && equality && other->dom != D_NUMERIC)
	{
		const char *x = as_dom(c, other, D_JSON);

		cmp = json_answer(psprintf("(%s %s %s)", json->sql, o, x), true, op);
		if (op == MVF_OP_EQ && json->json_column && other->literal)
			cmp = psprintf("(%s AND %s)", containment_hint(json, x), cmp);
		return bool_expr(at, cmp);
	}
	if (json && other->dom == D_JSON)
	{
		/* two JSON values: both numbers or both strings */
		cmp = psprintf("(CASE WHEN jsonb_typeof(%s) = 'number' AND jsonb_typeof(%s) = 'number'"
					   " THEN (%s)::numeric %s (%s)::numeric"
					   " WHEN jsonb_typeof(%s) = 'string' AND jsonb_typeof(%s) = 'string'"
					   " THEN (%s #>> '{}') %s (%s #>> '{}') ELSE false END)",
					   l->sql, r->sql, l->sql, o, r->sql,
					   l->sql, r->sql, l->sql, o, r->sql);
		return bool_expr(at, cmp);
	}
	if (json)
	{
		if (is_numeric(other->dom))
			d = D_NUMERIC;
		else if (other->dom == D_TEXT)
			d = D_TEXT;
		else if (other->dom == D_BOOL && equality)
			d = D_BOOL;
		else
			compare_error(c, at, op, l, r);
	}
	else if (is_numeric(l->dom) && is_numeric(r->dom))
		d = numeric_domain(l, r);
	else if (l->dom == D_TEXT && r->dom == D_TEXT)
		d = D_TEXT;
	else if (l->dom == D_BOOL && r->dom == D_BOOL && equality)
		d = D_BOOL;
	else
		compare_error(c, at, op, l, r);

	cmp = psprintf("(%s %s %s)", as_dom(c, l, d), o, as_dom(c, r, d));
	return bool_expr(at, json_answer(cmp, json || l->json || r->json, op));
}

static Operand
emit_compare(Compiler *c, const MvFilterNode *n)
{
	Operand		l = emit(c, n->children[0]);
	Operand		r = emit(c, n->children[1]);

	return compare(c, n, n->op, &l, &r);
}

/* lower op x op2 upper: two comparisons sharing x */
static Operand
emit_range(Compiler *c, const MvFilterNode *n)
{
	Operand		lower = emit(c, n->children[0]);
	Operand		x = emit(c, n->children[1]);
	Operand		upper = emit(c, n->children[2]);
	Operand		a = compare(c, n, n->op, &lower, &x);
	Operand		b = compare(c, n->children[1], n->op2, &x, &upper);

	return bool_expr(n, psprintf("(%s AND %s)", a.sql, b.sql));
}

/* An integer operand as bigint */
static const char *
int64_operand(Compiler *c, const Operand *e)
{
	if (e->literal || (e->pgtype && strcmp(e->pgtype, "bigint") == 0))
		return as_dom(c, e, D_INT);
	return psprintf("(%s)::bigint", e->sql);
}

static Operand
emit_arith(Compiler *c, const MvFilterNode *n)
{
	Operand		l = emit(c, n->children[0]);
	Operand		r = emit(c, n->children[1]);
	Operand		e = {0};
	bool		bitwise = (n->op == MVF_OP_BITAND || n->op == MVF_OP_BITOR ||
						   n->op == MVF_OP_BITXOR);
	const Operand *bad = NULL;
	Dom			d;

	if (!is_numeric(l.dom) && l.dom != D_JSON)
		bad = &l;
	else if (!is_numeric(r.dom) && r.dom != D_JSON)
		bad = &r;
	else if (bitwise && l.dom != D_INT)
		bad = &l;
	else if (bitwise && r.dom != D_INT)
		bad = &r;
	if (bad)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("operator \"%s\" cannot be applied to %s", milvus_op(n->op), describe(bad)),
				 bitwise ? errhint("Bitwise operators take integer operands.") : 0,
				 ERRPOS(c, n)));

	if ((n->op == MVF_OP_DIV || n->op == MVF_OP_MOD) && r.literal && literal_value(&r) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DIVISION_BY_ZERO),
				 errmsg("division by zero"),
				 ERRPOS(c, n->children[1])));

	d = numeric_domain(&l, &r);
	if (n->op == MVF_OP_POW && d != D_NUMERIC)
		d = D_DOUBLE;
	if (n->op == MVF_OP_MOD && (d == D_REAL || d == D_DOUBLE))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("operator \"%%\" cannot be applied to %s",
						describe(l.dom == D_INT ? &r : &l)),
				 errhint("The remainder is defined for integers only."),
				 ERRPOS(c, n)));

	e.dom = d;
	e.node = n;
	e.pgtype = d == D_INT ? "bigint" : NULL;
	e.json = l.json || r.json || l.dom == D_JSON || r.dom == D_JSON;
	if (n->op == MVF_OP_POW)
		e.sql = psprintf("power(%s, %s)", as_dom(c, &l, d), as_dom(c, &r, d));
	else if (d == D_INT)
		/* integer arithmetic in 64 bits, as Milvus does */
		e.sql = psprintf("(%s %s %s)", int64_operand(c, &l), sql_op(n->op), int64_operand(c, &r));
	else
		e.sql = psprintf("(%s %s %s)", as_dom(c, &l, d), sql_op(n->op), as_dom(c, &r, d));
	return e;
}

static Operand
emit_unary(Compiler *c, const MvFilterNode *n)
{
	Operand		x = emit(c, n->children[0]);
	Operand		e = {0};

	if (n->op == MVF_OP_NOT)
	{
		if (x.dom != D_BOOL && x.dom != D_JSON)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("operator \"not\" cannot be applied to %s", describe(&x)),
					 errhint("\"not\" binds tighter than comparisons, as in Milvus: write not (a == 1), not not a == 1."),
					 ERRPOS(c, n)));
		return bool_expr(n, psprintf("(NOT %s)", as_condition(c, &x, "the operand of not")));
	}
	if (!is_numeric(x.dom) && x.dom != D_JSON)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("operator \"%s\" cannot be applied to %s", milvus_op(n->op), describe(&x)),
				 ERRPOS(c, n)));
	if (n->op == MVF_OP_PLUS && x.dom != D_JSON)
		return x;
	e.dom = x.dom == D_JSON ? D_NUMERIC : x.dom;
	e.node = n;
	e.json = x.json || x.dom == D_JSON;
	e.pgtype = x.literal ? "bigint" : x.pgtype;
	if (n->op == MVF_OP_PLUS)
		e.sql = as_dom(c, &x, D_NUMERIC);
	else
		e.sql = psprintf("(- %s)", as_dom(c, &x, e.dom));
	return e;
}

/* x [not] in [list] */
static Operand
emit_in(Compiler *c, const MvFilterNode *n)
{
	Operand		x = emit(c, n->children[0]);
	Operand		list = emit(c, n->children[1]);
	char	   *cmp;
	Dom			d;
	int			i;

	if (list.dom != D_LIST)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the right side of \"in\" must be a list, not %s", describe(&list)),
				 ERRPOS(c, n->children[1])));
	for (i = 0; i < list.nelems; i++)
		if (!all_literal(&list.elems[i]))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the list after \"in\" must hold literal values"),
					 ERRPOS(c, list.elems[i].node)));

	/* not in is <> ALL; unknown (a JSON value of another type) is false for in */
	if (x.dom == D_JSON)
		return bool_expr(n, psprintf("COALESCE(%s %s (%s), %s)", x.sql,
									 n->negated ? "<> ALL" : "= ANY",
									 array_param(c, list.elems, list.nelems, true, "jsonb"),
									 n->negated ? "true" : "false"));

	/* Milvus takes a whole ARRAY field in [] (nothing) and not in [] (not NULL) */
	if (x.dom == D_ARRAY && list.nelems == 0)
		return bool_expr(n, psprintf("(CASE WHEN %s IS NULL THEN NULL ELSE %s END)", x.sql,
									 n->negated ? "true" : "false"));
	if (!is_numeric(x.dom) && x.dom != D_TEXT && x.dom != D_BOOL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("operator \"in\" cannot be applied to %s", describe(&x)),
				 ERRPOS(c, n)));

	/* every element must be comparable with x; the domain is the widest */
	d = x.dom;
	for (i = 0; i < list.nelems; i++)
	{
		Operand	   *v = &list.elems[i];

		if (is_numeric(x.dom) && is_numeric(v->dom) && v->literal)
		{
			Dom			vd = numeric_domain(&x, v);

			if (d == D_INT || (d == D_REAL && vd != D_REAL) || vd == D_NUMERIC)
				d = vd;
		}
		else if (!v->literal || v->dom != x.dom || x.dom == D_ARRAY)
			compare_error(c, v->node, MVF_OP_EQ, &x, v);
	}
	if (list.nelems == 0 && !x.json)
	{
		/* = ANY ('{}') is false even for NULL: keep NULL unknown, as elsewhere */
		cmp = psprintf("(CASE WHEN %s IS NULL THEN NULL ELSE %s END)", as_dom(c, &x, d),
					   n->negated ? "true" : "false");
		return bool_expr(n, cmp);
	}
	cmp = psprintf("(%s %s (%s))",
				   x.literal || x.dom != d ? as_dom(c, &x, d) : x.sql,
				   n->negated ? "<> ALL" : "= ANY",
				   array_param(c, list.elems, list.nelems, false, dom_type(d)));
	if (x.json)
		cmp = psprintf("COALESCE(%s, %s)", cmp, n->negated ? "true" : "false");
	return bool_expr(n, cmp);
}

/* Fail unless a like pattern ends properly (PostgreSQL would, at run time) */
static void
check_pattern(Compiler *c, const MvFilterNode *at, const char *s, int len)
{
	int			i;

	for (i = 0; i < len; i++)
		if (s[i] == '\\' && ++i == len)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_ESCAPE_SEQUENCE),
					 errmsg("like pattern must not end with the escape character"),
					 errhint("Write \\\\\\\\ in the filter for a literal backslash in a pattern."),
					 ERRPOS(c, at)));
}

static Operand
emit_like(Compiler *c, const MvFilterNode *n)
{
	Operand		x = emit(c, n->children[0]);
	Operand		pattern = emit(c, n->children[1]);

	if (!pattern.literal || pattern.node->kind != MVF_STRING)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the pattern of \"like\" must be a string, not %s", describe(&pattern)),
				 ERRPOS(c, n->children[1])));
	check_pattern(c, pattern.node, pattern.node->str, pattern.node->len);
	if (x.dom != D_TEXT && x.dom != D_JSON)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("operator \"like\" cannot be applied to %s", describe(&x)),
				 ERRPOS(c, n)));
	return bool_expr(n, json_answer(psprintf("(%s LIKE %s)", as_dom(c, &x, D_TEXT), pattern.sql),
									x.json || x.dom == D_JSON, MVF_OP_EQ));
}

static Operand
emit_isnull(Compiler *c, const MvFilterNode *n)
{
	const MvFilterNode *f = n->children[0];
	Operand		x = emit(c, f);
	char	   *sql;

	/*
	 * A JSON path or a dynamic key is null when missing or JSON null; a whole
	 * column (a JSON field, $meta) only when it is SQL NULL, as in Milvus.
	 */
	if (x.dom == D_JSON &&
		(f->npath > 0 || (x.field == NULL && strcmp(f->str, "$meta") != 0)))
		sql = psprintf("COALESCE(%s = 'null'::jsonb, true)", x.sql);
	else
		sql = psprintf("(%s IS NULL)", x.sql);
	return bool_expr(n, n->negated ? psprintf("(NOT %s)", sql) : sql);
}

static Operand
emit_exists(Compiler *c, const MvFilterNode *n)
{
	const MvFilterNode *arg = n->children[0];
	Operand		x;
	char	   *sql;

	if (arg->kind != MVF_FIELD)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("\"exists\" takes a JSON field path, as in exists meta[\"key\"]"),
				 ERRPOS(c, arg)));
	x = emit(c, arg);
	if (x.dom != D_JSON || x.field != NULL ||
		(arg->npath == 0 && strcmp(arg->str, "$meta") == 0))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("\"exists\" takes a JSON field path, not %s", describe(&x)),
				 ERRPOS(c, arg)));
	sql = psprintf("(%s IS NOT NULL)", x.sql);
	if (x.json_column && x.nkeys == 1)
		sql = psprintf("(%s ? %s AND %s)", x.json_column, x.keys[0], sql);
	return bool_expr(n, sql);
}

/*
 * EXISTS an element of JSON array p that passes test ("= v", "= ANY (..)"):
 * exact for lists and objects, and for scalars what p @> [v] means
 */
static char *
json_has_element(Compiler *c, const Operand *p, const char *test)
{
	/* the alias has a space, so no field name can be shadowed by it */
	return psprintf("EXISTS (SELECT FROM jsonb_array_elements(CASE WHEN jsonb_typeof(%s) = 'array'"
					" THEN %s END) AS \"mv element\"(\"mv value\") WHERE \"mv value\" %s)",
					p->sql, p->sql, test);
}

/* json_contains*, array_contains* */
static Operand
emit_contains(Compiler *c, const MvFilterNode *n)
{
	Operand		x = emit(c, n->children[0]);
	Operand		v = emit_value(c, n->children[1]);
	const char *name = n->func == MVF_FN_JSON_CONTAINS || n->func == MVF_FN_ARRAY_CONTAINS ?
		"contains" : n->func == MVF_FN_JSON_CONTAINS_ALL || n->func == MVF_FN_ARRAY_CONTAINS_ALL ?
		"contains_all" : "contains_any";
	bool		single = strcmp(name, "contains") == 0;
	bool		any = strcmp(name, "contains_any") == 0;
	const Operand *values = single ? &v : v.elems;
	int			nvalues = single ? 1 : v.nelems;
	StringInfoData buf;
	int			i;

	if (x.dom != D_ARRAY && x.dom != D_JSON)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the first argument of %s must be an ARRAY or JSON field, not %s",
						n->func <= MVF_FN_JSON_CONTAINS_ANY ? "json_contains" : "array_contains",
						describe(&x)),
				 ERRPOS(c, n->children[0])));
	if (single ? !all_literal(&v) : v.dom != D_LIST || !all_literal(&v))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the second argument of %s_%s must be %s, not %s",
						n->func <= MVF_FN_JSON_CONTAINS_ANY ? "json" : "array", name,
						single ? "a literal value" : "a list of literal values", describe(&v)),
				 ERRPOS(c, n->children[1])));

	if (x.dom == D_ARRAY)
	{
		if (single && v.dom == D_LIST)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("%s cannot hold %s", describe(&x), describe(&v)),
					 ERRPOS(c, n->children[1])));
		return bool_expr(n, psprintf("(%s %s %s)", x.sql, any ? "&&" : "@>",
									 element_array(c, &x, values, nvalues)));
	}

	/*
	 * JSON: containment of [scalar] is exact for scalars (no nested match),
	 * lists and objects need an element-wise equality test
	 */
	initStringInfo(&buf);
	if (any)
	{
		/* any element of x in one array of the values (hashed when long) */
		appendStringInfo(&buf, "%s", json_has_element(c, &x,
													  psprintf("= ANY (%s)",
															   array_param(c, values, nvalues, true, "jsonb"))));
	}
	else
	{
		Operand		scalars = {0};

		/* the scalars as one JSON array */
		scalars.dom = D_LIST;
		scalars.elems = palloc(sizeof(Operand) * Max(nvalues, 1));
		for (i = 0; i < nvalues; i++)
			if (values[i].literal)
				scalars.elems[scalars.nelems++] = values[i];
		appendStringInfo(&buf, "COALESCE(%s @> %s, false)", x.sql, list_jsonb(c, &scalars));
		for (i = 0; i < nvalues; i++)
			if (!values[i].literal)
				appendStringInfo(&buf, " AND %s",
								 json_has_element(c, &x, psprintf("= %s", as_dom(c, &values[i], D_JSON))));
	}
	return bool_expr(n, psprintf("(%s)", buf.data));
}

static Operand
emit_call(Compiler *c, const MvFilterNode *n)
{
	Operand		x;
	Operand		e = {0};

	if (n->func != MVF_FN_ARRAY_LENGTH)
		return emit_contains(c, n);

	x = emit(c, n->children[0]);
	e.dom = D_INT;
	e.pgtype = "integer";
	e.node = n;
	if (x.dom == D_ARRAY)
		e.sql = psprintf("cardinality(%s)", x.sql);
	else if (x.dom == D_JSON)
	{
		e.sql = psprintf("(CASE WHEN jsonb_typeof(%s) = 'array' THEN jsonb_array_length(%s) END)",
						 x.sql, x.sql);
		e.json = true;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("array_length takes an ARRAY or JSON field, not %s", describe(&x)),
				 ERRPOS(c, n->children[0])));
	return e;
}

/*
 * Chains of comparisons of one field with literals
 *
 * In an or chain, field == literal terms of one field are one term
 * "field in [literals]", and in an and chain field != literal terms are
 * "field not in [literals]": one = ANY / <> ALL of one parameter instead of a
 * reference to $1 per term, which the planner would copy whole for each.  The
 * truth values are the same, NULL included (x = ANY ('{1,2}') is NULL when x
 * is, as x = 1 OR x = 2 is), and so for a JSON value of another type; only
 * terms that compare in the same domain are merged (a FLOAT field compares
 * with 0.1 in real, with 1e300 in double).  A term the merge cannot take
 * compiles as it would alone, in its place.
 */

/* A term of a chain that may be merged: its field and its literal */
typedef struct ChainTerm
{
	int			index;			/* among the chain's operands */
	const char *key;			/* the field and its path, as one string */
	int			keylen;
	int			dom;			/* the comparison's domain, or -1: not merged */
	const MvFilterNode *field;
	const MvFilterNode *value;
} ChainTerm;

/* The domain of a field node, if a comparison of it may be merged; else -1 */
static int
merge_field_dom(Compiler *c, const MvFilterNode *n)
{
	const MvFilterField *f;

	if (strcmp(n->str, "$meta") == 0)
		return c->schema->dynamic_field ? D_JSON : -1;
	f = find_field(c->schema, n->str);
	if (f == NULL)
		return c->schema->dynamic_field ? D_JSON : -1;
	if (f->type == MV_FIELD_JSON)
		return D_JSON;
	if (f->type == MV_FIELD_ARRAY && n->npath == 1 && n->path[0].is_index &&
		n->path[0].index != PG_INT32_MAX)
		return field_dom(f->element_type);
	if (n->npath > 0 || f->type == MV_FIELD_VECTOR || f->type == MV_FIELD_ARRAY)
		return -1;
	return field_dom(f->type);
}

/* The domain field == value compares in, as compare() picks it, or -1 */
static int
merge_dom(Compiler *c, const MvFilterNode *field, const MvFilterNode *value)
{
	Operand		x = {0};
	Operand		v = literal_operand(value);
	int			d = merge_field_dom(c, field);

	if (d < 0 || d == D_JSON)
		return d;
	x.dom = (Dom) d;
	if (is_numeric(x.dom) && is_numeric(v.dom))
		return numeric_domain(&x, &v);
	if (x.dom == v.dom && (x.dom == D_TEXT || x.dom == D_BOOL))
		return d;
	return -1;
}

/* A template's value, if it is a scalar: a template of a list is not merged */
static const MvFilterNode *
scalar_template(Compiler *c, const MvFilterNode *t)
{
	JsonbValue *v = NULL;

	if (c->params_json)
		v = getKeyJsonValueFromContainer(&c->params_json->root, t->str, t->len, NULL);
	if (v == NULL || (v->type != jbvString && v->type != jbvBool && v->type != jbvNumeric))
		return NULL;
	return resolve_template(c, t);
}

/* field op literal (either way round; a template may be the literal) */
static bool
chain_term(Compiler *c, const MvFilterNode *n, MvFilterOp op, ChainTerm *t, MemoryContext key_cxt)
{
	MemoryContext old;
	const MvFilterNode *field;
	const MvFilterNode *value;
	StringInfoData key;
	int			i;

	if (n->kind != MVF_COMPARE || n->op != op)
		return false;
	field = n->children[0];
	value = n->children[1];
	if (field->kind != MVF_FIELD)
	{
		field = n->children[1];
		value = n->children[0];
	}
	if (field->kind != MVF_FIELD)
		return false;
	if (value->kind == MVF_TEMPLATE && (value = scalar_template(c, value)) == NULL)
		return false;
	if (value->kind != MVF_INT && value->kind != MVF_FLOAT &&
		value->kind != MVF_STRING && value->kind != MVF_BOOL)
		return false;
	t->dom = merge_dom(c, field, value);
	if (t->dom < 0)
		return false;

	/* the name, then each step as \0i<index> or \0k<length>:<key> */
	old = MemoryContextSwitchTo(key_cxt);
	initStringInfo(&key);
	appendStringInfoString(&key, field->str);
	for (i = 0; i < field->npath; i++)
	{
		appendStringInfoChar(&key, '\0');
		if (field->path[i].is_index)
			appendStringInfo(&key, "i%d", field->path[i].index);
		else
		{
			appendStringInfo(&key, "k%d:", field->path[i].keylen);
			appendBinaryStringInfo(&key, field->path[i].key, field->path[i].keylen);
		}
	}
	MemoryContextSwitchTo(old);
	t->key = key.data;
	t->keylen = key.len;
	t->field = field;
	t->value = value;
	return true;
}

/* Whether two terms compare one field in one domain */
static bool
same_merge(const ChainTerm *x, const ChainTerm *y)
{
	return x->keylen == y->keylen && memcmp(x->key, y->key, x->keylen) == 0 && x->dom == y->dom;
}

/* Order terms by field, domain, then place in the chain */
static int
chain_term_cmp(const void *a, const void *b)
{
	const ChainTerm *x = a;
	const ChainTerm *y = b;
	int			r = memcmp(x->key, y->key, Min(x->keylen, y->keylen));

	if (r != 0)
		return r;
	if (x->keylen != y->keylen)
		return x->keylen < y->keylen ? -1 : 1;
	if (x->dom != y->dom)
		return x->dom < y->dom ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Plan the merges of a chain: merged[i] is, for an operand that leads a
 * merge, the synthetic in node that replaces it; for one merged into an
 * earlier operand, the chain itself (skip it); else NULL
 */
static const MvFilterNode **
plan_merges(Compiler *c, const MvFilterNode *n)
{
	MvFilterOp	op = n->kind == MVF_OR ? MVF_OP_EQ : MVF_OP_NE;
	const MvFilterNode **merged = palloc0(sizeof(MvFilterNode *) * n->nchildren);
	ChainTerm  *terms = palloc(sizeof(ChainTerm) * n->nchildren);
	int			nterms = 0;
	MemoryContext key_cxt;
	int			i;
	int			j;

	/* the keys are needed only here; the nodes (templates' too) outlive it */
	key_cxt = AllocSetContextCreate(CurrentMemoryContext, "milvus filter merge",
									ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < n->nchildren; i++)
	{
		CHECK_FOR_INTERRUPTS();
		terms[nterms].index = i;
		if (chain_term(c, n->children[i], op, &terms[nterms], key_cxt))
			nterms++;
	}
	qsort(terms, nterms, sizeof(ChainTerm), chain_term_cmp);
	for (i = 0; i < nterms; i = j)
	{
		MvFilterNode *in;
		MvFilterNode *list;
		int			k;

		for (j = i + 1; j < nterms && same_merge(&terms[i], &terms[j]); j++)
			;
		if (j - i < 2)
			continue;
		list = palloc0(sizeof(MvFilterNode));
		list->kind = MVF_LIST;
		list->position = terms[i].value->position;
		list->nchildren = j - i;
		list->children = palloc(sizeof(MvFilterNode *) * (j - i));
		for (k = i; k < j; k++)
		{
			list->children[k - i] = (MvFilterNode *) terms[k].value;
			merged[terms[k].index] = n;
		}
		in = palloc0(sizeof(MvFilterNode));
		in->kind = MVF_IN;
		in->negated = op == MVF_OP_NE;
		in->position = n->children[terms[i].index]->position;
		in->nchildren = 2;
		in->children = palloc(sizeof(MvFilterNode *) * 2);
		in->children[0] = (MvFilterNode *) terms[i].field;
		in->children[1] = list;
		merged[terms[i].index] = in;
	}
	MemoryContextDelete(key_cxt);
	pfree(terms);
	return merged;
}

/*
 * An n-ary and / or.  A generated filter is mostly one long chain of these,
 * so each operand is compiled in a context of its own that is emptied once
 * its condition is copied out: what the chain keeps is its SQL, not the
 * intermediate strings of every operand.
 */
static Operand
emit_logic(Compiler *c, const MvFilterNode *n)
{
	StringInfoData buf;
	MemoryContext operand_cxt;
	MemoryContext old;
	const MvFilterNode **merged = plan_merges(c, n);
	bool		first = true;
	int			i;

	operand_cxt = AllocSetContextCreate(CurrentMemoryContext, "milvus filter operand",
										ALLOCSET_SMALL_SIZES);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (i = 0; i < n->nchildren; i++)
	{
		Operand		x;

		if (merged[i] == n)
			continue;
		old = MemoryContextSwitchTo(operand_cxt);
		x = emit(c, merged[i] ? merged[i] : n->children[i]);
		MemoryContextSwitchTo(old);
		appendStringInfo(&buf, "%s%s", first ? "" : (n->kind == MVF_AND ? " AND " : " OR "),
						 as_condition(c, &x, n->kind == MVF_AND ? "an operand of and" : "an operand of or"));
		first = false;
		MemoryContextReset(operand_cxt);
	}
	MemoryContextDelete(operand_cxt);
	pfree(merged);
	appendStringInfoChar(&buf, ')');
	return bool_expr(n, buf.data);
}

static Operand
emit_list(Compiler *c, const MvFilterNode *n)
{
	Operand		e = {0};
	int			i;

	e.dom = D_LIST;
	e.node = n;
	e.nelems = n->nchildren;
	e.elems = palloc0(sizeof(Operand) * Max(n->nchildren, 1));
	for (i = 0; i < n->nchildren; i++)
	{
		CHECK_FOR_INTERRUPTS();
		e.elems[i] = emit_value(c, n->children[i]);
		if (!e.elems[i].literal && e.elems[i].dom != D_LIST)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a list must hold literal values, not %s", describe(&e.elems[i])),
					 ERRPOS(c, n->children[i])));
	}
	return e;
}

/*
 * Templates: {name} takes its value from filter_params
 */

static MvFilterNode *template_value(Compiler *c, const MvFilterNode *t, JsonbValue *v);

static MvFilterNode *
template_node(const MvFilterNode *t, MvFilterKind kind)
{
	MvFilterNode *n = palloc0(sizeof(MvFilterNode));

	n->kind = kind;
	n->position = t->position;
	n->depth = 1;
	return n;
}

static MvFilterNode *
template_value(Compiler *c, const MvFilterNode *t, JsonbValue *v)
{
	MvFilterNode *n;

	check_stack_depth();
	switch (v->type)
	{
		case jbvString:
			n = template_node(t, MVF_STRING);
			n->str = pnstrdup(v->val.string.val, v->val.string.len);
			n->len = v->val.string.len;
			return n;
		case jbvBool:
			n = template_node(t, MVF_BOOL);
			n->bval = v->val.boolean;
			return n;
		case jbvNumeric:
			{
				char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out,
																	   NumericGetDatum(v->val.numeric)));
				char	   *end;

				/* 25 is an integer, 25.0 a float, as in the JSON Milvus's clients send */
				if (strchr(text, '.') == NULL)
				{
					n = template_node(t, MVF_INT);
					errno = 0;
					n->ival = strtoi64(text, &end, 10);
					if (errno == 0 && *end == '\0')
						return n;
				}
				else
				{
					n = template_node(t, MVF_FLOAT);
					n->fval = strtod(text, &end);
					if (!isinf(n->fval))
						return n;
				}
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("value of template variable \"%s\" is out of range", t->str),
						 ERRPOS(c, t)));
			}
			break;
		case jbvBinary:
			if (JsonContainerIsArray(v->val.binary.data))
			{
				JsonbContainer *array = v->val.binary.data;
				int			count = JsonContainerSize(array);
				int			i;

				n = template_node(t, MVF_LIST);
				n->nchildren = count;
				n->children = palloc0(sizeof(MvFilterNode *) * Max(count, 1));
				for (i = 0; i < count; i++)
					n->children[i] = template_value(c, t, getIthJsonbValueFromContainer(array, i));
				return n;
			}
			break;
		default:
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("value of template variable \"%s\" must be a number, a string, a boolean or an array",
					t->str),
			 ERRPOS(c, t)));
	return NULL;				/* keep compiler quiet */
}

/* The tree of a template's value */
static MvFilterNode *
resolve_template(Compiler *c, const MvFilterNode *t)
{
	JsonbValue *v = NULL;

	if (c->params_json)
		v = getKeyJsonValueFromContainer(&c->params_json->root, t->str, t->len, NULL);
	if (v == NULL || v->type == jbvNull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("template variable \"%s\" has no value", t->str),
				 ERRPOS(c, t),
				 errhint("Pass its value in filter_params, as {\"%s\": ...}.", t->str)));
	return template_value(c, t, v);
}

static Operand
emit_template(Compiler *c, const MvFilterNode *t)
{
	return emit(c, resolve_template(c, t));
}

/*
 * Compile a value: a literal is not made a parameter yet, so that a list of
 * them becomes one parameter; anything else as emit does
 */
static Operand
emit_value(Compiler *c, const MvFilterNode *n)
{
	switch (n->kind)
	{
		case MVF_INT:
		case MVF_FLOAT:
		case MVF_STRING:
		case MVF_BOOL:
			return literal_operand(n);
		case MVF_TEMPLATE:
			return emit_value(c, resolve_template(c, n));
		default:
			return emit(c, n);
	}
}

/* Compile one node */
static Operand
emit(Compiler *c, const MvFilterNode *n)
{
	check_stack_depth();
	CHECK_FOR_INTERRUPTS();

	switch (n->kind)
	{
		case MVF_INT:
		case MVF_FLOAT:
		case MVF_STRING:
		case MVF_BOOL:
			return emit_literal(c, n);
		case MVF_LIST:
			return emit_list(c, n);
		case MVF_TEMPLATE:
			return emit_template(c, n);
		case MVF_FIELD:
			return emit_field(c, n);
		case MVF_UNARY:
			return emit_unary(c, n);
		case MVF_ARITH:
			return emit_arith(c, n);
		case MVF_COMPARE:
			return emit_compare(c, n);
		case MVF_RANGE:
			return emit_range(c, n);
		case MVF_IN:
			return emit_in(c, n);
		case MVF_LIKE:
			return emit_like(c, n);
		case MVF_ISNULL:
			return emit_isnull(c, n);
		case MVF_EXISTS:
			return emit_exists(c, n);
		case MVF_AND:
		case MVF_OR:
			return emit_logic(c, n);
		case MVF_CALL:
			return emit_call(c, n);
	}
	elog(ERROR, "unknown filter node kind %d", (int) n->kind);
	return emit_literal(c, n);	/* keep compiler quiet */
}

/*
 * Public entry points
 */

static void *
palloc_alloc(void *context, size_t size)
{
	return palloc(size);
}

/* An allocator for MvFilterParse that pallocs in CurrentMemoryContext */
const MvFilterAllocator *
MvFilterPallocAllocator(void)
{
	static const MvFilterAllocator allocator = {palloc_alloc, NULL};

	return &allocator;
}

/* Raise the error a failed parse deserves */
void
MvFilterReportParseError(const char *filter, const MvFilterParseResult *r)
{
	int			position = char_position(filter, r->position);

	/* the offending token, cut to at most 40 bytes on a character boundary */
	int			near = pg_mbcliplen(filter + r->position, r->length, 40);

	switch (r->code)
	{
		case MVF_ERR_SYNTAX:
			if (r->length > 0)
				ereport(ERROR,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("syntax error in filter expression at or near \"%.*s\"",
								near, filter + r->position),
						 errdetail("Expected %s at character %d.", r->expected, position)));
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 filter[r->position] ? errmsg("syntax error in filter expression") :
					 errmsg("syntax error at end of filter expression"),
					 errdetail("Expected %s at character %d.", r->expected, position)));
			break;
		case MVF_ERR_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("number out of range in filter expression: \"%.*s\"",
							near, filter + r->position),
					 errdetail("Integers must fit in 64 bits and floating-point numbers in a double; the number is at character %d.",
							   position)));
			break;
		case MVF_ERR_ESCAPE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_ESCAPE_SEQUENCE),
					 errmsg("invalid escape sequence in filter expression"),
					 errdetail("The escape at character %d is not one of \\a \\b \\f \\n \\r \\t \\v \\\\ \\' \\\" \\? \\%% \\_ \\ooo \\xhh \\uhhhh \\Uhhhhhhhh, or it stands for a zero byte or an invalid code point.",
							   position)));
			break;
		case MVF_ERR_UNSUPPORTED:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s is not supported in filter expressions", r->expected),
					 errdetail("At character %d of the filter expression.", position)));
			break;
		case MVF_ERR_TOO_LONG:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("filter expression is too long"),
					 errdetail("The limit is %d bytes.", MV_FILTER_MAX_LENGTH)));
			break;
		case MVF_ERR_TOO_DEEP:
			ereport(ERROR,
					(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
					 errmsg("filter expression is nested too deeply"),
					 errdetail("Parentheses, brackets, calls and prefix operators may nest %d deep, and the expression tree may be %d levels high; the limit was passed at character %d.",
							   MV_FILTER_MAX_NESTING, MV_FILTER_MAX_DEPTH, position)));
			break;
		case MVF_ERR_NO_MEMORY:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
			break;
		case MVF_OK:
			break;
	}
	elog(ERROR, "unexpected filter parse result %d", (int) r->code);
}

static void pg_attribute_noreturn()
schema_error(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid collection schema"),
			 errdetail_internal("%s", detail)));
}

/* A string member of a JSON object, or NULL */
static char *
json_string(JsonbContainer *obj, const char *key, int index)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);

	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type != jbvString)
		schema_error(psprintf("Field %d: \"%s\" must be a string.", index + 1, key));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static MvFieldType
parse_field_type(const char *name, int index)
{
	int			i;

	for (i = 0; i < (int) lengthof(field_types); i++)
		if (pg_strcasecmp(name, field_types[i].name) == 0)
			return field_types[i].type;
	schema_error(psprintf("Field %d: unknown type \"%s\".", index + 1, name));
}

/* Read a schema in Milvus's JSON form */
MvFilterSchema *
MvFilterSchemaFromJsonb(Jsonb *schema)
{
	MvFilterSchema *s = palloc0(sizeof(MvFilterSchema));
	JsonbValue *fields;
	JsonbValue *dynamic;
	int			i;

	if (!JB_ROOT_IS_OBJECT(schema))
		schema_error("The schema must be a JSON object with a \"fields\" array.");
	fields = getKeyJsonValueFromContainer(&schema->root, "fields", 6, NULL);
	if (fields == NULL || fields->type != jbvBinary || !JsonContainerIsArray(fields->val.binary.data))
		schema_error("The schema must be a JSON object with a \"fields\" array.");
	dynamic = getKeyJsonValueFromContainer(&schema->root, "enable_dynamic_field", 20, NULL);
	if (dynamic && dynamic->type != jbvBool && dynamic->type != jbvNull)
		schema_error("\"enable_dynamic_field\" must be a boolean.");
	s->dynamic_field = dynamic && dynamic->type == jbvBool && dynamic->val.boolean;

	s->nfields = JsonContainerSize(fields->val.binary.data);
	s->fields = palloc0(sizeof(MvFilterField) * Max(s->nfields, 1));
	for (i = 0; i < s->nfields; i++)
	{
		JsonbValue *f = getIthJsonbValueFromContainer(fields->val.binary.data, i);
		MvFilterField *field = &s->fields[i];
		char	   *type;
		char	   *element;

		if (f->type != jbvBinary || !JsonContainerIsObject(f->val.binary.data))
			schema_error(psprintf("Field %d is not a JSON object.", i + 1));
		field->name = json_string(f->val.binary.data, "name", i);
		type = json_string(f->val.binary.data, "type", i);
		element = json_string(f->val.binary.data, "element_type", i);
		if (field->name == NULL || type == NULL)
			schema_error(psprintf("Field %d needs a \"name\" and a \"type\".", i + 1));
		if (MvNameCheck(field->name, strlen(field->name)) != MV_NAME_OK)
			schema_error(psprintf("Field name \"%s\" does not follow the rule [A-Za-z_][A-Za-z0-9_]*, at most %d characters.",
								  field->name, MV_NAME_MAX_LENGTH));
		for (int j = 0; j < i; j++)
			if (strcmp(s->fields[j].name, field->name) == 0)
				schema_error(psprintf("Field \"%s\" appears twice.", field->name));
		field->type = parse_field_type(type, i);
		if (field->type == MV_FIELD_ARRAY)
		{
			if (element == NULL)
				schema_error(psprintf("ARRAY field \"%s\" needs an \"element_type\".", field->name));
			field->element_type = parse_field_type(element, i);
			if (field->element_type == MV_FIELD_ARRAY || field->element_type == MV_FIELD_JSON ||
				field->element_type == MV_FIELD_VECTOR)
				schema_error(psprintf("ARRAY field \"%s\" cannot hold %s elements.", field->name, element));
		}
	}
	return s;
}

/* Parse and compile a filter expression */
MvFilterSql *
MvFilterCompile(const char *filter, const MvFilterSchema *schema, Jsonb *filter_params,
				const char *rel_alias)
{
	MvFilterParseResult r = MvFilterParse(filter, MvFilterPallocAllocator());

	if (r.code != MVF_OK)
		MvFilterReportParseError(filter, &r);
	return MvFilterCompileTree(filter, r.root, schema, filter_params, rel_alias);
}

/* Compile a tree MvFilterParse made of filter */
MvFilterSql *
MvFilterCompileTree(const char *filter, const MvFilterNode *tree, const MvFilterSchema *schema,
					Jsonb *filter_params, const char *rel_alias)
{
	MvFilterSql *result = palloc0(sizeof(MvFilterSql));
	Compiler	c = {0};
	Operand		root;
	ListCell   *lc;
	int			i = 0;

	if (filter_params && !JB_ROOT_IS_OBJECT(filter_params))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("filter_params must be a JSON object")));

	c.filter = filter;
	c.schema = schema;
	c.params_json = filter_params;
	c.rel_alias = rel_alias;
	c.cxt = CurrentMemoryContext;
	root = emit(&c, tree);
	result->sql = (char *) as_condition(&c, &root, "a filter expression");
	result->nparams = list_length(c.params);
	result->params = palloc(sizeof(char *) * Max(result->nparams, 1));
	foreach(lc, c.params)
		result->params[i++] = lfirst(lc);
	return result;
}

/* The parameters as a text[] */
Datum
MvFilterParamsArray(const MvFilterSql *compiled)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(compiled->nparams, 1));
	int			i;

	for (i = 0; i < compiled->nparams; i++)
		elems[i] = CStringGetTextDatum(compiled->params[i]);
	return PointerGetDatum(construct_array(elems, compiled->nparams, TEXTOID, -1, false,
										   TYPALIGN_INT));
}
