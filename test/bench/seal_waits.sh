#!/usr/bin/env bash
# What single-row inserts wait for while a seal runs.  Copies ROWS rows of the
# table SRC (milvus_bench's Fashion-MNIST table by default) into sw, builds
# the milvus_hnsw index serially, appends GROWING more rows to its growing
# segment, then runs one pgbench client of single-row inserts (vectors drawn
# from 5,000 rows of SRC, through a primary key) for SECS seconds; from second
# 10 a milvus.seal() runs, while another connection samples the inserting
# backend's wait event every 2 ms.  Prints insert latency p50 / p99 / max
# before the seal and during it, the seal's duration, and the wait events
# counted (CPU when it waits for none).  Connection from PG* variables; the
# server needs no data coordinator sealing sw meanwhile
# (milvus.data_coordinator = off, or a seal_rows above GROWING).  SEAL_SET
# is SQL the sealing session runs first (a SET, say).
#   PGHOST=/tmp/sock PGPORT=5432 test/bench/seal_waits.sh
set -euo pipefail
SRC=${SRC:-mvbench_fashion_mnist_inline}
ROWS=${ROWS:-50000}
GROWING=${GROWING:-10000}
SECS=${SECS:-30}
SEAL_SET=${SEAL_SET:-}
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

psql <<SQL
DROP TABLE IF EXISTS sw, sw_src, sw_waits;
CREATE TABLE sw AS SELECT id, emb FROM $SRC ORDER BY id LIMIT $ROWS;
SET max_parallel_maintenance_workers = 0;
SET maintenance_work_mem = '1GB';
CREATE INDEX sw_idx ON sw USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 16, ef_construction = 64);
SET client_min_messages = error;
INSERT INTO sw SELECT id, emb FROM $SRC ORDER BY id OFFSET $ROWS LIMIT $GROWING;
CREATE TABLE sw_src (id int PRIMARY KEY, emb floatvector);
INSERT INTO sw_src SELECT row_number() OVER (ORDER BY id) - 1, emb FROM $SRC ORDER BY id LIMIT 5000;
CREATE SEQUENCE IF NOT EXISTS sw_ids START 100000000;
CREATE TABLE sw_waits (wtype text, wevent text);
CREATE OR REPLACE PROCEDURE sw_sample(n int) LANGUAGE plpgsql AS \$\$
BEGIN
    FOR i IN 1..n LOOP
        INSERT INTO sw_waits SELECT wait_event_type, wait_event FROM pg_stat_activity
        WHERE application_name = 'pgbench' AND state = 'active';
        COMMIT;
        PERFORM pg_sleep(0.002);
    END LOOP;
END \$\$;
CHECKPOINT;
SQL

cat > "$dir/ins.sql" <<'SQL'
\set i random(0, 4999)
INSERT INTO sw SELECT nextval('sw_ids'), emb FROM sw_src WHERE id = :i;
SQL
chmod -R a+rX "$dir"
pgbench -n -T "$SECS" -l --log-prefix="$dir/lat" -f "$dir/ins.sql" >"$dir/pgbench.out" 2>&1 &
bench=$!
sleep 10
s0=$(date +%s.%N)
psql -c "CALL sw_sample(1000000)" >/dev/null 2>&1 &
sampler=$!
psql -c "$SEAL_SET" -c "SELECT milvus.seal('sw_idx')" >/dev/null
s1=$(date +%s.%N)
psql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'CALL sw_sample%'" >/dev/null
wait "$sampler" || true
wait "$bench"
awk -v s0="$s0" -v s1="$s1" '{t = $5 + $6 / 1e6; if (t < s0 - 8) next;
        ph = (t < s0) ? "before" : (t - $3 / 1e6 < s1 ? "during" : "after"); print ph, $3 / 1000}' "$dir"/lat.* |
    sort -k1,1 -k2,2n |
    awk '{c[$1]++; v[$1, c[$1]] = $2}
         END {for (p in c) printf "inserts %-6s the seal: n %6d p50 %6.2f p99 %6.2f max %7.2f ms\n",
              p, c[p], v[p, int(c[p] * 0.5) + 1], v[p, int(c[p] * 0.99) + 1], v[p, c[p]]}' | sort
echo "seal of $GROWING rows: $(echo "$s1 - $s0" | bc) s"
psql -tA -F ' ' -c "SELECT coalesce(wtype, 'CPU'), coalesce(wevent, '-'), count(*) FROM sw_waits GROUP BY 1, 2 ORDER BY 3 DESC"
psql -c "DROP TABLE sw, sw_src, sw_waits" -c "DROP SEQUENCE sw_ids" -c "DROP PROCEDURE sw_sample"
