/* SPDX-License-Identifier: MIT */
/*
 * A thread's young blocks (youngset.h): a set-associative cache of block
 * records that evicts to a sink (the shared block table, in the shim).
 */
#include <string.h>

#include "youngset.h"

#define YOUNG_ALIGN 128u

static bool young_way_free(uintptr_t a)
{
	return a & HC_YOUNG_FREED;
}

/* The first free way of bucket b, or HC_YOUNG_WAYS. */
static unsigned young_free_way(const struct hc_slot *b)
{
	return (unsigned)__builtin_ctz(hc_young_free_ways(b) | 1u << HC_YOUNG_WAYS);
}

static int young_alloc(struct hc_youngset *ys, uint32_t nbuckets)
{
	size_t i, n = (size_t)nbuckets * HC_YOUNG_WAYS;

	/* A bucket is two whole cache lines. */
	ys->raw = hc_mem_calloc(n * sizeof(struct hc_slot) + YOUNG_ALIGN, 1);
	ys->next_victim = hc_mem_calloc(nbuckets, 1);
	if (!ys->raw || !ys->next_victim) {
		hc_mem_free(ys->raw);
		hc_mem_free(ys->next_victim);
		return HC_ERR_NOMEM;
	}
	ys->slots = (struct hc_slot *)(((uintptr_t)ys->raw + YOUNG_ALIGN - 1) &
				       ~(uintptr_t)(YOUNG_ALIGN - 1));
	for (i = 0; i < n; i++)
		ys->slots[i].addr = HC_YOUNG_FREED;	/* empty */
	ys->bmask = nbuckets - 1;
	ys->live = 0;
	return HC_OK;
}

struct hc_youngset *hc_youngset_new(uint32_t nbuckets, uint32_t max_buckets)
{
	struct hc_youngset *ys;

	if (!nbuckets || (nbuckets & (nbuckets - 1)) || nbuckets > max_buckets ||
	    max_buckets > (1u << 20))
		return NULL;
	ys = hc_mem_calloc(1, sizeof(*ys));
	if (!ys)
		return NULL;
	ys->max_buckets = max_buckets;
	if (young_alloc(ys, nbuckets) != HC_OK) {
		hc_mem_free(ys);
		return NULL;
	}
	return ys;
}

void hc_youngset_free(struct hc_youngset *ys)
{
	if (!ys)
		return;
	hc_mem_free(ys->raw);
	hc_mem_free(ys->next_victim);
	hc_mem_free(ys);
}

/* Stores rec in a free way of its bucket, or returns false. */
static bool young_store(struct hc_youngset *ys, const struct hc_slot *rec)
{
	struct hc_slot *b = hc_young_bucket(ys, rec->addr);
	unsigned j = young_free_way(b);

	if (j == HC_YOUNG_WAYS)
		return false;
	b[j] = *rec;
	ys->live++;
	return true;
}

/* Doubles the buckets, or leaves the set as it was when out of memory.
 * A record that finds its new bucket full (a bucket's records split
 * between two, so only by hash collisions) goes to sink. */
static int young_grow(struct hc_youngset *ys, hc_youngset_sink_fn sink, void *arg)
{
	struct hc_youngset old = *ys;
	uint32_t i, n = (old.bmask + 1) * HC_YOUNG_WAYS;
	int ret = HC_OK;

	if (young_alloc(ys, (old.bmask + 1) * 2) != HC_OK) {
		*ys = old;
		return HC_OK;
	}
	for (i = 0; i < n; i++) {
		if (young_way_free(old.slots[i].addr))
			continue;
		if (!young_store(ys, &old.slots[i]) && sink(&old.slots[i], 1, arg) != HC_OK)
			ret = HC_ERR_NOMEM;
	}
	hc_mem_free(old.raw);
	hc_mem_free(old.next_victim);
	return ret;
}

int hc_youngset_put(struct hc_youngset *ys, const struct hc_block_rec *rec,
		    hc_youngset_sink_fn sink, void *arg)
{
	struct hc_slot s;

	hc_slot_pack(&s, rec);
	return hc_youngset_put_slot(ys, &s, sink, arg);
}

