/*
 * s3_config.c
 *		The settings of the S3 programs (milvus_s3_restore,
 *		milvus_s3_basebackup), which run outside the server.
 *
 * They come from MILVUS_S3_<NAME> environment variables (MILVUS_S3_BUCKET,
 * ...), then from the file -c names, whose lines are "name = value" with the
 * names of the milvus.s3_* settings (the "milvus." is optional, values may be
 * quoted, # starts a comment); what is still empty comes from AWS_* as in the
 * server.  settings[] below is the one list of them.
 *
 * Numbers and Booleans are read as the server reads its settings: the same
 * spellings, units and ranges (parse_number and parse_boolean follow
 * PostgreSQL's parse_int and parse_bool).  A value the server would refuse
 * ends the program with MV_S3_EXIT_FAILED and the server's message, with
 * where the value came from and a hint.  A message may show the value of a
 * number or a Boolean, never that of a string setting: a string may be a
 * secret.
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>

#include "common/pg_prng.h"
#include "lib/stringinfo.h"

#include "milvus/storage.h"
#include "s3_config.h"

/* How a setting's value is read, and the field of MvS3Config it fills */
typedef enum SettingType
{
	SETTING_STRING,				/* const char * */
	SETTING_BOOL,				/* bool */
	SETTING_INT,				/* int, in the setting's unit */
	SETTING_SIZE,				/* int64 bytes; the setting's unit is kB */
	SETTING_CHECKED				/* one of values, checked and not kept: the
								 * server's own, which a file shared with
								 * postgresql.conf may hold */
} SettingType;

/* The unit of a number without one, as the server's GUC_UNIT_* flag says */
typedef enum SettingUnit
{
	UNIT_NONE,
	UNIT_KB,
	UNIT_MS,
	UNIT_S
} SettingUnit;

typedef struct S3Setting
{
	const char *name;			/* milvus.<name> in the server (src/guc.c) */
	SettingType type;
	size_t		offset;			/* of its field in MvS3Config */
	SettingUnit unit;			/* numbers: as in src/guc.c */
	int			min;			/* numbers: the range src/guc.c gives, in unit */
	int			max;
	const char *const *values;	/* SETTING_CHECKED: what src/guc.c accepts */
} S3Setting;

/* milvus.s3_wal_compression's values (the archive module compresses; restores read every form) */
static const char *const wal_compression_values[] = {"off", "lz4", "zstd", NULL};

#define STRING_SETTING(name, field) \
	{name, SETTING_STRING, offsetof(MvS3Config, field)}

static const S3Setting settings[] = {
	STRING_SETTING("s3_access_key_id", access_key_id),
	STRING_SETTING("s3_bucket", bucket),
	STRING_SETTING("s3_ca_file", ca_file),
	{"s3_connect_timeout", SETTING_INT, offsetof(MvS3Config, connect_timeout_ms),
	UNIT_MS, MV_S3_MIN_TIMEOUT, MV_S3_MAX_TIMEOUT},
	STRING_SETTING("s3_endpoint", endpoint),
	{"s3_max_retries", SETTING_INT, offsetof(MvS3Config, max_retries),
	UNIT_NONE, MV_S3_MIN_RETRIES, MV_S3_MAX_RETRIES},
	{"s3_multipart_threshold", SETTING_SIZE, offsetof(MvS3Config, multipart_threshold),
	UNIT_KB, MV_S3_MIN_PART_SIZE / 1024, MV_S3_MAX_PART_SIZE / 1024},
	{"s3_part_size", SETTING_SIZE, offsetof(MvS3Config, part_size),
	UNIT_KB, MV_S3_MIN_PART_SIZE / 1024, MV_S3_MAX_PART_SIZE / 1024},
	STRING_SETTING("s3_prefix", prefix),
	STRING_SETTING("s3_region", region),
	STRING_SETTING("s3_secret_access_key", secret_access_key),
	{"s3_stall_timeout", SETTING_INT, offsetof(MvS3Config, stall_timeout_s),
	UNIT_S, MV_S3_MIN_STALL_TIMEOUT, MV_S3_MAX_STALL_TIMEOUT},
	{"s3_timeout", SETTING_INT, offsetof(MvS3Config, timeout_ms),
	UNIT_MS, MV_S3_MIN_TIMEOUT, MV_S3_MAX_TIMEOUT},
	{"s3_virtual_host", SETTING_BOOL, offsetof(MvS3Config, virtual_host)},
	{"s3_wal_compression", SETTING_CHECKED, 0, UNIT_NONE, 0, 0, wal_compression_values},
};

