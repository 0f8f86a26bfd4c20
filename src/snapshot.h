/* SPDX-License-Identifier: MIT */
/*
 * The snapshot: everything heapcycle knows about one process at one moment,
 * in memory (struct hc_snapshot) and on disk (man/heapcycle-snapshot.5 is the
 * format's specification). The shim fills a struct and writes it; the tools
 * read it back. Writing never allocates; reading validates everything and
 * fails with HC_ERR_FORMAT or HC_ERR_VERSION, never with a crash.
 */
#ifndef HC_SRC_SNAPSHOT_H
#define HC_SRC_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "hc.h"

#define HC_SNAPSHOT_MAGIC "HCYCSNAP"	/* 8 bytes, no NUL on disk */
#define HC_SNAPSHOT_VERSION 1u

/* Limits the reader enforces before it allocates anything. */
#define HC_SNAPSHOT_MAX_STRING (64u * 1024u)
#define HC_SNAPSHOT_MAX_BUILD_ID 64u
#define HC_SNAPSHOT_MAX_FRAMES 256u
#define HC_SNAPSHOT_MAX_REF_EVENTS 1024u	/* recorded calls kept per object */

/* snapshot.flags */
enum {
	HC_SNAP_DEGRADED = 1u << 0,	  /* the shim ran out of memory: blocks may be missing */
	HC_SNAP_ROOTS_INCOMPLETE = 1u << 1, /* a thread could not be stopped, or a root range was unreadable */
	HC_SNAP_STACKS_OFF = 1u << 2,	  /* recorded without allocation stacks */
};

/* snapshot.reason: why the snapshot was taken */
enum hc_snap_reason {
	HC_REASON_EXIT = 1,		/* exit(), return from main, exit from any thread */
	HC_REASON_UNDERSCORE_EXIT = 2,	/* _exit()/_Exit(): no atexit handlers ran */
	HC_REASON_API = 3,		/* heapcycle_snapshot() */
	HC_REASON_SIGNAL = 4,		/* the snapshot_signal option's signal arrived */
	HC_REASON_INTERVAL = 5,		/* every snapshot_interval seconds */
	HC_REASON_EXEC = 6,		/* just before a successful-looking exec */
};

/* block.flags (bit 0 is unused: mismatched deallocations go to BADFREES) */
enum {
	HC_BLOCK_LOADER = 1u << 1,	/* allocated by the dynamic loader: a root */
	HC_BLOCK_TRACKED = 1u << 2,	/* tracked with heapcycle_track() */
};

/* module.flags */
enum {
	HC_MODULE_UNLOADED = 1u << 0,	/* dlclose'd before the snapshot */
	HC_MODULE_MAIN = 1u << 1,	/* the executable */
};

struct hc_module {
	uint64_t bias;		/* load bias (dlpi_addr) */
	uint64_t start, end;	/* [start, end) covered by its PT_LOAD segments */
	uint32_t flags;
	uint32_t build_id_len;	/* 0 when the module has none */
	uint8_t build_id[HC_SNAPSHOT_MAX_BUILD_ID];
	const char *path;	/* absolute when known; "" for the vdso etc. */
};

struct hc_stack {
	uint32_t nframes;
	const uint64_t *frames;	/* return addresses, innermost first */
};

struct hc_block {
	uint64_t addr;
	uint64_t size;		/* requested size */
	uint64_t seq;		/* birth sequence */
	uint32_t stack;		/* index into stacks[]; 0 = none */
	uint32_t tid;
	uint32_t root_refs;	/* words in roots pointing at addr exactly */
	uint32_t root_interior_refs; /* words in roots pointing inside it */
	uint8_t kind;		/* enum hc_alloc_kind (blocktable.h) */
	uint8_t root_kind;	/* enum hc_root_kind of the first root ref, 0 if none */
	uint16_t flags;
};

/* An ownership edge: a word at blocks[from].addr + from_offset points at
 * blocks[to].addr + to_offset (to_offset 0: a start pointer). */
struct hc_edge {
	uint32_t from, to;
	uint64_t from_offset;
	uint64_t to_offset;
};

