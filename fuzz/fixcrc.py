#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Recomputes the header CRC and every section CRC of a snapshot file, the
# way fuzz_snapshot.c does before its second read. A crash that fuzz_snapshot
# found in the CRC-fixed copy of an input reproduces with the tool
# (`heapcycle report FILE`) only after this: it is how a reproducer becomes
# a tests/data/hostile/ file. Layout: man/heapcycle-snapshot.5.
#
# Usage: fuzz/fixcrc.py IN OUT
import struct
import sys
import zlib

FILE_HDR, SECT_HDR, SECT_CRC = 56, 16, 4


def fix(b):
    b = bytearray(b)
    if len(b) < FILE_HDR:
        return b
    struct.pack_into('<I', b, 52, zlib.crc32(bytes(b[:52])))
    pos = FILE_HDR
    while len(b) - pos >= SECT_HDR:
        slen = struct.unpack_from('<Q', b, pos + 8)[0]
        payload = pos + SECT_HDR
        if slen > len(b) - payload or len(b) - payload - slen < SECT_CRC:
            break
        struct.pack_into('<I', b, payload + slen,
                         zlib.crc32(bytes(b[pos:payload + slen])))
        pos = payload + slen + SECT_CRC
    return b


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit('usage: fixcrc.py IN OUT')
    with open(sys.argv[1], 'rb') as f:
        data = f.read()
    with open(sys.argv[2], 'wb') as f:
        f.write(fix(data))
