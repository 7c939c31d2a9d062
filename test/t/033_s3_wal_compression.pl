# WAL compression (milvus.s3_wal_compression = off | lz4 | zstd) against
# s3rver on loopback (MilvusS3rver.pm, as in 030):
#
#  (a) segments full of rows archived with each setting in turn: plain
#      <name>, <name>.lz4, <name>.zst in one bucket, each compressed object
#      smaller than its segment and of the size the archiver sent;
#  (b) milvus_s3_restore gives back every segment of the mixed bucket byte
#      for byte, and a standby fed only from it catches up with every row;
#  (c) a compressed object altered in the bucket: status 2, no file left;
#  (d) the compression ratio and archive rate of each setting, from the
#      archiver's own DEBUG1 timing;
#  (e) S3 answering 500 during compressed uploads: once, the PUT is sent
#      again; always, the file waits in pg_wal until S3 is well again; the
#      same archiver process goes on and every segment restores byte for
#      byte.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use MilvusS3rver;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $s3 = MilvusS3rver->start_for_test('milvus-zwal');
my ($tmp, $bucket, $key_id, $secret, $s3_port) = @$s3{qw(dir bucket key_id secret port)};

my $s3conf = $s3->program_conf('cluster1', 's3_max_retries = 1');
sub restore_file { $s3->restore_file(@_) }
sub bucket_objects { $s3->wal_objects }

my $primary = $s3->archiving_primary('primary', 'cluster1', q{wal_keep_size = '1GB'
log_min_messages = debug1});
$primary->safe_psql('postgres', MilvusS3rver::vector_table_sql(8, 1000)
      . 'CREATE TABLE notes (id int, a text, b text)');
$primary->backup('base');

my $pgdata = $primary->data_dir;
my %segments;    # setting => [segments archived under it]
my $next = 1;
for my $setting ('off', 'lz4', 'zstd', 'off')
{
    $primary->safe_psql('postgres',
        "ALTER SYSTEM SET milvus.s3_wal_compression = '$setting'; SELECT pg_reload_conf()");
    # the archiver has read it once a segment went out after the reload
    MilvusS3rver::wait_archived($primary, MilvusS3rver::switch_wal($primary));
    # the segment after the switch: its first byte's
    my $first = $primary->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn() + 1)');
    # about 40 MB of WAL: rows of hex text and vectors, as a table's WAL is
    $primary->safe_psql('postgres',
        "INSERT INTO notes SELECT i, md5(i::text) || md5((i * 7)::text), repeat(md5((i % 1000)::text), 4) "
          . "FROM generate_series($next, $next + 199999) i;"
          . "INSERT INTO t SELECT i, 'z' || i, vec(i) FROM generate_series($next + 1000, $next + 5999) i");
    $next += 200000;
    my $last = MilvusS3rver::switch_wal($primary);
    MilvusS3rver::wait_archived($primary, $last);
    my @segs = grep { $_ ge $first && $_ le $last }
      map { m{/([0-9A-F]{24})$} ? $1 : () } glob("$pgdata/pg_wal/0*");
    push @{ $segments{$setting} }, @segs;
}

# (a) names and sizes in the bucket
my $objects = bucket_objects();
my %suffix = (off => '', lz4 => '.lz4', zstd => '.zst');
for my $setting ('off', 'lz4', 'zstd')
{
    my @segs = @{ $segments{$setting} };
    ok(@segs >= 2, "$setting: " . scalar(@segs) . ' segments archived');
    my @missing = grep { !exists $objects->{"$_$suffix{$setting}"} } @segs;
    is("@missing", '', "$setting: each stored as <name>$suffix{$setting}");
    next if $setting eq 'off';
    my @other = grep { exists $objects->{$_} } @segs;
    is("@other", '', "$setting: and not plain");
    my @big = grep { $objects->{"$_$suffix{$setting}"} >= 16 * 1024 * 1024 } @segs;
    is("@big", '', "$setting: each object smaller than its 16 MB segment");
}

# (b) byte for byte, then a standby from the mixed bucket
for my $setting ('off', 'lz4', 'zstd')
{
    my @differ;
    for my $seg (@{ $segments{$setting} })
    {
        unlink("$tmp/restored");
        push @differ, $seg
          if restore_file($seg, "$tmp/restored") != 0
          || slurp_file("$tmp/restored") ne slurp_file("$pgdata/pg_wal/$seg");
    }
    is("@differ", '', "$setting: every segment restored byte for byte");
}

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base');
$standby->append_conf('postgresql.conf', qq{archive_mode = off
restore_command = 'milvus_s3_restore -c $s3conf %f %p'
wal_retrieve_retry_interval = '200ms'
log_min_messages = warning});
$standby->set_standby_mode;
$standby->start;
my $rows_sql = q{SELECT (SELECT count(*) || ' ' || md5(string_agg(id || a || b, ',' ORDER BY id)) FROM notes),
    (SELECT count(*) || ' ' || md5(string_agg(id || ':' || note || emb::text, ',' ORDER BY id)) FROM t)};
