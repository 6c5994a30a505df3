"""An organisation's custom rules (rules/spec/custom.py): what is accepted, and every way a file is
refused, each with its file, its line and a message in words."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.review import Engine
from bot.engine.rule import Rule
from bot.engine.tree import BinaryText, MemoryTree
from rules.registry import default_rule_set, with_custom_rules
from rules.spec import custom, inline_tests
from rules.spec.custom import CUSTOM_RULES_DIR, CustomRules, RuleFileError, load_custom_rules, rule_files
from rules.spec.inline_tests import Example
from tests.rules.linearity import assert_linear
from tests.rules.spec.custom_samples import OWNER_TAG, UNTAGGED_BUCKET, line_of

PATH = f"{CUSTOM_RULES_DIR}/owner-tag.yml"
# What no message a person reads may show: Python's own words for what went wrong.
PYTHON_WORDS = re.compile(r"Traceback|\w+Error\b|Exception|<class|NoneType|\bdict\b|\bstr\b|\bint\b")


def load(text: str, path: str = PATH) -> CustomRules:
    return load_custom_rules({path: text})


def refusal(text: str, path: str = PATH) -> RuleFileError:
    loaded = load(text, path)
    assert loaded.rules == ()
    (error,) = loaded.errors
    assert error.path == path
    assert not PYTHON_WORDS.search(error.message), error.message
    return error


def test_a_valid_rule_whose_examples_pass_is_accepted_and_flags_a_scan() -> None:
    loaded = load(OWNER_TAG)
    assert loaded.errors == ()
    (rule,) = loaded.rules
    assert (rule.id, rule.severity.value, rule.sources) == ("ACME-S3-001", "medium", frozenset({"terraform"}))
    rule_set = with_custom_rules(default_rule_set(), loaded.rules)
    assert rule_set.controls["ACME-S3-001"] == {"acme-policy": ("SEC-12",)}
    review = Engine(rule_set).scan(MemoryTree({"infra/main.tf": UNTAGGED_BUCKET}))
    assert [(f.rule_id, f.path, f.line) for f in review.findings if f.rule_id.startswith("ACME-")] == [
        ("ACME-S3-001", "infra/main.tf", 1)]
    assert rule_set.digest != default_rule_set().digest


def test_bad_yaml_is_refused_on_its_line() -> None:
    text = OWNER_TAG.replace("severity: medium", "severity: [medium")
    error = refusal(text)
    assert error.line >= line_of(text, "severity: [medium")
    assert error.message.startswith("not valid YAML")


def test_an_unknown_key_is_refused_on_the_key() -> None:
    text = OWNER_TAG.replace("    message: S3", "    mesage: S3")
    error = refusal(text)
    assert error.line == line_of(text, "mesage:")
    assert error.message.startswith("unknown key 'mesage' in a binding")


def test_an_unknown_key_in_an_example_is_refused_on_the_key() -> None:
    text = OWNER_TAG.replace("      lines: [1, 7]", "      lines: [1, 7]\n      language: hcl")
    error = refusal(text)
    assert error.line == line_of(text, "language: hcl")
    assert "unknown key 'language' in tests.flag[0]" in error.message


@pytest.mark.parametrize("rule_id", ["CB-AWS-001", "cb-aws-900", "CB-ACME-001"])
def test_an_id_of_compliance_bots_own_is_refused(rule_id: str) -> None:
    text = OWNER_TAG.replace("id: ACME-S3-001", f"id: {rule_id}")
    error = refusal(text)
    assert error.line == 1
    assert error.message == (f"id '{rule_id}' starts with CB-: that prefix belongs to Compliance Bot's own rules; "
                             "use your organisation's (ACME-S3-001)")


def test_an_alias_of_compliance_bots_own_is_refused() -> None:
    text = OWNER_TAG.replace("severity: medium", "severity: medium\naliases: [CB-AWS-001]")
    error = refusal(text)
    assert error.line == line_of(text, "aliases:")
    assert error.message.startswith("alias 'CB-AWS-001' starts with CB-")


@pytest.mark.parametrize("rule_id", ["acme-s3-001", "ACME", "ACME_S3_001", "A" * 17 + "-1"])
def test_an_id_not_of_the_custom_form_is_refused(rule_id: str) -> None:
    error = refusal(OWNER_TAG.replace("id: ACME-S3-001", f"id: {rule_id}"))
    assert error.message == f"id '{rule_id}' is not of the form PREFIX-NAME: capitals, digits and dashes, such as ACME-S3-001"


def test_an_id_taken_by_another_file_refuses_the_later_file_only() -> None:
    first, second = f"{CUSTOM_RULES_DIR}/a.yml", f"{CUSTOM_RULES_DIR}/b.yml"
    loaded = load_custom_rules({second: OWNER_TAG, first: OWNER_TAG})
    assert [rule.id for rule in loaded.rules] == ["ACME-S3-001"]
    assert [str(e) for e in loaded.errors] == [f"{second}:1: id 'ACME-S3-001' is already taken by {first}:1"]


def test_an_id_reserved_by_a_built_in_rule_is_refused() -> None:
    loaded = load_custom_rules({PATH: OWNER_TAG}, reserved={"ACME-S3-001"})
    assert [str(e) for e in loaded.errors] == [f"{PATH}:1: id 'ACME-S3-001' is already taken by a built-in rule"]


def test_a_flag_example_flagged_on_other_lines_is_refused_on_the_example() -> None:
    text = OWNER_TAG.replace("lines: [1, 7]", "lines: [2, 7]")
    error = refusal(text)
    assert error.line == line_of(text, "- path: main.tf")
    assert error.message == ("tests.flag[0] (main.tf) must be flagged on lines 2, 7, but the rule flagged lines 1, 7 "
                             "(line 1: S3 bucket has no owner tag (tags.owner is not set).)")


def test_a_flag_example_the_rule_does_not_read_says_why() -> None:
    text = OWNER_TAG.replace("    - path: main.tf\n      lines", "    - path: main.txt\n      lines")
    error = refusal(text)
    assert error.message.startswith("tests.flag[0] (main.txt) must be flagged on lines 1, 7, but the rule flagged "
                                    "nothing; the example holds nothing the rule reads (its path decides how it is read")


def test_a_pass_example_that_is_flagged_is_refused_on_the_example() -> None:
    text = OWNER_TAG.replace('owner = "platform"', 'owner = "Platform"')
    error = refusal(text)
    assert error.line == line_of(text, "- path: main.tf", line_of(text, "pass:"))
    assert error.message == ('tests.pass[0] (main.tf) must pass, but the rule flagged line 3: '
                             'S3 bucket has no owner tag (tags.owner = "Platform").')


def test_an_example_that_does_not_parse_is_refused_with_the_parsers_words() -> None:
    text = OWNER_TAG.replace('          tags   = { owner = "platform" }\n        }', '          tags   = {')
    error = refusal(text)
    assert error.line == line_of(text, "- path: main.tf", line_of(text, "pass:"))
    assert error.message.startswith("tests.pass[0] (main.tf): the example could not be read (main.tf line")


def test_every_failing_example_is_its_own_error() -> None:
    text = OWNER_TAG.replace("lines: [1, 7]", "lines: [1]").replace('owner = "platform"', 'owner = "Platform"')
    loaded = load(text)
    assert [e.message.split(" ")[0] for e in loaded.errors] == ["tests.flag[0]", "tests.pass[0]"]


@pytest.mark.parametrize(("name", "python"), [
    ("a module path", "os.system"),
    ("code", "__import__('os').system('id')"),
    ("a file path", "../../checks/evil.py"),
    ("a name not in the table", "acme_check"),
])
def test_python_names_only_a_built_in_check(name: str, python: str) -> None:
    text = OWNER_TAG.replace("check: {path: tags.owner, regex: '[a-z][a-z0-9-]*'}", f'check: {{python: "{python}"}}')
    error = refusal(text)
    assert error.line == line_of(text, "python:")
    assert error.message == (f"python: '{python}' is not a built-in check: custom rules may name only the checks "
                             "built into Compliance Bot (the table in docs/rule-language.md); no code is ever loaded "
                             "from a repository"), name


def test_a_built_in_check_may_be_named() -> None:
    text = OWNER_TAG.replace("check: {path: tags.owner, regex: '[a-z][a-z0-9-]*'}", "check: {python: aws_s3_public_acl}")
    text = text[: text.index("tests:")] + (
        "tests:\n  flag:\n    - path: main.tf\n      lines: [3]\n      content: |\n"
        '        resource "aws_s3_bucket" "b" {\n          bucket = "x"\n          acl    = "public-read"\n        }\n'
        "  pass:\n    - path: main.tf\n      content: |\n"
        '        resource "aws_s3_bucket" "b" {\n          bucket = "x"\n        }\n')
    loaded = load(text)
    assert loaded.errors == () and [r.id for r in loaded.rules] == ["ACME-S3-001"]


@pytest.mark.parametrize(("old", "new", "shown"), [
    ("title: S3 bucket has no owner tag", "title: !!python/object/apply:os.system [id]", "!!python/object/apply:os.system"),
    ("check: {path: tags.owner", "check: !!python/name:os.system {path: tags.owner", "!!python/name:os.system"),
    ("title: S3 bucket has no owner tag", "title: !include other.yml", "!include"),
])
def test_a_yaml_tag_is_refused_before_anything_is_constructed(old: str, new: str, shown: str) -> None:
    text = OWNER_TAG.replace(old, new)
    error = refusal(text)
    assert error.line == line_of(text, shown)
    assert error.message == f"the YAML tag {shown} is not allowed: a spec is plain data"


def test_anchors_and_aliases_are_refused() -> None:
    text = OWNER_TAG.replace("title: S3 bucket has no owner tag", "title: &t S3 bucket has no owner tag")
    text = text.replace("message: S3 bucket has no owner tag", "message: *t")
    error = refusal(text)
    assert (error.line, error.message) == (line_of(text, "&t"), "anchors and aliases are not allowed")


@pytest.mark.parametrize(("pattern", "words"), [
    (r"(owner)\1", "invalid escape sequence"),
    (r"(?=o)owner", "invalid perl operator"),
    (r"(?<!x)owner", "invalid perl operator"),
    (r"o{2000}", "invalid repetition size"),
    ("o" * 1001, "longer than 1000 characters"),
])
def test_a_regex_that_only_a_backtracking_engine_runs_is_refused(pattern: str, words: str) -> None:
    text = OWNER_TAG.replace("regex: '[a-z][a-z0-9-]*'", f"regex: '{pattern}'")
    error = refusal(text)
    assert error.line == line_of(text, "check: {path: tags.owner")
    assert error.message.startswith(f"'regex' is not a pattern custom rules accept: {words}")


def test_nested_quantifiers_are_accepted_because_matching_stays_linear() -> None:
    """`(a|aa)+$`, the shape that takes Python's `re` exponential time, matches in time linear in the
    value under RE2: a scan of a value 16 times longer costs at most about 16 times more."""
    text = OWNER_TAG.replace("regex: '[a-z][a-z0-9-]*'", "regex: '(a|aa)+'")
    text = text.replace('"Data Team"', '"aab"').replace('"platform"', '"aaaa"')
    (rule,) = load(text).rules
    engine = Engine(with_custom_rules(default_rule_set(), [rule]))

    def tree(size: int) -> MemoryTree:
        value = "a" * size + "!"
        return MemoryTree({"main.tf": f'resource "aws_s3_bucket" "b" {{\n  tags = {{ owner = "{value}" }}\n}}\n'})

    assert [(f.rule_id, f.line) for f in engine.scan(tree(64)).findings if f.rule_id == rule.id] == [(rule.id, 2)]
    from rules.spec import linear_regex

    assert_linear("an RE2 match with nested quantifiers", lambda n: "a" * n + "!",
                  lambda value: linear_regex.fullmatch("(a|aa)+", value), 20_000)


def test_a_rule_without_tests_is_refused() -> None:
    text = OWNER_TAG[: OWNER_TAG.index("tests:")]
    error = refusal(text)
    assert error.line == 1
    assert error.message.startswith("missing 'tests': a custom rule carries its own examples")


def test_tests_need_a_flag_and_a_pass_example() -> None:
    text = OWNER_TAG[: OWNER_TAG.index("  pass:")]
    error = refusal(text)
    assert error.line == line_of(text, "tests:") + 1
    assert error.message == "'tests' needs 'pass': at least one example the rule must pass"


@pytest.mark.parametrize(("old", "new", "message"), [
    ("lines: [1, 7]", "lines: [1, 70]", "tests.flag[0].lines: line 70 is not a line of the content (it has 8 line(s))"),
    ("lines: [1, 7]", "lines: [1, 1]", "tests.flag[0].lines lists a line twice"),
    ("lines: [1, 7]", "lines: [one]", "tests.flag[0].lines must be the line numbers the rule flags (lines: [3] or [3, 7])"),
    ("    - path: main.tf\n      lines", "    - path: ../main.tf\n      lines",
     ("tests.flag[0].path must be a relative path of at most 200 characters, without '.', '..' or empty steps "
     "(main.tf, k8s/deploy.yaml)")),
    ("    - path: main.tf\n      lines", "    - path: /etc/main.tf\n      lines",
     ("tests.flag[0].path must be a relative path of at most 200 characters, without '.', '..' or empty steps "
     "(main.tf, k8s/deploy.yaml)")),
    (("      content: |\n        resource \"aws_s3_bucket\" \"logs\" {\n          bucket = \"acme-logs\"\n"
     "          tags"), ("      lines: [2]\n      content: |\n        resource \"aws_s3_bucket\" \"logs\" {\n"
     "          bucket = \"acme-logs\"\n          tags"), "tests.pass[0]: a pass example flags no line; drop 'lines'"),
])
def test_a_malformed_example_is_refused(old: str, new: str, message: str) -> None:
    assert old in OWNER_TAG
    assert refusal(OWNER_TAG.replace(old, new, 1)).message == message


def test_examples_are_bounded() -> None:
    case = "    - path: main.tf\n      content: |\n        x = 1\n"
    text = OWNER_TAG + "".join(case for _ in range(custom.MAX_EXAMPLES))
    error = refusal(text)
    assert error.message == f"{custom.MAX_EXAMPLES + 2} examples: at most {custom.MAX_EXAMPLES} (flag and pass together)"
    big = "        # " + "x" * custom.MAX_EXAMPLE_BYTES + "\n"
    text = OWNER_TAG.replace('          tags   = { owner = "platform" }\n', '          tags   = { owner = "platform" }\n' + big)
    assert refusal(text).message == f"tests.pass[0].content is larger than {custom.MAX_EXAMPLE_BYTES // 1024} KiB"


def test_a_file_too_large_binary_or_unread_is_refused_on_line_one() -> None:
    too_large = OWNER_TAG + "#" * custom.MAX_RULE_FILE_BYTES
    assert str(refusal(too_large)) == f"{PATH}:1: larger than 64 KiB (a custom rule and its examples)"
    assert str(refusal(BinaryText("id: x\n", False))) == f"{PATH}:1: binary content, not a YAML rule file"
    loaded = load_custom_rules({PATH: None})
    assert [str(e) for e in loaded.errors] == [f"{PATH}:1: could not be read (missing, unreadable or too large)"]


def test_a_refused_file_leaves_the_others_accepted() -> None:
    bad = f"{CUSTOM_RULES_DIR}/bad.yml"
    other = OWNER_TAG.replace("ACME-S3-001", "ACME-S3-002")
    loaded = load_custom_rules({PATH: other, bad: OWNER_TAG.replace("lines: [1, 7]", "lines: [7]")})
    assert [rule.id for rule in loaded.rules] == ["ACME-S3-002"]
    assert [(e.path, e.message.split(" ")[0]) for e in loaded.errors] == [(bad, "tests.flag[0]")]


def test_the_folder_listing_says_which_entries_are_read_and_which_refused() -> None:
    folder = CUSTOM_RULES_DIR
    listing = [(f"{folder}/a.yml", "file", 100), (f"{folder}/b.yaml", "file", 100), (f"{folder}/README.md", "file", 10),
               (f"{folder}/nested", "dir", 0), (f"{folder}/link.yml", "symlink", 5), (f"{folder}/.keep", "file", 0),
               (f"{folder}/huge.yml", "file", custom.MAX_RULE_FILE_BYTES + 1)]
    wanted, refused = rule_files(listing)
    assert wanted == [f"{folder}/a.yml"]
    assert [str(e) for e in refused] == [
        f"{folder}/b.yaml:1: 'b.yaml': rule files end in .yml (rename it b.yml)",
        f"{folder}/huge.yml:1: larger than 64 KiB (a custom rule and its examples)",
        f"{folder}/link.yml:1: 'link.yml' is a symlink, not a file: it is not followed",
        f"{folder}/nested:1: 'nested' is a folder: rule files live directly in {folder}/, folders in it are not read",
    ]


def test_rule_files_past_the_limit_are_refused_not_dropped() -> None:
    listing = [(f"{CUSTOM_RULES_DIR}/r{i:03}.yml", "file", 10) for i in range(custom.MAX_RULE_FILES + 2)]
    wanted, refused = rule_files(listing)
    assert len(wanted) == custom.MAX_RULE_FILES
    assert [e.path for e in refused] == [p for p, _, _ in listing[custom.MAX_RULE_FILES:]]
    assert all(e.message == f"not read: at most {custom.MAX_RULE_FILES} custom rule files are loaded" for e in refused)


def test_the_digest_names_the_texts() -> None:
    assert load_custom_rules({}).digest == ""
    first, again = load(OWNER_TAG).digest, load(OWNER_TAG).digest
    assert first == again and len(first) == 16
    assert load(OWNER_TAG.replace("medium", "high", 1)).digest != first


def test_a_bug_while_checking_one_file_refuses_that_file_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real = inline_tests.failures

    def failing(rule: Rule, examples: tuple[Example, ...]) -> list[tuple[Example, str]]:
        if rule.id == "ACME-S3-002":
            raise KeyError("boom")
        return real(rule, examples)

    monkeypatch.setattr(custom, "failures", failing)
    other = f"{CUSTOM_RULES_DIR}/other.yml"
    loaded = load_custom_rules({PATH: OWNER_TAG, other: OWNER_TAG.replace("ACME-S3-001", "ACME-S3-002")})
    assert [rule.id for rule in loaded.rules] == ["ACME-S3-001"]
    assert [str(e) for e in loaded.errors] == [
        f"{other}:1: could not be checked (an internal error of Compliance Bot; please report it with this file)"]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, len(OWNER_TAG)), st.integers(0, 40),
       st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"\n #0-9\\()+?.")), max_size=30))
def test_any_edit_of_a_rule_is_accepted_or_refused_in_words_on_a_line_of_the_file(start: int, length: int,
                                                                                 inserted: str) -> None:
    text = OWNER_TAG[:start] + inserted + OWNER_TAG[start + length:]
    loaded = load(text)
    assert len(loaded.rules) + len({e.path for e in loaded.errors}) == 1
    for error in loaded.errors:
        assert 1 <= error.line <= len(text.splitlines()) + 1, error
        assert error.message and not PYTHON_WORDS.search(error.message), error.message
        assert "internal error" not in error.message, error.message
