/* SPDX-License-Identifier: MIT */
/*
 * The pairing of recorded g_object_ref/unref calls (refhistory.c): which
 * reference each unref releases, what stays held, and how counts the
 * calls do not explain (unseen calls inside libgobject, calls the shim
 * dropped, hostile values) are accounted for. Also the reports' use of it:
 * the text and JSON of leaked objects with histories, against
 * doc/report-schema.json when python3-jsonschema is there.
 */
#define _GNU_SOURCE 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refhistory.h"
#include "report.h"
#include "suites.h"

#define SCHEMA_PATH HC_TEST_DATA "/../../doc/report-schema.json"
#define NONE HC_REFHIST_NONE

static struct hc_ref_event ev(uint8_t kind, uint32_t count, uint8_t flags)
{
	static uint64_t seq;

	return (struct hc_ref_event){ .seq = ++seq, .stack = 0, .tid = 7, .count = count,
				      .kind = kind, .flags = flags };
}

static struct hc_ref_history hist(const struct hc_ref_event *e, uint32_t n, uint32_t count)
{
	return (struct hc_ref_history){ .block = 0, .nevents = n, .gap = n, .count = count,
					.events = e };
}

START_TEST(test_refhist_balanced_pair_released_leaked_ref_held)
{
	enum { A = 0x11, B = 0x21, MAKER = 0x31 };
	struct hc_ref_event e[4] = {
		ev(HC_REF_REF, 1, 0), ev(HC_REF_UNREF, 2, 0),	/* borrow() */
		ev(HC_REF_REF, 1, 0),				/* keep_forever() */
		ev(HC_REF_UNREF, 2, 0),				/* the maker drops its own */
	};
	const uint64_t keys[4] = { A, A, B, MAKER };
	struct hc_ref_history h = hist(e, 4, 1);
	struct hc_refhist r;

	ck_assert_int_eq(hc_refhist_pair(&h, keys, MAKER, &r), HC_OK);
	ck_assert_uint_eq(r.steps[0].fate, HC_REFHIST_RELEASED);
	ck_assert_uint_eq(r.steps[0].released_by, 1);
	ck_assert_uint_eq(r.steps[1].releases, 0);
	ck_assert_uint_eq(r.steps[1].released_origin, HC_REFHIST_CALL);
	ck_assert_uint_eq(r.steps[2].fate, HC_REFHIST_HELD);
	ck_assert_uint_eq(r.steps[3].released_origin, HC_REFHIST_INITIAL);
	ck_assert_uint_eq(r.steps[3].releases, NONE);
	ck_assert(r.has_initial);
	ck_assert_uint_eq(r.initial_fate, HC_REFHIST_RELEASED);
	ck_assert_uint_eq(r.initial_released_by, 3);
	ck_assert_uint_eq(r.nheld, 1);
	ck_assert_uint_eq(r.held[0].origin, HC_REFHIST_CALL);
	ck_assert_uint_eq(r.held[0].event, 2);
	ck_assert_uint_eq(r.held[0].n, 1);
	ck_assert_uint_eq(r.held_total, 1);
	ck_assert_uint_eq(r.unseen_refs + r.unseen_unrefs + r.unmatched_unrefs, 0);
	ck_assert(!r.dropped);
	hc_refhist_fini(&r);
	ck_assert_ptr_null(r.steps);
}
END_TEST

START_TEST(test_refhist_same_function_beats_most_recent)
{
	enum { A = 0x11, B = 0x21 };
	struct hc_ref_event e[3] = {
		ev(HC_REF_REF, 1, 0), ev(HC_REF_REF, 2, 0), ev(HC_REF_UNREF, 3, 0),
	};
	const uint64_t keys[3] = { A, B, A };
	struct hc_ref_history h = hist(e, 3, 2);
	struct hc_refhist r;

	ck_assert_int_eq(hc_refhist_pair(&h, keys, 0, &r), HC_OK);
	ck_assert_uint_eq(r.steps[2].releases, 0);
	ck_assert_uint_eq(r.steps[0].released_by, 2);
	ck_assert_uint_eq(r.nheld, 2);
	ck_assert_uint_eq(r.held[0].origin, HC_REFHIST_INITIAL);
	ck_assert_uint_eq(r.held[1].event, 1);
	hc_refhist_fini(&r);
}
END_TEST

