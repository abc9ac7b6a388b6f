"""Verifies Standard Webhooks signatures independently of carepath (Python's hmac only).

stdin: {"secret": "whsec_...", "messages": [{"id", "timestamp", "signature", "body"}]}
Prints "ok <n>" when every signature verifies, else names the first that does not and exits 1.
"""
import base64
import hashlib
import hmac
import json
import sys

doc = json.load(sys.stdin)
key = base64.b64decode(doc["secret"].removeprefix("whsec_"))
for i, m in enumerate(doc["messages"]):
    signed = f'{m["id"]}.{m["timestamp"]}.{m["body"]}'.encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in m["signature"].split() if s.startswith("v1,")]
    if not any(hmac.compare_digest(expected, o) for o in offered):
        print(f"message {i} ({m['id']}) does not verify")
        sys.exit(1)
print(f"ok {len(doc['messages'])}")
