/* SPDX-License-Identifier: MIT */
/*
 * glibc's allocation contracts, checked under the shim: NULL returns and
 * errno values of failed requests, alignment of every aligned API,
 * malloc_usable_size, zero-filled calloc, realloc keeping contents, the
 * error codes of posix_memalign, errno kept by free. Each check prints one
 * line "ok NAME" or "FAIL NAME: detail"; the test also compares the whole
 * output with the native run's, so a line that states what glibc does
 * (not only what C requires) must come out the same under heapcycle. No
 * line prints an address or a size the allocator chose. The program ends
 * holding a known set of blocks (see tests/stress/lib.sh).
 * Built with -fno-builtin so that the compiler folds none of these calls.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINL __attribute__((noinline, noipa))

/* The huge requests below are the point: GCC knows they must fail. */
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="

static unsigned failures;
/* Not static: GCC drops a static array that is only written. */
void *held[64];
static unsigned nheld;
static size_t held_bytes;
void *volatile sink;

static void check(int cond, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#include <stdarg.h>
static void check(int cond, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (cond) {
		printf("ok %s\n", name);
		return;
	}
	failures++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case ENOMEM: return "ENOMEM";
	case EINVAL: return "EINVAL";
	default: return "other";
	}
}

static int aligned(const void *p, size_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

static int all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* Blocks kept to the end, all allocated here so that the snapshot can be
 * compared with the count (the frame is keep_*). */
static NOINL void *keep_malloc(size_t n)
{
	void *p = malloc(n);

	if (p) {
		/* No stale pointer left in it to make a false edge. */
		memset(p, 0, n);
		held[nheld++] = p;
		held_bytes += n;
	}
	return p;
}

static NOINL void *keep_calloc(size_t n, size_t m)
{
	void *p = calloc(n, m);

	if (p) {
		held[nheld++] = p;
		held_bytes += n * m;
	}
	return p;
}

static NOINL void *keep_memalign(size_t a, size_t n)
{
	void *p = NULL;

	if (posix_memalign(&p, a, n) == 0) {
		held[nheld++] = p;
		held_bytes += n;
	}
	return p;
}

static NOINL void *keep_aligned_alloc(size_t a, size_t n)
{
	void *p = aligned_alloc(a, n);

	if (p) {
		/* No stale pointer left in it to make a false edge. */
		memset(p, 0, n);
		held[nheld++] = p;
		held_bytes += n;
	}
	return p;
}

static NOINL char *keep_strdup(const char *s)
{
	char *p = strdup(s);

	if (p) {
		held[nheld++] = p;
		held_bytes += strlen(s) + 1;
	}
	return p;
}

static void huge_requests(void)
{
	void *p;
	int e;

	errno = 0;
	p = malloc(SIZE_MAX);
	e = errno;
	check(!p && e == ENOMEM, "malloc(SIZE_MAX) is NULL with ENOMEM", "%s errno %s",
	      p ? "non-NULL" : "NULL", errname(e));
	errno = 0;
	p = malloc((size_t)PTRDIFF_MAX + 1);
	e = errno;
	check(!p && e == ENOMEM, "malloc(PTRDIFF_MAX+1) is NULL with ENOMEM", "%s errno %s",
	      p ? "non-NULL" : "NULL", errname(e));
	errno = 0;
	p = calloc(SIZE_MAX / 2 + 1, 2);
	e = errno;
	check(!p && e == ENOMEM, "calloc overflow is NULL with ENOMEM", "%s errno %s",
	      p ? "non-NULL" : "NULL", errname(e));
	errno = 0;
	p = calloc(SIZE_MAX, SIZE_MAX);
	e = errno;
	check(!p && e == ENOMEM, "calloc(SIZE_MAX, SIZE_MAX) is NULL with ENOMEM", "%s errno %s",
	      p ? "non-NULL" : "NULL", errname(e));
	errno = 0;
	p = reallocarray(NULL, SIZE_MAX / 4, 8);
	e = errno;
	check(!p && e == ENOMEM, "reallocarray overflow is NULL with ENOMEM", "%s errno %s",
	      p ? "non-NULL" : "NULL", errname(e));
	errno = 0;
	p = aligned_alloc(64, SIZE_MAX - 63);
	e = errno;
	check(!p && e == ENOMEM, "aligned_alloc(64, huge) is NULL with ENOMEM", "%s errno %s",
	      p ? "non-NULL" : "NULL", errname(e));
	errno = 0;
	p = memalign(4096, SIZE_MAX - 4095);
	e = errno;
	check(!p && e == ENOMEM, "memalign(4096, huge) is NULL with ENOMEM", "%s errno %s",
	      p ? "non-NULL" : "NULL", errname(e));
	errno = 0;
	p = valloc(SIZE_MAX);
	e = errno;
	check(!p && e == ENOMEM, "valloc(SIZE_MAX) is NULL with ENOMEM", "%s errno %s",
	      p ? "non-NULL" : "NULL", errname(e));
	errno = 0;
	p = pvalloc(SIZE_MAX);
	e = errno;
	check(!p && e == ENOMEM, "pvalloc(SIZE_MAX) is NULL with ENOMEM", "%s errno %s",
	      p ? "non-NULL" : "NULL", errname(e));
	{
		void *mem = &mem;

		errno = 0;
		e = posix_memalign(&mem, 64, SIZE_MAX - 63);
		check(e == ENOMEM, "posix_memalign(64, huge) returns ENOMEM", "returned %s",
		      errname(e));
	}
}

static void realloc_contracts(void)
{
	unsigned char *p, *q;
	int e;

	p = realloc(NULL, 100);
	check(p != NULL, "realloc(NULL, 100) allocates", "NULL");
	if (!p)
		return;
	for (int i = 0; i < 100; i++)
		p[i] = (unsigned char)i;
	q = realloc(p, 100000);
	check(q && ({ int good = 1; for (int i = 0; i < 100; i++) good &= q[i] == (unsigned char)i; good; }),
	      "realloc grow keeps the contents", "%s", q ? "bytes differ" : "NULL");
	if (!q) {
		free(p);
		return;
	}
	p = q;
	memset(p + 100, 0xee, 100000 - 100);
	q = realloc(p, 10);
	check(q && ({ int good = 1; for (int i = 0; i < 10; i++) good &= q[i] == (unsigned char)i; good; }),
	      "realloc shrink keeps the prefix", "%s", q ? "bytes differ" : "NULL");
	if (!q) {
		free(p);
		return;
	}
	p = q;
	errno = 0;
	q = realloc(p, SIZE_MAX);
	e = errno;
	check(!q && e == ENOMEM, "realloc(p, SIZE_MAX) is NULL with ENOMEM", "%s errno %s",
	      q ? "non-NULL" : "NULL", errname(e));
	check(({ int good = 1; for (int i = 0; i < 10; i++) good &= p[i] == (unsigned char)i; good; }),
	      "a failed realloc leaves the block intact", "bytes differ");
	errno = 0;
	q = reallocarray(p, SIZE_MAX / 2, 4);
	e = errno;
	check(!q && e == ENOMEM, "reallocarray(p, overflow) is NULL with ENOMEM", "%s errno %s",
	      q ? "non-NULL" : "NULL", errname(e));
	q = reallocarray(p, 20, 50);
	check(q && q[9] == 9 && malloc_usable_size(q) >= 1000,
	      "reallocarray(p, 20, 50) grows the block", "%s", q ? "bad contents or size" : "NULL");
	if (q)
		p = q;
	/* glibc (REALLOC_ZERO_BYTES_FREES) frees the block and returns NULL. */
	q = realloc(p, 0);
	printf("glibc: realloc(p, 0) returns %s\n", q ? "a block" : "NULL");
	free(q);
}

static void zero_and_free(void)
{
	void *p, *q;
	int e;

	p = malloc(0);
	q = malloc(0);
	printf("glibc: malloc(0) returns %s\n", p ? "a unique block" : "NULL");
	check(!p || p != q, "two malloc(0) blocks are distinct", "same pointer");
	free(p);
	free(q);
	p = calloc(0, 16);
	printf("glibc: calloc(0, 16) returns %s\n", p ? "a block" : "NULL");
	free(p);
	errno = 12345;
	free(NULL);
	e = errno;
	check(e == 12345, "free(NULL) keeps errno", "errno %d", e);
	p = malloc(1000);
	errno = 12345;
	free(p);
	e = errno;
	check(e == 12345, "free keeps errno (glibc >= 2.33)", "errno %d", e);
	p = malloc(5 << 20);
	errno = 12345;
	free(p);
	e = errno;
	check(e == 12345, "free of a 5 MiB block keeps errno", "errno %d", e);
	errno = 12345;
	p = malloc(123);
	e = errno;
	check(e == 12345, "a successful malloc keeps errno", "errno %d", e);
	free(p);
	check(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) is 0", "not 0");
}

static void alignment_and_size(void)
{
	static const size_t sizes[] = { 1, 7, 15, 16, 17, 24, 31, 32, 33, 100, 1000, 4095,
					4096, 4097, 65536, 100000, 1 << 20, 3 << 20 };
	int bad_align = 0, bad_usable = 0, bad_zero = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		unsigned char *p = malloc(n), *c;

		if (!p) {
			bad_usable++;
			continue;
		}
		if (n >= 16 && !aligned(p, 16))
			bad_align++;
		if (malloc_usable_size(p) < n)
			bad_usable++;
		/* Dirty a block of the same size, so that calloc may reuse it. */
		memset(p, 0xff, n);
		free(p);
		c = calloc(n, 1);
		if (!c || !all_bytes(c, n, 0))
			bad_zero++;
		if (c && malloc_usable_size(c) < n)
			bad_usable++;
		free(c);
	}
	check(!bad_align, "malloc of 16 bytes or more is 16-byte aligned", "%d misaligned",
	      bad_align);
	check(!bad_usable, "malloc_usable_size >= the requested size", "%d too small", bad_usable);
	check(!bad_zero, "calloc returns zeroed memory, also for reused blocks", "%d not zeroed",
	      bad_zero);

	bad_align = bad_usable = 0;
	for (size_t a = sizeof(void *); a <= (size_t)1 << 21; a <<= 1) {
		static const size_t ns[] = { 0, 1, 24, 4096, 100000 };

		for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
			void *p = (void *)1, *q, *r;
			int e = posix_memalign(&p, a, ns[k]);

			if (e || !aligned(p, a) || malloc_usable_size(p) < ns[k])
				bad_align++;
			if (!e)
				free(p);
			if (ns[k] % a == 0) {
				q = aligned_alloc(a, ns[k]);
				if ((ns[k] && !q) || (q && (!aligned(q, a) ||
							   malloc_usable_size(q) < ns[k])))
					bad_align++;
				free(q);
			}
			r = memalign(a, ns[k]);
			if ((ns[k] && !r) || (r && (!aligned(r, a) || malloc_usable_size(r) < ns[k])))
				bad_align++;
			free(r);
		}
	}
	check(!bad_align, "posix_memalign, aligned_alloc, memalign: 8 B to 2 MiB alignments",
	      "%d wrong", bad_align);
	{
		long page = sysconf(_SC_PAGESIZE);
		void *v = valloc(100), *pv = pvalloc(100);

		check(v && aligned(v, (size_t)page) && malloc_usable_size(v) >= 100,
		      "valloc is page-aligned", "%s", v ? "misaligned" : "NULL");
		check(pv && aligned(pv, (size_t)page) && malloc_usable_size(pv) >= (size_t)page,
		      "pvalloc is page-aligned and rounds the size up to a page", "%s",
		      pv ? "misaligned or short" : "NULL");
		free(v);
		free(pv);
	}
}

