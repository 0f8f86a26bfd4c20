/* SPDX-License-Identifier: MIT */
/*
 * Hash-consed call stacks: each distinct stack is stored once and named by a
 * 32-bit id (LeakSanitizer's StackDepot). Lookups and inserts take no lock,
 * so the shim's hot path never blocks on another thread; memory comes from
 * hc_mem_alloc and is never freed while the depot lives.
 */
#ifndef HC_SRC_STACKDEPOT_H
#define HC_SRC_STACKDEPOT_H

#include <stdint.h>

#define HC_STACK_MAX_FRAMES 256
/* Id 0 means "no stack" (stacks off, or the depot ran out of memory). */
#define HC_STACK_NONE 0u

struct hc_stackdepot;

/* Returns a new empty depot, or NULL when out of memory. */
struct hc_stackdepot *hc_stackdepot_new(void);
/* Frees the depot and every stack in it. Not concurrent with any other call. */
void hc_stackdepot_free(struct hc_stackdepot *d);

/*
 * Returns the id of the stack pcs[0..n) (n is clamped to
 * HC_STACK_MAX_FRAMES), inserting it if new. Equal stacks get equal ids.
 * Returns HC_STACK_NONE for n == 0 or when out of memory.
 * MT-Safe, lock-free; not AS-Safe (may allocate).
 */
uint32_t hc_stackdepot_put(struct hc_stackdepot *d, const uintptr_t *pcs,
			   unsigned n);

/*
 * Returns the frames of id and stores their number in *n, or NULL (and *n =
 * 0) for HC_STACK_NONE or an id never returned by put. The frames stay valid
 * while the depot lives. MT-Safe, AS-Safe, lock-free.
 */
const uintptr_t *hc_stackdepot_get(const struct hc_stackdepot *d, uint32_t id,
				   unsigned *n);

/* Returns the highest id handed out so far; ids are 1..count. MT-Safe, AS-Safe. */
uint32_t hc_stackdepot_count(const struct hc_stackdepot *d);

/* Bytes the depot holds, for the snapshot's own figures. MT-Safe. */
uint64_t hc_stackdepot_bytes(const struct hc_stackdepot *d);

#endif
