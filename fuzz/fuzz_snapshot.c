/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the snapshot reader and everything downstream of
 * it. DESIGN.md's contract is that a hostile file gets a clear error, never
 * a crash; the corollary fuzzed here is that a file the reader accepts is
 * safe for the analysis and the report writers, which index without bounds
 * checks because the reader promised. Every section carries a CRC32, which
 * a mutator almost never gets right, so each input is read twice: as it is
 * (the CRC checks themselves, and the header) and with every CRC recomputed
 * (the section parsers behind them). The reader is not changed for fuzzing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "crc32.h"
#include "report.h"
#include "snapshot.h"

/* Layout constants of man/heapcycle-snapshot.5 (also in snapshot_read.c). */
#define FZ_FILE_HDR 56u
#define FZ_SECT_HDR 16u
#define FZ_SECT_CRC 4u

static FILE *fz_null;

static void fz_st32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint64_t fz_ld64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * Rewrites the header CRC and every section CRC that the section lengths
 * let us find, so that mutations of the payloads reach the parsers. Stops
 * at the first section whose length runs past the end (the reader will
 * reject it as truncated, which the unmodified read already covers).
 */
static void fz_fix_crcs(unsigned char *b, size_t len)
{
	size_t pos = FZ_FILE_HDR;

	if (len < FZ_FILE_HDR)
		return;
	fz_st32(b + 52, hc_crc32(0, b, 52));
	while (len - pos >= FZ_SECT_HDR) {
		uint64_t slen = fz_ld64(b + pos + 8);
		size_t payload = pos + FZ_SECT_HDR;

		if (slen > len - payload || len - payload - slen < FZ_SECT_CRC)
			return;
		fz_st32(b + payload + slen, hc_crc32(0, b + pos, FZ_SECT_HDR + slen));
		pos = payload + slen + FZ_SECT_CRC;
	}
}

/* What a consumer of an accepted snapshot may rely on, checked here so that
 * a reader bug shows up as a crash even where the analysis would not read
 * out of bounds by luck. */
static void fz_check_invariants(const struct hc_snapshot *s)
{
	uint64_t i;
	uint32_t k;

	for (i = 0; i < s->nblocks; i++) {
		const struct hc_block *b = &s->blocks[i];

		if (b->stack >= s->nstacks || b->size > UINT64_MAX - b->addr)
			abort();
		if (i > 0 && b->addr < s->blocks[i - 1].addr + s->blocks[i - 1].size)
			abort();
	}
	for (i = 0; i < s->nedges; i++) {
		const struct hc_edge *e = &s->edges[i];

		if (e->from >= s->nblocks || e->to >= s->nblocks ||
		    e->from_offset >= s->blocks[e->from].size)
			abort();
	}
	for (k = 0; k < s->nstacks; k++) {
		const struct hc_stack *st = &s->stacks[k];
		uint32_t j;

		if (st->nframes > HC_SNAPSHOT_MAX_FRAMES)
			abort();
		for (j = 0; j < st->nframes; j++) {
			int m = hc_snapshot_module_of(s, st->frames[j]);

			if (m >= 0 && (uint32_t)m >= s->nmodules)
				abort();
		}
	}
	for (k = 0; k < s->nmodules; k++)
		if (!s->modules[k].path || s->modules[k].build_id_len > HC_SNAPSHOT_MAX_BUILD_ID)
			abort();
}

static void fz_one(const unsigned char *buf, size_t len)
{
	struct hc_snapshot *s = NULL;
	struct hc_analysis *an = NULL;
	struct hc_error err;
	struct hc_report_opts opts = { .color = false, .show_reachable = true, .max_frames = 0 };
	struct hc_report_input in;
	char line[256];
	int rc;

	rc = hc_snapshot_read_mem(buf, len, &s, &err);
	/* The error line the tool prints must be formattable whatever the input. */
	hc_error_format(&err, "fuzz.hcs", line, sizeof(line));
	if (strchr(line, '\n'))
		abort();	/* the tool promises one line */
	if (rc != HC_OK) {
		if (s || err.status != rc || memchr(err.what, '\0', sizeof(err.what)) == NULL)
			abort();
		return;
	}
	if (!s)
		abort();
	fz_check_invariants(s);
	/* Out of memory is the only excuse for an analysis to refuse an
	 * accepted snapshot: HC_ERR_ARG would mean the reader let through
	 * an index the analysis rejects. */
	rc = hc_analyze(s, &an);
	if (rc == HC_ERR_ARG)
		abort();
	if (rc == HC_OK) {
		/*
		 * No symbolizer: it would open whatever files the fuzzed
		 * module paths name, which fuzzes libdw and the machine's
		 * files rather than heapcycle, and is slow. The writers take
		 * a NULL symbolizer (frames with pc and module only).
		 */
		in.path = "fuzz.hcs";
		in.snap = s;
		in.an = an;
		in.sym = NULL;
		hc_report_json(fz_null, &in, 1, &opts);
		hc_report_text(fz_null, &in, 1, &opts);
		hc_analysis_free(an);
	}
	hc_snapshot_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy;

	if (!fz_null) {
		fz_null = fopen("/dev/null", "w");
		if (!fz_null)
			abort();
	}
	fz_one(data, size);
	/* A copy of exactly size bytes, so ASan sees any read past the end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	fz_fix_crcs(copy, size);
	if (size >= FZ_FILE_HDR && memcmp(copy, data, size) != 0)
		fz_one(copy, size);
	free(copy);
	return 0;
}
