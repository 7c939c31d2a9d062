# Upload and download rates of the S3 code against s3rver on loopback, with
# the TAP framework and test/t/MilvusS3rver.pm (not part of scripts/test):
#
#  1. a base backup of a cluster of about SIZE_MB (default 1000) of rows with
#     milvus_s3_basebackup create (one multipart upload of 16 MB parts), and
#     pg_basebackup alone to /dev/null, for what the upload adds; the
#     program's peak RSS;
#  2. milvus_s3_basebackup fetch of it into a new directory, and its RSS;
#  3. the archiver under milvus.s3_wal_compression = off, lz4, zstd: WAL of
#     rows (SEGMENTS full segments each, default 20), with the ratio and the
#     rate from the archiver's DEBUG1 lines.
#
# Run as the server's user, from a copy of the checkout it can write:
#   PATH=$(pg_config --bindir):$PATH TESTDIR=$PWD \
#   PG_REGRESS=$(pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress \
#   PERL5LIB=$(pg_config --pkglibdir)/pgxs/src/test/perl:test/t \
#   MV_S3RVER_DIR=/tmp/milvus-s3rver SIZE_MB=1000 SEGMENTS=20 perl test/bench/s3_rates.pl
use strict;
use warnings;

use MilvusS3rver;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Path qw(rmtree);
use IPC::Run;
use Time::HiRes qw(time);

my $size_mb = $ENV{SIZE_MB} // 1000;
my $segments = $ENV{SEGMENTS} // 20;
my $s3 = MilvusS3rver->start_for_test('milvus-bench');
my $tmp = $s3->{dir};
my $conf = $s3->program_conf('bench', '');

# Run a command under /usr/bin/time; its wall seconds, peak RSS in kB, stdout
# (or stdout to /dev/null when the first argument is '>null')
sub timed
{
    my @cmd = @_;
    my ($out, $err);
    my $to = \$out;
    if ($cmd[0] eq '>null') { shift @cmd; $to = '/dev/null'; }
    my $t0 = time;
    IPC::Run::run([ '/usr/bin/time', '-f', 'maxrss=%M', @cmd ], '>', $to, '2>', \$err)
      or die "@cmd failed: $err";
    my ($rss) = $err =~ /maxrss=(\d+)/;
    return (time - $t0, $rss, $out);
}

# the data without archiving, so that only the backups and 3. upload
my $node = PostgreSQL::Test::Cluster->new('bench');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'milvus'\nmilvus.data_coordinator = off\n");
$node->start;
my $rows = int($size_mb * 1024 * 1024 / 100);
$node->safe_psql('postgres',
    "CREATE TABLE big AS SELECT i, md5(i::text) a, md5((i + 1)::text) b FROM generate_series(1, $rows) i; CHECKPOINT");
my $db_mb = $node->safe_psql('postgres', 'SELECT pg_database_size(current_database()) / 1048576');
$node->stop;
$node->append_conf('postgresql.conf', "archive_mode = on\narchive_library = 'milvus'\n"
      . $s3->server_conf('bench') . "log_min_messages = debug1\n");
$node->start;

# 1. and 2.
my ($secs, $rss) = timed('>null', 'pg_basebackup', '-d', $node->connstr('postgres'), '-D', '-', '-Ft',
    '-Xnone', '--checkpoint=fast');
note(sprintf('pg_basebackup -D - -Ft -Xnone > /dev/null: %.2f s', $secs));
my $out;
($secs, $rss, $out) = timed('milvus_s3_basebackup', '-c', $conf, 'create', 'b1', '-d', $node->connstr('postgres'));
chomp $out;
note("milvus_s3_basebackup create: $out; wall $secs s, peak RSS $rss kB");
my $target = "$tmp/fetched";
($secs, $rss, $out) = timed('milvus_s3_basebackup', '-c', $conf, 'fetch', 'b1', $target);
chomp $out;
note("milvus_s3_basebackup fetch: $out; peak RSS $rss kB");
ok(-f "$target/PG_VERSION", "a $db_mb MB database backed up and fetched");
rmtree($target);

# 3.
for my $setting ('off', 'lz4', 'zstd')
{
    $node->safe_psql('postgres',
        "ALTER SYSTEM SET milvus.s3_wal_compression = '$setting'; SELECT pg_reload_conf()");
    MilvusS3rver::wait_archived($node, MilvusS3rver::switch_wal($node));
    my $n = int($segments * 16 * 1024 * 1024 / 150);
    $node->safe_psql('postgres',
        "CREATE TABLE w_$setting AS SELECT i, md5(i::text) a, md5((i * 7)::text) b FROM generate_series(1, $n) i");
    MilvusS3rver::wait_archived($node, MilvusS3rver::switch_wal($node));
}
my $log = slurp_file($node->logfile);
my (%raw, %stored, %ms);
while ($log =~ /archived "[0-9A-F]{24}" to S3: (\d+) bytes as (\d+) \((\w+)\) in \d+ parts in ([\d.]+) ms/g)
{
    $raw{$3} += $1;
    $stored{$3} += $2;
    $ms{$3} += $4;
}
for my $codec ('off', 'lz4', 'zst')
{
    note(sprintf('archiving, %s: %.0f MB of WAL stored as %.0f MB (ratio %.2f), %.0f MB/s of WAL',
        $codec, $raw{$codec} / 1048576, $stored{$codec} / 1048576, $raw{$codec} / $stored{$codec},
        $raw{$codec} / 1048576 / ($ms{$codec} / 1000)));
}
$node->stop;
done_testing();
