# Concurrent inserts keep the elements of a milvus_hnsw index reachable
# without any VACUUM: six sessions insert into an index of m = 4, whose short
# lists inserts prune hardest, and a walk of layer 0 from the entry point then
# reaches all but at most a few elements (see the race below; before inserts
# kept a way to what they unlink, such a run left hundreds unreachable).
# Deletes in between leave dead rows in the graph, as between VACUUMs.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('reach');
$node->init;
$node->append_conf('postgresql.conf',
    "shared_preload_libraries = 'milvus'\nautovacuum = off\nmilvus.hnsw_level_seed = 15\n"
      # graph inserts, concurrent: what seals do, here from six sessions
      . "milvus.hnsw_growing_segment = off");
$node->start;

$node->safe_psql(
    'postgres', q{
    CREATE EXTENSION milvus;
    CREATE FUNCTION vec(i bigint) RETURNS floatvector LANGUAGE sql IMMUTABLE
        RETURN ARRAY(SELECT (('x' || substr(md5(i || ',' || j), 1, 8))::bit(32)::int / 2147483648.0)::real
                     FROM generate_series(1, 16) j)::floatvector;
    CREATE SEQUENCE ids START 501;
    CREATE TABLE t (id bigint PRIMARY KEY, emb floatvector(16));
    INSERT INTO t SELECT i, vec(i) FROM generate_series(1, 500) i;
    CREATE INDEX t_idx ON t USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 4, ef_construction = 16);
});

$node->pgbench(
    '--no-vacuum --client=6 --jobs=2 --transactions=1500 --random-seed=15',
    0,
    [qr/processed: 9000\/9000/],
    [qr/^pgbench: setting random seed to 15$/],
    'six sessions insert and delete at once',
    {
        '015_insert@9' => q{
            INSERT INTO t SELECT n, vec(n) FROM (SELECT nextval('ids') AS n) s;
        },
        '015_delete@1' => q{
            \set victim random(1, 9000)
            DELETE FROM t WHERE id = :victim;
        },
    });

# An element is unlinked only under its tuple lock, but two inserts unlinking
# two neighbouring elements at once can still each count on a link the other
# removes (hnswinsert.c), so a few are allowed; none was seen in 19 runs, and
# before the rule such a run left about 300 of 8,600 unreachable.
my $unreached = $node->safe_psql('postgres',
    "SELECT count(*) FROM milvus_hnsw_verify('t_idx', true) p WHERE p LIKE '%cannot be reached%'");
cmp_ok($unreached, '<', 10, "at most a few elements are unreachable, without VACUUM ($unreached)");
is( $node->safe_psql(
        'postgres',
        "SELECT string_agg(p, E'\\n') FROM milvus_hnsw_verify('t_idx', true) p WHERE p NOT LIKE '%cannot be reached%'"
    ),
    '',
    'and the index is otherwise sound');
$node->safe_psql('postgres', 'VACUUM (INDEX_CLEANUP ON) t');
is($node->safe_psql('postgres', "SELECT count(*) FROM milvus_hnsw_verify('t_idx', true)"),
    '0', 'after VACUUM every element is reachable');
my $elements = $node->safe_psql('postgres', "SELECT elements FROM milvus_hnsw_stats('t_idx')");
cmp_ok($elements, '>', 8000, "the inserts went into the graph ($elements elements)");

$node->stop;
done_testing();
