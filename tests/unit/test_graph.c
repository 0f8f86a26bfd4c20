/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the analysis (graph.c, collect.c, scc.c, classify.c) on
 * hand-built snapshots: each test lays out blocks, root words and edges the
 * way the scanner would record them, runs one step or all of hc_analyze,
 * and checks the classes, cycles, retained sizes and groups it names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "blocktable.h"
#include "graph.h"
#include "suites.h"

/* A snapshot under construction: blocks 0x10000 apart, 32 bytes each,
 * born in index order, on stack 0, unless a test says otherwise. */
struct tsnap {
	struct hc_snapshot s;
	struct hc_block *b;
	struct hc_edge *e;
	struct hc_stack *st;
	uint64_t ecap;
};

static struct tsnap *ts_new(uint64_t nblocks, uint32_t nstacks)
{
	struct tsnap *t = calloc(1, sizeof(*t));
	uint64_t i;

	ck_assert_ptr_nonnull(t);
	t->b = calloc(nblocks ? nblocks : 1, sizeof(*t->b));
	t->st = calloc(nstacks ? nstacks : 1, sizeof(*t->st));
	ck_assert_ptr_nonnull(t->b);
	ck_assert_ptr_nonnull(t->st);
	for (i = 0; i < nblocks; i++) {
		t->b[i].addr = 0x100000 + i * 0x10000;
		t->b[i].size = 32;
		t->b[i].seq = i + 1;
		t->b[i].kind = HC_ALLOC_MALLOC;
	}
	t->s.version = HC_SNAPSHOT_VERSION;
	t->s.nblocks = nblocks;
	t->s.blocks = t->b;
	t->s.nstacks = nstacks;
	t->s.stacks = t->st;
	return t;
}

/* Appends an edge from `from` (at the next free word) to to + to_offset. */
static void ts_edge_at(struct tsnap *t, uint32_t from, uint32_t to,
		       uint64_t to_offset)
{
	uint64_t i, off = 0;

	if (t->s.nedges == t->ecap) {
		t->ecap = t->ecap ? 2 * t->ecap : 16;
		t->e = realloc(t->e, t->ecap * sizeof(*t->e));
		ck_assert_ptr_nonnull(t->e);
	}
	for (i = 0; i < t->s.nedges; i++) {
		if (t->e[i].from == from)
			off += 8;
	}
	t->e[t->s.nedges].from = from;
	t->e[t->s.nedges].to = to;
	t->e[t->s.nedges].from_offset = off;
	t->e[t->s.nedges].to_offset = to_offset;
	t->s.nedges++;
	t->s.edges = t->e;
}

static void ts_edge(struct tsnap *t, uint32_t from, uint32_t to)
{
	ts_edge_at(t, from, to, 0);
}

static int ts_edge_cmp(const void *pa, const void *pb)
{
	const struct hc_edge *a = pa, *b = pb;

	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	if (a->from_offset != b->from_offset)
		return a->from_offset < b->from_offset ? -1 : 1;
	return 0;
}

/* Sorts the edges as the snapshot contract says and analyzes. */
static struct hc_analysis *ts_analyze(struct tsnap *t)
{
	struct hc_analysis *a = NULL;

	if (t->s.nedges)
		qsort(t->e, t->s.nedges, sizeof(*t->e), ts_edge_cmp);
	ck_assert_int_eq(hc_analyze(&t->s, &a), HC_OK);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->nblocks, t->s.nblocks);
	return a;
}

static void ts_free(struct tsnap *t)
{
	free(t->b);
	free(t->e);
	free(t->st);
	free(t);
}

static void check_class(const struct hc_analysis *a, uint64_t i,
			enum hc_leak_class cls)
{
	ck_assert_msg(a->block_class[i] == cls, "block %llu: %s, expected %s",
		      (unsigned long long)i,
		      hc_leak_class_name(a->block_class[i]),
		      hc_leak_class_name(cls));
}

