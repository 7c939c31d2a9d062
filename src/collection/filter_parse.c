/*
 * filter_parse.c
 *		Lexer, recursive-descent parser, printer and tree equality for
 *		Milvus's filter expressions (see milvus/collection.h, doc/filter-expressions.md).
 *
 * The lexer hands out tokens on demand into a three-token window; a token it
 * cannot read becomes an error token, reported when the parser reaches it, so
 * errors come in input order.  The parser has one function per precedence
 * level of Milvus's Plan.g4, loosest first:
 *
 *		or, and, |, ^, &, == !=, < <= > >= (and the chained range a < x < b),
 *		in / not in, << >>, + -, * / %, unary + - ! not, **, like, primaries
 *
 * so `not` binds tighter than a comparison, exactly as in Milvus, and `**` is
 * left-associative.  "and" / "or" chains become one n-ary node, so a long
 * generated `id == 1 or id == 2 or ...` stays a shallow tree.  Failures
 * longjmp back to MvFilterParse with the position and what was expected.
 * Nothing here calls the server, so the fuzz target links this file alone.
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdlib.h>

#include "milvus/collection.h"

/* postgres.h maps these to libpgport's; this file links against libc alone */
#undef snprintf

typedef enum TokKind
{
	T_END,
	T_ERROR,					/* a token the lexer could not read */
	T_INT,
	T_FLOAT,
	T_STRING,
	T_IDENT,
	T_META,						/* $meta */
	T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_LBRACE, T_RBRACE, T_COMMA,
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
	T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT, T_POW,
	T_AND, T_OR, T_NOT,
	T_BITAND, T_BITOR, T_BITXOR, T_BITNOT, T_SHL, T_SHR,
	T_REGEX, T_NOTREGEX, T_ASSIGN,
	T_IN, T_LIKE, T_EXISTS, T_TRUE, T_FALSE
} TokKind;

typedef struct Token
{
	TokKind		kind;
	int			start;			/* byte offset */
	int			length;
	uint64		mag;			/* T_INT: the magnitude, at most 2^63 */
	bool		decimal;		/* T_INT: plain decimal, no leading zero */
	double		fval;			/* T_FLOAT */
	char	   *str;			/* T_STRING: decoded bytes */
	int			len;
	MvFilterCode err;			/* T_ERROR: what went wrong, where, expected */
	int			errpos;
	const char *expected;
} Token;

#define LOOKAHEAD 3

typedef struct Parser
{
	const char *text;
	int			textlen;
	int			pos;			/* lexer position */
	Token		la[LOOKAHEAD];
	int			nla;
	const MvFilterAllocator *allocator;
	char	   *block;			/* where mv_alloc carves small allocations */
	size_t		block_free;
	int			depth;			/* current recursion depth */
	MvFilterParseResult error;
	jmp_buf		fail;
} Parser;

static MvFilterNode *parse_expr(Parser *p);
static MvFilterNode *parse_unary(Parser *p);

/*
 * Allocation and failure
 */

static void pg_attribute_noreturn()
fail(Parser *p, MvFilterCode code, int position, int length, const char *expected)
{
	p->error.code = code;
	p->error.position = position;
	p->error.length = length;
	p->error.expected = expected;
	p->error.root = NULL;
	longjmp(p->fail, 1);
}

/*
 * Small allocations are carved from blocks of MV_ALLOC_BLOCK bytes, so a
 * node costs its size and not the allocator's rounding and header as well.
 * Under AddressSanitizer each is an allocation of its own, so that the fuzz
 * target sees an overrun of any of them.
 */
#define MV_ALLOC_BLOCK			8192
#define MV_ALLOC_BLOCK_LARGEST	1024

#if defined(__SANITIZE_ADDRESS__)
#define MV_ALLOC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MV_ALLOC_SANITIZED 1
#endif
#endif

static void *
mv_alloc_raw(Parser *p, size_t size)
{
	void	   *mem = p->allocator->alloc(p->allocator->context, size);

	if (mem == NULL)
		fail(p, MVF_ERR_NO_MEMORY, 0, 0, NULL);
	return mem;
}

static void *
mv_alloc(Parser *p, size_t size)
{
	void	   *mem;

	size = MAXALIGN(size);
#ifndef MV_ALLOC_SANITIZED
	if (size <= MV_ALLOC_BLOCK_LARGEST)
	{
		if (size > p->block_free)
		{
			p->block = mv_alloc_raw(p, MV_ALLOC_BLOCK);
			p->block_free = MV_ALLOC_BLOCK;
		}
		mem = p->block;
		p->block += size;
		p->block_free -= size;
	}
	else
#endif
		mem = mv_alloc_raw(p, size);
	memset(mem, 0, size);
	return mem;
}

/*
 * The lexer
 */

static inline bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline bool
is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
is_ident_char(char c)
{
	return is_ident_start(c) || is_digit(c);
}

static inline int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ASCII case-insensitive comparison of a token with a lower-case word */
static bool
word_is(const char *s, int len, const char *word)
{
	int			i;

	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (word[i] == '\0' || c != word[i])
			return false;
	}
	return word[len] == '\0';
}

static void
token_error(Token *t, MvFilterCode code, int errpos, const char *expected)
{
	t->kind = T_ERROR;
	t->err = code;
	t->errpos = errpos;
	t->expected = expected;
}

/* Append the UTF-8 encoding of code point cp; false if it is not one */
static bool
append_utf8(char *out, int *n, uint32 cp)
{
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return false;
	if (cp < 0x80)
		out[(*n)++] = (char) cp;
	else if (cp < 0x800)
	{
		out[(*n)++] = (char) (0xC0 | (cp >> 6));
		out[(*n)++] = (char) (0x80 | (cp & 0x3F));
	}
	else if (cp < 0x10000)
	{
		out[(*n)++] = (char) (0xE0 | (cp >> 12));
		out[(*n)++] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[(*n)++] = (char) (0x80 | (cp & 0x3F));
	}
	else
	{
		out[(*n)++] = (char) (0xF0 | (cp >> 18));
		out[(*n)++] = (char) (0x80 | ((cp >> 12) & 0x3F));
		out[(*n)++] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[(*n)++] = (char) (0x80 | (cp & 0x3F));
	}
	return true;
}

