# kill -9 (an immediate stop) after and during inserts (into the growing
# segment, and into the graph), during CREATE INDEX, during VACUUM and
# during a seal of the growing segment and during the truncation after it
# leaves a milvus_hnsw index that verifies clean and finds
# every committed row; an unlogged table's index comes back empty and usable.
# Inserts of vectors larger than a page (chunks first, the element last, in
# separate WAL records) are crashed too, and so are inserts that reuse the
# slots a VACUUM freed.  The build and the vacuums are crashed while held at
# a named step (milvus.debug_pause_at), not at whatever moment a poll sees.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $dim = 16;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
# VACUUM repairs and frees its tombstones itself (held at its pause points),
# not a data coordinator's compaction
$node->append_conf('postgresql.conf',
    "shared_preload_libraries = 'milvus'\nautovacuum = off\nmilvus.data_coordinator = off");
$node->start;

# Element j of row i: a number in [-1, 1) drawn from md5("i,j").
$node->safe_psql(
    'postgres', qq{
    CREATE EXTENSION milvus;
    CREATE FUNCTION vec(i int) RETURNS floatvector LANGUAGE sql IMMUTABLE
        RETURN ARRAY(SELECT (('x' || substr(md5(i || ',' || j), 1, 8))::bit(32)::int / 2147483648.0)::real
                     FROM generate_series(1, $dim) j)::floatvector;
    CREATE FUNCTION widevec(i int) RETURNS floatvector LANGUAGE sql IMMUTABLE
        RETURN ARRAY(SELECT sin(i * 0.37 + j * (0.01 + i % 7 * 0.001))::real
                     FROM generate_series(1, 8000) j)::floatvector;
    -- one row per transaction, as an application inserts
    CREATE PROCEDURE ins(tab text, fn text, a int, b int) LANGUAGE plpgsql AS \$\$
    BEGIN
        FOR i IN a..b LOOP
            EXECUTE format('INSERT INTO %I VALUES (\$1, %I(\$1))', tab, fn) USING i;
            COMMIT;
        END LOOP;
    END \$\$;
    CREATE TABLE t (id int PRIMARY KEY, emb floatvector($dim));
    INSERT INTO t SELECT i, vec(i) FROM generate_series(1, 2000) i;
    CREATE INDEX t_idx ON t USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
    CREATE UNLOGGED TABLE u (id int, emb floatvector($dim));
    CREATE INDEX u_idx ON u USING milvus_hnsw (emb floatvector_l2_ops);
    INSERT INTO u SELECT i, vec(i) FROM generate_series(1, 100) i;
    CREATE TABLE w (id int PRIMARY KEY, emb floatvector(8000));
    INSERT INTO w SELECT i, widevec(i) FROM generate_series(1, 100) i;
    CREATE INDEX w_idx ON w USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
});

sub problems
{
    my ($index, $reachability) = @_;
    return $node->safe_psql('postgres',
        "SELECT string_agg(p, E'\\n') FROM milvus_hnsw_verify('$index', $reachability) p");
}

# The index is sound, and after a VACUUM (which drops the entries of rows
# that never committed) holds exactly the table's rows, all reachable, and a
# search for a sample of rows finds each of them first.
sub check
{
    my ($when, $tab) = @_;
    $tab //= 't';
    is(problems("${tab}_idx", 'false'), '', "$when: index verifies clean");
    $node->safe_psql('postgres', "VACUUM $tab");
    is(problems("${tab}_idx", 'true'), '', "$when: after VACUUM every element is reachable");
    my $rows = $node->safe_psql('postgres', "SELECT count(*) FROM $tab");
    is($node->safe_psql('postgres', "SELECT heap_tids FROM milvus_hnsw_stats('${tab}_idx')"),
        $rows, "$when: the index holds the table's $rows rows");
    is( $node->safe_psql(
            'postgres', qq{
            SET enable_seqscan = off;
            SET milvus.hnsw_ef_search = 100;
            SELECT count(*) FROM $tab a WHERE a.id % 37 = 0
               AND a.id IS DISTINCT FROM (SELECT b.id FROM $tab b ORDER BY b.emb <-> a.emb LIMIT 1)}),
        '0',
        "$when: searches find sampled rows");
}

