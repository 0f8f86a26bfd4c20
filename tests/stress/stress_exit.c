/* SPDX-License-Identifier: MIT */
/*
 * Stress program: the ways a process ends while threads allocate. argv[1]:
 *   exit-thread  a thread calls exit(3) while 4 others allocate;
 *   _exit        main calls _exit(4) while 4 threads allocate;
 *   abort        main calls abort() while 4 threads allocate (status 134);
 *   return       main returns 5 with the 4 threads still running.
 * Before that, main allocates 100 blocks it keeps and leaks one. The
 * workers hold at most one block each at any moment (allocate, touch,
 * free), so the snapshot must hold between 0 and 4 of theirs, all
 * reachable from their stacks or registers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NWORKERS 4
#define NKEEP 100
#define NOINL __attribute__((noinline, noipa))

/* Not static: GCC drops a static array that is only written. */
void *keep[NKEEP];
static atomic_int running;
void *volatile sink;

static NOINL void die(const char *what)
{
	fprintf(stderr, "stress_exit: %s failed: %s\n", what, strerror(errno));
	_exit(2);
}

static NOINL void *exit_worker_alloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("malloc");
	return p;
}

static void *exit_worker(void *arg)
{
	size_t n = 1 + (size_t)(uintptr_t)arg;

	atomic_fetch_add(&running, 1);
	for (;;) {
		volatile char *p = exit_worker_alloc(n);

		p[0] = 1;
		p[n - 1] = 2;
		free((void *)p);
		n = n * 7 % 4093 + 1;
	}
	return NULL;
}

static NOINL void *st_keep(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("malloc");
	memset(p, 0x77, n);
	return p;
}

static NOINL void leak_before_end(void)
{
	void *p = malloc(777);

	if (!p)
		die("malloc");
	memset(p, 0x78, 777);
	sink = p;
	sink = NULL;
}

static void announce(void)
{
	long pid = (long)getpid();
	size_t bytes = 0;

	for (unsigned i = 0; i < NKEEP; i++)
		bytes += 10 + i;
	printf("stress: pid=%ld live fn=st_keep blocks=%u bytes=%zu\n", pid, NKEEP, bytes);
	printf("stress: pid=%ld live fn=exit_worker_alloc blocks=0..%d\n", pid, NWORKERS);
	printf("stress: pid=%ld leak class=direct fn=leak_before_end blocks=1 bytes=777\n", pid);
	fflush(stdout);
}

static void *exiter(void *arg)
{
	(void)arg;
	announce();
	exit(3);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	pthread_t tid;

	if (strcmp(mode, "exit-thread") && strcmp(mode, "_exit") && strcmp(mode, "abort") &&
	    strcmp(mode, "return")) {
		fprintf(stderr, "usage: stress_exit exit-thread|_exit|abort|return\n");
		return 2;
	}
	for (unsigned i = 0; i < NKEEP; i++)
		keep[i] = st_keep(10 + i);
	leak_before_end();
	for (uintptr_t i = 0; i < NWORKERS; i++)
		if (pthread_create(&tid, NULL, exit_worker, (void *)(i * 1000)) != 0)
			die("pthread_create");
	while (atomic_load(&running) < NWORKERS)
		usleep(1000);
	usleep(20000);
	printf("stress_exit: mode %s\n", mode);
	if (!strcmp(mode, "exit-thread")) {
		if (pthread_create(&tid, NULL, exiter, NULL) != 0)
			die("pthread_create");
		pthread_join(tid, NULL);
		die("exit from a thread returned");
	}
	announce();
	if (!strcmp(mode, "_exit"))
		_exit(4);
	if (!strcmp(mode, "abort"))
		abort();
	return 5;
}
