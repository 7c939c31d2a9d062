/*
 * fuzz_common.h
 *		Helpers shared by the libFuzzer targets in this folder.
 *
 * A target copies the fuzzer's bytes into a NUL-terminated string, runs a
 * parser on it and checks invariants with FUZZ_CHECK, which aborts (and so
 * makes libFuzzer save the input) when one does not hold.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* postgres.h maps these to libpgport's; the targets link libc alone */
#undef fprintf
#undef snprintf

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
					__FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* Return a malloc'd NUL-terminated copy of the fuzzer's input */
static inline char *
fuzz_cstring(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size + 1);

	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Check the fields every parse result must satisfy, whatever its code */
#define FUZZ_CHECK_RESULT(r, str, bound) \
	do { \
		FUZZ_CHECK((r).code >= MV_PARSE_OK && (r).code <= MV_PARSE_BIT_COUNT); \
		FUZZ_CHECK((r).position >= 0 && (size_t) (r).position <= strlen(str)); \
		FUZZ_CHECK((r).count >= 0 && (r).count <= (bound)); \
		FUZZ_CHECK((r).code != MV_PARSE_SYNTAX || (r).expected != NULL); \
	} while (0)

/*
 * A growable text buffer for the formatters that rebuild a literal from a
 * parsed value.
 */
typedef struct FuzzText
{
	char	   *data;
	size_t		len;
	size_t		cap;
} FuzzText;

static inline void
fuzz_text_append(FuzzText *t, const char *s)
{
	size_t		n = strlen(s);

	if (t->len + n + 1 > t->cap)
	{
		t->cap = (t->len + n + 1) * 2;
		t->data = realloc(t->data, t->cap);
		FUZZ_CHECK(t->data != NULL);
	}
	memcpy(t->data + t->len, s, n + 1);
	t->len += n;
}

#endif							/* FUZZ_COMMON_H */
