# SPDX-License-Identifier: MIT
# python3 dict/list churn: builds and drops dicts, lists, strings and tuples
# of mixed sizes. Usage: python3 churn.py ROUNDS
import sys

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
keep = []
total = 0
for r in range(rounds):
    d = {}
    for i in range(20000):
        k = "key%d_%d" % (r, i)
        d[k] = [i, str(i) * (i % 7 + 1), (i, r), {"a": i}]
    lst = sorted(d.items(), key=lambda kv: len(kv[1][1]))
    total += len(lst)
    keep.append(lst[::1000])
    if len(keep) > 8:
        keep.pop(0)
    big = [bytearray(64 + (i % 200)) for i in range(5000)]
    total += sum(len(b) for b in big)
print(total)