# Crash after committed inserts.
$node->safe_psql('postgres', "CALL ins('t', 'vec', 2001, 2300)");
$node->stop('immediate');
$node->start;
check('crash after inserts');

# Crash while a session inserts into $tab one row per transaction, from id
# $from on, once more than $enough have committed; check they are there.
# Each session has its own million ids.
my ($out, $err) = ('', '');
my $h;

sub crash_while_inserting
{
    my ($tab, $fn, $from, $enough, $what, $growing) = @_;
    my $mine = "id BETWEEN $from AND $from + 1000000";
    $growing //= 'on';
    $h = IPC::Run::start(
        [
            'psql', '-X', '-d', $node->connstr('postgres'),
            '-c', "SET milvus.hnsw_growing_segment = $growing",
            '-c', "CALL ins('$tab', '$fn', $from, $from + 1000000)"
        ],
        '>', \$out, '2>', \$err);
    $node->poll_query_until('postgres', "SELECT count(*) > $enough FROM $tab WHERE $mine")
      or die 'inserts did not start';
    $node->stop('immediate');
    $h->finish;
    $node->start;
    ok($node->safe_psql('postgres', "SELECT count(*) FROM $tab WHERE $mine") > $enough,
        "$what: rows committed before the crash are there");
}

# Into t, and into w, whose vectors go on in chunks.
for my $spec ([ 't', 'vec', 300 ], [ 'w', 'widevec', 60 ])
{
    my ($tab, $fn, $enough) = @$spec;
    crash_while_inserting($tab, $fn, 3001, $enough, $tab);
    check("$tab: crash during inserts", $tab);
}

# A backend at a point named in milvus.debug_pause_at waits while a session
# holds the point's advisory lock (doc/indexes.md, settings for testing).
my $pause_key = 1835625590;
my %pause_point = (
    hnsw_build_write => 2,
    hnsw_vacuum_repair => 3,
    hnsw_vacuum_free => 4,
    hnsw_seal_link => 5,
    hnsw_seal_release => 6,
    hnsw_truncate => 7);

# Run $sql in the background with a backend held at $point; returns once it
# waits there, with the session holding the lock.
sub start_held
{
    my ($point, $sql) = @_;
    my $holder = $node->background_psql('postgres');
    $holder->query_safe("SELECT pg_advisory_lock($pause_key, $pause_point{$point})");
    $h = IPC::Run::start(
        [
            'psql', '-X', '-d', $node->connstr('postgres'),
            '-c', "SET milvus.debug_pause_at = $point", '-c', $sql
        ],
        '>', \$out, '2>', \$err);
    my $waiting = qq{
        SELECT count(*) = 1 FROM pg_locks
        WHERE locktype = 'advisory' AND classid = $pause_key AND objid = $pause_point{$point}
          AND objsubid = 2 AND NOT granted};
    for (my $i = 0; $node->safe_psql('postgres', $waiting) ne 't'; $i++)
    {
        $h->pump_nb;
        die "$sql ended or took too long without waiting at $point: $err"
          if !$h->pumpable || $i > 10 * $PostgreSQL::Test::Utils::timeout_default;
        usleep(100_000);
    }
    return $holder;
}

# Stop the server at once, then start it again.
sub crash
{
    my ($holder) = @_;
    $node->stop('immediate');
    $h->finish;
    $holder->quit;
    $node->start;
}

# Crash during CREATE INDEX, held with its graph in memory before its pages
# are written: the index was never committed, and building it again works.
$node->safe_psql('postgres',
    "CREATE TABLE big AS SELECT i AS id, vec(i)::floatvector($dim) AS emb FROM generate_series(1, 2000) i");
my $holder = start_held('hnsw_build_write',
    'CREATE INDEX big_idx ON big USING milvus_hnsw (emb floatvector_cosine_ops)');
is( $node->safe_psql(
        'postgres', q{
        SELECT phase || ' ' || tuples_total FROM pg_stat_progress_create_index
        WHERE relid = 'big'::regclass}),
    'building index: writing graph pages 2000',
    'CREATE INDEX waits with its 2000 elements in memory');
crash($holder);
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'big_idx'"),
    '0', 'crash during CREATE INDEX: no index left');
$node->safe_psql('postgres',
    'CREATE INDEX big_idx ON big USING milvus_hnsw (emb floatvector_cosine_ops)');
is(problems('big_idx', 'true'), '', 'built again, it verifies clean');

