/*
 * storage.h
 *		Object storage (src/storage/): an S3 client over libcurl, WAL
 *		archiving to a bucket, and collection snapshots in it.
 *
 * s3.c and compress.c build twice: into the module, and with FRONTEND into
 * the programs (src/storage/restore/), so nothing here calls the
 * server; errors come back as a status and a message, never by ereport.
 * Messages never hold credentials.  archive.c and snapshot.c are the server
 * side; snapshot.c's SQL-callable functions (milvus._snapshot_*) are called
 * by src/sql/85_storage_snapshots.sql and need nothing from this header.
 */
#ifndef MILVUS_STORAGE_H
#define MILVUS_STORAGE_H

#include "lib/stringinfo.h"

/* milvus.s3_connect_timeout and milvus.s3_timeout, in milliseconds */
#define MV_S3_MIN_TIMEOUT			100
#define MV_S3_DEFAULT_CONNECT_TIMEOUT 5000
#define MV_S3_DEFAULT_TIMEOUT		60000
#define MV_S3_MAX_TIMEOUT			3600000

/*
 * milvus.s3_stall_timeout, in seconds: a request that moves fewer than
 * MV_S3_STALL_BYTES a second for this long is abandoned (and tried again)
 */
#define MV_S3_MIN_STALL_TIMEOUT		1
#define MV_S3_DEFAULT_STALL_TIMEOUT 30
#define MV_S3_MAX_STALL_TIMEOUT		3600
#define MV_S3_STALL_BYTES			1024

/* milvus.s3_max_retries: further attempts after a transient failure */
#define MV_S3_MIN_RETRIES			0
#define MV_S3_DEFAULT_RETRIES		3
#define MV_S3_MAX_RETRIES			20

/*
 * milvus.s3_multipart_threshold and milvus.s3_part_size, in bytes: a stream
 * longer than the threshold goes up in parts.  S3 takes parts of 5 MB to
 * 5 GB, 10,000 at most; one part is held in memory, and palloc stops at 1 GB.
 */
#define MV_S3_MIN_PART_SIZE			((int64) 5 * 1024 * 1024)
#define MV_S3_DEFAULT_PART_SIZE		((int64) 16 * 1024 * 1024)
#define MV_S3_DEFAULT_MULTIPART_THRESHOLD ((int64) 64 * 1024 * 1024)
#define MV_S3_MAX_PART_SIZE			((int64) 512 * 1024 * 1024)

/* Where and as whom to reach a bucket; every string is non-NULL */
typedef struct MvS3Config
{
	const char *endpoint;		/* scheme://host[:port] */
	const char *region;
	const char *bucket;
	const char *prefix;			/* "" or a folder; a missing final / is added */
	const char *access_key_id;
	const char *secret_access_key;
	const char *ca_file;		/* "" for libcurl's default CA store */
	bool		virtual_host;	/* bucket.host/key rather than host/bucket/key */
	int			connect_timeout_ms;
	int			timeout_ms;
	int			stall_timeout_s;
	int			max_retries;
	int64		multipart_threshold;	/* bytes */
	int64		part_size;		/* bytes, of the first parts */
} MvS3Config;

typedef enum MvS3Status
{
	MV_S3_OK,
	MV_S3_NOT_FOUND,			/* 404: the object (or bucket) is not there */
	MV_S3_FAILED				/* anything else, after any retries */
} MvS3Status;

#define MV_S3_ERROR_LEN 512

/* The outcome of one call: status, last HTTP status, attempts, message */
typedef struct MvS3Result
{
	MvS3Status	status;
	long		http_status;	/* 0 when no response came */
	int			attempts;
	int			parts;			/* MvS3PutStream: parts uploaded, 0 for one PUT */
	char		error[MV_S3_ERROR_LEN];
} MvS3Result;

/* Called by MvS3List for each object: its key relative to the prefix */
typedef void (*MvS3ListCallback) (void *arg, const char *key, int64 size);

/*
 * Called by MvS3PutStream for up to len more bytes of the stream: returns how
 * many it put into buf, 0 at the stream's end, or -1 after writing why into
 * error (MV_S3_ERROR_LEN bytes).  It must not ereport: the upload would stay.
 */
