# WAL archiving to S3 (archive_library = 'milvus') and recovery from the
# bucket alone (milvus_s3_restore), against a real S3 server on loopback:
# s3rver, which scripts/s3rver installs (pinned) and this test starts on a
# free port of 127.0.0.1.  s3rver checks that a request is signed with a known
# access key and carries x-amz-content-sha256, but not the SigV4 signature
# itself; the launcher (MilvusS3rver.pm) checks that too, with the secret.
#
#  (a) point-in-time recovery: base backup, changes, a timestamp, more
#      changes; a new cluster restored to the timestamp from the bucket
#      holds exactly the rows of that moment;
#  (b) a standby fed only by restore_command catches up and answers the
#      same milvus_hnsw searches as the primary;
#  (c) S3 down: archiving fails (failed_count grows), the segments stay in
#      pg_wal, sessions do not wait; S3 back: every segment reaches the bucket;
#  (d) kill -9 of the archiver, then of the postmaster, while segments are
#      uploading: no segment is marked .done that the bucket lacks;
#  (e) a non-superuser cannot read the secret, and no log holds it;
#  (f) the server answers 500 or 503, stalls past milvus.s3_timeout, answers
#      at a trickle (abandoned at milvus.s3_stall_timeout), or cuts a body
#      short: retried, and nothing reported stored that is not;
#  (g) multipart uploads above milvus.s3_multipart_threshold: parts, a part
#      retried, a part that always fails aborts the upload (no part left).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use MilvusS3rver;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);

# s3rver with a key pair, its SigV4 check and its faults (MilvusS3rver.pm)
my $s3 = MilvusS3rver->start_for_test('milvus-wal');
my ($tmp, $bucket, $key_id, $secret, $s3_port) = @$s3{qw(dir bucket key_id secret port)};
sub s3_start { $s3->start }
sub s3_stop { $s3->stop }

# The restore program's settings, in a file as its -c option reads it.
my $s3conf = $s3->program_conf('cluster1', "s3_connect_timeout = 1000\ns3_timeout = 20000\ns3_stall_timeout = 2");
my $restore_command = "milvus_s3_restore -c $s3conf %f %p";

# Objects under <prefix>/wal/ as { name => size }, listed two keys a page.
sub bucket_objects { $s3->wal_objects(2) }

my $primary = $s3->archiving_primary('primary', 'cluster1', q{milvus.s3_connect_timeout = 1000
milvus.s3_timeout = 20000
milvus.s3_max_retries = 1
# archived segments (and their .done) stay for (d) to compare with the bucket
wal_keep_size = '1GB'});

sub switch_wal { MilvusS3rver::switch_wal(@_) }
sub wait_archived { MilvusS3rver::wait_archived(@_) }

$primary->safe_psql('postgres', MilvusS3rver::vector_table_sql(8, 2000));
my $seg = switch_wal($primary);
wait_archived($primary, $seg);
my $objects = bucket_objects();
ok(exists $objects->{$seg}, "segment $seg is in the bucket");
is($objects->{$seg}, 16 * 1024 * 1024, 'with all its bytes');

# (a) point-in-time recovery
$primary->backup('base');
$primary->safe_psql(
    'postgres', q{
    INSERT INTO t SELECT i, 'b' || i, vec(i) FROM generate_series(2001, 3000) i;
    UPDATE t SET note = note || '+b' WHERE id % 7 = 0;
    DELETE FROM t WHERE id % 11 = 0;
});
my $rows_sql = 'SELECT id, note, emb::text FROM t ORDER BY id';
my $expected_at_target = $primary->safe_psql('postgres', $rows_sql);
my $target_time = $primary->safe_psql('postgres', 'SELECT clock_timestamp()');
usleep(50_000);
$primary->safe_psql(
    'postgres', q{
    INSERT INTO t SELECT i, 'c' || i, vec(i) FROM generate_series(3001, 3500) i;
    UPDATE t SET note = note || '+c' WHERE id % 5 = 0;
    DELETE FROM t WHERE id % 13 = 0;
});
$seg = switch_wal($primary);
wait_archived($primary, $seg);

