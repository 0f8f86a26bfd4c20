/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: four threads, each leaking one block of a
 * distinct size from a function named after the thread. All are joined
 * before main returns, so the blocks must be attributed to the right
 * thread's stacks and none may be kept alive by a dead thread's stack.
 */
/* EXPECT: direct blocks=1 bytes=101 fn=leak_in_thread_1 fn=thread_main */
/* EXPECT: direct blocks=1 bytes=202 fn=leak_in_thread_2 fn=thread_main */
/* EXPECT: direct blocks=1 bytes=303 fn=leak_in_thread_3 fn=thread_main */
/* EXPECT: direct blocks=1 bytes=404 fn=leak_in_thread_4 fn=thread_main */
/* EXPECT: exit=0 */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void *volatile sink;

static void scrub_stack(void)
{
	volatile char pad[16384];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

static void leak_bytes(size_t n)
{
	void *p = malloc(n);

	if (!p)
		exit(1);
	memset(p, (int)n, n);
	sink = p;
	sink = NULL;
	p = NULL;
}

static void leak_in_thread_1(void) { leak_bytes(101); }
static void leak_in_thread_2(void) { leak_bytes(202); }
static void leak_in_thread_3(void) { leak_bytes(303); }
static void leak_in_thread_4(void) { leak_bytes(404); }

static void *thread_main(void *arg)
{
	void (*fn)(void) = (void (*)(void))arg;

	fn();
	scrub_stack();
	return NULL;
}

int main(void)
{
	void (*fns[4])(void) = {
		leak_in_thread_1, leak_in_thread_2, leak_in_thread_3, leak_in_thread_4,
	};
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, thread_main, (void *)fns[i]) != 0)
			return 1;
	for (int i = 0; i < 4; i++)
		if (pthread_join(t[i], NULL) != 0)
			return 1;
	return 0;
}
