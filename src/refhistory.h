/* SPDX-License-Identifier: MIT */
/*
 * Which references of an object were never released. The shim records the
 * g_object_ref/g_object_unref calls made from outside libgobject
 * (preload/shim_gref.c; the snapshot's REFS section); this module replays
 * one object's calls and pairs each release with a reference still open,
 * so that the reports can list the references left open at the end.
 * Symbolizing is the caller's: it passes one key per call (the function
 * that made the call), so the pairing runs and is tested without DWARF.
 */
#ifndef HC_SRC_REFHISTORY_H
#define HC_SRC_REFHISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "snapshot.h"

#define HC_REFHIST_NONE UINT32_MAX

/* Where a reference came from. */
enum hc_refhist_origin {
	/* A recorded call took it: g_object_ref, or g_object_ref_sink of an
	 * object that was not floating. */
	HC_REFHIST_CALL = 0,
	/* The reference the object was created with (g_object_new's, taken
	 * inside libgobject). A floating one belongs to the g_object_ref_sink
	 * or g_object_take_ref that took it over, once one did. */
	HC_REFHIST_INITIAL = 1,
	/* The count rose without a recorded call: a reference taken inside
	 * libgobject (its calls bypass the PLT), or before the shim saw it. */
	HC_REFHIST_UNSEEN = 2,
	/* Taken by a call whose record the shim dropped (it keeps an object's
	 * first calls and its latest ones). */
	HC_REFHIST_DROPPED = 3,
};

/* What became of the reference a call took (or of the initial one). */
enum hc_refhist_fate {
	HC_REFHIST_NA = 0,		/* the call took no reference */
	HC_REFHIST_HELD = 1,		/* still held at the end: never released */
	HC_REFHIST_RELEASED = 2,	/* by a recorded g_object_unref (released_by) */
	HC_REFHIST_RELEASED_UNSEEN = 3,	/* the count fell without a recorded call */
	HC_REFHIST_RELEASED_DROPPED = 4, /* by one of the calls the shim dropped */
};

/* References still open at the end, in runs of one origin. */
struct hc_refhist_ref {
	uint8_t origin;		/* enum hc_refhist_origin */
	uint32_t event;		/* CALL: its call; INITIAL: the ref_sink or take_ref
				 * that took it over; else HC_REFHIST_NONE */
	uint64_t n;		/* references in the run: 1 for CALL and INITIAL */
};

/* What the pairing made of one call. */
struct hc_refhist_step {
	uint8_t fate;		/* of the reference it took: enum hc_refhist_fate */
	uint32_t released_by;	/* fate RELEASED: the g_object_unref that did */
	/* A g_object_unref: the reference it released, as origin and the call
	 * that took it (HC_REFHIST_NONE for the initial, unseen or dropped ones);
	 * unmatched when nothing was open to release. */
	uint8_t released_origin;
	uint32_t releases;
	bool unmatched;
};

struct hc_refhist {
	uint32_t nevents;
	struct hc_refhist_step *steps;	/* one per event */
	uint32_t nheld;
	struct hc_refhist_ref *held;	/* open at the end, oldest first */
	uint64_t held_total;		/* their references: the final count */
	bool has_initial;		/* the history starts with the initial reference */
	uint8_t initial_fate;		/* of the initial reference not taken over */
	uint32_t initial_released_by;
	uint64_t unseen_refs;		/* count rises no recorded call explains */
	uint64_t unseen_unrefs;		/* count falls no recorded call explains */
	uint64_t unmatched_unrefs;	/* releases with nothing open to release */
	bool dropped;			/* calls were dropped: pairings across them are guesses */
};

/*
 * Replays h's calls. The count before the first call gives the references
 * the object already had: the initial one and, above 1, unseen ones. Each
 * g_object_unref releases a reference taken by a call from the same
 * function (keys[i] equal and non-zero; initial_key is the initial
 * reference's: the function that allocated the object), the initial
 * reference first, else the most recent one so taken; failing that, the
 * most recent open reference. When a call's count differs from what the calls before it explain,
 * the difference is unseen references taken or released (an unseen release
 * closes unseen references first); the same for h->count at the end when it
 * is known. References are interchangeable, so which one is "never
 * released" is a heuristic; the counts are exact.
 * keys may be NULL (no function is known). On success out owns its arrays
 * (hc_refhist_fini). Returns HC_OK, HC_ERR_ARG (h has no events or a gap
 * past them), or HC_ERR_NOMEM. Memory grows with h->nevents only, whatever
 * the counts say.
 */
int hc_refhist_pair(const struct hc_ref_history *h, const uint64_t *keys, uint64_t initial_key,
		    struct hc_refhist *out);
void hc_refhist_fini(struct hc_refhist *r);

/* The history of block in s, or NULL. Cannot fail. */
const struct hc_ref_history *hc_refhist_find(const struct hc_snapshot *s, uint64_t block);

/* "g_object_ref", "g_object_unref", "g_object_ref_sink", "g_object_take_ref",
 * or "unknown". Cannot fail. */
const char *hc_refhist_call_name(uint8_t kind);

/* How much ev changes the count: +1, -1 or 0 (a floating reference taken
 * over, or g_object_take_ref of an object that was not floating). Cannot
 * fail. */
int hc_refhist_delta(const struct hc_ref_event *ev);

#endif
