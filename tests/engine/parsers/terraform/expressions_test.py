"""The expression evaluator: Terraform's values where Terraform is certain, Unknown elsewhere.

Most cases are written as Terraform source and evaluated as python-hcl2 renders them (the text
the parser really hands over: Python-repr and inline containers, `True`, a dropped `...`), so
the table checks what a rule would see; a few feed hand-written text to `evaluate` directly.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.model import Origin, Unknown
from bot.engine.parsers.terraform import parse_module
from bot.engine.parsers.terraform.expressions import (
    MAX_EXPRESSION_CHARS,
    Resolved,
    evaluate,
)
from bot.engine.parsers.terraform.grammar import load_hcl

UNKNOWN = object()  # any Unknown: the expected value of a case that must not be known

VALUES: dict[tuple[str, str], Any] = {
    ("var", "on"): True,
    ("var", "off"): False,
    ("var", "flag"): "true",
    ("var", "n"): 3,
    ("var", "half"): 0.5,
    ("var", "name"): "svc",
    ("var", "nothing"): None,
    ("var", "empty"): "",
    ("var", "kms_key_id"): None,
    ("var", "tags"): {"team": "core", "env": "prod"},
    ("var", "zones"): ["a", "b"],
    ("var", "ports"): [80, 443],
    ("var", "lol"): [["a"], ["b"]],
    ("var", "none"): [],
    ("var", "mixed"): ["a", 1, True],
    ("var", "numbers_and_bools"): [1, True],
    ("var", "with_nulls"): ["a", None, ""],
    ("var", "cfg"): {"encrypted": True, "kms": None},
    ("var", "settings"): {},
    ("var", "partial"): {"known": 1, "later": Unknown("aws_kms_key.k.arn")},
    ("var", "keyed"): {"${(var.k)}": 1, "fixed": 2},
    ("var", "required"): Unknown("var.required"),
    ("local", "tags"): {"owner": "ops", "Env": "dev"},
}


def origin(kind: str, name: str) -> Origin:
    return Origin(f"{kind}.{name}", "variables.tf", 1, f"{name} = ...", f"the value of {kind}.{name}")


def lookup(kind: str, name: str) -> Resolved | None:
    if (kind, name) not in VALUES:
        return None
    return Resolved(VALUES[(kind, name)], origin(kind, name))


def rendered(source: str) -> str:
    """The `${...}` body python-hcl2 renders for `source`, as the parser hands it over."""
    raw = load_hcl(f"locals {{\n  x = {source}\n}}\n")["locals"][0]["x"]
    assert isinstance(raw, str) and raw.startswith("${") and raw.endswith("}"), raw
    return raw[2:-1]


def same(actual: Any, expected: Any) -> bool:
    """Equal values of equal types all the way down (`True` is not `1`, `1` is not `1.0`)."""
    if expected is UNKNOWN:
        return isinstance(actual, Unknown)
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(same(actual[k], v) for k, v in expected.items())
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected))
    return bool(actual == expected)


CASES = [
    # literals (hcl2 renders them as `(True)`, `(None)`, `(${1e3})`...)
    ("(1)", 1),
    ("(1.5)", 1.5),
    ("(-1)", -1),
    ("(1e3)", 1000.0),
    ("(true)", True),
    ("(false)", False),
    ("(null)", None),
    ('("a\\tb\\u00e9")', "a\tb\u00e9"),
    ('("$${x} %%{y}")', "${x} %{y}"),
    ('("${var.name}-${var.n}-${var.on}")', "svc-3-true"),
    ('("${var.half}")', 0.5),  # a lone interpolation is the value itself
    ('("x${var.half}")', "x0.5"),
    ('("x${var.nothing}")', UNKNOWN),  # null in a template is an error
    ('("x${var.zones}")', UNKNOWN),
    ("(var.off ? [\"a\"] : [\"b\", \"c\", null])", ["b", "c", None]),
    ("(var.off ? [\"a\"] : [\"b\", 2, true])", UNKNOWN),  # unified to list(string): 2 becomes "2"
    ("(var.on ? {a = \"x\", b = \"y\"} : {})", {"a": "x", "b": "y"}),
    ("(var.on ? {a = \"x\", b = [1]} : {})", UNKNOWN),  # Terraform: inconsistent conditional result types
    # references and steps
    ("var.tags.team", "core"),
    ('var.tags["env"]', "prod"),
    ("var.zones[1]", "b"),
    ('var.zones["1"]', "b"),  # Terraform converts the key
    ("var.zones.0", "a"),
    ("var.zones[5]", UNKNOWN),
    ("var.zones[-1]", UNKNOWN),
    ("var.zones.name", UNKNOWN),
    ("var.cfg.kms", None),
    ("var.cfg.kms.id", UNKNOWN),
    ("var.partial.later", UNKNOWN),
    ("var.keyed.fixed", 2),
    ("var.keyed.other", UNKNOWN),  # may be the key `(var.k)` names
    ("local.tags.owner", "ops"),
    ("var.undeclared", UNKNOWN),
    ("var.required", UNKNOWN),
    ("aws_kms_key.this.arn", UNKNOWN),
    ("data.aws_caller_identity.current.account_id", UNKNOWN),
    ("module.vpc.id", UNKNOWN),
    ("each.key", UNKNOWN),
    ("count.index", UNKNOWN),
    ("path.module", UNKNOWN),
    ("terraform.workspace", UNKNOWN),
    ("self.id", UNKNOWN),
    # unary operators, arithmetic, comparison
    ("!var.on", False),
    ("!var.flag", False),  # "true" converts to a bool
    ("!var.nothing", UNKNOWN),
    ("!var.name", UNKNOWN),
    ("-var.n", -3),
    ('-"5"', -5),
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 - 2 - 3", 5),
    ("2 * 3 % 4", 2),
    ("7 / 2", 3.5),
    ("6 / 3", 2),
    ("-7 % 3", -1),  # truncated, as cty computes it
    ("7 % -3", 1),
    ("1 / 3", UNKNOWN),  # Terraform rounds to 512 bits
    ("0.1 + 0.2", UNKNOWN),
    ("0.5 + 0.25", 0.75),
    ("var.half * 4", 2),
    ('"5" + 1', 6),
    ('"a" + 1', UNKNOWN),
    ("true + 1", UNKNOWN),
    ("1 / 0", UNKNOWN),
    ("aws_x.y + 1", UNKNOWN),
    ("0 * aws_x.y", UNKNOWN),
    ("2 > 1", True),
    ('"10" > 9', True),
    ("1 <= 1.0", True),
    ('("a" < "b")', UNKNOWN),  # unparenthesised, hcl2 turns `"a" < "b"` into the string `a" < "b`
    ("1 < 2 < 3", UNKNOWN),  # (1 < 2) < 3 compares a bool
    # equality: no conversion
    ("1 == 1.0", True),
    ('"1" == 1', False),
    ('"true" == true', False),
    ('("a" == "a")', True),
    ('var.name == "svc"', True),
    ('var.name != "svc"', False),
    ("var.flag == true", UNKNOWN),  # a `type = bool` would make it true
    ('var.n == "3"', UNKNOWN),
    ('var.name == 3', False),
    ("var.nothing == null", True),
    ("var.tags == null", False),
    ("var.tags != null", True),
    ("null == null", True),
    ('var.zones == ["a"]', False),  # lengths differ
    ('var.zones == ["a", "b"]', UNKNOWN),  # a list and a tuple differ in type
    ("aws_x.y == null", UNKNOWN),
    # && and ||: a deciding side wins over an unknown (or failing) one
    ("true && false", False),
    ("var.on && var.off", False),
    ("false && aws_x.y", False),
    ("aws_x.y && false", False),
    ("true || aws_x.y", True),
    ("aws_x.y || true", True),
    ("aws_x.y || false", UNKNOWN),
    ("true && aws_x.y", UNKNOWN),
    ("false || var.zones[9]", UNKNOWN),
    ("var.zones[9] && false", UNKNOWN),  # Terraform 1.11 fails on the error, newer HCL says false
    ("true && var.zones[9]", UNKNOWN),  # fails in every version
    ('"true" && true', True),
    ("1 && true", UNKNOWN),
    ("false && 1", UNKNOWN),  # a conversion error fails the operation
    ("!(1 == 1) || var.on", True),
    ("!var.off == true", True),
    ("-var.n * 2", -6),
    ("1 + 2 == 3 && 2 < 3", True),
    ("true || false && false", True),
    ("false && false || true", True),
    # conditionals
    ('var.on ? "yes" : "no"', "yes"),
    ("var.flag ? 1 : 2", 1),
    ('var.off ? 1 : "two"', "two"),
    ('var.on ? 1 : "two"', "1"),  # both branches unify to string
    ("var.on ? 1 : true", UNKNOWN),  # number and bool do not unify
    ("var.nothing ? 1 : 2", UNKNOWN),
    ('"yes" ? 1 : 2', UNKNOWN),
    ('aws_x.y ? "same" : "same"', "same"),
    ("aws_x.y ? var.name : var.name", "svc"),
    ("aws_x.y ? 1 : 2", UNKNOWN),
    ("var.on ? var.tags : {}", {"team": "core", "env": "prod"}),
    ("var.on ? var.cfg.encrypted : var.cfg.missing", True),  # the other branch's error is ignored
    ("var.off ? var.cfg.encrypted : var.cfg.missing", UNKNOWN),
    ("var.off ? 1 : var.on ? 2 : 3", 2),
    ('var.on ? null : "x"', None),
    ("var.enabled ? true : false", UNKNOWN),  # not declared
    # try and can
    ("try(var.cfg.encrypted, false)", True),
    ("try(var.cfg.missing, false)", False),
    ("try(var.zones[5], \"none\")", "none"),
    ("try(var.required, false)", UNKNOWN),  # an Unknown is not an error
    ("try(var.partial, {})", UNKNOWN),  # nor is a value holding one
    ("try(var.partial.known, 0)", 1),
    ('try(tobool("yes"), false)', False),
    ("try(aws_x.y, 1)", UNKNOWN),
    ("try(var.cfg.missing, var.cfg.other)", UNKNOWN),
    ("can(var.cfg.encrypted)", True),
    ("can(var.cfg.missing)", False),
    ('can(tonumber("x"))', False),
    ("can(var.required)", UNKNOWN),
    # coalesce and coalescelist
    ('coalesce(var.nothing, var.empty, "a")', "a"),
    ('coalesce("a", aws_x.y)', "a"),
    ('coalesce(aws_x.y, "a")', UNKNOWN),
    ("coalesce(var.nothing, 1)", 1),
    ('coalesce("", 1)', "1"),  # the arguments unify to string
    ('coalesce(null, "")', UNKNOWN),
    ("coalesce(1, true)", UNKNOWN),
    ("coalesce(var.kms_key_id, aws_kms_key.this.arn)", UNKNOWN),
    ('coalesce(var.name, "x")', "svc"),
    ("coalescelist(var.none, var.zones)", ["a", "b"]),
    ("coalescelist(var.zones, aws_x.y)", ["a", "b"]),
    ("coalescelist(aws_x.y, var.zones)", UNKNOWN),
    ("coalescelist(var.none, var.none)", UNKNOWN),
    ('coalescelist(var.zones, "x")', UNKNOWN),
    # lookup, merge, keys, values
    ('lookup(var.tags, "team", "x")', "core"),
    ('lookup(var.tags, "nope", "x")', "x"),
    ('lookup(var.tags, "nope")', UNKNOWN),
    ('lookup(var.settings, "encrypted", true)', True),
    ('lookup({a = 1}, "a", 2)', 1),
    ('lookup(var.zones, "a", 1)', UNKNOWN),
    ('lookup(aws_x.y, "k", 1)', UNKNOWN),
    ('lookup(var.keyed, "nope", 1)', UNKNOWN),
    ('merge(local.tags, {Env = "prod"})', {"Env": "prod", "owner": "ops"}),
    ('merge(var.tags, {team = "x"}, null)', {"env": "prod", "team": "x"}),
    ("merge(var.tags, {Env = aws_x.y})", {"Env": UNKNOWN, "env": "prod", "team": "core"}),
    ("merge(var.partial, {a = 1})", {"a": 1, "known": 1, "later": UNKNOWN}),
    ("merge(var.tags, aws_x.y)", UNKNOWN),
    ("merge(var.keyed)", UNKNOWN),
    ("merge()", {}),
    ("merge(var.zones)", UNKNOWN),
    ("keys(var.tags)", ["env", "team"]),
    ("values(var.tags)", ["prod", "core"]),
    ("keys(var.zones)", UNKNOWN),
    # lists
    ('concat(var.zones, ["c"])', ["a", "b", "c"]),
    ("concat(var.zones, [var.name])", ["a", "b", "svc"]),
    ('concat(["1"], var.zones)', [UNKNOWN, "a", "b"]),  # hcl2 renders 1 and "1" alike inside a call
    ("concat(var.zones, [1])", UNKNOWN),  # and concat(var.zones, [1]...) cannot be ruled out
    ("concat(var.lol)", UNKNOWN),  # or concat(var.lol...): hcl2 drops the `...`
    ("concat(var.zones, aws_x.y)", UNKNOWN),
    ("concat()", UNKNOWN),
    ('concat("a")', UNKNOWN),
    ('contains(var.zones, "a")', True),
    ('contains(var.zones, "z")', False),
    ('contains(["a", "b"], var.name)', False),
    ("contains(var.ports, 443)", True),
    ('contains(var.ports, "443")', UNKNOWN),
    ("contains(var.ports, aws_x.y)", UNKNOWN),
    ('contains([aws_x.y, "svc"], var.name)', True),
    ('contains([aws_x.y], "svc")', UNKNOWN),
    ("contains(var.none, aws_x.y)", False),
    ("length(var.zones)", 2),
    ("length(var.tags)", 2),
    ("length(var.partial)", 2),
    ('length("h\u00e9llo")', 5),
    ('length("e\\u0301")', 1),  # normalised to one character
    ('length("\u0915\u094d")', UNKNOWN),  # one grapheme cluster of two characters
    ('length("")', 0),
    ("length(null)", UNKNOWN),
    ("length(5)", UNKNOWN),
    ("element(var.zones, 3)", "b"),  # wraps around
    ("element(var.zones, -1)", UNKNOWN),  # an error in Terraform 1.11, the last element later
    ("element(var.none, 0)", UNKNOWN),
    ("element(var.zones, 1.5)", UNKNOWN),
    ('compact(["a", "", "b"])', ["a", "b"]),
    ("compact(var.with_nulls)", ["a"]),
    ('distinct(["a", "b", "a"])', ["a", "b"]),
    ("distinct(var.mixed)", ["a", "1", "true"]),
    ("flatten(var.lol)", ["a", "b"]),
    ('flatten([["a"], [["b"]]])', ["a", "b"]),
    ("flatten([aws_x.y])", UNKNOWN),
    ('join(",", var.zones)', "a,b"),
    ('join("-", var.zones, ["c"])', "a-b-c"),
    ('join(",", var.ports)', "80,443"),
    ('join(",", [aws_x.y])', UNKNOWN),
    # conversions
    ('tobool("true")', True),
    ("tobool(var.flag)", True),
    ('tobool("1")', True),
    ('tobool("yes")', UNKNOWN),
    ("tobool(null)", None),
    ("tobool(1)", UNKNOWN),
    ("tostring(5)", "5"),
    ("tostring(true)", "true"),
    ("tostring(1.5)", "1.5"),
    ("tostring(2.0)", "2"),
    ("tostring(var.zones)", UNKNOWN),
    ("tostring(null)", None),
    ('tonumber("5")', 5),
    ('tonumber("1.5")', 1.5),
    ('tonumber("1e3")', 1000),
    ('tonumber("x")', UNKNOWN),
    ('tonumber("\u0663")', UNKNOWN),  # an Arabic-Indic 3: Python reads it, Go does not
    ("tonumber(true)", UNKNOWN),
    ("tonumber(null)", None),
    ("tolist(var.mixed)", ["a", "1", "true"]),
    ("tolist(var.numbers_and_bools)", UNKNOWN),
    ("tolist(var.tags)", UNKNOWN),
    ('toset(["b", "a", "b"])', ["a", "b"]),
    ("toset(var.mixed)", ["1", "a", "true"]),
    ("toset(var.ports)", [80, 443]),
    ("length(toset(var.zones))", 2),
    ('tomap({a = 1, b = "x"})', {"a": "1", "b": "x"}),
    ("tomap(var.zones)", UNKNOWN),
    # strings
    ('lower("ABC")', "abc"),
    ('upper("stra\u00dfe")', UNKNOWN),  # Python would write SS; Go keeps one character
    ("upper(5)", "5"),
    ('trimspace("  x \\n")', "x"),
    ('trimspace("\\u001fx")', "\x1fx"),  # not space to Go, unlike Python
    ('format("%s-%d", var.name, var.n)', "svc-3"),
    ('format("%v", true)', "true"),
    ('format("%v", 1000000)', "1e+06"),
    ('format("%v", null)', UNKNOWN),  # Terraform leaves it unknown
    ('format("%d", "5")', "5"),
    ('format("%d", 1.5)', UNKNOWN),
    ('format("%s")', UNKNOWN),
    ('format("x", 1)', UNKNOWN),
    ('format("%5s", "a")', UNKNOWN),
    ('format("100%%")', "100%"),
    ('format("%s", var.zones)', UNKNOWN),
    ('startswith(var.name, "sv")', True),
    ('endswith("abc", "bc")', True),
    ('startswith(aws_x.y, "")', True),
    ('startswith(aws_x.y, "a")', UNKNOWN),
    # not evaluated
    ('file("x")', UNKNOWN),
    ('templatefile("x.tpl", {})', UNKNOWN),
    ("jsonencode({a = 1})", UNKNOWN),
    ("max(1, 2)", UNKNOWN),
    ("var.zones[*]", UNKNOWN),
    ('provider::aws::arn_parse("x")', UNKNOWN),
    ("upper(aws_x.y)", UNKNOWN),
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_expressions_evaluate_as_terraform_would(source: str, expected: Any) -> None:
    text = rendered(source)
    result = evaluate(text, lookup)
    assert same(result.value, expected), (text, result.value)
    if isinstance(result.value, Unknown):
        assert result.value.expression == text  # names what was written


# `for` expressions, each checked with `terraform console` (1.11) on the same values, with a
# resource attribute where `aws_x.y` stands (Unknown here, "known after apply" there).
FOR_CASES = [
    # over a list or tuple: (index, element)
    ("[for z in var.zones : z]", ["a", "b"]),
    ("[for z in var.zones : upper(z)]", ["A", "B"]),
    ('[for i, z in var.zones : "${i}:${z}"]', ["0:a", "1:b"]),
    ("[for i, z in var.zones : i]", [0, 1]),
    ('[for z in var.zones : z if z != "a"]', ["b"]),
    ("[for p in var.ports : p if p > 100]", [443]),
    ("[for z in var.zones : {name = z}]", [{"name": "a"}, {"name": "b"}]),  # a JSON object in the body
    ('[for z in var.zones : [z, "y"]]', [["a", "y"], ["b", "y"]]),  # an inline list in the body
    ("[for z in var.none : z]", []),
    ("[for z in var.with_nulls : z]", ["a", None, ""]),
    ("[for x in var.lol : x[0]]", ["a", "b"]),
    ('[for z in ["a", "b"] : z]', ["a", "b"]),  # an inline list as the collection
    ("length([for p in var.ports : p])", 2),
    ("[for z in var.zones : z][1]", "b"),
    ("[for z in var.zones : local.tags.owner]", ["ops", "ops"]),  # var. and local. still go to lookup
    ("(var.on ? [for z in var.zones : upper(z)] : [])", ["A", "B"]),
    # over a set: (element, element), in the set's order
    ('[for z in toset(["b", "a", "b"]) : z]', ["a", "b"]),
    ('[for k, v in toset(["b", "a"]) : "${k}=${v}"]', ["a=a", "b=b"]),
    ("[for i, p in toset(var.ports) : i]", [80, 443]),
    # over a map or object: (key, value) by key, as Go orders the bytes
    ('[for k, v in var.tags : "${k}=${v}"]', ["env=prod", "team=core"]),
    ("[for v in var.tags : v]", ["prod", "core"]),
    ("[for k, v in local.tags : k]", ["Env", "owner"]),
    # object `for`: keys become strings, attributes are ordered by name
    ("{for k, v in var.tags : k => upper(v)}", {"env": "PROD", "team": "CORE"}),
    ("{for k, v in var.tags : v => k}", {"core": "team", "prod": "env"}),
    ("{for z in var.zones : z => length(z)}", {"a": 1, "b": 1}),
    ("{for i, z in var.zones : i => z}", {"0": "a", "1": "b"}),
    ("{for p in var.ports : p => p}", {"443": 443, "80": 80}),
    ("{for x in var.mixed : x => x}", {"1": 1, "a": "a", "true": True}),
    ('{for k, v in var.tags : k => v if k != "env"}', {"team": "core"}),
    ("{for z in var.zones : z => z if false}", {}),
    # grouping: duplicates gather into tuples, in iteration order
    ('{for z in ["a", "b", "a"] : z => z...}', {"a": ["a", "a"], "b": ["b"]}),
    ('{for k, v in var.tags : "all" => v...}', {"all": ["prod", "core"]}),
    ('{for z in ["a", "b", "a"] : z => 1... if z != "b"}', {"a": [1, 1]}),
    # nested: the inner `for` sees the outer's names; the same name shadows; names stay inside
    ("[for x in var.lol : [for y in x : upper(y)]]", [["A"], ["B"]]),
    ('[for x in var.lol : [for x in x : "${x}!"]]', [["a!"], ["b!"]]),
    ("flatten([for x in var.lol : [for y in x : y]])", ["a", "b"]),
    ("merge({for z in var.zones : z => z}, {z = z})", {"a": "a", "b": "b", "z": UNKNOWN}),
    ("[for var in [{n = 1}] : var.n]", [1]),  # the iteration variable shadows `var`
    ("[for local in var.zones : local]", ["a", "b"]),
    ("[for x, x in var.zones : x]", ["a", "b"]),  # the element wins over the index
    # Unknown collections, elements, keys and conditions
    ("[for x in var.required : x]", UNKNOWN),
    ("[for x in aws_x.y : x if false]", UNKNOWN),  # it may yet be null, or a string
    ('[for x in [aws_x.y, "b"] : x]', [UNKNOWN, "b"]),
    ('[for x in [aws_x.y, "b"] : upper(x)]', [UNKNOWN, "B"]),
    ('[for x in [aws_x.y, "b"] : "k"]', ["k", "k"]),
    ('length([for x in [aws_x.y, "b"] : x])', 2),
    ('[for x in [aws_x.y, "b"] : x if x != "b"]', UNKNOWN),  # how many are kept is unknown
    ('[for x in [aws_x.y, "b"] : x if false]', []),  # the rds shape: false for each element
    ('[for x in [aws_x.y, "b"] : x if var.off && x]', UNKNOWN),  # `false && "b"` fails
    ("[for x in [aws_x.y] : x if aws_x.z]", UNKNOWN),
    ("toset([for x in var.zones : x if var.on && var.off])", []),
    ('{for x in [aws_x.y, "b"] : x => 1}', UNKNOWN),  # an unknown key: the attributes are unknown
    ('{for x in ["a", "b"] : x => aws_x.y}', {"a": UNKNOWN, "b": UNKNOWN}),
    ("{for k, v in var.partial : k => v}", {"known": 1, "later": UNKNOWN}),
    ("[for k, v in var.keyed : k]", UNKNOWN),  # a key hcl2 left as an expression
    # Terraform's errors: Unknown, and `try` and `can` catch them
    ("[for x in null : x]", UNKNOWN),
    ("can([for x in null : x])", False),
    ('try([for x in var.nothing : x], ["d"])', ["d"]),
    ("can([for x in var.name : x])", False),  # a string is not a collection
    ("can([for x in var.n : x])", False),
    ("can([for x in var.zones : x if 1])", False),  # `if` must be a bool
    ("can([for x in var.zones : x if null])", False),
    ("can([for x in var.none : x if null])", False),  # checked even when there is no element
    ('can([for x in var.none : x if "yes"])', False),
    ('can([for x in var.none : x if x + "a" > 0])', False),
    ('[for x in var.zones : x if "true"]', ["a", "b"]),  # converts to a bool
    ("[for x in var.zones : x if var.flag]", ["a", "b"]),
    ("can([for x in var.with_nulls : x if x])", False),
    ('try([for x in var.zones : x.name], "none")', "none"),
    ("[for x in var.none : x.name]", []),  # no element, so the body never runs
    ("[for x in var.none : x if x.name]", []),
    ("[for x in var.lol : x.name if aws_x.y]", UNKNOWN),  # it fails only if an element is kept
    ("can([for x in var.lol : x.name if aws_x.y])", UNKNOWN),
    ('{for z in var.zones : "k" => z}', UNKNOWN),  # a duplicate key without `...`
    ('try({for z in var.zones : "k" => z}, {})', {}),
    ('can({for z in var.zones : "k" => z...})', True),
    ('can({for x in [aws_x.y, "a", "a"] : x => 1})', False),  # a duplicate whatever aws_x.y is
    ("can({for z in var.with_nulls : z => 1})", False),  # a null key
    ("can({for x in var.lol : x => 1})", False),  # a list is not a key
]


@pytest.mark.parametrize(("source", "expected"), FOR_CASES, ids=[c[0] for c in FOR_CASES])
def test_for_expressions_evaluate_as_terraform_would(source: str, expected: Any) -> None:
    text = rendered(source)
    result = evaluate(text, lookup)
    assert same(result.value, expected), (text, result.value)
    if isinstance(result.value, Unknown):
        assert result.value.expression == text
    if source.startswith(("[for", "{for")):
        assert result.origin is None  # computed, even when it holds a referenced value unchanged


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("[for i, x in var.l : x if x]", "[for i , x in var.l : x if x]"),
        ('{for k, v in var.m : v => k... if k != "a"}', '{for k , v in var.m : v => k ... if k != "a"}'),
        ("toset([for x in var.l : x])", "toset([for x in var.l : x])"),
        ('[for x in ["a", 1] : {k = x, n = [x, "y"]}]', '[for x in [a, 1] : {"k": "${x}", "n": ["${x}", "y"]}]'),
        ('[for x in var.l : [x, "y"]]', "[for x in var.l : [${x}, y]]"),
        ("[for x in var.l : null]", "[for x in var.l : None]"),
        ("var.c ? [for x in var.l : [x]] : []", "var.c ? [for x in var.l : [${x}]] : []"),
        ("[[for x in var.l : x]]", None),  # a list at the top: each element is its own `${...}`
    ],
)
def test_hcl2_renders_a_for_as_spaced_tokens_with_inline_parts(source: str, text: str | None) -> None:
    """What the parser relies on: hcl2 joins a `for`'s tokens with single spaces and renders each
    part as a call argument (inline lists, JSON objects, `None`); nested in a value it is a string."""
    if text is None:
        assert load_hcl(f"locals {{\n  x = {source}\n}}\n")["locals"][0]["x"] == ["${[for x in var.l : x]}"]
    else:
        assert rendered(source) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("True", True),
        ("None", None),
        ("${1e3}", 1000.0),
        ("[a, ${var.name}, [b], {\"k\": 1}]", [UNKNOWN, "svc", [UNKNOWN], {"k": 1}]),  # plain HCL: `a` is a reference
        ("concat([a, ${var.name}, , [b]], [])", UNKNOWN),  # `[]` in a call may be `[""]`
        ('concat([a, ${var.name}, , [b]], ["x"])', UNKNOWN),  # quotes: not how hcl2 writes a call's list
        ("concat([a, ${var.name}, , [b]], [x])", ["a", "svc", "", ["b"], "x"]),
        ('merge({"Name": "${format("%s-x", var.name)}"}, {})', {"Name": "svc-x"}),  # hcl2 leaves quotes bare
        ('merge({"a.b": 1}, {})', UNKNOWN),  # `a.b = 1` and `"a.b" = 1` render alike
        ("(['x', \"it's\", '${var.n}'])", ["x", "it's", 3]),
        ("concat(var.lol...)", ["a", "b"]),  # plain HCL keeps the `...`
        ('{ k = var.n, "k2" : 2, (var.name) = true }', {"k": 3, "k2": 2, "svc": True}),
        ("[var.name, 1, [true]]", ["svc", 1, [True]]),
        ('"%{if var.on}x%{endif}"', UNKNOWN),
        ("var", UNKNOWN),
        ("", UNKNOWN),
        ("1 +", UNKNOWN),
        ("(1", UNKNOWN),
        ("f(,)", UNKNOWN),
        ("[for z in var.zones: z if z == \"b\"]", ["b"]),  # plain HCL spacing reads too
        ("{ for k, v in var.tags: k => v }", {"env": "prod", "team": "core"}),
        ("concat([for x, y], [z])", UNKNOWN),  # an inline list of two strings, not a `for`
        ("[for x]", UNKNOWN),
        ("[for x in]", UNKNOWN),
        ("[for x in var.zones]", UNKNOWN),
        ("[for x in var.zones :]", UNKNOWN),
        ("[for x in var.zones : x if]", UNKNOWN),
        ("[for x in var.zones : x if x if x]", UNKNOWN),
        ("[for x in var.zones : x else x]", UNKNOWN),
        ("[for x in var.zones : x => x]", UNKNOWN),
        ("[for x in var.zones : x ...]", UNKNOWN),
        ("{for x in var.zones : x}", UNKNOWN),
        ("{for x, y, z in var.zones : x => y}", UNKNOWN),
        ("[for 1 in var.zones : 1]", UNKNOWN),
        ("[for None in var.zones : None]", UNKNOWN),  # hcl2 writes null as None: which is it?
        ("[for x in var.zones : x](0)", UNKNOWN),
    ],
)
def test_hcl2_renderings_and_plain_hcl_read_back(text: str, expected: Any) -> None:
    result = evaluate(text, lookup)
    assert same(result.value, expected), result.value


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("var.flag", origin("var", "flag")),
        ("(var.flag)", origin("var", "flag")),
        ("tobool(var.flag)", origin("var", "flag")),
        ("tostring(var.n)", origin("var", "n")),
        ("var.cfg.encrypted", origin("var", "cfg")),
        ("var.zones[0]", origin("var", "zones")),
        ("element(var.zones, 1)", origin("var", "zones")),
        ('("${var.name}")', origin("var", "name")),
        ("coalesce(var.nothing, var.name)", origin("var", "name")),
        ('coalesce(var.empty, var.n, "x")', origin("var", "n")),  # converted to "3", still its value
        ("coalescelist(var.none, var.zones)", origin("var", "zones")),
        ("try(var.cfg.missing, var.name)", origin("var", "name")),
        ('lookup(var.tags, "team", var.name)', origin("var", "tags")),
        ('lookup(var.tags, "nope", var.name)', origin("var", "name")),
        ("var.on ? var.name : var.flag", origin("var", "name")),
        ("var.off ? var.name : var.flag", origin("var", "flag")),
        ("aws_x.y ? var.name : var.name", origin("var", "name")),
        ("var.required", origin("var", "required")),
        ("aws_x.y ? var.name : local.tags.owner", None),
        ("upper(var.name)", None),
        ("var.n + 1", None),
        ("!var.on", None),
        ("var.name == \"svc\"", None),
        ('merge(var.tags, {})', None),
        ('concat(var.zones, ["c"])', None),
        ('("${var.name}-x")', None),
        ('"x"', None),
        ("can(var.cfg.encrypted)", None),
        ("length(var.zones)", None),
    ],
)
def test_a_referenced_value_keeps_its_origin_and_a_computed_one_has_none(source: str, expected: Origin | None) -> None:
    text = rendered(source) if not source.startswith('"x"') else '"x"'
    assert evaluate(text, lookup).origin == expected


def test_a_known_condition_or_short_circuit_does_not_need_the_other_side() -> None:
    calls: list[str] = []

    def counting(kind: str, name: str) -> Resolved | None:
        calls.append(name)
        return lookup(kind, name)

    assert evaluate("var.on ? var.name : aws_x.y", counting).value == "svc"
    assert evaluate("false && aws_x.y.z", counting).value is False
    assert evaluate('coalesce("a", aws_kms_key.k.arn)', counting).value == "a"
    assert sorted(calls) == ["name", "on"]


def test_unknowns_inside_values_stay_where_they_are() -> None:
    value = evaluate(rendered('(["${aws_x.y}", var.name, local.nope])'), lookup).value
    assert value == [Unknown("aws_x.y"), "svc", Unknown("local.nope")]  # named as Scope names them
    value = evaluate(rendered("merge(var.partial, {b = aws_x.y.id})"), lookup).value
    assert value == {"b": Unknown("aws_x.y.id"), "known": 1, "later": Unknown("aws_kms_key.k.arn")}


def test_a_failing_lookup_makes_the_expression_unknown_not_an_exception() -> None:
    def broken(kind: str, name: str) -> Resolved | None:
        raise RuntimeError("lookup failed")

    assert evaluate("var.x ? 1 : 2", broken) == Resolved(Unknown("var.x ? 1 : 2"), None)
    assert evaluate("1 + 1", broken).value == 2


# --- hostile input: Unknown, quickly, never an exception ------------------------------------------


def no_values(kind: str, name: str) -> Resolved | None:
    return None


@pytest.mark.parametrize(
    "text",
    [
        "(" * 5000 + "1" + ")" * 5000,
        "[" * 5000 + "]" * 5000,
        "{" * 5000 + "}" * 5000,
        "!" * 20000 + "true",
        "-" * 20000 + "1",
        "f(" * 3000 + ")" * 3000,
        "true ? " * 10000 + "1" + " : 2" * 10000,
        '"${' * 3000 + "1" + '}"' * 3000,
        "[" * 50000,
        '"' * 50000,
        "'" * 50000,
        "${" * 30000,
        "1" * 5000,
        "9" * 400 + "e99999",
        'tonumber("1e999999999")',
        "x" * (MAX_EXPRESSION_CHARS + 1),
        "format(\"%s%s\", " * 2000 + '"a", "a"' + ")" * 2000,
    ],
    ids=lambda text: f"{text[:20]!r}...({len(text)} chars)",
)
def test_hostile_input_is_unknown(text: str) -> None:
    result = evaluate(text, no_values)
    assert isinstance(result.value, Unknown) and result.value.expression == text


BIG: dict[tuple[str, str], Any] = {("var", "big"): list(range(1000)), ("var", "huge"): ["a"] * 2_000_000}


def big_lookup(kind: str, name: str) -> Resolved | None:
    return Resolved(BIG[(kind, name)], None) if (kind, name) in BIG else None


@pytest.mark.parametrize(
    "text",
    [
        "[for a in var.big : [for b in var.big : [for c in var.big : [for d in var.big : d]]]]",
        "{for a in var.big : a => {for b in var.big : b => [for c in var.big : c]...}}",
        "[for x in var.huge : x]",
        "{for i, x in var.huge : i => x}",
        "[for x in var.huge : x if false]",
        "[for x in " * 2000 + "var.big" + " : x]" * 2000,
        "[for x in var.big : " * 2000 + "x" + "]" * 2000,
        "concat(" + ", ".join(["[for x in var.big : x]"] * 2000) + ")",
        "[for x in var.big : x if " + " && ".join(["x == x"] * 5000) + "]",
        "[for x in var.big : " + "[" * 3000 + "x" + "]" * 3000 + "]",
    ],
    ids=lambda text: f"{text[:30]!r}...({len(text)} chars)",
)
def test_for_floods_stop_within_the_work_and_depth_limits(text: str) -> None:
    """Each element charges the work, so nested or huge iterations end in Unknown, not in a hang."""
    result = evaluate(text, big_lookup)
    assert isinstance(result.value, Unknown) and result.value.expression == text


def test_a_for_over_a_big_collection_within_the_limits_is_evaluated() -> None:
    assert evaluate("length([for x in var.big : x if x % 2 == 0])", big_lookup).value == 500
    assert evaluate("[for a in var.big : a][999]", big_lookup).value == 999


def test_locals_built_by_nested_fors_share_one_budget() -> None:
    """Each local iterates the previous one twice over: Terraform's value would be astronomical."""
    lines = ["  l0 = [for i in [1, 2, 3] : i]"]
    lines += [f"  l{i} = [for a in local.l{i - 1} : [for b in local.l{i - 1} : local.l{i - 1}]]" for i in range(1, 9)]
    text = "locals {\n" + "\n".join(lines) + "\n}\nresource \"x_y\" \"z\" {\n  v = length(local.l8)\n}\n"
    (resource,) = [r for r in parse_module({"main.tf": text})["main.tf"].resources if r.address == "x_y.z"]
    assert isinstance(resource.body.get("v").value, Unknown)  # type: ignore[union-attr]


