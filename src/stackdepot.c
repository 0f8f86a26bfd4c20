/* SPDX-License-Identifier: MIT */
/*
 * The stack depot: hash-consing of call stacks into 32-bit ids, without a
 * lock (LeakSanitizer's StackDepot, with its fixed 2^20-bucket table). A
 * stack lives in one node, frames inline, on the singly-linked chain of its
 * bucket; nodes are pushed on a chain head with a CAS and never removed, so
 * a reader that loaded a head with acquire order can walk the chain without
 * further synchronisation. Ids come from one counter and are mapped back to
 * nodes by a two-level table of pointers whose pages are installed with a
 * CAS, so hc_stackdepot_get() is a few loads (AS-safe, for the snapshot
 * taken while other threads are stopped). This file owns the depot's memory
 * and the id order; what a frame means (symbolization, module offsets) is
 * left to symbolize.c, and when to capture a stack to the shim.
 */
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hc.h"
#include "stackdepot.h"

/*
 * Fixed bucket array, allocated once: growing a lock-free hash chain table
 * means either a stop-the-world rehash or split-ordered lists, both of which
 * put work on the hot path that a fixed table never pays. 2^20 head pointers
 * cost 8 MiB once per process (hc_mem_calloc zeroes them, so they are
 * resident from the start); in exchange a million stacks still average one
 * node per chain, and a lookup is one bucket load plus one node.
 */
#define DEPOT_BUCKET_BITS 20
#define DEPOT_NBUCKETS (1u << DEPOT_BUCKET_BITS)

/*
 * id -> node: DEPOT_L1 first-level slots (inline in the depot) each naming a
 * page of DEPOT_PAGE pointers allocated on first use. 2^13 * 2^15 ids = 2^28
 * distinct stacks, far more than any program has (LSan sees tens of
 * thousands); past that, put returns HC_STACK_NONE.
 */
#define DEPOT_PAGE_BITS 15
#define DEPOT_PAGE (1u << DEPOT_PAGE_BITS)
#define DEPOT_L1 (1u << 13)
#define DEPOT_MAX_ID ((uint64_t)DEPOT_L1 * DEPOT_PAGE - 1)

/* node->id while the node is in its chain but its id is not yet assigned. */
#define DEPOT_ID_PENDING 0u
/* node->id of a node that could not get an id (out of ids or of memory). */
#define DEPOT_ID_FAILED UINT32_MAX

struct depot_node {
	struct depot_node *next;	/* immutable once the node is visible */
	uint64_t hash;
	uint32_t id;			/* atomic: PENDING, FAILED or the id */
	uint32_t n;
	uintptr_t frames[];
};

struct hc_stackdepot {
	struct depot_node **buckets;	/* atomic heads */
	uint64_t next_id;		/* atomic: ids handed out so far */
	uint64_t bytes;			/* atomic */
	struct depot_node **pages[DEPOT_L1];	/* atomic; pages of atomic slots */
};

/*
 * A 64-bit hash of the frames. Two independent multiply lanes halve the
 * dependency chain (a 20-frame stack is hashed on every allocation), then
 * murmur3's fmix64 spreads the result over the bucket bits.
 */
static uint64_t depot_hash(const uintptr_t *pcs, unsigned n)
{
	uint64_t a = 0x9e3779b97f4a7c15ull ^ n;
	uint64_t b = 0xc2b2ae3d27d4eb4full;
	unsigned i;

	for (i = 0; i + 1 < n; i += 2) {
		a = (a ^ pcs[i]) * 0xff51afd7ed558ccdull;
		b = (b ^ pcs[i + 1]) * 0xc4ceb9fe1a85ec53ull;
		a ^= a >> 29;
		b ^= b >> 31;
	}
	if (i < n)
		a = (a ^ pcs[i]) * 0xff51afd7ed558ccdull;
	a ^= (b << 23) | (b >> 41);
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdull;
	a ^= a >> 33;
	a *= 0xc4ceb9fe1a85ec53ull;
	a ^= a >> 33;
	return a;
}

