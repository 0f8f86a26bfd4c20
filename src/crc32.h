/* SPDX-License-Identifier: MIT */
/* CRC-32 (IEEE 802.3, the zlib polynomial) for snapshot sections. */
#ifndef HC_SRC_CRC32_H
#define HC_SRC_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc over n bytes; start with 0. Cannot fail. AS-Safe. */
uint32_t hc_crc32(uint32_t crc, const void *data, size_t n);

#endif