my $expected = $primary->safe_psql('postgres', $rows_sql);
my $last_rows = q{SELECT (SELECT count(*) FROM notes) || ' ' || (SELECT max(id) FROM t)};
$standby->poll_query_until('postgres', $last_rows, $primary->safe_psql('postgres', $last_rows))
  or die 'timed out waiting for the standby';
is($standby->safe_psql('postgres', $rows_sql), $expected,
    'a standby fed from the mixed bucket has every row');
my $log = slurp_file($standby->logfile);
$standby->stop;

# (c) an altered compressed object
for my $setting ('lz4', 'zstd')
{
    my $seg = $segments{$setting}[0];
    my $object = "$tmp/s3data/$bucket/cluster1/wal/$seg$suffix{$setting}._S3rver_object";
    # a byte in the middle: the frame's content checksum must catch it
    open(my $fh, '+<', $object) or die "$object: $!";
    my $at = int((-s $object) / 2);
    seek($fh, $at, 0);
    read($fh, my $byte, 1);
    seek($fh, $at, 0);
    print $fh chr(ord($byte) ^ 0xff);
    close($fh);
    unlink("$tmp/altered");
    is(restore_file($seg, "$tmp/altered"), 2, "$setting: an altered object: status 2");
    ok(!-e "$tmp/altered" && !-e "$tmp/altered.milvus_tmp", "$setting: and no file left");
}

# (d) ratio and rate, from the archiver's lines
my %raw;
my %stored;
my %ms;
my $primary_log = slurp_file($primary->logfile);
while ($primary_log =~
    /archived "[0-9A-F]{24}" to S3: (\d+) bytes as (\d+) \((\w+)\) in \d+ parts in ([\d.]+) ms/g)
{
    $raw{$3} += $1;
    $stored{$3} += $2;
    $ms{$3} += $4;
}
for my $setting ('off', 'lz4', 'zstd')
{
    my $name = $setting eq 'zstd' ? 'zst' : $setting;
    ok($raw{$name}, "$setting: the archiver timed its uploads");
    note(sprintf('%s: %.1f MB archived as %.1f MB (ratio %.2f) at %.0f MB/s of WAL (compress + upload + HEAD)',
        $setting, $raw{$name} / 1048576, $stored{$name} / 1048576, $raw{$name} / $stored{$name},
        $raw{$name} / 1048576 / ($ms{$name} / 1000)));
}
cmp_ok($stored{lz4}, '<', $raw{lz4}, 'lz4 stores less than the WAL');
cmp_ok($stored{zst}, '<', $raw{zst}, 'zstd stores less than the WAL');

# (e) faults during compressed uploads
my $archiver_sql = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'archiver'";
my $archiver = $primary->safe_psql('postgres', $archiver_sql);
my $failed_sql = 'SELECT failed_count FROM pg_stat_archiver';
sub some_wal
{
    $primary->safe_psql('postgres',
        "INSERT INTO notes SELECT i, md5(i::text), md5((i * 3)::text) FROM generate_series($next, $next + 19999) i");
    $next += 20000;
}
for my $setting ('lz4', 'zstd')
{
    $primary->safe_psql('postgres',
        "ALTER SYSTEM SET milvus.s3_wal_compression = '$setting'; SELECT pg_reload_conf()");
    MilvusS3rver::wait_archived($primary, MilvusS3rver::switch_wal($primary));
    my $failed = $primary->safe_psql('postgres', $failed_sql);

    $s3->set_fault('500 1');
    some_wal();
    my $retried = MilvusS3rver::switch_wal($primary);
    MilvusS3rver::wait_archived($primary, $retried);
    is(slurp_file("$tmp/fault"), '500 0', "$setting: one PUT was answered 500");
    is($primary->safe_psql('postgres', $failed_sql), $failed,
        "$setting: it was sent again and the archiver saw no failure");

    $s3->set_fault('500 1000000');
    some_wal();
    my $stuck = MilvusS3rver::switch_wal($primary);
    $primary->poll_query_until('postgres', "SELECT failed_count > $failed FROM pg_stat_archiver")
      or die 'timed out waiting for archiving to fail';
    ok(-f "$pgdata/pg_wal/archive_status/$stuck.ready",
        "$setting: S3 answering 500 to every request: the segment stays ready");
    $s3->set_fault('500 0');
    some_wal();
    my $after = MilvusS3rver::switch_wal($primary);
    MilvusS3rver::wait_archived($primary, $after);
    my $stored = bucket_objects();
    my @differ;
    for my $seg ($retried, $stuck, $after)
    {
        unlink("$tmp/restored");
        push @differ, $seg
          if !exists $stored->{"$seg$suffix{$setting}"}
          || restore_file($seg, "$tmp/restored") != 0
          || slurp_file("$tmp/restored") ne slurp_file("$pgdata/pg_wal/$seg");
    }
    is("@differ", '', "$setting: S3 well again, each of those segments is stored compressed and restores byte for byte");
}
is($primary->safe_psql('postgres', $archiver_sql), $archiver, 'the archiver that started is still the one archiving');

unlike(slurp_file($primary->logfile) . $log, qr/\Q$secret\E/, 'no log holds the secret');
$primary->stop;
done_testing();