# A node from the base backup whose WAL comes from the bucket only: it
# archives nothing (else it would write over the primary's segments).
sub node_from_bucket
{
    my ($name, $conf) = @_;
    my $node = PostgreSQL::Test::Cluster->new($name);
    $node->init_from_backup($primary, 'base');
    $node->append_conf('postgresql.conf',
        "archive_mode = off\nrestore_command = '$restore_command'\n$conf");
    return $node;
}

my $pitr = node_from_bucket('pitr',
    "recovery_target_time = '$target_time'\nrecovery_target_action = 'promote'");
$pitr->set_recovery_mode;
$pitr->start;
$pitr->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'timed out waiting for the point-in-time recovery';
my $restored = $pitr->safe_psql('postgres', $rows_sql);
is($restored, $expected_at_target,
    'PITR from the bucket: every row as it was at the target time');
isnt($restored, $primary->safe_psql('postgres', $rows_sql),
    'and none of the later changes');
like(slurp_file($pitr->logfile), qr/restored log file "[0-9A-F]{24}" from archive/,
    'segments came from the bucket');
$pitr->stop;

# (b) a standby fed by restore_command only
my $standby = node_from_bucket('standby', "wal_retrieve_retry_interval = '200ms'");
$standby->set_standby_mode;
$standby->start;

my $search = q{SELECT q, (SELECT string_agg(id::text, ',') FROM
        (SELECT id FROM t ORDER BY emb <-> vec(q) LIMIT 10) s) FROM generate_series(1, 5) q};
my $search_sql = "SET enable_seqscan = off; $search";
$primary->safe_psql('postgres',
    "INSERT INTO t SELECT i, 'd' || i, vec(i) FROM generate_series(3501, 4000) i");
$seg = switch_wal($primary);
wait_archived($primary, $seg);
my $primary_rows = $primary->safe_psql('postgres', $rows_sql);
$standby->poll_query_until('postgres', 'SELECT count(*) = 1 FROM t WHERE id = 4000')
  or die 'timed out waiting for the standby';
is($standby->safe_psql('postgres', $rows_sql), $primary_rows,
    'standby fed from the bucket has every row');
like($standby->safe_psql('postgres',
        "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $search"), qr/t_emb/,
    'searches go through the milvus_hnsw index');
is($standby->safe_psql('postgres', $search_sql), $primary->safe_psql('postgres', $search_sql),
    'and it answers the same searches');
# it would go on polling the bucket, and take the faults meant for the archiver
$standby->stop;

# (c) S3 down, then back
s3_stop();
my $failed_before = $primary->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver');
my @pending;
for my $i (1 .. 2)
{
    $primary->safe_psql('postgres',
        "INSERT INTO t SELECT i, 'e' || i, vec(i) FROM generate_series(4001 + $i * 100, 4100 + $i * 100) i");
    push @pending, switch_wal($primary);
}
ok( $primary->poll_query_until(
        'postgres', "SELECT failed_count > $failed_before FROM pg_stat_archiver"),
    'with S3 down, archiving fails');
my $t0 = time;
$primary->safe_psql('postgres', "INSERT INTO t VALUES (9001, 'while down', vec(9001))");
ok(time - $t0 < 5, 'a session commits without waiting on S3');
my $pgdata = $primary->data_dir;
ok(-f "$pgdata/pg_wal/$pending[0]" && -f "$pgdata/pg_wal/archive_status/$pending[0].ready",
    'the unarchived segment stays in pg_wal, ready');
like(slurp_file($primary->logfile), qr/could not archive file "$pending[0]" to S3/,
    'the failure is in the log');

s3_start();
$seg = switch_wal($primary);
wait_archived($primary, $seg);
$objects = bucket_objects();
my @missing = grep { !exists $objects->{$_} } @pending, $seg;
is("@missing", '', 'S3 back: archiving caught up and every segment is in the bucket');
my @ready = glob("$pgdata/pg_wal/archive_status/*.ready");
is(scalar(@ready), 0, 'nothing is left to archive');