START_TEST(test_refhist_most_recent_without_a_same_function_ref)
{
	struct hc_ref_event e[3] = {
		ev(HC_REF_REF, 1, 0), ev(HC_REF_REF, 2, 0), ev(HC_REF_UNREF, 3, 0),
	};
	const uint64_t keys[3] = { 0x11, 0x21, 0x31 };
	struct hc_ref_history h = hist(e, 3, 2);
	struct hc_refhist r;

	/* Unknown functions (no keys) and different ones behave the same. */
	ck_assert_int_eq(hc_refhist_pair(&h, NULL, 0, &r), HC_OK);
	ck_assert_uint_eq(r.steps[2].releases, 1);
	ck_assert_uint_eq(r.nheld, 2);
	ck_assert_uint_eq(r.held[1].event, 0);
	hc_refhist_fini(&r);
	ck_assert_int_eq(hc_refhist_pair(&h, keys, 0x41, &r), HC_OK);
	ck_assert_uint_eq(r.steps[2].releases, 1);
	hc_refhist_fini(&r);
}
END_TEST

/* g_object_new, hand a reference to a container, drop ours: the
 * container's is the one held, although the ref is the more recent. */
START_TEST(test_refhist_creator_reference_released_first)
{
	enum { MAKER = 0x51 };
	struct hc_ref_event e[2] = { ev(HC_REF_REF, 1, 0), ev(HC_REF_UNREF, 2, 0) };
	const uint64_t keys[2] = { MAKER, MAKER };
	struct hc_ref_history h = hist(e, 2, 1);
	struct hc_refhist r;

	ck_assert_int_eq(hc_refhist_pair(&h, keys, MAKER, &r), HC_OK);
	ck_assert_uint_eq(r.steps[1].released_origin, HC_REFHIST_INITIAL);
	ck_assert_uint_eq(r.initial_fate, HC_REFHIST_RELEASED);
	ck_assert_uint_eq(r.nheld, 1);
	ck_assert_uint_eq(r.held[0].event, 0);
	hc_refhist_fini(&r);
}
END_TEST

START_TEST(test_refhist_unseen_refs_and_releases_accounted)
{
	/* 1 -> 2 by a call; 3 before the next: one unseen reference; 2
	 * before the unref, where 4 were expected: two unseen releases. */
	struct hc_ref_event e[3] = {
		ev(HC_REF_REF, 1, 0), ev(HC_REF_REF, 3, 0), ev(HC_REF_UNREF, 2, 0),
	};
	struct hc_ref_history h = hist(e, 3, 1);
	struct hc_refhist r;

	ck_assert_int_eq(hc_refhist_pair(&h, NULL, 0, &r), HC_OK);
	ck_assert_uint_eq(r.unseen_refs, 1);
	ck_assert_uint_eq(r.unseen_unrefs, 2);
	/* The unseen release undoes the unseen reference first, then the
	 * most recent one; the recorded unref takes the next. */
	ck_assert_uint_eq(r.steps[1].fate, HC_REFHIST_RELEASED_UNSEEN);
	ck_assert_uint_eq(r.steps[2].releases, 0);
	ck_assert_uint_eq(r.nheld, 1);
	ck_assert_uint_eq(r.held[0].origin, HC_REFHIST_INITIAL);
	ck_assert_uint_eq(r.held_total, 1);
	hc_refhist_fini(&r);
}
END_TEST

START_TEST(test_refhist_first_count_above_one_is_unseen)
{
	struct hc_ref_event e[1] = { ev(HC_REF_REF, 3, 0) };
	struct hc_ref_history h = hist(e, 1, HC_REF_COUNT_UNKNOWN);
	struct hc_refhist r;

	ck_assert_int_eq(hc_refhist_pair(&h, NULL, 0, &r), HC_OK);
	ck_assert_uint_eq(r.unseen_refs, 2);
	ck_assert_uint_eq(r.nheld, 3);
	ck_assert_uint_eq(r.held[0].origin, HC_REFHIST_INITIAL);
	ck_assert_uint_eq(r.held[1].origin, HC_REFHIST_UNSEEN);
	ck_assert_uint_eq(r.held[1].n, 2);
	ck_assert_uint_eq(r.held[2].origin, HC_REFHIST_CALL);
	ck_assert_uint_eq(r.held_total, 4);
	hc_refhist_fini(&r);
}
END_TEST

