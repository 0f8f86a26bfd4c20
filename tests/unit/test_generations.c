/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the generational collector (generations.c) on real C
 * objects: structs with a count, owned references reported by a traverse
 * function or found by a test scan, and clear/unref functions that behave
 * as a refcounting program's would (including freeing and untracking from
 * inside clear). The Python examples of the issue are written out in C.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "generations.h"
#include "hc.h"
#include "suites.h"

#define NODE_REFS 4

/* A refcounted object owning up to NODE_REFS others. */
struct node {
	uint32_t refcount;
	struct node *ref[NODE_REFS];
	struct hc_gc *gc;	/* set when unref frees and untracks */
	int cleared;
	int freed_marker;
};

static size_t traverse_calls;
static size_t clear_calls;
static size_t freed_nodes;
/* Set by node_traverse when called on an object the registry no longer
 * tracks (the contract says it never is). */
static struct hc_gc *traverse_gc;
static int traverse_on_untracked;

static int node_traverse(void *obj, hc_visit_fn visit, void *arg)
{
	struct node *n = obj;
	int i, r;

	traverse_calls++;
	if (traverse_gc && !hc_gc_is_tracked(traverse_gc, obj))
		traverse_on_untracked++;
	for (i = 0; i < NODE_REFS; i++)
		if ((r = visit(n->ref[i], arg)) != 0)
			return r;
	return 0;
}

/* Drops one reference; at zero, like a program's unref: drops what it
 * owns, tells heapcycle (as the shim does on free) and frees. */
static void node_unref(struct node *n)
{
	int i;

	if (!n || --n->refcount > 0)
		return;
	for (i = 0; i < NODE_REFS; i++) {
		struct node *r = n->ref[i];

		n->ref[i] = NULL;
		node_unref(r);
	}
	if (n->gc)
		hc_gc_untrack(n->gc, n);
	freed_nodes++;
	free(n);
}

/* tp_clear that only drops references and counts (nothing is freed). */
static void node_clear_count_only(void *obj)
{
	struct node *n = obj;
	int i;

	clear_calls++;
	n->cleared++;
	for (i = 0; i < NODE_REFS; i++) {
		if (n->ref[i]) {
			n->ref[i]->refcount--;
			n->ref[i] = NULL;
		}
	}
}

/* tp_clear of a real program: its unref frees at zero. */
static void node_clear_unref(void *obj)
{
	struct node *n = obj;
	int i;

	struct node *refs[NODE_REFS];

	clear_calls++;
	/* Detach everything first: an unref below may free n itself. */
	for (i = 0; i < NODE_REFS; i++) {
		refs[i] = n->ref[i];
		n->ref[i] = NULL;
	}
	for (i = 0; i < NODE_REFS; i++)
		node_unref(refs[i]);
}

static struct node *node_new(uint32_t refcount)
{
	struct node *n = calloc(1, sizeof(*n));

	ck_assert_ptr_nonnull(n);
	n->refcount = refcount;
	return n;
}

static void track(struct hc_gc *gc, struct node *n, hc_clear_fn clear)
{
	ck_assert_int_eq(hc_gc_track(gc, n, &n->refcount, sizeof(n->refcount),
				     node_traverse, clear, "Node"), HC_OK);
}

static struct hc_gc *gc_new_checked(void)
{
	struct hc_gc *gc = hc_gc_new();

	ck_assert_ptr_nonnull(gc);
	traverse_calls = clear_calls = freed_nodes = 0;
	traverse_gc = gc;
	traverse_on_untracked = 0;
	return gc;
}

static size_t collect(struct hc_gc *gc, int gen, const struct hc_gc_env *env,
		      struct hc_gc_result *res)
{
	ck_assert_int_eq(hc_gc_collect(gc, gen, env, res), HC_OK);
	return res->unreachable;
}

/* ---- the seed examples -------------------------------------------------- */

/* alice = Person(); bob = Person(); alice.friend = bob; bob.friend = alice;
 * del alice, bob; gc.collect() == 2 */
START_TEST(test_gc_two_person_cycle_is_found_as_two_unreachable)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *alice = node_new(1), *bob = node_new(1);
	struct hc_gc_result res;

	alice->ref[0] = bob;
	bob->ref[0] = alice;
	track(gc, alice, NULL);
	track(gc, bob, NULL);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 2);
	ck_assert_uint_eq(res.collected, 2);
	ck_assert_int_eq(res.generation, 2);
	ck_assert(res.garbage[0].in_cycle && res.garbage[1].in_cycle);
	ck_assert_uint_eq(res.garbage[0].cycle, res.garbage[1].cycle);
	ck_assert(res.garbage[0].obj != res.garbage[1].obj);
	ck_assert(res.garbage[0].obj == alice || res.garbage[0].obj == bob);
	ck_assert(res.garbage[1].obj == alice || res.garbage[1].obj == bob);
	ck_assert_uint_eq(res.cleared, 0);
	/* Garbage stays tracked (the program still owns it) in generation 2. */
	ck_assert_int_eq(hc_gc_generation(gc, alice), 2);
	ck_assert_int_eq(hc_gc_generation(gc, bob), 2);
	ck_assert_uint_eq(traverse_calls, 2);
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	free(alice);
	free(bob);
}
END_TEST

START_TEST(test_gc_two_person_cycle_with_an_external_ref_is_reachable)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *alice = node_new(2), *bob = node_new(1);
	struct hc_gc_result res;

	alice->ref[0] = bob;
	bob->ref[0] = alice;
	track(gc, alice, NULL);
	track(gc, bob, NULL);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 0);
	ck_assert_ptr_null(res.garbage);
	ck_assert_uint_eq(res.collected, 2);
	hc_gc_result_fini(&res);
	/* Dropping the last outside reference makes the pair garbage. */
	alice->refcount--;
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 2);
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	free(alice);
	free(bob);
}
END_TEST

/* A DataObject freed by its count reaching zero: refcounting reclaims it at
 * once, the collector never sees it. */
