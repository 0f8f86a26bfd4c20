/* SPDX-License-Identifier: MIT */
/*
 * Interposed GObject reference counting (DESIGN.md, "Refcounts", source 3):
 * g_object_ref, g_object_unref, g_object_ref_sink and g_object_take_ref
 * called from outside libgobject come here, are recorded (the call, the
 * object's count before it, its stack, the thread, an order), and go on to
 * GLib's own, found with dlsym(RTLD_NEXT). Calls GLib makes inside
 * libgobject bind to its own functions without the PLT and are never seen:
 * the reports say so wherever the recorded calls do not explain a count.
 *
 * Each object's calls are kept in shim memory only (hc_mem, the private
 * arena): its first SHIM_GREF_HEAD calls and its latest SHIM_GREF_TAIL,
 * with counts of those dropped in between, for at most SHIM_GREF_MAX
 * objects (the least recently used one makes room). The table has one spin
 * lock, held for a lookup and a copy: never across an allocation, a stack
 * capture or a call into GLib. A call made while this thread is already
 * inside the shim (a signal handler that interrupted it) is forwarded
 * without being recorded, so the lock is never wanted twice by one thread.
 * The lock is the last in the shim's lock order (shim.h): the snapshot
 * takes it under the gc and snapshot locks, and nothing is taken under it;
 * fork does not take it, and a child that inherits it held starts empty.
 * The snapshot copies the histories of objects in live blocks into its REFS
 * section (shim_gref_fill, called from shim_gc_fill); pairing the calls to
 * find the references never released is src/refhistory.c's, in the tool.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "scan.h"
#include "shim.h"

/* Exported names, defined here: GLib's prototypes are not included, the
 * shim never links GLib. */
void *g_object_ref(void *obj);
void g_object_unref(void *obj);
void *g_object_ref_sink(void *obj);
void *g_object_take_ref(void *obj);

#define SHIM_GREF_HEAD 4u	/* first calls of an object, always kept */
#define SHIM_GREF_TAIL 12u	/* its latest calls, a ring */
#define SHIM_GREF_MAX 16384u	/* objects with a history */
#define SHIM_GREF_SLAB 64u	/* nodes allocated at once */
#define SHIM_GREF_BUCKETS 4096u

/* One recorded call. clock is the birth counter (shim_g.seq) at the call,
 * tclock the calling thread's next birth number: see shim_gref_fill_one for how
 * they tell an object from an earlier one that had the same address. */
struct shim_gref_ev {
	uint64_t seq;
	uint64_t clock, tclock;
	uint32_t stack;
	uint32_t tid;
	uint32_t count;
	uint8_t kind;
	uint8_t flags;
};

struct shim_gref_node {
	uintptr_t addr;
	uintptr_t klass;		/* its first word: a different one is another object */
	struct shim_gref_node *hnext;	/* hash chain; the free list */
	struct shim_gref_node *newer, *older; /* least recently used order */
	uint64_t last_seq;
	uint32_t nhead, ntail, tail_pos;
	uint32_t dropped, dropped_refs, dropped_unrefs;
	struct shim_gref_ev head[SHIM_GREF_HEAD];
	struct shim_gref_ev tail[SHIM_GREF_TAIL];
};

enum { GREF_FN_REF, GREF_FN_UNREF, GREF_FN_SINK, GREF_FN_TAKE, GREF_FN_FLOATING, GREF_NFN };
static const char *const shim_gref_names[GREF_NFN] = {
	"g_object_ref", "g_object_unref", "g_object_ref_sink", "g_object_take_ref",
	"g_object_is_floating",
};
static void *_Atomic shim_gref_fns[GREF_NFN];
static _Atomic int shim_gref_ready;	/* after the shim's constructor */
static _Atomic int shim_gref_said;

/* The table, under shim_gref_owner (the tid holding it, 0: free). */
static _Atomic uint32_t shim_gref_owner;
static struct shim_gref_node *shim_gref_buckets[SHIM_GREF_BUCKETS];
static struct shim_gref_node *shim_gref_free;
static struct shim_gref_node *shim_gref_newest, *shim_gref_oldest;
static uint32_t shim_gref_nlive, shim_gref_nalloc;
static uint64_t shim_gref_seq;
static _Atomic uint64_t shim_gref_lost;	/* calls recorded nowhere, or discarded */

