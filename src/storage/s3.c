/*
 * s3.c
 *		An S3 client over libcurl: PUT, GET, HEAD, DELETE and ListObjectsV2.
 *
 * libcurl signs each request (CURLOPT_AWS_SIGV4) with the payload's SHA-256
 * that we compute and send as x-amz-content-sha256, which S3 checks against
 * the body.  A request that fails for a reason that may pass (no connection,
 * a timeout, a short body, HTTP 5xx or 429) is tried again up to max_retries
 * times, after an exponential backoff with jitter; a 404 is an answer, not a
 * failure; any other status fails at once.  A request is abandoned (and tried
 * again) when it takes longer than timeout_ms in all, or moves fewer than
 * MV_S3_STALL_BYTES a second for stall_timeout_s.  https uses libcurl's
 * default CA store, the system's, or only the CAs of config->ca_file.
 *
 * MvS3PutStream reads a stream from a callback.  Up to the multipart
 * threshold it is one PUT; beyond, a multipart upload (create, one PUT per
 * part, complete) that holds one part in memory at a time.  Each request,
 * parts included, has its own retries.  Any failure after the create aborts
 * the upload, so that the bucket keeps no orphan parts (which S3 bills for).
 *
 * The file builds into the module and, with FRONTEND, into milvus_s3_restore,
 * so it uses only what libpgcommon offers both: palloc, StringInfo, pg_prng.
 * It never logs; messages name the method and key, never a credential.  In
 * a backend, a cancel or terminate request stops the request in flight
 * within a second (libcurl's progress callback) and any further retry.
 */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif

#include <curl/curl.h>
#include <openssl/evp.h>

#include "common/pg_prng.h"
#include "lib/stringinfo.h"
#ifndef FRONTEND
#include "miscadmin.h"
#endif

#include "milvus/storage.h"

/* backoff before retry n (from 0): up to min(cap, base * 2^n), at least half */
#define MV_S3_BACKOFF_BASE_MS		100
#define MV_S3_BACKOFF_CAP_MS		5000

/* S3's limits on multipart uploads */
#define MV_S3_MAX_PARTS				10000
/* a stream of unknown length doubles its part size every so many parts */
#define MV_S3_PARTS_PER_SIZE		1000

/* the SHA-256 of an empty payload */
#define MV_S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static bool curl_ready = false;

/* One request, as s3_perform runs it */
typedef struct S3Request
{
	const char *method;			/* PUT, POST, GET, HEAD or DELETE */
	const char *key;			/* full key, or NULL for the bucket itself */
	const char *query;			/* canonical query string (sorted, encoded) */
	const char *data;			/* PUT or POST payload */
	size_t		len;
	StringInfo	body;			/* the response body goes here */
	int64		content_length; /* out: HEAD's Content-Length */
	const char *range;			/* a Range header line, or NULL */
	char	   *etag;			/* out: the ETag header, palloc'd, if wanted */
	bool		want_etag;
	bool		uninterruptible;	/* runs even when a cancel is pending */
} S3Request;

/* Append s percent-encoded as SigV4 wants; keep '/' when keep_slash */
static void
s3_encode(StringInfo out, const char *s, bool keep_slash)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
			c == '~' || (keep_slash && c == '/'))
			appendStringInfoChar(out, c);
		else
			appendStringInfo(out, "%%%02X", c);
	}
}

/* The configured prefix with a final '/' when it has none */
static char *
s3_full_key(const MvS3Config *config, const char *key)
{
	size_t		plen = strlen(config->prefix);

	if (plen == 0 || config->prefix[plen - 1] == '/')
		return psprintf("%s%s", config->prefix, key);
	return psprintf("%s/%s", config->prefix, key);
}

