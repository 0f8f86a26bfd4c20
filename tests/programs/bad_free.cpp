// SPDX-License-Identifier: MIT
/*
 * bad_free: deallocations that would corrupt the heap. glibc aborts on the
 * double free; under heapcycle the program runs to its end, nothing is
 * handed to the allocator that it did not give out, and the report shows
 * each bad call with its stack (and the block's allocation stack where
 * there was a block). tests/integration/run_bad_free.sh checks the report.
 */
#pragma GCC optimize("O0")
#include <cstdio>
#include <cstdlib>
#include <cstring>

static char not_from_malloc[64];

__attribute__((noinline)) static char *make_block(void)
{
	return static_cast<char *>(malloc(40));
}

__attribute__((noinline)) static void release_twice(char *p)
{
	free(p);
	free(p);	/* double free */
}

__attribute__((noinline)) static void release_static(void)
{
	free(not_from_malloc + 8);	/* never returned by malloc */
}

__attribute__((noinline)) static void release_array_with_free(void)
{
	int *a = new int[6];

	a[0] = 1;
	free(a);	/* new[] released with free(): mismatched */
}

int main()
{
	char *p = make_block();

	memset(p, 1, 40);
	release_twice(p);
	release_static();
	release_array_with_free();
	std::puts("still running");
	return 0;
}
