--
-- Binary send and receive.
--
-- The send functions are plain SQL functions, so their bytes are checked
-- against the documented formats directly.  The receive functions take an
-- internal argument and run only under binary COPY (or a binary bind), so:
--  * valid values make a round trip through psql's \copy in binary format;
--  * hand-made fields are written with \copy of a bytea (its binary form is
--    the raw bytes) and read back by a server-side COPY FROM of that file,
--    inside sqlstate_of(), to see every error with its SQLSTATE.  Like the
--    core regression tests, this needs the server to read files in this
--    test's results directory.
--

-- the formats, network byte order:
--   floatvector    int32 dim, dim float4
--   float16vector  int32 dim, dim uint16 binary16 bit patterns
--   binaryvector   int32 dim (bits), dim / 8 bytes
--   sparsevector   int32 dim, int32 nnz, nnz int32 0-based indices, nnz float4
SELECT floatvector_send('[1,-2]') AS fv,
       floatvector_send('[-0,1e-45,3.4028235e38,0.1]') AS fv_edges;
SELECT float16vector_send('[1,-2]') AS hv,
       float16vector_send('[65504,5.9604645e-08,-0,0.1]') AS hv_edges;
SELECT binaryvector_send('0101101011111111') AS bv,
       binaryvector_send('10000000') AS bv_one;
SELECT sparsevector_send('{2:0.5,5:-1}/6') AS sv,
       sparsevector_send('{}/1000000000') AS sv_empty;

--
-- Round trip of valid values through binary COPY
--
CREATE TEMP TABLE io_src (id int, fv floatvector, hv float16vector, bv binaryvector, sv sparsevector);
INSERT INTO io_src VALUES
    (1, '[-0,1e-45,3.4028235e38,-1.1754944e-38,0.1]', '[65504,5.9604645e-08,-0,0.1,-65504]',
        '0101101011111111', '{2:0.5,5:-1}/6'),
    (2, '[1]', '[1]', '00000000', '{}/1'),
    (3, NULL, NULL, NULL, NULL),
    (4, '[1,2,3]', '[1,2,3]', '11111111', '{1000000000:3.5}/1000000000');
INSERT INTO io_src
SELECT 4 + n, test_reals(n, 0.31)::floatvector, test_halves(n, 0.32)::float16vector,
       test_bits(8 * n, 0.33)::binaryvector, test_sparse_reals(n, 0.34)::floatvector::sparsevector
FROM unnest(ARRAY[7, 17, 1536, 32768]) n;
INSERT INTO io_src (id, bv) VALUES (9, repeat('10', 131072)::binaryvector);

\copy io_src TO 'results/binary_io_round_trip.bin' (FORMAT binary)
CREATE TEMP TABLE io_dst (LIKE io_src);
\copy io_dst FROM 'results/binary_io_round_trip.bin' (FORMAT binary)
-- identical, down to the text of every element (which tells -0 from 0)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE s.fv::text IS NOT DISTINCT FROM d.fv::text
                          AND s.hv::text IS NOT DISTINCT FROM d.hv::text
                          AND s.bv::text IS NOT DISTINCT FROM d.bv::text
                          AND s.sv::text IS NOT DISTINCT FROM d.sv::text) AS identical
FROM io_src s FULL JOIN io_dst d USING (id);
SELECT * FROM io_dst WHERE id <= 4 ORDER BY id;
-- into columns with a matching typmod
CREATE TEMP TABLE io_typmod (id int, fv floatvector(3), hv float16vector(3), bv binaryvector(8),
                             sv sparsevector(1000000000));
\copy (SELECT * FROM io_src WHERE id IN (3, 4)) TO 'results/binary_io_round_trip.bin' (FORMAT binary)
\copy io_typmod FROM 'results/binary_io_round_trip.bin' (FORMAT binary)
SELECT * FROM io_typmod ORDER BY id;