/*
 * The units a number may carry, largest first for each unit of a bare
 * number, with how many of that unit each is: PostgreSQL's tables
 * (memory_unit_conversion_table and time_unit_conversion_table in guc.c)
 */
typedef struct UnitConversion
{
	char		name[4];
	SettingUnit base;
	double		multiplier;
} UnitConversion;

static const UnitConversion unit_conversions[] = {
	{"TB", UNIT_KB, 1024.0 * 1024.0 * 1024.0},
	{"GB", UNIT_KB, 1024.0 * 1024.0},
	{"MB", UNIT_KB, 1024.0},
	{"kB", UNIT_KB, 1.0},
	{"B", UNIT_KB, 1.0 / 1024.0},

	{"d", UNIT_MS, 1000 * 60 * 60 * 24},
	{"h", UNIT_MS, 1000 * 60 * 60},
	{"min", UNIT_MS, 1000 * 60},
	{"s", UNIT_MS, 1000},
	{"ms", UNIT_MS, 1},
	{"us", UNIT_MS, 1.0 / 1000},

	{"d", UNIT_S, 60 * 60 * 24},
	{"h", UNIT_S, 60 * 60},
	{"min", UNIT_S, 60},
	{"s", UNIT_S, 1},
	{"ms", UNIT_S, 1.0 / 1000},
	{"us", UNIT_S, 1.0 / (1000 * 1000)},

	{""}
};

/* PostgreSQL's hints for a unit it does not know, word for word */
static const char *const memory_units_hint =
"Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\", and \"TB\".";
static const char *const time_units_hint =
"Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\".";

static const char *progname;

/* Exit with MV_S3_EXIT_FAILED after a message, where the value came from and a hint */
static void bad_value(const char *origin, const char *hint, const char *fmt,...)
			pg_attribute_printf(3, 4) pg_attribute_noreturn();

static void
bad_value(const char *origin, const char *hint, const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s: detail: %s\n", progname, origin);
	if (hint)
		fprintf(stderr, "%s: hint: %s\n", progname, hint);
	exit(MV_S3_EXIT_FAILED);
}

/* The unit of a bare number, as the server names it; NULL for none */
static const char *
unit_name(SettingUnit unit)
{
	switch (unit)
	{
		case UNIT_KB:
			return "kB";
		case UNIT_MS:
			return "ms";
		case UNIT_S:
			return "s";
		default:
			return NULL;
	}
}

/*
 * value (a number of base units) in the largest unit that holds it whole,
 * as SHOW prints it: 5120 kB is "5MB"
 */
static char *
with_unit(int value, SettingUnit base)
{
	const char *name = NULL;

	for (const UnitConversion *u = unit_conversions; u->name[0]; u++)
		if (u->base == base && u->multiplier >= 1 && fmod(value, u->multiplier) == 0)
		{
			name = u->name;
			value = (int) (value / u->multiplier);
			break;
		}
	return psprintf("%d%s", value, name ? name : "");
}

/*
 * Convert value, given in the unit named at unit (spaces may follow), to
 * base units; false when base has no unit of that name.  A fraction is
 * rounded to the next smaller unit ("30.1GB" to whole MB), as the server
 * does (convert_to_base_unit in PostgreSQL's guc.c).
 */
static bool
convert_to_base(double value, const char *unit, SettingUnit base, double *result)
{
	char		name[sizeof(unit_conversions[0].name)];
	int			len = 0;

	while (*unit != '\0' && !isspace((unsigned char) *unit) && len < sizeof(name) - 1)
		name[len++] = *unit++;
	name[len] = '\0';
	while (isspace((unsigned char) *unit))
		unit++;
	if (*unit != '\0')
		return false;			/* a unit too long, or more after it */

	for (const UnitConversion *u = unit_conversions; u->name[0]; u++)
	{
		if (u->base != base || strcmp(name, u->name) != 0)
			continue;
		*result = value * u->multiplier;
		if (u[1].name[0] && u[1].base == base)
			*result = rint(*result / u[1].multiplier) * u[1].multiplier;
		return true;
	}
	return false;
}

