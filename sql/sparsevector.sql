--
-- sparsevector: '{i:v, ...}/dim', 1-based strictly increasing indices
--

SELECT '{1:0.5,7:1.5}/1000'::sparsevector;
SELECT ' { 1 : 0.5 , 7 : -1.5 } / 10 '::sparsevector;
SELECT '{}/5'::sparsevector AS empty, '{ }/1'::sparsevector AS empty_dim_1;
SELECT '{5:1}/5'::sparsevector AS last_index, '{1:3}/1'::sparsevector AS dim_1;
SELECT '{+2:+1e2}/3'::sparsevector AS signs;

-- zeros are dropped, so equal vectors have one representation
SELECT '{1:0,2:1,3:-0}/3'::sparsevector AS zeros_dropped,
       '{1:0,2:1,3:-0}/3'::sparsevector = '{2:1}/3' AS equal;

-- output is the shortest float32 text
SELECT '{1:0.1,2:0.3333333333333333,3:3.4028235e38,4:1e-45}/4'::sparsevector;

-- the largest dimension
SELECT '{1000000000:1}/1000000000'::sparsevector;

SELECT vector_dims('{1:1}/1000'::sparsevector) AS dims,
       nnz('{1:1,3:2,5:0}/1000'::sparsevector) AS nnz,
       nnz('{}/7'::sparsevector) AS nnz_empty;

-- typmod is the dimension, not the number of entries
SELECT '{1:1,2:2}/5'::sparsevector(5);
SELECT format_type('sparsevector'::regtype, 5);
CREATE TEMP TABLE sv (id int, v sparsevector(5));
INSERT INTO sv VALUES (1, '{1:1}/5'), (2, '{}/5'), (3, '{1:1,2:2,3:3,4:4,5:5}/5');
SELECT sqlstate_of($$INSERT INTO sv VALUES (4, '{1:1}/6')$$);
SELECT * FROM sv ORDER BY id;
SELECT sqlstate_detail_of($$SELECT '{1:1}/5'::sparsevector::sparsevector(6)$$);

-- distances on small examples: a = [1,0,2,0], b = [0,3,2,0]
SELECT l2_distance(a, b) AS l2_sqrt10,
       l2_squared_distance(a, b) AS l2sq_10,
       inner_product(a, b) AS ip_4,
       negative_inner_product(a, b) AS nip,
       l1_distance(a, b) AS l1_4,
       cosine_distance(a, b) = 1 - 4 / (sqrt(5) * sqrt(13)) AS cosine_ok
FROM (SELECT '{1:1,3:2}/4'::sparsevector AS a, '{2:3,3:2}/4'::sparsevector AS b) s;
SELECT a <-> b AS l2, a <#> b AS nip, a <=> b AS cosine, a <+> b AS l1
FROM (SELECT '{1:3}/2'::sparsevector AS a, '{2:4}/2'::sparsevector AS b) s;
-- an empty vector is the zero vector
SELECT '{}/3'::sparsevector <-> '{1:3,3:4}/3' AS l2_5,
       '{}/3'::sparsevector <+> '{1:3,3:-4}/3' AS l1_7,
       '{}/3'::sparsevector <#> '{1:3}/3' AS nip_0,
       '{}/3'::sparsevector <=> '{1:3}/3' AS cosine_nan;

-- vector_norm and l2_normalize
SELECT vector_norm('{1:3,9:4}/10'::sparsevector) AS norm_5,
       vector_norm('{}/10'::sparsevector) AS norm_0;
SELECT l2_normalize('{1:3,9:4}/10'::sparsevector),
       l2_normalize('{}/10'::sparsevector);
-- an element that underflows to zero on normalization is dropped
SELECT l2_normalize('{1:1e-30,2:1e30,3:1e-30}/3'::sparsevector);
