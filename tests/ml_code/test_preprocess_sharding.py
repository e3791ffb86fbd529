"""An N-way sharded run (ShardedByS3Key) against one run over all files.

What must hold is documented in ml_code/preprocessing/sampling.py: identical records and
split membership; balancing exact per shard and nested with the single run's choice.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ml_code.common.splits import SPLITS
from tests.conftest import SAMPLE_DATA
from tests.ml_code.preprocess_helpers import read_all, read_report, run_job

HOSTS = ("algo-1", "algo-2")


def _shard_files(root: Path) -> dict[str, Path]:
    """Two files with different label mixes, so the shards' balancing thresholds differ."""
    sample = pd.read_csv(SAMPLE_DATA, index_col=0, keep_default_na=False)
    stars = sample["Rating"]
    groups = [sample[stars <= 2], sample[stars == 3], sample[stars >= 4]]
    first = pd.concat([groups[0][:600], groups[1][:200], groups[2][:300]]).sort_index()
    second = sample.drop(first.index)
    files = {}
    for host, frame in zip(HOSTS, (first, second), strict=True):
        files[host] = root / f"part-{host}.csv"
        frame.to_csv(files[host])
    return files


def _run(root: Path, name: str, tokenizer: Path, files: list[Path], host: str | None, *extra: str) -> Path:
    inputs, out = root / name / "in", root / name / "out"
    inputs.mkdir(parents=True)
    for file in files:
        (inputs / file.name).symlink_to(file)
    if host is not None:
        config = root / name / "resourceconfig.json"
        config.write_text(json.dumps({"current_host": host, "hosts": list(HOSTS)}))
        extra = ("--resource-config", str(config), *extra)
    run_job(inputs, out, tokenizer, *extra, host=host or "algo-1")
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_roberta):
    """{mode: (single output, {host: shard output})} for balanced and unbalanced runs."""
    root = tmp_path_factory.mktemp("sharding")
    files = _shard_files(root)
    result = {}
    for mode in ("--balance", "--no-balance"):
        single = _run(root, f"single{mode}", tiny_roberta, list(files.values()), None, mode)
        shards = {h: _run(root, f"{h}{mode}", tiny_roberta, [files[h]], h, mode) for h in HOSTS}
        result[mode] = (single, shards)
    return result


def _rows(out: Path) -> dict[str, dict]:
    return {r["review_id"]: r for table in read_all(out).values() for r in table.to_pylist()}


def _split_of(out: Path) -> dict[str, str]:
    return {review_id: row["split_type"] for review_id, row in _rows(out).items()}


def test_without_balancing_the_shards_together_write_exactly_the_single_runs_records(runs):
    single, shards = runs["--no-balance"]
    union = {k: v for out in shards.values() for k, v in _rows(out).items()}
    assert union == _rows(single)
    for split in SPLITS:  # and each in the same split folder
        assert (
            sum(read_report(out, h)["splits"][split]["rows"] for h, out in shards.items())
            == read_report(single)["splits"][split]["rows"]
        )


def test_split_membership_is_the_same_for_every_record_both_runs_keep(runs):
    single, shards = runs["--balance"]
    in_single = _split_of(single)
    common = 0
    for out in shards.values():
        for review_id, split in _split_of(out).items():
            if review_id in in_single:
                assert in_single[review_id] == split
                common += 1
    assert common > 100


def test_every_shard_is_exactly_balanced_so_the_union_is_too(runs):
    single, shards = runs["--balance"]
    targets = []
    for host, out in shards.items():
        after = read_report(out, host)["labels"]["after_balancing"]
        assert len(set(after.values())) == 1
        targets.append(read_report(out, host)["balancing"]["rows_per_label"])
    union = pd.Series({k: v["label_id"] for out in shards.values() for k, v in _rows(out).items()})
    assert union.value_counts().tolist() == [sum(targets)] * 3
    # The shards' smallest labels differ from the whole's, so they keep fewer rows per label.
    assert sum(targets) < read_report(single)["balancing"]["rows_per_label"]


def test_per_shard_and_label_the_kept_sets_are_nested_and_differ_only_at_the_margin(runs):
    single_balanced = _rows(runs["--balance"][0])
    differing = 0
    for host in HOSTS:
        shard_all = _rows(runs["--no-balance"][1][host])  # every valid record of this shard's file
        shard_kept = _rows(runs["--balance"][1][host])
        for label in range(3):
            kept_here = {k for k, v in shard_kept.items() if v["label_id"] == label}
            kept_by_single = {k for k in shard_all if k in single_balanced and shard_all[k]["label_id"] == label}
            assert kept_here <= kept_by_single or kept_by_single <= kept_here, (host, label)
            differing += kept_here != kept_by_single
    assert differing > 0  # the test exercises shards whose thresholds differ from the single run's


def test_an_instance_without_files_writes_empty_splits_and_a_report(tmp_path, tiny_roberta):
    config = tmp_path / "resourceconfig.json"
    config.write_text(json.dumps({"current_host": "algo-3", "hosts": ["algo-1", "algo-2", "algo-3"]}))
    (tmp_path / "in").mkdir()
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--resource-config", str(config), host="algo-3")
    assert report["rows"] == {"read": 0, "kept": 0, "rejected": 0, "dropped_by_balancing": 0, "written": 0}
    assert all(len(table) == 0 for table in read_all(tmp_path / "out").values())
