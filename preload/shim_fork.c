/* SPDX-License-Identifier: MIT */
/*
 * fork: the shim's locks are taken before fork in the one documented order
 * (shim.h) so that the child never inherits a lock held by a thread that
 * does not exist there; the parent releases them, the child re-creates them
 * and becomes a process of its own, with its own snapshot (%p) at its exit.
 * heaptrack stops tracing children; we follow them.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

pthread_mutex_t shim_snapshot_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
pthread_mutex_t shim_mmap_lock = PTHREAD_MUTEX_INITIALIZER;

static void shim_prefork(void)
{
	struct shim_thread *t = shim_enter();

	shim_gc_lock_for_fork();
	pthread_mutex_lock(&shim_snapshot_lock);
	pthread_mutex_lock(&shim_mmap_lock);
	/* Until fork returns, an allocating signal handler on this thread must
	 * not wait for the shard locks it holds; the post-fork handlers undo
	 * this in both processes. */
	t->in_table++;
	shim_young_quiesce(t);
	if (atomic_load(&shim_g.state) == SHIM_READY)
		hc_blocktable_lock_all(shim_g.table);
	shim_leave(t);
}

static void shim_postfork_parent(void)
{
	if (atomic_load(&shim_g.state) == SHIM_READY)
		hc_blocktable_unlock_all(shim_g.table);
	shim_young_resume(&shim_tls);
	shim_tls.in_table--;
	pthread_mutex_unlock(&shim_mmap_lock);
	pthread_mutex_unlock(&shim_snapshot_lock);
	shim_gc_unlock_after_fork(false);
}

static void shim_postfork_child(void)
{
	pthread_mutex_t recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;

	if (atomic_load(&shim_g.state) == SHIM_READY)
		hc_blocktable_reinit_locks_after_fork(shim_g.table);
	shim_mmap_lock = plain;
	shim_snapshot_lock = recursive;
	shim_gc_unlock_after_fork(true);
	shim_g.pid = (uint32_t)syscall(SYS_getpid);
	shim_tls.tid = (uint32_t)syscall(SYS_gettid);
	shim_young_after_fork_child(&shim_tls);
	shim_tls.in_table--;
	atomic_store(&shim_g.exit_snapshot_done, 0);
	atomic_store(&shim_g.exit_tid, 0);
	/* The snapshot thread did not survive the fork: a new one. */
	atomic_store(&shim_g.helper_tid, 0);
	shim_periodic_after_fork_child();
}

void shim_fork_init(void)
{
	pthread_atfork(shim_prefork, shim_postfork_parent, shim_postfork_child);
}