/* Build the URL of a key (NULL: the bucket), path-style or virtual-host */
static char *
s3_url(const MvS3Config *config, const char *key, const char *query)
{
	StringInfoData url;
	const char *sep = strstr(config->endpoint, "://");
	const char *host = sep ? sep + 3 : config->endpoint;
	int			hostlen = strlen(host);

	while (hostlen > 0 && host[hostlen - 1] == '/')
		hostlen--;
	initStringInfo(&url);
	if (sep)
		appendBinaryStringInfo(&url, config->endpoint, host - config->endpoint);
	else
		appendStringInfoString(&url, "https://");
	if (config->virtual_host)
		appendStringInfo(&url, "%s.%.*s/", config->bucket, hostlen, host);
	else
		appendStringInfo(&url, "%.*s/%s%s", hostlen, host, config->bucket,
						 key ? "/" : "");
	if (key)
		s3_encode(&url, key, true);
	if (query)
		appendStringInfo(&url, "?%s", query);
	return url.data;
}

/* Put the lowercase hex SHA-256 of data into hex[65] */
static bool
s3_sha256_hex(const char *data, size_t len, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return false;
	for (unsigned int i = 0; i < mdlen; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	return true;
}

static size_t
s3_write_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	appendBinaryStringInfo((StringInfo) userdata, ptr, size * nmemb);
	return size * nmemb;
}

/* Keep the ETag response header (an uploaded part's name in the complete) */
static size_t
s3_read_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	S3Request  *req = (S3Request *) userdata;
	size_t		len = size * nmemb;

	if (len > 5 && pg_strncasecmp(ptr, "ETag:", 5) == 0)
	{
		const char *v = ptr + 5;
		const char *end = ptr + len;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
			end--;
		if (req->etag)
			pfree(req->etag);
		req->etag = pnstrdup(v, end - v);
	}
	return len;
}

/* The text of <tag>...</tag> at or after *from, or NULL; *from moves past it */
static char *
s3_xml_text(const char *xml, const char **from, const char *tag)
{
	char	   *open = psprintf("<%s>", tag);
	char	   *close = psprintf("</%s>", tag);
	const char *start = strstr(*from ? *from : xml, open);
	const char *end;
	StringInfoData text;

	if (start == NULL || (end = strstr(start, close)) == NULL)
		return NULL;
	start += strlen(open);
	*from = end + strlen(close);

	/* the five predefined entities; S3 escapes nothing else */
	initStringInfo(&text);
	for (const char *p = start; p < end; p++)
	{
		static const char *const entities[][2] = {
			{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"},
			{"&quot;", "\""}, {"&apos;", "'"}
		};
		bool		done = false;

		for (int i = 0; i < lengthof(entities) && *p == '&'; i++)
		{
			size_t		elen = strlen(entities[i][0]);

			if (strncmp(p, entities[i][0], elen) == 0)
			{
				appendStringInfoString(&text, entities[i][1]);
				p += elen - 1;
				done = true;
				break;
			}
		}
		if (!done)
			appendStringInfoChar(&text, *p);
	}
	pfree(open);
	pfree(close);
	return text.data;
}

/* True for a libcurl error that a later attempt may not meet */
static bool
s3_transient_curl_error(CURLcode code)
{
	switch (code)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			return true;
		default:
			return false;
	}
}

/*
 * True when a backend has been asked to cancel or to die: the request in
 * flight stops (the caller's CHECK_FOR_INTERRUPTS then reports it), and no
 * retry follows.  The programs have nothing of the kind.
 */
static bool
s3_interrupted(void)
{
#ifdef FRONTEND
	return false;
#else
	return QueryCancelPending || ProcDiePending;
#endif
}

/* libcurl's progress callback, at least once a second: non-zero stops the transfer */
static int
s3_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	return s3_interrupted() ? 1 : 0;
}

/* Sleep before retry n: full backoff halved, plus up to that half at random */
static void
s3_backoff(int n)
{
	double		ms = MV_S3_BACKOFF_BASE_MS;

	for (int i = 0; i < n && ms < MV_S3_BACKOFF_CAP_MS; i++)
		ms *= 2;
	ms = Min(ms, MV_S3_BACKOFF_CAP_MS);
	ms = ms / 2 + ms / 2 * pg_prng_double(&pg_global_prng_state);
	/* in slices, so that a cancel does not wait for the whole backoff */
	for (; ms > 0 && !s3_interrupted(); ms -= 100)
		pg_usleep((long) (Min(ms, 100) * 1000));
}

