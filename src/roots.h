/* SPDX-License-Identifier: MIT */
/*
 * The process's memory map, as /proc/self/maps tells it, and the root
 * ranges built from it: which ranges a conservative scan may read, and which
 * mapping holds a thread's stack. Parsing works on a buffer the caller read
 * (with raw read(2) in the shim, while the world is stopped), so it never
 * allocates except from the arena it is given.
 */
#ifndef HC_SRC_ROOTS_H
#define HC_SRC_ROOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

enum {
	HC_MAP_READ = 1u << 0,
	HC_MAP_WRITE = 1u << 1,
	HC_MAP_EXEC = 1u << 2,
	HC_MAP_SHARED = 1u << 3,
	HC_MAP_ANON = 1u << 4,	/* no backing file (also [heap], [stack]) */
	HC_MAP_STACK = 1u << 5,	/* the main thread's [stack] */
	HC_MAP_SPECIAL = 1u << 6, /* [vvar], [vdso], [vsyscall]: never scanned */
};

struct hc_mapping {
	uintptr_t lo, hi;
	uint32_t flags;
};

struct hc_maps {
	struct hc_mapping *m;	/* sorted by lo, non-overlapping */
	size_t n;
};

/*
 * Parses the text of /proc/self/maps (len bytes, need not end in a newline)
 * into maps, allocating from arena. Malformed lines are skipped. Returns 0,
 * or -1 when the arena is exhausted. AS-Safe.
 */
int hc_maps_parse(struct hc_maps *maps, const char *text, size_t len,
		  struct hc_arena *arena);

/* Returns the mapping containing addr, or NULL. AS-Safe. */
const struct hc_mapping *hc_maps_find(const struct hc_maps *maps, uintptr_t addr);

/*
 * Calls fn for each part of [lo, hi) that lies in readable, non-special
 * mappings, so that a scan never faults on a guard page or a PROT_NONE
 * region. Returns the number of bytes of [lo, hi) left out. AS-Safe if fn is.
 */
uint64_t hc_maps_for_readable(const struct hc_maps *maps, uintptr_t lo, uintptr_t hi,
			      void (*fn)(uintptr_t lo, uintptr_t hi, void *arg),
			      void *arg);

#endif
