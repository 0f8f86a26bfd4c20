/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: checks the allocation semantics the shim must
 * preserve (glibc's and POSIX's), under the shim itself. Every check that
 * fails prints one line to stderr; the program then exits 1. Everything it
 * allocates is released, so the report must also be empty.
 * Built with -fno-builtin so that the compiler cannot fold any call.
 */
/* EXPECT: no-leaks */
/* EXPECT: exit=0 */
/* EXPECT: stdout=alloc_semantics: all checks passed */
#define _GNU_SOURCE 1
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
static int checks;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		checks++;                                                    \
		if (!(cond)) {                                               \
			failures++;                                          \
			fprintf(stderr, "alloc_semantics: %s:%d: ", __FILE__, \
				__LINE__);                                   \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

/* Sizes the compiler cannot see, so it neither folds nor warns. */
static volatile size_t v_size_max = SIZE_MAX;
static volatile size_t v_half = SIZE_MAX / 2 + 1;

static int aligned(const void *p, size_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

static void check_malloc(void)
{
	void *p, *q;

	p = malloc(0);
	q = malloc(0);
	CHECK(p != NULL, "malloc(0) returned NULL");
	CHECK(p == NULL || p != q, "two malloc(0) returned the same pointer %p", p);
	free(p);
	free(q);

	errno = 0;
	p = malloc(v_size_max);
	CHECK(p == NULL, "malloc(SIZE_MAX) returned %p", p);
	CHECK(errno == ENOMEM, "malloc(SIZE_MAX): errno %d, want ENOMEM", errno);
	free(p);

	p = malloc(100);
	CHECK(p != NULL, "malloc(100) returned NULL");
	CHECK(aligned(p, 16), "malloc(100) = %p: not 16-byte aligned", p);
	CHECK(malloc_usable_size(p) >= 100, "malloc_usable_size(malloc(100)) = %zu",
	      malloc_usable_size(p));
	CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) = %zu",
	      malloc_usable_size(NULL));
	free(p);
	free(NULL);
}

static void check_calloc(void)
{
	unsigned char *p;
	size_t i, nonzero = 0;

	/* Dirty some memory first, so that a recycled block would show. */
	for (i = 0; i < 8; i++) {
		p = malloc(1000);
		if (p)
			memset(p, 0xff, 1000);
		free(p);
	}
	p = calloc(250, 4);
	CHECK(p != NULL, "calloc(250, 4) returned NULL");
	for (i = 0; p && i < 1000; i++)
		nonzero += p[i] != 0;
	CHECK(nonzero == 0, "calloc(250, 4): %zu non-zero bytes", nonzero);
	CHECK(!p || malloc_usable_size(p) >= 1000, "calloc: usable size %zu < 1000",
	      malloc_usable_size(p));
	free(p);

	errno = 0;
	p = calloc(v_half, 2);
	CHECK(p == NULL, "calloc(SIZE_MAX/2+1, 2) (overflow) returned %p", (void *)p);
	CHECK(errno == ENOMEM, "calloc overflow: errno %d, want ENOMEM", errno);
	free(p);

	p = calloc(0, 16);
	CHECK(p != NULL, "calloc(0, 16) returned NULL");
	free(p);
}

static void check_realloc(void)
{
	char *p, *q;
	int same = 1;

	p = realloc(NULL, 64);
	CHECK(p != NULL, "realloc(NULL, 64) returned NULL");
	CHECK(!p || malloc_usable_size(p) >= 64, "realloc(NULL, 64): usable %zu",
	      malloc_usable_size(p));
	if (!p)
		return;
	for (int i = 0; i < 64; i++)
		p[i] = (char)i;

	q = realloc(p, 100000);		/* grow: contents kept */
	CHECK(q != NULL, "realloc grow returned NULL");
	if (!q) {
		free(p);
		return;
	}
	for (int i = 0; i < 64; i++)
		same &= q[i] == (char)i;
	CHECK(same, "realloc grow lost the contents");

	p = realloc(q, 16);		/* shrink: first 16 kept */
	CHECK(p != NULL, "realloc shrink returned NULL");
	if (!p) {
		free(q);
		return;
	}
	same = 1;
	for (int i = 0; i < 16; i++)
		same &= p[i] == (char)i;
	CHECK(same, "realloc shrink lost the contents");

	errno = 0;
	q = realloc(p, v_size_max);	/* fails: p untouched and still owned */
	CHECK(q == NULL, "realloc(p, SIZE_MAX) returned %p", (void *)q);
	CHECK(errno == ENOMEM, "realloc(p, SIZE_MAX): errno %d, want ENOMEM", errno);
	CHECK(p[5] == 5, "failed realloc changed the block");
	if (q)
		free(q);

	/* glibc: realloc(p, 0) frees p and returns NULL. A unique non-NULL
	 * pointer would also be conforming; it must then be freeable. */
	q = realloc(p, 0);
	free(q);
}

