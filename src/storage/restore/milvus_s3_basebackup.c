/*
 * milvus_s3_basebackup.c
 *		Base backups in the bucket, for point-in-time recovery from the bucket
 *		alone (with the WAL that archive_library = 'milvus' archives):
 *
 *			milvus_s3_basebackup [-c FILE] create NAME [pg_basebackup options]
 *			milvus_s3_basebackup [-c FILE] list
 *			milvus_s3_basebackup [-c FILE] fetch NAME DIRECTORY
 *			milvus_s3_basebackup [-c FILE] delete NAME
 *
 * create runs "pg_basebackup -D - -F tar -X none --checkpoint=fast" with the
 * options given (how to connect) and streams its tar, never whole in memory
 * nor on disk, to <prefix>basebackups/NAME/base.tar (a multipart upload when
 * it is long).  -X none: the server waits until the WAL the backup needs is
 * archived before pg_basebackup ends, so the bucket holds it.  As the tar
 * goes by we compute its SHA-256 and pick its backup_label out; then we write
 * <prefix>basebackups/NAME/manifest.json.  The manifest goes last: a backup
 * without one is incomplete, and list and fetch ignore or refuse it.
 *
 * fetch reads the manifest, streams base.tar in ranged GETs into "tar -x"
 * into DIRECTORY (which must be empty or absent), and checks the length and
 * SHA-256 against the manifest.  The caller then adds restore_command and
 * recovery.signal and starts the server (doc/storage.md).  delete removes
 * the manifest, then the rest of the folder.
 *
 * A separate program from milvus_s3_restore: that one is recovery's
 * restore_command with a fixed contract (%f %p, its exit statuses); this one
 * is run by hand or cron and runs other programs.  Both share s3.c and
 * s3_config.c.  Exit status: 0 done, 1 no such backup, 2 any other failure.
 */
#include "postgres_fe.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/stringinfo.h"

#include "milvus/storage.h"
#include "s3_config.h"

#define TAR_BLOCK 512

static const char *progname = "milvus_s3_basebackup";
static const char *argv0;

/* Watches a tar stream go by: its backup_label member and where it ends */
typedef struct TarScan
{
	int64		pos;			/* bytes seen */
	int64		next_header;	/* where the next header starts */
	char		header[TAR_BLOCK];
	int			header_len;
	bool		in_label;		/* the current member is backup_label */
	int64		data_end;		/* where the current member's data ends */
	bool		ended;			/* the end-of-archive block went by */
	StringInfoData label;
} TarScan;

/* The pg_basebackup child and what its output has been so far */
typedef struct BackupSource
{
	pid_t		pid;
	int			fd;				/* its stdout */
	EVP_MD_CTX *sha;
	TarScan		tar;
} BackupSource;

/* The tar child of a fetch, and the digest of what it was given */
typedef struct FetchSink
{
	int			fd;				/* its stdin */
	EVP_MD_CTX *sha;
} FetchSink;

/* Exit with status 2 after a message */
static void
fail(const char *fmt,...) pg_attribute_printf(1, 2);

static void
fail(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(MV_S3_EXIT_FAILED);
}

