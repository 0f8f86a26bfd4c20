/* SPDX-License-Identifier: MIT */
/*
 * Reads a snapshot file back into a struct hc_snapshot, trusting nothing:
 * the file may be truncated, corrupted or written by an attacker. Every
 * section's CRC is checked before its payload is parsed, every count is
 * checked against the bytes that are really there before anything is
 * allocated, and every index and order the analysis relies on (sorted,
 * non-overlapping blocks; edges and stacks in range) is checked here, once,
 * so the rest of the core can index without bounds checks. The format is
 * man/heapcycle-snapshot.5; snapshot_write.c is the other half.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blocktable.h"
#include "crc32.h"
#include "snapshot.h"

/* Must agree with man/heapcycle-snapshot.5 and snapshot_write.c. */
#define HC_FILE_HDR_SIZE 56u
#define HC_SECT_HDR_SIZE 16u
#define HC_SECT_CRC_SIZE 4u
#define HC_MODULE_MIN 36u
#define HC_BLOCK_REC 44u
#define HC_EDGE_REC 24u
enum {
	HC_SECT_META = 1,
	HC_SECT_MODULES = 2,
	HC_SECT_STACKS = 3,
	HC_SECT_BLOCKS = 4,
	HC_SECT_EDGES = 5,
	HC_SECT_END = 6,
	HC_SECT_GC = 7,		/* optional, after EDGES */
	HC_SECT_TYPEHINTS = 8,	/* optional, after EDGES and GC */
	HC_SECT_BADFREES = 9,	/* optional, after the two above */
	HC_SECT_REFS = 10,	/* optional, after the three above */
};

/* The snapshot and the memory it owns; hc_snapshot_free gets it back. */
struct hc_snap_owned {
	struct hc_snapshot s;	/* first: the public pointer points here */
	char *exe, *cmdline;
	struct hc_module *modules;
	char *paths;		/* every module path, NUL-terminated */
	struct hc_stack *stacks;
	uint64_t *frames;	/* every stack's frames */
	struct hc_block *blocks;
	struct hc_edge *edges;
	char **types;		/* pointers into type_pool */
	char *type_pool;
	struct hc_tracked *tracked;
	struct hc_gc_event *events;
	struct hc_gc_member *members;	/* every event's members */
	struct hc_typehint *typehints;
	struct hc_bad_free *badfrees;
	struct hc_ref_history *refhists;
	struct hc_ref_event *ref_events;	/* every object's events */
};

/* What the reader is looking at: the input and one section's payload. */
struct hc_rd {
	const unsigned char *base;
	size_t len;		/* whole input */
	struct hc_error *err;
	char what[64];
};

static uint32_t hc_ld32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static uint64_t hc_ld64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static int hc_fail(struct hc_rd *r, enum hc_status st, uint64_t off,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int hc_fail(struct hc_rd *r, enum hc_status st, uint64_t off,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->what, sizeof(r->what), fmt, ap);
	va_end(ap);
	return hc_error_set(r->err, st, off, r->what);
}

static const char *hc_section_tag(uint32_t type)
{
	switch (type) {
	case HC_SECT_META: return "META";
	case HC_SECT_MODULES: return "MODULES";
	case HC_SECT_STACKS: return "STACKS";
	case HC_SECT_BLOCKS: return "BLOCKS";
	case HC_SECT_EDGES: return "EDGES";
	case HC_SECT_END: return "END";
	case HC_SECT_GC: return "GC";
	case HC_SECT_TYPEHINTS: return "TYPEHINTS";
	case HC_SECT_BADFREES: return "BADFREES";
	case HC_SECT_REFS: return "REFS";
	}
	return "unknown section";
}

static const char *hc_section_part(uint32_t type)
{
	switch (type) {
	case HC_SECT_GC: return "tracked objects";
	case HC_SECT_TYPEHINTS: return "type hints";
	case HC_SECT_BADFREES: return "bad deallocations";
	case HC_SECT_REFS: return "reference histories";
	case HC_SECT_META: return "metadata";
	case HC_SECT_MODULES: return "module table";
	case HC_SECT_STACKS: return "stack table";
	case HC_SECT_BLOCKS: return "block table";
	case HC_SECT_EDGES: return "edge table";
	case HC_SECT_END: return "end marker";
	}
	return "unknown section";
}

/*
 * Checks the length-prefixed string at *pos (its section ends at end) and
 * moves *pos to its first byte. Returns its length, or -1 with the error
 * set (too long, past the section, or holding a NUL).
 */
static int64_t hc_rd_strlen(struct hc_rd *r, uint64_t *pos, uint64_t end,
			    const char *part)
{
	uint32_t n;

	if (end - *pos < 4)
		return hc_fail(r, HC_ERR_FORMAT, *pos, "%s: length past section end", part), -1;
	n = hc_ld32(r->base + *pos);
	if (n > HC_SNAPSHOT_MAX_STRING)
		return hc_fail(r, HC_ERR_FORMAT, *pos, "%s: string too long", part), -1;
	if (end - *pos - 4 < n)
		return hc_fail(r, HC_ERR_FORMAT, *pos, "%s: string past section end", part), -1;
	if (memchr(r->base + *pos + 4, '\0', n))
		return hc_fail(r, HC_ERR_FORMAT, *pos, "%s: NUL inside string", part), -1;
	*pos += 4;
	return n;
}

