/* SPDX-License-Identifier: MIT */
/*
 * Writes a struct hc_snapshot in the on-disk format that
 * man/heapcycle-snapshot.5 specifies (and snapshot_read.c checks). The shim
 * calls this with every other thread stopped, possibly holding allocator
 * locks, so it never allocates and uses nothing but write(2): records are
 * encoded into a fixed buffer inside a struct on the caller's stack, and
 * each section's CRC is computed over that buffer as it is flushed. Section
 * lengths are known up front from the counts, so the file is written in one
 * pass and the output may be a pipe.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "blocktable.h"
#include "crc32.h"
#include "snapshot.h"

/* Must agree with man/heapcycle-snapshot.5 and snapshot_read.c. */
#define HC_FILE_HDR_SIZE 56u
#define HC_SECT_HDR_SIZE 16u
#define HC_MODULE_MIN 36u
#define HC_BLOCK_REC 44u
#define HC_EDGE_REC 24u
#define HC_TRACKED_REC 24u
#define HC_GC_MEMBER_REC 32u
#define HC_TYPEHINT_REC 24u
#define HC_BADFREE_REC 32u
#define HC_REFHIST_REC 40u
#define HC_REF_EVENT_REC 24u
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

#define HC_WBUF_SIZE HC_SNAPSHOT_WRITE_BUF

struct hc_wbuf {
	int fd;
	int failed;		/* errno of the first failed write, 0 if none */
	size_t n;		/* bytes buffered */
	size_t crc_from;	/* buffered bytes from here on belong to the CRC */
	uint32_t crc;
	unsigned char *buf;	/* HC_WBUF_SIZE bytes, the caller's */
};

static void hc_st32(unsigned char *p, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	memcpy(p, &v, 4);
}

static void hc_st64(unsigned char *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
}

static int hc_write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno ? errno : EIO;
		}
		if (w == 0)
			return EIO;	/* no progress and no error: give up */
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void hc_wbuf_flush(struct hc_wbuf *b)
{
	if (b->crc_from < b->n)
		b->crc = hc_crc32(b->crc, b->buf + b->crc_from, b->n - b->crc_from);
	if (!b->failed && b->n > 0)
		b->failed = hc_write_all(b->fd, b->buf, b->n);
	b->n = 0;
	b->crc_from = 0;
}

/* Returns room for n contiguous bytes (n <= HC_WBUF_SIZE). */
static unsigned char *hc_wbuf_room(struct hc_wbuf *b, size_t n)
{
	if (HC_WBUF_SIZE - b->n < n)
		hc_wbuf_flush(b);
	return b->buf + b->n;
}

static void hc_wbuf_put(struct hc_wbuf *b, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n > 0) {
		size_t k;

		if (b->n == HC_WBUF_SIZE)
			hc_wbuf_flush(b);
		k = HC_WBUF_SIZE - b->n;
		if (k > n)
			k = n;
		memcpy(b->buf + b->n, p, k);
		b->n += k;
		p += k;
		n -= k;
	}
}

static void hc_wbuf_u32(struct hc_wbuf *b, uint32_t v)
{
	hc_st32(hc_wbuf_room(b, 4), v);
	b->n += 4;
}

static void hc_wbuf_u64(struct hc_wbuf *b, uint64_t v)
{
	hc_st64(hc_wbuf_room(b, 8), v);
	b->n += 8;
}

/* The section's CRC covers its 16-byte header and its payload. */
static void hc_section_begin(struct hc_wbuf *b, uint32_t type, uint64_t len)
{
	b->crc_from = b->n;
	b->crc = 0;
	hc_wbuf_u32(b, type);
	hc_wbuf_u32(b, 0);
	hc_wbuf_u64(b, len);
}

static void hc_section_end(struct hc_wbuf *b)
{
	unsigned char *p;

	b->crc = hc_crc32(b->crc, b->buf + b->crc_from, b->n - b->crc_from);
	p = hc_wbuf_room(b, 4);
	hc_st32(p, b->crc);
	b->n += 4;
	b->crc_from = b->n;	/* nothing more to add to this CRC */
}

static size_t hc_str_len(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	/* The reader refuses longer strings; a cmdline may be cut short. */
	while (n < HC_SNAPSHOT_MAX_STRING && s[n] != '\0')
		n++;
	return n;
}

