/* SPDX-License-Identifier: MIT */
/*
 * The live-block table: records round-trip with every field, an address
 * inserted again replaces its record, a million records come and go, heavy
 * churn and four racing threads leave an exact count, and foreach_locked
 * visits each record once.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "suites.h"
#include "hc.h"
#include "blocktable.h"

/* Addresses shaped like a heap's: 16-byte aligned, clustered. */
static uintptr_t addr_of(uint64_t i)
{
	return (uintptr_t)0x7f3a00000000ull + i * 16u;
}

static struct hc_block_rec rec_of(uint64_t i)
{
	struct hc_block_rec r;

	memset(&r, 0, sizeof(r));
	r.addr = addr_of(i);
	r.size = i * 3 + 1;
	r.seq = i + 1000;
	r.stack = (uint32_t)(i % 977) + 1;
	r.tid = (uint32_t)(i % 13) + 100;
	r.kind = (uint8_t)(i % HC_ALLOC_KIND_COUNT);
	r.flags = (uint8_t)(i * 7);
	return r;
}

static bool rec_eq(const struct hc_block_rec *a, const struct hc_block_rec *b)
{
	return a->addr == b->addr && a->size == b->size && a->seq == b->seq &&
	       a->stack == b->stack && a->tid == b->tid &&
	       a->kind == b->kind && a->flags == b->flags;
}

static void assert_rec_eq(const struct hc_block_rec *a,
			  const struct hc_block_rec *b)
{
	ck_assert_uint_eq(a->addr, b->addr);
	ck_assert_uint_eq(a->size, b->size);
	ck_assert_uint_eq(a->seq, b->seq);
	ck_assert_uint_eq(a->stack, b->stack);
	ck_assert_uint_eq(a->tid, b->tid);
	ck_assert_uint_eq(a->kind, b->kind);
	ck_assert_uint_eq(a->flags, b->flags);
}

START_TEST(test_blocktable_insert_lookup_remove)
{
	struct hc_blocktable *t = hc_blocktable_new();
	struct hc_block_rec r = rec_of(5), out;

	ck_assert_ptr_nonnull(t);
	/* Extremes of every field survive the packed slot: 40-bit sizes and
	 * birth numbers, Linux's largest thread id (PID_MAX_LIMIT - 1). */
	r.size = (UINT64_C(1) << 40) - 1;
	r.seq = (UINT64_C(1) << 40) - 1;
	r.stack = UINT32_MAX;
	r.tid = (1u << 22) - 1;
	r.kind = HC_ALLOC_NEW_ARRAY;
	r.flags = 0xff;
	ck_assert_int_eq(hc_blocktable_insert(t, &r), HC_OK);
	ck_assert_uint_eq(hc_blocktable_count(t), 1);
	ck_assert(hc_blocktable_lookup(t, r.addr, &out));
	assert_rec_eq(&out, &r);
	ck_assert(!hc_blocktable_lookup(t, r.addr + 16, &out));
	ck_assert(hc_blocktable_lookup(t, r.addr, NULL));
	memset(&out, 0, sizeof(out));
	ck_assert(hc_blocktable_remove(t, r.addr, &out));
	assert_rec_eq(&out, &r);
	ck_assert_uint_eq(hc_blocktable_count(t), 0);
	ck_assert(!hc_blocktable_lookup(t, r.addr, &out));
	/* Beyond 40 bits, sizes and birth numbers stay at the largest. */
	r.size = UINT64_C(1) << 45;
	r.seq = UINT64_C(1) << 50;
	ck_assert_int_eq(hc_blocktable_insert(t, &r), HC_OK);
	ck_assert(hc_blocktable_remove(t, r.addr, &out));
	ck_assert_uint_eq(out.size, (UINT64_C(1) << 40) - 1);
	ck_assert_uint_eq(out.seq, (UINT64_C(1) << 40) - 1);
	/* An address beyond 48 bits (x86-64 with 5-level paging) is refused
	 * for the caller to keep elsewhere, not stored truncated. */
	r.addr = UINT64_C(1) << 50;
	ck_assert_int_eq(hc_blocktable_insert(t, &r), HC_ERR_ARG);
	ck_assert(!hc_blocktable_lookup(t, r.addr, NULL));
	ck_assert_uint_eq(hc_blocktable_count(t), 0);
	hc_blocktable_free(t);
}
END_TEST

