# The data coordinator (src/workers/): its database worker seals a
# milvus_hnsw index's growing segment once it holds milvus.seal_rows rows and
# not before, and seals a smaller one that stayed unchanged for
# milvus.seal_idle_time; the launcher starts a new worker after
# pg_terminate_backend of one; a seal in progress shows in milvus.segments,
# holds no snapshot, holds back no VACUUM of another table even when its
# catalog reads took one, and a cancel of it is logged and outlived; another
# session's temporary index is left alone; two databases are both served;
# DROP DATABASE of a database whose worker runs succeeds; a database without
# the extension costs a worker start now and then, not a worker;
# milvus.data_coordinator = off stops the workers (and inserts then warn); a
# fast shutdown leaves no worker error in the log.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $naptime   = 100;     # ms
my $seal_rows = 1000;

my $node = PostgreSQL::Test::Cluster->new('coordinator');
$node->init;
$node->append_conf(
    'postgresql.conf', qq{
shared_preload_libraries = 'milvus'
log_min_messages = debug1
milvus.data_coordinator_naptime = $naptime
milvus.seal_rows = $seal_rows
milvus.seal_idle_time = 3600
});
$node->start;

# Element j of row i: a number in [-1, 1) drawn from md5("i,j").
my $setup = q{
    CREATE EXTENSION milvus;
    CREATE FUNCTION vec(i int) RETURNS floatvector LANGUAGE sql IMMUTABLE
        RETURN ARRAY(SELECT (('x' || substr(md5(i || ',' || j), 1, 8))::bit(32)::int / 2147483648.0)::real
                     FROM generate_series(1, 8) j)::floatvector;
    CREATE TABLE t (id int PRIMARY KEY, emb floatvector(8));
    CREATE INDEX t_emb ON t USING milvus_hnsw (emb floatvector_l2_ops);
};

sub insert
{
    my ($db, $from, $to) = @_;
    my ($ret, $out, $err) =
      $node->psql($db, "INSERT INTO t SELECT i, vec(i) FROM generate_series($from, $to) i");
    is($ret, 0, "$db: insert rows $from..$to");
    return $err;
}

sub segment
{
    my ($db) = @_;
    return $node->safe_psql($db,
        "SELECT growing_rows || '/' || sealed_rows FROM milvus.segments WHERE index_name = 't_emb'::regclass");
}

sub worker_pid
{
    my ($db) = @_;
    return $node->safe_psql($db,
        "SELECT pid FROM pg_stat_activity WHERE backend_type = 'milvus data coordinator' AND datname = '$db'");
}

sub wait_for_worker
{
    my ($db) = @_;
    ok( $node->poll_query_until(
            $db,
            "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'milvus data coordinator' AND datname = '$db'"
        ),
        "$db: a worker runs");
}

sub wait_sealed
{
    my ($db, $rows, $what) = @_;
    ok( $node->poll_query_until(
            $db,
            "SELECT growing_rows = 0 AND sealed_rows = $rows FROM milvus.segments WHERE index_name = 't_emb'::regclass"
        ),
        "$db: $what") or diag("segment: " . segment($db));
}

