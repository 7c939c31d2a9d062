/*
 * name.c
 *		Milvus's name rule, the one definition of it: [A-Za-z_][A-Za-z0-9_]*,
 *		at most MV_NAME_MAX_LENGTH characters.
 *
 * MvNameCheck says what is wrong with a name; its callers word the error:
 * milvus._check_name below for the collection API (databases, collections,
 * partitions, aliases, fields, indexes), the milvus.collection_database
 * setting's check (guc.c) and the schema reader of the filter compiler
 * (filter_sql.c).
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "milvus/collection.h"

PG_FUNCTION_INFO_V1(milvus_check_name);

/* What, if anything, is wrong with a name (see collection.h) */
MvNameProblem
MvNameCheck(const char *name, int length)
{
	if (name[0] == '\0')
		return MV_NAME_EMPTY;
	if (length > MV_NAME_MAX_LENGTH)
		return MV_NAME_TOO_LONG;
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
		  name[0] == '_'))
		return MV_NAME_BAD_FIRST;
	for (int i = 1; name[i]; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
			  (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return MV_NAME_BAD_CHAR;
	return MV_NAME_OK;
}

/*
 * milvus._check_name(kind, name): return name if it follows the rule, else
 * raise invalid_name; a NULL name is an empty one
 */
Datum
milvus_check_name(PG_FUNCTION_ARGS)
{
	const char *kind = PG_ARGISNULL(0) ? "<NULL>" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *name = PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			len = strlen(name);
	int			nchars = pg_mbstrlen_with_len(name, len);
	const char *detail = NULL;

	switch (MvNameCheck(name, nchars))
	{
		case MV_NAME_OK:
			PG_RETURN_TEXT_P(cstring_to_text_with_len(name, len));
		case MV_NAME_EMPTY:
			detail = "A name must not be empty.";
			break;
		case MV_NAME_TOO_LONG:
			/* the name shown is its first 40 characters */
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid %s name \"%.*s...\"", kind,
							pg_mbcharcliplen(name, len, 40), name),
					 errdetail("A name has at most %d characters; this one has %d.",
							   MV_NAME_MAX_LENGTH, nchars)));
			break;
		case MV_NAME_BAD_FIRST:
			detail = "The first character of a name must be an underscore or a letter.";
			break;
		case MV_NAME_BAD_CHAR:
			detail = "A name can only contain letters, digits and underscores.";
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_NAME),
			 errmsg("invalid %s name \"%s\"", kind, name),
			 errdetail_internal("%s", detail)));
	PG_RETURN_NULL();
}