START_TEST(test_blocktable_insert_replaces_same_address)
{
	struct hc_blocktable *t = hc_blocktable_new();
	struct hc_block_rec a = rec_of(1), b = rec_of(2), out;

	ck_assert_ptr_nonnull(t);
	b.addr = a.addr;
	ck_assert_int_eq(hc_blocktable_insert(t, &a), HC_OK);
	ck_assert_int_eq(hc_blocktable_insert(t, &b), HC_OK);
	ck_assert_uint_eq(hc_blocktable_count(t), 1);
	ck_assert(hc_blocktable_lookup(t, a.addr, &out));
	assert_rec_eq(&out, &b);
	ck_assert(hc_blocktable_remove(t, a.addr, NULL));
	ck_assert(!hc_blocktable_remove(t, a.addr, NULL));
	ck_assert_uint_eq(hc_blocktable_count(t), 0);
	hc_blocktable_free(t);
}
END_TEST

START_TEST(test_blocktable_remove_absent_returns_false)
{
	struct hc_blocktable *t = hc_blocktable_new();
	struct hc_block_rec r = rec_of(9), out;

	ck_assert_ptr_nonnull(t);
	ck_assert(!hc_blocktable_remove(t, r.addr, &out));
	ck_assert(!hc_blocktable_remove(t, 0, &out));
	ck_assert_int_eq(hc_blocktable_insert(t, &r), HC_OK);
	ck_assert(!hc_blocktable_remove(t, r.addr + 8, &out));
	ck_assert_uint_eq(hc_blocktable_count(t), 1);
	/* Address 0 is the empty-slot marker and is refused. */
	r.addr = 0;
	ck_assert_int_eq(hc_blocktable_insert(t, &r), HC_ERR_ARG);
	ck_assert_uint_eq(hc_blocktable_count(t), 1);
	hc_blocktable_free(t);
}
END_TEST

