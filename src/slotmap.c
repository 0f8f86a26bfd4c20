/* SPDX-License-Identifier: MIT */
/*
 * The one out-of-line part of the record map (slotmap.h): resizing, which
 * allocates and is off the hot path.
 */
#include "slotmap.h"

int hc_slotmap_resize(struct hc_slotmap *m, uint32_t nslots)
{
	uint32_t old_n = m->mask + 1, new_mask = nslots - 1, i;
	struct hc_slot *fresh, *old = m->slots;

	if (nslots == 0 || (nslots & new_mask) || nslots <= m->count)
		return HC_ERR_ARG;
	fresh = hc_mem_calloc(nslots, sizeof(*fresh));
	if (!fresh)
		return HC_ERR_NOMEM;
	for (i = 0; i < old_n; i++) {
		uint32_t j;

		if (!old[i].addr)
			continue;
		j = (uint32_t)hc_slot_hash(old[i].addr) & new_mask;
		while (fresh[j].addr)
			j = (j + 1) & new_mask;
		fresh[j] = old[i];
	}
	m->slots = fresh;
	__atomic_store_n(&m->mask, new_mask, __ATOMIC_RELAXED);
	hc_mem_free(old);
	return HC_OK;
}
