/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: one node whose next pointer points at itself.
 * A single block with an edge to itself is a leaked cycle of one member
 * (DESIGN.md, step 4), not a plain direct leak.
 * sizeof(struct node) is 56 on LP64.
 */
/* EXPECT: cycle members=1 bytes=56 retained=56 fn=selfloop_new fn=make_selfloop */
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
	char data[48];
};

_Static_assert(sizeof(struct node) == 56, "EXPECT lines assume 56-byte nodes");

void *volatile sink;

static struct node *selfloop_new(void)
{
	struct node *n = malloc(sizeof(*n));

	if (!n)
		exit(1);
	memset(n->data, 's', sizeof(n->data));
	n->next = n;
	return n;
}

static void make_selfloop(void)
{
	struct node *n = selfloop_new();

	sink = n;
	sink = NULL;
	n = NULL;
}

static void scrub_stack(void)
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

int main(void)
{
	make_selfloop();
	scrub_stack();
	return 0;
}
