/* SPDX-License-Identifier: MIT */
/*
 * api_parent_child: a parent held by a global owns its child; the child
 * keeps a non-owning back pointer to the parent. Tracked without traverse
 * functions, both are scanned conservatively, so trial deletion alone sees
 * each count explained by the other's pointer and would call the pair
 * garbage. heapcycle confirms with reachability from the roots: not garbage,
 * and no leak at exit.
 */
/* EXPECT: no-leaks */
#pragma GCC optimize("O0")
#include <heapcycle.h>
#include <stdio.h>
#include <stdlib.h>

struct node {
	int refcount;
	struct node *parent;	/* not owned */
	struct node *child;	/* owned */
	char name[16];
};

struct node *root_parent;	/* the parent's one owner */

int main(void)
{
	struct node *p = calloc(1, sizeof(*p)), *c = calloc(1, sizeof(*c));
	long found;

	p->refcount = 1;	/* held by root_parent */
	c->refcount = 1;	/* held by p->child */
	p->child = c;
	c->parent = p;
	root_parent = p;
	heapcycle_track(p, &p->refcount, sizeof(p->refcount), NULL, NULL);
	heapcycle_track(c, &c->refcount, sizeof(c->refcount), NULL, NULL);
	p = c = NULL;
	found = heapcycle_collect(2);
	printf("collect: %ld\n", found);
	return found != 0;
}
