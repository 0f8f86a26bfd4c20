/* SPDX-License-Identifier: MIT */
/*
 * Reading a whole input file (a suppression file, a baseline report) into
 * hc_mem memory, with a size limit, for the tools. The snapshot reader has
 * its own reader (one read of a regular file's known size); the shim reads
 * nothing this way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hc.h"

int hc_file_read(const char *path, size_t max, char **out, size_t *outlen,
		 struct hc_error *err)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	FILE *f;
	int rc = HC_ERR_IO;
	char what[64];

	*out = NULL;
	*outlen = 0;
	f = fopen(path, "r");
	if (!f) {
		hc_error_set(err, HC_ERR_IO, 0, strerror(errno));
		goto out;
	}
	do {
		if (len == cap) {
			char *b;

			if (cap >= max) {
				snprintf(what, sizeof(what), "larger than %zu MiB", max >> 20);
				rc = hc_error_set(err, HC_ERR_FORMAT, 0, what);
				goto out;
			}
			cap = cap ? 2 * cap : 65536;
			b = hc_mem_realloc(buf, cap + 1);
			if (!b) {
				rc = hc_error_set(err, HC_ERR_NOMEM, 0, "out of memory");
				goto out;
			}
			buf = b;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	if (ferror(f)) {
		hc_error_set(err, HC_ERR_IO, 0, strerror(errno ? errno : EIO));
		goto out;
	}
	buf[len] = '\0';	/* cap + 1 bytes were allocated */
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = HC_OK;
out:
	if (f)
		fclose(f);
	hc_mem_free(buf);
	return rc;
}
