/* SPDX-License-Identifier: MIT */
/*
 * The in-process generational cycle collector for objects the program
 * reference-counts (CPython's gc module, for C): a registry of tracked
 * objects with where each one's count lives, its traverse and clear
 * callbacks and its generation; CPython's scheduling (a collection of
 * generation 0 after threshold0 net new tracked objects, of generation 1
 * after threshold1 collections of generation 0, ...); and one collection
 * over generations 0..k by trial deletion (update_refs, subtract_refs,
 * move_unreachable), with references from older generations counting as
 * external. Memory through hc_mem_*; no locks (the shim serialises calls).
 */
#ifndef HC_SRC_GENERATIONS_H
#define HC_SRC_GENERATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HC_GC_GENERATIONS 3

/* The program's callbacks, with <heapcycle.h>'s signatures. */
typedef int (*hc_visit_fn)(void *referent, void *arg);
typedef int (*hc_traverse_fn)(void *obj, hc_visit_fn visit, void *arg);
typedef void (*hc_clear_fn)(void *obj);

struct hc_gc;
struct hc_gc_result;

/* What a collection needs from its environment (the shim, or a test). */
struct hc_gc_env {
	/*
	 * For an object tracked without traverse: calls visit for every
	 * aligned word of its memory that points into (start or interior) a
	 * tracked object, reading at most the block's requested size.
	 * visit must be given the START address of the tracked object the
	 * word points into (the registry knows no sizes, the environment's
	 * block table does); any other address counts as a reference from
	 * outside, which keeps the object alive (the safe direction).
	 * Returns 0. May be NULL: then such objects have no outgoing refs.
	 */
	int (*scan)(void *obj, hc_visit_fn visit, void *visit_arg, void *env_arg);
	/*
	 * Confirmation (DESIGN.md: a non-owning back pointer looks like an
	 * owning edge to a scan): called with the objects trial deletion found
	 * unreachable; sets keep[i] = true for each one that something outside
	 * the set still reaches (a root, an untracked block). May be NULL:
	 * then trial deletion's verdict stands. Returns 0, or -1 if it could
	 * not decide (the collection then reports nothing as garbage).
	 * Whatever a kept object reaches among the set is kept with it.
	 */
	int (*confirm)(void *const *objs, size_t n, bool *keep, void *env_arg);
	/*
	 * Called once per collection that found garbage, with res filled in,
	 * before any clear runs (reclamation may free the members): the place
	 * to record what was found. May be NULL.
	 */
	void (*found)(const struct hc_gc_result *res, void *env_arg);
	void *arg;
};

/* One object found garbage by a collection. */
struct hc_gc_garbage {
	void *obj;
	uint32_t cycle;		/* index of its strongly connected component
				 * among this collection's garbage */
	bool in_cycle;		/* its component has >= 2 members or a self-ref */
	bool cleared;		/* reclaim called its clear (the object may
				 * be freed memory now: an address only) */
};

struct hc_gc_result {
	int generation;		/* the oldest generation collected */
	size_t collected;	/* tracked objects examined */
	size_t unreachable;	/* found garbage (after confirmation) */
	struct hc_gc_garbage *garbage;	/* unreachable of them, hc_mem memory;
					 * members of a component adjacent */
	size_t cleared;		/* objects whose clear was called (reclaim) */
};

/* Returns a new registry with CPython-like thresholds (see generations.c
 * for the defaults chosen for C allocation rates), or NULL when out of
 * memory. */
struct hc_gc *hc_gc_new(void);
void hc_gc_free(struct hc_gc *gc);

/*
 * Tracks obj: its count is the width-byte (1, 2, 4 or 8) unsigned integer
 * at refcount, read (atomically for 4 and 8) at each collection. traverse
 * may be NULL (the environment's scan is used), clear may be NULL. type
 * may be NULL; it is copied. Tracking an already tracked object updates
 * its callbacks and keeps its generation (and its type when type is NULL;
 * it does not count again). The object enters generation 0
 * and counts towards threshold0. Returns HC_OK, HC_ERR_ARG (bad width,
 * NULL obj or refcount) or HC_ERR_NOMEM.
 */
int hc_gc_track(struct hc_gc *gc, void *obj, const void *refcount, unsigned width,
		hc_traverse_fn traverse, hc_clear_fn clear, const char *type);

