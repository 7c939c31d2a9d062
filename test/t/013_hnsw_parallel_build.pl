# A milvus_hnsw build with parallel workers: two workers are launched, the
# index verifies clean and finds every sampled row; CREATE INDEX CONCURRENTLY
# uses workers too; a graph that outgrows the shared arena is built again
# serially; an unlogged table builds in parallel and comes back empty after a
# crash; a cancelled build leaves no index and no worker behind; kill -9 of
# the postmaster during a build leaves the table intact and a new build
# works.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dim  = 16;
my $rows = 30000;

my $node = PostgreSQL::Test::Cluster->new('parbuild');
$node->init;
$node->append_conf(
    'postgresql.conf', qq{
shared_preload_libraries = 'milvus'
autovacuum = off
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_maintenance_workers = 2
maintenance_work_mem = '256MB'
});
$node->start;

# Element j of row i: a number in [-1, 1) drawn from md5("i,j").
$node->safe_psql(
    'postgres', qq{
    CREATE EXTENSION milvus;
    CREATE FUNCTION vec(i int) RETURNS floatvector LANGUAGE sql IMMUTABLE
        RETURN ARRAY(SELECT (('x' || substr(md5(i || ',' || j), 1, 8))::bit(32)::int / 2147483648.0)::real
                     FROM generate_series(1, $dim) j)::floatvector;
    CREATE TABLE t (id int PRIMARY KEY, emb floatvector($dim)) WITH (parallel_workers = 2);
    INSERT INTO t SELECT i, vec(i) FROM generate_series(1, $rows) i;
    ANALYZE t;
});

sub problems
{
    my ($index) = @_;
    return $node->safe_psql('postgres',
        "SELECT string_agg(p, E'\\n') FROM milvus_hnsw_verify('$index', true) p");
}

# Build with DEBUG1 messages; returns what the server said.
sub build
{
    my ($sql) = @_;
    my ($ret, $out, $err) =
      $node->psql('postgres', "SET client_min_messages = debug1; $sql");
    is($ret, 0, "$sql succeeds");
    return $err;
}

# The index holds every row, verifies clean, and a search for each sampled
# row finds that row first.
sub check
{
    my ($index, $what) = @_;
    is(problems($index), '', "$what: index verifies clean, every element reachable");
    is($node->safe_psql('postgres', "SELECT heap_tids FROM milvus_hnsw_stats('$index')"),
        $rows, "$what: the index holds the table's $rows rows");
    is( $node->safe_psql(
            'postgres', q{
            SET enable_seqscan = off;
            SET milvus.hnsw_ef_search = 100;
            SELECT count(*) FROM t a WHERE a.id % 29 = 0
               AND a.id IS DISTINCT FROM (SELECT b.id FROM t b ORDER BY b.emb <-> a.emb LIMIT 1)}),
        '0',
        "$what: searches find every sampled row");
}

# Parallel build.
my $err = build('CREATE INDEX t_idx ON t USING milvus_hnsw (emb floatvector_l2_ops)');
like($err, qr/milvus_hnsw: building with 2 parallel workers/, 'two workers launched');
check('t_idx', 'parallel build');
$node->safe_psql('postgres', 'DROP INDEX t_idx');

# With workers off, the same table builds serially.
$err = build('SET max_parallel_maintenance_workers = 0; '
      . 'CREATE INDEX t_idx ON t USING milvus_hnsw (emb floatvector_l2_ops)');
unlike($err, qr/parallel workers/, 'no workers when max_parallel_maintenance_workers = 0');
check('t_idx', 'serial build');
$node->safe_psql('postgres', 'DROP INDEX t_idx');

# CREATE INDEX CONCURRENTLY with workers (an MVCC snapshot for the scan).
$err = build('CREATE INDEX CONCURRENTLY t_cidx ON t USING milvus_hnsw (emb floatvector_l2_ops)');
like($err, qr/milvus_hnsw: building with 2 parallel workers/, 'CONCURRENTLY: two workers launched');
is($node->safe_psql('postgres', "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_cidx'::regclass"),
    't', 'CONCURRENTLY: the index is valid');
check('t_cidx', 'CONCURRENTLY');
$node->safe_psql('postgres', 'DROP INDEX t_cidx');

