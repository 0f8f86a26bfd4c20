/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: a leaked 2-member cycle (x <-> y) with a 3-node
 * tree hanging off y (root t0 with children t1 and t2). The cycle members
 * are class "cycle"; the tree nodes are pointed at only by leaked blocks, so
 * they are "indirect"; the cycle retains all five blocks.
 * sizeof(struct cnode) is 64, sizeof(struct tnode) is 24 on LP64:
 * cycle bytes 128, tree bytes 72, retained 200.
 */
/* EXPECT: cycle members=2 bytes=128 retained=200 fn=cnode_new fn=build */
/* EXPECT: indirect blocks=3 bytes=72 fn=tnode_new fn=build */
/* EXPECT: exit=0 */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <stdlib.h>
#include <string.h>

struct tnode {
	struct tnode *left;
	struct tnode *right;
	long key;
};

struct cnode {
	struct cnode *peer;
	struct tnode *tree;
	char label[48];
};

_Static_assert(sizeof(struct tnode) == 24, "EXPECT lines assume 24-byte tree nodes");
_Static_assert(sizeof(struct cnode) == 64, "EXPECT lines assume 64-byte cycle nodes");

static struct cnode *cnode_new(void)
{
	struct cnode *c = malloc(sizeof(*c));

	if (!c)
		exit(1);
	memset(c, 0, sizeof(*c));
	return c;
}

static struct tnode *tnode_new(long key)
{
	struct tnode *t = malloc(sizeof(*t));

	if (!t)
		exit(1);
	t->left = t->right = NULL;
	t->key = key;
	return t;
}

static void build(void)
{
	struct cnode *c[2];
	struct tnode *t[3];

	for (int i = 0; i < 2; i++)
		c[i] = cnode_new();
	for (long i = 0; i < 3; i++)
		t[i] = tnode_new(i);
	c[0]->peer = c[1];
	c[1]->peer = c[0];
	t[0]->left = t[1];
	t[0]->right = t[2];
	c[1]->tree = t[0];
	memset(c, 0, sizeof(c));
	memset(t, 0, sizeof(t));
}

static void scrub_stack(void)
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

int main(void)
{
	build();
	scrub_stack();
	return 0;
}
