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
 * environment variables and the file -c names (s3_config.c).
 *
 * "milvus_s3_restore [-c config-file] --list [page-size]" prints what the
 * bucket holds of the archive instead, a "name size" line per object.
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <unistd.h>

#include "lib/stringinfo.h"

#include "milvus/storage.h"
#include "s3_config.h"

#define EXIT_MISSING MV_S3_EXIT_MISSING
#define EXIT_FAILED MV_S3_EXIT_FAILED

static const char *progname = "milvus_s3_restore";

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
	MvS3Config	config;
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

	MvS3ConfigRead(&config, config_file, progname);

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
