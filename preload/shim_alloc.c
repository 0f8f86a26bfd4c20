/* SPDX-License-Identifier: MIT */
/*
 * The C allocation family: malloc and friends forward to jemalloc's
 * mallocx family and record each block (size, stack, birth, thread) in the
 * block table. Also the shim's start-up: its private jemalloc arena for
 * metadata, the table and the stack depot. Snapshots, threads and fork
 * live in their own files.
 *
 * Blocks the shim cannot record in the table (allocated while the shim was
 * starting, or by a signal handler that interrupted this thread inside the
 * table) go to a small lock-free registry instead, so that their free is
 * still recognised and a pointer heapcycle never returned is never handed
 * to jemalloc.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "shim_young.h"

/* Interposed names that glibc no longer declares. */
void cfree(void *p);
void *pvalloc(size_t size);

struct shim_global shim_g;
__thread struct shim_thread shim_tls SHIM_TLS;
static _Atomic int shim_unwind_ready;

/* ------------------------------------------------------------ metadata */

static int meta_flags(void)
{
	return MALLOCX_ARENA(shim_g.arena) | MALLOCX_TCACHE_NONE;
}

/* Bytes the shim holds for itself, for the metadata_limit_kb option. */
static _Atomic uint64_t shim_meta_bytes;

static bool meta_over_limit(size_t more)
{
	uint64_t limit = (uint64_t)shim_g.opts.metadata_limit_kb * 1024;

	return limit && atomic_load_explicit(&shim_meta_bytes, memory_order_relaxed) + more > limit;
}

static void *meta_alloc_flags(size_t n, int flags)
{
	void *p;

	if (meta_over_limit(n))
		return NULL;
	p = mallocx(n ? n : 1, meta_flags() | flags);
	if (p)
		atomic_fetch_add_explicit(&shim_meta_bytes, sallocx(p, 0), memory_order_relaxed);
	return p;
}

static void *meta_alloc(size_t n)
{
	return meta_alloc_flags(n, 0);
}

/* jemalloc zeroes only what is not fresh from the kernel. */
static void *meta_alloc_zeroed(size_t n)
{
	return meta_alloc_flags(n, MALLOCX_ZERO);
}

static void meta_free(void *p)
{
	if (p) {
		atomic_fetch_sub_explicit(&shim_meta_bytes, sallocx(p, 0), memory_order_relaxed);
		dallocx(p, MALLOCX_TCACHE_NONE);
	}
}

static void *meta_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return meta_alloc(n);
	old = sallocx(p, 0);
	if (n > old && meta_over_limit(n - old))
		return NULL;
	q = rallocx(p, n ? n : 1, meta_flags());
	if (q) {
		atomic_fetch_sub_explicit(&shim_meta_bytes, old, memory_order_relaxed);
		atomic_fetch_add_explicit(&shim_meta_bytes, sallocx(q, 0), memory_order_relaxed);
	}
	return q;
}

static const struct hc_mem_ops shim_meta_ops = {
	.alloc = meta_alloc,
	.realloc = meta_realloc,
	.free = meta_free,
	.alloc_zeroed = meta_alloc_zeroed,
};

/* ------------------------------------------------------------ untracked */

#define SHIM_UNTRACKED_SLOTS 4096
static _Atomic uintptr_t shim_untracked[SHIM_UNTRACKED_SLOTS];
static _Atomic int shim_untracked_overflow;

static void untracked_add(void *p)
{
	unsigned i;

	for (i = 0; i < SHIM_UNTRACKED_SLOTS; i++) {
		uintptr_t expect = 0;

		if (atomic_compare_exchange_strong(&shim_untracked[i], &expect,
						   (uintptr_t)p))
			return;
	}
	atomic_store(&shim_untracked_overflow, 1);
}

static bool untracked_remove(void *p)
{
	unsigned i;

	for (i = 0; i < SHIM_UNTRACKED_SLOTS; i++) {
		uintptr_t expect = (uintptr_t)p;

		if (atomic_load_explicit(&shim_untracked[i], memory_order_relaxed) == expect &&
		    atomic_compare_exchange_strong(&shim_untracked[i], &expect, 0))
			return true;
	}
	return false;
}

static bool untracked_has(void *p)
{
	unsigned i;

	for (i = 0; i < SHIM_UNTRACKED_SLOTS; i++)
		if (atomic_load_explicit(&shim_untracked[i], memory_order_relaxed) == (uintptr_t)p)
			return true;
	return false;
}

/* ------------------------------------------------------------ messages */

