#!/usr/bin/env bash
# Row locks against SERIALIZABLE with retries, on the shape of one stock write (check the level,
# change it, append to a ledger), one transaction per write, 32 clients (pgbench): on one hot row
# and spread over 100 rows. This is how the PostgreSQL store's locking was chosen
# (docs/PERFORMANCE.md); it does not run the engine.
# Usage: bench/pg/locking.sh [SECONDS]   (a private server unless $INVENTORY_TEST_PG is set)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
if [ -z "${INVENTORY_TEST_PG:-}" ]; then
    exec scripts/with-postgres.sh "$0" "$@"
fi
SECONDS_EACH="${1:-8}"
PGBENCH="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)/pgbench"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
NAME="locking_$$"
psql "$INVENTORY_TEST_PG" -qc "CREATE DATABASE $NAME"
DB="${INVENTORY_TEST_PG%/*}/$NAME"
psql "$DB" -q <<'SQL'
CREATE TABLE levels (id int PRIMARY KEY, on_hand bigint NOT NULL,
                     reserved bigint NOT NULL CHECK (reserved <= on_hand));
INSERT INTO levels SELECT g, 1000000000, 0 FROM generate_series(1, 100) g;
CREATE TABLE ledger (seq bigserial PRIMARY KEY, id int, q int);
SQL
script() { # isolation lock rows
    cat <<SQL
\set p random(1, $3)
BEGIN ISOLATION LEVEL $1;
SELECT on_hand - reserved FROM levels WHERE id = :p $2;
UPDATE levels SET reserved = reserved + 1 WHERE id = :p;
INSERT INTO ledger (id, q) VALUES (:p, 1);
COMMIT;
SQL
}
for rows in 1 100; do
    script "READ COMMITTED" "FOR NO KEY UPDATE" "$rows" >"$WORK/locked-$rows.sql"
    script SERIALIZABLE "" "$rows" >"$WORK/serializable-$rows.sql"
done
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in 1 2; do
    for rows in 1 100; do
        for kind in locked serializable; do
            printf 'round %s %-12s rows=%-3s ' "$round" "$kind" "$rows"
            "$PGBENCH" -n -c 32 -j 2 -T "$SECONDS_EACH" --max-tries=1000 -f "$WORK/$kind-$rows.sql" "$DB" 2>&1 |
                awk '/^tps/ {tps = $3} /number of transactions retried/ {retried = $5 " " $6} /number of failed/ {failed = $5}
                     END {printf "tps=%.0f retried=%s failed=%s\n", tps, retried, failed}'
        done
    done
done
psql "$INVENTORY_TEST_PG" -qc "DROP DATABASE $NAME"
