#!/usr/bin/python3
"""Print bench/backup.sh's results as a table, with ratios against the peers and the issue's
targets. Usage: report.py RESULTS.tsv JOBS BIGTABLE_NAME
RESULTS.tsv rows: name, status (ok|FAILED), seconds (or exit code), output bytes, peak RSS KB."""
import sys


def load(path):
    rows = {}
    order = []
    with open(path) as f:
        for line in f:
            name, status, secs, size, rss = line.rstrip("\n").split("\t")
            ok = status == "ok"
            rows[name] = {"ok": ok, "secs": float(secs) if ok else None,
                          "size": int(size), "rss_mb": int(rss) / 1024, "exit": None if ok else secs}
            order.append(name)
    return rows, order


def main(argv):
    rows, order = load(argv[1])
    jobs, big = argv[2], argv[3]
    get = rows.get

    def secs(name):
        r = get(name)
        return r["secs"] if r and r["ok"] else None

    def size(name):
        r = get(name)
        return r["size"] if r and r["ok"] and r["size"] else None

    wire = secs(f"wire -P{jobs} (COPY per table)")
    peer = {  # name -> (what it is compared with, its time)
        f"sluice backup gzip -j{jobs}": f"pg_dump -Fd -j{jobs}",
        f"sluice backup zstd -j{jobs}": f"pg_dump -Fd -j{jobs}",
        f"pg_dump -Fc": f"pg_dump -Fd -j{jobs}",
        f"sluice restore -j{jobs}": f"pg_restore -j{jobs}",
        f"sluice backup {big} none -j2": f"sluice backup {big} none -j1",
    }

    print(f"{'what':<36} {'wall s':>8} {'size MB':>9} {'RSS MB':>7} {'x wire':>7}  vs peer")
    for name in order:
        r = rows[name]
        if not r["ok"]:
            why = ("skipped (no backup to restore)" if r["exit"] == "-"
                   else f"FAILED (exit {r['exit']})")
            print(f"{name:<36} {why:>26}")
            continue
        sz = f"{r['size'] / 1048576:.1f}" if r["size"] else "-"
        xw = f"{r['secs'] / wire:.2f}" if wire and "restore" not in name else "-"
        note = ""
        p = peer.get(name)
        if p and secs(p):
            note = f"{secs(p) / r['secs']:.2f}x faster than {p}"
            if size(p) and r["size"]:
                note += f", size {r['size'] / size(p):.2f}x"
        print(f"{name:<36} {r['secs']:>8.2f} {sz:>9} {r['rss_mb']:>7.1f} {xw:>7}  {note}")

    print("\nTargets (issue 2):")
    g, z = f"sluice backup gzip -j{jobs}", f"sluice backup zstd -j{jobs}"
    pgd, rs, pr = f"pg_dump -Fd -j{jobs}", f"sluice restore -j{jobs}", f"pg_restore -j{jobs}"
    b1, b2 = f"sluice backup {big} none -j1", f"sluice backup {big} none -j2"
    checks = []

    def check(label, value, ok, fmt="{:.2f}"):
        checks.append(ok)
        shown = fmt.format(value) if value is not None else "n/a (a run failed)"
        mark = "ok  " if ok else "MISS"
        print(f"  [{mark}] {label}: {shown}")

    def ratio(a, b):
        return a / b if a is not None and b else None

    v = ratio(secs(g), wire)
    check("gzip backup time / wire limit <= 1.5", v, v is not None and v <= 1.5)
    v = ratio(size(g), size(pgd))
    check("gzip backup size / pg_dump -Fd size <= 1.25", v, v is not None and v <= 1.25)
    v = ratio(secs(z), wire)
    check("zstd backup time / wire limit <= 1.3", v, v is not None and v <= 1.3)
    v = ratio(size(z), size(pgd))
    check("zstd backup size / pg_dump -Fd size < 1", v, v is not None and v < 1)
    v = ratio(secs(pr), secs(rs))
    check(f"pg_restore -j{jobs} time / sluice restore time >= 1.3", v, v is not None and v >= 1.3)
    v = ratio(secs(b1), secs(b2))
    check(f"{big} alone, -j1 time / -j2 time >= 1.6", v, v is not None and v >= 1.6)
    for name in (g, z, rs):
        r = get(name)
        v = r["rss_mb"] if r and r["ok"] else None
        check(f"{name} peak RSS < 64 MB", v, v is not None and v < 64, "{:.1f} MB")
    print(f"\n{sum(checks)} of {len(checks)} targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