static char *hc_rd_strdup(struct hc_rd *r, uint64_t pos, size_t n)
{
	char *s = hc_mem_alloc(n + 1);

	if (!s) {
		hc_fail(r, HC_ERR_NOMEM, pos, "string");
		return NULL;
	}
	memcpy(s, r->base + pos, n);
	s[n] = '\0';
	return s;
}

static int hc_rd_meta(struct hc_rd *r, struct hc_snap_owned *o, uint64_t pos,
		      uint64_t end)
{
	int64_t n;

	if ((n = hc_rd_strlen(r, &pos, end, "exe path")) < 0)
		return HC_ERR_FORMAT;
	if (!(o->exe = hc_rd_strdup(r, pos, (size_t)n)))
		return HC_ERR_NOMEM;
	pos += (uint64_t)n;
	if ((n = hc_rd_strlen(r, &pos, end, "command line")) < 0)
		return HC_ERR_FORMAT;
	if (!(o->cmdline = hc_rd_strdup(r, pos, (size_t)n)))
		return HC_ERR_NOMEM;
	pos += (uint64_t)n;
	if (pos != end)
		return hc_fail(r, HC_ERR_FORMAT, pos, "metadata: bytes left over");
	o->s.exe = o->exe;
	o->s.cmdline = o->cmdline;
	return HC_OK;
}

static int hc_rd_modules(struct hc_rd *r, struct hc_snap_owned *o, uint64_t pos,
			 uint64_t end)
{
	uint64_t count, i;
	char *pool;

	if (end - pos < 4)
		return hc_fail(r, HC_ERR_FORMAT, pos, "module table: no count");
	count = hc_ld32(r->base + pos);
	if (count > (end - pos - 4) / HC_MODULE_MIN)
		return hc_fail(r, HC_ERR_FORMAT, pos, "module table: count %llu too large",
			       (unsigned long long)count);
	pos += 4;
	/* Bounded by the section: count <= len / 36, paths < len. */
	o->modules = hc_mem_calloc(count ? count : 1, sizeof(*o->modules));
	o->paths = hc_mem_alloc(end - pos + count + 1);
	if (!o->modules || !o->paths)
		return hc_fail(r, HC_ERR_NOMEM, pos, "module table");
	pool = o->paths;
	for (i = 0; i < count; i++) {
		struct hc_module *m = &o->modules[i];
		const unsigned char *p = r->base + pos;
		int64_t n;
		char part[32];

		if (end - pos < HC_MODULE_MIN - 4)
			return hc_fail(r, HC_ERR_FORMAT, pos, "module %llu: past section end",
				       (unsigned long long)i);
		m->bias = hc_ld64(p);
		m->start = hc_ld64(p + 8);
		m->end = hc_ld64(p + 16);
		m->flags = hc_ld32(p + 24);
		m->build_id_len = hc_ld32(p + 28);
		if (m->start > m->end)
			return hc_fail(r, HC_ERR_FORMAT, pos + 8, "module %llu: start after end",
				       (unsigned long long)i);
		if (m->build_id_len > HC_SNAPSHOT_MAX_BUILD_ID)
			return hc_fail(r, HC_ERR_FORMAT, pos + 28, "module %llu: build-id too long",
				       (unsigned long long)i);
		pos += HC_MODULE_MIN - 4;
		if (end - pos < m->build_id_len)
			return hc_fail(r, HC_ERR_FORMAT, pos, "module %llu: past section end",
				       (unsigned long long)i);
		memcpy(m->build_id, r->base + pos, m->build_id_len);
		pos += m->build_id_len;
		snprintf(part, sizeof(part), "module %llu path", (unsigned long long)i);
		if ((n = hc_rd_strlen(r, &pos, end, part)) < 0)
			return HC_ERR_FORMAT;
		memcpy(pool, r->base + pos, (size_t)n);
		pool[n] = '\0';
		m->path = pool;
		pool += n + 1;
		pos += (uint64_t)n;
	}
	if (pos != end)
		return hc_fail(r, HC_ERR_FORMAT, pos, "module table: bytes left over");
	o->s.nmodules = (uint32_t)count;
	o->s.modules = o->modules;
	return HC_OK;
}

static int hc_rd_stacks(struct hc_rd *r, struct hc_snap_owned *o, uint64_t pos,
			uint64_t end)
{
	uint64_t count, i, maxframes, nf = 0;

	if (end - pos < 4)
		return hc_fail(r, HC_ERR_FORMAT, pos, "stack table: no count");
	count = hc_ld32(r->base + pos);
	if (count == 0)
		return hc_fail(r, HC_ERR_FORMAT, pos, "stack table: no stack 0");
	if (count > (end - pos - 4) / 4)
		return hc_fail(r, HC_ERR_FORMAT, pos, "stack table: count %llu too large",
			       (unsigned long long)count);
	pos += 4;
	/* Each stack takes 4 bytes plus 8 per frame, so this bounds the total. */
	maxframes = (end - pos - 4 * count) / 8;
	o->stacks = hc_mem_alloc(count * sizeof(*o->stacks));
	o->frames = hc_mem_alloc((maxframes ? maxframes : 1) * sizeof(*o->frames));
	if (!o->stacks || !o->frames)
		return hc_fail(r, HC_ERR_NOMEM, pos, "stack table");
	for (i = 0; i < count; i++) {
		uint32_t n, j;
		const unsigned char *p;

		if (end - pos < 4)
			return hc_fail(r, HC_ERR_FORMAT, pos, "stack %llu: past section end",
				       (unsigned long long)i);
		n = hc_ld32(r->base + pos);
		if (n > HC_SNAPSHOT_MAX_FRAMES)
			return hc_fail(r, HC_ERR_FORMAT, pos, "stack %llu: %u frames",
				       (unsigned long long)i, n);
		if (i == 0 && n != 0)
			return hc_fail(r, HC_ERR_FORMAT, pos, "stack 0: not empty");
		pos += 4;
		/*
		 * frames[] was sized for the bytes left after every stack's
		 * count, so a stack may only take what the counts of the
		 * stacks after it leave over. Checking against the bytes
		 * left after this one alone let one stack swallow the later
		 * counts and write past frames[] before the next stack
		 * noticed (found by fuzz_snapshot). The loop keeps
		 * end - pos >= 4 * (count - i), so this cannot wrap.
		 */
		if ((end - pos - 4 * (count - 1 - i)) / 8 < n)
			return hc_fail(r, HC_ERR_FORMAT, pos, "stack %llu: past section end",
				       (unsigned long long)i);
		p = r->base + pos;
		o->stacks[i].nframes = n;
		o->stacks[i].frames = o->frames + nf;
		for (j = 0; j < n; j++)
			o->frames[nf + j] = hc_ld64(p + 8 * (size_t)j);
		nf += n;
		pos += 8 * (uint64_t)n;
	}
	if (pos != end)
		return hc_fail(r, HC_ERR_FORMAT, pos, "stack table: bytes left over");
	o->s.nstacks = (uint32_t)count;
	o->s.stacks = o->stacks;
	return HC_OK;
}