/*
 * Read an integer setting of unit as the server does (parse_int in
 * PostgreSQL's guc.c): decimal, 0x hex or 0 octal, or with a fraction or an
 * exponent, then, after any spaces, one of the unit's units; rounded to a
 * whole number of the unit.  False when it is not such a number, with *hint
 * set when the server gives one.
 */
static bool
parse_number(const char *value, SettingUnit unit, int *result, const char **hint)
{
	double		val;
	char	   *end;

	*hint = NULL;
	errno = 0;
	val = strtol(value, &end, 0);
	if (*end == '.' || *end == 'e' || *end == 'E' || errno == ERANGE)
	{
		errno = 0;
		val = strtod(value, &end);
	}
	if (end == value || errno == ERANGE || isnan(val))
		return false;
	while (isspace((unsigned char) *end))
		end++;
	if (*end != '\0')
	{
		if (unit == UNIT_NONE)
			return false;
		if (!convert_to_base(val, end, unit, &val))
		{
			*hint = unit == UNIT_KB ? memory_units_hint : time_units_hint;
			return false;
		}
	}
	val = rint(val);
	if (val > INT_MAX || val < INT_MIN)
	{
		*hint = "Value exceeds integer range.";
		return false;
	}
	*result = (int) val;
	return true;
}

/*
 * Read a Boolean as the server does (parse_bool in PostgreSQL): on, off,
 * true, false, yes, no, 1, 0, any case, or a prefix of one that says which
 * (not "o")
 */
static bool
parse_boolean(const char *value, bool *result)
{
	static const struct
	{
		const char *word;
		bool		value;
		size_t		min_len;
	}			words[] = {
		{"true", true, 1}, {"false", false, 1}, {"yes", true, 1}, {"no", false, 1},
		{"on", true, 2}, {"off", false, 2}, {"1", true, 1}, {"0", false, 1}
	};
	size_t		len = strlen(value);

	for (int i = 0; i < lengthof(words); i++)
		if (len >= words[i].min_len && len <= strlen(words[i].word) &&
			pg_strncasecmp(value, words[i].word, len) == 0)
		{
			*result = words[i].value;
			return true;
		}
	return false;
}

/* The hint for a number that is not one: the range, and the unit of a bare number */
static char *
range_hint(const S3Setting *s)
{
	if (s->unit == UNIT_NONE)
		return psprintf("Valid values are between \"%d\" and \"%d\".", s->min, s->max);
	return psprintf("Valid values are between \"%s\" and \"%s\"; a number without a unit is in %s.",
					with_unit(s->min, s->unit), with_unit(s->max, s->unit), unit_name(s->unit));
}

/* Set the config field of the setting named name (without "milvus."); false for no such setting */
static bool
set_option(MvS3Config *config, const char *name, const char *value, const char *origin)
{
	const S3Setting *s = NULL;
	char	   *field;
	const char *hint;
	int			n;

	for (int i = 0; i < lengthof(settings) && s == NULL; i++)
		if (strcmp(name, settings[i].name) == 0)
			s = &settings[i];
	if (s == NULL)
		return false;
	field = (char *) config + s->offset;

	switch (s->type)
	{
		case SETTING_STRING:
			*(const char **) field = value;
			break;
		case SETTING_CHECKED:
			{
				StringInfoData hint;
				bool		known = false;

				initStringInfo(&hint);
				appendStringInfoString(&hint, "Available values: ");
				for (int i = 0; s->values[i] != NULL; i++)
				{
					/* the server compares an enum's names without case */
					known |= pg_strcasecmp(value, s->values[i]) == 0;
					appendStringInfo(&hint, "%s%s", i > 0 ? ", " : "", s->values[i]);
				}
				appendStringInfoChar(&hint, '.');
				if (!known)
					bad_value(origin, hint.data,
							  "invalid value for parameter \"%s\": \"%s\"", name, value);
			}
			break;
		case SETTING_BOOL:
			if (!parse_boolean(value, (bool *) field))
				bad_value(origin, "Valid values are \"on\", \"off\", \"true\", \"false\", "
						  "\"yes\", \"no\", \"1\" and \"0\".",
						  "parameter \"%s\" requires a Boolean value: \"%s\"", name, value);
			break;
		case SETTING_INT:
		case SETTING_SIZE:
			if (!parse_number(value, s->unit, &n, &hint))
				bad_value(origin, hint ? hint : range_hint(s),
						  "invalid value for parameter \"%s\": \"%s\"", name, value);
			if (n < s->min || n > s->max)
				bad_value(origin, NULL,
						  "%d%s%s is outside the valid range for parameter \"%s\" (%d .. %d)",
						  n, s->unit == UNIT_NONE ? "" : " ",
						  s->unit == UNIT_NONE ? "" : unit_name(s->unit),
						  name, s->min, s->max);
			if (s->type == SETTING_SIZE)
				*(int64 *) field = (int64) n * 1024;
			else
				*(int *) field = n;
			break;
	}
	return true;
}