/* Run one request with its retries; fill result */
static MvS3Status
s3_perform(const MvS3Config *config, S3Request *req, MvS3Result *result)
{
	char		sha[2 * EVP_MAX_MD_SIZE + 1];
	char	   *url;
	char	   *sigv4;
	char	   *sha_header;
	char	   *what;
	StringInfoData local_body;
	StringInfo	body = req->body;
	bool		is_head = strcmp(req->method, "HEAD") == 0;

	memset(result, 0, sizeof(*result));
	result->status = MV_S3_FAILED;
	what = psprintf("%s %s", req->method, req->key ? req->key : config->bucket);

	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		{
			snprintf(result->error, MV_S3_ERROR_LEN, "%s: could not initialize libcurl", what);
			return MV_S3_FAILED;
		}
		curl_ready = true;
	}
	if (config->bucket[0] == '\0')
	{
		snprintf(result->error, MV_S3_ERROR_LEN, "no bucket is configured");
		return MV_S3_FAILED;
	}
	if (req->data)
	{
		if (!s3_sha256_hex(req->data, req->len, sha))
		{
			snprintf(result->error, MV_S3_ERROR_LEN, "%s: could not compute SHA-256", what);
			return MV_S3_FAILED;
		}
	}
	else
		strlcpy(sha, MV_S3_EMPTY_SHA256, sizeof(sha));

	if (body == NULL)
	{
		initStringInfo(&local_body);
		body = &local_body;
	}
	url = s3_url(config, req->key, req->query);
	sigv4 = psprintf("aws:amz:%s:s3", config->region);
	sha_header = psprintf("x-amz-content-sha256: %s", sha);

	for (int attempt = 0;; attempt++)
	{
		CURL	   *curl = curl_easy_init();
		struct curl_slist *headers = NULL;
		char		errbuf[CURL_ERROR_SIZE];
		CURLcode	code;
		long		http = 0;
		bool		transient;

		if (curl == NULL)
		{
			snprintf(result->error, MV_S3_ERROR_LEN, "%s: could not create a libcurl handle", what);
			break;
		}
		result->attempts = attempt + 1;
		resetStringInfo(body);
		errbuf[0] = '\0';

		/*
		 * libcurl signs every header given here, even "Expect:" that only
		 * removes one (S3 would then miss a signed header): leave Expect be
		 */
		headers = curl_slist_append(headers, sha_header);
		if (req->data)
			headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
		if (req->range)
			headers = curl_slist_append(headers, req->range);

		curl_easy_setopt(curl, CURLOPT_URL, url);
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long) config->connect_timeout_ms);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) config->timeout_ms);
		/* a server that answers at a trickle: abandoned well before the total timeout */
		curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, (long) MV_S3_STALL_BYTES);
		curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (long) config->stall_timeout_s);
		if (config->ca_file[0] != '\0')
			curl_easy_setopt(curl, CURLOPT_CAINFO, config->ca_file);
		curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s3_write_body);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
		if (!req->uninterruptible)
		{
			curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
			curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, s3_progress);
		}
		if (req->want_etag)
		{
			curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, s3_read_header);
			curl_easy_setopt(curl, CURLOPT_HEADERDATA, req);
		}
		if (config->access_key_id[0] != '\0')
		{
			curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4);
			curl_easy_setopt(curl, CURLOPT_USERNAME, config->access_key_id);
			curl_easy_setopt(curl, CURLOPT_PASSWORD, config->secret_access_key);
		}
		if (is_head)
			curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
		else if (strcmp(req->method, "GET") != 0)
			curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->data)
		{
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->data);
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->len);
		}

		code = curl_easy_perform(curl);
		if (code == CURLE_OK)
		{
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
			if (is_head)
			{
				curl_off_t	cl = -1;

				curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
				req->content_length = cl;
			}
		}
		curl_slist_free_all(headers);
		curl_easy_cleanup(curl);
		result->http_status = http;

		/* CompleteMultipartUpload may fail after its 200: the error is in the body */
		if (code == CURLE_OK && http == 200 && strcmp(req->method, "POST") == 0 &&
			strstr(body->data, "<Error>") != NULL)
		{
			const char *from = NULL;
			char	   *s3code = s3_xml_text(body->data, &from, "Code");

			transient = true;
			snprintf(result->error, MV_S3_ERROR_LEN, "%s: HTTP status 200 with error %s",
					 what, s3code ? s3code : "");
		}
		else if (code == CURLE_OK && http >= 200 && http < 300)
		{
			result->status = MV_S3_OK;
			break;
		}
		else if (code == CURLE_OK && http == 404)
		{
			result->status = MV_S3_NOT_FOUND;
			snprintf(result->error, MV_S3_ERROR_LEN, "%s: not found", what);
			break;
		}
		else if (code != CURLE_OK)
		{
			transient = s3_transient_curl_error(code);
			snprintf(result->error, MV_S3_ERROR_LEN, "%s: %s", what,
					 errbuf[0] ? errbuf : curl_easy_strerror(code));
		}
		else
		{
			const char *from = NULL;
			char	   *s3code = s3_xml_text(body->data, &from, "Code");

			transient = http >= 500 || http == 429;
			snprintf(result->error, MV_S3_ERROR_LEN, "%s: HTTP status %ld%s%s", what,
					 http, s3code ? ", " : "", s3code ? s3code : "");
		}
		if (!transient || attempt >= config->max_retries || s3_interrupted())
			break;
		s3_backoff(attempt);
	}

	if (body == &local_body)
		pfree(local_body.data);
	pfree(url);
	pfree(sigv4);
	pfree(sha_header);
	pfree(what);
	return result->status;
}

