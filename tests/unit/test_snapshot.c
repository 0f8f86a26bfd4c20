/* SPDX-License-Identifier: MIT */
/*
 * The snapshot format (snapshot_write.c, snapshot_read.c) and the small
 * modules under it (crc32.c, arena.c, error.c, mem.c): round trips, and a
 * reader that rejects every truncation, every flipped byte and every
 * inconsistent table with HC_ERR_FORMAT and the place of the problem.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena.h"
#include "crc32.h"
#include "hc.h"
#include "snapshot.h"
#include "suites.h"

/* Offsets of the format (man/heapcycle-snapshot.5). */
#define FILE_HDR 56u
#define SECT_HDR 16u
#define BLOCK_REC 44u
#define EDGE_REC 24u
enum { S_META = 1, S_MODULES, S_STACKS, S_BLOCKS, S_EDGES, S_END };

static const uint64_t frames1[] = { 0x401000, 0x401100, 0x7f0000001000 };
static const uint64_t frames2[] = { 0x402000 };
static const uint64_t frames3[] = { 0x7f0000002000, 0x403000 };

static struct hc_module sample_modules[2] = {
	{ .bias = 0, .start = 0x400000, .end = 0x500000, .flags = HC_MODULE_MAIN,
	  .build_id_len = 20, .path = "/usr/bin/app" },
	{ .bias = 0x7f0000000000, .start = 0x7f0000000000, .end = 0x7f0000100000,
	  .flags = HC_MODULE_UNLOADED, .build_id_len = 0, .path = "/lib/libplug.so" },
};

static const struct hc_stack sample_stacks[4] = {
	{ 0, NULL },
	{ 3, frames1 },
	{ 1, frames2 },
	{ 2, frames3 },
};

static const struct hc_block sample_blocks[5] = {
	{ .addr = 0x1000, .size = 32, .seq = 1, .stack = 1, .tid = 100, .root_refs = 1,
	  .root_interior_refs = 0, .kind = 0, .root_kind = HC_ROOT_DATA, .flags = 0 },
	{ .addr = 0x1020, .size = 48, .seq = 7, .stack = 2, .tid = 101, .root_refs = 0,
	  .root_interior_refs = 2, .kind = 1, .root_kind = HC_ROOT_STACK, .flags = 1 },
	{ .addr = 0x2000, .size = 0, .seq = 9, .stack = 0, .tid = 100, .kind = 2 },
	{ .addr = 0x2010, .size = 16, .seq = 12, .stack = 3, .tid = 0xffffffff,
	  .root_refs = 0xfffffffe, .kind = 0, .root_kind = HC_ROOT_MMAP, .flags = 0x8001 },
	{ .addr = 0xfffffffffffff000, .size = 0xfff, .seq = UINT64_MAX, .stack = 1,
	  .kind = 0 },
};

static const struct hc_edge sample_edges[5] = {
	{ .from = 0, .to = 1, .from_offset = 0, .to_offset = 0 },
	{ .from = 0, .to = 3, .from_offset = 8, .to_offset = 8 },
	{ .from = 1, .to = 0, .from_offset = 16, .to_offset = 0 },
	{ .from = 1, .to = 2, .from_offset = 40, .to_offset = 0 },
	{ .from = 3, .to = 3, .from_offset = 8, .to_offset = 15 },
};

static void sample(struct hc_snapshot *s)
{
	unsigned i;

	for (i = 0; i < 20; i++)
		sample_modules[0].build_id[i] = (uint8_t)(0xa0 + i);
	memset(s, 0, sizeof(*s));
	s->version = HC_SNAPSHOT_VERSION;
	s->flags = HC_SNAP_ROOTS_INCOMPLETE;
	s->pid = 1234;
	s->ppid = 1;
	s->reason = HC_REASON_UNDERSCORE_EXIT;
	s->nthreads = 3;
	s->time_ns = 1700000000123456789ull;
	s->metadata_bytes = 4096 * 3;
	s->exe = "/usr/bin/app";
	s->cmdline = "app --flag x";
	s->nmodules = 2;
	s->modules = sample_modules;
	s->nstacks = 4;
	s->stacks = sample_stacks;
	s->nblocks = 5;
	s->blocks = sample_blocks;
	s->nedges = 5;
	s->edges = sample_edges;
}

/* Writes s through a memfd and returns the bytes (free()). */
static unsigned char *write_mem(const struct hc_snapshot *s, size_t *len)
{
	int fd = memfd_create("snap", 0);
	off_t end;
	unsigned char *buf;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(hc_snapshot_write_fd(fd, s), HC_OK);
	end = lseek(fd, 0, SEEK_END);
	ck_assert_int_gt(end, 0);
	buf = malloc((size_t)end);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pread(fd, buf, (size_t)end, 0), end);
	close(fd);
	*len = (size_t)end;
	return buf;
}