/* A backup name is a folder name of ours: letters, digits, - _ . */
static void
check_name(const char *name)
{
	if (name[0] == '\0' || name[0] == '.' || strlen(name) > 64 ||
		strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(name))
		fail("\"%s\" is not a valid backup name (letters, digits, \"-\", \"_\", \".\", at most 64)", name);
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The lowercase hex of a finished digest into hex[65] */
static void
digest_hex(EVP_MD_CTX *sha, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len;

	EVP_DigestFinal_ex(sha, md, &len);
	for (unsigned int i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

/* Follow the tar stream through n more bytes */
static void
tar_scan(TarScan *tar, const char *data, size_t n)
{
	size_t		p = 0;

	while (p < n && !tar->ended)
	{
		if (tar->pos < tar->next_header)
		{
			size_t		take = Min(n - p, tar->next_header - tar->pos);

			if (tar->in_label && tar->pos < tar->data_end)
				appendBinaryStringInfo(&tar->label, data + p,
									   Min(take, tar->data_end - tar->pos));
			tar->pos += take;
			p += take;
			continue;
		}

		/* a header, perhaps across reads */
		{
			size_t		take = Min(n - p, TAR_BLOCK - tar->header_len);
			int64		size;
			bool		zero = true;

			memcpy(tar->header + tar->header_len, data + p, take);
			tar->header_len += take;
			tar->pos += take;
			p += take;
			if (tar->header_len < TAR_BLOCK)
				continue;
			tar->header_len = 0;
			for (int i = 0; i < TAR_BLOCK && zero; i++)
				zero = tar->header[i] == '\0';
			if (zero)
			{
				tar->ended = true;
				break;
			}
			size = strtoll(pnstrdup(tar->header + 124, 12), NULL, 8);
			tar->in_label = strncmp(tar->header, "backup_label", 100) == 0;
			tar->data_end = tar->pos + size;
			tar->next_header = tar->pos + (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
		}
	}
	/* the zero blocks after the end, and any padding */
	tar->pos += n - p;
}

/* MvS3ReadCallback over pg_basebackup's stdout; its exit status at the end */
static ssize_t
backup_read(void *arg, char *buf, size_t len, char *error)
{
	BackupSource *src = (BackupSource *) arg;
	ssize_t		n;
	int			status;

	do
		n = read(src->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
	{
		snprintf(error, MV_S3_ERROR_LEN, "could not read from pg_basebackup: %s", strerror(errno));
		return -1;
	}
	if (n > 0)
	{
		EVP_DigestUpdate(src->sha, buf, n);
		tar_scan(&src->tar, buf, n);
		return n;
	}

	/* the end: only a whole tar from a pg_basebackup that succeeded counts */
	if (waitpid(src->pid, &status, 0) != src->pid ||
		!WIFEXITED(status) || WEXITSTATUS(status) != 0)
	{
		snprintf(error, MV_S3_ERROR_LEN, "pg_basebackup failed (see its messages above)");
		return -1;
	}
	src->pid = 0;
	if (!src->tar.ended || src->tar.label.len == 0)
	{
		snprintf(error, MV_S3_ERROR_LEN, "pg_basebackup's output is not a whole base backup tar");
		return -1;
	}
	return 0;
}

/* The value of "KEY: value" in a backup_label, or "" */
static char *
label_value(const char *label, const char *key)
{
	const char *p = label;
	size_t		klen = strlen(key);

	while (p && *p)
	{
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
		{
			const char *v = p + klen + 1;
			const char *end = strchr(v, '\n');

			while (*v == ' ')
				v++;
			return pnstrdup(v, end ? end - v : strlen(v));
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return pstrdup("");
}

/* Append s as a JSON string */
static void
append_json_string(StringInfo out, const char *s)
{
	appendStringInfoChar(out, '"');
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			appendStringInfo(out, "\\%c", *s);
		else if ((unsigned char) *s < 0x20)
			appendStringInfo(out, "\\u%04x", (unsigned char) *s);
		else
			appendStringInfoChar(out, *s);
	}
	appendStringInfoChar(out, '"');
}

/* The string value of "key" in a manifest we wrote, or NULL */
static char *
manifest_value(const char *manifest, const char *key)
{
	char	   *pattern = psprintf("\"%s\": ", key);
	const char *p = strstr(manifest, pattern);
	StringInfoData value;

	if (p == NULL)
		return NULL;
	p += strlen(pattern);
	initStringInfo(&value);
	if (*p != '"')
	{
		while (*p && *p != ',' && *p != '\n' && *p != '}')
			appendStringInfoChar(&value, *p++);
		return value.data;
	}
	for (p++; *p && *p != '"'; p++)
	{
		if (*p == '\\' && p[1])
			p++;
		appendStringInfoChar(&value, *p);
	}
	return value.data;
}

/* The manifest.json of a base backup */
static char *
backup_manifest(const char *name, int64 size, int parts, const char *sha,
				time_t started, const char *label)
{
	StringInfoData manifest;
	char		started_at[64];

	strftime(started_at, sizeof(started_at), "%Y-%m-%d %H:%M:%S+00", gmtime(&started));
	initStringInfo(&manifest);
	appendStringInfoString(&manifest, "{\n  \"name\": ");
	append_json_string(&manifest, name);
	appendStringInfoString(&manifest, ",\n  \"format\": \"tar\",\n  \"compression\": \"none\"");
	appendStringInfoString(&manifest, ",\n  \"file\": \"base.tar\"");
	appendStringInfo(&manifest, ",\n  \"bytes\": " INT64_FORMAT ",\n  \"parts\": %d", size, parts);
	appendStringInfo(&manifest, ",\n  \"sha256\": \"%s\"", sha);
	appendStringInfo(&manifest, ",\n  \"started_at\": \"%s\"", started_at);
	appendStringInfoString(&manifest, ",\n  \"start_wal_location\": ");
	append_json_string(&manifest, label_value(label, "START WAL LOCATION"));
	appendStringInfoString(&manifest, ",\n  \"start_timeline\": ");
	append_json_string(&manifest, label_value(label, "START TIMELINE"));
	appendStringInfoString(&manifest, ",\n  \"start_time\": ");
	append_json_string(&manifest, label_value(label, "START TIME"));
	appendStringInfoString(&manifest, ",\n  \"backup_label\": ");
	append_json_string(&manifest, label);
	appendStringInfoString(&manifest, "\n}\n");
	return manifest.data;
}

/*
 * Run args[0] (from our own directory first when beside_us, then PATH) with a
 * pipe as its child_fd (STDIN_FILENO: we write, STDOUT_FILENO: we read);
 * our end of the pipe in *fd, its pid returned
 */
static pid_t
start_child(char **args, bool beside_us, int child_fd, int *fd)
{
	int			pipefd[2];
	int			ours = child_fd == STDIN_FILENO ? 1 : 0;
	pid_t		pid;

	if (pipe(pipefd) != 0)
		fail("could not create a pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fail("could not fork: %s", strerror(errno));
	if (pid == 0)
	{
		char		dir[MAXPGPATH];

		dup2(pipefd[1 - ours], child_fd);
		close(pipefd[0]);
		close(pipefd[1]);
		if (beside_us && find_my_exec(argv0, dir) == 0)
		{
			*last_dir_separator(dir) = '\0';
			execv(psprintf("%s/%s", dir, args[0]), args);
		}
		execvp(args[0], args);
		fprintf(stderr, "%s: could not run %s: %s\n", progname, args[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1 - ours]);
	*fd = pipefd[ours];
	return pid;
}

/* Start pg_basebackup writing the tar of a backup to *fd; its pid */
static pid_t
start_pg_basebackup(const char *name, int nopts, char **opts, int *fd)
{
	char	  **args = palloc0(sizeof(char *) * (nopts + 8));
	int			nargs = 0;

	args[nargs++] = "pg_basebackup";
	args[nargs++] = "-D";
	args[nargs++] = "-";
	args[nargs++] = "-Ftar";
	args[nargs++] = "-Xnone";
	args[nargs++] = "--checkpoint=fast";
	args[nargs++] = psprintf("--label=milvus_s3_basebackup %s", name);
	for (int i = 0; i < nopts; i++)
		args[nargs++] = opts[i];

	return start_child(args, true, STDOUT_FILENO, fd);
}

/* create NAME [options]: pg_basebackup's tar to the bucket, then the manifest */
static int
do_create(const MvS3Config *config, const char *name, int nopts, char **opts)
{
	char	   *base_key = psprintf(MV_S3_BASEBACKUP_FOLDER "%s/base.tar", name);
	char	   *manifest_key = psprintf(MV_S3_BASEBACKUP_FOLDER "%s/manifest.json", name);
	BackupSource src = {0};
	MvS3Result	result;
	int64		size;
	int64		stored;
	int			parts;
	char		sha[2 * EVP_MAX_MD_SIZE + 1];
	char	   *label;
	char	   *manifest;
	time_t		started = time(NULL);
	double		t0 = now_seconds();
	double		secs;

	check_name(name);
	if (MvS3Head(config, manifest_key, &stored, &result) == MV_S3_OK)
		fail("base backup \"%s\" exists already", name);
	if (result.status != MV_S3_NOT_FOUND)
		fail("%s (%d attempts)", result.error, result.attempts);

	src.pid = start_pg_basebackup(name, nopts, opts, &src.fd);
	src.sha = EVP_MD_CTX_new();
	EVP_DigestInit_ex(src.sha, EVP_sha256(), NULL);
	initStringInfo(&src.tar.label);

	if (MvS3PutStream(config, base_key, backup_read, &src, &size, &result) != MV_S3_OK)
	{
		if (src.pid > 0)
		{
			kill(src.pid, SIGTERM);
			waitpid(src.pid, NULL, 0);
		}
		fail("%s (%d attempts)", result.error, result.attempts);
	}
	close(src.fd);
	parts = result.parts;
	if (MvS3Head(config, base_key, &stored, &result) != MV_S3_OK)
		fail("could not verify the upload: %s (%d attempts)", result.error, result.attempts);
	if (stored != size)
		fail("the bucket holds " INT64_FORMAT " bytes of base.tar, pg_basebackup wrote " INT64_FORMAT,
			 stored, size);
	secs = now_seconds() - t0;
	digest_hex(src.sha, sha);

	label = src.tar.label.data;
	manifest = backup_manifest(name, size, parts, sha, started, label);
	if (MvS3Put(config, manifest_key, manifest, strlen(manifest), &result) != MV_S3_OK)
		fail("could not store the manifest: %s (%d attempts)", result.error, result.attempts);

	printf("base backup \"%s\": " INT64_FORMAT " bytes in %d parts in %.2f s (%.1f MB/s), WAL from %s\n",
		   name, size, parts, secs, size / 1048576.0 / Max(secs, 1e-6),
		   label_value(label, "START WAL LOCATION"));
	return 0;
}

/* list: the keys of the manifests, to be read one by one */
static void
collect_manifest(void *arg, const char *key, int64 size)
{
	size_t		len = strlen(key);
	const char *suffix = "/manifest.json";

	if (len > strlen(suffix) && strcmp(key + len - strlen(suffix), suffix) == 0)
		appendStringInfo((StringInfo) arg, "%s\n", key);
}

/* list: a line per complete base backup: name, start time, WAL start, bytes */
static int
do_list(const MvS3Config *config)
{
	StringInfoData keys;
	MvS3Result	result;
	char	   *key;

	initStringInfo(&keys);
	if (MvS3List(config, MV_S3_BASEBACKUP_FOLDER, 0, collect_manifest, &keys, &result) != MV_S3_OK)
		fail("%s (%d attempts)", result.error, result.attempts);
	for (key = strtok(keys.data, "\n"); key; key = strtok(NULL, "\n"))
	{
		StringInfoData body;

		initStringInfo(&body);
		if (MvS3Get(config, key, &body, &result) != MV_S3_OK)
			fail("%s (%d attempts)", result.error, result.attempts);
		printf("%s\t%s\t%s\t%s\n", manifest_value(body.data, "name"),
			   manifest_value(body.data, "start_time"),
			   manifest_value(body.data, "start_wal_location"),
			   manifest_value(body.data, "bytes"));
		pfree(body.data);
	}
	return 0;
}

/* delete: the keys under a backup's folder, to be deleted one by one */
static void
collect_key(void *arg, const char *key, int64 size)
{
	appendStringInfo((StringInfo) arg, "%s\n", key);
}

/* delete NAME: the manifest first, so that a delete cut short leaves no backup */
static int
do_delete(const MvS3Config *config, const char *name)
{
	char	   *folder = psprintf(MV_S3_BASEBACKUP_FOLDER "%s/", name);
	char	   *manifest_key = psprintf("%smanifest.json", folder);
	StringInfoData keys;
	MvS3Result	result;
	int64		size;
	int			n = 0;

	check_name(name);
	if (MvS3Head(config, manifest_key, &size, &result) == MV_S3_NOT_FOUND)
	{
		fprintf(stderr, "%s: no complete base backup \"%s\" in the bucket\n", progname, name);
		exit(MV_S3_EXIT_MISSING);
	}
	if (result.status != MV_S3_OK || MvS3Delete(config, manifest_key, &result) != MV_S3_OK)
		fail("%s (%d attempts)", result.error, result.attempts);
	initStringInfo(&keys);
	if (MvS3List(config, folder, 0, collect_key, &keys, &result) != MV_S3_OK)
		fail("%s (%d attempts)", result.error, result.attempts);
	for (char *key = strtok(keys.data, "\n"); key; key = strtok(NULL, "\n"), n++)
		if (MvS3Delete(config, key, &result) != MV_S3_OK)
			fail("%s (%d attempts)", result.error, result.attempts);
	printf("base backup \"%s\" deleted: the manifest and %d more objects\n", name, n);
	return 0;
}

/* MvS3WriteCallback into tar's stdin */
static bool
fetch_write(void *arg, const char *data, size_t len, char *error)
{
	FetchSink  *sink = (FetchSink *) arg;

	EVP_DigestUpdate(sink->sha, data, len);
	while (len > 0)
	{
		ssize_t		n = write(sink->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			snprintf(error, MV_S3_ERROR_LEN, "could not write to tar: %s", strerror(errno));
			return false;
		}
		data += n;
		len -= n;
	}
	return true;
}

/* True when path is absent or an empty directory */
static bool
directory_empty(const char *path)
{
	DIR		   *dir = opendir(path);
	struct dirent *de;

	if (dir == NULL)
		return errno == ENOENT;
	while ((de = readdir(dir)) != NULL)
	{
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
		{
			closedir(dir);
			return false;
		}
	}
	closedir(dir);
	return true;
}

/* fetch NAME DIRECTORY: the backup's tar extracted into a new data directory */
static int
do_fetch(const MvS3Config *config, const char *name, const char *target)
{
	char	   *base_key = psprintf(MV_S3_BASEBACKUP_FOLDER "%s/base.tar", name);
	char	   *manifest_key = psprintf(MV_S3_BASEBACKUP_FOLDER "%s/manifest.json", name);
	StringInfoData manifest;
	MvS3Result	result;
	MvS3Status	status;
	FetchSink	sink;
	char	   *tar_args[] = {"tar", "-x", "-f", "-", "-C", unconstify(char *, target), NULL};
	pid_t		pid;
	int			wstatus;
	int64		size;
	char		sha[2 * EVP_MAX_MD_SIZE + 1];
	char	   *want_sha;
	char	   *want_bytes;
	double		t0 = now_seconds();
	double		secs;

	check_name(name);
	initStringInfo(&manifest);
	status = MvS3Get(config, manifest_key, &manifest, &result);
	if (status == MV_S3_NOT_FOUND)
	{
		fprintf(stderr, "%s: no complete base backup \"%s\" in the bucket\n", progname, name);
		exit(MV_S3_EXIT_MISSING);
	}
	if (status != MV_S3_OK)
		fail("%s (%d attempts)", result.error, result.attempts);
	want_sha = manifest_value(manifest.data, "sha256");
	want_bytes = manifest_value(manifest.data, "bytes");
	if (want_sha == NULL || want_bytes == NULL)
		fail("the manifest of \"%s\" lacks sha256 or bytes", name);

	if (!directory_empty(target))
		fail("directory \"%s\" exists and is not empty", target);
	if (mkdir(target, 0700) != 0 && errno != EEXIST)
		fail("could not create directory \"%s\": %s", target, strerror(errno));
	if (chmod(target, 0700) != 0)
		fail("could not change the mode of \"%s\": %s", target, strerror(errno));

	pid = start_child(tar_args, false, STDIN_FILENO, &sink.fd);
	/* a tar that stops reading must fail the write, not kill us */
	signal(SIGPIPE, SIG_IGN);
	sink.sha = EVP_MD_CTX_new();
	EVP_DigestInit_ex(sink.sha, EVP_sha256(), NULL);

	status = MvS3GetStream(config, base_key, fetch_write, &sink, &size, &result);
	close(sink.fd);
	if (waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
		fail("tar failed to extract base backup \"%s\" into \"%s\"; remove what it left there",
			 name, target);
	if (status != MV_S3_OK)
		fail("%s (%d attempts); remove what was extracted into \"%s\"",
			 result.error, result.attempts, target);
	digest_hex(sink.sha, sha);
	if (strcmp(sha, want_sha) != 0 || size != strtoll(want_bytes, NULL, 10))
		fail("base.tar of \"%s\" does not match its manifest (SHA-256 or length); "
			 "remove what was extracted into \"%s\"", name, target);
	secs = now_seconds() - t0;
	printf("base backup \"%s\" in \"%s\": " INT64_FORMAT " bytes in %.2f s (%.1f MB/s)\n",
		   name, target, size, secs, size / 1048576.0 / Max(secs, 1e-6));
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-c config-file] create NAME [pg_basebackup connection options]\n"
			"       %s [-c config-file] list\n"
			"       %s [-c config-file] fetch NAME DIRECTORY\n"
			"       %s [-c config-file] delete NAME\n",
			progname, progname, progname, progname);
	exit(MV_S3_EXIT_FAILED);
}

int
main(int argc, char **argv)
{
	MvS3Config	config;
	const char *config_file = NULL;
	int			argi = 1;

	argv0 = argv[0];
	if (argi + 1 < argc && strcmp(argv[argi], "-c") == 0)
	{
		config_file = argv[argi + 1];
		argi += 2;
	}
	if (argi >= argc)
		usage();
	/* stdout carries the report: in order with stderr's messages */
	setvbuf(stdout, NULL, _IOLBF, 0);
	MvS3ConfigRead(&config, config_file, progname);

	if (strcmp(argv[argi], "create") == 0 && argc - argi >= 2)
		return do_create(&config, argv[argi + 1], argc - argi - 2, argv + argi + 2);
	if (strcmp(argv[argi], "list") == 0 && argc - argi == 1)
		return do_list(&config);
	if (strcmp(argv[argi], "delete") == 0 && argc - argi == 2)
		return do_delete(&config, argv[argi + 1]);
	if (strcmp(argv[argi], "fetch") == 0 && argc - argi == 3)
		return do_fetch(&config, argv[argi + 1], argv[argi + 2]);
	usage();
	return MV_S3_EXIT_FAILED;
}