# Crash during VACUUM, held after it has tombstoned the deleted rows'
# elements and before it repairs the links to them, then held after the
# repair and before it frees them; each time the next VACUUM finishes the
# job.  A committed insert flushes the WAL that VACUUM wrote so far (a
# commit that wrote no WAL would not), so what it did before the crash is
# what recovery finds.
$node->safe_psql('postgres', 'CREATE TABLE wal_flush (x int)');
for my $round ([ 'hnsw_vacuum_repair', 'id % 3 = 0' ], [ 'hnsw_vacuum_free', 'id % 7 = 1' ])
{
    my ($point, $deleted) = @$round;
    $node->safe_psql('postgres', "DELETE FROM t WHERE $deleted");
    $holder = start_held($point, 'VACUUM t');
    is($node->safe_psql('postgres', "SELECT phase FROM pg_stat_progress_vacuum WHERE relid = 't'::regclass"),
        'vacuuming indexes', "$point: VACUUM waits in phase vacuuming indexes");
    $node->safe_psql('postgres', 'INSERT INTO wal_flush VALUES (1)');
    crash($holder);
    ok( $node->safe_psql('postgres', "SELECT tombstones > free_slots FROM milvus_hnsw_stats('t_idx')")
          eq 't',
        "$point: the crash came after VACUUM had tombstoned elements and before it freed them");
    check("crash during VACUUM at $point");
}

# An index scan that reads on to the end meets every row of the table and
# returns none twice.  It may skip a row it finds after a farther one (that
# would break the ORDER BY; doc/indexes.md, "Querying"), and then says how
# many it skipped in a NOTICE: returned plus skipped is every row.  (Asking
# for all rows back failed in about half the runs, on rows that were in the
# graph and reachable.)
sub scan_meets_every_row
{
    my ($what) = @_;
    my ($ret, $out, $err) = $node->psql(
        'postgres', qq{
        SET enable_seqscan = off;
        SET milvus.hnsw_ef_search = 1000;
        SELECT count(*) || ' ' || count(DISTINCT id)
        FROM (SELECT id FROM t ORDER BY emb <-> vec(7) LIMIT 100000) s});
    is($ret, 0, "$what: the scan succeeds") or diag($err);
    my ($returned, $distinct) = split / /, $out;
    my $skipped = $err =~ /skipped (\d+) rows found after farther rows/ ? $1 : 0;
    is($returned + $skipped, $node->safe_psql('postgres', 'SELECT count(*) FROM t'),
        "$what: an index scan meets every row (returned $returned, skipped for order $skipped)");
    is($distinct, $returned, "$what: and returns none twice");
}

# Crash during a seal of the growing segment (VACUUM seals it), held after
# it has linked its first row into the graph and before the rest, then held
# after linking them all and before it empties their last growing pages
# (3,200 rows: about 40 pages, so it has handed 32 of them to the free list
# already): no row is lost or found twice, and the next seal finishes the job.
# (ids above every range the insert sessions that crash may reach)
# The same three times: a seal linking rows one at a time on disk held after
# its first row, a seal in memory (milvus.hnsw_seal_in_memory; 3,200 rows,
# more than the 32 pages below which a seal links rows one at a time) held
# after it wrote its first row's element and flagged no row yet, and a seal
# in memory held before it empties its last pages.
for my $round (
    [ 'hnsw_seal_link',    'off', 5000001, 5000400 ],
    [ 'hnsw_seal_link',    'on',  5003601, 5006800 ],
    [ 'hnsw_seal_release', 'on',  5000401, 5003600 ])
{
    my ($point, $mem, $from, $to) = @$round;
    $node->safe_psql('postgres',
        "ALTER SYSTEM SET milvus.hnsw_seal_in_memory = $mem; SELECT pg_reload_conf()");
    $node->safe_psql('postgres', "CALL ins('t', 'vec', $from, $to)");
    my $before = $node->safe_psql('postgres', "SELECT heap_tids FROM milvus_hnsw_stats('t_idx')");
    $holder = start_held($point, 'VACUUM t');
    $node->safe_psql('postgres', 'INSERT INTO wal_flush VALUES (1)');
    crash($holder);
    my $after = $node->safe_psql('postgres', "SELECT heap_tids FROM milvus_hnsw_stats('t_idx')");
    if ($point eq 'hnsw_seal_link')
    {
        ok($after > $before && $after < $before + $to - $from + 1,
            "$point, in memory $mem: the crash came after the seal linked a row and before it linked all ($before, $after)");
    }
    else
    {
        is($after, $before + $to - $from + 1,
            "$point: the crash came after the seal linked all " . ($to - $from + 1) . " rows");
    }
    scan_meets_every_row("$point, in memory $mem");
    my $log_offset = -s $node->logfile;
    check("crash during a seal at $point, in memory $mem");
    # the seal in memory had written one row's element and flagged none: the
    # next one (check's VACUUM) makes that element a tombstone and links the
    # row afresh
    ok($node->log_contains(qr/1 elements of rows a seal left unflagged are tombstones now/, $log_offset),
        "$point: the next seal made the stopped seal's element a tombstone")
      if $point eq 'hnsw_seal_link' && $mem eq 'on';
}
$node->safe_psql('postgres', 'ALTER SYSTEM RESET milvus.hnsw_seal_in_memory; SELECT pg_reload_conf()');

