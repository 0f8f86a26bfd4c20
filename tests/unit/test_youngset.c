/* SPDX-License-Identifier: MIT */
/*
 * A thread's young blocks: records round-trip, a full bucket evicts to the
 * sink so that every record is in exactly one place, the set grows while
 * blocks are evicted young, freed records are found until their way is
 * reused, drain empties it, and the shared table takes a batch of records
 * across its shards.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "hc.h"
#include "blocktable.h"
#include "youngset.h"

static struct hc_block_rec young_rec(uint64_t i)
{
	struct hc_block_rec r;

	memset(&r, 0, sizeof(r));
	r.addr = (uintptr_t)0x55d0c0000000ull + i * 48u;
	r.size = i % 4000 + 1;
	r.seq = i + 1;
	r.stack = (uint32_t)(i % 331);
	r.tid = 7;
	r.kind = (uint8_t)(i % HC_ALLOC_KIND_COUNT);
	r.flags = (uint8_t)(i & 1);
	return r;
}

static void young_assert_same(const struct hc_block_rec *got, const struct hc_block_rec *want)
{
	ck_assert_uint_eq(got->addr, want->addr);
	ck_assert_uint_eq(got->size, want->size);
	ck_assert_uint_eq(got->seq, want->seq);
	ck_assert_uint_eq(got->stack, want->stack);
	ck_assert_uint_eq(got->tid, want->tid);
	ck_assert_uint_eq(got->kind, want->kind);
	ck_assert_uint_eq(got->flags, want->flags);
}

/* A sink that keeps what it is given, or refuses when fail is set. */
struct young_sink {
	struct hc_block_rec *got;
	size_t n, cap;
	bool fail;
};

static int young_sink_fn(const struct hc_slot *slots, size_t n, void *arg)
{
	struct young_sink *s = arg;
	size_t i;

	if (s->fail)
		return HC_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		ck_assert_uint_lt(s->n, s->cap);
		hc_slot_unpack(&s->got[s->n++], &slots[i]);
	}
	return HC_OK;
}

static void young_sink_init(struct young_sink *s, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->got = calloc(cap, sizeof(*s->got));
	ck_assert_ptr_nonnull(s->got);
	s->cap = cap;
}

START_TEST(test_young_round_trip)
{
	struct hc_youngset *ys = hc_youngset_new(16, 16);
	struct young_sink sink;
	struct hc_block_rec out, want;
	uint64_t i;

	ck_assert_ptr_nonnull(ys);
	young_sink_init(&sink, 1000);
	/* 64 records in 16 buckets: a bucket may still fill by chance, so
	 * each record is either in the set or in the sink, never lost. */
	for (i = 0; i < 64; i++) {
		want = young_rec(i);
		ck_assert_int_eq(hc_youngset_put(ys, &want, young_sink_fn, &sink), HC_OK);
	}
	ck_assert_uint_eq(hc_youngset_count(ys) + sink.n, 64);
	for (i = 0; i < 64; i++) {
		bool in_sink = false;
		size_t k;

		want = young_rec(i);
		for (k = 0; k < sink.n; k++)
			in_sink |= sink.got[k].addr == want.addr;
		ck_assert_int_eq(hc_youngset_take(ys, want.addr, &out), !in_sink);
		if (!in_sink) {
			young_assert_same(&out, &want);
		}
		/* A second take finds nothing. */
		ck_assert(!hc_youngset_take(ys, want.addr, NULL));
	}
	ck_assert_uint_eq(hc_youngset_count(ys), 0);
	ck_assert(!hc_youngset_take(ys, 0, NULL));
	free(sink.got);
	hc_youngset_free(ys);
}
END_TEST

