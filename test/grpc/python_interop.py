"""The gRPC interop client cases (grpc/doc/interop-test-descriptions.md), written for Python grpcio, run
against a server at argv[1]. Prints one JSON object: each case's name and "ok" or what went wrong."""
import json
import os
import sys
import tempfile
import threading

import grpc
from grpc_tools import protoc

target = sys.argv[1]
proto_dir = os.path.dirname(os.path.abspath(__file__))
out = tempfile.mkdtemp(prefix="covet-grpc-py-")
if protoc.main(["protoc", f"-I{proto_dir}", f"--python_out={out}", f"--grpc_python_out={out}", os.path.join(proto_dir, "interop.proto")]) != 0:
    raise SystemExit("protoc failed")
sys.path.insert(0, out)
import interop_pb2 as pb  # noqa: E402
import interop_pb2_grpc as pbg  # noqa: E402

channel = grpc.insecure_channel(target)
stub = pbg.TestServiceStub(channel)
gzip_stub = pbg.TestServiceStub(grpc.insecure_channel(target, compression=grpc.Compression.Gzip))


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def empty_unary():
    check(stub.EmptyCall(pb.Empty()) == pb.Empty(), "empty response")


def large_unary():
    r = stub.UnaryCall(pb.SimpleRequest(response_size=314159, payload=pb.Payload(body=b"\0" * 271828)))
    check(len(r.payload.body) == 314159, "response size")


def client_compressed_unary():
    r = gzip_stub.UnaryCall(pb.SimpleRequest(response_size=314159, payload=pb.Payload(body=b"\0" * 271828), expect_compressed=pb.BoolValue(value=True)))
    check(len(r.payload.body) == 314159, "response size")
    try:
        stub.UnaryCall(pb.SimpleRequest(response_size=1, payload=pb.Payload(body=b"\0" * 10), expect_compressed=pb.BoolValue(value=True)))
        raise AssertionError("the probe should fail")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, f"probe status {e.code()}")


def server_compressed_unary():
    for compressed in (True, False):
        r = stub.UnaryCall(pb.SimpleRequest(response_size=314159, payload=pb.Payload(body=b"\0" * 271828), response_compressed=pb.BoolValue(value=compressed)))
        check(len(r.payload.body) == 314159, "response size")


def client_streaming():
    sizes = [27182, 8, 1828, 45904]
    r = stub.StreamingInputCall(iter([pb.StreamingInputCallRequest(payload=pb.Payload(body=b"\0" * n)) for n in sizes]))
    check(r.aggregated_payload_size == 74922, "aggregate")


def client_compressed_streaming():
    r = gzip_stub.StreamingInputCall(iter([pb.StreamingInputCallRequest(payload=pb.Payload(body=b"\0" * n), expect_compressed=pb.BoolValue(value=True)) for n in (27182, 45904)]))
    check(r.aggregated_payload_size == 73086, "aggregate")


def server_streaming():
    sizes = [31415, 9, 2653, 58979]
    got = [len(m.payload.body) for m in stub.StreamingOutputCall(pb.StreamingOutputCallRequest(response_parameters=[pb.ResponseParameters(size=n) for n in sizes]))]
    check(got == sizes, f"sizes {got}")


def server_compressed_streaming():
    params = [pb.ResponseParameters(size=31415, compressed=pb.BoolValue(value=True)), pb.ResponseParameters(size=92653, compressed=pb.BoolValue(value=False))]
    got = [len(m.payload.body) for m in stub.StreamingOutputCall(pb.StreamingOutputCallRequest(response_parameters=params))]
    check(got == [31415, 92653], f"sizes {got}")


class Pipe:
    """Requests handed to a streaming call one at a time, as the test decides."""

    def __init__(self):
        self.items = []
        self.cond = threading.Condition()
        self.closed = False

    def add(self, item):
        with self.cond:
            self.items.append(item)
            self.cond.notify()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify()

    def __iter__(self):
        return self

    def __next__(self):
        with self.cond:
            while not self.items and not self.closed:
                self.cond.wait()
            if self.items:
                return self.items.pop(0)
            raise StopIteration


