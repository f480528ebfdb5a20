#!/usr/bin/env python3
"""The inputs of tests/vectors/hashes.jsonl, one JSON object a line (make.sh adds the native
extension's answers). Deterministic: the same cases every run, so that the file changes only
when the hashes do.

Keys of every length from 0 to 70 bytes (each tail of murmur3's 4-byte and SipHash's 8-byte
blocks, with and without the prefix the hash puts before them), in ASCII digits, mixed
multi-byte UTF-8 (2-, 3- and 4-byte characters, emoji), and long keys; domains and webhook names
empty, ASCII and multi-byte; secrets of all zero bits, all one bits and random ones."""
import json
import random
import sys

rng = random.Random(20261207)
ALPHABETS = {
    "digits": "0123456789",
    "ascii": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-.+ /=",
    "utf8": "ab09:_-éкю€ह🙂👍🏽 ",
}


def text_of_bytes(alphabet, length):
    """A string of alphabet's characters whose UTF-8 is exactly length bytes long (ASCII fills
    what a multi-byte character would overshoot)."""
    out, size = [], 0
    while size < length:
        c = rng.choice(alphabet)
        if size + len(c.encode()) > length:
            c = rng.choice("az09")
        out.append(c)
        size += len(c.encode())
    return "".join(out)


def keys():
    """Every length 0..70 in each alphabet, phone numbers, and long keys."""
    for name, alphabet in ALPHABETS.items():
        for length in range(71):
            yield text_of_bytes(alphabet, length)
    for n in range(20):
        yield "2507" + "".join(rng.choice("0123456789") for _ in range(8))
    yield "🙂" * 64
    yield text_of_bytes(ALPHABETS["utf8"], 257)
    yield text_of_bytes(ALPHABETS["ascii"], 1000)
    yield "wamid.HBgMMjUwNzg4MTIzNDU2FQIAEhggQzNBMzZGRjM4QjU2NzNCMEQ5QjY3NjdEN0Q5MzEwNEEA"


DOMAINS = ["", "jobs", "marketplace", "property", "ai_agents", "é", "домен", "🙂", "x" * 70]
WEBHOOKS = ["whatsapp", "", "wébhook-ñame", "x" * 9]
SECRETS = [
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "00010203-0405-0607-0809-0a0b0c0d0e0f",
] + [
    "%08x-%04x-4%03x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                                     0x8000 | rng.getrandbits(14), rng.getrandbits(48))
    for _ in range(2)
]


def cases():
    all_keys = list(keys())
    for domain in DOMAINS:
        # Every key with the rollout's domains; a sample with the others.
        chosen = all_keys if domain in ("jobs", "") else rng.sample(all_keys, 40)
        for key in chosen:
            yield {"fn": "routing_bucket", "domain": domain, "key": key}
    for secret in SECRETS:
        for i, key in enumerate(all_keys):
            # The routing key of a decision is never empty (an empty one is no key).
            if key:
                yield {"fn": "sender_key", "secret": secret, "webhook_name": WEBHOOKS[i % len(WEBHOOKS)], "key": key}
        for key in all_keys:
            yield {"fn": "message_key", "secret": secret, "id": key}


for case in cases():
    sys.stdout.write(json.dumps(case, ensure_ascii=False) + "\n")
