"""Fixtures: one throwaway PostgreSQL 15 per test session, a sluice runner, fresh databases."""
import itertools
import os
import subprocess

import pytest

from pgcluster import PgCluster

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def sluice_bin():
    path = os.environ.get("SLUICE_BIN") or os.path.join(ROOT, "build", "sluice")
    if not os.path.exists(path):
        pytest.exit(f"sluice binary not found at {path}: build first or set SLUICE_BIN", 2)
    return path


@pytest.fixture(scope="session")
def pg():
    cluster = PgCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


class Sluice:
    def __init__(self, cluster):
        self.cluster = cluster
        self.bin = sluice_bin()

    def run(self, *args, env=None, input=None, timeout=600, check=False):
        """Runs sluice with the cluster's PG* environment; returns CompletedProcess (text)."""
        full_env = self.cluster.env() if self.cluster else dict(os.environ)
        if env:
            full_env.update(env)
        proc = subprocess.run([self.bin, *map(str, args)], env=full_env, input=input,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"sluice {' '.join(map(str, args))} exited "
                                 f"{proc.returncode}\nstdout:\n{proc.stdout}\n"
                                 f"stderr:\n{proc.stderr}")
        return proc


@pytest.fixture
def sluice(pg):
    return Sluice(pg)


@pytest.fixture
def sluice_noserver():
    return Sluice(None)


_db_counter = itertools.count()


@pytest.fixture
def fresh_db(pg, request):
    """Makes databases with unique names; drops them after the test."""
    made = []

    def make(prefix="t"):
        name = f"{prefix}_{os.getpid()}_{next(_db_counter)}"
        made.append(pg.create_db(name))
        return name

    yield make
    for name in made:
        pg.drop_db(name)


def make_role(pg, label):
    """A role whose name needs quoting, made now; returns (quoted name, drop())."""
    name = f"{label}-{os.getpid()}"
    pg.execute(f'DROP ROLE IF EXISTS "{name}"')
    pg.execute(f'CREATE ROLE "{name}"')
    return f'"{name}"', lambda: pg.execute(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture
def role(pg):
    """A role that needs quoting; dropped after the test's databases (set up before them)."""
    quoted, drop = make_role(pg, "fid Role")
    yield quoted
    drop()
