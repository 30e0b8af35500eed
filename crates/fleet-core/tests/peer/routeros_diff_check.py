"""Reads a RouterOS script on stdin with routeros-diff (a real, independent
parser) and prints what it found as JSON: each expression's section path,
command and argument names, and the diff of the script against itself."""
import json
import sys

from routeros_diff.parser import RouterOSConfig

text = sys.stdin.read()
config = RouterOSConfig.parse(text)
expressions = [
    {"path": s.path, "command": e.command, "keys": [a.key for a in e.args]}
    for s in config.sections
    for e in s.expressions
]
diff = config.diff(RouterOSConfig.parse(text))
print(json.dumps({"expressions": expressions, "diff": str(diff)}))