START_TEST(test_gc_data_object_freed_at_zero_is_never_seen)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *data = node_new(1);
	struct hc_gc_result res;
	int count[HC_GC_GENERATIONS];

	data->gc = gc;
	track(gc, data, NULL);
	ck_assert(hc_gc_is_tracked(gc, data));
	hc_gc_get_count(gc, count);
	ck_assert_int_eq(count[0], 1);
	node_unref(data);
	ck_assert_uint_eq(freed_nodes, 1);
	ck_assert_uint_eq(hc_gc_count_tracked(gc), 0);
	hc_gc_get_count(gc, count);
	ck_assert_int_eq(count[0], 0);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 0);
	ck_assert_uint_eq(res.collected, 0);
	ck_assert_uint_eq(traverse_calls, 0);
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
}
END_TEST

/* ---- counts and thresholds ---------------------------------------------- */

START_TEST(test_gc_defaults_are_cpython_thresholds_enabled_no_reclaim)
{
	struct hc_gc *gc = gc_new_checked();
	int t[HC_GC_GENERATIONS], c[HC_GC_GENERATIONS];

	hc_gc_get_threshold(gc, t);
	ck_assert_int_eq(t[0], 700);
	ck_assert_int_eq(t[1], 10);
	ck_assert_int_eq(t[2], 10);
	hc_gc_get_count(gc, c);
	ck_assert_int_eq(c[0] | c[1] | c[2], 0);
	ck_assert(hc_gc_is_enabled(gc));
	ck_assert_int_eq(hc_gc_due(gc), -1);
	hc_gc_free(gc);
}
END_TEST

START_TEST(test_gc_counts_and_due_follow_cpython_scheduling)
{
	struct hc_gc *gc = gc_new_checked();
	int t[HC_GC_GENERATIONS] = { 5, 3, 2 }, c[HC_GC_GENERATIONS], got[HC_GC_GENERATIONS];
	struct node *nodes[256];
	struct hc_gc_result res;
	size_t nn = 0;
	int i, k;

	ck_assert_int_eq(hc_gc_set_threshold(gc, t), HC_OK);
	hc_gc_get_threshold(gc, got);
	ck_assert_mem_eq(got, t, sizeof(t));
	/* threshold0 tracks: not yet; one more: generation 0 is due. */
	for (i = 0; i < 5; i++) {
		nodes[nn] = node_new(1);
		track(gc, nodes[nn++], NULL);
		ck_assert_int_eq(hc_gc_due(gc), -1);
	}
	nodes[nn] = node_new(1);
	track(gc, nodes[nn++], NULL);
	hc_gc_get_count(gc, c);
	ck_assert_int_eq(c[0], 6);
	ck_assert_int_eq(hc_gc_due(gc), 0);
	/* Untrack takes one off count[0], never below 0. */
	ck_assert(hc_gc_untrack(gc, nodes[--nn]));
	free(nodes[nn]);
	hc_gc_get_count(gc, c);
	ck_assert_int_eq(c[0], 5);
	ck_assert_int_eq(hc_gc_due(gc), -1);
	ck_assert(!hc_gc_untrack(gc, c));	/* never tracked */

	/* threshold1 + 1 collections of generation 0: count[1] == 4 > 3, but
	 * as in CPython generation 1 waits for generation 0 to overflow. */
	for (k = 0; k < 4; k++) {
		collect(gc, 0, NULL, &res);
		hc_gc_result_fini(&res);
		hc_gc_get_count(gc, c);
		ck_assert_int_eq(c[0], 0);
		ck_assert_int_eq(c[1], k + 1);
		ck_assert_int_eq(c[2], 0);
	}
	ck_assert_int_eq(hc_gc_due(gc), -1);
	for (i = 0; i < 6; i++) {
		nodes[nn] = node_new(1);
		track(gc, nodes[nn++], NULL);
	}
	ck_assert_int_eq(hc_gc_due(gc), 1);
	collect(gc, 1, NULL, &res);
	hc_gc_result_fini(&res);
	hc_gc_get_count(gc, c);
	ck_assert_int_eq(c[0], 0);
	ck_assert_int_eq(c[1], 0);
	ck_assert_int_eq(c[2], 1);
	/* A full collection clears all three counts. */
	collect(gc, 2, NULL, &res);
	hc_gc_result_fini(&res);
	hc_gc_get_count(gc, c);
	ck_assert_int_eq(c[0] | c[1] | c[2], 0);

	/* Disabled, or threshold0 == 0: never due; negative: refused. */
	for (i = 0; i < 6; i++) {
		nodes[nn] = node_new(1);
		track(gc, nodes[nn++], NULL);
	}
	ck_assert_int_eq(hc_gc_due(gc), 0);
	hc_gc_set_enabled(gc, false);
	ck_assert(!hc_gc_is_enabled(gc));
	ck_assert_int_eq(hc_gc_due(gc), -1);
	hc_gc_set_enabled(gc, true);
	ck_assert_int_eq(hc_gc_due(gc), 0);
	t[0] = 0;
	ck_assert_int_eq(hc_gc_set_threshold(gc, t), HC_OK);
	ck_assert_int_eq(hc_gc_due(gc), -1);
	t[0] = 5;
	t[2] = -1;
	ck_assert_int_eq(hc_gc_set_threshold(gc, t), HC_ERR_ARG);
	hc_gc_get_threshold(gc, got);
	ck_assert_int_eq(got[0], 0);
	ck_assert_int_eq(got[2], 2);

	hc_gc_free(gc);
	for (i = 0; i < (int)nn; i++)
		free(nodes[i]);
}
END_TEST

/* CPython 3.11: generation 2 waits until a quarter of the long-lived
 * objects are new since the last full collection; younger ones go first. */
