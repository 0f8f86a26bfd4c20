/* SPDX-License-Identifier: MIT */
/*
 * The table of live blocks: 64 shards chosen by a hash of the address, each
 * an open-addressing table with linear probing and backward-shift deletion
 * (no tombstones, so millions of malloc/free pairs leave probe sequences as
 * short as a fresh table's), grown by doubling under the shard's mutex. A
 * record is packed into a 32-byte slot (see struct bt_slot) to keep the
 * metadata per live block small. This file owns the slots and the shard
 * locks; what a record means, and when the locks must all be held (fork,
 * snapshot), is the shim's business.
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hc.h"
#include "blocktable.h"

#define BT_SHARD_BITS 6
#define BT_NSHARDS (1u << BT_SHARD_BITS)
/* 64 shards * 32 slots * 32 bytes: 64 KiB for an empty table. */
#define BT_INITIAL_SLOTS 32u
/*
 * Grow when a shard would be more than 3/4 full. At 15/16 (which kept the
 * table near 48 bytes a block) a program growing to a million live blocks
 * spent 44% of its time probing: linear probing's miss costs about
 * (1 + 1/(1-a)^2)/2 slots at load a, 128 at 15/16 against 8.5 at 3/4. The
 * price is memory: with 32-byte slots, 43 to 85 bytes a live block between
 * doublings instead of 34 to 68.
 */
#define BT_LOAD_NUM 3u
#define BT_LOAD_DEN 4u

/*
 * A record as stored: struct hc_block_rec is 40 bytes with its padding, this
 * is 32. The requested size and the birth sequence give up their top byte
 * to kind and flags: a live block cannot be 2^56 bytes (no Linux user
 * address space is that large) and 2^56 allocations take decades. reserved
 * is not stored and reads back as 0.
 */
struct bt_slot {
	uintptr_t addr;		/* 0: empty */
	uint64_t size_flags;	/* size | flags << 56 */
	uint64_t seq_kind;	/* seq | kind << 56 */
	uint64_t stack_tid;	/* stack | tid << 32 */
};

#define BT_LOW56 ((UINT64_C(1) << 56) - 1)

/* One cache line per shard, so threads on different shards do not bounce
 * each other's lock word. */
/* Records of the shard's most recently freed blocks, so that a double
 * free can be reported with the block's allocation stack. */
#define BT_FREED_RING 16u

struct bt_shard {
	_Atomic int lock;	/* bt_lock(): held for a probe and a store */
	struct bt_slot *slots;	/* written under lock; read by bytes() */
	uint32_t mask;		/* slots - 1; atomic for bytes() */
	uint32_t count;		/* atomic for count() */
	uint32_t freed_next;	/* under lock: next ring entry to overwrite */
	struct bt_slot freed[BT_FREED_RING];
} __attribute__((aligned(64)));

/*
 * A test-and-test-and-set lock. A shard is held for a hash probe and a
 * store (a resize is the rare exception), so spinning briefly beats
 * pthread_mutex_t, whose lock and unlock were 22% of an allocation-heavy
 * profile; a waiter yields after a short spin, so a holder preempted on a
 * 2-core machine gets its CPU back. Never held across a call that could
 * re-enter the shim.
 */
static inline void bt_lock(struct bt_shard *sh)
{
	unsigned spins = 0;

	while (atomic_exchange_explicit(&sh->lock, 1, memory_order_acquire)) {
		while (atomic_load_explicit(&sh->lock, memory_order_relaxed)) {
			if (++spins < 100)
				__builtin_ia32_pause();
			else
				sched_yield();
		}
	}
}

static inline void bt_unlock(struct bt_shard *sh)
{
	atomic_store_explicit(&sh->lock, 0, memory_order_release);
}

struct hc_blocktable {
	struct bt_shard shards[BT_NSHARDS];
	void *raw;		/* what hc_mem_alloc returned, before alignment */
};

/*
 * murmur3's fmix64 less one round: the top bits pick the shard, the low bits
 * the home slot. Block addresses share their low 4 bits and most of their
 * high ones, so both ends need bits mixed in from the middle.
 */
