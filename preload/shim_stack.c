/* SPDX-License-Identifier: MIT */
/*
 * Allocation stacks, fast. DWARF unwinding is most of what a profiler's
 * malloc costs (libunwind walks every frame's unwind rules), and programs
 * allocate from the same call paths over and over. So each thread keeps a
 * small cache keyed by the call site: the return address into the caller
 * and the caller's stack pointer. A full unwind records, for every frame
 * above, where its return address lives (on x86_64, 8 bytes below the
 * frame's CFA) and what it was; a later allocation from the same site is
 * the same stack exactly when those return addresses are still there, which
 * takes a load and a compare per frame instead of an unwind, and reuses the
 * stack depot id without hashing the frames again.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "shim.h"

/* Per thread, in sets of SC_WAYS entries: a thread starts with SC_ENTRIES0
 * entries and one that allocates much and misses often gets SC_ENTRIES_MAX.
 * One call site at one depth can be reached from several callers (sqlite
 * allocates everything through sqlite3MemMalloc): with one entry per
 * (pc1, cfa0), 77% of sqlite's lookups hit; with four, 99.8%. */
#define SC_ENTRIES0 64u
#define SC_WAYS 4u			/* entries a (pc1, cfa0) may take */
#define SC_ENTRIES_MAX 256u

struct sc_entry {
	uintptr_t pc1;		/* return address into the allocating function */
	uintptr_t cfa0;		/* its stack pointer at the call */
	uint32_t stack;		/* depot id, HC_STACK_NONE: empty slot */
	uint32_t nslots;	/* return-address slots to check */
};

/*
 * Where one frame's return address lives, and what it was, in one word:
 * the return address above SC_OFF_BITS, the slot's distance from cfa0 in
 * words below. Two loads a frame to check instead of three. A frame whose
 * slot is 1 MiB or more above cfa0, or whose return address does not fit
 * (5-level paging), is not cached.
 */
typedef uint64_t sc_slot;
#define SC_OFF_BITS 17
#define SC_OFF_MASK ((UINT64_C(1) << SC_OFF_BITS) - 1)

static inline bool sc_slot_make(uintptr_t off, uintptr_t ret, sc_slot *out)
{
	if ((off & 7) || off >> 3 > SC_OFF_MASK || ret >> (64 - SC_OFF_BITS))
		return false;
	*out = (uint64_t)ret << SC_OFF_BITS | off >> 3;
	return true;
}

/* One allocation: the entries, then for each entry stack_depth slots. */
struct sc_cache {
	uint32_t nentries;		/* a power of two */
	uint32_t depth;			/* frames kept per entry */
	uint32_t misses, lookups;	/* recent, for turning the cache off */
	uint32_t walks;			/* misses, for sampling the slow walk */
	uint32_t windows;		/* lookup windows seen, for growing */
	bool bypass;
	struct sc_entry *e;
	sc_slot *slots;
};

static __thread struct sc_cache *sc_tls SHIM_TLS;
static pthread_key_t sc_key;
static bool sc_key_ok;

static void sc_free_cb(void *cache)
{
	/* Thread exit: jemalloc, called from here, is inside the shim. */
	struct shim_thread *t = shim_enter();

	sc_tls = NULL;
	hc_mem_free(cache);
	shim_leave(t);
}

/*
 * libunwind blocks every signal around each lookup of unwind information
 * (dl_iterate_phdr, on a miss in its per-thread cache of 128 rules), so
 * that a signal handler cannot re-enter it there: two sigprocmask system
 * calls per lookup, a third of sqlite's time under heapcycle. Under the
 * shim a signal handler never unwinds (only the outermost allocation
 * records a stack, shim_record_alloc), so while we unwind, libunwind's
 * calls are answered without a system call. Every other call, the
 * program's own included, goes to libc.
 */
static int (*sc_real_sigprocmask)(int, const sigset_t *, sigset_t *);