typedef void *(*shim_gref_obj_fn)(void *obj);
typedef void (*shim_gref_void_fn)(void *obj);
typedef int (*shim_gref_int_fn)(void *obj);

/* ------------------------------------------------------------ lock */

static void shim_gref_lock(uint32_t tid)
{
	unsigned spins = 0;

	for (;;) {
		uint32_t free_ = 0;

		if (atomic_compare_exchange_weak_explicit(&shim_gref_owner, &free_, tid,
							  memory_order_acquire,
							  memory_order_relaxed))
			return;
		if (++spins > 64)
			sched_yield();
	}
}

static void shim_gref_unlock(void)
{
	atomic_store_explicit(&shim_gref_owner, 0, memory_order_release);
}

/*
 * For the snapshot, which may run in a signal handler (_exit) that
 * interrupted this very thread inside the lock: false instead of a
 * deadlock, or after a long wait for another thread.
 */
static bool shim_gref_lock_for_fill(uint32_t tid)
{
	unsigned i;

	for (i = 0; i < 20000; i++) {
		uint32_t owner = atomic_load_explicit(&shim_gref_owner, memory_order_relaxed);

		if (owner == tid)
			return false;
		if (owner == 0 &&
		    atomic_compare_exchange_strong_explicit(&shim_gref_owner, &owner, tid,
							    memory_order_acquire,
							    memory_order_relaxed))
			return true;
		sched_yield();
	}
	return false;
}

/* ------------------------------------------------------------ table */

static inline unsigned shim_gref_bucket(uintptr_t addr)
{
	return (unsigned)(((uint64_t)(addr >> 4) * UINT64_C(0x9e3779b97f4a7c15)) >> 52) &
	       (SHIM_GREF_BUCKETS - 1);
}

static struct shim_gref_node *shim_gref_find_locked(uintptr_t addr)
{
	struct shim_gref_node *n;

	for (n = shim_gref_buckets[shim_gref_bucket(addr)]; n; n = n->hnext)
		if (n->addr == addr)
			return n;
	return NULL;
}

static void shim_gref_lru_unlink_locked(struct shim_gref_node *n)
{
	if (n->newer)
		n->newer->older = n->older;
	else
		shim_gref_newest = n->older;
	if (n->older)
		n->older->newer = n->newer;
	else
		shim_gref_oldest = n->newer;
	n->newer = n->older = NULL;
}

static void shim_gref_lru_push_locked(struct shim_gref_node *n)
{
	n->older = shim_gref_newest;
	n->newer = NULL;
	if (shim_gref_newest)
		shim_gref_newest->newer = n;
	shim_gref_newest = n;
	if (!shim_gref_oldest)
		shim_gref_oldest = n;
}

static void shim_gref_hash_unlink_locked(struct shim_gref_node *n)
{
	struct shim_gref_node **pp = &shim_gref_buckets[shim_gref_bucket(n->addr)];

	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = n->hnext;
	n->hnext = NULL;
}

static uint64_t shim_gref_node_calls(const struct shim_gref_node *n)
{
	return (uint64_t)n->nhead + n->ntail + n->dropped;
}

static void shim_gref_node_init(struct shim_gref_node *n, uintptr_t addr, uintptr_t klass)
{
	n->addr = addr;
	n->klass = klass;
	n->last_seq = 0;
	n->nhead = n->ntail = n->tail_pos = 0;
	n->dropped = n->dropped_refs = n->dropped_unrefs = 0;
}

/* Removes n from the table onto the free list. */
static void shim_gref_forget_locked(struct shim_gref_node *n)
{
	shim_gref_hash_unlink_locked(n);
	shim_gref_lru_unlink_locked(n);
	n->hnext = shim_gref_free;
	shim_gref_free = n;
	shim_gref_nlive--;
}

/*
 * A node for addr, from the free list or, with SHIM_GREF_MAX objects
 * already kept, the least recently used one (most likely an object GLib
 * freed without a call we saw). NULL: the caller must allocate a slab.
 */
static struct shim_gref_node *shim_gref_new_locked(uintptr_t addr, uintptr_t klass)
{
	struct shim_gref_node *n = shim_gref_free;