static void memalign_errors(void)
{
	static const size_t bad[] = { 0, 1, 2, 4, 3, 12, 24, 48, 100, 4097 };
	int wrong = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		void *p = &wrong;
		int e;

		errno = 12345;
		e = posix_memalign(&p, bad[i], 64);
		if (e != EINVAL || p != (void *)&wrong || errno != 12345) {
			wrong++;
			printf("posix_memalign(align=%zu): returned %s, memptr %s, errno %s\n",
			       bad[i], errname(e), p == (void *)&wrong ? "untouched" : "changed",
			       errno == 12345 ? "untouched" : errname(errno));
			if (e == 0)
				free(p);
		}
	}
	check(!wrong, "posix_memalign with an invalid alignment: EINVAL, memptr and errno untouched",
	      "%d wrong", wrong);
	/* glibc 2.36 makes aligned_alloc an alias of memalign: an alignment
	 * that is not a power of two is rounded up, not refused. */
	for (size_t a = 3; a <= 48; a += 21) {
		void *p;

		errno = 0;
		p = aligned_alloc(a, 96);
		printf("glibc: aligned_alloc(%zu, 96): %s, errno %s\n", a,
		       p ? "a block" : "NULL", errname(errno));
		free(p);
	}
}

static void library_allocations(void)
{
	char *s = NULL, *t;
	size_t cap = 0;
	FILE *f;
	int n;

	n = asprintf(&s, "%d-%s", 42, "heapcycle");
	check(n == 12 && s && !strcmp(s, "42-heapcycle"), "asprintf's block is usable", "bad");
	free(s);
	t = strndup("abcdefgh", 3);
	check(t && !strcmp(t, "abc"), "strndup's block is usable", "bad");
	free(t);
	f = open_memstream(&s, &cap);
	if (f) {
		for (int i = 0; i < 1000; i++)
			fprintf(f, "line %d\n", i);
		fclose(f);
	}
	check(f && s && cap > 5000 && !strncmp(s, "line 0\n", 7), "open_memstream grows its buffer",
	      "bad");
	free(s);
}

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen++;
}

