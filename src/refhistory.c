/* SPDX-License-Identifier: MIT */
/*
 * Pairs an object's recorded g_object_ref/g_object_unref calls to find the
 * references never released (refhistory.h). The open references are kept
 * as a list in the order they were taken; an unseen or dropped stretch of
 * the count is one entry with a multiplicity, so a hostile count of four
 * billion costs one entry, not four billion. Each event adds at most two
 * entries, hence the bound. Recording is preload/shim_gref.c's; the
 * layouts that print the result are the report writers'.
 */
#include <string.h>

#include "refhistory.h"

struct refhist_open {
	uint8_t origin;
	uint32_t event;
	uint64_t key;
	uint64_t n;
};

struct refhist_state {
	struct hc_refhist *r;
	struct refhist_open *open;
	uint32_t nopen;
	uint64_t total;		/* sum of open[].n */
};

const char *hc_refhist_call_name(uint8_t kind)
{
	switch (kind) {
	case HC_REF_REF: return "g_object_ref";
	case HC_REF_UNREF: return "g_object_unref";
	case HC_REF_SINK: return "g_object_ref_sink";
	case HC_REF_TAKE: return "g_object_take_ref";
	}
	return "unknown";
}

int hc_refhist_delta(const struct hc_ref_event *ev)
{
	switch (ev->kind) {
	case HC_REF_REF:
		return 1;
	case HC_REF_UNREF:
		return -1;
	case HC_REF_SINK:
		return ev->flags & HC_REF_FLOATING ? 0 : 1;
	}
	return 0;
}

const struct hc_ref_history *hc_refhist_find(const struct hc_snapshot *s, uint64_t block)
{
	uint32_t lo = 0, hi = s->refhists ? s->nrefhists : 0;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (block < s->refhists[mid].block)
			hi = mid;
		else if (block > s->refhists[mid].block)
			lo = mid + 1;
		else
			return &s->refhists[mid];
	}
	return NULL;
}

static void refhist_push(struct refhist_state *st, uint8_t origin, uint32_t event, uint64_t key,
			 uint64_t n)
{
	struct refhist_open *o = &st->open[st->nopen++];

	o->origin = origin;
	o->event = event;
	o->key = key;
	o->n = n;
	st->total += n;
}

/* The last reference of open entry o is gone: says so where it came from. */
static void refhist_settle(struct refhist_state *st, const struct refhist_open *o, uint8_t fate,
			   uint32_t by)
{
	struct hc_refhist *r = st->r;

	if (o->event != HC_REFHIST_NONE) {
		r->steps[o->event].fate = fate;
		r->steps[o->event].released_by = by;
	} else if (o->origin == HC_REFHIST_INITIAL) {
		r->initial_fate = fate;
		r->initial_released_by = by;
	}
}

/*
 * Releases k references no recorded call accounts for: those of origin
 * prefer first (unseen releases most likely undo unseen references), then
 * the most recent ones. Returns how many found nothing to release.
 */
static uint64_t refhist_release_bulk(struct refhist_state *st, uint64_t k, int prefer,
				     uint8_t fate)
{
	int pass;

	for (pass = prefer < 0 ? 1 : 0; pass < 2 && k > 0; pass++) {
		uint32_t j = st->nopen;

		while (j-- > 0 && k > 0) {
			struct refhist_open *o = &st->open[j];
			uint64_t take;

			if (o->n == 0 || (pass == 0 && o->origin != prefer))
				continue;
			take = o->n < k ? o->n : k;
			o->n -= take;
			st->total -= take;
			k -= take;
			if (o->n == 0)
				refhist_settle(st, o, fate, HC_REFHIST_NONE);
		}
	}
	return k;
}

/* Makes the open references agree with a count the calls did not explain. */
static void refhist_reconcile(struct refhist_state *st, uint64_t count)
{
	struct hc_refhist *r = st->r;

	if (count > st->total) {
		r->unseen_refs += count - st->total;
		refhist_push(st, HC_REFHIST_UNSEEN, HC_REFHIST_NONE, 0, count - st->total);
	} else if (count < st->total) {
		uint64_t k = st->total - count;

		r->unseen_unrefs += k;
		refhist_release_bulk(st, k, HC_REFHIST_UNSEEN, HC_REFHIST_RELEASED_UNSEEN);
	}
}

/* The calls the shim dropped: what they took, then what they released. */
static void refhist_gap(struct refhist_state *st, const struct hc_ref_history *h)
{
	st->r->dropped = true;
	if (h->dropped_refs)
		refhist_push(st, HC_REFHIST_DROPPED, HC_REFHIST_NONE, 0, h->dropped_refs);
	st->r->unmatched_unrefs += refhist_release_bulk(st, h->dropped_unrefs, -1,
							HC_REFHIST_RELEASED_DROPPED);
}

/*
 * The open entry a g_object_unref with this key releases, or -1. In the
 * function that created the object, the creator's own reference goes
 * first: "create, hand a reference to a container, drop ours" is the
 * GObject idiom, and the container's reference is the one still held.
 */
