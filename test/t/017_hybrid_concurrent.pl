# Concurrent inserts and deletes while hybrid searches run return only
# visible rows.  Writers move rows: each transaction inserts a row into a
# group and deletes another row of the same group, or gives a row a new
# vector, so every snapshot sees the same number of rows in each group.
# Searchers run "WHERE <group filter> ORDER BY emb <-> q LIMIT k" as the
# Milvus Hybrid Search (exact, graph and walk forced, and auto) and check,
# in the same snapshot, that every row returned is visible and passes the
# filter, that none comes twice, that the distances never decrease, that as
# many come as the LIMIT and the visible rows allow, and (under REPEATABLE
# READ) that the answer is the exact one of that snapshot.  Meanwhile the data
# coordinator seals the growing segment into the graph, and VACUUMs and
# seals run among the clients.  Afterwards the index verifies clean and a
# search returns the exact answer.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dim = 8;
my $groups = 5;
my $per_group = 400;

my $node = PostgreSQL::Test::Cluster->new('hybrid_concurrent');
$node->init;
# The data coordinator seals every 50 growing rows, checking every 50 ms.
# The answers are checked against exact search, so the graph searches must
# not miss by approximation: with ef_search at its largest, 1,000, a walk
# keeps most of the index's elements in its list (2,000 live rows, and up to
# about a thousand tombstones and dead rows while compactions lag).  At 400,
# about one walk search in 50,000 missed a live, reachable row ranked near
# 50th, which the same search at 1,000 found.
$node->append_conf('postgresql.conf',
        "shared_preload_libraries = 'milvus'\nautovacuum = off\n"
      . "milvus.seal_rows = 50\nmilvus.data_coordinator_naptime = 50\n"
      . "milvus.hnsw_level_seed = 17\nmilvus.hnsw_ef_search = 1000\njit = off");
$node->start;

$node->safe_psql(
    'postgres', qq{
    CREATE EXTENSION milvus;
    CREATE FUNCTION vec(i bigint) RETURNS floatvector LANGUAGE sql IMMUTABLE
        RETURN ARRAY(SELECT (('x' || substr(md5(i || ',' || j), 1, 8))::bit(32)::int / 2147483648.0)::real
                     FROM generate_series(1, $dim) j)::floatvector;
    CREATE SEQUENCE ids START 100001;
    -- no heap truncation: a VACUUM that finds empty pages at the end would
    -- try for up to 5 s to lock out the other clients
    CREATE TABLE t (id bigint PRIMARY KEY, grp int NOT NULL, emb floatvector($dim) NOT NULL)
        WITH (vacuum_truncate = false);
    INSERT INTO t SELECT i, i % $groups + 1, vec(i) FROM generate_series(1, $groups * $per_group) i;
    CREATE INDEX t_emb ON t USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
    CREATE INDEX t_grp ON t (grp);
    ANALYZE t;
});

# A writer's transaction: a new row in group g, and another row of g
# deleted (one no other writer holds), so g keeps its count.
$node->safe_psql(
    'postgres', q{
    CREATE FUNCTION move_row(g int, n bigint) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        victim bigint;
    BEGIN
        INSERT INTO t VALUES (nextval('ids'), g, vec(n));
        SELECT id INTO victim FROM t WHERE grp = g AND id <> currval('ids')
        ORDER BY hashint8(id + n) LIMIT 1 FOR UPDATE SKIP LOCKED;
        DELETE FROM t WHERE id = victim;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no row of group % to delete', g;
        END IF;
    END $$;
    CREATE FUNCTION new_vector(g int, n bigint) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE t SET emb = vec(n)
        WHERE id = (SELECT id FROM t WHERE grp = g ORDER BY hashint8(id + n) LIMIT 1
                    FOR UPDATE SKIP LOCKED);
    END $$;
});