def test_long_flat_input_is_evaluated_or_given_up_without_recursing() -> None:
    chain = " + ".join(["1"] * 20000)
    assert evaluate(chain, no_values).value in (20000, Unknown(chain))
    string = '"' + "a" * 90000 + '"'
    assert evaluate(string, no_values).value == "a" * 90000
    items = "[" + ", ".join(["'a'"] * 20000) + "]"
    assert evaluate(items, no_values).value in (["a"] * 20000, Unknown(items))


def test_work_is_shared_with_the_evaluations_a_lookup_starts() -> None:
    """Each local names the previous one 30 times: Terraform's value would hold 30^8 elements."""
    names = [f"l{i}" for i in range(9)]
    locals_block = "\n".join(
        f"  {name} = [{', '.join([f'local.{names[i - 1]}'] * 30)}]" if i else f"  {name} = concat([1], [2])"
        for i, name in enumerate(names)
    )
    text = f"locals {{\n{locals_block}\n}}\nresource \"x_y\" \"z\" {{\n  value = length(local.l8)\n}}\n"
    (resource,) = [r for r in parse_module({"main.tf": text})["main.tf"].resources if r.address == "x_y.z"]
    assert isinstance(resource.body.get("value").value, Unknown)  # type: ignore[union-attr]


def test_a_deep_value_from_a_lookup_is_given_up_not_recursed() -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = [deep]
    values: dict[tuple[str, str], Any] = {("var", "deep"): deep}

    def deep_lookup(kind: str, name: str) -> Resolved | None:
        return Resolved(values[(kind, name)], None) if (kind, name) in values else None

    for text in ("flatten(var.deep)", "try(var.deep, 1)", "var.deep == var.deep", "toset(var.deep)", "length(var.deep)"):
        result = evaluate(text, deep_lookup)
        assert isinstance(result.value, Unknown) or result.value == 1


