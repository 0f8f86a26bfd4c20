/* SPDX-License-Identifier: MIT */
/*
 * The library stress_dlopen loads and unloads in a loop. Each call of
 * stress_dl_leak leaks one block and each call of stress_dl_make returns
 * one the program keeps: after the library is gone, the report must still
 * name these functions (the shim keeps the record of dlclose'd modules).
 */
#include <stdlib.h>
#include <string.h>

void *stress_dl_make(size_t n);
int stress_dl_leak(size_t n);

void *volatile stress_dl_sink;

/* Not a tail call: the frame must be on the allocation stack. */
__attribute__((noinline)) void *stress_dl_make(size_t n)
{
	void *p = malloc(n);

	if (p)
		memset(p, 0x3c, n);
	return p;
}

__attribute__((noinline)) int stress_dl_leak(size_t n)
{
	void *p = malloc(n);

	if (!p)
		return -1;
	memset(p, 0x3d, n);
	stress_dl_sink = p;
	stress_dl_sink = NULL;
	return 0;
}