def ping_pong():
    pipe = Pipe()
    responses = stub.FullDuplexCall(pipe)
    for req, res in [(27182, 31415), (8, 9), (1828, 2653), (45904, 58979)]:
        pipe.add(pb.StreamingOutputCallRequest(response_parameters=[pb.ResponseParameters(size=res)], payload=pb.Payload(body=b"\0" * req)))
        check(len(next(responses).payload.body) == res, "response size")
    pipe.close()
    check(list(responses) == [], "no more responses")


def empty_stream():
    check(list(stub.FullDuplexCall(iter([]))) == [], "no responses")


def cancel_after_begin():
    pipe = Pipe()
    future = stub.StreamingInputCall.future(pipe)
    future.cancel()
    check(future.cancelled(), "cancelled")
    pipe.close()


def cancel_after_first_response():
    pipe = Pipe()
    responses = stub.FullDuplexCall(pipe)
    pipe.add(pb.StreamingOutputCallRequest(response_parameters=[pb.ResponseParameters(size=31415)], payload=pb.Payload(body=b"\0" * 27182)))
    check(len(next(responses).payload.body) == 31415, "first response")
    responses.cancel()
    try:
        next(responses)
        raise AssertionError("expected CANCELLED")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.CANCELLED, f"status {e.code()}")
    pipe.close()


def timeout_on_sleeping_server():
    pipe = Pipe()
    try:
        responses = stub.FullDuplexCall(pipe, timeout=0.001)
        pipe.add(pb.StreamingOutputCallRequest(payload=pb.Payload(body=b"\0" * 27182)))
        next(responses)
        raise AssertionError("expected DEADLINE_EXCEEDED")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, f"status {e.code()}")
    pipe.close()


def status_code_and_message():
    for call in ("unary", "stream"):
        try:
            if call == "unary":
                stub.UnaryCall(pb.SimpleRequest(response_status=pb.EchoStatus(code=2, message="test status message")))
            else:
                list(stub.FullDuplexCall(iter([pb.StreamingOutputCallRequest(response_status=pb.EchoStatus(code=2, message="test status message"))])))
            raise AssertionError("expected UNKNOWN")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.UNKNOWN and e.details() == "test status message", f"{call}: {e.code()} {e.details()!r}")


def special_status_message():
    message = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
    try:
        stub.UnaryCall(pb.SimpleRequest(response_status=pb.EchoStatus(code=2, message=message)))
        raise AssertionError("expected UNKNOWN")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.UNKNOWN and e.details() == message, f"{e.code()} {e.details()!r}")


def custom_metadata():
    md = (("x-grpc-test-echo-initial", "test_initial_metadata_value"), ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab"))
    _, call = stub.UnaryCall.with_call(pb.SimpleRequest(response_size=314159, payload=pb.Payload(body=b"\0" * 271828)), metadata=md)
    check(("x-grpc-test-echo-initial", "test_initial_metadata_value") in call.initial_metadata(), f"initial {call.initial_metadata()}")
    check(("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab") in call.trailing_metadata(), f"trailing {call.trailing_metadata()}")
    responses = stub.FullDuplexCall(iter([pb.StreamingOutputCallRequest(response_parameters=[pb.ResponseParameters(size=314159)], payload=pb.Payload(body=b"\0" * 271828))]), metadata=md)
    list(responses)
    check(("x-grpc-test-echo-initial", "test_initial_metadata_value") in responses.initial_metadata(), "stream initial")
    check(("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab") in responses.trailing_metadata(), "stream trailing")


def unimplemented_method():
    try:
        stub.UnimplementedCall(pb.Empty())
        raise AssertionError("expected UNIMPLEMENTED")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.UNIMPLEMENTED, f"{e.code()}")


def unimplemented_service():
    try:
        pbg.UnimplementedServiceStub(channel).UnimplementedCall(pb.Empty())
        raise AssertionError("expected UNIMPLEMENTED")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.UNIMPLEMENTED, f"{e.code()}")


results = {}
for case in [empty_unary, large_unary, client_compressed_unary, server_compressed_unary, client_streaming, client_compressed_streaming, server_streaming,
             server_compressed_streaming, ping_pong, empty_stream, cancel_after_begin, cancel_after_first_response, timeout_on_sleeping_server,
             status_code_and_message, special_status_message, custom_metadata, unimplemented_method, unimplemented_service]:
    try:
        case()
        results[case.__name__] = "ok"
    except Exception as e:  # noqa: BLE001 — every failure is reported, by case
        results[case.__name__] = f"{type(e).__name__}: {e}"
print(json.dumps(results))