START_TEST(test_gc_full_collection_waits_for_a_quarter_new_long_lived)
{
	struct hc_gc *gc = gc_new_checked();
	int t[HC_GC_GENERATIONS] = { 1, 0, 0 }, c[HC_GC_GENERATIONS];
	struct node *nodes[200];
	struct hc_gc_result res;
	size_t nn = 0;
	int i;

	/* 100 long-lived objects after a full collection. */
	for (i = 0; i < 100; i++) {
		nodes[nn] = node_new(1);
		track(gc, nodes[nn++], NULL);
	}
	collect(gc, 2, NULL, &res);
	hc_gc_result_fini(&res);
	ck_assert_int_eq(hc_gc_set_threshold(gc, t), HC_OK);
	/* Each round: 2 new objects, a gen-0 then a gen-1 collection pushes
	 * them to generation 2 (pending += 2). */
	for (i = 0; i < 6; i++) {
		nodes[nn] = node_new(1);
		track(gc, nodes[nn++], NULL);
		nodes[nn] = node_new(1);
		track(gc, nodes[nn++], NULL);
		/* count[2] > 0 from the second round on, but pending
		 * (2 * i) < 100 / 4: generation 2 is skipped. */
		hc_gc_get_count(gc, c);
		ck_assert_int_eq(hc_gc_due(gc), c[1] > 0 ? 1 : 0);
		collect(gc, 0, NULL, &res);
		hc_gc_result_fini(&res);
		nodes[nn] = node_new(1);
		track(gc, nodes[nn++], NULL);
		nodes[nn] = node_new(1);
		track(gc, nodes[nn++], NULL);
		ck_assert_int_eq(hc_gc_due(gc), 1);
		collect(gc, 1, NULL, &res);
		hc_gc_result_fini(&res);
	}
	/* 24 new long-lived < 100 / 4: still skipped, although count[2] is
	 * far over its threshold. */
	nodes[nn] = node_new(1);
	track(gc, nodes[nn++], NULL);
	nodes[nn] = node_new(1);
	track(gc, nodes[nn++], NULL);
	hc_gc_get_count(gc, c);
	ck_assert_int_eq(c[2], 6);
	ck_assert_int_eq(hc_gc_due(gc), 0);
	collect(gc, 0, NULL, &res);
	hc_gc_result_fini(&res);
	nodes[nn] = node_new(1);
	track(gc, nodes[nn++], NULL);
	nodes[nn] = node_new(1);
	track(gc, nodes[nn++], NULL);
	ck_assert_int_eq(hc_gc_due(gc), 1);
	collect(gc, 1, NULL, &res);
	hc_gc_result_fini(&res);
	/* 28 >= 25: the full collection is due, and resets the ratio. */
	nodes[nn] = node_new(1);
	track(gc, nodes[nn++], NULL);
	nodes[nn] = node_new(1);
	track(gc, nodes[nn++], NULL);
	ck_assert_int_eq(hc_gc_due(gc), 2);
	collect(gc, 2, NULL, &res);
	hc_gc_result_fini(&res);
	nodes[nn] = node_new(1);
	track(gc, nodes[nn++], NULL);
	nodes[nn] = node_new(1);
	track(gc, nodes[nn++], NULL);
	ck_assert_int_eq(hc_gc_due(gc), 0);
	hc_gc_free(gc);
	for (i = 0; i < (int)nn; i++)
		free(nodes[i]);
}
END_TEST

/* ---- generations -------------------------------------------------------- */

START_TEST(test_gc_survivors_are_promoted_one_generation_per_collection)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *a = node_new(1), *b = node_new(1);
	struct hc_gc_result res;

	track(gc, a, NULL);
	ck_assert_int_eq(hc_gc_generation(gc, a), 0);
	collect(gc, 0, NULL, &res);
	hc_gc_result_fini(&res);
	ck_assert_int_eq(hc_gc_generation(gc, a), 1);
	track(gc, b, NULL);
	collect(gc, 0, NULL, &res);
	ck_assert_uint_eq(res.collected, 1);	/* b only */
	hc_gc_result_fini(&res);
	ck_assert_int_eq(hc_gc_generation(gc, a), 1);
	ck_assert_int_eq(hc_gc_generation(gc, b), 1);
	collect(gc, 1, NULL, &res);
	ck_assert_uint_eq(res.collected, 2);
	hc_gc_result_fini(&res);
	ck_assert_int_eq(hc_gc_generation(gc, a), 2);
	ck_assert_int_eq(hc_gc_generation(gc, b), 2);
	collect(gc, 2, NULL, &res);
	ck_assert_uint_eq(res.collected, 2);
	hc_gc_result_fini(&res);
	ck_assert_int_eq(hc_gc_generation(gc, a), 2);
	/* Out-of-range generations are clamped. */
	collect(gc, 7, NULL, &res);
	ck_assert_int_eq(res.generation, 2);
	ck_assert_uint_eq(res.collected, 2);
	hc_gc_result_fini(&res);
	collect(gc, -3, NULL, &res);
	ck_assert_int_eq(res.generation, 0);
	ck_assert_uint_eq(res.collected, 0);
	hc_gc_result_fini(&res);
	/* Re-tracking keeps the generation and does not count. */
	ck_assert_int_eq(hc_gc_track(gc, a, &a->refcount, 4, node_traverse, NULL, NULL), HC_OK);
	ck_assert_int_eq(hc_gc_generation(gc, a), 2);
	ck_assert_str_eq(hc_gc_type(gc, a), "Node");
	ck_assert_uint_eq(hc_gc_count_tracked(gc), 2);
	ck_assert_int_eq(hc_gc_generation(gc, &res), -1);
	hc_gc_free(gc);
	free(a);
	free(b);
}
END_TEST

/* An old object's reference to a young one is external to a young
 * collection: the young object's count is exactly that reference, and it
 * survives. A full collection sees both and keeps them for the same reason
 * only when something outside holds the old one. */
START_TEST(test_gc_young_collection_counts_refs_from_old_as_external)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *old = node_new(1), *y1 = node_new(2), *y2 = node_new(1);
	struct hc_gc_result res;

	track(gc, old, NULL);
	collect(gc, 0, NULL, &res);	/* old -> generation 1 */
	hc_gc_result_fini(&res);
	/* old -> y1 <-> y2: y1's count is old's ref and y2's. */
	old->ref[0] = y1;
	y1->ref[0] = y2;
	y2->ref[0] = y1;
	track(gc, y1, NULL);
	track(gc, y2, NULL);
	traverse_calls = 0;
	ck_assert_uint_eq(collect(gc, 0, NULL, &res), 0);
	ck_assert_uint_eq(res.collected, 2);
	ck_assert_uint_eq(traverse_calls, 2);	/* old is not traversed */
	hc_gc_result_fini(&res);
	ck_assert_int_eq(hc_gc_generation(gc, y1), 1);
	/* Drop the outside ref to old: old -> y1 <-> y2 -> (nothing) and old
	 * is a dead tree hanging into a cycle; a gen-1 collection finds all
	 * three, the cycle as one and old as a non-cycle member. */
	old->refcount = 0;
	ck_assert_uint_eq(collect(gc, 1, NULL, &res), 3);
	{
		size_t i, incycle = 0;

		for (i = 0; i < 3; i++) {
			if (res.garbage[i].obj == old)
				ck_assert(!res.garbage[i].in_cycle);
			else
				incycle++;
		}
		ck_assert_uint_eq(incycle, 2);
	}
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	free(old);
	free(y1);
	free(y2);
}
END_TEST

