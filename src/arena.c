/* SPDX-License-Identifier: MIT */
/*
 * A bump allocator on anonymous mmap, for the shim while the world is
 * stopped (a stopped thread may hold a jemalloc lock, so nothing here calls
 * malloc). Memory comes in chunks of HC_ARENA_CHUNK bytes; a request larger
 * than a quarter of that gets a chunk of its own, so that one big array does
 * not waste the rest of a shared chunk, and can then grow with mremap.
 * Nothing is freed until hc_arena_release unmaps everything.
 */
#define _GNU_SOURCE 1
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "arena.h"

#define HC_ARENA_CHUNK ((size_t)1 << 20)
#define HC_ARENA_ALIGN ((size_t)16)
#define HC_ARENA_BIG (HC_ARENA_CHUNK / 4)

struct hc_arena_chunk {
	struct hc_arena_chunk *next;
	size_t size;		/* bytes mapped, header included */
	size_t used;		/* bytes handed out, header included */
	size_t last;		/* offset of the newest allocation, 0 if none */
};

/* The header is padded so that the first allocation is 16-byte aligned. */
#define HC_ARENA_HDR ((sizeof(struct hc_arena_chunk) + HC_ARENA_ALIGN - 1) & \
		      ~(HC_ARENA_ALIGN - 1))

static size_t hc_arena_page(void)
{
	/* sysconf is not on the AS-Safe list; 4096 divides every Linux page size
	 * we run on, and mmap rounds up by itself. */
	return 4096;
}

static struct hc_arena_chunk *hc_arena_map(struct hc_arena *a, size_t payload)
{
	struct hc_arena_chunk *c;
	size_t size;
	void *p;

	if (payload > SIZE_MAX - HC_ARENA_HDR - hc_arena_page())
		return NULL;
	size = (payload + HC_ARENA_HDR + hc_arena_page() - 1) & ~(hc_arena_page() - 1);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	c = p;
	c->size = size;
	c->used = HC_ARENA_HDR;
	c->last = 0;
	a->bytes += size;
	return c;
}

void *hc_arena_alloc(struct hc_arena *a, size_t n)
{
	struct hc_arena_chunk *c = a->chunks;
	size_t need;

	if (n > SIZE_MAX - HC_ARENA_ALIGN)
		return NULL;
	need = (n + HC_ARENA_ALIGN - 1) & ~(HC_ARENA_ALIGN - 1);
	if (need == 0)
		need = HC_ARENA_ALIGN;
	if (need > HC_ARENA_BIG) {
		/* Its own chunk, linked behind the current bump chunk so that
		 * small allocations keep filling that one. */
		c = hc_arena_map(a, need);
		if (!c)
			return NULL;
		c->last = c->used;
		c->used += need;
		if (a->chunks) {
			c->next = a->chunks->next;
			a->chunks->next = c;
		} else {
			c->next = NULL;
			a->chunks = c;
		}
		return (char *)c + c->last;
	}
	if (!c || c->size - c->used < need) {
		c = hc_arena_map(a, HC_ARENA_CHUNK - HC_ARENA_HDR);
		if (!c)
			return NULL;
		c->next = a->chunks;
		a->chunks = c;
	}
	c->last = c->used;
	c->used += need;
	return (char *)c + c->last;
}

void *hc_arena_realloc(struct hc_arena *a, void *old, size_t oldn, size_t n)
{
	struct hc_arena_chunk *c, **link;
	void *p;

	if (!old)
		return hc_arena_alloc(a, n);
	if (n <= oldn)
		return old;	/* the tail stays ours; it is never handed out again */
	if (n > SIZE_MAX - HC_ARENA_ALIGN)
		return NULL;
	for (link = &a->chunks; (c = *link) != NULL; link = &c->next) {
		size_t need;

		if ((char *)old != (char *)c + c->last || c->last == 0)
			continue;
		/* old is the newest allocation of its chunk: grow in place. */
		need = (n + HC_ARENA_ALIGN - 1) & ~(HC_ARENA_ALIGN - 1);
		if (c->last + need <= c->size) {
			c->used = c->last + need;
			return old;
		}
		if (c->last == HC_ARENA_HDR) {
			/* A chunk of its own: let the kernel move the pages. */
			size_t size, oldsize = c->size;
			struct hc_arena_chunk *m;

			if (need > SIZE_MAX - HC_ARENA_HDR - hc_arena_page())
				return NULL;
			size = (need + HC_ARENA_HDR + hc_arena_page() - 1) &
			       ~(hc_arena_page() - 1);
			p = mremap(c, oldsize, size, MREMAP_MAYMOVE);
			if (p == MAP_FAILED)
				return NULL;
			m = p;
			m->size = size;
			m->used = HC_ARENA_HDR + need;
			*link = m;
			a->bytes += size - oldsize;
			return (char *)m + HC_ARENA_HDR;
		}
		break;
	}
	p = hc_arena_alloc(a, n);
	if (p)
		memcpy(p, old, oldn);
	return p;
}

void hc_arena_release(struct hc_arena *a)
{
	struct hc_arena_chunk *c = a->chunks;

	while (c) {
		struct hc_arena_chunk *next = c->next;

		munmap(c, c->size);
		c = next;
	}
	a->chunks = NULL;
	a->bytes = 0;
}
