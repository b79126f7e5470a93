#!/bin/sh
# Builds target/granary.jsa, a class-data sharing (AppCDS) archive of the classes the granary command
# loads, for the JVM that runs the build. bin/granary maps it when it runs that same JVM: the classes
# then come parsed and verified from the archive instead of from the jar, which halves the JVM's
# start-up work (measured: see README, "Start-up").
#
# Usage: cds-archive.sh JAVA JAR ARCHIVE WORKDIR
#
# A static archive built from the merged class lists of a few representative commands (one JVM may
# only record the classes of one run), so that every command finds its classes there, not only the one
# that happened to run first. Any failure leaves no archive and exits 0: the archive only saves time,
# and bin/granary runs without it. The JVM itself refuses an archive whose jar has changed since
# (size and modification time), so a stale one is never used.
set -u
java=$1 jar=$2 archive=$3 work=$4
rm -rf "$work" "$archive" "$archive.jvm"
mkdir -p "$work/tree/dir" || exit 0
echo hello > "$work/tree/file"
echo world > "$work/tree/dir/file"
ln -s file "$work/tree/link"
flags="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto"
n=0
train() {
    n=$((n + 1))
    LC_ALL=C.UTF-8 "$java" $flags -XX:DumpLoadedClassList="$work/classes.$n" -jar "$jar" "$@" \
        > "$work/out.$n" 2> "$work/err.$n" < /dev/null
}
root="$work/root"
train --version
train --help
train init --root "$root"
train add --root "$root" "$work/tree"
path=$(cat "$work/out.4")
train query --root "$root" --info "$path"
train query --root "$root" --requisites "$path"
train hash path "$work/tree"
train nar dump "$work/tree"
cat "$work"/classes.* | grep -v '^#' | sort -u > "$work/classes" || exit 0
if "$java" $flags -Xshare:dump -XX:SharedClassListFile="$work/classes" -XX:SharedArchiveFile="$archive" \
        -jar "$jar" > "$work/dump.log" 2>&1; then
    # bin/granary uses the archive only with this JVM: an archive of another JVM is refused anyway.
    readlink -f "$java" > "$archive.jvm"
else
    echo "cds-archive.sh: no class-data archive (see $work/dump.log); granary starts without one" >&2
    rm -f "$archive"
fi
exit 0
