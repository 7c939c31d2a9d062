# Collections survive pg_dump/pg_restore: the catalog's rows come back
# (pg_extension_config_dump), in an order their foreign keys accept, with the
# regclass references resolved to the restored tables, and the API works on
# the restored database as on the source: a database other than default,
# partitions, an alias, an index, generated ids that continue.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('collections');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'milvus'");
$node->start;

my $tmp = PostgreSQL::Test::Utils::tempdir;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql(
    'src', q{
    CREATE EXTENSION milvus;
    SELECT milvus.create_database('analytics');
    SELECT milvus.use_database('analytics');
    SELECT milvus.create_collection('docs', 2, auto_id => true, metric_type => 'L2');
    SELECT milvus.create_partition('docs', 'archive');
    SELECT milvus.create_alias('docs', 'current');
    SELECT * FROM milvus.insert('docs', '[{"vector": [1, 2], "color": "red"}, {"vector": [3, 4]}]');
    SELECT * FROM milvus.insert('docs', '[{"vector": [0, 0]}]', 'archive');
    SELECT milvus.create_collection('tags', schema => '{"fields": [
        {"name": "id", "type": "VARCHAR", "max_length": 8, "is_primary": true},
        {"name": "tag", "type": "VARCHAR", "max_length": 8, "default_value": "none"},
        {"name": "v", "type": "FLOAT_VECTOR", "dim": 2}]}');
    SELECT milvus.create_index('tags', 'tag', 'INVERTED');
    SELECT * FROM milvus.insert('tags', '[{"id": "a", "v": [1, 1]}]');
});

# What a database looks like through the API
my $describe_sql = q{
    SELECT milvus.use_database('analytics');
    SELECT string_agg(name, ',') FROM milvus.list_collections() name;
    SELECT milvus.describe_collection('current') - 'collection_id';
    SELECT milvus.describe_collection('tags') - 'collection_id';
    SELECT milvus.describe_index('tags', 'tag') - 'pg_index';
    SELECT string_agg(p, ',') FROM milvus.list_partitions('docs') p;
    SELECT string_agg(q::text, ';') FROM milvus.query('docs', 'id > 0', '{*}') q;
    SELECT string_agg(s.id || ':' || s.distance, ';') FROM milvus.search('current', '[[1, 2]]') s;
    SELECT string_agg(q::text, ';') FROM milvus.query('tags', 'tag == "none"', '{tag}') q;
};
my $before = $node->safe_psql('src', $describe_sql);
like($before, qr/^docs,tags$/m, 'source collections');
like($before, qr/^_default,archive$/m, 'source partitions');

$node->command_ok([ 'pg_dump', '-Fc', '-d', 'src', '-f', "$tmp/src.dump" ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'restored', "$tmp/src.dump" ],
    'pg_restore');

is($node->safe_psql('restored', $describe_sql), $before, 'the API sees the same collections');
is( $node->safe_psql(
        'restored',
        q{SELECT string_agg(db_name || '=' || schema_name, ',' ORDER BY db_name) FROM milvus.databases}),
    'analytics=analytics,default=public',
    'databases restored once each');

# the restored collection takes new rows, its ids continuing
is( $node->safe_psql(
        'restored', q{
    SELECT milvus.use_database('analytics');
    SELECT ids FROM milvus.insert('docs', '[{"vector": [5, 5]}]');
}), "\n[4]", 'generated ids continue after the restore');

# and the restored catalog still guards other roles' collections
$node->safe_psql('restored', 'CREATE ROLE regress_other');
is( $node->safe_psql(
        'restored', q{
    SET ROLE regress_other;
    WITH d AS (DELETE FROM milvus.collections RETURNING 1) SELECT count(*) FROM d;
}), '0', 'catalog row-level security restored');

$node->stop;
done_testing();
