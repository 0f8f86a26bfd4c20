/* SPDX-License-Identifier: MIT */
/*
 * Stress program: 500 threads alive at once (a barrier holds them), each
 * allocating and freeing, keeping one block in a global table and, one
 * thread in ten, leaking one; all are joined. The shim's per-thread state
 * and the snapshot's thread handling must scale to that many.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTHREADS 500
#define NOINL __attribute__((noinline, noipa))

/* Not static: GCC drops a static array that is only written. */
void *kept[NTHREADS];
static pthread_barrier_t barrier;
void *volatile sink;

static NOINL void die(const char *what, int err)
{
	fprintf(stderr, "stress_many_threads: %s failed: %s\n", what, strerror(err));
	exit(2);
}

static NOINL void *thread_keep(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("malloc", errno);
	memset(p, 0x5e, n);
	return p;
}

static NOINL void leak_in_thread(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("malloc", errno);
	memset(p, 0x5f, n);
	sink = p;
	sink = NULL;
}

static void *thread_main(void *arg)
{
	unsigned idx = (unsigned)(uintptr_t)arg;
	void *tmp[32];

	for (unsigned k = 0; k < 32; k++)
		tmp[k] = malloc(8 + (idx + k) % 300);
	pthread_barrier_wait(&barrier);
	for (unsigned k = 0; k < 32; k++)
		free(tmp[k]);
	kept[idx] = thread_keep(16 + idx % 100);
	if (idx % 10 == 0)
		leak_in_thread(200 + idx);
	return NULL;
}

int main(void)
{
	static pthread_t tids[NTHREADS];
	size_t kept_bytes = 0, leak_bytes = 0;
	int err;

	if ((err = pthread_barrier_init(&barrier, NULL, NTHREADS + 1)) != 0)
		die("pthread_barrier_init", err);
	for (uintptr_t i = 0; i < NTHREADS; i++)
		if ((err = pthread_create(&tids[i], NULL, thread_main, (void *)i)) != 0)
			die("pthread_create", err);
	pthread_barrier_wait(&barrier);
	for (unsigned i = 0; i < NTHREADS; i++) {
		if ((err = pthread_join(tids[i], NULL)) != 0)
			die("pthread_join", err);
		kept_bytes += 16 + i % 100;
		if (i % 10 == 0)
			leak_bytes += 200 + i;
	}
	printf("stress_many_threads: %u threads alive at once, all joined\n", NTHREADS);
	printf("stress: pid=%ld live fn=thread_keep blocks=%u bytes=%zu\n", (long)getpid(),
	       NTHREADS, kept_bytes);
	printf("stress: pid=%ld leak class=direct fn=leak_in_thread blocks=%u bytes=%zu\n",
	       (long)getpid(), NTHREADS / 10, leak_bytes);
	return 0;
}
