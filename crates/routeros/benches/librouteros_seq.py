"""Sequential round trips of Python librouteros against routeros-sim.

Usage: librouteros_seq.py PORT PASSWORD COUNT  -> prints commands/s
"""
import sys
import time

import librouteros

port, password, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
api = librouteros.connect(host="127.0.0.1", username="admin", password=password, port=port)
for _ in range(200):
    tuple(api("/system/identity/print"))
start = time.perf_counter()
for _ in range(count):
    tuple(api("/system/identity/print"))
elapsed = time.perf_counter() - start
api.close()
print(f"{count / elapsed:.0f}")
