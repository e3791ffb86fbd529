"""Intrinsics as holes: what a hole matches, that it matches consistently, and readable diff paths."""

from __future__ import annotations

import json

import pytest

from tools.definition_pattern import PatternError, build_pattern, compare, values_resolver

ROLE = {"Ref": "Role1234"}
BUCKET = {"Fn::ImportValue": "data:Bucket"}


def join(*parts) -> dict:
    return {"Fn::Join": ["", list(parts)]}


def definition(*steps: dict) -> str:
    return json.dumps({"Version": "2020-12-01", "Steps": list(steps)})


def diff(body, deployed, values=None) -> list[str]:
    differences, _ = compare(build_pattern(body, values_resolver(values or {})), deployed)
    return [str(d) for d in differences]


# {"Name": "Train", "RoleArn": "arn:aws:iam::111:role/<Role>", "Uri": "s3://<Bucket>/in", "Count": <Ref Count>}
BODY = join(
    '{"Steps": [{"Name": "Train", "RoleArn": "arn:aws:iam::111:role/',
    ROLE,
    '", "Uri": "s3://',
    BUCKET,
    '/in", "Count": ',
    {"Ref": "Count"},
    '}, {"Name": "Eval", "RoleArn": "arn:aws:iam::111:role/',
    ROLE,
    '", "Uri": "s3://',
    BUCKET,
    '/out"}]}',
)


def deployed(role="r-1", bucket="b-1", count=2, eval_role="r-1") -> dict:
    return {
        "Steps": [
            {"Name": "Train", "RoleArn": f"arn:aws:iam::111:role/{role}", "Uri": f"s3://{bucket}/in", "Count": count},
            {"Name": "Eval", "RoleArn": f"arn:aws:iam::111:role/{eval_role}", "Uri": f"s3://{bucket}/out"},
        ]
    }


def test_holes_match_any_text_and_report_what_they_matched():
    differences, matched = compare(build_pattern(BODY), deployed())
    assert differences == []
    assert matched == {"${Ref Role1234}": "r-1", "${ImportValue data:Bucket}": "b-1", "${Ref Count}": 2}


def test_a_hole_outside_a_json_string_matches_a_whole_value_of_any_type():
    assert diff(BODY, deployed(count={"Get": "Parameters.Count"})) == []


def test_the_text_around_a_hole_is_still_compared_exactly():
    changed = deployed()
    changed["Steps"][1]["Uri"] = "s3://b-1/elsewhere"
    assert diff(BODY, changed) == [
        'Steps[Eval].Uri: synthesized "s3://${ImportValue data:Bucket}/out", deployed "s3://b-1/elsewhere"'
    ]


def test_one_intrinsic_must_have_one_value_everywhere():
    assert diff(BODY, deployed(eval_role="someone-else")) == [
        'Steps[Eval].RoleArn: ${Ref Role1234} is "someone-else" here but "r-1" at 1 other place(s), e.g. Steps[Train].RoleArn'
    ]


def test_the_majority_value_wins_so_the_odd_place_out_is_reported():
    body = join('{"A": "', ROLE, '", "B": "', ROLE, '", "C": "', ROLE, '"}')
    assert diff(body, {"A": "odd", "B": "r", "C": "r"}) == [
        'A: ${Ref Role1234} is "odd" here but "r" at 2 other place(s), e.g. B'
    ]


def test_known_values_turn_holes_into_exact_text():
    values = {"Role1234": "r-1", "data:Bucket": "b-1", "Count": "2"}
    assert diff(BODY, deployed(), values) == []
    assert diff(BODY, deployed(bucket="b-2"), values) == [
        'Steps[Train].Uri: synthesized "s3://b-1/in", deployed "s3://b-2/in"',
        'Steps[Eval].Uri: synthesized "s3://b-1/out", deployed "s3://b-2/out"',
    ]


def test_fn_sub_variables_escapes_and_getatt():
    body = {
        "Fn::Sub": [
            '{"Role": "${Role.Arn}", "Key": "${Key}", "Region": "${AWS::Region}", "Literal": "${!NotAVar}"}',
            {"Key": {"Fn::ImportValue": "data:Key"}},
        ]
    }
    document = {"Role": "arn:role", "Key": "k-1", "Region": "eu-west-1", "Literal": "${NotAVar}"}
    _, matched = compare(build_pattern(body, values_resolver({"AWS::Region": "eu-west-1"})), document)
    assert matched == {"${GetAtt Role.Arn}": "arn:role", "${ImportValue data:Key}": "k-1"}
    assert diff(body, {**document, "Region": "us-east-1"}, {"AWS::Region": "eu-west-1"}) == [
        'Region: synthesized "eu-west-1", deployed "us-east-1"'
    ]


def test_adjacent_holes_split_where_one_of_them_is_known_from_elsewhere():
    body = join('{"Prefix": "', BUCKET, '", "Both": "', BUCKET, ROLE, '"}')
    _, matched = compare(build_pattern(body), {"Prefix": "bucket", "Both": "bucketrole"})
    assert matched == {"${ImportValue data:Bucket}": "bucket", "${Ref Role1234}": "role"}


def test_steps_are_matched_by_name_whatever_their_order_and_lists_of_values_by_position():
    synthesized = definition({"Name": "A", "Args": ["--x", "1"]}, {"Name": "B"})
    assert diff(synthesized, json.loads(definition({"Name": "B"}, {"Name": "A", "Args": ["--x", "1"]}))) == []
    assert diff(synthesized, json.loads(definition({"Name": "A", "Args": ["--x", "2"]}, {"Name": "C"}))) == [
        'Steps[A].Args[1]: synthesized "1", deployed "2"',
        "Steps[B]: synthesized only (not deployed)",
        'Steps[C]: deployed only (not synthesized): {"Name": "C"}',
    ]
    assert diff(synthesized, json.loads(definition({"Name": "A", "Args": ["--x"]}, {"Name": "B"}))) == [
        'Steps[A].Args: synthesized ["--x", "1"], deployed ["--x"]'
    ]


def test_json_types_matter_but_number_spelling_does_not():
    assert diff('{"a": 1, "b": true}', {"a": 1.0, "b": True}) == []
    assert diff('{"a": 1, "b": true}', {"a": "1", "b": 1}) == [
        'a: synthesized 1, deployed "1"',
        "b: synthesized true, deployed 1",
    ]


def test_a_body_that_is_not_json_around_its_holes_is_refused():
    with pytest.raises(PatternError, match="not JSON"):
        build_pattern(join('{"a": "', ROLE))
    with pytest.raises(PatternError, match="expected text or an intrinsic"):
        build_pattern({"Fn::Join": ["", ["{", 3, "}"]]})
