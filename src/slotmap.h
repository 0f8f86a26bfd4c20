/* SPDX-License-Identifier: MIT */
/*
 * Block records packed for storage: struct hc_slot (32 bytes, every field
 * whole: a thread's young blocks, youngset.c, and what moves between the
 * tables) and struct hc_tslot (24 bytes), the record of the shared block
 * table's open-addressing map, with linear probing and backward-shift
 * deletion (no tombstones, so millions of malloc/free pairs leave probe
 * sequences as short as a fresh map's). The shard locks are blocktable.c's.
 * Inline: this is the allocation hot path of the shim. Memory from
 * hc_mem_alloc.
 */
#ifndef HC_SRC_SLOTMAP_H
#define HC_SRC_SLOTMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hc.h"
#include "blocktable.h"

/*
 * A record moved whole: struct hc_block_rec is 40 bytes with its padding,
 * this is 32. The requested size and the birth sequence give up their top byte
 * to kind and flags: a live block cannot be 2^56 bytes (no Linux user
 * address space is that large) and 2^56 allocations take decades. reserved
 * is not stored and reads back as 0.
 */
struct hc_slot {
	uintptr_t addr;		/* 0: empty */
	uint64_t size_flags;	/* size | flags << 56 */
	uint64_t seq_kind;	/* seq | kind << 56 */
	uint64_t stack_tid;	/* stack | tid << 32 */
};

#define HC_SLOT_LOW56 ((UINT64_C(1) << 56) - 1)

/*
 * murmur3's fmix64 less one round: the top bits pick a shard, the low bits
 * the home slot. Block addresses share their low 4 bits and most of their
 * high ones, so both ends need bits mixed in from the middle.
 */