START_TEST(test_gc_self_reference_is_a_cycle_and_a_chain_is_not)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *self = node_new(1), *orphan = node_new(0);
	struct hc_gc_result res;
	size_t i;

	self->ref[0] = self;
	track(gc, self, NULL);
	track(gc, orphan, NULL);	/* count 0, nothing points to it */
	ck_assert_uint_eq(collect(gc, 0, NULL, &res), 2);
	for (i = 0; i < 2; i++) {
		if (res.garbage[i].obj == self)
			ck_assert(res.garbage[i].in_cycle);
		else
			ck_assert(res.garbage[i].obj == orphan && !res.garbage[i].in_cycle);
	}
	ck_assert_uint_ne(res.garbage[0].cycle, res.garbage[1].cycle);
	hc_gc_result_fini(&res);
	/* The garbage went to generation 2: a young collection does not
	 * report it again, a full one does. */
	ck_assert_uint_eq(collect(gc, 1, NULL, &res), 0);
	hc_gc_result_fini(&res);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 2);
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	free(self);
	free(orphan);
}
END_TEST

/* traverse may visit NULL, untracked memory and the same referent twice
 * (which counts twice, as in CPython). */
START_TEST(test_gc_traverse_visiting_null_untracked_and_twice)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *a = node_new(1), *b = node_new(2), outside = { 0 };
	struct hc_gc_result res;

	a->ref[0] = b;
	a->ref[1] = NULL;
	a->ref[2] = b;		/* a owns b twice: b's count is 2 */
	a->ref[3] = &outside;	/* not tracked */
	b->ref[0] = a;
	track(gc, a, NULL);
	track(gc, b, NULL);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 2);
	ck_assert(res.garbage[0].in_cycle);
	hc_gc_result_fini(&res);
	b->refcount = 3;	/* one ref from outside */
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 0);
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	free(a);
	free(b);
}
END_TEST

/* A count lower than the references seen (a program bug) is taken as 0:
 * no wrap-around turning garbage into "reachable". */
START_TEST(test_gc_count_lower_than_internal_refs_is_treated_as_zero)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *a = node_new(1), *b = node_new(1);
	struct hc_gc_result res;

	a->ref[0] = b;
	a->ref[1] = b;
	a->ref[2] = b;		/* three refs, count 1 */
	b->ref[0] = a;
	track(gc, a, NULL);
	track(gc, b, NULL);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 2);
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	free(a);
	free(b);
}
END_TEST

/* Counts of every width, plain or atomic, where the program keeps them. */
struct wide {
	uint8_t c8;
	uint16_t c16;
	uint64_t c64;
	struct wide *peer;
};

static int wide_traverse(void *obj, hc_visit_fn visit, void *arg)
{
	return visit(((struct wide *)obj)->peer, arg);
}

START_TEST(test_gc_counts_of_each_width_are_read_where_they_live)
{
	struct hc_gc *gc = gc_new_checked();
	struct wide *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct hc_gc_result res;
	unsigned char packed[16] = { 0 };

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	a->peer = b;
	b->peer = a;
	a->c8 = 1;
	b->c16 = 1;
	ck_assert_int_eq(hc_gc_track(gc, a, &a->c8, 1, wide_traverse, NULL, NULL), HC_OK);
	ck_assert_int_eq(hc_gc_track(gc, b, &b->c16, 2, wide_traverse, NULL, NULL), HC_OK);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 2);
	hc_gc_result_fini(&res);
	b->c16 = 0x102;		/* 258: outside refs */
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 0);
	hc_gc_result_fini(&res);
	/* 64-bit count above 2^32: must not be truncated to 1. */
	__atomic_store_n(&b->c64, (UINT64_C(1) << 32) + 1, __ATOMIC_RELAXED);
	ck_assert_int_eq(hc_gc_track(gc, b, &b->c64, 8, wide_traverse, NULL, NULL), HC_OK);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 0);
	hc_gc_result_fini(&res);
	__atomic_store_n(&b->c64, 1, __ATOMIC_RELAXED);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 2);
	hc_gc_result_fini(&res);
	/* A misaligned 4-byte count (packed struct) is read too. */
	packed[1] = 2;
	ck_assert_int_eq(hc_gc_track(gc, b, packed + 1, 4, wide_traverse, NULL, NULL), HC_OK);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 0);
	hc_gc_result_fini(&res);

	ck_assert_int_eq(hc_gc_track(gc, a, &a->c8, 3, wide_traverse, NULL, NULL), HC_ERR_ARG);
	ck_assert_int_eq(hc_gc_track(gc, NULL, &a->c8, 1, wide_traverse, NULL, NULL), HC_ERR_ARG);
	ck_assert_int_eq(hc_gc_track(gc, a, NULL, 1, wide_traverse, NULL, NULL), HC_ERR_ARG);
	hc_gc_free(gc);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_gc_type_names_are_copied_interned_and_settable)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *a = node_new(1), *b = node_new(1);
	char name[16];

	strcpy(name, "Person");
	ck_assert_int_eq(hc_gc_track(gc, a, &a->refcount, 4, node_traverse, NULL, name), HC_OK);
	ck_assert_int_eq(hc_gc_track(gc, b, &b->refcount, 4, node_traverse, NULL, name), HC_OK);
	strcpy(name, "Garbage");
	ck_assert_str_eq(hc_gc_type(gc, a), "Person");
	ck_assert_ptr_eq(hc_gc_type(gc, a), hc_gc_type(gc, b));
	ck_assert_int_eq(hc_gc_set_type(gc, b, "Company"), HC_OK);
	ck_assert_str_eq(hc_gc_type(gc, b), "Company");
	ck_assert_str_eq(hc_gc_type(gc, a), "Person");
	ck_assert_int_eq(hc_gc_set_type(gc, b, NULL), HC_OK);
	ck_assert_ptr_null(hc_gc_type(gc, b));
	ck_assert_int_eq(hc_gc_set_type(gc, name, "X"), HC_ERR_ARG);
	ck_assert_ptr_null(hc_gc_type(gc, name));
	hc_gc_free(gc);
	free(a);
	free(b);
}
END_TEST

