/* SPDX-License-Identifier: MIT */
/*
 * A thread's young blocks: the records of the blocks it allocated most
 * recently, kept by that thread alone, without a lock. Most blocks die
 * young (a malloc/free pair a few hundred allocations apart), so most frees
 * find their record here and the shared block table, with its shard locks
 * and cache lines shared between cores, never sees them. Blocks that
 * live longer are pushed out to the shared table by younger ones.
 *
 * The set is not thread-safe: its owner uses it, and another thread only
 * while the owner is known not to (the shim's quiescence, shim_young.c).
 */
#ifndef HC_SRC_YOUNGSET_H
#define HC_SRC_YOUNGSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blocktable.h"
#include "slotmap.h"

/*
 * A set-associative cache of records: a block's address picks a bucket of
 * HC_YOUNG_WAYS records, two cache lines, compared without a branch.
 * Inserting into a full bucket evicts one of its records (round robin:
 * roughly the oldest) to the sink, so the blocks that stay are the ones
 * that die young, and a removal is one store: no probe chains, no
 * tombstones, no cluster to shift back (whose unpredictable branches cost
 * more than the whole malloc in an open-addressing version: 44 ns a pair
 * against 12). The set doubles its buckets (up to max_buckets) while it
 * evicts more than one insert in 64.
 *
 * A removed record keeps its place with its address's low bit set (block
 * addresses are at least 8-aligned), which no lookup matches: a double
 * free still finds it until the way is reused. An empty way holds address
 * 1, so that one bit tells every free way.
 */
#define HC_YOUNG_WAYS 4u	/* hc_young_match() compares 4 */
#define HC_YOUNG_FREED ((uintptr_t)1)
#define HC_YOUNG_VICTIMS 16u
/* Over a window of this many inserts, more than one eviction in 64
 * doubles the set: an evicted block that dies soon after costs its free a
 * trip to the shared table. */
#define HC_YOUNG_WINDOW 4096u

struct hc_youngset {
	struct hc_slot *slots;	/* nbuckets * HC_YOUNG_WAYS, 128-aligned */
	void *raw;		/* what hc_mem_calloc returned */
	uint8_t *next_victim;	/* per bucket: the way evicted next */
	uint32_t bmask;		/* nbuckets - 1 */
	uint32_t max_buckets;
	uint32_t live;
	uint32_t window_puts, window_evictions;	/* for growing */
	/* Evicted records wait here and go to the sink together: the sink
	 * (the shared table) can then fetch all their cache lines at once
	 * instead of waiting for each in turn. */
	uint32_t nvictims;
	struct hc_slot victims[HC_YOUNG_VICTIMS];
	/* The owner writes the fields above on every call: keep another
	 * thread's set off this cache line. */
	char pad[64];
};

/* Takes up to n packed records that leave the set; returns HC_OK or an
 * error (the records are then lost: the caller marks its data degraded). */
typedef int (*hc_youngset_sink_fn)(const struct hc_slot *slots, size_t n, void *arg);

/* nbuckets and max_buckets: powers of two, nbuckets <= max_buckets <=
 * 2^20. Returns NULL when out of memory. */
struct hc_youngset *hc_youngset_new(uint32_t nbuckets, uint32_t max_buckets);
void hc_youngset_free(struct hc_youngset *ys);

/*
 * Adds rec (rec->addr 8-aligned, not 0), evicting a record of its bucket to
 * sink when the bucket is full. Returns HC_OK; HC_ERR_ARG for an address
 * the set cannot hold (the caller stores it elsewhere); or the sink's
 * error (rec is stored all the same; the evicted record is lost).
 */
int hc_youngset_put(struct hc_youngset *ys, const struct hc_block_rec *rec,
		    hc_youngset_sink_fn sink, void *arg);
/* The same with rec packed (hc_slot_pack). */
int hc_youngset_put_slot(struct hc_youngset *ys, const struct hc_slot *s,
			 hc_youngset_sink_fn sink, void *arg);

/* The ways of bucket b that hold address v, as a bit mask. */
static inline unsigned hc_young_match(const struct hc_slot *b, uintptr_t v)
{
	/* Spelled out: -O2 keeps a loop, and its branch, otherwise. */
	return (unsigned)(b[0].addr == v) | (unsigned)(b[1].addr == v) << 1 |
	       (unsigned)(b[2].addr == v) << 2 | (unsigned)(b[3].addr == v) << 3;
}

