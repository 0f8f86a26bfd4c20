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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "generations.h"
#include "scan.h"
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
static pthread_mutex_t shim_gc_mutex = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static struct hc_gc *shim_gc;
static int shim_gc_collecting;	/* under the lock: no nested collections */

#define SHIM_GC_MAX_CALLBACKS 32
static struct {
	shim_gc_callback_fn fn;
	void *arg;
} shim_gc_callbacks[SHIM_GC_MAX_CALLBACKS];
static unsigned shim_gc_ncallbacks;

struct shim_gc_event *shim_gc_events;	/* newest first */

/* Creates the registry on first use. Caller holds shim_gc_mutex. The
 * registry's memory comes from jemalloc: counted as inside the shim. */
static struct hc_gc *gc_get_locked(void)
{
	if (!shim_gc && shim_ensure_init()) {
		struct shim_thread *t = shim_enter();

		shim_gc = hc_gc_new();
		shim_leave(t);
	}
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
	found = shim_blocks_update_flags(t, (uintptr_t)obj, 0, 0, &rec);
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
		m->type = hc_gc_type(shim_gc, res->garbage[i].obj);
		m->cycle = res->garbage[i].cycle;
		m->in_cycle = res->garbage[i].in_cycle;
		if (shim_blocks_update_flags(&shim_tls, m->addr, 0, 0, &rec)) {
			m->size = rec.size;
			m->stack = rec.stack;
		}
	}
	ev->next = shim_gc_events;
	shim_gc_events = ev;
}

/* One collection of generations 0..gen. Caller holds shim_gc_mutex. */
static void gc_found_cb(const struct hc_gc_result *res, void *env_arg)
{
	(void)env_arg;
	gc_log_locked(res);
}

static long gc_collect_locked(int gen, const struct shim_regs *regs, uintptr_t sp)
{
	struct gc_confirm_ctx cc = { regs, sp };
	struct hc_gc_env env = {
		.scan = gc_scan_cb, .confirm = gc_confirm_cb, .found = gc_found_cb, .arg = &cc,
	};
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
	pthread_mutex_lock(&shim_gc_mutex);
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
	shim_blocks_update_flags(t, (uintptr_t)obj, HC_BLOCK_TRACKED, 0, NULL);
	rc = 0;
	due = hc_gc_due(shim_gc);
	if (due >= 0)
		gc_collect_locked(due, &regs, sp);
out:
	pthread_mutex_unlock(&shim_gc_mutex);
	shim_leave(t);
	return rc;
}

HC_EXPORT int heapcycle_set_type(void *obj, const char *type)
{
	struct shim_thread *t = shim_enter();
	int rc = -1;

	pthread_mutex_lock(&shim_gc_mutex);
	if (!shim_gc || !hc_gc_is_tracked(shim_gc, obj))
		errno = ENOENT;
	else if (hc_gc_set_type(shim_gc, obj, type) != HC_OK)
		errno = ENOMEM;
	else
		rc = 0;
	pthread_mutex_unlock(&shim_gc_mutex);
	shim_leave(t);
	return rc;
}

HC_EXPORT int heapcycle_untrack(void *obj)
{
	struct shim_thread *t = shim_enter();
	int rc = -1;

	pthread_mutex_lock(&shim_gc_mutex);
	if (shim_gc && hc_gc_untrack(shim_gc, obj)) {
		shim_blocks_update_flags(t, (uintptr_t)obj, 0, HC_BLOCK_TRACKED, NULL);
		rc = 0;
	} else {
		errno = ENOENT;
	}
	pthread_mutex_unlock(&shim_gc_mutex);
	shim_leave(t);
	return rc;
}

void shim_gc_forget(void *obj)
{
	struct shim_thread *t = shim_enter();

	pthread_mutex_lock(&shim_gc_mutex);
	if (shim_gc)
		hc_gc_untrack(shim_gc, obj);
	pthread_mutex_unlock(&shim_gc_mutex);
	shim_leave(t);
}

