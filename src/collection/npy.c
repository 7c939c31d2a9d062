/*
 * npy.c
 *		NumPy .npy files, as Milvus's bulk_insert reads them: one file per
 *		field, named after it, rows along the first axis.
 *
 * The format (numpy.lib.format, versions 1.0 to 3.0): the magic "\x93NUMPY",
 * a major and a minor version byte, the header's length (2 bytes little-
 * endian in 1.0, 4 bytes after), and the header, a Python dict literal such
 * as {'descr': '<f4', 'fortran_order': False, 'shape': (1000, 128), }; the
 * data follows, row-major.  Only what Milvus writes is read: little-endian
 * or byte-order-free dtypes, C order, one or two dimensions.
 */
#include "postgres.h"

#include <sys/stat.h>

#include "common/int.h"
#include "storage/fd.h"

#include "milvus/collection.h"

#define NPY_MAGIC		"\x93NUMPY"
#define NPY_MAGIC_LEN	6
#define NPY_MAX_HEADER	(1024 * 1024)
#define NPY_MAX_ITEM	(1024 * 1024)	/* bytes of one element (a <U string's characters) */
#define NPY_MAX_ROWS	(INT64CONST(1) << 40)
#define NPY_MAX_COLS	(INT64CONST(1) << 20)
#define NPY_MAX_DATA	(INT64CONST(1) << 50)	/* bytes of data */

static void
bad_file(const char *path, const char *detail) pg_attribute_noreturn();
static void
bad_file(const char *path, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
			 errmsg("file \"%s\" is not a NumPy array Milvus can import", path),
			 errdetail_internal("%s", detail)));
}

/* the value of key in the header dict: where it starts, or NULL */
static const char *
dict_value(const char *header, const char *key)
{
	char	   *quoted = psprintf("'%s'", key);
	const char *p = strstr(header, quoted);

	if (p == NULL)
		return NULL;
	p += strlen(quoted);
	while (*p == ' ')
		p++;
	if (*p != ':')
		return NULL;
	p++;
	while (*p == ' ')
		p++;
	return p;
}

void
MvNpyOpen(MvNpyFile *f, const char *path)
{
	unsigned char pre[NPY_MAGIC_LEN + 4];
	uint32		hlen;
	int			prefix;
	char	   *header;
	const char *p;
	struct stat st;
	char		order;
	int64		data_bytes;

	memset(f, 0, sizeof(*f));
	f->path = pstrdup(path);
	f->fp = AllocateFile(path, PG_BINARY_R);
	if (f->fp == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	if (fread(pre, 1, NPY_MAGIC_LEN + 4, f->fp) != NPY_MAGIC_LEN + 4 ||
		memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
		bad_file(path, "It does not start with NumPy's magic string.");
	if (pre[6] == 1)
	{
		hlen = pre[8] | (pre[9] << 8);
		prefix = NPY_MAGIC_LEN + 4;
	}
	else if (pre[6] == 2 || pre[6] == 3)
	{
		unsigned char more[2];

		if (fread(more, 1, 2, f->fp) != 2)
			bad_file(path, "The header is cut short.");
		hlen = pre[8] | (pre[9] << 8) | (more[0] << 16) | ((uint32) more[1] << 24);
		prefix = NPY_MAGIC_LEN + 6;
	}
	else
		bad_file(path, psprintf("Format version %d.%d is not one of 1.0, 2.0 and 3.0.", pre[6], pre[7]));
	if (hlen > NPY_MAX_HEADER)
		bad_file(path, "The header is longer than 1 MB.");
	header = palloc(hlen + 1);
	if (fread(header, 1, hlen, f->fp) != hlen)
		bad_file(path, "The header is cut short.");
	header[hlen] = '\0';
	f->data_offset = prefix + hlen;

	/* 'descr': '<f4' */
	p = dict_value(header, "descr");
	if (p == NULL || *p != '\'' || strlen(p) < 4)
		bad_file(path, "The header has no 'descr' string.");
	order = p[1];
	f->kind = p[2];
	f->itemsize = atoi(p + 3);
	if (order == '>' && f->itemsize > 1)
		bad_file(path, "Its data is big-endian; Milvus's files are little-endian.");
	if (order != '<' && order != '|' && order != '=')
		bad_file(path, psprintf("Its dtype %.8s is not a plain number or string type.", p));
	if (f->itemsize <= 0 || strchr("biufU", f->kind) == NULL)
		bad_file(path, psprintf("Its dtype %.8s is not a plain number or string type.", p));
	if (f->itemsize > NPY_MAX_ITEM / (f->kind == 'U' ? 4 : 1))
		bad_file(path, psprintf("Its elements are wider than %d bytes.", NPY_MAX_ITEM));
	if (f->kind == 'U')
		f->itemsize *= 4;		/* UTF-32 code units */

	/* 'fortran_order': False */
	p = dict_value(header, "fortran_order");
	if (p == NULL || strncmp(p, "False", 5) != 0)
		bad_file(path, "Its data is in Fortran order; only C order is read.");

	/* 'shape': (N,) or (N, D) */
	p = dict_value(header, "shape");
	if (p == NULL || *p != '(')
		bad_file(path, "The header has no 'shape' tuple.");
	p++;
	f->rows = strtoll(p, (char **) &p, 10);
	f->cols = 1;
	f->ndim = 1;
	while (*p == ' ')
		p++;
	if (*p == ',')
	{
		p++;
		while (*p == ' ')
			p++;
		if (*p != ')')
		{
			f->cols = strtoll(p, (char **) &p, 10);
			f->ndim = 2;
			while (*p == ' ' || *p == ',')
				p++;
		}
	}
	if (*p != ')' || f->rows < 0 || f->cols < 1)
		bad_file(path, "Its shape is not (rows,) or (rows, columns).");
	/* (bounds that keep the sizes below from overflowing; any real file is far smaller) */
	if (f->rows > NPY_MAX_ROWS || f->cols > NPY_MAX_COLS)
		bad_file(path, psprintf("Its shape (" INT64_FORMAT ", " INT64_FORMAT ") is larger than any file this reads.",
								f->rows, f->cols));

	f->row_bytes = f->cols * f->itemsize;
	if (pg_mul_s64_overflow(f->rows, f->row_bytes, &data_bytes) || data_bytes > NPY_MAX_DATA)
		bad_file(path, "Its shape says more data than any file this reads.");
	if (fstat(fileno(f->fp), &st) != 0)
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not stat file \"%s\": %m", path)));
	if ((int64) st.st_size != (int64) f->data_offset + data_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("file \"%s\" has %lld bytes of data, not the %lld its shape says",
						path, (long long) (st.st_size - f->data_offset), (long long) data_bytes),
				 errhint("A file cut short, or written with another shape.")));
	if (fseeko(f->fp, f->data_offset, SEEK_SET) != 0)
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not seek in file \"%s\": %m", path)));
}

void
MvNpyRead(MvNpyFile *f, char *buf, int64 nrows)
{
	size_t		want = nrows * f->row_bytes;

	if (fread(buf, 1, want, f->fp) != want)
	{
		if (ferror(f->fp))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", f->path)));
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("file \"%s\" ended early", f->path)));
	}
}

void
MvNpyClose(MvNpyFile *f)
{
	if (f->fp)
		FreeFile(f->fp);
	f->fp = NULL;
}