START_TEST(test_young_evicts_each_once)
{
	enum { N = 5000 };
	struct hc_youngset *ys = hc_youngset_new(4, 4);	/* 4 buckets, no growth */
	struct young_sink sink;
	unsigned char *seen = calloc(N, 1);
	uint64_t i;
	size_t k;

	ck_assert_ptr_nonnull(ys);
	ck_assert_ptr_nonnull(seen);
	young_sink_init(&sink, N);
	for (i = 0; i < N; i++) {
		struct hc_block_rec r = young_rec(i);

		ck_assert_int_eq(hc_youngset_put(ys, &r, young_sink_fn, &sink), HC_OK);
	}
	ck_assert_uint_le(hc_youngset_count(ys), 4 * HC_YOUNG_WAYS + HC_YOUNG_VICTIMS);
	ck_assert_uint_eq(hc_youngset_count(ys) + sink.n, N);
	for (k = 0; k < sink.n; k++) {
		uint64_t idx = (sink.got[k].addr - young_rec(0).addr) / 48u;

		ck_assert_uint_lt(idx, N);
		ck_assert_int_eq(seen[idx], 0);
		seen[idx] = 1;
		ck_assert_uint_eq(sink.got[k].seq, idx + 1);
	}
	/* What was not evicted is still in the set, and drain hands it over. */
	ck_assert_int_eq(hc_youngset_drain(ys, young_sink_fn, &sink), HC_OK);
	ck_assert_uint_eq(hc_youngset_count(ys), 0);
	ck_assert_uint_eq(sink.n, N);
	memset(seen, 0, N);
	for (k = 0; k < sink.n; k++) {
		uint64_t idx = (sink.got[k].addr - young_rec(0).addr) / 48u;

		ck_assert_int_eq(seen[idx], 0);
		seen[idx] = 1;
	}
	free(seen);
	free(sink.got);
	hc_youngset_free(ys);
}
END_TEST

/* Blocks that die 512 allocations after birth: a set that starts with 16
 * buckets must grow until almost none are evicted before they die. */
START_TEST(test_young_grows_to_lifetime)
{
	enum { LIFE = 512, N = 200000 };
	struct hc_youngset *ys = hc_youngset_new(16, 1024);
	struct young_sink sink;
	uint64_t i, taken_late = 0, evicted_before = 0;

	ck_assert_ptr_nonnull(ys);
	young_sink_init(&sink, N);
	for (i = 0; i < N; i++) {
		struct hc_block_rec r = young_rec(i);

		if (i >= LIFE && !hc_youngset_take(ys, young_rec(i - LIFE).addr, NULL) &&
		    i > N / 2)
			taken_late++;
		ck_assert_int_eq(hc_youngset_put(ys, &r, young_sink_fn, &sink), HC_OK);
		if (i == N / 2)
			evicted_before = sink.n;
	}
	ck_assert_uint_ge(ys->bmask + 1, LIFE / HC_YOUNG_WAYS);
	/* In the second half, fewer than 2% of frees miss the set. */
	ck_assert_uint_lt(taken_late, (N / 2) / 50);
	ck_assert_uint_lt(sink.n - evicted_before, (N / 2) / 50);
	free(sink.got);
	hc_youngset_free(ys);
}
END_TEST

/* An evicted record waiting for the sink is still the set's: taken,
 * flagged, and handed over by drain. */
START_TEST(test_young_victims_are_still_found)
{
	struct hc_youngset *ys = hc_youngset_new(1, 1);	/* one bucket */
	struct young_sink sink;
	struct hc_block_rec r, out;
	uint64_t i;

	ck_assert_ptr_nonnull(ys);
	young_sink_init(&sink, 64);
	for (i = 0; i < HC_YOUNG_WAYS + 3; i++) {
		r = young_rec(i);
		ck_assert_int_eq(hc_youngset_put(ys, &r, young_sink_fn, &sink), HC_OK);
	}
	ck_assert_uint_eq(sink.n, 0);
	ck_assert_uint_eq(hc_youngset_count(ys), HC_YOUNG_WAYS + 3);
	/* The first three were evicted (round robin from way 0). */
	ck_assert(hc_youngset_update_flags(ys, young_rec(1).addr, 0x40, 0, &out));
	ck_assert_uint_eq(out.seq, young_rec(1).seq);
	ck_assert(hc_youngset_take(ys, young_rec(0).addr, &out));
	ck_assert_uint_eq(out.seq, young_rec(0).seq);
	ck_assert(!hc_youngset_take(ys, young_rec(0).addr, NULL));
	ck_assert_uint_eq(hc_youngset_count(ys), HC_YOUNG_WAYS + 2);
	ck_assert_int_eq(hc_youngset_drain(ys, young_sink_fn, &sink), HC_OK);
	ck_assert_uint_eq(sink.n, HC_YOUNG_WAYS + 2);
	for (i = 0; i < sink.n; i++)
		if (sink.got[i].addr == young_rec(1).addr)
			ck_assert_uint_eq(sink.got[i].flags, young_rec(1).flags | 0x40);
	free(sink.got);
	hc_youngset_free(ys);
}
END_TEST