ALPHABET = list("abcxyz_019 .,:;?!=<>+-*/%&|()[]{}'\"\\$~#\n\t") + [
    "var.", "local.", "${", "%{", "}", "true", "null", "None", "True", "...", "::", " ? ", " : ", "==", "&&",
    "try(", "can(", "coalesce(", "lookup(", "merge(", "concat(", "format(", "tobool(", "toset(", "flatten(",
    "element(", "join(", "\\u00e9", "'a'", '"a"', "[a, ", "{\"k\": ", "1e3", "-1", "0.5",
    "[for x in ", "{for k , v in ", "[for ", " in ", " if ", " => ", " ...", "x", "k", "v", " : x]",
]
LOOKUP_VALUES: dict[tuple[str, str], Any] = {
    ("var", "a"): ["a", ["b"], {"k": None}],
    ("var", "b"): {"k": [1, 2.5, True], "n": None},
    ("local", "a"): Unknown("x"),
    ("local", "b"): "1",
}


def fuzz_lookup(kind: str, name: str) -> Resolved | None:
    return Resolved(LOOKUP_VALUES[(kind, name)], None) if (kind, name) in LOOKUP_VALUES else None


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join))
def test_token_soup_never_raises(text: str) -> None:
    result = evaluate(text, fuzz_lookup)
    assert isinstance(result, Resolved)
    if isinstance(result.value, Unknown):
        assert result.value.expression == text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_never_raises(text: str) -> None:
    result = evaluate(text, fuzz_lookup)
    assert isinstance(result, Resolved)


