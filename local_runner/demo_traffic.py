"""Traffic for the monitoring demo (`make demo`): real reviews, then a shifted batch, captured.

    python -m local_runner.demo_traffic --root build/demo --data <csv[.gz]> --out build/demo/monitoring

Serves the newest Approved version of the local registry (as `serve` does) and sends, one
review per request with its row id as the inference id (header X-Amzn-SageMaker-Inference-Id):

    <out>/capture-real/      --count real reviews of the data file, picked at random (seeded),
                             each as written; their ratings become <out>/ground-truth/labels.jsonl
                             ({"inference_id": "review-<row id>", "star_rating": n} per line)
    <out>/capture-shifted/   --count other reviews, each cut to its first SHIFT_CHARS characters:
                             shorter texts, fewer tokens, a different text content

each through its own capture router (local_runner/capture.py) in front of the one model
server, in SageMaker's capture layout. <out>/window holds the `monitor` arguments whose window
covers the hour folders the traffic landed in (--window-end <the next whole hour> --window-hours N).
<out> is emptied first.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from local_runner.capture import INFERENCE_ID_HEADER, CaptureRouter, CaptureWriter
from local_runner.errors import LocalRunnerError
from local_runner.step_environment import Console

SHIFT_CHARS = 20
DEFAULT_COUNT = 300
SEED = 7


def read_reviews(path: Path) -> list[dict]:
    """[{"id", "text", "stars"}] of every row with a text and a whole-number rating."""
    from ml_code.preprocessing.columns import ROLES

    candidates = {role.name: role.candidates for role in ROLES}
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t" if ".tsv" in path.name else ",")
        header = reader.fieldnames or []
        text = next((c for c in candidates["text"] if c in header), None)
        rating = next((c for c in candidates["rating"] if c in header), None)
        if text is None or rating is None:
            raise LocalRunnerError(f"{path}: no text or rating column (header {header[:12]})")
        identifier = next((c for c in ("review_id", "") if c in header), None)
        reviews = []
        for number, row in enumerate(reader):
            body, stars = (row.get(text) or "").strip(), (row.get(rating) or "").strip()
            if body and stars.isdigit():
                row_id = row.get(identifier) if identifier is not None else None
                reviews.append({"id": row_id or str(number), "text": body, "stars": int(stars)})
    return reviews


def pick(reviews: list[dict], count: int, seed: int = SEED) -> tuple[list[dict], list[dict]]:
    """Two disjoint random batches of up to ``count`` reviews: (real, to be shifted)."""
    shuffled = random.Random(seed).sample(reviews, len(reviews))
    return shuffled[:count], shuffled[count : 2 * count]


def send(url: str, batch: list[tuple[str, str]]) -> int:
    """POST each (inference id, text) as {"inputs": text}; the number answered 200."""
    from local_runner.serving import invoke

    answered = 0
    for inference_id, text in batch:
        status, body = invoke(
            url,
            json.dumps({"inputs": text}).encode(),
            "application/json",
            "application/json",
            headers={INFERENCE_ID_HEADER: inference_id},
        )
        if status != 200:
            raise LocalRunnerError(f"the server answered {status} to {inference_id}: {body[:300]!r}")
        answered += 1
    return answered


def window_arguments(first: datetime, last: datetime) -> str:
    """`monitor` arguments whose window is exactly the hour folders from ``first``'s to ``last``'s."""
    top = last.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    hours = int((top - first.astimezone(UTC).replace(minute=0, second=0, microsecond=0)) / timedelta(hours=1))
    return f"--window-end {top.strftime('%Y-%m-%dT%H:%M:%SZ')} --window-hours {hours}"


def run(root: Path, data: Path, out: Path, count: int, console: Console) -> dict:
    from local_runner.definition import load_environment_config
    from local_runner.registry import LocalRegistry
    from local_runner.runner import registry_path
    from local_runner.serving import pick_version, serving

    real, shifted = pick(read_reviews(data), count)
    if not real or not shifted:
        raise LocalRunnerError(f"{data}: too few reviews for two batches")
    endpoint = load_environment_config("dev").endpoint_name
    package = pick_version(LocalRegistry(registry_path(root).resolve()), None, None, False)
    shutil.rmtree(out, ignore_errors=True)
    (out / "ground-truth").mkdir(parents=True)
    batches = {
        "capture-real": [(f"review-{r['id']}", r["text"]) for r in real],
        "capture-shifted": [(f"shifted-{r['id']}", r["text"][:SHIFT_CHARS]) for r in shifted],
    }
    first = datetime.now(UTC)
    with serving(package, None, console) as server_url:
        for name, batch in batches.items():
            writer = CaptureWriter(out / name, endpoint)
            with CaptureRouter(server_url, writer) as router:
                answered = send(router.url, batch)
            console.print(
                f"  {name}: {answered} requests via {router.url}, {writer.captured} captured"
                f" into {writer.folder}/yyyy/mm/dd/hh/"
            )
    last = datetime.now(UTC)
    with open(out / "ground-truth" / "labels.jsonl", "w", encoding="utf-8") as labels:
        for review in real:
            labels.write(json.dumps({"inference_id": f"review-{review['id']}", "star_rating": review["stars"]}) + "\n")
    window = window_arguments(first, last)
    (out / "window").write_text(window + "\n")
    console.print(f"  ground truth: {len(real)} labels (star ratings) -> {out / 'ground-truth' / 'labels.jsonl'}")
    console.print(f"  shifted batch: {len(shifted)} other reviews cut to {SHIFT_CHARS} characters")
    console.print(f"  monitoring window covering this traffic: {window} (in {out / 'window'})")
    return {"real": len(real), "shifted": len(shifted), "window": window}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_runner.demo_traffic",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--root", type=Path, default=Path("build/local-pipeline"), help="runner root (registry/)")
    parser.add_argument("--data", type=Path, required=True, help="reviews CSV/TSV (plain or .gz)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the captures, ground truth and window")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="reviews per batch (default: %(default)s)")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        parser.error(f"--data {args.data}: no such file")
    try:
        run(args.root, args.data, args.out, args.count, Console())
    except LocalRunnerError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