static int64_t refhist_pick(const struct refhist_state *st, uint64_t key)
{
	uint32_t j;

	if (key != 0) {
		for (j = 0; j < st->nopen; j++)
			if (st->open[j].n && st->open[j].key == key &&
			    st->open[j].origin == HC_REFHIST_INITIAL &&
			    st->open[j].event == HC_REFHIST_NONE)
				return j;
		for (j = st->nopen; j-- > 0;)
			if (st->open[j].n && st->open[j].key == key)
				return j;
	}
	for (j = st->nopen; j-- > 0;)
		if (st->open[j].n)
			return j;
	return -1;
}

static void refhist_unref(struct refhist_state *st, uint32_t i, uint64_t key)
{
	struct hc_refhist_step *s = &st->r->steps[i];
	int64_t j = refhist_pick(st, key);
	struct refhist_open *o;

	if (j < 0) {
		s->unmatched = true;
		st->r->unmatched_unrefs++;
		return;
	}
	o = &st->open[j];
	s->released_origin = o->origin;
	s->releases = o->event;
	o->n--;
	st->total--;
	if (o->n == 0)
		refhist_settle(st, o, HC_REFHIST_RELEASED, i);
}

/*
 * A floating object's reference taken over by call i: the initial
 * reference, if it is still open and nobody took it over yet, now belongs
 * to the call, and counts as taken at its time.
 */
static void refhist_adopt(struct refhist_state *st, uint32_t i, uint64_t key)
{
	uint32_t j;

	for (j = 0; j < st->nopen; j++) {
		struct refhist_open *o = &st->open[j];

		if (o->origin != HC_REFHIST_INITIAL || o->event != HC_REFHIST_NONE || o->n == 0)
			continue;
		o->n = 0;
		st->total--;
		st->r->initial_fate = HC_REFHIST_NA;	/* see the call's fate */
		refhist_push(st, HC_REFHIST_INITIAL, i, key, 1);
		st->r->steps[i].fate = HC_REFHIST_HELD;
		return;
	}
}

int hc_refhist_pair(const struct hc_ref_history *h, const uint64_t *keys, uint64_t initial_key,
		    struct hc_refhist *out)
{
	struct refhist_state st = { .r = out };
	uint32_t n = h->nevents, i, j;
	int rc = HC_OK;

	memset(out, 0, sizeof(*out));
	if (n == 0 || !h->events || h->gap > n)
		return HC_ERR_ARG;
	out->nevents = n;
	out->initial_released_by = HC_REFHIST_NONE;
	out->steps = hc_mem_calloc(n, sizeof(*out->steps));
	/* Per event at most an unseen run and its own reference; before the
	 * first, the initial reference and an unseen run; the gap and the
	 * final count, one run each. */
	st.open = hc_mem_calloc(2 * (size_t)n + 4, sizeof(*st.open));
	if (!out->steps || !st.open) {
		rc = HC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		out->steps[i].released_by = HC_REFHIST_NONE;
		out->steps[i].releases = HC_REFHIST_NONE;
	}
	for (i = 0; i <= n; i++) {
		const struct hc_ref_event *ev;
		uint64_t key;

		if (i == h->gap && h->dropped)
			refhist_gap(&st, h);
		if (i == n)
			break;
		ev = &h->events[i];
		key = keys ? keys[i] : 0;
		if (i == 0 && st.total == 0 && ev->count >= 1) {
			out->has_initial = true;
			out->initial_fate = HC_REFHIST_HELD;
			refhist_push(&st, HC_REFHIST_INITIAL, HC_REFHIST_NONE, initial_key, 1);
			if (ev->count > 1) {
				out->unseen_refs += ev->count - 1u;
				refhist_push(&st, HC_REFHIST_UNSEEN, HC_REFHIST_NONE, 0,
					     ev->count - 1u);
			}
		} else {
			refhist_reconcile(&st, ev->count);
		}
		switch (ev->kind) {
		case HC_REF_REF:
			out->steps[i].fate = HC_REFHIST_HELD;
			refhist_push(&st, HC_REFHIST_CALL, i, key, 1);
			break;
		case HC_REF_SINK:
		case HC_REF_TAKE:
			if (ev->flags & HC_REF_FLOATING)
				refhist_adopt(&st, i, key);
			else if (ev->kind == HC_REF_SINK) {
				out->steps[i].fate = HC_REFHIST_HELD;
				refhist_push(&st, HC_REFHIST_CALL, i, key, 1);
			}
			break;
		case HC_REF_UNREF:
			refhist_unref(&st, i, key);
			break;
		}
	}
	if (h->count != HC_REF_COUNT_UNKNOWN)
		refhist_reconcile(&st, h->count);
	/* What is still open, oldest first. */
	for (i = j = 0; i < st.nopen; i++) {
		if (st.open[i].n)
			st.open[j++] = st.open[i];
	}
	out->held = hc_mem_calloc(j ? j : 1, sizeof(*out->held));
	if (!out->held) {
		rc = HC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < j; i++) {
		out->held[i].origin = st.open[i].origin;
		out->held[i].event = st.open[i].event;
		out->held[i].n = st.open[i].n;
	}
	out->nheld = j;
	out->held_total = st.total;
out:
	hc_mem_free(st.open);
	if (rc != HC_OK)
		hc_refhist_fini(out);
	return rc;
}

void hc_refhist_fini(struct hc_refhist *r)
{
	hc_mem_free(r->steps);
	hc_mem_free(r->held);
	memset(r, 0, sizeof(*r));
}
