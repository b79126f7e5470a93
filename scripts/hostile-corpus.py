#!/usr/bin/env python3
"""Writes the corpus of hostile inputs kept as regression tests (issue 7).

    scripts/hostile-corpus.py

Writes nar/src/test/resources/org/granary/nar/hostile/ (NARs) and
store-core/src/test/resources/org/granary/store/hostile/ (exports, reg-info texts, and a table of store
path and hash strings), each with an index.tsv that says, per file, the outcome each parser must give and
why the case is there. The tests NarHostileCorpusTest and StoreHostileCorpusTest read the indexes.

Index columns (tab-separated): file, reader outcome, restore/import outcome, why. An outcome is `ok` or
the simple name of the exception class, with `@OFFSET` (a NAR or export byte offset) or `@LINE` (a
reg-info line) where the parser reports one.
"""
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAR_DIR = os.path.join(ROOT, "nar/src/test/resources/org/granary/nar/hostile")
STORE_DIR = os.path.join(ROOT, "store-core/src/test/resources/org/granary/store/hostile")


def u64(n):
    return struct.pack("<Q", n & 0xFFFFFFFFFFFFFFFF)


def s(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return u64(len(b)) + b + b"\0" * ((8 - len(b) % 8) % 8)


def strs(*tokens):
    return b"".join(s(t) for t in tokens)


MAGIC = s("nix-archive-1")


def regular(contents, executable=False):
    return strs("(", "type", "regular") + (strs("executable", "") if executable else b"") + \
        s("contents") + s(contents) + s(")")


def symlink(target):
    return strs("(", "type", "symlink", "target") + s(target) + s(")")


def directory(*entries):
    out = strs("(", "type", "directory")
    for name, node in entries:
        out += strs("entry", "(", "name") + s(name) + s("node") + node + s(")")
    return out + s(")")


def nested(depth, name="d"):
    out = strs("(", "type", "directory")
    for _ in range(depth):
        out += strs("entry", "(", "name", name, "node", "(", "type", "directory")
    for _ in range(depth):
        out += strs(")", ")")
    return out + s(")")


def offset_of(data, needle, nth=1):
    at = -1
    for _ in range(nth):
        at = data.index(needle, at + 1)
    return at


NARS = []


def nar(name, data, reader, restore, why):
    NARS.append((name, data, reader, restore, why))


def build_nars():
    d = MAGIC + directory(("l", symlink("../canary")), ("l", directory(("secret", regular(b"owned\n")))))
    nar("symlink-then-directory-of-same-name.nar", d,
        "NarFormatException@%d" % offset_of(d, s("l"), 2), "same",
        "a symlink to the canary, then a directory of the same name holding a file: a restore that "
        "accepted the duplicate would write through the link")
    d = MAGIC + directory(("l", symlink("../canary")), ("l/secret", regular(b"owned\n")))
    nar("name-through-symlink.nar", d, "NarFormatException@%d" % offset_of(d, s("l/secret")), "same",
        "a symlink to the canary, then an entry named through it")
    for label, bad in [("dotdot", ".."), ("dot", "."), ("empty", ""), ("nul", "a\0b"), ("slash", "/"),
                       ("climbing", "../canary")]:
        d = MAGIC + directory((bad, regular(b"owned\n")))
        nar("name-%s.nar" % label, d, "NarFormatException@%d" % (offset_of(d, s("name")) + 16), "same",
            "an entry name %r that must never become a path element" % bad)
    d = MAGIC + directory(("b", regular(b"")), ("a", regular(b"")))
    nar("unsorted-entries.nar", d, "NarFormatException@%d" % offset_of(d, s("a")), "same",
        "entries out of order: a second chance at a name already created")
    d = MAGIC + symlink("/etc/shadow")
    nar("top-symlink-absolute.nar", d, "ok", "ok", "a symlink out of the target is created, never followed")
    d = MAGIC + directory(("a", symlink("..")), ("b", symlink("/")),
                          ("c", directory(("d", regular(b"#!/bin/sh\n", True)))))
    nar("symlinks-out-then-entries.nar", d, "ok", "ok",
        "symlinks to the parent and to / before sorted entries: the entries go into directories the "
        "restore made, not through the links")
    d = MAGIC + strs("(", "type", "regular", "contents") + u64(1 << 62) + b"\0" * 16
    nar("file-size-2-62.nar", d, "NarFormatException@%d" % len(d), "same",
        "a file of 2^62 bytes with 16 present: streamed, never allocated, refused at the end of the input")
    d = MAGIC + strs("(", "type", "regular", "contents") + u64(1 << 63) + b"\0" * 16
    nar("file-size-2-63.nar", d, "NarFormatException@%d" % (len(d) - 24), "same",
        "a file size that is negative as a signed 64-bit number")
    d = MAGIC + strs("(", "type", "directory", "entry", "(", "name") + u64(1 << 62) + b"a" * 16
    nar("name-length-2-62.nar", d, "NarFormatException@%d" % (len(d) - 24), "same",
        "an entry name of 2^62 bytes: refused before anything is allocated or read")
    d = MAGIC + strs("(", "type", "symlink", "target") + u64((1 << 64) - 1) + b"a" * 16
    nar("target-length-max.nar", d, "NarFormatException@%d" % (len(d) - 24), "same",
        "a symlink target of 2^64-1 bytes (an int cast would make it -1)")
    d = u64(1 << 62) + b"nix-archive-1"
    nar("magic-length-2-62.nar", d, "NarFormatException@0", "same", "a token of 2^62 bytes at the very start")
    d = MAGIC + symlink("a" * 4096)
    nar("target-4096.nar", d, "NarFormatException@%d" % (offset_of(d, s("target")) + 16), "same",
        "a symlink target one byte longer than PATH_MAX allows")
    d = MAGIC + directory(("n" * 255, regular(b"x")))
    nar("name-255.nar", d, "ok", "ok", "the longest entry name a file system takes")
    d = MAGIC + directory(("n" * 256, regular(b"x")))
    nar("name-256.nar", d, "NarFormatException@%d" % (offset_of(d, s("name")) + 16), "same",
        "an entry name one byte longer than NAME_MAX")
    d = MAGIC + strs("(", "type", "regular", "contents") + s(b"x") + strs("executable", "", ")")
    nar("executable-after-contents.nar", d, "NarFormatException@%d" % offset_of(d, s("executable")), "same",
        "the executable marker where only ) may come")
    prefix = MAGIC + strs("(", "type", "regular", "contents") + u64(1)
    d = prefix + b"x" + b"\0\0\0\x01\0\0\0" + s(")")
    nar("nonzero-padding.nar", d, "NarFormatException@%d" % (len(prefix) + 4), "same",
        "a padding byte that is not zero: two encodings of one tree would hash differently")
    d = MAGIC + nested(600)
    nar("nested-600.nar", d, "ok", "ok", "600 nested directories: parsed without recursion, restored whole")
    d = MAGIC + nested(20, "n" * 255)
    nar("nested-long-names.nar", d, "ok", "NarRestoreException",
        "20 nested directories of 255-byte names: the restore fails when the path outgrows PATH_MAX on the "
        "way down and leaves nothing")
    d = MAGIC + directory((b"\xff\xfe", regular(b"x")))
    nar("name-invalid-utf8.nar", d, "ok", "NarRestoreException",
        "a name that is not UTF-8: valid NAR, but a JVM under a UTF-8 locale cannot create it exactly")
    d = MAGIC + regular(b"hello\n") + b"trailing garbage"
    nar("trailing-garbage.nar", d, "ok", "ok", "bytes after the NAR's end: never read")
    d = MAGIC + symlink(b"a\0b")
    nar("target-nul.nar", d, "NarFormatException@%d" % (offset_of(d, s("target")) + 16), "same",
        "a symlink target with a NUL, which symlink(2) would cut")
    d = MAGIC + strs("(", "type", "regular", "contents") + s(b"x") + s("contents") + s(b"y") + s(")")
    nar("two-contents.nar", d, "NarFormatException@%d" % offset_of(d, s("contents"), 2), "same",
        "a regular file with two contents fields")
    d = b""
    nar("empty.nar", d, "NarFormatException@0", "same", "no bytes at all")
    d = MAGIC + directory(("a", symlink("../canary/secret")), ("b", regular(b"x")))[:-8]
    nar("truncated-after-symlink.nar", d, "NarFormatException@%d" % len(d), "same",
        "cut short after a symlink out was created: the restore must remove it again")


def write_index(directory, index, header, rows):
    """Writes each row's file (its first column names it, its data is files[name]) and the index."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, index), "w") as out:
        out.write("# " + "\t".join(header) + " (written by scripts/hostile-corpus.py)\n")
        for name, data, columns in rows:
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)
            out.write("\t".join([name] + columns) + "\n")


def write_nars():
    write_index(NAR_DIR, "index.tsv", ["file", "reader", "restore", "why"],
                [(name, data, [reader, reader if restore == "same" else restore, why])
                 for name, data, reader, restore, why in NARS])


# ---------------------------------------------------------------- exports

H = "0123456789abcdfghijklmnpqrsvwxyz"


def path(n, name, store="/gnu/store"):
    return "%s/%s-%s" % (store, (H[n % 32] * 32), name)


def item(nar_bytes, p, refs=(), deriver="", signature=None):
    out = u64(1) + nar_bytes + u64(0x4558494E) + s(p) + u64(len(refs)) + b"".join(s(r) for r in refs) + s(deriver)
    return out + (u64(0) if signature is None else u64(1) + s(signature))


EXPORTS = []


def export(name, data, reader, importing, why):
    EXPORTS.append((name, data, reader, importing, why))


def build_exports():
    ok = MAGIC + regular(b"hello\n")
    d = u64(1) + ok + u64(0x4558494E) + s(path(1, "a")) + u64(1 << 62) + s(path(2, "b"))
    export("reference-count-2-62.export", d, "ExportFormatException@%d" % len(d), "same",
           "2^62 references announced, one present: read one by one, nothing allocated for the count")
    d = u64(1) + ok + u64(0x4558494E) + u64(1 << 62) + b"/gnu/store/"
    export("path-length-2-62.export", d, "ExportFormatException@%d" % (len(d) - 19), "same",
           "a store path of 2^62 bytes: refused before it is read")
    d = item(ok, path(1, "a"), signature="x")[:-16] + u64(1 << 62) + b"sig"
    export("signature-length-2-62.export", d, "ExportFormatException@%d" % (len(d) - 11), "same",
           "a signature of 2^62 bytes")
    d = u64(2)
    export("item-marker-2.export", d, "ExportFormatException@0", "same", "an item marker other than 0 or 1")
    d = u64(1) + ok + u64(0x4558494F) + s(path(1, "a")) + u64(0) + s("") + u64(0) + u64(0)
    export("bad-magic.export", d, "ExportFormatException@%d" % (8 + len(ok)), "same", "NIXE misspelt")
    for label, p in [("climbing", "/gnu/store/../../etc/passwd"),
                     ("file-inside-item", path(1, "a") + "/../../../etc/passwd"),
                     ("other-store-dir", path(1, "a", "/nix/store")),
                     ("dotted-name", path(1, ".."))]:
        d = item(ok, p) + u64(0)
        export("path-%s.export" % label, d, "ExportFormatException@%d" % (8 + len(ok) + 8), "same",
               "the item's path %r must be refused before the item is named or moved" % p)
    d = item(ok, path(1, "a"), deriver="not a path") + u64(0)
    export("deriver-garbage.export", d, "ExportFormatException@%d" % offset_of(d, s("not a path")), "same",
           "a deriver that is not a store path")
    d = item(ok, path(1, "a"), refs=(path(2, "b"), path(2, "b"))) + u64(0)
    export("repeated-reference.export", d, "ExportFormatException@%d" % offset_of(d, s(path(2, "b")), 2), "same",
           "a reference given twice")
    bad = MAGIC + directory(("l", symlink("../canary")), ("l", regular(b"owned\n")))
    d = item(bad, path(1, "a")) + u64(0)
    export("nar-duplicate-through-symlink.export", d,
           "NarFormatException@%d" % (8 + offset_of(bad, s("l"), 2)), "same",
           "an item whose NAR has a symlink and then a file of the same name")
    d = item(ok, path(1, "a"))
    export("no-end-marker.export", d, "ExportFormatException@%d" % len(d), "same",
           "an item and no end marker: the item is read (and imported), the next read fails at the end")
    d = item(ok, path(1, "a"), refs=(path(2, "b"),)) + item(MAGIC + regular(b"b\n"), path(2, "b")) + u64(0)
    export("reference-to-a-later-item.export", d, "ok", "MissingReferenceException",
           "an item referring to one that comes after it: the import refuses it and leaves nothing of it")
    d = item(MAGIC + strs("(", "type", "symlink", "target") + s("../../../../canary/secret") + s(")"),
             path(3, "link-out")) + u64(0)
    export("symlink-item-to-canary.export", d, "ok", "ok",
           "an item that is a symlink to the canary (relative to a store at SANDBOX/work/CASE): imported "
           "and canonicalised without changing the canary's mode or time")
    d = item(ok, path(1, "a")) + item(ok, path(1, "a")) + u64(0)
    export("same-item-twice.export", d, "ok", "ok", "the same item twice: the second is read and discarded")
    d = u64(1) + ok + u64(0x4558494E) + s(b"/gnu/store/" + b"\xff" * 32 + b"-a") + u64(0) + s("") + u64(0) + u64(0)
    export("path-invalid-utf8.export", d, "ExportFormatException@%d" % (8 + len(ok) + 8), "same",
           "a path that is not UTF-8")


def write_exports():
    write_index(STORE_DIR, "exports.tsv", ["file", "reader", "import", "why"],
                [(name, data, [reader, reader if importing == "same" else importing, why])
                 for name, data, reader, importing, why in EXPORTS])


# ---------------------------------------------------------------- registration texts

REGS = []


def reg(name, form, text, outcome, why):
    REGS.append((name, form, text, outcome, why))


def build_regs():
    a, b = path(1, "a"), path(2, "b")
    h = "cf9700eb" * 8
    reg("count-20-digits.reginfo", "reginfo", "%s\n\n99999999999999999999\n" % a,
        "RegistrationFormatException@3", "a reference count that overflows a long")
    reg("count-over-max.reginfo", "reginfo", "%s\n\n16777217\n" % a, "RegistrationFormatException@3",
        "a reference count above the limit, refused before any allocation")
    reg("count-negative.reginfo", "reginfo", "%s\n\n-1\n" % a, "RegistrationFormatException@3", "a negative count")
    reg("count-plus.reginfo", "reginfo", "%s\n\n+1\n%s\n" % (a, b), "RegistrationFormatException@3",
        "a sign Long.parseLong would take")
    reg("count-leading-zero.reginfo", "reginfo", "%s\n\n01\n%s\n" % (a, b), "RegistrationFormatException@3",
        "a leading zero: one text per number")
    reg("count-arabic-digit.reginfo", "reginfo", "%s\n\n\u0661\n%s\n" % (a, b), "RegistrationFormatException@3",
        "U+0661 ARABIC-INDIC DIGIT ONE, which Character.digit and Long.parseLong accept")
    reg("crlf.reginfo", "reginfo", "%s\r\n\r\n0\r\n" % a, "RegistrationFormatException@1", "CR LF line ends")
    reg("no-final-lf.reginfo", "reginfo", "%s\n\n0" % a, "RegistrationFormatException@3", "a last line without LF")
    reg("line-5000.reginfo", "reginfo", "/gnu/store/" + "a" * 5000 + "\n\n0\n", "RegistrationFormatException@1",
        "a line longer than any store path, refused without reading it whole")
    reg("count-short.reginfo", "reginfo", "%s\n\n3\n%s\n" % (a, b), "RegistrationFormatException@5",
        "three references announced, one given")
    reg("path-climbing.reginfo", "reginfo", "/gnu/store/../etc/passwd\n\n0\n", "RegistrationFormatException@1",
        "a path that climbs out of the store dir")
    reg("path-nul.reginfo", "reginfo", "%s\0x\n\n0\n" % a, "RegistrationFormatException@1", "a NUL in a path")
    reg("empty.reginfo", "reginfo", "", "ok", "no items at all")
    reg("only-lf.reginfo", "reginfo", "\n", "RegistrationFormatException@1", "an empty first line")
    reg("size-negative.dumpdb", "dumpdb", "%s\n%s\n-1\n\n0\n" % (a, h), "RegistrationFormatException@3",
        "a negative NAR size")
    reg("size-overflow.dumpdb", "dumpdb", "%s\n%s\n9223372036854775808\n\n0\n" % (a, h),
        "RegistrationFormatException@3", "a NAR size of 2^63")
    reg("hash-md5.dumpdb", "dumpdb", "%s\nmd5:%s\n1\n\n0\n" % (a, "0" * 32), "RegistrationFormatException@2",
        "an MD5 where the NAR SHA-256 belongs")
    reg("hash-short.dumpdb", "dumpdb", "%s\n%s\n1\n\n0\n" % (a, h[:-1]), "RegistrationFormatException@2",
        "a hash one digit short")
    reg("hash-upper.dumpdb", "dumpdb", "%s\n%s\n1\n\n0\n" % (a, h.upper()), "ok", "upper-case base16 is accepted")
    reg("hash-base32-high-bits.dumpdb", "dumpdb", "%s\nsha256:z%s\n1\n\n0\n" % (a, "0" * 51),
        "RegistrationFormatException@2", "nix-base32 whose first digit sets bits beyond 32 bytes")


def write_regs():
    write_index(STORE_DIR, "registrations.tsv", ["file", "form", "outcome", "why"],
                [(name, text.encode("utf-8"), [form, outcome, why]) for name, form, text, outcome, why in REGS])


if __name__ == "__main__":
    build_nars()
    write_nars()
    build_exports()
    write_exports()
    build_regs()
    write_regs()