HC_EXPORT long heapcycle_collect(int generation)
{
	struct shim_thread *t = shim_enter();
	struct shim_regs regs;
	uintptr_t sp;
	long found = 0;

	SHIM_CAPTURE_CALLER(&regs, &sp);
	pthread_mutex_lock(&shim_gc_mutex);
	if (gc_get_locked())
		found = gc_collect_locked(generation, &regs, sp);
	pthread_mutex_unlock(&shim_gc_mutex);
	shim_leave(t);
	return found;
}

HC_EXPORT int heapcycle_get_count(int count[3])
{
	pthread_mutex_lock(&shim_gc_mutex);
	if (gc_get_locked())
		hc_gc_get_count(shim_gc, count);
	else
		memset(count, 0, 3 * sizeof(int));
	pthread_mutex_unlock(&shim_gc_mutex);
	return 0;
}

HC_EXPORT int heapcycle_get_threshold(int threshold[3])
{
	pthread_mutex_lock(&shim_gc_mutex);
	if (gc_get_locked())
		hc_gc_get_threshold(shim_gc, threshold);
	else
		memset(threshold, 0, 3 * sizeof(int));
	pthread_mutex_unlock(&shim_gc_mutex);
	return 0;
}

HC_EXPORT int heapcycle_set_threshold(const int threshold[3])
{
	int rc = -1;

	pthread_mutex_lock(&shim_gc_mutex);
	if (!gc_get_locked())
		errno = ENOMEM;
	else if (hc_gc_set_threshold(shim_gc, threshold) != HC_OK)
		errno = EINVAL;
	else
		rc = 0;
	pthread_mutex_unlock(&shim_gc_mutex);
	return rc;
}

static int gc_set_enabled(bool on)
{
	pthread_mutex_lock(&shim_gc_mutex);
	if (gc_get_locked())
		hc_gc_set_enabled(shim_gc, on);
	pthread_mutex_unlock(&shim_gc_mutex);
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

	pthread_mutex_lock(&shim_gc_mutex);
	if (gc_get_locked())
		on = hc_gc_is_enabled(shim_gc);
	pthread_mutex_unlock(&shim_gc_mutex);
	return on;
}

HC_EXPORT int heapcycle_set_reclaim(int on)
{
	pthread_mutex_lock(&shim_gc_mutex);
	if (gc_get_locked())
		hc_gc_set_reclaim(shim_gc, on != 0);
	pthread_mutex_unlock(&shim_gc_mutex);
	return 0;
}

HC_EXPORT int heapcycle_add_callback(shim_gc_callback_fn fn, void *arg)
{
	int rc = -1;

	pthread_mutex_lock(&shim_gc_mutex);
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
	pthread_mutex_unlock(&shim_gc_mutex);
	return rc;
}

HC_EXPORT int heapcycle_remove_callback(shim_gc_callback_fn fn, void *arg)
{
	unsigned i;
	int rc = -1;

	pthread_mutex_lock(&shim_gc_mutex);
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
	pthread_mutex_unlock(&shim_gc_mutex);
	return rc;
}

void shim_gc_lock_for_fork(void)
{
	pthread_mutex_lock(&shim_gc_mutex);
}

void shim_gc_unlock_after_fork(bool child)
{
	if (child) {
		pthread_mutex_t fresh = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

		shim_gc_mutex = fresh;
		shim_gc_collecting = 0;
	} else {
		pthread_mutex_unlock(&shim_gc_mutex);
	}
}

void shim_gc_lock(void)
{
	pthread_mutex_lock(&shim_gc_mutex);
}

void shim_gc_unlock(void)
{
	pthread_mutex_unlock(&shim_gc_mutex);
}

/* ---------------------------------------------------------- snapshot */

struct gc_fill {
	struct hc_snapshot *snap;
	struct hc_arena *arena;
	struct hc_tracked *tracked;
	uint64_t n, cap;
	const char **types;
	uint32_t ntypes, captypes;
	bool failed;
};

/* Interns a type name: the registry keeps one copy per distinct name, so
 * equal pointers are equal names. */