static inline uint64_t hc_slot_hash(uintptr_t addr)
{
	uint64_t x = addr;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static inline void hc_slot_pack(struct hc_slot *s, const struct hc_block_rec *rec)
{
	s->addr = rec->addr;
	s->size_flags = (rec->size & HC_SLOT_LOW56) | (uint64_t)rec->flags << 56;
	s->seq_kind = (rec->seq & HC_SLOT_LOW56) | (uint64_t)rec->kind << 56;
	s->stack_tid = rec->stack | (uint64_t)rec->tid << 32;
}

static inline void hc_slot_unpack(struct hc_block_rec *rec, const struct hc_slot *s)
{
	memset(rec, 0, sizeof(*rec));
	rec->addr = s->addr;
	rec->size = s->size_flags & HC_SLOT_LOW56;
	rec->flags = (uint8_t)(s->size_flags >> 56);
	rec->seq = s->seq_kind & HC_SLOT_LOW56;
	rec->kind = (uint8_t)(s->seq_kind >> 56);
	rec->stack = (uint32_t)s->stack_tid;
	rec->tid = (uint32_t)(s->stack_tid >> 32);
}

/*
 * The shared table's record, 24 bytes: at most 48 bytes a live block at
 * the loads the map keeps (between 1/2 and 3/4). x86-64 user addresses
 * fit in 48 bits, Linux thread ids in 22 (PID_MAX_LIMIT), and 40 bits are a
 * terabyte for a size and a trillion for a birth number (three days of
 * four million allocations a second; later ones share the last number).
 *
 *   w0: addr (48) | kind (2) << 48 | flags (8) << 50 | seq bits 32-37 << 58
 *   w1: size (40) | tid (22) << 40 | seq bits 38-39 << 62
 *   w2: stack (32) | seq bits 0-31 << 32
 */
struct hc_tslot {
	uint64_t w0;		/* 0: empty */
	uint64_t w1;
	uint64_t w2;
};

#define HC_TSLOT_ADDR_MASK ((UINT64_C(1) << 48) - 1)
#define HC_TSLOT_MAX40 ((UINT64_C(1) << 40) - 1)
#define HC_TSLOT_TID_MASK ((UINT64_C(1) << 22) - 1)

/* Whether the map can hold a record for addr. */
static inline bool hc_tslot_fits(uintptr_t addr)
{
	return addr && addr <= HC_TSLOT_ADDR_MASK;
}

static inline uintptr_t hc_tslot_addr(const struct hc_tslot *s)
{
	return (uintptr_t)(s->w0 & HC_TSLOT_ADDR_MASK);
}

static inline void hc_tslot_pack(struct hc_tslot *s, const struct hc_block_rec *rec)
{
	uint64_t seq = rec->seq > HC_TSLOT_MAX40 ? HC_TSLOT_MAX40 : rec->seq;
	uint64_t size = rec->size > HC_TSLOT_MAX40 ? HC_TSLOT_MAX40 : rec->size;

	s->w0 = ((uint64_t)rec->addr & HC_TSLOT_ADDR_MASK) | (uint64_t)(rec->kind & 3) << 48 |
		(uint64_t)rec->flags << 50 | ((seq >> 32) & 0x3f) << 58;
	s->w1 = size | ((uint64_t)rec->tid & HC_TSLOT_TID_MASK) << 40 | (seq >> 38) << 62;
	s->w2 = rec->stack | (seq & 0xffffffffu) << 32;
}

static inline void hc_tslot_unpack(struct hc_block_rec *rec, const struct hc_tslot *s)
{
	memset(rec, 0, sizeof(*rec));
	rec->addr = hc_tslot_addr(s);
	rec->kind = (uint8_t)((s->w0 >> 48) & 3);
	rec->flags = (uint8_t)(s->w0 >> 50);
	rec->size = s->w1 & HC_TSLOT_MAX40;
	rec->tid = (uint32_t)((s->w1 >> 40) & HC_TSLOT_TID_MASK);
	rec->stack = (uint32_t)s->w2;
	rec->seq = (s->w2 >> 32) | (s->w0 >> 58) << 32 | (s->w1 >> 62) << 38;
}

/*
 * The map: nslots need not be a power of two (it grows by half, so that
 * the load stays between 1/2 and 3/4: by doubling it would fall to 3/8).
 * The home slot is the hash's low 32 bits scaled to nslots.
 */
struct hc_slotmap {
	struct hc_tslot *slots;
	uint32_t nslots;	/* atomic for readers of bytes() */
	uint32_t count;		/* atomic for readers of count() */
};

/* nslots >= 2. Returns HC_OK or HC_ERR_NOMEM. */
static inline int hc_slotmap_init(struct hc_slotmap *m, uint32_t nslots)
{
	m->slots = hc_mem_calloc(nslots, sizeof(*m->slots));
	m->nslots = nslots;
	m->count = 0;
	return m->slots ? HC_OK : HC_ERR_NOMEM;
}

static inline void hc_slotmap_fini(struct hc_slotmap *m)
{
	hc_mem_free(m->slots);
	m->slots = NULL;
}

static inline uint64_t hc_slotmap_bytes(const struct hc_slotmap *m)
{
	return (uint64_t)__atomic_load_n(&m->nslots, __ATOMIC_RELAXED) * sizeof(struct hc_tslot);
}

static inline uint32_t hc_slotmap_home(uint64_t hash, uint32_t nslots)
{
	return (uint32_t)(((hash & 0xffffffffu) * nslots) >> 32);
}

static inline uint32_t hc_slotmap_next(uint32_t i, uint32_t nslots)
{
	return i + 1 == nslots ? 0 : i + 1;
}

/* Returns the index of addr's slot, or of the empty slot that ends its
 * probe sequence. The map always keeps an empty slot, so this ends. */
static inline uint32_t hc_slotmap_probe(const struct hc_slotmap *m, uintptr_t addr,
					uint64_t hash)
{
	uint32_t i = hc_slotmap_home(hash, m->nslots);

	for (;;) {
		uint64_t w0 = m->slots[i].w0;

		if (w0 == 0 || (w0 & HC_TSLOT_ADDR_MASK) == addr)
			return i;
		i = hc_slotmap_next(i, m->nslots);
	}
}

/* Resizes to nslots (above count). Returns HC_OK, or HC_ERR_NOMEM with the
 * map unchanged. */
int hc_slotmap_resize(struct hc_slotmap *m, uint32_t nslots);

/*
 * Inserts or replaces rec (hc_tslot_fits(rec->addr)). The map grows by half
 * when it would be more than 3/4 full: at 15/16 a program growing to a
 * million live blocks spent 44% of its time probing (linear probing's miss
 * costs about (1 + 1/(1-a)^2)/2 slots at load a, 128 at 15/16 against 8.5
 * at 3/4). A map that cannot grow runs hotter rather than forget a live
 * block, up to the one empty slot every probe needs. Returns HC_OK or
 * HC_ERR_NOMEM (map unchanged).
 */
static inline int hc_slotmap_put(struct hc_slotmap *m, const struct hc_block_rec *rec,
				 uint64_t hash)
{
	uint32_t i = hc_slotmap_probe(m, rec->addr, hash);

	if (m->slots[i].w0 == 0) {
		uint64_t slots = m->nslots;

		if (HC_UNLIKELY(((uint64_t)m->count + 1) * 4 > slots * 3)) {
			uint64_t grown = slots + slots / 2;

			if (grown <= UINT32_MAX && hc_slotmap_resize(m, (uint32_t)grown) == HC_OK)
				i = hc_slotmap_probe(m, rec->addr, hash);
			else if ((uint64_t)m->count + 2 > slots)
				return HC_ERR_NOMEM;
		}
		__atomic_store_n(&m->count, m->count + 1, __ATOMIC_RELAXED);
	}
	hc_tslot_pack(&m->slots[i], rec);
	return HC_OK;
}

/*
 * Empties slot i and shifts later members of its cluster back (Knuth's
 * Algorithm R), so no tombstone is left and no probe sequence grows.
 */
static inline void hc_slotmap_delete_at(struct hc_slotmap *m, uint32_t i)
{
	uint32_t n = m->nslots, j = i;

	for (;;) {
		uint32_t home, dist_home, dist_hole;

		j = hc_slotmap_next(j, n);
		if (!m->slots[j].w0)
			break;
		home = hc_slotmap_home(hc_slot_hash(hc_tslot_addr(&m->slots[j])), n);
		/* The entry at j may move to the hole at i unless its home
		 * lies cyclically in (i, j]. */
		dist_home = j >= home ? j - home : j + n - home;
		dist_hole = j >= i ? j - i : j + n - i;
		if (dist_home >= dist_hole) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].w0 = 0;
	__atomic_store_n(&m->count, m->count - 1, __ATOMIC_RELAXED);
}

/* The index of addr's record, or UINT32_MAX when the map has none. */
static inline uint32_t hc_slotmap_find(const struct hc_slotmap *m, uintptr_t addr,
				       uint64_t hash)
{
	uint32_t i;

	if (!hc_tslot_fits(addr))
		return UINT32_MAX;
	i = hc_slotmap_probe(m, addr, hash);
	return m->slots[i].w0 == 0 ? UINT32_MAX : i;
}

/* Removes addr's record and copies it to *out (may be NULL); returns true
 * if there was one. */
static inline bool hc_slotmap_take(struct hc_slotmap *m, uintptr_t addr, uint64_t hash,
				   struct hc_block_rec *out)
{
	uint32_t i = hc_slotmap_find(m, addr, hash);

	if (i == UINT32_MAX)
		return false;
	if (out)
		hc_tslot_unpack(out, &m->slots[i]);
	hc_slotmap_delete_at(m, i);
	return true;
}

/* Sets and clears flag bits of addr's record, copying the updated record to
 * *out (may be NULL). Returns true if there was one. */
static inline bool hc_slotmap_update_flags(struct hc_slotmap *m, uintptr_t addr, uint64_t hash,
					   uint8_t set, uint8_t clear, struct hc_block_rec *out)
{
	struct hc_block_rec rec;
	uint32_t i = hc_slotmap_find(m, addr, hash);

	if (i == UINT32_MAX)
		return false;
	hc_tslot_unpack(&rec, &m->slots[i]);
	if (set || clear) {
		rec.flags = (uint8_t)((rec.flags | set) & ~clear);
		hc_tslot_pack(&m->slots[i], &rec);
	}
	if (out)
		*out = rec;
	return true;
}

/*
 * The most recently freed records, so that a double free can be reported
 * with the block's allocation stack.
 */
#define HC_FREED_RING 16u

struct hc_freed_ring {
	uint32_t next;		/* next entry to overwrite */
	struct hc_slot slot[HC_FREED_RING];
};

static inline void hc_freed_ring_add(struct hc_freed_ring *r, const struct hc_slot *s)
{
	r->slot[r->next++ % HC_FREED_RING] = *s;
}

/* Newest first: the address may have been freed more than once. */
static inline bool hc_freed_ring_find(const struct hc_freed_ring *r, uintptr_t addr,
				      struct hc_block_rec *out)
{
	uint32_t k;

	for (k = 1; k <= HC_FREED_RING && k <= r->next; k++) {
		const struct hc_slot *f = &r->slot[(r->next - k) % HC_FREED_RING];

		if (f->addr == addr) {
			if (out)
				hc_slot_unpack(out, f);
			return true;
		}
	}
	return false;
}

#endif
