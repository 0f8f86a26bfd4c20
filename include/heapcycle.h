/* SPDX-License-Identifier: MIT */
/*
 * heapcycle's public API. Every function is a weak reference: in a program
 * run without the shim (no LD_PRELOAD of libheapcycle.so) each call is a
 * no-op that returns 0, so the calls can stay in production builds.
 * See heapcycle.h(3).
 */
#ifndef HEAPCYCLE_H
#define HEAPCYCLE_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Writes a snapshot of the live heap now, to path (NULL: the output option's
 * pattern, %p being the pid). Returns 0 on success, -1 with errno set on
 * failure, and 0 without the shim.
 */
int heapcycle_snapshot(const char *path) __attribute__((weak));

#define heapcycle_snapshot(path) \
	(heapcycle_snapshot ? (heapcycle_snapshot)(path) : 0)

#ifdef __cplusplus
}
#endif

#endif
