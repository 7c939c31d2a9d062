#!/usr/bin/env bash
# Index size and insert speed of a milvus_hnsw index under update churn:
# 20,000 random 128-dimension rows, m = 16, then 10 rounds of (delete 10 %,
# VACUUM, insert 10 %).  Prints the index size after each round and the
# rows per second of the round's INSERT, then recall@10 at ef_search 40 over
# 50 random queries: of the index before the churn, after it, and of the same
# final rows built afresh.  Connection from PG* variables.
#   PGHOST=/tmp/sock PGPORT=5432 test/bench/churn.sh [label]
set -euo pipefail
label=${1:-churn}
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

psql <<'SQL'
DROP TABLE IF EXISTS ch;
CREATE TABLE ch (id int PRIMARY KEY, v floatvector(128));
INSERT INTO ch
SELECT i, ARRAY(SELECT random()::float4 FROM generate_series(1, 128) WHERE i > 0)::floatvector
FROM generate_series(1, 20000) i;
CREATE INDEX ch_idx ON ch USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 16);
DROP TABLE IF EXISTS ch_q;
CREATE TABLE ch_q AS
SELECT q, ARRAY(SELECT random()::float4 FROM generate_series(1, 128) WHERE q > 0)::floatvector AS v
FROM generate_series(1, 50) q;
SQL

# recall@10 of the ch table's index at ef_search 40 over ch_q, against exact search
recall() {
    psql -tA <<'SQL'
SET enable_seqscan = off;
SET milvus.hnsw_ef_search = 40;
CREATE TEMP TABLE approx AS
    SELECT q, ARRAY(SELECT id FROM ch ORDER BY ch.v <-> ch_q.v LIMIT 10) AS ids FROM ch_q;
RESET enable_seqscan;
SET enable_indexscan = off;
CREATE TEMP TABLE exact AS
    SELECT q, ARRAY(SELECT id FROM ch ORDER BY ch.v <-> ch_q.v LIMIT 10) AS ids FROM ch_q;
SELECT round(avg((SELECT count(*) FROM unnest(a.ids) x WHERE x = ANY (e.ids)) / 10.0), 4)
FROM approx a JOIN exact e USING (q);
SQL
}
echo "$label before_churn recall $(recall)"
echo "$label round 0 index_bytes $(psql -tAc "SELECT pg_relation_size('ch_idx')")"
for r in $(seq 1 10); do
    psql -c "DELETE FROM ch WHERE id IN (SELECT id FROM ch ORDER BY md5(id::text || '$r') LIMIT 2000)"
    psql -c "VACUUM ch"
    start=$(date +%s.%N)
    psql -c "INSERT INTO ch
             SELECT m + i, ARRAY(SELECT random()::float4 FROM generate_series(1, 128) WHERE i > 0)::floatvector
             FROM generate_series(1, 2000) i, (SELECT max(id) AS m FROM ch) x"
    end=$(date +%s.%N)
    echo "$label round $r index_bytes $(psql -tAc "SELECT pg_relation_size('ch_idx')")" \
        "insert_rows_per_s $(echo "2000 / ($end - $start)" | bc -l | cut -c1-6)"
done
echo "$label after_churn recall $(recall)"
psql -c "DROP INDEX ch_idx" -c "CREATE INDEX ch_idx ON ch USING milvus_hnsw (v floatvector_l2_ops) WITH (m = 16)"
echo "$label rebuilt recall $(recall)"