static inline uint64_t bt_hash(uintptr_t addr)
{
	uint64_t x = addr;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static inline void bt_pack(struct bt_slot *s, const struct hc_block_rec *rec)
{
	s->addr = rec->addr;
	s->size_flags = (rec->size & BT_LOW56) | (uint64_t)rec->flags << 56;
	s->seq_kind = (rec->seq & BT_LOW56) | (uint64_t)rec->kind << 56;
	s->stack_tid = rec->stack | (uint64_t)rec->tid << 32;
}

static inline void bt_unpack(struct hc_block_rec *rec, const struct bt_slot *s)
{
	memset(rec, 0, sizeof(*rec));
	rec->addr = s->addr;
	rec->size = s->size_flags & BT_LOW56;
	rec->flags = (uint8_t)(s->size_flags >> 56);
	rec->seq = s->seq_kind & BT_LOW56;
	rec->kind = (uint8_t)(s->seq_kind >> 56);
	rec->stack = (uint32_t)s->stack_tid;
	rec->tid = (uint32_t)(s->stack_tid >> 32);
}

struct hc_blocktable *hc_blocktable_new(void)
{
	struct hc_blocktable *t = NULL;
	void *raw;
	unsigned i;

	raw = hc_mem_alloc(sizeof(*t) + 63);
	if (!raw)
		goto out;
	t = (struct hc_blocktable *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
	memset(t, 0, sizeof(*t));
	t->raw = raw;
	for (i = 0; i < BT_NSHARDS; i++) {
		struct bt_shard *sh = &t->shards[i];

		sh->slots = hc_mem_calloc(BT_INITIAL_SLOTS, sizeof(*sh->slots));
		if (!sh->slots) {
			hc_blocktable_free(t);
			t = NULL;
			goto out;
		}
		sh->mask = BT_INITIAL_SLOTS - 1;
		atomic_init(&sh->lock, 0);
	}
out:
	return t;
}

void hc_blocktable_free(struct hc_blocktable *t)
{
	unsigned i;

	if (!t)
		return;
	for (i = 0; i < BT_NSHARDS; i++) {
		struct bt_shard *sh = &t->shards[i];

		if (!sh->slots)
			break;	/* new() failed here; later shards are unset */
		hc_mem_free(sh->slots);
	}
	hc_mem_free(t->raw);
}

static inline struct bt_shard *bt_shard_of(struct hc_blocktable *t, uint64_t hash)
{
	return &t->shards[hash >> (64 - BT_SHARD_BITS)];
}

/* Returns the index of addr's slot, or of the empty slot that ends its
 * probe sequence. The shard always keeps an empty slot, so this ends. */
static inline uint32_t bt_probe_locked(const struct bt_shard *sh,
				       uintptr_t addr, uint64_t hash)
{
	uint32_t i = (uint32_t)hash & sh->mask;

	while (sh->slots[i].addr != addr && sh->slots[i].addr != 0)
		i = (i + 1) & sh->mask;
	return i;
}

/*
 * Doubles the shard's slots. Returns HC_OK, or HC_ERR_NOMEM with the shard
 * unchanged.
 */
static int bt_grow_locked(struct bt_shard *sh)
{
	uint32_t old_n = sh->mask + 1, new_mask = old_n * 2 - 1, i;
	struct bt_slot *fresh, *old = sh->slots;
	int ret = HC_ERR_NOMEM;

	if (old_n > UINT32_MAX / 2)
		goto out;
	fresh = hc_mem_calloc((size_t)new_mask + 1, sizeof(*fresh));
	if (!fresh)
		goto out;
	for (i = 0; i < old_n; i++) {
		uint32_t j;

		if (!old[i].addr)
			continue;
		j = (uint32_t)bt_hash(old[i].addr) & new_mask;
		while (fresh[j].addr)
			j = (j + 1) & new_mask;
		fresh[j] = old[i];
	}
	sh->slots = fresh;
	__atomic_store_n(&sh->mask, new_mask, __ATOMIC_RELAXED);
	hc_mem_free(old);
	ret = HC_OK;
out:
	return ret;
}

int hc_blocktable_insert(struct hc_blocktable *t, const struct hc_block_rec *rec)
{
	uint64_t hash = bt_hash(rec->addr);
	struct bt_shard *sh = bt_shard_of(t, hash);
	uint32_t i;
	int ret = HC_OK;

	/* An address of 0 would read back as an empty slot. */
	if (HC_UNLIKELY(rec->addr == 0))
		return HC_ERR_ARG;
	hc_assert(rec->size <= BT_LOW56 && rec->seq <= BT_LOW56);
	bt_lock(sh);
	i = bt_probe_locked(sh, rec->addr, hash);
	if (sh->slots[i].addr == 0) {
		uint64_t slots = (uint64_t)sh->mask + 1;

		if (((uint64_t)sh->count + 1) * BT_LOAD_DEN > slots * BT_LOAD_NUM) {
			if (bt_grow_locked(sh) == HC_OK) {
				i = bt_probe_locked(sh, rec->addr, hash);
			} else if ((uint64_t)sh->count + 2 > slots) {
				/* Full but for the empty slot that ends every
				 * probe: refuse. Short of that, a shard that
				 * cannot grow runs hotter rather than forget a
				 * live block. */
				ret = HC_ERR_NOMEM;
				goto out;
			}
		}
		__atomic_store_n(&sh->count, sh->count + 1, __ATOMIC_RELAXED);
	}
	bt_pack(&sh->slots[i], rec);
out:
	bt_unlock(sh);
	return ret;
}

/*
 * Empties slot i and shifts later members of its cluster back (Knuth's
 * Algorithm R), so no tombstone is left and no probe sequence grows.
 */
static void bt_delete_at_locked(struct bt_shard *sh, uint32_t i)
{
	uint32_t mask = sh->mask, j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (!sh->slots[j].addr)
			break;
		home = (uint32_t)bt_hash(sh->slots[j].addr) & mask;
		/* The entry at j may move to the hole at i unless its home
		 * lies cyclically in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			sh->slots[i] = sh->slots[j];
			i = j;
		}
	}
	sh->slots[i].addr = 0;
}

bool hc_blocktable_remove(struct hc_blocktable *t, uintptr_t addr,
			  struct hc_block_rec *out)
{
	uint64_t hash = bt_hash(addr);
	struct bt_shard *sh = bt_shard_of(t, hash);
	bool found = false;
	uint32_t i;

	if (addr == 0)
		return false;
	bt_lock(sh);
	i = bt_probe_locked(sh, addr, hash);
	if (sh->slots[i].addr == 0)
		goto out;
	found = true;
	if (out)
		bt_unpack(out, &sh->slots[i]);
	sh->freed[sh->freed_next++ % BT_FREED_RING] = sh->slots[i];
	bt_delete_at_locked(sh, i);
	__atomic_store_n(&sh->count, sh->count - 1, __ATOMIC_RELAXED);
out:
	bt_unlock(sh);
	return found;
}

bool hc_blocktable_recently_freed(struct hc_blocktable *t, uintptr_t addr,
				  struct hc_block_rec *out)
{
	uint64_t hash = bt_hash(addr);
	struct bt_shard *sh = bt_shard_of(t, hash);
	bool found = false;
	uint32_t k;

	if (addr == 0)
		return false;
	bt_lock(sh);
	/* Newest first: the address may have been freed more than once. */
	for (k = 1; k <= BT_FREED_RING && k <= sh->freed_next; k++) {
		const struct bt_slot *f = &sh->freed[(sh->freed_next - k) % BT_FREED_RING];

		if (f->addr == addr) {
			if (out)
				bt_unpack(out, f);
			found = true;
			break;
		}
	}
	bt_unlock(sh);
	return found;
}

bool hc_blocktable_update_flags(struct hc_blocktable *t, uintptr_t addr,
				uint8_t set, uint8_t clear, struct hc_block_rec *out)
{
	uint64_t hash = bt_hash(addr);
	struct bt_shard *sh = bt_shard_of(t, hash);
	bool found = false;
	uint32_t i;

	if (addr == 0)
		return false;
	bt_lock(sh);
	i = bt_probe_locked(sh, addr, hash);
	if (sh->slots[i].addr != 0) {
		struct hc_block_rec rec;

		found = true;
		bt_unpack(&rec, &sh->slots[i]);
		if (set || clear) {
			rec.flags = (uint8_t)((rec.flags | set) & ~clear);
			bt_pack(&sh->slots[i], &rec);
		}
		if (out)
			*out = rec;
	}
	bt_unlock(sh);
	return found;
}

bool hc_blocktable_lookup(struct hc_blocktable *t, uintptr_t addr,
			  struct hc_block_rec *out)
{
	return hc_blocktable_update_flags(t, addr, 0, 0, out);
}

uint64_t hc_blocktable_count(struct hc_blocktable *t)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < BT_NSHARDS; i++)
		n += __atomic_load_n(&t->shards[i].count, __ATOMIC_RELAXED);
	return n;
}

