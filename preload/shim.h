/* SPDX-License-Identifier: MIT */
/*
 * State shared by the files of the shim, libheapcycle.so. The shim is
 * entry points and bookkeeping only: every decision that can be made
 * without a live process is made in src/, where it is unit-tested.
 *
 * Lock order (fork's prepare handler and the snapshot take them in this
 * order, never another): shim_snapshot_lock, then shim_mmap_lock, then the
 * block table's shards in shard order. jemalloc's own locks come after ours
 * (its prefork handler is registered before ours, so it runs after ours).
 */
#ifndef HC_PRELOAD_SHIM_H
#define HC_PRELOAD_SHIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blocktable.h"
#include "options.h"
#include "snapshot.h"
#include "stackdepot.h"

#define SHIM_TLS __attribute__((tls_model("initial-exec")))

/* One per thread, in static TLS so that reaching it never allocates. */
struct shim_thread {
	int depth;		/* > 0 while this thread runs shim code */
	int in_table;		/* > 0 while it holds a block table shard lock */
	uint32_t tid;
};

extern __thread struct shim_thread shim_tls SHIM_TLS;

enum shim_state {
	SHIM_UNINIT = 0,
	SHIM_INITIALIZING = 1,
	SHIM_READY = 2,
	SHIM_DISABLED = 3,	/* init failed: forward allocations, record nothing */
};

/* Registers of a thread at a known point, scanned as roots. */
struct shim_regs {
	uintptr_t word[96];
	unsigned n;
};

struct shim_global {
	_Atomic int state;
	uint32_t pid;			/* getpid() as of init or the last fork */
	unsigned arena;			/* private jemalloc arena for metadata */
	struct hc_blocktable *table;
	struct hc_stackdepot *depot;
	struct hc_options opts;
	char output[HC_OPTION_STRING_MAX]; /* absolute pattern */
	_Atomic uint64_t seq;
	_Atomic int degraded;		/* bookkeeping ran out of memory */
	_Atomic uint64_t invalid_frees;
	_Atomic uint64_t mismatched_frees;
	_Atomic int exit_snapshot_done;	/* per process (reset by fork) */
	uintptr_t self_start, self_end;	/* the shim's own text, for stack trimming */
	uintptr_t loader_start, loader_end; /* ld.so's text: its blocks are roots */
	size_t static_tls_size;		/* from ld.so, 0 when unknown */
	/* exit()/_exit() from some thread: its registers and stack pointer */
	_Atomic uint32_t helper_tid;	/* our snapshot thread: never stopped */
	_Atomic uint32_t exit_tid;
	uintptr_t exit_sp;
	struct shim_regs exit_regs;
};

extern struct shim_global shim_g;
extern pthread_mutex_t shim_snapshot_lock;	/* recursive */
extern pthread_mutex_t shim_mmap_lock;

/* shim_alloc.c */
/* Brings the shim up on first use; returns true when it is ready. */
bool shim_ensure_init(void);
/* Records a new block (p may be NULL: then nothing). Never fails: on OOM
 * the shim is marked degraded. */
void shim_record_alloc(void *p, size_t size, enum hc_alloc_kind kind, uintptr_t caller);
/* Forgets p; returns false (and reports) when heapcycle never returned p,
 * in which case the caller must not hand p to jemalloc. */
bool shim_record_free(void *p, enum hc_alloc_kind kind, const char *what);
/* caller: the return address of the program's call, to tell the dynamic
 * loader's own allocations from the program's. */
void *shim_alloc(size_t size, size_t align, int zero, enum hc_alloc_kind kind,
		 uintptr_t caller);
#define SHIM_CALLER ((uintptr_t)__builtin_return_address(0))
void shim_free(void *p, enum hc_alloc_kind kind, const char *what);
/* Writes a line to stderr (unless quiet) with write(2). AS-Safe. */
void shim_say(const char *msg, uintptr_t value);

