"""Fixtures for the pytorch_model.bin reader (src/io/torch_pickle.cpp, tests/unit/test_torch_pickle.cpp).

Each run writes, for the torch it runs under (major version M), into --out:
  torchM.bin                  torch.save's zip format (top folder "torchM"), a state dict with every
                              case the reader must handle: float32/16/bfloat16/64, int64/32/8, uint8,
                              bool, a 0-d tensor, an empty one, a transposed and a strided view, two
                              tensors viewing one storage at different offsets, a Parameter, and the
                              `_metadata` attribute nn.Module.state_dict() attaches (a BUILD opcode);
  torchM_legacy.bin           the same dict in the format before PyTorch 1.6
                              (_use_new_zipfile_serialization=False);
  torchM.safetensors          the same tensors, contiguous, in the same order (the expected result);
and files that do not depend on the torch version:
  nested.bin / .safetensors   {"model": {...}, "extra": {...}}, saved to a buffer (top folder
                              "archive"); the twin holds the names joined with ".";
  zip64.bin                   torchM.bin's records rewritten with ZIP64 sizes, offsets and end records
                              (torch writes those only past 4 GB); its twin is torchM.safetensors;
  compressed.bin              torchM.bin's records deflated (torch never does: must be refused);
  no_data_pkl.bin             a zip without data.pkl;
  forbidden_global.bin        a zip whose data.pkl calls os.system (bytes written here by hand,
                              never unpickled): must be refused without running anything.

Usage (both, in this order; every file stays far below 50 KB):
  /usr/bin/python3 scripts/make_pickle_fixtures.py --out tests/fixtures/pickle      # Debian's torch 1.13
  <venv>/bin/python scripts/make_pickle_fixtures.py --out tests/fixtures/pickle     # torch 2.x
The safetensors twins are written with scripts/safetensors_py.py (no `safetensors` package needed).
"""

import argparse
import collections
import io
import os
import struct
import sys
import zipfile
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_py import write_safetensors  # noqa: E402


def state_dict():
    """A deterministic dict (no random numbers: both torch versions must produce the same values)."""
    module = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    with torch.no_grad():
        module[0].weight.copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.25 - 0.5)
        module[0].bias.copy_(torch.tensor([0.125, -2.0]))
        module[1].weight.copy_(torch.tensor([1.5, 0.75]))
        module[1].bias.copy_(torch.tensor([-0.25, 0.5]))
    sd = module.state_dict()  # an OrderedDict carrying `_metadata`
    values = torch.arange(24, dtype=torch.float32) * 0.37 - 3.1
    shared = torch.arange(16, dtype=torch.float32) / 8
    grid = torch.arange(12, dtype=torch.float32).reshape(3, 4) - 5.5
    sd["f16"] = values[:6].half()
    sd["bf16"] = values[6:12].reshape(2, 3).bfloat16()
    sd["f64"] = values[:4].double() / 3
    sd["i64"] = torch.arange(-3, 5, dtype=torch.int64) * 1000000007
    sd["i32"] = torch.tensor([[-7, 8], [2147483647, -2147483648]], dtype=torch.int32)
    sd["i8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    sd["mask"] = torch.tensor([True, False, True, True])
    sd["scalar"] = torch.tensor(7)  # like BatchNorm's num_batches_tracked
    sd["empty"] = torch.zeros(0, 3)
    sd["transposed"] = grid.t()  # stride (1, 4)
    sd["every_other"] = values[1::2]  # stride 2, offset 1
    sd["shared_a"] = shared[2:7]  # two views of one storage, overlapping
    sd["shared_b"] = shared[5:13].view(2, 4)
    sd["param"] = torch.nn.Parameter(torch.tensor([3.0, -1.0, 0.5]))
    return sd


def twin(path, tensors):
    plain = collections.OrderedDict((k, v.detach().contiguous()) for k, v in tensors.items())
    write_safetensors(path, plain, data_order=list(plain.keys()))


def zip_records(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def write_zip64(path, records):
    """A stored zip in which every size and offset goes through ZIP64 extra fields and end records."""
    out, central = bytearray(), bytearray()
    for name, data in records:
        raw = name.encode()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = len(out)
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(raw), len(extra))
        out += raw + extra + data
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(raw), len(cextra), 0, 0, 0, 0, 0xFFFFFFFF)
        central += raw + cextra
    cd_offset = len(out)
    out += central
    end64 = len(out)
    n = len(records)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(path, "wb") as f:
        f.write(out)
    with zipfile.ZipFile(path) as z:  # Python's own reader agrees with the layout
        assert z.testzip() is None and [i.filename for i in z.infolist()] == [r[0] for r in records]


def write_zip(path, records, method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=method) as z:
        for name, data in records:
            z.writestr(name, data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    major = torch.__version__.split(".")[0]
    out = lambda name: os.path.join(args.out, name)  # noqa: E731

    sd = state_dict()
    tag = "torch" + major
    torch.save(sd, out(tag + ".bin"))
    torch.save(sd, out(tag + "_legacy.bin"), _use_new_zipfile_serialization=False)
    twin(out(tag + ".safetensors"), sd)

    nested = {"model": state_dict(), "extra": {"step_scale": torch.tensor([0.5, 2.0])}}
    buffer = io.BytesIO()
    torch.save(nested, buffer)  # a buffer has no file name: the top folder is "archive"
    with open(out("nested.bin"), "wb") as f:
        f.write(buffer.getvalue())
    twin(out("nested.safetensors"),
         collections.OrderedDict((outer + "." + k, v) for outer, d in nested.items() for k, v in d.items()))

    records = zip_records(out(tag + ".bin"))
    write_zip64(out("zip64.bin"), records)
    write_zip(out("compressed.bin"), records, zipfile.ZIP_DEFLATED)
    write_zip(out("no_data_pkl.bin"), [("archive/version", b"3\n")])
    # GLOBAL os.system, the argument tuple, REDUCE, STOP: what a hostile checkpoint looks like.
    evil = b"\x80\x02cos\nsystem\nq\x00X\x0a\x00\x00\x00touch pwnd\x85R."
    write_zip(out("forbidden_global.bin"), [("forbidden_global/data.pkl", evil),
                                             ("forbidden_global/version", b"3\n")])
    for name in sorted(os.listdir(args.out)):
        print(f"{os.path.getsize(out(name)):7d}  {name}")


if __name__ == "__main__":
    main()