START_TEST(test_refhist_floating_reference_taken_over)
{
	enum { SINKER = 0x61, MAKER = 0x71 };
	struct hc_ref_event e[3] = {
		ev(HC_REF_SINK, 1, HC_REF_FLOATING),	/* adopts g_object_new's */
		ev(HC_REF_SINK, 1, 0),			/* not floating: a reference */
		ev(HC_REF_TAKE, 2, 0),			/* not floating: nothing */
	};
	const uint64_t keys[3] = { SINKER, MAKER, MAKER };
	struct hc_ref_history h = hist(e, 3, 2);
	struct hc_refhist r;

	ck_assert_int_eq(hc_refhist_delta(&e[0]), 0);
	ck_assert_int_eq(hc_refhist_delta(&e[1]), 1);
	ck_assert_int_eq(hc_refhist_delta(&e[2]), 0);
	ck_assert_int_eq(hc_refhist_pair(&h, keys, MAKER, &r), HC_OK);
	ck_assert_uint_eq(r.initial_fate, HC_REFHIST_NA);
	ck_assert_uint_eq(r.steps[0].fate, HC_REFHIST_HELD);
	ck_assert_uint_eq(r.steps[1].fate, HC_REFHIST_HELD);
	ck_assert_uint_eq(r.steps[2].fate, HC_REFHIST_NA);
	ck_assert_uint_eq(r.nheld, 2);
	ck_assert_uint_eq(r.held[0].origin, HC_REFHIST_INITIAL);
	ck_assert_uint_eq(r.held[0].event, 0);
	ck_assert_uint_eq(r.held[1].origin, HC_REFHIST_CALL);
	ck_assert_uint_eq(r.unseen_refs + r.unseen_unrefs, 0);
	hc_refhist_fini(&r);
}
END_TEST

START_TEST(test_refhist_dropped_calls_counted_and_flagged)
{
	struct hc_ref_event e[2] = { ev(HC_REF_REF, 1, 0), ev(HC_REF_UNREF, 3, 0) };
	struct hc_ref_history h = hist(e, 2, 2);
	struct hc_refhist r;

	/* Between the two: 5 calls dropped, 3 refs and 2 unrefs (1 other). */
	h.gap = 1;
	h.dropped = 6;
	h.dropped_refs = 3;
	h.dropped_unrefs = 2;
	ck_assert_int_eq(hc_refhist_pair(&h, NULL, 0, &r), HC_OK);
	ck_assert(r.dropped);
	ck_assert_uint_eq(r.unseen_refs + r.unseen_unrefs, 0);
	ck_assert_uint_eq(r.steps[1].released_origin, HC_REFHIST_DROPPED);
	ck_assert_uint_eq(r.steps[0].fate, HC_REFHIST_HELD);
	ck_assert_uint_eq(r.nheld, 2);
	ck_assert_uint_eq(r.held_total, 2);
	hc_refhist_fini(&r);

	/* Dropped releases can release recorded references too. */
	h.dropped_refs = 0;
	h.dropped_unrefs = 1;
	e[1].count = 1;
	h.count = 0;
	ck_assert_int_eq(hc_refhist_pair(&h, NULL, 0, &r), HC_OK);
	ck_assert_uint_eq(r.steps[0].fate, HC_REFHIST_RELEASED_DROPPED);
	ck_assert_uint_eq(r.steps[1].released_origin, HC_REFHIST_INITIAL);
	ck_assert_uint_eq(r.nheld, 0);
	hc_refhist_fini(&r);

	/* A gap after the last call is applied at the end. */
	h.gap = 2;
	h.dropped = 1;
	h.dropped_refs = 1;
	h.dropped_unrefs = 0;
	h.count = HC_REF_COUNT_UNKNOWN;
	e[1].count = 2;
	ck_assert_int_eq(hc_refhist_pair(&h, NULL, 0, &r), HC_OK);
	ck_assert_uint_eq(r.nheld, 2);
	ck_assert_uint_eq(r.held[1].origin, HC_REFHIST_DROPPED);
	hc_refhist_fini(&r);
}
END_TEST