/*
 * Read a quoted string starting at the quote; escapes are Go's (what Milvus
 * decodes with strconv.Unquote), plus \% and \_ kept as written for like.
 */
static void
lex_string(Parser *p, Token *t, int i)
{
	const char *s = p->text;
	char		quote = s[i];
	char	   *out;
	int			n = 0;
	int			end = i + 1;

	/*
	 * Decoding never lengthens the text, so the bytes up to the closing quote
	 * are enough (not the rest of the input: that made memory quadratic in the
	 * number of strings).  An escape is at least two bytes and never holds a
	 * quote, so skipping the byte after each backslash finds the same quote.
	 */
	while (s[end] != quote && s[end] != '\0' && s[end] != '\n' && s[end] != '\r')
		end += (s[end] == '\\' && s[end + 1] != '\0') ? 2 : 1;
	out = mv_alloc(p, end - i);
	i++;
	for (;;)
	{
		char		c = s[i];

		if (c == '\0' || c == '\n' || c == '\r')
		{
			token_error(t, MVF_ERR_SYNTAX, i, quote == '"' ? "a closing \"\"\"" : "a closing \"'\"");
			p->pos = i;
			return;
		}
		if (c == quote)
			break;
		if (c != '\\')
		{
			out[n++] = c;
			i++;
			continue;
		}

		/* an escape sequence */
		c = s[i + 1];
		switch (c)
		{
			case 'a':
				out[n++] = '\a';
				break;
			case 'b':
				out[n++] = '\b';
				break;
			case 'f':
				out[n++] = '\f';
				break;
			case 'n':
				out[n++] = '\n';
				break;
			case 'r':
				out[n++] = '\r';
				break;
			case 't':
				out[n++] = '\t';
				break;
			case 'v':
				out[n++] = '\v';
				break;
			case '\\':
			case '\'':
			case '"':
			case '?':
				out[n++] = c;
				break;
			case '%':
			case '_':
				/* a like wildcard taken literally: the pattern keeps the escape */
				out[n++] = '\\';
				out[n++] = c;
				break;
			case 'x':
				{
					int			h1 = hex_value(s[i + 2]);
					int			h2 = h1 < 0 ? -1 : hex_value(s[i + 3]);

					if (h2 < 0 || (h1 == 0 && h2 == 0))
					{
						token_error(t, MVF_ERR_ESCAPE, i, NULL);
						p->pos = i;
						return;
					}
					out[n++] = (char) (h1 * 16 + h2);
					i += 2;
					break;
				}
			case 'u':
			case 'U':
				{
					int			digits = c == 'u' ? 4 : 8;
					uint32		cp = 0;
					int			k;

					for (k = 0; k < digits; k++)
					{
						int			h = hex_value(s[i + 2 + k]);

						if (h < 0)
							break;
						cp = cp * 16 + h;
					}
					if (k < digits || !append_utf8(out, &n, cp))
					{
						token_error(t, MVF_ERR_ESCAPE, i, NULL);
						p->pos = i;
						return;
					}
					i += digits;
					break;
				}
			default:
				if (c >= '0' && c <= '7' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
					s[i + 3] >= '0' && s[i + 3] <= '7')
				{
					int			v = (c - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');

					if (v == 0 || v > 255)
					{
						token_error(t, MVF_ERR_ESCAPE, i, NULL);
						p->pos = i;
						return;
					}
					out[n++] = (char) v;
					i += 2;
					break;
				}
				token_error(t, MVF_ERR_ESCAPE, i, NULL);
				p->pos = i;
				return;
		}
		i += 2;
	}
	out[n] = '\0';
	t->kind = T_STRING;
	t->str = out;
	t->len = n;
	t->length = i + 1 - t->start;
	p->pos = i + 1;
}

/* Read digits of a base; return how many, accumulating into *mag (saturating) */
static int
scan_digits(const char *s, int i, int base, uint64 *mag, bool *overflow)
{
	int			n = 0;

	for (;; n++)
	{
		int			d = hex_value(s[i + n]);

		if (d < 0 || d >= base)
			break;
		if (*mag > (((uint64) 1 << 63) - d) / base)
			*overflow = true;
		else
			*mag = *mag * base + d;
	}
	return n;
}

/* Read a number: decimal, 0x hex, 0o / leading-0 octal, 0b binary, floats */
static void
lex_number(Parser *p, Token *t, int i)
{
	const char *s = p->text;
	int			start = i;
	uint64		mag = 0;
	bool		overflow = false;
	bool		is_float = false;
	int			n;

	if (s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
	{
		n = scan_digits(s, i + 2, 16, &mag, &overflow);
		/* a hexadecimal float: digits, optional fraction, binary exponent */
		if (s[i + 2 + n] == '.' || s[i + 2 + n] == 'p' || s[i + 2 + n] == 'P')
		{
			int			j = i + 2 + n;

			if (s[j] == '.')
			{
				uint64		ignore = 0;
				bool		ignore_overflow = false;
				int			f = scan_digits(s, j + 1, 16, &ignore, &ignore_overflow);

				if (n == 0 && f == 0)
				{
					token_error(t, MVF_ERR_SYNTAX, j + 1, "hexadecimal digits");
					p->pos = j + 1;
					return;
				}
				j += 1 + f;
			}
			if (s[j] != 'p' && s[j] != 'P')
			{
				token_error(t, MVF_ERR_SYNTAX, j, "a binary exponent (\"p\")");
				p->pos = j;
				return;
			}
			j++;
			if (s[j] == '+' || s[j] == '-')
				j++;
			if (!is_digit(s[j]))
			{
				token_error(t, MVF_ERR_SYNTAX, j, "exponent digits");
				p->pos = j;
				return;
			}
			while (is_digit(s[j]))
				j++;
			i = j;
			is_float = true;
		}
		else if (n == 0)
		{
			token_error(t, MVF_ERR_SYNTAX, i + 2, "hexadecimal digits");
			p->pos = i + 2;
			return;
		}
		else
			i += 2 + n;
	}
	else if (s[i] == '0' && (s[i + 1] == 'b' || s[i + 1] == 'B' ||
							 s[i + 1] == 'o' || s[i + 1] == 'O'))
	{
		bool		binary = (s[i + 1] == 'b' || s[i + 1] == 'B');

		n = scan_digits(s, i + 2, binary ? 2 : 8, &mag, &overflow);
		if (n == 0)
		{
			token_error(t, MVF_ERR_SYNTAX, i + 2, binary ? "binary digits" : "octal digits");
			p->pos = i + 2;
			return;
		}
		i += 2 + n;
	}
	else
	{
		/* decimal: an integer unless a fraction or an exponent follows */
		int			j = i;

		while (is_digit(s[j]))
			j++;
		if (s[j] == '.')
		{
			is_float = true;
			j++;
			while (is_digit(s[j]))
				j++;
		}
		if (s[j] == 'e' || s[j] == 'E')
		{
			int			k = j + 1;

			if (s[k] == '+' || s[k] == '-')
				k++;
			if (is_digit(s[k]))
			{
				is_float = true;
				while (is_digit(s[k]))
					k++;
				j = k;
			}
		}
		if (!is_float)
		{
			if (s[i] == '0' && j - i > 1)
			{
				/* Milvus: a leading 0 makes an octal number */
				n = scan_digits(s, i + 1, 8, &mag, &overflow);
				if (i + 1 + n < j)
				{
					token_error(t, MVF_ERR_SYNTAX, i + 1 + n,
								"an octal digit (a number that starts with 0 is octal)");
					p->pos = i + 1 + n;
					return;
				}
			}
			else
			{
				scan_digits(s, i, 10, &mag, &overflow);
				t->decimal = true;
			}
		}
		i = j;
	}

	t->start = start;
	t->length = i - start;
	p->pos = i;
	if (is_float)
	{
		char		buf[128];
		char	   *copy = buf;
		char	   *end;

		if (t->length >= (int) sizeof(buf))
			copy = mv_alloc(p, t->length + 1);
		memcpy(copy, s + start, t->length);
		copy[t->length] = '\0';
		errno = 0;
		t->fval = strtod(copy, &end);
		if (end != copy + t->length)
			token_error(t, MVF_ERR_SYNTAX, start, "a number");
		else if (isinf(t->fval) || isnan(t->fval))
			token_error(t, MVF_ERR_RANGE, start, NULL);
		else
			t->kind = T_FLOAT;
		return;
	}
	if (overflow)
	{
		token_error(t, MVF_ERR_RANGE, start, NULL);
		return;
	}
	t->kind = T_INT;
	t->mag = mag;
}

static const struct
{
	const char *word;
	TokKind		kind;
}			keywords[] =
{
	{"and", T_AND},
	{"or", T_OR},
	{"not", T_NOT},
	{"in", T_IN},
	{"like", T_LIKE},
	{"exists", T_EXISTS},
	{"true", T_TRUE},
	{"false", T_FALSE},
};

/* Read the next token into t */
static void
lex(Parser *p, Token *t)
{
	const char *s = p->text;
	int			i = p->pos;
	char		c;
	TokKind		kind;
	int			width = 1;

	memset(t, 0, sizeof(*t));
	while (is_space(s[i]))
		i++;
	t->start = i;
	c = s[i];

	if (c == '\0')
	{
		t->kind = T_END;
		p->pos = i;
		return;
	}
	if (c == '"' || c == '\'')
	{
		lex_string(p, t, i);
		return;
	}
	if (is_digit(c) || (c == '.' && is_digit(s[i + 1])))
	{
		lex_number(p, t, i);
		return;
	}
	if (is_ident_start(c))
	{
		int			j = i;
		int			k;

		while (is_ident_char(s[j]))
			j++;
		/* Plan.g4's encoding prefixes: u8"..", u"..", U"..", L".." */
		if ((s[j] == '"' || s[j] == '\'') &&
			((j - i == 2 && s[i] == 'u' && s[i + 1] == '8') ||
			 (j - i == 1 && (c == 'u' || c == 'U' || c == 'L'))))
		{
			lex_string(p, t, j);
			t->start = i;
			if (t->kind == T_STRING)
				t->length = p->pos - i;
			return;
		}
		t->kind = T_IDENT;
		for (k = 0; k < (int) lengthof(keywords); k++)
			if (word_is(s + i, j - i, keywords[k].word))
				t->kind = keywords[k].kind;
		t->length = j - i;
		p->pos = j;
		return;
	}
	if (c == '$')
	{
		if (strncmp(s + i, "$meta", 5) == 0 && !is_ident_char(s[i + 5]))
		{
			t->kind = T_META;
			t->length = 5;
			p->pos = i + 5;
			return;
		}
		token_error(t, MVF_ERR_SYNTAX, i, "\"$meta\"");
		t->length = 1;
		p->pos = i + 1;
		return;
	}

	switch (c)
	{
		case '(':
			kind = T_LPAREN;
			break;
		case ')':
			kind = T_RPAREN;
			break;
		case '[':
			kind = T_LBRACK;
			break;
		case ']':
			kind = T_RBRACK;
			break;
		case '{':
			kind = T_LBRACE;
			break;
		case '}':
			kind = T_RBRACE;
			break;
		case ',':
			kind = T_COMMA;
			break;
		case '+':
			kind = T_PLUS;
			break;
		case '-':
			kind = T_MINUS;
			break;
		case '/':
			kind = T_SLASH;
			break;
		case '%':
			kind = T_PERCENT;
			break;
		case '^':
			kind = T_BITXOR;
			break;
		case '~':
			kind = T_BITNOT;
			break;
		case '*':
			kind = T_STAR;
			if (s[i + 1] == '*')
				kind = T_POW, width = 2;
			break;
		case '=':
			kind = T_ASSIGN;
			if (s[i + 1] == '=')
				kind = T_EQ, width = 2;
			else if (s[i + 1] == '~')
				kind = T_REGEX, width = 2;
			break;
		case '!':
			kind = T_NOT;
			if (s[i + 1] == '=')
				kind = T_NE, width = 2;
			else if (s[i + 1] == '~')
				kind = T_NOTREGEX, width = 2;
			break;
		case '<':
			kind = T_LT;
			if (s[i + 1] == '=')
				kind = T_LE, width = 2;
			else if (s[i + 1] == '<')
				kind = T_SHL, width = 2;
			break;
		case '>':
			kind = T_GT;
			if (s[i + 1] == '=')
				kind = T_GE, width = 2;
			else if (s[i + 1] == '>')
				kind = T_SHR, width = 2;
			break;
		case '&':
			kind = T_BITAND;
			if (s[i + 1] == '&')
				kind = T_AND, width = 2;
			break;
		case '|':
			kind = T_BITOR;
			if (s[i + 1] == '|')
				kind = T_OR, width = 2;
			break;
		default:
			token_error(t, MVF_ERR_SYNTAX, i, "a field, a value or an operator");
			/* one whole UTF-8 character, so the error shows it */
			while ((s[i + width] & 0xC0) == 0x80)
				width++;
			t->length = width;
			p->pos = i + width;
			return;
	}
	t->kind = kind;
	t->length = width;
	p->pos = i + width;
}

/* The token k places ahead (0: the current one), lexing as needed */
static Token *
peek(Parser *p, int k)
{
	Assert(k < LOOKAHEAD);
	while (p->nla <= k)
		lex(p, &p->la[p->nla++]);
	return &p->la[k];
}

/* The current token; a token the lexer could not read fails here */
static Token *
cur(Parser *p)
{
	Token	   *t = peek(p, 0);

	if (t->kind == T_ERROR)
		fail(p, t->err, t->errpos, t->errpos == t->start ? t->length : 0, t->expected);
	return t;
}

static void
advance(Parser *p)
{
	(void) peek(p, 0);
	memmove(&p->la[0], &p->la[1], sizeof(Token) * (LOOKAHEAD - 1));
	p->nla--;
}

static void pg_attribute_noreturn()
fail_expected(Parser *p, const char *expected)
{
	Token	   *t = cur(p);

	fail(p, MVF_ERR_SYNTAX, t->start, t->length, expected);
}

static void
expect(Parser *p, TokKind kind, const char *expected)
{
	if (cur(p)->kind != kind)
		fail_expected(p, expected);
	advance(p);
}

static void
enter(Parser *p)
{
	if (++p->depth > MV_FILTER_MAX_NESTING)
		fail(p, MVF_ERR_TOO_DEEP, cur(p)->start, 0, NULL);
}

static void
leave(Parser *p)
{
	p->depth--;
}

/*
 * Tree construction
 */

static MvFilterNode *
new_node(Parser *p, MvFilterKind kind, int position)
{
	MvFilterNode *n = mv_alloc(p, sizeof(MvFilterNode));

	n->kind = kind;
	n->position = position;
	n->depth = 1;
	return n;
}

/* Attach children and keep the tree within the depth limit */
static void
set_children(Parser *p, MvFilterNode *n, int count, MvFilterNode **children)
{
	int			i;

	n->nchildren = count;
	n->children = children;
	for (i = 0; i < count; i++)
		if (children[i]->depth + 1 > n->depth)
			n->depth = children[i]->depth + 1;
	if (n->depth > MV_FILTER_MAX_DEPTH)
		fail(p, MVF_ERR_TOO_DEEP, n->position, 0, NULL);
}

static MvFilterNode *
node1(Parser *p, MvFilterKind kind, MvFilterOp op, int position, MvFilterNode *a)
{
	MvFilterNode *n = new_node(p, kind, position);
	MvFilterNode **c = mv_alloc(p, sizeof(MvFilterNode *));

	n->op = op;
	c[0] = a;
	set_children(p, n, 1, c);
	return n;
}

static MvFilterNode *
node2(Parser *p, MvFilterKind kind, MvFilterOp op, MvFilterNode *a, MvFilterNode *b)
{
	MvFilterNode *n = new_node(p, kind, a->position);
	MvFilterNode **c = mv_alloc(p, sizeof(MvFilterNode *) * 2);

	n->op = op;
	c[0] = a;
	c[1] = b;
	set_children(p, n, 2, c);
	return n;
}

/* A growable array of children, in allocator memory */
typedef struct NodeVec
{
	MvFilterNode **items;
	int			count;
	int			cap;
} NodeVec;

static void
vec_push(Parser *p, NodeVec *v, MvFilterNode *n)
{
	if (v->count == v->cap)
	{
		int			cap = v->cap ? v->cap * 2 : 4;
		MvFilterNode **items = mv_alloc(p, sizeof(MvFilterNode *) * cap);

		if (v->count)
			memcpy(items, v->items, sizeof(MvFilterNode *) * v->count);
		v->items = items;
		v->cap = cap;
	}
	v->items[v->count++] = n;
}

/*
 * The grammar, loosest level first
 */

/* An n-ary chain of "and" or "or" */
static MvFilterNode *
parse_chain(Parser *p, TokKind tok, MvFilterKind kind, MvFilterNode *(*operand) (Parser *))
{
	MvFilterNode *first = operand(p);
	MvFilterNode *n;
	NodeVec		v = {0};

	if (cur(p)->kind != tok)
		return first;
	vec_push(p, &v, first);
	while (cur(p)->kind == tok)
	{
		advance(p);
		vec_push(p, &v, operand(p));
	}
	n = new_node(p, kind, first->position);
	set_children(p, n, v.count, v.items);
	return n;
}

/* A left-associative binary level: tokens[i] becomes ops[i] */
static MvFilterNode *
parse_binary(Parser *p, MvFilterKind kind, const TokKind *tokens, const MvFilterOp *ops,
			 int nops, MvFilterNode *(*operand) (Parser *))
{
	MvFilterNode *left = operand(p);

	for (;;)
	{
		TokKind		k = cur(p)->kind;
		int			i;

		for (i = 0; i < nops; i++)
			if (tokens[i] == k)
				break;
		if (i == nops)
			return left;
		advance(p);
		left = node2(p, kind, ops[i], left, operand(p));
	}
}

static bool
is_prefix(TokKind k)
{
	return k == T_PLUS || k == T_MINUS || k == T_NOT || k == T_BITNOT;
}

/* An integer literal; only a negated one may have magnitude 2^63 */
static MvFilterNode *
int_literal(Parser *p, Token *t, bool negative, int position)
{
	MvFilterNode *n;

	if (t->mag > (uint64) PG_INT64_MAX && !negative)
		fail(p, MVF_ERR_RANGE, t->start, t->length, NULL);
	n = new_node(p, MVF_INT, position);
	if (negative)
		n->ival = t->mag == ((uint64) 1 << 63) ? PG_INT64_MIN : -(int64) t->mag;
	else
		n->ival = (int64) t->mag;
	return n;
}

/* A string pattern or a template: the right side of like */
static MvFilterNode *
parse_pattern(Parser *p)
{
	Token	   *t = cur(p);
	MvFilterNode *n;

	if (t->kind == T_STRING)
	{
		n = new_node(p, MVF_STRING, t->start);
		n->str = t->str;
		n->len = t->len;
		advance(p);
		return n;
	}
	if (t->kind == T_LBRACE)
	{
		int			start = t->start;

		advance(p);
		t = cur(p);
		if (t->kind != T_IDENT)
			fail_expected(p, "a template name");
		n = new_node(p, MVF_TEMPLATE, start);
		n->str = mv_alloc(p, t->length + 1);
		memcpy((char *) n->str, p->text + t->start, t->length);
		n->len = t->length;
		advance(p);
		expect(p, T_RBRACE, "\"}\"");
		return n;
	}
	fail_expected(p, "a string pattern");
}

static const struct
{
	const char *name;
	MvFilterFunc func;
}			functions[] =
{
	{"json_contains", MVF_FN_JSON_CONTAINS},
	{"json_contains_all", MVF_FN_JSON_CONTAINS_ALL},
	{"json_contains_any", MVF_FN_JSON_CONTAINS_ANY},
	{"array_contains", MVF_FN_ARRAY_CONTAINS},
	{"array_contains_all", MVF_FN_ARRAY_CONTAINS_ALL},
	{"array_contains_any", MVF_FN_ARRAY_CONTAINS_ANY},
	{"array_length", MVF_FN_ARRAY_LENGTH},
};

/* The printed name of a function */
static const char *
function_name(MvFilterFunc func)
{
	int			i;

	for (i = 0; i < (int) lengthof(functions); i++)
		if (functions[i].func == func)
			return functions[i].name;
	return "?";
}

static MvFilterNode *parse_field(Parser *p);

/* name(args): the current token is the name, the next one "(" */
static MvFilterNode *
parse_call(Parser *p)
{
	Token	   *t = cur(p);
	int			start = t->start;
	MvFilterNode *n;
	MvFilterNode **args;
	int			i;

	for (i = 0; i < (int) lengthof(functions); i++)
		if (word_is(p->text + t->start, t->length, functions[i].name))
			break;
	if (i == lengthof(functions))
	{
		char	   *what = mv_alloc(p, t->length + 16);

		memcpy(what, "function ", 9);
		memcpy(what + 9, p->text + t->start, t->length);
		fail(p, MVF_ERR_UNSUPPORTED, t->start, t->length, what);
	}
	n = new_node(p, MVF_CALL, start);
	n->func = functions[i].func;
	advance(p);
	advance(p);					/* "(" */
	enter(p);
	if (n->func == MVF_FN_ARRAY_LENGTH)
	{
		args = mv_alloc(p, sizeof(MvFilterNode *));
		t = cur(p);
		if (t->kind != T_IDENT && t->kind != T_META)
			fail_expected(p, "a field name");
		args[0] = parse_field(p);
		if (args[0]->kind != MVF_FIELD)
			fail(p, MVF_ERR_SYNTAX, args[0]->position, 0, "a field name");
		set_children(p, n, 1, args);
	}
	else
	{
		args = mv_alloc(p, sizeof(MvFilterNode *) * 2);
		args[0] = parse_expr(p);
		expect(p, T_COMMA, "\",\"");
		args[1] = parse_expr(p);
		set_children(p, n, 2, args);
	}
	expect(p, T_RPAREN, "\")\"");
	leave(p);
	return n;
}

/* A field with an optional path, then an optional "is [not] null" */
static MvFilterNode *
parse_field(Parser *p)
{
	Token	   *t = cur(p);
	MvFilterNode *n = new_node(p, MVF_FIELD, t->start);
	int			nsteps = 0;
	int			cap = 0;

	if (t->kind == T_META)
		n->str = "$meta";
	else
	{
		n->str = mv_alloc(p, t->length + 1);
		memcpy((char *) n->str, p->text + t->start, t->length);
	}
	n->len = t->length;
	advance(p);

	while (cur(p)->kind == T_LBRACK)
	{
		MvFilterPathStep *step;

		advance(p);
		t = cur(p);
		if (nsteps == cap)
		{
			MvFilterPathStep *steps;

			cap = cap ? cap * 2 : 4;
			steps = mv_alloc(p, sizeof(MvFilterPathStep) * cap);
			if (nsteps)
				memcpy(steps, n->path, sizeof(MvFilterPathStep) * nsteps);
			n->path = steps;
		}
		step = &n->path[nsteps];
		step->position = t->start;
		if (t->kind == T_STRING)
		{
			step->key = t->str;
			step->keylen = t->len;
		}
		else if (t->kind == T_INT && t->decimal)
		{
			if (t->mag > PG_INT32_MAX)
				fail(p, MVF_ERR_RANGE, t->start, t->length, NULL);
			step->is_index = true;
			step->index = (int32) t->mag;
		}
		else
			fail_expected(p, "a string key or a decimal index");
		advance(p);
		expect(p, T_RBRACK, "\"]\"");
		n->npath = ++nsteps;
	}

	/* "is null" and "is not null" are words, not keywords */
	t = cur(p);
	if (t->kind == T_IDENT && word_is(p->text + t->start, t->length, "is"))
	{
		bool		negated = false;

		advance(p);
		if (cur(p)->kind == T_NOT && peek(p, 0)->length == 3)
		{
			negated = true;
			advance(p);
		}
		t = cur(p);
		if (t->kind != T_IDENT || !word_is(p->text + t->start, t->length, "null"))
			fail_expected(p, negated ? "\"null\"" : "\"null\" or \"not null\"");
		advance(p);
		n = node1(p, MVF_ISNULL, MVF_OP_NONE, n->position, n);
		n->negated = negated;
	}
	return n;
}

static MvFilterNode *
parse_primary(Parser *p)
{
	Token	   *t = cur(p);
	MvFilterNode *n;
	int			start = t->start;

	switch (t->kind)
	{
		case T_INT:
			n = int_literal(p, t, false, start);
			advance(p);
			return n;
		case T_FLOAT:
			n = new_node(p, MVF_FLOAT, start);
			n->fval = t->fval;
			advance(p);
			return n;
		case T_STRING:
		case T_LBRACE:
			return parse_pattern(p);
		case T_TRUE:
		case T_FALSE:
			n = new_node(p, MVF_BOOL, start);
			n->bval = (t->kind == T_TRUE);
			advance(p);
			return n;
		case T_LPAREN:
			advance(p);
			enter(p);
			n = parse_expr(p);
			expect(p, T_RPAREN, "\")\"");
			leave(p);
			n->parenthesized = true;
			return n;
		case T_LBRACK:
			{
				NodeVec		v = {0};

				advance(p);
				enter(p);
				while (cur(p)->kind != T_RBRACK)
				{
					vec_push(p, &v, parse_expr(p));
					if (cur(p)->kind == T_COMMA)
						advance(p);
					else if (cur(p)->kind != T_RBRACK)
						fail_expected(p, "\",\" or \"]\"");
				}
				advance(p);
				leave(p);
				n = new_node(p, MVF_LIST, start);
				set_children(p, n, v.count, v.items);
				return n;
			}
		case T_EXISTS:
			advance(p);
			enter(p);
			n = node1(p, MVF_EXISTS, MVF_OP_NONE, start, parse_primary(p));
			leave(p);
			return n;
		case T_IDENT:
			if (peek(p, 1)->kind == T_LPAREN)
				return parse_call(p);
			return parse_field(p);
		case T_META:
			return parse_field(p);
		default:
			fail_expected(p, "an expression");
	}
}

/* primary [like pattern]... */
static MvFilterNode *
parse_postfix(Parser *p)
{
	MvFilterNode *n = parse_primary(p);

	for (;;)
	{
		Token	   *t = cur(p);

		if (t->kind == T_LIKE)
		{
			advance(p);
			n = node2(p, MVF_LIKE, MVF_OP_NONE, n, parse_pattern(p));
		}
		else if (t->kind == T_REGEX || t->kind == T_NOTREGEX)
			fail(p, MVF_ERR_UNSUPPORTED, t->start, t->length,
				 "regular expression matching");
		else
			return n;
	}
}

/* postfix [** operand]...: left-associative; a prefix operator may follow ** */
static MvFilterNode *
parse_pow(Parser *p)
{
	MvFilterNode *left = parse_postfix(p);

	while (cur(p)->kind == T_POW)
	{
		MvFilterNode *right;

		advance(p);
		right = is_prefix(cur(p)->kind) ? parse_unary(p) : parse_postfix(p);
		left = node2(p, MVF_ARITH, MVF_OP_POW, left, right);
	}
	return left;
}

static MvFilterNode *
parse_unary(Parser *p)
{
	Token	   *t = cur(p);
	int			start = t->start;
	MvFilterOp	op;
	MvFilterNode *n;

	switch (t->kind)
	{
		case T_MINUS:
			op = MVF_OP_NEG;
			break;
		case T_PLUS:
			op = MVF_OP_PLUS;
			break;
		case T_NOT:
			op = MVF_OP_NOT;
			break;
		case T_BITNOT:
			fail(p, MVF_ERR_UNSUPPORTED, t->start, t->length, "the operator \"~\"");
		default:
			return parse_pow(p);
	}

	/* -<number> is one literal, unless ** or like binds the number first */
	if (op == MVF_OP_NEG)
	{
		Token	   *num = peek(p, 1);
		TokKind		after = peek(p, 2)->kind;

		if ((num->kind == T_INT || num->kind == T_FLOAT) &&
			after != T_POW && after != T_LIKE)
		{
			bool		is_int = (num->kind == T_INT);

			/* advance() moves the window: num no longer points at the number */
			advance(p);
			if (is_int)
				n = int_literal(p, cur(p), true, start);
			else
			{
				n = new_node(p, MVF_FLOAT, start);
				n->fval = -cur(p)->fval;
			}
			advance(p);
			return n;
		}
	}

	advance(p);
	enter(p);
	n = node1(p, MVF_UNARY, op, start, parse_unary(p));
	leave(p);
	return n;
}

static MvFilterNode *
parse_multiplicative(Parser *p)
{
	static const TokKind toks[] = {T_STAR, T_SLASH, T_PERCENT};
	static const MvFilterOp ops[] = {MVF_OP_MUL, MVF_OP_DIV, MVF_OP_MOD};

	return parse_binary(p, MVF_ARITH, toks, ops, 3, parse_unary);
}

static MvFilterNode *
parse_additive(Parser *p)
{
	static const TokKind toks[] = {T_PLUS, T_MINUS};
	static const MvFilterOp ops[] = {MVF_OP_ADD, MVF_OP_SUB};

	return parse_binary(p, MVF_ARITH, toks, ops, 2, parse_multiplicative);
}

static MvFilterNode *
parse_shift(Parser *p)
{
	MvFilterNode *n = parse_additive(p);
	Token	   *t = cur(p);

	if (t->kind == T_SHL || t->kind == T_SHR)
		fail(p, MVF_ERR_UNSUPPORTED, t->start, t->length,
			 t->kind == T_SHL ? "the operator \"<<\"" : "the operator \">>\"");
	return n;
}

/* shift [[not] in shift]... */
static MvFilterNode *
parse_in(Parser *p)
{
	MvFilterNode *left = parse_shift(p);

	for (;;)
	{
		bool		negated = false;

		if (cur(p)->kind == T_NOT && peek(p, 1)->kind == T_IN)
		{
			negated = true;
			advance(p);
		}
		if (cur(p)->kind != T_IN)
			return left;
		advance(p);
		left = node2(p, MVF_IN, MVF_OP_NONE, left, parse_shift(p));
		left->negated = negated;
	}
}

static MvFilterOp
relational_op(TokKind k)
{
	switch (k)
	{
		case T_LT:
			return MVF_OP_LT;
		case T_LE:
			return MVF_OP_LE;
		case T_GT:
			return MVF_OP_GT;
		case T_GE:
			return MVF_OP_GE;
		default:
			return MVF_OP_NONE;
	}
}

static bool
is_less(MvFilterOp op)
{
	return op == MVF_OP_LT || op == MVF_OP_LE;
}

/*
 * Comparisons; "lower op field op upper" with both operators pointing the
 * same way and a bare field in the middle is one range (Plan.g4's Range).
 */
static MvFilterNode *
parse_relational(Parser *p)
{
	MvFilterNode *left = parse_in(p);
	MvFilterOp	op;

	while ((op = relational_op(cur(p)->kind)) != MVF_OP_NONE)
	{
		MvFilterNode *mid;
		MvFilterOp	op2;

		advance(p);
		mid = parse_in(p);
		op2 = relational_op(cur(p)->kind);
		if (op2 != MVF_OP_NONE && is_less(op) == is_less(op2) &&
			mid->kind == MVF_FIELD && !mid->parenthesized)
		{
			MvFilterNode *n = new_node(p, MVF_RANGE, left->position);
			MvFilterNode **c = mv_alloc(p, sizeof(MvFilterNode *) * 3);

			advance(p);
			c[0] = left;
			c[1] = mid;
			c[2] = parse_in(p);
			n->op = op;
			n->op2 = op2;
			set_children(p, n, 3, c);
			left = n;
		}
		else
			left = node2(p, MVF_COMPARE, op, left, mid);
	}
	return left;
}

static MvFilterNode *
parse_equality(Parser *p)
{
	static const TokKind toks[] = {T_EQ, T_NE};
	static const MvFilterOp ops[] = {MVF_OP_EQ, MVF_OP_NE};

	return parse_binary(p, MVF_COMPARE, toks, ops, 2, parse_relational);
}

static MvFilterNode *
parse_bitand(Parser *p)
{
	static const TokKind toks[] = {T_BITAND};
	static const MvFilterOp ops[] = {MVF_OP_BITAND};

	return parse_binary(p, MVF_ARITH, toks, ops, 1, parse_equality);
}

static MvFilterNode *
parse_bitxor(Parser *p)
{
	static const TokKind toks[] = {T_BITXOR};
	static const MvFilterOp ops[] = {MVF_OP_BITXOR};

	return parse_binary(p, MVF_ARITH, toks, ops, 1, parse_bitand);
}

static MvFilterNode *
parse_bitor(Parser *p)
{
	static const TokKind toks[] = {T_BITOR};
	static const MvFilterOp ops[] = {MVF_OP_BITOR};

	return parse_binary(p, MVF_ARITH, toks, ops, 1, parse_bitxor);
}

static MvFilterNode *
parse_and(Parser *p)
{
	return parse_chain(p, T_AND, MVF_AND, parse_bitor);
}

static MvFilterNode *
parse_expr(Parser *p)
{
	return parse_chain(p, T_OR, MVF_OR, parse_and);
}

/*
 * Run the parser; a failure longjmps back here.  The Parser lives in the
 * caller's frame, so nothing the failure path changed is lost with the jump.
 */
static void
parse_guarded(Parser *p)
{
	if (setjmp(p->fail) == 0)
	{
		MvFilterNode *root = parse_expr(p);

		if (cur(p)->kind != T_END)
			fail_expected(p, "an operator or the end of the expression");
		p->error.code = MVF_OK;
		p->error.root = root;
	}
}

/* Parse a whole filter expression */
MvFilterParseResult
MvFilterParse(const char *text, const MvFilterAllocator *allocator)
{
	Parser		p;
	size_t		len = strlen(text);

	memset(&p, 0, sizeof(p));
	if (len > MV_FILTER_MAX_LENGTH)
	{
		p.error.code = MVF_ERR_TOO_LONG;
		p.error.position = MV_FILTER_MAX_LENGTH;
		return p.error;
	}
	p.text = text;
	p.textlen = (int) len;
	p.allocator = allocator;
	parse_guarded(&p);
	return p.error;
}

/*
 * Printing
 */

typedef struct PrintBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	const MvFilterAllocator *allocator;
	bool		failed;
} PrintBuf;

static void
buf_append(PrintBuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = (b->len + n + 1) * 2;
		char	   *data = b->allocator->alloc(b->allocator->context, cap);

		if (data == NULL)
		{
			b->failed = true;
			return;
		}
		if (b->len)
			memcpy(data, b->data, b->len);
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
buf_puts(PrintBuf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

static void
print_string(PrintBuf *b, const char *s, int len)
{
	int			i;

	buf_puts(b, "\"");
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		esc[8];

		if (c == '"' || c == '\\')
		{
			esc[0] = '\\';
			esc[1] = (char) c;
			buf_append(b, esc, 2);
		}
		else if (c == '\n')
			buf_puts(b, "\\n");
		else if (c < 0x20 || c == 0x7F)
		{
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			buf_puts(b, esc);
		}
		else
			buf_append(b, (const char *) &s[i], 1);
	}
	buf_puts(b, "\"");
}

static const char *
op_text(MvFilterOp op)
{
	switch (op)
	{
		case MVF_OP_NEG:
		case MVF_OP_SUB:
			return "-";
		case MVF_OP_PLUS:
		case MVF_OP_ADD:
			return "+";
		case MVF_OP_NOT:
			return "not ";
		case MVF_OP_MUL:
			return "*";
		case MVF_OP_DIV:
			return "/";
		case MVF_OP_MOD:
			return "%";
		case MVF_OP_POW:
			return "**";
		case MVF_OP_BITAND:
			return "&";
		case MVF_OP_BITOR:
			return "|";
		case MVF_OP_BITXOR:
			return "^";
		case MVF_OP_EQ:
			return "==";
		case MVF_OP_NE:
			return "!=";
		case MVF_OP_LT:
			return "<";
		case MVF_OP_LE:
			return "<=";
		case MVF_OP_GT:
			return ">";
		case MVF_OP_GE:
			return ">=";
		case MVF_OP_NONE:
			break;
	}
	return "?";
}

static void print_node(PrintBuf *b, const MvFilterNode *n);

/*
 * Print the operand of a binary operator, like or exists; a prefix operator
 * there goes in parentheses, which ** and like need (they bind tighter) and
 * which shows elsewhere how tightly "not" binds.  This at most doubles the
 * nesting of the tree, within MV_FILTER_MAX_NESTING.
 */
static void
print_operand(PrintBuf *b, const MvFilterNode *n)
{
	if (n->kind == MVF_UNARY)
		buf_puts(b, "(");
	print_node(b, n);
	if (n->kind == MVF_UNARY)
		buf_puts(b, ")");
}

static void
print_node(PrintBuf *b, const MvFilterNode *n)
{
	char		num[64];
	int			i;

	switch (n->kind)
	{
		case MVF_INT:
			/* negative numbers in parentheses, so they read back as one literal */
			snprintf(num, sizeof(num), n->ival < 0 ? "(%lld)" : "%lld", (long long) n->ival);
			buf_puts(b, num);
			break;
		case MVF_FLOAT:
			snprintf(num, sizeof(num), "%.17g", n->fval);
			if (strpbrk(num, ".e") == NULL)
				strcat(num, ".0");
			if (signbit(n->fval))
				buf_puts(b, "(");
			buf_puts(b, num);
			if (signbit(n->fval))
				buf_puts(b, ")");
			break;
		case MVF_STRING:
			print_string(b, n->str, n->len);
			break;
		case MVF_BOOL:
			buf_puts(b, n->bval ? "true" : "false");
			break;
		case MVF_LIST:
			buf_puts(b, "[");
			for (i = 0; i < n->nchildren; i++)
			{
				if (i > 0)
					buf_puts(b, ", ");
				print_node(b, n->children[i]);
			}
			buf_puts(b, "]");
			break;
		case MVF_TEMPLATE:
			buf_puts(b, "{");
			buf_append(b, n->str, n->len);
			buf_puts(b, "}");
			break;
		case MVF_FIELD:
			buf_append(b, n->str, n->len);
			for (i = 0; i < n->npath; i++)
			{
				buf_puts(b, "[");
				if (n->path[i].is_index)
				{
					snprintf(num, sizeof(num), "%d", n->path[i].index);
					buf_puts(b, num);
				}
				else
					print_string(b, n->path[i].key, n->path[i].keylen);
				buf_puts(b, "]");
			}
			break;
		case MVF_UNARY:
			/* unparenthesized, or a chain of them would nest twice as deep */
			buf_puts(b, op_text(n->op));
			if (n->children[0]->kind == MVF_INT || n->children[0]->kind == MVF_FLOAT)
			{
				/* -(5) is not the literal -5 */
				buf_puts(b, "(");
				print_node(b, n->children[0]);
				buf_puts(b, ")");
			}
			else
				print_node(b, n->children[0]);
			break;
		case MVF_ARITH:
		case MVF_COMPARE:
			buf_puts(b, "(");
			print_operand(b, n->children[0]);
			buf_puts(b, " ");
			buf_puts(b, op_text(n->op));
			buf_puts(b, " ");
			print_operand(b, n->children[1]);
			buf_puts(b, ")");
			break;
		case MVF_RANGE:
			buf_puts(b, "(");
			print_operand(b, n->children[0]);
			buf_puts(b, " ");
			buf_puts(b, op_text(n->op));
			buf_puts(b, " ");
			print_node(b, n->children[1]);
			buf_puts(b, " ");
			buf_puts(b, op_text(n->op2));
			buf_puts(b, " ");
			print_operand(b, n->children[2]);
			buf_puts(b, ")");
			break;
		case MVF_IN:
		case MVF_LIKE:
			buf_puts(b, "(");
			print_operand(b, n->children[0]);
			buf_puts(b, n->kind == MVF_LIKE ? " like " : n->negated ? " not in " : " in ");
			print_operand(b, n->children[1]);
			buf_puts(b, ")");
			break;
		case MVF_ISNULL:
			buf_puts(b, "(");
			print_node(b, n->children[0]);
			buf_puts(b, n->negated ? " is not null)" : " is null)");
			break;
		case MVF_EXISTS:
			buf_puts(b, "(exists ");
			print_operand(b, n->children[0]);
			buf_puts(b, ")");
			break;
		case MVF_AND:
		case MVF_OR:
			buf_puts(b, "(");
			for (i = 0; i < n->nchildren; i++)
			{
				if (i > 0)
					buf_puts(b, n->kind == MVF_AND ? " and " : " or ");
				print_node(b, n->children[i]);
			}
			buf_puts(b, ")");
			break;
		case MVF_CALL:
			buf_puts(b, function_name(n->func));
			buf_puts(b, "(");
			for (i = 0; i < n->nchildren; i++)
			{
				if (i > 0)
					buf_puts(b, ", ");
				print_node(b, n->children[i]);
			}
			buf_puts(b, ")");
			break;
	}
}

/* Print a tree fully parenthesized; NULL if the allocator fails */
char *
MvFilterPrint(const MvFilterNode *node, const MvFilterAllocator *allocator)
{
	PrintBuf	b = {0};

	b.allocator = allocator;
	buf_puts(&b, "");
	print_node(&b, node);
	return b.failed ? NULL : b.data;
}

/* Whether two trees are equal; positions and parentheses aside */
bool
MvFilterEqual(const MvFilterNode *a, const MvFilterNode *b)
{
	int			i;

	if (a->kind != b->kind || a->op != b->op || a->op2 != b->op2 ||
		a->negated != b->negated || a->nchildren != b->nchildren ||
		a->npath != b->npath || a->depth != b->depth)
		return false;
	switch (a->kind)
	{
		case MVF_INT:
			if (a->ival != b->ival)
				return false;
			break;
		case MVF_FLOAT:
			/* bit for bit, so -0.0 differs from 0.0 */
			if (memcmp(&a->fval, &b->fval, sizeof(double)) != 0)
				return false;
			break;
		case MVF_BOOL:
			if (a->bval != b->bval)
				return false;
			break;
		case MVF_STRING:
		case MVF_TEMPLATE:
		case MVF_FIELD:
			if (a->len != b->len || memcmp(a->str, b->str, a->len) != 0)
				return false;
			break;
		case MVF_CALL:
			if (a->func != b->func)
				return false;
			break;
		default:
			break;
	}
	for (i = 0; i < a->npath; i++)
	{
		const MvFilterPathStep *x = &a->path[i];
		const MvFilterPathStep *y = &b->path[i];

		if (x->is_index != y->is_index)
			return false;
		if (x->is_index ? x->index != y->index :
			(x->keylen != y->keylen || memcmp(x->key, y->key, x->keylen) != 0))
			return false;
	}
	for (i = 0; i < a->nchildren; i++)
		if (!MvFilterEqual(a->children[i], b->children[i]))
			return false;
	return true;
}
