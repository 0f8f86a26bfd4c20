/* SPDX-License-Identifier: MIT */
/*
 * api_reclaim: with reclamation on, a collection breaks an unreachable
 * cycle by calling each member's clear function (like tp_clear), and the
 * program's own unref then frees the members: a real cycle collector for
 * refcounted C. Nothing is left at exit.
 */
/* EXPECT: no-leaks */
#pragma GCC optimize("O0")
#include <heapcycle.h>
#include <stdio.h>
#include <stdlib.h>

struct ring {
	long refcount;
	struct ring *next;
};

static int freed;

static void ring_decref(struct ring *r);

static int ring_traverse(void *obj, heapcycle_visit_fn visit, void *arg)
{
	struct ring *r = obj;

	return r->next ? visit(r->next, arg) : 0;
}

static void ring_clear(void *obj)
{
	struct ring *r = obj, *next = r->next;

	r->next = NULL;
	if (next)
		ring_decref(next);
}

static void ring_decref(struct ring *r)
{
	if (--r->refcount == 0) {
		ring_clear(r);
		free(r);
		freed++;
	}
}

__attribute__((noinline)) static void make_ring(int n)
{
	struct ring *first = NULL, *prev = NULL;
	int i;

	for (i = 0; i < n; i++) {
		struct ring *r = calloc(1, sizeof(*r));

		r->refcount = 1;
		heapcycle_track(r, &r->refcount, sizeof(r->refcount), ring_traverse, ring_clear);
		if (prev)
			prev->next = r;	/* prev's reference */
		else
			first = r;
		prev = r;
	}
	prev->next = first;
	first->refcount++;	/* the closing reference */
	ring_decref(first);	/* drop our own: only the ring holds them */
	first = prev = NULL;
}

int main(void)
{
	long found;

	heapcycle_set_reclaim(1);
	make_ring(3);
	found = heapcycle_collect(2);
	printf("collect: %ld, freed by reclamation: %d\n", found, freed);
	if (!heapcycle_isenabled())
		return 0;	/* no shim: nothing to collect, the ring stays */
	return !(found == 3 && freed == 3);
}
