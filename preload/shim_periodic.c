/* SPDX-License-Identifier: MIT */
/*
 * Snapshots while the program runs, for servers that leak slowly: one
 * whenever the snapshot_signal option's signal arrives, and one every
 * snapshot_interval seconds. The signal handler only bumps a counter and
 * wakes a futex on it (both AS-safe); a helper thread, created with every
 * signal blocked so it never steals the program's signals, waits on the
 * futex and takes the snapshot. No file descriptor is involved: servers
 * close every descriptor they did not open (closefrom(3)) and reuse the
 * numbers, and a pipe's byte would then land in one of their files. A
 * fork child gets a helper of its own. Nothing of this exists unless one
 * of the two options is set.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

/* Signals seen, and how many of them the helper has taken: a fork child
 * inherits both, so a signal it gets before its helper starts still
 * counts. */
static _Atomic uint32_t shim_wake_count;
static _Atomic uint32_t shim_wake_taken;
static bool shim_helper_wanted;

static void snapshot_signal_handler(int sig)
{
	int saved = errno;

	(void)sig;
	atomic_fetch_add(&shim_wake_count, 1);
	syscall(SYS_futex, &shim_wake_count, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	errno = saved;
}

static uint64_t periodic_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *periodic_main(void *arg)
{
	uint64_t interval = shim_g.opts.snapshot_interval > 0 ?
			    (uint64_t)shim_g.opts.snapshot_interval * 1000000000u : 0;
	uint64_t next = interval ? periodic_now_ns() + interval : 0;
	uint32_t taken = atomic_load(&shim_wake_taken);

	(void)arg;
	atomic_store(&shim_g.helper_tid, shim_gettid());
	for (;;) {
		uint32_t now_count = atomic_load(&shim_wake_count);
		enum hc_snap_reason reason;

		if (now_count != taken) {
			/* Several signals before we got here make one snapshot. */
			taken = now_count;
			atomic_store(&shim_wake_taken, taken);
			reason = HC_REASON_SIGNAL;
		} else if (interval && periodic_now_ns() >= next) {
			/* Regular, not drifting; a slow snapshot skips a tick. */
			next += interval;
			if (next <= periodic_now_ns())
				next = periodic_now_ns() + interval;
			reason = HC_REASON_INTERVAL;
		} else {
			struct timespec left, *timeout = NULL;

			if (interval) {
				uint64_t ns = next - periodic_now_ns();

				left.tv_sec = (time_t)(ns / 1000000000u);
				left.tv_nsec = (long)(ns % 1000000000u);
				timeout = &left;
			}
			/* Returns at once if a signal came since now_count. */
			syscall(SYS_futex, &shim_wake_count, FUTEX_WAIT_PRIVATE, now_count,
				timeout, NULL, 0);
			continue;
		}
		/* The helper's own stack holds nothing of the program's. */
		shim_snapshot_take(reason, NULL, NULL, 0);
	}
	return NULL;
}

/* Starts the helper thread; false (said) when it cannot. */
static bool periodic_start_helper(void)
{
	sigset_t all, old;
	pthread_t thread;
	pthread_attr_t attr;
	bool ok = true;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, periodic_main, NULL) != 0) {
		shim_say("cannot start the snapshot thread", 0);
		ok = false;
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* Until the helper has said who it is, a snapshot would try to stop
	 * it like a program thread, and it blocks every signal: a process
	 * that exits at once (a fork child) would wait stop_timeout_ms and
	 * call its roots incomplete. A new thread runs within microseconds;
	 * the bound is for a machine that does not schedule it. */
	for (unsigned spins = 0; ok && !atomic_load(&shim_g.helper_tid) && spins < 100000; spins++)
		sched_yield();
	return ok;
}

void shim_periodic_init(void)
{
	int sig = shim_g.opts.snapshot_signal;

	if (sig <= 0 && shim_g.opts.snapshot_interval <= 0)
		return;
	if (sig >= NSIG || sig == SIGKILL || sig == SIGSTOP) {
		shim_say("snapshot_signal: not a signal that can be caught; no snapshots on a signal", 0);
		sig = 0;
		if (shim_g.opts.snapshot_interval <= 0)
			return;
	}
	if (!periodic_start_helper())
		return;
	shim_helper_wanted = true;
	if (sig > 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = snapshot_signal_handler;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(sig, &sa, NULL);
	}
}

/* A fork child has no helper thread: it gets one of its own, so that the
 * signal sent to the child, and the interval, snapshot the child. */
void shim_periodic_after_fork_child(void)
{
	if (shim_helper_wanted)
		periodic_start_helper();
}