static void depot_add_bytes(struct hc_stackdepot *d, uint64_t n)
{
	__atomic_fetch_add(&d->bytes, n, __ATOMIC_RELAXED);
}

struct hc_stackdepot *hc_stackdepot_new(void)
{
	struct hc_stackdepot *d = hc_mem_calloc(1, sizeof(*d));

	if (!d)
		goto out;
	d->buckets = hc_mem_calloc(DEPOT_NBUCKETS, sizeof(*d->buckets));
	if (!d->buckets) {
		hc_mem_free(d);
		d = NULL;
		goto out;
	}
	d->bytes = sizeof(*d) + (uint64_t)DEPOT_NBUCKETS * sizeof(*d->buckets);
out:
	return d;
}

void hc_stackdepot_free(struct hc_stackdepot *d)
{
	unsigned i;

	if (!d)
		return;
	/* Chains, not the id table: a node that failed to get an id is only
	 * on its chain. */
	for (i = 0; i < DEPOT_NBUCKETS; i++) {
		struct depot_node *node = d->buckets[i];

		while (node) {
			struct depot_node *next = node->next;

			hc_mem_free(node);
			node = next;
		}
	}
	for (i = 0; i < DEPOT_L1; i++) {
		if (d->pages[i])
			hc_mem_free(d->pages[i]);
	}
	hc_mem_free(d->buckets);
	hc_mem_free(d);
}

/* Returns the chain node equal to pcs[0..n), or NULL; walks from head. */
static struct depot_node *depot_find(struct depot_node *head, uint64_t hash,
				     const uintptr_t *pcs, unsigned n)
{
	struct depot_node *node;

	for (node = head; node; node = node->next) {
		if (node->hash == hash && node->n == n &&
		    memcmp(node->frames, pcs, n * sizeof(*pcs)) == 0)
			return node;
	}
	return NULL;
}

/*
 * Returns the id of a node found on a chain. A node can be visible on its
 * chain a few instructions before its inserter has assigned its id (see
 * depot_publish); a thread that finds it then waits for those instructions
 * rather than handing out a second id for the same stack.
 */
static uint32_t depot_node_id(const struct depot_node *node)
{
	uint32_t id;
	unsigned spins = 0;

	while ((id = __atomic_load_n(&node->id, __ATOMIC_ACQUIRE)) ==
	       DEPOT_ID_PENDING) {
		if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		} else {
			/* The inserter was preempted between its CAS and its
			 * id store: give it the CPU. */
			sched_yield();
		}
	}
	return id == DEPOT_ID_FAILED ? HC_STACK_NONE : id;
}

/* Returns the id-table page for id, installing a zeroed one if needed, or
 * NULL when out of memory. */
static struct depot_node **depot_page(struct hc_stackdepot *d, uint64_t id)
{
	struct depot_node ***l1 = &d->pages[id >> DEPOT_PAGE_BITS];
	struct depot_node **page = __atomic_load_n(l1, __ATOMIC_ACQUIRE);
	struct depot_node **expected = NULL;

