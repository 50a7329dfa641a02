"""Checksums S3 verifies: MD5, SHA-256 (payload hash), CRC32, CRC32C, SHA-1.

Design: a Digests object is fed each 1 MiB chunk of a body once and computes
exactly the digests the request asked for.  CRC32C comes from the AWS CRT
(python3-awscrt) when importable, else from a table-driven pure-Python fallback
(slow, but only a fallback).  S3 transmits additional checksums as base64 of
the big-endian digest; `b64()` gives that form.
"""
import base64
import hashlib
import zlib

try:
    from awscrt.checksums import crc32c as _crt_crc32c
except ImportError:  # pragma: no cover - depends on the machine
    _crt_crc32c = None


def _make_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = None


def crc32c(data, crc=0):
    if _crt_crc32c is not None:
        return _crt_crc32c(data, crc)
    global _TABLE
    if _TABLE is None:
        _TABLE = _make_table()
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class _Crc:
    def __init__(self, fn):
        self.fn = fn
        self.value = 0

    def update(self, data):
        self.value = self.fn(data, self.value)

    def digest(self):
        return self.value.to_bytes(4, "big")


# S3 algorithm name -> (header suffix, factory)
ALGORITHMS = {
    "CRC32": lambda: _Crc(zlib.crc32),
    "CRC32C": lambda: _Crc(crc32c),
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
}


def header_name(algorithm):
    return "x-amz-checksum-" + algorithm.lower()


def b64(raw):
    return base64.b64encode(raw).decode()


def combine(algorithm, part_digests):
    """S3's composite multipart checksum: checksum of the concatenated binary
    part checksums, then '-N'."""
    h = ALGORITHMS[algorithm]()
    for d in part_digests:
        h.update(d)
    return "%s-%d" % (b64(h.digest()), len(part_digests))


class Digests:
    """Feeds one body to MD5 (always), SHA-256 (when asked) and any of ALGORITHMS."""

    def __init__(self, sha256=False, algorithms=()):
        self.md5 = hashlib.md5()
        self.sha256 = hashlib.sha256() if sha256 else None
        self.extra = {a: ALGORITHMS[a]() for a in algorithms}
        self.size = 0

    def update(self, chunk):
        self.size += len(chunk)
        self.md5.update(chunk)
        if self.sha256 is not None:
            self.sha256.update(chunk)
        for h in self.extra.values():
            h.update(chunk)
