# A streaming standby of a milvus_hnsw index answers exactly as its primary
# after rounds of insert, delete and vacuum: every index page change reaches
# the standby through WAL.  wal_consistency_checking = 'generic' makes the
# standby compare each Generic WAL record it replays with the page image the
# primary logged, and stop on any difference.  The build covers both paths:
# a graph built in memory, and one that outgrows maintenance_work_mem and
# continues on disk.  A third index holds vectors larger than a page, which
# go on in chunk tuples (written by inserts in records of their own).  From
# round 2 on, inserts reuse the slots the previous round's VACUUM freed, so
# the records that overwrite a slot in place are replayed and checked too.
# Inserts go to the growing segment and VACUUM seals it; rounds 4 and 5 also
# compare answers while rows are still growing.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dim = 16;
my $bigdim = 8000;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf(
    'postgresql.conf', qq{
shared_preload_libraries = 'milvus'
wal_consistency_checking = 'generic'
# VACUUM seals and compacts here, at known steps, not the data coordinator
milvus.data_coordinator = off
});
$primary->start;
# a slot that reserves WAL at once: a standby slowed by a busy machine must
# not find the segments it still needs removed
$primary->safe_psql('postgres',
    "SELECT pg_create_physical_replication_slot('standby_slot', true)");
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby_slot'");
$standby->start;

# Element j of row i: a number in [-1, 1) drawn from md5("i,j").
$primary->safe_psql(
    'postgres', qq{
    CREATE EXTENSION milvus;
    CREATE FUNCTION vec(i int) RETURNS floatvector LANGUAGE sql IMMUTABLE
        RETURN ARRAY(SELECT (('x' || substr(md5(i || ',' || j), 1, 8))::bit(32)::int / 2147483648.0)::real
                     FROM generate_series(1, $dim) j)::floatvector;
    CREATE TABLE t (id int PRIMARY KEY, emb floatvector($dim));
    INSERT INTO t SELECT i, vec(i) FROM generate_series(1, 6000) i;
    CREATE INDEX t_mem ON t USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
    CREATE FUNCTION bigvec(i int) RETURNS floatvector LANGUAGE sql IMMUTABLE
        RETURN ARRAY(SELECT sin(i * 0.37 + j * (0.01 + i % 7 * 0.001))::real
                     FROM generate_series(1, $bigdim) j)::floatvector;
    CREATE TABLE big (id int PRIMARY KEY, emb floatvector($bigdim));
    INSERT INTO big SELECT i, bigvec(i) FROM generate_series(1, 150) i;
    CREATE INDEX big_idx ON big USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
});

# The same graph built with too little memory: written out, then continued on disk.
my ($ret, $out, $err) = $primary->psql('postgres',
    "SET maintenance_work_mem = '1MB'; "
      . "CREATE INDEX t_spill ON t USING milvus_hnsw (emb floatvector_ip_ops) WITH (m = 8)");
is($ret, 0, 'build that outgrows maintenance_work_mem succeeds');
like($err, qr/milvus_hnsw graph no longer fits into maintenance_work_mem after \d+ tuples/,
    'and says so');

# Results of a few queries as text, ids and distances: on t, <-> goes
# through t_mem, <#> through t_spill.
my @indexes = ([ 't', 't_mem', '<->', 'vec' ], [ 't', 't_spill', '<#>', 'vec' ],
    [ 'big', 'big_idx', '<->', 'bigvec' ]);

sub answers
{
    my ($node, $table, $op, $fn) = @_;
    return $node->safe_psql(
        'postgres', qq{
        SET enable_seqscan = off;
        SET milvus.hnsw_ef_search = 64;
        SELECT q, string_agg(id || ':' || d, ',' ORDER BY n)
        FROM generate_series(-5, -1) q,
             LATERAL (SELECT id, emb $op $fn(q) AS d, row_number() OVER () AS n
                      FROM $table ORDER BY emb $op $fn(q) LIMIT 20) s
        GROUP BY q ORDER BY q});
}

sub check_round
{
    my ($round) = @_;
    $primary->wait_for_catchup($standby, 'replay');
    for my $spec (@indexes)
    {
        my ($table, $index, $op, $fn) = @$spec;
        my $want = answers($primary, $table, $op, $fn);
        my $got = answers($standby, $table, $op, $fn);
        is($got, $want, "$round: standby answers as the primary through $index");
        for my $node ($primary, $standby)
        {
            is( $node->safe_psql(
                    'postgres', "SELECT string_agg(p, E'\\n') FROM milvus_hnsw_verify('$index', true) p"),
                '',
                "$round: $index verifies clean, every row reachable, on the " . $node->name);
        }
    }
}

