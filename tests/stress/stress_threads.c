/* SPDX-License-Identifier: MIT */
/*
 * Stress program: 8 threads each run 200000 random malloc, calloc, realloc,
 * free, posix_memalign and aligned_alloc calls (sizes up to 4 MiB, a fixed
 * seed per thread, so every run does the same work), then each leaks one
 * block and keeps the blocks it still holds in a global table. It prints,
 * in the protocol of tests/stress/lib.sh, what it holds and what it leaked,
 * so that run_stress.sh can compare its own count with the snapshot's.
 * Every allocation the program keeps goes through an st_* function: the
 * snapshot's blocks whose stack holds such a frame are the program's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTHREADS 8
#define NOPS 200000
#define NSLOTS 512
#define NOINL __attribute__((noinline, noipa))

struct slot {
	unsigned char *p;
	size_t size;
};

struct worker {
	pthread_t tid;
	unsigned idx;
	uint64_t rng;
	struct slot slots[NSLOTS];
	size_t live_blocks, live_bytes;
	unsigned long errors;
};

static struct worker workers[NTHREADS];
void *volatile sink;

static NOINL void die(const char *what)
{
	fprintf(stderr, "stress_threads: %s failed: %s\n", what, strerror(errno));
	exit(2);
}

static NOINL void *st_malloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("malloc");
	return p;
}

static NOINL void *st_calloc(size_t n, size_t m)
{
	void *p = calloc(n, m);

	if (!p)
		die("calloc");
	return p;
}

static NOINL void *st_realloc(void *old, size_t n)
{
	void *p = realloc(old, n);

	if (!p)
		die("realloc");
	return p;
}

static NOINL void *st_memalign(size_t align, size_t n)
{
	void *p = NULL;
	int err = posix_memalign(&p, align, n);

	if (err) {
		errno = err;
		die("posix_memalign");
	}
	return p;
}

static NOINL void *st_aligned_alloc(size_t align, size_t n)
{
	void *p = aligned_alloc(align, n);

	if (!p)
		die("aligned_alloc");
	return p;
}

static NOINL void leak_from_thread(unsigned idx)
{
	unsigned char *p = malloc(1000 + idx);

	if (!p)
		die("malloc");
	memset(p, 0xa5, 1000 + idx);
	sink = p;
	sink = NULL;
}

static uint64_t next(uint64_t *s)
{
	/* xorshift64*: the same sequence on every run and every libc. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* Mostly small blocks, some pages, a few megabytes: the size classes of
 * every allocator path (thread cache, arena, huge/mmap). */
static size_t pick_size(uint64_t *s)
{
	uint64_t r = next(s);

	switch (r % 64) {
	case 0:
		return 1 + (size_t)(r >> 8) % (4u << 20);
	case 1: case 2: case 3:
		return 1 + (size_t)(r >> 8) % 65536;
	default:
		return 1 + (size_t)(r >> 8) % 512;
	}
}

static void fill(struct slot *sl, unsigned char tag)
{
	/* Touch the ends only: the allocator's work is what is stressed. */
	sl->p[0] = tag;
	sl->p[sl->size - 1] = tag;
}

static void check(struct worker *w, struct slot *sl, unsigned char tag)
{
	if (sl->p[0] != tag || sl->p[sl->size - 1] != tag)
		w->errors++;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned char tag = (unsigned char)(w->idx + 1);

	for (unsigned op = 0; op < NOPS; op++) {
		uint64_t r = next(&w->rng);
		struct slot *sl = &w->slots[r % NSLOTS];
		size_t n;

		if (sl->p) {
			check(w, sl, tag);
			if ((r >> 32) % 4 == 0) {
				/* realloc keeps the first bytes: move the tail tag. */
				n = pick_size(&w->rng);
				sl->p = st_realloc(sl->p, n);
				w->live_bytes += n - sl->size;
				if (sl->p[0] != tag)
					w->errors++;
				sl->size = n;
				fill(sl, tag);
			} else {
				free(sl->p);
				sl->p = NULL;
				w->live_blocks--;
				w->live_bytes -= sl->size;
			}
			continue;
		}
		n = pick_size(&w->rng);
		switch ((r >> 32) % 5) {
		case 0:
			sl->p = st_malloc(n);
			break;
		case 1:
			sl->p = st_calloc(1, n);
			if (sl->p[n / 2] != 0)
				w->errors++;
			break;
		case 2:
			sl->p = st_realloc(NULL, n);
			break;
		case 3:
			sl->p = st_memalign((size_t)16 << ((r >> 40) % 9), n);
			break;
		default: {
			size_t align = (size_t)16 << ((r >> 40) % 9);

			/* C11 wants a multiple of the alignment. */
			n = (n + align - 1) / align * align;
			sl->p = st_aligned_alloc(align, n);
			break;
		}
		}
		sl->size = n;
		fill(sl, tag);
		w->live_blocks++;
		w->live_bytes += n;
	}
	leak_from_thread(w->idx);
	return NULL;
}

int main(void)
{
	size_t blocks = 0, bytes = 0, leak_bytes = 0;
	unsigned long errors = 0;

	for (unsigned i = 0; i < NTHREADS; i++) {
		workers[i].idx = i;
		workers[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1);
		if (pthread_create(&workers[i].tid, NULL, work, &workers[i]) != 0)
			die("pthread_create");
	}
	for (unsigned i = 0; i < NTHREADS; i++) {
		if (pthread_join(workers[i].tid, NULL) != 0)
			die("pthread_join");
		blocks += workers[i].live_blocks;
		bytes += workers[i].live_bytes;
		errors += workers[i].errors;
		leak_bytes += 1000 + i;
	}
	printf("stress_threads: %u threads x %u operations, %lu corrupted blocks\n",
	       NTHREADS, NOPS, errors);
	printf("stress: pid=%ld live fn=st_* blocks=%zu bytes=%zu\n", (long)getpid(), blocks, bytes);
	printf("stress: pid=%ld leak class=direct fn=leak_from_thread blocks=%u bytes=%zu\n",
	       (long)getpid(), NTHREADS, leak_bytes);
	return errors ? 1 : 0;
}
