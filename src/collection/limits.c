/*
 * limits.c
 *		Milvus's limits on collections, the one definition of them for C and
 *		SQL alike.
 *
 * The C code uses the constants of collection.h and vector.h; the PL/pgSQL
 * catalog checks (src/sql/75_collection_catalog.sql) ask milvus._limit(name)
 * for the same numbers, so a limit changes in one place.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "milvus/collection.h"
#include "milvus/vector.h"

PG_FUNCTION_INFO_V1(milvus_limit);

static const struct
{
	const char *name;
	int			value;
}			limits[] = {
	{"name_max_length", MV_NAME_MAX_LENGTH},
	{"varchar_max_length", MV_VARCHAR_MAX_LENGTH},
	{"json_max_bytes", MV_JSON_MAX_BYTES},
	{"array_max_capacity", MV_ARRAY_MAX_CAPACITY},
	{"dense_max_dim", MV_DENSE_MAX_DIM},
	{"binary_max_dim", MV_BINARY_MAX_DIM},
};

/* milvus._limit(name text) RETURNS integer */
Datum
milvus_limit(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	for (int i = 0; i < lengthof(limits); i++)
		if (strcmp(limits[i].name, name) == 0)
			PG_RETURN_INT32(limits[i].value);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("there is no limit named \"%s\"", name)));
	PG_RETURN_NULL();
}