START_TEST(test_young_flags_and_recently_freed)
{
	struct hc_youngset *ys = hc_youngset_new(16, 16);
	struct young_sink sink;
	struct hc_block_rec r = young_rec(3), out;

	ck_assert_ptr_nonnull(ys);
	young_sink_init(&sink, 16);
	ck_assert_int_eq(hc_youngset_put(ys, &r, young_sink_fn, &sink), HC_OK);
	ck_assert(hc_youngset_update_flags(ys, r.addr, 0x80, 0x01, &out));
	ck_assert_uint_eq(out.flags, (r.flags | 0x80) & ~0x01);
	ck_assert(hc_youngset_update_flags(ys, r.addr, 0, 0, &out));
	ck_assert_uint_eq(out.flags, (r.flags | 0x80) & ~0x01);
	ck_assert(!hc_youngset_update_flags(ys, r.addr + 16, 0, 0, NULL));
	ck_assert(!hc_youngset_recently_freed(ys, r.addr, NULL));
	ck_assert(hc_youngset_take(ys, r.addr, NULL));
	/* A double free finds the old record, allocation stack and all. */
	ck_assert(hc_youngset_recently_freed(ys, r.addr, &out));
	ck_assert_uint_eq(out.stack, r.stack);
	ck_assert(!hc_youngset_update_flags(ys, r.addr, 0, 0, NULL));
	free(sink.got);
	hc_youngset_free(ys);
}
END_TEST

/* The inline insert takes the record packed, as the shim builds it. */
static bool put_free_way(struct hc_youngset *ys, struct hc_slot *b, const struct hc_block_rec *r)
{
	struct hc_slot s;

	hc_slot_pack(&s, r);
	return hc_youngset_put_free_way(ys, b, &s);
}

/* The inline insert the shim uses first: it fills free ways (freed ones
 * included), and hands back, untouched, what needs hc_youngset_put: a
 * full bucket, the growth check, an address the set cannot hold. */
START_TEST(test_young_put_free_way)
{
	struct hc_youngset *ys = hc_youngset_new(1, 2);	/* one bucket */
	struct young_sink sink;
	struct hc_block_rec r, out;
	struct hc_slot *b;
	uint64_t i;

	ck_assert_ptr_nonnull(ys);
	young_sink_init(&sink, 64);
	b = hc_young_bucket(ys, young_rec(0).addr);
	for (i = 0; i < HC_YOUNG_WAYS; i++) {
		r = young_rec(i);
		ck_assert_ptr_eq(hc_young_bucket(ys, r.addr), b);
		ck_assert(put_free_way(ys, b, &r));
	}
	r = young_rec(HC_YOUNG_WAYS);
	ck_assert(!put_free_way(ys, b, &r));
	ck_assert_uint_eq(hc_youngset_count(ys), HC_YOUNG_WAYS);
	/* A freed way is free again, and the record round-trips. */
	ck_assert(hc_youngset_take(ys, young_rec(2).addr, NULL));
	ck_assert(put_free_way(ys, b, &r));
	ck_assert(hc_youngset_take(ys, r.addr, &out));
	young_assert_same(&out, &r);
	r.addr |= 1;
	ck_assert(!put_free_way(ys, b, &r));
	r.addr = 0;
	ck_assert(!put_free_way(ys, b, &r));
	/* At the end of a window the growth check is hc_youngset_put's. */
	for (i = 0; i < HC_YOUNG_WINDOW; i++) {
		r = young_rec(100 + i % 2);
		if (!put_free_way(ys, hc_young_bucket(ys, r.addr), &r))
			break;
		ck_assert(hc_youngset_take(ys, r.addr, NULL));
	}
	ck_assert_uint_lt(i, HC_YOUNG_WINDOW);
	ck_assert_int_eq(hc_youngset_put(ys, &r, young_sink_fn, &sink), HC_OK);
	ck_assert(hc_youngset_take(ys, r.addr, NULL));
	free(sink.got);
	hc_youngset_free(ys);
}
END_TEST

