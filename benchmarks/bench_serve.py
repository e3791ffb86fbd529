"""make bench-serve: the local SageMaker serving stack, one 64-text request vs 64 one-text requests.

Packages the tests' small model (tools/tiny_roberta; untrained: speed does not depend on the
weights) with code/ as train.py does, serves it with tools/serve.py (the Hugging Face
inference toolkit on multi-model-server, 127.0.0.1, one worker) and, in one run:
  batch    --repeats rounds, interleaved: one request carrying 64 reviews, then the same 64
           reviews as 64 sequential one-review requests; batch_ratio = median time of the
           64 requests / median time of the one request (same texts, so a throughput ratio)
  latency  --latency-requests one-review requests, each a different review: p50 and p99
Reviews come from the real data set (../shared/data) when present, else the sample data.
The last line is ``batch_ratio=<...> p50_ms=<...> p99_ms=<...>`` (target batch_ratio >= 4).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL_DATA = ROOT.parent / "shared" / "data" / "womens_clothing_ecommerce_reviews.csv.gz"
SAMPLE_DATA = ROOT / "data" / "sample" / "womens_clothing_reviews_sample.csv.gz"
TARGET = 4.0
JSON = "application/json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REAL_DATA if REAL_DATA.exists() else SAMPLE_DATA)
    parser.add_argument("--texts", type=int, default=64, help="reviews per batch request (default 64)")
    parser.add_argument("--repeats", type=int, default=5, help="batch-vs-single rounds, median kept (default 5)")
    parser.add_argument(
        "--latency-requests", type=int, default=300, help="one-review requests for p50/p99 (default 300)"
    )
    args = parser.parse_args(argv)
    if not args.data.exists():
        parser.error(f"{args.data} not found")
    return args


def review_sample(data: Path, count: int, seed: int = 0) -> list[str]:
    from tools.tiny_roberta import review_texts

    texts = list(review_texts([data]))
    return random.Random(seed).sample(texts, count)


def build_model(folder: Path) -> Path:
    """Tiny tokenizer + classifier + code/, the layout train.py writes to SM_MODEL_DIR."""
    from ml_code.training.packaging import write_inference_code
    from tools.tiny_roberta import build_model as build_classifier
    from tools.tiny_roberta import build_tokenizer, review_texts

    tokenizer = build_tokenizer(review_texts([SAMPLE_DATA]), folder)
    build_classifier(tokenizer, folder)
    # train.py saves the tokenizer with its max_seq_length, where the handler then truncates.
    tokenizer.model_max_length = 128
    tokenizer.save_pretrained(str(folder))
    write_inference_code(folder)
    return folder


def timed(server, texts: list[str]) -> float:
    """Seconds for one request carrying ``texts``; fails loudly on anything but 200."""
    start = time.perf_counter()
    status, body = server.invoke(json.dumps({"inputs": texts}).encode(), JSON)
    elapsed = time.perf_counter() - start
    if status != 200 or len(json.loads(body)) != len(texts):
        raise RuntimeError(f"server answered {status}: {body[:300]!r}")
    return elapsed


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from tools.serve import LocalServer, free_port

    pool = review_sample(args.data, args.texts + args.latency_requests)
    batch_texts, latency_texts = pool[: args.texts], pool[args.texts :]
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as scratch_dir:
        scratch = Path(scratch_dir)
        model = build_model(scratch / "model")
        with LocalServer(model, scratch / "run", port=free_port()) as server:
            print(f"serving {model} on {server.url}; reviews from {args.data.name}", flush=True)
            for text in batch_texts[:8]:  # warm the worker's code paths and allocator
                timed(server, [text])
            batch_times, single_times = [], []
            for repeat in range(args.repeats):
                batch_times.append(timed(server, batch_texts))
                single_times.append(sum(timed(server, [text]) for text in batch_texts))
                print(
                    f"  round {repeat + 1}: 1 x {args.texts} texts {batch_times[-1] * 1000:7.1f} ms, "
                    f"{args.texts} x 1 text {single_times[-1] * 1000:7.1f} ms",
                    flush=True,
                )
            latencies = sorted(timed(server, [text]) * 1000 for text in latency_texts)
    batch_ratio = statistics.median(single_times) / statistics.median(batch_times)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    p50, p99 = statistics.median(latencies), cuts[98]
    print(f"one-text latency, {len(latencies)} requests: p50 {p50:.1f}, p99 {p99:.1f}, max {latencies[-1]:.1f} ms")
    print(f"target batch_ratio >= {TARGET}: {'met' if batch_ratio >= TARGET else 'MISSED'}")
    print(f"batch_ratio={batch_ratio:.2f} p50_ms={p50:.1f} p99_ms={p99:.1f}")


if __name__ == "__main__":
    main()
