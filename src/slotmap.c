/* SPDX-License-Identifier: MIT */
/*
 * The one out-of-line part of the record map (slotmap.h): resizing, which
 * allocates and is off the hot path.
 */
#include "slotmap.h"

int hc_slotmap_resize(struct hc_slotmap *m, uint32_t nslots)
{
	struct hc_tslot *fresh, *old = m->slots;
	uint32_t old_n = m->nslots, i;

	if (nslots < 2 || nslots <= m->count)
		return HC_ERR_ARG;
	fresh = hc_mem_calloc(nslots, sizeof(*fresh));
	if (!fresh)
		return HC_ERR_NOMEM;
	for (i = 0; i < old_n; i++) {
		uint32_t j;

		if (!old[i].w0)
			continue;
		j = hc_slotmap_home(hc_slot_hash(hc_tslot_addr(&old[i])), nslots);
		while (fresh[j].w0)
			j = hc_slotmap_next(j, nslots);
		fresh[j] = old[i];
	}
	m->slots = fresh;
	__atomic_store_n(&m->nslots, nslots, __ATOMIC_RELAXED);
	hc_mem_free(old);
	return HC_OK;
}
