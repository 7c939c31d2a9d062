# Base backups in the bucket (milvus_s3_basebackup) and point-in-time
# recovery from the bucket alone, against s3rver on loopback
# (MilvusS3rver.pm, as in 030):
#
#  (a) WAL archived to the bucket; a base backup taken into the bucket with
#      the helper (a multipart upload: 5 MB parts); changes at known times;
#      fetched into a new empty directory (no local base backup exists) and
#      recovered to a time between two changes: every row, and the answers of
#      a milvus_hnsw index search, are as they were at that moment;
#  (b) list shows complete backups only; fetch refuses a missing backup
#      (status 1) and a non-empty directory; a base.tar altered in the bucket
#      fails its manifest's SHA-256;
#  (c) S3 failing every part during create: status 2, the upload aborted (no
#      part left), no manifest, list does not show it;
#  (d) delete removes the manifest and every object of the backup;
#  (e) the programs read their settings file as the server reads its
#      settings: units as in postgresql.conf, and a value the server would
#      refuse (not a number, out of range, an unknown unit) is status 2 with
#      the server's message, where it was set and what is valid.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use MilvusS3rver;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $s3 = MilvusS3rver->start_for_test('milvus-base');
my ($tmp, $bucket, $key_id, $secret, $s3_port) = @$s3{qw(dir bucket key_id secret port)};

# The programs' settings; small parts, so that the backup goes up in several
my $s3conf = $s3->program_conf('cluster1', q{s3_timeout = 20s
s3_max_retries = 1
s3_multipart_threshold = 5MB
s3_part_size = 5MB});

# Run milvus_s3_basebackup; its exit status, stdout and stderr
sub basebackup
{
    my @args = @_;
    my ($stdout, $stderr);
    IPC::Run::run([ 'milvus_s3_basebackup', '-c', $s3conf, @args ],
        '>', \$stdout, '2>', \$stderr);
    note("milvus_s3_basebackup @args[0..1]: $stdout$stderr");
    return ($? >> 8, $stdout, $stderr);
}

my $primary = $s3->archiving_primary('primary', 'cluster1', '');

$primary->safe_psql('postgres', MilvusS3rver::vector_table_sql(8, 20000)
      . 'CREATE TABLE filler AS SELECT i, md5(i::text) AS h FROM generate_series(1, 300000) i');