--
-- Hand-made fields
--
\getenv abs_builddir PG_ABS_BUILDDIR
\set crafted :abs_builddir '/results/binary_io_crafted.bin'
SELECT set_config('regress.crafted_file', :'crafted', false) <> '' AS crafted_file_set;
-- read the crafted file into a table; 'ok' or the error
CREATE FUNCTION recv_crafted(target text) RETURNS text LANGUAGE sql AS $$
    SELECT sqlstate_of(format('COPY %I FROM %L (FORMAT binary)',
                              target, current_setting('regress.crafted_file')))
$$;

-- the same with the error's DETAIL
CREATE FUNCTION recv_crafted_detail(target text) RETURNS text LANGUAGE sql AS $$
    SELECT sqlstate_detail_of(format('COPY %I FROM %L (FORMAT binary)',
                                     target, current_setting('regress.crafted_file')))
$$;

CREATE TEMP TABLE recv_fv (v floatvector);
CREATE TEMP TABLE recv_fv3 (v floatvector(3));
CREATE TEMP TABLE recv_hv (v float16vector);
CREATE TEMP TABLE recv_hv3 (v float16vector(3));
CREATE TEMP TABLE recv_bv (v binaryvector);
CREATE TEMP TABLE recv_bv16 (v binaryvector(16));
CREATE TEMP TABLE recv_sv (v sparsevector);
CREATE TEMP TABLE recv_sv5 (v sparsevector(5));