static int hc_rd_blocks(struct hc_rd *r, struct hc_snap_owned *o, uint64_t pos,
			uint64_t end)
{
	uint64_t count, i, prev_addr = 0, prev_end = 0;
	uint32_t nstacks = o->s.nstacks;
	const unsigned char *p;
	struct hc_block *b;

	if (end - pos < 8)
		return hc_fail(r, HC_ERR_FORMAT, pos, "block table: no count");
	count = hc_ld64(r->base + pos);
	if (count > (end - pos - 8) / HC_BLOCK_REC ||
	    count * HC_BLOCK_REC != end - pos - 8)
		return hc_fail(r, HC_ERR_FORMAT, pos,
			       "block table: count %llu does not match length",
			       (unsigned long long)count);
	pos += 8;
	o->blocks = hc_mem_alloc((count ? count : 1) * sizeof(*o->blocks));
	if (!o->blocks)
		return hc_fail(r, HC_ERR_NOMEM, pos, "block table");
	p = r->base + pos;
	b = o->blocks;
	for (i = 0; i < count; i++, p += HC_BLOCK_REC, b++) {
		uint64_t at = pos + i * HC_BLOCK_REC;

		b->addr = hc_ld64(p);
		b->size = hc_ld64(p + 8);
		b->seq = hc_ld64(p + 16);
		b->stack = hc_ld32(p + 24);
		b->tid = hc_ld32(p + 28);
		b->root_refs = hc_ld32(p + 32);
		b->root_interior_refs = hc_ld32(p + 36);
		b->kind = p[40];
		b->root_kind = p[41];
		b->flags = (uint16_t)(p[42] | p[43] << 8);
		if (HC_UNLIKELY(b->size > UINT64_MAX - b->addr))
			return hc_fail(r, HC_ERR_FORMAT, at + 8,
				       "block %llu: end past 2^64", (unsigned long long)i);
		if (HC_UNLIKELY(i > 0 && b->addr <= prev_addr))
			return hc_fail(r, HC_ERR_FORMAT, at,
				       "block %llu: address not above block %llu",
				       (unsigned long long)i, (unsigned long long)(i - 1));
		if (HC_UNLIKELY(i > 0 && b->addr < prev_end))
			return hc_fail(r, HC_ERR_FORMAT, at,
				       "block %llu: overlaps block %llu",
				       (unsigned long long)i, (unsigned long long)(i - 1));
		if (HC_UNLIKELY(b->stack >= nstacks))
			return hc_fail(r, HC_ERR_FORMAT, at + 24,
				       "block %llu: stack %u out of range",
				       (unsigned long long)i, b->stack);
		if (HC_UNLIKELY(b->kind >= HC_ALLOC_KIND_COUNT))
			return hc_fail(r, HC_ERR_FORMAT, at + 40,
				       "block %llu: bad kind %u", (unsigned long long)i, b->kind);
		if (HC_UNLIKELY(b->root_kind >= HC_ROOT_KIND_COUNT))
			return hc_fail(r, HC_ERR_FORMAT, at + 41,
				       "block %llu: bad root kind %u",
				       (unsigned long long)i, b->root_kind);
		prev_addr = b->addr;
		prev_end = b->addr + b->size;
	}
	o->s.nblocks = count;
	o->s.blocks = o->blocks;
	return HC_OK;
}

