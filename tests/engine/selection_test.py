"""Touched-resource selection: own span, related resources, base-side deletions."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.diff import parse_file_patch
from bot.engine.model import CallSite, Node, Resource
from bot.engine.selection import _instances_of_calls, base_seeds, expand_related, group_key, touched_resources


def tf(address: str, line: int, end: int, refs: set[str] = frozenset(), path: str = "m/main.tf",  # type: ignore[assignment]
       kind: str = "resource") -> Resource:
    return Resource("terraform", kind, address.split(".")[0], address, path, line, end, Node({}, line, end),
                    frozenset(refs))


def groups_of(*resources: Resource) -> dict[str, list[Resource]]:
    groups: dict[str, list[Resource]] = {}
    for r in resources:
        groups.setdefault(group_key(r), []).append(r)
    return groups


def addresses(resources: list[Resource]) -> set[str]:
    return {r.address for r in resources}


def test_only_resources_with_added_lines_or_inner_deletions_are_touched() -> None:
    old = tf("aws_ebs_volume.old", 1, 4)
    new = tf("aws_ebs_volume.new", 6, 9)
    edited = tf("aws_ebs_volume.edited", 14, 17)
    patch = "@@ -5,2 +5,6 @@\n \n+a\n+b\n+c\n+d\n \n@@ -11,4 +15,3 @@\n x\n-gone\n y\n z"
    diff = parse_file_patch("m/main.tf", patch, "modified")
    assert addresses(touched_resources([old, new, edited], {"m/main.tf": diff})) == {"aws_ebs_volume.new",
                                                                                    "aws_ebs_volume.edited"}


def test_related_resources_in_the_same_module_are_rechecked_one_hop() -> None:
    bucket = tf("aws_s3_bucket.b", 1, 3)
    sse = tf("aws_s3_bucket_server_side_encryption_configuration.b", 5, 9, {"aws_s3_bucket.b", "aws_kms_key.k"},
             path="m/sse.tf")
    key = tf("aws_kms_key.k", 11, 13, path="m/kms.tf")
    other = tf("aws_s3_bucket.other", 15, 17)
    far = tf("aws_iam_role.r", 1, 3, {"aws_s3_bucket.b"}, path="elsewhere/main.tf")
    selected = expand_related([sse], groups_of(bucket, sse, key, other, far))
    assert addresses(selected) == {sse.address, bucket.address, key.address}


def test_changed_variable_rechecks_its_readers_through_locals() -> None:
    var = tf("var.encrypt", 1, 3, kind="variable")
    local = tf("local.enc", 5, 5, {"var.encrypt"}, kind="locals")
    volume = tf("aws_ebs_volume.v", 7, 10, {"local.enc"})
    unrelated = tf("aws_ebs_volume.u", 12, 14)
    assert addresses(expand_related([var], groups_of(var, local, volume, unrelated))) == {
        "var.encrypt", "local.enc", "aws_ebs_volume.v"}


def test_touching_a_reader_does_not_recheck_every_reader_of_its_variable() -> None:
    var = tf("var.size", 1, 3, kind="variable")
    a = tf("aws_ebs_volume.a", 5, 8, {"var.size"})
    b = tf("aws_ebs_volume.b", 10, 13, {"var.size"})
    assert addresses(expand_related([a], groups_of(var, a, b))) == {"aws_ebs_volume.a", "var.size"}


def test_deleted_base_resource_rechecks_what_it_referenced() -> None:
    base_sse = tf("aws_s3_bucket_server_side_encryption_configuration.b", 1, 5, {"aws_s3_bucket.b"}, path="m/sse.tf")
    removal = parse_file_patch("m/sse.tf", "@@ -1,5 +0,0 @@\n-a\n-b\n-c\n-d\n-e", "removed")
    seeds = base_seeds([base_sse], {"m/sse.tf": removal})
    bucket = tf("aws_s3_bucket.b", 1, 3, path="m/main.tf")
    other = tf("aws_s3_bucket.c", 5, 7, path="m/main.tf")
    assert addresses(expand_related([], groups_of(bucket, other), seeds)) == {"aws_s3_bucket.b"}


def test_cloudformation_references_use_logical_ids() -> None:
    def cfn(logical: str, refs: set[str] = frozenset()) -> Resource:  # type: ignore[assignment]
        return Resource("cloudformation", "resource", "AWS::X", f"Resources.{logical}", "t.yaml", 1, 2,
                        Node({}, 1, 2), frozenset(refs))

    bucket, policy, lone = cfn("Bucket"), cfn("Policy", {"Bucket"}), cfn("Lone")
    assert addresses(expand_related([policy], groups_of(bucket, policy, lone))) == {"Resources.Policy",
                                                                                   "Resources.Bucket"}


def test_an_edited_base_resource_does_not_recheck_other_readers_of_its_variables() -> None:
    base_a = tf("aws_ebs_volume.a", 5, 9, {"var.size"}, path="m/main.tf")
    edit = parse_file_patch("m/main.tf", "@@ -5,5 +5,4 @@\n x\n-  iops = 3000\n y\n z\n w", "modified")
    seeds = base_seeds([base_a], {"m/main.tf": edit})
    var = tf("var.size", 1, 3, kind="variable", path="m/vars.tf")
    head_a = tf("aws_ebs_volume.a", 5, 8, {"var.size"})
    other = tf("aws_ebs_volume.b", 10, 13, {"var.size"})
    reader_of_a = tf("aws_volume_attachment.x", 15, 18, {"aws_ebs_volume.a"})
    selected = expand_related([], groups_of(var, head_a, other, reader_of_a), seeds)
    assert addresses(selected) == {"var.size", "aws_volume_attachment.x"}


def test_when_everything_is_touched_the_selection_is_the_touched_resources_in_their_order() -> None:
    bucket = tf("aws_s3_bucket.b", 1, 3)
    sse = tf("aws_s3_bucket_server_side_encryption_configuration.b", 5, 9, {"aws_s3_bucket.b"})
    call = tf("module.m", 11, 13, kind="module")
    everything = [sse, call, bucket]
    assert expand_related(everything, groups_of(bucket, sse, call)) == everything
    assert addresses(expand_related([sse, call], groups_of(bucket, sse, call))) == addresses(everything)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), max_size=4), max_size=12), st.lists(st.lists(st.integers(0, 3),
       min_size=1, max_size=4), max_size=4))
def test_a_selected_call_brings_exactly_the_resources_whose_calls_begin_with_it(chains: list[list[int]],
                                                                                called: list[list[int]]) -> None:
    """Call chains of small numbers (site n: module.mn, written on line n of caller.tf): a resource
    is brought in when some selected call's chain (its own calls, then itself) begins its calls."""
    def site(n: int) -> CallSite:
        return CallSite("caller.tf", f"m{n}", n + 1, n + 1)

    made = [replace(tf(f"aws_s3_bucket.r{i}", 1, 2, path=f"mod{i}/main.tf"), calls=tuple(site(n) for n in chain))
            for i, chain in enumerate(chains)]
    calls = [replace(tf(f"module.m{chain[-1]}", chain[-1] + 1, chain[-1] + 1, kind="module", path="caller.tf"),
                     calls=tuple(site(n) for n in chain[:-1])) for chain in called]
    wanted = {tuple(site(n) for n in chain) for chain in called}
    expected = {r.address for r in made
                if any(len(r.calls) >= len(w) and r.calls[:len(w)] == w for w in wanted)}
    groups = groups_of(*made)
    assert addresses(_instances_of_calls(calls, groups)) == expected