void shim_say(const char *msg, uintptr_t value)
{
	char buf[256];
	size_t n = 0, m = strlen(msg);
	ssize_t r;

	if (shim_g.opts.quiet && atomic_load(&shim_g.state) == SHIM_READY)
		return;
	if (m > 200)
		m = 200;
	memcpy(buf, "heapcycle: ", 11);
	n = 11;
	memcpy(buf + n, msg, m);
	n += m;
	if (value) {
		buf[n++] = ' ';
		buf[n++] = '0';
		buf[n++] = 'x';
		n += shim_fmt_u64(buf + n, value, 16);
	}
	buf[n++] = '\n';
	do
		r = write(STDERR_FILENO, buf, n);
	while (r < 0 && errno == EINTR);
}

void shim_say_file(const char *what, const char *path, int err)
{
	char msg[200] = "";
	const char *reason = strerrordesc_np(err);

	/* No stdio here; strerror may translate, and so allocate, while
	 * strerrordesc_np returns a constant. */
	strncat(msg, what, 40);
	strcat(msg, " ");
	strncat(msg, path, 100);
	strcat(msg, ": ");
	strncat(msg, reason ? reason : "unknown error", 50);
	shim_say(msg, 0);
}

/* ------------------------------------------------------------ start-up */

/* Notes the executable segments of jemalloc and libunwind. */
static int find_helpers_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *name = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
	int i;

	(void)size;
	(void)arg;
	name = name ? name + 1 : info->dlpi_name;
	if (!name || (strncmp(name, "libjemalloc", 11) != 0 && strncmp(name, "libunwind", 9) != 0))
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    shim_g.nhelper_text < HC_ARRAY_SIZE(shim_g.helper_text)) {
			shim_g.helper_text[shim_g.nhelper_text].lo = info->dlpi_addr + ph->p_vaddr;
			shim_g.helper_text[shim_g.nhelper_text].hi =
				info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
			shim_g.nhelper_text++;
		}
	}
	return 0;
}