static int hc_rd_edges(struct hc_rd *r, struct hc_snap_owned *o, uint64_t pos,
		       uint64_t end)
{
	uint64_t count, i, nblocks = o->s.nblocks;
	const struct hc_block *blocks = o->blocks;
	const unsigned char *p;
	struct hc_edge *e;

	if (end - pos < 8)
		return hc_fail(r, HC_ERR_FORMAT, pos, "edge table: no count");
	count = hc_ld64(r->base + pos);
	if (count > (end - pos - 8) / HC_EDGE_REC ||
	    count * HC_EDGE_REC != end - pos - 8)
		return hc_fail(r, HC_ERR_FORMAT, pos,
			       "edge table: count %llu does not match length",
			       (unsigned long long)count);
	pos += 8;
	o->edges = hc_mem_alloc((count ? count : 1) * sizeof(*o->edges));
	if (!o->edges)
		return hc_fail(r, HC_ERR_NOMEM, pos, "edge table");
	p = r->base + pos;
	e = o->edges;
	for (i = 0; i < count; i++, p += HC_EDGE_REC, e++) {
		uint64_t at = pos + i * HC_EDGE_REC;

		e->from = hc_ld32(p);
		e->to = hc_ld32(p + 4);
		e->from_offset = hc_ld64(p + 8);
		e->to_offset = hc_ld64(p + 16);
		if (HC_UNLIKELY(e->from >= nblocks))
			return hc_fail(r, HC_ERR_FORMAT, at, "edge %llu: from %u out of range",
				       (unsigned long long)i, e->from);
		if (HC_UNLIKELY(e->to >= nblocks))
			return hc_fail(r, HC_ERR_FORMAT, at + 4, "edge %llu: to %u out of range",
				       (unsigned long long)i, e->to);
		if (HC_UNLIKELY(e->from_offset >= blocks[e->from].size))
			return hc_fail(r, HC_ERR_FORMAT, at + 8,
				       "edge %llu: from offset outside block",
				       (unsigned long long)i);
		if (HC_UNLIKELY(e->to_offset != 0 && e->to_offset >= blocks[e->to].size))
			return hc_fail(r, HC_ERR_FORMAT, at + 16,
				       "edge %llu: to offset outside block",
				       (unsigned long long)i);
		if (HC_UNLIKELY(i > 0 && (e->from < e[-1].from ||
					  (e->from == e[-1].from &&
					   e->from_offset < e[-1].from_offset))))
			return hc_fail(r, HC_ERR_FORMAT, at, "edge %llu: not sorted",
				       (unsigned long long)i);
	}
	o->s.nedges = count;
	o->s.edges = o->edges;
	return HC_OK;
}

void hc_snapshot_free(struct hc_snapshot *s)
{
	struct hc_snap_owned *o = (struct hc_snap_owned *)s;

	if (!o)
		return;
	hc_mem_free(o->exe);
	hc_mem_free(o->cmdline);
	hc_mem_free(o->modules);
	hc_mem_free(o->paths);
	hc_mem_free(o->stacks);
	hc_mem_free(o->frames);
	hc_mem_free(o->blocks);
	hc_mem_free(o->edges);
	hc_mem_free(o->types);
	hc_mem_free(o->type_pool);
	hc_mem_free(o->tracked);
	hc_mem_free(o->events);
	hc_mem_free(o->members);
	hc_mem_free(o->typehints);
	hc_mem_free(o->badfrees);
	hc_mem_free(o->refhists);
	hc_mem_free(o->ref_events);
	hc_mem_free(o);
}

#define HC_TRACKED_REC 24u
#define HC_GC_MEMBER_REC 32u
#define HC_TYPEHINT_REC 24u

static int hc_rd_type_index(struct hc_rd *r, uint32_t type, uint32_t ntypes, uint64_t at,
			    const char *part, uint64_t i)
{
	if (type != HC_NO_TYPE && type >= ntypes)
		return hc_fail(r, HC_ERR_FORMAT, at, "%s %llu: type %u out of range", part,
			       (unsigned long long)i, type);
	return HC_OK;
}