START_TEST(test_refhist_final_count_reconciled)
{
	struct hc_ref_event e[1] = { ev(HC_REF_REF, 1, 0) };
	struct hc_ref_history h = hist(e, 1, 5);
	struct hc_refhist r;

	ck_assert_int_eq(hc_refhist_pair(&h, NULL, 0, &r), HC_OK);
	ck_assert_uint_eq(r.unseen_refs, 3);
	ck_assert_uint_eq(r.held_total, 5);
	ck_assert_uint_eq(r.held[r.nheld - 1].origin, HC_REFHIST_UNSEEN);
	hc_refhist_fini(&r);
	h.count = 0;
	ck_assert_int_eq(hc_refhist_pair(&h, NULL, 0, &r), HC_OK);
	ck_assert_uint_eq(r.unseen_unrefs, 2);
	ck_assert_uint_eq(r.nheld, 0);
	ck_assert_uint_eq(r.steps[0].fate, HC_REFHIST_RELEASED_UNSEEN);
	ck_assert_uint_eq(r.initial_fate, HC_REFHIST_RELEASED_UNSEEN);
	hc_refhist_fini(&r);
}
END_TEST

/* Counts are u32 from a file: four billion unseen references cost one
 * entry, and an unref with nothing open is counted, not a crash. */
START_TEST(test_refhist_hostile_counts_stay_small)
{
	struct hc_ref_event e[3] = {
		ev(HC_REF_REF, UINT32_MAX - 1, 0), ev(HC_REF_UNREF, 0, 0),
		ev(HC_REF_UNREF, UINT32_MAX, 0),
	};
	struct hc_ref_history h = hist(e, 3, 0);
	struct hc_refhist r;

	ck_assert_int_eq(hc_refhist_pair(&h, NULL, 0, &r), HC_OK);
	ck_assert(r.steps[1].unmatched);
	ck_assert_uint_eq(r.unmatched_unrefs, 1);
	ck_assert_uint_eq(r.unseen_refs, (uint64_t)UINT32_MAX - 2 + UINT32_MAX);
	ck_assert_uint_eq(r.nheld, 0);
	ck_assert_uint_eq(r.held_total, 0);
	hc_refhist_fini(&r);
}
END_TEST

START_TEST(test_refhist_rejects_what_no_reader_accepts)
{
	struct hc_ref_event e[1] = { ev(HC_REF_REF, 1, 0) };
	struct hc_ref_history h = hist(e, 1, 1);
	struct hc_refhist r;

	h.nevents = 0;
	ck_assert_int_eq(hc_refhist_pair(&h, NULL, 0, &r), HC_ERR_ARG);
	ck_assert_ptr_null(r.steps);
	h.nevents = 1;
	h.gap = 2;
	ck_assert_int_eq(hc_refhist_pair(&h, NULL, 0, &r), HC_ERR_ARG);
	ck_assert_str_eq(hc_refhist_call_name(HC_REF_SINK), "g_object_ref_sink");
	ck_assert_str_eq(hc_refhist_call_name(200), "unknown");
}
END_TEST

START_TEST(test_refhist_find_by_block)
{
	struct hc_ref_event e[1] = { ev(HC_REF_REF, 1, 0) };
	struct hc_ref_history hs[3] = { hist(e, 1, 1), hist(e, 1, 1), hist(e, 1, 1) };
	struct hc_snapshot s;

	memset(&s, 0, sizeof(s));
	ck_assert_ptr_null(hc_refhist_find(&s, 0));
	hs[0].block = 1;
	hs[1].block = 4;
	hs[2].block = 9;
	s.nrefhists = 3;
	s.refhists = hs;
	ck_assert_ptr_eq(hc_refhist_find(&s, 1), &hs[0]);
	ck_assert_ptr_eq(hc_refhist_find(&s, 4), &hs[1]);
	ck_assert_ptr_eq(hc_refhist_find(&s, 9), &hs[2]);
	ck_assert_ptr_null(hc_refhist_find(&s, 0));
	ck_assert_ptr_null(hc_refhist_find(&s, 5));
	ck_assert_ptr_null(hc_refhist_find(&s, 10));
}
END_TEST

