/* SPDX-License-Identifier: MIT */
/* Tests for scan.c: sorting blocks, pointer lookup, roots and edges, on
 * real memory laid out by the test. */
#include <stdlib.h>
#include <string.h>

#include "scan.h"
#include "suites.h"

static struct hc_block blk(uintptr_t addr, uint64_t size)
{
	struct hc_block b;

	memset(&b, 0, sizeof(b));
	b.addr = addr;
	b.size = size;
	return b;
}

/* Both digit widths: 16 bits for a big heap, 8 for a small one; the
 * addresses span all 47 bits, so every pass matters. */
START_TEST(test_scan_sort_blocks_orders_by_address)
{
	static const uint64_t sizes[] = { 100000, 5000, 3 };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct hc_arena a = {0};
		uint64_t n = sizes[k], i, x = 88172645463325252ull;
		struct hc_block *b = calloc(n, sizeof(*b));

		ck_assert_ptr_nonnull(b);
		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Distinct: the index in the low bits, noise above. */
			b[i] = blk(((x & 0x7ffffffu) << 20 | i) << 4, 32);
		}
		ck_assert_int_eq(hc_scan_sort_blocks(b, n, &a), 0);
		for (i = 1; i < n; i++)
			ck_assert_uint_lt(b[i - 1].addr, b[i].addr);
		hc_arena_release(&a);
		free(b);
	}
}
END_TEST

START_TEST(test_scan_find_start_interior_end_and_zero_size)
{
	struct hc_block b[3] = { blk(1000, 16), blk(1016, 0), blk(2000, 100) };
	uint64_t off = 99;

	ck_assert_int_eq(hc_scan_find(b, 3, 1000, &off), 0);
	ck_assert_uint_eq(off, 0);
	ck_assert_int_eq(hc_scan_find(b, 3, 1008, &off), 0);
	ck_assert_uint_eq(off, 8);
	/* One past the end of block 0 is the zero-size block 1 itself. */
	ck_assert_int_eq(hc_scan_find(b, 3, 1016, &off), 1);
	ck_assert_int_eq(hc_scan_find(b, 3, 1017, &off), -1);
	ck_assert_int_eq(hc_scan_find(b, 3, 999, &off), -1);
	ck_assert_int_eq(hc_scan_find(b, 3, 2099, &off), 2);
	ck_assert_uint_eq(off, 99);
	ck_assert_int_eq(hc_scan_find(b, 3, 2100, &off), -1);
	ck_assert_int_eq(hc_scan_find(b, 0, 1000, &off), -1);
}
END_TEST

/* Three real blocks: a -> b (start), b -> a+8 (interior), c alone with a
 * stale pointer to a past its requested size. */
START_TEST(test_scan_edges_finds_start_and_interior_pointers_within_size)
{
	struct hc_arena a = {0};
	uintptr_t *ma = aligned_alloc(64, 64), *mb = aligned_alloc(64, 64), *mc = aligned_alloc(64, 64);
	struct hc_block b[3];
	struct hc_edge *e;
	uint64_t ne;
	int ia, ib, ic;

	memset(ma, 0, 64);
	memset(mb, 0, 64);
	memset(mc, 0, 64);
	ma[1] = (uintptr_t)mb;
	mb[3] = (uintptr_t)ma + 8;
	mc[2] = (uintptr_t)ma;		/* beyond c's requested 16 bytes */
	b[0] = blk((uintptr_t)ma, 32);
	b[1] = blk((uintptr_t)mb, 32);
	b[2] = blk((uintptr_t)mc, 16);
	ck_assert_int_eq(hc_scan_sort_blocks(b, 3, &a), 0);
	ia = b[0].addr == (uintptr_t)ma ? 0 : b[1].addr == (uintptr_t)ma ? 1 : 2;
	ib = b[0].addr == (uintptr_t)mb ? 0 : b[1].addr == (uintptr_t)mb ? 1 : 2;
	ic = 3 - ia - ib;
	ck_assert_int_eq(hc_scan_edges(b, 3, &a, &e, &ne), 0);
	ck_assert_uint_eq(ne, 2);
	for (uint64_t i = 0; i < ne; i++) {
		ck_assert_uint_ne(e[i].from, (uint32_t)ic);
		if (e[i].from == (uint32_t)ia) {
			ck_assert_uint_eq(e[i].to, (uint32_t)ib);
			ck_assert_uint_eq(e[i].from_offset, 8);
			ck_assert_uint_eq(e[i].to_offset, 0);
		} else {
			ck_assert_uint_eq(e[i].from, (uint32_t)ib);
			ck_assert_uint_eq(e[i].to, (uint32_t)ia);
			ck_assert_uint_eq(e[i].from_offset, 24);
			ck_assert_uint_eq(e[i].to_offset, 8);
		}
	}
	ck_assert(ne < 2 || e[0].from < e[1].from);
	hc_arena_release(&a);
	free(ma);
	free(mb);
	free(mc);
}
END_TEST

START_TEST(test_scan_roots_count_start_and_interior_refs_with_kind)
{
	uintptr_t root[4];
	struct hc_block b[2] = { blk(0x10000, 64), blk(0x20000, 64) };
	uintptr_t regs[2] = { 0x20000, 0x5 };

	root[0] = 0x10000;
	root[1] = 0x10010;	/* interior */
	root[2] = 0x10000;
	root[3] = 0x30000;	/* nothing there */
	hc_scan_root_range(b, 2, (uintptr_t)root, (uintptr_t)(root + 4), HC_ROOT_DATA);
	ck_assert_uint_eq(b[0].root_refs, 2);
	ck_assert_uint_eq(b[0].root_interior_refs, 1);
	ck_assert_uint_eq(b[0].root_kind, HC_ROOT_DATA);
	ck_assert_uint_eq(b[1].root_refs, 0);
	hc_scan_root_words(b, 2, regs, 2, HC_ROOT_REGISTERS);
	ck_assert_uint_eq(b[1].root_refs, 1);
	ck_assert_uint_eq(b[1].root_kind, HC_ROOT_REGISTERS);
	/* An unaligned range start is rounded up, never read misaligned. */
	hc_scan_root_range(b, 2, (uintptr_t)root + 1, (uintptr_t)(root + 1), HC_ROOT_DATA);
	ck_assert_uint_eq(b[0].root_refs, 2);
}
END_TEST

Suite *suite_scan(void)
{
	Suite *s = suite_create("scan");
	TCase *tc = tcase_create("scan");

	tcase_add_test(tc, test_scan_sort_blocks_orders_by_address);
	tcase_add_test(tc, test_scan_find_start_interior_end_and_zero_size);
	tcase_add_test(tc, test_scan_edges_finds_start_and_interior_pointers_within_size);
	tcase_add_test(tc, test_scan_roots_count_start_and_interior_refs_with_kind);
	suite_add_tcase(s, tc);
	return s;
}