	if (n) {
		shim_gref_free = n->hnext;
	} else if (shim_gref_nalloc >= SHIM_GREF_MAX && shim_gref_oldest) {
		n = shim_gref_oldest;
		atomic_fetch_add_explicit(&shim_gref_lost, shim_gref_node_calls(n),
					  memory_order_relaxed);
		shim_gref_hash_unlink_locked(n);
		shim_gref_lru_unlink_locked(n);
		shim_gref_nlive--;
	} else {
		return NULL;
	}
	shim_gref_node_init(n, addr, klass);
	n->hnext = shim_gref_buckets[shim_gref_bucket(addr)];
	shim_gref_buckets[shim_gref_bucket(addr)] = n;
	shim_gref_lru_push_locked(n);
	shim_gref_nlive++;
	return n;
}

static void shim_gref_add_slab_locked(struct shim_gref_node *slab)
{
	unsigned i;

	for (i = 0; i < SHIM_GREF_SLAB; i++) {
		slab[i].hnext = shim_gref_free;
		shim_gref_free = &slab[i];
	}
	shim_gref_nalloc += SHIM_GREF_SLAB;
}

/* Whether ev took a reference, for the counts of dropped calls. */
static bool shim_gref_takes(const struct shim_gref_ev *ev)
{
	return ev->kind == HC_REF_REF ||
	       (ev->kind == HC_REF_SINK && !(ev->flags & HC_REF_FLOATING));
}

static void shim_gref_append_locked(struct shim_gref_node *n, const struct shim_gref_ev *ev)
{
	if (n->nhead < SHIM_GREF_HEAD) {
		n->head[n->nhead++] = *ev;
	} else if (n->ntail < SHIM_GREF_TAIL) {
		n->tail[n->ntail++] = *ev;
		n->tail_pos = n->ntail % SHIM_GREF_TAIL;
	} else {
		/* The ring is full: its oldest call moves into the counts. */
		struct shim_gref_ev *old = &n->tail[n->tail_pos];

		n->dropped++;
		if (shim_gref_takes(old))
			n->dropped_refs++;
		else if (old->kind == HC_REF_UNREF)
			n->dropped_unrefs++;
		*old = *ev;
		n->tail_pos = (n->tail_pos + 1) % SHIM_GREF_TAIL;
	}
	n->last_seq = ev->seq;
	if (shim_gref_newest != n) {
		shim_gref_lru_unlink_locked(n);
		shim_gref_lru_push_locked(n);
	}
}

/*
 * Appends ev (seq and clock are set here) to the history of the object at
 * addr whose first word is klass. Returns its seq, or 0 when there was no
 * room (counted as lost). Takes the lock; allocates only without it.
 */
static uint64_t shim_gref_record(uintptr_t addr, uintptr_t klass, struct shim_gref_ev *ev,
				 uint32_t tid)
{
	struct shim_gref_node *slab = NULL, *n = NULL;
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		shim_gref_lock(tid);
		if (slab) {
			shim_gref_add_slab_locked(slab);
			slab = NULL;
		}
		n = shim_gref_find_locked(addr);
		if (n && n->klass != klass) {
			/* Another object at this address (the previous one's
			 * last reference went where we could not see it). */
			atomic_fetch_add_explicit(&shim_gref_lost, shim_gref_node_calls(n),
						  memory_order_relaxed);
			shim_gref_node_init(n, addr, klass);
		}
		if (!n)
			n = shim_gref_new_locked(addr, klass);
		if (n) {
			ev->seq = ++shim_gref_seq;
			ev->clock = atomic_load_explicit(&shim_g.seq, memory_order_acquire);
			shim_gref_append_locked(n, ev);
		}
		shim_gref_unlock();
		if (n || attempt == 1)
			break;
		slab = hc_mem_alloc(SHIM_GREF_SLAB * sizeof(*slab));
		if (!slab)
			break;
	}
	if (!n) {
		atomic_fetch_add_explicit(&shim_gref_lost, 1, memory_order_relaxed);
		return 0;
	}
	return ev->seq;
}

/* ------------------------------------------------------------ recording */

/*
 * GLib's function, found on the first call. GLib may be loaded later
 * (dlopen), or, loaded RTLD_LOCAL by a plugin, be out of RTLD_NEXT's
 * reach: then it is asked for by name without loading it.
 */