/* ---- the reports ---- */

struct rfx {
	struct hc_block blocks[4];
	struct hc_edge edges[2];
	struct hc_ref_event ev0[3], ev1[2];
	struct hc_ref_history hist[2];
	struct hc_snapshot snap;
	uint8_t block_class[4];
	uint32_t block_cycle[4];
	struct hc_leak_group groups[2];
	uint32_t members[2];
	uint64_t cycle_edges[2];
	struct hc_cycle cycles[1];
	struct hc_analysis an;
};

/* Block 0 a direct leak with a history (calls dropped, an unseen
 * reference, four never released); blocks 1 and 2 a cycle, 1 with a
 * history; block 3 reachable, with a history the reports leave out. */
static void rfx_init(struct rfx *f)
{
	memset(f, 0, sizeof(*f));
	f->blocks[0] = (struct hc_block){ .addr = 0x1000, .size = 40, .seq = 1 };
	f->blocks[1] = (struct hc_block){ .addr = 0x2000, .size = 48, .seq = 2 };
	f->blocks[2] = (struct hc_block){ .addr = 0x3000, .size = 48, .seq = 3 };
	f->blocks[3] = (struct hc_block){ .addr = 0x4000, .size = 32, .seq = 4, .root_refs = 1,
		.root_kind = HC_ROOT_DATA };
	f->edges[0] = (struct hc_edge){ .from = 1, .to = 2, .from_offset = 16 };
	f->edges[1] = (struct hc_edge){ .from = 2, .to = 1, .from_offset = 16 };
	f->ev0[0] = (struct hc_ref_event){ .seq = 1, .tid = 5, .count = 1, .kind = HC_REF_REF };
	f->ev0[1] = (struct hc_ref_event){ .seq = 7, .tid = 5, .count = 4, .kind = HC_REF_REF };
	f->ev0[2] = (struct hc_ref_event){ .seq = 8, .tid = 6, .count = 5, .kind = HC_REF_UNREF };
	f->ev1[0] = (struct hc_ref_event){ .seq = 2, .tid = 5, .count = 1, .kind = HC_REF_SINK,
		.flags = HC_REF_FLOATING };
	f->ev1[1] = (struct hc_ref_event){ .seq = 3, .tid = 5, .count = 1, .kind = HC_REF_TAKE };
	f->hist[0] = (struct hc_ref_history){ .block = 0, .offset = 8, .count = 4, .nevents = 3,
		.gap = 1, .dropped = 3, .dropped_refs = 2, .dropped_unrefs = 1, .events = f->ev0 };
	f->hist[1] = (struct hc_ref_history){ .block = 1, .count = 1, .nevents = 2, .gap = 2,
		.events = f->ev1 };
	f->snap = (struct hc_snapshot){ .version = HC_SNAPSHOT_VERSION, .pid = 77, .ppid = 1,
		.reason = HC_REASON_EXIT, .nthreads = 1, .exe = "/bin/app", .cmdline = "app",
		.nstacks = 1, .nblocks = 4, .blocks = f->blocks, .nedges = 2, .edges = f->edges,
		.ref_lost = 3, .nrefhists = 2, .refhists = f->hist };
	f->block_class[0] = HC_CLASS_DIRECT;
	f->block_class[1] = f->block_class[2] = HC_CLASS_CYCLE;
	f->block_cycle[1] = f->block_cycle[2] = 1;
	f->groups[0] = (struct hc_leak_group){ HC_CLASS_CYCLE, 0, 2, 96, 1, NULL };
	f->groups[1] = (struct hc_leak_group){ HC_CLASS_DIRECT, 0, 1, 40, 0, NULL };
	f->members[0] = 1;
	f->members[1] = 2;
	f->cycle_edges[1] = 1;
	f->cycles[0] = (struct hc_cycle){ .nmembers = 2, .members = f->members, .nedges = 2,
		.edges = f->cycle_edges, .bytes = 96, .retained_bytes = 96, .retained_blocks = 2,
		.is_root = true };
	f->an = (struct hc_analysis){ .nblocks = 4, .block_class = f->block_class,
		.block_cycle = f->block_cycle, .ngroups = 2, .groups = f->groups, .ncycles = 1,
		.cycles = f->cycles };
	f->an.totals[HC_CLASS_DIRECT] = (struct hc_class_total){ 1, 40 };
	f->an.totals[HC_CLASS_CYCLE] = (struct hc_class_total){ 2, 96 };
	f->an.totals[HC_CLASS_REACHABLE] = (struct hc_class_total){ 1, 32 };
}