/* Kinds of root, for "still reachable from a global / a thread's stack". */
enum hc_root_kind {
	HC_ROOT_NONE = 0,
	HC_ROOT_DATA = 1,	/* writable segment of a loaded object */
	HC_ROOT_STACK = 2,	/* a thread's stack, from its stack pointer up */
	HC_ROOT_REGISTERS = 3,
	HC_ROOT_TLS = 4,
	HC_ROOT_MMAP = 5,	/* anonymous mapping the program made */
	HC_ROOT_KIND_COUNT
};

#define HC_NO_TYPE UINT32_MAX

/* An object the program tracks with heapcycle_track(). */
struct hc_tracked {
	uint64_t block;		/* index into blocks */
	uint64_t refcount;	/* its count when the snapshot was taken */
	uint32_t type;		/* index into types, or HC_NO_TYPE */
	uint32_t generation;	/* 0, 1 or 2 */
};

/* gc_member.flags */
enum {
	HC_GC_MEMBER_IN_CYCLE = 1u << 0,
};

/* One object a collection found unreachable, as it was then. */
struct hc_gc_member {
	uint64_t addr;
	uint64_t size;
	uint32_t stack;		/* index into stacks */
	uint32_t type;		/* index into types, or HC_NO_TYPE */
	uint32_t cycle;		/* its component among the event's members */
	uint32_t flags;
};

/* A collection, while the program ran, that found garbage. */
struct hc_gc_event {
	uint64_t time_ns;	/* CLOCK_REALTIME */
	uint32_t generation;	/* the oldest generation collected */
	uint32_t nmembers;
	const struct hc_gc_member *members;
};

/* The first two words of a block whose first word points into a loaded
 * module: a C++ vtable pointer, most likely, from which the tool names the
 * block's class (and reads a shared_ptr control block's counts). */
struct hc_typehint {
	uint64_t block;		/* index into blocks */
	uint64_t word[2];
};

/* What was wrong with a deallocation heapcycle refused or reported. */
enum hc_bad_free_kind {
	HC_BAD_FREE_UNKNOWN = 0,	/* a pointer heapcycle never returned */
	HC_BAD_FREE_DOUBLE = 1,		/* a block already freed (recently) */
	HC_BAD_FREE_MISMATCH = 2,	/* e.g. new[] released with free() */
	HC_BAD_FREE_KIND_COUNT
};

/* The deallocating call. */
enum hc_free_op {
	HC_FREE_OP_FREE = 0,
	HC_FREE_OP_DELETE = 1,
	HC_FREE_OP_DELETE_ARRAY = 2,
	HC_FREE_OP_REALLOC = 3,
	HC_FREE_OP_COUNT
};

/* Bad deallocations with the same stacks and kind are counted once. */
struct hc_bad_free {
	uint64_t addr;		/* the first one's address */
	uint64_t size;		/* the block's size when known, else 0 */
	uint32_t alloc_stack;	/* where the block was allocated; 0: unknown */
	uint32_t free_stack;	/* the bad call */
	uint8_t kind;		/* enum hc_bad_free_kind */
	uint8_t alloc_kind;	/* enum hc_alloc_kind, when known */
	uint8_t op;		/* enum hc_free_op */
	uint32_t count;
};

/* The reference-counting call a ref event records (GObject's). */
enum hc_ref_kind {
	HC_REF_REF = 0,		/* g_object_ref */
	HC_REF_UNREF = 1,	/* g_object_unref */
	HC_REF_SINK = 2,	/* g_object_ref_sink */
	HC_REF_TAKE = 3,	/* g_object_take_ref */
	HC_REF_KIND_COUNT
};

/* ref_event.flags */
enum {
	/* The object was floating: a ref_sink or take_ref took over its
	 * floating reference instead of adding one (the count did not move). */
	HC_REF_FLOATING = 1u << 0,
};

/* One g_object_ref/unref call the shim saw (made from outside libgobject). */
struct hc_ref_event {
	uint64_t seq;		/* process-wide order of the calls */
	uint32_t stack;		/* index into stacks: the call's stack */
	uint32_t tid;
	uint32_t count;		/* the object's count before the call */
	uint8_t kind;		/* enum hc_ref_kind */
	uint8_t flags;		/* HC_REF_FLOATING */
};

#define HC_REF_COUNT_UNKNOWN UINT32_MAX

/*
 * The calls recorded for one object that is (or lies inside) a live block.
 * The shim keeps an object's first calls and its latest ones: events[0..gap)
 * came before the calls it dropped, events[gap..nevents) after them.
 */
