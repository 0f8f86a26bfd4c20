/* SPDX-License-Identifier: MIT */
/*
 * Turns the return addresses of a snapshot's stacks into function, file and
 * line, with inlined frames, using the DWARF of the modules the snapshot
 * names (libdw; separate debug files found by build-id). Runs in the tool,
 * never in the shim. A module whose file is gone, or whose build-id differs
 * from the one recorded, is said to be stale and its frames keep only their
 * module and offset: never a wrong name.
 */
#ifndef HC_SRC_SYMBOLIZE_H
#define HC_SRC_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "snapshot.h"

struct hc_frame {
	uint64_t pc;		/* as recorded */
	const char *function;	/* demangled; NULL when unknown */
	const char *file;	/* NULL when unknown */
	unsigned line;		/* 0 when unknown */
	unsigned column;
	const char *module;	/* path of the module, NULL when no module has pc */
	uint64_t module_offset;	/* pc - module bias */
	bool inlined;		/* this frame was inlined into the next one */
	bool stale;		/* the module's file is missing or was rebuilt */
};

struct hc_symbolizer;

/* Returns HC_OK with *out set, or HC_ERR_NOMEM. Modules are opened lazily,
 * once each. The snapshot must outlive the symbolizer. */
int hc_symbolizer_new(const struct hc_snapshot *s, struct hc_symbolizer **out);
void hc_symbolizer_free(struct hc_symbolizer *sym);

/*
 * Symbolizes pc. return_address: pc is a return address (every frame but a
 * signal frame), so the call instruction at pc - 1 is looked up. Writes the
 * inline chain, innermost first, to out[0..max) and returns how many frames
 * it wrote (at least 1 when max >= 1: an unknown pc gets a frame with only
 * pc and module). Strings stay valid while sym lives. Results are cached by
 * pc. Cannot fail (unknown means NULL fields).
 */
unsigned hc_symbolize(struct hc_symbolizer *sym, uint64_t pc, bool return_address,
		      struct hc_frame *out, unsigned max);

/* True if pc lies in heapcycle's own shim (frames the report hides). */
bool hc_symbolizer_is_internal(struct hc_symbolizer *sym, uint64_t pc);

/* Returns the demangled form of a C++ symbol into buf, or name itself when
 * it is not mangled. Cannot fail (truncates). */
const char *hc_demangle(const char *name, char *buf, size_t len);

#endif
