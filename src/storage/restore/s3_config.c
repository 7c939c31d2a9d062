/*
 * s3_config.c
 *		The settings of the S3 programs (milvus_s3_restore,
 *		milvus_s3_basebackup), which run outside the server.
 *
 * They come from MILVUS_S3_<NAME> environment variables (MILVUS_S3_BUCKET,
 * ...), then from the file -c names, whose lines are "name = value" with the
 * names of the milvus.s3_* settings (the "milvus." is optional, values may be
 * quoted, # starts a comment); what is still empty comes from AWS_* as in the
 * server.  A message names a setting, never its value: a line may hold a
 * secret.
 */
#include "postgres_fe.h"

#include "common/pg_prng.h"

#include "milvus/storage.h"
#include "s3_config.h"

/* A size in kB, or with a unit (kB, MB, GB) as PostgreSQL writes it, in bytes */
static int64
parse_size(const char *value)
{
	char	   *end;
	int64		n = strtoll(value, &end, 10);

	while (*end == ' ')
		end++;
	if (strcmp(end, "MB") == 0)
		return n * 1024 * 1024;
	if (strcmp(end, "GB") == 0)
		return n * 1024 * 1024 * 1024;
	return n * 1024;
}

/* Set the config field that name (a milvus.s3_* name without "milvus.") names */
static bool
set_option(MvS3Config *config, const char *name, const char *value)
{
	if (strcmp(name, "s3_endpoint") == 0)
		config->endpoint = value;
	else if (strcmp(name, "s3_region") == 0)
		config->region = value;
	else if (strcmp(name, "s3_bucket") == 0)
		config->bucket = value;
	else if (strcmp(name, "s3_prefix") == 0)
		config->prefix = value;
	else if (strcmp(name, "s3_access_key_id") == 0)
		config->access_key_id = value;
	else if (strcmp(name, "s3_secret_access_key") == 0)
		config->secret_access_key = value;
	else if (strcmp(name, "s3_ca_file") == 0)
		config->ca_file = value;
	else if (strcmp(name, "s3_stall_timeout") == 0)
		config->stall_timeout_s = atoi(value);
	else if (strcmp(name, "s3_virtual_host") == 0)
		config->virtual_host = (strcmp(value, "on") == 0 || strcmp(value, "true") == 0 ||
								strcmp(value, "1") == 0);
	else if (strcmp(name, "s3_connect_timeout") == 0)
		config->connect_timeout_ms = atoi(value);
	else if (strcmp(name, "s3_timeout") == 0)
		config->timeout_ms = atoi(value);
	else if (strcmp(name, "s3_max_retries") == 0)
		config->max_retries = atoi(value);
	else if (strcmp(name, "s3_multipart_threshold") == 0)
		config->multipart_threshold = parse_size(value);
	else if (strcmp(name, "s3_part_size") == 0)
		config->part_size = parse_size(value);
	else
		return false;
	return true;
}

/* Take settings from MILVUS_S3_<NAME> variables */
static void
read_environment(MvS3Config *config)
{
	static const char *const names[] = {
		"s3_endpoint", "s3_region", "s3_bucket", "s3_prefix",
		"s3_access_key_id", "s3_secret_access_key", "s3_virtual_host",
		"s3_connect_timeout", "s3_timeout", "s3_max_retries",
		"s3_multipart_threshold", "s3_part_size", "s3_ca_file", "s3_stall_timeout"
	};

	for (int i = 0; i < lengthof(names); i++)
	{
		char		var[64] = "MILVUS_";
		const char *value;

		for (const char *p = names[i]; *p; p++)
		{
			size_t		n = strlen(var);

			var[n] = pg_toupper((unsigned char) *p);
			var[n + 1] = '\0';
		}
		if ((value = getenv(var)) != NULL)
			set_option(config, names[i], value);
	}
}

/* Take settings from a file of "name = value" lines */
static void
read_config_file(MvS3Config *config, const char *path, const char *progname)
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
		if (!set_option(config, name, pstrdup(value)))
		{
			fprintf(stderr, "%s: unknown setting \"%s\" in \"%s\" line %d\n",
					progname, name, path, lineno);
			exit(MV_S3_EXIT_FAILED);
		}
	}
	fclose(f);
}

/* Exit when a numeric setting is outside the range the server's setting allows */
static void
check_range(const char *name, int64 value, int64 min, int64 max, const char *progname)
{
	if (value < min || value > max)
	{
		fprintf(stderr, "%s: %s is out of range: it must be between " INT64_FORMAT
				" and " INT64_FORMAT "%s\n", progname, name, min, max,
				max >= 1024 * 1024 ? " bytes" : "");
		exit(MV_S3_EXIT_FAILED);
	}
}

/*
 * Fill config from the environment, then the file (NULL: none), then AWS_*;
 * exit with MV_S3_EXIT_FAILED when that leaves no bucket
 */
void
MvS3ConfigRead(MvS3Config *config, const char *file, const char *progname)
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
	pg_prng_strong_seed(&pg_global_prng_state);
	read_environment(config);
	if (file)
		read_config_file(config, file, progname);
	MvS3ConfigDefaults(config);
	check_range("s3_connect_timeout", config->connect_timeout_ms,
				MV_S3_MIN_TIMEOUT, MV_S3_MAX_TIMEOUT, progname);
	check_range("s3_timeout", config->timeout_ms,
				MV_S3_MIN_TIMEOUT, MV_S3_MAX_TIMEOUT, progname);
	check_range("s3_stall_timeout", config->stall_timeout_s,
				MV_S3_MIN_STALL_TIMEOUT, MV_S3_MAX_STALL_TIMEOUT, progname);
	check_range("s3_max_retries", config->max_retries,
				MV_S3_MIN_RETRIES, MV_S3_MAX_RETRIES, progname);
	check_range("s3_multipart_threshold", config->multipart_threshold,
				MV_S3_MIN_PART_SIZE, MV_S3_MAX_PART_SIZE, progname);
	check_range("s3_part_size", config->part_size,
				MV_S3_MIN_PART_SIZE, MV_S3_MAX_PART_SIZE, progname);
	if (config->bucket[0] == '\0')
	{
		fprintf(stderr, "%s: no bucket: set s3_bucket in the file or MILVUS_S3_BUCKET\n", progname);
		exit(MV_S3_EXIT_FAILED);
	}
}