struct seen {
	int n;
	int gen_sum;
	const void *stop_at;
};

static int foreach_cb(void *obj, const void *refcount, unsigned width, int generation,
		      const char *type, void *arg)
{
	struct seen *s = arg;

	ck_assert_ptr_eq(refcount, &((struct node *)obj)->refcount);
	ck_assert_uint_eq(width, 4);
	ck_assert_str_eq(type, "Node");
	s->n++;
	s->gen_sum += generation;
	return obj == s->stop_at ? 42 : 0;
}

START_TEST(test_gc_foreach_visits_every_tracked_object_and_stops)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *a = node_new(1), *b = node_new(1), *c = node_new(1);
	struct hc_gc_result res;
	struct seen s = { 0 };

	track(gc, a, NULL);
	collect(gc, 1, NULL, &res);	/* a -> generation 2 */
	hc_gc_result_fini(&res);
	track(gc, b, NULL);
	track(gc, c, NULL);
	ck_assert_int_eq(hc_gc_foreach(gc, foreach_cb, &s), 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert_int_eq(s.gen_sum, 2);
	memset(&s, 0, sizeof(s));
	s.stop_at = b;
	ck_assert_int_eq(hc_gc_foreach(gc, foreach_cb, &s), 42);
	ck_assert_int_le(s.n, 2);
	hc_gc_free(gc);
	free(a);
	free(b);
	free(c);
}
END_TEST

/* ---- scan and confirmation ---------------------------------------------- */

/* Untyped blocks, scanned conservatively by the test's environment. */
struct blob {
	uint32_t refcount;
	void *words[3];
};

struct test_env {
	struct hc_gc *gc;
	void *roots[4];		/* what the "globals" point at */
	size_t nroots;
	size_t confirm_calls, confirm_n;
	int confirm_ret;
};

static int blob_scan(void *obj, hc_visit_fn visit, void *visit_arg, void *env_arg)
{
	struct test_env *te = env_arg;
	struct blob *b = obj;
	size_t i;

	for (i = 0; i < 3; i++)
		if (hc_gc_is_tracked(te->gc, b->words[i]))
			visit(b->words[i], visit_arg);
	return 0;
}

/* Keeps what a root points at directly (the real env also follows
 * untracked blocks); what those reach is the collector's to keep. */
static int roots_confirm(void *const *objs, size_t n, bool *keep, void *env_arg)
{
	struct test_env *te = env_arg;
	size_t i, r;

	te->confirm_calls++;
	te->confirm_n = n;
	for (i = 0; i < n; i++)
		for (r = 0; r < te->nroots; r++)
			if (objs[i] == te->roots[r])
				keep[i] = true;
	return te->confirm_ret;
}

START_TEST(test_gc_parent_child_back_pointer_kept_by_confirm)
{
	struct hc_gc *gc = gc_new_checked();
	struct blob *parent = calloc(1, sizeof(*parent)), *child = calloc(1, sizeof(*child));
	struct test_env te = { .gc = gc };
	struct hc_gc_env env = { .scan = blob_scan, .confirm = roots_confirm, .arg = &te };
	struct hc_gc_result res;

	ck_assert_ptr_nonnull(parent);
	ck_assert_ptr_nonnull(child);
	/* parent (held by a global: count 1) owns child (count 1); child's
	 * back pointer to parent does not own it, but a scan cannot tell. */
	parent->refcount = 1;
	parent->words[0] = child;
	child->refcount = 1;
	child->words[1] = parent;
	te.roots[te.nroots++] = parent;
	ck_assert_int_eq(hc_gc_track(gc, parent, &parent->refcount, 4, NULL, NULL, "Parent"), HC_OK);
	ck_assert_int_eq(hc_gc_track(gc, child, &child->refcount, 4, NULL, NULL, "Child"), HC_OK);

	/* Trial deletion alone falls into the trap... */
	ck_assert_uint_eq(collect(gc, 2, &(struct hc_gc_env){ .scan = blob_scan, .arg = &te }, &res), 2);
	hc_gc_result_fini(&res);
	/* ...the confirmation keeps the parent, and with it the child that
	 * the roots reach only through the parent. */
	ck_assert_uint_eq(collect(gc, 2, &env, &res), 0);
	ck_assert_uint_eq(te.confirm_calls, 1);
	ck_assert_uint_eq(te.confirm_n, 2);
	hc_gc_result_fini(&res);
	/* An undecided confirmation reports nothing. */
	te.nroots = 0;
	te.confirm_ret = -1;
	ck_assert_uint_eq(collect(gc, 2, &env, &res), 0);
	hc_gc_result_fini(&res);
	/* Once the global lets go, the pair is garbage. */
	te.confirm_ret = 0;
	ck_assert_uint_eq(collect(gc, 2, &env, &res), 2);
	hc_gc_result_fini(&res);
	/* Without a scan, untyped objects have no outgoing refs: each one's
	 * count is external, nothing is garbage. */
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 0);
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	free(parent);
	free(child);
}
END_TEST

/* confirm is not called when trial deletion finds nothing. */
START_TEST(test_gc_confirm_is_called_only_with_candidates)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *a = node_new(2), *b = node_new(1);
	struct test_env te = { .gc = gc };
	struct hc_gc_env env = { .confirm = roots_confirm, .arg = &te };
	struct hc_gc_result res;

	a->ref[0] = b;
	b->ref[0] = a;
	track(gc, a, NULL);
	track(gc, b, NULL);
	ck_assert_uint_eq(collect(gc, 2, &env, &res), 0);
	ck_assert_uint_eq(te.confirm_calls, 0);
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	free(a);
	free(b);
}
END_TEST

/* Candidates that all have a traverse are trusted, as CPython trusts
 * tp_traverse: no confirmation, so a young collection costs what the
 * young generation holds. One scanned candidate brings it back. */