	if (page)
		return page;
	page = hc_mem_calloc(DEPOT_PAGE, sizeof(*page));
	if (!page)
		return NULL;
	if (__atomic_compare_exchange_n(l1, &expected, page, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		depot_add_bytes(d, (uint64_t)DEPOT_PAGE * sizeof(*page));
		return page;
	}
	/* Another thread installed the page first. */
	hc_mem_free(page);
	return expected;
}

/*
 * Gives the node (already on its chain) the next id: the id is taken only
 * once the node has won its place, so ids have no holes and count() equals
 * the number of distinct stacks. The id -> node slot is stored before the
 * node's id, so any id a thread can learn (from put) already resolves in get.
 */
static uint32_t depot_publish(struct hc_stackdepot *d, struct depot_node *node)
{
	uint64_t id = __atomic_add_fetch(&d->next_id, 1, __ATOMIC_RELAXED);
	struct depot_node **page;
	uint32_t ret = HC_STACK_NONE;

	if (id > DEPOT_MAX_ID)
		goto out;
	page = depot_page(d, id);
	if (!page)
		goto out;
	__atomic_store_n(&page[id & (DEPOT_PAGE - 1)], node, __ATOMIC_RELEASE);
	ret = (uint32_t)id;
out:
	/* On failure the id (if any) stays a hole that get() reports as NULL,
	 * and the stack maps to HC_STACK_NONE for every caller. */
	__atomic_store_n(&node->id, ret ? ret : DEPOT_ID_FAILED,
			 __ATOMIC_RELEASE);
	return ret;
}

uint32_t hc_stackdepot_put(struct hc_stackdepot *d, const uintptr_t *pcs,
			   unsigned n)
{
	struct depot_node **bucket;
	struct depot_node *head, *node, *fresh = NULL;
	uint64_t hash;
	size_t size;
	uint32_t id = HC_STACK_NONE;

	if (n == 0)
		goto out;
	if (n > HC_STACK_MAX_FRAMES)
		n = HC_STACK_MAX_FRAMES;
	hash = depot_hash(pcs, n);
	bucket = &d->buckets[hash & (DEPOT_NBUCKETS - 1)];
	head = __atomic_load_n(bucket, __ATOMIC_ACQUIRE);
	node = depot_find(head, hash, pcs, n);
	if (node) {
		id = depot_node_id(node);
		goto out;
	}

	size = sizeof(*fresh) + n * sizeof(*pcs);
	fresh = hc_mem_alloc(size);
	if (!fresh)
		goto out;
	fresh->hash = hash;
	fresh->n = n;
	fresh->id = DEPOT_ID_PENDING;
	memcpy(fresh->frames, pcs, n * sizeof(*pcs));
	for (;;) {
		struct depot_node *seen = head;

		fresh->next = head;
		if (__atomic_compare_exchange_n(bucket, &head, fresh, false,
						__ATOMIC_RELEASE,
						__ATOMIC_ACQUIRE))
			break;
		/* Lost the race: head now holds the new chain head. Only the
		 * nodes pushed since we looked can be our stack. */
		for (node = head; node != seen; node = node->next) {
			if (node->hash == hash && node->n == n &&
			    memcmp(node->frames, pcs, n * sizeof(*pcs)) == 0) {
				hc_mem_free(fresh);
				fresh = NULL;
				id = depot_node_id(node);
				goto out;
			}
		}
	}
	depot_add_bytes(d, size);
	id = depot_publish(d, fresh);
out:
	return id;
}

const uintptr_t *hc_stackdepot_get(const struct hc_stackdepot *d, uint32_t id,
				   unsigned *n)
{
	struct depot_node **page;
	struct depot_node *node = NULL;

	if (id == HC_STACK_NONE || id > DEPOT_MAX_ID)
		goto out;
	page = __atomic_load_n(&d->pages[id >> DEPOT_PAGE_BITS],
			       __ATOMIC_ACQUIRE);
	if (!page)
		goto out;
	node = __atomic_load_n(&page[id & (DEPOT_PAGE - 1)], __ATOMIC_ACQUIRE);
out:
	*n = node ? node->n : 0;
	return node ? node->frames : NULL;
}

uint32_t hc_stackdepot_count(const struct hc_stackdepot *d)
{
	uint64_t c = __atomic_load_n(&d->next_id, __ATOMIC_ACQUIRE);

	return c > DEPOT_MAX_ID ? (uint32_t)DEPOT_MAX_ID : (uint32_t)c;
}

uint64_t hc_stackdepot_bytes(const struct hc_stackdepot *d)
{
	return __atomic_load_n(&d->bytes, __ATOMIC_RELAXED);
}
