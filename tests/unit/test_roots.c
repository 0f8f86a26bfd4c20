/* SPDX-License-Identifier: MIT */
/* Tests for roots.c: parsing /proc/self/maps and walking readable ranges. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "roots.h"
#include "suites.h"

static const char sample[] =
	"55d0c0a00000-55d0c0a01000 r--p 00000000 fe:01 123 /usr/bin/prog\n"
	"55d0c0a01000-55d0c0a02000 r-xp 00001000 fe:01 123 /usr/bin/prog\n"
	"55d0c0a03000-55d0c0a04000 rw-p 00003000 fe:01 123 /usr/bin/prog\n"
	"55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0          [heap]\n"
	"7f0000000000-7f0000001000 ---p 00000000 00:00 0 \n"
	"7f0000001000-7f0000801000 rw-p 00000000 00:00 0 \n"
	"this line is garbage\n"
	"7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0          [stack]\n"
	"7ffc000f0000-7ffc000f2000 r--p 00000000 00:00 0          [vvar]\n"
	"7ffc000f2000-7ffc000f4000 r-xp 00000000 00:00 0          [vdso]";

START_TEST(test_maps_parse_sample_keeps_valid_lines_in_order)
{
	struct hc_arena a = {0};
	struct hc_maps m;

	ck_assert_int_eq(hc_maps_parse(&m, sample, strlen(sample), &a), 0);
	ck_assert_uint_eq(m.n, 9);
	ck_assert_uint_eq(m.m[0].lo, 0x55d0c0a00000u);
	ck_assert_uint_eq(m.m[0].flags & (HC_MAP_READ | HC_MAP_WRITE | HC_MAP_ANON), HC_MAP_READ);
	ck_assert(m.m[1].flags & HC_MAP_EXEC);
	ck_assert(m.m[3].flags & HC_MAP_ANON);
	ck_assert_uint_eq(m.m[4].flags & HC_MAP_READ, 0);
	ck_assert(m.m[6].flags & HC_MAP_STACK);
	ck_assert(m.m[7].flags & HC_MAP_SPECIAL);
	ck_assert(m.m[8].flags & HC_MAP_SPECIAL);
	hc_arena_release(&a);
}
END_TEST

START_TEST(test_maps_find_hits_inside_and_misses_gaps)
{
	struct hc_arena a = {0};
	struct hc_maps m;
	const struct hc_mapping *f;

	ck_assert_int_eq(hc_maps_parse(&m, sample, strlen(sample), &a), 0);
	f = hc_maps_find(&m, 0x7ffc00000010u);
	ck_assert_ptr_nonnull(f);
	ck_assert(f->flags & HC_MAP_STACK);
	ck_assert_ptr_null(hc_maps_find(&m, 0x55d0c0a02800u));	/* gap */
	ck_assert_ptr_null(hc_maps_find(&m, 0x10));
	ck_assert_ptr_nonnull(hc_maps_find(&m, 0x55d0c0a00000u));
	ck_assert_ptr_null(hc_maps_find(&m, 0x55d0c0a04000u));	/* end is exclusive */
	hc_arena_release(&a);
}
END_TEST

struct collected {
	uintptr_t lo[8], hi[8];
	int n;
};

static void collect_cb(uintptr_t lo, uintptr_t hi, void *arg)
{
	struct collected *c = arg;

	c->lo[c->n] = lo;
	c->hi[c->n] = hi;
	c->n++;
}

START_TEST(test_maps_readable_skips_gaps_guard_pages_and_vdso)
{
	struct hc_arena a = {0};
	struct hc_maps m;
	struct collected c = {0};
	uint64_t skipped;

	ck_assert_int_eq(hc_maps_parse(&m, sample, strlen(sample), &a), 0);
	/* From the middle of the ---p guard page through the rw region. */
	skipped = hc_maps_for_readable(&m, 0x7f0000000800u, 0x7f0000002000u, collect_cb, &c);
	ck_assert_int_eq(c.n, 1);
	ck_assert_uint_eq(c.lo[0], 0x7f0000001000u);
	ck_assert_uint_eq(c.hi[0], 0x7f0000002000u);
	ck_assert_uint_eq(skipped, 0x800);
	/* Across a gap between two mappings of the program. */
	memset(&c, 0, sizeof(c));
	skipped = hc_maps_for_readable(&m, 0x55d0c0a01800u, 0x55d0c0a03800u, collect_cb, &c);
	ck_assert_int_eq(c.n, 2);
	ck_assert_uint_eq(skipped, 0x1000);
	/* vvar is never read, even though it says r--. */
	memset(&c, 0, sizeof(c));
	hc_maps_for_readable(&m, 0x7ffc000f0000u, 0x7ffc000f4000u, collect_cb, &c);
	ck_assert_int_eq(c.n, 0);
	hc_arena_release(&a);
}
END_TEST

START_TEST(test_maps_parse_real_proc_self_maps_finds_own_stack)
{
	static char text[1 << 20];
	struct hc_arena a = {0};
	struct hc_maps m;
	FILE *f = fopen("/proc/self/maps", "r");
	size_t len;
	int local = 0;
	const struct hc_mapping *s;
	void *anon;

	ck_assert_ptr_nonnull(f);
	anon = mmap(NULL, 65536, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(anon != MAP_FAILED);
	fclose(f);
	f = fopen("/proc/self/maps", "r");
	len = fread(text, 1, sizeof(text), f);
	fclose(f);
	ck_assert_int_eq(hc_maps_parse(&m, text, len, &a), 0);
	s = hc_maps_find(&m, (uintptr_t)&local);
	ck_assert_ptr_nonnull(s);
	ck_assert(s->flags & HC_MAP_WRITE);
	s = hc_maps_find(&m, (uintptr_t)anon);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->flags & HC_MAP_READ, 0);
	munmap(anon, 65536);
	hc_arena_release(&a);
}
END_TEST

Suite *suite_roots(void)
{
	Suite *s = suite_create("roots");
	TCase *tc = tcase_create("maps");

	tcase_add_test(tc, test_maps_parse_sample_keeps_valid_lines_in_order);
	tcase_add_test(tc, test_maps_find_hits_inside_and_misses_gaps);
	tcase_add_test(tc, test_maps_readable_skips_gaps_guard_pages_and_vdso);
	tcase_add_test(tc, test_maps_parse_real_proc_self_maps_finds_own_stack);
	suite_add_tcase(s, tc);
	return s;
}
