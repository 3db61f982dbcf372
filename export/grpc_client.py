"""Asks a TF Serving model server for samples over gRPC.

    python export/grpc_client.py --host localhost --port 8500 --model seqgan \
        --num-samples 3 --temperature 0.8 --seed 1 2
    python export/grpc_client.py --prefix "5 17"   # `complete` instead
    python export/grpc_client.py --prefix-text "a man riding"  # `prefix_text`

Calls the `generate` signature (or `complete`, with `--prefix`, or
`prefix_text` of a text model, with `--prefix-text`) of an export written by
`seqgan-tf export` and prints one generated text a line, with
`--verbose` also each sequence's token ids and log-probability.

Needs `tensorflow` and `tensorflow-serving-api` (pip install
tensorflow-serving-api==2.21.0, the same release as TensorFlow) and a running
`tensorflow_model_server` (see export/README.md).
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import grpc  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import predict_pb2  # noqa: E402
from tensorflow_serving.apis import prediction_service_pb2_grpc  # noqa: E402


def build_request(
    model,
    num_samples,
    temperature,
    seed,
    prefix=None,
    version=None,
    prefix_text=None,
):
    """The PredictRequest for `generate` (or `complete` given a prefix of
    token ids, or `prefix_text` given a text prefix: `num_samples`
    completions of it)."""
    if prefix is not None and prefix_text is not None:
        raise ValueError("give a prefix or a prefix_text, not both")
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    if version is not None:
        request.model_spec.version.value = int(version)
    request.inputs["temperature"].CopyFrom(
        tf.make_tensor_proto(np.float32(temperature))
    )
    request.inputs["seed"].CopyFrom(
        tf.make_tensor_proto(np.asarray(seed, dtype=np.int64))
    )
    if prefix_text is not None:
        request.model_spec.signature_name = "prefix_text"
        texts = np.array([str(prefix_text)] * int(num_samples), dtype=object)
        request.inputs["prefix_text"].CopyFrom(tf.make_tensor_proto(texts))
    elif prefix is None:
        request.model_spec.signature_name = "generate"
        request.inputs["num_samples"].CopyFrom(
            tf.make_tensor_proto(np.int32(num_samples))
        )
    else:
        request.model_spec.signature_name = "complete"
        rows = np.tile(np.asarray(prefix, dtype=np.int32), (num_samples, 1))
        request.inputs["prefix_tokens"].CopyFrom(tf.make_tensor_proto(rows))
    return request


def predict(host, port, request, timeout=30.0):
    """Sends `request`; returns the outputs as numpy arrays."""
    with grpc.insecure_channel(f"{host}:{port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        response = stub.Predict(request, timeout=timeout)
    return {
        key: tf.make_ndarray(value) for key, value in response.outputs.items()
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=8500, help="gRPC port")
    parser.add_argument("--model", default="seqgan", help="model name")
    parser.add_argument(
        "--version", type=int, help="model version (default: the server's)"
    )
    parser.add_argument("--num-samples", type=int, default=3)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument(
        "--seed",
        type=int,
        nargs=2,
        default=[0, 0],
        metavar=("A", "B"),
        help="the int64 seed pair; the same seed gives the same samples",
    )
    parser.add_argument(
        "--prefix",
        help="space-separated token ids to complete (calls `complete`)",
    )
    parser.add_argument(
        "--prefix-text",
        help="whitespace-tokenised text to complete (calls `prefix_text`; "
        "text models only)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds")
    parser.add_argument(
        "--verbose", action="store_true", help="also print ids and log_prob"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    prefix = None
    if args.prefix is not None:
        prefix = [int(token) for token in args.prefix.split()]
    if prefix is not None and args.prefix_text is not None:
        print("give --prefix or --prefix-text, not both", file=sys.stderr)
        return 2
    request = build_request(
        args.model,
        args.num_samples,
        args.temperature,
        args.seed,
        prefix=prefix,
        version=args.version,
        prefix_text=args.prefix_text,
    )
    try:
        outputs = predict(args.host, args.port, request, args.timeout)
    except grpc.RpcError as error:
        # INVALID_ARGUMENT carries the graph's message naming the bad input.
        print(f"{error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    for index, text in enumerate(outputs["text"]):
        print(text.decode("utf-8"))
        if args.verbose:
            tokens = " ".join(str(token) for token in outputs["tokens"][index])
            print(f"  tokens: {tokens}")
            print(f"  log_prob: {float(outputs['log_prob'][index]):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
