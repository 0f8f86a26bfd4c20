/* SPDX-License-Identifier: MIT */
/*
 * State shared by the files of the shim, libheapcycle.so. The shim is
 * entry points and bookkeeping only: every decision that can be made
 * without a live process is made in src/, where it is unit-tested.
 *
 * Lock order (fork's prepare handler and the snapshot take them in this
 * order, never another): the gc lock (shim_refcount.c), shim_snapshot_lock,
 * shim_mmap_lock, the young sets' quiescence (shim_young.c), then the block
 * table's shards in shard order. jemalloc's own locks come after ours
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
struct shim_young;
struct shim_thread {
	int depth;		/* > 0 while this thread runs shim code */
	int in_table;		/* > 0 while it is inside the block records: a
				 * shard lock, its young set or a quiescence */
	uint32_t tid;
	uint64_t seq_next, seq_end;	/* this thread's batch of birth numbers */
	struct shim_young *young;	/* its young blocks (shim_young.c) */
	/* Copies of young->set's slots and bucket mask, so that a lookup's
	 * loads do not wait on a chain of pointers; set with young. */
	struct hc_slot *young_slots;
	uint32_t young_bmask;
	bool young_off;		/* no young set: exiting, or none to be had */
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
	unsigned reentry_arena;		/* for allocations made inside the shim or
					 * by a signal handler that interrupted it */
	struct hc_blocktable *table;
	struct hc_stackdepot *depot;
	struct hc_options opts;
	char output[HC_OPTION_STRING_MAX]; /* absolute pattern */
	/* Birth numbers are handed to threads in batches: one shared counter
	 * bumped on every allocation would bounce its cache line between
	 * cores. On a line of its own for the same reason. */
	_Atomic uint64_t seq __attribute__((aligned(64)));
	char seq_pad[56];
	_Atomic int degraded;		/* bookkeeping ran out of memory */
	_Atomic int exit_snapshot_done;	/* per process (reset by fork) */
	uintptr_t self_start, self_end;	/* the shim's own text, for stack trimming */
	uintptr_t loader_start, loader_end; /* ld.so's text: its blocks are roots */
	/* Text of the libraries the shim drives (jemalloc, libunwind): an
	 * mmap called from there is never a program root. */
	struct { uintptr_t lo, hi; } helper_text[8];
	unsigned nhelper_text;
	size_t static_tls_size;		/* from ld.so, 0 when unknown */
	/* exit()/_exit() from some thread: its registers and stack pointer */
	_Atomic uint32_t helper_tid;	/* our snapshot thread: never stopped */
	_Atomic uint32_t exit_tid;
	uintptr_t exit_sp;
	struct shim_regs exit_regs;
};

extern struct shim_global shim_g;

/* Whether a is in the text of jemalloc or libunwind. AS-Safe. */
static inline bool shim_in_helper_text(uintptr_t a)
{
	unsigned i;

	for (i = 0; i < shim_g.nhelper_text; i++)
		if (a >= shim_g.helper_text[i].lo && a < shim_g.helper_text[i].hi)
			return true;
	return false;
}
extern pthread_mutex_t shim_snapshot_lock;	/* recursive */
extern pthread_mutex_t shim_mmap_lock;

/* shim_alloc.c */
/* Brings the shim up on first use; returns true when it is ready. */
bool shim_ensure_init(void);
/* A block flag of the shim's own, never written to a snapshot: the block
 * must go back through dallocx, because its requested size does not tell
 * jemalloc its size class (allocated with an alignment, or resized in
 * place: a large block shrunk below 4 KiB is still a large one). */
#define SHIM_BLOCK_UNSIZED 0x80u
/* Sets and clears flag bits of p's record wherever it is kept (this
 * thread's young blocks, the shared table, another thread's young blocks),
 * copying it to *rec (may be NULL). Returns true if p is a recorded block.
 * Caller: t->in_table == 0. */
bool shim_blocks_update_flags(struct shim_thread *t, uintptr_t p, uint8_t set, uint8_t clear,
			      struct hc_block_rec *rec);
/* Copies the bad deallocations seen so far (at most cap). */
uint32_t shim_badfrees_copy(struct hc_bad_free *out, uint32_t cap);
/* caller: the return address of the program's call, to tell the dynamic
 * loader's own allocations from the program's. */
void *shim_alloc(size_t size, size_t align, int zero, enum hc_alloc_kind kind,
		 uintptr_t caller, uintptr_t caller_sp);
/* In an exported entry point: the return address into the program, and
 * the program's stack pointer at the call (the entry point gets a frame
 * pointer for it). */
#define SHIM_CALLER ((uintptr_t)__builtin_return_address(0))
#define SHIM_CALLER_SP ((uintptr_t)__builtin_frame_address(0) + 16)
#define SHIM_CALL_SITE SHIM_CALLER, SHIM_CALLER_SP

/* shim_stack.c: the allocation stack of a call from pc1 with the caller's
 * stack pointer cfa0 (0: unknown), as a depot id. */
uint32_t shim_stack_capture(uintptr_t pc1, uintptr_t cfa0);
void shim_stack_init(void);
void shim_free(void *p, enum hc_alloc_kind kind, enum hc_free_op op, uintptr_t caller,
	       uintptr_t caller_sp);
/* Writes a line to stderr (unless quiet) with write(2). AS-Safe. */
void shim_say(const char *msg, uintptr_t value);
/* "heapcycle: WHAT PATH: REASON" for a failed file operation. */
void shim_say_file(const char *what, const char *path, int err);

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

