/* SPDX-License-Identifier: MIT */
/*
 * Generates tests/data/good/small.hcs, tests/data/good/refs.hcs (the same
 * with a REFS section) and the hostile snapshots in tests/data/hostile/
 * (see the README there). Not built by make: the files it writes are
 * committed. From the top of the tree:
 *
 *   cc -std=gnu11 -Isrc -o /tmp/make_hostile tests/data/make_hostile.c \
 *      src/snapshot_write.c src/crc32.c src/error.c src/mem.c
 *   /tmp/make_hostile tests/data
 *
 * Each hostile file is the good one with one thing wrong; where the thing
 * is inside a section, the section's CRC is recomputed so that the reader
 * has to find the problem itself and not just a CRC mismatch.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crc32.h"
#include "snapshot.h"

#define FILE_HDR 56u
#define SECT_HDR 16u
enum { S_META = 1, S_MODULES, S_STACKS, S_BLOCKS, S_EDGES, S_END, S_REFS = 10 };

static const char *dir;
static unsigned char *good;
static size_t good_len;

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
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void st64(unsigned char *p, uint64_t v)
{
	st32(p, (uint32_t)v);
	st32(p + 4, (uint32_t)(v >> 32));
}

static size_t section(const unsigned char *buf, uint32_t type)
{
	size_t pos = FILE_HDR;

	while (ld32(buf + pos) != type)
		pos += SECT_HDR + ld64(buf + pos + 8) + 4;
	return pos;
}

static void fix_crc(unsigned char *buf, size_t pos)
{
	uint64_t n = ld64(buf + pos + 8);

	st32(buf + pos + SECT_HDR + n, hc_crc32(0, buf + pos, SECT_HDR + n));
}

static void save(const char *sub, const char *name, const unsigned char *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static unsigned char *copy(void)
{
	unsigned char *b = malloc(good_len + 64);

	memcpy(b, good, good_len);
	return b;
}

/* A copy cut in the middle of the payload of section type. */
static void truncated(const char *name, uint32_t type)
{
	size_t pos = section(good, type);

	save("hostile", name, good, pos + SECT_HDR + ld64(good + pos + 8) / 2);
}

/* A copy with a u32/u64 patched at a payload offset, CRC recomputed. */
static void patched(const char *name, uint32_t type, size_t rel, int width, uint64_t v)
{
	unsigned char *b = copy();
	size_t pos = section(b, type);

	if (width == 4)
		st32(b + pos + SECT_HDR + rel, (uint32_t)v);
	else
		st64(b + pos + SECT_HDR + rel, v);
	fix_crc(b, pos);
	save("hostile", name, b, good_len);
	free(b);
}

/* Writes s to a memfd and makes its bytes the file the helpers above copy. */
static void take(const struct hc_snapshot *s)
{
	int fd = memfd_create("small", 0);

	if (fd < 0 || hc_snapshot_write_fd(fd, s) != HC_OK) {
		perror("write");
		exit(1);
	}
	good_len = (size_t)lseek(fd, 0, SEEK_END);
	free(good);
	good = malloc(good_len + 64);
	if (pread(fd, good, good_len, 0) != (ssize_t)good_len) {
		perror("pread");
		exit(1);
	}
	close(fd);
}

/*
 * refs.hcs and its hostile variants. The REFS payload: u64 lost, u32
 * count (at 8); history 0 (head at 12, events at 52 and 76) on block 0;
 * history 1 (head at 100, events at 140, 164, 188) on block 2. A head is
 * block, offset, count, nevents (+20), gap (+24), dropped (+28),
 * dropped_refs (+32), dropped_unrefs (+36); an event is seq, stack (+8),
 * tid, count, then kind, flags and the pad as one u32 at +20.
 */
