#!/usr/bin/env bash
# A seal's cost per row against the serial build's, and against what the
# build itself pays for the same rows.  Copies ROWS + GROWING rows of the
# table SRC (milvus_bench's Fashion-MNIST table by default) into sv, then
# RUNS times, alternating:
#   build   CREATE INDEX on the first ROWS rows (serial, in memory);
#   build+  CREATE INDEX on all ROWS + GROWING rows, its progress sampled
#           every 20 ms (pg_stat_progress_create_index): the time its graph
#           took per row for the first ROWS rows, and for the last GROWING
#           rows, what the build pays to link those rows into a graph of the
#           size a seal of them links into;
#   seal    for each value of milvus.hnsw_seal_in_memory in MODES: the build
#           on ROWS rows, GROWING rows appended to its growing segment, a
#           CHECKPOINT, then milvus.seal() alone; milvus_hnsw_verify must
#           find nothing wrong.
# Prints each run's figures in ms per row and, at the end, each figure's
# range over the runs.  Levels are seeded (milvus.hnsw_level_seed), so the
# build and the seals choose the same levels in every run.  Connection from
# PG* variables; the server needs no data coordinator sealing sv meanwhile
# (milvus.data_coordinator = off, or a seal_rows above GROWING).
#   PGHOST=/tmp/sock PGPORT=5432 test/bench/seal_vs_build.sh
set -euo pipefail
SRC=${SRC:-mvbench_fashion_mnist_inline}
ROWS=${ROWS:-50000}
GROWING=${GROWING:-10000}
RUNS=${RUNS:-3}
MODES=${MODES:-"on off"}
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
settings="SET maintenance_work_mem = '1GB'; SET max_parallel_maintenance_workers = 0;
SET milvus.hnsw_level_seed = 11; SET client_min_messages = error;"
index="USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 16, ef_construction = 64)"
out=$(mktemp)
samples=$(mktemp)
trap 'rm -f "$out" "$samples"' EXIT

# milliseconds a statement takes, after the settings
timed() {
    psql -c "$settings" -c '\timing on' -c "$1" | awk '/^Time:/ { print $2 }'
}
per_row() { echo "$1 / $2" | bc -l | awk '{printf "%.3f", $1}'; }

psql <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS sv, sv_all;
CREATE TABLE sv_all WITH (autovacuum_enabled = off) AS
    SELECT id, emb FROM $SRC ORDER BY id LIMIT $ROWS + $GROWING;
CREATE TABLE sv (LIKE sv_all) WITH (autovacuum_enabled = off);
VACUUM ANALYZE sv_all;
SQL

for run in $(seq "$RUNS"); do
    psql -c "TRUNCATE sv" -c "INSERT INTO sv SELECT * FROM sv_all ORDER BY id LIMIT $ROWS" \
         -c "VACUUM ANALYZE sv" -c "CHECKPOINT"
    build=$(timed "CREATE INDEX sv_idx ON sv $index")
    psql -c "DROP INDEX sv_idx" -c "CHECKPOINT"
    printf '%s\n\\watch 0.02\n' "SELECT extract(epoch FROM clock_timestamp()) * 1000, tuples_done
        FROM pg_stat_progress_create_index
        WHERE relid = 'sv_all'::regclass AND phase = 'building index: building graph in memory'" |
        command psql -X -q -At > "$samples" &
    watcher=$!
    psql -c "$settings" -c "CREATE INDEX sv_all_idx ON sv_all $index"
    kill "$watcher"
    wait "$watcher" 2>/dev/null || true
    psql -c "DROP INDEX sv_all_idx"
    # ms per row of the graph's first ROWS rows, and of the rest
    read -r first last < <(awk -F'|' -v rows="$ROWS" '
        NF == 2 { if (t0 == "") { t0 = $1; d0 = $2 }
                  if (ta == "" && $2 >= rows) { ta = $1; da = $2 }
                  tb = $1; db = $2 }
        END { printf "%.3f %.3f\n", (ta - t0) / (da - d0), (tb - ta) / (db - da) }' "$samples")
    line="run $run: build $(per_row "$build" "$ROWS"), its graph's first $ROWS rows $first"
    line="$line, its last $GROWING rows $last"
    echo "build $(per_row "$build" "$ROWS")" >> "$out"
    echo "graph_first $first" >> "$out"
    echo "graph_last $last" >> "$out"
    for mode in $MODES; do
        psql -c "TRUNCATE sv" -c "INSERT INTO sv SELECT * FROM sv_all ORDER BY id LIMIT $ROWS" \
             -c "VACUUM ANALYZE sv"
        psql -c "$settings" -c "CREATE INDEX sv_idx ON sv $index"
        psql -c "$settings" \
             -c "INSERT INTO sv SELECT * FROM sv_all ORDER BY id OFFSET $ROWS LIMIT $GROWING" \
             -c "CHECKPOINT"
        seal=$(timed "SET milvus.hnsw_seal_in_memory = $mode; SELECT milvus.seal('sv_idx')")
        bad=$(psql -At -c "SELECT count(*) FROM milvus_hnsw_verify('sv_idx', true)")
        [ "$bad" = 0 ] || { echo "seal_vs_build: milvus_hnsw_verify reports $bad problems" >&2; exit 1; }
        psql -c "DROP INDEX sv_idx"
        line="$line, seal (in memory $mode) $(per_row "$seal" "$GROWING")"
        echo "seal_$mode $(per_row "$seal" "$GROWING")" >> "$out"
    done
    echo "$line ms/row"
done

echo "ms per row over $RUNS runs (min to max):"
awk '{ if (!($1 in lo) || $2 < lo[$1]) lo[$1] = $2; if ($2 > hi[$1]) hi[$1] = $2; order[$1] = NR }
     END { for (k in lo) printf "  %-12s %s to %s\n", k, lo[k], hi[k] }' "$out" | sort
psql -c "DROP TABLE sv, sv_all"