/* Store data under key */
MvS3Status
MvS3Put(const MvS3Config *config, const char *key, const char *data, size_t len,
		MvS3Result *result)
{
	S3Request	req = {0};
	MvS3Status	status;

	req.method = "PUT";
	req.key = s3_full_key(config, key);
	/* a non-NULL payload even when empty, so that it is sent */
	req.data = data ? data : "";
	req.len = len;
	status = s3_perform(config, &req, result);
	pfree((char *) req.key);
	return status;
}

/* Read the object at key into body */
MvS3Status
MvS3Get(const MvS3Config *config, const char *key, StringInfo body,
		MvS3Result *result)
{
	S3Request	req = {0};
	MvS3Status	status;

	req.method = "GET";
	req.key = s3_full_key(config, key);
	req.body = body;
	status = s3_perform(config, &req, result);
	pfree((char *) req.key);
	return status;
}

/* Get the size of the object at key */
MvS3Status
MvS3Head(const MvS3Config *config, const char *key, int64 *size,
		 MvS3Result *result)
{
	S3Request	req = {0};
	MvS3Status	status;

	req.method = "HEAD";
	req.key = s3_full_key(config, key);
	req.content_length = -1;
	status = s3_perform(config, &req, result);
	*size = req.content_length;
	pfree((char *) req.key);
	return status;
}

/* Remove the object at key; S3 answers 204 whether or not it was there */
MvS3Status
MvS3Delete(const MvS3Config *config, const char *key, MvS3Result *result)
{
	S3Request	req = {0};
	MvS3Status	status;

	req.method = "DELETE";
	req.key = s3_full_key(config, key);
	status = s3_perform(config, &req, result);
	pfree((char *) req.key);
	return status;
}

/*
 * Call callback for every object whose key starts with key_prefix, a page of
 * ListObjectsV2 at a time (page_size keys, 0 for the server's default of
 * 1000), following the continuation token
 */