# Crash in a seal in memory of an index whose graph is empty (every row went
# to its growing segment), held after it placed its first element: that
# element carries the entry point in its own record, so the index verifies
# clean after the crash (before, it had live elements and no entry point).
# The next seal makes that element a tombstone, its row being still growing;
# the tombstone was the entry point and no element is live, so the first row
# linked becomes the entry point and every row is reachable and found (before,
# the tombstone stayed the entry point and the rows got no links; check's
# VACUUM repairs such an entry point, so reachability is checked before it).
$node->safe_psql(
    'postgres', qq{
    CREATE TABLE e (id int PRIMARY KEY, emb floatvector($dim));
    CREATE INDEX e_idx ON e USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
    INSERT INTO e SELECT i, vec(i) FROM generate_series(1, 3200) i;
});
$holder = start_held('hnsw_seal_link', "SELECT milvus.seal('e_idx')");
$node->safe_psql('postgres', 'INSERT INTO wal_flush VALUES (1)');
crash($holder);
is(problems('e_idx', 'false'), '',
    'empty graph, crash after a seal in memory placed its first element: index verifies clean');
my $empty_log = -s $node->logfile;
is($node->safe_psql('postgres', "SELECT milvus.seal('e_idx')"),
    '3200', 'empty graph: the next seal links every row');
ok($node->log_contains(qr/1 elements of rows a seal left unflagged are tombstones now/, $empty_log),
    'empty graph: the stopped seal\'s element, the entry point, is a tombstone now');
is(problems('e_idx', 'true'), '', 'empty graph: every element is reachable after the next seal');
check('empty graph, crash in a seal in memory', 'e');

# Crash during a seal by milvus.seal() with two parallel workers, once the
# participants have linked a few hundred of its 12,000 rows (there is no pause
# point: a seal held at one runs serially): no row is lost or found twice, and
# the next seal finishes the job.
$node->safe_psql('postgres',
    'INSERT INTO t SELECT i, vec(i) FROM generate_series(6000001, 6012000) i');
my $before_par = $node->safe_psql('postgres', "SELECT heap_tids FROM milvus_hnsw_stats('t_idx')");
$h = IPC::Run::start(
    [
        'psql', '-X', '-d', $node->connstr('postgres'),
        '-c', 'SET max_parallel_maintenance_workers = 2',
        '-c', 'SET milvus.hnsw_seal_in_memory = off',
        '-c', "SELECT milvus.seal('t_idx')"
    ],
    '>', \$out, '2>', \$err);
$node->poll_query_until(
    'postgres', qq{
    SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'parallel worker') > 0
       AND (SELECT heap_tids FROM milvus_hnsw_stats('t_idx')) > $before_par + 300})
  or die 'the parallel seal did not start';
$node->safe_psql('postgres', 'INSERT INTO wal_flush VALUES (1)');
$node->stop('immediate');
$h->finish;
$node->start;
my $after_par = $node->safe_psql('postgres', "SELECT heap_tids FROM milvus_hnsw_stats('t_idx')");
ok($after_par > $before_par && $after_par < $before_par + 12000,
    "the crash came in the middle of the parallel seal ($before_par, $after_par)");
