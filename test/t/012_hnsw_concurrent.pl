# Many sessions inserting, deleting, searching, vacuuming and sealing one
# milvus_hnsw index at once, with the data coordinator sealing and compacting
# it meanwhile, leave it sound: it verifies clean, holds exactly the table's
# rows, and finds them.  Deletes and VACUUMs free slots that the inserts
# reuse while searches walk through them.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dim = 16;

my $node = PostgreSQL::Test::Cluster->new('concurrent');
$node->init;
# the data coordinator seals every 50 rows, checking every 50 ms: its seals
# and compactions run among the clients' inserts, searches and VACUUMs
$node->append_conf('postgresql.conf',
        "shared_preload_libraries = 'milvus'\nautovacuum = off\n"
      . "milvus.seal_rows = 50\nmilvus.data_coordinator_naptime = 50");
$node->start;

$node->safe_psql(
    'postgres', qq{
    CREATE EXTENSION milvus;
    CREATE FUNCTION vec(i bigint) RETURNS floatvector LANGUAGE sql IMMUTABLE
        RETURN ARRAY(SELECT (('x' || substr(md5(i || ',' || j), 1, 8))::bit(32)::int / 2147483648.0)::real
                     FROM generate_series(1, $dim) j)::floatvector;
    CREATE SEQUENCE ids START 1001;
    -- no heap truncation: a VACUUM that finds empty pages at the end would
    -- try for up to 5 s to lock out the other clients
    CREATE TABLE t (id bigint PRIMARY KEY, emb floatvector($dim)) WITH (vacuum_truncate = false);
    INSERT INTO t SELECT i, vec(i) FROM generate_series(1, 1000) i;
    CREATE INDEX t_idx ON t USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
});

# 6 clients, 1,200 transactions each: mostly inserts, some deletes, searches
# (with a filter, so scans go on past ef_search) and the odd VACUUM.  A fixed
# seed gives every client the same script choices and values on every run;
# how the clients interleave is still up to the machine.
$node->pgbench(
    '--no-vacuum --client=6 --jobs=2 --transactions=1200 --random-seed=12',
    0,
    [qr{processed: 7200/7200}],
    [qr/^pgbench: setting random seed to 12$/],
    'concurrent inserts, deletes, searches and vacuums',
    {
        '012_insert@20' => q{
            INSERT INTO t SELECT n, vec(n) FROM (SELECT nextval('ids') AS n) s;
        },
        '012_delete@3' => q{
            \set victim random(1, 4000)
            DELETE FROM t WHERE id = :victim;
        },
        '012_search@6' => q{
            \set q random(1, 1000000)
            SET enable_seqscan = off;
            SELECT id FROM t WHERE id % 5 = 0 ORDER BY emb <-> vec(-:q) LIMIT 10;
        },
        '012_vacuum@1' => q{
            VACUUM t;
        },
        '012_seal@1' => q{
            SELECT milvus.seal('t_idx');
        },
    });

ok( $node->safe_psql('postgres',
        "SELECT last_seal IS NOT NULL FROM milvus.segments WHERE index_name = 't_idx'::regclass") eq 't',
    'the data coordinator sealed during the run');

my $problems = "SELECT string_agg(p, E'\\n') FROM milvus_hnsw_verify('t_idx', %s) p";
is($node->safe_psql('postgres', sprintf($problems, 'false')), '', 'index verifies clean');
# INDEX_CLEANUP ON: with a handful of dead rows VACUUM may otherwise skip
# the index pass altogether (PostgreSQL's bypass), leaving their TIDs behind.
# The data coordinator compacts what the pgbench VACUUMs left, when it gets
# to it: compact now, so that rows inserted after take the freed slots when
# the VACUUM seals them, and again after the VACUUM for its own tombstones.
$node->safe_psql('postgres', q{
    SELECT FROM milvus.compact_index('t_idx');
    INSERT INTO t SELECT n, vec(n) FROM (SELECT nextval('ids') AS n FROM generate_series(1, 200)) s;
});
$node->safe_psql('postgres', 'VACUUM (INDEX_CLEANUP ON) t');
$node->safe_psql('postgres', "SELECT FROM milvus.compact_index('t_idx')");
is($node->safe_psql('postgres', sprintf($problems, 'true')),
    '', 'after VACUUM every element is reachable');
my $reused = $node->safe_psql('postgres', "SELECT reused FROM milvus_hnsw_stats('t_idx')");
ok($reused > 0, "inserts reused slots vacuum freed ($reused)");
my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
ok($rows > 1500, "inserts went through ($rows rows)");
is($node->safe_psql('postgres', "SELECT heap_tids FROM milvus_hnsw_stats('t_idx')"),
    $rows, 'the index holds exactly the table\'s rows');
is( $node->safe_psql(
        'postgres', q{
        SET enable_seqscan = off;
        SET milvus.hnsw_ef_search = 100;
        SELECT count(*) FROM t a WHERE a.id % 29 = 0
           AND a.id IS DISTINCT FROM (SELECT b.id FROM t b ORDER BY b.emb <-> a.emb LIMIT 1)}),
    '0',
    'searches find sampled rows');

$node->stop;
done_testing();