uint64_t hc_blocktable_bytes(struct hc_blocktable *t)
{
	uint64_t n = sizeof(*t) + 63;
	unsigned i;

	for (i = 0; i < BT_NSHARDS; i++) {
		uint32_t mask = __atomic_load_n(&t->shards[i].mask,
						__ATOMIC_RELAXED);

		n += ((uint64_t)mask + 1) * sizeof(struct bt_slot);
	}
	return n;
}

void hc_blocktable_lock_all(struct hc_blocktable *t)
{
	unsigned i;

	for (i = 0; i < BT_NSHARDS; i++)
		bt_lock(&t->shards[i]);
}

void hc_blocktable_unlock_all(struct hc_blocktable *t)
{
	unsigned i;

	for (i = 0; i < BT_NSHARDS; i++)
		bt_unlock(&t->shards[i]);
}

/* In the child only the forking thread exists, and it held every lock at the
 * fork; unlocking a mutex another thread may own is undefined, and so is
 * inheriting one, so start each afresh. */
void hc_blocktable_reinit_locks_after_fork(struct hc_blocktable *t)
{
	unsigned i;

	for (i = 0; i < BT_NSHARDS; i++)
		atomic_store(&t->shards[i].lock, 0);
}

int hc_blocktable_foreach_locked(struct hc_blocktable *t,
				 int (*fn)(const struct hc_block_rec *rec, void *arg),
				 void *arg)
{
	struct hc_block_rec rec;
	unsigned i;
	uint32_t j;
	int ret = 0;

	for (i = 0; i < BT_NSHARDS; i++) {
		const struct bt_shard *sh = &t->shards[i];

		for (j = 0; j <= sh->mask; j++) {
			if (!sh->slots[j].addr)
				continue;
			bt_unpack(&rec, &sh->slots[j]);
			ret = fn(&rec, arg);
			if (ret)
				goto out;
		}
	}
out:
	return ret;
}
