# A milvus_hnsw build with parallel workers: two workers are launched, the
# index verifies clean and finds every sampled row, and the build goes
# through its progress phases, held at each (milvus.debug_pause_at); with
# every parallel worker slot taken the build falls back to serial; CREATE
# INDEX CONCURRENTLY uses workers too; a graph that outgrows the shared arena
# is built again serially; an unlogged table builds in parallel and comes
# back empty after a crash; a build cancelled while held at a step, serial or
# parallel, leaves no index, no file, no worker and no shared memory behind;
# kill -9 of the postmaster during a build leaves the table intact and a new
# build works.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

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

# A backend at a point named in milvus.debug_pause_at waits while a session
# holds the point's advisory lock (doc/indexes.md, settings for testing).
my $pause_key = 1835625590;
my %pause_point = (hnsw_build_load => 1, hnsw_build_write => 2);

# A session holding the locks of the given points.
sub hold
{
    my $holder = $node->background_psql('postgres');
    $holder->query_safe("SELECT pg_advisory_lock($pause_key, $pause_point{$_})") for @_;
    return $holder;
}

sub release
{
    my ($holder, $point) = @_;
    $holder->query_safe("SELECT pg_advisory_unlock($pause_key, $pause_point{$point})");
}

# psql running the given commands in the background, with DEBUG1 messages,
# as application $name.
sub start_build
{
    my ($name, @sql) = @_;
    my $build = { name => $name, out => '', err => '' };
    $build->{h} = IPC::Run::start(
        [
            'psql', '-X', '-d', $node->connstr('postgres') . " application_name=$name",
            map { ('-c', $_) } ('SET client_min_messages = debug1', @sql)
        ],
        '>', \$build->{out}, '2>', \$build->{err});
    return $build;
}

# Wait until $count processes of $build (its backend and its workers) wait
# at $point; returns the backend's pid.
sub wait_at
{
    my ($build, $point, $count) = @_;
    my $pid = qq{(SELECT pid FROM pg_stat_activity
                  WHERE application_name = '$build->{name}' AND backend_type = 'client backend')};
    my $waiting = qq{
        SELECT count(*) >= $count FROM pg_locks l JOIN pg_stat_activity a USING (pid)
        WHERE l.locktype = 'advisory' AND l.classid = $pause_key AND l.objid = $pause_point{$point}
          AND l.objsubid = 2 AND NOT l.granted AND coalesce(a.leader_pid, a.pid) = $pid};
    for (my $i = 0; $node->safe_psql('postgres', $waiting) ne 't'; $i++)
    {
        $build->{h}->pump_nb;
        die "$build->{name} ended or took too long without $count processes waiting at $point:\n$build->{err}"
          if !$build->{h}->pumpable || $i > 10 * $PostgreSQL::Test::Utils::timeout_default;
        usleep(100_000);
    }
    return $node->safe_psql('postgres', "SELECT $pid");
}

# The build's progress: phase, tuples_total, tuples_done.
sub progress
{
    my ($pid) = @_;
    return $node->safe_psql('postgres',
        "SELECT concat_ws(' ', phase, tuples_total, tuples_done) FROM pg_stat_progress_create_index WHERE pid = $pid"
    );
}

sub workers
{
    my ($pid) = @_;
    return $node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE leader_pid = $pid");
}

# The setting takes only known points, and only from a superuser.
my ($ret, $out, $err) =
  $node->psql('postgres', "SET milvus.debug_pause_at = 'hnsw_build_load, nowhere'");
like($err, qr/invalid value for parameter "milvus.debug_pause_at".*\n.*Unknown pause point "nowhere"/,
    'an unknown pause point is refused');
($ret, $out, $err) = $node->psql('postgres',
    'CREATE ROLE plain; SET ROLE plain; SET milvus.debug_pause_at = hnsw_build_load');
like($err, qr/permission denied to set parameter "milvus.debug_pause_at"/, 'for superusers only');

# A parallel build held where each participant starts to read the heap and
# where the leader starts to write the pages, with the progress it shows at
# each.  While its two workers hold both of the parallel worker slots
# another build (of a smaller table, also asking for two workers) gets none
# (max_parallel_workers = 2) and builds serially.
$node->safe_psql('postgres',
    'CREATE TABLE f WITH (parallel_workers = 2) AS SELECT * FROM t WHERE id <= 5000; ANALYZE f');
my $holder = hold('hnsw_build_load', 'hnsw_build_write');
my $par = start_build(
    'parallel',
    "SET milvus.debug_pause_at = 'hnsw_build_load, hnsw_build_write'",
    'CREATE INDEX t_idx ON t USING milvus_hnsw (emb floatvector_l2_ops)');
my $pid = wait_at($par, 'hnsw_build_load', 3);
is(workers($pid), '2', 'the leader and its two workers wait before reading the heap');
is(progress($pid), 'building index: building graph in memory 0 0', 'in phase building graph in memory');
my $ser = start_build(
    'fallback',
    'SET max_parallel_workers = 2',
    'SET milvus.debug_pause_at = hnsw_build_load',
    'CREATE INDEX f_idx ON f USING milvus_hnsw (emb floatvector_l2_ops)');