# (a row whose element was written but not yet flagged sealed is linked
# again and joins its element: at most one per participant, three here)
my $relinked = $node->safe_psql('postgres', "SELECT milvus.seal('t_idx') + $after_par - $before_par - 12000");
ok($relinked >= 0 && $relinked <= 3, "the next seal links the rest ($relinked linked twice)");
# check() as above, but a row linked twice may have two elements, of which
# scans return one and which stay until the row is deleted: at most three
scan_meets_every_row('crash during a parallel seal');
is(problems('t_idx', 'false'), '', 'crash during a parallel seal: index verifies clean');
$node->safe_psql('postgres', 'VACUUM t');
is(problems('t_idx', 'true'), '',
    'crash during a parallel seal: after VACUUM every element is reachable');
my $doubled = $node->safe_psql('postgres',
    "SELECT heap_tids - (SELECT count(*) FROM t) FROM milvus_hnsw_stats('t_idx')");
ok($doubled >= 0 && $doubled <= 3,
    "crash during a parallel seal: the index holds every row, $doubled of them twice");
is( $node->safe_psql(
        'postgres', q{
        SET enable_seqscan = off;
        SET milvus.hnsw_ef_search = 100;
        SELECT count(*) FROM t a WHERE a.id % 37 = 0
           AND a.id IS DISTINCT FROM (SELECT b.id FROM t b ORDER BY b.emb <-> a.emb LIMIT 1)}),
    '0',
    'crash during a parallel seal: searches find sampled rows');
# deleted, a row's two elements both go
$node->safe_psql('postgres', 'DELETE FROM t WHERE id BETWEEN 6000001 AND 6012000');
$node->safe_psql('postgres', 'VACUUM t');
is( $node->safe_psql('postgres',
        "SELECT heap_tids = (SELECT count(*) FROM t) FROM milvus_hnsw_stats('t_idx')"),
    't', 'crash during a parallel seal: its rows deleted, no element is left twice');

# Crash while a session inserts into the slots that VACUUM just freed (the
# seal above took the free slots there were: free 400 more).
$node->safe_psql('postgres', 'DELETE FROM t WHERE id BETWEEN 5000401 AND 5000800');
$node->safe_psql('postgres', 'VACUUM t');
my $reused = $node->safe_psql('postgres', "SELECT reused FROM milvus_hnsw_stats('t_idx')");
ok($node->safe_psql('postgres', "SELECT free_slots > 300 FROM milvus_hnsw_stats('t_idx')") eq 't',
    'VACUUM left free slots');
# (straight into the graph: the growing segment would only reuse them at its seal)
crash_while_inserting('t', 'vec', 2000001, 200, 'reuse', 'off');
cmp_ok($node->safe_psql('postgres', "SELECT reused FROM milvus_hnsw_stats('t_idx')"), '>', $reused + 200,
    "reuse: the inserts took free slots ($reused before)");
check('crash during inserts that reuse slots');

# Crash during a truncation (hnswtruncate.c), held after it has linked the
# free list past the pages at the end of the index and before it cuts them
# off: those pages are then on no list, which verify accepts (the metapage
# recorded the cut), and the next truncation puts them back on the free list,
# even once other pages follow them.  New rows take the free slots of deleted
# ones, so the growing pages they came from are left free at the end.
# Table $tab of $n rows with an index whose graph has a free slot for every
# other row: right after the VACUUM it has no free page, so the growing pages
# of the rows inserted next extend it and lie at its end.
sub table_with_free_slots
{
    my ($tab, $n) = @_;
    $node->safe_psql(
        'postgres', qq{
        CREATE TABLE $tab (id int PRIMARY KEY, emb floatvector($dim));
        INSERT INTO $tab SELECT i, vec(i) FROM generate_series(1, $n) i;
        CREATE INDEX ${tab}_idx ON $tab USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
        DELETE FROM $tab WHERE id % 2 = 0;
        VACUUM $tab;});
}
table_with_free_slots('tr', 4000);
$node->safe_psql('postgres',
    'INSERT INTO tr SELECT i, vec(i) FROM generate_series(4001, 5600) i; '
      . 'DELETE FROM tr WHERE id BETWEEN 4001 AND 4400;');