static int find_self_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t self = (uintptr_t)&find_self_cb;
	int i;

	(void)size;
	(void)arg;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    self >= lo && self < lo + ph->p_memsz) {
			shim_g.self_start = lo;
			shim_g.self_end = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

/* ld.so's extent, from its own program headers at AT_BASE: usable before
 * any constructor has run, unlike dl_iterate_phdr. */
static void shim_find_loader(void)
{
	uintptr_t base = (uintptr_t)getauxval(AT_BASE);
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)base;
	const ElfW(Phdr) *ph;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	int i;

	if (!base || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return;
	ph = (const ElfW(Phdr) *)(base + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (base + ph[i].p_vaddr < lo)
			lo = base + ph[i].p_vaddr;
		if (base + ph[i].p_vaddr + ph[i].p_memsz > hi)
			hi = base + ph[i].p_vaddr + ph[i].p_memsz;
	}
	if (hi > lo) {
		shim_g.loader_start = lo;
		shim_g.loader_end = hi;
	}
}

/*
 * The first allocation may come from the dynamic loader before any
 * constructor ran, so this part touches only jemalloc and our own
 * statics; what needs libc initialised (environment, dlsym, atfork)
 * waits for the constructor.
 */
bool shim_ensure_init(void)
{
	int expect = SHIM_UNINIT;
	unsigned arena;
	size_t sz = sizeof(arena);

	if (HC_LIKELY(atomic_load_explicit(&shim_g.state, memory_order_acquire) == SHIM_READY))
		return true;
	if (!atomic_compare_exchange_strong(&shim_g.state, &expect, SHIM_INITIALIZING))
		return atomic_load(&shim_g.state) == SHIM_READY;
	hc_options_defaults(&shim_g.opts);
	/* A setuid or otherwise secure process (ld.so normally refuses to
	 * preload us there): record nothing, write no file, only forward. */
	if (getauxval(AT_SECURE)) {
		atomic_store(&shim_g.state, SHIM_DISABLED);
		return false;
	}
	if (mallctl("arenas.create", &arena, &sz, NULL, 0) != 0) {
		atomic_store(&shim_g.state, SHIM_DISABLED);
		return false;
	}
	shim_g.arena = arena;
	sz = sizeof(arena);
	if (mallctl("arenas.create", &arena, &sz, NULL, 0) != 0) {
		atomic_store(&shim_g.state, SHIM_DISABLED);
		return false;
	}
	shim_g.reentry_arena = arena;
	hc_mem_set_ops(&shim_meta_ops);
	shim_g.table = hc_blocktable_new();
	shim_g.depot = hc_stackdepot_new();
	if (!shim_g.table || !shim_g.depot) {
		atomic_store(&shim_g.state, SHIM_DISABLED);
		return false;
	}
	shim_g.pid = (uint32_t)syscall(SYS_getpid);
	shim_g.seq = 1;
	shim_find_loader();
	atomic_store_explicit(&shim_g.state, SHIM_READY, memory_order_release);
	return true;
}

static void shim_set_output(const char *pattern)
{
	size_t n = 0;

	/* An empty output= leaves the pattern unset, as the tool takes it:
	 * the default, not the directory itself. Static: the options are
	 * too big for a small stack. */
	if (!pattern[0]) {
		static struct hc_options defaults;

		hc_options_defaults(&defaults);
		pattern = defaults.output;
	}
	if (pattern[0] != '/') {
		if (!getcwd(shim_g.output, sizeof(shim_g.output) - 2))
			shim_g.output[0] = 0;
		n = strlen(shim_g.output);
		if (n && shim_g.output[n - 1] != '/')
			shim_g.output[n++] = '/';
	}
	if (n + strlen(pattern) >= sizeof(shim_g.output)) {
		shim_say("output path too long; using heapcycle.%p.hcs in /tmp", 0);
		strcpy(shim_g.output, "/tmp/heapcycle.%p.hcs");
		return;
	}
	strcpy(shim_g.output + n, pattern);
}

/*
 * jemalloc's own malloc and sized operator delete: their fast paths beat
 * mallocx and dallocx (no flags to decode; the size class from the size,
 * not from a radix-tree lookup). Resolved in the constructor, in
 * jemalloc's own object, never ours; until then, and for anything with
 * flags (alignment, zeroing, the re-entry arena), mallocx and dallocx.
 */
static void *(*shim_je_malloc)(size_t);
/* Larger blocks are zeroed by jemalloc, which skips fresh pages. */
#define SHIM_SCRUB_MEMSET_MAX 4096u
static void (*shim_je_sized_free)(void *, size_t);

static void shim_find_jemalloc_fast_paths(void)
{
	void *je = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_NOLOAD);
	void *m, *f;

	if (!je)
		return;
	m = dlsym(je, "malloc");
	f = dlsym(je, "_ZdlPvm");
	/* Only if both are jemalloc's: one of ours would recurse. */
	if (m && f && shim_in_helper_text((uintptr_t)m) && shim_in_helper_text((uintptr_t)f)) {
		shim_je_malloc = (void *(*)(size_t))m;
		shim_je_sized_free = (void (*)(void *, size_t))f;
	}
	dlclose(je);
}

__attribute__((constructor(101))) static void shim_constructor(void)
{
	struct shim_thread *t = shim_enter();
	const char *env;
	struct hc_error err;
	size_t (*get_tls)(size_t *, size_t *);

	if (!shim_ensure_init())
		goto out;
	env = getenv("HEAPCYCLE_OPTIONS");
	if (env && hc_options_parse(&shim_g.opts, env, &err) != HC_OK) {
		char line[128];

		strcpy(line, "HEAPCYCLE_OPTIONS: ");
		strncat(line, err.what, sizeof(line) - strlen(line) - 1);
		shim_say(line, 0);
	}
	if (shim_g.opts.stack_depth < 1)
		shim_g.opts.stack_depth = 1;
	if (shim_g.opts.stack_depth > HC_STACK_MAX_FRAMES)
		shim_g.opts.stack_depth = HC_STACK_MAX_FRAMES;
	shim_set_output(shim_g.opts.output);
	dl_iterate_phdr(find_self_cb, NULL);
	dl_iterate_phdr(find_helpers_cb, NULL);
	shim_find_jemalloc_fast_paths();
	get_tls = (size_t (*)(size_t *, size_t *))dlsym(RTLD_NEXT, "_dl_get_tls_static_info");
	if (get_tls) {
		size_t size = 0, align = 0;

		get_tls(&size, &align);
		shim_g.static_tls_size = size;
	}
	shim_real_exit = (__typeof__(shim_real_exit))dlsym(RTLD_NEXT, "exit");
	shim_real_dlclose = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
	/* The global cache takes a lock and blocks signals on every unwind;
	 * a per-thread one does neither, and survives fork. */
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);

	shim_stack_init();
	shim_young_init();
	shim_thread_init();
	shim_fork_init();
	atomic_store(&shim_unwind_ready, 1);
	shim_periodic_init();
out:
	shim_leave(t);
}

/* ------------------------------------------------------------ recording */

