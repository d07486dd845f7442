#!/usr/bin/env python3
"""Write the HEAD tree of a bare git directory into DEST, skipping blobs the snapshot lacks.

The fetched snapshots may leave out their largest files (test data, images); `git archive`
stops at the first missing one, so this writes every present blob and lists the rest.
Usage: extract.py GIT_DIR DEST
"""
import os
import subprocess
import sys


def main():
    git_dir, dest = sys.argv[1], sys.argv[2]
    listing = subprocess.run(
        ["git", "--git-dir", git_dir, "ls-tree", "-r", "-z", "HEAD"],
        check=True, capture_output=True).stdout
    entries = []
    for rec in listing.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind != b"blob":
            continue  # submodules: not part of the tree
        entries.append((mode.decode(), sha.decode(), path.decode("utf-8", "surrogateescape")))
    proc = subprocess.Popen(["git", "--git-dir", git_dir, "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    missing = 0
    for mode, sha, path in entries:
        proc.stdin.write(sha.encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            missing += 1
            continue
        size = int(header[2])
        data = proc.stdout.read(size)
        proc.stdout.read(1)
        out = os.path.join(dest, path)
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        if mode == "120000":
            if not os.path.lexists(out):
                os.symlink(data, out)
            continue
        with open(out, "wb") as f:
            f.write(data)
        if mode == "100755":
            os.chmod(out, 0o755)
    proc.stdin.close()
    proc.wait()
    print(f"{dest}: {len(entries) - missing} files, {missing} missing blobs skipped")


if __name__ == "__main__":
    main()
