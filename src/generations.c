/* SPDX-License-Identifier: MIT */
/*
 * The in-process generational collector for reference-counted C objects:
 * the registry of tracked objects (a pointer-keyed hash table over an entry
 * array, with an intrusive doubly-linked list per generation so that a young
 * collection enumerates the young objects only), CPython's counts and
 * thresholds, and one collection by trial deletion in the manner of
 * CPython's gcmodule.c (update_refs, subtract_refs, move_unreachable,
 * collect_generations), followed by the environment's confirmation, Tarjan's
 * strongly connected components over the garbage and, when asked, clear.
 * Finding which tracked object a conservative word points into, and whether
 * the roots still reach an object, is the environment's job (the shim).
 */
#include <string.h>

#include "generations.h"
#include "hc.h"

/*
 * Default thresholds. CPython uses 700, 10, 10 and we keep them, for these
 * reasons: a young collection costs a hash lookup per reported reference plus
 * one traverse call per object, about what CPython pays per container, so
 * the same threshold0 gives the same amortised cost per tracked object and
 * the same bound on a pause (about 700 traverse calls); C programs track
 * objects at CPython's rate or lower (only their refcounted container types
 * are tracked, not every int and string), so a lower rate means collections
 * come less often in wall time, not that they cost more. Raising threshold0
 * would delay the report of a leaked cycle in a slow server (the issue wants
 * it minutes after the leak), lowering it would let the fixed cost of a
 * collection (the shim's callbacks, the confirmation's look at the roots,
 * paid only when trial deletion finds candidates) dominate.
 */
#define GC_DEFAULT_THRESHOLD0 700
#define GC_DEFAULT_THRESHOLD1 10
#define GC_DEFAULT_THRESHOLD2 10

#define GC_NONE UINT32_MAX
/* entries[0..2] are the sentinels of the generation lists. */
#define GC_FIRST_ENTRY HC_GC_GENERATIONS
/* Indices are 32-bit; GC_NONE and the sentinels stay out of reach. */
#define GC_MAX_ENTRIES (UINT32_MAX - 1)

struct gc_entry {
	void *obj;		/* NULL: a free entry, chained through next */
	const void *refcount;
	hc_traverse_fn traverse;
	hc_clear_fn clear;
	const char *type;	/* interned: lives as long as the registry */
	uint64_t seq;		/* which tracking of obj this is (see reclaim) */
	uint64_t gc_refs;	/* scratch of a collection */
	uint32_t pos;		/* scratch: index in the collection's young[] */
	uint32_t prev, next;
	uint8_t width;
	int8_t gen;
};

struct gc_slot {
	void *key;		/* NULL: empty */
	uint32_t idx;
};

struct hc_gc {
	struct gc_entry *entries;
	uint32_t nentries, centries;	/* used (sentinels included), capacity */
	uint32_t free_head;
	size_t ntracked;
	size_t gen_size[HC_GC_GENERATIONS];

	struct gc_slot *slots;	/* linear probing, load <= 1/2 */
	size_t cslots;		/* a power of two */

	char **types;		/* interned type names, open addressing */
	size_t ntypes, ctypes;

	uint64_t next_seq;
	int count[HC_GC_GENERATIONS];
	int threshold[HC_GC_GENERATIONS];
	/* CPython's guard against quadratic full collections: objects that
	 * reached generation 2 since the last full collection, and how many
	 * that collection left there. */
	size_t long_lived_pending, long_lived_total;
	bool enabled, reclaim, collecting;
};

/* ---- registry ---------------------------------------------------------- */