# --- through the parser: what rules see ----------------------------------------------------------

MODULE = """\
variable "enabled" {
  default = true
}
variable "flag" {
  default = "false"
}
variable "kms_key_id" {
  default = null
}
variable "settings" {
  default = { encrypted = false }
}
locals {
  tags = { team = "core" }
}
resource "aws_ebs_volume" "v" {
  encrypted  = var.enabled ? true : false
  kms_key_id = coalesce(var.kms_key_id, aws_kms_key.this.arn)
  iops       = lookup(var.settings, "iops", 3000)
  throughput = try(var.settings.throughput, 125)
  tags       = merge(local.tags, { Env = "prod" })
  multi      = tobool(var.flag)
  public     = !var.enabled
  name       = "vol-${upper("a")}-${var.enabled}"
}
"""


def test_the_parser_resolves_expressions_through_variables_and_locals() -> None:
    (volume,) = [r for r in parse_module({"main.tf": MODULE})["main.tf"].resources if r.address == "aws_ebs_volume.v"]
    assert volume.body.plain() == {
        "encrypted": True,
        "kms_key_id": Unknown("coalesce(var.kms_key_id, aws_kms_key.this.arn)"),
        "iops": 3000,
        "throughput": 125,
        "tags": {"Env": "prod", "team": "core"},
        "multi": False,
        "public": False,
        "name": "vol-A-true",
    }
    tags = volume.body.get("tags")
    assert tags is not None and tags.get("Env") is not None and tags.line == tags.get("Env").line  # type: ignore[union-attr]


FOR_MODULE = """\
variable "zones" {
  default = ["a", "b"]
}
variable "create" {
  default = false
}
locals {
  names = [for z in var.zones : "vol-${z}"]
}
resource "aws_ebs_volume" "v" {
  for_each = toset([for z in var.zones : z if var.create])
  tags     = { for i, n in local.names : n => i }
  names    = [[for n in local.names : upper(n)], local.names]
  first    = { kept = [for z in var.zones : z if z == "a"] }
}
"""


def test_the_parser_resolves_for_expressions_in_values_and_through_locals() -> None:
    (volume,) = [r for r in parse_module({"main.tf": FOR_MODULE})["main.tf"].resources if r.address == "aws_ebs_volume.v"]
    assert volume.body.plain() == {
        "for_each": [],
        "tags": {"vol-a": 0, "vol-b": 1},
        "names": [["VOL-A", "VOL-B"], ["vol-a", "vol-b"]],
        "first": {"kept": ["a"]},
    }
    assert not volume.exists  # `for_each` is known to be empty