/* Birth order is exact within a thread, and across threads to within a
 * batch: enough for "oldest first" in reports. */
#define SHIM_SEQ_BATCH 256

/* Records a new block (p may be NULL: then nothing). Never fails: on OOM
 * the shim is marked degraded. Inline, as the rest of the hot path: the
 * calls and register saves between the layers of a malloc/free pair cost
 * as much as a lookup. */
static inline __attribute__((always_inline)) void
shim_record_alloc(void *p, size_t size, enum hc_alloc_kind kind, uint8_t flags, uintptr_t caller,
		  uintptr_t caller_sp)
{
	struct shim_thread *t = &shim_tls;
	struct hc_block_rec rec;
	struct hc_slot slot;
	uint32_t stack = HC_STACK_NONE;

	if (!p)
		return;
	if (atomic_load_explicit(&shim_g.state, memory_order_acquire) != SHIM_READY ||
	    t->in_table) {
		if (atomic_load(&shim_g.state) != SHIM_DISABLED)
			untracked_add(p);
		return;
	}
	if (HC_UNLIKELY(t->seq_next == t->seq_end)) {
		t->seq_next = atomic_fetch_add_explicit(&shim_g.seq, SHIM_SEQ_BATCH,
							memory_order_relaxed);
		t->seq_end = t->seq_next + SHIM_SEQ_BATCH;
	}
	flags |= caller >= shim_g.loader_start && caller < shim_g.loader_end ? HC_BLOCK_LOADER : 0;
	/* The shared table keeps 40 bits of size: a block of a terabyte or
	 * more must not be freed by a size it would get back cut short. */
	if (HC_UNLIKELY(size > HC_TSLOT_MAX40))
		flags |= SHIM_BLOCK_UNSIZED;
	/* Only the outermost call unwinds: allocations made by libunwind
	 * itself, or by code we call, are recorded without a stack. Before
	 * our constructor (the libraries the program links run theirs first:
	 * GLib's type system is built there) only the dynamic loader's own
	 * calls go without, as libc may not be set up for them yet. */
	if (t->depth == 1 && shim_g.opts.stacks &&
	    (atomic_load_explicit(&shim_unwind_ready, memory_order_relaxed) ||
	     !(flags & HC_BLOCK_LOADER)))
		stack = shim_stack_capture(caller, caller_sp);
	/* Packed here, once: the young set stores these four words as they
	 * are. A block that was allocated has a size below 2^56. */
	slot.addr = (uintptr_t)p;
	slot.size_flags = size | (uint64_t)flags << 56;
	slot.seq_kind = (t->seq_next++ & HC_SLOT_LOW56) | (uint64_t)kind << 56;
	slot.stack_tid = stack | (uint64_t)(t->tid ? t->tid : shim_gettid()) << 32;
	t->in_table++;
	if (HC_LIKELY(shim_young_put(t, &slot))) {
		t->in_table--;
		return;
	}
	hc_slot_unpack(&rec, &slot);
	if (hc_blocktable_insert(shim_g.table, &rec) != HC_OK) {
		t->in_table--;
		atomic_store(&shim_g.degraded, 1);
		untracked_add(p);
		return;
	}
	t->in_table--;
}

/*
 * Finds and removes the record of p, packed into *s: in this thread's young
 * blocks, in the shared table, and, when neither has it, after moving
 * every thread's young blocks to the shared table (p may be young in
 * another thread). When there is no record, *freed tells whether p was
 * freed recently (a double free) and *s holds that old record. Caller:
 * t->in_table == 0.
 */
static inline __attribute__((always_inline)) bool
shim_blocks_take(struct shim_thread *t, uintptr_t p, struct hc_slot *s, bool *freed)
{
	struct hc_block_rec rec;
	bool found;

	*freed = false;
	t->in_table++;
	found = shim_young_take(t, p, s);
	if (HC_LIKELY(found)) {
		t->in_table--;
		return true;
	}
	found = hc_blocktable_remove(shim_g.table, p, &rec);
	t->in_table--;
	if (found || !shim_young_active())
		goto out;
	shim_young_quiesce(t);
	if (shim_young_drain_all_quiesced(p) != HC_OK)
		atomic_store(&shim_g.degraded, 1);
	found = hc_blocktable_remove(shim_g.table, p, &rec);
	if (!found)
		*freed = shim_young_recently_freed_quiesced(p, &rec) ||
			 hc_blocktable_recently_freed(shim_g.table, p, &rec);
	shim_young_resume(t);
out:
	if (found || *freed)
		hc_slot_pack(s, &rec);
	return found;
}