static void *shim_gref_real(unsigned which)
{
	void *fn = atomic_load_explicit(&shim_gref_fns[which], memory_order_acquire);
	struct shim_thread *t;

	if (HC_LIKELY(fn))
		return fn;
	/* dlsym may allocate: inside the shim, so that it is not the program's. */
	t = shim_enter();
	fn = dlsym(RTLD_NEXT, shim_gref_names[which]);
	if (!fn) {
		void *h = dlopen("libgobject-2.0.so.0", RTLD_LAZY | RTLD_NOLOAD);

		/* Not closed: dlclose is ours, and libgobject is never unloaded. */
		if (h)
			fn = dlsym(h, shim_gref_names[which]);
	}
	if (fn)
		atomic_store_explicit(&shim_gref_fns[which], fn, memory_order_release);
	else if (which != GREF_FN_FLOATING && !atomic_exchange(&shim_gref_said, 1))
		shim_say("a g_object_ref/unref call without libgobject loaded does nothing", 0);
	shim_leave(t);
	return fn;
}

/*
 * The object's first word (its class) and its count. The real function
 * reads these same words right after us (G_IS_OBJECT, then the atomic
 * count), so a pointer that would fault here faults there all the same;
 * the checks only keep NULL and misaligned values, which GLib refuses
 * with a warning, from faulting in our frame.
 */
static bool shim_gref_peek(const void *obj, uintptr_t *klass, uint32_t *count)
{
	uintptr_t p = (uintptr_t)obj;

	if (p < 4096 || (p & (sizeof(uintptr_t) - 1)))
		return false;
	*klass = __atomic_load_n((const uintptr_t *)obj, __ATOMIC_RELAXED);
	*count = __atomic_load_n((const uint32_t *)(p + sizeof(uintptr_t)), __ATOMIC_RELAXED);
	return *klass != 0;
}

/*
 * Records one call. Returns its seq (0: not recorded) and the count
 * before it in *count. Only at depth 1: re-entered (a signal handler that
 * interrupted the shim, perhaps inside our lock) the call is not recorded.
 */
static uint64_t shim_gref_note(void *obj, enum hc_ref_kind kind, uint8_t flags,
			       uintptr_t caller, uintptr_t caller_sp, uint32_t *count)
{
	struct shim_thread *t;
	struct shim_gref_ev ev;
	uintptr_t klass;
	uint64_t seq = 0;

	*count = 0;
	if (!atomic_load_explicit(&shim_gref_ready, memory_order_acquire) ||
	    atomic_load_explicit(&shim_g.state, memory_order_acquire) != SHIM_READY ||
	    !shim_gref_peek(obj, &klass, count))
		return 0;
	t = shim_enter();
	if (t->depth != 1)
		goto out;
	memset(&ev, 0, sizeof(ev));
	ev.count = *count;
	ev.kind = (uint8_t)kind;
	ev.flags = flags;
	ev.tid = t->tid ? t->tid : shim_gettid();
	ev.tclock = t->seq_next;
	ev.stack = shim_g.opts.stacks ? shim_stack_capture(caller, caller_sp) : HC_STACK_NONE;
	seq = shim_gref_record((uintptr_t)obj, klass, &ev, ev.tid);
out:
	shim_leave(t);
	return seq;
}

/* After an unref that dropped the last reference: the object is gone,
 * unless a call made since (a dispose that took a reference) says not. */
static void shim_gref_forget(void *obj, uint64_t seq)
{
	struct shim_thread *t = shim_enter();
	struct shim_gref_node *n;

	if (t->depth == 1) {
		shim_gref_lock(t->tid ? t->tid : shim_gettid());
		n = shim_gref_find_locked((uintptr_t)obj);
		if (n && n->last_seq == seq)
			shim_gref_forget_locked(n);
		shim_gref_unlock();
	}
	shim_leave(t);
}

/* A floating object's ref_sink or take_ref takes its floating reference
 * over instead of adding one: asked of GLib before the call. */
static uint8_t shim_gref_floating(void *obj)
{
	shim_gref_int_fn is_floating;

	if (!obj || !atomic_load_explicit(&shim_gref_ready, memory_order_relaxed) ||
	    atomic_load_explicit(&shim_g.state, memory_order_relaxed) != SHIM_READY)
		return 0;
	is_floating = (shim_gref_int_fn)shim_gref_real(GREF_FN_FLOATING);
	return is_floating && is_floating(obj) ? HC_REF_FLOATING : 0;
}

/* Each entry point records, then calls GLib outside the shim: a dispose
 * or finalize that runs from g_object_unref is the program's code, and
 * its own calls are recorded as such. */
