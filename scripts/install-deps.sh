#!/usr/bin/env bash
# Installs everything sluice needs to build, test and benchmark on Debian 12 (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
    build-essential cmake pkg-config clang libclang-rt-14-dev \
    libpq-dev libzstd-dev zlib1g-dev liblz4-dev libdeflate-dev libisal-dev libjansson-dev libssl-dev libcmocka-dev \
    libuv1-dev libhiredis-dev libpg-query-dev redis-server pgbouncer pgpool2 \
    libmariadb-dev mariadb-server mariadb-client \
    postgresql-15 postgresql-client-15 postgresql-15-wal2json \
    postgresql-server-dev-15 dpkg-dev \
    python3 python3-pytest python3-pytest-xdist python3-psycopg python3-jsonschema python3-yaml \
    gzip zstd procps util-linux time \
    locales  # locale sources: a test generates de_DE.UTF-8 for a server with German messages