# Statistics from when the table was a tenth of its size and its rows ten
# times as wide make the graph look small: the parallel build starts, its
# arena fills, and the index is built again serially (and spills to disk).
$node->safe_psql(
    'postgres', qq{
    CREATE TABLE s (id int, emb floatvector($dim), pad text)
        WITH (parallel_workers = 2, autovacuum_enabled = off);
    INSERT INTO s SELECT i, vec(i), repeat('x', 1000) FROM generate_series(1, 300) i;
    ANALYZE s;
    INSERT INTO s SELECT i, vec(i) FROM generate_series(301, 3000) i;
});
$err = build("SET maintenance_work_mem = '1MB'; "
      . 'CREATE INDEX s_idx ON s USING milvus_hnsw (emb floatvector_l2_ops)');
like($err, qr/milvus_hnsw: building with 2 parallel workers/, 'small estimate: workers launched');
like(
    $err,
    qr/milvus_hnsw graph no longer fits into maintenance_work_mem after \d+ tuples of a parallel build/,
    'the shared arena filled and the build fell back to serial');
is(problems('s_idx'), '', 'the fallback index verifies clean');
is($node->safe_psql('postgres', "SELECT heap_tids FROM milvus_hnsw_stats('s_idx')"),
    '3000', 'and holds every row');

# An unlogged table builds in parallel too (its init fork is an empty graph,
# checked after the crash below).
$node->safe_psql(
    'postgres', qq{
    CREATE UNLOGGED TABLE u (id int, emb floatvector($dim)) WITH (parallel_workers = 2);
    INSERT INTO u SELECT i, vec(i) FROM generate_series(1, 5000) i;
});
$err = build('CREATE INDEX u_idx ON u USING milvus_hnsw (emb floatvector_l2_ops)');
like($err, qr/milvus_hnsw: building with 2 parallel workers/, 'unlogged: workers launched');
is(problems('u_idx'), '', 'unlogged: index verifies clean');

# A cancelled build leaves no index, no worker, and a server that works.
my ($ret, $out);
($ret, $out, $err) = $node->psql('postgres',
    "SET statement_timeout = '400ms'; "
      . 'CREATE INDEX t_tidx ON t USING milvus_hnsw (emb floatvector_l2_ops) WITH (ef_construction = 400)');
isnt($ret, 0, 'build under statement_timeout fails');
like($err, qr/canceling statement due to statement timeout/, 'cancelled by the timeout');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 't_tidx'"),
    '0', 'no index left by the cancelled build');
ok( $node->poll_query_until(
        'postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'parallel worker'"),
    'the workers are gone');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $rows, 'the server answers');

# kill -9 of the postmaster during a parallel build.
my $h = IPC::Run::start(
    [
        'psql', '-X', '-d', $node->connstr('postgres'), '-c',
        'CREATE INDEX t_kidx ON t USING milvus_hnsw (emb floatvector_l2_ops) WITH (ef_construction = 200)'
    ],
    '>', \$out, '2>', \$err);
$node->poll_query_until(
    'postgres', q{
    SELECT count(*) > 0 FROM pg_stat_progress_create_index p
    WHERE p.relid = 't'::regclass AND p.phase = 'building index: building graph in memory'
      AND p.tuples_done > 0
      AND EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'parallel worker')})
  or die 'parallel build did not start';
my $oldpid = $node->{_pid};
$node->kill9;
$h->finish;

# The killed postmaster may linger a moment, and until its orphaned backends
# have exited, a new postmaster refuses to start (shared memory in use); a
# start that failed leaves the harness believing a server runs, hence _pid.
for (my $i = 0; $i < 60 && kill(0, $oldpid); $i++)
{
    sleep(1);
}
my $started = 0;
for (my $i = 0; $i < 60 && !$started; $i++)
{
    $started = $node->start(fail_ok => 1);
    next if $started;
    $node->{_pid} = undef;
    sleep(1);
}
ok($started, 'the server restarts after kill -9');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $rows, 'the table is intact');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 't_kidx'"),
    '0', 'the interrupted build left no index');
is($node->safe_psql('postgres', 'SELECT count(*) FROM u'), '0', 'the unlogged table is empty');
$node->safe_psql('postgres', 'INSERT INTO u SELECT i, vec(i) FROM generate_series(1, 50) i');
is(problems('u_idx'), '', 'its index (the init fork) takes rows again');
is( $node->safe_psql(
        'postgres', 'SET enable_seqscan = off; SELECT id FROM u ORDER BY emb <-> vec(7) LIMIT 1'),
    '7',
    'and finds them');
$err = build('CREATE INDEX t_idx ON t USING milvus_hnsw (emb floatvector_l2_ops)');
like($err, qr/milvus_hnsw: building with 2 parallel workers/, 'after the crash: workers launched');
check('t_idx', 'after the crash');

$node->stop;
done_testing();
