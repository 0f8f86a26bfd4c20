/* SPDX-License-Identifier: MIT */
/*
 * The generation-0 benchmark: what heapcycle_collect(0) costs over YOUNG
 * fresh tracked objects in a heap of OLD tracked objects that collections
 * have promoted to generation 2, against heapcycle_collect(2) (full), once
 * with no garbage among the young and once with a tenth of them in leaked
 * 2- and 3-cycles. Must run under the real shim (LD_PRELOAD of
 * libheapcycle.so): without it every heapcycle_* call is a no-op and the
 * program says so and fails. It checks every measured collection (objects
 * examined, garbage found, no other collection ran) and exits 1 on any
 * mismatch, so it cannot silently measure nothing.
 *
 * Usage: gen0 [-H] [-r REPEAT] [-p PLAIN] OLD YOUNG
 *   -H  print the CSV header first
 *   -r  repetitions (default 7); the medians are reported
 *   -p  also keep PLAIN untracked blocks (32-95 bytes) hung from the old
 *       objects: the heap a confirmation scans grows, the registry does not
 * Standard output: two CSV lines (no garbage, garbage); standard error: a
 * human-readable line for each. See bench/README.
 */
#define _GNU_SOURCE
#include <heapcycle.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xorshift.h"

/* A refcounted container, 40 bytes (a 48-byte block): ref[] are owned
 * references, counted in the referent's refcount and reported by
 * obj_traverse; data is an untracked payload the collector never sees. */
struct obj {
	uint32_t refcount;
	uint32_t pad;
	struct obj *ref[3];	/* [0] ring/cycle successor, [1] child, [2] an old object */
	void *data;
};

/* Old objects hang in NHEADS reachable rings (each head is held from this
 * global and by its ring's last member), so a full collection's trial
 * deletion has reachable cycles to get right, as in a real heap. */
#define NHEADS 1024
static struct obj *heads[NHEADS];
/* Index of the old objects (not owning: the program's own lookup table,
 * one 8-byte word per object, which the confirmation scans like any
 * block). */
static struct obj **old;
static long n_old;

/* The young set of one round. live[]: the reachable young (not owning,
 * bookkeeping); holders[]: indices of the old objects holding one;
 * hidden[]: the garbage, stored XOR HIDE_KEY. The confirmation scans
 * every live block conservatively, so a plain pointer to a garbage object
 * anywhere would keep it alive and the collection would find nothing;
 * the key's top bits make each stored word a non-canonical address,
 * which never looks like a heap pointer. */
#define HIDE_KEY ((uintptr_t)0xa5a5a5a5a5a5a5a5u)
static struct obj **live;
static uint32_t *holders;
static uintptr_t *hidden;
static long n_live, n_holders, n_hidden;

/* What the collection callbacks saw: proves which collections ran. */
static struct {
	long starts, stops, collected, uncollectable;
	int generation;
} cb;
static long expected_starts;


static void die(const char *msg)
{
	fprintf(stderr, "gen0: %s\n", msg);
	exit(1);
}

static int obj_traverse(void *p, heapcycle_visit_fn visit, void *arg)
{
	struct obj *o = p;
	int i, r;

	for (i = 0; i < 3; i++)
		if (o->ref[i] && (r = visit(o->ref[i], arg)) != 0)
			return r;
	return 0;
}

static void on_gc(const char *phase, const struct heapcycle_gc_info *info, void *arg)
{
	(void)arg;
	if (strcmp(phase, "start") == 0) {
		cb.starts++;
		return;
	}
	cb.stops++;
	cb.generation = info->generation;
	cb.collected = info->collected;
	cb.uncollectable = info->uncollectable;
}

static struct obj *new_obj(void)
{
	struct obj *o = calloc(1, sizeof(*o));

	if (!o)
		die("out of memory");
	return o;
}

