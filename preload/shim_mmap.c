/* SPDX-License-Identifier: MIT */
/*
 * Anonymous mappings the program made itself are roots (Valgrind agrees;
 * LeakSanitizer does not look). jemalloc's and libunwind's own mappings are
 * not: they are made while this thread is inside the shim (depth > 0), and
 * glibc's thread stacks do not go through the PLT. So mmap, munmap and
 * mremap are wrapped to keep the list of the program's regions.
 */
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define SHIM_MAX_REGIONS 8192

static struct shim_range shim_regions[SHIM_MAX_REGIONS];
static unsigned shim_nregions;
static bool shim_regions_overflow;

static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);

	return r == -1 ? MAP_FAILED : (void *)r;
}

/* Removes [lo, hi) from the list, splitting regions it cuts in two. */
static void regions_remove_locked(uintptr_t lo, uintptr_t hi)
{
	unsigned i = 0;

	while (i < shim_nregions) {
		struct shim_range *r = &shim_regions[i];

		if (r->hi <= lo || r->lo >= hi) {
			i++;
		} else if (r->lo >= lo && r->hi <= hi) {
			shim_regions[i] = shim_regions[--shim_nregions];
		} else if (r->lo < lo && r->hi > hi) {
			if (shim_nregions == SHIM_MAX_REGIONS) {
				shim_regions_overflow = true;
				r->hi = lo;
			} else {
				shim_regions[shim_nregions].lo = hi;
				shim_regions[shim_nregions].hi = r->hi;
				shim_nregions++;
				r->hi = lo;
			}
			i++;
		} else if (r->lo < lo) {
			r->hi = lo;
			i++;
		} else {
			r->lo = hi;
			i++;
		}
	}
}

static void regions_add(uintptr_t lo, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t hi = (lo + len + page - 1) & ~(page - 1);

	pthread_mutex_lock(&shim_mmap_lock);
	regions_remove_locked(lo, hi);	/* MAP_FIXED over an older region */
	if (shim_nregions < SHIM_MAX_REGIONS) {
		shim_regions[shim_nregions].lo = lo;
		shim_regions[shim_nregions].hi = hi;
		shim_nregions++;
	} else {
		shim_regions_overflow = true;
	}
	pthread_mutex_unlock(&shim_mmap_lock);
}

/* An anonymous mapping made by the program. Mappings made inside the shim
 * (depth > 0) are ours; so are those jemalloc or libunwind make when the
 * program calls them without us (jemalloc's thread-exit clean-up, say):
 * their memory holds the allocator's stale pointers, never roots. */
static bool is_program_anon(int flags, int fd, uintptr_t caller)
{
	if (shim_tls.depth != 0 || !(flags & MAP_ANONYMOUS) || fd != -1 || (flags & MAP_STACK))
		return false;
	return !shim_in_helper_text(caller);
}

HC_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = raw_mmap(addr, len, prot, flags, fd, off);

	if (p != MAP_FAILED && is_program_anon(flags, fd, (uintptr_t)__builtin_return_address(0)))
		regions_add((uintptr_t)p, len);
	else if (p != MAP_FAILED && (flags & MAP_FIXED) && shim_tls.depth == 0) {
		pthread_mutex_lock(&shim_mmap_lock);
		regions_remove_locked((uintptr_t)p, (uintptr_t)p + len);
		pthread_mutex_unlock(&shim_mmap_lock);
	}
	return p;
}

HC_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = raw_mmap(addr, len, prot, flags, fd, off);

	if (p != MAP_FAILED && is_program_anon(flags, fd, (uintptr_t)__builtin_return_address(0)))
		regions_add((uintptr_t)p, len);
	return p;
}

/* The region leaves the list before it is unmapped, under the lock the
 * snapshot holds while it scans: a scan never reads an unmapped page. */
HC_EXPORT int munmap(void *addr, size_t len)
{
	long r;

	if (shim_tls.depth > 0)
		return (int)syscall(SYS_munmap, addr, len);
	pthread_mutex_lock(&shim_mmap_lock);
	regions_remove_locked((uintptr_t)addr, (uintptr_t)addr + len);
	r = syscall(SYS_munmap, addr, len);
	pthread_mutex_unlock(&shim_mmap_lock);
	return (int)r;
}

HC_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL;
	bool tracked = false;
	unsigned i;
	long r;

	if (flags & MREMAP_FIXED) {
		va_list ap;

		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (shim_tls.depth > 0) {
		r = syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
		return r == -1 ? MAP_FAILED : (void *)r;
	}
	pthread_mutex_lock(&shim_mmap_lock);
	for (i = 0; i < shim_nregions; i++)
		if (shim_regions[i].lo <= (uintptr_t)old && shim_regions[i].hi > (uintptr_t)old)
			tracked = true;
	r = syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
	if (r != -1 && tracked) {
		uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

		regions_remove_locked((uintptr_t)old, (uintptr_t)old + old_len);
		if (shim_nregions < SHIM_MAX_REGIONS) {
			shim_regions[shim_nregions].lo = (uintptr_t)r;
			shim_regions[shim_nregions].hi = ((uintptr_t)r + new_len + page - 1) & ~(page - 1);
			shim_nregions++;
		} else {
			shim_regions_overflow = true;
		}
	}
	pthread_mutex_unlock(&shim_mmap_lock);
	return r == -1 ? MAP_FAILED : (void *)r;
}

unsigned shim_mmap_region_count_locked(void)
{
	return shim_nregions;
}

unsigned shim_mmap_regions_locked(struct shim_range *out, unsigned cap)
{
	unsigned i;

	for (i = 0; i < shim_nregions && i < cap; i++)
		out[i] = shim_regions[i];
	return i;
}
