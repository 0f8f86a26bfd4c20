/* SPDX-License-Identifier: MIT */
/*
 * The conservative scan (DESIGN.md "The shadow graph"): every aligned word of
 * a root range or a live block whose value lies inside a live block is a
 * reference. Blocks are read only up to their requested size, so stale
 * pointers in allocator slack or in freed memory never keep a leak alive.
 * Runs with the world stopped: arena memory only, no locks, no libc calls
 * that could take one.
 */
#include <string.h>

#include "scan.h"

/* LSD radix sort on the address, 16 bits a pass (8 for small heaps).
 * User-space addresses on x86_64 fit in 48 bits, so passes above the
 * highest set bit of every address are skipped. */
int hc_scan_sort_blocks(struct hc_block *blocks, uint64_t n, struct hc_arena *arena)
{
	struct hc_block *tmp, *src = blocks, *dst;
	uint64_t *count;
	uint64_t all = 0, i;
	/* 16-bit digits take three passes over a big heap; a small one
	 * (most processes) would pay more for clearing 65536 counters three
	 * times than for sorting, so it takes 8-bit digits. */
	const unsigned bits = n < 65536 ? 8 : 16;
	const unsigned ndigits = 1u << bits;
	const uint64_t mask = ndigits - 1;
	unsigned shift;

	if (n < 2)
		return 0;
	for (i = 0; i < n; i++)
		all |= blocks[i].addr;
	tmp = hc_arena_alloc(arena, n * sizeof(*tmp));
	count = hc_arena_alloc(arena, ndigits * sizeof(*count));
	if (!tmp || !count)
		return -1;
	dst = tmp;
	for (shift = 0; shift < 64; shift += bits) {
		uint64_t sum = 0;
		unsigned d;

		if (shift && (all >> shift) == 0)
			break;
		memset(count, 0, ndigits * sizeof(*count));
		for (i = 0; i < n; i++)
			count[(src[i].addr >> shift) & mask]++;
		for (d = 0; d < ndigits; d++) {
			uint64_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[(src[i].addr >> shift) & mask]++] = src[i];
		{
			struct hc_block *t = src;

			src = dst;
			dst = t;
		}
	}
	if (src != blocks)
		memcpy(blocks, src, n * sizeof(*blocks));
	return 0;
}

int64_t hc_scan_find(const struct hc_block *blocks, uint64_t n, uintptr_t v,
		     uint64_t *offset)
{
	uint64_t lo = 0, hi = n;
	const struct hc_block *b;

	if (n == 0 || v < blocks[0].addr)
		return -1;
	/* Last block whose address is <= v. */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (blocks[mid].addr <= v)
			lo = mid;
		else
			hi = mid;
	}
	b = &blocks[lo];
	if (v - b->addr < b->size || v == b->addr) {
		*offset = v - b->addr;
		return (int64_t)lo;
	}
	return -1;
}

static void note_root(struct hc_block *blocks, uint64_t n, uintptr_t v,
		      uintptr_t lo_all, uintptr_t hi_all, enum hc_root_kind kind)
{
	uint64_t off;
	int64_t i;

	if (v < lo_all || v >= hi_all)
		return;
	i = hc_scan_find(blocks, n, v, &off);
	if (i < 0)
		return;
	if (off == 0)
		blocks[i].root_refs++;
	else
		blocks[i].root_interior_refs++;
	if (blocks[i].root_kind == HC_ROOT_NONE)
		blocks[i].root_kind = (uint8_t)kind;
}

static void bounds(const struct hc_block *blocks, uint64_t n, uintptr_t *lo, uintptr_t *hi)
{
	const struct hc_block *last = &blocks[n - 1];

	*lo = blocks[0].addr;
	*hi = last->addr + (last->size ? last->size : 1);
}

void hc_scan_root_range(struct hc_block *blocks, uint64_t n, uintptr_t lo,
			uintptr_t hi, enum hc_root_kind kind)
{
	uintptr_t lo_all, hi_all, p;

	if (n == 0)
		return;
	bounds(blocks, n, &lo_all, &hi_all);
	p = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
	for (; p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t))
		note_root(blocks, n, *(const volatile uintptr_t *)p, lo_all, hi_all, kind);
}

void hc_scan_root_words(struct hc_block *blocks, uint64_t n,
			const uintptr_t *words, unsigned nwords,
			enum hc_root_kind kind)
{
	uintptr_t lo_all, hi_all;
	unsigned i;

	if (n == 0)
		return;
	bounds(blocks, n, &lo_all, &hi_all);
	for (i = 0; i < nwords; i++)
		note_root(blocks, n, words[i], lo_all, hi_all, kind);
}

int hc_scan_edges(const struct hc_block *blocks, uint64_t n, struct hc_arena *arena,
		  struct hc_edge **edges, uint64_t *nedges)
{
	struct hc_edge *e = NULL;
	uint64_t cap = 0, count = 0, i;
	uintptr_t lo_all, hi_all;

	*edges = NULL;
	*nedges = 0;
	if (n == 0)
		return 0;
	bounds(blocks, n, &lo_all, &hi_all);
	/* Blocks are visited in index order and words in offset order, so the
	 * edges come out sorted by (from, from_offset) without a sort. */
	for (i = 0; i < n; i++) {
		const struct hc_block *b = &blocks[i];
		uint64_t words = b->size / sizeof(uintptr_t), w;
		const uintptr_t *mem = (const uintptr_t *)(uintptr_t)b->addr;

		for (w = 0; w < words; w++) {
			uintptr_t v = mem[w];
			uint64_t off;
			int64_t to;

			if (v < lo_all || v >= hi_all)
				continue;
			to = hc_scan_find(blocks, n, v, &off);
			if (to < 0)
				continue;
			if (count == cap) {
				uint64_t ncap = cap ? cap * 2 : 1024;
				struct hc_edge *ne = hc_arena_realloc(arena, e, cap * sizeof(*e),
								      ncap * sizeof(*e));

				if (!ne)
					return -1;
				e = ne;
				cap = ncap;
			}
			e[count].from = (uint32_t)i;
			e[count].to = (uint32_t)to;
			e[count].from_offset = w * sizeof(uintptr_t);
			e[count].to_offset = off;
			count++;
		}
	}
	*edges = e;
	*nedges = count;
	return 0;
}