# Each operator goes through its own index.
for my $spec (@indexes)
{
    my ($table, $index, $op, $fn) = @$spec;
    like(
        $standby->safe_psql(
            'postgres',
            "SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM $table ORDER BY emb $op $fn(-1) LIMIT 5"),
        qr/Index Scan using $index/,
        "$op queries use $index on the standby");
}

check_round('after build');

for my $round (1 .. 3)
{
    my $base = 6000 + 500 * ($round - 1);
    $primary->safe_psql(
        'postgres', qq{
        INSERT INTO t SELECT i, vec(i) FROM generate_series($base + 1, $base + 500) i;
        DELETE FROM t WHERE id % 5 = $round OR id BETWEEN $base - 100 AND $base;
        VACUUM t;
        INSERT INTO big SELECT i, bigvec(i) FROM generate_series($base + 1, $base + 20) i;
        DELETE FROM big WHERE id % 5 = $round;
        VACUUM big;
    });
    check_round("round $round");
}

# Rows in the growing segment, unsealed (no VACUUM yet): the standby's scans
# merge them with the graph as the primary's do; then sealed by VACUUM, and
# the emptied growing pages taken again by the next inserts.
for my $round (4 .. 5)
{
    my $base = 6000 + 500 * ($round - 1);
    $primary->safe_psql(
        'postgres', qq{
        INSERT INTO t SELECT i, vec(i) FROM generate_series($base + 1, $base + 500) i;
        DELETE FROM t WHERE id % 7 = $round;
    });
    check_round("round $round, growing");
    $primary->safe_psql('postgres', 'VACUUM t');
    check_round("round $round, sealed");
}

# A seal long enough to hand pages to the free list as it goes (3,000 rows,
# about 40 growing pages), its new graph pages taken from that free list: in
# memory (hnswsealmem.c), in waves whose lists are written a page at a time
# and whose rows are flagged a growing page at a time; then the same linking
# rows one at a time on disk (milvus.hnsw_seal_in_memory off)
for my $mode ('on', 'off')
{
    my $from = $mode eq 'on' ? 8501 : 15501;
    $primary->safe_psql('postgres',
        "INSERT INTO t SELECT i, vec(i) FROM generate_series($from, $from + 2999) i");
    my ($ret, $out, $err) = $primary->psql('postgres',
        "SET milvus.hnsw_seal_in_memory = $mode; SET client_min_messages = debug1; VACUUM t");
    is($ret, 0, "VACUUM seals 3,000 rows, in memory $mode");
    if ($mode eq 'on')
    {
        like($err, qr/sealing 3000 rows in memory, in waves of 32 pages/, 'in memory, in waves');
    }
    else
    {
        unlike($err, qr/in memory/, 'one row at a time');
    }
    check_round("round 6, a long seal, in memory $mode");
}

# The same by milvus.seal() with two parallel workers: each links the rows of
# the pages it claims, on the same graph pages, and the leader hands the pages
# to the free list (hnswsealparallel.c); the standby replays all three
# processes' records.  pg_stat_activity shows the workers while it runs.
$primary->safe_psql('postgres', 'INSERT INTO t SELECT i, vec(i) FROM generate_series(11501, 15500) i');
my ($sealed, $seal_out, $seal_err) = $primary->psql('postgres',
    "SET max_parallel_maintenance_workers = 2; SET client_min_messages = debug1; "
      . "SET milvus.hnsw_seal_in_memory = off; "
      . "SELECT milvus.seal(x) FROM unnest(ARRAY['t_mem', 't_spill']::regclass[]) x");
is($sealed, 0, 'milvus.seal of 4,000 rows succeeds');
like($seal_err, qr/sealing 4000 rows with [12] parallel workers/, 'and seals with parallel workers');
check_round('round 7, a parallel seal');

for my $index ('t_mem', 't_spill')
{
    my $reused = $primary->safe_psql('postgres', "SELECT reused FROM milvus_hnsw_stats('$index')");
    ok($reused > 100, "inserts into $index reused freed slots ($reused)");
    is($standby->safe_psql('postgres', "SELECT reused FROM milvus_hnsw_stats('$index')"),
        $reused, "and the standby's $index says so");
}

# A seal whose rows take the slots of deleted rows leaves the growing pages
# they came from free at the end of the index, and cuts them off
# (hnswtruncate.c): the standby replays the truncation, the new page of the
# growing chain, and the links of the free list, and answers as the primary.
# A table of its own, whose growing pages are sure to lie at the end: right
# after a VACUUM the index has no free page, so they extend it.
$primary->safe_psql(
    'postgres', qq{
    CREATE TABLE tz (id int PRIMARY KEY, emb floatvector($dim));
    INSERT INTO tz SELECT i, vec(i) FROM generate_series(1, 2000) i;
    CREATE INDEX tz_idx ON tz USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
    DELETE FROM tz WHERE id % 2 = 0;
    VACUUM tz;
    INSERT INTO tz SELECT i, vec(i) FROM generate_series(2001, 2600) i;});
