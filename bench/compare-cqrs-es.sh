#!/usr/bin/env bash
# The event store on PostgreSQL beside cqrs-es + postgres-es, against one server in one
# run: `bench/compare-cqrs-es.sh postgres://USER@HOST:PORT` (USER may create databases;
# two are created afresh: domreg_bench and cqrs_es_bench). Figures: docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${1:?usage: bench/compare-cqrs-es.sh postgres://USER@HOST:PORT}
for db in domreg_bench cqrs_es_bench; do
  psql "$server/postgres" -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
cargo build --release --quiet
(cd bench/cqrs-es && cargo build --release --quiet)
./target/release/domreg --store "$server/domreg_bench" bench store
./bench/cqrs-es/target/release/cqrs-es-bench "$server/cqrs_es_bench"
