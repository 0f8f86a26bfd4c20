/* SPDX-License-Identifier: MIT */
/*
 * The table of live blocks: 64 shards chosen by a hash of the address, each
 * a record map (slotmap.h: 24-byte packed records, linear probing, grown by
 * half) behind a spin lock. This file owns the shards and their
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
#include "slotmap.h"

#define BT_SHARD_BITS 6
#define BT_NSHARDS (1u << BT_SHARD_BITS)
/* 64 shards * 32 slots * 24 bytes: 48 KiB for an empty table. */
#define BT_INITIAL_SLOTS 32u

/* One cache line per shard, so threads on different shards do not bounce
 * each other's lock word. */
struct bt_shard {
	_Atomic int lock;	/* bt_lock(): held for a probe and a store */
	struct hc_slotmap map;	/* written under lock; mask and count read
				 * without it by bytes() and count() */
	struct hc_freed_ring freed;	/* under lock */
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

		if (hc_slotmap_init(&sh->map, BT_INITIAL_SLOTS) != HC_OK) {
			hc_blocktable_free(t);
			t = NULL;
			goto out;
		}
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

		if (!sh->map.slots)
			break;	/* new() failed here; later shards are unset */
		hc_slotmap_fini(&sh->map);
	}
	hc_mem_free(t->raw);
}

static inline unsigned bt_shard_index(uint64_t hash)
{
	return (unsigned)(hash >> (64 - BT_SHARD_BITS));
}

int hc_blocktable_insert(struct hc_blocktable *t, const struct hc_block_rec *rec)
{
	uint64_t hash = hc_slot_hash(rec->addr);
	struct bt_shard *sh = &t->shards[bt_shard_index(hash)];
	int ret;

	/* An address of 0 would read back as an empty slot. */
	if (HC_UNLIKELY(!hc_tslot_fits(rec->addr)))
		return HC_ERR_ARG;
	bt_lock(sh);
	ret = hc_slotmap_put(&sh->map, rec, hash);
	bt_unlock(sh);
	return ret;
}

int hc_blocktable_insert_slots(struct hc_blocktable *t, const struct hc_slot *slots, size_t n)
{
	uint8_t shard[HC_BLOCKTABLE_BATCH_MAX];
	bool done[HC_BLOCKTABLE_BATCH_MAX];
	size_t i, j;
	int ret = HC_OK;

	if (n > HC_BLOCKTABLE_BATCH_MAX)
		return HC_ERR_ARG;
	for (i = 0; i < n; i++) {
		uint64_t hash = hc_slot_hash(slots[i].addr);
		const struct bt_shard *sh;

		shard[i] = (uint8_t)bt_shard_index(hash);
		done[i] = false;
		/* Start every record's cache miss now, so that they overlap.
		 * Unlocked: a resize may free what we read, and a prefetch of
		 * freed memory is harmless. */
		sh = &t->shards[shard[i]];
		__builtin_prefetch(&__atomic_load_n(&sh->map.slots, __ATOMIC_RELAXED)
					   [hc_slotmap_home(hash, __atomic_load_n(&sh->map.nslots,
										  __ATOMIC_RELAXED))],
				   1);
	}
	/* One lock per shard touched, not one per record; a young set's
	 * eviction is a batch of one, so nothing here may cost per shard. */
	for (i = 0; i < n; i++) {
		struct bt_shard *sh = &t->shards[shard[i]];

		if (done[i])
			continue;
		bt_lock(sh);
		for (j = i; j < n; j++) {
			struct hc_block_rec rec;

			if (done[j] || shard[j] != shard[i])
				continue;
			done[j] = true;
			hc_slot_unpack(&rec, &slots[j]);
			if (!hc_tslot_fits(rec.addr))
				ret = HC_ERR_ARG;
			else if (hc_slotmap_put(&sh->map, &rec, hc_slot_hash(rec.addr)) != HC_OK)
				ret = HC_ERR_NOMEM;
		}
		bt_unlock(sh);
	}
	return ret;
}

bool hc_blocktable_remove(struct hc_blocktable *t, uintptr_t addr,
			  struct hc_block_rec *out)
{
	uint64_t hash = hc_slot_hash(addr);
	struct bt_shard *sh = &t->shards[bt_shard_index(hash)];
	struct hc_block_rec rec;
	struct hc_slot slot;
	bool found;

	if (addr == 0)
		return false;
	bt_lock(sh);
	found = hc_slotmap_take(&sh->map, addr, hash, &rec);
	if (found) {
		hc_slot_pack(&slot, &rec);
		hc_freed_ring_add(&sh->freed, &slot);
	}
	bt_unlock(sh);
	if (found && out)
		*out = rec;
	return found;
}

bool hc_blocktable_recently_freed(struct hc_blocktable *t, uintptr_t addr,
				  struct hc_block_rec *out)
{
	struct bt_shard *sh = &t->shards[bt_shard_index(hc_slot_hash(addr))];
	bool found;

	if (addr == 0)
		return false;
	bt_lock(sh);
	found = hc_freed_ring_find(&sh->freed, addr, out);
	bt_unlock(sh);
	return found;
}

bool hc_blocktable_update_flags(struct hc_blocktable *t, uintptr_t addr,
				uint8_t set, uint8_t clear, struct hc_block_rec *out)
{
	uint64_t hash = hc_slot_hash(addr);
	struct bt_shard *sh = &t->shards[bt_shard_index(hash)];
	bool found;

	if (addr == 0)
		return false;
	bt_lock(sh);
	found = hc_slotmap_update_flags(&sh->map, addr, hash, set, clear, out);
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
		n += __atomic_load_n(&t->shards[i].map.count, __ATOMIC_RELAXED);
	return n;
}

uint64_t hc_blocktable_bytes(struct hc_blocktable *t)
{
	uint64_t n = sizeof(*t) + 63;
	unsigned i;

	for (i = 0; i < BT_NSHARDS; i++)
		n += hc_slotmap_bytes(&t->shards[i].map);
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

		for (j = 0; j < sh->map.nslots; j++) {
			if (!sh->map.slots[j].w0)
				continue;
			hc_tslot_unpack(&rec, &sh->map.slots[j]);
			ret = fn(&rec, arg);
			if (ret)
				goto out;
		}
	}
out:
	return ret;
}
