/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: a block whose only reference is a local variable
 * of a thread that is still alive, blocked in pause(), when the main thread
 * calls exit(). Thread stacks are roots (threads are stopped for the
 * snapshot and scanned from their stack pointer up), so the block is
 * reachable: no leak.
 */
/* EXPECT: no-leaks */
/* EXPECT: reachable-at-least blocks=1 bytes=4000 */
/* EXPECT: exit=0 */
/* EXPECT: stdout=stack_ref: holder ready */
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

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int ready;

static void *holder_thread(void *arg)
{
	/* volatile: the pointer must live in this thread's stack frame, not
	 * only in a register. */
	char *volatile held = malloc(4000);

	if (!held)
		exit(1);
	memset(held, 'h', 4000);

	pthread_mutex_lock(&lock);
	ready = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);

	for (;;)
		pause();
	return held;	/* not reached */
}

int main(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, holder_thread, NULL) != 0)
		return 1;
	pthread_mutex_lock(&lock);
	while (!ready)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	printf("stack_ref: holder ready\n");
	fflush(stdout);
	/* Exit with the holder thread still blocked in pause(). */
	exit(0);
}