static void track(struct obj *o)
{
	if (heapcycle_track(o, &o->refcount, sizeof(o->refcount), obj_traverse, NULL) != 0)
		die("heapcycle_track failed");
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One collection, timed, then checked: exactly this collection ran
 * (automatic ones are off), it examined `examined` objects and found
 * `garbage` unreachable ones. */
static double collect(int gen, long examined, long garbage, const char *what)
{
	double t0, t1;
	long found;

	expected_starts++;
	t0 = now_ms();
	found = heapcycle_collect(gen);
	t1 = now_ms();
	if (found != garbage || cb.starts != expected_starts || cb.stops != expected_starts ||
	    cb.generation != gen || cb.collected != examined || cb.uncollectable != found) {
		fprintf(stderr,
			"gen0: %s: collect(%d) found %ld (expected %ld), examined %ld "
			"(expected %ld), %ld collections ran (expected %ld)\n",
			what, gen, found, garbage, cb.collected, examined, cb.starts,
			expected_starts);
		exit(1);
	}
	return t1 - t0;
}

static void build_old(long n, long plain)
{
	long i;
	int h;

	old = calloc((size_t)n, sizeof(*old));
	if (!old)
		die("out of memory");
	for (i = 0; i < n; i++) {
		struct obj *o = new_obj();

		h = (int)(i & (NHEADS - 1));
		/* The head's reference moves to o; o gets the head's. */
		o->ref[0] = heads[h];
		o->refcount = 1;
		heads[h] = o;
		old[i] = o;
		track(o);
	}
	/* Close each chain into a ring: its first member (old[h]) points back
	 * at the head. */
	for (h = 0; h < NHEADS && h < n; h++) {
		old[h]->ref[0] = heads[h];
		heads[h]->refcount++;
	}
	for (i = 0; i < plain; i++) {
		void **p = malloc(32 + (next_rand() & 63));
		struct obj *o = old[i % n];

		if (!p)
			die("out of memory");
		p[0] = o->data;
		o->data = p;
	}
	n_old = n;
}

/* Gives young object y an owned reference to some old object. */
static void ref_old(struct obj *y)
{
	struct obj *o = old[next_rand() % (uint64_t)n_old];

	y->ref[2] = o;
	o->refcount++;
}

/*
 * Builds n young tracked objects, all in generation 0: a tenth in leaked
 * 2- and 3-cycles when garbage is set (returns how many), an eighth of the
 * rest held by old objects only (external to a young collection), the rest
 * in pairs held from live[] (a root: a block reachable from a global),
 * every fourth pair a reachable 2-cycle. Every other young object holds an
 * old one too (a reference a young collection must look up and ignore).
 * Not inlined: its locals, which hold garbage pointers, die with its frame,
 * below the stack the confirmation scans.
 */
__attribute__((noinline)) static long build_young(long n, int garbage)
{
	long g = garbage ? (n / 10 < 2 ? 2 : n / 10) : 0, h, made = 0, ncycles = 0, i;
	uint64_t stride, start;

	while (made < g) {
		long left = g - made;
		/* 2- and 3-cycles alternately; the tail (2, 3 or 4 left) is
		 * split so that no member is left alone. */
		int k = left == 4 ? 2 : left <= 3 ? (int)left : (ncycles % 2 ? 3 : 2);
		struct obj *m[3];
		int j;

		ncycles++;
		for (j = 0; j < k; j++) {
			m[j] = new_obj();
			m[j]->refcount = 1;	/* from its predecessor */
		}
		for (j = 0; j < k; j++) {
			m[j]->ref[0] = m[(j + 1) % k];
			if ((made + j) % 2)
				ref_old(m[j]);
			track(m[j]);
			hidden[n_hidden++] = (uintptr_t)m[j] ^ HIDE_KEY;
		}
		made += k;
	}

	h = (n - g) / 8;
	if (h > n_old)
		h = n_old;
	stride = (uint64_t)n_old / (uint64_t)(h ? h : 1);
	start = next_rand() % (stride ? stride : 1);
	for (i = 0; i < h; i++) {
		struct obj *y = new_obj();
		uint32_t k = (uint32_t)((start + (uint64_t)i * stride) % (uint64_t)n_old);

		y->refcount = 1;
		old[k]->ref[1] = y;
		holders[n_holders++] = k;
		if (i % 2)
			ref_old(y);
		track(y);
		live[n_live++] = y;
	}

	for (i = g + h; i < n;) {
		struct obj *a = new_obj(), *b = NULL;

		a->refcount = 1;	/* from live[] */
		live[n_live++] = a;
		if (i % 2)
			ref_old(a);
		track(a);
		i++;
		if (i == n)
			break;
		b = new_obj();
		b->refcount = 1;	/* from a */
		a->ref[1] = b;
		if ((i / 2) % 4 == 0) {
			b->ref[0] = a;	/* a reachable 2-cycle */
			a->refcount++;
		}
		if (i % 2)
			ref_old(b);
		live[n_live++] = b;
		track(b);
		i++;
	}
	return g;
}

/*
 * Overwrites the dead stack below the caller's frame. The confirmation
 * scans the stack conservatively from the caller of heapcycle_collect up,
 * plus the shim's own frame below it (where it saved the registers): that
 * frame reuses the memory build_young's frame had, and a stale word there
 * holding a garbage pointer keeps that cycle alive (it then survives to
 * generation 1, to be found by a later collection). A program that leaked a
 * cycle long ago has no such words left; the benchmark scrubs them so that
 * every collection finds exactly what was built.
 */
__attribute__((noinline)) static void scrub_stack(void)
{
	char buf[16384];

	memset(buf, 0, sizeof(buf));
	__asm__ volatile("" : : "r"(buf) : "memory");
}

static void drop(struct obj *o)
{
	if (o->ref[2])
		o->ref[2]->refcount--;
	free(o);	/* the shim untracks it */
}

/* Frees the round's young objects and forgets every pointer to them: a
 * stale word in live[] could point into a later round's garbage once
 * malloc reuses the address. */
static void teardown_young(void)
{
	long i;

	for (i = 0; i < n_holders; i++)
		old[holders[i]]->ref[1] = NULL;
	for (i = 0; i < n_live; i++)
		drop(live[i]);
	for (i = 0; i < n_hidden; i++)
		drop((struct obj *)(hidden[i] ^ HIDE_KEY));
	memset(live, 0, (size_t)n_live * sizeof(*live));
	memset(hidden, 0, (size_t)n_hidden * sizeof(*hidden));
	n_live = n_holders = n_hidden = 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	long n_young, plain = 0, g = 0, gbuilt;
	int repeat = 7, header = 0, c, r, s;
	double t_setup, *t[2][2];	/* [garbage?][full?] */

	while ((c = getopt(argc, argv, "Hr:p:")) != -1) {
		switch (c) {
		case 'H': header = 1; break;
		case 'r': repeat = atoi(optarg); break;
		case 'p': plain = atol(optarg); break;
		default: goto usage;
		}
	}
	if (argc - optind != 2 || repeat < 1 || plain < 0)
		goto usage;
	n_old = atol(argv[optind]);
	n_young = atol(argv[optind + 1]);
	if (n_old < 1 || n_young < 10 || n_old > (long)UINT32_MAX)
		goto usage;

	if (!heapcycle_isenabled())
		die("not running under the shim (LD_PRELOAD=.../libheapcycle.so): "
		    "every heapcycle_* call would be a no-op");
	/* Before anything is tracked: the measured collections, and the two
	 * promotions below, must be the only ones. */
	heapcycle_disable();
	if (heapcycle_add_callback(on_gc, NULL) != 0)
		die("heapcycle_add_callback failed");
	live = calloc((size_t)n_young, sizeof(*live));
	holders = calloc((size_t)n_young, sizeof(*holders));
	hidden = calloc((size_t)n_young, sizeof(*hidden));
	for (s = 0; s < 4; s++)
		t[s / 2][s % 2] = calloc((size_t)repeat, sizeof(double));
	if (!live || !holders || !hidden || !t[0][0] || !t[0][1] || !t[1][0] || !t[1][1])
		die("out of memory");

	t_setup = now_ms();
	build_old(n_old, plain);
	if (cb.starts != 0)
		die("a collection ran while automatic collection was disabled");
	/* Promotion by collections, as a long-running program's old objects
	 * got there: generation 0 -> 1 -> 2. */
	collect(0, n_old, 0, "promotion to generation 1");
	collect(1, n_old, 0, "promotion to generation 2");
	t_setup = now_ms() - t_setup;
	fprintf(stderr, "gen0: %ld old tracked objects (+%ld plain blocks) built and promoted "
		"in %.0f ms\n", n_old, plain, t_setup);

	/* Each repetition: four fresh young sets, one per measurement, in the
	 * same order (the young set is freshly built, hence in cache, as in a
	 * program that just made it). */
	for (r = 0; r < repeat; r++) {
		for (s = 0; s < 4; s++) {
			int garbage = s / 2, full = s % 2;

			gbuilt = build_young(n_young, garbage);
			scrub_stack();
			if (garbage)
				g = gbuilt;
			t[garbage][full][r] = collect(full ? 2 : 0, full ? n_old + n_young : n_young,
						      gbuilt, garbage ? "garbage" : "no garbage");
			teardown_young();
		}
	}

	if (header)
		printf("old,young,plain,garbage,repeat,gen0_ms,full_ms,ratio,gen0_ns_per_young,"
		       "found_gen0,found_full\n");
	for (s = 0; s < 2; s++) {
		double m0 = median(t[s][0], repeat), m2 = median(t[s][1], repeat);
		long found = s ? g : 0;

		/* The found counts were checked against what was built on every
		 * collection (collect exits otherwise): these are they. */
		printf("%ld,%ld,%ld,%ld,%d,%.4f,%.4f,%.5f,%.1f,%ld,%ld\n", n_old, n_young, plain,
		       found, repeat, m0, m2, m0 / m2, m0 * 1e6 / (double)n_young, found, found);
		fprintf(stderr,
			"gen0: old %ld young %ld plain %ld, %s: gen0 %.3f ms, full %.3f ms, "
			"ratio %.4f, %.1f ns/young, found %ld/%ld (median of %d)\n",
			n_old, n_young, plain, s ? "garbage" : "no garbage", m0, m2, m0 / m2,
			m0 * 1e6 / (double)n_young, found, found, repeat);
	}
	fflush(stdout);
	return 0;
usage:
	fprintf(stderr, "usage: gen0 [-H] [-r REPEAT] [-p PLAIN] OLD YOUNG (YOUNG >= 10)\n");
	return 2;
}