static uint32_t ld32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t ld64(const unsigned char *p)
{
	return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

static void st32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void st64(unsigned char *p, uint64_t v)
{
	st32(p, (uint32_t)v);
	st32(p + 4, (uint32_t)(v >> 32));
}

/* Offset of the header of the section of the given type. */
static size_t find_section(const unsigned char *buf, size_t len, uint32_t type)
{
	size_t pos = FILE_HDR;

	while (pos + SECT_HDR <= len) {
		if (ld32(buf + pos) == type)
			return pos;
		pos += SECT_HDR + ld64(buf + pos + 8) + 4;
	}
	ck_abort_msg("section %u not found", type);
	return 0;
}

/* Recomputes the CRC of the section at pos after a patch. */
static void fix_crc(unsigned char *buf, size_t pos)
{
	uint64_t slen = ld64(buf + pos + 8);

	st32(buf + pos + SECT_HDR + slen, hc_crc32(0, buf + pos, SECT_HDR + slen));
}

static void check_equal(const struct hc_snapshot *a, const struct hc_snapshot *b)
{
	uint64_t i;
	uint32_t j;

	ck_assert_uint_eq(b->version, HC_SNAPSHOT_VERSION);
	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_uint_eq(a->pid, b->pid);
	ck_assert_uint_eq(a->ppid, b->ppid);
	ck_assert_uint_eq(a->reason, b->reason);
	ck_assert_uint_eq(a->nthreads, b->nthreads);
	ck_assert_uint_eq(a->time_ns, b->time_ns);
	ck_assert_uint_eq(a->metadata_bytes, b->metadata_bytes);
	ck_assert_str_eq(a->exe ? a->exe : "", b->exe);
	ck_assert_str_eq(a->cmdline ? a->cmdline : "", b->cmdline);
	ck_assert_uint_eq(a->nmodules, b->nmodules);
	for (j = 0; j < a->nmodules; j++) {
		const struct hc_module *x = &a->modules[j], *y = &b->modules[j];

		ck_assert_uint_eq(x->bias, y->bias);
		ck_assert_uint_eq(x->start, y->start);
		ck_assert_uint_eq(x->end, y->end);
		ck_assert_uint_eq(x->flags, y->flags);
		ck_assert_uint_eq(x->build_id_len, y->build_id_len);
		ck_assert_mem_eq(x->build_id, y->build_id, x->build_id_len);
		ck_assert_str_eq(x->path, y->path);
	}
	ck_assert_uint_eq(a->nstacks ? a->nstacks : 1, b->nstacks);
	ck_assert_uint_eq(b->stacks[0].nframes, 0);
	for (j = 1; j < a->nstacks; j++) {
		ck_assert_uint_eq(a->stacks[j].nframes, b->stacks[j].nframes);
		ck_assert_mem_eq(a->stacks[j].frames, b->stacks[j].frames,
				 8 * a->stacks[j].nframes);
	}
	ck_assert_uint_eq(a->nblocks, b->nblocks);
	for (i = 0; i < a->nblocks; i++) {
		const struct hc_block *x = &a->blocks[i], *y = &b->blocks[i];

		ck_assert_uint_eq(x->addr, y->addr);
		ck_assert_uint_eq(x->size, y->size);
		ck_assert_uint_eq(x->seq, y->seq);
		ck_assert_uint_eq(x->stack, y->stack);
		ck_assert_uint_eq(x->tid, y->tid);
		ck_assert_uint_eq(x->root_refs, y->root_refs);
		ck_assert_uint_eq(x->root_interior_refs, y->root_interior_refs);
		ck_assert_uint_eq(x->kind, y->kind);
		ck_assert_uint_eq(x->root_kind, y->root_kind);
		ck_assert_uint_eq(x->flags, y->flags);
	}
	ck_assert_uint_eq(a->nedges, b->nedges);
	for (i = 0; i < a->nedges; i++) {
		ck_assert_uint_eq(a->edges[i].from, b->edges[i].from);
		ck_assert_uint_eq(a->edges[i].to, b->edges[i].to);
		ck_assert_uint_eq(a->edges[i].from_offset, b->edges[i].from_offset);
		ck_assert_uint_eq(a->edges[i].to_offset, b->edges[i].to_offset);
	}
}

/* Reads buf and expects failure with status st; returns the error. */
static struct hc_error expect_fail(const unsigned char *buf, size_t len, int st)
{
	struct hc_snapshot *out = (struct hc_snapshot *)&out;
	struct hc_error err;

	memset(&err, 0x55, sizeof(err));
	ck_assert_int_eq(hc_snapshot_read_mem(buf, len, &out, &err), st);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(err.status, st);
	ck_assert_ptr_nonnull(memchr(err.what, '\0', sizeof(err.what)));
	ck_assert_uint_le(err.offset, len);
	return err;
}

START_TEST(test_crc32_check_value)
{
	const char *s = "123456789";
	unsigned char big[1000];
	uint32_t whole;
	size_t i;

	ck_assert_uint_eq(hc_crc32(0, s, 9), 0xcbf43926u);
	ck_assert_uint_eq(hc_crc32(hc_crc32(0, s, 4), s + 4, 5), 0xcbf43926u);
	ck_assert_uint_eq(hc_crc32(0, "", 0), 0);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + 3);
	whole = hc_crc32(0, big, sizeof(big));
	/* Any split, any alignment, gives the same answer as one call. */
	for (i = 0; i < 40; i++)
		ck_assert_uint_eq(hc_crc32(hc_crc32(0, big, i), big + i, sizeof(big) - i),
				  whole);
}
END_TEST

START_TEST(test_snapshot_round_trip_every_field)
{
	struct hc_snapshot s, *r;
	struct hc_error err;
	size_t len;
	unsigned char *buf;

	sample(&s);
	buf = write_mem(&s, &len);
	ck_assert_mem_eq(buf, "HCYCSNAP", 8);
	ck_assert_uint_eq(ld32(buf + 8), HC_SNAPSHOT_VERSION);
	ck_assert_int_eq(hc_snapshot_read_mem(buf, len, &r, &err), HC_OK);
	ck_assert_int_eq(err.status, HC_OK);
	check_equal(&s, r);
	ck_assert_int_eq(hc_snapshot_module_of(r, 0x401000), 0);
	ck_assert_int_eq(hc_snapshot_module_of(r, 0x7f0000001000), 1);
	ck_assert_int_eq(hc_snapshot_module_of(r, 0x500000), -1);
	ck_assert_int_eq(hc_snapshot_module_of(r, 0), -1);
	hc_snapshot_free(r);
	free(buf);
}
END_TEST