static void refs_files(struct hc_snapshot *s)
{
	static const struct hc_ref_event ev0[] = {
		{ .seq = 1, .stack = 1, .tid = 4242, .count = 1, .kind = HC_REF_REF },
		{ .seq = 4, .stack = 2, .tid = 4242, .count = 2, .kind = HC_REF_UNREF },
	};
	static const struct hc_ref_event ev1[] = {
		{ .seq = 2, .stack = 3, .tid = 4242, .count = 1, .kind = HC_REF_REF },
		{ .seq = 9, .stack = 2, .tid = 4243, .count = 3, .kind = HC_REF_SINK,
		  .flags = HC_REF_FLOATING },
		{ .seq = 10, .stack = 1, .tid = 4242, .count = 3, .kind = HC_REF_UNREF },
	};
	static const struct hc_ref_history hist[] = {
		{ .block = 0, .offset = 0, .count = 1, .nevents = 2, .gap = 2, .events = ev0 },
		{ .block = 2, .offset = 8, .count = 2, .nevents = 3, .gap = 1, .dropped = 4,
		  .dropped_refs = 2, .dropped_unrefs = 1, .events = ev1 },
	};
	unsigned char *b;
	size_t pos, end, len;

	s->ref_lost = 7;
	s->nrefhists = 2;
	s->refhists = hist;
	take(s);
	save("good", "refs.hcs", good, good_len);

	truncated("refs-truncated.hcs", S_REFS);
	b = copy();
	b[section(b, S_REFS) + SECT_HDR + 60] ^= 0x10;
	save("hostile", "refs-bad-crc.hcs", b, good_len);
	free(b);
	patched("refs-huge-count.hcs", S_REFS, 8, 4, 0xffffffffu);
	patched("refs-bytes-left-over.hcs", S_REFS, 8, 4, 1);
	patched("refs-block-out-of-range.hcs", S_REFS, 12, 8, 5);
	patched("refs-block-unsorted.hcs", S_REFS, 100, 8, 0);
	patched("refs-offset-outside-block.hcs", S_REFS, 20, 8, 24);
	patched("refs-no-events.hcs", S_REFS, 32, 4, 0);
	patched("refs-too-many-events.hcs", S_REFS, 120, 4, HC_SNAPSHOT_MAX_REF_EVENTS + 1);
	patched("refs-events-past-end.hcs", S_REFS, 120, 4, 4);
	patched("refs-gap-past-events.hcs", S_REFS, 36, 4, 3);
	patched("refs-dropped-mismatch.hcs", S_REFS, 132, 4, 4);
	patched("refs-event-stack-out-of-range.hcs", S_REFS, 60, 4, 4);
	patched("refs-event-bad-kind.hcs", S_REFS, 96, 4, 4);
	patched("refs-event-bad-flags.hcs", S_REFS, 96, 4, 1 | 2u << 8);
	patched("refs-event-floating-ref.hcs", S_REFS, 72, 4, 0 | 1u << 8);
	patched("refs-event-pad.hcs", S_REFS, 72, 4, 0 | 1u << 16);
	patched("refs-event-seq-order.hcs", S_REFS, 164, 8, 2);

	/* REFS twice: the second is misplaced. */
	pos = section(good, S_REFS);
	end = pos + SECT_HDR + ld64(good + pos + 8) + 4;
	len = good_len + (end - pos);
	b = malloc(len);
	memcpy(b, good, end);
	memcpy(b + end, good + pos, end - pos);
	memcpy(b + end + (end - pos), good + end, good_len - end);
	save("hostile", "refs-twice.hcs", b, len);
	free(b);
}