/* The shim answers libunwind's sigprocmask calls itself while it unwinds:
 * the program's own must still reach the kernel. */
static void signal_masks(void)
{
	sigset_t set, cur, pending;
	int r;

	signal(SIGUSR1, on_usr1);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	r = sigprocmask(SIG_BLOCK, &set, NULL);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	check(r == 0 && sigismember(&cur, SIGUSR1) == 1, "sigprocmask blocks a signal", "r=%d", r);
	raise(SIGUSR1);
	sigpending(&pending);
	check(usr1_seen == 0 && sigismember(&pending, SIGUSR1) == 1,
	      "a blocked signal stays pending", "seen %d", (int)usr1_seen);
	free(malloc(100));	/* an allocation while it is blocked */
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	check(usr1_seen == 1, "unblocking delivers it once", "seen %d", (int)usr1_seen);
	errno = 0;
	r = sigprocmask(12345, &set, NULL);
	check(r == -1 && errno == EINVAL, "sigprocmask with a bad how: EINVAL", "r=%d errno=%d", r,
	      errno);
	signal(SIGUSR1, SIG_DFL);
}

/* A large block shrunk below 4 KiB by realloc stays a large block for the
 * allocator: freeing it by its new size would put it in the wrong bin and
 * later blocks would overlap. */