# A search and its checks, planned afresh (dynamic SQL) under strategy.  The
# search and its checks are one statement, so they share a snapshot at any
# isolation level; under REPEATABLE READ the exact answer (no hybrid search,
# no index scan) is computed in the same snapshot and must be the same.
$node->safe_psql(
    'postgres', q{
    CREATE FUNCTION check_search(strategy text, filter text, n bigint, k int) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        -- ties (rows whose vectors were set equal) broken by id, as in the exact answer
        search text := format('SELECT id FROM t WHERE %s ORDER BY emb <-> vec(%s), id LIMIT %s', filter, -n, k);
        r record;
        exact bigint[];
    BEGIN
        PERFORM set_config('milvus.hybrid_strategy', strategy, true);
        EXECUTE format($q$
            WITH s AS (SELECT ARRAY(%s) AS ids)
            SELECT s.ids,
                   (SELECT count(*) FROM unnest(s.ids) u(id) JOIN t USING (id) WHERE %s) AS passing,
                   (SELECT count(DISTINCT id) FROM unnest(s.ids) id) AS distinct_ids,
                   (SELECT count(*) FROM t WHERE %s) AS visible,
                   (SELECT coalesce(bool_and(d >= prev OR prev IS NULL), true)
                    FROM (SELECT d, lag(d) OVER (ORDER BY o) AS prev
                          FROM (SELECT u.o, t.emb <-> vec(%s) AS d
                                FROM unnest(s.ids) WITH ORDINALITY u(id, o) JOIN t USING (id)) x) y)
                       AS ordered
            FROM s$q$, search, filter, filter, -n) INTO r;
        IF r.passing <> cardinality(r.ids) OR r.distinct_ids <> cardinality(r.ids) OR NOT r.ordered
           OR cardinality(r.ids) <> least(k, r.visible) THEN
            RAISE EXCEPTION '% search of "%" for vec(%): % rows, % visible and passing, % distinct, ordered %, % visible in all',
                strategy, filter, -n, cardinality(r.ids), r.passing, r.distinct_ids, r.ordered, r.visible;
        END IF;
        IF current_setting('transaction_isolation') = 'repeatable read' THEN
            PERFORM set_config('milvus.enable_hybrid_search', 'off', true),
                    set_config('enable_indexscan', 'off', true);
            EXECUTE format('SELECT ARRAY(SELECT id FROM t WHERE %s ORDER BY emb <-> vec(%s), id LIMIT %s)',
                           filter, -n, k) INTO exact;
            PERFORM set_config('milvus.enable_hybrid_search', 'on', true),
                    set_config('enable_indexscan', 'on', true);
            IF exact IS DISTINCT FROM r.ids THEN
                RAISE EXCEPTION '% search of "%" for vec(%) returned %, the exact answer is %',
                    strategy, filter, -n, r.ids, exact;
            END IF;
        END IF;
    END $$;
});

# the searches are the hybrid search when forced
for my $strategy ('exact', 'graph', 'walk')
{
    like(
        $node->safe_psql(
            'postgres', qq{
            SET milvus.hybrid_strategy = $strategy;
            EXPLAIN (COSTS OFF) SELECT id FROM t WHERE grp = 2 ORDER BY emb <-> vec(-1) LIMIT 10}),
        qr/Custom Scan \(Milvus Hybrid Search\) on t.*Planned Strategy: $strategy.*Bitmap Index Scan on t_grp/s,
        "the $strategy search is planned as the hybrid search");
}

