#!/usr/bin/env python3
"""Write the files sql/collection_import.sql imports (run from this directory).

NumPy's .npy format is written by hand (numpy is not needed): the magic
"\\x93NUMPY", version 1.0, the header's length as a little-endian uint16, and
the header dict padded with spaces to a multiple of 64 bytes, then the data.
"""
import json
import os
import struct


def npy(path, descr, shape, data, fortran=False, version=1):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shape)
    prefix = 10 if version == 1 else 12
    pad = (64 - (prefix + len(header) + 1) % 64) % 64
    header = header + " " * pad + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY" + bytes([version, 0]) + length + header.encode() + data)


def ints(values, fmt="<q"):
    return b"".join(struct.pack(fmt, v) for v in values)


def floats(values, fmt="<f"):
    return b"".join(struct.pack(fmt, v) for v in values)


def strings(values, width):
    return b"".join(v.ljust(width, "\0").encode("utf-32-le") for v in values)


N, D = 6, 4
ids = list(range(1, N + 1))
vectors = [float(i) + j / 10 for i in ids for j in range(D)]
colors = ["red", "green", "blue", "red", "green", "gré"]

npy("ok/id.npy", "<i8", "(%d,)" % N, ints(ids))
npy("ok/vector.npy", "<f4", "(%d, %d)" % (N, D), floats(vectors))
npy("ok/color.npy", "<U5", "(%d,)" % N, strings(colors, 5))
# version 2.0 header, int32 ids, float64 vectors: accepted and converted
npy("v2/id.npy", "<i4", "(2,)", ints([101, 102], "<i"), version=2)
npy("v2/vector.npy", "<f8", "(2, %d)" % D, floats([0.5] * 2 * D, "<d"), version=2)

with open("rows.json", "w") as f:
    json.dump({"rows": [{"id": 201 + i, "vector": [0.25 * i] * D, "color": "json"} for i in range(3)]}, f)
with open("rows_array.json", "w") as f:
    json.dump([{"id": 211, "vector": [1, 2, 3, 4], "color": "array"}], f)
with open("rows.csv", "w") as f:
    f.write('id,vector,color\n301,"[1, 0, 0, 0]",csv\n302,"[0, 1, 0, 0]","with ""quotes"", and a comma"\n')

# malformed files
with open("ok/vector.npy", "rb") as f:
    whole = f.read()
os.makedirs("truncated", exist_ok=True)
with open("truncated/vector.npy", "wb") as f:
    f.write(whole[:-6])
npy("truncated/id.npy", "<i8", "(%d,)" % N, ints(ids))
npy("wrong_dtype/id.npy", "<i8", "(%d,)" % N, ints(ids))
npy("wrong_dtype/vector.npy", "<i4", "(%d, %d)" % (N, D), ints(range(N * D), "<i"))
npy("wrong_shape/id.npy", "<i8", "(%d,)" % N, ints(ids))
npy("wrong_shape/vector.npy", "<f4", "(%d, %d)" % (N, D - 1), floats(vectors[:N * (D - 1)]))
npy("wrong_rows/id.npy", "<i8", "(%d,)" % (N - 1), ints(ids[:-1]))
npy("wrong_rows/vector.npy", "<f4", "(%d, %d)" % (N, D), floats(vectors))
npy("fortran/id.npy", "<i8", "(%d,)" % N, ints(ids), fortran=True)
npy("big_endian/id.npy", ">i8", "(%d,)" % N, ints(ids, ">q"))
npy("unknown/id.npy", "<i8", "(%d,)" % N, ints(ids))
npy("unknown/vector.npy", "<f4", "(%d, %d)" % (N, D), floats(vectors))
npy("unknown/weight.npy", "<f4", "(%d,)" % N, floats([1.0] * N))
npy("nan/id.npy", "<i8", "(1,)", ints([1]))
npy("nan/vector.npy", "<f4", "(1, %d)" % D, floats([1.0, float("nan"), 0.0, 0.0]))
# hostile headers: a shape and a string width no file could hold
npy("huge_shape/id.npy", "<i8", "(1000000000000000000,)", ints(ids))
npy("huge_dtype/title.npy", "<U999999999", "(1,)", b"")
with open("not_npy.npy", "wb") as f:
    f.write(b"PK\x03\x04 this is a zip file")
with open("bad.json", "w") as f:
    f.write('{"rows": [{"id": 1, "vector": [1, 2, 3, 4]},')
with open("missing_field.json", "w") as f:
    json.dump({"rows": [{"id": 401, "vector": [1, 2, 3, 4], "color": "a"}, {"id": 402, "color": "b"}]}, f)
with open("no_rows.json", "w") as f:
    json.dump({"data": []}, f)
with open("bad_value.csv", "w") as f:
    f.write('id,vector,color\n501,"[1, 0, 0, 0]",a\n502,"[1, 0, 0]",b\n')
with open("bad_header.csv", "w") as f:
    f.write('id,vector,colour\n601,"[1, 0, 0, 0]",a\n')
