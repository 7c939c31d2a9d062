#!/usr/bin/env bash
# Index size and insert speed of a milvus_hnsw index under update churn:
# 20,000 random 128-dimension rows, m = 16, then 10 rounds of (delete 10 %,
# VACUUM, insert 10 %).  Prints the index size after each round and the
# rows per second of the round's INSERT.  Connection from PG* variables.
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
SQL
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