MvS3Status
MvS3List(const MvS3Config *config, const char *key_prefix, int page_size,
		 MvS3ListCallback callback, void *arg, MvS3Result *result)
{
	char	   *full = s3_full_key(config, key_prefix);
	size_t		strip = strlen(full) - strlen(key_prefix);
	char	   *token = NULL;
	StringInfoData body;
	StringInfoData query;
	MvS3Status	status;

	initStringInfo(&body);
	initStringInfo(&query);
	for (;;)
	{
		S3Request	req = {0};
		const char *from = NULL;
		char	   *truncated;
		char	   *contents;

		/* parameters in name order: libcurl signs the query as given */
		resetStringInfo(&query);
		if (token)
		{
			appendStringInfoString(&query, "continuation-token=");
			s3_encode(&query, token, false);
			appendStringInfoChar(&query, '&');
		}
		appendStringInfoString(&query, "list-type=2&");
		if (page_size > 0)
			appendStringInfo(&query, "max-keys=%d&", page_size);
		appendStringInfoString(&query, "prefix=");
		s3_encode(&query, full, false);

		req.method = "GET";
		req.query = query.data;
		req.body = &body;
		status = s3_perform(config, &req, result);
		if (status != MV_S3_OK)
			break;

		while ((contents = s3_xml_text(body.data, &from, "Contents")) != NULL)
		{
			const char *cfrom = NULL;
			char	   *key = s3_xml_text(contents, &cfrom, "Key");
			char	   *size;

			cfrom = NULL;
			size = s3_xml_text(contents, &cfrom, "Size");
			if (key && strlen(key) >= strip)
				callback(arg, key + strip, size ? strtoll(size, NULL, 10) : -1);
			pfree(contents);
		}

		from = NULL;
		truncated = s3_xml_text(body.data, &from, "IsTruncated");
		if (truncated == NULL || strcmp(truncated, "true") != 0)
			break;
		from = NULL;
		token = s3_xml_text(body.data, &from, "NextContinuationToken");
		if (token == NULL)
		{
			result->status = status = MV_S3_FAILED;
			snprintf(result->error, MV_S3_ERROR_LEN,
					 "GET %s: truncated listing without a continuation token", config->bucket);
			break;
		}
	}
	pfree(body.data);
	pfree(query.data);
	pfree(full);
	return status;
}

/* Read from the stream until buf holds want bytes or the stream ends */
static bool
s3_fill(StringInfo buf, int64 want, MvS3ReadCallback read, void *arg,
		bool *eof, MvS3Result *result)
{
	while (!*eof && buf->len < want)
	{
		int			room = (int) Min(want - buf->len, 1024 * 1024);
		ssize_t		n;

		enlargeStringInfo(buf, room);
		n = read(arg, buf->data + buf->len, room, result->error);
		if (n < 0)
		{
			result->status = MV_S3_FAILED;
			return false;
		}
		if (n == 0)
			*eof = true;
		buf->len += n;
		buf->data[buf->len] = '\0';
	}
	return true;
}

/* The size of part n (from 1): doubled every MV_S3_PARTS_PER_SIZE parts */
static int64
s3_part_size(const MvS3Config *config, int n)
{
	int64		size = config->part_size;

	for (int i = (n - 1) / MV_S3_PARTS_PER_SIZE; i > 0 && size < MV_S3_MAX_PART_SIZE; i--)
		size *= 2;
	return Min(size, MV_S3_MAX_PART_SIZE);
}

/* Start a multipart upload of full_key: CreateMultipartUpload */
static MvS3Status
s3_create_upload(const MvS3Config *config, const char *full_key,
				 char **upload_id, MvS3Result *result)
{
	S3Request	req = {0};
	StringInfoData body;
	const char *from = NULL;

	initStringInfo(&body);
	req.method = "POST";
	req.key = full_key;
	req.query = "uploads=";
	req.data = "";
	req.body = &body;
	if (s3_perform(config, &req, result) == MV_S3_OK &&
		(*upload_id = s3_xml_text(body.data, &from, "UploadId")) == NULL)
	{
		result->status = MV_S3_FAILED;
		snprintf(result->error, MV_S3_ERROR_LEN, "POST %s: no UploadId in the answer", full_key);
	}
	pfree(body.data);
	return result->status == MV_S3_OK ? MV_S3_OK : MV_S3_FAILED;
}

/* The query string that names part n (0: none) of an upload, in name order */
static char *
s3_upload_query(const char *upload_id, int n)
{
	StringInfoData query;

	initStringInfo(&query);
	if (n > 0)
		appendStringInfo(&query, "partNumber=%d&", n);
	appendStringInfoString(&query, "uploadId=");
	s3_encode(&query, upload_id, false);
	return query.data;
}