static uint32_t hc_build_id_len(const struct hc_module *m)
{
	return m->build_id_len > HC_SNAPSHOT_MAX_BUILD_ID ?
		HC_SNAPSHOT_MAX_BUILD_ID : m->build_id_len;
}

static uint32_t hc_nframes(const struct hc_snapshot *s, uint32_t i)
{
	uint32_t n;

	/* Stack 0 is the empty stack whatever the caller put there. */
	if (i == 0 || i >= s->nstacks || !s->stacks)
		return 0;
	n = s->stacks[i].nframes;
	if (n > HC_SNAPSHOT_MAX_FRAMES)
		n = HC_SNAPSHOT_MAX_FRAMES;	/* keep the innermost frames */
	if (!s->stacks[i].frames)
		n = 0;
	return n;
}

/*
 * Checks what the reader will check of blocks and edges, so that a bug in
 * the caller fails here, loudly, instead of producing a file nobody can
 * read. Returns 0 or EINVAL.
 */
static int hc_snapshot_check(const struct hc_snapshot *s, uint32_t nstacks)
{
	uint64_t i;

	if ((s->nblocks && !s->blocks) || (s->nedges && !s->edges) ||
	    (s->nmodules && !s->modules))
		return EINVAL;
	for (i = 0; i < s->nblocks; i++) {
		const struct hc_block *bl = &s->blocks[i];

		if (bl->size > UINT64_MAX - bl->addr || bl->stack >= nstacks ||
		    bl->kind >= HC_ALLOC_KIND_COUNT ||
		    bl->root_kind >= HC_ROOT_KIND_COUNT)
			return EINVAL;
		if (i > 0 && (bl->addr <= s->blocks[i - 1].addr ||
			      bl->addr < s->blocks[i - 1].addr + s->blocks[i - 1].size))
			return EINVAL;
	}
	if ((s->ntypes && !s->types) || (s->ntracked && !s->tracked) ||
	    (s->nevents && !s->events) || (s->ntypehints && !s->typehints))
		return EINVAL;
	for (i = 0; i < s->ntracked; i++) {
		const struct hc_tracked *t = &s->tracked[i];

		if (t->block >= s->nblocks || t->generation > 2 ||
		    (t->type != HC_NO_TYPE && t->type >= s->ntypes) ||
		    (i > 0 && t->block <= s->tracked[i - 1].block))
			return EINVAL;
	}
	for (i = 0; i < s->nevents; i++) {
		const struct hc_gc_event *ev = &s->events[i];
		uint32_t j;

		if (ev->nmembers && !ev->members)
			return EINVAL;
		for (j = 0; j < ev->nmembers; j++) {
			const struct hc_gc_member *m = &ev->members[j];

			if (m->stack >= nstacks || m->cycle >= ev->nmembers ||
			    (m->type != HC_NO_TYPE && m->type >= s->ntypes) ||
			    (m->flags & ~(uint32_t)HC_GC_MEMBER_IN_CYCLE))
				return EINVAL;
		}
	}
	if (s->nbadfrees && !s->badfrees)
		return EINVAL;
	for (i = 0; i < s->nbadfrees; i++) {
		const struct hc_bad_free *f = &s->badfrees[i];

		if (f->alloc_stack >= nstacks || f->free_stack >= nstacks ||
		    f->kind >= HC_BAD_FREE_KIND_COUNT || f->alloc_kind >= HC_ALLOC_KIND_COUNT ||
		    f->op >= HC_FREE_OP_COUNT)
			return EINVAL;
	}
	if (s->nrefhists && !s->refhists)
		return EINVAL;
	for (i = 0; i < s->nrefhists; i++) {
		const struct hc_ref_history *h = &s->refhists[i];
		uint32_t j;

		if (h->block >= s->nblocks || h->offset >= s->blocks[h->block].size ||
		    (i > 0 && h->block <= s->refhists[i - 1].block) || h->nevents == 0 ||
		    h->nevents > HC_SNAPSHOT_MAX_REF_EVENTS || !h->events || h->gap > h->nevents ||
		    (uint64_t)h->dropped_refs + h->dropped_unrefs > h->dropped)
			return EINVAL;
		for (j = 0; j < h->nevents; j++) {
			const struct hc_ref_event *ev = &h->events[j];

			if (ev->stack >= nstacks || ev->kind >= HC_REF_KIND_COUNT ||
			    (ev->flags & ~(uint32_t)HC_REF_FLOATING) ||
			    ((ev->flags & HC_REF_FLOATING) && ev->kind != HC_REF_SINK &&
			     ev->kind != HC_REF_TAKE) ||
			    (j > 0 && ev->seq <= h->events[j - 1].seq))
				return EINVAL;
		}
	}
	for (i = 0; i < s->ntypehints; i++)
		if (s->typehints[i].block >= s->nblocks ||
		    (i > 0 && s->typehints[i].block <= s->typehints[i - 1].block))
			return EINVAL;
	for (i = 0; i < s->nedges; i++) {
		const struct hc_edge *e = &s->edges[i];

		if (e->from >= s->nblocks || e->to >= s->nblocks ||
		    e->from_offset >= s->blocks[e->from].size ||
		    (e->to_offset != 0 && e->to_offset >= s->blocks[e->to].size))
			return EINVAL;
		if (i > 0 && (e->from < s->edges[i - 1].from ||
			      (e->from == s->edges[i - 1].from &&
			       e->from_offset < s->edges[i - 1].from_offset)))
			return EINVAL;
	}
	return 0;
}