/* shim_thread.c */
static inline struct shim_thread *shim_enter(void)
{
	struct shim_thread *t = &shim_tls;

	t->depth++;
	return t;
}

static inline void shim_leave(struct shim_thread *t)
{
	t->depth--;
}

uint32_t shim_gettid(void);

/* Stopped thread, as seen by the snapshot. */
struct shim_stopped {
	uint32_t tid;
	_Atomic int acked;
	uintptr_t sp;
	uintptr_t tp;		/* thread pointer (struct pthread) */
	struct shim_regs regs;
};

struct shim_world {
	struct shim_stopped *threads;
	unsigned nthreads;
	unsigned cap;
	bool incomplete;	/* a thread did not stop in time */
};

/* Stops every other thread of the process (a signal, then a futex wait
 * in its handler). Allocates only from arena. Returns HC_OK or HC_ERR_NOMEM. */
struct hc_arena;
int shim_world_stop(struct shim_world *w, struct hc_arena *arena);
void shim_world_resume(struct shim_world *w);
/* Captures the caller's callee-saved registers and stack pointer. */
void shim_capture_regs(struct shim_regs *r, uintptr_t *sp);
/* Appends the words of [lo, hi) to r, as many as fit. */
void shim_regs_add_slice(struct shim_regs *r, uintptr_t lo, uintptr_t hi);

/*
 * In an entry point of the shim: the registers of its caller and the
 * caller's stack pointer at the call. The entry point's own frame (where
 * its prologue may have saved the caller's registers) is copied into regs,
 * because the snapshot's frames will overwrite it; scanning the stack starts
 * above it, where only the caller's live frames are.
 */
#define SHIM_CAPTURE_CALLER(regs, sp_out)                                     \
	do {                                                                  \
		uintptr_t inner_;                                             \
		shim_capture_regs((regs), &inner_);                           \
		*(sp_out) = (uintptr_t)__builtin_frame_address(0) + 16;       \
		shim_regs_add_slice((regs), inner_, *(sp_out));               \
	} while (0)
void shim_thread_init(void);

/* shim_periodic.c: starts the snapshot thread when snapshot_signal or
 * snapshot_interval is set. Called once, from the constructor. */
void shim_periodic_init(void);

/* shim_fork.c */
void shim_fork_init(void);

/* shim_mmap.c */
struct shim_range {
	uintptr_t lo, hi;
};
/* Copies the program's anonymous writable mappings; caller holds
 * shim_mmap_lock. Returns the count, at most cap. */
unsigned shim_mmap_regions_locked(struct shim_range *out, unsigned cap);
unsigned shim_mmap_region_count_locked(void);

/* shim_snapshot.c */
/* Takes a snapshot now and writes it to path (NULL: the output pattern).
 * regs/sp: the caller's registers at the API or exit call (sp 0: the
 * calling thread's stack is not a root, e.g. after main returned).
 * Returns 0 or -1 with errno set. */
int shim_snapshot_take(enum hc_snap_reason reason, const char *path,
		       const struct shim_regs *regs, uintptr_t sp);
/* Remembers loaded modules before a dlclose, so their frames stay
 * symbolizable. Caller holds shim_snapshot_lock. */
void shim_modules_remember_locked(void);

/* shim_out.c */
/* Opens the snapshot file for pattern (%p -> pid) with O_EXCL|O_NOFOLLOW,
 * 0600, trying PATH.1 ... PATH.99 when PATH exists. Returns an fd or -1. */
int shim_out_open(const char *pattern, char *path_out, size_t len);
/* Formats n in decimal/hex into buf; returns the length. AS-Safe. */
size_t shim_fmt_u64(char *buf, uint64_t n, unsigned base);

/* Resolved at init with dlsym(RTLD_NEXT): the functions we wrap that we
 * must still call. */
extern void (*shim_real_exit)(int) __attribute__((noreturn));
extern int (*shim_real_dlclose)(void *);

#endif
