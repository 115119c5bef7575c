#!/usr/bin/python3
"""Converts a legacy pytorch_model.bin (a torch.save'd state dict) into model.safetensors.

LibTorch's C++ API cannot read those pickles, so libelectra asks for this one-off step.
Usage: convert_bin_to_safetensors.py MODEL_DIR   (writes MODEL_DIR/model.safetensors)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_py import write_safetensors  # noqa: E402


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    directory = sys.argv[1]
    source = os.path.join(directory, "pytorch_model.bin")
    target = os.path.join(directory, "model.safetensors")
    try:
        state = torch.load(source, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - any unpickling problem is reported the same way
        sys.exit(f"{source}: cannot read: {e}")
    if not isinstance(state, dict):
        sys.exit(f"{source}: expected a state dict, found {type(state).__name__}")
    # The tied generator output weight is the word embedding matrix; HF omits it.
    state = {k: v.contiguous() for k, v in state.items()
             if torch.is_tensor(v) and k != "generator_lm_head.weight"}
    tmp = target + ".tmp"
    write_safetensors(tmp, state)
    os.replace(tmp, target)
    print(f"wrote {target} ({len(state)} tensors)")


if __name__ == "__main__":
    main()
