# Every vector type survives pg_dump/pg_restore, COPY in text and in binary,
# and INSERT statements, bit for bit: this runs the types' in/out and
# send/recv functions against each other.  Exactness is judged on the bytes
# of a binary COPY, which carries the stored floats unrounded.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'milvus'");
$node->start;

my $tmp = PostgreSQL::Test::Utils::tempdir;

# Typmod'ed and unconstrained columns of each type; rows with ordinary
# values, the extremes of each format (largest, smallest subnormal, -0),
# long vectors, and NULLs.
$node->safe_psql(
    'postgres', q{
    CREATE DATABASE src;
});
$node->safe_psql(
    'src', q{
    SELECT setseed(0.25);
    CREATE EXTENSION milvus;
    CREATE TABLE vecs (
        id int PRIMARY KEY,
        f floatvector(4), h float16vector(4), b binaryvector(16), s sparsevector(1000),
        f_any floatvector, h_any float16vector, b_any binaryvector, s_any sparsevector);
    INSERT INTO vecs VALUES
        (1, '[1,2,3,4]', '[1,2,3,4]', '0101101011110000', '{1:1,1000:-2}/1000',
            '[0.1]', '[0.1]', '00000001', '{}/7'),
        (2, '[3.4028235e38,-3.4028235e38,1e-45,-0]', '[65504,-65504,6e-08,-0]',
            '1111111111111111', '{3:1e-45,999:3.4028235e38}/1000',
            '[0.1,0.2,0.30000001,1.17549435e-38]', '[0.33325195,6.1035156e-05,-2.5,1e4]',
            '101010101111000011001100', '{1000000000:-1.5}/1000000000'),
        (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    INSERT INTO vecs (id, f_any, h_any, b_any, s_any)
        SELECT 100 + i, v::floatvector, v::float16vector,
               (SELECT string_agg(CASE WHEN random() < 0.5 THEN '0' ELSE '1' END, '')
                FROM generate_series(1, 1024))::binaryvector,
               v::floatvector::sparsevector
        FROM (SELECT i, '[' || (SELECT string_agg(
                    CASE WHEN random() < 0.3 THEN '0' ELSE (random() * 200 - 100)::real::text END, ',')
                FROM generate_series(1, 768)) || ']' AS v
              FROM generate_series(1, 50) i) g;
});

my $columns_sql = q{
    SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
    FROM pg_attribute WHERE attrelid = 'vecs'::regclass AND attnum > 0};
my $text_sql = q{SELECT string_agg(v::text, E'\n' ORDER BY id) FROM vecs v};

my $columns = $node->safe_psql('src', $columns_sql);
like($columns, qr/f floatvector\(4\), h float16vector\(4\), b binaryvector\(16\), s sparsevector\(1000\)/,
    'typmods are shown');
my $text = $node->safe_psql('src', $text_sql);
is($node->safe_psql('src', 'SELECT count(*) FROM vecs'), 53, 'source rows');

# The binary COPY of db.table, as bytes.
sub binary_copy
{
    my ($db, $table) = @_;
    my $file = "$tmp/$db.$table.bin";
    $node->safe_psql($db, "COPY $table TO '$file' (FORMAT binary)");
    open my $fh, '<:raw', $file or die "could not open $file: $!";
    local $/;
    my $bytes = <$fh>;
    close $fh;
    return $bytes;
}

my $bytes = binary_copy('src', 'vecs');
ok(length($bytes) > 50 * 768 * 4, 'binary COPY holds the data');

# The restored table must read back the same, as text and as bytes.
sub same_as_source
{
    my ($db, $table, $label) = @_;
    is($node->safe_psql($db, $columns_sql =~ s/'vecs'/'$table'/r), $columns,
        "$label: column types");
    is($node->safe_psql($db, $text_sql =~ s/FROM vecs/FROM $table/r), $text,
        "$label: text");
    ok(binary_copy($db, $table) eq $bytes, "$label: binary COPY identical");
}

# pg_dump custom format (data as text COPY) and pg_restore.
$node->command_ok([ 'pg_dump', '-Fc', '-d', 'src', '-f', "$tmp/src.dump" ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'restored', "$tmp/src.dump" ],
    'pg_restore');
same_as_source('restored', 'vecs', 'pg_dump/pg_restore');

# pg_dump as INSERT statements, replayed by psql.
$node->command_ok(
    [ 'pg_dump', '--column-inserts', '-d', 'src', '-f', "$tmp/src.sql" ],
    'pg_dump --column-inserts');
$node->safe_psql('postgres', 'CREATE DATABASE inserted');
$node->command_ok(
    [ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'inserted', '-f', "$tmp/src.sql" ],
    'psql replays the INSERTs');
same_as_source('inserted', 'vecs', 'INSERT statements');

# COPY in binary (send/recv) and in text (out/in) into fresh tables.
$node->safe_psql(
    'restored', qq{
    CREATE TABLE vecs_bin (LIKE vecs);
    COPY vecs_bin FROM '$tmp/src.vecs.bin' (FORMAT binary);
    COPY vecs TO '$tmp/vecs.txt';
    CREATE TABLE vecs_txt (LIKE vecs);
    COPY vecs_txt FROM '$tmp/vecs.txt';
});
same_as_source('restored', 'vecs_bin', 'binary COPY');
same_as_source('restored', 'vecs_txt', 'text COPY');

$node->stop;
done_testing();