START_TEST(test_snapshot_read_file_round_trip)
{
	struct hc_snapshot s, *r;
	struct hc_error err;
	char path[] = "/tmp/hc-test-snap-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	sample(&s);
	ck_assert_int_eq(hc_snapshot_write_fd(fd, &s), HC_OK);
	close(fd);
	ck_assert_int_eq(hc_snapshot_read_file(path, &r, &err), HC_OK);
	check_equal(&s, r);
	hc_snapshot_free(r);
	unlink(path);
	ck_assert_int_eq(hc_snapshot_read_file(path, &r, &err), HC_ERR_IO);
	ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_snapshot_empty_round_trips)
{
	struct hc_snapshot s, *r;
	struct hc_error err;
	size_t len;
	unsigned char *buf;

	memset(&s, 0, sizeof(s));
	s.reason = HC_REASON_EXIT;
	buf = write_mem(&s, &len);
	ck_assert_int_eq(hc_snapshot_read_mem(buf, len, &r, &err), HC_OK);
	check_equal(&s, r);
	ck_assert_uint_eq(r->nstacks, 1);
	ck_assert_uint_eq(r->nblocks, 0);
	ck_assert_uint_eq(r->nedges, 0);
	ck_assert_str_eq(r->exe, "");
	hc_snapshot_free(r);
	free(buf);
}
END_TEST

START_TEST(test_snapshot_every_truncation_rejected)
{
	struct hc_snapshot s;
	size_t len, n;
	unsigned char *buf;

	sample(&s);
	buf = write_mem(&s, &len);
	for (n = 0; n < len; n++) {
		/* A private copy of exactly n bytes, so ASan sees any overread. */
		unsigned char *cut = malloc(n ? n : 1);
		struct hc_error err;

		memcpy(cut, buf, n);
		err = expect_fail(cut, n, HC_ERR_FORMAT);
		ck_assert_msg(strncmp(err.what, "truncated", 9) == 0,
			      "length %zu: '%s'", n, err.what);
		ck_assert_uint_eq(err.offset, n);
		free(cut);
	}
	free(buf);
}
END_TEST

START_TEST(test_snapshot_every_byte_flip_rejected)
{
	static const unsigned char flips[] = { 0x01, 0x80, 0xff };
	struct hc_snapshot s;
	size_t len, i, f;
	unsigned char *buf;

	sample(&s);
	buf = write_mem(&s, &len);
	/*
	 * No byte escapes: the header has its own CRC, each section's CRC
	 * covers its header and payload, and a flip in a CRC itself mismatches.
	 * The version (bytes 8..11) is checked before the CRC, on purpose.
	 */
	for (i = 0; i < len; i++)
		for (f = 0; f < sizeof(flips); f++) {
			buf[i] ^= flips[f];
			expect_fail(buf, len, i >= 8 && i < 12 ? HC_ERR_VERSION : HC_ERR_FORMAT);
			buf[i] ^= flips[f];
		}
	free(buf);
}
END_TEST

START_TEST(test_snapshot_wrong_version)
{
	struct hc_snapshot s;
	struct hc_error err;
	size_t len;
	unsigned char *buf;
	char line[200];

	sample(&s);
	buf = write_mem(&s, &len);
	st32(buf + 8, HC_SNAPSHOT_VERSION + 1);
	st32(buf + 52, hc_crc32(0, buf, 52));	/* otherwise a perfect header */
	err = expect_fail(buf, len, HC_ERR_VERSION);
	ck_assert_uint_eq(err.offset, 8);
	hc_error_format(&err, "app.hcs", line, sizeof(line));
	ck_assert_str_eq(line, "app.hcs: unsupported snapshot version at byte 8 "
			 "(version 2, this build reads 1)");
	free(buf);
}
END_TEST

START_TEST(test_snapshot_bad_magic_and_header)
{
	struct hc_snapshot s;
	struct hc_error err;
	size_t len;
	unsigned char *buf;

	sample(&s);
	buf = write_mem(&s, &len);
	err = expect_fail((const unsigned char *)"#!/bin/sh\n", 10, HC_ERR_FORMAT);
	ck_assert_str_eq(err.what, "header: not a heapcycle snapshot");
	st32(buf + 16, 4321);	/* pid: the header CRC catches it */
	err = expect_fail(buf, len, HC_ERR_FORMAT);
	ck_assert_str_eq(err.what, "header crc");
	ck_assert_uint_eq(err.offset, 52);
	free(buf);
}
END_TEST

/* Counts the largest allocation the reader asks for. */
static size_t max_alloc;

static void *counting_alloc(size_t n)
{
	if (n > max_alloc)
		max_alloc = n;
	return malloc(n);
}

static void *counting_realloc(void *p, size_t n)
{
	if (n > max_alloc)
		max_alloc = n;
	return realloc(p, n);
}

/* No alloc_zeroed: every allocation goes through counting_alloc. */
static const struct hc_mem_ops counting_ops = {
	.alloc = counting_alloc,
	.realloc = counting_realloc,
	.free = free,
};

/* Patches a u32 (width 4) or u64 (8) at section-relative offset, fixes
 * the CRC and expects HC_ERR_FORMAT without a large allocation. */
