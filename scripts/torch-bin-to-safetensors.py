#!/usr/bin/env python3
"""Converts a PyTorch `pytorch_model.bin` (the zip format of torch.save) to `model.safetensors`,
with the Python standard library alone (no torch, no numpy on our machines).

    scripts/torch-bin-to-safetensors.py pytorch_model.bin model.safetensors

Why: tch (under rust-bert) loads `.safetensors` as is, but not the pickled `.bin` that older
model packages ship. The pickle is read with a restricted unpickler that knows only the few
globals a state dict uses (tensor rebuild, storage types, OrderedDict), so a hostile file cannot
run code. Non-contiguous tensors are gathered element by element.
"""
import collections
import json
import pickle
import struct
import sys
import zipfile

# storage type name -> (safetensors dtype, bytes per element)
DTYPES = {
    "FloatStorage": ("F32", 4),
    "HalfStorage": ("F16", 2),
    "BFloat16Storage": ("BF16", 2),
    "DoubleStorage": ("F64", 8),
    "LongStorage": ("I64", 8),
    "IntStorage": ("I32", 4),
    "ShortStorage": ("I16", 2),
    "CharStorage": ("I8", 1),
    "ByteStorage": ("U8", 1),
    "BoolStorage": ("BOOL", 1),
}


class StorageType:
    def __init__(self, name):
        if name not in DTYPES:
            raise ValueError(f"unsupported storage type {name}")
        self.dtype, self.size = DTYPES[name]


class Storage:
    def __init__(self, stype, key):
        self.stype, self.key = stype, key


class Tensor:
    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, tuple(shape), tuple(stride)


def rebuild_tensor_v2(storage, offset, shape, stride, *_rest):
    return Tensor(storage, offset, shape, stride)


def rebuild_parameter(data, *_rest):
    return data


class StateDictUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return rebuild_parameter
        if module == "torch" and name in DTYPES:
            return StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel)
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        return Storage(pid[1], str(pid[2]))


def contiguous_strides(shape):
    strides, acc = [], 1
    for dim in reversed(shape):
        strides.append(acc)
        acc *= dim
    return tuple(reversed(strides))


def tensor_bytes(t, raw):
    size = t.storage.stype.size
    numel = 1
    for d in t.shape:
        numel *= d
    if t.stride == contiguous_strides(t.shape) or numel <= 1:
        start = t.offset * size
        return raw[start : start + numel * size]
    out = bytearray()
    index = [0] * len(t.shape)
    for _ in range(numel):
        at = t.offset + sum(i * s for i, s in zip(index, t.stride))
        out += raw[at * size : (at + 1) * size]
        for axis in reversed(range(len(index))):
            index[axis] += 1
            if index[axis] < t.shape[axis]:
                break
            index[axis] = 0
    return bytes(out)


def main(src, dst):
    with zipfile.ZipFile(src) as z:
        names = z.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            sys.exit(f"{src}: not a torch.save zip archive (no single data.pkl)")
        root = pkl[0][: -len("data.pkl")]
        state = StateDictUnpickler(z.open(pkl[0])).load()
        if not isinstance(state, dict):
            sys.exit(f"{src}: holds a {type(state).__name__}, not a state dict")
        cache = {}
        header, blobs, offset = {}, [], 0
        for name, t in state.items():
            if not isinstance(t, Tensor):
                continue
            key = t.storage.key
            if key not in cache:
                cache[key] = z.read(f"{root}data/{key}")
            data = tensor_bytes(t, cache[key])
            header[name] = {
                "dtype": t.storage.stype.dtype,
                "shape": list(t.shape),
                "data_offsets": [offset, offset + len(data)],
            }
            blobs.append(data)
            offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # the data starts 8-byte aligned
    with open(dst, "wb") as out:
        out.write(struct.pack("<Q", len(head)))
        out.write(head)
        for b in blobs:
            out.write(b)
    print(f"  {len(blobs)} tensors, {offset // 1_000_000} MB -> {dst}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: torch-bin-to-safetensors.py pytorch_model.bin model.safetensors")
    main(sys.argv[1], sys.argv[2])
