/* SPDX-License-Identifier: MIT */
/*
 * The stack depot: ids are equal exactly when stacks are, frames round-trip
 * through get, the depot scales to hundreds of thousands of stacks, racing
 * threads agree on every id, and running out of memory yields HC_STACK_NONE
 * without breaking the stacks already stored.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "hc.h"
#include "stackdepot.h"

/* Fills pcs with a stack unique to seed, of 1..40 frames; returns its length. */
static unsigned make_stack(uintptr_t *pcs, uint32_t seed)
{
	unsigned n = 1 + seed % 40, i;

	for (i = 0; i < n; i++)
		pcs[i] = 0x400000u + (uintptr_t)seed * 0x1000u + i * 8u;
	return n;
}

static bool frames_eq(const struct hc_stackdepot *d, uint32_t id,
		      const uintptr_t *pcs, unsigned n)
{
	unsigned got_n = 12345;
	const uintptr_t *got = hc_stackdepot_get(d, id, &got_n);

	return got && got_n == n && memcmp(got, pcs, n * sizeof(*pcs)) == 0;
}

static void assert_frames(const struct hc_stackdepot *d, uint32_t id,
			  const uintptr_t *pcs, unsigned n)
{
	unsigned got_n = 12345;
	const uintptr_t *got = hc_stackdepot_get(d, id, &got_n);

	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(got_n, n);
	ck_assert_int_eq(memcmp(got, pcs, n * sizeof(*pcs)), 0);
}

START_TEST(test_stackdepot_equal_stacks_equal_ids)
{
	struct hc_stackdepot *d = hc_stackdepot_new();
	uintptr_t a[3] = { 0x1000, 0x2000, 0x3000 };
	uintptr_t a2[3] = { 0x1000, 0x2000, 0x3000 };
	uintptr_t b[3] = { 0x1000, 0x2000, 0x3001 };
	uint32_t ia, ia2, ib, ip;

	ck_assert_ptr_nonnull(d);
	ia = hc_stackdepot_put(d, a, 3);
	ia2 = hc_stackdepot_put(d, a2, 3);
	ib = hc_stackdepot_put(d, b, 3);
	/* A prefix of a stack is a different stack. */
	ip = hc_stackdepot_put(d, a, 2);
	ck_assert_uint_ne(ia, HC_STACK_NONE);
	ck_assert_uint_eq(ia, ia2);
	ck_assert_uint_ne(ib, HC_STACK_NONE);
	ck_assert_uint_ne(ia, ib);
	ck_assert_uint_ne(ip, ia);
	ck_assert_uint_ne(ip, ib);
	ck_assert_uint_eq(hc_stackdepot_count(d), 3);
	assert_frames(d, ia, a, 3);
	assert_frames(d, ib, b, 3);
	assert_frames(d, ip, a, 2);
	hc_stackdepot_free(d);
}
END_TEST

START_TEST(test_stackdepot_empty_stack_and_unknown_ids)
{
	struct hc_stackdepot *d = hc_stackdepot_new();
	uintptr_t a[1] = { 0x1234 };
	unsigned n = 99;
	uint32_t id;

	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(hc_stackdepot_put(d, a, 0), HC_STACK_NONE);
	ck_assert_uint_eq(hc_stackdepot_count(d), 0);
	ck_assert_ptr_null(hc_stackdepot_get(d, HC_STACK_NONE, &n));
	ck_assert_uint_eq(n, 0);
	id = hc_stackdepot_put(d, a, 1);
	ck_assert_uint_eq(id, 1);
	n = 99;
	ck_assert_ptr_null(hc_stackdepot_get(d, id + 1, &n));
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(hc_stackdepot_get(d, UINT32_MAX, &n));
	ck_assert_ptr_null(hc_stackdepot_get(d, 1u << 28, &n));
	hc_stackdepot_free(d);
}
END_TEST

