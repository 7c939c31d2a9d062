# On fixed-seed clustered data and a seeded graph (milvus.hnsw_level_seed, so
# the same graph on every run), milvus_hnsw keeps a recall floor: recall@10
# against exact search, with and without a WHERE filter, with the index forced
# and EXPLAIN showing that it is the index scanned, and filtered queries
# return their 10 rows.  Floors sit just below what was measured.  The planner
# uses the index for ORDER BY ... LIMIT and prefers the exact plan when a
# filter leaves only a few rows.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dim = 32;
my $rows = 20000;
my $queries = 100;

my $node = PostgreSQL::Test::Cluster->new('recall');
$node->init;
$node->append_conf('postgresql.conf',
    "shared_preload_libraries = 'milvus'\nmax_parallel_workers_per_gather = 0\n"
      . "milvus.hnsw_level_seed = 14");
$node->start;

# 50 clusters; a row is its cluster's centre plus noise.  label: 0..99 from
# md5 of the id (each value about 1% of rows, independent of the cluster).  Queries are fresh points
# drawn the same way.  setseed makes it the same data on every run.
$node->safe_psql(
    'postgres', qq{
    CREATE EXTENSION milvus;
    SELECT setseed(0.42);
    CREATE TABLE centre AS
        SELECT c, ARRAY(SELECT random() * 2 - 1 FROM generate_series(1, $dim) WHERE c >= 0) AS x
        FROM generate_series(0, 49) c;
    CREATE TABLE t (id int PRIMARY KEY, label int, emb floatvector($dim));
    INSERT INTO t
        SELECT i, ('x' || substr(md5(i::text), 1, 4))::bit(16)::int % 100,
               ARRAY(SELECT (x[j] + (random() - 0.5) * 1.5)::real
                     FROM generate_series(1, $dim) j)::floatvector
        FROM generate_series(1, $rows) i JOIN centre ON c = i % 50;
    CREATE TABLE q (qid int PRIMARY KEY, emb floatvector($dim));
    INSERT INTO q
        SELECT i, ARRAY(SELECT (x[j] + (random() - 0.5) * 1.5)::real
                        FROM generate_series(1, $dim) j)::floatvector
        FROM generate_series(1, $queries) i JOIN centre ON c = (i * 7) % 50;
    CREATE INDEX t_label ON t (label);
    CREATE INDEX t_idx ON t USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 16, ef_construction = 64);
    ANALYZE t;
});

is($node->safe_psql('postgres', "SELECT count(*) FROM milvus_hnsw_verify('t_idx', true)"),
    '0', 'index verifies clean');

# Exact answers (no index), then the index's, for one filter, with the
# vector index forced (no sequential or bitmap scan, no sort: a B-tree scan
# plus a sort would only be exact search again); returns (recall@10, average
# rows per query, the plan of one such query).
sub recall
{
    my ($filter, $ef) = @_;
    my $where = $filter eq '' ? '' : "WHERE $filter";
    # the index scan's own recall: the hybrid search is tested in hybrid_search
    my $force = 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off; '
      . 'SET milvus.enable_hybrid_search = off;';
    my $plan = $node->safe_psql('postgres',
        "$force EXPLAIN (COSTS OFF) SELECT id FROM t $where ORDER BY emb <-> (SELECT emb FROM q WHERE qid = 1) LIMIT 10");
    return (
        split(/\|/,
            $node->safe_psql(
                'postgres', qq{
        SET enable_indexscan = off;
        CREATE TEMP TABLE exact AS
            SELECT qid, ARRAY(SELECT id FROM t $where ORDER BY t.emb <-> q.emb LIMIT 10) AS ids FROM q;
        RESET enable_indexscan;
        $force
        SET milvus.hnsw_ef_search = $ef;
        CREATE TEMP TABLE approx AS
            SELECT qid, ARRAY(SELECT id FROM t $where ORDER BY t.emb <-> q.emb LIMIT 10) AS ids FROM q;
        SELECT round(avg((SELECT count(*) FROM unnest(a.ids) x WHERE x = ANY (e.ids)) / 10.0), 4),
               avg(cardinality(a.ids))
        FROM exact e JOIN approx a USING (qid);
        DROP TABLE exact, approx;
    })),
        $plan);
}

