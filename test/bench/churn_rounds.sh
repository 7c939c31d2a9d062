#!/usr/bin/env bash
# Recall and size of a milvus_hnsw index after rounds of streaming churn, against
# a fresh build of the same rows (issue 9's target: after five rounds of
# insert 20 % new rows, delete 20 %, seal, compact, recall@10 within 0.005 of a
# fresh build, and the index no larger than 1.3x).
#
# ROWS clustered DIM-dimension rows (CLUSTERS Gaussian-like clusters, each
# coordinate the centre's plus a uniform offset in [-SPREAD/2, SPREAD/2]), an
# index with m = 16, ef_construction = 64; then ROUNDS rounds of:
#   insert PCT % of the current row count as new rows (into the growing segment),
#   delete PCT % of the rows, at random among all (new ones included),
#   seal:    SELECT milvus.seal(index) when the extension has it, else VACUUM
#            (a VACUUM seals the growing segment, dropping its dead rows),
#   compact: VACUUM, then SELECT milvus.compact_index(index) when the extension
#            has it (without a data coordinator the VACUUM repairs the graph
#            around the deleted rows itself; with one, it leaves that to the
#            compaction).
# Each step is timed; each round prints the index's size and milvus_hnsw_stats.
# At the end, recall@10 over QUERIES queries from the same distribution at each
# milvus.hnsw_ef_search of EF, against exact search, of the churned index and of
# a fresh build on a copy of the same rows, and their sizes.  FRESH fresh builds
# (default 1; more need a superuser, for milvus.hnsw_level_seed 1..FRESH) give
# the fresh recall as a mean with its range, since one build's recall moves by
# more than the target's 0.005.  SEED (a number in [-1, 1]) makes the rows and
# queries the same on every run (setseed); with milvus.hnsw_level_seed and
# max_parallel_maintenance_workers = 0 in PGOPTIONS and one LABEL, two builds
# then churn the same rows the same way.  Connection from PG* variables.
#   PGHOST=/tmp/sock PGPORT=5432 test/bench/churn_rounds.sh [label]
set -euo pipefail
label=${1:-churn_rounds}
ROWS=${ROWS:-20000}
DIM=${DIM:-128}
CLUSTERS=${CLUSTERS:-50}
SPREAD=${SPREAD:-0.5}
ROUNDS=${ROUNDS:-5}
PCT=${PCT:-20}
QUERIES=${QUERIES:-200}
EF=${EF:-"20 40"}
FRESH=${FRESH:-1}
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | awk '{printf "%.2f", $1}'; }

# n rows of ids from first on, near random cluster centres, as a SELECT
rows_sql() {
    echo "SELECT $1 + i - 1 AS id,
             ARRAY(SELECT (c.v[d] + (random() - 0.5) * $SPREAD)::float4
                   FROM generate_series(1, $DIM) d WHERE i > 0)::floatvector AS v
          FROM generate_series(1, $2) i
          JOIN cr_centres c ON c.c = 1 + (hashint4(i + $1) & 2147483647) % $CLUSTERS"
}

# the rows of round r (0: the first ones and the queries) from SEED, if set
seed_sql() { [ -n "${SEED:-}" ] && echo "SELECT setseed($SEED * (1 - $1 / 100.0));" || true; }

psql <<SQL
$(seed_sql 0)
DROP TABLE IF EXISTS cr, cr_fresh, cr_q, cr_centres;
CREATE TABLE cr_centres AS
    SELECT c, ARRAY(SELECT random()::float4 * 4 FROM generate_series(1, $DIM) WHERE c > 0) AS v
    FROM generate_series(1, $CLUSTERS) c;
CREATE TABLE cr (id int PRIMARY KEY, v floatvector($DIM));
INSERT INTO cr $(rows_sql 1 "$ROWS");
CREATE INDEX cr_idx ON cr USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 16, ef_construction = 64);
CREATE TABLE cr_q AS SELECT id AS q, v FROM ($(rows_sql 2000000000 "$QUERIES")) s;
SQL

have() { psql -tAc "SELECT to_regprocedure('$1') IS NOT NULL"; }
if [ "$(have 'milvus.seal(regclass)')" = t ]; then seal="SELECT milvus.seal('cr_idx')"; else seal="VACUUM cr"; fi
compact=(-c "VACUUM cr")
if [ "$(have 'milvus.compact_index(regclass)')" = t ]; then compact+=(-c "SELECT milvus.compact_index('cr_idx')"); fi
echo "$label rows $ROWS dim $DIM rounds $ROUNDS pct $PCT seal '$seal' compact '${compact[*]}'"