/* GC: u32 ntypes, strings; u64 ntracked, records; u32 nevents, events. */
static int hc_rd_gc(struct hc_rd *r, struct hc_snap_owned *o, uint64_t pos, uint64_t end)
{
	uint64_t count, i, nmembers_total = 0, scan;
	uint32_t ntypes, nevents;
	char *pool;

	if (end - pos < 4)
		return hc_fail(r, HC_ERR_FORMAT, pos, "tracked objects: no type count");
	ntypes = hc_ld32(r->base + pos);
	if (ntypes > (end - pos - 4) / 4)
		return hc_fail(r, HC_ERR_FORMAT, pos, "tracked objects: type count %u too large",
			       ntypes);
	pos += 4;
	o->types = hc_mem_calloc(ntypes ? ntypes : 1, sizeof(*o->types));
	o->type_pool = hc_mem_alloc(end - pos + ntypes + 1);
	if (!o->types || !o->type_pool)
		return hc_fail(r, HC_ERR_NOMEM, pos, "type names");
	pool = o->type_pool;
	for (i = 0; i < ntypes; i++) {
		int64_t n = hc_rd_strlen(r, &pos, end, "type name");

		if (n < 0)
			return HC_ERR_FORMAT;
		memcpy(pool, r->base + pos, (size_t)n);
		pool[n] = '\0';
		o->types[i] = pool;
		pool += n + 1;
		pos += (uint64_t)n;
	}
	if (end - pos < 8)
		return hc_fail(r, HC_ERR_FORMAT, pos, "tracked objects: no count");
	count = hc_ld64(r->base + pos);
	if (count > (end - pos - 8) / HC_TRACKED_REC)
		return hc_fail(r, HC_ERR_FORMAT, pos, "tracked objects: count %llu too large",
			       (unsigned long long)count);
	pos += 8;
	o->tracked = hc_mem_alloc((count ? count : 1) * sizeof(*o->tracked));
	if (!o->tracked)
		return hc_fail(r, HC_ERR_NOMEM, pos, "tracked objects");
	for (i = 0; i < count; i++, pos += HC_TRACKED_REC) {
		const unsigned char *p = r->base + pos;
		struct hc_tracked *t = &o->tracked[i];

		t->block = hc_ld64(p);
		t->refcount = hc_ld64(p + 8);
		t->type = hc_ld32(p + 16);
		t->generation = hc_ld32(p + 20);
		if (t->block >= o->s.nblocks || (i > 0 && t->block <= o->tracked[i - 1].block))
			return hc_fail(r, HC_ERR_FORMAT, pos, "tracked object %llu: bad block index",
				       (unsigned long long)i);
		if (t->generation > 2)
			return hc_fail(r, HC_ERR_FORMAT, pos + 20,
				       "tracked object %llu: bad generation",
				       (unsigned long long)i);
		if (hc_rd_type_index(r, t->type, ntypes, pos + 16, "tracked object", i) != HC_OK)
			return HC_ERR_FORMAT;
	}
	if (end - pos < 4)
		return hc_fail(r, HC_ERR_FORMAT, pos, "collections: no count");
	nevents = hc_ld32(r->base + pos);
	if (nevents > (end - pos - 4) / 16)
		return hc_fail(r, HC_ERR_FORMAT, pos, "collections: count %u too large", nevents);
	pos += 4;
	/* First pass: the events' sizes, checked against the section. */
	for (i = 0, scan = pos; i < nevents; i++) {
		uint32_t n;

		if (end - scan < 16)
			return hc_fail(r, HC_ERR_FORMAT, scan, "collection %llu: past section end",
				       (unsigned long long)i);
		n = hc_ld32(r->base + scan + 12);
		if (n > (end - scan - 16) / HC_GC_MEMBER_REC)
			return hc_fail(r, HC_ERR_FORMAT, scan + 12,
				       "collection %llu: member count too large",
				       (unsigned long long)i);
		scan += 16 + (uint64_t)n * HC_GC_MEMBER_REC;
		nmembers_total += n;
	}
	if (scan != end)
		return hc_fail(r, HC_ERR_FORMAT, scan, "tracked objects: bytes left over");
	o->events = hc_mem_calloc(nevents ? nevents : 1, sizeof(*o->events));
	o->members = hc_mem_alloc((nmembers_total ? nmembers_total : 1) * sizeof(*o->members));
	if (!o->events || !o->members)
		return hc_fail(r, HC_ERR_NOMEM, pos, "collections");
	nmembers_total = 0;
	for (i = 0; i < nevents; i++) {
		struct hc_gc_event *ev = &o->events[i];
		struct hc_gc_member *m = o->members + nmembers_total;
		uint32_t j;

		ev->time_ns = hc_ld64(r->base + pos);
		ev->generation = hc_ld32(r->base + pos + 8);
		ev->nmembers = hc_ld32(r->base + pos + 12);
		ev->members = m;
		if (ev->generation > 2)
			return hc_fail(r, HC_ERR_FORMAT, pos + 8, "collection %llu: bad generation",
				       (unsigned long long)i);
		pos += 16;
		for (j = 0; j < ev->nmembers; j++, pos += HC_GC_MEMBER_REC) {
			const unsigned char *p = r->base + pos;

			m[j].addr = hc_ld64(p);
			m[j].size = hc_ld64(p + 8);
			m[j].stack = hc_ld32(p + 16);
			m[j].type = hc_ld32(p + 20);
			m[j].cycle = hc_ld32(p + 24);
			m[j].flags = hc_ld32(p + 28);
			if (m[j].stack >= o->s.nstacks || m[j].cycle >= ev->nmembers ||
			    (m[j].flags & ~(uint32_t)HC_GC_MEMBER_IN_CYCLE))
				return hc_fail(r, HC_ERR_FORMAT, pos,
					       "collection %llu member %u: bad field",
					       (unsigned long long)i, j);
			if (hc_rd_type_index(r, m[j].type, ntypes, pos + 20, "collection member",
					     j) != HC_OK)
				return HC_ERR_FORMAT;
		}
		nmembers_total += ev->nmembers;
	}
	o->s.ntypes = ntypes;
	o->s.types = (const char *const *)o->types;
	o->s.ntracked = count;
	o->s.tracked = o->tracked;
	o->s.nevents = nevents;
	o->s.events = o->events;
	return HC_OK;
}

static int hc_rd_typehints(struct hc_rd *r, struct hc_snap_owned *o, uint64_t pos,
			   uint64_t end)
{
	uint64_t count, i;

	if (end - pos < 8)
		return hc_fail(r, HC_ERR_FORMAT, pos, "type hints: no count");
	count = hc_ld64(r->base + pos);
	if (count > (end - pos - 8) / HC_TYPEHINT_REC ||
	    count * HC_TYPEHINT_REC != end - pos - 8)
		return hc_fail(r, HC_ERR_FORMAT, pos, "type hints: count %llu does not match length",
			       (unsigned long long)count);
	pos += 8;
	o->typehints = hc_mem_alloc((count ? count : 1) * sizeof(*o->typehints));
	if (!o->typehints)
		return hc_fail(r, HC_ERR_NOMEM, pos, "type hints");
	for (i = 0; i < count; i++, pos += HC_TYPEHINT_REC) {
		struct hc_typehint *h = &o->typehints[i];

		h->block = hc_ld64(r->base + pos);
		h->word[0] = hc_ld64(r->base + pos + 8);
		h->word[1] = hc_ld64(r->base + pos + 16);
		if (h->block >= o->s.nblocks || (i > 0 && h->block <= o->typehints[i - 1].block))
			return hc_fail(r, HC_ERR_FORMAT, pos, "type hint %llu: bad block index",
				       (unsigned long long)i);
	}
	o->s.ntypehints = count;
	o->s.typehints = o->typehints;
	return HC_OK;
}