push @indexes, [ 'tz', 'tz_idx', '<->', 'vec' ];
check_round('round 8, rows growing over freed slots');
my $growing_size = $primary->safe_psql('postgres', "SELECT pg_relation_size('tz_idx')");
($sealed, $seal_out, $seal_err) =
  $primary->psql('postgres', "SET client_min_messages = debug1; SELECT milvus.seal('tz_idx')");
is($sealed, 0, 'milvus.seal of 600 rows into freed slots succeeds');
like($seal_err, qr/free pages at its end given back/, 'and gives back free pages');
cmp_ok($primary->safe_psql('postgres', "SELECT pg_relation_size('tz_idx')"),
    '<', $growing_size, 'the index is shorter');
check_round('round 8, a seal that truncates');
$primary->safe_psql('postgres', 'INSERT INTO tz SELECT i, vec(i) FROM generate_series(2601, 2700) i');
check_round('round 8, rows growing again');
is( $standby->safe_psql('postgres', "SELECT pg_relation_size('tz_idx')"),
    $primary->safe_psql('postgres', "SELECT pg_relation_size('tz_idx')"),
    "the standby's tz_idx is as long as the primary's");

# A search on the standby whose walk of the growing chain a replayed seal
# overtakes: held after it read the chain's first page (hnsw_growing_walk)
# while the primary seals 6,000 rows in memory, in waves whose emptied pages
# the next waves' elements take as graph pages.  Let go once the standby has
# replayed the seal, the walk finds that a release overtook it and walks the
# chain again, and the search meets every row once (before, it stepped onto
# a page the graph had taken: "broken growing chain").  The seal keeps its
# free pages (milvus.hnsw_truncate off): a truncation's lock, replayed, would
# wait for the held search.
$primary->safe_psql(
    'postgres', qq{
    CREATE TABLE ts (id int PRIMARY KEY, emb floatvector($dim));
    CREATE INDEX ts_idx ON ts USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
    INSERT INTO ts SELECT i, vec(i) FROM generate_series(1, 6000) i;});
$primary->wait_for_catchup($standby, 'replay');
my $pause_key = 1835625590;
my $holder = $standby->background_psql('postgres');
$holder->query_safe("SELECT pg_advisory_lock($pause_key, 8)");    # hnsw_growing_walk
my ($scan_out, $scan_err) = ('', '');
my $scan = IPC::Run::start(
    [
        'psql', '-X', '-q', '-At', '-d', $standby->connstr('postgres'),
        '-c', 'SET milvus.debug_pause_at = hnsw_growing_walk',
        '-c', 'SET enable_seqscan = off',
        '-c', "SELECT count(*) || ' ' || count(DISTINCT id) FROM "
          . '(SELECT id FROM ts ORDER BY emb <-> vec(7) LIMIT 100000) s'
    ],
    '>', \$scan_out, '2>', \$scan_err);
ok( $standby->poll_query_until(
        'postgres', qq{
        SELECT count(*) = 1 FROM pg_locks
        WHERE locktype = 'advisory' AND classid = $pause_key AND objid = 8
          AND objsubid = 2 AND NOT granted}),
    'a search on the standby is held in its walk of the growing chain');
($sealed, $seal_out, $seal_err) = $primary->psql('postgres',
    "SET milvus.hnsw_truncate = off; SET client_min_messages = debug1; SELECT milvus.seal('ts_idx')");
like($seal_err, qr/sealing 6000 rows in memory, in waves of 32 pages/,
    'the primary seals the rows in memory, in waves');
$primary->wait_for_catchup($standby, 'replay');
$holder->query_safe("SELECT pg_advisory_unlock($pause_key, 8)");
$holder->quit;
$scan->finish;
my $skipped = $scan_err =~ /skipped (\d+) rows found after farther rows/ ? $1 : 0;
my ($returned, $distinct) = split / /, $scan_out;
chomp $distinct if defined $distinct;
unlike($scan_err, qr/ERROR/, 'the held search ends without an error') or diag($scan_err);
is(($returned // 0) + $skipped, 6000,
    "the held search meets every row (returned $returned, skipped for order $skipped)");
is($distinct, $returned, 'and returns none twice');
push @indexes, [ 'ts', 'ts_idx', '<->', 'vec' ];
check_round('round 9, a seal a held search on the standby walked through');

ok(!$standby->log_contains('inconsistent page'), 'standby found no inconsistent page');

$standby->stop;
$primary->stop;
done_testing();
