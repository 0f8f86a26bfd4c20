/* SPDX-License-Identifier: MIT */
/*
 * api_dataobject: reference counting alone frees what it can. A tracked
 * DataObject whose count drops to zero is freed at once by the program (no
 * collection needed), and freeing it untracks it: the counts go back down
 * and no collection ever finds it.
 */
/* EXPECT: no-leaks */
#pragma GCC optimize("O0")
#include <heapcycle.h>
#include <stdio.h>
#include <stdlib.h>

struct data_object {
	unsigned refcount;
	struct data_object *child;
	char payload[40];
};

static int data_traverse(void *obj, heapcycle_visit_fn visit, void *arg)
{
	struct data_object *d = obj;

	return d->child ? visit(d->child, arg) : 0;
}

static struct data_object *data_new(void)
{
	struct data_object *d = calloc(1, sizeof(*d));

	d->refcount = 1;
	heapcycle_track(d, &d->refcount, sizeof(d->refcount), data_traverse, NULL);
	heapcycle_set_type(d, "DataObject");
	return d;
}

static void data_decref(struct data_object *d)
{
	if (--d->refcount == 0) {
		if (d->child)
			data_decref(d->child);
		free(d);	/* the shim untracks it */
	}
}

int main(void)
{
	int count[3], bad = 0, before;
	struct data_object *parent = data_new();

	heapcycle_get_count(count);
	before = count[0];
	parent->child = data_new();
	heapcycle_get_count(count);
	if (heapcycle_isenabled() && count[0] != before + 1) {
		fprintf(stderr, "api_dataobject: count[0] %d after tracking, expected %d\n",
			count[0], before + 1);
		bad = 1;
	}
	data_decref(parent);	/* frees parent, then child: a tree, no cycle */
	heapcycle_get_count(count);
	if (heapcycle_isenabled() && count[0] != before - 1) {
		fprintf(stderr, "api_dataobject: count[0] %d after freeing both, expected %d\n",
			count[0], before - 1 < 0 ? 0 : before - 1);
		bad = before - 1 < 0 && count[0] == 0 ? bad : 1;
	}
	if (heapcycle_collect(2) != 0) {
		fprintf(stderr, "api_dataobject: a collection found garbage\n");
		bad = 1;
	}
	if (heapcycle_isenabled() && heapcycle_untrack(parent) != -1) {
		fprintf(stderr, "api_dataobject: a freed object was still tracked\n");
		bad = 1;
	}
	puts(bad ? "fail" : "ok");
	return bad;
}