/* Store part n of an upload: UploadPart; its ETag into *etag */
static MvS3Status
s3_upload_part(const MvS3Config *config, const char *full_key, const char *upload_id,
			   int n, const char *data, size_t len, char **etag, MvS3Result *result)
{
	S3Request	req = {0};

	req.method = "PUT";
	req.key = full_key;
	req.query = s3_upload_query(upload_id, n);
	req.data = data;
	req.len = len;
	req.want_etag = true;
	if (s3_perform(config, &req, result) == MV_S3_OK && req.etag == NULL)
	{
		result->status = MV_S3_FAILED;
		snprintf(result->error, MV_S3_ERROR_LEN, "PUT %s: no ETag for part %d", full_key, n);
	}
	*etag = req.etag;
	pfree((char *) req.query);
	return result->status == MV_S3_OK ? MV_S3_OK : MV_S3_FAILED;
}

/* Join the parts into the object: CompleteMultipartUpload */
static MvS3Status
s3_complete_upload(const MvS3Config *config, const char *full_key, const char *upload_id,
				   char **etags, int nparts, MvS3Result *result)
{
	S3Request	req = {0};
	StringInfoData xml;

	initStringInfo(&xml);
	appendStringInfoString(&xml, "<CompleteMultipartUpload>");
	for (int i = 0; i < nparts; i++)
	{
		appendStringInfo(&xml, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1);
		for (const char *p = etags[i]; *p; p++)
			if (*p == '"')
				appendStringInfoString(&xml, "&quot;");
			else if (*p == '&')
				appendStringInfoString(&xml, "&amp;");
			else if (*p == '<')
				appendStringInfoString(&xml, "&lt;");
			else
				appendStringInfoChar(&xml, *p);
		appendStringInfoString(&xml, "</ETag></Part>");
	}
	appendStringInfoString(&xml, "</CompleteMultipartUpload>");
	req.method = "POST";
	req.key = full_key;
	req.query = s3_upload_query(upload_id, 0);
	req.data = xml.data;
	req.len = xml.len;
	s3_perform(config, &req, result);
	pfree((char *) req.query);
	pfree(xml.data);
	return result->status == MV_S3_OK ? MV_S3_OK : MV_S3_FAILED;
}

/* Drop an upload and its parts (AbortMultipartUpload); note how in result */
static void
s3_abort_upload(const MvS3Config *config, const char *full_key, const char *upload_id,
				MvS3Result *result)
{
	S3Request	req = {0};
	MvS3Result	abort_result;
	size_t		len = strlen(result->error);

	req.method = "DELETE";
	req.key = full_key;
	req.query = s3_upload_query(upload_id, 0);
	/* a cancelled upload is aborted all the same: else its parts stay */
	req.uninterruptible = true;
	if (s3_perform(config, &req, &abort_result) == MV_S3_OK)
		snprintf(result->error + len, MV_S3_ERROR_LEN - len, "; upload aborted");
	else
		snprintf(result->error + len, MV_S3_ERROR_LEN - len,
				 "; could not abort the upload (%s)", abort_result.error);
	pfree((char *) req.query);
}

/*
 * Store what read gives, to its end, under key: one PUT up to the multipart
 * threshold, else a multipart upload (aborted on failure); *size is the
 * stream's length, result->parts how many parts (0 for one PUT)
 */
MvS3Status
MvS3PutStream(const MvS3Config *config, const char *key, MvS3ReadCallback read,
			  void *arg, int64 *size, MvS3Result *result)
{
	char	   *full = s3_full_key(config, key);
	StringInfoData buf;
	bool		eof = false;
	char	   *upload_id = NULL;
	char	  **etags = NULL;
	int			nparts = 0;
	int64		total = 0;

	memset(result, 0, sizeof(*result));
	result->status = MV_S3_FAILED;
	*size = 0;
	initStringInfo(&buf);
	if (!s3_fill(&buf, config->multipart_threshold + 1, read, arg, &eof, result))
		goto done;
	if (eof)
	{
		S3Request	req = {0};

		req.method = "PUT";
		req.key = full;
		req.data = buf.data;
		req.len = buf.len;
		if (s3_perform(config, &req, result) == MV_S3_OK)
			*size = buf.len;
		goto done;
	}

	if (s3_create_upload(config, full, &upload_id, result) != MV_S3_OK)
		goto done;
	etags = palloc0(sizeof(char *) * MV_S3_MAX_PARTS);
	for (;;)
	{
		int64		part = s3_part_size(config, nparts + 1);
		size_t		len;

		if (!s3_fill(&buf, part, read, arg, &eof, result))
			break;
		if (buf.len == 0)
		{
			s3_complete_upload(config, full, upload_id, etags, nparts, result);
			break;
		}
		if (nparts == MV_S3_MAX_PARTS)
		{
			result->status = MV_S3_FAILED;
			snprintf(result->error, MV_S3_ERROR_LEN,
					 "PUT %s: more than %d parts", full, MV_S3_MAX_PARTS);
			break;
		}
		len = Min(buf.len, part);
		if (s3_upload_part(config, full, upload_id, nparts + 1, buf.data, len,
						   &etags[nparts], result) != MV_S3_OK)
			break;
		nparts++;
		total += len;
		memmove(buf.data, buf.data + len, buf.len - len);
		buf.len -= len;
	}
	if (result->status == MV_S3_OK)
		*size = total;
	else
		s3_abort_upload(config, full, upload_id, result);

done:
	result->parts = nparts;
	if (etags)
	{
		for (int i = 0; i < nparts; i++)
			pfree(etags[i]);
		pfree(etags);
	}
	if (upload_id)
		pfree(upload_id);
	pfree(buf.data);
	pfree(full);
	if (result->status == MV_S3_NOT_FOUND)
		result->status = MV_S3_FAILED;
	return result->status;
}

