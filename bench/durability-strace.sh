#!/usr/bin/env bash
# Durability of an add (issue 7): traces `granary add` of a small tree with strace and shows, in the
# order the kernel saw them, that the item's files and directories were fsynced (one by one, or all by one
# syncfs of their file system where Granary uses it) under their temporary
# name, renamed into place, and the store dir fsynced, all before the LMDB transaction that registers the
# item wrote its pages to the database file (data.mdb), fdatasync'ed it, and wrote the meta page through
# its O_DSYNC descriptor (the commit). Exits 1 if the order is otherwise. KEEP=1 keeps the trace.
#
#   bench/durability-strace.sh            (needs strace; builds the jar if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v strace >/dev/null || { echo "strace is missing (apt-get install strace)" >&2; exit 2; }
[ -f cli-verify/target/granary.jar ] || mvn -B -q -o package -DskipTests
T=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
mkdir -p "$T/src/sub"
printf 'hello\n' > "$T/src/a"
printf '#!/bin/sh\necho hi\n' > "$T/src/sub/run"; chmod +x "$T/src/sub/run"
ln -s ../a "$T/src/sub/link"
bin/granary init --root "$T/root"
# -y prints each file descriptor's path; -f follows the JVM's threads.
strace -f -y -qq -o "$T/trace" \
    -e trace=openat,fsync,fdatasync,syncfs,msync,rename,renameat,renameat2,write,writev,pwrite64,pwritev,pwritev2 \
    bin/granary add --root "$T/root" "$T/src" > "$T/path"
echo "added $(cat "$T/path")"
python3 - "$T/trace" "$T/root" "$(cat "$T/path")" <<'PY'
import re, sys
trace, root, path = sys.argv[1], sys.argv[2], sys.argv[3]
store = root + "/gnu/store"
item = store + "/" + path.rsplit("/", 1)[1]
events = []  # (line number, kind, detail)
pending = {}  # pid -> the start of a call strace shows as <unfinished ...> while another thread ran
for n, line in enumerate(open(trace), 1):
    split = re.match(r"(\d+)\s+(.*)", line.rstrip("\n"))
    if not split:
        continue
    pid, rest = split.groups()
    if rest.endswith("<unfinished ...>"):
        pending[pid] = rest[:-len("<unfinished ...>")].rstrip()
        continue
    resumed = re.match(r"<\.\.\. \w+ resumed>\s*(.*)", rest)
    if resumed and pid in pending:
        # The call as one line, placed where it returned: a sync counts once it is complete.
        line = pid + " " + pending.pop(pid) + resumed.group(1)
    m = re.match(r"\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)", line)
    if not m or m.group(3).startswith("-"):
        continue
    call, args = m.group(1), m.group(2)
    fd = re.match(r"(\d+)<([^>]*)>", args)
    target = fd.group(2) if fd else ""
    if call in ("fsync", "fdatasync") and "/.granary-add-" in target:
        events.append((n, "fsync item (temporary name)", target.replace(store + "/", "")))
    elif call == "syncfs" and "/.granary-add-" in target:
        # One syncfs of the file system holding the item flushes all of its files and directories.
        events.append((n, "fsync item (temporary name): syncfs", target.replace(store + "/", "")))
    elif call in ("fsync", "fdatasync") and target == store:
        events.append((n, "fsync store dir", target))
    elif call.startswith("rename") and item in args:
        events.append((n, "rename into place", item.replace(store + "/", "")))
    elif target.endswith("/db/lmdb/data.mdb"):
        kind = {"fsync": "fsync data.mdb", "fdatasync": "fdatasync data.mdb", "msync": "msync data.mdb"}.get(call,
                "write data.mdb (" + call + ")")
        events.append((n, kind, ""))
    elif call == "msync":
        events.append((n, "msync", args[:60]))
# Squash runs of one kind for reading.
shown = []
for n, kind, detail in events:
    if shown and shown[-1][1] == kind:
        shown[-1][3] += 1
    else:
        shown.append([n, kind, detail, 1])
for n, kind, detail, count in shown:
    print("  line %6d  %-28s %s%s" % (n, kind, detail, "  (x%d)" % count if count > 1 else ""))
def first(kind):
    return next((n for n, k, _ in events if k.startswith(kind)), None)
def last(kind):
    return max((n for n, k, _ in events if k.startswith(kind)), default=None)
item_sync, renamed, dir_sync = last("fsync item"), first("rename into place"), None
dir_sync = next((n for n, k, _ in events if k == "fsync store dir" and renamed and n > renamed), None)
# LMDB's commit: the dirty pages written (writev/pwrite) and fdatasync'ed, then the meta page written
# through a second descriptor opened O_DSYNC: that synchronous write is the commit point.
db_write = next((n for n, k, _ in events if k.startswith("write data.mdb") and dir_sync and n > dir_sync), None)
db_sync = next((n for n, k, _ in events if k in ("fdatasync data.mdb", "fsync data.mdb", "msync data.mdb")
                and db_write and n > db_write), None)
db_meta = next((n for n, k, _ in events if k.startswith("write data.mdb") and db_sync and n > db_sync), None)
ok = all(x is not None for x in (item_sync, renamed, dir_sync, db_write, db_sync, db_meta)) and \
     item_sync < renamed < dir_sync < db_write < db_sync < db_meta
print("order (trace lines): last fsync of the item's files %s < rename into place %s < fsync of the store dir %s"
      " < the commit's page writes to data.mdb %s < fdatasync of data.mdb %s < the meta page write (O_DSYNC, the"
      " commit) %s: %s" % (item_sync, renamed, dir_sync, db_write, db_sync, db_meta, "OK" if ok else "NOT SHOWN"))
sys.exit(0 if ok else 1)
PY
