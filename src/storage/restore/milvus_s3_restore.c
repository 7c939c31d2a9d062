/*
 * milvus_s3_restore.c
 *		The restore_command for WAL that archive_library = 'milvus' archived:
 *
 *			restore_command = 'milvus_s3_restore -c /path/to/s3.conf %f %p'
 *
 * It fetches <prefix>wal/%f from the bucket into %p (through a temporary file
 * renamed into place, so recovery never reads half a segment).  It exits 0
 * when the file is restored, 1 when the bucket does not have it, 2 on any
 * other failure; recovery treats every non-zero status below 126 as "not in
 * the archive".
 *
 * It runs outside the server, so it reads its settings from MILVUS_S3_*
 * environment variables (MILVUS_S3_BUCKET, ...), then from the file -c
 * names, whose lines are "name = value" with the names of the milvus.s3_*
 * settings (the "milvus." is optional, values may be quoted, # starts a
 * comment).  What is still empty comes from AWS_* as in the server.
 *
 * "milvus_s3_restore [-c config-file] --list [page-size]" prints what the
 * bucket holds of the archive instead, a "name size" line per object.
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/pg_prng.h"
#include "lib/stringinfo.h"

#include "milvus/storage.h"

#define EXIT_MISSING 1
#define EXIT_FAILED 2

static const char *progname = "milvus_s3_restore";

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
		"s3_multipart_threshold", "s3_part_size"
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
read_config_file(MvS3Config *config, const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	int			lineno = 0;

	if (f == NULL)
	{
		fprintf(stderr, "%s: could not open file \"%s\": %s\n", progname, path, strerror(errno));
		exit(EXIT_FAILED);
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
			exit(EXIT_FAILED);
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
			exit(EXIT_FAILED);
		}
	}
	fclose(f);
}

/* Write len bytes to path through path.tmp, renamed into place */
static bool
write_file(const char *path, const char *data, size_t len)
{
	char	   *tmp = psprintf("%s.milvus_tmp", path);
	int			fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY, 0600);
	size_t		done = 0;

	if (fd < 0)
	{
		fprintf(stderr, "%s: could not create file \"%s\": %s\n", progname, tmp, strerror(errno));
		return false;
	}
	while (done < len)
	{
		ssize_t		n = write(fd, data + done, len - done);

		if (n <= 0)
		{
			fprintf(stderr, "%s: could not write file \"%s\": %s\n", progname, tmp,
					n < 0 ? strerror(errno) : "no space");
			close(fd);
			unlink(tmp);
			return false;
		}
		done += n;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0)
	{
		fprintf(stderr, "%s: could not write file \"%s\": %s\n", progname, path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-c config-file] WAL-FILE-NAME TARGET-PATH\n"
			"       %s [-c config-file] --list [PAGE-SIZE]\n"
			"  as restore_command = '%s -c /path/to/s3.conf %%f %%p'\n",
			progname, progname, progname);
	exit(EXIT_FAILED);
}

/* --list: print an archived file's name and size */
static void
print_object(void *arg, const char *key, int64 size)
{
	printf("%s " INT64_FORMAT "\n", key + strlen(MV_S3_WAL_FOLDER), size);
}

int
main(int argc, char **argv)
{
	MvS3Config	config = {
		.endpoint = "", .region = "", .bucket = "", .prefix = "",
		.access_key_id = "", .secret_access_key = "", .virtual_host = false,
		.connect_timeout_ms = MV_S3_DEFAULT_CONNECT_TIMEOUT,
		.timeout_ms = MV_S3_DEFAULT_TIMEOUT,
		.max_retries = MV_S3_DEFAULT_RETRIES,
		.multipart_threshold = MV_S3_DEFAULT_MULTIPART_THRESHOLD,
		.part_size = MV_S3_DEFAULT_PART_SIZE
	};
	const char *config_file = NULL;
	const char *file;
	const char *path;
	StringInfoData body;
	MvS3Result	result;
	MvS3Status	status;
	int			argi = 1;
	bool		list = false;

	if (argi + 1 < argc && strcmp(argv[argi], "-c") == 0)
	{
		config_file = argv[argi + 1];
		argi += 2;
	}
	if (argi < argc && strcmp(argv[argi], "--list") == 0)
		list = true;
	else if (argc - argi != 2)
		usage();

	pg_prng_strong_seed(&pg_global_prng_state);
	read_environment(&config);
	if (config_file)
		read_config_file(&config, config_file);
	MvS3ConfigDefaults(&config);
	if (config.bucket[0] == '\0')
	{
		fprintf(stderr, "%s: no bucket: set s3_bucket in the file or MILVUS_S3_BUCKET\n", progname);
		exit(EXIT_FAILED);
	}

	if (list)
	{
		int			page_size = argi + 1 < argc ? atoi(argv[argi + 1]) : 0;

		if (MvS3List(&config, MV_S3_WAL_FOLDER, page_size, print_object, NULL,
					 &result) != MV_S3_OK)
		{
			fprintf(stderr, "%s: %s (%d attempts)\n", progname, result.error, result.attempts);
			exit(EXIT_FAILED);
		}
		return 0;
	}

	file = argv[argi];
	path = argv[argi + 1];
	if (file[0] == '\0' || strchr(file, '/') != NULL)
	{
		fprintf(stderr, "%s: \"%s\" is not a WAL file name\n", progname, file);
		exit(EXIT_FAILED);
	}

	initStringInfo(&body);
	status = MvS3Get(&config, psprintf(MV_S3_WAL_FOLDER "%s", file), &body, &result);
	if (status == MV_S3_NOT_FOUND)
	{
		fprintf(stderr, "%s: %s\n", progname, result.error);
		exit(EXIT_MISSING);
	}
	if (status != MV_S3_OK)
	{
		fprintf(stderr, "%s: %s (%d attempts)\n", progname, result.error, result.attempts);
		exit(EXIT_FAILED);
	}
	if (!write_file(path, body.data, body.len))
		exit(EXIT_FAILED);
	return 0;
}
