"""Minimal hand-written safetensors reader/writer (no dependency on the `safetensors` package).

File layout:
  * 8 bytes: unsigned little-endian header length N
  * N bytes: UTF-8 JSON object
        {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
         "__metadata__": {"format": "pt"}}
    padded with trailing spaces so that N is a multiple of 8
  * the data section: raw little-endian tensor bytes, row-major, tensors packed back to back;
    offsets are relative to the start of the data section and together cover it exactly.
"""

import json
import struct
import sys

import numpy as np
import torch

# safetensors dtype tag -> (torch dtype, numpy dtype used for the raw bytes, itemsize)
_DTYPES = {
    "F64": (torch.float64, "<f8", 8),
    "F32": (torch.float32, "<f4", 4),
    "F16": (torch.float16, "<f2", 2),
    "BF16": (torch.bfloat16, "<i2", 2),  # raw bits moved through int16
    "I64": (torch.int64, "<i8", 8),
    "I32": (torch.int32, "<i4", 4),
    "I16": (torch.int16, "<i2", 2),
    "I8": (torch.int8, "<i1", 1),
    "U8": (torch.uint8, "<u1", 1),
    "BOOL": (torch.bool, "<u1", 1),
}
_TORCH_TO_TAG = {v[0]: k for k, v in _DTYPES.items()}

# Order used by the reference Rust implementation when laying out data (larger "rank" first);
# only used to mimic real files, readers must not depend on it.
_DTYPE_RANK = ["BOOL", "U8", "I8", "I16", "F16", "BF16", "I32", "F32", "F64", "I64"]


def dtype_tag(t):
    return _TORCH_TO_TAG[t.dtype]


def _tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    tag = dtype_tag(t)
    if t.dtype == torch.bfloat16:
        arr = t.view(torch.int16).numpy()
    elif t.dtype == torch.bool:
        arr = t.to(torch.uint8).numpy()
    else:
        arr = t.numpy()
    return np.ascontiguousarray(arr).astype(_DTYPES[tag][1], copy=False).tobytes()


def write_safetensors(path, tensors, metadata=None, data_order=None, header_order=None,
                      metadata_first=True):
    """Write `tensors` (dict name -> torch.Tensor).

    data_order: list of names giving the layout of the data section; default mimics the
      reference implementation (dtype rank descending, then name).
    header_order: order of the tensor keys in the JSON header; default = data_order.
    metadata_first: put "__metadata__" first (True) or last (False) in the JSON header.
    """
    if metadata is None:
        metadata = {"format": "pt"}
    names = list(tensors.keys())
    if data_order is None:
        data_order = sorted(names, key=lambda n: (-_DTYPE_RANK.index(dtype_tag(tensors[n])), n))
    assert sorted(data_order) == sorted(names)
    if header_order is None:
        header_order = list(data_order)
    assert sorted(header_order) == sorted(names)

    blobs = {}
    entries = {}
    offset = 0
    for n in data_order:
        b = _tensor_bytes(tensors[n])
        blobs[n] = b
        entries[n] = {"dtype": dtype_tag(tensors[n]), "shape": list(tensors[n].shape),
                      "data_offsets": [offset, offset + len(b)]}
        offset += len(b)

    header = {}
    if metadata_first:
        header["__metadata__"] = metadata
    for n in header_order:
        header[n] = entries[n]
    if not metadata_first:
        header["__metadata__"] = metadata
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((-len(hbytes)) % 8)

    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for n in data_order:
            f.write(blobs[n])


def read_safetensors(path):
    """Return (dict name -> torch.Tensor in header key order, metadata dict). Validates the layout."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} beyond file size {len(raw)}")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", None)
    spans = []
    out = {}
    for name, e in header.items():
        tag = e["dtype"]
        if tag not in _DTYPES:
            raise ValueError(f"{path}: {name}: unsupported dtype {tag}")
        tdtype, npdtype, itemsize = _DTYPES[tag]
        shape = [int(d) for d in e["shape"]]
        begin, end = (int(x) for x in e["data_offsets"])
        numel = 1
        for d in shape:
            numel *= d
        if end - begin != numel * itemsize or begin < 0 or end > len(data):
            raise ValueError(f"{path}: {name}: bad data_offsets {begin},{end} for shape {shape} {tag}")
        spans.append((begin, end, name))
        arr = np.frombuffer(data, dtype=npdtype, count=numel, offset=begin).copy()
        t = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("=")))
        if tag == "BF16":
            t = t.view(torch.bfloat16)
        elif tag == "BOOL":
            t = t.to(torch.bool)
        out[name] = t.reshape(shape)
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin != pos:
            raise ValueError(f"{path}: gap/overlap before {name} at {begin} (expected {pos})")
        pos = end
    if pos != len(data):
        raise ValueError(f"{path}: data section is {len(data)} bytes, tensors cover {pos}")
    return out, metadata


if __name__ == "__main__":
    for p in sys.argv[1:]:
        ts, md = read_safetensors(p)
        print(p, md)
        for k, v in ts.items():
            print(f"  {k}\t{dtype_tag(v)}\t{list(v.shape)}")
