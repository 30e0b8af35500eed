"""Drive routeros-sim with the Python librouteros client (a real peer).

Usage: librouteros_peer.py PORT USER PASSWORD
Prints one JSON object with what librouteros read, or exits non-zero.
"""
import json
import sys

import librouteros
from librouteros.exceptions import TrapError

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]

api = librouteros.connect(host="127.0.0.1", username=user, password=password, port=port)
resource = list(api("/system/resource/print"))
identity = list(api("/system/identity/print"))
interfaces = list(api.path("interface").select("name", "rx-byte"))
trap = None
try:
    list(api("/no/such/menu/print"))
except TrapError as e:
    trap = str(e)
api.close()

bad_login = None
try:
    librouteros.connect(host="127.0.0.1", username=user, password=password + "-wrong", port=port)
except Exception as e:  # librouteros raises TrapError for a refused login
    bad_login = str(e)

print(json.dumps({
    "resource": resource,
    "identity": identity,
    "interfaces": interfaces,
    "trap": trap,
    "bad_login": bad_login,
}, default=str))