static char *rfx_render(struct rfx *f, bool json)
{
	struct hc_report_input in = { "r.hcs", &f->snap, &f->an, NULL };
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(mem);
	ck_assert_int_eq(json ? hc_report_json(mem, &in, 1, NULL) : hc_report_text(mem, &in, 1, NULL),
			 HC_OK);
	fclose(mem);
	return buf;
}

START_TEST(test_refhist_text_report_lists_unreleased_and_notes)
{
	struct rfx f;
	char *text;

	rfx_init(&f);
	text = rfx_render(&f, false);
	ck_assert_msg(strstr(text, "References of 0x1008: 6 g_object_ref/unref call(s) seen, "
			     "count 4 at the snapshot:"), "%.3000s", text);
	ck_assert_msg(strstr(text, "... 3 call(s) not kept (2 took a reference, 1 released one) ..."),
		      "%.3000s", text);
	ck_assert_msg(strstr(text, "References never released (4):"), "%.3000s", text);
	ck_assert_msg(strstr(text, "1 reference(s) taken by calls heapcycle did not keep"), "%.3000s", text);
	ck_assert_msg(strstr(text, "1 reference(s) taken where heapcycle could not see the call"),
		      "%.3000s", text);
	ck_assert_msg(strstr(text, "the initial reference, taken by g_object_new where the object "
			     "was allocated (the allocation stack above)"), "%.3000s", text);
	ck_assert_msg(strstr(text, "note: only the first and the latest calls were kept"), "%.3000s", text);
	ck_assert_msg(strstr(text, "note: the recorded calls do not explain the count (1 reference(s) "
			     "taken, 0 released unseen)"), "%.3000s", text);
	ck_assert_msg(strstr(text, "References of #0 0x2000: 2 g_object_ref/unref call(s) seen"),
		      "%.3000s", text);
	ck_assert_msg(strstr(text, "[0] the floating reference taken over by g_object_ref_sink"),
		      "%.3000s", text);
	ck_assert_msg(strstr(text, "[1]  g_object_take_ref 1 -> 1  (no stack recorded); no change"),
		      "%.3000s", text);
	ck_assert_msg(strstr(text, "note: 3 g_object_ref/unref call(s) were not kept"), "%.3000s", text);
	/* The reachable block's history is not shown. */
	ck_assert_msg(!strstr(text, "0x4000:"), "%.3000s", text);
	free(text);
}
END_TEST

/* A long history (only a hostile file has more than the shim keeps) is
 * printed with its middle elided. */
START_TEST(test_refhist_text_report_elides_long_histories)
{
	struct hc_ref_event many[50];
	struct rfx f;
	char *text;
	uint32_t i;

	rfx_init(&f);
	for (i = 0; i < 50; i++)
		many[i] = (struct hc_ref_event){ .seq = i + 1, .tid = 5, .count = 1 + i % 2,
						 .kind = i % 2 ? HC_REF_UNREF : HC_REF_REF };
	f.hist[0] = (struct hc_ref_history){ .block = 0, .count = 1, .nevents = 50, .gap = 25,
		.dropped = 2, .dropped_refs = 1, .dropped_unrefs = 1, .events = many };
	text = rfx_render(&f, false);
	ck_assert_msg(strstr(text, "    [19] g_object_unref"), "%.3000s", text);
	ck_assert_msg(strstr(text, "    ... 10 more call(s), and the calls not kept, ...\n"
			     "    [30] g_object_ref "), "%.3000s", text);
	ck_assert_msg(!strstr(text, "[20] g_object_ref"), "%.3000s", text);
	ck_assert_msg(strstr(text, "    [49] g_object_unref"), "%.3000s", text);
	free(text);
}
END_TEST