my ($r, $n, $plan) = recall('', 40);
like($plan, qr/Index Scan using t_idx/, 'the unfiltered recall is the index\'s');
cmp_ok($r, '>=', 0.98, "recall\@10 at ef_search 40 is at least 0.98 ($r)");
is($n, '10.0000000000000000', 'every query returns 10 rows');

my ($rlow) = recall('', 10);
cmp_ok($rlow, '>=', 0.95, "recall\@10 at ef_search 10 is at least 0.95 ($rlow)");

my ($r10, $n10, $plan10) = recall('label < 10', 40);
like($plan10, qr/Index Scan using t_idx/, 'the 10% filter\'s recall is the index\'s');
cmp_ok($r10, '>=', 0.98, "recall\@10 with a 10% filter is at least 0.98 ($r10)");
is($n10, '10.0000000000000000', 'a 10% filter still returns 10 rows per query');

my ($r1, $n1, $plan1) = recall('label = 3', 40);
like($plan1, qr/Index Scan using t_idx/, 'the 1% filter\'s recall is the index\'s, forced');
cmp_ok($r1, '>=', 0.98, "recall\@10 with a 1% filter (index forced) is at least 0.98 ($r1)");
is($n1, '10.0000000000000000', 'a 1% filter still returns 10 rows per query');

# A scan that skips rows found after farther ones says so, and the rows it
# returns fall short of the LIMIT: a poor graph (m = 2) asked for every row
$node->safe_psql('postgres',
    'CREATE TABLE tp AS SELECT * FROM t; '
      . 'CREATE INDEX t_poor ON tp USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 2, ef_construction = 4)');
my ($ret, $stdout, $stderr) = $node->psql(
    'postgres', qq{
    SET enable_seqscan = off; SET enable_sort = off;
    SET milvus.hnsw_ef_search = 1;
    SELECT count(*) FROM (SELECT id FROM tp ORDER BY emb <-> (SELECT emb FROM q WHERE qid = 1) LIMIT $rows) s;
});
is($ret, 0, 'the scan of the poor graph runs');
cmp_ok($stdout, '<', $rows, "it returns fewer rows than asked ($stdout of $rows)");
like(
    $stderr,
    qr/NOTICE:  milvus_hnsw index scan of "t_poor" skipped (\d+) rows found after farther rows/,
    'and a NOTICE counts the rows it skipped');
my ($skipped) = $stderr =~ /skipped (\d+) rows/;
is($skipped + $stdout, $rows, 'the rows skipped and the rows returned are all the rows');
$node->safe_psql('postgres', 'DROP TABLE tp');

# The planner on its own
sub plan_of
{
    my ($filter) = @_;
    my $where = $filter eq '' ? '' : "WHERE $filter";
    return $node->safe_psql('postgres',
        "EXPLAIN (COSTS OFF) SELECT id FROM t $where ORDER BY emb <-> (SELECT emb FROM q WHERE qid = 1) LIMIT 10");
}
like(plan_of(''), qr/Index Scan using t_idx/, 'ORDER BY ... LIMIT uses the index');
like(plan_of('label < 50'), qr/Index Scan using t_idx|Planned Strategy: walk/,
    'so does a filter half the rows pass (itself, or the hybrid search\'s walk of it)');
my $p = plan_of('label = 3');
unlike($p, qr/Index Scan using t_idx|Planned Strategy: (?:walk|graph)/,
    'a filter 1% of rows pass gets the exact plan');
like($p, qr/Sort|Planned Strategy: exact/, 'an exact one');
like($p, qr/t_label/, 'through the label index');
unlike(
    $node->safe_psql('postgres',
        'EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY emb <-> (SELECT emb FROM q WHERE qid = 1)'),
    qr/t_idx/,
    'without LIMIT the index is not used');

$node->stop;
done_testing();