# 6 clients, 700 transactions each.  A fixed seed gives every client the same
# script choices and values on every run; how the clients interleave is
# still up to the machine.
$node->pgbench(
    '--no-vacuum --client=6 --jobs=3 --transactions=700 --random-seed=17',
    0,
    [ qr{processed: 4200/4200}, qr{number of failed transactions: 0 } ],
    [qr/^pgbench: setting random seed to 17$/],
    'concurrent moves, vector updates, searches, vacuums and seals',
    {
        '017_move@12' => q{
            \set g random(1, 5)
            \set n random(1, 1000000000)
            SELECT move_row(:g, :n);
        },
        '017_new_vector@3' => q{
            \set g random(1, 5)
            \set n random(1, 1000000000)
            SELECT new_vector(:g, :n);
        },
        # two searches in one snapshot, a strategy and a k drawn for both
        '017_search_rr@10' => q{
            \set s random(1, 4)
            \set g random(1, 5)
            \set k random(1, 40)
            \set n random(1, 1000000)
            BEGIN ISOLATION LEVEL REPEATABLE READ;
            SELECT check_search((ARRAY['exact', 'graph', 'walk', 'auto'])[:s], 'grp = :g', :n, :k);
            SELECT check_search((ARRAY['exact', 'graph', 'walk', 'auto'])[:s], 'grp >= :g', :n, :k);
            COMMIT;
        },
        # each search and its checks in a snapshot of their own
        '017_search_rc@3' => q{
            \set g random(1, 5)
            \set n random(1, 1000000)
            SELECT check_search('graph', 'grp = :g', :n, 40);
            SELECT check_search('walk', 'grp <= :g', :n, 30);
            SELECT check_search('exact', 'grp <> :g AND grp > 1', :n, 20);
        },
        '017_vacuum@1' => q{
            VACUUM t;
        },
        '017_seal@1' => q{
            SELECT milvus.seal('t_emb');
        },
    });

is( $node->safe_psql(
        'postgres', q{
        SELECT string_agg(grp || ': ' || n, ', ' ORDER BY grp)
        FROM (SELECT grp, count(*) AS n FROM t GROUP BY grp) s}),
    join(', ', map { "$_: $per_group" } 1 .. $groups),
    'every group kept its count');
ok($node->safe_psql('postgres', 'SELECT max(id) > 101000 FROM t') eq 't', 'the moves went through');
ok( $node->safe_psql('postgres',
        "SELECT last_seal IS NOT NULL FROM milvus.segments WHERE index_name = 't_emb'::regclass") eq 't',
    'the growing segment was sealed during the run');

my $problems = "SELECT string_agg(p, E'\\n') FROM milvus_hnsw_verify('t_emb', %s) p";
is($node->safe_psql('postgres', sprintf($problems, 'false')), '', 'index verifies clean');
# as TAP 012: compact what the VACUUMs left, VACUUM with the index pass,
# compact its tombstones; then every element is reachable
$node->safe_psql('postgres', "SELECT FROM milvus.compact_index('t_emb')");
$node->safe_psql('postgres', 'VACUUM (INDEX_CLEANUP ON) t');
$node->safe_psql('postgres', "SELECT FROM milvus.compact_index('t_emb')");
is($node->safe_psql('postgres', sprintf($problems, 'true')),
    '', 'after VACUUM every element is reachable');

# after the load: every search of every strategy is the exact answer
my $final = '';
for my $strategy ('exact', 'graph', 'walk', 'auto')
{
    for my $g (1 .. $groups)
    {
        $final .= "BEGIN ISOLATION LEVEL REPEATABLE READ;\n"
          . "SELECT check_search('$strategy', 'grp = $g', $_, 10);\n"
          . "SELECT check_search('$strategy', 'grp <= $g', $_, 30);\n"
          . "COMMIT;\n"
          for (1 .. 4);
    }
}
my ($ret, $stdout, $stderr) = $node->psql('postgres', $final, on_error_stop => 1);
is($ret, 0, 'after the load every search returns the exact answer');
is($stderr, '', 'with no error') or diag($stderr);
like(
    $node->safe_psql(
        'postgres', q{
        SET milvus.hybrid_strategy = graph;
        EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
        SELECT id FROM t WHERE grp = 3 ORDER BY emb <-> vec(-7) LIMIT 10}),
    qr/^\s+Strategy: graph\n\s+Bitmaps: 1\n\s+Filter Rows: $per_group\n/m,
    'the graph strategy walks the index with a bitmap of the group');

$node->stop;
done_testing();