static struct hc_error patch_and_fail(uint32_t type, size_t rel, int width,
				      uint64_t value)
{
	struct hc_snapshot s;
	struct hc_error err;
	size_t len, pos;
	unsigned char *buf;

	sample(&s);
	buf = write_mem(&s, &len);
	pos = find_section(buf, len, type);
	if (width == 4)
		st32(buf + pos + SECT_HDR + rel, (uint32_t)value);
	else if (width == 8)
		st64(buf + pos + SECT_HDR + rel, value);
	else
		buf[pos + SECT_HDR + rel] = (unsigned char)value;
	fix_crc(buf, pos);
	max_alloc = 0;
	hc_mem_set_ops(&counting_ops);
	err = expect_fail(buf, len, HC_ERR_FORMAT);
	hc_mem_set_ops(NULL);
	ck_assert_uint_lt(max_alloc, 64 * 1024);
	ck_assert_uint_ge(err.offset, pos);
	ck_assert_uint_le(err.offset, pos + SECT_HDR + ld64(buf + pos + 8));
	free(buf);
	return err;
}

START_TEST(test_snapshot_huge_counts_rejected_before_allocating)
{
	struct hc_error err;

	err = patch_and_fail(S_BLOCKS, 0, 8, 1ull << 60);
	ck_assert_msg(strstr(err.what, "block table") != NULL, "%s", err.what);
	err = patch_and_fail(S_EDGES, 0, 8, 1ull << 60);
	ck_assert_msg(strstr(err.what, "edge table") != NULL, "%s", err.what);
	err = patch_and_fail(S_EDGES, 0, 8, UINT64_MAX);
	err = patch_and_fail(S_BLOCKS, 0, 8, UINT64_MAX / 44 + 1);
	err = patch_and_fail(S_MODULES, 0, 4, 0xffffffffu);
	ck_assert_msg(strstr(err.what, "module table") != NULL, "%s", err.what);
	err = patch_and_fail(S_STACKS, 0, 4, 0xffffffffu);
	ck_assert_msg(strstr(err.what, "stack table") != NULL, "%s", err.what);
	/* Stack 1's frame count; stack 0 sits at 4..7, stack 1 at 8. */
	err = patch_and_fail(S_STACKS, 8, 4, 0xffffffffu);
	ck_assert_str_eq(err.what, "stack 1: 4294967295 frames");
	err = patch_and_fail(S_STACKS, 8, 4, HC_SNAPSHOT_MAX_FRAMES);
	ck_assert_str_eq(err.what, "stack 1: past section end");
	err = patch_and_fail(S_STACKS, 4, 4, 1);
	ck_assert_str_eq(err.what, "stack 0: not empty");
	err = patch_and_fail(S_META, 0, 4, 0xffffffffu);
	ck_assert_str_eq(err.what, "exe path: string too long");
	err = patch_and_fail(S_META, 0, 4, 1000);
	ck_assert_str_eq(err.what, "exe path: string past section end");
	/* Module 0's build-id length sits at 4 + 28. */
	err = patch_and_fail(S_MODULES, 32, 4, HC_SNAPSHOT_MAX_BUILD_ID + 1);
	ck_assert_str_eq(err.what, "module 0: build-id too long");
	err = patch_and_fail(S_MODULES, 4 + 8, 8, 0x600000);
	ck_assert_str_eq(err.what, "module 0: start after end");
}
END_TEST

/* Block i's record starts at 8 + 44 * i in the BLOCKS payload. */
#define BLK(i, field) (8 + BLOCK_REC * (i) + (field))
#define EDG(i, field) (8 + EDGE_REC * (i) + (field))

START_TEST(test_snapshot_bad_blocks_rejected)
{
	struct hc_error err;

	err = patch_and_fail(S_BLOCKS, BLK(1, 0), 8, 0x1000);
	ck_assert_str_eq(err.what, "block 1: address not above block 0");
	err = patch_and_fail(S_BLOCKS, BLK(1, 0), 8, 0x0fff);
	ck_assert_str_eq(err.what, "block 1: address not above block 0");
	err = patch_and_fail(S_BLOCKS, BLK(1, 0), 8, 0x101f);
	ck_assert_str_eq(err.what, "block 1: overlaps block 0");
	err = patch_and_fail(S_BLOCKS, BLK(4, 8), 8, 0x1001);
	ck_assert_str_eq(err.what, "block 4: end past 2^64");
	err = patch_and_fail(S_BLOCKS, BLK(3, 24), 4, 4);
	ck_assert_str_eq(err.what, "block 3: stack 4 out of range");
	err = patch_and_fail(S_BLOCKS, BLK(2, 40), 1, 3);
	ck_assert_str_eq(err.what, "block 2: bad kind 3");
	err = patch_and_fail(S_BLOCKS, BLK(2, 41), 1, HC_ROOT_KIND_COUNT);
	ck_assert_str_eq(err.what, "block 2: bad root kind 6");
}
END_TEST

START_TEST(test_snapshot_bad_edges_rejected)
{
	struct hc_error err;

	err = patch_and_fail(S_EDGES, EDG(2, 0), 4, 5);
	ck_assert_str_eq(err.what, "edge 2: from 5 out of range");
	err = patch_and_fail(S_EDGES, EDG(3, 4), 4, 0xffffffffu);
	ck_assert_str_eq(err.what, "edge 3: to 4294967295 out of range");
	err = patch_and_fail(S_EDGES, EDG(0, 8), 8, 32);
	ck_assert_str_eq(err.what, "edge 0: from offset outside block");
	/* Edge 3 points into block 2, of size 0: only offset 0 is allowed. */
	err = patch_and_fail(S_EDGES, EDG(3, 16), 8, 1);
	ck_assert_str_eq(err.what, "edge 3: to offset outside block");
	err = patch_and_fail(S_EDGES, EDG(4, 16), 8, 16);
	ck_assert_str_eq(err.what, "edge 4: to offset outside block");
	err = patch_and_fail(S_EDGES, EDG(3, 8), 8, 8);
	ck_assert_str_eq(err.what, "edge 3: not sorted");
	err = patch_and_fail(S_EDGES, EDG(4, 0), 4, 0);
	ck_assert_str_eq(err.what, "edge 4: not sorted");
}
END_TEST

