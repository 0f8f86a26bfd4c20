/* SPDX-License-Identifier: MIT */
/*
 * Threads, as the snapshot needs them: each thread's kernel id, and
 * stopping every other thread while the heap is scanned. A stopped thread
 * sits in our signal handler with its registers, stack pointer and thread
 * pointer recorded, waiting on a futex until the snapshot resumes it. The
 * handler is AS-safe: it reads its context, stores into memory prepared
 * before the signal was sent, and waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "arena.h"
#include "shim.h"

#define SHIM_STOP_SIGNAL (SIGRTMAX - 1)

/* Slots are static, not arena memory: a thread that answers after the
 * timeout must still write somewhere that stays mapped. */
#define SHIM_MAX_STOPPED 4096
static struct shim_stopped shim_slots[SHIM_MAX_STOPPED];
/* The thread list and the directory buffer are static too: a snapshot
 * may run on a thread whose whole stack is 16 KiB (exit() called from a
 * thread made with PTHREAD_STACK_MIN). Only one world stop runs at a time
 * (the snapshot lock). */
static uint32_t shim_tids[SHIM_MAX_STOPPED];
static char shim_dents[4096];
static struct shim_world *_Atomic shim_stopping;
static _Atomic int shim_stop_active;
static _Atomic uint32_t shim_release_gen;

uint32_t shim_gettid(void)
{
	struct shim_thread *t = &shim_tls;

	if (!t->tid)
		t->tid = (uint32_t)syscall(SYS_gettid);
	return t->tid;
}

/* The callee-saved registers and the stack pointer; with them and the
 * stack from sp up, what the caller can reach is covered. */
__attribute__((noinline)) void shim_capture_regs(struct shim_regs *r, uintptr_t *sp)
{
	uintptr_t v[7];

	__asm__ volatile("movq %%rbx, 0(%0)\n\t"
			 "movq %%rbp, 8(%0)\n\t"
			 "movq %%r12, 16(%0)\n\t"
			 "movq %%r13, 24(%0)\n\t"
			 "movq %%r14, 32(%0)\n\t"
			 "movq %%r15, 40(%0)\n\t"
			 "movq %%rsp, 48(%0)\n\t"
			 : : "r"(v) : "memory");
	memcpy(r->word, v, 6 * sizeof(uintptr_t));
	r->n = 6;
	*sp = v[6];
}