stats() {
    psql -tA -F ' ' -c "SELECT 'index_bytes', pg_relation_size('$1'), 'elements', elements,
                               'tombstones', tombstones, 'heap_tids', heap_tids, 'free_slots', free_slots
                        FROM milvus_hnsw_stats('$1')"
}
echo "$label round 0 rows $(psql -tAc 'SELECT count(*) FROM cr') $(stats cr_idx)"

for r in $(seq 1 "$ROUNDS"); do
    n=$(psql -tAc "SELECT count(*) * $PCT / 100 FROM cr")
    first=$(psql -tAc "SELECT max(id) + 1 FROM cr")
    t0=$(now)
    psql <<SQL
$(seed_sql "$r")
INSERT INTO cr $(rows_sql "$first" "$n");
SQL
    t1=$(now)
    psql -c "DELETE FROM cr WHERE id IN (SELECT id FROM cr ORDER BY md5(id::text || '$label$r') LIMIT $n)"
    t2=$(now)
    psql -c "$seal" >/dev/null
    t3=$(now)
    psql "${compact[@]}" >/dev/null
    t4=$(now)
    echo "$label round $r inserted $n in $(secs "$t0" "$t1") s, deleted $n in $(secs "$t1" "$t2") s," \
        "seal $(secs "$t2" "$t3") s, compact $(secs "$t3" "$t4") s;" \
        "rows $(psql -tAc 'SELECT count(*) FROM cr') $(stats cr_idx)"
done

psql <<'SQL'
CREATE TABLE cr_fresh AS SELECT * FROM cr;
SQL

# recall@10 of table $1's index at ef_search $2 over cr_q, against exact search
recall() {
    psql -tA <<SQL
SET enable_seqscan = off;
SET milvus.hnsw_ef_search = $2;
CREATE TEMP TABLE approx AS
    SELECT q, ARRAY(SELECT id FROM $1 t ORDER BY t.v <-> cr_q.v LIMIT 10) AS ids FROM cr_q;
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE exact AS
    SELECT q, ARRAY(SELECT id FROM $1 t ORDER BY t.v <-> cr_q.v LIMIT 10) AS ids FROM cr_q;
SELECT round(avg((SELECT count(*) FROM unnest(a.ids) x WHERE x = ANY (e.ids)) / 10.0), 4)
FROM approx a JOIN exact e USING (q);
SQL
}

declare -A fresh_recalls
for b in $(seq 1 "$FRESH"); do
    seed=""
    [ "$FRESH" -gt 1 ] && seed="SET milvus.hnsw_level_seed = $b;"
    psql -c "DROP INDEX IF EXISTS cr_fresh_idx"
    t0=$(now)
    psql -c "$seed CREATE INDEX cr_fresh_idx ON cr_fresh USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 16, ef_construction = 64)"
    t1=$(now)
    echo "$label fresh build $b of the same rows in $(secs "$t0" "$t1") s: $(stats cr_fresh_idx)"
    for ef in $EF; do
        rf=$(recall cr_fresh "$ef")
        fresh_recalls[$ef]="${fresh_recalls[$ef]:-} $rf"
        [ "$FRESH" -gt 1 ] && echo "$label fresh build $b ef_search $ef recall@10 $rf"
    done
done
churned_bytes=$(psql -tAc "SELECT pg_relation_size('cr_idx')")
fresh_bytes=$(psql -tAc "SELECT pg_relation_size('cr_fresh_idx')")
for ef in $EF; do
    rc=$(recall cr "$ef")
    read -r mean lo hi < <(echo "${fresh_recalls[$ef]}" | tr ' ' '\n' | grep . |
        awk '{s += $1; if (NR == 1 || $1 < lo) lo = $1; if (NR == 1 || $1 > hi) hi = $1}
             END {printf "%.4f %.4f %.4f\n", s / NR, lo, hi}')
    echo "$label ef_search $ef recall@10 churned $rc fresh $mean (builds: $FRESH, $lo to $hi) difference" \
        "$(echo "$rc - $mean" | bc -l | awk '{printf "%+.4f", $1}')"
done
echo "$label index_bytes churned $churned_bytes fresh $fresh_bytes ratio" \
    "$(echo "$churned_bytes / $fresh_bytes" | bc -l | awk '{printf "%.3f", $1}')"