/*
 * Hand the object at key to write, in ranged GETs of part_size bytes, each
 * retried on its own, so that memory holds one range and a retry never
 * repeats bytes already written; *size is the object's length
 */
MvS3Status
MvS3GetStream(const MvS3Config *config, const char *key, MvS3WriteCallback write,
			  void *arg, int64 *size, MvS3Result *result)
{
	char	   *full = s3_full_key(config, key);
	StringInfoData body;
	int64		total;
	int64		done = 0;

	if (MvS3Head(config, key, &total, result) != MV_S3_OK)
	{
		pfree(full);
		return result->status;
	}
	*size = total;
	initStringInfo(&body);
	while (done < total)
	{
		S3Request	req = {0};
		int64		want = Min(config->part_size, total - done);
		char	   *range = psprintf("Range: bytes=" INT64_FORMAT "-" INT64_FORMAT,
									 done, done + want - 1);

		req.method = "GET";
		req.key = full;
		req.body = &body;
		req.range = range;
		s3_perform(config, &req, result);
		pfree(range);
		if (result->status != MV_S3_OK)
			break;
		/* a server that ignores Range answers 200 with the whole object */
		if (body.len != want &&
			!(result->http_status == 200 && done == 0 && body.len == total))
		{
			result->status = MV_S3_FAILED;
			snprintf(result->error, MV_S3_ERROR_LEN,
					 "GET %s: %d bytes for a range of " INT64_FORMAT " at " INT64_FORMAT,
					 full, body.len, want, done);
			break;
		}
		if (!write(arg, body.data, body.len, result->error))
		{
			result->status = MV_S3_FAILED;
			break;
		}
		done += body.len;
	}
	pfree(body.data);
	pfree(full);
	return result->status;
}

/* The first of two environment variables that is set and not empty, or NULL */
static const char *
s3_getenv(const char *name, const char *other)
{
	const char *value = getenv(name);

	if (value == NULL || value[0] == '\0')
		value = getenv(other);
	return value != NULL && value[0] != '\0' ? value : NULL;
}

/* Fill what the settings leave empty from the standard AWS_* variables */
void
MvS3ConfigDefaults(MvS3Config *config)
{
	const char *env;

	if (config->region[0] == '\0')
		config->region = (env = s3_getenv("AWS_REGION", "AWS_DEFAULT_REGION")) ? env : "us-east-1";
	if (config->endpoint[0] == '\0')
	{
		if ((env = s3_getenv("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")) != NULL)
			config->endpoint = env;
		else
			config->endpoint = psprintf("https://s3.%s.amazonaws.com", config->region);
	}
	if (config->access_key_id[0] == '\0' && config->secret_access_key[0] == '\0')
	{
		const char *id = getenv("AWS_ACCESS_KEY_ID");
		const char *secret = getenv("AWS_SECRET_ACCESS_KEY");

		if (id && secret)
		{
			config->access_key_id = id;
			config->secret_access_key = secret;
		}
	}
}