my $serpid = wait_at($ser, 'hnsw_build_load', 1);
is(workers($serpid), '0', 'no worker slot left: the second build waits with no workers of its own');
is(progress($serpid), 'building index: building graph in memory 0 0', 'in phase building graph in memory');
release($holder, 'hnsw_build_load');
wait_at($par, 'hnsw_build_write', 1);
is(progress($pid), "building index: writing graph pages $rows 0",
    "the leader waits with the $rows elements in memory, in phase writing graph pages");
release($holder, 'hnsw_build_write');
$par->{h}->finish;
$ser->{h}->finish;
$holder->quit;
like($par->{err}, qr/milvus_hnsw: building with 2 parallel workers/, 'two workers launched');
check('t_idx', 'parallel build');
unlike($ser->{err}, qr/parallel workers/, 'fall-back: no workers launched');
is(problems('f_idx'), '', 'fall-back: the index verifies clean');
is($node->safe_psql('postgres', "SELECT heap_tids FROM milvus_hnsw_stats('f_idx')"),
    '5000', 'and holds every row');
$node->safe_psql('postgres', 'DROP INDEX t_idx; DROP TABLE f');

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

# A build cancelled while held at $point (a parallel build with its
# workers) leaves no index, no file (once a checkpoint has run), no worker
# and no shared memory segment; returns the segments it had.
sub cancel_held
{
    my ($what, $point, $participants, $progress, @sql) = @_;
    my $holder = hold($point);
    my $build = start_build($what =~ s/ /_/gr, "SET milvus.debug_pause_at = $point", @sql);
    my $pid = wait_at($build, $point, $participants);
    is(progress($pid), $progress, "$what: waits in phase $progress");
    my $index = $node->safe_psql('postgres',
        "SELECT relation FROM pg_locks WHERE pid = $pid AND locktype = 'relation' AND mode = 'AccessExclusiveLock'"
    );
    my $file = $node->data_dir . '/'
      . $node->safe_psql('postgres',
        "SELECT 'base/' || oid FROM pg_database WHERE datname = current_database()")
      . "/$index";
    ok(-e $file, "$what: the new index's file exists while the build waits");
    # the build's segment holds the arena, at least 4 MB; the server's own
    # segments (the control segment, the statistics' areas) are smaller
    my @segments;
    for (split /\n/, slurp_file("/proc/$pid/maps"))
    {
        push @segments, $3
          if m{^([0-9a-f]+)-([0-9a-f]+) .* /dev/shm/(PostgreSQL\.\d+)$}
          && hex($2) - hex($1) >= 4 * 1024 * 1024;
    }

    $node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
    $build->{h}->finish;
    $holder->quit;
    like($build->{err}, qr/ERROR:  canceling statement due to user request/, "$what: cancelled");
    ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE leader_pid = $pid"),
        "$what: no worker left");
    is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE oid = $index"),
        '0', "$what: no index left");
    $node->safe_psql('postgres', 'CHECKPOINT');
    ok(!-e $file, "$what: no file left");
    is(join(' ', grep { -e "/dev/shm/$_" } @segments), '', "$what: no shared memory segment left");
    return @segments;
}

my @segments = cancel_held('cancel parallel', 'hnsw_build_load', 3,
    'building index: building graph in memory 0 0',
    'CREATE INDEX t_cidx ON t USING milvus_hnsw (emb floatvector_l2_ops)');
ok(@segments > 0, 'the parallel build had a shared memory segment of its own');
cancel_held(
    'cancel serial', 'hnsw_build_write', 1,
    'building index: writing graph pages 3000 0',
    'SET max_parallel_maintenance_workers = 0',
    'CREATE INDEX s_cidx ON s USING milvus_hnsw (emb floatvector_l2_ops)');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $rows, 'the server answers');

# With max_parallel_maintenance_workers = 0 no workers are asked for.
$err = build('SET max_parallel_maintenance_workers = 0; '
      . 'CREATE INDEX s_cidx ON s USING milvus_hnsw (emb floatvector_l2_ops)');
unlike($err, qr/parallel workers/, 'no workers when max_parallel_maintenance_workers = 0');
is(problems('s_cidx'), '', 'the serial index verifies clean');
is($node->safe_psql('postgres', "SELECT heap_tids FROM milvus_hnsw_stats('s_cidx')"),
    '3000', 'and holds every row');

# kill -9 of the postmaster while a parallel build waits with its workers.
# The postmaster and its children must all be gone before a new one can
# start (shared memory in use, the old lock file).
$holder = hold('hnsw_build_load');
my $killed = start_build(
    'killed',
    'SET milvus.debug_pause_at = hnsw_build_load',
    'CREATE INDEX t_kidx ON t USING milvus_hnsw (emb floatvector_l2_ops)');
wait_at($killed, 'hnsw_build_load', 3);
my $postmaster = (split /\n/, slurp_file($node->data_dir . '/postmaster.pid'))[0];
my @server = ($postmaster);
for my $stat (glob('/proc/[0-9]*/stat'))
{
    my $line = eval { slurp_file($stat) } // next;
    push @server, $1 if $line =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $postmaster;
}
$node->kill9;
$killed->{h}->finish;
$holder->quit;
for (my $i = 0; grep { kill(0, $_) } @server; $i++)
{
    die 'the killed server\'s processes did not exit' if $i > 10 * $PostgreSQL::Test::Utils::timeout_default;
    usleep(100_000);
}
my $started = $node->start(fail_ok => 1);
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
