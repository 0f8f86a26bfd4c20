/* SPDX-License-Identifier: MIT */
/*
 * The shim's table of live blocks: address -> what we know of the block.
 * Sharded by address hash, one spin lock per shard, open addressing inside
 * a shard (slotmap.h); memory from hc_mem_alloc. A shard's lock is held only for the few
 * instructions of an insert or remove (and the rare resize, which allocates
 * from hc_mem_alloc: the shim points that at a private jemalloc arena that
 * never re-enters the shim).
 */
#ifndef HC_SRC_BLOCKTABLE_H
#define HC_SRC_BLOCKTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a block was allocated; free/delete mismatches are reported from it. */
enum hc_alloc_kind {
	HC_ALLOC_MALLOC = 0,	/* malloc, calloc, realloc, memalign family */
	HC_ALLOC_NEW = 1,	/* operator new */
	HC_ALLOC_NEW_ARRAY = 2,	/* operator new[] */
	HC_ALLOC_KIND_COUNT
};

struct hc_block_rec {
	uintptr_t addr;		/* 0 marks an empty slot */
	uint64_t size;		/* requested size: scan no further */
	uint64_t seq;		/* birth sequence, process-wide */
	uint32_t stack;		/* stack depot id */
	uint32_t tid;
	uint8_t kind;		/* enum hc_alloc_kind */
	uint8_t flags;
	uint16_t reserved;
};

struct hc_blocktable;

/* Returns an empty table, or NULL when out of memory. */
struct hc_blocktable *hc_blocktable_new(void);
void hc_blocktable_free(struct hc_blocktable *t);

/*
 * Inserts rec (rec->addr != 0). An existing record for the address is
 * replaced (the allocator handed the address out again: the old record was
 * stale). Returns HC_OK or HC_ERR_NOMEM (the table keeps its old state).
 * MT-Safe (takes one shard lock); not AS-Safe.
 */
int hc_blocktable_insert(struct hc_blocktable *t, const struct hc_block_rec *rec);

/*
 * Inserts n packed records (struct hc_slot, slotmap.h; n at most
 * HC_BLOCKTABLE_BATCH_MAX), taking each shard's lock once: how a thread's
 * young blocks move here in bulk. Returns HC_OK, or HC_ERR_NOMEM when some
 * could not be stored (the others are). MT-Safe; not AS-Safe.
 */
#define HC_BLOCKTABLE_BATCH_MAX 256u
struct hc_slot;
int hc_blocktable_insert_slots(struct hc_blocktable *t, const struct hc_slot *slots, size_t n);

/*
 * Removes the record of addr and copies it to *out (may be NULL).
 * Returns true if there was one. MT-Safe (one shard lock).
 */
bool hc_blocktable_remove(struct hc_blocktable *t, uintptr_t addr,
			  struct hc_block_rec *out);

/*
 * Copies to *out the record of a block at addr that was among the shard's
 * most recently freed ones (a few per shard are kept), for reporting a
 * double free with the block's allocation stack. Returns true if found.
 * MT-Safe (one shard lock).
 */
bool hc_blocktable_recently_freed(struct hc_blocktable *t, uintptr_t addr,
				  struct hc_block_rec *out);

/* Copies the record of addr to *out; returns true if found. MT-Safe. */
bool hc_blocktable_lookup(struct hc_blocktable *t, uintptr_t addr,
			  struct hc_block_rec *out);

/*
 * Sets the bits of set and clears those of clear in the flags of addr's
 * record, copying the updated record to *out (may be NULL). Returns true if
 * there was a record. MT-Safe (one shard lock).
 */
bool hc_blocktable_update_flags(struct hc_blocktable *t, uintptr_t addr,
				uint8_t set, uint8_t clear, struct hc_block_rec *out);

/* Number of live records (approximate while others insert). MT-Safe. */
uint64_t hc_blocktable_count(struct hc_blocktable *t);
/* Bytes of metadata the table holds. MT-Safe. */
uint64_t hc_blocktable_bytes(struct hc_blocktable *t);

/*
 * Takes every shard lock in shard order (the one documented order: fork's
 * prepare handler and the snapshot use it). While held, only _locked calls
 * are allowed from the holder; other threads block in insert/remove.
 */
void hc_blocktable_lock_all(struct hc_blocktable *t);
void hc_blocktable_unlock_all(struct hc_blocktable *t);
/* For fork's child: re-initialises every shard lock instead of unlocking. */
void hc_blocktable_reinit_locks_after_fork(struct hc_blocktable *t);

/*
 * Calls fn on every record while the caller holds all locks. Stops early and
 * returns fn's value when it is non-zero; else returns 0. AS-Safe if fn is.
 */
int hc_blocktable_foreach_locked(struct hc_blocktable *t,
				 int (*fn)(const struct hc_block_rec *rec, void *arg),
				 void *arg);

#endif