static void check_reallocarray(void)
{
	void *p;

	errno = 0;
	p = reallocarray(NULL, v_half, 4);
	CHECK(p == NULL, "reallocarray overflow returned %p", p);
	CHECK(errno == ENOMEM, "reallocarray overflow: errno %d, want ENOMEM", errno);

	p = reallocarray(NULL, 10, 8);
	CHECK(p != NULL, "reallocarray(NULL, 10, 8) returned NULL");
	CHECK(!p || malloc_usable_size(p) >= 80, "reallocarray: usable %zu",
	      malloc_usable_size(p));
	free(p);
}

static void check_aligned(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *sentinel = (void *)0x1234;
	void *p;
	int rc;

	p = sentinel;
	rc = posix_memalign(&p, 3, 64);
	CHECK(rc == EINVAL, "posix_memalign(align 3) = %d, want EINVAL", rc);
	CHECK(p == sentinel, "posix_memalign(align 3) wrote the out pointer");
	rc = posix_memalign(&p, 4, 64);	/* power of two, not a multiple of void* */
	CHECK(rc == EINVAL, "posix_memalign(align 4) = %d, want EINVAL", rc);
	CHECK(p == sentinel, "posix_memalign(align 4) wrote the out pointer");
	rc = posix_memalign(&p, 24, 64);	/* multiple of void*, not a power of two */
	CHECK(rc == EINVAL, "posix_memalign(align 24) = %d, want EINVAL", rc);
	CHECK(p == sentinel, "posix_memalign(align 24) wrote the out pointer");

	p = NULL;
	rc = posix_memalign(&p, 256, 100);
	CHECK(rc == 0 && p != NULL, "posix_memalign(256, 100) = %d", rc);
	CHECK(aligned(p, 256), "posix_memalign(256): %p not aligned", p);
	CHECK(!p || malloc_usable_size(p) >= 100, "posix_memalign: usable %zu",
	      malloc_usable_size(p));
	free(p);

	p = aligned_alloc(64, 128);
	CHECK(p != NULL, "aligned_alloc(64, 128) returned NULL");
	CHECK(aligned(p, 64), "aligned_alloc(64): %p not aligned", p);
	free(p);

	p = memalign(4096, 10);
	CHECK(p != NULL, "memalign(4096, 10) returned NULL");
	CHECK(aligned(p, 4096), "memalign(4096): %p not aligned", p);
	CHECK(!p || malloc_usable_size(p) >= 10, "memalign: usable %zu",
	      malloc_usable_size(p));
	free(p);

	p = valloc(100);
	CHECK(p != NULL, "valloc(100) returned NULL");
	CHECK(aligned(p, page), "valloc: %p not page aligned", p);
	free(p);

	/* pvalloc rounds the size up to a whole page. */
	p = pvalloc(100);
	CHECK(p != NULL, "pvalloc(100) returned NULL");
	CHECK(aligned(p, page), "pvalloc: %p not page aligned", p);
	CHECK(!p || malloc_usable_size(p) >= page, "pvalloc(100): usable %zu < page %zu",
	      malloc_usable_size(p), page);
	free(p);
}

int main(void)
{
	check_malloc();
	check_calloc();
	check_realloc();
	check_reallocarray();
	check_aligned();
	if (failures) {
		fprintf(stderr, "alloc_semantics: %d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("alloc_semantics: all checks passed\n");
	return 0;
}
