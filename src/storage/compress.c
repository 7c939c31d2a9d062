/*
 * compress.c
 *		Compression of archived WAL files (milvus.s3_wal_compression): lz4 or
 *		zstd frames, as the lz4 and zstd command-line tools write them.
 *
 * Frames carry a checksum of their content, which decompression checks.
 * The archiver compresses as it uploads: MvS3CompressorRead is an
 * MvS3ReadCallback that reads the file through another callback a chunk at a
 * time and hands on the compressed bytes, so a file is never whole in
 * memory.  The restore program decompresses a whole object (a segment is 16
 * MB) with MvS3Decompress.  The codec is the object's name suffix, .lz4 or
 * .zst: a bucket may hold plain and compressed files side by side.
 *
 * Like s3.c it builds into the module and, with FRONTEND, into the programs;
 * it reports errors in a message, never by ereport.
 *
 * zstd and lz4 malloc their contexts, out of reach of PostgreSQL's memory
 * contexts.  In a backend an ERROR can come in the middle of an upload (an
 * out-of-memory in s3.c's buffers, say); the archiver catches it and resets
 * its memory context, which frees the compressor but would leave its native
 * context allocated, a few MB for each failed file for the archiver's
 * lifetime.  So a compressor registers a reset callback on the memory
 * context it is made in, which frees the native context on every path.
 */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif

#include <lz4frame.h>
#include <zstd.h>

#include "lib/stringinfo.h"

#include "milvus/storage.h"

/* bytes of the source read and compressed at a time */
#define MV_COMPRESS_CHUNK		(1024 * 1024)

struct MvS3Compressor
{
	MvS3Compression codec;
	MvS3ReadCallback read;		/* the source */
	void	   *arg;
	char	   *in;				/* a chunk of the source */
	StringInfoData out;			/* compressed bytes not handed on yet */
	int			out_pos;
	bool		finished;		/* the frame's end is in out */
	int64		raw_bytes;
	ZSTD_CCtx  *zstd;
	LZ4F_cctx  *lz4;
	LZ4F_preferences_t lz4_prefs;
#ifndef FRONTEND
	MemoryContextCallback free_on_reset;	/* calls free_native */
#endif
};

/* The suffix of an object's name that says its codec */
const char *
MvS3CompressionSuffix(MvS3Compression codec)
{
	switch (codec)
	{
		case MV_S3_COMPRESSION_LZ4:
			return ".lz4";
		case MV_S3_COMPRESSION_ZSTD:
			return ".zst";
		default:
			return "";
	}
}

/* Free a compressor's zstd or lz4 context, if it still has one */
static void
free_native(void *arg)
{
	MvS3Compressor *c = (MvS3Compressor *) arg;

	if (c->zstd)
		ZSTD_freeCCtx(c->zstd);
	if (c->lz4)
		LZ4F_freeCompressionContext(c->lz4);
	c->zstd = NULL;
	c->lz4 = NULL;
}

/*
 * A compressor of codec (not none) over the source read/arg, in the current
 * memory context; its native context goes with that context's reset even
 * when MvS3CompressorFree is never reached
 */
MvS3Compressor *
MvS3CompressorCreate(MvS3Compression codec, MvS3ReadCallback read, void *arg)
{
	MvS3Compressor *c = palloc0(sizeof(MvS3Compressor));

	c->codec = codec;
	c->read = read;
	c->arg = arg;
	c->in = palloc(MV_COMPRESS_CHUNK);
	initStringInfo(&c->out);
#ifndef FRONTEND
	/* registered before the native context is made: no ERROR can come between */
	c->free_on_reset.func = free_native;
	c->free_on_reset.arg = c;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &c->free_on_reset);
#endif
	/* a checksum of the content in the frame: a changed byte fails the restore */
	if (codec == MV_S3_COMPRESSION_ZSTD)
	{
		c->zstd = ZSTD_createCCtx();
		if (c->zstd)
			ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_checksumFlag, 1);
	}
	else
	{
		size_t		n;

		c->lz4_prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;

		if (LZ4F_isError(LZ4F_createCompressionContext(&c->lz4, LZ4F_VERSION)))
			c->lz4 = NULL;
		else
		{
			/* the header goes first */
			enlargeStringInfo(&c->out, LZ4F_HEADER_SIZE_MAX);
			n = LZ4F_compressBegin(c->lz4, c->out.data, LZ4F_HEADER_SIZE_MAX, &c->lz4_prefs);
			if (LZ4F_isError(n))
			{
				LZ4F_freeCompressionContext(c->lz4);
				c->lz4 = NULL;
			}
			else
				c->out.len = n;
		}
	}
	return c;
}

