/* SPDX-License-Identifier: MIT */
/*
 * heapcycle's public API: CPython's gc module, for C objects that count
 * their references. Every function is a weak reference: in a program run
 * without the shim (no LD_PRELOAD of libheapcycle.so) each call is a no-op
 * that returns 0 (heapcycle_isenabled returns 0 too), so the calls can stay
 * in production builds. See heapcycle.h(3).
 */
#ifndef HEAPCYCLE_H
#define HEAPCYCLE_H

#ifdef __cplusplus
extern "C" {
#endif

/* traverse calls visit(referent, arg) once per reference obj owns, exactly
 * like CPython's tp_traverse; a non-zero return from visit must be
 * returned at once. clear drops obj's references, like tp_clear. */
typedef int (*heapcycle_visit_fn)(void *referent, void *arg);
typedef int (*heapcycle_traverse_fn)(void *obj, heapcycle_visit_fn visit, void *arg);
typedef void (*heapcycle_clear_fn)(void *obj);

/* Passed to callbacks before ("start") and after ("stop") a collection. */
struct heapcycle_gc_info {
	int generation;		/* the oldest generation collected */
	long collected;		/* tracked objects examined ("stop" only) */
	long uncollectable;	/* unreachable ones found ("stop" only) */
};
typedef void (*heapcycle_callback_fn)(const char *phase,
				      const struct heapcycle_gc_info *info, void *arg);

/*
 * Tracks obj, a block from malloc/new whose reference count is the
 * width-byte (1, 2, 4 or 8) unsigned integer at refcount, plain or
 * atomic. traverse may be NULL: obj's memory is then scanned for pointers
 * to tracked objects. clear may be NULL. Returns 0, or -1 with errno
 * EINVAL (bad width, NULL obj or refcount) or ENOMEM. A freed object is
 * untracked automatically. May run a collection, as allocating a container
 * object may in CPython.
 */
int heapcycle_track(void *obj, const void *refcount, unsigned width,
		    heapcycle_traverse_fn traverse, heapcycle_clear_fn clear)
	__attribute__((weak));
/* Names a tracked object's type in reports ("Person"); the string is
 * copied. Returns 0, or -1 with errno ENOENT (not tracked) or ENOMEM. */
int heapcycle_set_type(void *obj, const char *type) __attribute__((weak));
/* Forgets obj. Returns 0, or -1 with errno ENOENT if it was not tracked. */
int heapcycle_untrack(void *obj) __attribute__((weak));

/* gc.collect(generation): collects generations 0..generation (2: all).
 * Returns the number of unreachable tracked objects found, or -1. */
long heapcycle_collect(int generation) __attribute__((weak));
/* gc.get_count() and gc.get_threshold() into three ints each. */
int heapcycle_get_count(int count[3]) __attribute__((weak));
int heapcycle_get_threshold(int threshold[3]) __attribute__((weak));
/* gc.set_threshold(); threshold[0] == 0 turns automatic collection off.
 * Returns 0, or -1 with errno EINVAL for a negative value. */
int heapcycle_set_threshold(const int threshold[3]) __attribute__((weak));
int heapcycle_enable(void) __attribute__((weak));
int heapcycle_disable(void) __attribute__((weak));
int heapcycle_isenabled(void) __attribute__((weak));
/* Reclamation (off by default): a collection calls clear on the members of
 * each unreachable cycle whose members all have one, so the program's own
 * unref frees them. Returns 0. */
int heapcycle_set_reclaim(int on) __attribute__((weak));
/* gc.callbacks: fn(phase, info, arg) runs before and after each
 * collection. Returns 0, or -1 with errno ENOMEM / ENOENT. */
int heapcycle_add_callback(heapcycle_callback_fn fn, void *arg) __attribute__((weak));
int heapcycle_remove_callback(heapcycle_callback_fn fn, void *arg) __attribute__((weak));

/*
 * Writes a snapshot of the live heap now, to path (NULL: the output
 * option's pattern, %p being the pid). Returns 0 on success, -1 with errno
 * set on failure.
 */
int heapcycle_snapshot(const char *path) __attribute__((weak));

/* Without the shim every call is a no-op: the macros test the weak
 * symbol first. (Parenthesised names call the function itself.) */
#define heapcycle_track(o, r, w, t, c) \
	(heapcycle_track ? (heapcycle_track)((o), (r), (w), (t), (c)) : 0)
#define heapcycle_set_type(o, n) (heapcycle_set_type ? (heapcycle_set_type)((o), (n)) : 0)
#define heapcycle_untrack(o) (heapcycle_untrack ? (heapcycle_untrack)(o) : 0)
#define heapcycle_collect(g) (heapcycle_collect ? (heapcycle_collect)(g) : 0L)
#define heapcycle_get_count(c) (heapcycle_get_count ? (heapcycle_get_count)(c) : 0)
#define heapcycle_get_threshold(t) \
	(heapcycle_get_threshold ? (heapcycle_get_threshold)(t) : 0)
#define heapcycle_set_threshold(t) \
	(heapcycle_set_threshold ? (heapcycle_set_threshold)(t) : 0)
#define heapcycle_enable() (heapcycle_enable ? (heapcycle_enable)() : 0)
#define heapcycle_disable() (heapcycle_disable ? (heapcycle_disable)() : 0)
#define heapcycle_isenabled() (heapcycle_isenabled ? (heapcycle_isenabled)() : 0)
#define heapcycle_set_reclaim(on) (heapcycle_set_reclaim ? (heapcycle_set_reclaim)(on) : 0)
#define heapcycle_add_callback(f, a) \
	(heapcycle_add_callback ? (heapcycle_add_callback)((f), (a)) : 0)
#define heapcycle_remove_callback(f, a) \
	(heapcycle_remove_callback ? (heapcycle_remove_callback)((f), (a)) : 0)
#define heapcycle_snapshot(path) \
	(heapcycle_snapshot ? (heapcycle_snapshot)(path) : 0)

#ifdef __cplusplus
}
#endif

#endif