# (a) the base backup, into the bucket only
my ($ret, $out, $err) = basebackup('create', 'b1', '-d', $primary->connstr('postgres'));
is($ret, 0, 'milvus_s3_basebackup create: status 0');
my ($parts, $rate) = $out =~ /bytes in (\d+) parts in [\d.]+ s \(([\d.]+) MB\/s\)/;
ok(defined $parts && $parts > 1, "the base backup went up as a multipart upload (" . ($parts // '?') . " parts)");
note("base backup upload rate: $rate MB/s") if defined $rate;
my $base_object = "$tmp/s3data/$bucket/cluster1/basebackups/b1/base.tar._S3rver_object";
ok(-f $base_object && -f "$tmp/s3data/$bucket/cluster1/basebackups/b1/manifest.json._S3rver_object",
    'base.tar and manifest.json are in the bucket');

my $rows_sql = 'SELECT id, note, emb::text FROM t ORDER BY id';
my $search = q{SELECT q, (SELECT string_agg(id::text, ',') FROM
        (SELECT id FROM t ORDER BY emb <-> vec(q) LIMIT 10) s) FROM generate_series(1, 20) q};
my $search_sql = "SET enable_seqscan = off; $search";

# changes at known times: the target falls between the second and the third
$primary->safe_psql(
    'postgres', q{
    INSERT INTO t SELECT i, 'b' || i, vec(i) FROM generate_series(20001, 21000) i;
    UPDATE t SET note = note || '+b' WHERE id % 7 = 0;
});
$primary->safe_psql(
    'postgres', q{
    DELETE FROM t WHERE id % 11 = 0;
    UPDATE t SET emb = vec(id + 100000) WHERE id % 13 = 0;
});
my $expected_rows = $primary->safe_psql('postgres', $rows_sql);
my $expected_search = $primary->safe_psql('postgres', $search_sql);
my $target_time = $primary->safe_psql('postgres', 'SELECT clock_timestamp()');
usleep(50_000);
$primary->safe_psql(
    'postgres', q{
    INSERT INTO t SELECT i, 'c' || i, vec(i) FROM generate_series(21001, 22000) i;
    UPDATE t SET note = note || '+c' WHERE id % 5 = 0;
    DELETE FROM t WHERE id % 17 = 0;
});
MilvusS3rver::wait_archived($primary, MilvusS3rver::switch_wal($primary));

($ret, $out) = basebackup('list');
like($out, qr/^b1\t\d{4}-\d\d-\d\d [\d:]+ \w+\t[0-9A-F]+\/[0-9A-F]+ \(file [0-9A-F]{24}\)\t\d+$/m,
    'list shows the backup: name, start time, WAL start, bytes');

# a new, empty directory, filled from the bucket alone
my $pitr = PostgreSQL::Test::Cluster->new('pitr');
ok(!-e $pitr->data_dir, 'the restore starts from no data directory');
($ret, $out) = basebackup('fetch', 'b1', $pitr->data_dir);
is($ret, 0, 'milvus_s3_basebackup fetch: status 0');
my ($fetch_rate) = $out =~ /\(([\d.]+) MB\/s\)/;
note("base backup fetch rate: $fetch_rate MB/s") if defined $fetch_rate;
ok(-f $pitr->data_dir . '/backup_label', 'the data directory has its backup_label');
my $host = $pitr->host;
$pitr->append_conf(
    'postgresql.conf', qq{
port = @{[ $pitr->port ]}
unix_socket_directories = '$host'
archive_mode = off
restore_command = 'milvus_s3_restore -c $s3conf %f %p'
recovery_target_time = '$target_time'
recovery_target_action = 'promote'
});
$pitr->set_recovery_mode;
$pitr->start;
$pitr->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'timed out waiting for the point-in-time recovery';
is($pitr->safe_psql('postgres', $rows_sql), $expected_rows,
    'recovered to the target time: every row as it was then');
is($pitr->safe_psql('postgres', 'SELECT count(*) FROM t WHERE id > 21000'), 0,
    'and none of the later changes');
like($pitr->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $search"),
    qr/t_emb/, 'searches go through the milvus_hnsw index');
is($pitr->safe_psql('postgres', $search_sql), $expected_search,
    'and answer as the primary did at the target time');
like(slurp_file($pitr->logfile), qr/restored log file "[0-9A-F]{24}" from archive/,
    'WAL came from the bucket');
$pitr->stop;

# (b) refusals
($ret) = basebackup('fetch', 'nosuch', "$tmp/nosuch");
is($ret, 1, 'fetch of a backup the bucket lacks: status 1');
($ret, $out, $err) = basebackup('fetch', 'b1', $pitr->data_dir);
is($ret, 2, 'fetch into a non-empty directory: status 2');
like($err, qr/exists and is not empty/, 'and says why');
($ret, $out, $err) = basebackup('create', 'b1', '-d', $primary->connstr('postgres'));
is($ret, 2, 'create under a taken name: status 2');

# (c) S3 failing every part during create
$s3->set_fault('500 1000000 part');
($ret, $out, $err) = basebackup('create', 'b2', '-d', $primary->connstr('postgres'));
$s3->set_fault('500 0');
is($ret, 2, 'create with every part answered 500: status 2');
like($err, qr/HTTP status 500.*upload aborted/, 'the upload was aborted');
is(join(',', $s3->uploads_left()), '', 'no upload or part is left in the bucket');
ok(!-e "$tmp/s3data/$bucket/cluster1/basebackups/b2", 'nothing of b2 is in the bucket');
($ret, $out) = basebackup('list');
unlike($out, qr/^b2\t/m, 'list does not show it');

# an altered base.tar fails the manifest's SHA-256
open(my $fh, '+<', $base_object) or die;
seek($fh, 100_000, 0);
print $fh 'x' x 16;
close($fh);
($ret, $out, $err) = basebackup('fetch', 'b1', "$tmp/altered");
is($ret, 2, 'fetch of an altered base.tar: status 2');
like($err, qr/does not match its manifest/, 'the SHA-256 caught it');

# delete
($ret, $out) = basebackup('delete', 'b1');
is($ret, 0, 'delete: status 0');
($ret, $out) = basebackup('list');
is($out, '', 'list shows nothing');
ok(!-e "$tmp/s3data/$bucket/cluster1/basebackups/b1", 'no object of b1 is left in the bucket');
($ret) = basebackup('delete', 'b1');
is($ret, 1, 'delete of a backup the bucket lacks: status 1');

# (e) the settings file's values
my $good_conf = slurp_file($s3conf);

# Run a program with the settings file plus more lines; its exit status and stderr
sub with_settings
{
    my ($program, $lines) = @_;
    my $conf = "$tmp/settings.conf";
    open(my $fh, '>', $conf) or die "$conf: $!";
    print $fh "$good_conf$lines\n";
    close($fh);
    my ($stdout, $stderr);
    IPC::Run::run([ $program, '-c', $conf, $program eq 'milvus_s3_restore' ? '--list' : 'list' ],
        '>', \$stdout, '2>', \$stderr);
    return ($? >> 8, $stderr);
}

my @refused = (
    [ 's3_max_retries = abc', qr/: invalid value for parameter "s3_max_retries": "abc"\n.*: detail: Set in "\Q$tmp\E\/settings\.conf" line \d+\.\n.*: hint: Valid values are between "0" and "20"\.\n\z/ ],
    [ 's3_max_retries = -1', qr/: -1 is outside the valid range for parameter "s3_max_retries" \(0 \.\. 20\)\n.*: detail: Set in /],
    [ 's3_part_size = 1MB', qr/: 1024 kB is outside the valid range for parameter "s3_part_size" \(5120 \.\. 524288\)\n/ ],
    [ 's3_part_size = five', qr/: invalid value for parameter "s3_part_size": "five"\n.*\n.*: hint: Valid values are between "5MB" and "512MB"; a number without a unit is in kB\.\n/ ],
    [ 's3_part_size = 5XB', qr/: invalid value for parameter "s3_part_size": "5XB"\n.*\n.*: hint: Valid units for this parameter are "B", "kB", "MB", "GB", and "TB"\.\n/ ],
    [ "s3_timeout = '20 sec'", qr/: invalid value for parameter "s3_timeout": "20 sec"\n.*\n.*: hint: Valid units for this parameter are "us", "ms", "s", "min", "h", and "d"\.\n/ ],
    [ 's3_virtual_host = maybe', qr/: parameter "s3_virtual_host" requires a Boolean value: "maybe"\n.*\n.*: hint: Valid values are "on", "off", /],
    [ 's3_wal_compression = gzip', qr/: invalid value for parameter "s3_wal_compression": "gzip"\n.*: detail: Set in .*\n.*: hint: Available values: off, lz4, zstd\.\n\z/ ]);
for my $program ('milvus_s3_restore', 'milvus_s3_basebackup')
{
    for my $case (@refused)
    {
        my ($ret, $err) = with_settings($program, $case->[0]);
        is($ret, 2, "$program with $case->[0]: status 2");
        like($err, qr/^$program$case->[1]/s, 'and the message, where, and what is valid');
    }
    {
        local $ENV{MILVUS_S3_MAX_RETRIES} = 'x';
        my ($ret, $err) = with_settings($program, '');
        is($ret, 2, "$program with MILVUS_S3_MAX_RETRIES=x: status 2");
        like($err, qr/"s3_max_retries": "x"\n.*: detail: Set by the environment variable MILVUS_S3_MAX_RETRIES\.\n/,
            'and the variable named');
    }
    my ($ret, $err) = with_settings($program, q{s3_timeout = '1.5 min'
s3_connect_timeout = 2s
s3_stall_timeout = 2min
s3_max_retries = 0x2
s3_multipart_threshold = 0.5GB
s3_part_size = 5242880B
s3_virtual_host = OFF
s3_wal_compression = ZSTD});
    is($ret, 0, "$program with units, a hex number, OFF and ZSTD: status 0") or note($err);
}

# a page size that is not a whole number from 0 to 1000 is refused before any request
for my $size ('abc', '-1', '1001', '5x')
{
    my ($stdout, $stderr);
    IPC::Run::run([ 'milvus_s3_restore', '-c', $s3conf, '--list', $size ], '>', \$stdout, '2>', \$stderr);
    is($? >> 8, 2, "milvus_s3_restore --list $size: status 2");
    like($stderr, qr/^milvus_s3_restore: invalid page size "\Q$size\E": a whole number from 0 \(the server's default\) to 1000\n\z/,
        'and says what is valid');
}
{
    my ($stdout, $stderr);
    IPC::Run::run([ 'milvus_s3_restore', '-c', $s3conf, '--list', '2' ], '>', \$stdout, '2>', \$stderr);
    is($? >> 8, 0, 'milvus_s3_restore --list 2: status 0') or note($stderr);
}

# the same verdict as the server's, as ALTER SYSTEM SET checks a value: the
# same message (without "milvus."), or both accept it
for my $case (
    [ 's3_max_retries', '3.5' ], [ 's3_max_retries', '1e1' ], [ 's3_max_retries', '21' ],
    [ 's3_max_retries', '2 s' ], [ 's3_part_size', '5242879B' ], [ 's3_part_size', '5241000B' ],
    [ 's3_part_size', '0.51GB' ], [ 's3_part_size', '5 mb' ], [ 's3_part_size', '99999999999' ],
    [ 's3_multipart_threshold', '1TB' ], [ 's3_timeout', '99ms' ], [ 's3_timeout', '2h' ],
    [ 's3_connect_timeout', '1500us' ], [ 's3_stall_timeout', '1500ms' ],
    [ 's3_stall_timeout', '0.4s' ], [ 's3_stall_timeout', '' ],
    [ 's3_wal_compression', 'Lz4' ], [ 's3_wal_compression', 'none' ], [ 's3_wal_compression', '' ])
{
    my ($name, $value) = @$case;
    my ($psql_ret, $psql_out, $psql_err) =
      $primary->psql('postgres', "ALTER SYSTEM SET milvus.$name = '$value'");
    $primary->safe_psql('postgres', "ALTER SYSTEM RESET milvus.$name");
    my $server = $psql_ret == 0 ? 'accepted' : ($psql_err =~ /ERROR:  (.*)/ ? $1 =~ s/milvus\.//r : $psql_err);
    my ($ret, $err) = with_settings('milvus_s3_restore', "$name = '$value'");
    my $program = $ret == 0 ? 'accepted' : ($err =~ /^milvus_s3_restore: (.*)/ ? $1 : $err);
    is($program, $server, "$name = '$value': the server's verdict");
}

unlike(slurp_file("$tmp/s3rver.log") . slurp_file($primary->logfile), qr/\Q$secret\E/,
    'no log holds the secret');
$primary->stop;
done_testing();
