/* SPDX-License-Identifier: MIT */
/*
 * Where snapshots go: the output pattern expanded (%p the pid, %% a
 * percent sign) and opened safely: mode 0600, O_EXCL and O_NOFOLLOW, so an
 * existing file or a planted symbolic link is never followed or replaced
 * (unless the overwrite option asks, and even then no link is followed).
 * No stdio, no allocation: this runs at _exit and in fork children.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

size_t shim_fmt_u64(char *buf, uint64_t n, unsigned base)
{
	char tmp[24];
	size_t len = 0, i;

	do {
		unsigned d = (unsigned)(n % base);

		tmp[len++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		n /= base;
	} while (n);
	for (i = 0; i < len; i++)
		buf[i] = tmp[len - 1 - i];
	buf[len] = 0;
	return len;
}

static bool expand(const char *pattern, char *out, size_t len)
{
	size_t n = 0;
	const char *p;

	for (p = pattern; *p; p++) {
		char num[24];
		size_t k;

		if (p[0] == '%' && p[1] == 'p') {
			k = shim_fmt_u64(num, shim_g.pid, 10);
			if (n + k >= len)
				return false;
			memcpy(out + n, num, k);
			n += k;
			p++;
			continue;
		}
		if (p[0] == '%' && p[1] == '%')
			p++;
		if (n + 1 >= len)
			return false;
		out[n++] = *p;
	}
	out[n] = 0;
	return true;
}

int shim_out_open(const char *pattern, char *path, size_t len)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
	size_t base;
	unsigned i;
	int fd;

	if (!expand(pattern, path, len)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (shim_g.opts.overwrite)
		return (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_TRUNC, 0600);
	base = strlen(path);
	/* One process may write several snapshots (exec keeps the pid; the
	 * API may be called at any time): later ones get .1, .2, ... */
	for (i = 0; i < 100; i++) {
		if (i > 0) {
			char num[24];
			size_t k = shim_fmt_u64(num, i, 10);

			if (base + k + 2 > len) {
				errno = ENAMETOOLONG;
				return -1;
			}
			path[base] = '.';
			memcpy(path + base + 1, num, k + 1);
		}
		fd = (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_EXCL, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}