HC_EXPORT void *g_object_ref(void *obj)
{
	shim_gref_obj_fn real = (shim_gref_obj_fn)shim_gref_real(GREF_FN_REF);
	uint32_t count;

	if (!real)
		return obj;
	shim_gref_note(obj, HC_REF_REF, 0, SHIM_CALL_SITE, &count);
	return real(obj);
}

HC_EXPORT void g_object_unref(void *obj)
{
	shim_gref_void_fn real = (shim_gref_void_fn)shim_gref_real(GREF_FN_UNREF);
	uint32_t count;
	uint64_t seq;

	if (!real)
		return;
	seq = shim_gref_note(obj, HC_REF_UNREF, 0, SHIM_CALL_SITE, &count);
	real(obj);
	if (seq && count == 1)
		shim_gref_forget(obj, seq);
}

/* g_object_ref_sink and g_object_take_ref: a reference, or the floating
 * one taken over. */
static void *shim_gref_sink_or_take(void *obj, unsigned which, enum hc_ref_kind kind,
				    uintptr_t caller, uintptr_t caller_sp)
{
	shim_gref_obj_fn real = (shim_gref_obj_fn)shim_gref_real(which);
	uint32_t count;

	if (!real)
		return obj;
	shim_gref_note(obj, kind, shim_gref_floating(obj), caller, caller_sp, &count);
	return real(obj);
}

HC_EXPORT void *g_object_ref_sink(void *obj)
{
	return shim_gref_sink_or_take(obj, GREF_FN_SINK, HC_REF_SINK, SHIM_CALL_SITE);
}

HC_EXPORT void *g_object_take_ref(void *obj)
{
	return shim_gref_sink_or_take(obj, GREF_FN_TAKE, HC_REF_TAKE, SHIM_CALL_SITE);
}

/* ------------------------------------------------------------ fork */

/*
 * The child has one thread. A lock held at the fork belonged to another
 * thread, which may have left the table half changed: the child starts
 * with an empty one (the nodes stay allocated, unreachable).
 */
static void shim_gref_after_fork_child(void)
{
	if (atomic_load(&shim_gref_owner) == 0)
		return;
	memset(shim_gref_buckets, 0, sizeof(shim_gref_buckets));
	shim_gref_free = shim_gref_newest = shim_gref_oldest = NULL;
	shim_gref_nlive = shim_gref_nalloc = 0;
	atomic_store(&shim_gref_owner, 0);
}

/* After shim_alloc.c's constructor (101): its stack unwinder is ready. */
__attribute__((constructor(102))) static void shim_gref_init(void)
{
	struct shim_thread *t = shim_enter();

	if (atomic_load(&shim_g.state) == SHIM_READY) {
		pthread_atfork(NULL, NULL, shim_gref_after_fork_child);
		atomic_store_explicit(&shim_gref_ready, 1, memory_order_release);
	}
	shim_leave(t);
}

/* ------------------------------------------------------------ snapshot */

static int shim_gref_hist_cmp(const void *a, const void *b)
{
	const struct hc_ref_history *x = a, *y = b;

	if (x->block != y->block)
		return x->block < y->block ? -1 : 1;
	/* Two objects in one block: the more recently active first. */
	return x->events[x->nevents - 1].seq > y->events[y->nevents - 1].seq ? -1 :
	       x->events[x->nevents - 1].seq < y->events[y->nevents - 1].seq;
}

/*
 * Whether ev was made before block b was allocated: then it belongs to an
 * earlier object at the same address, which GLib freed without a call we
 * saw. Birth numbers are handed to threads in batches from shim_g.seq, and
 * a thread's own births increase: on the thread that allocated the block,
 * a call made before the allocation saw a next birth number (tclock) not
 * above the block's; on another thread, a call whose birth counter (clock)
 * was not above it was made before the block's batch was even handed out.
 * The second test misses calls made while that batch was in use.
 */
static bool shim_gref_predates(const struct shim_gref_ev *ev, const struct hc_block *b)
{
	if (b->seq == 0)
		return false;
	return ev->tid == b->tid ? ev->tclock <= b->seq : ev->clock <= b->seq;
}

/*
 * One copied node as a snapshot history, or false when it describes no
 * object of the snapshot: its address is in no live block, its first word
 * is no longer its class, or every call it kept predates the block. The
 * calls are in time order, so everything up to the last call that
 * predates the block does too.
 */