/* Take settings from MILVUS_S3_<NAME> variables */
static void
read_environment(MvS3Config *config)
{
	for (int i = 0; i < lengthof(settings); i++)
	{
		char		var[64] = "MILVUS_";
		const char *value;

		for (const char *p = settings[i].name; *p; p++)
		{
			size_t		n = strlen(var);

			var[n] = pg_toupper((unsigned char) *p);
			var[n + 1] = '\0';
		}
		if ((value = getenv(var)) != NULL)
			set_option(config, settings[i].name, value,
					   psprintf("Set by the environment variable %s.", var));
	}
}

/* Take settings from a file of "name = value" lines */
static void
read_config_file(MvS3Config *config, const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	int			lineno = 0;

	if (f == NULL)
	{
		fprintf(stderr, "%s: could not open file \"%s\": %s\n", progname, path, strerror(errno));
		exit(MV_S3_EXIT_FAILED);
	}
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *p = line;
		char	   *name;
		char	   *value;
		char	   *end;

		lineno++;
		if ((end = strchr(p, '#')) != NULL)
			*end = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '\n' || *p == '\r')
			continue;
		name = p;
		while (*p && *p != '=' && *p != ' ' && *p != '\t')
			p++;
		end = p;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
		{
			fprintf(stderr, "%s: syntax error in \"%s\" line %d\n", progname, path, lineno);
			exit(MV_S3_EXIT_FAILED);
		}
		*end = '\0';
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		value = p;
		end = value + strlen(value);
		while (end > value && (end[-1] == '\n' || end[-1] == '\r' ||
							   end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (end - value >= 2 && value[0] == '\'' && end[-1] == '\'')
		{
			end[-1] = '\0';
			value++;
		}
		if (strncmp(name, "milvus.", 7) == 0)
			name += 7;
		/* the name only: a line may hold a secret */
		if (!set_option(config, name, pstrdup(value),
						psprintf("Set in \"%s\" line %d.", path, lineno)))
		{
			fprintf(stderr, "%s: unknown setting \"%s\" in \"%s\" line %d\n",
					progname, name, path, lineno);
			exit(MV_S3_EXIT_FAILED);
		}
	}
	fclose(f);
}

/*
 * Fill config from the environment, then the file (NULL: none), then AWS_*;
 * exit with MV_S3_EXIT_FAILED on a value the server would refuse, or when
 * that leaves no bucket
 */
void
MvS3ConfigRead(MvS3Config *config, const char *file, const char *program)
{
	*config = (MvS3Config) {
		.endpoint = "", .region = "", .bucket = "", .prefix = "",
		.access_key_id = "", .secret_access_key = "", .ca_file = "", .virtual_host = false,
		.connect_timeout_ms = MV_S3_DEFAULT_CONNECT_TIMEOUT,
		.timeout_ms = MV_S3_DEFAULT_TIMEOUT,
		.stall_timeout_s = MV_S3_DEFAULT_STALL_TIMEOUT,
		.max_retries = MV_S3_DEFAULT_RETRIES,
		.multipart_threshold = MV_S3_DEFAULT_MULTIPART_THRESHOLD,
		.part_size = MV_S3_DEFAULT_PART_SIZE
	};
	progname = program;
	pg_prng_strong_seed(&pg_global_prng_state);
	read_environment(config);
	if (file)
		read_config_file(config, file);
	MvS3ConfigDefaults(config);
	if (config->bucket[0] == '\0')
	{
		fprintf(stderr, "%s: no bucket: set s3_bucket in the file or MILVUS_S3_BUCKET\n", progname);
		exit(MV_S3_EXIT_FAILED);
	}
}
