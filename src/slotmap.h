/* SPDX-License-Identifier: MIT */
/*
 * One open-addressing map of block records, address -> record, with linear
 * probing and backward-shift deletion (no tombstones, so millions of
 * malloc/free pairs leave probe sequences as short as a fresh map's). It is
 * the storage of both the shared block table's shards (blocktable.c, under
 * a shard lock) and a thread's young blocks (youngset.c, no lock): the
 * locking is theirs. Everything is inline because it is the allocation hot
 * path of the shim. Memory from hc_mem_alloc.
 */
#ifndef HC_SRC_SLOTMAP_H
#define HC_SRC_SLOTMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hc.h"
#include "blocktable.h"

/*
 * A record as stored: struct hc_block_rec is 40 bytes with its padding, this
 * is 32. The requested size and the birth sequence give up their top byte
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

struct hc_slotmap {
	struct hc_slot *slots;
	uint32_t mask;		/* slots - 1; atomic for readers of bytes() */
	uint32_t count;		/* atomic for readers of count() */
};

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

/* nslots: a power of two. Returns HC_OK or HC_ERR_NOMEM. */
static inline int hc_slotmap_init(struct hc_slotmap *m, uint32_t nslots)
{
	m->slots = hc_mem_calloc(nslots, sizeof(*m->slots));
	m->mask = nslots - 1;
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
	return ((uint64_t)__atomic_load_n(&m->mask, __ATOMIC_RELAXED) + 1) * sizeof(struct hc_slot);
}

/* Returns the index of addr's slot, or of the empty slot that ends its
 * probe sequence. The map always keeps an empty slot, so this ends. */
static inline uint32_t hc_slotmap_probe(const struct hc_slotmap *m, uintptr_t addr,
					uint64_t hash)
{
	uint32_t i = (uint32_t)hash & m->mask;

	while (m->slots[i].addr != addr && m->slots[i].addr != 0)
		i = (i + 1) & m->mask;
	return i;
}

/* Resizes to nslots (a power of two above count). Returns HC_OK, or
 * HC_ERR_NOMEM with the map unchanged. */
int hc_slotmap_resize(struct hc_slotmap *m, uint32_t nslots);

/*
 * Inserts or replaces rec. The map grows by doubling when it would be
 * more than 3/4 full: at 15/16 a program growing to a million live blocks
 * spent 44% of its time probing (linear probing's miss costs about
 * (1 + 1/(1-a)^2)/2 slots at load a, 128 at 15/16 against 8.5 at 3/4).
 * A map that cannot grow runs hotter rather than forget a live block, up to
 * the one empty slot every probe needs. Returns HC_OK or HC_ERR_NOMEM (map
 * unchanged).
 */
static inline int hc_slotmap_put(struct hc_slotmap *m, const struct hc_block_rec *rec,
				 uint64_t hash)
{
	uint32_t i = hc_slotmap_probe(m, rec->addr, hash);

	if (m->slots[i].addr == 0) {
		uint64_t slots = (uint64_t)m->mask + 1;

		if (HC_UNLIKELY(((uint64_t)m->count + 1) * 4 > slots * 3)) {
			if (slots <= UINT32_MAX / 2 &&
			    hc_slotmap_resize(m, (uint32_t)slots * 2) == HC_OK)
				i = hc_slotmap_probe(m, rec->addr, hash);
			else if ((uint64_t)m->count + 2 > slots)
				return HC_ERR_NOMEM;
		}
		__atomic_store_n(&m->count, m->count + 1, __ATOMIC_RELAXED);
	}
	hc_slot_pack(&m->slots[i], rec);
	return HC_OK;
}

/*
 * Empties slot i and shifts later members of its cluster back (Knuth's
 * Algorithm R), so no tombstone is left and no probe sequence grows.
 */
static inline void hc_slotmap_delete_at(struct hc_slotmap *m, uint32_t i)
{
	uint32_t mask = m->mask, j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (!m->slots[j].addr)
			break;
		home = (uint32_t)hc_slot_hash(m->slots[j].addr) & mask;
		/* The entry at j may move to the hole at i unless its home
		 * lies cyclically in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].addr = 0;
	__atomic_store_n(&m->count, m->count - 1, __ATOMIC_RELAXED);
}

/* Removes addr's slot and copies it to *out (may be NULL); returns true if
 * there was one. */
static inline bool hc_slotmap_take(struct hc_slotmap *m, uintptr_t addr, uint64_t hash,
				   struct hc_slot *out)
{
	uint32_t i = hc_slotmap_probe(m, addr, hash);

	if (m->slots[i].addr == 0)
		return false;
	if (out)
		*out = m->slots[i];
	hc_slotmap_delete_at(m, i);
	return true;
}

/* Sets and clears flag bits of addr's record, copying the updated record to
 * *out (may be NULL). Returns true if there was one. */
static inline bool hc_slotmap_update_flags(struct hc_slotmap *m, uintptr_t addr, uint64_t hash,
					   uint8_t set, uint8_t clear, struct hc_block_rec *out)
{
	uint32_t i = hc_slotmap_probe(m, addr, hash);
	struct hc_block_rec rec;

	if (m->slots[i].addr == 0)
		return false;
	hc_slot_unpack(&rec, &m->slots[i]);
	if (set || clear) {
		rec.flags = (uint8_t)((rec.flags | set) & ~clear);
		hc_slot_pack(&m->slots[i], &rec);
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
