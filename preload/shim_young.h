/* SPDX-License-Identifier: MIT */
/*
 * The allocation hot path's side of each thread's young blocks
 * (shim_young.c has the rest and the protocol): the owner's insert and
 * lookup, inline, so that a malloc/free pair pays no call, no register
 * saves and no pointer chain for them.
 */
#ifndef HC_PRELOAD_SHIM_YOUNG_H
#define HC_PRELOAD_SHIM_YOUNG_H

#include "shim.h"
#include "youngset.h"

struct shim_young {
	_Atomic int busy;		/* the owner is inside its set */
	_Atomic int owned;		/* a live thread owns it */
	struct shim_young *next;	/* the registry; never unlinked */
	struct hc_youngset *set;
	uint32_t strikes;		/* under the quiescence */
	uint32_t bypass;		/* the owner's, set under quiescence */
} __attribute__((aligned(64)));

/* Closed while a thread quiesces the sets (shim_young.c). */
extern _Atomic int shim_young_gate;

/* Raises t's busy flag; returns its set, or NULL when the gate is closed
 * (then the shared table is used). */
static inline struct shim_young *shim_young_enter(struct shim_thread *t)
{
	struct shim_young *y = t->young;

	atomic_store_explicit(&y->busy, 1, memory_order_relaxed);
	/* The hardware may still order the load before the store: the
	 * quiescer's membarrier takes care of that, this keeps the compiler
	 * from doing it. */
	atomic_signal_fence(memory_order_seq_cst);
	if (HC_UNLIKELY(atomic_load_explicit(&shim_young_gate, memory_order_relaxed))) {
		atomic_store_explicit(&y->busy, 0, memory_order_release);
		return NULL;
	}
	return y;
}

static inline void shim_young_leave(struct shim_young *y)
{
	atomic_signal_fence(memory_order_seq_cst);
	atomic_store_explicit(&y->busy, 0, memory_order_release);
}

/* shim_young_put when the inline insert cannot: no set yet, a bypass, a
 * full bucket, the growth check. */
bool shim_young_put_slow(struct shim_thread *t, const struct hc_slot *s);

/* The calling thread's own set; false when it must use the shared table
 * (no set, a quiescence running, or the block not there). Caller:
 * in_table > 0 and not re-entered from inside the records. */
static inline __attribute__((always_inline)) bool
shim_young_put(struct shim_thread *t, const struct hc_slot *s)
{
	struct shim_young *y = t->young;
	struct hc_slot *b;

	/* An address the shared table cannot hold (5-level paging) must not
	 * be evicted there later: it goes the table's way now. */
	if (HC_UNLIKELY(!y || y->bypass || !hc_tslot_fits(s->addr)))
		return shim_young_put_slow(t, s);
	b = hc_young_bucket_of(t->young_slots, t->young_bmask, s->addr);
	if (!shim_young_enter(t))
		return false;
	if (HC_LIKELY(hc_youngset_put_free_way(y->set, b, s))) {
		shim_young_leave(y);
		return true;
	}
	shim_young_leave(y);
	return shim_young_put_slow(t, s);
}

static inline __attribute__((always_inline)) bool
shim_young_take(struct shim_thread *t, uintptr_t addr, struct hc_slot *out)
{
	struct shim_young *y = t->young;
	struct hc_slot *b;
	bool found;

	if (!y)
		return false;
	/* The bucket's address depends on nothing another thread changes:
	 * its loads start before the gate is checked. */
	b = hc_young_bucket_of(t->young_slots, t->young_bmask, addr);
	if (!shim_young_enter(t))
		return false;
	found = hc_youngset_take_in(y->set, b, addr, out);
	shim_young_leave(y);
	return found;
}

#endif
