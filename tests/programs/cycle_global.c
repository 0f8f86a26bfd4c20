/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: a 2-member cycle that a global variable still
 * points at when the program exits. Trial deletion alone (subtracting the
 * internal edges) would leave both members with no references; reachability
 * from the roots must keep them: no leak, two still-reachable blocks.
 */
/* EXPECT: no-leaks */
/* EXPECT: reachable-at-least blocks=2 bytes=96 */
/* EXPECT: exit=0 */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <stdlib.h>
#include <string.h>

struct pair {
	struct pair *other;
	char data[40];
};

_Static_assert(sizeof(struct pair) == 48, "EXPECT lines assume 48-byte nodes");

/* The root. Not static, so that it cannot be optimized away. */
struct pair *g_keep;

static struct pair *pair_new(void)
{
	struct pair *p = malloc(sizeof(*p));

	if (!p)
		exit(1);
	memset(p, 0, sizeof(*p));
	return p;
}

static void build(void)
{
	struct pair *a = pair_new();
	struct pair *b = pair_new();

	a->other = b;
	b->other = a;
	g_keep = a;
	a = b = NULL;
}

int main(void)
{
	build();
	return g_keep->other->other == g_keep ? 0 : 1;
}
