/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: a 3-member cycle a -> b -> c -> a, leaked once
 * its only external pointer is dropped. The three nodes come from one call
 * site, so they form a single leak group of class "cycle".
 * sizeof(struct node) is 32 on LP64.
 */
/* EXPECT: cycle members=3 bytes=96 retained=96 fn=node_new fn=make_ring */
/* EXPECT: exit=0 */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	long id;
	char tag[16];
};

_Static_assert(sizeof(struct node) == 32, "EXPECT lines assume 32-byte nodes");

static struct node *node_new(long id)
{
	struct node *n = malloc(sizeof(*n));

	if (!n)
		exit(1);
	memset(n, 0, sizeof(*n));
	n->id = id;
	return n;
}

static void make_ring(void)
{
	struct node *ring[3];

	for (long i = 0; i < 3; i++)
		ring[i] = node_new(i);
	for (int i = 0; i < 3; i++)
		ring[i]->next = ring[(i + 1) % 3];
	for (int i = 0; i < 3; i++)
		ring[i] = NULL;
}

static void scrub_stack(void)
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

int main(void)
{
	make_ring();
	scrub_stack();
	return 0;
}