START_TEST(test_gc_confirm_only_for_scanned_candidates)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *a = node_new(1), *b = node_new(1);
	struct blob *c = calloc(1, sizeof(*c));
	struct test_env te = { .gc = gc };
	struct hc_gc_env env = { .scan = blob_scan, .confirm = roots_confirm, .arg = &te };
	struct hc_gc_result res;

	ck_assert_ptr_nonnull(c);
	a->ref[0] = b;
	b->ref[0] = a;
	track(gc, a, NULL);
	track(gc, b, NULL);
	/* A root pointer the counts do not show is not looked for. */
	te.roots[te.nroots++] = a;
	ck_assert_uint_eq(collect(gc, 2, &env, &res), 2);
	ck_assert_uint_eq(te.confirm_calls, 0);
	hc_gc_result_fini(&res);
	/* b now owns c, scanned, which points back at b: c is a candidate
	 * without a traverse, so the whole set is confirmed, and the root
	 * keeps a and all it reaches. */
	b->ref[1] = (struct node *)(void *)c;	/* visited as an object */
	c->refcount = 1;
	c->words[0] = b;
	b->refcount++;
	ck_assert_int_eq(hc_gc_track(gc, c, &c->refcount, 4, NULL, NULL, "Blob"), HC_OK);
	ck_assert_uint_eq(collect(gc, 2, &env, &res), 0);
	ck_assert_uint_eq(te.confirm_calls, 1);
	ck_assert_uint_eq(te.confirm_n, 3);
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	free(a);
	free(b);
	free(c);
}
END_TEST

/* ---- reclamation -------------------------------------------------------- */

START_TEST(test_gc_reclaim_clears_each_member_of_a_three_cycle)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *n[3];
	struct hc_gc_result res;
	int i;

	for (i = 0; i < 3; i++)
		n[i] = node_new(1);
	for (i = 0; i < 3; i++) {
		n[i]->ref[0] = n[(i + 1) % 3];
		track(gc, n[i], node_clear_count_only);
	}
	/* Off by default: reported, not cleared. */
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 3);
	ck_assert_uint_eq(res.cleared, 0);
	ck_assert_uint_eq(clear_calls, 0);
	hc_gc_result_fini(&res);
	hc_gc_set_reclaim(gc, true);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 3);
	ck_assert_uint_eq(res.cleared, 3);
	ck_assert_uint_eq(clear_calls, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(n[i]->cleared, 1);
		ck_assert_uint_eq(n[i]->refcount, 0);
		ck_assert_ptr_null(n[i]->ref[0]);
		ck_assert(res.garbage[i].cleared);
	}
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	for (i = 0; i < 3; i++)
		free(n[i]);
}
END_TEST

START_TEST(test_gc_reclaim_skips_a_cycle_with_a_member_without_clear)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *n[3], *tail = node_new(1);
	struct hc_gc_result res;
	int i;

	for (i = 0; i < 3; i++)
		n[i] = node_new(1);
	for (i = 0; i < 3; i++)
		n[i]->ref[0] = n[(i + 1) % 3];
	n[0]->ref[1] = tail;	/* a tree hanging off the cycle, with clear */
	track(gc, n[0], node_clear_count_only);
	track(gc, n[1], NULL);
	track(gc, n[2], node_clear_count_only);
	track(gc, tail, node_clear_count_only);
	hc_gc_set_reclaim(gc, true);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 4);
	ck_assert_uint_eq(res.cleared, 0);
	ck_assert_uint_eq(clear_calls, 0);
	for (i = 0; i < 4; i++)
		ck_assert(!res.garbage[i].cleared);
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	for (i = 0; i < 3; i++)
		free(n[i]);
	free(tail);
}
END_TEST

static struct hc_gc *reentrant_gc;
static int nested_collect_rc = 1;
static size_t nested_collected = 99;

static void node_clear_unref_and_collect(void *obj)
{
	struct hc_gc_result res;

	/* gc.collect() from a finalizer: finds nothing, changes nothing. */
	nested_collect_rc = hc_gc_collect(reentrant_gc, 2, NULL, &res);
	nested_collected = res.collected;
	ck_assert_int_eq(hc_gc_due(reentrant_gc), -1);
	hc_gc_result_fini(&res);
	node_clear_unref(obj);
}

/* The program's clear drops a reference, its unref frees at zero and untracks
 * (the shim does that from free) inside the collector's call: the cascade
 * frees the whole ring during the first clear, and no clear may run on the
 * freed members (ASan would catch it). */
START_TEST(test_gc_reclaim_tolerates_untrack_from_inside_clear)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *n[3], *survivor = node_new(1);
	struct hc_gc_result res;
	int i;

	reentrant_gc = gc;
	for (i = 0; i < 3; i++) {
		n[i] = node_new(1);
		n[i]->gc = gc;
	}
	for (i = 0; i < 3; i++) {
		n[i]->ref[0] = n[(i + 1) % 3];
		track(gc, n[i], node_clear_unref_and_collect);
	}
	track(gc, survivor, node_clear_unref);
	hc_gc_set_reclaim(gc, true);
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 3);
	ck_assert_uint_eq(freed_nodes, 3);
	ck_assert_uint_eq(hc_gc_count_tracked(gc), 1);
	ck_assert(hc_gc_is_tracked(gc, survivor));
	/* One clear broke the ring; the others were already gone. */
	ck_assert_uint_eq(clear_calls, 1);
	ck_assert_uint_eq(res.cleared, 1);
	ck_assert_int_eq(nested_collect_rc, HC_OK);
	ck_assert_uint_eq(nested_collected, 0);
	ck_assert_int_eq(traverse_on_untracked, 0);
	hc_gc_result_fini(&res);
	/* The registry is consistent afterwards. */
	traverse_calls = 0;
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 0);
	ck_assert_uint_eq(res.collected, 1);
	ck_assert_uint_eq(traverse_calls, 1);
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	free(survivor);
}
END_TEST

static bool reuse_armed;
static struct node *reuse_victim;
static size_t reuse_new_clears;

static void node_clear_new_tracking(void *obj)
{
	(void)obj;
	reuse_new_clears++;
}

/* The first clear "frees" another member and the program reuses its memory
 * for a new object it tracks at the same address: the new object is not
 * this collection's garbage and must not be cleared. */