struct hc_ref_history {
	uint64_t block;		/* index into blocks */
	uint64_t offset;	/* the object's address - the block's */
	uint32_t count;		/* its count at the snapshot, or HC_REF_COUNT_UNKNOWN */
	uint32_t nevents;	/* 1 .. HC_SNAPSHOT_MAX_REF_EVENTS */
	uint32_t gap;		/* <= nevents */
	uint32_t dropped;	/* calls not kept, between events[gap - 1] and events[gap] */
	uint32_t dropped_refs;	/* of those, calls that took a reference */
	uint32_t dropped_unrefs; /* of those, g_object_unref calls */
	const struct hc_ref_event *events;	/* oldest first */
};

struct hc_snapshot {
	uint32_t version;
	uint32_t flags;
	uint32_t pid, ppid;
	uint32_t reason;	/* enum hc_snap_reason */
	uint32_t nthreads;	/* threads whose roots were scanned */
	uint64_t time_ns;	/* CLOCK_REALTIME when taken */
	uint64_t metadata_bytes; /* the shim's own memory: table + depot */
	const char *exe;	/* path of the executable */
	const char *cmdline;	/* argv joined with spaces, may be truncated */

	uint32_t nmodules;
	const struct hc_module *modules;
	uint32_t nstacks;	/* including the empty stack 0 */
	const struct hc_stack *stacks;
	uint64_t nblocks;
	const struct hc_block *blocks;	/* sorted by addr, non-overlapping */
	uint64_t nedges;
	const struct hc_edge *edges;	/* sorted by (from, from_offset) */

	/* Optional: objects tracked through <heapcycle.h>, and collections. */
	uint32_t ntypes;
	const char *const *types;
	uint64_t ntracked;
	const struct hc_tracked *tracked;	/* sorted by block, unique */
	uint32_t nevents;
	const struct hc_gc_event *events;	/* oldest first */
	/* Optional: type hints, sorted by block, unique. */
	uint64_t ntypehints;
	const struct hc_typehint *typehints;
	/* Optional: deallocations heapcycle refused (never given out, freed
	 * twice) or found mismatched. */
	uint32_t nbadfrees;
	const struct hc_bad_free *badfrees;
	/* Optional: g_object_ref/unref calls of objects in live blocks. */
	uint64_t ref_lost;	/* calls whose record the shim had no room for,
				 * or discarded (see man/heapcycle-snapshot.5) */
	uint32_t nrefhists;
	const struct hc_ref_history *refhists;	/* sorted by block, unique */
};

/*
 * Writes s to fd (the caller opened it). Does not allocate, uses only
 * write(2) (retrying on EINTR), so the shim can call it with the world
 * stopped. Returns HC_OK or HC_ERR_IO (errno set). AS-Safe.
 */
int hc_snapshot_write_fd(int fd, const struct hc_snapshot *s);

/* The same with the caller's buffer of HC_SNAPSHOT_WRITE_BUF bytes:
 * hc_snapshot_write_fd keeps it on the stack, which a thread made with
 * PTHREAD_STACK_MIN does not have to spare. 16 KiB: a gigabyte snapshot
 * takes tens of thousands of writes, not millions. */
#define HC_SNAPSHOT_WRITE_BUF 16384u
int hc_snapshot_write_fd_buf(int fd, const struct hc_snapshot *s, void *buf);

/*
 * Reads and validates a snapshot file. On success *out owns all its memory
 * (release with hc_snapshot_free). On failure returns HC_ERR_IO,
 * HC_ERR_FORMAT, HC_ERR_VERSION or HC_ERR_NOMEM with err filled in (offset
 * and part of the file) and *out = NULL. Never trusts a count before it
 * has checked it against the file size.
 */
int hc_snapshot_read_file(const char *path, struct hc_snapshot **out,
			  struct hc_error *err);
/* Same, from a buffer (the file's contents); does not keep buf. */
int hc_snapshot_read_mem(const void *buf, size_t len, struct hc_snapshot **out,
			 struct hc_error *err);
void hc_snapshot_free(struct hc_snapshot *s);

/* Returns the index of the module containing pc, or -1. Cannot fail. */
int hc_snapshot_module_of(const struct hc_snapshot *s, uint64_t pc);

#endif