$holder = start_held('hnsw_truncate', "SELECT milvus.seal('tr_idx')");
$node->safe_psql('postgres', 'INSERT INTO wal_flush VALUES (1)');
crash($holder);
is(problems('tr_idx', 'false'), '', 'crash during a truncation: index verifies clean');
is($node->safe_psql('postgres', "SELECT growing_rows FROM milvus.segments WHERE index_name = 'tr_idx'::regclass"),
    '0', 'crash during a truncation: the seal had linked every row');
# (milvus.seal() drops rows whose heap tuples pruning found dead, as a
# VACUUM's seal does: the 400 deleted while growing never went into the graph)
is( $node->safe_psql('postgres',
        "SELECT heap_tids - (SELECT count(*) FROM tr) FROM milvus_hnsw_stats('tr_idx')"),
    '0', 'crash during a truncation: the seal linked no row deleted before it');
# rows inserted before the next truncation take a new tail past the pages the
# cut left on no list (the free list keeps its last pages for graph pages):
# verify still accepts them (the metapage recorded the cut), and the next
# truncation, in the VACUUM of check(), puts them back on the free list
$node->safe_psql('postgres', 'INSERT INTO tr SELECT i, vec(i) FROM generate_series(5601, 5700) i');
is(problems('tr_idx', 'false'), '',
    'crash during a truncation: with a new tail past the unlisted pages, the index verifies clean');
# and graph pages past them too (more rows than free slots), so that they
# no longer lie at the end
$node->safe_psql('postgres',
    'SET milvus.hnsw_growing_segment = off; INSERT INTO tr SELECT i, vec(i) FROM generate_series(5701, 7300) i');
check('crash during a truncation', 'tr');
# they are free pages again: new growing rows take them, the index does not grow
my $listed_size = $node->safe_psql('postgres', "SELECT pg_relation_size('tr_idx')");
$node->safe_psql('postgres', 'INSERT INTO tr SELECT i, vec(i) FROM generate_series(7301, 8000) i');
is($node->safe_psql('postgres', "SELECT pg_relation_size('tr_idx')"), $listed_size,
    'crash during a truncation: new rows take the pages the cut had left on no list');
is(problems('tr_idx', 'false'), '', 'crash during a truncation: and the index verifies clean');

# A truncation whose transaction then fails: a session that last appended to
# a page it cut off appends again without error, since what sessions know of
# the tail goes with the truncation's smgr invalidation, sent at once, not
# with the transaction's end.
my $appender = $node->background_psql('postgres');
table_with_free_slots('tz', 2000);
# (its first insert warns that no data coordinator runs)
$appender->query('INSERT INTO tz SELECT i, vec(i) FROM generate_series(2001, 2600) i');
unlike($appender->{stderr}, qr/ERROR/, 'a session appends 600 rows to new pages at the end');
my ($aret, $aout, $aerr) = $node->psql('postgres',
    "SET client_min_messages = debug1; "
      . "DO \$\$ BEGIN PERFORM milvus.seal('tz_idx'); RAISE EXCEPTION 'after the seal'; END \$\$");
like($aerr, qr/free pages at its end given back.*after the seal/s,
    'a truncation in a transaction that fails after it');
$appender->query('INSERT INTO tz VALUES (2601, vec(2601))');
unlike($appender->{stderr}, qr/ERROR/, 'the session that appended to a page cut off appends again');
$appender->quit;
is($node->safe_psql('postgres', 'SET enable_seqscan = off; SELECT id FROM tz ORDER BY emb <-> vec(2601) LIMIT 1'),
    '2601', 'and its row is found');
is(problems('tz_idx', 'false'), '', 'after a truncation whose transaction failed, the index verifies clean');
check('a truncation whose transaction failed', 'tz');

# The unlogged table comes back empty, its index an empty graph that works.
is($node->safe_psql('postgres', 'SELECT count(*) FROM u'), '0', 'unlogged table is empty');
is($node->safe_psql('postgres', "SELECT elements FROM milvus_hnsw_stats('u_idx')"),
    '0', 'and so is its index');
$node->safe_psql('postgres', 'INSERT INTO u SELECT i, vec(i) FROM generate_series(1, 50) i');
is(problems('u_idx', 'false'), '', 'unlogged index takes rows again');
is( $node->safe_psql(
        'postgres',
        'SET enable_seqscan = off; SELECT id FROM u ORDER BY emb <-> vec(7) LIMIT 1'),
    '7',
    'and finds them');

$node->stop;
done_testing();
