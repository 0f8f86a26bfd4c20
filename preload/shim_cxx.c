/* SPDX-License-Identifier: MIT */
/*
 * The C++ operator new and delete family (plain, array, sized, aligned,
 * nothrow), defined here in C under their mangled names so that the shim
 * needs no C++ runtime. Each records its kind, so that new/free and
 * new[]/delete mismatches are seen. When an allocation fails, the throwing
 * forms hand over to libstdc++'s own operator, which runs the program's
 * new-handler and throws std::bad_alloc exactly as it would without us.
 */
#include <dlfcn.h>
#include <stddef.h>

#include "shim.h"

/* The mangled names have no C declaration to include. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

typedef void *(*shim_new_fn)(size_t);
typedef void *(*shim_new_aligned_fn)(size_t, size_t);

static void *shim_new_failed(const char *mangled, size_t size)
{
	shim_new_fn next = (shim_new_fn)dlsym(RTLD_NEXT, mangled);

	return next ? next(size) : NULL;
}

static void *shim_new_aligned_failed(const char *mangled, size_t size, size_t align)
{
	shim_new_aligned_fn next = (shim_new_aligned_fn)dlsym(RTLD_NEXT, mangled);

	return next ? next(size, align) : NULL;
}

/* operator new(size_t) */
HC_EXPORT void *_Znwm(size_t size)
{
	void *p = shim_alloc(size, 0, 0, HC_ALLOC_NEW, SHIM_CALL_SITE);

	return p ? p : shim_new_failed("_Znwm", size);
}

/* operator new[](size_t) */
HC_EXPORT void *_Znam(size_t size)
{
	void *p = shim_alloc(size, 0, 0, HC_ALLOC_NEW_ARRAY, SHIM_CALL_SITE);

	return p ? p : shim_new_failed("_Znam", size);
}

/* operator new(size_t, const std::nothrow_t&) */
HC_EXPORT void *_ZnwmRKSt9nothrow_t(size_t size, const void *tag)
{
	(void)tag;
	return shim_alloc(size, 0, 0, HC_ALLOC_NEW, SHIM_CALL_SITE);
}

HC_EXPORT void *_ZnamRKSt9nothrow_t(size_t size, const void *tag)
{
	(void)tag;
	return shim_alloc(size, 0, 0, HC_ALLOC_NEW_ARRAY, SHIM_CALL_SITE);
}

/* operator new(size_t, std::align_val_t) */
HC_EXPORT void *_ZnwmSt11align_val_t(size_t size, size_t align)
{
	void *p = shim_alloc(size, align, 0, HC_ALLOC_NEW, SHIM_CALL_SITE);

	return p ? p : shim_new_aligned_failed("_ZnwmSt11align_val_t", size, align);
}

HC_EXPORT void *_ZnamSt11align_val_t(size_t size, size_t align)
{
	void *p = shim_alloc(size, align, 0, HC_ALLOC_NEW_ARRAY, SHIM_CALL_SITE);

	return p ? p : shim_new_aligned_failed("_ZnamSt11align_val_t", size, align);
}

HC_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const void *tag)
{
	(void)tag;
	return shim_alloc(size, align, 0, HC_ALLOC_NEW, SHIM_CALL_SITE);
}

HC_EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const void *tag)
{
	(void)tag;
	return shim_alloc(size, align, 0, HC_ALLOC_NEW_ARRAY, SHIM_CALL_SITE);
}

/* operator delete(void*) and its sized, aligned and nothrow forms: the
 * size and alignment are only hints to the allocator, so all of them are
 * one free of the right kind. */
HC_EXPORT void _ZdlPv(void *p)
{
	shim_free(p, HC_ALLOC_NEW, HC_FREE_OP_DELETE, SHIM_CALL_SITE);
}

HC_EXPORT void _ZdaPv(void *p)
{
	shim_free(p, HC_ALLOC_NEW_ARRAY, HC_FREE_OP_DELETE_ARRAY, SHIM_CALL_SITE);
}

HC_EXPORT void _ZdlPvm(void *p, size_t size)
{
	(void)size;
	shim_free(p, HC_ALLOC_NEW, HC_FREE_OP_DELETE, SHIM_CALL_SITE);
}

HC_EXPORT void _ZdaPvm(void *p, size_t size)
{
	(void)size;
	shim_free(p, HC_ALLOC_NEW_ARRAY, HC_FREE_OP_DELETE_ARRAY, SHIM_CALL_SITE);
}

HC_EXPORT void _ZdlPvRKSt9nothrow_t(void *p, const void *tag)
{
	(void)tag;
	shim_free(p, HC_ALLOC_NEW, HC_FREE_OP_DELETE, SHIM_CALL_SITE);
}

HC_EXPORT void _ZdaPvRKSt9nothrow_t(void *p, const void *tag)
{
	(void)tag;
	shim_free(p, HC_ALLOC_NEW_ARRAY, HC_FREE_OP_DELETE_ARRAY, SHIM_CALL_SITE);
}

HC_EXPORT void _ZdlPvSt11align_val_t(void *p, size_t align)
{
	(void)align;
	shim_free(p, HC_ALLOC_NEW, HC_FREE_OP_DELETE, SHIM_CALL_SITE);
}

HC_EXPORT void _ZdaPvSt11align_val_t(void *p, size_t align)
{
	(void)align;
	shim_free(p, HC_ALLOC_NEW_ARRAY, HC_FREE_OP_DELETE_ARRAY, SHIM_CALL_SITE);
}

HC_EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t size, size_t align)
{
	(void)size;
	(void)align;
	shim_free(p, HC_ALLOC_NEW, HC_FREE_OP_DELETE, SHIM_CALL_SITE);
}

HC_EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t size, size_t align)
{
	(void)size;
	(void)align;
	shim_free(p, HC_ALLOC_NEW_ARRAY, HC_FREE_OP_DELETE_ARRAY, SHIM_CALL_SITE);
}

HC_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *tag)
{
	(void)align;
	(void)tag;
	shim_free(p, HC_ALLOC_NEW, HC_FREE_OP_DELETE, SHIM_CALL_SITE);
}

HC_EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *tag)
{
	(void)align;
	(void)tag;
	shim_free(p, HC_ALLOC_NEW_ARRAY, HC_FREE_OP_DELETE_ARRAY, SHIM_CALL_SITE);
}
