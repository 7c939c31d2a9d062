--
-- The largest vectors each type accepts, and their storage round trip:
-- 32,768 dense dimensions, 262,144 bits, sparse dimension 1,000,000,000
-- with at most 1,000,000 non-zero elements.  One past each limit is in
-- errors.sql.
--

CREATE TEMP TABLE big_data AS
SELECT test_reals(32768, 0.11) AS r, test_halves(32768, 0.12) AS h, test_bits(262144, 0.13) AS b;

-- text input at the limit
SELECT vector_dims(('[' || array_to_string(r, ',') || ']')::floatvector) AS fv,
       vector_dims(('[' || array_to_string(h, ',') || ']')::float16vector) AS hv,
       vector_dims(b::binaryvector) AS bv,
       vector_dims('{1:1,1000000000:2}/1000000000'::sparsevector) AS sv
FROM big_data;
-- and the elements are the ones given
SELECT ('[' || array_to_string(r, ',') || ']')::floatvector::real[] = r AS fv_elements,
       ('[' || array_to_string(h, ',') || ']')::float16vector::real[] = h AS hv_elements,
       b::binaryvector::text = b AS bv_bits
FROM big_data;

-- a table of the largest vectors, typmod at the limit
CREATE TABLE big_vectors (id int, fv floatvector(32768), hv float16vector(32768),
                          bv binaryvector(262144), sv sparsevector(1000000000));
SELECT attname, format_type(atttypid, atttypmod), attstorage
FROM pg_attribute WHERE attrelid = 'big_vectors'::regclass AND attnum > 1 ORDER BY attnum;
INSERT INTO big_vectors
SELECT 1, r::floatvector, h::float16vector, b::binaryvector,
       ('{' || (SELECT string_agg(i * 10000 || ':' || r[i], ',' ORDER BY i)
                FROM generate_series(1, 32768, 7) i) || '}/1000000000')::sparsevector
FROM big_data;
-- a second row: the same vectors through text
INSERT INTO big_vectors SELECT 2, fv::text::floatvector, hv::text::float16vector,
                               bv::text::binaryvector, sv::text::sparsevector
FROM big_vectors WHERE id = 1;

-- a third row of zeros, which would compress to almost nothing
INSERT INTO big_vectors
SELECT 3, array_fill(0, ARRAY[32768])::real[], array_fill(0, ARRAY[32768])::real[],
       repeat('0', 262144)::binaryvector,
       ('{' || (SELECT string_agg(i * 10000 || ':1', ',' ORDER BY i)
                FROM generate_series(1, 32768, 7) i) || '}/1000000000')::sparsevector;

-- stored out of line and never compressed (STORAGE external): the size of
-- an out-of-line value counts everything but its 4-byte length word
SELECT id, pg_column_size(fv) AS fv_bytes, pg_column_size(hv) AS hv_bytes,
       pg_column_size(bv) AS bv_bytes, pg_column_size(sv) AS sv_bytes
FROM big_vectors ORDER BY id;
SELECT 4 + 4 * 32768 AS fv_expected, 4 + 2 * 32768 AS hv_expected, 4 + 262144 / 8 AS bv_expected,
       12 + 8 * count(*) AS sv_expected
FROM generate_series(1, 32768, 7);
DELETE FROM big_vectors WHERE id = 3;

-- read back unchanged
SELECT b.id, b.fv::real[] = d.r AS fv, b.hv::real[] = d.h AS hv, b.bv::text = d.b AS bv,
       nnz(b.sv) AS sv_nnz, vector_dims(b.fv) AS fv_dims, vector_dims(b.bv) AS bv_dims
FROM big_vectors b, big_data d ORDER BY b.id;
SELECT count(DISTINCT fv) AS fv, count(DISTINCT hv) AS hv, count(DISTINCT bv) AS bv,
       count(DISTINCT sv) AS sv
FROM big_vectors;
-- functions work on the stored (toasted) values
SELECT a.fv <-> b.fv AS l2, a.hv <+> b.hv AS l1, a.bv <~> b.bv AS hamming, a.sv <-> b.sv AS sparse_l2,
       within(vector_norm(a.fv), ref_norm(d.r::float8[]), 1e-12, ref_norm(d.r::float8[])) AS norm
FROM big_vectors a, big_vectors b, big_data d WHERE a.id = 1 AND b.id = 2;
SELECT vector_dims(subvector(fv, 32768, 10)) AS last, vector_dims(fv::sparsevector::floatvector) AS dense_again,
       vector_dims(binary_quantize(fv)) AS quantized_bits, vector_dims(fv::float16vector) AS halved
FROM big_vectors WHERE id = 1;
-- and the largest vector is also the largest concatenation and the largest average
SELECT vector_dims(avg(fv)) AS avg_dims, avg(fv) = (SELECT fv FROM big_vectors WHERE id = 1) AS avg_same,
       vector_dims(sum(hv)) AS sum_dims
FROM big_vectors;
DROP TABLE big_vectors;

-- sparse: the most non-zero elements there may be, and one more; an
-- explicit zero does not count
SELECT nnz(('{' || string_agg(i || ':' || CASE WHEN i = 500000 THEN 0 ELSE 1 END, ',')
            || '}/1000000000')::sparsevector) AS nnz_1000000
FROM generate_series(1, 1000001) i;
SELECT sqlstate_of('SELECT ''{' || string_agg(i || ':1', ',') || '}/1000000000''::sparsevector') AS nnz_1000001
FROM generate_series(1, 1000001) i;