bool shim_blocks_update_flags(struct shim_thread *t, uintptr_t p, uint8_t set, uint8_t clear,
			      struct hc_block_rec *rec)
{
	bool found;

	t->in_table++;
	found = shim_young_update_flags(t, p, set, clear, rec) ||
		hc_blocktable_update_flags(shim_g.table, p, set, clear, rec);
	t->in_table--;
	if (found || !shim_young_active())
		return found;
	shim_young_quiesce(t);
	if (shim_young_drain_all_quiesced(0) != HC_OK)
		atomic_store(&shim_g.degraded, 1);
	found = hc_blocktable_update_flags(shim_g.table, p, set, clear, rec);
	shim_young_resume(t);
	return found;
}

static const char *kind_name(unsigned kind)
{
	switch (kind) {
	case HC_ALLOC_NEW:
		return "operator new";
	case HC_ALLOC_NEW_ARRAY:
		return "operator new[]";
	default:
		return "malloc";
	}
}

/* ------------------------------------------------------------ bad frees */

/* Bad deallocations, counted once per (kind, stacks); the snapshot copies
 * them. A trylock: a signal handler's bad free that finds the lock taken,
 * like one past the last slot, is only said on standard error. */
#define SHIM_MAX_BADFREES 1024
static struct hc_bad_free shim_badfrees[SHIM_MAX_BADFREES];
static uint32_t shim_nbadfrees;
static _Atomic int shim_badfrees_lock;

static const char *const shim_op_names[HC_FREE_OP_COUNT] = {
	"free()", "operator delete", "operator delete[]", "realloc()",
};

static void shim_note_bad_free(const struct hc_bad_free *bf)
{
	uint32_t i;

	if (atomic_exchange(&shim_badfrees_lock, 1))
		return;
	for (i = 0; i < shim_nbadfrees; i++) {
		struct hc_bad_free *f = &shim_badfrees[i];

		if (f->kind == bf->kind && f->op == bf->op && f->free_stack == bf->free_stack &&
		    f->alloc_stack == bf->alloc_stack) {
			f->count++;
			goto out;
		}
	}
	if (shim_nbadfrees < SHIM_MAX_BADFREES)
		shim_badfrees[shim_nbadfrees++] = *bf;
out:
	atomic_store(&shim_badfrees_lock, 0);
}

uint32_t shim_badfrees_copy(struct hc_bad_free *out, uint32_t cap)
{
	uint32_t n;

	while (atomic_exchange(&shim_badfrees_lock, 1))
		sched_yield();
	n = shim_nbadfrees < cap ? shim_nbadfrees : cap;
	memcpy(out, shim_badfrees, n * sizeof(*out));
	atomic_store(&shim_badfrees_lock, 0);
	return n;
}

/* Says it on standard error at once (as Valgrind does) and keeps it, with
 * the stack of the bad call, for the report. */
static void shim_bad_free(void *p, enum hc_bad_free_kind kind, enum hc_free_op op,
			  const struct hc_block_rec *rec, uintptr_t caller, uintptr_t caller_sp)
{
	struct shim_thread *t = &shim_tls;
	struct hc_bad_free bf;
	char msg[160];

	memset(&bf, 0, sizeof(bf));
	bf.addr = (uintptr_t)p;
	bf.kind = (uint8_t)kind;
	bf.op = (uint8_t)op;
	bf.count = 1;
	if (rec) {
		bf.size = rec->size;
		bf.alloc_stack = rec->stack;
		bf.alloc_kind = rec->kind;
	}
	if (t->depth == 1 && shim_g.opts.stacks &&
	    atomic_load_explicit(&shim_unwind_ready, memory_order_relaxed))
		bf.free_stack = shim_stack_capture(caller, caller_sp);
	shim_note_bad_free(&bf);
	strcpy(msg, kind == HC_BAD_FREE_MISMATCH ? "mismatched deallocation: " :
		    kind == HC_BAD_FREE_DOUBLE ? "double free: " : "invalid free: ");
	strcat(msg, shim_op_names[op]);
	if (kind == HC_BAD_FREE_MISMATCH) {
		strcat(msg, " of a block from ");
		strcat(msg, kind_name(rec->kind));
	} else {
		strcat(msg, kind == HC_BAD_FREE_DOUBLE ? " of a block already freed" :
			    " of a pointer heapcycle never returned");
	}
	/* A mismatched block is still the program's and goes back; the
	 * others are not handed to the allocator at all. */
	strcat(msg, kind == HC_BAD_FREE_MISMATCH ? "; released anyway, see the report. Address" :
		    "; not released, see the report. Address");
	shim_say(msg, (uintptr_t)p);
}

