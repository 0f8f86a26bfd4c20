/* SPDX-License-Identifier: MIT */
/*
 * The GObject adapter (DESIGN.md, "Refcounts", source 2): which class
 * structures GLib has initialised, so that a snapshot can recognise
 * GObject instances by their first word (the GTypeInstance's g_class) and
 * read their count (the guint after it) without any annotation. The shim
 * never links GLib: the type system is reached through dlsym, and nothing
 * here runs unless libgobject-2.0 is in the global scope. Matching the
 * instances against the snapshot's blocks and writing the records is
 * shim_gc_fill's (shim_refcount.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "arena.h"
#include "shim.h"

/* G_TYPE_OBJECT is G_TYPE_MAKE_FUNDAMENTAL (20), part of GLib's ABI. */
#define SHIM_G_TYPE_OBJECT ((uintptr_t)20 << 2)

typedef uintptr_t shim_gtype;	/* GType is a gsize */
typedef shim_gtype *(*shim_g_type_children_fn)(shim_gtype type, unsigned *n);
typedef void *(*shim_g_type_class_peek_fn)(shim_gtype type);
typedef const char *(*shim_g_type_name_fn)(shim_gtype type);
typedef void (*shim_g_free_fn)(void *p);

static int shim_gobject_class_cmp(const struct shim_gobject_class *a,
				  const struct shim_gobject_class *b)
{
	return a->klass < b->klass ? -1 : a->klass > b->klass;
}

/* Appends one initialised class; false when out of arena memory. */
static bool shim_gobject_add(struct shim_gobject_table *tab, size_t *cap, struct hc_arena *a,
			     uintptr_t klass, const char *name)
{
	size_t len = strlen(name);
	char *copy;

	if (tab->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct shim_gobject_class *nv = hc_arena_realloc(a, tab->v, *cap * sizeof(*nv),
								 ncap * sizeof(*nv));

		if (!nv)
			return false;
		tab->v = nv;
		*cap = ncap;
	}
	copy = hc_arena_alloc(a, len + 1);
	if (!copy)
		return false;
	memcpy(copy, name, len + 1);
	tab->v[tab->n].klass = klass;
	tab->v[tab->n].name = copy;
	tab->n++;
	return true;
}

static int shim_gobject_module_cb(struct dl_phdr_info *info, size_t size, void *found)
{
	const char *name = info->dlpi_name, *base = name ? strrchr(name, '/') : NULL;

	(void)size;
	base = base ? base + 1 : name;
	if (base && strncmp(base, "libgobject-2.0.so", 17) == 0)
		*(bool *)found = true;
	return *(bool *)found;
}

int shim_gobject_classes(struct shim_gobject_table *tab, struct hc_arena *arena)
{
	struct shim_thread *t = shim_enter();
	shim_g_type_children_fn children;
	shim_g_type_class_peek_fn class_peek;
	shim_g_type_name_fn type_name;
	shim_g_free_fn gfree;
	shim_gtype *todo = NULL;
	size_t ntodo = 0, captodo = 0, cap = 0, i;
	int rc = -1;

	bool loaded = false;

	memset(tab, 0, sizeof(*tab));
	/* A dlsym that fails allocates the thread's dlerror state and the
	 * message, through our malloc: on the snapshot helper thread, whose
	 * roots are not scanned, that was a false leak in every periodic
	 * snapshot, and on a thread with a 16 KiB stack the allocation's
	 * unwind overflowed it. Look for libgobject without the loader's
	 * error path first. */
	dl_iterate_phdr(shim_gobject_module_cb, &loaded);
	if (!loaded) {
		rc = 0;
		goto out;
	}
	children = (shim_g_type_children_fn)dlsym(RTLD_DEFAULT, "g_type_children");
	class_peek = (shim_g_type_class_peek_fn)dlsym(RTLD_DEFAULT, "g_type_class_peek");
	type_name = (shim_g_type_name_fn)dlsym(RTLD_DEFAULT, "g_type_name");
	gfree = (shim_g_free_fn)dlsym(RTLD_DEFAULT, "g_free");
	if (!children || !class_peek || !type_name || !gfree) {
		rc = 0;		/* no GLib: no GObject can exist */
		goto out;
	}
	captodo = 64;
	todo = hc_arena_alloc(arena, captodo * sizeof(*todo));
	if (!todo)
		goto out;
	todo[ntodo++] = SHIM_G_TYPE_OBJECT;
	while (ntodo > 0) {
		shim_gtype type = todo[--ntodo], *kids;
		void *klass = class_peek(type);
		const char *name = type_name(type);
		unsigned nkids = 0, k;

		/* A class GLib has not initialised has no instance yet. */
		if (klass && name && !shim_gobject_add(tab, &cap, arena, (uintptr_t)klass, name))
			goto out;
		kids = children(type, &nkids);
		if (!kids)
			continue;
		if (ntodo + nkids > captodo) {
			size_t ncap = (ntodo + nkids) * 2;
			shim_gtype *nt = hc_arena_realloc(arena, todo, captodo * sizeof(*nt),
							  ncap * sizeof(*nt));

			if (!nt) {
				gfree(kids);
				goto out;
			}
			todo = nt;
			captodo = ncap;
		}
		for (k = 0; k < nkids; k++)
			todo[ntodo++] = kids[k];
		gfree(kids);
	}
	/* Insertion sort: a program initialises hundreds of classes at most,
	 * and libc's qsort may allocate. */
	for (i = 1; i < tab->n; i++) {
		struct shim_gobject_class x = tab->v[i];
		size_t j = i;

		while (j > 0 && shim_gobject_class_cmp(&tab->v[j - 1], &x) > 0) {
			tab->v[j] = tab->v[j - 1];
			j--;
		}
		tab->v[j] = x;
	}
	rc = 0;
out:
	if (rc < 0)
		memset(tab, 0, sizeof(*tab));
	shim_leave(t);
	return rc;
}

const char *shim_gobject_class_name(const struct shim_gobject_table *tab, uintptr_t klass)
{
	size_t lo = 0, hi = tab ? tab->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (klass < tab->v[mid].klass)
			hi = mid;
		else if (klass > tab->v[mid].klass)
			lo = mid + 1;
		else
			return tab->v[mid].name;
	}
	return NULL;
}

bool shim_gobject_read_count(uintptr_t addr, uintptr_t klass, uint64_t *count)
{
	/* GObject: GTypeInstance { GTypeClass *g_class; }, then guint ref_count. */
	struct {
		uintptr_t g_class;
		uint32_t ref_count;
	} head;
	struct iovec local = { &head, sizeof(head) }, remote = { (void *)addr, sizeof(head) };
	int saved_errno = errno;
	long n;

	/* The world runs again: the block may have been freed, and its page
	 * returned to the kernel, since the capture. The kernel copies for
	 * us and says EFAULT where a plain load would crash. */
	n = syscall(SYS_process_vm_readv, (long)getpid(), &local, 1UL, &remote, 1UL, 0UL);
	errno = saved_errno;
	if (n != (long)sizeof(head) || head.g_class != klass)
		return false;
	*count = head.ref_count;
	return true;
}