/* shim_refcount.c: what collections found, for the exit snapshot. */
struct shim_gc_event_member {
	uintptr_t addr;
	uint64_t size;
	const char *type;	/* the registry's copy, valid for the process */
	uint32_t stack;
	uint32_t cycle;		/* component index within the event */
	bool in_cycle;
};

struct shim_gc_event {
	struct shim_gc_event *next;	/* older */
	uint64_t time_ns;
	uint32_t generation;
	size_t nmembers;
	struct shim_gc_event_member member[];
};

extern struct shim_gc_event *shim_gc_events;
/* Untracks an object the program freed (its block had HC_BLOCK_TRACKED). */
void shim_gc_forget(void *obj);
/* Adds the tracked objects, their type names and the collections' log to
 * snap, whose blocks are sorted; memory from arena. Takes the gc lock
 * (first in the lock order, so callers must not hold shim_snapshot_lock
 * unless they took the gc lock before it). Returns 0 or -1 (out of
 * memory: the snapshot is written without them). */
struct hc_arena;
struct shim_gobject_table;
/* gobj (may be NULL or empty): the GObject classes shim_gobject_classes
 * found before the capture; blocks that are instances of them are added
 * as tracked objects (generation 2), unless heapcycle_track() tracks them. */
int shim_gc_fill(struct hc_snapshot *snap, struct hc_arena *arena,
		 const struct shim_gobject_table *gobj);
void shim_gc_lock(void);

/* shim_gobject.c: the GObject classes GLib has initialised. */
struct shim_gobject_class {
	uintptr_t klass;	/* the GTypeClass an instance's first word points at */
	const char *name;	/* the GType's name, in the arena */
};
struct shim_gobject_table {
	struct shim_gobject_class *v;	/* sorted by klass */
	size_t n;
};
/* Fills tab with every initialised class derived from G_TYPE_OBJECT, when
 * libgobject-2.0 is loaded (empty otherwise); memory from arena. Calls
 * GLib, which takes its type lock: call it with none of the shim's locks
 * held, never with the world stopped, never from a signal handler.
 * Returns 0, or -1 (out of memory: tab is left empty). MT-Safe, AS-Unsafe. */
int shim_gobject_classes(struct shim_gobject_table *tab, struct hc_arena *arena);
/* The type name of the class at klass, or NULL if tab does not hold it.
 * Cannot fail. MT-Safe, AS-Safe. */
const char *shim_gobject_class_name(const struct shim_gobject_table *tab, uintptr_t klass);
/* Reads the count of the GObject at addr, if its first word still is
 * klass, without trusting that addr is still mapped (process_vm_readv).
 * Returns false when it is not readable or no longer that instance.
 * MT-Safe, AS-Safe. */
bool shim_gobject_read_count(uintptr_t addr, uintptr_t klass, uint64_t *count);
void shim_gc_unlock(void);
/* The gc lock comes first in the lock order (before shim_snapshot_lock). */
void shim_gc_lock_for_fork(void);
void shim_gc_unlock_after_fork(bool child);

/* shim_young.c: each thread's young blocks, kept without locks. */
void shim_young_init(void);
/* Whether young sets are in use (membarrier(2) is available). */
static inline bool shim_young_active(void)
{
	extern _Atomic int shim_young_enabled;

	return atomic_load_explicit(&shim_young_enabled, memory_order_relaxed);
}
/* shim_young_put and shim_young_take, the hot path: shim_young.h.
 * As they are, for a block's flags. */
bool shim_young_update_flags(struct shim_thread *t, uintptr_t addr, uint8_t set,
			     uint8_t clear, struct hc_block_rec *out);
/* Stops every thread from using its set and waits until none is inside
 * one; until shim_young_resume, every thread uses the shared table. */
void shim_young_quiesce(struct shim_thread *t);
void shim_young_resume(struct shim_thread *t);
/* Under quiescence: moves every young record to the shared table. wanted
 * (0: none) is the block a free is looking for: a thread whose young
 * blocks other threads keep freeing is told to stop keeping them. */
int shim_young_drain_all_quiesced(uintptr_t wanted);
bool shim_young_recently_freed_quiesced(uintptr_t addr, struct hc_block_rec *out);
/* Bytes the sets hold. MT-Safe (approximate). */
uint64_t shim_young_bytes(void);
/* fork's child handler, after a prepare handler that quiesced. */
void shim_young_after_fork_child(struct shim_thread *t);

/* shim_gref.c: g_object_ref/unref calls made from outside libgobject. */
/* Adds the recorded calls of the objects that are in snap's live blocks
 * (its REFS section): memory from arena. Call after the capture, with the
 * world running; takes the gref lock, the last in the lock order (no other
 * lock is ever taken while it is held). Cannot fail: out of memory, the
 * snapshot is marked degraded and written without them. */
void shim_gref_fill(struct hc_snapshot *snap, struct hc_arena *arena);

/* shim_periodic.c: starts the snapshot thread when snapshot_signal or
 * snapshot_interval is set. Called once, from the constructor. */
void shim_periodic_init(void);
/* In a fork child: a helper thread of its own. */
void shim_periodic_after_fork_child(void);

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
/* The file the last snapshot was written to, until the next one. Caller
 * holds shim_snapshot_lock across the take and this. */
const char *shim_snapshot_last_file(void);
/*
 * The collector's confirmation: captures the heap as a snapshot would and
 * sets keep[i] when objs[i] is reachable from the roots by any path.
 * regs/sp as for shim_snapshot_take. Returns 0 or -1 (out of memory).
 */
int shim_reachable_from_roots(void *const *objs, size_t n, bool *keep,
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