int hc_snapshot_write_fd(int fd, const struct hc_snapshot *s)
{
	unsigned char buf[HC_WBUF_SIZE];

	return hc_snapshot_write_fd_buf(fd, s, buf);
}

int hc_snapshot_write_fd_buf(int fd, const struct hc_snapshot *s, void *buf)
{
	struct hc_wbuf b;
	uint32_t nstacks = s->nstacks ? s->nstacks : 1;
	size_t exe_len = hc_str_len(s->exe), cmd_len = hc_str_len(s->cmdline);
	uint64_t len, i;
	unsigned char *p;
	int rc = HC_OK;

	if (!s->stacks)
		nstacks = 1;
	if (hc_snapshot_check(s, nstacks) != 0) {
		errno = EINVAL;
		rc = HC_ERR_ARG;
		goto out;
	}
	b.fd = fd;
	b.failed = 0;
	b.n = 0;
	b.crc_from = 0;
	b.crc = 0;
	b.buf = buf;

	/* File header: its CRC covers bytes 0..51. */
	p = hc_wbuf_room(&b, HC_FILE_HDR_SIZE);
	memcpy(p, HC_SNAPSHOT_MAGIC, 8);
	hc_st32(p + 8, HC_SNAPSHOT_VERSION);
	hc_st32(p + 12, s->flags);
	hc_st32(p + 16, s->pid);
	hc_st32(p + 20, s->ppid);
	hc_st32(p + 24, s->reason);
	hc_st32(p + 28, s->nthreads);
	hc_st64(p + 32, s->time_ns);
	hc_st64(p + 40, s->metadata_bytes);
	hc_st32(p + 48, 0);
	hc_st32(p + 52, hc_crc32(0, p, 52));
	b.n += HC_FILE_HDR_SIZE;
	b.crc_from = b.n;

	/* META */
	hc_section_begin(&b, HC_SECT_META, 8 + (uint64_t)exe_len + cmd_len);
	hc_wbuf_u32(&b, (uint32_t)exe_len);
	hc_wbuf_put(&b, s->exe, exe_len);
	hc_wbuf_u32(&b, (uint32_t)cmd_len);
	hc_wbuf_put(&b, s->cmdline, cmd_len);
	hc_section_end(&b);

	/* MODULES */
	len = 4;
	for (i = 0; i < s->nmodules; i++)
		len += HC_MODULE_MIN + hc_build_id_len(&s->modules[i]) +
		       hc_str_len(s->modules[i].path);
	hc_section_begin(&b, HC_SECT_MODULES, len);
	hc_wbuf_u32(&b, s->nmodules);
	for (i = 0; i < s->nmodules; i++) {
		const struct hc_module *m = &s->modules[i];
		uint32_t bid = hc_build_id_len(m);
		size_t plen = hc_str_len(m->path);

		p = hc_wbuf_room(&b, HC_MODULE_MIN - 4);
		hc_st64(p, m->bias);
		hc_st64(p + 8, m->start);
		hc_st64(p + 16, m->end);
		hc_st32(p + 24, m->flags);
		hc_st32(p + 28, bid);
		b.n += HC_MODULE_MIN - 4;
		hc_wbuf_put(&b, m->build_id, bid);
		hc_wbuf_u32(&b, (uint32_t)plen);
		hc_wbuf_put(&b, m->path, plen);
	}
	hc_section_end(&b);

	/* STACKS */
	len = 4;
	for (i = 0; i < nstacks; i++)
		len += 4 + 8 * (uint64_t)hc_nframes(s, (uint32_t)i);
	hc_section_begin(&b, HC_SECT_STACKS, len);
	hc_wbuf_u32(&b, nstacks);
	for (i = 0; i < nstacks; i++) {
		uint32_t j, n = hc_nframes(s, (uint32_t)i);

		hc_wbuf_u32(&b, n);
		for (j = 0; j < n; j++)
			hc_wbuf_u64(&b, s->stacks[i].frames[j]);
	}
	hc_section_end(&b);

	/* BLOCKS */
	hc_section_begin(&b, HC_SECT_BLOCKS, 8 + HC_BLOCK_REC * s->nblocks);
	hc_wbuf_u64(&b, s->nblocks);
	for (i = 0; i < s->nblocks; i++) {
		const struct hc_block *bl = &s->blocks[i];

		p = hc_wbuf_room(&b, HC_BLOCK_REC);
		hc_st64(p, bl->addr);
		hc_st64(p + 8, bl->size);
		hc_st64(p + 16, bl->seq);
		hc_st32(p + 24, bl->stack);
		hc_st32(p + 28, bl->tid);
		hc_st32(p + 32, bl->root_refs);
		hc_st32(p + 36, bl->root_interior_refs);
		p[40] = bl->kind;
		p[41] = bl->root_kind;
		p[42] = (unsigned char)(bl->flags & 0xff);
		p[43] = (unsigned char)(bl->flags >> 8);
		b.n += HC_BLOCK_REC;
	}
	hc_section_end(&b);

	/* EDGES */
	hc_section_begin(&b, HC_SECT_EDGES, 8 + HC_EDGE_REC * s->nedges);
	hc_wbuf_u64(&b, s->nedges);
	for (i = 0; i < s->nedges; i++) {
		const struct hc_edge *e = &s->edges[i];

		p = hc_wbuf_room(&b, HC_EDGE_REC);
		hc_st32(p, e->from);
		hc_st32(p + 4, e->to);
		hc_st64(p + 8, e->from_offset);
		hc_st64(p + 16, e->to_offset);
		b.n += HC_EDGE_REC;
	}
	hc_section_end(&b);

	/* GC: type names, tracked objects, collections that found garbage */
	if (s->ntypes || s->ntracked || s->nevents) {
		len = 4 + 8 + HC_TRACKED_REC * s->ntracked + 4;
		for (i = 0; i < s->ntypes; i++)
			len += 4 + hc_str_len(s->types[i]);
		for (i = 0; i < s->nevents; i++)
			len += 16 + HC_GC_MEMBER_REC * (uint64_t)s->events[i].nmembers;
		hc_section_begin(&b, HC_SECT_GC, len);
		hc_wbuf_u32(&b, s->ntypes);
		for (i = 0; i < s->ntypes; i++) {
			size_t tl = hc_str_len(s->types[i]);

			hc_wbuf_u32(&b, (uint32_t)tl);
			hc_wbuf_put(&b, s->types[i], tl);
		}
		hc_wbuf_u64(&b, s->ntracked);
		for (i = 0; i < s->ntracked; i++) {
			const struct hc_tracked *t = &s->tracked[i];

			p = hc_wbuf_room(&b, HC_TRACKED_REC);
			hc_st64(p, t->block);
			hc_st64(p + 8, t->refcount);
			hc_st32(p + 16, t->type);
			hc_st32(p + 20, t->generation);
			b.n += HC_TRACKED_REC;
		}
		hc_wbuf_u32(&b, s->nevents);
		for (i = 0; i < s->nevents; i++) {
			const struct hc_gc_event *ev = &s->events[i];
			uint32_t j;

			hc_wbuf_u64(&b, ev->time_ns);
			hc_wbuf_u32(&b, ev->generation);
			hc_wbuf_u32(&b, ev->nmembers);
			for (j = 0; j < ev->nmembers; j++) {
				const struct hc_gc_member *m = &ev->members[j];

				p = hc_wbuf_room(&b, HC_GC_MEMBER_REC);
				hc_st64(p, m->addr);
				hc_st64(p + 8, m->size);
				hc_st32(p + 16, m->stack);
				hc_st32(p + 20, m->type);
				hc_st32(p + 24, m->cycle);
				hc_st32(p + 28, m->flags);
				b.n += HC_GC_MEMBER_REC;
			}
		}
		hc_section_end(&b);
	}

	/* TYPEHINTS */
	if (s->ntypehints) {
		hc_section_begin(&b, HC_SECT_TYPEHINTS, 8 + HC_TYPEHINT_REC * s->ntypehints);
		hc_wbuf_u64(&b, s->ntypehints);
		for (i = 0; i < s->ntypehints; i++) {
			const struct hc_typehint *h = &s->typehints[i];

			p = hc_wbuf_room(&b, HC_TYPEHINT_REC);
			hc_st64(p, h->block);
			hc_st64(p + 8, h->word[0]);
			hc_st64(p + 16, h->word[1]);
			b.n += HC_TYPEHINT_REC;
		}
		hc_section_end(&b);
	}

	/* BADFREES */
	if (s->nbadfrees) {
		hc_section_begin(&b, HC_SECT_BADFREES, 4 + HC_BADFREE_REC * (uint64_t)s->nbadfrees);
		hc_wbuf_u32(&b, s->nbadfrees);
		for (i = 0; i < s->nbadfrees; i++) {
			const struct hc_bad_free *f = &s->badfrees[i];

			p = hc_wbuf_room(&b, HC_BADFREE_REC);
			hc_st64(p, f->addr);
			hc_st64(p + 8, f->size);
			hc_st32(p + 16, f->alloc_stack);
			hc_st32(p + 20, f->free_stack);
			p[24] = f->kind;
			p[25] = f->alloc_kind;
			p[26] = f->op;
			p[27] = 0;
			hc_st32(p + 28, f->count);
			b.n += HC_BADFREE_REC;
		}
		hc_section_end(&b);
	}

	/* REFS: per object, a 40-byte head and its calls */
	if (s->nrefhists || s->ref_lost) {
		len = 8 + 4;
		for (i = 0; i < s->nrefhists; i++)
			len += HC_REFHIST_REC + HC_REF_EVENT_REC * (uint64_t)s->refhists[i].nevents;
		hc_section_begin(&b, HC_SECT_REFS, len);
		hc_wbuf_u64(&b, s->ref_lost);
		hc_wbuf_u32(&b, s->nrefhists);
		for (i = 0; i < s->nrefhists; i++) {
			const struct hc_ref_history *h = &s->refhists[i];
			uint32_t j;

			p = hc_wbuf_room(&b, HC_REFHIST_REC);
			hc_st64(p, h->block);
			hc_st64(p + 8, h->offset);
			hc_st32(p + 16, h->count);
			hc_st32(p + 20, h->nevents);
			hc_st32(p + 24, h->gap);
			hc_st32(p + 28, h->dropped);
			hc_st32(p + 32, h->dropped_refs);
			hc_st32(p + 36, h->dropped_unrefs);
			b.n += HC_REFHIST_REC;
			for (j = 0; j < h->nevents; j++) {
				const struct hc_ref_event *ev = &h->events[j];

				p = hc_wbuf_room(&b, HC_REF_EVENT_REC);
				hc_st64(p, ev->seq);
				hc_st32(p + 8, ev->stack);
				hc_st32(p + 12, ev->tid);
				hc_st32(p + 16, ev->count);
				p[20] = ev->kind;
				p[21] = ev->flags;
				p[22] = 0;
				p[23] = 0;
				b.n += HC_REF_EVENT_REC;
			}
		}
		hc_section_end(&b);
	}

	hc_section_begin(&b, HC_SECT_END, 0);
	hc_section_end(&b);
	hc_wbuf_flush(&b);
	if (b.failed) {
		errno = b.failed;
		rc = HC_ERR_IO;
	}
out:
	return rc;
}
