/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: the snapshot must be written however the
 * process ends. argv[1] picks the way out, after leaking one 77-byte block:
 *   return            return from main (status 0)
 *   exit              exit(4) from main
 *   _exit             _exit(7): no atexit handlers, no stdio flush
 *   exit-from-thread  exit(5) from a second thread while main is blocked in
 *                     pthread_join
 *   quick_exit        quick_exit(6), after registering an at_quick_exit
 *                     handler that leaks a 33-byte block: the snapshot must
 *                     come after the program's handlers, as at exit
 * EXPECT lines scoped with mode=NAME apply only when run with that argument
 * (tests/integration/run_exit_paths.sh runs every mode).
 */
/* EXPECT: direct blocks=1 bytes=77 fn=leak_before_leaving fn=main */
/* EXPECT: mode=return exit=0 */
/* EXPECT: mode=exit exit=4 */
/* EXPECT: mode=_exit exit=7 */
/* EXPECT: mode=exit-from-thread exit=5 */
/* EXPECT: mode=quick_exit exit=6 */
/* EXPECT: mode=quick_exit direct blocks=1 bytes=33 fn=leak_in_quick_exit_handler */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *volatile sink;

static void scrub_stack(void)
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

/* _exit on failure: an at_quick_exit handler may not call exit. */
static void leak_block(size_t n)
{
	void *p = malloc(n);

	if (!p)
		_exit(1);
	memset(p, 0x77, n);
	sink = p;
	sink = NULL;
	p = NULL;
}

static void leak_before_leaving(void)
{
	leak_block(77);
}

static void leak_in_quick_exit_handler(void)
{
	leak_block(33);
}

static void *exiting_thread(void *arg)
{
	exit(5);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	pthread_t t;

	if (strcmp(mode, "return") && strcmp(mode, "exit") &&
	    strcmp(mode, "_exit") && strcmp(mode, "exit-from-thread") &&
	    strcmp(mode, "quick_exit")) {
		fprintf(stderr, "usage: exit_paths return|exit|_exit|exit-from-thread|quick_exit\n");
		return 2;
	}
	leak_before_leaving();
	scrub_stack();

	if (!strcmp(mode, "exit"))
		exit(4);
	if (!strcmp(mode, "_exit"))
		_exit(7);
	if (!strcmp(mode, "quick_exit")) {
		if (at_quick_exit(leak_in_quick_exit_handler) != 0)
			return 1;
		quick_exit(6);
	}
	if (!strcmp(mode, "exit-from-thread")) {
		if (pthread_create(&t, NULL, exiting_thread, NULL) != 0)
			return 1;
		pthread_join(t, NULL);
		return 1;	/* not reached: the thread exits the process */
	}
	return 0;
}