/* Compress the chunk in c->in (n bytes; 0 at the source's end) into c->out */
static bool
compress_chunk(MvS3Compressor *c, size_t n, char *error)
{
	if (c->codec == MV_S3_COMPRESSION_ZSTD)
	{
		ZSTD_inBuffer in = {c->in, n, 0};
		ZSTD_EndDirective mode = n == 0 ? ZSTD_e_end : ZSTD_e_continue;
		size_t		left;

		do
		{
			ZSTD_outBuffer out;

			enlargeStringInfo(&c->out, ZSTD_CStreamOutSize());
			out.dst = c->out.data + c->out.len;
			out.size = ZSTD_CStreamOutSize();
			out.pos = 0;
			left = ZSTD_compressStream2(c->zstd, &out, &in, mode);
			if (ZSTD_isError(left))
			{
				snprintf(error, MV_S3_ERROR_LEN, "zstd: %s", ZSTD_getErrorName(left));
				return false;
			}
			c->out.len += out.pos;
		} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	}
	else
	{
		size_t		bound = LZ4F_compressBound(n, &c->lz4_prefs);
		size_t		done;

		enlargeStringInfo(&c->out, bound);
		if (n > 0)
			done = LZ4F_compressUpdate(c->lz4, c->out.data + c->out.len, bound, c->in, n, NULL);
		else
			done = LZ4F_compressEnd(c->lz4, c->out.data + c->out.len, bound, NULL);
		if (LZ4F_isError(done))
		{
			snprintf(error, MV_S3_ERROR_LEN, "lz4: %s", LZ4F_getErrorName(done));
			return false;
		}
		c->out.len += done;
	}
	c->out.data[c->out.len] = '\0';
	return true;
}

/* MvS3ReadCallback: up to len compressed bytes of the source */
ssize_t
MvS3CompressorRead(void *arg, char *buf, size_t len, char *error)
{
	MvS3Compressor *c = (MvS3Compressor *) arg;
	size_t		n;

	if ((c->codec == MV_S3_COMPRESSION_ZSTD && c->zstd == NULL) ||
		(c->codec == MV_S3_COMPRESSION_LZ4 && c->lz4 == NULL))
	{
		snprintf(error, MV_S3_ERROR_LEN, "could not create a compression context");
		return -1;
	}
	while (c->out_pos == c->out.len && !c->finished)
	{
		ssize_t		got = c->read(c->arg, c->in, MV_COMPRESS_CHUNK, error);

		if (got < 0)
			return -1;
		resetStringInfo(&c->out);
		c->out_pos = 0;
		c->raw_bytes += got;
		if (!compress_chunk(c, got, error))
			return -1;
		c->finished = got == 0;
	}
	n = Min(len, (size_t) (c->out.len - c->out_pos));
	memcpy(buf, c->out.data + c->out_pos, n);
	c->out_pos += n;
	return n;
}

/* How many bytes of the source the compressor has read */
int64
MvS3CompressorRawBytes(MvS3Compressor *c)
{
	return c->raw_bytes;
}

/*
 * Free the compressor's native context and buffers now.  In a backend the
 * small struct itself stays until its memory context is reset: the context's
 * list of reset callbacks points into it.
 */
void
MvS3CompressorFree(MvS3Compressor *c)
{
	free_native(c);
	pfree(c->in);
	pfree(c->out.data);
#ifdef FRONTEND
	pfree(c);
#endif
}

/* Decompress the whole object data (one or more frames of codec) into out */
bool
MvS3Decompress(MvS3Compression codec, const char *data, size_t len, StringInfo out,
			   char *error)
{
	size_t		pos = 0;
	bool		ok = true;

	if (codec == MV_S3_COMPRESSION_ZSTD)
	{
		ZSTD_DCtx  *dctx = ZSTD_createDCtx();
		ZSTD_inBuffer in = {data, len, 0};
		size_t		left = 1;

		while (ok && (in.pos < in.size || left != 0))
		{
			ZSTD_outBuffer o;

			enlargeStringInfo(out, ZSTD_DStreamOutSize());
			o.dst = out->data + out->len;
			o.size = ZSTD_DStreamOutSize();
			o.pos = 0;
			left = ZSTD_decompressStream(dctx, &o, &in);
			if (ZSTD_isError(left))
			{
				snprintf(error, MV_S3_ERROR_LEN, "zstd: %s", ZSTD_getErrorName(left));
				ok = false;
			}
			else if (o.pos == 0 && in.pos == in.size && left != 0)
			{
				snprintf(error, MV_S3_ERROR_LEN, "zstd: the object ends inside a frame");
				ok = false;
			}
			out->len += o.pos;
		}
		ZSTD_freeDCtx(dctx);
	}
	else
	{
		LZ4F_dctx  *dctx;
		size_t		hint = 1;

		if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
		{
			snprintf(error, MV_S3_ERROR_LEN, "could not create a decompression context");
			return false;
		}
		while (ok && pos < len)
		{
			size_t		src = len - pos;
			size_t		dst = 1024 * 1024;

			enlargeStringInfo(out, dst);
			hint = LZ4F_decompress(dctx, out->data + out->len, &dst, data + pos, &src, NULL);
			if (LZ4F_isError(hint))
			{
				snprintf(error, MV_S3_ERROR_LEN, "lz4: %s", LZ4F_getErrorName(hint));
				ok = false;
			}
			pos += src;
			out->len += dst;
		}
		/* more output held back, or a frame cut short */
		while (ok && hint != 0)
		{
			size_t		src = 0;
			size_t		dst = 1024 * 1024;

			enlargeStringInfo(out, dst);
			hint = LZ4F_decompress(dctx, out->data + out->len, &dst, NULL, &src, NULL);
			if (LZ4F_isError(hint) || dst == 0)
			{
				snprintf(error, MV_S3_ERROR_LEN, "lz4: the object ends inside a frame");
				ok = false;
			}
			out->len += dst;
		}
		LZ4F_freeDecompressionContext(dctx);
	}
	out->data[out->len] = '\0';
	return ok;
}
