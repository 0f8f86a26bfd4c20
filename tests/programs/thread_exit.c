/* SPDX-License-Identifier: MIT */
/*
 * thread_exit: a thread, not main, leaks a block and calls exit(3), so the
 * exit snapshot is taken on that thread. Two ways that went wrong:
 *   - "small": the thread has PTHREAD_STACK_MIN (16 KiB) of stack. The
 *     snapshot kept 16-20 KiB buffers on the stack and the program died of
 *     SIGSEGV in its exit, with no report.
 *   - default stack: the only copy of the dropped pointer is in a dead
 *     frame near the top of the thread's stack, just below its TLS. The
 *     TLS scan started at glibc's upper bound for the static TLS, which
 *     reaches into that dead stack, and the leak was reported as still
 *     reachable.
 */
/* EXPECT: exit=3 */
/* EXPECT: direct blocks=1 bytes=55 fn=leak_it fn=worker */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;

__attribute__((noinline)) static void leak_it(void)
{
	sink = malloc(55);
	memset(sink, 1, 55);
	sink = NULL;
}

/* Clears the frames below the caller, which leak_it's call of malloc
 * used, so that only the copy the test is about can be left. */
__attribute__((noinline)) static void clobber(void)
{
	volatile char pad[4096];

	memset((char *)pad, 0, sizeof(pad));
}

static void *worker(void *arg)
{
	(void)arg;
	leak_it();
	clobber();
	exit(3);
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	if (argc > 1 && strcmp(argv[1], "small") == 0 &&
	    pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN) != 0)
		return 1;
	if (pthread_create(&t, &attr, worker, NULL) != 0)
		return 1;
	pthread_join(t, NULL);
	return 0;
}