/* Forgets p; returns false (and reports) when heapcycle never returned p,
 * in which case the caller must not hand p to jemalloc. *size gets the
 * block's requested size when the table knew it, else 0; *sized whether
 * it may be freed by that size (recorded, allocated without alignment). */
static inline __attribute__((always_inline)) bool
shim_record_free(void *p, enum hc_alloc_kind kind, enum hc_free_op op, uint64_t *size, bool *sized,
		 uintptr_t caller, uintptr_t caller_sp)
{
	struct shim_thread *t = &shim_tls;
	struct hc_block_rec rec;
	struct hc_slot slot;
	bool found, was_freed;
	uint8_t flags;

	*size = 0;
	*sized = false;
	switch (atomic_load_explicit(&shim_g.state, memory_order_acquire)) {
	case SHIM_READY:
		break;
	case SHIM_DISABLED:
		/* Every block came from jemalloc: forward, whether recorded or not. */
		untracked_remove(p);
		return true;
	default:
		return untracked_remove(p) || atomic_load(&shim_untracked_overflow);
	}
	if (t->in_table) {
		/* A signal handler interrupted this thread inside the table: we
		 * cannot look the block up without deadlocking, and must not
		 * free it while its record lives. Keeping it is the safe side. */
		return false;
	}
	found = shim_blocks_take(t, (uintptr_t)p, &slot, &was_freed);
	if (found) {
		flags = (uint8_t)(slot.size_flags >> 56);
		*size = slot.size_flags & HC_SLOT_LOW56;
		*sized = !(flags & SHIM_BLOCK_UNSIZED);
		if (flags & HC_BLOCK_TRACKED)
			shim_gc_forget(p);
		/* The block is the program's and goes back all the same. */
		if (HC_UNLIKELY((slot.seq_kind >> 56) != (uint64_t)kind)) {
			hc_slot_unpack(&rec, &slot);
			shim_bad_free(p, HC_BAD_FREE_MISMATCH, op, &rec, caller, caller_sp);
		}
		return true;
	}
	if (was_freed)
		hc_slot_unpack(&rec, &slot);
	if (untracked_remove(p))
		return true;
	if (atomic_load(&shim_untracked_overflow))
		return true;	/* cannot tell: forwarding is the lesser harm */
	/* Never handed to jemalloc: the memory is left alone, not corrupted. */
	if (!shim_young_active()) {
		t->in_table++;
		was_freed = hc_blocktable_recently_freed(shim_g.table, (uintptr_t)p, &rec);
		t->in_table--;
	}
	shim_bad_free(p, was_freed ? HC_BAD_FREE_DOUBLE : HC_BAD_FREE_UNKNOWN, op,
		      was_freed ? &rec : NULL, caller, caller_sp);
	return false;
}

/* ------------------------------------------------------------ entry points */

/*
 * jemalloc is not reentrant: a signal handler that allocates while this
 * thread is inside mallocx or dallocx would find its thread cache half
 * updated. Calls made while the thread is already in the shim (a signal
 * handler that interrupted us, or libunwind's own allocations) bypass the
 * thread cache and use an arena of their own, so they never touch what the
 * interrupted call holds.
 */
static inline int shim_reentry_flags(const struct shim_thread *t)
{
	return t->depth > 1 ? MALLOCX_ARENA(shim_g.reentry_arena) | MALLOCX_TCACHE_NONE : 0;
}

static inline __attribute__((always_inline)) void *
shim_alloc_inline(size_t size, size_t align, int zero, enum hc_alloc_kind kind, uintptr_t caller,
		  uintptr_t caller_sp)
{
	struct shim_thread *t = shim_enter();
	int flags = 0;
	bool scrub;
	void *p;

	if (HC_UNLIKELY(atomic_load_explicit(&shim_g.state, memory_order_acquire) != SHIM_READY))
		shim_ensure_init();
	if (align)
		flags |= MALLOCX_ALIGN(align);
	/* scrub_freed: the program gets no stale pointers that a scan would
	 * take for references, whoever left them (an earlier block, or
	 * jemalloc's own metadata: a dead thread's cache lists the blocks it
	 * once held). jemalloc zeroes large blocks only when they are not
	 * fresh pages. */
	scrub = shim_g.opts.scrub_freed && !zero && size;
	if (zero || (scrub && size > SHIM_SCRUB_MEMSET_MAX))
		flags |= MALLOCX_ZERO;
	flags |= shim_reentry_flags(t);
	if (size > PTRDIFF_MAX)
		p = NULL;
	else if (HC_LIKELY(!flags && shim_je_malloc))
		p = shim_je_malloc(size);
	else	/* mallocx(0) is undefined; malloc(0) must return a unique pointer. */
		p = mallocx(size ? size : 1, flags);
	if (p && scrub && !(flags & MALLOCX_ZERO))
		memset(p, 0, size);
	if (!p)
		errno = ENOMEM;
	else
		shim_record_alloc(p, size, kind, align ? SHIM_BLOCK_UNSIZED : 0, caller, caller_sp);
	shim_leave(t);
	return p;
}