static void node_clear_and_reuse(void *obj)
{
	struct node *n = obj;

	clear_calls++;
	if (reuse_armed) {
		struct node *v = n->ref[0];

		reuse_armed = false;
		reuse_victim = v;
		ck_assert(hc_gc_untrack(reentrant_gc, v));
		memset(v, 0, sizeof(*v));
		v->refcount = 1;
		ck_assert_int_eq(hc_gc_track(reentrant_gc, v, &v->refcount, 4, node_traverse,
					     node_clear_new_tracking, "Fresh"), HC_OK);
	}
}

START_TEST(test_gc_reclaim_skips_an_address_tracked_anew_during_clear)
{
	struct hc_gc *gc = gc_new_checked();
	struct node *a = node_new(1), *b = node_new(1);
	struct hc_gc_result res;

	reentrant_gc = gc;
	a->ref[0] = b;
	b->ref[0] = a;
	track(gc, a, node_clear_and_reuse);
	track(gc, b, node_clear_and_reuse);
	hc_gc_set_reclaim(gc, true);
	/* Whichever member is cleared first recycles the other. */
	reuse_armed = true;
	ck_assert_uint_eq(collect(gc, 2, NULL, &res), 2);
	ck_assert(reuse_victim == a || reuse_victim == b);
	ck_assert_uint_eq(clear_calls, 1);
	ck_assert_uint_eq(res.cleared, 1);
	ck_assert_uint_eq(reuse_new_clears, 0);
	ck_assert_int_eq(hc_gc_generation(gc, reuse_victim), 0);
	ck_assert_str_eq(hc_gc_type(gc, reuse_victim), "Fresh");
	hc_gc_result_fini(&res);
	hc_gc_free(gc);
	free(a);
	free(b);
}
END_TEST

/* ---- failure ------------------------------------------------------------ */

static long alloc_budget = -1;

static void *budget_alloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(n);
}

static void *budget_realloc(void *p, size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return realloc(p, n);
}

/* No alloc_zeroed: every allocation spends the budget. */
static const struct hc_mem_ops budget_ops = {
	.alloc = budget_alloc,
	.realloc = budget_realloc,
	.free = free,
};

/* Out of memory at each allocation in turn: the collection fails with
 * HC_ERR_NOMEM and leaves generations and counts as they were. */
START_TEST(test_gc_collect_out_of_memory_changes_nothing)
{
	struct hc_gc *gc;
	struct node *n[40];
	struct test_env te = { 0 };
	struct hc_gc_env env = { .confirm = roots_confirm, .arg = &te };
	struct hc_gc_result res;
	int i, c0[HC_GC_GENERATIONS], c1[HC_GC_GENERATIONS], ret;
	long budget;

	hc_mem_set_ops(&budget_ops);
	gc = gc_new_checked();
	te.gc = gc;
	for (i = 0; i < 40; i++) {
		n[i] = node_new(1);
		track(gc, n[i], node_clear_count_only);
	}
	/* Rings of 4; ring k also owns a member of ring k + 2: two groups,
	 * even rings and odd rings, each closed. A global holds n[0] (a
	 * counted reference): the even group stays. */
	for (i = 0; i < 40; i++) {
		n[i]->ref[0] = n[(i / 4) * 4 + (i + 1) % 4];
		n[i]->ref[1] = n[(i + 8) % 40];
		n[(i + 8) % 40]->refcount++;
	}
	n[0]->refcount++;
	hc_gc_set_reclaim(gc, true);
	n[4]->refcount++;	/* the first collection keeps everything */
	collect(gc, 0, &env, &res);	/* to generation 1 */
	ck_assert_uint_eq(res.unreachable, 0);
	hc_gc_result_fini(&res);
	n[4]->refcount--;
	hc_gc_get_count(gc, c0);
	for (budget = 0;; budget++) {
		alloc_budget = budget;
		ret = hc_gc_collect(gc, 1, &env, &res);
		alloc_budget = -1;
		if (ret == HC_OK)
			break;
		ck_assert_int_eq(ret, HC_ERR_NOMEM);
		ck_assert_ptr_null(res.garbage);
		hc_gc_get_count(gc, c1);
		ck_assert_mem_eq(c0, c1, sizeof(c0));
		for (i = 0; i < 40; i++)
			ck_assert_int_eq(hc_gc_generation(gc, n[i]), 1);
		ck_assert_uint_eq(clear_calls, 0);
	}
	ck_assert_int_gt(budget, 0);
	ck_assert_uint_eq(res.collected, 40);
	ck_assert_uint_eq(res.unreachable, 20);
	ck_assert_uint_eq(res.cleared, 20);
	/* Every object has a traverse: nothing to confirm. */
	ck_assert_uint_eq(te.confirm_calls, 0);
	hc_gc_result_fini(&res);
	hc_gc_get_count(gc, c1);
	ck_assert_int_eq(c1[1], 0);
	ck_assert_int_eq(c1[2], c0[2] + 1);
	/* Tracking fails cleanly too. */
	{
		struct node *extra = node_new(1);

		alloc_budget = 0;
		ck_assert_int_eq(hc_gc_track(gc, extra, &extra->refcount, 4,
					     node_traverse, NULL, "Fresh type"), HC_ERR_NOMEM);
		alloc_budget = -1;
		ck_assert(!hc_gc_is_tracked(gc, extra));
		free(extra);
	}
	hc_gc_free(gc);
	hc_mem_set_ops(NULL);
	for (i = 0; i < 40; i++)
		free(n[i]);
}
END_TEST

/* ---- scale -------------------------------------------------------------- */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 10,000 young objects in a registry of 1,000,000 old ones: a young
 * collection traverses the young only (once each) and costs what they
 * cost; a full collection traverses everything. */
