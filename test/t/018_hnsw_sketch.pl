# Searches of a growing segment through each backend's sketch (hnswsketch.c),
# while other sessions append to it, seal it and delete from it, and on a
# streaming standby:
#  - a standby's sketch answers as the primary's, before and after seals
#    (the metapage's growingReleased, advanced by a seal, reaches it through WAL,
#    checked by wal_consistency_checking);
#  - under concurrent inserts, deletes, seals, VACUUMs and searches (some
#    filtered, so that they go past what the sketch vouches for and measure
#    the whole segment), no search fails, the index verifies clean, and every
#    sampled committed row is found by its own vector.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dim = 96;

my $primary = PostgreSQL::Test::Cluster->new('sketch_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf(
    'postgresql.conf', qq{
shared_preload_libraries = 'milvus'
wal_consistency_checking = 'generic'
autovacuum = off
milvus.data_coordinator = off
});
$primary->start;
$primary->safe_psql('postgres',
    "SELECT pg_create_physical_replication_slot('standby_slot', true)");
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('sketch_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby_slot'");
$standby->start;

# 40 clusters: element j of row i is its cluster's centre plus a small
# offset, both drawn from md5
$primary->safe_psql(
    'postgres', qq{
    CREATE EXTENSION milvus;
    CREATE FUNCTION r(s text) RETURNS real LANGUAGE sql IMMUTABLE
        RETURN (('x' || substr(md5(s), 1, 8))::bit(32)::int / 2147483648.0)::real;
    CREATE FUNCTION vec(i bigint) RETURNS floatvector LANGUAGE sql IMMUTABLE
        RETURN ARRAY(SELECT 4 * r('c' || (abs(i) % 40) || ',' || j) + r(i || ',' || j) / 2
                     FROM generate_series(1, $dim) j)::floatvector;
    CREATE SEQUENCE ids START 5001;
    CREATE TABLE t (id bigint PRIMARY KEY, emb floatvector($dim)) WITH (vacuum_truncate = false);
    INSERT INTO t SELECT i, vec(i) FROM generate_series(1, 1000) i;
    CREATE INDEX t_idx ON t USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
    INSERT INTO t SELECT i, vec(i) FROM generate_series(1001, 5000) i;
});

# ids and distances of 30 searches, nearest first
sub answers
{
    my ($node) = @_;
    return $node->safe_psql(
        'postgres', q{
        SET enable_seqscan = off;
        SET milvus.hnsw_ef_search = 20;
        SELECT q, array_agg(id ORDER BY d, id), array_agg(round(d::numeric, 3) ORDER BY d, id)
        FROM generate_series(1, 30) q,
             LATERAL (SELECT id, emb <-> vec(-q) AS d FROM t ORDER BY emb <-> vec(-q) LIMIT 10) s
        GROUP BY q ORDER BY q});
}

sub compare
{
    my ($what) = @_;
    $primary->wait_for_catchup($standby, 'replay');
    my $p = answers($primary);
    is(answers($standby), $p, "$what: the standby answers as the primary");
}

# the sketch is what answers (a growing row's own vector as the query, so
# that the sketch surely vouches for the nearest row)
my ($ret, $out, $err) = $primary->psql('postgres', q{
    SET enable_seqscan = off;
    SET milvus.hnsw_ef_search = 1;
    SET milvus.hnsw_growing_rerank = 100;
    SET client_min_messages = debug2;
    SELECT id FROM t ORDER BY emb <-> vec(2000) LIMIT 1});
like($err, qr/searched 4000 growing rows through its sketch/,
    'searches of the growing segment go through its sketch');
is($out, '2000', 'and find the row first');
compare('4,000 rows growing');

# The sketch lays its rows out by centroid, and a search (l2) passes over the
# blocks of codes whose rows the triangle inequality puts farther than the
# ef_search-th nearest upper bound: on these clustered rows, most of them.
# (Without it, every search reads every block.)
($ret, $out, $err) = $primary->psql('postgres', q{
    SET enable_seqscan = off;
    SET milvus.hnsw_ef_search = 20;
    SET client_min_messages = debug3;
    SELECT count(*) FROM generate_series(1, 30) q,
        LATERAL (SELECT id FROM t ORDER BY emb <-> vec(-q) LIMIT 10) s});
my ($read, $held, $searches) = (0, 0, 0);
while ($err =~ /(\d+) of (\d+) blocks of codes read/g)
{
    $read += $1;
    $held += $2;
    $searches++;
}
note("blocks of codes read: $read of $held, $searches searches");
is($searches, 30, 'the 30 searches go through the sketch');
cmp_ok($read, '<', $held / 2, 'and read fewer than half its blocks of codes');

# so does cosine, whose estimates are of -<v, q> for unit vectors; its
# answers are those of measuring every growing row
$primary->safe_psql(
    'postgres', q{
    CREATE TABLE tc (id bigint PRIMARY KEY, emb floatvector(96));
    CREATE INDEX tc_idx ON tc USING milvus_hnsw (emb floatvector_cosine_ops) WITH (m = 8);
    INSERT INTO tc SELECT i, vec(i) FROM generate_series(1, 4000) i;
});
my $cosine = q{
    SET enable_seqscan = off;
    SET milvus.hnsw_ef_search = 20;
    SET milvus.hnsw_growing_rerank = %d;
    SET client_min_messages = debug3;
    SELECT q, array_agg(id ORDER BY d, id)
    FROM generate_series(1, 30) q,
         LATERAL (SELECT id, emb <=> vec(-q) AS d FROM tc ORDER BY emb <=> vec(-q) LIMIT 10) s
    GROUP BY q ORDER BY q};
my ($exact_ret, $exact_out) = $primary->psql('postgres', sprintf($cosine, 0));
($ret, $out, $err) = $primary->psql('postgres', sprintf($cosine, 8));
($read, $held, $searches) = (0, 0, 0);
while ($err =~ /(\d+) of (\d+) blocks of codes read/g)
{
    $read += $1;
    $held += $2;
    $searches++;
}
note("cosine: blocks of codes read: $read of $held, $searches searches");
cmp_ok($searches, '>=', 20, 'cosine searches go through the sketch');
cmp_ok($read, '<', $held / 2, 'and read fewer than half its blocks of codes');
is($out, $exact_out, 'and answer as measuring every growing row does');

# a seal empties the growing pages and the next rows take them again: the
# backends' sketches start again on both servers
$primary->safe_psql('postgres', "SELECT milvus.seal('t_idx')");
$primary->safe_psql('postgres',
    "INSERT INTO t SELECT i, vec(i) FROM generate_series(-3000, -1) i");
compare('after a seal, 3,000 new rows growing');
$primary->safe_psql('postgres', "DELETE FROM t WHERE id % 7 = 0; VACUUM t");
$primary->safe_psql('postgres',
    "INSERT INTO t SELECT n, vec(n) FROM (SELECT nextval('ids') AS n FROM generate_series(1, 2000)) s");
compare('after deletes and a VACUUM, 2,000 new rows growing');

# A seal empties the chain's pages as it goes (every 32 pages it has linked,
# when no scan reads the chain); a backend's sketch then drops the rows of
# those pages and reads on, without starting again.  With the seal held
# before its last release, rows appended meanwhile are found through the
# kept sketch; after the last release (every row it held emptied) it starts
# again.
$primary->safe_psql('postgres', "SELECT milvus.seal('t_idx')");
$primary->safe_psql('postgres',
    "INSERT INTO t SELECT n, vec(n) FROM (SELECT nextval('ids') AS n FROM generate_series(1, 3000)) s");
my $searcher = $primary->background_psql('postgres');
$searcher->query_safe(
    "SET enable_seqscan = off; SET milvus.hnsw_ef_search = 10; SET client_min_messages = debug2");
my $own = q{SELECT count(*) FROM t a WHERE a.id >= %d
              AND a.id = (SELECT b.id FROM t b ORDER BY b.emb <-> a.emb LIMIT 1)};
$searcher->{stderr} = '';
$searcher->query(sprintf($own, 0) . ' AND a.id % 50 = 0');
like($searcher->{stderr}, qr/sketched 3000 growing rows/, 'a backend sketches 3,000 growing rows');
$primary->safe_psql('postgres',
    "ALTER SYSTEM SET milvus.debug_pause_at = 'hnsw_seal_release'; SELECT pg_reload_conf()");
my $pause_key = 1835625590;
my $holder = $primary->background_psql('postgres');
$holder->query_safe("SELECT pg_advisory_lock($pause_key, 6)");    # hnsw_seal_release
my $sealer = $primary->background_psql('postgres');
$sealer->query_until(qr/sealing/, "\\echo sealing\nSELECT milvus.seal('t_idx');\n");
ok( $primary->poll_query_until(
        'postgres', qq{
        SELECT count(*) = 1 FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted AND objid = 6 AND classid = $pause_key}),
    'a seal waits before its last release');
cmp_ok(
    $primary->safe_psql('postgres',
        "SELECT growing_rows FROM milvus.segments WHERE index_name = 't_idx'::regclass"),
    '<', 3000, 'it has emptied pages of the chain already');
my $first_new = $primary->safe_psql('postgres', "SELECT nextval('ids') + 1");
$primary->safe_psql('postgres',
    "INSERT INTO t SELECT n, vec(n) FROM (SELECT nextval('ids') AS n FROM generate_series(1, 200)) s");
$searcher->{stderr} = '';
is($searcher->query(sprintf($own, $first_new)), '200',
    'rows appended during the seal are found by their own vectors');
unlike($searcher->{stderr}, qr/sketched/, 'through the sketch the backend kept');
like($searcher->{stderr}, qr/its sketch dropped [1-9]\d* rows of emptied pages/,
    'less the rows of the pages the seal emptied');
like($searcher->{stderr}, qr/searched \d+ growing rows through its sketch/,
    'which answered the searches');
$holder->query_safe("SELECT pg_advisory_unlock($pause_key, 6)");
$sealer->quit;
$holder->quit;
$primary->safe_psql('postgres', 'ALTER SYSTEM RESET milvus.debug_pause_at; SELECT pg_reload_conf()');
$primary->safe_psql('postgres',
    "INSERT INTO t SELECT n, vec(n) FROM (SELECT nextval('ids') AS n FROM generate_series(1, 1000)) s");
$searcher->{stderr} = '';
is($searcher->query(sprintf($own, $first_new)), '1200',
    'after the seal, the rows appended since are found by their own vectors');
like($searcher->{stderr}, qr/sketched 1200 growing rows/,
    'the sketch started again after the last release');
$searcher->quit;
compare('after a seal held before its last release');

# 5 clients: inserts, deletes, searches (a third of them filtered), seals and
# VACUUMs.  Searches at ef_search 5 measure at most 40 growing rows, so they
# go through their backend's sketch whenever 80 or more rows are growing:
# about 75 inserts come between two seals.
$primary->pgbench(
    '--no-vacuum --client=5 --jobs=2 --transactions=800 --random-seed=18',
    0,
    [qr{processed: 4000/4000}],
    [qr/pgbench: setting random seed to 18/],
    'concurrent inserts, deletes, seals and searches through the sketch',
    {
        '018_insert@150' => q{
            INSERT INTO t SELECT n, vec(n) FROM (SELECT nextval('ids') AS n) s;
        },
        '018_delete@10' => q{
            \set victim random(1, 9000)
            DELETE FROM t WHERE id = :victim;
        },
        '018_search@30' => q{
            \set q random(1, 1000000)
            SET enable_seqscan = off;
            SET milvus.hnsw_ef_search = 5;
            SELECT count(*) FROM (SELECT id FROM t ORDER BY emb <-> vec(-:q) LIMIT 10) s;
        },
        '018_filtered@15' => q{
            \set q random(1, 1000000)
            SET enable_seqscan = off;
            SET milvus.enable_hybrid_search = off;
            SET milvus.hnsw_ef_search = 5;
            SELECT count(*) FROM (SELECT id FROM t WHERE id % 9 = 4 ORDER BY emb <-> vec(-:q) LIMIT 10) s;
        },
        '018_seal@1' => q{
            SELECT milvus.seal('t_idx');
        },
        '018_vacuum@1' => q{
            VACUUM t;
        },
    });

is($primary->safe_psql('postgres',
        "SELECT string_agg(p, E'\\n') FROM milvus_hnsw_verify('t_idx', false) p"),
    '', 'index verifies clean');
my $growing = $primary->safe_psql('postgres',
    "SELECT growing_rows FROM milvus.segments WHERE index_name = 't_idx'::regclass");
note("growing rows after the run: $growing");
# a row's own vector finds it first unless the graph walk misses it (m = 8
# on clustered rows misses a few): the sketch must miss no more than
# measuring every growing row does
my $misses = q{
    SET enable_seqscan = off;
    SET milvus.hnsw_ef_search = 40;
    SET milvus.hnsw_growing_rerank = %d;
    SELECT coalesce(string_agg(a.id::text, ',' ORDER BY a.id), 'none') FROM t a WHERE a.id %% 17 = 0
       AND a.id IS DISTINCT FROM (SELECT b.id FROM t b ORDER BY b.emb <-> a.emb LIMIT 1)};
my $exact_misses = $primary->safe_psql('postgres', sprintf($misses, 0));
note("rows missed by their own vectors, every growing row measured: $exact_misses");
is($primary->safe_psql('postgres', sprintf($misses, 8)), $exact_misses,
    'searches through the sketch find every sampled row that measuring every growing row finds');
compare('after the concurrent run');

$standby->stop;
$primary->stop;
done_testing();
