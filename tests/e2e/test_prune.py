"""sluice prune: a directory of cluster archives with made-up times, and what the policy keeps.

The archives are built here as sluice backup cluster lays them out (globals.sql,
databases.sql and a manifest whose started_at is the made-up time); prune must date them by
that, not by the files' times, leave a .partial and files that are not sluice backups alone,
and remove nothing without --apply.
"""
import hashlib
import io
import json
import os
import tarfile

import pytest


def make_archive(path, started_at, server_version="15.0"):
    members = {"globals.sql": b"-- roles\n", "databases.sql": b""}
    manifest = {
        "format": "sluice-cluster", "format_version": 1, "server_version": server_version,
        "started_at": started_at, "finished_at": started_at,
        "members": [{"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                    for n, b in members.items()],
        "globals": {"roles": 0, "memberships": 0, "tablespaces": 0, "passwords_saved": True},
        "databases": [], "skipped": [],
    }
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


# (file name, started_at): daily backups over three weeks, two on one day, newest last
TIMES = [(f"prod-{d:02d}.tar", f"2026-11-{d:02d}T02:00:00Z") for d in range(1, 22)]
TIMES.append(("prod-21b.tar", "2026-11-21T14:00:00Z"))


@pytest.fixture
def backups(tmp_path):
    for name, at in TIMES:
        make_archive(tmp_path / name, at)
    # file times that say the opposite of the manifests: they must not matter
    for i, (name, _) in enumerate(TIMES):
        os.utime(tmp_path / name, (10**9 - i * 1000, 10**9 - i * 1000))
    (tmp_path / "running.tar.partial").write_bytes(b"half")
    (tmp_path / "notes.txt").write_text("not a backup")
    return tmp_path


def plan(proc):
    return {os.path.basename(b["path"]): b["keep"] for b in json.loads(proc.stdout)["backups"]}


def test_dry_run_then_apply(backups, sluice_noserver):
    before = sorted(os.listdir(backups))
    proc = sluice_noserver.run("prune", backups, "--keep-last", "2", "--keep-daily", "4",
                               "--keep-weekly", "3", "--json", check=True)
    kept = {n for n, k in plan(proc).items() if k}
    # last 2: 21b, 21; daily 4: 21b (Nov 21), 20, 19, 18; weekly 3 (ISO weeks, Monday first):
    # the newest of the weeks of Nov 16-22, 9-15 and 2-8
    assert kept == {"prod-21b.tar", "prod-21.tar", "prod-20.tar", "prod-19.tar", "prod-18.tar",
                    "prod-15.tar", "prod-08.tar"}
    assert sorted(os.listdir(backups)) == before  # dry run
    text = sluice_noserver.run("prune", backups, "--keep-last", "2", check=True).stdout
    assert "dry run" in text and "prod-01.tar" in text
    sluice_noserver.run("prune", backups, "--keep-last", "2", "--keep-daily", "4",
                        "--keep-weekly", "3", "--apply", check=True)
    assert set(os.listdir(backups)) == kept | {"running.tar.partial", "notes.txt"}


def test_newest_is_always_kept_and_usage(backups, sluice_noserver):
    proc = sluice_noserver.run("prune", backups, "--keep-last", "0", "--apply", check=True)
    assert set(os.listdir(backups)) == {"prod-21b.tar", "running.tar.partial", "notes.txt"}
    proc = sluice_noserver.run("prune", backups)
    assert proc.returncode == 2 and "--keep-last" in proc.stderr
    proc = sluice_noserver.run("prune", backups / "nosuch", "--keep-last", "1")
    assert proc.returncode == 6 and "nosuch" in proc.stderr


def test_archive_text_reaches_the_terminal_escaped(tmp_path, sluice_noserver):
    """A manifest's text is the archive's, not sluice's: an escape sequence or a line break in
    it is shown escaped by verify, list and prune."""
    hostile = "15.0\x1b]0;owned\x07\nsluice: forged line"
    make_archive(tmp_path / "h.tar", "2026-11-01T02:00:00Z", server_version=hostile)
    for args in (("verify", tmp_path / "h.tar"), ("list", tmp_path / "h.tar"),
                 ("prune", tmp_path, "--keep-last", "1")):
        proc = sluice_noserver.run(*args, check=True)
        assert "\x1b" not in proc.stdout and "\nsluice: forged" not in proc.stdout, args
    assert "\\e]0;owned" in sluice_noserver.run("verify", tmp_path / "h.tar").stdout