HC_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (shim_tls.depth > 0 && shim_in_helper_text((uintptr_t)__builtin_return_address(0))) {
		if (old)
			sigemptyset(old);
		return 0;
	}
	if (HC_UNLIKELY(!sc_real_sigprocmask)) {
		/* Before the constructor: the same call under its other name. */
		int r = pthread_sigmask(how, set, old);

		if (r) {
			errno = r;
			return -1;
		}
		return 0;
	}
	return sc_real_sigprocmask(how, set, old);
}

void shim_stack_init(void)
{
	sc_key_ok = pthread_key_create(&sc_key, sc_free_cb) == 0;
	sc_real_sigprocmask = (int (*)(int, const sigset_t *, sigset_t *))dlsym(RTLD_NEXT,
										"sigprocmask");
}

static struct sc_cache *sc_new(uint32_t nentries)
{
	uint32_t depth = (uint32_t)shim_g.opts.stack_depth;
	size_t n = nentries, size = sizeof(struct sc_cache) + n * sizeof(struct sc_entry) +
				    n * depth * sizeof(sc_slot);
	struct sc_cache *c = hc_mem_calloc(1, size);

	if (!c)
		return NULL;
	c->nentries = nentries;
	c->depth = depth;
	c->e = (struct sc_entry *)(c + 1);
	c->slots = (sc_slot *)(c->e + n);
	for (n = 0; n < nentries; n++)
		c->e[n].stack = HC_STACK_NONE;
	return c;
}

static struct sc_cache *sc_get(void)
{
	struct sc_cache *c = sc_tls;

	if (HC_LIKELY(c) || !sc_key_ok)
		return c;
	c = sc_new(SC_ENTRIES0);
	if (!c)
		return NULL;
	sc_tls = c;
	pthread_setspecific(sc_key, c);
	return c;
}

/* A busy thread that misses often gets the larger cache (empty: what the
 * small one knew is learnt again). */
static struct sc_cache *sc_grow(struct sc_cache *c)
{
	struct sc_cache *big = sc_new(SC_ENTRIES_MAX);

	if (!big)
		return c;
	sc_tls = big;
	pthread_setspecific(sc_key, big);
	hc_mem_free(c);
	return big;
}

static inline unsigned sc_index(const struct sc_cache *c, uintptr_t pc1, uintptr_t cfa0)
{
	uint64_t h = (pc1 ^ (cfa0 << 7) ^ (cfa0 >> 9)) * UINT64_C(0x9e3779b97f4a7c15);

	/* The top bits are the best mixed; 32 of them cover any size. */
	return (unsigned)(h >> 32) & (c->nentries - 1);
}

/* The plain path: libunwind's own fast trace, our frames trimmed. */
static uint32_t sc_backtrace(void)
{
	void *pcs[HC_STACK_MAX_FRAMES + 16];
	int n, skip = 0;

	n = unw_backtrace(pcs, shim_g.opts.stack_depth + 8);
	while (skip < n && (uintptr_t)pcs[skip] >= shim_g.self_start &&
	       (uintptr_t)pcs[skip] < shim_g.self_end)
		skip++;
	n -= skip;
	if (n > shim_g.opts.stack_depth)
		n = shim_g.opts.stack_depth;
	if (n <= 0)
		return HC_STACK_NONE;
	return hc_stackdepot_put(shim_g.depot, (const uintptr_t *)(pcs + skip), (unsigned)n);
}

/*
 * Full unwind that also notes where each frame's return address lives,
 * filling e when the stack can be checked that way. Returns the stack id;
 * falls back to sc_backtrace when the walk does not pass through the call
 * site (a frame without unwind information, say).
 */
