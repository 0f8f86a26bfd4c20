/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: anonymous mappings the program made itself are
 * roots. Block A (48 bytes) is referenced only from a live anonymous mmap
 * region: still reachable, not a leak (Valgrind agrees; LeakSanitizer gets
 * this wrong). Block B (80 bytes) was referenced only from a second region
 * that has since been munmapped: a direct leak.
 */
/* EXPECT: direct blocks=1 bytes=80 fn=leak_via_unmapped fn=main */
/* EXPECT: reachable-at-least blocks=1 bytes=48 */
/* EXPECT: exit=0 */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The live region: the global holds the region's address, which is not a
 * heap block; block A's address exists only inside the region. */
void **g_region;

static void scrub_stack(void)
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

static void *map_page(void)
{
	void *r = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (r == MAP_FAILED)
		exit(1);
	return r;
}

static void keep_in_mmap(void)
{
	void *a = malloc(48);

	if (!a)
		exit(1);
	memset(a, 'a', 48);
	g_region = map_page();
	g_region[7] = a;	/* somewhere in the middle of the page */
	a = NULL;
}

static void leak_via_unmapped(void)
{
	void **region = map_page();
	void *b = malloc(80);

	if (!b)
		exit(1);
	memset(b, 'b', 80);
	region[3] = b;
	b = NULL;
	if (munmap(region, (size_t)sysconf(_SC_PAGESIZE)) != 0)
		exit(1);
	region = NULL;
}

int main(void)
{
	keep_in_mmap();
	leak_via_unmapped();
	scrub_stack();
	return ((char *)g_region[7])[0] == 'a' ? 0 : 1;
}