START_TEST(test_gc_young_collection_touches_only_the_young)
{
	enum { OLD = 1000000, YOUNG = 10000 };
	struct hc_gc *gc = gc_new_checked();
	struct node *old = calloc(OLD, sizeof(*old)), *young = calloc(YOUNG, sizeof(*young));
	struct hc_gc_result res;
	double t0, t_young, t_full;
	size_t i;

	ck_assert_ptr_nonnull(old);
	ck_assert_ptr_nonnull(young);
	/* Old objects: a long chain, each held by its predecessor and one
	 * outside ref; they also point at young ones below. */
	for (i = 0; i < OLD; i++) {
		old[i].refcount = 2;
		old[i].ref[0] = i + 1 < OLD ? &old[i + 1] : NULL;
		track(gc, &old[i], NULL);
	}
	collect(gc, 1, NULL, &res);
	ck_assert_uint_eq(res.unreachable, 0);
	hc_gc_result_fini(&res);
	ck_assert_int_eq(hc_gc_generation(gc, &old[0]), 2);
	/* Young: pairs a <-> b, every 10th pair kept by an old object only
	 * (external to the young collection), every 10th+1 pair by nobody. */
	for (i = 0; i < YOUNG; i += 2) {
		young[i].ref[0] = &young[i + 1];
		young[i + 1].ref[0] = &young[i];
		young[i].ref[1] = &old[i * 7];	/* young -> old: ignored */
		young[i].refcount = 1;
		young[i + 1].refcount = 1;
		if ((i / 2) % 10 == 0) {
			old[i * 3].ref[1] = &young[i];
			young[i].refcount++;
		} else if ((i / 2) % 10 != 1) {
			young[i + 1].refcount++;	/* outside ref */
		}
		track(gc, &young[i], NULL);
		track(gc, &young[i + 1], NULL);
	}
	ck_assert_uint_eq(hc_gc_count_tracked(gc), OLD + YOUNG);
	traverse_calls = 0;
	t0 = now_seconds();
	collect(gc, 0, NULL, &res);
	t_young = now_seconds() - t0;
	ck_assert_uint_eq(traverse_calls, YOUNG);
	ck_assert_uint_eq(res.collected, YOUNG);
	ck_assert_uint_eq(res.unreachable, YOUNG / 10);	/* the unheld pairs */
	hc_gc_result_fini(&res);

	traverse_calls = 0;
	t0 = now_seconds();
	collect(gc, 2, NULL, &res);
	t_full = now_seconds() - t0;
	ck_assert_uint_eq(traverse_calls, OLD + YOUNG);
	ck_assert_uint_eq(res.collected, OLD + YOUNG);
	ck_assert_uint_eq(res.unreachable, YOUNG / 10);
	hc_gc_result_fini(&res);
	printf("generations: gen-0 collection of %d young among %d tracked: %.3f ms; "
	       "full collection: %.3f ms\n", YOUNG, OLD + YOUNG, t_young * 1e3, t_full * 1e3);
	/* Proportional to the young, not the registry (a loose bound: the
	 * full collection does 101 times the work). */
	ck_assert(t_young * 10 < t_full);
	hc_gc_free(gc);
	free(old);
	free(young);
}
END_TEST

/* Many objects come and go: the hash table's deletions keep every
 * remaining object findable. */
START_TEST(test_gc_registry_survives_heavy_track_untrack_churn)
{
	enum { N = 20000 };
	struct hc_gc *gc = gc_new_checked();
	struct node *n = calloc(N, sizeof(*n));
	size_t i, k;

	ck_assert_ptr_nonnull(n);
	for (i = 0; i < N; i++) {
		n[i].refcount = 1;
		track(gc, &n[i], NULL);
	}
	for (k = 0; k < 3; k++) {
		for (i = k; i < N; i += 3)
			ck_assert(hc_gc_untrack(gc, &n[i]));
		for (i = 0; i < N; i++)
			ck_assert(hc_gc_is_tracked(gc, &n[i]) == (i % 3 > k));
		for (i = k; i < N; i += 3)
			track(gc, &n[i], NULL);
		for (i = k; i < N; i += 3)
			ck_assert(hc_gc_untrack(gc, &n[i]));
	}
	ck_assert_uint_eq(hc_gc_count_tracked(gc), 0);
	hc_gc_free(gc);
	free(n);
}
END_TEST

Suite *suite_generations(void)
{
	Suite *s = suite_create("generations");
	TCase *tc = tcase_create("core");
	TCase *big = tcase_create("scale");

	tcase_add_test(tc, test_gc_two_person_cycle_is_found_as_two_unreachable);
	tcase_add_test(tc, test_gc_two_person_cycle_with_an_external_ref_is_reachable);
	tcase_add_test(tc, test_gc_data_object_freed_at_zero_is_never_seen);
	tcase_add_test(tc, test_gc_defaults_are_cpython_thresholds_enabled_no_reclaim);
	tcase_add_test(tc, test_gc_counts_and_due_follow_cpython_scheduling);
	tcase_add_test(tc, test_gc_full_collection_waits_for_a_quarter_new_long_lived);
	tcase_add_test(tc, test_gc_survivors_are_promoted_one_generation_per_collection);
	tcase_add_test(tc, test_gc_young_collection_counts_refs_from_old_as_external);
	tcase_add_test(tc, test_gc_self_reference_is_a_cycle_and_a_chain_is_not);
	tcase_add_test(tc, test_gc_traverse_visiting_null_untracked_and_twice);
	tcase_add_test(tc, test_gc_count_lower_than_internal_refs_is_treated_as_zero);
	tcase_add_test(tc, test_gc_counts_of_each_width_are_read_where_they_live);
	tcase_add_test(tc, test_gc_type_names_are_copied_interned_and_settable);
	tcase_add_test(tc, test_gc_foreach_visits_every_tracked_object_and_stops);
	tcase_add_test(tc, test_gc_parent_child_back_pointer_kept_by_confirm);
	tcase_add_test(tc, test_gc_confirm_is_called_only_with_candidates);
	tcase_add_test(tc, test_gc_confirm_only_for_scanned_candidates);
	tcase_add_test(tc, test_gc_reclaim_clears_each_member_of_a_three_cycle);
	tcase_add_test(tc, test_gc_reclaim_skips_a_cycle_with_a_member_without_clear);
	tcase_add_test(tc, test_gc_reclaim_tolerates_untrack_from_inside_clear);
	tcase_add_test(tc, test_gc_reclaim_skips_an_address_tracked_anew_during_clear);
	tcase_add_test(tc, test_gc_collect_out_of_memory_changes_nothing);
	suite_add_tcase(s, tc);
	tcase_set_timeout(big, 300);
	tcase_add_test(big, test_gc_young_collection_touches_only_the_young);
	tcase_add_test(big, test_gc_registry_survives_heavy_track_untrack_churn);
	suite_add_tcase(s, big);
	return s;
}
