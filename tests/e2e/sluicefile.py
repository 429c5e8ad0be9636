"""Reads and rewrites sluice backup files (the layout of src/io/bfile.h) independently of sluice,
so tests can change a real backup the way an attacker would and keep every checksum right.

    f = SluiceFile.read(path)          # codec, index (the JSON document), stored segments
    f.index["entries"][3]["phase"] = -1
    f.write(path)                      # offsets, lengths and SHA-256s recomputed

Segments are kept as stored bytes (compressed members); replace one with set_text(i, text),
which compresses it as one member and fixes raw_length, or with set_stored(i, stored, raw_length).
"""
import hashlib
import json
import struct
import zlib

TRAILER_TAG = b"sluice-trailer 1 "
TRAILER_PAYLOAD = 123
GZ_HEAD = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff"
GZ_TAIL = b"\x03\x00" + b"\x00" * 8
GZ_CHUNK = 65000
TRAILER_SIZE = {"gzip": len(GZ_HEAD) + 6 + len(GZ_TAIL) + TRAILER_PAYLOAD,
                "zstd": 8 + TRAILER_PAYLOAD, "none": 3 + TRAILER_PAYLOAD + 1}
SKIPPABLE = 0x184D2A5B


def gz_member(payload: bytes) -> bytes:
    """An empty gzip member carrying payload in FEXTRA subfield "SL"."""
    return (GZ_HEAD + struct.pack("<H", len(payload) + 4) + b"SL"
            + struct.pack("<H", len(payload)) + payload + GZ_TAIL)


def gzip_member(chunks, level=9):
    """One gzip member holding the concatenation of chunks (an iterable of bytes), compressed
    piece by piece so that a large text never sits in memory whole."""
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    out = bytearray()
    for chunk in chunks:
        out += c.compress(chunk)
    out += c.flush()
    return bytes(out)


def encode_index(codec: str, doc: bytes) -> bytes:
    if codec == "gzip":
        return b"".join(gz_member(doc[i:i + GZ_CHUNK]) for i in range(0, len(doc), GZ_CHUNK))
    if codec == "zstd":
        return struct.pack("<II", SKIPPABLE, len(doc)) + doc
    return b"\n-- sluice-index: " + doc + b"\n"


def decode_index(codec: str, stored: bytes) -> bytes:
    if codec == "gzip":
        doc, p = b"", 0
        while p < len(stored):
            assert stored[p:p + 10] == GZ_HEAD and stored[p + 12:p + 14] == b"SL"
            n = struct.unpack("<H", stored[p + 14:p + 16])[0]
            doc += stored[p + 16:p + 16 + n]
            p += 16 + n + len(GZ_TAIL)
        return doc
    if codec == "zstd":
        return stored[8:]
    prefix = b"\n-- sluice-index: "
    assert stored.startswith(prefix) and stored.endswith(b"\n")
    return stored[len(prefix):-1]


def encode_trailer(codec: str, off: int, length: int, digest: str) -> bytes:
    payload = TRAILER_TAG + b"%020d %020d %s" % (off, length, digest.encode())
    if codec == "gzip":
        return gz_member(payload)
    if codec == "zstd":
        return struct.pack("<II", SKIPPABLE, len(payload)) + payload
    return b"-- " + payload + b"\n"


class SluiceFile:
    def __init__(self, codec, index, segments):
        self.codec = codec
        self.index = index        # the JSON document, as a dict
        self.segments = segments  # stored bytes of each entry, in file order

    @classmethod
    def read(cls, path):
        data = open(path, "rb").read()
        for codec, size in TRAILER_SIZE.items():
            tail = data[-size:]
            start = {"gzip": 16, "zstd": 8, "none": 3}[codec]
            framed = {"gzip": tail[:10] == GZ_HEAD and tail[12:14] == b"SL",
                      "zstd": tail[:4] == struct.pack("<I", SKIPPABLE),
                      "none": tail[:3] == b"-- "}[codec]
            if not framed or not tail[start:].startswith(TRAILER_TAG):
                continue
            fields = tail[start + len(TRAILER_TAG):start + TRAILER_PAYLOAD].split(b" ")
            off, length = int(fields[0]), int(fields[1])
            stored = data[off:off + length]
            assert hashlib.sha256(stored).hexdigest() == fields[2].decode()
            index = json.loads(decode_index(codec, stored))
            segments = [data[e["offset"]:e["offset"] + e["length"]] for e in index["entries"]]
            return cls(codec, index, segments)
        raise ValueError(f"{path}: no sluice trailer")

    def set_stored(self, i, stored: bytes, raw_length: int):
        self.segments[i] = stored
        self.index["entries"][i]["raw_length"] = raw_length

    def set_text(self, i, text: bytes):
        """Replaces segment i by text, compressed as one member of the file's codec."""
        assert self.codec in ("gzip", "none")
        self.set_stored(i, gzip_member([text]) if self.codec == "gzip" else text, len(text))

    def encode(self, fix_entries=True) -> bytes:
        """The file's bytes. With fix_entries, seq, offset, length and sha256 of every entry are
        recomputed from the segments (set it False to keep an index edited on purpose)."""
        out = bytearray()
        for seq, (e, stored) in enumerate(zip(self.index["entries"], self.segments)):
            if fix_entries:
                e.update(seq=seq, offset=len(out), length=len(stored),
                         sha256=hashlib.sha256(stored).hexdigest())
            out += stored
        doc = json.dumps(self.index, separators=(",", ":")).encode()
        index = encode_index(self.codec, doc)
        return bytes(out) + index + encode_trailer(self.codec, len(out), len(index),
                                                   hashlib.sha256(index).hexdigest())

    def write(self, path, fix_entries=True):
        with open(path, "wb") as f:
            f.write(self.encode(fix_entries))
