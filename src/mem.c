/* SPDX-License-Identifier: MIT */
/*
 * The memory hook every core allocation goes through. The tools leave it on
 * libc; the shim points it at its private jemalloc arena before any other
 * core call, so the core never re-enters the shim through the program's
 * malloc. The hook is read without a lock: it is set once, at start-up.
 */
#include <stdlib.h>
#include <string.h>

#include "hc.h"

static void *hc_mem_libc_alloc(size_t n)
{
	return malloc(n);
}

static void *hc_mem_libc_realloc(void *p, size_t n)
{
	return realloc(p, n);
}

static void hc_mem_libc_free(void *p)
{
	free(p);
}

static void *hc_mem_libc_alloc_zeroed(size_t n)
{
	return calloc(1, n);
}

static const struct hc_mem_ops hc_mem_libc = {
	.alloc = hc_mem_libc_alloc,
	.realloc = hc_mem_libc_realloc,
	.free = hc_mem_libc_free,
	.alloc_zeroed = hc_mem_libc_alloc_zeroed,
};

static struct hc_mem_ops hc_mem_ops = {
	.alloc = hc_mem_libc_alloc,
	.realloc = hc_mem_libc_realloc,
	.free = hc_mem_libc_free,
	.alloc_zeroed = hc_mem_libc_alloc_zeroed,
};

void hc_mem_set_ops(const struct hc_mem_ops *ops)
{
	hc_mem_ops = ops ? *ops : hc_mem_libc;
}

/* A zero-byte request asks for one byte, so that NULL always means failure. */
void *hc_mem_alloc(size_t n)
{
	return hc_mem_ops.alloc(n ? n : 1);
}

void *hc_mem_calloc(size_t count, size_t size)
{
	size_t n;
	void *p;

	if (__builtin_mul_overflow(count, size, &n))
		return NULL;
	if (hc_mem_ops.alloc_zeroed)
		return hc_mem_ops.alloc_zeroed(n ? n : 1);
	p = hc_mem_alloc(n);
	if (p)
		memset(p, 0, n);
	return p;
}

void *hc_mem_realloc(void *p, size_t n)
{
	return hc_mem_ops.realloc(p, n ? n : 1);
}

void hc_mem_free(void *p)
{
	if (p)
		hc_mem_ops.free(p);
}

char *hc_mem_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = hc_mem_alloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}