static size_t gc_hash_ptr(const void *p, size_t mask)
{
	/* Fibonacci hashing: allocations are 16-byte aligned and close
	 * together, so the low bits alone would cluster. */
	return (size_t)(((uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static size_t gc_slot_find(const struct hc_gc *gc, const void *obj)
{
	size_t mask = gc->cslots - 1, i = gc_hash_ptr(obj, mask);

	while (gc->slots[i].key && gc->slots[i].key != obj)
		i = (i + 1) & mask;
	return i;
}

static uint32_t gc_lookup(const struct hc_gc *gc, const void *obj)
{
	size_t i;

	if (!obj)
		return GC_NONE;
	i = gc_slot_find(gc, obj);
	return gc->slots[i].key ? gc->slots[i].idx : GC_NONE;
}

/* Makes room for one more key. On failure nothing changed. */
static int gc_slots_reserve(struct hc_gc *gc)
{
	struct gc_slot *old = gc->slots, *nw;
	size_t oldc = gc->cslots, newc, i;

	if ((gc->ntracked + 1) * 2 <= oldc)
		return HC_OK;
	newc = oldc * 2;
	nw = hc_mem_calloc(newc, sizeof(*nw));
	if (!nw)
		return HC_ERR_NOMEM;
	gc->slots = nw;
	gc->cslots = newc;
	for (i = 0; i < oldc; i++)
		if (old[i].key)
			gc->slots[gc_slot_find(gc, old[i].key)] = old[i];
	hc_mem_free(old);
	return HC_OK;
}

/* Backward-shift deletion: linear probing without tombstones, so lookups
 * stay short however many objects come and go. */
static void gc_slot_remove(struct hc_gc *gc, size_t i)
{
	size_t mask = gc->cslots - 1, j = i, k;

	for (;;) {
		j = (j + 1) & mask;
		if (!gc->slots[j].key)
			break;
		k = gc_hash_ptr(gc->slots[j].key, mask);
		/* Move slot j into the hole at i unless its home lies
		 * cyclically in (i, j]. */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		gc->slots[i] = gc->slots[j];
		i = j;
	}
	gc->slots[i].key = NULL;
}

static void gc_list_unlink(struct hc_gc *gc, uint32_t x)
{
	struct gc_entry *e = &gc->entries[x];

	gc->entries[e->prev].next = e->next;
	gc->entries[e->next].prev = e->prev;
}

static void gc_list_append(struct hc_gc *gc, uint32_t x, int gen)
{
	uint32_t head = (uint32_t)gen, last = gc->entries[head].prev;

	gc->entries[x].prev = last;
	gc->entries[x].next = head;
	gc->entries[last].next = x;
	gc->entries[head].prev = x;
	gc->entries[x].gen = (int8_t)gen;
}

/* Returns a free entry index, or GC_NONE when out of memory. */
static uint32_t gc_entry_reserve(struct hc_gc *gc)
{
	struct gc_entry *nw;
	uint32_t newc;

	if (gc->free_head != GC_NONE)
		return gc->free_head;
	if (gc->nentries < gc->centries)
		return gc->nentries;
	if (gc->centries >= GC_MAX_ENTRIES / 2)
		newc = GC_MAX_ENTRIES;
	else
		newc = gc->centries * 2;
	if (newc <= gc->centries)
		return GC_NONE;
	nw = hc_mem_realloc(gc->entries, (size_t)newc * sizeof(*nw));
	if (!nw)
		return GC_NONE;
	gc->entries = nw;
	gc->centries = newc;
	return gc->nentries;
}

static size_t gc_hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return (size_t)h;
}

/*
 * Returns the interned copy of s (NULL for NULL), or NULL when out of memory
 * (with *ret set). Type names are class names, a small set, so interned
 * names live until hc_gc_free: a million objects of one type cost one copy.
 */
static const char *gc_intern(struct hc_gc *gc, const char *s, int *ret)
{
	size_t mask, i;
	char *copy;

	*ret = HC_OK;
	if (!s)
		return NULL;
	if ((gc->ntypes + 1) * 2 > gc->ctypes) {
		size_t newc = gc->ctypes ? gc->ctypes * 2 : 16, j;
		char **nw = hc_mem_calloc(newc, sizeof(*nw));

		if (!nw) {
			*ret = HC_ERR_NOMEM;
			return NULL;
		}
		for (j = 0; j < gc->ctypes; j++) {
			if (!gc->types[j])
				continue;
			i = gc_hash_str(gc->types[j]) & (newc - 1);
			while (nw[i])
				i = (i + 1) & (newc - 1);
			nw[i] = gc->types[j];
		}
		hc_mem_free(gc->types);
		gc->types = nw;
		gc->ctypes = newc;
	}
	mask = gc->ctypes - 1;
	for (i = gc_hash_str(s) & mask; gc->types[i]; i = (i + 1) & mask)
		if (strcmp(gc->types[i], s) == 0)
			return gc->types[i];
	copy = hc_mem_strdup(s);
	if (!copy) {
		*ret = HC_ERR_NOMEM;
		return NULL;
	}
	gc->types[i] = copy;
	gc->ntypes++;
	return copy;
}

struct hc_gc *hc_gc_new(void)
{
	struct hc_gc *gc = hc_mem_calloc(1, sizeof(*gc));
	int g;

	if (!gc)
		return NULL;
	gc->centries = 64;
	gc->entries = hc_mem_calloc(gc->centries, sizeof(*gc->entries));
	gc->cslots = 64;
	gc->slots = hc_mem_calloc(gc->cslots, sizeof(*gc->slots));
	if (!gc->entries || !gc->slots) {
		hc_gc_free(gc);
		return NULL;
	}
	for (g = 0; g < HC_GC_GENERATIONS; g++) {
		gc->entries[g].prev = gc->entries[g].next = (uint32_t)g;
		gc->entries[g].gen = (int8_t)g;
	}
	gc->nentries = GC_FIRST_ENTRY;
	gc->free_head = GC_NONE;
	gc->threshold[0] = GC_DEFAULT_THRESHOLD0;
	gc->threshold[1] = GC_DEFAULT_THRESHOLD1;
	gc->threshold[2] = GC_DEFAULT_THRESHOLD2;
	gc->enabled = true;
	return gc;
}

void hc_gc_free(struct hc_gc *gc)
{
	size_t i;

	if (!gc)
		return;
	for (i = 0; i < gc->ctypes; i++)
		hc_mem_free(gc->types[i]);
	hc_mem_free(gc->types);
	hc_mem_free(gc->slots);
	hc_mem_free(gc->entries);
	hc_mem_free(gc);
}

int hc_gc_track(struct hc_gc *gc, void *obj, const void *refcount, unsigned width,
		hc_traverse_fn traverse, hc_clear_fn clear, const char *type)
{
	struct gc_entry *e;
	const char *itype;
	uint32_t x;
	size_t slot;
	int ret = HC_OK;

	if (!gc || !obj || !refcount ||
	    (width != 1 && width != 2 && width != 4 && width != 8)) {
		ret = HC_ERR_ARG;
		goto out;
	}
	/* Everything that can fail comes first: a failed track changes
	 * nothing. */
	itype = gc_intern(gc, type, &ret);
	if (ret != HC_OK)
		goto out;
	x = gc_lookup(gc, obj);
	if (x != GC_NONE) {
		e = &gc->entries[x];
		e->refcount = refcount;
		e->width = (uint8_t)width;
		e->traverse = traverse;
		e->clear = clear;
		if (itype)
			e->type = itype;
		goto out;
	}
	ret = gc_slots_reserve(gc);
	if (ret != HC_OK)
		goto out;
	x = gc_entry_reserve(gc);
	if (x == GC_NONE) {
		ret = HC_ERR_NOMEM;
		goto out;
	}
	if (x == gc->free_head)
		gc->free_head = gc->entries[x].next;
	else
		gc->nentries++;
	e = &gc->entries[x];
	memset(e, 0, sizeof(*e));
	e->obj = obj;
	e->refcount = refcount;
	e->width = (uint8_t)width;
	e->traverse = traverse;
	e->clear = clear;
	e->type = itype;
	e->seq = ++gc->next_seq;
	gc_list_append(gc, x, 0);
	gc->gen_size[0]++;
	slot = gc_slot_find(gc, obj);
	gc->slots[slot].key = obj;
	gc->slots[slot].idx = x;
	gc->ntracked++;
	if (gc->count[0] < INT32_MAX)
		gc->count[0]++;
out:
	return ret;
}

bool hc_gc_untrack(struct hc_gc *gc, void *obj)
{
	struct gc_entry *e;
	size_t slot;
	uint32_t x;

	if (!gc || !obj)
		return false;
	slot = gc_slot_find(gc, obj);
	if (!gc->slots[slot].key)
		return false;
	x = gc->slots[slot].idx;
	e = &gc->entries[x];
	gc_list_unlink(gc, x);
	gc->gen_size[e->gen]--;
	gc_slot_remove(gc, slot);
	e->obj = NULL;
	e->next = gc->free_head;
	gc->free_head = x;
	gc->ntracked--;
	/* As CPython's PyObject_GC_Del: whatever the generation. */
	if (gc->count[0] > 0)
		gc->count[0]--;
	return true;
}

bool hc_gc_is_tracked(const struct hc_gc *gc, const void *obj)
{
	return gc && gc_lookup(gc, obj) != GC_NONE;
}

int hc_gc_set_type(struct hc_gc *gc, const void *obj, const char *type)
{
	const char *itype;
	uint32_t x;
	int ret = HC_ERR_ARG;

	if (!gc)
		goto out;
	x = gc_lookup(gc, obj);
	if (x == GC_NONE)
		goto out;
	itype = gc_intern(gc, type, &ret);
	if (ret != HC_OK)
		goto out;
	gc->entries[x].type = itype;
out:
	return ret;
}

const char *hc_gc_type(const struct hc_gc *gc, const void *obj)
{
	uint32_t x = gc ? gc_lookup(gc, obj) : GC_NONE;

	return x == GC_NONE ? NULL : gc->entries[x].type;
}

int hc_gc_generation(const struct hc_gc *gc, const void *obj)
{
	uint32_t x = gc ? gc_lookup(gc, obj) : GC_NONE;

	return x == GC_NONE ? -1 : gc->entries[x].gen;
}

size_t hc_gc_count_tracked(const struct hc_gc *gc)
{
	return gc ? gc->ntracked : 0;
}

/* ---- scheduling --------------------------------------------------------- */

void hc_gc_get_count(const struct hc_gc *gc, int count[HC_GC_GENERATIONS])
{
	memcpy(count, gc->count, sizeof(gc->count));
}

void hc_gc_get_threshold(const struct hc_gc *gc, int threshold[HC_GC_GENERATIONS])
{
	memcpy(threshold, gc->threshold, sizeof(gc->threshold));
}

int hc_gc_set_threshold(struct hc_gc *gc, const int threshold[HC_GC_GENERATIONS])
{
	int g;

	for (g = 0; g < HC_GC_GENERATIONS; g++)
		if (threshold[g] < 0)
			return HC_ERR_ARG;
	memcpy(gc->threshold, threshold, sizeof(gc->threshold));
	return HC_OK;
}

void hc_gc_set_enabled(struct hc_gc *gc, bool on)
{
	gc->enabled = on;
}

bool hc_gc_is_enabled(const struct hc_gc *gc)
{
	return gc->enabled;
}

void hc_gc_set_reclaim(struct hc_gc *gc, bool on)
{
	gc->reclaim = on;
}

int hc_gc_due(const struct hc_gc *gc)
{
	int g;

	/* CPython's trigger (gc_alloc / _PyObject_GC_Link): nothing is due
	 * until generation 0 overflows, whatever the older counts say. */
	if (!gc->enabled || gc->collecting || gc->threshold[0] == 0 ||
	    gc->count[0] <= gc->threshold[0])
		return -1;
	/* Then collect_generations: the oldest generation over its threshold. */
	for (g = HC_GC_GENERATIONS - 1; g >= 0; g--) {
		if (gc->count[g] <= gc->threshold[g])
			continue;
		/* CPython 3.11's long-lived ratio: a full collection costs all
		 * tracked objects, so wait until a quarter of the long-lived
		 * ones are new since the last one (else the collector is
		 * quadratic in a program that keeps building up objects). */
		if (g == HC_GC_GENERATIONS - 1 &&
		    gc->long_lived_pending < gc->long_lived_total / 4)
			continue;
		return g;
	}
	/* Not reached: generation 0 is over its threshold. */
	return 0;
}

/* ---- collection --------------------------------------------------------- */

static uint64_t gc_read_count(const void *p, unsigned width)
{
	/* Programs update counts with atomics from other threads: read them
	 * the same way. A count that is not naturally aligned cannot be
	 * atomic anyway; copy it. */
	if ((uintptr_t)p % width == 0) {
		switch (width) {
		case 1: return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
		case 2: return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
		case 4: return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
		default: return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
		}
	}
	switch (width) {
	case 1: { uint8_t v; memcpy(&v, p, 1); return v; }
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	default: { uint64_t v; memcpy(&v, p, 8); return v; }
	}
}

/* One traversal of subtract_refs: records the young referents of one
 * object (so later phases never call the program again) and takes one off
 * their gc_refs. */
struct gc_walk {
	struct hc_gc *gc;
	int gen;
	uint32_t *edges;	/* targets, as indices in young[] */
	size_t nedges, cedges;
	size_t underflow;	/* counts lower than the references seen */
	bool nomem;
};

static int gc_visit_cb(void *referent, void *arg)
{
	struct gc_walk *w = arg;
	struct gc_entry *e;
	uint32_t x = gc_lookup(w->gc, referent);

	/* NULL, untracked, or older than the collection: external. */
	if (x == GC_NONE)
		return 0;
	e = &w->gc->entries[x];
	if (e->gen > w->gen)
		return 0;
	if (w->nedges == w->cedges) {
		size_t newc = w->cedges * 2;
		uint32_t *nw = newc > w->cedges ?
			hc_mem_realloc(w->edges, newc * sizeof(*nw)) : NULL;

		if (!nw) {
			/* Stop the program's traverse: the collection fails. */
			w->nomem = true;
			return -1;
		}
		w->edges = nw;
		w->cedges = newc;
	}
	w->edges[w->nedges++] = e->pos;
	if (e->gc_refs > 0)
		e->gc_refs--;
	else
		w->underflow++;
	return 0;
}

/* Marks everything reachable from the marked nodes on stack[0..sp). */
static void gc_propagate(const uint32_t *estart, const uint32_t *edges,
			 uint8_t *mark, uint32_t *stack, size_t sp)
{
	while (sp > 0) {
		uint32_t v = stack[--sp], k;

		for (k = estart[v]; k < estart[v + 1]; k++) {
			uint32_t w = edges[k];

			if (!mark[w]) {
				mark[w] = 1;
				stack[sp++] = w;
			}
		}
	}
}

/*
 * Tarjan's algorithm over the unmarked (garbage) nodes, with an explicit
 * call stack (a leaked ring of a million objects must not overflow the
 * thread's stack). Appends each component's members to out as it completes,
 * so members of a component are adjacent; returns the number of members
 * written (the garbage count).
 */
static size_t gc_tarjan(uint32_t n, const uint32_t *estart, const uint32_t *edges,
			const uint8_t *mark, uint32_t *index, uint32_t *low,
			uint32_t *comp, uint32_t *stack, uint32_t *cs_node,
			uint32_t *cs_pos, uint32_t *out_node, uint32_t *out_comp,
			uint8_t *out_cycle)
{
	uint32_t counter = 0, ncomp = 0, r;
	size_t sp = 0, csp, nout = 0;

	for (r = 0; r < n; r++) {
		index[r] = 0;
		comp[r] = GC_NONE;
	}
	for (r = 0; r < n; r++) {
		if (mark[r] || index[r])
			continue;
		index[r] = low[r] = ++counter;
		stack[sp++] = r;
		cs_node[0] = r;
		cs_pos[0] = estart[r];
		csp = 1;
		while (csp > 0) {
			uint32_t v = cs_node[csp - 1];

			if (cs_pos[csp - 1] < estart[v + 1]) {
				uint32_t w = edges[cs_pos[csp - 1]++];

				if (mark[w])
					continue;
				if (!index[w]) {
					index[w] = low[w] = ++counter;
					stack[sp++] = w;
					cs_node[csp] = w;
					cs_pos[csp] = estart[w];
					csp++;
				} else if (comp[w] == GC_NONE && index[w] < low[v]) {
					/* Still on Tarjan's stack: nodes get
					 * their component as they leave it. */
					low[v] = index[w];
				}
				continue;
			}
			csp--;
			if (csp > 0 && low[v] < low[cs_node[csp - 1]])
				low[cs_node[csp - 1]] = low[v];
			if (low[v] == index[v]) {
				size_t first = nout, i;
				bool cycle = false;
				uint32_t w, k;

				do {
					w = stack[--sp];
					comp[w] = ncomp;
					out_node[nout] = w;
					out_comp[nout++] = ncomp;
				} while (w != v);
				if (nout - first >= 2) {
					cycle = true;
				} else {
					for (k = estart[v]; k < estart[v + 1]; k++)
						if (edges[k] == v)
							cycle = true;
				}
				for (i = first; i < nout; i++)
					out_cycle[i] = cycle;
				ncomp++;
			}
		}
	}
	return nout;
}

/* Calls clear on the members of every garbage cycle whose members all have
 * one. Runs after the collection is complete: clear is the program's code,
 * its unref may free objects and untrack them through us, so nothing is
 * held across the calls but addresses and tracking sequence numbers. */
static size_t gc_reclaim(struct hc_gc *gc, struct hc_gc_garbage *garbage,
			 const uint64_t *seq, const uint8_t *clearable, size_t n)
{
	size_t i, cleared = 0;

	for (i = 0; i < n; i++) {
		uint32_t x;

		if (!clearable[i])
			continue;
		/* An earlier clear may have freed this object (and the
		 * program may even have tracked a new one at its address):
		 * only the same tracking gets its clear called. */
		x = gc_lookup(gc, garbage[i].obj);
		if (x == GC_NONE || gc->entries[x].seq != seq[i] ||
		    !gc->entries[x].clear)
			continue;
		gc->entries[x].clear(garbage[i].obj);
		garbage[i].cleared = true;
		cleared++;
	}
	return cleared;
}

int hc_gc_collect(struct hc_gc *gc, int gen, const struct hc_gc_env *env,
		  struct hc_gc_result *res)
{
	struct gc_walk w = { .gc = gc };
	uint32_t *young = NULL, *estart = NULL, *stack = NULL, *work = NULL;
	uint8_t *mark = NULL, *clearable = NULL;
	void **cand = NULL;
	bool *keep = NULL;
	uint64_t *seq = NULL;
	struct hc_gc_garbage *garbage = NULL;
	uint32_t n = 0, i, x, target;
	size_t ncand = 0, ngarbage = 0, moved_old = 0;
	bool scanned_cand = false;
	int g, ret = HC_OK;
	bool entered = false;

	memset(res, 0, sizeof(*res));
	if (gen < 0)
		gen = 0;
	if (gen > HC_GC_GENERATIONS - 1)
		gen = HC_GC_GENERATIONS - 1;
	res->generation = gen;
	/* As gc.collect() from a finalizer: a collection started from a
	 * clear callback finds nothing. */
	if (gc->collecting)
		goto out;
	/* The program's traverse, scan, confirm and clear run inside:
	 * automatic collections must not start from them. */
	gc->collecting = entered = true;
	w.gen = gen;

	for (g = 0; g <= gen; g++)
		n += (uint32_t)gc->gen_size[g];
	young = hc_mem_alloc(((size_t)n + 1) * sizeof(*young));
	estart = hc_mem_alloc(((size_t)n + 1) * sizeof(*estart));
	stack = hc_mem_alloc(((size_t)n + 1) * sizeof(*stack));
	mark = hc_mem_calloc((size_t)n + 1, 1);
	w.cedges = (size_t)n + 16;
	w.edges = hc_mem_alloc(w.cedges * sizeof(*w.edges));
	if (!young || !estart || !stack || !mark || !w.edges) {
		ret = HC_ERR_NOMEM;
		goto out;
	}

	/* update_refs: gc_refs starts as the count the program keeps. Only
	 * the young lists are walked: this is why a young collection costs
	 * what the young objects cost. */
	n = 0;
	for (g = 0; g <= gen; g++) {
		for (x = gc->entries[g].next; x != (uint32_t)g; x = gc->entries[x].next) {
			struct gc_entry *e = &gc->entries[x];

			e->pos = n;
			e->gc_refs = gc_read_count(e->refcount, e->width);
			young[n++] = x;
		}
	}

	/* subtract_refs: references between young objects are internal;
	 * whatever remains of a count comes from outside the young set (old
	 * objects, roots, untracked memory). Each object's traverse is called
	 * once, its young referents kept for the phases below. */
	for (i = 0; i < n; i++) {
		struct gc_entry *e = &gc->entries[young[i]];

		estart[i] = (uint32_t)w.nedges;
		if (e->traverse)
			(void)e->traverse(e->obj, gc_visit_cb, &w);
		else if (env && env->scan)
			(void)env->scan(e->obj, gc_visit_cb, &w, env->arg);
		if (w.nomem) {
			ret = HC_ERR_NOMEM;
			goto out;
		}
		if (w.nedges > UINT32_MAX) {
			ret = HC_ERR_NOMEM;
			goto out;
		}
	}
	estart[n] = (uint32_t)w.nedges;

	/* move_unreachable: an outside reference makes an object reachable,
	 * and with it everything it reaches. CPython does this with list
	 * moves; with the edges at hand a mark and a stack are simpler. */
	for (i = 0; i < n; i++) {
		if (mark[i] || gc->entries[young[i]].gc_refs == 0)
			continue;
		mark[i] = 1;
		stack[0] = i;
		gc_propagate(estart, w.edges, mark, stack, 1);
	}
	for (i = 0; i < n; i++) {
		ncand += !mark[i];
		scanned_cand |= !mark[i] && !gc->entries[young[i]].traverse;
	}

	/* Confirmation (DESIGN.md's back-pointer trap): a scan reports a
	 * child's non-owning pointer to its parent as an edge, so a live
	 * parent/child pair can look self-sufficient. What the environment
	 * keeps is reachable, and so is all it reaches. Only a candidate
	 * without a traverse can have been wrongly explained (a reachable
	 * object's edges were followed above): when every candidate has one,
	 * the program's traverse functions and counts are trusted, as
	 * CPython trusts tp_traverse, and the collection costs what its
	 * generations hold instead of a look at the whole heap. */
	if (ncand > 0 && scanned_cand && env && env->confirm) {
		size_t k = 0, sp = 0;

		cand = hc_mem_alloc(ncand * sizeof(*cand));
		keep = hc_mem_calloc(ncand, sizeof(*keep));
		work = hc_mem_alloc(ncand * sizeof(*work));
		if (!cand || !keep || !work) {
			ret = HC_ERR_NOMEM;
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (mark[i])
				continue;
			cand[k] = gc->entries[young[i]].obj;
			work[k++] = i;
		}
		if (env->confirm((void *const *)cand, ncand, keep, env->arg) != 0) {
			/* Undecided: report nothing rather than a live object. */
			memset(mark, 1, n);
		} else {
			for (k = 0; k < ncand; k++) {
				if (keep[k] && !mark[work[k]]) {
					mark[work[k]] = 1;
					stack[sp++] = work[k];
				}
			}
			gc_propagate(estart, w.edges, mark, stack, sp);
		}
	}
	for (i = 0, ncand = 0; i < n; i++)
		ncand += !mark[i];

	if (ncand > 0) {
		uint32_t *index = NULL, *low = NULL, *comp = NULL, *cs_node = NULL,
			 *cs_pos = NULL, *out_node = NULL, *out_comp = NULL;
		uint8_t *out_cycle = NULL;
		size_t k;

		index = hc_mem_alloc((size_t)n * sizeof(*index));
		low = hc_mem_alloc((size_t)n * sizeof(*low));
		comp = hc_mem_alloc((size_t)n * sizeof(*comp));
		cs_node = hc_mem_alloc(ncand * sizeof(*cs_node));
		cs_pos = hc_mem_alloc(ncand * sizeof(*cs_pos));
		out_node = hc_mem_alloc(ncand * sizeof(*out_node));
		out_comp = hc_mem_alloc(ncand * sizeof(*out_comp));
		out_cycle = hc_mem_alloc(ncand);
		garbage = hc_mem_calloc(ncand, sizeof(*garbage));
		seq = hc_mem_alloc(ncand * sizeof(*seq));
		clearable = hc_mem_calloc(ncand, 1);
		if (index && low && comp && cs_node && cs_pos && out_node &&
		    out_comp && out_cycle && garbage && seq && clearable) {
			ngarbage = gc_tarjan(n, estart, w.edges, mark, index, low,
					     comp, stack, cs_node, cs_pos, out_node,
					     out_comp, out_cycle);
			hc_assert(ngarbage == ncand);
			for (k = 0; k < ngarbage; k++) {
				struct gc_entry *e = &gc->entries[young[out_node[k]]];

				garbage[k].obj = e->obj;
				garbage[k].cycle = out_comp[k];
				garbage[k].in_cycle = out_cycle[k];
				seq[k] = e->seq;
			}
			/* A cycle is cleared only if every member can be:
			 * clearing some of them would leave half-broken
			 * objects that still leak. */
			for (k = 0; k < ngarbage;) {
				size_t end = k;
				bool all = garbage[k].in_cycle;

				while (end < ngarbage && garbage[end].cycle == garbage[k].cycle) {
					if (!gc->entries[young[out_node[end]]].clear)
						all = false;
					end++;
				}
				for (; k < end; k++)
					clearable[k] = all;
			}
		} else {
			ret = HC_ERR_NOMEM;
		}
		hc_mem_free(index);
		hc_mem_free(low);
		hc_mem_free(comp);
		hc_mem_free(cs_node);
		hc_mem_free(cs_pos);
		hc_mem_free(out_node);
		hc_mem_free(out_comp);
		hc_mem_free(out_cycle);
		if (ret != HC_OK)
			goto out;
	}

	/* Nothing can fail from here on: commit. Survivors move one
	 * generation up; garbage goes to the oldest, where only a full
	 * collection looks at it again. */
	target = (uint32_t)(gen + 1 < HC_GC_GENERATIONS ? gen + 1 : HC_GC_GENERATIONS - 1);
	for (i = 0; i < n; i++) {
		uint32_t to = mark[i] ? target : HC_GC_GENERATIONS - 1;
		struct gc_entry *e = &gc->entries[young[i]];

		if ((uint32_t)e->gen == to)
			continue;
		gc_list_unlink(gc, young[i]);
		gc->gen_size[e->gen]--;
		gc_list_append(gc, young[i], (int)to);
		gc->gen_size[to]++;
		if (to == HC_GC_GENERATIONS - 1)
			moved_old++;
	}
	if (gen == HC_GC_GENERATIONS - 1) {
		gc->long_lived_pending = 0;
		gc->long_lived_total = gc->gen_size[HC_GC_GENERATIONS - 1];
	} else {
		gc->long_lived_pending += moved_old;
	}
	if (gen + 1 < HC_GC_GENERATIONS && gc->count[gen + 1] < INT32_MAX)
		gc->count[gen + 1]++;
	for (g = 0; g <= gen; g++)
		gc->count[g] = 0;

	res->collected = n;
	res->unreachable = ngarbage;
	res->garbage = garbage;
	garbage = NULL;
	/* The environment records the garbage while every member still
	 * exists: reclamation may free them. */
	if (env && env->found && ngarbage > 0)
		env->found(res, env->arg);
	if (gc->reclaim && ngarbage > 0)
		res->cleared = gc_reclaim(gc, res->garbage, seq, clearable, ngarbage);
out:
	if (entered)
		gc->collecting = false;
	hc_mem_free(young);
	hc_mem_free(estart);
	hc_mem_free(stack);
	hc_mem_free(mark);
	hc_mem_free(w.edges);
	hc_mem_free(cand);
	hc_mem_free(keep);
	hc_mem_free(work);
	hc_mem_free(garbage);
	hc_mem_free(seq);
	hc_mem_free(clearable);
	return ret;
}

void hc_gc_result_fini(struct hc_gc_result *res)
{
	if (!res)
		return;
	hc_mem_free(res->garbage);
	res->garbage = NULL;
	res->unreachable = 0;
}

int hc_gc_foreach(const struct hc_gc *gc,
		  int (*fn)(void *obj, const void *refcount, unsigned width, int generation,
			    const char *type, void *arg),
		  void *arg)
{
	uint32_t x;
	int g, r = 0;

	for (g = 0; g < HC_GC_GENERATIONS && r == 0; g++) {
		for (x = gc->entries[g].next; x != (uint32_t)g && r == 0;
		     x = gc->entries[x].next) {
			const struct gc_entry *e = &gc->entries[x];

			r = fn(e->obj, e->refcount, e->width, g, e->type, arg);
		}
	}
	return r;
}