START_TEST(test_snapshot_writer_refuses_inconsistent_input)
{
	struct hc_snapshot s;
	struct hc_block blocks[5];
	struct hc_edge edges[5];
	int fd = memfd_create("snap", 0);

	ck_assert_int_ge(fd, 0);
	sample(&s);
	memcpy(blocks, sample_blocks, sizeof(blocks));
	memcpy(edges, sample_edges, sizeof(edges));
	s.blocks = blocks;
	s.edges = edges;
	blocks[1].addr = 0x1010;	/* overlaps block 0 */
	ck_assert_int_eq(hc_snapshot_write_fd(fd, &s), HC_ERR_ARG);
	blocks[1].addr = 0x1020;
	edges[0].to = 5;
	ck_assert_int_eq(hc_snapshot_write_fd(fd, &s), HC_ERR_ARG);
	edges[0].to = 1;
	ck_assert_int_eq(lseek(fd, 0, SEEK_END), 0);	/* nothing written */
	ck_assert_int_eq(hc_snapshot_write_fd(fd, &s), HC_OK);
	close(fd);
	errno = 0;
	ck_assert_int_eq(hc_snapshot_write_fd(fd, &s), HC_ERR_IO);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

/* Builds a file with an extra section of the given type inserted before
 * the section `before`. */
static unsigned char *insert_section(const unsigned char *buf, size_t len,
				     uint32_t before, uint32_t type,
				     const void *payload, size_t plen, size_t *outlen)
{
	size_t at = find_section(buf, len, before);
	size_t n = SECT_HDR + plen + 4;
	unsigned char *o = malloc(len + n);

	memcpy(o, buf, at);
	st32(o + at, type);
	st32(o + at + 4, 0);
	st64(o + at + 8, plen);
	memcpy(o + at + SECT_HDR, payload, plen);
	fix_crc(o, at);
	memcpy(o + at + n, buf + at, len - at);
	*outlen = len + n;
	return o;
}

START_TEST(test_snapshot_unknown_section_skipped)
{
	struct hc_snapshot s, *r;
	struct hc_error err;
	size_t len, len2, meta, metalen;
	unsigned char *buf, *ext, *dup;

	sample(&s);
	buf = write_mem(&s, &len);
	ext = insert_section(buf, len, S_STACKS, 99, "future data", 11, &len2);
	ck_assert_int_eq(hc_snapshot_read_mem(ext, len2, &r, &err), HC_OK);
	check_equal(&s, r);
	hc_snapshot_free(r);
	/* Its CRC still has to hold. */
	ext[find_section(ext, len2, 99) + SECT_HDR] ^= 1;
	err = expect_fail(ext, len2, HC_ERR_FORMAT);
	ck_assert_str_eq(err.what, "section crc (unknown section)");
	free(ext);

	/* A known section twice, or one missing, is refused. */
	meta = find_section(buf, len, S_META);
	metalen = ld64(buf + meta + 8);
	dup = insert_section(buf, len, S_BLOCKS, S_META, buf + meta + SECT_HDR,
			     metalen, &len2);
	err = expect_fail(dup, len2, HC_ERR_FORMAT);
	ck_assert_str_eq(err.what, "duplicate section (META)");
	ck_assert_uint_eq(err.offset, find_section(buf, len, S_BLOCKS));
	free(dup);
	st32(buf + find_section(buf, len, S_MODULES), 77);
	fix_crc(buf, find_section(buf, len, 77));
	err = expect_fail(buf, len, HC_ERR_FORMAT);
	ck_assert_str_eq(err.what, "missing section (MODULES)");
	free(buf);
}
END_TEST

START_TEST(test_snapshot_trailing_bytes_rejected)
{
	struct hc_snapshot s;
	struct hc_error err;
	size_t len;
	unsigned char *buf, *more;

	sample(&s);
	buf = write_mem(&s, &len);
	more = calloc(1, len + 1);
	memcpy(more, buf, len);
	err = expect_fail(more, len + 1, HC_ERR_FORMAT);
	ck_assert_uint_eq(err.offset, len);
	free(more);
	free(buf);
}
END_TEST

START_TEST(test_error_format_one_line)
{
	struct hc_error err;
	char line[128];

	ck_assert_int_eq(hc_error_set(&err, HC_ERR_FORMAT, 4096, "truncated (stack table)"),
			 HC_ERR_FORMAT);
	ck_assert_str_eq(hc_error_format(&err, "app.1234.hcs", line, sizeof(line)),
			 "app.1234.hcs: truncated at byte 4096 (stack table)");
	hc_error_set(&err, HC_ERR_FORMAT, 300, "block 12: overlaps block 11");
	hc_error_format(&err, "a.hcs", line, sizeof(line));
	ck_assert_str_eq(line, "a.hcs: malformed snapshot at byte 300 (block 12: overlaps block 11)");
	hc_error_set(&err, HC_ERR_IO, 0, "No such file or directory");
	hc_error_format(&err, "a.hcs", line, sizeof(line));
	ck_assert_str_eq(line, "a.hcs: input/output error: No such file or directory");
	/* Truncated to the buffer, terminated. */
	hc_error_format(&err, "a.hcs", line, 6);
	ck_assert_str_eq(line, "a.hcs");
	/* what is cut to fit its 64 bytes. */
	hc_error_set(&err, HC_ERR_ARG, 0,
		     "0123456789012345678901234567890123456789012345678901234567890123456789");
	ck_assert_uint_eq(strlen(err.what), sizeof(err.what) - 1);
	ck_assert_str_eq(hc_strerror(HC_ERR_VERSION), "unsupported snapshot version");
	ck_assert_str_eq(hc_strerror((enum hc_status)-99), "unknown error");
}
END_TEST

START_TEST(test_mem_hook_and_calloc_overflow)
{
	char *d;

	max_alloc = 0;
	hc_mem_set_ops(&counting_ops);
	d = hc_mem_strdup("hello");
	ck_assert_str_eq(d, "hello");
	ck_assert_uint_eq(max_alloc, 6);
	hc_mem_free(d);
	ck_assert_ptr_null(hc_mem_calloc(SIZE_MAX / 2, 3));
	ck_assert_uint_eq(max_alloc, 6);	/* refused before asking */
	hc_mem_set_ops(NULL);
	d = hc_mem_calloc(4, 8);
	ck_assert_mem_eq(d, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 32);
	hc_mem_free(d);
	hc_mem_free(NULL);
}
END_TEST

START_TEST(test_arena_alloc_aligned_zeroed_and_grows)
{
	struct hc_arena a = { 0 };
	unsigned char *p, *q, *big, *big2;
	size_t i;

	p = hc_arena_alloc(&a, 3);
	q = hc_arena_alloc(&a, 100);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq((uintptr_t)p % 16, 0);
	ck_assert_uint_eq((uintptr_t)q % 16, 0);
	ck_assert_uint_ge((uintptr_t)q, (uintptr_t)p + 3);
	for (i = 0; i < 100; i++)
		ck_assert_uint_eq(q[i], 0);
	memset(q, 0xab, 100);
	/* q is the newest: it grows in place and the new bytes are zero. */
	ck_assert_ptr_eq(hc_arena_realloc(&a, q, 100, 400), q);
	ck_assert_uint_eq(q[99], 0xab);
	ck_assert_uint_eq(q[399], 0);
	/* p is not: it moves, keeping its bytes. */
	memset(p, 0x11, 3);
	q = hc_arena_realloc(&a, p, 3, 64);
	ck_assert_ptr_ne(q, p);
	ck_assert_uint_eq(q[2], 0x11);
	ck_assert_uint_eq(q[3], 0);
	/* A big array gets its own chunk and grows through mremap. */
	big = hc_arena_alloc(&a, 3u << 20);
	ck_assert_ptr_nonnull(big);
	big[(3u << 20) - 1] = 7;
	p = hc_arena_alloc(&a, 16);	/* small ones keep using the shared chunk */
	ck_assert_ptr_nonnull(p);
	big2 = hc_arena_realloc(&a, big, 3u << 20, 9u << 20);
	ck_assert_ptr_nonnull(big2);
	ck_assert_uint_eq(big2[(3u << 20) - 1], 7);
	ck_assert_uint_eq(big2[(9u << 20) - 1], 0);
	ck_assert_uint_ge(a.bytes, 9u << 20);
	for (i = 0; i < 5000; i++)
		ck_assert_ptr_nonnull(hc_arena_alloc(&a, 1000));
	ck_assert_ptr_null(hc_arena_alloc(&a, SIZE_MAX - 8));
	hc_arena_release(&a);
	ck_assert_ptr_null(a.chunks);
	ck_assert_uint_eq(a.bytes, 0);
}
END_TEST

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* ---- REFS: g_object_ref/unref histories ---- */

static const struct hc_ref_event sample_ev0[2] = {
	{ .seq = 3, .stack = 1, .tid = 100, .count = 1, .kind = HC_REF_REF },
	{ .seq = 8, .stack = 3, .tid = 101, .count = 2, .kind = HC_REF_UNREF },
};
static const struct hc_ref_event sample_ev1[3] = {
	{ .seq = 1, .stack = 0, .tid = 100, .count = 1, .kind = HC_REF_SINK,
	  .flags = HC_REF_FLOATING },
	{ .seq = 2, .stack = 2, .tid = 0xffffffff, .count = 0xfffffffe, .kind = HC_REF_TAKE },
	{ .seq = UINT64_MAX, .stack = 3, .tid = 1, .count = 7, .kind = HC_REF_UNREF },
};
static const struct hc_ref_history sample_hists[2] = {
	{ .block = 1, .offset = 8, .count = 1, .nevents = 2, .gap = 2, .events = sample_ev0 },
	{ .block = 3, .offset = 15, .count = HC_REF_COUNT_UNKNOWN, .nevents = 3, .gap = 1,
	  .dropped = 9, .dropped_refs = 4, .dropped_unrefs = 5, .events = sample_ev1 },
};

static void sample_refs(struct hc_snapshot *s)
{
	sample(s);
	s->ref_lost = 12345678901ull;
	s->nrefhists = 2;
	s->refhists = sample_hists;
}

/* Offsets in the REFS payload of sample_refs (man/heapcycle-snapshot.5):
 * u64 lost, u32 count, history 0's head at 12 and its events at 52 and 76,
 * history 1's head at 100 and its events at 140, 164 and 188; 212 bytes. */
#define S_REFS 10u

START_TEST(test_snapshot_refs_round_trip)
{
	struct hc_snapshot s, *r;
	struct hc_error err;
	size_t len;
	unsigned char *buf;
	uint32_t i, j;

	sample_refs(&s);
	buf = write_mem(&s, &len);
	ck_assert_uint_eq(ld64(buf + find_section(buf, len, S_REFS) + 8), 212);
	ck_assert_int_eq(hc_snapshot_read_mem(buf, len, &r, &err), HC_OK);
	check_equal(&s, r);
	ck_assert_uint_eq(r->ref_lost, s.ref_lost);
	ck_assert_uint_eq(r->nrefhists, 2);
	for (i = 0; i < 2; i++) {
		const struct hc_ref_history *x = &s.refhists[i], *y = &r->refhists[i];

		ck_assert_uint_eq(x->block, y->block);
		ck_assert_uint_eq(x->offset, y->offset);
		ck_assert_uint_eq(x->count, y->count);
		ck_assert_uint_eq(x->nevents, y->nevents);
		ck_assert_uint_eq(x->gap, y->gap);
		ck_assert_uint_eq(x->dropped, y->dropped);
		ck_assert_uint_eq(x->dropped_refs, y->dropped_refs);
		ck_assert_uint_eq(x->dropped_unrefs, y->dropped_unrefs);
		for (j = 0; j < x->nevents; j++) {
			ck_assert_uint_eq(x->events[j].seq, y->events[j].seq);
			ck_assert_uint_eq(x->events[j].stack, y->events[j].stack);
			ck_assert_uint_eq(x->events[j].tid, y->events[j].tid);
			ck_assert_uint_eq(x->events[j].count, y->events[j].count);
			ck_assert_uint_eq(x->events[j].kind, y->events[j].kind);
			ck_assert_uint_eq(x->events[j].flags, y->events[j].flags);
		}
	}
	hc_snapshot_free(r);
	free(buf);

	/* A snapshot without the section reads with none. */
	sample(&s);
	buf = write_mem(&s, &len);
	ck_assert_int_eq(hc_snapshot_read_mem(buf, len, &r, &err), HC_OK);
	ck_assert_uint_eq(r->nrefhists, 0);
	ck_assert_uint_eq(r->ref_lost, 0);
	hc_snapshot_free(r);
	free(buf);
}
END_TEST

START_TEST(test_snapshot_refs_every_truncation_and_flip_rejected)
{
	struct hc_snapshot s;
	size_t len, n, at, end;
	unsigned char *buf;

	sample_refs(&s);
	buf = write_mem(&s, &len);
	at = find_section(buf, len, S_REFS);
	end = at + SECT_HDR + ld64(buf + at + 8) + 4;
	for (n = at; n < end; n++) {
		/* A private copy of exactly n bytes, so ASan sees any overread. */
		unsigned char *cut = malloc(n);
		struct hc_error err;

		memcpy(cut, buf, n);
		err = expect_fail(cut, n, HC_ERR_FORMAT);
		ck_assert_msg(strncmp(err.what, "truncated", 9) == 0, "length %zu: '%s'", n, err.what);
		free(cut);
	}
	for (n = at; n < end; n++) {
		buf[n] ^= 0x20;
		expect_fail(buf, len, HC_ERR_FORMAT);
		buf[n] ^= 0x20;
	}
	free(buf);
}
END_TEST

/* One field of the REFS payload patched (CRC recomputed): refused, with
 * what and where. */
static void refs_patch_fails(size_t rel, int width, uint64_t v, const char *what)
{
	struct hc_snapshot s;
	struct hc_error err;
	size_t len, at;
	unsigned char *buf;

	sample_refs(&s);
	buf = write_mem(&s, &len);
	at = find_section(buf, len, S_REFS);
	if (width == 1)
		buf[at + SECT_HDR + rel] = (unsigned char)v;
	else if (width == 4)
		st32(buf + at + SECT_HDR + rel, (uint32_t)v);
	else
		st64(buf + at + SECT_HDR + rel, v);
	fix_crc(buf, at);
	err = expect_fail(buf, len, HC_ERR_FORMAT);
	ck_assert_msg(strstr(err.what, what), "patch at %zu: '%s', want '%s'", rel, err.what, what);
	ck_assert_uint_ge(err.offset, at);
	ck_assert_uint_lt(err.offset, at + SECT_HDR + 212);
	free(buf);
}

START_TEST(test_snapshot_refs_bad_fields_rejected)
{
	refs_patch_fails(8, 4, 0xffffffffu, "count 4294967295 too large");
	refs_patch_fails(8, 4, 1, "bytes left over");
	refs_patch_fails(12, 8, 5, "history 0: bad block index");
	refs_patch_fails(100, 8, 1, "history 1: bad block index");
	refs_patch_fails(20, 8, 48, "history 0: offset outside block");
	refs_patch_fails(32, 4, 0, "history 0: 0 events");
	refs_patch_fails(120, 4, HC_SNAPSHOT_MAX_REF_EVENTS + 1, "history 1: 1025 events");
	refs_patch_fails(120, 4, 4, "history 1: past section end");
	refs_patch_fails(36, 4, 3, "history 0: gap past its events");
	refs_patch_fails(132, 4, 5, "history 1: dropped counts disagree");
	refs_patch_fails(136, 4, 0xffffffffu, "history 1: dropped counts disagree");
	refs_patch_fails(60, 4, 4, "history 0 event 0: stack out of range");
	refs_patch_fails(72, 1, HC_REF_KIND_COUNT, "history 0 event 0: bad call 4");
	refs_patch_fails(73, 1, 2, "history 0 event 0: bad flags");
	refs_patch_fails(73, 1, HC_REF_FLOATING, "history 0 event 0: bad flags");
	refs_patch_fails(74, 1, 1, "history 0 event 0: pad not zero");
	refs_patch_fails(75, 1, 0x80, "history 0 event 0: pad not zero");
	refs_patch_fails(76, 8, 3, "history 0 event 1: not in order");
}
END_TEST

START_TEST(test_snapshot_refs_misplaced_or_twice_rejected)
{
	struct hc_snapshot s;
	struct hc_error err;
	size_t len, len2, at;
	unsigned char *buf, *bad;

	sample_refs(&s);
	buf = write_mem(&s, &len);
	at = find_section(buf, len, S_REFS);
	/* REFS before EDGES, and REFS again after REFS. */
	bad = insert_section(buf, len, S_EDGES, S_REFS, buf + at + SECT_HDR, ld64(buf + at + 8),
			     &len2);
	err = expect_fail(bad, len2, HC_ERR_FORMAT);
	ck_assert_str_eq(err.what, "misplaced section (REFS)");
	free(bad);
	bad = insert_section(buf, len, S_END, S_REFS, buf + at + SECT_HDR, ld64(buf + at + 8),
			     &len2);
	err = expect_fail(bad, len2, HC_ERR_FORMAT);
	ck_assert_str_eq(err.what, "misplaced section (REFS)");
	free(bad);
	free(buf);
}
END_TEST

START_TEST(test_snapshot_writer_refuses_bad_refs)
{
	struct hc_snapshot s;
	struct hc_ref_history h[2];
	struct hc_ref_event e[3];
	int fd = memfd_create("snap", 0);

	ck_assert_int_ge(fd, 0);
	sample_refs(&s);
	memcpy(h, sample_hists, sizeof(h));
	memcpy(e, sample_ev1, sizeof(e));
	h[1].events = e;
	s.refhists = h;
	h[1].block = 1;		/* not above history 0's */
	ck_assert_int_eq(hc_snapshot_write_fd(fd, &s), HC_ERR_ARG);
	h[1].block = 3;
	h[1].offset = 16;	/* block 3 has 16 bytes */
	ck_assert_int_eq(hc_snapshot_write_fd(fd, &s), HC_ERR_ARG);
	h[1].offset = 15;
	e[2].seq = 2;		/* not after the call before */
	ck_assert_int_eq(hc_snapshot_write_fd(fd, &s), HC_ERR_ARG);
	e[2].seq = 3;
	e[0].kind = HC_REF_REF;	/* a floating g_object_ref */
	ck_assert_int_eq(hc_snapshot_write_fd(fd, &s), HC_ERR_ARG);
	e[0].kind = HC_REF_SINK;
	h[1].dropped = 8;	/* fewer than its refs and unrefs */
	ck_assert_int_eq(hc_snapshot_write_fd(fd, &s), HC_ERR_ARG);
	h[1].dropped = 9;
	ck_assert_int_eq(lseek(fd, 0, SEEK_END), 0);	/* nothing written */
	ck_assert_int_eq(hc_snapshot_write_fd(fd, &s), HC_OK);
	close(fd);
}
END_TEST

START_TEST(test_snapshot_committed_files)
{
	struct hc_snapshot *r;
	struct hc_error err;
	DIR *d;
	struct dirent *de;
	char path[4096];
	int nhostile = 0;

	snprintf(path, sizeof(path), "%s/good/small.hcs", HC_TEST_DATA);
	ck_assert_msg(hc_snapshot_read_file(path, &r, &err) == HC_OK, "%s: %s",
		      path, err.what);
	ck_assert_uint_gt(r->nblocks, 0);
	ck_assert_uint_gt(r->nedges, 0);
	hc_snapshot_free(r);
	snprintf(path, sizeof(path), "%s/good/refs.hcs", HC_TEST_DATA);
	ck_assert_msg(hc_snapshot_read_file(path, &r, &err) == HC_OK, "%s: %s",
		      path, err.what);
	ck_assert_uint_eq(r->nrefhists, 2);
	hc_snapshot_free(r);

	snprintf(path, sizeof(path), "%s/hostile", HC_TEST_DATA);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		int rc;

		if (!has_suffix(de->d_name, ".hcs"))
			continue;
		snprintf(path, sizeof(path), "%s/hostile/%s", HC_TEST_DATA, de->d_name);
		rc = hc_snapshot_read_file(path, &r, &err);
		ck_assert_msg(rc == (strstr(de->d_name, "version") ? HC_ERR_VERSION :
				     HC_ERR_FORMAT), "%s: %d", de->d_name, rc);
		ck_assert_ptr_null(r);
		nhostile++;
	}
	closedir(d);
	ck_assert_int_ge(nhostile, 10);
}
END_TEST

