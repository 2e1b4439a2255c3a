#!/usr/bin/env python3
"""Re-verifies an IdentDesk audit export (GET /api/v1/audit/export) without IdentDesk.

Usage: verify-audit-export.py EXPORT.ndjson [EXPECTED_HEAD_HASH]

The first line is the head (tenantId, headSeq, headHash); every further line is one event.
Each event's hash is sha256(prev_hash + compact JSON of tenant_id, seq, at_ms, actor, action,
subject, detail in that order); the first prev_hash is 64 zeros; sequence numbers run 1, 2, 3
without gaps up to the head. Give the head hash you noted at export time (e.g. from a signed
report) to know the export itself was not rewritten. Exits 0 when everything holds, 1 and
names the first broken event otherwise. Python's standard library only.
"""

import hashlib
import json
import sys

GENESIS = "0" * 64


def sealed(event):
    fields = {
        "tenant_id": event["tenantId"],
        "seq": event["seq"],
        "at_ms": event["atMs"],
        "actor": event["actor"],
        "action": event["action"],
        "subject": event["subject"],
        "detail": event["detail"],
    }
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def main(path, expected_head=None):
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f.read().split("\n") if line]
    head = json.loads(lines[0])
    prev, expected_seq = GENESIS, 1
    for line in lines[1:]:
        event = json.loads(line)
        seq = event["seq"]
        if event["tenantId"] != head["tenantId"]:
            return fail(seq, "belongs to another tenant")
        if seq != expected_seq:
            return fail(expected_seq, f"is missing (the next event is {seq})")
        if event["prevHash"] != prev:
            return fail(seq, f"does not point to the hash of event {seq - 1}")
        computed = hashlib.sha256(prev.encode("ascii") + sealed(event)).hexdigest()
        if computed != event["hash"]:
            return fail(seq, "was changed after it was written (its hash does not match)")
        prev, expected_seq = event["hash"], seq + 1
    if expected_seq - 1 != head["headSeq"] or prev != head["headHash"]:
        return fail(expected_seq, f"is missing: the chain ends at {expected_seq - 1}, the head is {head['headSeq']}")
    if expected_head is not None and prev != expected_head:
        return fail(head["headSeq"], "is not the head you expected: the export differs from the one you noted")
    print(f"ok: {expected_seq - 1} events of tenant {head['tenantId']} verify, head {prev}")
    return 0


def fail(seq, why):
    print(f"broken at event {seq}: event {seq} {why}")
    return 1


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