static uint32_t sc_unwind_fill(struct sc_cache *c, struct sc_entry *e, uintptr_t pc1,
			       uintptr_t cfa0)
{
	sc_slot *slot = &c->slots[(size_t)(e - c->e) * c->depth];
	uintptr_t pcs[HC_STACK_MAX_FRAMES];
	unw_context_t ctx;
	unw_cursor_t cur;
	unw_word_t ip, sp;
	unsigned n = 0, depth = (unsigned)shim_g.opts.stack_depth, guard = 0;
	bool found = false, checkable = true;
	uint32_t id;

	e->stack = HC_STACK_NONE;
	e->nslots = 0;
	if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0)
		return sc_backtrace();
	/* Step out of the shim until the caller's frame: its SP is cfa0. */
	while (unw_step(&cur) > 0 && guard++ < 32) {
		unw_get_reg(&cur, UNW_REG_SP, &sp);
		if (sp == cfa0) {
			unw_get_reg(&cur, UNW_REG_IP, &ip);
			found = ip == pc1;
			break;
		}
	}
	if (!found)
		return sc_backtrace();
	pcs[n++] = pc1;
	while (n < depth && unw_step(&cur) > 0) {
		unw_get_reg(&cur, UNW_REG_IP, &ip);
		unw_get_reg(&cur, UNW_REG_SP, &sp);
		/* The frame we left returned to ip through the slot at its CFA
		 * minus 8, and its CFA is the SP we now have. A frame whose slot
		 * does not hold ip (a signal frame) cannot be checked. */
		if (checkable && sp - 8 >= cfa0 &&
		    *(const uintptr_t *)(sp - 8) == ip && e->nslots < c->depth &&
		    sc_slot_make(sp - 8 - cfa0, ip, &slot[e->nslots])) {
			e->nslots++;
		} else {
			checkable = false;
		}
		pcs[n++] = ip;
	}
	id = hc_stackdepot_put(shim_g.depot, pcs, n);
	if (checkable) {
		e->pc1 = pc1;
		e->cfa0 = cfa0;
		e->stack = id;
	}
	return id;
}

uint32_t shim_stack_capture(uintptr_t pc1, uintptr_t cfa0)
{
	struct sc_cache *c = sc_get();
	struct sc_entry *e;
	const sc_slot *slot, *end;
	uintptr_t diff;
	uint32_t set, w;

	if (!c || !cfa0)
		return sc_backtrace();
	if (c->bypass) {
		if (++c->lookups < 65536)
			return sc_backtrace();
		c->bypass = false;
		c->lookups = c->misses = 0;
	}
	set = sc_index(c, pc1, cfa0) & ~(SC_WAYS - 1);
	c->lookups++;
	for (w = 0; w < SC_WAYS; w++) {
		e = &c->e[set + w];
		if (e->stack == HC_STACK_NONE || e->pc1 != pc1 || e->cfa0 != cfa0)
			continue;
		slot = &c->slots[(size_t)(set + w) * c->depth];
		end = slot + e->nslots;
		/* Every frame, one branch per four: they almost always all
		 * match, and the loads then run side by side. */
		diff = 0;
#pragma GCC unroll 4
		for (; slot < end; slot++)
			diff |= ((const uintptr_t *)cfa0)[*slot & SC_OFF_MASK] ^
				*slot >> SC_OFF_BITS;
		if (!diff)
			return e->stack;
	}
	c->misses++;
	/* The way to fill: an empty one, else one in turn. */
	for (w = 0; w < SC_WAYS && c->e[set + w].stack != HC_STACK_NONE; w++)
		;
	e = &c->e[set + (w < SC_WAYS ? w : (c->walks >> 4) % SC_WAYS)];
	/* A thread whose call sites rarely repeat (deep recursion, sqlite's
	 * VM) would pay for the slow recording walk on every miss: it goes
	 * back to the plain trace for a while when most lookups miss. */
	if (c->lookups >= 4096) {
		bool grow = ++c->windows >= 16 && c->misses * 8 > c->lookups &&
			    c->nentries < SC_ENTRIES_MAX;

		c->bypass = c->misses * 2 > c->lookups;
		c->lookups = c->misses = 0;
		if (grow) {
			c = sc_grow(c);
			e = &c->e[sc_index(c, pc1, cfa0)];
		}
	}
	/* The recording walk (unw_step, frame by frame) costs many times the
	 * plain trace: only one miss in 16 pays it. A call site that repeats
	 * is cached after a few misses; one that does not costs little. */
	if ((++c->walks & 15) != 0)
		return sc_backtrace();
	return sc_unwind_fill(c, e, pc1, cfa0);
}
