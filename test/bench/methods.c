/*
 * methods.c
 *		The search methods milvus_bench knows, and the table layouts they use.
 *
 * A method is one row of bench_methods: the table layout it reads, the
 * access-method clause of its index ("USING ... (...) WITH (...)", after
 * "CREATE INDEX <name> ON <table>"; NULL for exact search, Milvus's FLAT),
 * the session setting swept across its runs, and a setting for its runs
 * with a filter.  In the index clause, {metric} becomes l2, ip or cosine, so
 * one row serves every metric (floatvector_l2_ops, vector_cosine_ops, ...).
 * Adding an index method is one row here, e.g.
 *
 *	{"hnsw", "inline",
 *	 "USING milvus_hnsw (emb floatvector_{metric}_ops) WITH (m = 16, ef_construction = 200)",
 *	 "milvus.hnsw_ef_search", "10,20,40,80,120,200,400", NULL,
 *	 "HNSW graph, ef_search swept"},
 *
 * The pgvector methods compare with pgvector, on a table of the same rows
 * whose vectors are pgvector's vector type; they run only on a server where
 * the extension "vector" is installed, and are skipped elsewhere.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

static const BenchStorage bench_storages[] = {
	/* Vectors are STORAGE external; a target above the row size keeps them in the heap. */
	{"inline", "toast_tuple_target = 8160", BENCH_FLOATVECTOR},
	/* PostgreSQL's default: vectors over ~2 kB go to the TOAST table. */
	{"toast", NULL, BENCH_FLOATVECTOR},
	/* pgvector's vector is STORAGE external too: inline, as "inline" */
	{"pgvector", "toast_tuple_target = 8160", BENCH_PGVECTOR},
};

static const BenchMethod bench_methods[] = {
	{"flat", "inline", NULL, NULL, NULL, NULL,
	"exact search (sequential scan and top-k sort), vectors inline in the heap"},
	{"flat_toast", "toast", NULL, NULL, NULL, NULL,
	"exact search, vectors in TOAST (PostgreSQL's default for large vectors)"},
	{"hnsw", "inline",
		"USING milvus_hnsw (emb floatvector_{metric}_ops) WITH (m = 16, ef_construction = 64)",
		"milvus.hnsw_ef_search", "10,20,40,80,120,200,400", NULL,
	"milvus_hnsw graph (m 16, ef_construction 64), ef_search swept"},
	{"pgvector_flat", "pgvector", NULL, NULL, NULL, NULL,
	"pgvector: exact search on a vector(dim) column, vectors inline in the heap"},
	/* relaxed_order: pgvector's best filtered mode (0.8.0 on; skipped before) */
	{"pgvector_hnsw", "pgvector",
		"USING hnsw (emb vector_{metric}_ops) WITH (m = 16, ef_construction = 64)",
		"hnsw.ef_search", "10,20,40,80,120,200,400", "hnsw.iterative_scan=relaxed_order",
	"pgvector's hnsw graph (m 16, ef_construction 64), ef_search swept"},
};

const BenchMethod *
bench_method_find(const char *name)
{
	for (size_t i = 0; i < lengthof(bench_methods); i++)
		if (strcmp(bench_methods[i].name, name) == 0)
			return &bench_methods[i];
	return NULL;
}

const BenchStorage *
bench_storage_find(const char *name)
{
	for (size_t i = 0; i < lengthof(bench_storages); i++)
		if (strcmp(bench_storages[i].name, name) == 0)
			return &bench_storages[i];
	return NULL;
}

/* The --list-methods output. */
void
bench_methods_print(void)
{
	for (size_t i = 0; i < lengthof(bench_methods); i++)
	{
		const BenchMethod *m = &bench_methods[i];

		printf("%-14s %s\n", m->name, m->description);
		printf("%-14s   table: %s", "", m->storage);
		if (m->index_using)
			printf("; index: %s", m->index_using);
		if (m->sweep_setting)
			printf("; sweeps %s over %s", m->sweep_setting, m->sweep_values);
		if (m->filtered_setting)
			printf("; with a filter, %s", m->filtered_setting);
		printf("\n");
	}
}
