"""Traffic for the challenger demo (`make demo-challenger`): champion and challenger side by side.

    python -m local_runner.demo_challenger check --root build/demo
    python -m local_runner.demo_challenger traffic --root build/demo --data <csv[.gz]> --out build/demo/challenger

``check`` exits 2 with what to do when the registry under --root has no Approved version (the
champion: `make demo` approves one). ``traffic`` serves the newest Approved version as the
champion (AllTraffic) and a registered version as the challenger (--challenger-version, default
the newest version that is not the champion) behind the variant router (local_runner/
variant_router.py, --mode shadow by default, --percent of requests to the challenger), with
data capture on, and sends --count real reviews of the data file (picked as demo_traffic picks
its real batch), one per request with the inference id ``review-<row id>``:

    <out>/capture/<endpoint>/{AllTraffic,Challenger}/yyyy/mm/dd/hh/*.jsonl
    <out>/ground-truth/labels.jsonl    {"inference_id": "review-<row id>", "star_rating": n} per review
    <out>/window                       `compare` arguments covering the traffic's hour folders

<out> is emptied first.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from local_runner.demo_traffic import pick, read_reviews, send, window_arguments
from local_runner.errors import LocalRunnerError, RegistryError
from local_runner.registry import LocalRegistry
from local_runner.runner import registry_path
from local_runner.step_environment import Console

DEFAULT_COUNT = 300
DEFAULT_PERCENT = 80.0


def champion_of(root: Path) -> dict:
    """The newest Approved version under ``root``'s registry; a LocalRunnerError saying what to run if none."""
    registry = LocalRegistry(registry_path(root).resolve())
    try:
        group = registry.resolve_group(None)
        return registry.latest(group, status="Approved")
    except RegistryError as error:
        raise LocalRunnerError(
            f"no Approved model version in {registry.root} ({error}): run `make demo` first"
            " (it trains, registers and approves the champion this demo compares against)"
        ) from None


def challenger_of(root: Path, champion: dict, version: int | None) -> dict:
    """``version``, or the newest registered version other than the champion."""
    registry = LocalRegistry(registry_path(root).resolve())
    group = champion["ModelPackageGroupName"]
    versions = registry.versions(group)
    if version is not None:
        found = [p for p in versions if p["ModelPackageVersion"] == version]
        if not found:
            raise LocalRunnerError(f"--challenger-version {version}: {group} has no such version")
        return found[0]
    others = [p for p in versions if p["ModelPackageVersion"] != champion["ModelPackageVersion"]]
    if not others:
        raise LocalRunnerError(
            f"{group} has only the champion (version {champion['ModelPackageVersion']}): register a challenger"
            " with another `python -m local_runner run` first"
        )
    return max(others, key=lambda p: p["ModelPackageVersion"])


def run(
    root: Path,
    data: Path,
    out: Path,
    count: int,
    mode: str,
    percent: float,
    challenger_version: int | None,
    console: Console,
) -> dict:
    from local_runner.definition import load_environment_config
    from local_runner.serving import serving_variants
    from local_runner.variant_router import CHALLENGER, CHAMPION, VariantRouter

    champion = champion_of(root)
    challenger = challenger_of(root, champion, challenger_version)
    reviews, _ = pick(read_reviews(data), count)
    if not reviews:
        raise LocalRunnerError(f"{data}: no reviews")
    endpoint = load_environment_config("dev").endpoint_name
    shutil.rmtree(out, ignore_errors=True)
    (out / "ground-truth").mkdir(parents=True)
    from local_runner.serving import variant_writers

    writers = variant_writers(out / "capture", "dev", 100)
    batch = [(f"review-{r['id']}", r["text"]) for r in reviews]
    first = datetime.now(UTC)
    router: VariantRouter
    with serving_variants(champion, challenger, None, console, mode, percent, writers) as router:
        answered = send(router.url, batch)
        router.wait_for_mirrors(120)
    last = datetime.now(UTC)
    with open(out / "ground-truth" / "labels.jsonl", "w", encoding="utf-8") as labels:
        for review in reviews:
            labels.write(json.dumps({"inference_id": f"review-{review['id']}", "star_rating": review["stars"]}) + "\n")
    window = window_arguments(first, last)
    (out / "window").write_text(window + "\n")
    console.print(
        f"  {answered} reviews answered by the router ({mode}); captured {CHAMPION}"
        f" {writers[CHAMPION].captured}, {CHALLENGER} {writers[CHALLENGER].captured} under {out / 'capture' / endpoint}"
    )
    console.print(f"  ground truth: {len(reviews)} labels (star ratings) -> {out / 'ground-truth' / 'labels.jsonl'}")
    console.print(f"  comparison window covering this traffic: {window} (in {out / 'window'})")
    return {
        "answered": answered,
        "champion": champion["ModelPackageVersion"],
        "challenger": challenger["ModelPackageVersion"],
        "captured": {variant: writer.captured for variant, writer in writers.items()},
        "window": window,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_runner.demo_challenger",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="exit 2 unless the registry has an Approved version")
    traffic = commands.add_parser("traffic", help="serve champion + challenger, send reviews, write ground truth")
    for command in (check, traffic):
        command.add_argument("--root", type=Path, default=Path("build/local-pipeline"), help="runner root (registry/)")
    check.add_argument("--base-model", type=Path, help="also check this base model folder exists (make demo's)")
    traffic.add_argument("--data", type=Path, required=True, help="reviews CSV/TSV (plain or .gz)")
    traffic.add_argument("--out", type=Path, required=True, help="folder for the capture, ground truth and window")
    traffic.add_argument("--count", type=int, default=DEFAULT_COUNT, help="reviews sent (default: %(default)s)")
    traffic.add_argument("--mode", choices=("shadow", "ab"), default="shadow", help="(default: %(default)s)")
    traffic.add_argument(
        "--percent", type=float, default=DEFAULT_PERCENT, help="challenger share, 0-100 (default: %(default)s)"
    )
    traffic.add_argument("--challenger-version", type=int, help="default: the newest version that is not the champion")
    args = parser.parse_args(argv)
    console = Console()
    try:
        if args.command == "check":
            if args.base_model is not None and not args.base_model.is_dir():
                raise LocalRunnerError(f"no base model folder {args.base_model}: run `make demo` first (it builds it)")
            champion = champion_of(args.root)
            console.print(
                f"champion: {champion['ModelPackageGroupName']} version {champion['ModelPackageVersion']}"
                f" (Approved) in {registry_path(args.root)}"
            )
            return 0
        if not args.data.is_file():
            parser.error(f"--data {args.data}: no such file")
        if not 0 <= args.percent <= 100:
            parser.error(f"--percent must be from 0 to 100, got {args.percent:g}")
        run(args.root, args.data, args.out, args.count, args.mode, args.percent, args.challenger_version, console)
    except LocalRunnerError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