# (d) kill -9 while segments are uploading
sub check_done_in_bucket
{
    my ($what) = @_;
    my $objects = bucket_objects();
    my @done = map { m{/([0-9A-F]{24})\.done$} ? $1 : () }
      glob("$pgdata/pg_wal/archive_status/*.done");
    my @lost = grep { ($objects->{$_} // 0) != 16 * 1024 * 1024 } @done;
    ok(@done > 0, "$what: segments are marked done (" . scalar(@done) . ')');
    is("@lost", '', "$what: every segment marked done is whole in the bucket");
}

# Round 1 kills the archiver (the postmaster then stops: the test clusters
# have restart_after_crash off), round 2 the postmaster (the orphaned archiver
# finishes its upload or leaves); either way, once both are gone, compare.
for my $round (1 .. 2)
{
    my $archiver = $primary->safe_psql('postgres',
        "SELECT pid FROM pg_stat_activity WHERE backend_type = 'archiver'");
    my $postmaster = $primary->{_pid};
    my $archived = $primary->safe_psql('postgres', 'SELECT archived_count FROM pg_stat_archiver');
    my $sql = '';
    $sql .= "INSERT INTO t VALUES (" . (10000 + $round * 10 + $_) . ", 'k', vec($_)); SELECT pg_switch_wal();"
      for 1 .. 6;
    $primary->safe_psql('postgres', $sql);
    # one is archived: the archiver is at work on the next now
    $primary->poll_query_until('postgres',
        "SELECT archived_count > $archived FROM pg_stat_archiver")
      or die 'timed out waiting for an archived segment';
    if ($round == 1)
    {
        kill 'KILL', $archiver;
    }
    else
    {
        $primary->kill9;
    }
    for (1 .. 600)
    {
        last unless kill(0, $archiver) || kill(0, $postmaster);
        usleep(100_000);
    }
    $primary->_update_pid(-1);
    check_done_in_bucket($round == 1 ? 'archiver killed' : 'postmaster killed');
    $primary->start;
}
$seg = switch_wal($primary);
wait_archived($primary, $seg);
$objects = bucket_objects();
@ready = glob("$pgdata/pg_wal/archive_status/*.ready");
is(scalar(@ready), 0, 'after the kills, archiving catches up');
check_done_in_bucket('in the end');

# Upload rate of whole segments, from the archiver's own timing.
my $n = 8;
my $first = $primary->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
$t0 = time;
for (1 .. $n)
{
    $primary->safe_psql('postgres', "INSERT INTO t VALUES (" . (20000 + $_) . ", 'r', vec($_))");
    $seg = switch_wal($primary);
}
wait_archived($primary, $seg);
my $secs = time - $t0;
note(sprintf('archived %d segments of 16 MB in %.2f s: %.0f MB/s to the loopback server, upload + HEAD + pg_switch_wal',
    $n, $secs, $n * 16 / $secs));

# (f) faults the server answers with: the client's retries absorb one, the
# archiver's retries a run of them, and the restore program leaves no file
$primary->safe_psql('postgres',
    "ALTER SYSTEM SET milvus.s3_timeout = '2s'; SELECT pg_reload_conf()");
my $next_id = 30000;
for my $fault ('503', '500', 'stall')
{
    my $failed = $primary->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver');
    $s3->set_fault("$fault 1");
    my $start = time;
    $primary->safe_psql('postgres', "INSERT INTO t VALUES (" . $next_id++ . ", 'f', vec(1))");
    $seg = switch_wal($primary);
    wait_archived($primary, $seg);
    is(slurp_file("$tmp/fault"), "$fault 0", "one '$fault' answer was served");
    ok(time - $start >= 1.9, 'the stalled request was abandoned at milvus.s3_timeout')
      if $fault eq 'stall';
    is(bucket_objects()->{$seg}, 16 * 1024 * 1024, 'the request was tried again: the segment is whole in the bucket');
    is($primary->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver'),
        $failed, 'and the archiver saw no failure');
}

# a server that answers, but at a trickle: abandoned at milvus.s3_stall_timeout
# long before milvus.s3_timeout, and tried again
$primary->safe_psql('postgres',
    "ALTER SYSTEM SET milvus.s3_timeout = '60s'; ALTER SYSTEM SET milvus.s3_stall_timeout = '2s'; "
      . "SELECT pg_reload_conf()");
wait_archived($primary, switch_wal($primary));
{
    my $failed = $primary->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver');
    $s3->set_fault('trickle 1');
    my $start = time;
    $primary->safe_psql('postgres', "INSERT INTO t VALUES (" . $next_id++ . ", 'f', vec(1))");
    $seg = switch_wal($primary);
    wait_archived($primary, $seg);
    my $took = time - $start;
    is(slurp_file("$tmp/fault"), 'trickle 0', 'one answer came at a trickle');
    ok($took >= 1.9 && $took < 30,
        sprintf('it was abandoned at milvus.s3_stall_timeout (2 s), not milvus.s3_timeout (60 s): %.1f s', $took));
    is(bucket_objects()->{$seg}, 16 * 1024 * 1024, 'tried again: the segment is whole in the bucket');
    is($primary->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver'),
        $failed, 'and the archiver saw no failure');
}
$primary->safe_psql('postgres', "ALTER SYSTEM SET milvus.s3_timeout = '2s'; SELECT pg_reload_conf()");
wait_archived($primary, switch_wal($primary));

my $failed = $primary->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver');
$s3->set_fault('500 1000000');
$primary->safe_psql('postgres', "INSERT INTO t VALUES (" . $next_id++ . ", 'f', vec(2))");
my $stuck = switch_wal($primary);
$primary->poll_query_until('postgres',
    "SELECT failed_count > $failed FROM pg_stat_archiver")
  or die 'timed out waiting for archiving to fail';
ok(-f "$pgdata/pg_wal/archive_status/$stuck.ready",
    'S3 answering 500 on every request: archiving fails, the segment stays ready');
$s3->set_fault('500 0');
$seg = switch_wal($primary);
wait_archived($primary, $seg);
$objects = bucket_objects();
ok(exists $objects->{$stuck} && exists $objects->{$seg}, 'S3 well again: both segments in the bucket');

# (g) multipart: above milvus.s3_multipart_threshold a segment goes up in
# parts of milvus.s3_part_size, each retried on its own; a part that always
# fails aborts the upload and leaves no part in the bucket
$primary->safe_psql('postgres',
    "ALTER SYSTEM SET milvus.s3_multipart_threshold = '5MB'; "
      . "ALTER SYSTEM SET milvus.s3_part_size = '5MB'; SELECT pg_reload_conf()");
sub requests_for
{
    my ($seg) = @_;
    return grep { m{/cluster1/wal/$seg\b} } split /\n/, slurp_file("$tmp/requests.log");
}
sub segment_as_stored
{
    my ($seg) = @_;
    my $stderr;
    IPC::Run::run([ 'milvus_s3_restore', '-c', $s3conf, $seg, "$tmp/readback" ], '2>', \$stderr)
      or die "milvus_s3_restore failed: $stderr";
    return slurp_file("$tmp/readback");
}
$failed = $primary->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver');
$primary->safe_psql('postgres', "INSERT INTO t VALUES (" . $next_id++ . ", 'm', vec(3))");
my $multi = switch_wal($primary);
wait_archived($primary, $multi);
my @parts = grep { /^PUT .*partNumber=(\d+)/ } requests_for($multi);
is(join(',', map { /partNumber=(\d+)/ } @parts), '1,2,3,4',
    'a 16 MB segment over a 5 MB threshold goes up in four parts of 5 MB');
is(scalar(grep { /^POST .*uploads/ } requests_for($multi)), 1, 'in one multipart upload');
is(scalar(grep { /^POST .*uploadId=/ } requests_for($multi)), 1, 'completed once');
ok(segment_as_stored($multi) eq slurp_file("$pgdata/pg_wal/$multi"),
    'the object read back is the segment, byte for byte');

$s3->set_fault('500 1 part');
$primary->safe_psql('postgres', "INSERT INTO t VALUES (" . $next_id++ . ", 'm', vec(4))");
$multi = switch_wal($primary);
wait_archived($primary, $multi);
is(slurp_file("$tmp/fault"), '500 0 part', 'one part was answered 500');
is(scalar(grep { /^PUT .*partNumber=1&/ } requests_for($multi)), 2, 'that part was sent again');
ok(segment_as_stored($multi) eq slurp_file("$pgdata/pg_wal/$multi"),
    'and the object is the segment, byte for byte');
is($primary->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver'),
    $failed, 'the archiver saw no failure');

$s3->set_fault('500 1000000 part');
$primary->safe_psql('postgres', "INSERT INTO t VALUES (" . $next_id++ . ", 'm', vec(5))");
$stuck = switch_wal($primary);
$primary->poll_query_until('postgres',
    "SELECT failed_count > $failed FROM pg_stat_archiver")
  or die 'timed out waiting for archiving to fail';
ok(-f "$pgdata/pg_wal/archive_status/$stuck.ready",
    'a part that always fails: archiving fails, the segment stays ready');
like(slurp_file($primary->logfile), qr/could not archive file "$stuck" to S3.*\n.*HTTP status 500.*upload aborted/,
    'the upload was aborted, and the log says so');
ok(scalar(grep { /^DELETE .*uploadId=/ } requests_for($stuck)) >= 1, 'with AbortMultipartUpload');
is(join(',', $s3->uploads_left()), '', 'no multipart upload and no part is left in the bucket');
ok(!exists bucket_objects()->{$stuck}, 'nor an object');
$s3->set_fault('500 0');
$seg = switch_wal($primary);
wait_archived($primary, $seg);
$objects = bucket_objects();
ok(exists $objects->{$stuck} && exists $objects->{$seg}, 'parts answered again: both segments in the bucket');
is(join(',', $s3->uploads_left()), '', 'and no upload is left open');

sub restore_file { $s3->restore_file(@_) }
my $object = "$tmp/s3data/$bucket/cluster1/wal/${stuck}._S3rver_object";
$s3->set_fault('truncate 1');
is(restore_file($stuck, "$tmp/restored"), 0, 'restore: a body cut short is fetched again');
is(slurp_file("$tmp/restored"), slurp_file($object), 'and the segment restored is the one stored');
$s3->set_fault('trickle 1');
my $t1 = time;
is(restore_file($stuck, "$tmp/trickled"), 0, 'restore: an answer at a trickle is abandoned and tried again');
ok(time - $t1 < 15, 'at s3_stall_timeout (2 s), not s3_timeout (20 s)');
is(slurp_file("$tmp/trickled"), slurp_file($object), 'and the segment restored is the one stored');
$s3->set_fault('truncate 1000000');
is(restore_file($stuck, "$tmp/cut"), 2, 'restore: bodies always cut short fail with status 2');
ok(!-e "$tmp/cut" && !-e "$tmp/cut.milvus_tmp", 'and leave no file behind');
$s3->set_fault('500 0');
is(restore_file('0000000100000000000000FF', "$tmp/none"), 1,
    'restore: a segment the bucket lacks is status 1');

# (e) the secret
$primary->safe_psql('postgres', 'CREATE ROLE alice LOGIN');
my ($ret, $out, $err) = $primary->psql('postgres', 'SHOW milvus.s3_secret_access_key',
    extra_params => [ '-U', 'alice' ]);
isnt($ret, 0, 'a non-superuser cannot SHOW the secret');
like($err, qr/must be superuser or have privileges of pg_read_all_settings/, 'and is told why');
($ret, $out, $err) = $primary->psql('postgres',
    "SELECT current_setting('milvus.s3_access_key_id')", extra_params => [ '-U', 'alice' ]);
isnt($ret, 0, 'nor the access key id');
is($primary->safe_psql('postgres',
        "SET ROLE alice; SELECT count(*) FROM pg_settings WHERE name LIKE 'milvus.s3_%key%'"),
    0, 'neither is in pg_settings for a non-superuser');
is($primary->safe_psql('postgres', 'SHOW milvus.s3_secret_access_key'), $secret,
    'a superuser reads it');
unlike($primary->safe_psql('postgres', 'SHOW ALL'), qr/\Q$secret\E/, 'SHOW ALL leaves it out');
$primary->reload;
for my $node ($primary, $pitr, $standby)
{
    unlike(slurp_file($node->logfile), qr/\Q$secret\E/, $node->name . "'s log never holds the secret");
}
unlike(slurp_file("$tmp/s3rver.log"), qr/\Q$secret\E/, 'nor does the S3 server log');

$primary->stop;
done_testing();
