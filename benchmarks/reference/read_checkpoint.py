#!/usr/bin/env python3
"""Load a moe4j checkpoint (a safetensors file) and print its tensors and metadata.

Proves a checkpoint written by moe4j is readable from Python. Uses the `safetensors` package
when it is installed, else parses the format by hand (struct + json + numpy), checking the
same things the Java reader does, including the moe4j.crc32 checksum of the data section.

    python3 benchmarks/reference/read_checkpoint.py runs/x/checkpoint-000120.safetensors
"""
import json
import struct
import sys
import zlib

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8,
          "F16": np.float16, "I8": np.int8, "I16": np.int16, "BOOL": np.bool_}


def load_by_hand(path):
    """Return (tensors, metadata) parsed with struct/json/numpy only."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        sys.exit(f"{path}: truncated, {len(raw)} bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        sys.exit(f"{path}: header length {n} is larger than the file ({len(raw)} bytes)")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    end = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, stop = info["data_offsets"]
        if begin != end:
            sys.exit(f"{path}: tensor {name} starts at {begin}, expected {end}")
        dtype = np.dtype(DTYPES[info["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(data[begin:stop], dtype=dtype).reshape(info["shape"])
        end = stop
    if end != len(data):
        sys.exit(f"{path}: data section is {len(data)} bytes, header describes {end}")
    crc = metadata.get("moe4j.crc32")
    if crc is not None and f"{zlib.crc32(data):08x}" != crc:
        sys.exit(f"{path}: checksum {zlib.crc32(data):08x} does not match moe4j.crc32 {crc}")
    return tensors, metadata


def load(path):
    try:
        from safetensors import safe_open
        from safetensors.numpy import load_file
    except ImportError:
        return load_by_hand(path), "struct+json+numpy"
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata() or {}
    return (load_file(path), metadata), "safetensors"


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} CHECKPOINT.safetensors")
    (tensors, metadata), how = load(sys.argv[1])
    print(f"read with {how}: {len(tensors)} tensors")
    for name, t in tensors.items():
        preview = np.array2string(t.reshape(-1)[:4], precision=4)
        print(f"  {name:<32} {str(t.dtype):<8} {list(t.shape)}  {preview}")
    print("metadata:")
    for k, v in sorted(metadata.items()):
        print(f"  {k} = {v}")


if __name__ == "__main__":
    main()
