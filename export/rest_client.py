"""Asks a TF Serving model server for samples over REST (standard library only).

    python export/rest_client.py --host localhost --port 8501 --model seqgan \
        --num-samples 3 --temperature 0.8 --seed 1 2
    python export/rest_client.py --prefix "5 17"   # `complete` instead
    python export/rest_client.py --prefix-text "a man riding"  # `prefix_text`
    python export/rest_client.py --metadata        # the signatures

Posts to `/v1/models/<model>[/versions/<n>]:predict` with the columnar
("inputs") request format, calling the `generate` signature (or `complete`,
with `--prefix`, or `prefix_text` of a text model, with `--prefix-text`) of
an export written by `seqgan-tf export`, and prints one
generated text a line, with `--verbose` also each sequence's token ids and
log-probability. No TensorFlow needed; see export/README.md for the server.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request


def model_url(host, port, model, version=None):
    url = f"http://{host}:{port}/v1/models/{model}"
    if version is not None:
        url += f"/versions/{int(version)}"
    return url


def build_body(num_samples, temperature, seed, prefix=None, prefix_text=None):
    """The JSON request for `generate` (or `complete` given a prefix of
    token ids, or `prefix_text` given a text prefix: `num_samples`
    completions of it)."""
    inputs = {"temperature": float(temperature), "seed": [int(s) for s in seed]}
    if prefix is not None and prefix_text is not None:
        raise ValueError("give a prefix or a prefix_text, not both")
    if prefix_text is not None:
        signature = "prefix_text"
        inputs["prefix_text"] = [str(prefix_text)] * int(num_samples)
    elif prefix is None:
        signature = "generate"
        inputs["num_samples"] = int(num_samples)
    else:
        signature = "complete"
        inputs["prefix_tokens"] = [
            [int(token) for token in prefix] for _ in range(num_samples)
        ]
    return {"signature_name": signature, "inputs": inputs}


class ServingError(RuntimeError):
    """A non-2xx answer; `status` is the HTTP code, the message the server's."""

    def __init__(self, status, message):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


def _request(url, body=None, timeout=30.0):
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8", "replace")
        try:
            message = json.loads(text)["error"]
        except (ValueError, KeyError, TypeError):
            message = text
        raise ServingError(error.code, message) from None


def predict(url, body, timeout=30.0):
    """POSTs `body` to `<url>:predict`; returns the "outputs" dict."""
    return _request(url + ":predict", body, timeout)["outputs"]


def metadata(url, timeout=30.0):
    """GET `<url>/metadata`: the model's signatures."""
    return _request(url + "/metadata", timeout=timeout)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=8501, help="REST port")
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
    parser.add_argument(
        "--metadata", action="store_true", help="print the model's metadata"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds")
    parser.add_argument(
        "--verbose", action="store_true", help="also print ids and log_prob"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    url = model_url(args.host, args.port, args.model, args.version)
    try:
        if args.metadata:
            print(json.dumps(metadata(url, args.timeout), indent=2))
            return 0
        prefix = None
        if args.prefix is not None:
            prefix = args.prefix.split()
        if prefix is not None and args.prefix_text is not None:
            print("give --prefix or --prefix-text, not both", file=sys.stderr)
            return 2
        body = build_body(
            args.num_samples,
            args.temperature,
            args.seed,
            prefix,
            prefix_text=args.prefix_text,
        )
        outputs = predict(url, body, args.timeout)
    except ServingError as error:
        # 400 for invalid input: the message names the offending input.
        print(error, file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(f"cannot reach {url}: {error.reason}", file=sys.stderr)
        return 1
    for index, text in enumerate(outputs["text"]):
        print(text)
        if args.verbose:
            tokens = " ".join(str(token) for token in outputs["tokens"][index])
            print(f"  tokens: {tokens}")
            print(f"  log_prob: {outputs['log_prob'][index]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
