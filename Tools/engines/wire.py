"""rbench worker protocol, version 1 (Sources/RemoteEngine/WireProtocol.swift): framing shared by the
workers. A frame is b"RBW1" | u32 header length | UTF-8 JSON header | u64 payload length | payload, all
little-endian; the payload is the header's "arrays" (name, dtype f32|i32, shape) back to back, row-major."""
import json
import struct
import sys

import numpy as np

PROTOCOL = 1
MAGIC = b"RBW1"
DTYPES = {"f32": np.dtype("<f4"), "i32": np.dtype("<i4")}


class WorkerFailure(Exception):
    """An error the worker reports to rbench as {"ok": false, "error": {"kind", "message"}}."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def _exactly(stream, n):
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_frame(stream):
    """The next (header, {name: array}), or None at the end of the input."""
    magic = _exactly(stream, 4)
    if not magic:
        return None
    if magic != MAGIC:
        raise WorkerFailure("protocol", f"a frame starts with {magic!r}, not {MAGIC!r}")
    (header_length,) = struct.unpack("<I", _exactly(stream, 4))
    header = json.loads(_exactly(stream, header_length).decode("utf-8"))
    (payload_length,) = struct.unpack("<Q", _exactly(stream, 8))
    arrays, used = {}, 0
    for item in header.get("arrays", []):
        dtype = DTYPES[item["dtype"]]
        count = int(np.prod(item["shape"], dtype=np.int64))
        data = _exactly(stream, count * 4)
        if len(data) != count * 4:
            raise WorkerFailure("protocol", f"the stream ended inside array {item['name']}")
        arrays[item["name"]] = np.frombuffer(data, dtype=dtype).reshape(item["shape"])
        used += count * 4
    if used != payload_length:
        raise WorkerFailure("protocol", f"payload of {payload_length} bytes, its arrays need {used}")
    return header, arrays


def write_frame(stream, header, arrays=()):
    """Writes one frame; `arrays` are (name, numpy array) pairs, sent as f32 or i32."""
    descriptors, payloads = [], []
    for name, array in arrays:
        kind = "i32" if np.issubdtype(np.asarray(array).dtype, np.integer) else "f32"
        data = np.ascontiguousarray(array, dtype=DTYPES[kind])
        descriptors.append({"name": name, "dtype": kind, "shape": list(data.shape)})
        payloads.append(data.tobytes())
    body = json.dumps(dict(header, arrays=descriptors)).encode("utf-8")
    stream.write(MAGIC + struct.pack("<I", len(body)) + body + struct.pack("<Q", sum(map(len, payloads))))
    for payload in payloads:
        stream.write(payload)
    stream.flush()


def serve(handlers, identity):
    """Answers requests on stdin/stdout until the input ends or `shutdown`. `handlers[op](args, arrays)`
    returns (result dict, [(name, array)]); `identity()` is what `hello` reports besides the protocol."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Nothing but frames may reach stdout: prints from libraries go to stderr.
    sys.stdout = sys.stderr
    while True:
        try:
            frame = read_frame(stdin)
        except WorkerFailure as failure:
            write_frame(stdout, {"ok": False, "error": {"kind": failure.kind, "message": str(failure)}})
            return
        if frame is None:
            return
        header, arrays = frame
        op, args = header.get("op"), header.get("args", {})
        try:
            for handle in header.get("release", []):
                handlers["__release__"](handle)
            if op == "hello":
                if args.get("protocol") != PROTOCOL:
                    raise WorkerFailure("version", f"this worker speaks protocol {PROTOCOL}, rbench asked for {args.get('protocol')}")
                result, out = dict(identity(args.get("options", {})), protocol=PROTOCOL), []
            elif op == "shutdown":
                write_frame(stdout, {"ok": True, "result": {}})
                return
            elif op in handlers:
                result, out = handlers[op](args, arrays)
            else:
                raise WorkerFailure("unsupported", f"operation {op!r} is not served by this worker")
            write_frame(stdout, {"ok": True, "result": result}, out)
        except WorkerFailure as failure:
            write_frame(stdout, {"ok": False, "error": {"kind": failure.kind, "message": str(failure)}})
        except Exception as error:  # a bug or bad input: report it, keep serving
            write_frame(stdout, {"ok": False, "error": {"kind": type(error).__name__, "message": str(error)}})