static uint32_t gc_type_index(struct gc_fill *f, const char *type)
{
	uint32_t i;

	if (!type)
		return HC_NO_TYPE;
	for (i = 0; i < f->ntypes; i++)
		if (f->types[i] == type || strcmp(f->types[i], type) == 0)
			return i;
	if (f->ntypes == f->captypes) {
		uint32_t ncap = f->captypes ? f->captypes * 2 : 64;
		const char **nt = hc_arena_realloc(f->arena, f->types,
						   f->captypes * sizeof(*nt), ncap * sizeof(*nt));

		if (!nt) {
			f->failed = true;
			return HC_NO_TYPE;
		}
		f->types = nt;
		f->captypes = ncap;
	}
	f->types[f->ntypes] = type;
	return f->ntypes++;
}

static uint64_t gc_read_count(const void *refcount, unsigned width)
{
	uint64_t v = 0;

	switch (width) {
	case 1:
		v = __atomic_load_n((const uint8_t *)refcount, __ATOMIC_RELAXED);
		break;
	case 2:
		v = __atomic_load_n((const uint16_t *)refcount, __ATOMIC_RELAXED);
		break;
	case 4:
		v = __atomic_load_n((const uint32_t *)refcount, __ATOMIC_RELAXED);
		break;
	case 8:
		v = __atomic_load_n((const uint64_t *)refcount, __ATOMIC_RELAXED);
		break;
	}
	return v;
}

static struct hc_tracked *gc_fill_append(struct gc_fill *f);

static int gc_fill_cb(void *obj, const void *refcount, unsigned width, int generation,
		      const char *type, void *arg)
{
	struct gc_fill *f = arg;
	uint64_t off;
	int64_t b = hc_scan_find(f->snap->blocks, f->snap->nblocks, (uintptr_t)obj, &off);
	struct hc_tracked *t;

	/* A tracked object that is not the start of a live block (a static
	 * object, or one freed since): nothing in the snapshot to attach to. */
	if (b < 0 || off != 0)
		return 0;
	t = gc_fill_append(f);
	if (!t)
		return 1;
	t->block = (uint64_t)b;
	t->refcount = gc_read_count(refcount, width);
	t->type = gc_type_index(f, type);
	t->generation = (uint32_t)generation;
	return 0;
}

/* A new record at the end of f->tracked, or NULL (out of memory: f->failed). */
static struct hc_tracked *gc_fill_append(struct gc_fill *f)
{
	if (f->n == f->cap) {
		uint64_t ncap = f->cap ? f->cap * 2 : 256;
		struct hc_tracked *nt = hc_arena_realloc(f->arena, f->tracked,
							 f->cap * sizeof(*nt), ncap * sizeof(*nt));

		if (!nt) {
			f->failed = true;
			return NULL;
		}
		f->tracked = nt;
		f->cap = ncap;
	}
	return &f->tracked[f->n++];
}

static int gc_tracked_cmp(const void *a, const void *b)
{
	const struct hc_tracked *x = a, *y = b;

	return x->block < y->block ? -1 : x->block > y->block;
}