/* A multiply and a shift: the top half of the product mixes every bit
 * of the address, and a lookup waits on this hash. */
static inline struct hc_slot *hc_young_bucket_of(struct hc_slot *slots, uint32_t bmask,
						 uintptr_t addr)
{
	return &slots[((uint32_t)((addr * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & bmask) *
		      HC_YOUNG_WAYS];
}

static inline struct hc_slot *hc_young_bucket(const struct hc_youngset *ys, uintptr_t addr)
{
	return hc_young_bucket_of(ys->slots, ys->bmask, addr);
}

/* The ways of bucket b that are free (never used, or freed), as a bit
 * mask: their low address bit. */
static inline unsigned hc_young_free_ways(const struct hc_slot *b)
{
	return (unsigned)((b[0].addr & HC_YOUNG_FREED) | (b[1].addr & HC_YOUNG_FREED) << 1 |
			  (b[2].addr & HC_YOUNG_FREED) << 2 | (b[3].addr & HC_YOUNG_FREED) << 3);
}

/*
 * The common insert, inline: the packed record s into a free way of b, its
 * bucket in ys. Packed by the caller, so that the hot path builds the four
 * words once. Returns false, changing nothing, when hc_youngset_put must
 * do it: the bucket is full, the set is due its check for growing, or
 * s->addr is one the set cannot hold.
 */
static inline bool hc_youngset_put_free_way(struct hc_youngset *ys, struct hc_slot *b,
					    const struct hc_slot *s)
{
	unsigned free = hc_young_free_ways(b);

	if (HC_UNLIKELY(!free || ys->window_puts + 1 >= HC_YOUNG_WINDOW || !s->addr ||
			(s->addr & HC_YOUNG_FREED)))
		return false;
	ys->window_puts++;
	b[__builtin_ctz(free)] = *s;
	ys->live++;
	return true;
}

/* Takes addr's record out of the evicted ones waiting for the sink. */
bool hc_youngset_take_victim(struct hc_youngset *ys, uintptr_t addr, struct hc_slot *out);

/* Removes addr's record, copying it, packed, to *out (may be NULL): a free
 * needs two of its fields, not all seven unpacked. Returns true if the set
 * had it. b is addr's bucket (hc_young_bucket), which a caller may have
 * computed early. */
static inline bool hc_youngset_take_in(struct hc_youngset *ys, struct hc_slot *b,
				       uintptr_t addr, struct hc_slot *out)
{
	unsigned m = hc_young_match(b, addr);

	if (!m || (addr & HC_YOUNG_FREED))
		return ys->nvictims && hc_youngset_take_victim(ys, addr, out);
	b += __builtin_ctz(m);
	if (out)
		*out = *b;
	b->addr = addr | HC_YOUNG_FREED;
	ys->live--;
	return true;
}

static inline bool hc_youngset_take(struct hc_youngset *ys, uintptr_t addr,
				    struct hc_block_rec *out)
{
	struct hc_slot s;

	if (!hc_youngset_take_in(ys, hc_young_bucket(ys, addr), addr, &s))
		return false;
	if (out)
		hc_slot_unpack(out, &s);
	return true;
}

/* As hc_blocktable_update_flags, for the set's records. */
bool hc_youngset_update_flags(struct hc_youngset *ys, uintptr_t addr, uint8_t set,
			      uint8_t clear, struct hc_block_rec *out);

/* As hc_blocktable_recently_freed, for the blocks freed from the set
 * whose ways have not been reused since. */
bool hc_youngset_recently_freed(const struct hc_youngset *ys, uintptr_t addr,
				struct hc_block_rec *out);

/* Moves every record to sink, leaving the set empty (records the sink
 * refused are dropped). Returns HC_OK or the sink's first error. */
int hc_youngset_drain(struct hc_youngset *ys, hc_youngset_sink_fn sink, void *arg);

uint64_t hc_youngset_count(const struct hc_youngset *ys);
uint64_t hc_youngset_bytes(const struct hc_youngset *ys);

#endif