START_TEST(test_refhist_json_report_has_histories_and_matches_schema)
{
	struct rfx f;
	char *text, *script = NULL;
	int rc;

	rfx_init(&f);
	text = rfx_render(&f, true);
	ck_assert_int_gt(asprintf(&script,
		"import json, sys\n"
		"d = json.load(open(sys.argv[1]))\n"
		"refs = d['processes'][0]['references']\n"
		"assert [(r['address'], r['block'], r['class'], r['cycle']) for r in refs] == "
		"[('0x1008', '0x1000', 'direct', None), ('0x2000', '0x2000', 'cycle', 0)], refs\n"
		"a, b = refs\n"
		"assert (a['count'], a['dropped'], a['dropped_refs'], a['dropped_unrefs'], a['gap']) == "
		"(4, 3, 2, 1, 1), a\n"
		"assert [c['call'] for c in a['calls']] == ['g_object_ref', 'g_object_ref', "
		"'g_object_unref'], a\n"
		"assert a['unseen_refs'] == 1 and a['unseen_unrefs'] == 0, a\n"
		"assert a['calls'][2]['releases'] == {'origin': 'call', 'call': 1}, a['calls'][2]\n"
		"assert a['calls'][1]['fate'] == 'released' and a['calls'][1]['released_by'] == 2\n"
		"assert [(u['origin'], u['references'], u['call']) for u in a['unreleased']] == "
		"[('initial', 1, None), ('call', 1, 0), ('dropped', 1, None), ('unseen', 1, None)], "
		"a['unreleased']\n"
		"assert b['initial'] == 'taken_over', b\n"
		"assert b['calls'][0]['floating'] and b['calls'][0]['fate'] == 'held', b\n"
		"assert b['calls'][1]['fate'] is None and b['calls'][1]['releases'] is None, b\n"
		"assert b['unreleased'] == [{'origin': 'initial', 'references': 1, 'call': 0, "
		"'stack': []}], b['unreleased']\n"
		"try:\n"
		"    import jsonschema\n"
		"except ImportError:\n"
		"    sys.exit(77)\n"
		"schema = json.load(open('%s'))\n"
		"jsonschema.Draft202012Validator(schema).validate(d)\n"
		"refs[0]['calls'][0]['fate'] = 'lost'\n"
		"assert not jsonschema.Draft202012Validator(schema).is_valid(d)\n",
		SCHEMA_PATH), 0);
	rc = hc_test_run_python(text, script, NULL);
	if (rc == 77 && !getenv("HC_REQUIRE_JSONSCHEMA"))
		fprintf(stderr, "test_refhist_json_report_has_histories_and_matches_schema: "
			"python3-jsonschema not installed, schema not checked\n");
	else
		ck_assert_msg(rc == 0, "JSON check failed (%d): %.3000s", rc, text);
	free(script);
	free(text);
}
END_TEST

Suite *suite_refhistory(void)
{
	Suite *s = suite_create("refhistory");
	TCase *tc = tcase_create("pairing");
	TCase *rep = tcase_create("reports");

	tcase_add_test(tc, test_refhist_balanced_pair_released_leaked_ref_held);
	tcase_add_test(tc, test_refhist_same_function_beats_most_recent);
	tcase_add_test(tc, test_refhist_most_recent_without_a_same_function_ref);
	tcase_add_test(tc, test_refhist_creator_reference_released_first);
	tcase_add_test(tc, test_refhist_unseen_refs_and_releases_accounted);
	tcase_add_test(tc, test_refhist_first_count_above_one_is_unseen);
	tcase_add_test(tc, test_refhist_floating_reference_taken_over);
	tcase_add_test(tc, test_refhist_dropped_calls_counted_and_flagged);
	tcase_add_test(tc, test_refhist_final_count_reconciled);
	tcase_add_test(tc, test_refhist_hostile_counts_stay_small);
	tcase_add_test(tc, test_refhist_rejects_what_no_reader_accepts);
	tcase_add_test(tc, test_refhist_find_by_block);
	suite_add_tcase(s, tc);
	tcase_add_test(rep, test_refhist_text_report_lists_unreleased_and_notes);
	tcase_add_test(rep, test_refhist_text_report_elides_long_histories);
	tcase_add_test(rep, test_refhist_json_report_has_histories_and_matches_schema);
	tcase_set_timeout(rep, 30);
	suite_add_tcase(s, rep);
	return s;
}
