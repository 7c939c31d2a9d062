/*
 * archive.c
 *		WAL archiving to S3: the archive module behind archive_library = 'milvus'.
 *
 * PostgreSQL 15 loads the library into the archiver and calls
 * _PG_archive_module_init.  For each completed segment (and each history or
 * backup-label file) the archiver calls us with its name; we stream the
 * file to <milvus.s3_prefix>wal/<name> (one PUT, or a multipart upload above
 * milvus.s3_multipart_threshold), compressed on the way to <name>.lz4 or
 * <name>.zst when milvus.s3_wal_compression says so (compress.c), then HEAD
 * the object and compare its size with what we sent.  Only then do we
 * return true and let the archiver mark the file done.  Anything else
 * returns false with a WARNING: the archiver keeps the file in pg_wal and
 * calls again later.  An ERROR (out of memory, an unreadable file) is caught
 * as contrib/basic_archive catches it, so that it too is a false and not a
 * restart of the archiver.
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "postmaster/pgarch.h"
#include "storage/fd.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "milvus/storage.h"

void		_PG_archive_module_init(ArchiveModuleCallbacks *cb);

static MemoryContext archive_context = NULL;

/* The client's configuration from the milvus.s3_* settings, then AWS_* */
void
MvS3ConfigFromSettings(MvS3Config *config)
{
	config->endpoint = MvS3Endpoint;
	config->region = MvS3Region;
	config->bucket = MvS3Bucket;
	config->prefix = MvS3Prefix;
	config->access_key_id = MvS3AccessKeyId;
	config->secret_access_key = MvS3SecretAccessKey;
	config->ca_file = MvS3CaFile;
	config->virtual_host = MvS3VirtualHost;
	config->connect_timeout_ms = MvS3ConnectTimeout;
	config->timeout_ms = MvS3Timeout;
	config->stall_timeout_s = MvS3StallTimeout;
	config->max_retries = MvS3MaxRetries;
	config->multipart_threshold = (int64) MvS3MultipartThreshold * 1024;
	config->part_size = (int64) MvS3PartSize * 1024;
	MvS3ConfigDefaults(config);
}

/* Archiving is configured once there is a bucket */
static bool
archive_configured(void)
{
	return MvS3Bucket != NULL && MvS3Bucket[0] != '\0';
}

/* A file being uploaded, as MvS3PutStream reads it */
typedef struct ArchiveSource
{
	int			fd;
	const char *path;
} ArchiveSource;

/* MvS3ReadCallback over a file; no ereport, so a failed upload is aborted */
static ssize_t
archive_read(void *arg, char *buf, size_t len, char *error)
{
	ArchiveSource *src = (ArchiveSource *) arg;
	ssize_t		n;

	do
		n = read(src->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		snprintf(error, MV_S3_ERROR_LEN, "could not read file \"%s\": %s",
				 src->path, strerror(errno));
	return n;
}

/* Upload one file and check that the bucket holds it; false on any failure */
static bool
archive_upload(const char *file, const char *path)
{
	MvS3Config	config;
	MvS3Result	result;
	MvS3Compression codec = (MvS3Compression) MvS3WalCompression;
	char	   *key = psprintf(MV_S3_WAL_FOLDER "%s%s", file, MvS3CompressionSuffix(codec));
	ArchiveSource src = {.path = path};
	MvS3Compressor *compressor = NULL;
	struct stat st;
	int64		len = 0;
	int64		raw;
	int64		stored = -1;
	MvS3Status	status;
	instr_time	start;
	instr_time	elapsed;

	MvS3ConfigFromSettings(&config);
	src.fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (src.fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	if (fstat(src.fd, &st) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path)));

	INSTR_TIME_SET_CURRENT(start);
	if (codec == MV_S3_COMPRESSION_NONE)
		status = MvS3PutStream(&config, key, archive_read, &src, &len, &result);
	else
	{
		compressor = MvS3CompressorCreate(codec, archive_read, &src);
		status = MvS3PutStream(&config, key, MvS3CompressorRead, compressor, &len, &result);
	}
	raw = compressor ? MvS3CompressorRawBytes(compressor) : len;
	if (compressor)
		MvS3CompressorFree(compressor);
	CloseTransientFile(src.fd);
	if (status != MV_S3_OK)
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not archive file \"%s\" to S3", file),
				 errdetail("%s (%d attempts).", result.error, result.attempts)));
		return false;
	}
	if (raw != (int64) st.st_size)
	{
		ereport(WARNING,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("file \"%s\" changed size while it was archived", file),
				 errdetail("It had %lld bytes, %lld were read.",
						   (long long) st.st_size, (long long) raw)));
		return false;
	}
	/* the size of what we sent: the compressed size when compressed */
	if (MvS3Head(&config, key, &stored, &result) != MV_S3_OK)
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not verify archived file \"%s\" in S3", file),
				 errdetail("%s (%d attempts).", result.error, result.attempts)));
		return false;
	}
	if (stored != len)
	{
		ereport(WARNING,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("archived file \"%s\" has the wrong size in S3", file),
				 errdetail("The bucket holds %lld bytes, %lld were sent.",
						   (long long) stored, (long long) len)));
		return false;
	}
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	ereport(DEBUG1,
			(errmsg_internal("archived \"%s\" to S3: %lld bytes as %lld (%s) in %d parts in %.3f ms",
							 file, (long long) raw, (long long) len,
							 codec == MV_S3_COMPRESSION_NONE ? "off" : MvS3CompressionSuffix(codec) + 1,
							 result.parts, INSTR_TIME_GET_MILLISEC(elapsed))));
	return true;
}