/* Whether block is among tracked[0..n), which is sorted by block. */
static bool gc_tracked_has(const struct hc_tracked *tracked, uint64_t n, uint64_t block)
{
	uint64_t lo = 0, hi = n;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (block < tracked[mid].block)
			hi = mid;
		else if (block > tracked[mid].block)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/*
 * The GObject adapter's half of the fill: a block whose first word points
 * at the start of an initialised GObject class is an instance of it. The
 * capture already scanned every block while the world was stopped, so the
 * instances are the edges from offset 0 to offset 0 of a class block:
 * nothing here reads a block that might have been freed since, except
 * the count, which shim_gobject_read_count reads without trusting the
 * address. GObjects have no generations of their own: they count as old.
 * A block heapcycle_track() tracks keeps that record (f->tracked[0..n)
 * on entry, sorted). Leaves f->tracked sorted and unique.
 */
static void gc_fill_gobjects(struct gc_fill *f, const struct shim_gobject_table *gobj)
{
	const struct hc_snapshot *snap = f->snap;
	uint64_t n0 = f->n, e, i, j;

	for (e = 0; e < snap->nedges && !f->failed; e++) {
		const struct hc_edge *ed = &snap->edges[e];
		const struct hc_block *b, *klass;
		const char *name;
		struct hc_tracked *t;
		uint64_t count;

		if (ed->from_offset != 0 || ed->to_offset != 0 || ed->from >= snap->nblocks ||
		    ed->to >= snap->nblocks)
			continue;
		b = &snap->blocks[ed->from];
		klass = &snap->blocks[ed->to];
		/* GObject is a class pointer, a guint count and the qdata. */
		if (b->size < 16)
			continue;
		name = shim_gobject_class_name(gobj, (uintptr_t)klass->addr);
		if (!name || gc_tracked_has(f->tracked, n0, ed->from))
			continue;
		if (!shim_gobject_read_count((uintptr_t)b->addr, (uintptr_t)klass->addr, &count))
			continue;
		t = gc_fill_append(f);
		if (!t)
			return;
		t->block = ed->from;
		t->refcount = count;
		t->type = gc_type_index(f, name);
		t->generation = 2;
	}
	if (f->n == n0)
		return;
	qsort(f->tracked, f->n, sizeof(*f->tracked), gc_tracked_cmp);
	for (i = j = 1; i < f->n; i++)
		if (f->tracked[i].block != f->tracked[j - 1].block)
			f->tracked[j++] = f->tracked[i];
	f->n = j;
}

int shim_gc_fill(struct hc_snapshot *snap, struct hc_arena *arena,
		 const struct shim_gobject_table *gobj)
{
	struct gc_fill f = { .snap = snap, .arena = arena };
	struct shim_gc_event *ev;
	struct hc_gc_event *events;
	uint32_t nevents = 0, i;

	/* The g_object_ref/unref calls recorded (shim_gref.c), whether or
	 * not anything is tracked. */
	shim_gref_fill(snap, arena);
	pthread_mutex_lock(&shim_gc_mutex);
	if (!shim_gc && (!gobj || gobj->n == 0)) {
		pthread_mutex_unlock(&shim_gc_mutex);
		return 0;
	}
	if (shim_gc)
		hc_gc_foreach(shim_gc, gc_fill_cb, &f);
	if (f.n)
		qsort(f.tracked, f.n, sizeof(*f.tracked), gc_tracked_cmp);
	if (gobj && gobj->n && !f.failed)
		gc_fill_gobjects(&f, gobj);
	for (ev = shim_gc_events; ev; ev = ev->next)
		nevents++;
	events = hc_arena_alloc(arena, (nevents + 1) * sizeof(*events));
	if (!events)
		f.failed = true;
	/* The log is newest first; the snapshot lists the oldest first. */
	for (ev = shim_gc_events, i = nevents; events && ev; ev = ev->next) {
		struct hc_gc_member *m = hc_arena_alloc(arena, (ev->nmembers + 1) * sizeof(*m));
		size_t j;

		if (!m) {
			f.failed = true;
			break;
		}
		i--;
		events[i].time_ns = ev->time_ns;
		events[i].generation = ev->generation;
		events[i].nmembers = (uint32_t)ev->nmembers;
		events[i].members = m;
		for (j = 0; j < ev->nmembers; j++) {
			const struct shim_gc_event_member *src = &ev->member[j];

			m[j].addr = src->addr;
			m[j].size = src->size;
			m[j].stack = src->stack < snap->nstacks ? src->stack : HC_STACK_NONE;
			m[j].type = gc_type_index(&f, src->type);
			m[j].cycle = src->cycle < ev->nmembers ? src->cycle : 0;
			m[j].flags = src->in_cycle ? HC_GC_MEMBER_IN_CYCLE : 0;
		}
	}
	pthread_mutex_unlock(&shim_gc_mutex);
	if (f.failed)
		return -1;
	snap->ntracked = f.n;
	snap->tracked = f.tracked;
	snap->ntypes = f.ntypes;
	snap->types = f.types;
	snap->nevents = nevents;
	snap->events = events;
	return 0;
}