START_TEST(test_stackdepot_clamps_at_max_frames)
{
	struct hc_stackdepot *d = hc_stackdepot_new();
	uintptr_t pcs[HC_STACK_MAX_FRAMES + 44];
	unsigned i;
	uint32_t long_id, max_id, shorter_id;

	ck_assert_ptr_nonnull(d);
	for (i = 0; i < HC_ARRAY_SIZE(pcs); i++)
		pcs[i] = 0x7f0000000000u + i * 16u;
	long_id = hc_stackdepot_put(d, pcs, HC_ARRAY_SIZE(pcs));
	max_id = hc_stackdepot_put(d, pcs, HC_STACK_MAX_FRAMES);
	shorter_id = hc_stackdepot_put(d, pcs, HC_STACK_MAX_FRAMES - 1);
	ck_assert_uint_ne(long_id, HC_STACK_NONE);
	ck_assert_uint_eq(long_id, max_id);
	ck_assert_uint_ne(shorter_id, long_id);
	assert_frames(d, long_id, pcs, HC_STACK_MAX_FRAMES);
	hc_stackdepot_free(d);
}
END_TEST

START_TEST(test_stackdepot_get_round_trips_and_frames_are_copied)
{
	struct hc_stackdepot *d = hc_stackdepot_new();
	uintptr_t pcs[5] = { 0xdead0, 0xbeef0, 0xcafe0, 0xf00d0, 0x1 };
	uintptr_t saved[5];
	uint64_t before;
	uint32_t id;

	ck_assert_ptr_nonnull(d);
	before = hc_stackdepot_bytes(d);
	memcpy(saved, pcs, sizeof(pcs));
	id = hc_stackdepot_put(d, pcs, 5);
	/* The caller's buffer is reused for the next unwind. */
	memset(pcs, 0, sizeof(pcs));
	assert_frames(d, id, saved, 5);
	ck_assert_uint_gt(hc_stackdepot_bytes(d), before);
	hc_stackdepot_free(d);
}
END_TEST