void shim_regs_add_slice(struct shim_regs *r, uintptr_t lo, uintptr_t hi)
{
	const uintptr_t *w = (const uintptr_t *)lo;

	for (; (uintptr_t)w + sizeof(*w) <= hi && r->n < HC_ARRAY_SIZE(r->word); w++)
		r->word[r->n++] = *w;
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake_all(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/* What the program had installed for our signal, to pass on what is not
 * ours. */
static struct sigaction shim_prev_action;
static bool shim_handler_installed;

static void chain_to_program(int sig, siginfo_t *si, void *ucv)
{
	if (shim_prev_action.sa_flags & SA_SIGINFO) {
		if (shim_prev_action.sa_sigaction)
			shim_prev_action.sa_sigaction(sig, si, ucv);
	} else if (shim_prev_action.sa_handler != SIG_DFL &&
		   shim_prev_action.sa_handler != SIG_IGN) {
		shim_prev_action.sa_handler(sig);
	}
}

static void stop_handler(int sig, siginfo_t *si, void *ucv)
{
	int saved_errno = errno;
	struct shim_world *w = atomic_load(&shim_stopping);
	ucontext_t *uc = ucv;
	uint32_t tid, gen;
	unsigned i;

	if (si->si_code != SI_TKILL || (uint32_t)si->si_pid != shim_g.pid) {
		chain_to_program(sig, si, ucv);
		goto out;
	}
	/* Ours, but late (the snapshot gave up waiting) or stale: ignore. */
	if (!atomic_load(&shim_stop_active) || !w)
		goto out;
	tid = (uint32_t)syscall(SYS_gettid);
	for (i = 0; i < w->nthreads; i++)
		if (w->threads[i].tid == tid)
			break;
	if (i == w->nthreads)
		goto out;
	{
		struct shim_stopped *s = &w->threads[i];
		unsigned r;

		gen = atomic_load(&shim_release_gen);
		if (!atomic_load(&shim_stop_active))
			goto out;	/* the snapshot gave up on us already */
		s->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
		s->tp = (uintptr_t)__builtin_thread_pointer();
		for (r = 0; r < NGREG && r < HC_ARRAY_SIZE(s->regs.word); r++)
			s->regs.word[r] = (uintptr_t)uc->uc_mcontext.gregs[r];
		s->regs.n = r;
		atomic_store(&s->acked, 1);
		while (atomic_load(&shim_release_gen) == gen)
			futex_wait(&shim_release_gen, gen);
		atomic_store(&s->acked, 2);
	}
out:
	errno = saved_errno;
}

void shim_thread_init(void)
{
	shim_gettid();
}

/* Lists the process's threads with raw getdents64: no allocation. */
static int list_tasks(uint32_t *tids, unsigned cap, unsigned *n)
{
	char *buf = shim_dents;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/task",
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long got;

	*n = 0;
	if (fd < 0)
		return -1;
	while ((got = syscall(SYS_getdents64, fd, buf, sizeof(shim_dents))) > 0) {
		long off = 0;

		while (off < got) {
			struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (void *)(buf + off);
			uint32_t tid = 0;
			const char *c = d->name;

			off += d->reclen;
			if (*c < '0' || *c > '9')
				continue;
			while (*c >= '0' && *c <= '9')
				tid = tid * 10 + (uint32_t)(*c++ - '0');
			if (*n < cap)
				tids[(*n)++] = tid;
		}
	}
	syscall(SYS_close, fd);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One step of waiting for other threads: yield while the wait is young
 * (a stopping thread answers in microseconds), then sleep, so that a
 * thread that never answers costs the timeout in sleep, not in CPU. */
static void wait_step(unsigned *steps)
{
	struct timespec ts = { 0, 200000 };

	if ((*steps)++ < 1000)
		syscall(SYS_sched_yield);
	else
		syscall(SYS_nanosleep, &ts, NULL);
}

/* For a thread that never answered (it blocks our signal): the kernel
 * shows the stack pointer of a thread blocked in a system call. */
static uintptr_t blocked_thread_sp(uint32_t tid)
{
	char path[64] = "/proc/self/task/", buf[256];
	size_t n = strlen(path);
	long got;
	int fd;
	char *p, *last = NULL, *prev = NULL;
	uintptr_t sp = 0;

	n += shim_fmt_u64(path + n, tid, 10);
	memcpy(path + n, "/syscall", 9);
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	got = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	if (got <= 0)
		return 0;
	buf[got] = 0;
	/* "nr a1 .. a6 sp pc": the stack pointer is the next-to-last field. */
	for (p = buf; *p; p++)
		if (*p == ' ') {
			prev = last;
			last = p + 1;
		}
	if (!prev || prev[0] != '0' || prev[1] != 'x')
		return 0;
	for (p = prev + 2; *p && *p != ' '; p++) {
		int d = hc_hex_digit(*p);

		if (d < 0)
			return 0;
		sp = sp << 4 | (uintptr_t)d;
	}
	return sp;
}

int shim_world_stop(struct shim_world *w, struct hc_arena *arena)
{
	uint32_t self = (uint32_t)syscall(SYS_gettid);
	uint32_t *tids = shim_tids;
	unsigned n, i, round, steps = 0;
	struct sigaction sa;
	uint64_t deadline;

	memset(w, 0, sizeof(*w));
	if (list_tasks(tids, HC_ARRAY_SIZE(shim_tids), &n) < 0)
		n = 0;
	(void)arena;
	w->cap = SHIM_MAX_STOPPED;
	w->threads = shim_slots;
	/* Installed once and kept: a thread that blocked the signal may take
	 * it long after this snapshot, and the default action would kill. */
	if (!shim_handler_installed) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = stop_handler;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigfillset(&sa.sa_mask);
		sigaction(SHIM_STOP_SIGNAL, &sa, &shim_prev_action);
		shim_handler_installed = true;
	}
	atomic_store(&shim_stopping, w);
	atomic_store(&shim_stop_active, 1);
	/* One timeout for the whole stop: a thread that blocks our signal
	 * must not be waited for again in each round. */
	deadline = now_ms() + (uint64_t)shim_g.opts.stop_timeout_ms;
	/* Threads started while we signal the others would escape; list
	 * again until a round finds none. */
	for (round = 0; round < 4; round++) {
		unsigned added = 0;

		if (round > 0 && list_tasks(tids, HC_ARRAY_SIZE(shim_tids), &n) < 0)
			break;
		for (i = 0; i < n; i++) {
			unsigned j;

			/* Our snapshot thread blocks every signal and holds nothing
			 * of the program's: it is not stopped. */
			if (tids[i] == self || tids[i] == atomic_load(&shim_g.helper_tid))
				continue;
			for (j = 0; j < w->nthreads; j++)
				if (w->threads[j].tid == tids[i])
					break;
			if (j < w->nthreads)
				continue;
			if (w->nthreads == w->cap) {
				w->incomplete = true;
				break;
			}
			w->threads[w->nthreads].tid = tids[i];
			atomic_store(&w->threads[w->nthreads].acked, 0);
			w->nthreads++;
			if (syscall(SYS_tgkill, shim_g.pid, tids[i], SHIM_STOP_SIGNAL) != 0) {
				/* It exited in between: nothing to scan. */
				w->threads[w->nthreads - 1].tid = 0;
				atomic_store(&w->threads[w->nthreads - 1].acked, 3);
				continue;
			}
			added++;
		}
		for (;;) {
			unsigned waiting = 0;

			for (i = 0; i < w->nthreads; i++)
				waiting += atomic_load(&w->threads[i].acked) == 0;
			if (!waiting || now_ms() >= deadline)
				break;
			wait_step(&steps);
		}
		if (!added)
			break;
	}
	for (i = 0; i < w->nthreads; i++) {
		struct shim_stopped *s = &w->threads[i];

		if (atomic_load(&s->acked) == 0) {
			s->sp = blocked_thread_sp(s->tid);
			s->regs.n = 0;
			w->incomplete = true;
		}
	}
	return HC_OK;
}

void shim_world_resume(struct shim_world *w)
{
	uint64_t deadline;
	unsigned i, steps = 0;

	atomic_store(&shim_stop_active, 0);
	atomic_fetch_add(&shim_release_gen, 1);
	futex_wake_all(&shim_release_gen);
	/* The handlers write to w->threads until they leave: keep it alive
	 * until each is out (or never came). */
	deadline = now_ms() + 1000;
	for (;;) {
		unsigned inside = 0;

		for (i = 0; i < w->nthreads; i++)
			inside += atomic_load(&w->threads[i].acked) == 1;
		if (!inside || now_ms() >= deadline)
			break;
		wait_step(&steps);
	}
}
