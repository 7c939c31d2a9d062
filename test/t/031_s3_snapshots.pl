# Collection snapshots in the bucket (milvus.create_snapshot and the rest),
# against s3rver on loopback (MilvusS3rver.pm, as in 030):
#
#  (a) a collection with partitions, a VARCHAR, a JSON, a float vector and
#      an HNSW index is snapshotted, then changed (insert, delete, update);
#      restored into a new name, it answers the same milvus.query and
#      milvus.search as the original did at the snapshot's moment;
#  (b) list_snapshots shows it; errors: a taken snapshot name (42710), an
#      unknown one (42704), a bad name (42602), restore into an existing
#      collection (42P07), a role without SELECT (42501), no bucket set;
#  (c) drop_snapshot removes it: not listed, no object left under it;
#  (d) a snapshot of 200,000 x 128 floats (about 100 MB, two parts): the
#      upload rate and the backend's peak RssAnon, sampled; restored whole;
#  (e) S3 answering 500 to a partition's parts after another's were stored,
#      or down, during create_snapshot: a clean error, no manifest, not
#      listed; the same during restore_snapshot (after one partition was
#      loaded): a clean error and no half-restored collection; a cancel of
#      a create_snapshot waiting on a server that never answers.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use MilvusS3rver;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);

my $s3 = MilvusS3rver->start_for_test('milvus-snap');
my ($tmp, $bucket) = @$s3{qw(dir bucket)};

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf(
    'postgresql.conf', qq{
shared_preload_libraries = 'milvus'
milvus.data_coordinator = off
@{[ $s3->server_conf('cluster1') ]}milvus.s3_timeout = 60000
});
$node->start;

# The SQLSTATE a statement fails with, or 'ok'.
sub sqlstate
{
    my ($sql, %opts) = @_;
    my ($ret, $stdout, $stderr) = $node->psql('postgres',
        "\\set VERBOSITY verbose\n$sql", %opts);
    return 'ok' if $ret == 0;
    return $stderr =~ /ERROR:\s+([0-9A-Z]{5})/ ? $1 : $stderr;
}

# Objects of the bucket under <prefix>/snapshots/<path>, from s3rver's files.
sub stored_objects
{
    my ($path) = @_;
    my @found;
    my $root = "$tmp/s3data/$bucket/cluster1/snapshots/$path";
    return () unless -d $root;
    File::Find::find(sub { push @found, $File::Find::name if -f $_ && /_S3rver_object$/ }, $root);
    return @found;
}
use File::Find ();

my $dim = 8;
$node->safe_psql(
    'postgres', qq{
    CREATE EXTENSION milvus;
    CREATE FUNCTION vec(i int) RETURNS text LANGUAGE sql IMMUTABLE
        RETURN (SELECT '[' || string_agg(((('x' || substr(md5(i || ',' || j), 1, 8))::bit(32)::int / 2147483648.0)::real)::text, ',') || ']'
                FROM generate_series(1, $dim) j);
    SELECT milvus.create_collection('docs', schema => '{"fields": [
        {"name": "id", "type": "INT64", "is_primary": true},
        {"name": "title", "type": "VARCHAR", "max_length": 64},
        {"name": "meta", "type": "JSON"},
        {"name": "emb", "type": "FLOAT_VECTOR", "dim": $dim}]}');
    SELECT milvus.create_partition('docs', 'p1');
    SELECT milvus.create_partition('docs', 'p2');
    SELECT milvus.create_index('docs', 'emb', 'HNSW', 'L2', '{"M": 8, "efConstruction": 32}', 'emb_idx');
    SELECT milvus.load_collection('docs');
});
for my $p ([ '_default', 1 ], [ 'p1', 1001 ], [ 'p2', 2001 ])
{
    $node->safe_psql(
        'postgres', qq{
        SELECT milvus.insert('docs',
            (SELECT jsonb_agg(jsonb_build_object('id', i, 'title', 't' || i,
                     'meta', jsonb_build_object('n', i, 'odd', i % 2 = 1), 'emb', vec(i)::jsonb))
               FROM generate_series($p->[1], $p->[1] + 299) i), '$p->[0]');
    });
}

