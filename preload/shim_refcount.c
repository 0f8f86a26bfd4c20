/* SPDX-License-Identifier: MIT */
/*
 * <heapcycle.h>'s gc-module API: tracking refcounted objects, collections
 * on demand and by threshold, callbacks, reclamation. The collector itself
 * is src/generations.c; this file serialises calls to it under one lock,
 * gives it the two things only a live process can (a conservative scan of
 * an object's block, and the whole-heap reachability check that confirms
 * garbage), untracks objects the program frees, and keeps a log of what
 * collections found for the exit snapshot.
 *
 * Collections run on the thread that asks (heapcycle_collect, or the
 * heapcycle_track that crosses a threshold) and call the program's
 * traverse and clear functions there, as CPython does under its GIL: the
 * program must not change tracked objects from other threads meanwhile.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "generations.h"
#include "shim.h"

/* Exported names, declared here because the shim does not include the
 * public header (its macros would rename these definitions). */
typedef void (*shim_gc_callback_fn)(const char *phase, const void *info, void *arg);
int heapcycle_track(void *obj, const void *refcount, unsigned width,
		    hc_traverse_fn traverse, hc_clear_fn clear);
int heapcycle_set_type(void *obj, const char *type);
int heapcycle_untrack(void *obj);
long heapcycle_collect(int generation);
int heapcycle_get_count(int count[3]);
int heapcycle_get_threshold(int threshold[3]);
int heapcycle_set_threshold(const int threshold[3]);
int heapcycle_enable(void);
int heapcycle_disable(void);
int heapcycle_isenabled(void);
int heapcycle_set_reclaim(int on);
int heapcycle_add_callback(shim_gc_callback_fn fn, void *arg);
int heapcycle_remove_callback(shim_gc_callback_fn fn, void *arg);

/* Same layout as struct heapcycle_gc_info in <heapcycle.h>. */
struct shim_gc_info {
	int generation;
	long collected;
	long uncollectable;
};

/* Recursive: clear() runs the program's unref, which frees, which
 * untracks through shim_gc_forget on this same thread. */
static pthread_mutex_t shim_gc_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static struct hc_gc *shim_gc;
static int shim_gc_collecting;	/* under the lock: no nested collections */

#define SHIM_GC_MAX_CALLBACKS 32
static struct {
	shim_gc_callback_fn fn;
	void *arg;
} shim_gc_callbacks[SHIM_GC_MAX_CALLBACKS];
static unsigned shim_gc_ncallbacks;

struct shim_gc_event *shim_gc_events;	/* newest first */

/* Creates the registry on first use. Caller holds shim_gc_lock. */
static struct hc_gc *gc_get_locked(void)
{
	if (!shim_gc && shim_ensure_init())
		shim_gc = hc_gc_new();
	return shim_gc;
}

/* env->scan: words of obj's block (up to its requested size) that hold
 * the start address of a tracked object. */
static int gc_scan_cb(void *obj, hc_visit_fn visit, void *visit_arg, void *env_arg)
{
	struct hc_block_rec rec;
	const uintptr_t *w;
	uint64_t i, n;
	struct shim_thread *t = &shim_tls;
	bool found;

	(void)env_arg;
	t->in_table++;
	found = hc_blocktable_lookup(shim_g.table, (uintptr_t)obj, &rec);
	t->in_table--;
	if (!found)
		return 0;
	w = obj;
	n = rec.size / sizeof(uintptr_t);
	for (i = 0; i < n; i++) {
		void *v = (void *)w[i];
		int r;

		if (v && hc_gc_is_tracked(shim_gc, v) && (r = visit(v, visit_arg)) != 0)
			return r;
	}
	return 0;
}

struct gc_confirm_ctx {
	const struct shim_regs *regs;
	uintptr_t sp;
};

static int gc_confirm_cb(void *const *objs, size_t n, bool *keep, void *env_arg)
{
	struct gc_confirm_ctx *c = env_arg;

	return shim_reachable_from_roots(objs, n, keep, c->regs, c->sp);
}

static void gc_run_callbacks_locked(const char *phase, const struct shim_gc_info *info)
{
	unsigned i;

	for (i = 0; i < shim_gc_ncallbacks; i++)
		shim_gc_callbacks[i].fn(phase, info, shim_gc_callbacks[i].arg);
}

/* Keeps what a collection found, with each member's allocation stack now,
 * while the block still exists (reclamation may free it). */