static void shrink_then_reuse(void)
{
	enum { N = 2000 };
	unsigned char *small[N];
	int i, bad = 0;

	for (i = 0; i < 50; i++) {
		char *p = malloc(256 << 10), *q;

		if (!p)
			break;
		memset(p, 'x', 256 << 10);
		q = realloc(p, 100 + i);
		free(q ? q : p);
	}
	for (i = 0; i < N; i++) {
		small[i] = malloc(100);
		if (small[i])
			memset(small[i], i & 0xff, 100);
	}
	for (i = 0; i < N; i++) {
		int k;

		for (k = 0; small[i] && k < 100; k++)
			bad += small[i][k] != (i & 0xff);
		free(small[i]);
	}
	check(bad == 0, "blocks after freeing shrunk large ones do not overlap", "%d bytes wrong",
	      bad);
}

int main(void)
{
	huge_requests();
	realloc_contracts();
	zero_and_free();
	alignment_and_size();
	memalign_errors();
	library_allocations();
	signal_masks();
	shrink_then_reuse();

	/* What the snapshot must find at exit. */
	keep_malloc(1);
	keep_malloc(4096);
	keep_malloc(3 << 20);
	keep_calloc(10, 10);
	keep_memalign(256, 300);
	keep_memalign(4096, 5000);
	keep_aligned_alloc(64, 128);
	keep_aligned_alloc(1 << 16, 1 << 16);
	keep_strdup("a string kept to the end");
	check(nheld == 9, "the blocks kept to the end were allocated", "%u of 9", nheld);
	printf("stress: pid=%ld live fn=keep_* blocks=%u bytes=%zu\n", (long)getpid(), nheld,
	       held_bytes);
	printf("stress_semantics: %u failures\n", failures);
	return failures ? 1 : 0;
}
