# S3 over https with a certificate the system does not trust: s3rver serves
# https with a self-signed certificate made by openssl for this test
# (MilvusS3rver.pm).  The client trusts it only through milvus.s3_ca_file
# (s3_ca_file for the programs):
#
#  (a) without it, archiving fails with a clear certificate error, the
#      segment stays ready in pg_wal; milvus_s3_restore fails (status 2);
#  (b) with it (a reload), the same segment is archived and restores byte
#      for byte;
#  (c) a non-superuser cannot read milvus.s3_ca_file.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use MilvusS3rver;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $s3 = MilvusS3rver->start_for_test('milvus-tls', tls => 1);
my $tmp = $s3->{dir};
my $cert = $s3->{cert};
like($s3->server_conf('x'), qr{'https://127\.0\.0\.1:\d+'}, 'the endpoint is https');

my $primary = $s3->archiving_primary('primary', 'cluster1', q{milvus.s3_connect_timeout = 1000
milvus.s3_timeout = 5000
milvus.s3_max_retries = 0
wal_keep_size = '1GB'});
$primary->safe_psql('postgres', 'CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000)');

# (a) not trusted
my $failed = $primary->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver');
my $seg = MilvusS3rver::switch_wal($primary);
$primary->poll_query_until('postgres', "SELECT failed_count > $failed FROM pg_stat_archiver")
  or die 'timed out waiting for archiving to fail';
my $pgdata = $primary->data_dir;
ok(-f "$pgdata/pg_wal/archive_status/$seg.ready", 'untrusted certificate: the segment stays ready');
like(slurp_file($primary->logfile),
    qr/could not archive file "$seg" to S3\n.*DETAIL:  PUT cluster1\/wal\/$seg: SSL certificate problem: self.signed certificate/,
    'and the log says why: the certificate');
ok(!-e "$tmp/s3data/milvus-tls/cluster1/wal/${seg}._S3rver_object", 'nothing reached the bucket');

$s3->program_conf('cluster1', 's3_max_retries = 0');
is($s3->restore_file($seg, "$tmp/untrusted"), 2, 'milvus_s3_restore without the CA: status 2');
ok(!-e "$tmp/untrusted", 'and no file');

# (b) trusted through the CA setting
$primary->safe_psql('postgres',
    "ALTER SYSTEM SET milvus.s3_ca_file = '$cert'; SELECT pg_reload_conf()");
MilvusS3rver::wait_archived($primary, $seg);
ok(!-f "$pgdata/pg_wal/archive_status/$seg.ready", 'with milvus.s3_ca_file: the segment is archived');
$s3->program_conf('cluster1', "s3_max_retries = 0\ns3_ca_file = '$cert'");
is($s3->restore_file($seg, "$tmp/trusted"), 0, 'milvus_s3_restore with s3_ca_file: status 0');
ok(slurp_file("$tmp/trusted") eq slurp_file("$pgdata/pg_wal/$seg"), 'the segment, byte for byte');

# (c) the setting is the superuser's
$primary->safe_psql('postgres', 'CREATE ROLE bob LOGIN');
my ($ret, $out, $err) = $primary->psql('postgres', 'SHOW milvus.s3_ca_file',
    extra_params => [ '-U', 'bob' ]);
isnt($ret, 0, 'a non-superuser cannot read milvus.s3_ca_file');

$primary->stop;
done_testing();