static void gc_log_locked(const struct hc_gc_result *res)
{
	struct shim_gc_event *ev;
	struct timespec ts;
	size_t i;

	if (res->unreachable == 0)
		return;
	ev = hc_mem_calloc(1, sizeof(*ev) + res->unreachable * sizeof(ev->member[0]));
	if (!ev) {
		atomic_store(&shim_g.degraded, 1);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ev->time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	ev->generation = (uint32_t)res->generation;
	ev->nmembers = res->unreachable;
	for (i = 0; i < res->unreachable; i++) {
		struct hc_block_rec rec;
		struct shim_gc_event_member *m = &ev->member[i];

		m->addr = (uintptr_t)res->garbage[i].obj;
		m->cycle = res->garbage[i].cycle;
		m->in_cycle = res->garbage[i].in_cycle;
		if (hc_blocktable_lookup(shim_g.table, m->addr, &rec)) {
			m->size = rec.size;
			m->stack = rec.stack;
		}
	}
	ev->next = shim_gc_events;
	shim_gc_events = ev;
}

/* One collection of generations 0..gen. Caller holds shim_gc_lock. */
static long gc_collect_locked(int gen, const struct shim_regs *regs, uintptr_t sp)
{
	struct gc_confirm_ctx cc = { regs, sp };
	struct hc_gc_env env = { gc_scan_cb, gc_confirm_cb, &cc };
	struct hc_gc_result res;
	struct shim_gc_info info = { gen, 0, 0 };
	long found;

	if (shim_gc_collecting)
		return 0;
	shim_gc_collecting = 1;
	gc_run_callbacks_locked("start", &info);
	memset(&res, 0, sizeof(res));
	if (hc_gc_collect(shim_gc, gen, &env, &res) != HC_OK) {
		shim_gc_collecting = 0;
		errno = ENOMEM;
		return -1;
	}
	gc_log_locked(&res);
	found = (long)res.unreachable;
	info.generation = res.generation;
	info.collected = (long)res.collected;
	info.uncollectable = found;
	hc_gc_result_fini(&res);
	gc_run_callbacks_locked("stop", &info);
	shim_gc_collecting = 0;
	return found;
}

HC_EXPORT int heapcycle_track(void *obj, const void *refcount, unsigned width,
			      hc_traverse_fn traverse, hc_clear_fn clear)
{
	struct shim_thread *t = shim_enter();
	struct shim_regs regs;
	uintptr_t sp;
	int rc = -1, due;

	SHIM_CAPTURE_CALLER(&regs, &sp);
	pthread_mutex_lock(&shim_gc_lock);
	if (!gc_get_locked()) {
		errno = ENOMEM;
		goto out;
	}
	switch (hc_gc_track(shim_gc, obj, refcount, width, traverse, clear, NULL)) {
	case HC_OK:
		break;
	case HC_ERR_ARG:
		errno = EINVAL;
		goto out;
	default:
		errno = ENOMEM;
		goto out;
	}
	t->in_table++;
	hc_blocktable_update_flags(shim_g.table, (uintptr_t)obj, HC_BLOCK_TRACKED, 0, NULL);
	t->in_table--;
	rc = 0;
	due = hc_gc_due(shim_gc);
	if (due >= 0)
		gc_collect_locked(due, &regs, sp);
out:
	pthread_mutex_unlock(&shim_gc_lock);
	shim_leave(t);
	return rc;
}

HC_EXPORT int heapcycle_set_type(void *obj, const char *type)
{
	int rc = -1;

	pthread_mutex_lock(&shim_gc_lock);
	if (!shim_gc || !hc_gc_is_tracked(shim_gc, obj))
		errno = ENOENT;
	else if (hc_gc_set_type(shim_gc, obj, type) != HC_OK)
		errno = ENOMEM;
	else
		rc = 0;
	pthread_mutex_unlock(&shim_gc_lock);
	return rc;
}

HC_EXPORT int heapcycle_untrack(void *obj)
{
	int rc = -1;

	pthread_mutex_lock(&shim_gc_lock);
	if (shim_gc && hc_gc_untrack(shim_gc, obj)) {
		struct shim_thread *t = shim_enter();

		t->in_table++;
		hc_blocktable_update_flags(shim_g.table, (uintptr_t)obj, 0, HC_BLOCK_TRACKED, NULL);
		t->in_table--;
		shim_leave(t);
		rc = 0;
	} else {
		errno = ENOENT;
	}
	pthread_mutex_unlock(&shim_gc_lock);
	return rc;
}

void shim_gc_forget(void *obj)
{
	pthread_mutex_lock(&shim_gc_lock);
	if (shim_gc)
		hc_gc_untrack(shim_gc, obj);
	pthread_mutex_unlock(&shim_gc_lock);
}

HC_EXPORT long heapcycle_collect(int generation)
{
	struct shim_thread *t = shim_enter();
	struct shim_regs regs;
	uintptr_t sp;
	long found = 0;

	SHIM_CAPTURE_CALLER(&regs, &sp);
	pthread_mutex_lock(&shim_gc_lock);
	if (gc_get_locked())
		found = gc_collect_locked(generation, &regs, sp);
	pthread_mutex_unlock(&shim_gc_lock);
	shim_leave(t);
	return found;
}

HC_EXPORT int heapcycle_get_count(int count[3])
{
	pthread_mutex_lock(&shim_gc_lock);
	if (gc_get_locked())
		hc_gc_get_count(shim_gc, count);
	else
		memset(count, 0, 3 * sizeof(int));
	pthread_mutex_unlock(&shim_gc_lock);
	return 0;
}

HC_EXPORT int heapcycle_get_threshold(int threshold[3])
{
	pthread_mutex_lock(&shim_gc_lock);
	if (gc_get_locked())
		hc_gc_get_threshold(shim_gc, threshold);
	else
		memset(threshold, 0, 3 * sizeof(int));
	pthread_mutex_unlock(&shim_gc_lock);
	return 0;
}

HC_EXPORT int heapcycle_set_threshold(const int threshold[3])
{
	int rc = -1;

	pthread_mutex_lock(&shim_gc_lock);
	if (!gc_get_locked())
		errno = ENOMEM;
	else if (hc_gc_set_threshold(shim_gc, threshold) != HC_OK)
		errno = EINVAL;
	else
		rc = 0;
	pthread_mutex_unlock(&shim_gc_lock);
	return rc;
}

static int gc_set_enabled(bool on)
{
	pthread_mutex_lock(&shim_gc_lock);
	if (gc_get_locked())
		hc_gc_set_enabled(shim_gc, on);
	pthread_mutex_unlock(&shim_gc_lock);
	return 0;
}

HC_EXPORT int heapcycle_enable(void)
{
	return gc_set_enabled(true);
}

HC_EXPORT int heapcycle_disable(void)
{
	return gc_set_enabled(false);
}

HC_EXPORT int heapcycle_isenabled(void)
{
	int on = 0;

	pthread_mutex_lock(&shim_gc_lock);
	if (gc_get_locked())
		on = hc_gc_is_enabled(shim_gc);
	pthread_mutex_unlock(&shim_gc_lock);
	return on;
}

HC_EXPORT int heapcycle_set_reclaim(int on)
{
	pthread_mutex_lock(&shim_gc_lock);
	if (gc_get_locked())
		hc_gc_set_reclaim(shim_gc, on != 0);
	pthread_mutex_unlock(&shim_gc_lock);
	return 0;
}

HC_EXPORT int heapcycle_add_callback(shim_gc_callback_fn fn, void *arg)
{
	int rc = -1;

	pthread_mutex_lock(&shim_gc_lock);
	if (!fn) {
		errno = EINVAL;
	} else if (shim_gc_ncallbacks == SHIM_GC_MAX_CALLBACKS) {
		errno = ENOMEM;
	} else {
		shim_gc_callbacks[shim_gc_ncallbacks].fn = fn;
		shim_gc_callbacks[shim_gc_ncallbacks].arg = arg;
		shim_gc_ncallbacks++;
		rc = 0;
	}
	pthread_mutex_unlock(&shim_gc_lock);
	return rc;
}

HC_EXPORT int heapcycle_remove_callback(shim_gc_callback_fn fn, void *arg)
{
	unsigned i;
	int rc = -1;

	pthread_mutex_lock(&shim_gc_lock);
	errno = ENOENT;
	for (i = 0; i < shim_gc_ncallbacks; i++) {
		if (shim_gc_callbacks[i].fn == fn && shim_gc_callbacks[i].arg == arg) {
			memmove(&shim_gc_callbacks[i], &shim_gc_callbacks[i + 1],
				(shim_gc_ncallbacks - i - 1) * sizeof(shim_gc_callbacks[0]));
			shim_gc_ncallbacks--;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&shim_gc_lock);
	return rc;
}

void shim_gc_lock_for_fork(void)
{
	pthread_mutex_lock(&shim_gc_lock);
}

void shim_gc_unlock_after_fork(bool child)
{
	if (child) {
		pthread_mutex_t fresh = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

		shim_gc_lock = fresh;
		shim_gc_collecting = 0;
	} else {
		pthread_mutex_unlock(&shim_gc_lock);
	}
}