-- floatvector
\copy (SELECT '\x00000002 3f800000 c0000000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS valid_1_minus_2;
\copy (SELECT '\x00000003 80000000 00000001 7f7fffff'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS valid_edges;
SELECT recv_crafted('recv_fv3') AS valid_into_typmod_3;
\copy (SELECT '\x00000000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS dim_0;
\copy (SELECT '\xffffffff 3f800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS dim_minus_1;
\copy (SELECT '\x00008001'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS dim_32769;
\copy (SELECT '\x7fffffff'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS dim_int32_max;
\copy (SELECT '\x00000002 3f800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS one_element_short;
\copy (SELECT '\x00000001 3f800000 00'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS one_byte_too_many;
-- a value that ends inside its 4-byte dimension is malformed (22P03), as one
-- that ends inside its elements, not a protocol violation (08P01)
\copy (SELECT '\x000000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS no_whole_dim;
SELECT recv_crafted_detail('recv_fv') AS no_whole_dim;
\copy (SELECT ''::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS empty;
\copy (SELECT '\x00000001 7fc00000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS nan;
\copy (SELECT '\x00000002 3f800000 7f800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS infinity;
\copy (SELECT '\x00000001 ff800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv') AS minus_infinity;
\copy (SELECT '\x00000002 3f800000 40000000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_fv3') AS typmod_mismatch;
SELECT v FROM recv_fv;
SELECT v FROM recv_fv3;

-- float16vector
\copy (SELECT '\x00000003 3c00 c000 0001'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv') AS valid_1_minus_2_subnormal;
SELECT recv_crafted('recv_hv3') AS valid_into_typmod_3;
\copy (SELECT '\x00000002 7bff 8000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv') AS valid_max_minus_0;
\copy (SELECT '\x00000000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv') AS dim_0;
\copy (SELECT '\x00008001'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv') AS dim_32769;
\copy (SELECT '\x00000002 3c00'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv') AS one_element_short;
\copy (SELECT '\x00000001 3c00 00'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv') AS one_byte_too_many;
\copy (SELECT '\x000000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv') AS no_whole_dim;
\copy (SELECT ''::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv') AS empty;
\copy (SELECT '\x00000001 7c00'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv') AS infinity;
\copy (SELECT '\x00000001 fc00'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv') AS minus_infinity;
\copy (SELECT '\x00000001 7e00'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv') AS nan;
\copy (SELECT '\x00000001 fc01'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv') AS negative_nan;
\copy (SELECT '\x00000002 3c00 3c00'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_hv3') AS typmod_mismatch;
SELECT v FROM recv_hv;
SELECT v FROM recv_hv3;

-- binaryvector
\copy (SELECT '\x00000010 5aff'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_bv') AS valid_16_bits;
SELECT recv_crafted('recv_bv16') AS valid_into_typmod_16;
\copy (SELECT '\x00000000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_bv') AS dim_0;
\copy (SELECT '\xfffffff8'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_bv') AS dim_minus_8;
\copy (SELECT '\x00000007 5a'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_bv') AS dim_7;
\copy (SELECT '\x00040008'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_bv') AS dim_262152;
\copy (SELECT '\x00000010 5a'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_bv') AS one_byte_short;
\copy (SELECT '\x00000008 5a ff'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_bv') AS one_byte_too_many;
\copy (SELECT '\x000010'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_bv') AS no_whole_dim;
\copy (SELECT ''::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_bv') AS empty;
\copy (SELECT '\x00000008 5a'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_bv16') AS typmod_mismatch;
SELECT v FROM recv_bv;
SELECT v FROM recv_bv16;

-- sparsevector
\copy (SELECT '\x00000006 00000002 00000001 00000004 3f000000 bf800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS valid_2_entries;
\copy (SELECT '\x00000005 00000000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS valid_empty;
SELECT recv_crafted('recv_sv5') AS valid_into_typmod_5;
\copy (SELECT '\x00000005 00000003 00000000 00000002 00000003 00000000 40000000 80000000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS zeros_dropped;
SELECT recv_crafted('recv_sv5') AS zeros_dropped_into_typmod_5;
\copy (SELECT '\x3b9aca00 00000001 3b9ac9ff 3f800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS valid_largest_dim;
\copy (SELECT '\x00000000 00000000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS dim_0;
\copy (SELECT '\x3b9aca01 00000000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS dim_1000000001;
\copy (SELECT '\x00000005 ffffffff'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS nnz_minus_1;
\copy (SELECT '\x00000001 00000002 00000000 00000001 3f800000 3f800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS nnz_above_dim;
\copy (SELECT '\x00000005 00000001 00000005 3f800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS index_equals_dim;
\copy (SELECT '\x00000005 00000001 ffffffff 3f800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS index_minus_1;
\copy (SELECT '\x00000005 00000002 00000001 00000001 3f800000 3f800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS duplicate_index;
\copy (SELECT '\x00000005 00000002 00000003 00000001 3f800000 3f800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS unsorted_indices;
\copy (SELECT '\x00000005 00000001 00000000 7fc00000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS nan;
\copy (SELECT '\x00000005 00000001 00000000 7f800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS infinity;
\copy (SELECT '\x00000005 00000002 00000000 00000001 3f800000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS one_value_short;
SELECT recv_crafted_detail('recv_sv') AS one_value_short;
\copy (SELECT '\x000005'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS no_whole_dim;
\copy (SELECT '\x00000005 0000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS no_whole_nnz;
SELECT recv_crafted_detail('recv_sv') AS no_whole_nnz;
\copy (SELECT '\x00000005'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS no_nnz;
\copy (SELECT ''::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS empty;
\copy (SELECT '\x00000005 00000000 00'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv') AS one_byte_too_many;
\copy (SELECT '\x00000006 00000000'::bytea) TO 'results/binary_io_crafted.bin' (FORMAT binary)
SELECT recv_crafted('recv_sv5') AS typmod_mismatch;
SELECT v, nnz(v) FROM recv_sv;
SELECT v FROM recv_sv5;
-- what was received compares and sends like what was typed
SELECT v = '{3:2}/5' AS equal, sparsevector_send(v) = sparsevector_send('{3:2}/5') AS same_bytes
FROM recv_sv WHERE nnz(v) = 1 AND vector_dims(v) = 5;