#define HC_BADFREE_REC 32u

static int hc_rd_badfrees(struct hc_rd *r, struct hc_snap_owned *o, uint64_t pos,
			  uint64_t end)
{
	uint32_t count, i;

	if (end - pos < 4)
		return hc_fail(r, HC_ERR_FORMAT, pos, "bad deallocations: no count");
	count = hc_ld32(r->base + pos);
	if ((uint64_t)count * HC_BADFREE_REC != end - pos - 4)
		return hc_fail(r, HC_ERR_FORMAT, pos,
			       "bad deallocations: count %u does not match length", count);
	pos += 4;
	o->badfrees = hc_mem_alloc((count ? count : 1) * sizeof(*o->badfrees));
	if (!o->badfrees)
		return hc_fail(r, HC_ERR_NOMEM, pos, "bad deallocations");
	for (i = 0; i < count; i++, pos += HC_BADFREE_REC) {
		const unsigned char *p = r->base + pos;
		struct hc_bad_free *f = &o->badfrees[i];

		f->addr = hc_ld64(p);
		f->size = hc_ld64(p + 8);
		f->alloc_stack = hc_ld32(p + 16);
		f->free_stack = hc_ld32(p + 20);
		f->kind = p[24];
		f->alloc_kind = p[25];
		f->op = p[26];
		f->count = hc_ld32(p + 28);
		if (f->alloc_stack >= o->s.nstacks || f->free_stack >= o->s.nstacks ||
		    f->kind >= HC_BAD_FREE_KIND_COUNT || f->alloc_kind >= HC_ALLOC_KIND_COUNT ||
		    f->op >= HC_FREE_OP_COUNT || p[27] != 0)
			return hc_fail(r, HC_ERR_FORMAT, pos, "bad deallocation %u: bad field", i);
	}
	o->s.nbadfrees = count;
	o->s.badfrees = o->badfrees;
	return HC_OK;
}

#define HC_REFHIST_REC 40u
#define HC_REF_EVENT_REC 24u

/*
 * REFS: u64 lost, u32 count, then per object a 40-byte head and its
 * 24-byte events. A first pass checks every head and the events' extent
 * against the section, so the allocations below are bounded by its length.
 */
static int hc_rd_refs(struct hc_rd *r, struct hc_snap_owned *o, uint64_t pos, uint64_t end)
{
	uint64_t i, scan, nev_total = 0;
	uint32_t count;
	struct hc_ref_event *ev;

	if (end - pos < 12)
		return hc_fail(r, HC_ERR_FORMAT, pos, "reference histories: no count");
	o->s.ref_lost = hc_ld64(r->base + pos);
	count = hc_ld32(r->base + pos + 8);
	pos += 12;
	if (count > (end - pos) / HC_REFHIST_REC)
		return hc_fail(r, HC_ERR_FORMAT, pos - 4,
			       "reference histories: count %u too large", count);
	for (i = 0, scan = pos; i < count; i++) {
		const unsigned char *p;
		uint32_t n, gap, dropped, drefs, dunrefs;

		if (end - scan < HC_REFHIST_REC)
			return hc_fail(r, HC_ERR_FORMAT, scan, "reference history %llu: past section end",
				       (unsigned long long)i);
		p = r->base + scan;
		n = hc_ld32(p + 20);
		gap = hc_ld32(p + 24);
		dropped = hc_ld32(p + 28);
		drefs = hc_ld32(p + 32);
		dunrefs = hc_ld32(p + 36);
		if (n == 0 || n > HC_SNAPSHOT_MAX_REF_EVENTS)
			return hc_fail(r, HC_ERR_FORMAT, scan + 20,
				       "reference history %llu: %u events", (unsigned long long)i, n);
		if (gap > n)
			return hc_fail(r, HC_ERR_FORMAT, scan + 24,
				       "reference history %llu: gap past its events",
				       (unsigned long long)i);
		if ((uint64_t)drefs + dunrefs > dropped)
			return hc_fail(r, HC_ERR_FORMAT, scan + 28,
				       "reference history %llu: dropped counts disagree",
				       (unsigned long long)i);
		scan += HC_REFHIST_REC;
		if ((end - scan) / HC_REF_EVENT_REC < n)
			return hc_fail(r, HC_ERR_FORMAT, scan, "reference history %llu: past section end",
				       (unsigned long long)i);
		scan += (uint64_t)n * HC_REF_EVENT_REC;
		nev_total += n;
	}
	if (scan != end)
		return hc_fail(r, HC_ERR_FORMAT, scan, "reference histories: bytes left over");
	o->refhists = hc_mem_calloc(count ? count : 1, sizeof(*o->refhists));
	o->ref_events = hc_mem_alloc((nev_total ? nev_total : 1) * sizeof(*o->ref_events));
	if (!o->refhists || !o->ref_events)
		return hc_fail(r, HC_ERR_NOMEM, pos, "reference histories");
	ev = o->ref_events;
	for (i = 0; i < count; i++) {
		const unsigned char *p = r->base + pos;
		struct hc_ref_history *h = &o->refhists[i];
		uint32_t j;

		h->block = hc_ld64(p);
		h->offset = hc_ld64(p + 8);
		h->count = hc_ld32(p + 16);
		h->nevents = hc_ld32(p + 20);
		h->gap = hc_ld32(p + 24);
		h->dropped = hc_ld32(p + 28);
		h->dropped_refs = hc_ld32(p + 32);
		h->dropped_unrefs = hc_ld32(p + 36);
		h->events = ev;
		if (h->block >= o->s.nblocks || (i > 0 && h->block <= h[-1].block))
			return hc_fail(r, HC_ERR_FORMAT, pos, "reference history %llu: bad block index",
				       (unsigned long long)i);
		if (h->offset >= o->blocks[h->block].size)
			return hc_fail(r, HC_ERR_FORMAT, pos + 8,
				       "reference history %llu: offset outside block",
				       (unsigned long long)i);
		pos += HC_REFHIST_REC;
		for (j = 0; j < h->nevents; j++, pos += HC_REF_EVENT_REC, ev++) {
			p = r->base + pos;
			ev->seq = hc_ld64(p);
			ev->stack = hc_ld32(p + 8);
			ev->tid = hc_ld32(p + 12);
			ev->count = hc_ld32(p + 16);
			ev->kind = p[20];
			ev->flags = p[21];
			if (ev->stack >= o->s.nstacks)
				return hc_fail(r, HC_ERR_FORMAT, pos + 8,
					       "reference history %llu event %u: stack out of range",
					       (unsigned long long)i, j);
			if (ev->kind >= HC_REF_KIND_COUNT)
				return hc_fail(r, HC_ERR_FORMAT, pos + 20,
					       "reference history %llu event %u: bad call %u",
					       (unsigned long long)i, j, ev->kind);
			if ((ev->flags & ~(unsigned)HC_REF_FLOATING) ||
			    ((ev->flags & HC_REF_FLOATING) && ev->kind != HC_REF_SINK &&
			     ev->kind != HC_REF_TAKE))
				return hc_fail(r, HC_ERR_FORMAT, pos + 21,
					       "reference history %llu event %u: bad flags",
					       (unsigned long long)i, j);
			if (p[22] != 0 || p[23] != 0)
				return hc_fail(r, HC_ERR_FORMAT, pos + 22,
					       "reference history %llu event %u: pad not zero",
					       (unsigned long long)i, j);
			if (j > 0 && ev->seq <= ev[-1].seq)
				return hc_fail(r, HC_ERR_FORMAT, pos,
					       "reference history %llu event %u: not in order",
					       (unsigned long long)i, j);
		}
	}
	o->s.nrefhists = count;
	o->s.refhists = o->refhists;
	return HC_OK;
}