static bool shim_gref_fill_one(const struct shim_gref_node *nd, const struct hc_snapshot *snap,
			  struct hc_arena *arena, struct hc_ref_history *h)
{
	struct shim_gref_ev all[SHIM_GREF_HEAD + SHIM_GREF_TAIL];
	struct hc_ref_event *out;
	uint32_t n = 0, k = 0, i, gap, dropped, drefs, dunrefs;
	uint64_t off, count;
	int64_t b = hc_scan_find(snap->blocks, snap->nblocks, nd->addr, &off);

	if (b < 0 || off >= snap->blocks[b].size)
		return false;
	if (!shim_gobject_read_count(nd->addr, nd->klass, &count))
		return false;
	for (i = 0; i < nd->nhead; i++)
		all[n++] = nd->head[i];
	/* Until the ring is full its calls are in place; then the oldest is
	 * at tail_pos. */
	for (i = 0; i < nd->ntail; i++)
		all[n++] = nd->tail[nd->ntail < SHIM_GREF_TAIL ? i :
				    (nd->tail_pos + i) % SHIM_GREF_TAIL];
	for (i = n; i-- > 0;)
		if (shim_gref_predates(&all[i], &snap->blocks[b])) {
			k = i + 1;
			break;
		}
	if (k == n)
		return false;
	gap = nd->nhead;
	dropped = nd->dropped;
	drefs = nd->dropped_refs;
	dunrefs = nd->dropped_unrefs;
	if (k > nd->nhead) {
		/* Kept calls after the dropped ones predate the block: so do those. */
		dropped = drefs = dunrefs = 0;
	}
	gap = k <= gap ? gap - k : 0;
	if (!dropped)
		gap = n - k;
	out = hc_arena_alloc(arena, (n - k) * sizeof(*out));
	if (!out)
		return false;
	for (i = k; i < n; i++) {
		struct hc_ref_event *e = &out[i - k];

		e->seq = all[i].seq;
		/* Stacks captured after the snapshot's are not in its table. */
		e->stack = all[i].stack < snap->nstacks ? all[i].stack : HC_STACK_NONE;
		e->tid = all[i].tid;
		e->count = all[i].count;
		e->kind = all[i].kind;
		e->flags = all[i].flags;
	}
	h->block = (uint64_t)b;
	h->offset = off;
	h->count = count < HC_REF_COUNT_UNKNOWN ? (uint32_t)count : HC_REF_COUNT_UNKNOWN;
	h->nevents = n - k;
	h->gap = gap;
	h->dropped = dropped;
	h->dropped_refs = drefs;
	h->dropped_unrefs = dunrefs;
	h->events = out;
	return true;
}

void shim_gref_fill(struct hc_snapshot *snap, struct hc_arena *arena)
{
	struct shim_thread *t = shim_enter();
	uint32_t tid = t->tid ? t->tid : shim_gettid(), cap, n = 0, i, j;
	struct shim_gref_node *copy, *nd;
	struct hc_ref_history *hist;
	uint64_t lost;

	if (!atomic_load(&shim_gref_ready) || !shim_gref_lock_for_fill(tid))
		goto out;
	cap = shim_gref_nlive;
	shim_gref_unlock();
	if (cap == 0 && atomic_load(&shim_gref_lost) == 0)
		goto out;
	/* Copied under the lock, into memory taken before it. */
	cap += 64;
	copy = hc_arena_alloc(arena, (size_t)cap * sizeof(*copy));
	hist = hc_arena_alloc(arena, (size_t)cap * sizeof(*hist));
	if (!copy || !hist || !shim_gref_lock_for_fill(tid)) {
		atomic_store(&shim_g.degraded, 1);
		goto out;
	}
	for (nd = shim_gref_newest; nd && n < cap; nd = nd->older)
		copy[n++] = *nd;
	lost = atomic_load(&shim_gref_lost);
	shim_gref_unlock();
	for (i = j = 0; i < n; i++)
		if (shim_gref_fill_one(&copy[i], snap, arena, &hist[j]))
			j++;
	if (j > 1)
		qsort(hist, j, sizeof(*hist), shim_gref_hist_cmp);
	for (i = n = 0; i < j; i++)
		if (n == 0 || hist[i].block != hist[n - 1].block)
			hist[n++] = hist[i];
	snap->ref_lost = lost;
	snap->nrefhists = n;
	snap->refhists = hist;
out:
	shim_leave(t);
}