# The answers a collection gives: a query over every partition, a filtered
# one, and searches (with a JSON filter, and by partition).
sub answers
{
    my ($coll) = @_;
    return $node->safe_psql(
        'postgres', qq{
        SELECT string_agg(q::text, E'\\n' ORDER BY (q ->> 'id')::bigint)
          FROM milvus.query('$coll', 'id >= 0', '{id,title,meta,emb}') q;
        SELECT string_agg(q::text, E'\\n' ORDER BY (q ->> 'id')::bigint)
          FROM milvus.query('$coll', 'meta["odd"] == true and id < 1200', '{title}', partition_names => '{p1}') q;
        SELECT string_agg(s.id || ':' || round(s.distance::numeric, 5), ';' ORDER BY s.query_index, s.distance, s.id)
          FROM milvus.search('$coll', ('[' || vec(7) || ',' || vec(1500) || ']')::jsonb, 'emb', "limit" => 10,
                             filter => 'meta["n"] % 3 != 0', output_fields => '{title}') s;
        SELECT string_agg(s.id || ':' || round(s.distance::numeric, 5), ';' ORDER BY s.distance, s.id)
          FROM milvus.search('docs', ('[' || vec(2100) || ']')::jsonb, 'emb', "limit" => 5, partition_names => '{p2}') s;
    }) =~ s/milvus\.search\('docs'/milvus.search('$coll'/r;
}
my $before = answers('docs');
like($before, qr/"title": "t1001"/, 'the original answers');

# (a) snapshot, change the original, restore
my $m = $node->safe_psql('postgres', "SELECT milvus.create_snapshot('docs', 'snap1')");
like($m, qr/"rows": 900/, 'create_snapshot counts 900 rows');
like($m, qr/"index_type": "HNSW"/, 'the manifest has the index');
$node->safe_psql(
    'postgres', q{
    SELECT milvus.insert('docs', jsonb_build_array(jsonb_build_object('id', 5000, 'title', 'new', 'meta', '{}', 'emb', vec(7)::jsonb)));
    SELECT milvus.delete('docs', filter => 'id in [1, 2, 3, 1001, 2001]');
    SELECT milvus.upsert('docs', jsonb_build_array(jsonb_build_object('id', 10, 'title', 'changed', 'meta', '{"n": 3}', 'emb', vec(8)::jsonb)));
});
isnt(answers('docs'), $before, 'the original has changed');

my $r = $node->safe_psql('postgres', "SELECT milvus.restore_snapshot('snap1', 'docs_back')");
like($r, qr/"rows": 900/, 'restore_snapshot loads 900 rows');
is(answers('docs_back'), $before, 'the restored collection answers as the original did at the snapshot');
is($node->safe_psql('postgres',
        "SELECT string_agg(p, ',' ORDER BY p) FROM milvus.list_partitions('docs_back') p"),
    '_default,p1,p2', 'with its partitions');
is($node->safe_psql('postgres',
        "SELECT milvus.describe_index('docs_back', 'emb_idx') ->> 'index_type'"),
    'HNSW', 'and its HNSW index');
is($node->safe_psql('postgres',
        q{SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'docs_back%' AND indexdef LIKE '%milvus_hnsw%'}) > 0,
    1, 'built as a milvus_hnsw index');

# (b) list and errors
is($node->safe_psql('postgres', "SELECT string_agg(s ->> 'snapshot_name', ',') FROM milvus.list_snapshots() s"),
    'snap1', 'list_snapshots shows it');
is(sqlstate("SELECT milvus.create_snapshot('docs', 'snap1')"), '42710', 'a taken snapshot name: 42710');
is(sqlstate("SELECT milvus.restore_snapshot('nope')"), '42704', 'an unknown snapshot: 42704');
is(sqlstate("SELECT milvus.drop_snapshot('nope')"), '42704', 'dropping an unknown snapshot: 42704');
like(sqlstate("SELECT milvus.create_snapshot('docs', 'bad/name')"), qr/^42/, 'a bad name is refused');
is(sqlstate("SELECT milvus.restore_snapshot('snap1', 'docs')"), '42P07', 'restore into an existing name: 42P07');
is(sqlstate("SELECT milvus.restore_snapshot('snap1')"), '42P07', 'restore into the original name while it exists: 42P07');
$node->safe_psql('postgres',
    'CREATE ROLE reader LOGIN; CREATE ROLE nobody LOGIN; CREATE ROLE stranger LOGIN; GRANT SELECT ON docs TO reader, stranger');
# no role reaches the bucket unless granted: not even a snapshot of what it may read
is(sqlstate("SELECT milvus.create_snapshot('docs', 'snap_stranger')", extra_params => [ '-U', 'stranger' ]),
    '42501', 'create_snapshot is not granted to PUBLIC');
is(sqlstate("SELECT milvus._snapshot_get('postgres/snap1/manifest.json')", extra_params => [ '-U', 'stranger' ]),
    '42501', 'nor are the object calls: no role reads a snapshot it was not granted');
is(sqlstate("SELECT milvus._snapshot_put('postgres/snap1/manifest.json', '{}')", extra_params => [ '-U', 'stranger' ]),
    '42501', 'or overwrites one');
$node->safe_psql('postgres', q{
    GRANT EXECUTE ON FUNCTION milvus.create_snapshot(text, text), milvus._snapshot_get(text),
        milvus._snapshot_put(text, text), milvus._snapshot_copy_out(regclass, text[], text, text, integer)
        TO reader, nobody});
is(sqlstate("SELECT milvus.create_snapshot('docs', 'snap_nobody')", extra_params => [ '-U', 'nobody' ]),
    '42501', 'a role granted snapshots but without SELECT: 42501');
is(sqlstate("SELECT milvus.create_snapshot('docs', 'snap_reader')", extra_params => [ '-U', 'reader' ]),
    'ok', 'a role granted snapshots and with SELECT may snapshot');
is(sqlstate("SELECT milvus.restore_snapshot('snap_reader', 'x')", extra_params => [ '-U', 'reader' ]),
    '42501', 'restore is not granted to PUBLIC');
$node->safe_psql('postgres', "ALTER SYSTEM SET milvus.s3_bucket = ''; SELECT pg_reload_conf()");
$node->poll_query_until('postgres', "SELECT current_setting('milvus.s3_bucket') = ''") or die;
is(sqlstate("SELECT milvus.create_snapshot('docs', 'snap2')"), '55000', 'no bucket: 55000');
my ($ret, $out, $err) = $node->psql('postgres', "SELECT milvus.list_snapshots()");
like($err, qr/milvus\.s3_bucket is not set/, 'the error names the setting');
is(sqlstate("SELECT milvus._snapshot_get('a/../../wal/x')"), '22023',
    'an object key that could leave the snapshots folder: 22023');
$node->safe_psql('postgres', "ALTER SYSTEM RESET milvus.s3_bucket; SELECT pg_reload_conf()");
$node->poll_query_until('postgres', "SELECT current_setting('milvus.s3_bucket') = '$bucket'") or die;
is(sqlstate("SELECT milvus._snapshot_copy_out('docs', '{id}', 'x/', '../../../wal/x', 1048576)"),
    '22023', 'a part name prefix that could leave the snapshot folder: 22023');

# (e) S3 failing during create_snapshot and restore_snapshot
$node->safe_psql('postgres', "ALTER SYSTEM SET milvus.s3_max_retries = 1; SELECT pg_reload_conf()");
sub snapshot_names
{
    return $node->safe_psql('postgres',
        "SELECT coalesce(string_agg(s ->> 'snapshot_name', ',' ORDER BY s ->> 'snapshot_name'), '') FROM milvus.list_snapshots() s");
}
my $listed = snapshot_names();
my $manifest_of = sub { "$tmp/s3data/$bucket/cluster1/snapshots/default/$_[0]/manifest.json._S3rver_object" };

# partition p1's parts answered 500: _default's is stored first, then it fails
$s3->set_fault('500 1000000 /p1/');
($ret, $out, $err) = $node->psql('postgres', "SELECT milvus.create_snapshot('docs', 'broken')");
$s3->set_fault('500 0');
isnt($ret, 0, "create_snapshot with p1's parts answered 500: an error");
is(scalar(stored_objects('default/broken/_default')), 1, 'after a part of _default was stored');
like($err, qr/ERROR:  could not store a snapshot part in S3\nDETAIL:  PUT .*HTTP status 500/,
    'that says what failed');
ok(!-e $manifest_of->('broken'), 'no manifest was written');
is(snapshot_names(), $listed, 'list_snapshots does not show it');
is(sqlstate("SELECT milvus.restore_snapshot('broken', 'docs_broken')"), '42704',
    'nor can it be restored');

# S3 down
$s3->stop;
($ret, $out, $err) = $node->psql('postgres', "SELECT milvus.create_snapshot('docs', 'down')");
isnt($ret, 0, 'create_snapshot with S3 down: an error');
like($err, qr/ERROR:  could not .* in S3\nDETAIL:  .*(Couldn't connect|Connection refused|Failed to connect)/,
    'that says S3 could not be reached');
($ret, $out, $err) = $node->psql('postgres', "SELECT milvus.restore_snapshot('snap1', 'docs_down')");
isnt($ret, 0, 'restore_snapshot with S3 down: an error');
$s3->start;
ok(!-e $manifest_of->('down'), 'no manifest was written');
is(snapshot_names(), $listed, 'list_snapshots does not show it');

# the parts of a restore answered 500, after the collection was created
my $collections_sql = q{SELECT string_agg(c, ',' ORDER BY c) FROM milvus.list_collections() c};
my $collections = $node->safe_psql('postgres', $collections_sql);
my $gets = () = slurp_file("$tmp/requests.log") =~ m{^GET \S*/snap1/_default/}mg;
$s3->set_fault('500 1000000 /p1/');
($ret, $out, $err) = $node->psql('postgres', "SELECT milvus.restore_snapshot('snap1', 'docs_half')");
my $served = slurp_file("$tmp/fault");
$s3->set_fault('500 0');
isnt($ret, 0, "restore_snapshot with p1's parts answered 500: an error");
my $gets_after = () = slurp_file("$tmp/requests.log") =~ m{^GET \S*/snap1/_default/}mg;
is($gets_after, $gets + 1, "after _default's part was loaded");
like($err, qr/ERROR:  could not read a snapshot part in S3\nDETAIL:  GET .*HTTP status 500/,
    'that says what failed');
isnt($served, '500 1000000 /p1/', 'the parts were asked for (the collection had been made)');
is($node->safe_psql('postgres', $collections_sql), $collections, 'no half-restored collection is left');
is($node->safe_psql('postgres', "SELECT to_regclass('docs_half') IS NULL"), 't', 'nor its table');
like($node->safe_psql('postgres', "SELECT milvus.restore_snapshot('snap1', 'docs_half')"),
    qr/"rows": 900/, 'S3 well again: the same restore succeeds');
is(answers('docs_half'), $before, 'and answers as the original did at the snapshot');
$node->safe_psql('postgres', "SELECT milvus.drop_collection('docs_half')");

# a cancel while create_snapshot waits on a server that never answers
$node->safe_psql('postgres',
    "ALTER SYSTEM SET milvus.s3_timeout = '60s'; ALTER SYSTEM SET milvus.s3_stall_timeout = '60s'; "
      . "SELECT pg_reload_conf()");
my $stalled = $node->background_psql('postgres', on_error_stop => 0);
my $stalled_pid = $stalled->query_safe('SELECT pg_backend_pid()');
$s3->set_fault('stall 1000000');
$stalled->{stdin} .= "SELECT milvus.create_snapshot('docs', 'stalled');\n";
$stalled->{run}->pump_nb;
for (1 .. 300)
{
    last if slurp_file("$tmp/fault") ne 'stall 1000000';
    usleep(100_000);
}
isnt(slurp_file("$tmp/fault"), 'stall 1000000', 'create_snapshot waits on a request that gets no answer');
usleep(1_000_000);
my $t_cancel = time;
$node->safe_psql('postgres', "SELECT pg_cancel_backend($stalled_pid)");
while ($stalled->{stderr} !~ /ERROR/ && time - $t_cancel < 90)
{
    $stalled->{run}->pump_nb;
    usleep(50_000);
}
my $cancel_took = time - $t_cancel;
$s3->set_fault('stall 0');
like($stalled->{stderr}, qr/ERROR:  canceling statement due to user request/,
    'pg_cancel_backend stops it');
cmp_ok($cancel_took, '<', 5, sprintf('within %.1f s, not after milvus.s3_timeout (60 s)', $cancel_took));
$stalled->quit;
ok(!-e $manifest_of->('stalled'), 'no manifest was written');
$node->safe_psql('postgres',
    "ALTER SYSTEM RESET milvus.s3_timeout; ALTER SYSTEM RESET milvus.s3_stall_timeout; SELECT pg_reload_conf()");

# (c) drop
my @objects = stored_objects('default/snap1');
ok(@objects >= 4, 'snap1 has a manifest and a part per partition');
$node->safe_psql('postgres', "SELECT milvus.drop_snapshot('snap1'); SELECT milvus.drop_snapshot('snap_reader')");
is($node->safe_psql('postgres', "SELECT count(*) FROM milvus.list_snapshots()"), '0', 'dropped: not listed');
@objects = stored_objects('default/snap1');
is(scalar(@objects), 0, 'no object left under it');
is($node->safe_psql('postgres', "SELECT count(*) FROM milvus._snapshot_list('default/snap1/')"), '0',
    'nor listed by the bucket');

# (d) about 100 MB of vectors: rate and memory
$node->safe_psql(
    'postgres', q{
    SELECT milvus.create_collection('big', schema => '{"fields": [
        {"name": "id", "type": "INT64", "is_primary": true},
        {"name": "v", "type": "FLOAT_VECTOR", "dim": 128}]}');
    INSERT INTO big (id, v)
        SELECT i, (SELECT array_agg(((i * 131 + j) % 1000) / 1000.0)::real[] FROM generate_series(1, 128) j)::floatvector
          FROM generate_series(1, 200000) i;
});
my $bg = $node->background_psql('postgres');
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
my $base = rss_anon($pid);
my $peak = $base;
my $t0 = time;
$bg->{stdin} .= "SELECT milvus.create_snapshot('big', 'big1') ->> 'bytes';\n";
$bg->{run}->pump_nb;
my $bytes;
while (1)
{
    my $rss = rss_anon($pid);
    $peak = $rss if $rss > $peak;
    $bg->{run}->pump_nb;
    if ($bg->{stdout} =~ /^(\d+)\n/m) { $bytes = $1; last; }
    die "snapshot failed: $bg->{stderr}" if $bg->{stderr} =~ /ERROR/;
    die "snapshot timed out" if time - $t0 > 300;
    usleep(20_000);
}
my $secs = time - $t0;
$bg->quit;
my $mb = $bytes / 1024 / 1024;
note(sprintf("snapshot of %.1f MB in %.2f s: %.1f MB/s; backend RssAnon %d kB before, %d kB at peak (+%d kB)",
        $mb, $secs, $mb / $secs, $base, $peak, $peak - $base));
ok($bytes > 100 * 1000 * 1000, 'about 100 MB written');
cmp_ok($peak - $base, '<', 400 * 1024, 'backend memory stayed bounded (under 400 MB more)');
is($node->safe_psql('postgres', "SELECT jsonb_array_length(milvus.list_snapshots() -> 'partitions' -> 0 -> 'objects')"),
    '2', 'in two parts');
$t0 = time;
like($node->safe_psql('postgres', "SELECT milvus.restore_snapshot('big1', 'big_back')"),
    qr/"rows": 200000/, 'restored whole');
note(sprintf("restore of %.1f MB in %.2f s", $mb, time - $t0));
is($node->safe_psql('postgres',
        "SELECT (SELECT sum(hashtext(v::text)) FROM big) = (SELECT sum(hashtext(v::text)) FROM big_back)"),
    't', 'the same vectors');

# RssAnon of a process, in kB.
sub rss_anon
{
    my ($p) = @_;
    open(my $fh, '<', "/proc/$p/status") or return 0;
    while (<$fh>) { return $1 if /^RssAnon:\s+(\d+)/; }
    return 0;
}

done_testing();