START_TEST(test_blocktable_million_records_in_and_out)
{
	enum { N = 1000000 };
	struct hc_blocktable *t = hc_blocktable_new();
	struct hc_block_rec r, out;
	uint64_t i, empty_bytes, bad = 0;

	ck_assert_ptr_nonnull(t);
	empty_bytes = hc_blocktable_bytes(t);
	/* ck_assert costs a system call each: count failures in the
	 * loops, assert once after. */
	for (i = 0; i < N; i++) {
		r = rec_of(i);
		bad += hc_blocktable_insert(t, &r) != HC_OK;
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(hc_blocktable_count(t), N);
	/* Packed 24-byte slots between 1/2 and 3/4 full: between 32 and 48
	 * bytes a block (issue 5's budget), whatever the phase of growth. */
	ck_assert_uint_le(hc_blocktable_bytes(t), (uint64_t)N * 48 + empty_bytes);
	ck_assert_uint_ge(hc_blocktable_bytes(t), (uint64_t)N * 32);
	ck_assert_uint_gt(hc_blocktable_bytes(t), empty_bytes);
	for (i = 0; i < N; i++) {
		r = rec_of(i);
		bad += !hc_blocktable_lookup(t, addr_of(i), &out) ||
		       !rec_eq(&out, &r);
	}
	ck_assert_uint_eq(bad, 0);
	/* Remove in an order unrelated to insertion, to exercise backward
	 * shifts across clusters. */
	for (i = 0; i < N; i++) {
		uint64_t k = (i * 7919) % N;

		r = rec_of(k);
		bad += !hc_blocktable_remove(t, addr_of(k), &out) ||
		       !rec_eq(&out, &r);
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(hc_blocktable_count(t), 0);
	for (i = 0; i < N; i += 1013)
		bad += hc_blocktable_lookup(t, addr_of(i), NULL);
	ck_assert_uint_eq(bad, 0);
	hc_blocktable_free(t);
}
END_TEST

/* xorshift64*: a deterministic stream for the churn tests. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

START_TEST(test_blocktable_churn_matches_a_reference)
{
	enum { SPACE = 50000, STEPS = 2000000 };
	struct hc_blocktable *t = hc_blocktable_new();
	uint64_t *live = calloc(SPACE, sizeof(*live));	/* seq+1, or 0 */
	uint64_t s = 0x1234567, i, nlive = 0, bad = 0;
	struct hc_block_rec r, out;

	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(live);
	for (i = 0; i < STEPS; i++) {
		uint64_t x = next_rand(&s), k = x % SPACE;
		bool had = live[k] != 0;

		if (((x >> 32) & 3) != 0) {
			/* Insert (a replace when live already). */
			r = rec_of(k);
			r.seq = i;
			bad += hc_blocktable_insert(t, &r) != HC_OK;
			nlive += !had;
			live[k] = i + 1;
		} else {
			bad += hc_blocktable_remove(t, addr_of(k), &out) != had;
			if (had) {
				bad += out.seq != live[k] - 1;
				nlive--;
				live[k] = 0;
			}
		}
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(hc_blocktable_count(t), nlive);
	ck_assert_uint_gt(nlive, SPACE / 2);
	for (i = 0; i < SPACE; i++) {
		bool found = hc_blocktable_lookup(t, addr_of(i), &out);

		bad += found != (live[i] != 0);
		if (found)
			bad += out.seq != live[i] - 1;
	}
	ck_assert_uint_eq(bad, 0);
	free(live);
	hc_blocktable_free(t);
}
END_TEST

enum { THREADS = 4, PAIRS = 500000, WINDOW = 64 };

struct churner {
	struct hc_blocktable *t;
	pthread_barrier_t *start;
	uint64_t base;
	uint64_t errors;
};

/* Keeps WINDOW blocks live, like a program freeing what it allocated a
 * moment ago; leaves the last WINDOW live. */
static void *churner_main(void *arg)
{
	struct churner *c = arg;
	struct hc_block_rec r, out;
	uint64_t i;

	pthread_barrier_wait(c->start);
	for (i = 0; i < PAIRS; i++) {
		r = rec_of(c->base + i);
		if (hc_blocktable_insert(c->t, &r) != HC_OK)
			c->errors++;
		if (i >= WINDOW) {
			uint64_t k = c->base + i - WINDOW;

			if (!hc_blocktable_remove(c->t, addr_of(k), &out) ||
			    out.seq != k + 1000)
				c->errors++;
		}
	}
	return NULL;
}

START_TEST(test_blocktable_four_threads_churn_disjoint_addresses)
{
	struct hc_blocktable *t = hc_blocktable_new();
	struct churner c[THREADS];
	pthread_t th[THREADS];
	pthread_barrier_t start;
	unsigned i;

	ck_assert_ptr_nonnull(t);
	pthread_barrier_init(&start, NULL, THREADS);
	for (i = 0; i < THREADS; i++) {
		c[i].t = t;
		c[i].start = &start;
		c[i].base = (uint64_t)i * 10000000;
		c[i].errors = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, churner_main, &c[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < THREADS; i++)
		ck_assert_uint_eq(c[i].errors, 0);
	ck_assert_uint_eq(hc_blocktable_count(t), (uint64_t)THREADS * WINDOW);
	for (i = 0; i < THREADS; i++) {
		uint64_t k;

		for (k = PAIRS - WINDOW; k < PAIRS; k++) {
			if (!hc_blocktable_remove(t, addr_of(c[i].base + k), NULL))
				c[i].errors++;
		}
		ck_assert_uint_eq(c[i].errors, 0);
	}
	ck_assert_uint_eq(hc_blocktable_count(t), 0);
	hc_blocktable_free(t);
}
END_TEST

struct visit {
	unsigned char *seen;
	uint64_t n;
	uint64_t calls;
	uint64_t bad;
	uint64_t stop_after;
};

static int visit_cb(const struct hc_block_rec *rec, void *arg)
{
	struct visit *v = arg;
	uint64_t i = (rec->addr - addr_of(0)) / 16;
	struct hc_block_rec want;

	v->calls++;
	if (i >= v->n || v->seen[i]) {
		v->bad++;
	} else {
		want = rec_of(i);
		v->seen[i] = 1;
		if (!rec_eq(&want, rec))
			v->bad++;
	}
	return v->calls == v->stop_after ? 42 : 0;
}

START_TEST(test_blocktable_foreach_locked_visits_each_once)
{
	enum { N = 30000 };
	struct hc_blocktable *t = hc_blocktable_new();
	struct visit v = { 0 };
	struct hc_block_rec r;
	uint64_t i, bad = 0;

	ck_assert_ptr_nonnull(t);
	v.seen = calloc(N, 1);
	v.n = N;
	ck_assert_ptr_nonnull(v.seen);
	for (i = 0; i < N; i++) {
		r = rec_of(i);
		bad += hc_blocktable_insert(t, &r) != HC_OK;
	}
	/* Remove every third, so the walk sees holes and shifted records. */
	for (i = 0; i < N; i += 3)
		bad += !hc_blocktable_remove(t, addr_of(i), NULL);
	ck_assert_uint_eq(bad, 0);
	hc_blocktable_lock_all(t);
	ck_assert_int_eq(hc_blocktable_foreach_locked(t, visit_cb, &v), 0);
	hc_blocktable_unlock_all(t);
	ck_assert_uint_eq(v.bad, 0);
	ck_assert_uint_eq(v.calls, N - (N + 2) / 3);
	for (i = 0; i < N; i++)
		bad += v.seen[i] != (i % 3 != 0);
	ck_assert_uint_eq(bad, 0);

	/* A non-zero return stops the walk and is passed through. */
	memset(v.seen, 0, N);
	v.calls = 0;
	v.stop_after = 10;
	hc_blocktable_lock_all(t);
	ck_assert_int_eq(hc_blocktable_foreach_locked(t, visit_cb, &v), 42);
	hc_blocktable_unlock_all(t);
	ck_assert_uint_eq(v.calls, 10);
	free(v.seen);
	hc_blocktable_free(t);
}
END_TEST

struct blocked {
	struct hc_blocktable *t;
	volatile int done;
};

static void *blocked_insert_main(void *arg)
{
	struct blocked *b = arg;
	struct hc_block_rec r = rec_of(77);

	hc_blocktable_insert(b->t, &r);
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(test_blocktable_lock_all_blocks_writers_and_survives_fork)
{
	struct hc_blocktable *t = hc_blocktable_new();
	struct blocked b = { t, 0 };
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	pthread_t th;
	pid_t pid;
	int status;

	ck_assert_ptr_nonnull(t);
	hc_blocktable_lock_all(t);
	ck_assert_int_eq(pthread_create(&th, NULL, blocked_insert_main, &b), 0);
	nanosleep(&ts, NULL);
	ck_assert_int_eq(__atomic_load_n(&b.done, __ATOMIC_ACQUIRE), 0);
	ck_assert_uint_eq(hc_blocktable_count(t), 0);
	hc_blocktable_unlock_all(t);
	pthread_join(th, NULL);
	ck_assert_int_eq(b.done, 1);
	ck_assert_uint_eq(hc_blocktable_count(t), 1);
	/* As around fork(): the child inherits every lock held, re-inits
	 * them, and can use the table; the parent unlocks. */
	hc_blocktable_lock_all(t);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct hc_block_rec r = rec_of(78);
		int ok;

		hc_blocktable_reinit_locks_after_fork(t);
		ok = hc_blocktable_remove(t, addr_of(77), NULL) &&
		     hc_blocktable_insert(t, &r) == HC_OK &&
		     hc_blocktable_count(t) == 1;
		_exit(ok ? 0 : 1);
	}
	hc_blocktable_unlock_all(t);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* The child's changes stay in the child. */
	ck_assert(hc_blocktable_remove(t, addr_of(77), NULL));
	ck_assert(!hc_blocktable_lookup(t, addr_of(78), NULL));
	ck_assert_uint_eq(hc_blocktable_count(t), 0);
	hc_blocktable_free(t);
}
END_TEST

/* Fails allocations once armed; frees go to libc as usual. */
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

START_TEST(test_blocktable_cannot_grow_keeps_records)
{
	enum { N = 20000 };
	struct hc_blocktable *t;
	struct hc_block_rec r;
	uint64_t i, ok = 0, bad = 0;
	int st;

	hc_mem_set_ops(&failing_ops);
	fail_allocs = 1;
	ck_assert_ptr_null(hc_blocktable_new());
	fail_allocs = 0;
	t = hc_blocktable_new();
	ck_assert_ptr_nonnull(t);
	fail_allocs = 1;
	/* Each shard fills to all but one slot, then refuses. */
	for (i = 0; i < N; i++) {
		r = rec_of(i);
		st = hc_blocktable_insert(t, &r);
		bad += st != HC_OK && st != HC_ERR_NOMEM;
		if (st == HC_OK)
			ok++;
		else
			bad += hc_blocktable_lookup(t, r.addr, NULL);
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(ok, hc_blocktable_count(t));
	ck_assert_uint_lt(ok, N);
	ck_assert_uint_gt(ok, 0);
	/* A replace needs no room and still works. */
	r = rec_of(0);
	if (hc_blocktable_lookup(t, r.addr, NULL)) {
		r.seq = 5;
		ck_assert_int_eq(hc_blocktable_insert(t, &r), HC_OK);
	}
	fail_allocs = 0;
	for (i = 0; i < N; i++) {
		r = rec_of(i);
		bad += hc_blocktable_insert(t, &r) != HC_OK;
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(hc_blocktable_count(t), N);
	hc_blocktable_free(t);
	hc_mem_set_ops(NULL);
}
END_TEST

Suite *suite_blocktable(void)
{
	Suite *s = suite_create("blocktable");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_blocktable_insert_lookup_remove);
	tcase_add_test(tc, test_blocktable_insert_replaces_same_address);
	tcase_add_test(tc, test_blocktable_remove_absent_returns_false);
	tcase_add_test(tc, test_blocktable_million_records_in_and_out);
	tcase_add_test(tc, test_blocktable_churn_matches_a_reference);
	tcase_add_test(tc, test_blocktable_four_threads_churn_disjoint_addresses);
	tcase_add_test(tc, test_blocktable_foreach_locked_visits_each_once);
	tcase_add_test(tc, test_blocktable_lock_all_blocks_writers_and_survives_fork);
	tcase_add_test(tc, test_blocktable_cannot_grow_keeps_records);
	suite_add_tcase(s, tc);
	return s;
}
