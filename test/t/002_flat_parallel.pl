# Exact search (Milvus's FLAT: no index) gives the same answer serially and
# in a parallel plan, and the answer is the one computed independently in SQL
# from plain real[] arrays.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $rows = 20000;
my $dim = 64;
my $k = 10;

my $node = PostgreSQL::Test::Cluster->new('flat');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'milvus'");
$node->start;

# A deterministic table: element j of row i is a number in [-1, 1) drawn from
# md5("i,j"), kept both as real[] (for the reference) and as floatvector (via
# its text form).
$node->safe_psql(
    'postgres', qq{
    CREATE EXTENSION milvus;
    CREATE FUNCTION noise(i int, j int) RETURNS real LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN (('x' || substr(md5(i || ',' || j), 1, 8))::bit(32)::int / 2147483648.0)::real;
    CREATE TABLE t (id int PRIMARY KEY, arr real[], emb floatvector($dim));
    INSERT INTO t (id, arr)
        SELECT i, ARRAY(SELECT noise(i, j)
                        FROM generate_series(1, $dim) j)
        FROM generate_series(1, $rows) i;
    UPDATE t SET emb = ('[' || array_to_string(arr, ',') || ']')::floatvector($dim);
    VACUUM ANALYZE t;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM t WHERE emb IS NOT NULL'),
    $rows, "$rows rows loaded");

my $serial = 'SET max_parallel_workers_per_gather = 0;';
my $parallel = q{
    SET parallel_setup_cost = 0;
    SET parallel_tuple_cost = 0;
    SET min_parallel_table_scan_size = 0;
    SET max_parallel_workers_per_gather = 2;
};

for my $qn (1 .. 3)
{
    # The query vector, as a client would send it: a literal.
    my $qarr = $node->safe_psql('postgres',
        "SELECT ARRAY(SELECT noise(-$qn, j) FROM generate_series(1, $dim) j)");
    (my $q = $qarr) =~ tr/{}/[]/;
    $qarr = "'$qarr'::real[]";
    $q = "'$q'::floatvector";
    my $search = "SELECT id, emb <-> $q AS d FROM t ORDER BY emb <-> $q LIMIT $k";

    my $plan_serial = $node->safe_psql('postgres',
        "$serial EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) $search");
    unlike($plan_serial, qr/Gather/, "query $qn: serial plan has no Gather");

    my $plan = $node->safe_psql('postgres',
        "$parallel EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) $search");
    like($plan, qr/Gather.*Parallel Seq Scan on t/s,
        "query $qn: parallel plan gathers a parallel scan");
    like($plan, qr/Workers Launched: 2/, "query $qn: two workers launched")
      or diag($plan);

    my $got_serial = $node->safe_psql('postgres', "$serial $search");
    my $got_parallel = $node->safe_psql('postgres', "$parallel $search");
    is($got_parallel, $got_serial, "query $qn: parallel ids and distances equal serial");

    # The reference: squared differences of the arrays, summed in float8.
    my $reference = $node->safe_psql(
        'postgres', qq{$serial
        SELECT id, sqrt((SELECT sum((u.a::float8 - u.b::float8) ^ 2)
                         FROM unnest(arr, $qarr) AS u(a, b))) AS d
        FROM t ORDER BY d, id LIMIT $k});

    my @want = map { [ split /\|/ ] } split /\n/, $reference;
    my @got = map { [ split /\|/ ] } split /\n/, $got_serial;
    is(scalar(@got), $k, "query $qn: $k rows");
    is( join(',', map { $_->[0] } @got),
        join(',', map { $_->[0] } @want),
        "query $qn: same ids, in the same order, as the reference");
    my $worst = 0;
    for my $i (0 .. $#want)
    {
        my $err = abs($got[$i][1] - $want[$i][1]) / $want[$i][1];
        $worst = $err if $err > $worst;
    }
    ok($worst < 1e-5, "query $qn: distances within 1e-5 of the reference")
      or diag("worst relative error $worst");
}

$node->stop;
done_testing();