static bool cycle_has_edge(const struct tsnap *t, const struct hc_cycle *c,
			   uint32_t from, uint32_t to)
{
	uint32_t i;

	for (i = 0; i < c->nedges; i++) {
		const struct hc_edge *e = &t->e[c->edges[i]];

		if (e->from == from && e->to == to)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------ graph.c */

START_TEST(test_graph_build_lists_successors_and_predecessors)
{
	struct tsnap *t = ts_new(4, 1);
	struct hc_graph g;
	uint64_t k;

	ts_edge(t, 0, 1);
	ts_edge(t, 0, 2);
	ts_edge(t, 2, 1);
	ts_edge(t, 3, 3);
	ck_assert_int_eq(hc_graph_build(&g, &t->s), HC_OK);
	ck_assert_uint_eq(g.nnodes, 4);
	ck_assert_uint_eq(g.nedges, 4);
	/* out: 0 -> {e0, e1}, 1 -> {}, 2 -> {e2}, 3 -> {e3} */
	ck_assert_uint_eq(g.out_start[0], 0);
	ck_assert_uint_eq(g.out_start[1], 2);
	ck_assert_uint_eq(g.out_start[2], 2);
	ck_assert_uint_eq(g.out_start[3], 3);
	ck_assert_uint_eq(g.out_start[4], 4);
	ck_assert_uint_eq(g.out_edge[0], 0);
	ck_assert_uint_eq(g.out_edge[1], 1);
	ck_assert_uint_eq(g.out_edge[2], 2);
	ck_assert_uint_eq(g.out_edge[3], 3);
	/* in: 0 <- {}, 1 <- {e0, e2}, 2 <- {e1}, 3 <- {e3} */
	ck_assert_uint_eq(g.in_start[1] - g.in_start[0], 0);
	ck_assert_uint_eq(g.in_start[2] - g.in_start[1], 2);
	ck_assert_uint_eq(g.in_edge[g.in_start[1]], 0);
	ck_assert_uint_eq(g.in_edge[g.in_start[1] + 1], 2);
	ck_assert_uint_eq(g.in_start[3] - g.in_start[2], 1);
	ck_assert_uint_eq(g.in_edge[g.in_start[2]], 1);
	ck_assert_uint_eq(g.in_start[4], 4);
	for (k = g.in_start[3]; k < g.in_start[4]; k++)
		ck_assert_uint_eq(g.edges[g.in_edge[k]].from, 3);
	hc_graph_fini(&g);
	ts_free(t);
}
END_TEST

START_TEST(test_graph_build_rejects_edge_out_of_range)
{
	struct tsnap *t = ts_new(2, 1);
	struct hc_analysis *a = (struct hc_analysis *)&a;
	struct hc_graph g;

	ts_edge(t, 0, 2);
	ck_assert_int_eq(hc_graph_build(&g, &t->s), HC_ERR_ARG);
	ck_assert_ptr_null(g.out_start);
	ck_assert_int_eq(hc_analyze(&t->s, &a), HC_ERR_ARG);
	ck_assert_ptr_null(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_rejects_stack_out_of_range)
{
	struct tsnap *t = ts_new(2, 2);
	struct hc_analysis *a = NULL;

	t->b[1].stack = 2;
	ck_assert_int_eq(hc_analyze(&t->s, &a), HC_ERR_ARG);
	ck_assert_ptr_null(a);
	ts_free(t);
}
END_TEST

/* ---------------------------------------------------------- collect.c */

START_TEST(test_collect_levels_start_interior_and_unreachable)
{
	/* 0 rooted -> 1 (start) -> 2 (interior, +16) -> 3 (start); 4 alone;
	 * 5 rooted only through an interior root word. */
	struct tsnap *t = ts_new(6, 1);
	struct hc_graph g;
	uint8_t reach[6];

	t->b[0].root_refs = 1;
	t->b[5].root_interior_refs = 2;
	ts_edge(t, 0, 1);
	ts_edge_at(t, 1, 2, 16);
	ts_edge(t, 2, 3);
	ck_assert_int_eq(hc_graph_build(&g, &t->s), HC_OK);
	memset(reach, 0xee, sizeof(reach));
	ck_assert_int_eq(hc_collect_reachability(&g, &t->s, reach), HC_OK);
	ck_assert_uint_eq(reach[0], 2);
	ck_assert_uint_eq(reach[1], 2);
	ck_assert_uint_eq(reach[2], 1);
	ck_assert_uint_eq(reach[3], 1);
	ck_assert_uint_eq(reach[4], 0);
	ck_assert_uint_eq(reach[5], 1);
	hc_graph_fini(&g);
	ts_free(t);
}
END_TEST

START_TEST(test_collect_two_node_cycle_is_unreachable)
{
	struct tsnap *t = ts_new(2, 1);
	struct hc_graph g;
	uint8_t reach[2] = { 9, 9 };

	/* Each holds a reference to the other: refcounts of 1 that trial
	 * deletion (subtract_refs) brings to 0. */
	ts_edge(t, 0, 1);
	ts_edge(t, 1, 0);
	ck_assert_int_eq(hc_graph_build(&g, &t->s), HC_OK);
	ck_assert_int_eq(hc_collect_reachability(&g, &t->s, reach), HC_OK);
	ck_assert_uint_eq(reach[0], 0);
	ck_assert_uint_eq(reach[1], 0);
	hc_graph_fini(&g);
	ts_free(t);
}
END_TEST

START_TEST(test_collect_rooted_cycle_is_not_leaked)
{
	struct tsnap *t = ts_new(3, 1);
	struct hc_analysis *a;

	ts_edge(t, 0, 1);
	ts_edge(t, 1, 2);
	ts_edge(t, 2, 0);
	t->b[1].root_refs = 1;
	a = ts_analyze(t);
	check_class(a, 0, HC_CLASS_REACHABLE);
	check_class(a, 1, HC_CLASS_REACHABLE);
	check_class(a, 2, HC_CLASS_REACHABLE);
	ck_assert_uint_eq(a->ncycles, 0);
	ck_assert_uint_eq(a->ngroups, 0);
	ck_assert_uint_eq(a->totals[HC_CLASS_REACHABLE].blocks, 3);
	ck_assert_uint_eq(a->totals[HC_CLASS_REACHABLE].bytes, 96);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_collect_cycle_behind_interior_pointer_is_possible)
{
	/* Block 0 is rooted and points 24 bytes into 1, which is in a cycle
	 * with 2; 3 <-> 4 is a cycle with an interior root word only. */
	struct tsnap *t = ts_new(5, 1);
	struct hc_analysis *a;

	t->b[0].root_refs = 1;
	ts_edge_at(t, 0, 1, 24);
	ts_edge(t, 1, 2);
	ts_edge(t, 2, 1);
	t->b[3].root_interior_refs = 1;
	ts_edge(t, 3, 4);
	ts_edge(t, 4, 3);
	a = ts_analyze(t);
	check_class(a, 0, HC_CLASS_REACHABLE);
	check_class(a, 1, HC_CLASS_POSSIBLE);
	check_class(a, 2, HC_CLASS_POSSIBLE);
	check_class(a, 3, HC_CLASS_POSSIBLE);
	check_class(a, 4, HC_CLASS_POSSIBLE);
	ck_assert_uint_eq(a->ncycles, 0);
	ck_assert_uint_eq(a->totals[HC_CLASS_POSSIBLE].blocks, 4);
	ck_assert_uint_eq(a->totals[HC_CLASS_CYCLE].blocks, 0);
	ck_assert_uint_eq(a->ngroups, 1);
	ck_assert_int_eq(a->groups[0].cls, HC_CLASS_POSSIBLE);
	ck_assert_uint_eq(a->groups[0].blocks, 4);
	ck_assert_uint_eq(a->groups[0].first_block, 1);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_collect_new_array_cookie_pointer_counts_as_start)
{
	/* 0 rooted: +8 into 1 (new[]) is its start, +8 into 2 (malloc) is
	 * interior. 3 (new[]) has only an interior root word, which for new[]
	 * is the cookie pointer. 4 (new[]) is pointed at +16 by 0: interior. */
	struct tsnap *t = ts_new(5, 1);
	struct hc_analysis *a;

	t->b[0].root_refs = 1;
	t->b[1].kind = HC_ALLOC_NEW_ARRAY;
	t->b[3].kind = HC_ALLOC_NEW_ARRAY;
	t->b[4].kind = HC_ALLOC_NEW_ARRAY;
	t->b[3].root_interior_refs = 1;
	ts_edge_at(t, 0, 1, 8);
	ts_edge_at(t, 0, 2, 8);
	ts_edge_at(t, 0, 4, 16);
	a = ts_analyze(t);
	check_class(a, 0, HC_CLASS_REACHABLE);
	check_class(a, 1, HC_CLASS_REACHABLE);
	check_class(a, 2, HC_CLASS_POSSIBLE);
	check_class(a, 3, HC_CLASS_REACHABLE);
	check_class(a, 4, HC_CLASS_POSSIBLE);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_collect_parent_child_with_rooted_parent_is_not_leaked)
{
	/* The child's back pointer makes a cycle, which trial deletion alone
	 * would call garbage; the root on the parent keeps both. */
	struct tsnap *t = ts_new(2, 1);
	struct hc_analysis *a;

	t->b[0].root_refs = 1;
	ts_edge(t, 0, 1);
	ts_edge(t, 1, 0);
	a = ts_analyze(t);
	check_class(a, 0, HC_CLASS_REACHABLE);
	check_class(a, 1, HC_CLASS_REACHABLE);
	ck_assert_uint_eq(a->ncycles, 0);
	ck_assert_uint_eq(a->ngroups, 0);
	ck_assert_uint_eq(a->block_cycle[0], 0);
	ck_assert_uint_eq(a->block_cycle[1], 0);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

/* -------------------------------------------------------------- scc.c */

START_TEST(test_scc_components_in_reverse_topological_order)
{
	/* {0,1} -> {2,3} -> 4, 5 outside the set, 6 -> 6 alone. */
	struct tsnap *t = ts_new(7, 1);
	struct hc_graph g;
	uint8_t in_set[7] = { 1, 1, 1, 1, 1, 0, 1 };
	uint32_t comp[7], nc = 99;

	ts_edge(t, 0, 1);
	ts_edge(t, 1, 0);
	ts_edge(t, 1, 2);
	ts_edge(t, 2, 3);
	ts_edge(t, 3, 2);
	ts_edge(t, 3, 4);
	ts_edge(t, 4, 5);
	ts_edge(t, 5, 0);
	ts_edge(t, 6, 6);
	qsort(t->e, t->s.nedges, sizeof(*t->e), ts_edge_cmp);
	ck_assert_int_eq(hc_graph_build(&g, &t->s), HC_OK);
	ck_assert_int_eq(hc_scc_find(&g, in_set, comp, &nc), HC_OK);
	ck_assert_uint_eq(nc, 4);
	ck_assert_uint_eq(comp[0], comp[1]);
	ck_assert_uint_eq(comp[2], comp[3]);
	ck_assert_uint_ne(comp[0], comp[2]);
	ck_assert_uint_eq(comp[5], UINT32_MAX);
	/* Successors have smaller ids. */
	ck_assert_uint_lt(comp[2], comp[0]);
	ck_assert_uint_lt(comp[4], comp[2]);
	ck_assert_uint_lt(comp[6], nc);
	ck_assert_uint_ne(comp[6], comp[4]);
	/* Taking 3 out of the set breaks the {2,3} cycle. */
	in_set[3] = 0;
	ck_assert_int_eq(hc_scc_find(&g, in_set, comp, &nc), HC_OK);
	ck_assert_uint_eq(nc, 4);
	ck_assert_uint_eq(comp[3], UINT32_MAX);
	ck_assert_uint_lt(comp[2], comp[0]);
	hc_graph_fini(&g);
	ts_free(t);
}
END_TEST

/* --------------------------------------------------------- classify.c */

START_TEST(test_analyze_no_blocks_gives_empty_result)
{
	struct tsnap *t = ts_new(0, 1);
	struct hc_analysis *a;
	int c;

	a = ts_analyze(t);
	ck_assert_uint_eq(a->ngroups, 0);
	ck_assert_uint_eq(a->ncycles, 0);
	for (c = 0; c < HC_CLASS_COUNT; c++) {
		ck_assert_uint_eq(a->totals[c].blocks, 0);
		ck_assert_uint_eq(a->totals[c].bytes, 0);
	}
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_single_rooted_block_is_reachable)
{
	struct tsnap *t = ts_new(1, 1);
	struct hc_analysis *a;

	t->b[0].root_refs = 1;
	t->b[0].size = 100;
	a = ts_analyze(t);
	check_class(a, 0, HC_CLASS_REACHABLE);
	ck_assert_uint_eq(a->totals[HC_CLASS_REACHABLE].blocks, 1);
	ck_assert_uint_eq(a->totals[HC_CLASS_REACHABLE].bytes, 100);
	ck_assert_uint_eq(a->ngroups, 0);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_unrooted_block_is_direct_leak)
{
	struct tsnap *t = ts_new(2, 2);
	struct hc_analysis *a;

	t->b[0].root_refs = 1;
	t->b[1].size = 77;
	t->b[1].stack = 1;
	a = ts_analyze(t);
	check_class(a, 0, HC_CLASS_REACHABLE);
	check_class(a, 1, HC_CLASS_DIRECT);
	ck_assert_uint_eq(a->totals[HC_CLASS_DIRECT].blocks, 1);
	ck_assert_uint_eq(a->totals[HC_CLASS_DIRECT].bytes, 77);
	ck_assert_uint_eq(a->ngroups, 1);
	ck_assert_int_eq(a->groups[0].cls, HC_CLASS_DIRECT);
	ck_assert_uint_eq(a->groups[0].stack, 1);
	ck_assert_uint_eq(a->groups[0].bytes, 77);
	ck_assert_uint_eq(a->groups[0].first_block, 1);
	ck_assert_uint_eq(a->ncycles, 0);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_leaked_chain_is_one_direct_two_indirect)
{
	struct tsnap *t = ts_new(3, 1);
	struct hc_analysis *a;

	ts_edge(t, 0, 1);
	ts_edge(t, 1, 2);
	a = ts_analyze(t);
	check_class(a, 0, HC_CLASS_DIRECT);
	check_class(a, 1, HC_CLASS_INDIRECT);
	check_class(a, 2, HC_CLASS_INDIRECT);
	ck_assert_uint_eq(a->totals[HC_CLASS_DIRECT].blocks, 1);
	ck_assert_uint_eq(a->totals[HC_CLASS_INDIRECT].blocks, 2);
	ck_assert_uint_eq(a->totals[HC_CLASS_INDIRECT].bytes, 64);
	ck_assert_uint_eq(a->ncycles, 0);
	/* Indirect leaks outweigh the direct one. */
	ck_assert_uint_eq(a->ngroups, 2);
	ck_assert_int_eq(a->groups[0].cls, HC_CLASS_INDIRECT);
	ck_assert_uint_eq(a->groups[0].first_block, 1);
	ck_assert_int_eq(a->groups[1].cls, HC_CLASS_DIRECT);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_self_loop_is_cycle_of_one)
{
	struct tsnap *t = ts_new(2, 1);
	struct hc_analysis *a;

	ts_edge(t, 1, 1);
	a = ts_analyze(t);
	check_class(a, 0, HC_CLASS_DIRECT);
	check_class(a, 1, HC_CLASS_CYCLE);
	ck_assert_uint_eq(a->ncycles, 1);
	ck_assert_uint_eq(a->cycles[0].nmembers, 1);
	ck_assert_uint_eq(a->cycles[0].members[0], 1);
	ck_assert_uint_eq(a->cycles[0].nedges, 1);
	ck_assert_uint_eq(a->cycles[0].edges[0], 0);
	ck_assert(a->cycles[0].is_root);
	ck_assert_uint_eq(a->block_cycle[0], 0);
	ck_assert_uint_eq(a->block_cycle[1], 1);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_two_node_cycle_is_one_root_cycle)
{
	struct tsnap *t = ts_new(2, 1);
	struct hc_analysis *a;

	t->b[0].size = 40;
	t->b[1].size = 56;
	ts_edge(t, 1, 0);
	ts_edge_at(t, 0, 1, 0);
	a = ts_analyze(t);
	check_class(a, 0, HC_CLASS_CYCLE);
	check_class(a, 1, HC_CLASS_CYCLE);
	ck_assert_uint_eq(a->totals[HC_CLASS_CYCLE].blocks, 2);
	ck_assert_uint_eq(a->totals[HC_CLASS_CYCLE].bytes, 96);
	ck_assert_uint_eq(a->totals[HC_CLASS_DIRECT].blocks, 0);
	ck_assert_uint_eq(a->totals[HC_CLASS_INDIRECT].blocks, 0);
	ck_assert_uint_eq(a->ncycles, 1);
	ck_assert_uint_eq(a->cycles[0].nmembers, 2);
	ck_assert_uint_eq(a->cycles[0].members[0], 0);
	ck_assert_uint_eq(a->cycles[0].members[1], 1);
	ck_assert_uint_eq(a->cycles[0].nedges, 2);
	ck_assert(cycle_has_edge(t, &a->cycles[0], 0, 1));
	ck_assert(cycle_has_edge(t, &a->cycles[0], 1, 0));
	ck_assert_uint_eq(a->cycles[0].bytes, 96);
	ck_assert_uint_eq(a->cycles[0].retained_bytes, 96);
	ck_assert_uint_eq(a->cycles[0].retained_blocks, 2);
	ck_assert(a->cycles[0].is_root);
	ck_assert_uint_eq(a->ngroups, 1);
	ck_assert_int_eq(a->groups[0].cls, HC_CLASS_CYCLE);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_three_cycle_members_in_cycle_order)
{
	/* Ring 0 -> 2 -> 1 -> 0 where 1 was born first, plus a chord 1 -> 2
	 * listed after 1 -> 0. Order from the eldest: 1, 0, 2. */
	struct tsnap *t = ts_new(3, 1);
	struct hc_analysis *a;

	t->b[0].seq = 20;
	t->b[1].seq = 10;
	t->b[2].seq = 30;
	ts_edge(t, 0, 2);
	ts_edge(t, 2, 1);
	ts_edge(t, 1, 0);
	ts_edge(t, 1, 2);
	a = ts_analyze(t);
	ck_assert_uint_eq(a->ncycles, 1);
	ck_assert_uint_eq(a->cycles[0].nmembers, 3);
	ck_assert_uint_eq(a->cycles[0].members[0], 1);
	ck_assert_uint_eq(a->cycles[0].members[1], 0);
	ck_assert_uint_eq(a->cycles[0].members[2], 2);
	ck_assert_uint_eq(a->cycles[0].nedges, 4);
	ck_assert(a->cycles[0].is_root);
	check_class(a, 0, HC_CLASS_CYCLE);
	check_class(a, 1, HC_CLASS_CYCLE);
	check_class(a, 2, HC_CLASS_CYCLE);
	ck_assert_uint_eq(a->groups[0].first_block, 1);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_ring_with_chord_members_follow_the_ring)
{
	/* Ring 0 -> 1 -> 2 -> 3 -> 0 and a chord 0 -> 3: breadth-first
	 * order would be 0, 1, 3, 2; the ring order is 0, 1, 2, 3. */
	struct tsnap *t = ts_new(4, 1);
	struct hc_analysis *a;
	uint32_t i;

	ts_edge(t, 0, 1);
	ts_edge(t, 0, 3);
	ts_edge(t, 1, 2);
	ts_edge(t, 2, 3);
	ts_edge(t, 3, 0);
	a = ts_analyze(t);
	ck_assert_uint_eq(a->ncycles, 1);
	ck_assert_uint_eq(a->cycles[0].nmembers, 4);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(a->cycles[0].members[i], i);
	ck_assert_uint_eq(a->cycles[0].nedges, 5);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_nested_cycles_inner_is_indirect_and_retained)
{
	/* {0,1} -> {2,3}: the second cycle was lost with the first. */
	struct tsnap *t = ts_new(4, 1);
	struct hc_analysis *a;

	t->b[0].size = 10;
	t->b[1].size = 20;
	t->b[2].size = 30;
	t->b[3].size = 40;
	ts_edge(t, 0, 1);
	ts_edge(t, 1, 0);
	ts_edge(t, 1, 2);
	ts_edge(t, 2, 3);
	ts_edge(t, 3, 2);
	a = ts_analyze(t);
	check_class(a, 0, HC_CLASS_CYCLE);
	check_class(a, 1, HC_CLASS_CYCLE);
	check_class(a, 2, HC_CLASS_INDIRECT);
	check_class(a, 3, HC_CLASS_INDIRECT);
	ck_assert_uint_eq(a->ncycles, 2);
	ck_assert_uint_eq(a->cycles[0].members[0], 0);
	ck_assert(a->cycles[0].is_root);
	ck_assert_uint_eq(a->cycles[0].bytes, 30);
	ck_assert_uint_eq(a->cycles[0].retained_bytes, 100);
	ck_assert_uint_eq(a->cycles[0].retained_blocks, 4);
	/* The edge joining the cycles belongs to neither. */
	ck_assert_uint_eq(a->cycles[0].nedges, 2);
	ck_assert(!cycle_has_edge(t, &a->cycles[0], 1, 2));
	ck_assert_uint_eq(a->cycles[1].members[0], 2);
	ck_assert(!a->cycles[1].is_root);
	ck_assert_uint_eq(a->cycles[1].bytes, 70);
	ck_assert_uint_eq(a->cycles[1].retained_bytes, 70);
	ck_assert_uint_eq(a->cycles[1].retained_blocks, 2);
	ck_assert_uint_eq(a->block_cycle[0], 1);
	ck_assert_uint_eq(a->block_cycle[1], 1);
	ck_assert_uint_eq(a->block_cycle[2], 2);
	ck_assert_uint_eq(a->block_cycle[3], 2);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_tree_hanging_off_cycle_is_indirect_and_retained)
{
	struct tsnap *t = ts_new(5, 1);
	struct hc_analysis *a;

	t->b[2].size = 100;
	t->b[3].size = 200;
	t->b[4].size = 300;
	ts_edge(t, 0, 1);
	ts_edge(t, 1, 0);
	ts_edge(t, 1, 2);
	ts_edge(t, 2, 3);
	ts_edge(t, 2, 4);
	a = ts_analyze(t);
	check_class(a, 0, HC_CLASS_CYCLE);
	check_class(a, 1, HC_CLASS_CYCLE);
	check_class(a, 2, HC_CLASS_INDIRECT);
	check_class(a, 3, HC_CLASS_INDIRECT);
	check_class(a, 4, HC_CLASS_INDIRECT);
	ck_assert_uint_eq(a->ncycles, 1);
	ck_assert_uint_eq(a->cycles[0].bytes, 64);
	ck_assert_uint_eq(a->cycles[0].retained_bytes, 664);
	ck_assert_uint_eq(a->cycles[0].retained_blocks, 5);
	ck_assert_uint_eq(a->block_cycle[2], 0);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_cycle_retains_diamond_below_it)
{
	/* {0,1}: 0 -> 2, 1 -> 3, 2 -> 4, 3 -> 4. Everything below hangs
	 * from the cycle even though 4 has two leaked parents. */
	struct tsnap *t = ts_new(5, 1);
	struct hc_analysis *a;

	ts_edge(t, 0, 1);
	ts_edge(t, 1, 0);
	ts_edge(t, 0, 2);
	ts_edge(t, 1, 3);
	ts_edge(t, 2, 4);
	ts_edge(t, 3, 4);
	a = ts_analyze(t);
	ck_assert_uint_eq(a->ncycles, 1);
	ck_assert_uint_eq(a->cycles[0].retained_blocks, 5);
	ck_assert_uint_eq(a->cycles[0].retained_bytes, 160);
	check_class(a, 4, HC_CLASS_INDIRECT);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_cycle_does_not_retain_shared_block)
{
	/* {0,1} -> 2 <- 3 (a direct leak): freeing the cycle alone would
	 * not free 2, so the cycle does not retain it. */
	struct tsnap *t = ts_new(4, 1);
	struct hc_analysis *a;

	t->b[2].size = 1000;
	ts_edge(t, 0, 1);
	ts_edge(t, 1, 0);
	ts_edge(t, 1, 2);
	ts_edge(t, 3, 2);
	a = ts_analyze(t);
	check_class(a, 2, HC_CLASS_INDIRECT);
	check_class(a, 3, HC_CLASS_DIRECT);
	ck_assert_uint_eq(a->ncycles, 1);
	ck_assert_uint_eq(a->cycles[0].retained_blocks, 2);
	ck_assert_uint_eq(a->cycles[0].retained_bytes, 64);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_direct_leak_into_cycle_makes_cycle_indirect)
{
	struct tsnap *t = ts_new(3, 1);
	struct hc_analysis *a;

	ts_edge(t, 0, 1);
	ts_edge(t, 1, 2);
	ts_edge(t, 2, 1);
	a = ts_analyze(t);
	check_class(a, 0, HC_CLASS_DIRECT);
	check_class(a, 1, HC_CLASS_INDIRECT);
	check_class(a, 2, HC_CLASS_INDIRECT);
	ck_assert_uint_eq(a->totals[HC_CLASS_CYCLE].blocks, 0);
	ck_assert_uint_eq(a->ncycles, 1);
	ck_assert(!a->cycles[0].is_root);
	ck_assert_uint_eq(a->cycles[0].nmembers, 2);
	ck_assert_uint_eq(a->cycles[0].retained_blocks, 2);
	ck_assert_uint_eq(a->block_cycle[0], 0);
	ck_assert_uint_eq(a->block_cycle[1], 1);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_groups_by_stack_sorted_by_bytes)
{
	/* stack 1: direct 100 + 100 and a cycle of 60 + 60; stack 2: direct
	 * 500; stack 3: direct 50 and a reachable block (not in any group). */
	struct tsnap *t = ts_new(7, 4);
	struct hc_analysis *a;

	t->b[0].stack = 1;
	t->b[0].size = 100;
	t->b[0].seq = 50;
	t->b[1].stack = 1;
	t->b[1].size = 100;
	t->b[1].seq = 5;
	t->b[2].stack = 2;
	t->b[2].size = 500;
	t->b[3].stack = 3;
	t->b[3].size = 50;
	t->b[4].stack = 3;
	t->b[4].size = 4000;
	t->b[4].root_refs = 1;
	t->b[5].stack = 1;
	t->b[5].size = 60;
	t->b[6].stack = 1;
	t->b[6].size = 60;
	ts_edge(t, 5, 6);
	ts_edge(t, 6, 5);
	a = ts_analyze(t);
	ck_assert_uint_eq(a->ngroups, 4);
	ck_assert_int_eq(a->groups[0].cls, HC_CLASS_DIRECT);
	ck_assert_uint_eq(a->groups[0].stack, 2);
	ck_assert_uint_eq(a->groups[0].bytes, 500);
	ck_assert_int_eq(a->groups[1].cls, HC_CLASS_DIRECT);
	ck_assert_uint_eq(a->groups[1].stack, 1);
	ck_assert_uint_eq(a->groups[1].blocks, 2);
	ck_assert_uint_eq(a->groups[1].bytes, 200);
	ck_assert_uint_eq(a->groups[1].first_block, 1);
	ck_assert_int_eq(a->groups[2].cls, HC_CLASS_CYCLE);
	ck_assert_uint_eq(a->groups[2].stack, 1);
	ck_assert_uint_eq(a->groups[2].bytes, 120);
	ck_assert_uint_eq(a->groups[2].first_block, 5);
	ck_assert_int_eq(a->groups[3].cls, HC_CLASS_DIRECT);
	ck_assert_uint_eq(a->groups[3].stack, 3);
	ck_assert_uint_eq(a->groups[3].bytes, 50);
	ck_assert_uint_eq(a->totals[HC_CLASS_REACHABLE].bytes, 4000);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_cycles_sorted_by_retained_bytes)
{
	/* Three independent leaked 2-cycles; the middle one holds a tree. */
	struct tsnap *t = ts_new(7, 1);
	struct hc_analysis *a;

	ts_edge(t, 0, 1);
	ts_edge(t, 1, 0);
	ts_edge(t, 2, 3);
	ts_edge(t, 3, 2);
	ts_edge(t, 3, 6);
	ts_edge(t, 4, 5);
	ts_edge(t, 5, 4);
	t->b[4].size = 48;
	a = ts_analyze(t);
	ck_assert_uint_eq(a->ncycles, 3);
	ck_assert_uint_eq(a->cycles[0].members[0], 2);
	ck_assert_uint_eq(a->cycles[0].retained_bytes, 96);
	ck_assert_uint_eq(a->cycles[1].members[0], 4);
	ck_assert_uint_eq(a->cycles[1].retained_bytes, 80);
	ck_assert_uint_eq(a->cycles[2].members[0], 0);
	ck_assert_uint_eq(a->block_cycle[2], 1);
	ck_assert_uint_eq(a->block_cycle[5], 2);
	ck_assert_uint_eq(a->block_cycle[1], 3);
	ck_assert_uint_eq(a->block_cycle[6], 0);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_leak_class_names_match_report_vocabulary)
{
	ck_assert_str_eq(hc_leak_class_name(HC_CLASS_REACHABLE), "reachable");
	ck_assert_str_eq(hc_leak_class_name(HC_CLASS_DIRECT), "direct");
	ck_assert_str_eq(hc_leak_class_name(HC_CLASS_INDIRECT), "indirect");
	ck_assert_str_eq(hc_leak_class_name(HC_CLASS_POSSIBLE), "possible");
	ck_assert_str_eq(hc_leak_class_name(HC_CLASS_CYCLE), "cycle");
	ck_assert_str_eq(hc_leak_class_name(HC_CLASS_COUNT), "unknown");
}
END_TEST

/* ------------------------------------------------------------- large */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_analyze_100k_leaked_ring_is_one_cycle_retaining_all)
{
	const uint32_t n = 100000;
	struct tsnap *t = ts_new(n, 1);
	struct hc_analysis *a;
	uint32_t i;

	t->e = calloc(n, sizeof(*t->e));
	ck_assert_ptr_nonnull(t->e);
	for (i = 0; i < n; i++) {
		t->e[i].from = i;
		t->e[i].to = (i + 1) % n;
	}
	t->s.edges = t->e;
	t->s.nedges = n;
	a = ts_analyze(t);
	ck_assert_uint_eq(a->ncycles, 1);
	ck_assert_uint_eq(a->cycles[0].nmembers, n);
	ck_assert_uint_eq(a->cycles[0].nedges, n);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(a->cycles[0].members[i], i);
	ck_assert(a->cycles[0].is_root);
	ck_assert_uint_eq(a->cycles[0].retained_blocks, n);
	ck_assert_uint_eq(a->cycles[0].retained_bytes, 32ull * n);
	ck_assert_uint_eq(a->totals[HC_CLASS_CYCLE].blocks, n);
	ck_assert_uint_eq(a->block_cycle[n - 1], 1);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

START_TEST(test_analyze_1m_leaked_chain_is_one_direct_rest_indirect)
{
	const uint32_t n = 1000000;
	struct tsnap *t = ts_new(n, 1);
	struct hc_analysis *a = NULL;
	double t0, t1;
	uint32_t i;

	t->e = calloc(n - 1, sizeof(*t->e));
	ck_assert_ptr_nonnull(t->e);
	/* Linked the way a list is built by pushing at the head: the newest
	 * block points to the next older one, so the walk goes downward. */
	for (i = 0; i + 1 < n; i++) {
		t->e[i].from = i + 1;
		t->e[i].to = i;
	}
	t->s.edges = t->e;
	t->s.nedges = n - 1;
	t0 = now_s();
	ck_assert_int_eq(hc_analyze(&t->s, &a), HC_OK);
	t1 = now_s();
	fprintf(stderr, "graph: hc_analyze of a 1,000,000-block leaked chain: %.3f s\n",
		t1 - t0);
	check_class(a, n - 1, HC_CLASS_DIRECT);
	ck_assert_uint_eq(a->totals[HC_CLASS_DIRECT].blocks, 1);
	ck_assert_uint_eq(a->totals[HC_CLASS_INDIRECT].blocks, n - 1);
	ck_assert_uint_eq(a->totals[HC_CLASS_INDIRECT].bytes, 32ull * (n - 1));
	for (i = 0; i + 1 < n; i++)
		ck_assert_uint_eq(a->block_class[i], HC_CLASS_INDIRECT);
	ck_assert_uint_eq(a->ncycles, 0);
	ck_assert_uint_eq(a->ngroups, 2);
	ck_assert_int_eq(a->groups[0].cls, HC_CLASS_INDIRECT);
	ck_assert_uint_eq(a->groups[0].first_block, 0);
	ck_assert_uint_eq(a->groups[1].first_block, n - 1);
	hc_analysis_free(a);
	ts_free(t);
}
END_TEST

Suite *suite_graph(void)
{
	Suite *s = suite_create("graph");
	TCase *tc = tcase_create("graph");
	TCase *big = tcase_create("large");

	tcase_add_test(tc, test_graph_build_lists_successors_and_predecessors);
	tcase_add_test(tc, test_graph_build_rejects_edge_out_of_range);
	tcase_add_test(tc, test_analyze_rejects_stack_out_of_range);
	tcase_add_test(tc, test_collect_levels_start_interior_and_unreachable);
	tcase_add_test(tc, test_collect_two_node_cycle_is_unreachable);
	tcase_add_test(tc, test_collect_rooted_cycle_is_not_leaked);
	tcase_add_test(tc, test_collect_cycle_behind_interior_pointer_is_possible);
	tcase_add_test(tc, test_collect_new_array_cookie_pointer_counts_as_start);
	tcase_add_test(tc, test_collect_parent_child_with_rooted_parent_is_not_leaked);
	tcase_add_test(tc, test_scc_components_in_reverse_topological_order);
	tcase_add_test(tc, test_analyze_no_blocks_gives_empty_result);
	tcase_add_test(tc, test_analyze_single_rooted_block_is_reachable);
	tcase_add_test(tc, test_analyze_unrooted_block_is_direct_leak);
	tcase_add_test(tc, test_analyze_leaked_chain_is_one_direct_two_indirect);
	tcase_add_test(tc, test_analyze_self_loop_is_cycle_of_one);
	tcase_add_test(tc, test_analyze_two_node_cycle_is_one_root_cycle);
	tcase_add_test(tc, test_analyze_three_cycle_members_in_cycle_order);
	tcase_add_test(tc, test_analyze_ring_with_chord_members_follow_the_ring);
	tcase_add_test(tc, test_analyze_nested_cycles_inner_is_indirect_and_retained);
	tcase_add_test(tc, test_analyze_tree_hanging_off_cycle_is_indirect_and_retained);
	tcase_add_test(tc, test_analyze_cycle_retains_diamond_below_it);
	tcase_add_test(tc, test_analyze_cycle_does_not_retain_shared_block);
	tcase_add_test(tc, test_analyze_direct_leak_into_cycle_makes_cycle_indirect);
	tcase_add_test(tc, test_analyze_groups_by_stack_sorted_by_bytes);
	tcase_add_test(tc, test_analyze_cycles_sorted_by_retained_bytes);
	tcase_add_test(tc, test_leak_class_names_match_report_vocabulary);
	suite_add_tcase(s, tc);
	/* Sanitizer builds are several times slower. */
	tcase_set_timeout(big, 120);
	tcase_add_test(big, test_analyze_100k_leaked_ring_is_one_cycle_retaining_all);
	tcase_add_test(big, test_analyze_1m_leaked_chain_is_one_direct_rest_indirect);
	suite_add_tcase(s, big);
	return s;
}
