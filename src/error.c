/* SPDX-License-Identifier: MIT */
/*
 * Status codes as text, the error record readers fill in, its one-line
 * rendering for the tools, and hc_assert's failure path. hc_error_set and
 * hc_assert_fail may run in the shim with the world stopped, so they copy
 * and format by hand and write with write(2); only hc_error_format, which
 * the tools call, uses stdio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hc.h"

const char *hc_strerror(enum hc_status status)
{
	switch (status) {
	case HC_OK:
		return "success";
	case HC_ERR_NOMEM:
		return "out of memory";
	case HC_ERR_IO:
		return "input/output error";
	case HC_ERR_FORMAT:
		return "malformed snapshot";
	case HC_ERR_VERSION:
		return "unsupported snapshot version";
	case HC_ERR_ARG:
		return "invalid argument";
	case HC_ERR_EXISTS:
		return "file exists";
	}
	return "unknown error";
}

enum hc_status hc_error_set(struct hc_error *err, enum hc_status status,
			    uint64_t offset, const char *what)
{
	size_t i = 0;

	if (!err)
		return status;
	err->status = status;
	err->offset = offset;
	/* By hand rather than strncpy/snprintf: AS-Safe, and always terminated. */
	if (what)
		for (; what[i] != '\0' && i < sizeof(err->what) - 1; i++)
			err->what[i] = what[i];
	err->what[i] = '\0';
	return status;
}

char *hc_error_format(const struct hc_error *err, const char *file,
		      char *buf, size_t len)
{
	const char *sep = file ? ": " : "";
	const char *what;
	unsigned long long off;

	if (!buf || len == 0)
		return buf;
	if (!file)
		file = "";
	if (!err) {
		snprintf(buf, len, "%s%sno error recorded", file, sep);
		return buf;
	}
	what = err->what;
	off = (unsigned long long)err->offset;
	switch (err->status) {
	case HC_ERR_FORMAT:
		/*
		 * Readers name a truncation "truncated (part)", so that the
		 * line reads "FILE: truncated at byte N (part)"; any other
		 * format error reads "FILE: malformed snapshot at byte N (part)".
		 */
		if (strncmp(what, "truncated", 9) == 0)
			snprintf(buf, len, "%s%struncated at byte %llu%s", file, sep,
				 off, what + 9);
		else if (what[0] != '\0')
			snprintf(buf, len, "%s%s%s at byte %llu (%s)", file, sep,
				 hc_strerror(err->status), off, what);
		else
			snprintf(buf, len, "%s%s%s at byte %llu", file, sep,
				 hc_strerror(err->status), off);
		break;
	case HC_ERR_VERSION:
		snprintf(buf, len, "%s%s%s at byte %llu%s%s%s", file, sep,
			 hc_strerror(err->status), off,
			 what[0] ? " (" : "", what, what[0] ? ")" : "");
		break;
	default:
		/* No byte offset: I/O, memory and argument errors have none. */
		snprintf(buf, len, "%s%s%s%s%s", file, sep,
			 hc_strerror(err->status), what[0] ? ": " : "", what);
		break;
	}
	return buf;
}

#ifndef NDEBUG
static size_t hc_put(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at < cap)
		buf[at++] = *s++;
	return at;
}

void hc_assert_fail(const char *expr, const char *file, int line)
{
	char buf[512];
	char num[16];
	size_t at = 0;
	int i = (int)sizeof(num) - 1;
	unsigned int v = line < 0 ? 0u : (unsigned int)line;
	ssize_t HC_UNUSED r;

	/* Digits by hand: no stdio when the shim holds its locks. */
	num[i] = '\0';
	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	at = hc_put(buf, at, sizeof(buf) - 1, "heapcycle: assertion failed: ");
	at = hc_put(buf, at, sizeof(buf) - 1, expr);
	at = hc_put(buf, at, sizeof(buf) - 1, " (");
	at = hc_put(buf, at, sizeof(buf) - 1, file);
	at = hc_put(buf, at, sizeof(buf) - 1, ":");
	at = hc_put(buf, at, sizeof(buf) - 1, num + i);
	at = hc_put(buf, at, sizeof(buf) - 1, ")");
	buf[at++] = '\n';
	r = write(STDERR_FILENO, buf, at);
	abort();
}
#endif
