/*
 * fuzz_filter.c
 *		libFuzzer target for MvFilterParse, the filter-expression parser.
 *
 * Beyond "does not crash or leak": a failure must carry a position inside the
 * input (and say what was expected when it is a syntax error); a success must
 * give a tree whose nodes all point inside the input and respect the depth
 * limit, and printing that tree and parsing the text again must give an equal
 * tree, which prints to the same text.  Every allocation goes to an arena that
 * is freed in one go, as a memory context would be in the server.
 */
#include "postgres.h"

#include "milvus/collection.h"
#include "fuzz_common.h"

typedef struct Block
{
	struct Block *next;
	max_align_t data[];
} Block;

static void *
arena_alloc(void *context, size_t size)
{
	Block	  **head = context;
	Block	   *b = malloc(sizeof(Block) + size);

	FUZZ_CHECK(b != NULL);
	b->next = *head;
	*head = b;
	return b->data;
}

static void
arena_free(Block *head)
{
	while (head)
	{
		Block	   *next = head->next;

		free(head);
		head = next;
	}
}

/* Check every node of a parsed tree; return its height */
static int
check_tree(const MvFilterNode *n, size_t len)
{
	int			height = 1;

	FUZZ_CHECK(n != NULL);
	FUZZ_CHECK(n->position >= 0 && (size_t) n->position <= len);
	for (int i = 0; i < n->npath; i++)
		FUZZ_CHECK(n->path[i].position >= 0 && (size_t) n->path[i].position <= len);
	for (int i = 0; i < n->nchildren; i++)
	{
		int			h = check_tree(n->children[i], len) + 1;

		if (h > height)
			height = h;
	}
	FUZZ_CHECK(n->depth == height);
	FUZZ_CHECK(height <= MV_FILTER_MAX_DEPTH);
	return height;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *str = fuzz_cstring(data, size);
	size_t		len = strlen(str);
	Block	   *arena = NULL;
	MvFilterAllocator allocator = {arena_alloc, &arena};
	MvFilterParseResult r = MvFilterParse(str, &allocator);

	FUZZ_CHECK(r.code >= MVF_OK && r.code <= MVF_ERR_NO_MEMORY);
	FUZZ_CHECK(r.code != MVF_ERR_NO_MEMORY);
	FUZZ_CHECK(r.position >= 0 && (size_t) r.position <= len);
	FUZZ_CHECK(r.length >= 0 && (size_t) (r.position + r.length) <= len);
	if (r.code == MVF_ERR_SYNTAX || r.code == MVF_ERR_UNSUPPORTED)
		FUZZ_CHECK(r.expected != NULL);

	if (r.code == MVF_OK)
	{
		char	   *printed;
		char	   *again;
		MvFilterParseResult r2;

		check_tree(r.root, len);
		printed = MvFilterPrint(r.root, &allocator);
		FUZZ_CHECK(printed != NULL);

		r2 = MvFilterParse(printed, &allocator);
		if (r2.code != MVF_OK)
			fprintf(stderr, "reparse of \"%s\" failed with %d at %d\n",
					printed, (int) r2.code, r2.position);
		FUZZ_CHECK(r2.code == MVF_OK);
		FUZZ_CHECK(MvFilterEqual(r.root, r2.root));
		again = MvFilterPrint(r2.root, &allocator);
		FUZZ_CHECK(again != NULL && strcmp(printed, again) == 0);
	}
	else
		FUZZ_CHECK(r.root == NULL);

	arena_free(arena);
	free(str);
	return 0;
}