START_TEST(test_stackdepot_200000_distinct_stacks_all_retrievable)
{
	enum { N = 200000 };
	struct hc_stackdepot *d = hc_stackdepot_new();
	uint32_t *ids = calloc(N, sizeof(*ids));
	uintptr_t pcs[64];
	uint32_t i, bad = 0;
	unsigned n;

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(ids);
	/* ck_assert costs a system call each: count failures in the loops,
	 * assert once after. */
	for (i = 0; i < N; i++) {
		n = make_stack(pcs, i);
		ids[i] = hc_stackdepot_put(d, pcs, n);
		/* Single-threaded, ids are handed out in order. */
		bad += ids[i] != i + 1;
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(hc_stackdepot_count(d), N);
	for (i = 0; i < N; i++) {
		n = make_stack(pcs, i);
		bad += !frames_eq(d, ids[i], pcs, n);
		bad += hc_stackdepot_put(d, pcs, n) != ids[i];
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(hc_stackdepot_count(d), N);
	free(ids);
	hc_stackdepot_free(d);
}
END_TEST

enum { SHARED = 20000, OWN = 5000, THREADS = 4 };

struct racer {
	struct hc_stackdepot *d;
	pthread_barrier_t *start;
	unsigned t;
	uint32_t shared_ids[SHARED];
	uint32_t own_ids[OWN];
	uint32_t mismatches;
};

static void *racer_main(void *arg)
{
	struct racer *r = arg;
	uintptr_t pcs[64];
	unsigned i, n;

	pthread_barrier_wait(r->start);
	/* First half: every thread walks the shared stacks in the same order,
	 * so they race to insert the very same stack. Second half: each starts
	 * at its own offset. Own stacks are interleaved throughout. */
	for (i = 0; i < SHARED; i++) {
		unsigned k = i < SHARED / 2 ? i :
			SHARED / 2 + (i + r->t * 2500) % (SHARED / 2);

		n = make_stack(pcs, k);
		r->shared_ids[k] = hc_stackdepot_put(r->d, pcs, n);
		if (i % 4 == 0) {
			unsigned o = i / 4;

			n = make_stack(pcs, SHARED + r->t * OWN + o);
			r->own_ids[o] = hc_stackdepot_put(r->d, pcs, n);
		}
	}
	/* Ids learnt from put resolve in get, even while others insert. */
	for (i = 0; i < SHARED; i++) {
		const uintptr_t *got;
		unsigned got_n;

		n = make_stack(pcs, i);
		got = hc_stackdepot_get(r->d, r->shared_ids[i], &got_n);
		if (!got || got_n != n || memcmp(got, pcs, n * sizeof(*pcs)))
			r->mismatches++;
	}
	return NULL;
}

START_TEST(test_stackdepot_concurrent_puts_agree_on_ids)
{
	struct hc_stackdepot *d = hc_stackdepot_new();
	struct racer *r = calloc(THREADS, sizeof(*r));
	pthread_t th[THREADS];
	pthread_barrier_t start;
	unsigned char *seen;
	uintptr_t pcs[64];
	unsigned t, i, n;
	uint32_t total = SHARED + THREADS * OWN, bad = 0;

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(r);
	pthread_barrier_init(&start, NULL, THREADS);
	for (t = 0; t < THREADS; t++) {
		r[t].d = d;
		r[t].start = &start;
		r[t].t = t;
		ck_assert_int_eq(pthread_create(&th[t], NULL, racer_main, &r[t]), 0);
	}
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&start);

	ck_assert_uint_eq(hc_stackdepot_count(d), total);
	seen = calloc(total + 1, 1);
	ck_assert_ptr_nonnull(seen);
	for (i = 0; i < SHARED; i++) {
		uint32_t id = r[0].shared_ids[i];

		if (id < 1 || id > total || seen[id]) {
			bad++;
			continue;
		}
		for (t = 1; t < THREADS; t++)
			bad += r[t].shared_ids[i] != id;
		seen[id] = 1;
		n = make_stack(pcs, i);
		bad += !frames_eq(d, id, pcs, n);
	}
	ck_assert_uint_eq(bad, 0);
	for (t = 0; t < THREADS; t++) {
		ck_assert_uint_eq(r[t].mismatches, 0);
		for (i = 0; i < OWN; i++) {
			uint32_t id = r[t].own_ids[i];

			if (id < 1 || id > total || seen[id]) {
				bad++;
				continue;
			}
			seen[id] = 1;
			n = make_stack(pcs, SHARED + t * OWN + i);
			bad += !frames_eq(d, id, pcs, n);
		}
	}
	ck_assert_uint_eq(bad, 0);
	free(seen);
	free(r);
	hc_stackdepot_free(d);
}
END_TEST

/* An allocator that fails once armed; frees go to libc as usual. */
static int fail_allocs;

static void *failing_alloc(size_t n)
{
	return fail_allocs ? NULL : malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
	return fail_allocs ? NULL : realloc(p, n);
}

static const struct hc_mem_ops failing_ops = {
	.alloc = failing_alloc,
	.realloc = failing_realloc,
	.free = free,
};

START_TEST(test_stackdepot_out_of_memory_gives_none_and_keeps_old_stacks)
{
	struct hc_stackdepot *d;
	uintptr_t a[2] = { 0x10, 0x20 }, b[2] = { 0x30, 0x40 };
	uint32_t ia, ib;

	hc_mem_set_ops(&failing_ops);
	fail_allocs = 1;
	ck_assert_ptr_null(hc_stackdepot_new());
	fail_allocs = 0;
	d = hc_stackdepot_new();
	ck_assert_ptr_nonnull(d);
	ia = hc_stackdepot_put(d, a, 2);
	ck_assert_uint_ne(ia, HC_STACK_NONE);
	fail_allocs = 1;
	ck_assert_uint_eq(hc_stackdepot_put(d, b, 2), HC_STACK_NONE);
	ck_assert_uint_eq(hc_stackdepot_put(d, a, 2), ia);
	fail_allocs = 0;
	ib = hc_stackdepot_put(d, b, 2);
	ck_assert_uint_ne(ib, HC_STACK_NONE);
	ck_assert_uint_ne(ib, ia);
	assert_frames(d, ib, b, 2);
	hc_stackdepot_free(d);
	hc_mem_set_ops(NULL);
}
END_TEST

Suite *suite_stackdepot(void)
{
	Suite *s = suite_create("stackdepot");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stackdepot_equal_stacks_equal_ids);
	tcase_add_test(tc, test_stackdepot_empty_stack_and_unknown_ids);
	tcase_add_test(tc, test_stackdepot_clamps_at_max_frames);
	tcase_add_test(tc, test_stackdepot_get_round_trips_and_frames_are_copied);
	tcase_add_test(tc, test_stackdepot_200000_distinct_stacks_all_retrievable);
	tcase_add_test(tc, test_stackdepot_concurrent_puts_agree_on_ids);
	tcase_add_test(tc, test_stackdepot_out_of_memory_gives_none_and_keeps_old_stacks);
	suite_add_tcase(s, tc);
	return s;
}