/* The archive_file callback: catch any ERROR and turn it into false */
static bool
archive_file(const char *file, const char *path)
{
	sigjmp_buf	local_sigjmp_buf;
	MemoryContext oldcontext;
	bool		ok;

	if (archive_context == NULL)
		archive_context = AllocSetContextCreate(TopMemoryContext,
												"milvus archive",
												ALLOCSET_DEFAULT_SIZES);
	oldcontext = MemoryContextSwitchTo(archive_context);

	/* the archiver has no error handler of its own: an ERROR would restart it */
	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
	{
		error_context_stack = NULL;
		HOLD_INTERRUPTS();
		EmitErrorReport();
		FlushErrorState();
		AtEOXact_Files(false);
		MemoryContextSwitchTo(oldcontext);
		MemoryContextReset(archive_context);
		PG_exception_stack = NULL;
		RESUME_INTERRUPTS();
		return false;
	}
	PG_exception_stack = &local_sigjmp_buf;

	ok = archive_upload(file, path);

	PG_exception_stack = NULL;
	MemoryContextSwitchTo(oldcontext);
	MemoryContextReset(archive_context);
	return ok;
}

/* True when shared_preload_libraries names milvus */
static bool
archive_preloaded(void)
{
	char	   *copy = pstrdup(shared_preload_libraries_string);
	List	   *libraries = NIL;
	ListCell   *lc;

	if (!SplitDirectoriesString(copy, ',', &libraries))
		return false;
	foreach(lc, libraries)
	{
		const char *name = lfirst(lc);
		const char *slash = strrchr(name, '/');

		if (strcmp(slash ? slash + 1 : name, "milvus") == 0)
			return true;
	}
	return false;
}

/* Entry point for archive_library = 'milvus' */
void
_PG_archive_module_init(ArchiveModuleCallbacks *cb)
{
	AssertVariableIsOfType(&_PG_archive_module_init, ArchiveModuleInit);

	/* a setting of a library a session has not loaded is a placeholder anyone reads */
	if (MvS3SecretAccessKey[0] != '\0' && !archive_preloaded())
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("milvus.s3_secret_access_key is set but milvus is not in shared_preload_libraries"),
				 errdetail("Sessions that have not loaded the library can read the setting."),
				 errhint("Add milvus to shared_preload_libraries, or give the key in the server's AWS_SECRET_ACCESS_KEY instead.")));

	cb->check_configured_cb = archive_configured;
	cb->archive_file_cb = archive_file;
}