static inline __attribute__((always_inline)) void
shim_free_inline(void *p, enum hc_alloc_kind kind, enum hc_free_op op, uintptr_t caller,
		 uintptr_t caller_sp)
{
	struct shim_thread *t;
	uint64_t size;
	bool sized;

	if (!p)
		return;
	t = shim_enter();
	/* Record first: once the block is back in jemalloc, another thread
	 * may receive the same address and our record would describe it. */
	if (shim_record_free(p, kind, op, &size, &sized, caller, caller_sp)) {
		if (HC_LIKELY(sized && t->depth == 1 && shim_je_sized_free))
			shim_je_sized_free(p, size ? size : 1);
		else
			dallocx(p, t->depth > 1 ? MALLOCX_TCACHE_NONE : 0);
	}
	shim_leave(t);
}

void *shim_alloc(size_t size, size_t align, int zero, enum hc_alloc_kind kind,
		 uintptr_t caller, uintptr_t caller_sp)
{
	return shim_alloc_inline(size, align, zero, kind, caller, caller_sp);
}

void shim_free(void *p, enum hc_alloc_kind kind, enum hc_free_op op, uintptr_t caller,
	       uintptr_t caller_sp)
{
	shim_free_inline(p, kind, op, caller, caller_sp);
}

/* The two calls most programs make most: the hot path inline. */
HC_EXPORT void *malloc(size_t size)
{
	return shim_alloc_inline(size, 0, 0, HC_ALLOC_MALLOC, SHIM_CALL_SITE);
}

HC_EXPORT void free(void *p)
{
	shim_free_inline(p, HC_ALLOC_MALLOC, HC_FREE_OP_FREE, SHIM_CALL_SITE);
}

HC_EXPORT void cfree(void *p)
{
	shim_free(p, HC_ALLOC_MALLOC, HC_FREE_OP_FREE, SHIM_CALL_SITE);
}

HC_EXPORT void *calloc(size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return shim_alloc(total, 0, 1, HC_ALLOC_MALLOC, SHIM_CALL_SITE);
}

/*
 * rallocx, except that with scrub_freed a block that grows gets zeros, not
 * stale memory, past its old requested size: the slack of its old size
 * class here, the rest by jemalloc (MALLOCX_ZERO zeroes from the old
 * usable size). Returns NULL with the old block untouched on failure.
 */
static void *shim_resize(void *p, size_t size, uint64_t old_size, int flags)
{
	if (shim_g.opts.scrub_freed && size > old_size) {
		size_t usable = sallocx(p, 0);

		if (usable > old_size)
			memset((char *)p + old_size, 0, (usable < size ? usable : size) - old_size);
		flags |= MALLOCX_ZERO;
	}
	return rallocx(p, size, flags);
}

