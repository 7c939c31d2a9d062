# The collection API's C data path across sessions and crashes: a session's
# schema cache sees partitions, aliases and collections that another session
# creates or drops; a bulk import killed mid-way, in an import worker or in
# the caller's session, leaves no row behind and its task reported failed.
use strict;
use warnings;

use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('collection_writes');
$node->init;
# three worker slots: the milvus launcher, the logical replication launcher
# and one import worker (no data coordinator: it would take slots too)
$node->append_conf(
    'postgresql.conf', qq{
shared_preload_libraries = 'milvus'
restart_after_crash = on
max_worker_processes = 3
milvus.data_coordinator = off
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION milvus');

# --- the schema cache follows other sessions' DDL ---
$node->safe_psql('postgres', "SELECT milvus.create_collection('cc', dimension => 2)");
my $s = $node->background_psql('postgres', on_error_stop => 0);
$s->query_safe(q{SELECT milvus.insert('cc', '[{"id": 1, "vector": [1, 0]}]')});

$node->safe_psql('postgres', q{
    SELECT milvus.create_partition('cc', 'p2');
    SELECT milvus.create_alias('cc', 'cc_alias');
});
is($s->query_safe(q{SELECT insert_count FROM milvus.insert('cc', '[{"id": 2, "vector": [0, 1]}]', 'p2')}),
    '1', 'a partition made by another session takes rows');
is($s->query_safe(q{SELECT insert_count FROM milvus.insert('cc_alias', '[{"id": 3, "vector": [1, 1]}]')}),
    '1', 'an alias made by another session names the collection');
my ($ret, $out, $err) = (0, '', '');
my $task;
$s->query(q{SELECT milvus.insert('cc', '[{"id": 2, "vector": [0, 1]}]')});
like($s->{stderr}, qr/duplicate primary key 2/,
    'the new partition counts in the uniqueness check across partitions');
$s->{stderr} = '';

$node->safe_psql('postgres', q{
    SELECT milvus.drop_alias('cc_alias');
    SELECT milvus.release_collection('cc');
    SELECT milvus.drop_partition('cc', 'p2');
});
$s->query(q{SELECT milvus.insert('cc_alias', '[{"id": 4, "vector": [1, 1]}]')});
like($s->{stderr}, qr/collection "cc_alias" does not exist/, 'a dropped alias is gone');
$s->{stderr} = '';
$s->query(q{SELECT milvus.insert('cc', '[{"id": 4, "vector": [1, 1]}]', 'p2')});
like($s->{stderr}, qr/partition "p2" of collection "cc" does not exist/, 'a dropped partition is gone');
$s->{stderr} = '';

# a collection dropped and made again with another schema
$node->safe_psql('postgres', q{
    SELECT milvus.drop_collection('cc');
    SELECT milvus.create_collection('cc', dimension => 3);
});
is($s->query_safe(q{SELECT insert_count FROM milvus.insert('cc', '[{"id": 1, "vector": [1, 2, 3]}]')}),
    '1', 'a collection made again takes rows of its new schema');
$s->query(q{SELECT milvus.insert('cc', '[{"id": 2, "vector": [1, 2]}]')});
like($s->{stderr}, qr/got 2 dimensions/, 'and refuses rows of its old one');
$s->{stderr} = '';
$s->quit;

# --- an import killed mid-way ---
my $rows = 400_000;
my $dim  = 32;
my $dir  = tempdir(CLEANUP => 1);
chmod 0755, $dir;

sub write_npy
{
    my ($path, $descr, $shape, $data) = @_;
    my $header = "{'descr': '$descr', 'fortran_order': False, 'shape': $shape, }";
    my $pad    = (64 - (10 + length($header) + 1) % 64) % 64;
    $header .= ' ' x $pad . "\n";
    open(my $fh, '>:raw', $path) or die "$path: $!";
    print $fh "\x93NUMPY\x01\x00" . pack('v', length($header)) . $header . $data;
    close($fh);
    chmod 0644, $path;
}
write_npy("$dir/id.npy", '<i8', "($rows,)", pack('q<*', 1 .. $rows));
write_npy("$dir/vector.npy", '<f4', "($rows, $dim)",
    pack('f<*', map { $_ / $dim } 1 .. $dim) x $rows);
my $files = qq{'["$dir/id.npy", "$dir/vector.npy"]'};
$node->safe_psql('postgres', "SELECT milvus.create_collection('big', dimension => $dim)");

# wait until the import has written some rows, as pg_stat_progress_copy says
sub wait_for_progress
{
    for (my $i = 0; $i < 100 * $PostgreSQL::Test::Utils::timeout_default; $i++)
    {
        return 1
          if $node->safe_psql('postgres',
            'SELECT count(*) FROM pg_stat_progress_copy WHERE tuples_processed > 0') eq '1';
        usleep(10_000);
    }
    return 0;
}

# --- the import worker ---
sub import_state
{
    my ($task) = @_;
    my $state;
    for (my $i = 0; $i < 100 * $PostgreSQL::Test::Utils::timeout_default; $i++)
    {
        $state = $node->safe_psql('postgres',
            "SELECT s ->> 'state', s ->> 'row_count', s ->> 'reason' FROM milvus.get_import_state($task) s");
        last if $state =~ /^(Completed|Failed)\|/;
        usleep(50_000);
    }
    return $state;
}
mkdir("$dir/small") or die;
chmod 0755, "$dir/small";
write_npy("$dir/small/id.npy", '<i8', "(100,)", pack('q<*', 1 .. 100));
write_npy("$dir/small/vector.npy", '<f4', "(100, $dim)", pack('f<*', map { $_ / $dim } 1 .. $dim) x 100);
open(my $bad, '>', "$dir/bad.json") or die;
print $bad '{"rows": [';
close($bad);
chmod 0644, "$dir/bad.json";
$node->safe_psql('postgres', "SELECT milvus.create_collection('bg', dimension => $dim)");
my $small = qq{'["$dir/small/id.npy", "$dir/small/vector.npy"]'};
$task = $node->safe_psql('postgres', "SELECT milvus.bulk_insert('bg', $small)");
is(import_state($task), 'Completed|100|', 'an import worker completes a task');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bg'), '100', 'with its rows');
$task = $node->safe_psql('postgres', qq{SELECT milvus.bulk_insert('bg', '["$dir/bad.json"]')});
like(import_state($task), qr/^Failed\|0\|invalid input syntax for type json/,
    'a failed task says why');
$task = $node->safe_psql('postgres',
    "BEGIN; SELECT milvus.bulk_insert('bg', $small); ROLLBACK");
usleep(500_000);
is($node->safe_psql('postgres', 'SELECT count(*) FROM milvus.import_tasks'), '2',
    'a call rolled back leaves no task');

# a NOLOGIN role reached by SET ROLE: the worker imports with its rights
$node->safe_psql('postgres', q{
    CREATE ROLE importers NOLOGIN;
    GRANT pg_read_server_files TO importers;
    GRANT CREATE ON SCHEMA public TO importers;
    CREATE ROLE loader LOGIN IN ROLE importers;
});
$task = $node->safe_psql('postgres',
    "SET ROLE importers; SELECT milvus.create_collection('bg_role', dimension => $dim); "
      . "SELECT milvus.bulk_insert('bg_role', $small)",
    extra_params => [ '-U', 'loader' ]);
$task = (split /\n/, $task)[-1];
is(import_state($task), 'Completed|100|', 'a task of a NOLOGIN role set by SET ROLE completes');
is($node->safe_psql('postgres', "SELECT count(*), pg_get_userbyid(c.relowner) FROM bg_role, pg_class c "
      . "WHERE c.oid = 'bg_role'::regclass GROUP BY 2"), '100|importers', 'into the role\'s collection');

# with the one slot taken, the next task runs in the calling session
$node->safe_psql('postgres', "SELECT milvus.create_collection('bg2', dimension => $dim)");
my $first = $node->safe_psql('postgres', "SELECT milvus.bulk_insert('big', $files)");
ok(wait_for_progress(), 'the first import runs in the worker');
($ret, $out, $err) = $node->psql('postgres', "SELECT milvus.bulk_insert('bg2', $small)");
is($node->safe_psql('postgres', "SELECT milvus.get_import_state($out) ->> 'state'"),
    'Completed', 'a task with no free slot is done when bulk_insert returns');
like($err, qr/no background worker slot is free: importing in this session/, 'and says so');
is(import_state($first), "Completed|$rows|", 'the first import completes too');
$node->safe_psql('postgres', 'TRUNCATE big');

# in an import worker: the server stops at once in the middle
$task = $node->safe_psql('postgres', "SELECT milvus.bulk_insert('big', $files)");
ok(wait_for_progress(), 'the import worker reports its progress');
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM big'), '0', 'a crashed import worker left no row');
is($node->safe_psql('postgres', "SELECT milvus.get_import_state($task) ->> 'state'"),
    'Failed', 'and its task is reported failed');

# in the caller's session: the backend is killed with -9
my $h = IPC::Run::start(
    [
        'psql', '-X', '-d', $node->connstr('postgres'),
        '-c', 'SET milvus.import_in_background = off',
        '-c', "SELECT milvus.bulk_insert('big', $files)"
    ],
    '>', \$out, '2>', \$err);
ok(wait_for_progress(), 'the session import reports its progress');
my $pid = $node->safe_psql('postgres', 'SELECT pid FROM pg_stat_progress_copy');
kill 'KILL', $pid;
$h->finish;
$node->poll_query_until('postgres', 'SELECT true') or die 'the server did not come back';
is($node->safe_psql('postgres', 'SELECT count(*) FROM big'), '0', 'a killed session import left no row');

# and the same import, left alone, completes with every row
$node->safe_psql('postgres', "SET milvus.import_in_background = off; SELECT milvus.bulk_insert('big', $files)");
is($node->safe_psql('postgres', 'SELECT count(*), count(DISTINCT id) FROM big'), "$rows|$rows",
    'an import run to the end has every row once');

done_testing();