int main(int argc, char **argv)
{
	static const uint64_t f1[] = { 0x401136, 0x4011a0, 0x7f1234567890 };
	static const uint64_t f2[] = { 0x401150, 0x4011a0, 0x7f1234567890 };
	static const uint64_t f3[] = { 0x401170, 0x7f1234567890 };
	static const struct hc_stack stacks[] = {
		{ 0, NULL }, { 3, f1 }, { 3, f2 }, { 2, f3 },
	};
	static struct hc_module modules[] = {
		{ .bias = 0, .start = 0x400000, .end = 0x402000, .flags = HC_MODULE_MAIN,
		  .build_id_len = 20, .path = "/usr/local/bin/small" },
		{ .bias = 0x7f1234500000, .start = 0x7f1234500000, .end = 0x7f12346c0000,
		  .build_id_len = 20, .path = "/usr/lib/x86_64-linux-gnu/libc.so.6" },
	};
	/* A two-block cycle nothing points at, a leaked tree of two, and a
	 * block still reachable from a global. */
	static const struct hc_block blocks[] = {
		{ .addr = 0x4052a0, .size = 24, .seq = 1, .stack = 1, .tid = 4242, .kind = 0 },
		{ .addr = 0x4052c0, .size = 24, .seq = 2, .stack = 1, .tid = 4242, .kind = 0 },
		{ .addr = 0x4056f0, .size = 64, .seq = 3, .stack = 2, .tid = 4242, .kind = 0 },
		{ .addr = 0x405740, .size = 10, .seq = 4, .stack = 2, .tid = 4242, .kind = 0 },
		{ .addr = 0x405760, .size = 100, .seq = 5, .stack = 3, .tid = 4242,
		  .root_refs = 1, .kind = 0, .root_kind = HC_ROOT_DATA },
	};
	static const struct hc_edge edges[] = {
		{ .from = 0, .to = 1, .from_offset = 16, .to_offset = 0 },
		{ .from = 1, .to = 0, .from_offset = 16, .to_offset = 0 },
		{ .from = 2, .to = 3, .from_offset = 0, .to_offset = 0 },
	};
	struct hc_snapshot s = {
		.flags = 0, .pid = 4242, .ppid = 4200, .reason = HC_REASON_EXIT,
		.nthreads = 1, .time_ns = 1700000000000000000ull, .metadata_bytes = 8192,
		.exe = "/usr/local/bin/small", .cmdline = "small --leak",
		.nmodules = 2, .modules = modules, .nstacks = 4, .stacks = stacks,
		.nblocks = 5, .blocks = blocks, .nedges = 3, .edges = edges,
	};
	unsigned char *b;
	size_t pos;

	if (argc != 2) {
		fprintf(stderr, "usage: make_hostile TESTS_DATA_DIR\n");
		return 2;
	}
	dir = argv[1];
	for (int i = 0; i < 20; i++) {
		modules[0].build_id[i] = (uint8_t)(0x10 + i);
		modules[1].build_id[i] = (uint8_t)(0x80 + i);
	}
	take(&s);
	save("good", "small.hcs", good, good_len);

	save("hostile", "empty.hcs", good, 0);
	save("hostile", "truncated-header.hcs", good, 30);
	truncated("truncated-meta.hcs", S_META);
	truncated("truncated-modules.hcs", S_MODULES);
	truncated("truncated-stacks.hcs", S_STACKS);
	truncated("truncated-blocks.hcs", S_BLOCKS);
	truncated("truncated-edges.hcs", S_EDGES);
	save("hostile", "truncated-before-end.hcs", good, section(good, S_END) + 10);

	b = copy();
	memcpy(b, "HCYCSNAQ", 8);
	save("hostile", "bad-magic.hcs", b, good_len);
	memcpy(b, good, good_len);
	st32(b + 8, 99);
	st32(b + 52, hc_crc32(0, b, 52));
	save("hostile", "bad-version.hcs", b, good_len);
	memcpy(b, good, good_len);
	b[16] ^= 1;	/* pid */
	save("hostile", "bad-crc-header.hcs", b, good_len);
	memcpy(b, good, good_len);
	b[section(b, S_BLOCKS) + SECT_HDR + 8 + 44 + 3] ^= 0x40;
	save("hostile", "bad-crc-blocks.hcs", b, good_len);
	memcpy(b, good, good_len);
	b[section(b, S_EDGES) + SECT_HDR + 8] ^= 0x02;
	save("hostile", "bad-crc-edges.hcs", b, good_len);
	memcpy(b, good, good_len);
	memset(b + good_len, 0, 8);
	save("hostile", "trailing-bytes.hcs", b, good_len + 8);
	memcpy(b, good, good_len);
	pos = section(b, S_MODULES);
	st32(b + pos, 4242);	/* turns MODULES into an unknown section */
	fix_crc(b, pos);
	save("hostile", "missing-modules.hcs", b, good_len);
	free(b);

	patched("huge-count-blocks.hcs", S_BLOCKS, 0, 8, 1ull << 60);
	patched("huge-count-edges.hcs", S_EDGES, 0, 8, 1ull << 60);
	patched("huge-count-modules.hcs", S_MODULES, 0, 4, 0xffffffffu);
	patched("huge-count-stacks.hcs", S_STACKS, 0, 4, 0xffffffffu);
	patched("huge-string.hcs", S_META, 0, 4, 0xfffffff0u);
	patched("too-many-frames.hcs", S_STACKS, 8, 4, HC_SNAPSHOT_MAX_FRAMES + 1);
	patched("build-id-too-long.hcs", S_MODULES, 4 + 28, 4, 65);
	patched("block-unsorted.hcs", S_BLOCKS, 8 + 44 * 1, 8, 0x405000);
	patched("block-overlap.hcs", S_BLOCKS, 8 + 44 * 1, 8, 0x4052b0);
	patched("block-addr-overflow.hcs", S_BLOCKS, 8 + 44 * 4 + 8, 8, UINT64_MAX - 0x405000);
	patched("block-stack-out-of-range.hcs", S_BLOCKS, 8 + 44 * 2 + 24, 4, 4);
	patched("edge-out-of-range.hcs", S_EDGES, 8 + 24 * 1 + 4, 4, 5);
	patched("edge-offset-out-of-range.hcs", S_EDGES, 8 + 24 * 2 + 8, 8, 64);
	patched("edge-unsorted.hcs", S_EDGES, 8 + 24 * 2, 4, 0);
	refs_files(&s);
	return 0;
}