/* Forgets obj; count[0] -= 1 (not below 0, whatever obj's generation, as
 * CPython's PyObject_GC_Del). May be called from a clear callback during
 * a collection; traverse, scan and confirm must not track or untrack.
 * Returns true if it was tracked. */
bool hc_gc_untrack(struct hc_gc *gc, void *obj);
bool hc_gc_is_tracked(const struct hc_gc *gc, const void *obj);
/* Sets (copies) the type name of a tracked object; NULL clears it.
 * Returns HC_OK, HC_ERR_ARG (not tracked) or HC_ERR_NOMEM. */
int hc_gc_set_type(struct hc_gc *gc, const void *obj, const char *type);
/* The type name given at track time, or NULL. Type names are interned:
 * the string stays valid until hc_gc_free. */
const char *hc_gc_type(const struct hc_gc *gc, const void *obj);
/* Generation of obj, or -1 when it is not tracked. */
int hc_gc_generation(const struct hc_gc *gc, const void *obj);
size_t hc_gc_count_tracked(const struct hc_gc *gc);

/* gc.get_count(): net new objects in generation 0 since its last
 * collection, collections of generation 0 since the last of 1, of 1 since
 * the last of 2. */
void hc_gc_get_count(const struct hc_gc *gc, int count[HC_GC_GENERATIONS]);
void hc_gc_get_threshold(const struct hc_gc *gc, int threshold[HC_GC_GENERATIONS]);
/* gc.set_threshold(): threshold0 == 0 disables automatic collection.
 * Returns HC_OK or HC_ERR_ARG for a negative value. */
int hc_gc_set_threshold(struct hc_gc *gc, const int threshold[HC_GC_GENERATIONS]);
void hc_gc_set_enabled(struct hc_gc *gc, bool on);
bool hc_gc_is_enabled(const struct hc_gc *gc);
/* Reclamation: when on, a collection calls clear on the members of every
 * unreachable cycle whose members all have one. Off by default. */
void hc_gc_set_reclaim(struct hc_gc *gc, bool on);

/*
 * Which generation is due, as CPython's collect_generations decides: the
 * oldest whose count exceeds its threshold, or -1 when none is (or
 * collection is disabled, or threshold0 is 0). Cannot fail.
 * As in CPython, nothing is due until count[0] > threshold[0] (its trigger
 * in gc_alloc): after threshold1 + 1 collections of generation 0, generation
 * 1 is due at the next overflow of generation 0, not at once. Generation 2
 * also waits, as in CPython 3.11, until the objects that reached it since
 * the last full collection are at least a quarter of those that collection
 * left there (garbage moved there by a younger collection counts as new).
 * -1 too while a collection runs (from traverse, confirm or clear).
 */
int hc_gc_due(const struct hc_gc *gc);

/*
 * Collects generations 0..gen (gen clamped to 0..2): trial deletion over
 * their objects, references from older generations and from outside
 * counting as external; survivors move to gen + 1 (the oldest stays),
 * counts are updated as CPython does. Garbage is confirmed with env's
 * confirm when a candidate has no traverse (with traverse functions on
 * all of them, their verdict is trusted as CPython trusts tp_traverse),
 * split into strongly connected components, and reported in res
 * (release with hc_gc_result_fini); garbage stays tracked (the program
 * still owns it) and moves to the oldest generation so that it is not
 * reported again at every collection. With reclaim on, clear is called
 * last, after every callback into the registry is done, only on objects
 * still tracked (by the same track call) when their turn comes: clear may
 * unref, free and untrack other members. Each object's traverse (or scan)
 * is called exactly once per collection. Called while a collection runs
 * (from a clear), returns HC_OK with nothing collected, as gc.collect().
 * Returns HC_OK or HC_ERR_NOMEM (nothing changed; confirm may have run).
 */
int hc_gc_collect(struct hc_gc *gc, int gen, const struct hc_gc_env *env,
		  struct hc_gc_result *res);
void hc_gc_result_fini(struct hc_gc_result *res);

/* Calls fn for every tracked object (for the snapshot). Stops when fn
 * returns non-zero and returns that value. */
int hc_gc_foreach(const struct hc_gc *gc,
		  int (*fn)(void *obj, const void *refcount, unsigned width, int generation,
			    const char *type, void *arg),
		  void *arg);

#endif
