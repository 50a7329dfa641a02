"""Helpers shared by the emulator core tests (test_emu_ops/keys/persist/faults/stats)."""
import base64
import hashlib
import socket
import time
import xml.etree.ElementTree as ET

from awscrt.checksums import crc32c

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
MIB = 1024 * 1024


def xml(resp):
    """The response document with namespaces dropped from tags."""
    root = ET.fromstring(resp.body)
    for e in root.iter():
        if isinstance(e.tag, str) and "}" in e.tag:
            e.tag = e.tag.split("}", 1)[1]
    return root


def error(resp):
    """(status, code, {element: text}) of an S3 error response."""
    root = xml(resp)
    assert root.tag == "Error", resp
    fields = {c.tag: c.text or "" for c in root}
    return resp.status, fields["Code"], fields


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def crc32c_b64(data):
    return base64.b64encode(crc32c(data).to_bytes(4, "big")).decode()


def wait_until(fn, timeout=10.0, step=0.05):
    """Polls fn() until it returns a true value; bounded by `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def raw_exchange(port, head, body=b"", read_timeout=10.0, send_body=True):
    """Sends raw bytes (request head, then body) on a fresh socket and returns
    everything received until the server closes or `read_timeout` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        s.sendall(head)
        if send_body and body:
            s.sendall(body)
        out = b""
        deadline = time.monotonic() + read_timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out


def request_head(method, target, headers):
    lines = ["%s %s HTTP/1.1" % (method, target)] + ["%s: %s" % kv for kv in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