static int hc_rd_header(struct hc_rd *r, struct hc_snap_owned *o)
{
	const unsigned char *p = r->base;
	size_t n = r->len < 8 ? r->len : 8;
	uint32_t version;

	/* The magic first, so that a short unrelated file is called that. */
	if (memcmp(p, HC_SNAPSHOT_MAGIC, n) != 0)
		return hc_fail(r, HC_ERR_FORMAT, 0, "header: not a heapcycle snapshot");
	if (r->len < 12)
		return hc_fail(r, HC_ERR_FORMAT, r->len, "truncated (header)");
	/* Magic and version are the only fields every version keeps in place. */
	version = hc_ld32(p + 8);
	if (version != HC_SNAPSHOT_VERSION)
		return hc_fail(r, HC_ERR_VERSION, 8, "version %u, this build reads %u",
			       version, HC_SNAPSHOT_VERSION);
	if (r->len < HC_FILE_HDR_SIZE)
		return hc_fail(r, HC_ERR_FORMAT, r->len, "truncated (header)");
	if (hc_crc32(0, p, 52) != hc_ld32(p + 52))
		return hc_fail(r, HC_ERR_FORMAT, 52, "header crc");
	if (hc_ld32(p + 48) != 0)
		return hc_fail(r, HC_ERR_FORMAT, 48, "header: reserved field not zero");
	o->s.version = version;
	o->s.flags = hc_ld32(p + 12);
	o->s.pid = hc_ld32(p + 16);
	o->s.ppid = hc_ld32(p + 20);
	o->s.reason = hc_ld32(p + 24);
	o->s.nthreads = hc_ld32(p + 28);
	o->s.time_ns = hc_ld64(p + 32);
	o->s.metadata_bytes = hc_ld64(p + 40);
	return HC_OK;
}

int hc_snapshot_read_mem(const void *buf, size_t len, struct hc_snapshot **out,
			 struct hc_error *err)
{
	struct hc_rd r = { .base = buf, .len = len, .err = err };
	struct hc_snap_owned *o;
	uint64_t pos = HC_FILE_HDR_SIZE;
	uint32_t expect = HC_SECT_META;	/* the next known section */
	uint32_t last_optional = 0;	/* the last optional section seen */
	int rc;

