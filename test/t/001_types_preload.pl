# The vector types and their distance operators work the same whether the
# library is loaded on first use or preloaded with shared_preload_libraries,
# and the library really is (or is not) in a fresh backend's address space.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Each distance: the SQL and the value worked out by hand.
my @distances = (
    [ q{'[1,2,3]'::floatvector <-> '[4,6,3]'}, 5 ],
    [ q{'[1,2,3]'::floatvector <#> '[4,6,3]'}, -25 ],
    [ q{'[1,0]'::floatvector <=> '[0,1]'}, 1 ],
    [ q{'[1,2,3]'::floatvector <+> '[4,6,3]'}, 7 ],
    [ q{'[1,2,3]'::float16vector <-> '[4,6,3]'}, 5 ],
    [ q{'[0.5,0.25]'::float16vector <#> '[2,4]'}, -2 ],
    [ q{'{1:3,4:4}/5'::sparsevector <-> '{4:4}/5'}, 3 ],
    [ q{'{1:3,4:4}/5'::sparsevector <#> '{1:2,2:7}/5'}, -6 ],
    [ q{'01011010'::binaryvector <~> '11011011'}, 2 ],
    # bits {1,3,4,6} and {0,1,3,4,6,7}: 1 - 4/6
    [ q{'01011010'::binaryvector <%> '11011011'}, 1 / 3 ],
);

# True when the backend running this query has milvus.so mapped.
my $mapped_sql =
  q{SELECT pg_read_file('/proc/' || pg_backend_pid() || '/maps') ~ '/milvus\.so'};

sub check_distances
{
    my ($node, $label) = @_;
    for my $d (@distances)
    {
        my ($sql, $want) = @$d;
        my $got = $node->safe_psql('postgres', "SELECT $sql");
        ok(abs($got - $want) < 1e-6, "$label: $sql = $want")
          or diag("got $got");
    }

    # The same search through a table, so the operators run in a plan too.
    $node->safe_psql(
        'postgres', q{
        CREATE TABLE items (id int, emb floatvector(3));
        INSERT INTO items VALUES (1, '[1,2,3]'), (2, '[4,5,6]'), (3, '[3,1,2]'),
                                 (4, '[0,0,1]'), (5, '[2.5,1,2]');
    });
    is( $node->safe_psql(
            'postgres',
            q{SELECT string_agg(id::text, ',') FROM
              (SELECT id FROM items ORDER BY emb <-> '[3,1,2]' LIMIT 3) s}),
        '3,5,1',
        "$label: ORDER BY emb <-> ... LIMIT 3");
}

my $have_proc = -r '/proc/self/maps';

# Settings exist once the library is loaded, so a fresh backend sees them
# only when it was preloaded.
my $kernels_sql =
  q{SELECT setting FROM pg_settings WHERE name = 'milvus.distance_kernels'};

# Without preloading: the library arrives with the first call.
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->start;
unlike($plain->safe_psql('postgres', 'SHOW shared_preload_libraries'),
    qr/milvus/, 'plain: not preloaded');
is($plain->safe_psql('postgres', $kernels_sql),
    '', 'plain: no milvus.* setting before the library loads');
$plain->safe_psql('postgres', 'CREATE EXTENSION milvus');
my $kernels = $plain->safe_psql('postgres',
    q{SELECT '[1]'::floatvector <-> '[2]'; } . $kernels_sql);
like($kernels, qr/^1\n\w+$/, 'plain: milvus.distance_kernels after loading');
$kernels =~ s/^1\n//;
SKIP:
{
    skip 'no /proc/<pid>/maps here', 2 unless $have_proc;
    is($plain->safe_psql('postgres', $mapped_sql),
        'f', 'plain: a new backend has not loaded milvus.so');
    is( $plain->safe_psql(
            'postgres',
            q{SELECT '[1]'::floatvector <-> '[2]'; } . $mapped_sql),
        "1\nt",
        'plain: the first call loads milvus.so');
}
check_distances($plain, 'plain');
$plain->stop;

# Preloaded: every backend has the library before it runs anything.
my $pre = PostgreSQL::Test::Cluster->new('preloaded');
$pre->init;
$pre->append_conf('postgresql.conf', "shared_preload_libraries = 'milvus'");
$pre->start;
is($pre->safe_psql('postgres', 'SHOW shared_preload_libraries'),
    'milvus', 'preloaded: shared_preload_libraries');
SKIP:
{
    skip 'no /proc/<pid>/maps here', 1 unless $have_proc;
    is($pre->safe_psql('postgres', $mapped_sql),
        't', 'preloaded: a new backend already has milvus.so');
}
is($pre->safe_psql('postgres', $kernels_sql),
    $kernels, 'preloaded: a new backend has milvus.distance_kernels');
$pre->safe_psql('postgres', 'CREATE EXTENSION milvus');
check_distances($pre, 'preloaded');

# The data and the preloaded library come back after a restart.
$pre->restart;
my $after = $pre->safe_psql('postgres',
    q{SELECT emb <-> '[1,2,3]' FROM items WHERE id = 2});
ok(abs($after - sqrt(27)) < 1e-6, 'preloaded: distance after restart')
  or diag("got $after");
$pre->stop;

done_testing();
