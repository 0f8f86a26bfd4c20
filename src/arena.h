/* SPDX-License-Identifier: MIT */
/*
 * A bump allocator on anonymous mmap. The shim uses it while the world is
 * stopped for a snapshot: no jemalloc call is safe then, since a stopped
 * thread may hold one of its locks. Everything is released at once.
 */
#ifndef HC_SRC_ARENA_H
#define HC_SRC_ARENA_H

#include <stddef.h>

struct hc_arena {
	struct hc_arena_chunk *chunks;
	size_t bytes;		/* total mapped, for the snapshot's own figures */
};

/* Zero-initialised struct hc_arena is an empty arena. */
/* Returns 16-byte aligned zeroed memory or NULL when mmap fails.
 * Large requests get a chunk of their own. MT-Unsafe, AS-Safe. */
void *hc_arena_alloc(struct hc_arena *a, size_t n);
/* Grows the last allocation when it is the newest, else copies. NULL on failure
 * (old stays valid). */
void *hc_arena_realloc(struct hc_arena *a, void *old, size_t oldn, size_t n);
/* Unmaps every chunk. Cannot fail. AS-Safe. */
void hc_arena_release(struct hc_arena *a);

#endif