	*out = NULL;
	hc_error_set(err, HC_OK, 0, "");
	o = hc_mem_calloc(1, sizeof(*o));
	if (!o) {
		rc = hc_fail(&r, HC_ERR_NOMEM, 0, "snapshot");
		goto out;
	}
	if ((rc = hc_rd_header(&r, o)) != HC_OK)
		goto out;
	for (;;) {
		uint32_t type, crc;
		uint64_t slen, payload;

		if (len - pos < HC_SECT_HDR_SIZE) {
			rc = hc_fail(&r, HC_ERR_FORMAT, len, "truncated (%s header)",
				     expect <= HC_SECT_END ? hc_section_part(expect) :
				     "section");
			goto out;
		}
		type = hc_ld32(r.base + pos);
		slen = hc_ld64(r.base + pos + 8);
		payload = pos + HC_SECT_HDR_SIZE;
		if (slen > len - payload || len - payload - slen < HC_SECT_CRC_SIZE) {
			rc = hc_fail(&r, HC_ERR_FORMAT, len, "truncated (%s)",
				     hc_section_part(type));
			goto out;
		}
		crc = hc_ld32(r.base + payload + slen);
		if (hc_crc32(0, r.base + pos, HC_SECT_HDR_SIZE + slen) != crc) {
			rc = hc_fail(&r, HC_ERR_FORMAT, payload + slen, "section crc (%s)",
				     hc_section_tag(type));
			goto out;
		}
		if (hc_ld32(r.base + pos + 4) != 0) {
			rc = hc_fail(&r, HC_ERR_FORMAT, pos + 4,
				     "section header (%s): reserved field not zero",
				     hc_section_tag(type));
			goto out;
		}
		if (type == HC_SECT_GC || type == HC_SECT_TYPEHINTS || type == HC_SECT_BADFREES ||
		    type == HC_SECT_REFS) {
			/* Optional, after the edges (they index blocks and stacks),
			 * before the end, in this order, once each. */
			if (expect != HC_SECT_END || type <= last_optional) {
				rc = hc_fail(&r, HC_ERR_FORMAT, pos, "misplaced section (%s)",
					     hc_section_tag(type));
				goto out;
			}
			rc = type == HC_SECT_GC ? hc_rd_gc(&r, o, payload, payload + slen) :
			     type == HC_SECT_TYPEHINTS ?
				hc_rd_typehints(&r, o, payload, payload + slen) :
			     type == HC_SECT_BADFREES ?
				hc_rd_badfrees(&r, o, payload, payload + slen) :
				hc_rd_refs(&r, o, payload, payload + slen);
			if (rc != HC_OK)
				goto out;
			last_optional = type;
			pos = payload + slen + HC_SECT_CRC_SIZE;
			continue;
		}
		if (type < HC_SECT_META || type > HC_SECT_END) {
			/* Unknown: a later minor addition. Its CRC held; skip it. */
			pos = payload + slen + HC_SECT_CRC_SIZE;
			continue;
		}
		if (type != expect) {
			rc = hc_fail(&r, HC_ERR_FORMAT, pos, type < expect ?
				     "duplicate section (%s)" : "missing section (%s)",
				     hc_section_tag(type < expect ? type : expect));
			goto out;
		}
		switch (type) {
		case HC_SECT_META:
			rc = hc_rd_meta(&r, o, payload, payload + slen);
			break;
		case HC_SECT_MODULES:
			rc = hc_rd_modules(&r, o, payload, payload + slen);
			break;
		case HC_SECT_STACKS:
			rc = hc_rd_stacks(&r, o, payload, payload + slen);
			break;
		case HC_SECT_BLOCKS:
			rc = hc_rd_blocks(&r, o, payload, payload + slen);
			break;
		case HC_SECT_EDGES:
			rc = hc_rd_edges(&r, o, payload, payload + slen);
			break;
		case HC_SECT_END:
			rc = slen == 0 ? HC_OK :
				hc_fail(&r, HC_ERR_FORMAT, pos + 8, "end marker: not empty");
			break;
		}
		if (rc != HC_OK)
			goto out;
		pos = payload + slen + HC_SECT_CRC_SIZE;
		if (type == HC_SECT_END)
			break;
		expect++;
	}
	if (pos != len) {
		rc = hc_fail(&r, HC_ERR_FORMAT, pos, "bytes after end marker");
		goto out;
	}
	*out = &o->s;
	o = NULL;
out:
	hc_snapshot_free(o ? &o->s : NULL);
	return rc;
}

int hc_snapshot_read_file(const char *path, struct hc_snapshot **out,
			  struct hc_error *err)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t size, got = 0;
	int fd, rc;
	char what[64];

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = hc_error_set(err, HC_ERR_IO, 0, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = hc_error_set(err, HC_ERR_IO, 0, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = hc_error_set(err, HC_ERR_IO, 0, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > SIZE_MAX - 1) {
		rc = hc_error_set(err, HC_ERR_NOMEM, 0, "file too large");
		goto out;
	}
	size = (size_t)st.st_size;
	/* One read of the whole file: the validation is one pass over memory. */
	buf = hc_mem_alloc(size ? size : 1);
	if (!buf) {
		snprintf(what, sizeof(what), "reading %zu bytes", size);
		rc = hc_error_set(err, HC_ERR_NOMEM, 0, what);
		goto out;
	}
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = hc_error_set(err, HC_ERR_IO, got, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;	/* shrank under us: validate what is there */
		got += (size_t)n;
	}
	rc = hc_snapshot_read_mem(buf, got, out, err);
out:
	if (fd >= 0)
		close(fd);
	hc_mem_free(buf);
	return rc;
}

int hc_snapshot_module_of(const struct hc_snapshot *s, uint64_t pc)
{
	int unloaded = -1;
	uint32_t i;

	/*
	 * A dlclose'd module's range may since have been reused by another
	 * one; prefer the module that is still loaded, and fall back on the
	 * unloaded one (its frames may be older than the new mapping).
	 */
	for (i = 0; i < s->nmodules && i < (uint32_t)INT32_MAX; i++) {
		const struct hc_module *m = &s->modules[i];

		if (pc < m->start || pc >= m->end)
			continue;
		if (!(m->flags & HC_MODULE_UNLOADED))
			return (int)i;
		if (unloaded < 0)
			unloaded = (int)i;
	}
	return unloaded;
}