Suite *suite_snapshot(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("format");
	TCase *base = tcase_create("base");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_snapshot_round_trip_every_field);
	tcase_add_test(tc, test_snapshot_read_file_round_trip);
	tcase_add_test(tc, test_snapshot_empty_round_trips);
	tcase_add_test(tc, test_snapshot_every_truncation_rejected);
	tcase_add_test(tc, test_snapshot_every_byte_flip_rejected);
	tcase_add_test(tc, test_snapshot_wrong_version);
	tcase_add_test(tc, test_snapshot_bad_magic_and_header);
	tcase_add_test(tc, test_snapshot_huge_counts_rejected_before_allocating);
	tcase_add_test(tc, test_snapshot_bad_blocks_rejected);
	tcase_add_test(tc, test_snapshot_bad_edges_rejected);
	tcase_add_test(tc, test_snapshot_writer_refuses_inconsistent_input);
	tcase_add_test(tc, test_snapshot_unknown_section_skipped);
	tcase_add_test(tc, test_snapshot_trailing_bytes_rejected);
	tcase_add_test(tc, test_snapshot_committed_files);
	tcase_add_test(tc, test_snapshot_refs_round_trip);
	tcase_add_test(tc, test_snapshot_refs_every_truncation_and_flip_rejected);
	tcase_add_test(tc, test_snapshot_refs_bad_fields_rejected);
	tcase_add_test(tc, test_snapshot_refs_misplaced_or_twice_rejected);
	tcase_add_test(tc, test_snapshot_writer_refuses_bad_refs);
	suite_add_tcase(s, tc);
	tcase_add_test(base, test_crc32_check_value);
	tcase_add_test(base, test_error_format_one_line);
	tcase_add_test(base, test_mem_hook_and_calloc_overflow);
	tcase_add_test(base, test_arena_alloc_aligned_zeroed_and_grows);
	suite_add_tcase(s, base);
	return s;
}