START_TEST(test_young_sink_failure)
{
	struct hc_youngset *ys = hc_youngset_new(1, 1);	/* one bucket */
	struct young_sink sink;
	uint64_t i;
	int rc = HC_OK;

	ck_assert_ptr_nonnull(ys);
	young_sink_init(&sink, 64);
	sink.fail = true;
	for (i = 0; i < HC_YOUNG_WAYS + HC_YOUNG_VICTIMS; i++) {
		struct hc_block_rec r = young_rec(i);

		rc = hc_youngset_put(ys, &r, young_sink_fn, &sink);
	}
	/* The last filled the evicted records' batch, which the sink
	 * refused: said, not hidden. */
	ck_assert_int_eq(rc, HC_ERR_NOMEM);
	ck_assert_uint_eq(hc_youngset_count(ys), HC_YOUNG_WAYS);
	ck_assert_int_eq(hc_youngset_drain(ys, young_sink_fn, &sink), HC_ERR_NOMEM);
	free(sink.got);
	hc_youngset_free(ys);
	ck_assert_ptr_null(hc_youngset_new(3, 8));
	ck_assert_ptr_null(hc_youngset_new(16, 8));
	/* Addresses it cannot hold are refused, for the caller to keep. */
	ys = hc_youngset_new(1, 1);
	ck_assert_ptr_nonnull(ys);
	{
		struct hc_block_rec r = young_rec(1);

		r.addr |= 1;
		ck_assert_int_eq(hc_youngset_put(ys, &r, young_sink_fn, &sink), HC_ERR_ARG);
		r.addr = 0;
		ck_assert_int_eq(hc_youngset_put(ys, &r, young_sink_fn, &sink), HC_ERR_ARG);
	}
	ck_assert_uint_eq(hc_youngset_count(ys), 0);
	hc_youngset_free(ys);
}
END_TEST

START_TEST(test_blocktable_insert_slots)
{
	enum { N = HC_BLOCKTABLE_BATCH_MAX };
	struct hc_blocktable *t = hc_blocktable_new();
	struct hc_slot slots[N];
	struct hc_block_rec r, out;
	uint64_t i;

	ck_assert_ptr_nonnull(t);
	for (i = 0; i < N; i++) {
		r = young_rec(i);
		hc_slot_pack(&slots[i], &r);
	}
	ck_assert_int_eq(hc_blocktable_insert_slots(t, slots, N), HC_OK);
	ck_assert_uint_eq(hc_blocktable_count(t), N);
	for (i = 0; i < N; i++) {
		r = young_rec(i);
		ck_assert(hc_blocktable_lookup(t, r.addr, &out));
		ck_assert_uint_eq(out.seq, r.seq);
		ck_assert_uint_eq(out.size, r.size);
	}
	ck_assert_int_eq(hc_blocktable_insert_slots(t, slots, N + 1), HC_ERR_ARG);
	hc_blocktable_free(t);
}
END_TEST

Suite *suite_youngset(void)
{
	Suite *s = suite_create("youngset");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_young_round_trip);
	tcase_add_test(tc, test_young_evicts_each_once);
	tcase_add_test(tc, test_young_grows_to_lifetime);
	tcase_add_test(tc, test_young_victims_are_still_found);
	tcase_add_test(tc, test_young_flags_and_recently_freed);
	tcase_add_test(tc, test_young_put_free_way);
	tcase_add_test(tc, test_young_sink_failure);
	tcase_add_test(tc, test_blocktable_insert_slots);
	suite_add_tcase(s, tc);
	return s;
}