typedef ssize_t (*MvS3ReadCallback) (void *arg, char *buf, size_t len, char *error);

/* Called by MvS3GetStream with the next bytes; false after writing why into error */
typedef bool (*MvS3WriteCallback) (void *arg, const char *data, size_t len, char *error);

/* Keys are relative to config->prefix */
extern MvS3Status MvS3Put(const MvS3Config *config, const char *key,
						  const char *data, size_t len, MvS3Result *result);
extern MvS3Status MvS3PutStream(const MvS3Config *config, const char *key,
								MvS3ReadCallback read, void *arg, int64 *size,
								MvS3Result *result);
extern MvS3Status MvS3Get(const MvS3Config *config, const char *key,
						  StringInfo body, MvS3Result *result);
extern MvS3Status MvS3GetStream(const MvS3Config *config, const char *key,
								MvS3WriteCallback write, void *arg, int64 *size,
								MvS3Result *result);
extern MvS3Status MvS3Head(const MvS3Config *config, const char *key,
						   int64 *size, MvS3Result *result);
extern MvS3Status MvS3Delete(const MvS3Config *config, const char *key,
							 MvS3Result *result);
extern MvS3Status MvS3List(const MvS3Config *config, const char *key_prefix,
						   int page_size, MvS3ListCallback callback, void *arg,
						   MvS3Result *result);

/* Fill the endpoint and region a config leaves empty from AWS_* variables */
extern void MvS3ConfigDefaults(MvS3Config *config);

/* How an archived WAL file is stored (milvus.s3_wal_compression) */
typedef enum MvS3Compression
{
	MV_S3_COMPRESSION_NONE,		/* as is */
	MV_S3_COMPRESSION_LZ4,		/* an lz4 frame, <name>.lz4 */
	MV_S3_COMPRESSION_ZSTD		/* a zstd frame, <name>.zst */
} MvS3Compression;

/* compress.c: a compressing MvS3ReadCallback over another, and the reverse */
typedef struct MvS3Compressor MvS3Compressor;
extern const char *MvS3CompressionSuffix(MvS3Compression codec);
extern MvS3Compressor *MvS3CompressorCreate(MvS3Compression codec,
											MvS3ReadCallback read, void *arg);
extern ssize_t MvS3CompressorRead(void *arg, char *buf, size_t len, char *error);
extern int64 MvS3CompressorRawBytes(MvS3Compressor *c);
extern void MvS3CompressorFree(MvS3Compressor *c);
extern bool MvS3Decompress(MvS3Compression codec, const char *data, size_t len,
						   StringInfo out, char *error);

/* The folder of the bucket (under the prefix) that WAL segments go to */
#define MV_S3_WAL_FOLDER			"wal/"
/* ... that base backups go to: basebackups/<name>/ (milvus_s3_basebackup) */
#define MV_S3_BASEBACKUP_FOLDER		"basebackups/"
/* ... and that collection snapshots go to: snapshots/<db>/<snapshot>/ */
#define MV_S3_SNAPSHOT_FOLDER		"snapshots/"

/* The configuration the milvus.s3_* settings give (archive.c; not FRONTEND) */
extern void MvS3ConfigFromSettings(MvS3Config *config);

/* Settings (src/guc.c) */
extern PGDLLIMPORT char *MvS3AccessKeyId;
extern PGDLLIMPORT char *MvS3Bucket;
extern PGDLLIMPORT char *MvS3CaFile;
extern PGDLLIMPORT int MvS3ConnectTimeout;
extern PGDLLIMPORT char *MvS3Endpoint;
extern PGDLLIMPORT int MvS3MaxRetries;
extern PGDLLIMPORT int MvS3MultipartThreshold;
extern PGDLLIMPORT int MvS3PartSize;
extern PGDLLIMPORT char *MvS3Prefix;
extern PGDLLIMPORT char *MvS3Region;
extern PGDLLIMPORT char *MvS3SecretAccessKey;
extern PGDLLIMPORT int MvS3StallTimeout;
extern PGDLLIMPORT int MvS3Timeout;
extern PGDLLIMPORT bool MvS3VirtualHost;
extern PGDLLIMPORT int MvS3WalCompression;

#endif							/* MILVUS_STORAGE_H */