is($node->safe_psql('postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'milvus data coordinator launcher'"),
    '1', 'the launcher runs');

$node->safe_psql('postgres', $setup);
wait_for_worker('postgres');

# Size: one row short of seal_rows stays growing over many rounds
my $err = insert('postgres', 1, $seal_rows - 1);
unlike($err, qr/no data coordinator/, 'an insert does not warn while the coordinator runs');
usleep(20 * $naptime * 1000);
is(segment('postgres'), ($seal_rows - 1) . '/0', 'below milvus.seal_rows nothing is sealed');
insert('postgres', $seal_rows, $seal_rows);
wait_sealed('postgres', $seal_rows, 'milvus.seal_rows rows are sealed');
ok($node->log_contains(qr/milvus data coordinator sealed $seal_rows rows of index "t_emb"/),
    'one seal took them all');
is( $node->safe_psql(
        'postgres', q{
        SET enable_seqscan = off;
        SELECT count(*) FROM t a WHERE a.id % 50 = 0
           AND a.id IS DISTINCT FROM (SELECT b.id FROM t b ORDER BY b.emb <-> a.emb LIMIT 1)}),
    '0',
    'searches find sealed rows');

# Idle: a small segment unchanged for seal_idle_time is sealed, not sooner
$node->safe_psql('postgres', 'ALTER SYSTEM SET milvus.seal_idle_time = 2; SELECT pg_reload_conf()');
my $inserted_at = $node->safe_psql('postgres',
    "INSERT INTO t SELECT i, vec(i) FROM generate_series(1001, 1010) i; SELECT clock_timestamp()");
wait_sealed('postgres', 1010, 'an idle growing segment is sealed');
is( $node->safe_psql(
        'postgres',
        "SELECT last_seal >= '$inserted_at'::timestamptz + interval '2 s' FROM milvus.segments WHERE index_name = 't_emb'::regclass"
    ),
    't',
    'the idle seal waited for milvus.seal_idle_time');

# milvus.seal_parallel_workers: a seal of 3,000 rows (committed at once, the
# table locked meanwhile so that no seal starts before) links them with a
# parallel worker besides the coordinator, when it does not seal in memory
$node->safe_psql('postgres',
    'ALTER SYSTEM SET milvus.seal_parallel_workers = 1; '
      . 'ALTER SYSTEM SET milvus.hnsw_seal_in_memory = off; SELECT pg_reload_conf()');
$node->safe_psql(
    'postgres', q{
    CREATE TABLE p (id int PRIMARY KEY, emb floatvector(8));
    CREATE INDEX p_emb ON p USING milvus_hnsw (emb floatvector_l2_ops);
    BEGIN;
    LOCK TABLE p IN SHARE MODE;
    INSERT INTO p SELECT i, vec(i) FROM generate_series(1, 3000) i;
    COMMIT;
});
ok( $node->poll_query_until(
        'postgres',
        "SELECT growing_rows = 0 AND sealed_rows = 3000 FROM milvus.segments WHERE index_name = 'p_emb'::regclass"
    ),
    'a seal with milvus.seal_parallel_workers seals every row');
ok($node->log_contains(qr/sealing 3000 rows with 1 parallel workers/),
    'the coordinator sealed them with a parallel worker');
is( $node->safe_psql(
        'postgres', q{
        SET enable_seqscan = off;
        SELECT count(*) FROM p a WHERE a.id % 50 = 0
           AND a.id IS DISTINCT FROM (SELECT b.id FROM p b ORDER BY b.emb <-> a.emb LIMIT 1)}),
    '0',
    'searches find the rows the parallel seal linked');
is($node->safe_psql('postgres', "SELECT count(*) FROM milvus_hnsw_verify('p_emb', true)"),
    '0', 'and the index verifies clean');
$node->safe_psql('postgres',
    'DROP TABLE p; ALTER SYSTEM RESET milvus.seal_parallel_workers; '
      . 'ALTER SYSTEM RESET milvus.hnsw_seal_in_memory; SELECT pg_reload_conf()');

# Another session's temporary index is not the worker's to read: left alone
my $temp_log = -s $node->logfile;
is( $node->safe_psql(
        'postgres', q{
        CREATE TEMP TABLE tt (id int, emb floatvector(8));
        CREATE INDEX tt_emb ON tt USING milvus_hnsw (emb floatvector_l2_ops);
        INSERT INTO tt SELECT i, vec(i) FROM generate_series(1, 10) i;
        DO $$ BEGIN PERFORM pg_sleep(3.5); END $$;
        SELECT growing_rows FROM milvus.segments WHERE index_name = 'tt_emb'::regclass}),
    '10',
    'a temporary index stays growing, and its session sees it in milvus.segments');
ok(slurp_file($node->logfile, $temp_log) !~ /WARNING|ERROR/,
    'the worker did not try to seal another session\'s temporary index');

# A terminated worker is replaced, and the new one seals
my $old_pid = worker_pid('postgres');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($old_pid)");
ok( $node->poll_query_until(
        'postgres',
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'milvus data coordinator' AND datname = 'postgres' AND pid <> $old_pid"
    ),
    'the launcher starts a new worker after pg_terminate_backend');
insert('postgres', 1011, 1020);
wait_sealed('postgres', 1020, 'the new worker seals');

# A seal held at a pause point shows in milvus.segments (a seal of 1,000
# rows, too few pages to seal in memory); a cancel makes an error the worker
# logs and outlives, and it seals the index again later
$node->safe_psql('postgres',
    "ALTER SYSTEM SET milvus.debug_pause_at = 'hnsw_seal_release'; SELECT pg_reload_conf()");
my $pause_key = 1835625590;
my $holder = $node->background_psql('postgres');
$holder->query_safe("SELECT pg_advisory_lock($pause_key, 6)");    # hnsw_seal_release
my $pid = worker_pid('postgres');
my $cancel_log = -s $node->logfile;
my $last_seal = $node->safe_psql('postgres',
    "SELECT last_seal FROM milvus.segments WHERE index_name = 't_emb'::regclass");
insert('postgres', 1021, 1020 + $seal_rows);
ok( $node->poll_query_until(
        'postgres', qq{
        SELECT running = 'seal' AND worker_pid = $pid AND phase = 'linking'
               AND rows_done = $seal_rows AND rows_total = $seal_rows
          FROM milvus.segments WHERE index_name = 't_emb'::regclass}),
    'milvus.segments shows the seal under way: worker, phase, rows');
is($node->safe_psql('postgres', "SELECT backend_xmin IS NULL FROM pg_stat_activity WHERE pid = $pid"),
    't', 'a seal holds no snapshot: it holds back no VACUUM');
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
ok( $node->poll_query_until(
        'postgres', "SELECT running IS NULL FROM milvus.segments WHERE index_name = 't_emb'::regclass"),
    'a cancelled seal no longer shows as running');
like(
    slurp_file($node->logfile, $cancel_log),
    qr/WARNING:  canceling statement due to user request\n.*CONTEXT:  milvus data coordinator working on index "t_emb"/,
    'the worker logs the error as a WARNING, naming the index');
is(worker_pid('postgres'), $pid, 'the worker outlives the error');
$holder->query_safe("SELECT pg_advisory_unlock($pause_key, 6)");
$holder->quit;
$node->safe_psql('postgres', 'ALTER SYSTEM RESET milvus.debug_pause_at; SELECT pg_reload_conf()');
ok( $node->poll_query_until(
        'postgres',
        "SELECT last_seal > '$last_seal' FROM milvus.segments WHERE index_name = 't_emb'::regclass"),
    'the worker seals the index again after its pause');
is(segment('postgres'), '0/' . (1020 + $seal_rows), 'and every row is sealed');
is($node->safe_psql('postgres', "SELECT count(*) FROM milvus_hnsw_verify('t_emb', true)"),
    '0', 'the index verifies clean after the interrupted seal');

# A seal under way holds back no VACUUM elsewhere in its database: held after
# its first row (1,000 rows: one at a time, in phase linking), when it has
# read the catalog (which takes a snapshot: the index's
# inner-product function is new to the worker's caches), a DELETE's rows in
# another table are removed by VACUUM all the same (before the worker marked
# its jobs PROC_IN_VACUUM, all 1,000 stayed "dead but not yet removable")
$node->safe_psql(
    'postgres', q{
    CREATE TABLE u (id int PRIMARY KEY, emb floatvector(8));
    CREATE INDEX u_emb ON u USING milvus_hnsw (emb floatvector_ip_ops);
    CREATE TABLE other (id int) WITH (autovacuum_enabled = off);
    INSERT INTO other SELECT generate_series(1, 1000);
});
$node->safe_psql('postgres',
    "ALTER SYSTEM SET milvus.debug_pause_at = 'hnsw_seal_link'; SELECT pg_reload_conf()");
$holder = $node->background_psql('postgres');
$holder->query_safe("SELECT pg_advisory_lock($pause_key, 5)");    # hnsw_seal_link
$node->safe_psql('postgres', "INSERT INTO u SELECT i, vec(i) FROM generate_series(1, $seal_rows) i");
ok( $node->poll_query_until(
        'postgres', q{
        SELECT running = 'seal' AND phase = 'linking'
          FROM milvus.segments WHERE index_name = 'u_emb'::regclass}),
    'a seal is held after its first row');
$node->safe_psql('postgres', 'DELETE FROM other');
my ($vret, $vout, $verr) = $node->psql('postgres', 'VACUUM (VERBOSE) other');
like($verr, qr/tuples: 1000 removed, 0 remain, 0 are dead but not yet removable/,
    'VACUUM of another table removes the rows deleted during the seal');
$holder->query_safe("SELECT pg_advisory_unlock($pause_key, 5)");
$holder->quit;
$node->safe_psql('postgres', 'ALTER SYSTEM RESET milvus.debug_pause_at; SELECT pg_reload_conf()');
ok( $node->poll_query_until(
        'postgres',
        "SELECT growing_rows = 0 AND sealed_rows = $seal_rows FROM milvus.segments WHERE index_name = 'u_emb'::regclass"),
    'the held seal finishes');
$node->safe_psql('postgres', 'DROP TABLE u, other');

# Two databases, both served
$node->safe_psql('postgres', 'CREATE DATABASE db2');
$node->safe_psql('db2', $setup);
wait_for_worker('db2');
insert('db2', 1, $seal_rows + 100);
insert('postgres', 2021, 2030);
wait_sealed('db2', $seal_rows + 100, 'the second database is sealed');
wait_sealed('postgres', 2030, 'the first database is sealed meanwhile');

# DROP DATABASE while its worker runs: the worker leaves in time, within
# the 5 seconds DROP DATABASE waits, even when its naptime is longer
ok(worker_pid('db2') ne '', 'db2 has a worker before DROP DATABASE');
$node->safe_psql('postgres',
    "ALTER SYSTEM SET milvus.data_coordinator_naptime = '60s'; SELECT pg_reload_conf()");
usleep(5 * $naptime * 1000);
my ($ret, $out);
($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE db2');
is($ret, 0, 'DROP DATABASE of a database with a running worker succeeds') or diag($err);
$node->safe_psql('postgres',
    'ALTER SYSTEM RESET milvus.data_coordinator_naptime; SELECT pg_reload_conf()');
usleep(10 * $naptime * 1000);
is($node->safe_psql('postgres',
        "SELECT string_agg(coalesce(datname, '?'), ',') FROM pg_stat_activity WHERE backend_type = 'milvus data coordinator'"),
    'postgres', 'no worker is left for the dropped database');
ok(!$node->log_contains(qr/database "db2" does not exist|database \d+ does not exist/),
    'no worker tried to connect to the dropped database');

# A database without the extension: a worker start every 30 rounds, not each round
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', 'CREATE DATABASE db3');
usleep(40 * $naptime * 1000);
my $starts = () = slurp_file($node->logfile, $log_offset) =~
  /starting background worker process "milvus data coordinator for database db3"/g;
ok($starts >= 1 && $starts <= 3, "db3 without indexes: $starts worker starts in 40 rounds");
is(worker_pid('db3'), '', 'db3 keeps no worker');
# ... and an index there is served, once the launcher looks again
$node->safe_psql('db3', $setup);
insert('db3', 1, $seal_rows);
wait_sealed('db3', $seal_rows, 'an index created later in db3 is sealed');

# milvus.data_coordinator = off: the workers leave and inserts warn
$node->safe_psql('postgres', 'ALTER SYSTEM SET milvus.data_coordinator = off; SELECT pg_reload_conf()');
ok( $node->poll_query_until(
        'postgres',
        "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'milvus data coordinator'"),
    'milvus.data_coordinator = off: the workers leave');
$err = insert('postgres', 2031, 2031 + $seal_rows);
like($err, qr/no data coordinator seals the growing segment/, 'an insert warns when no coordinator runs');
usleep(20 * $naptime * 1000);
is(segment('postgres'), ($seal_rows + 1) . '/2030', 'nothing is sealed while off');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET milvus.data_coordinator; SELECT pg_reload_conf()');
wait_sealed('postgres', 2031 + $seal_rows, 'turned on again, the segment is sealed');

# A seal in memory of rows whose every nearby element is a tombstone: a
# VACUUM while the coordinator runs leaves the tombstones of a deleted
# cluster to its compaction (which sleeps here, a naptime of an hour), and
# the rows inserted into that cluster's place find no live neighbour among
# the candidates of their search.  The walk that links unreached elements
# links them from the nearest reached ones: every element is reachable, and
# a search finds nearly every row (before that walk looked beyond an
# element's own list, 40 such rows sealed in memory were all unreachable).
# Levels are seeded, in both seals: how many rows a search misses depends on
# them (levels seeded 1 to 8 gave 36, 48, 474, 97, 13, 176, 67 and 49).
$node->safe_psql(
    'postgres', q{
    SET milvus.hnsw_level_seed = 1;
    CREATE TABLE iso (id int PRIMARY KEY, emb floatvector(8)) WITH (autovacuum_enabled = off);
    CREATE INDEX iso_emb ON iso USING milvus_hnsw (emb floatvector_l2_ops);
    INSERT INTO iso SELECT i, ARRAY[(i % 37) / 37.0, (i % 11) / 11.0, (i % 7) / 7.0,
                                    (i % 5) / 5.0, (i % 13) / 13.0, 0, 0, 0]::real[]::floatvector
      FROM generate_series(1, 1000) i;
    INSERT INTO iso SELECT i, ARRAY[100 + (i % 37) / 37.0, (i % 11) / 11.0, (i % 7) / 7.0,
                                    (i % 5) / 5.0, (i % 13) / 13.0, 0, 0, 0]::real[]::floatvector
      FROM generate_series(1001, 1300) i;
    SELECT milvus.seal('iso_emb');
    ALTER SYSTEM SET milvus.data_coordinator_naptime = '1h';
    SELECT pg_reload_conf();
});
usleep(30 * $naptime * 1000);
$node->safe_psql('postgres', 'DELETE FROM iso WHERE id > 1000; VACUUM iso');
is($node->safe_psql('postgres',
        "SELECT pending_tombstones FROM milvus.segments WHERE index_name = 'iso_emb'::regclass"),
    '300', 'the deleted cluster waits as tombstones for a compaction');
$node->safe_psql(
    'postgres', q{
    INSERT INTO iso SELECT i, ARRAY[100.5 + (i % 29) / 290.0, (i % 11) / 11.0, (i % 3) / 3.0,
                                    (i % 5) / 5.0, (i % 17) / 17.0, 0, 0, 0.1]::real[]::floatvector
      FROM generate_series(2001, 10000) i;
});
# held before it empties its last pages, the seal in memory shows in
# milvus.segments having written every row (rows counted as a seal one row
# at a time counts them: tuples of the frozen pages, flagged or not)
$node->safe_psql('postgres',
    "ALTER SYSTEM SET milvus.debug_pause_at = 'hnsw_seal_release'; SELECT pg_reload_conf()");
$holder = $node->background_psql('postgres');
$holder->query_safe("SELECT pg_advisory_lock($pause_key, 6)");    # hnsw_seal_release
my ($seal_out, $seal_err) = ('', '');
my $seal = IPC::Run::start(
    [
        'psql', '-X', '-d', $node->connstr('postgres'),
        '-c', 'SET client_min_messages = debug1',
        '-c', 'SET milvus.hnsw_level_seed = 1',
        '-c', "SELECT milvus.seal('iso_emb')"
    ],
    '>', \$seal_out, '2>', \$seal_err);
ok( $node->poll_query_until(
        'postgres', q{
        SELECT running = 'seal' AND phase = 'writing' AND rows_done = 8000 AND rows_total = 8000
          FROM milvus.segments WHERE index_name = 'iso_emb'::regclass}),
    'a seal in memory held before its release shows phase writing, 8000 of 8000 rows');
$holder->query_safe("SELECT pg_advisory_unlock($pause_key, 6)");
$holder->quit;
$seal->finish;
$node->safe_psql('postgres', 'ALTER SYSTEM RESET milvus.debug_pause_at; SELECT pg_reload_conf()');
like($seal_err, qr/sealing 8000 rows in memory/, 'the rows among tombstones are sealed in memory');
unlike($seal_err, qr/linked \d+ unreachable elements/,
    'the walk in memory linked every unreached element: none was left to the walk on disk');
is($node->safe_psql('postgres', "SELECT count(*) FROM milvus_hnsw_verify('iso_emb', true)"),
    '0', 'every element is reachable');
my $not_found = $node->safe_psql(
    'postgres', q{
    SET enable_seqscan = off;
    SELECT count(*) FROM iso a WHERE a.id > 2000
       AND a.id IS DISTINCT FROM (SELECT b.id FROM iso b ORDER BY b.emb <-> a.emb LIMIT 1)});
ok($not_found < 100,
    "a search for each row's vector finds it first for all but $not_found of the 8,000 "
      . '(the 300 tombstones still take places in its list)');
$node->safe_psql('postgres',
    'DROP TABLE iso; ALTER SYSTEM RESET milvus.data_coordinator_naptime; SELECT pg_reload_conf()');

# A fast shutdown stops the workers cleanly
$log_offset = -s $node->logfile;
$node->stop('fast');
my $tail = slurp_file($node->logfile, $log_offset);
unlike($tail, qr/milvus data coordinator.*exited with exit code [^0]/,
    'fast shutdown: every worker exits with code 0');
unlike($tail, qr/(ERROR|FATAL|WARNING|PANIC):/, 'fast shutdown: no error in the log');
ok(!$node->log_contains(qr/milvus data coordinator.*exited with exit code 1|terminating background worker "milvus/),
    'no worker ever failed');

done_testing();
