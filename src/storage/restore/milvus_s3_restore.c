/*
 * milvus_s3_restore.c
 *		The restore_command for WAL that archive_library = 'milvus' archived:
 *
 *			restore_command = 'milvus_s3_restore -c /path/to/s3.conf %f %p'
 *
 * It fetches <prefix>wal/%f from the bucket into %p (through a temporary file
 * renamed into place, so recovery never reads half a segment), or
 * <prefix>wal/%f.zst or %f.lz4, decompressed, when the archive module
 * compressed it (milvus.s3_wal_compression): one listing of the name as a
 * prefix says which the bucket holds; the plain form first.  It exits 0
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

/* Exit with the message of a failed S3 call */
static void fail_s3(const MvS3Result *result) pg_attribute_noreturn();

static void
fail_s3(const MvS3Result *result)
{
	fprintf(stderr, "%s: %s (%d attempts)\n", progname, result->error, result->attempts);
	exit(EXIT_FAILED);
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

/* The forms a WAL file may be stored in, the plain one first */
static const MvS3Compression codecs[] = {
	MV_S3_COMPRESSION_NONE, MV_S3_COMPRESSION_ZSTD, MV_S3_COMPRESSION_LZ4
};

/* What the bucket holds of one file: which of its forms */
typedef struct FileForms
{
	const char *file;
	bool		found[lengthof(codecs)];
} FileForms;

/* Note the objects that are the file, plain or compressed */
static void
note_form(void *arg, const char *key, int64 size)
{
	FileForms  *forms = (FileForms *) arg;
	const char *name = key + strlen(MV_S3_WAL_FOLDER);
	size_t		len = strlen(forms->file);

	if (strncmp(name, forms->file, len) != 0)
		return;
	for (int i = 0; i < lengthof(codecs); i++)
		if (strcmp(name + len, MvS3CompressionSuffix(codecs[i])) == 0)
			forms->found[i] = true;
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
	FileForms	forms = {0};
	int			form;
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
		int			page_size = 0;

		if (argi + 2 < argc)
			usage();
		if (argi + 1 < argc)
		{
			const char *arg = argv[argi + 1];
			char	   *end;
			long		n;

			errno = 0;
			n = strtol(arg, &end, 10);
			/* S3 answers at most 1,000 keys a page (max-keys); 0 leaves it to S3 */
			if (end == arg || *end != '\0' || errno == ERANGE || n < 0 || n > 1000)
			{
				fprintf(stderr, "%s: invalid page size \"%s\": a whole number from 0 (the server's default) to 1000\n",
						progname, arg);
				exit(EXIT_FAILED);
			}
			page_size = (int) n;
		}

		if (MvS3List(&config, MV_S3_WAL_FOLDER, page_size, print_object, NULL,
					 &result) != MV_S3_OK)
			fail_s3(&result);
		return 0;
	}

	file = argv[argi];
	path = argv[argi + 1];
	if (file[0] == '\0' || strchr(file, '/') != NULL)
	{
		fprintf(stderr, "%s: \"%s\" is not a WAL file name\n", progname, file);
		exit(EXIT_FAILED);
	}

	/* one listing says whether it is there and in which forms */
	forms.file = file;
	if (MvS3List(&config, psprintf(MV_S3_WAL_FOLDER "%s", file), 0, note_form, &forms,
				 &result) != MV_S3_OK)
		fail_s3(&result);
	for (form = 0; form < lengthof(codecs) && !forms.found[form]; form++)
		;
	if (form == lengthof(codecs))
	{
		fprintf(stderr, "%s: %s is not in the bucket\n", progname, file);
		exit(EXIT_MISSING);
	}

	initStringInfo(&body);
	status = MvS3Get(&config, psprintf(MV_S3_WAL_FOLDER "%s%s", file,
									   MvS3CompressionSuffix(codecs[form])),
					 &body, &result);
	if (status == MV_S3_NOT_FOUND)
	{
		fprintf(stderr, "%s: %s\n", progname, result.error);
		exit(EXIT_MISSING);
	}
	if (status != MV_S3_OK)
		fail_s3(&result);
	if (codecs[form] != MV_S3_COMPRESSION_NONE)
	{
		StringInfoData plain;

		initStringInfo(&plain);
		if (!MvS3Decompress(codecs[form], body.data, body.len, &plain, result.error))
		{
			fprintf(stderr, "%s: %s%s: %s\n", progname, file,
					MvS3CompressionSuffix(codecs[form]), result.error);
			exit(EXIT_FAILED);
		}
		body = plain;
	}
	if (!write_file(path, body.data, body.len))
		exit(EXIT_FAILED);
	return 0;
}