int hc_youngset_put_slot(struct hc_youngset *ys, const struct hc_slot *s,
			 hc_youngset_sink_fn sink, void *arg)
{
	struct hc_slot *b;
	unsigned j, bucket;
	int ret = HC_OK;

	if (HC_UNLIKELY(!s->addr || (s->addr & HC_YOUNG_FREED)))
		return HC_ERR_ARG;
	if (HC_UNLIKELY(++ys->window_puts == HC_YOUNG_WINDOW)) {
		bool grow = ys->window_evictions > HC_YOUNG_WINDOW / 64 &&
			    ys->bmask + 1 < ys->max_buckets;

		ys->window_puts = ys->window_evictions = 0;
		if (grow)
			ret = young_grow(ys, sink, arg);
	}
	b = hc_young_bucket(ys, s->addr);
	bucket = (uint32_t)(b - ys->slots) / HC_YOUNG_WAYS;
	j = young_free_way(b);
	if (HC_LIKELY(j < HC_YOUNG_WAYS)) {
		ys->live++;
	} else {
		/* Round robin within the bucket: ways fill in order, so the
		 * victim is about the oldest. */
		j = ys->next_victim[bucket]++ % HC_YOUNG_WAYS;
		ys->window_evictions++;
		ys->victims[ys->nvictims++] = b[j];
		if (ys->nvictims == HC_YOUNG_VICTIMS) {
			if (sink(ys->victims, ys->nvictims, arg) != HC_OK)
				ret = HC_ERR_NOMEM;
			ys->nvictims = 0;
		}
	}
	b[j] = *s;
	return ret;
}

/* The evicted record of addr still waiting for the sink, or NULL. */
static struct hc_slot *young_victim(struct hc_youngset *ys, uintptr_t addr)
{
	uint32_t i;

	for (i = 0; i < ys->nvictims; i++)
		if (ys->victims[i].addr == addr)
			return &ys->victims[i];
	return NULL;
}

bool hc_youngset_take_victim(struct hc_youngset *ys, uintptr_t addr, struct hc_slot *out)
{
	struct hc_slot *v = young_victim(ys, addr);

	if (!v || !addr)
		return false;
	if (out)
		*out = *v;
	*v = ys->victims[--ys->nvictims];
	return true;
}

bool hc_youngset_update_flags(struct hc_youngset *ys, uintptr_t addr, uint8_t set,
			      uint8_t clear, struct hc_block_rec *out)
{
	struct hc_slot *b = hc_young_bucket(ys, addr);
	unsigned m = hc_young_match(b, addr);
	struct hc_block_rec rec;

	if (!addr || (addr & HC_YOUNG_FREED))
		return false;
	if (m)
		b += __builtin_ctz(m);
	else if (!(b = young_victim(ys, addr)))
		return false;
	hc_slot_unpack(&rec, b);
	if (set || clear) {
		rec.flags = (uint8_t)((rec.flags | set) & ~clear);
		hc_slot_pack(b, &rec);
	}
	if (out)
		*out = rec;
	return true;
}

bool hc_youngset_recently_freed(const struct hc_youngset *ys, uintptr_t addr,
				struct hc_block_rec *out)
{
	const struct hc_slot *b = hc_young_bucket(ys, addr);
	unsigned m = hc_young_match(b, addr | HC_YOUNG_FREED);

	if (!m || !addr || (addr & HC_YOUNG_FREED))
		return false;
	if (out) {
		hc_slot_unpack(out, &b[__builtin_ctz(m)]);
		out->addr = addr;
	}
	return true;
}

int hc_youngset_drain(struct hc_youngset *ys, hc_youngset_sink_fn sink, void *arg)
{
	/* Small: this runs on the program's stack, inside its malloc. */
	struct hc_slot batch[32];
	uint32_t i, n = (ys->bmask + 1) * HC_YOUNG_WAYS;
	size_t k = 0;
	int ret = HC_OK;

	if (ys->nvictims) {
		if (sink(ys->victims, ys->nvictims, arg) != HC_OK)
			ret = HC_ERR_NOMEM;
		ys->nvictims = 0;
	}
	for (i = 0; i < n && ys->live; i++) {
		if (young_way_free(ys->slots[i].addr))
			continue;
		batch[k++] = ys->slots[i];
		ys->slots[i].addr = HC_YOUNG_FREED;
		ys->live--;
		if (k == HC_ARRAY_SIZE(batch) || !ys->live) {
			if (sink(batch, k, arg) != HC_OK)
				ret = HC_ERR_NOMEM;
			k = 0;
		}
	}
	return ret;
}

uint64_t hc_youngset_count(const struct hc_youngset *ys)
{
	return (uint64_t)ys->live + ys->nvictims;
}

uint64_t hc_youngset_bytes(const struct hc_youngset *ys)
{
	uint64_t nb = (uint64_t)ys->bmask + 1;

	return sizeof(*ys) + YOUNG_ALIGN + nb * (1 + HC_YOUNG_WAYS * sizeof(struct hc_slot));
}
