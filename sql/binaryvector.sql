--
-- binaryvector: packed bits, dimension a multiple of 8, text '01011010'
--

SELECT '01011010'::binaryvector;
SELECT '  0000000011111111  '::binaryvector;
SELECT '1000000000000001'::binaryvector AS first_and_last_bit;
SELECT vector_dims('01011010'::binaryvector), vector_dims('0101101000000000'::binaryvector);

-- bit_count
SELECT bit_count('00000000'::binaryvector) AS none,
       bit_count('11111111'::binaryvector) AS all_8,
       bit_count('01011010'::binaryvector) AS four,
       bit_count(repeat('1', 8 * 33)::binaryvector) AS all_264;

-- typmod
SELECT '0101101011110000'::binaryvector(16);
SELECT format_type('binaryvector'::regtype, 16);
CREATE TEMP TABLE bv (id int, v binaryvector(8));
INSERT INTO bv VALUES (1, '00000001'), (2, '10000000');
SELECT sqlstate_of($$INSERT INTO bv VALUES (3, '0000000011111111')$$);
SELECT * FROM bv ORDER BY id;
SELECT sqlstate_detail_of($$SELECT '01011010'::binaryvector::binaryvector(16)$$);

-- Hamming distance: bits that differ; Jaccard: 1 - |a AND b| / |a OR b|
SELECT hamming_distance('01011010', '01011010') AS same,
       hamming_distance('00000000', '11111111') AS all_differ,
       '11110000'::binaryvector <~> '10101010' AS four;
SELECT jaccard_distance('11110000', '11110000') AS same,
       jaccard_distance('11110000', '00001111') AS disjoint,
       '11110000'::binaryvector <%> '11000000' AS half,
       '11100000'::binaryvector <%> '01110000' AS one_half,
       jaccard_distance('00000000', '00000000') AS both_empty;
-- one-third: |and| = 1, |or| = 3
SELECT jaccard_distance('11000000', '01100000') = 1 - 1::float8 / 3 AS two_thirds;

-- equality and order: bytewise, then shorter first
SELECT '01011010'::binaryvector = '01011010' AS eq,
       '01011010'::binaryvector < '01011011' AS lt,
       '01011010'::binaryvector < '0101101000000000' AS prefix_first,
       '11111111'::binaryvector > '0000000011111111' AS first_byte_decides;
