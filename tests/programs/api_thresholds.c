/* SPDX-License-Identifier: MIT */
/*
 * api_thresholds: counts, thresholds and automatic collections behave like
 * gc.get_count() / gc.get_threshold() / gc.set_threshold(): with thresholds
 * (5, 2, 2) tracking the 6th object since a collection runs a generation-0
 * collection; the generation-1 count goes up by one per generation-0
 * collection, and once it exceeds threshold1 the next automatic collection
 * is of generation 1. Callbacks see every collection. Without the shim every
 * call is a no-op and the program only checks that.
 */
/* EXPECT: no-leaks */
#pragma GCC optimize("O0")
#include <heapcycle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct obj {
	long refcount;
	struct obj *next;
};

static int started[3], stopped;

static void on_gc(const char *phase, const struct heapcycle_gc_info *info, void *arg)
{
	(void)arg;
	if (!strcmp(phase, "start") && info->generation >= 0 && info->generation < 3)
		started[info->generation]++;
	else if (!strcmp(phase, "stop"))
		stopped++;
}

/* Global, not static: the compiler may drop a static array only written to. */
struct obj *objs[64];
static int nobjs;

static void track_one(void)
{
	struct obj *o = calloc(1, sizeof(*o));

	o->refcount = 1;
	objs[nobjs++] = o;	/* held from a global: never garbage */
	heapcycle_track(o, &o->refcount, sizeof(o->refcount), NULL, NULL);
}

static int expect3(const int got[3], int a, int b, int c, const char *what)
{
	if (got[0] == a && got[1] == b && got[2] == c)
		return 0;
	fprintf(stderr, "api_thresholds: %s = (%d, %d, %d), expected (%d, %d, %d)\n",
		what, got[0], got[1], got[2], a, b, c);
	return 1;
}

int main(void)
{
	const int thresholds[3] = { 5, 2, 2 };
	int t[3], c[3], bad = 0, i;

	if (!heapcycle_isenabled()) {
		/* No shim: the weak calls are no-ops. */
		puts(heapcycle_collect(2) == 0 ? "no-op" : "fail");
		return heapcycle_collect(2) != 0;
	}
	heapcycle_add_callback(on_gc, NULL);
	heapcycle_set_threshold(thresholds);
	heapcycle_get_threshold(t);
	bad |= expect3(t, 5, 2, 2, "get_threshold");
	heapcycle_collect(2);	/* start from zero counts */
	memset(started, 0, sizeof(started));
	stopped = 0;
	heapcycle_get_count(c);
	bad |= expect3(c, 0, 0, 0, "count after a full collection");
	for (i = 0; i < 5; i++)
		track_one();
	heapcycle_get_count(c);
	bad |= expect3(c, 5, 0, 0, "count after 5 tracks");
	bad |= expect3(started, 0, 0, 0, "collections after 5 tracks");
	track_one();	/* 6 > threshold0: a generation-0 collection */
	heapcycle_get_count(c);
	bad |= expect3(c, 0, 1, 0, "count after the 6th track");
	bad |= expect3(started, 1, 0, 0, "collections after the 6th track");
	for (i = 0; i < 12; i++)
		track_one();	/* two more overflows of generation 0 */
	heapcycle_get_count(c);
	bad |= expect3(c, 0, 3, 0, "count after 18 tracks");
	bad |= expect3(started, 3, 0, 0, "collections after 18 tracks");
	for (i = 0; i < 6; i++)
		track_one();	/* count1 = 3 > 2: this overflow collects generation 1 */
	heapcycle_get_count(c);
	bad |= expect3(c, 0, 0, 1, "count after the generation-1 collection");
	bad |= expect3(started, 3, 1, 0, "collections after 24 tracks");
	if (stopped != 4) {
		fprintf(stderr, "api_thresholds: %d stop callbacks, expected 4\n", stopped);
		bad = 1;
	}
	heapcycle_disable();
	for (i = 0; i < 12; i++)
		track_one();
	if (started[0] + started[1] + started[2] != 4 || heapcycle_isenabled()) {
		fprintf(stderr, "api_thresholds: a collection ran while disabled\n");
		bad = 1;
	}
	heapcycle_enable();
	heapcycle_remove_callback(on_gc, NULL);
	puts(bad ? "fail" : "ok");
	return bad;
}