HC_EXPORT void *realloc(void *p, size_t size)
{
	struct shim_thread *t;
	struct hc_block_rec old;
	struct hc_slot olds;
	bool tracked = false, was_freed = false;
	void *q;

	if (!p)
		return shim_alloc(size, 0, 0, HC_ALLOC_MALLOC, SHIM_CALL_SITE);
	if (size == 0) {
		/* glibc: realloc(p, 0) frees p and returns NULL. */
		shim_free(p, HC_ALLOC_MALLOC, HC_FREE_OP_REALLOC, SHIM_CALL_SITE);
		return NULL;
	}
	if (size > PTRDIFF_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	t = shim_enter();
	if (t->in_table) {
		/* A signal handler inside our table: the old block cannot be
		 * looked up or released safely, so it is kept and copied. */
		q = mallocx(size, shim_reentry_flags(t) |
				  (shim_g.opts.scrub_freed ? MALLOCX_ZERO : 0));
		if (q) {
			size_t old_size = sallocx(p, 0);

			memcpy(q, p, old_size < size ? old_size : size);
			untracked_add(q);
		} else {
			errno = ENOMEM;
		}
		shim_leave(t);
		return q;
	}
	if (atomic_load(&shim_g.state) == SHIM_DISABLED) {
		q = rallocx(p, size, 0);
		if (!q)
			errno = ENOMEM;
		shim_leave(t);
		return q;
	}
	if (atomic_load_explicit(&shim_g.state, memory_order_acquire) == SHIM_READY) {
		tracked = shim_blocks_take(t, (uintptr_t)p, &olds, &was_freed);
		if (tracked || was_freed)
			hc_slot_unpack(&old, &olds);
	}
	if (!tracked && !untracked_remove(p)) {
		if (!atomic_load(&shim_untracked_overflow)) {
			if (!shim_young_active()) {
				t->in_table++;
				was_freed = hc_blocktable_recently_freed(shim_g.table,
									 (uintptr_t)p, &old);
				t->in_table--;
			}
			shim_bad_free(p, was_freed ? HC_BAD_FREE_DOUBLE : HC_BAD_FREE_UNKNOWN,
				      HC_FREE_OP_REALLOC, was_freed ? &old : NULL, SHIM_CALL_SITE);
					errno = EINVAL;
			shim_leave(t);
			return NULL;
		}
	}
	q = shim_resize(p, size, tracked ? old.size : sallocx(p, 0), shim_reentry_flags(t));
	if (!q) {
		/* The old block is untouched and still the program's. */
		if (tracked) {
			t->in_table++;
			if (hc_blocktable_insert(shim_g.table, &old) != HC_OK)
				atomic_store(&shim_g.degraded, 1);
			t->in_table--;
		} else {
			untracked_add(p);
		}
		errno = ENOMEM;
		shim_leave(t);
		return NULL;
	}
	shim_record_alloc(q, size, tracked ? (enum hc_alloc_kind)old.kind : HC_ALLOC_MALLOC,
			  SHIM_BLOCK_UNSIZED,
			  SHIM_CALL_SITE);
	shim_leave(t);
	return q;
}

HC_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

static bool power_of_two(size_t a)
{
	return a && !(a & (a - 1));
}

HC_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	int saved = errno;
	void *p;

	if (!power_of_two(align) || align % sizeof(void *))
		return EINVAL;
	p = shim_alloc(size, align, 0, HC_ALLOC_MALLOC, SHIM_CALL_SITE);
	errno = saved;
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

/* glibc 2.36's aligned_alloc is memalign: an alignment that is not a
 * power of two is rounded up, not refused (glibc 2.38 changed that). */
static size_t shim_round_alignment(size_t align)
{
	size_t a = 1;

	while (a < align)
		a <<= 1;
	return a;
}

HC_EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (align > ((size_t)1 << (sizeof(size_t) * 8 - 2))) {
		errno = EINVAL;
		return NULL;
	}
	return shim_alloc(size, shim_round_alignment(align), 0, HC_ALLOC_MALLOC, SHIM_CALL_SITE);
}

HC_EXPORT void *memalign(size_t align, size_t size)
{
	/* glibc rounds an odd alignment up to the next power of two. */
	if (align > ((size_t)1 << (sizeof(size_t) * 8 - 2))) {
		errno = EINVAL;
		return NULL;
	}
	return shim_alloc(size, shim_round_alignment(align), 0, HC_ALLOC_MALLOC, SHIM_CALL_SITE);
}

HC_EXPORT void *valloc(size_t size)
{
	return shim_alloc(size, (size_t)sysconf(_SC_PAGESIZE), 0, HC_ALLOC_MALLOC, SHIM_CALL_SITE);
}

HC_EXPORT void *pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t rounded;

	if (__builtin_add_overflow(size, page - 1, &rounded)) {
		errno = ENOMEM;
		return NULL;
	}
	rounded &= ~(page - 1);
	return shim_alloc(rounded ? rounded : page, page, 0, HC_ALLOC_MALLOC, SHIM_CALL_SITE);
}

HC_EXPORT size_t malloc_usable_size(void *p)
{
	struct shim_thread *t;
	struct hc_block_rec rec;
	bool known = false;

	if (!p)
		return 0;
	t = shim_enter();
	if (atomic_load(&shim_g.state) == SHIM_READY && !t->in_table)
		known = shim_blocks_update_flags(t, (uintptr_t)p, 0, 0, &rec);
	if (!known)
		known = untracked_has(p) || atomic_load(&shim_g.state) == SHIM_DISABLED;
	shim_leave(t);
	return known ? sallocx(p, 0) : 0;
}
