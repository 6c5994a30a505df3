"""Inline exception comments: our `compliance:ignore` in every comment syntax, the line each one is
about, what cannot be read, Checkov/tfsec/Trivy comments, and text that only looks like one."""

from __future__ import annotations

import pytest

from bot.engine.inline_exceptions import (
    CHECKOV,
    COMPLIANCE,
    MAX_MARKERS_PER_FILE,
    TFSEC,
    TRIVY,
    Marker,
    comment_start,
    parse_markers,
)

ALL = frozenset({COMPLIANCE, CHECKOV, TFSEC, TRIVY})
MARK = 'compliance:ignore CB-AWS-001 reason="legacy volume" until=2026-09-30 ticket=OPS-12'


def only(path: str, text: str, tools: frozenset[str] = frozenset({COMPLIANCE})) -> Marker:
    markers, cut = parse_markers(path, text, tools)
    assert not cut
    (marker,) = markers
    return marker


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("main.tf", f"  encrypted = false  # {MARK}\n"),  # HCL
        ("main.tf", f"  encrypted = false  // {MARK}\n"),  # HCL's other line comment
        ("main.tf", f"  encrypted = false  /* {MARK} */\n"),  # HCL block comment
        ("deploy.yaml", f"    privileged: true  # {MARK}\n"),  # YAML
        ("Dockerfile", f"USER root # {MARK}\n"),  # Dockerfile
        ("index.html", f"<script src=x></script> <!-- {MARK} -->\n"),  # HTML / XML / Markdown
        ("schema.sql", f"GRANT ALL ON db TO public; -- {MARK}\n"),  # SQL, Lua
        ("app.js", f"const key = 'x';  //{MARK}\n"),  # no space after the opener
    ],
)
def test_a_trailing_comment_in_each_syntax_is_an_exception_for_its_own_line(path: str, text: str) -> None:
    marker = only(path, text)
    assert (marker.line, marker.target, marker.tool, marker.written) == (1, 1, COMPLIANCE, "CB-AWS-001")
    assert (marker.reason, marker.until, marker.ticket, marker.problems) == ("legacy volume", "2026-09-30", "OPS-12", ())


@pytest.mark.parametrize("opener", ["#", "//", "/*", "<!--", "--"])
def test_a_comment_on_its_own_line_is_about_the_next_line_holding_code(opener: str) -> None:
    closer = {"/*": " */", "<!--": " -->"}.get(opener, "")
    text = f"resource {{\n  {opener} {MARK}{closer}\n  # another comment\n\n  encrypted = false\n}}\n"
    marker = only("main.tf", text)
    assert (marker.line, marker.target, marker.reason) == (2, 5, "legacy volume")


def test_a_comment_with_no_code_below_is_about_its_own_line() -> None:
    assert only("main.tf", f"x = 1\n# {MARK}\n\n").target == 2


@pytest.mark.parametrize(
    "text",
    [
        f'  description = "# {MARK}"\n',  # inside a double-quoted string
        f"  description = '// {MARK}'\n",  # inside a single-quoted string
        f"  run: echo `# {MARK}`\n",  # inside backticks (shell, Markdown code)
        f'  value = "a \\" # {MARK}"\n',  # an escaped quote does not end the string
        f"  note = see {MARK}\n",  # not after a comment opener
        f"  # see also {MARK}\n",  # in a comment, but not right after its opener
        f"  url: http://example.com/{MARK}\n",  # `//` after `:` is a URL
        f"  args: --{MARK}\n",  # `--` joined to a word is an option, not a comment
        f"  count = ${{#{MARK}}}\n",  # `${#` is template syntax
    ],
)
def test_text_that_only_mentions_the_syntax_is_no_exception(text: str) -> None:
    assert parse_markers("main.tf", text) == ([], False)


def test_a_quote_inside_a_word_opens_no_string() -> None:
    marker = only("values.yaml", f"note: don't worry  # {MARK}\n")
    assert marker.written == "CB-AWS-001"
    assert comment_start("a = \"x # y\" # z") == 12


def test_quoted_reasons_and_escapes() -> None:
    marker = only("main.tf", 'x = 1 # compliance:ignore CB-AWS-001 reason="say \\"legacy\\"" ticket=A-1\n')
    assert marker.reason == 'say "legacy"' and marker.ticket == "A-1" and marker.until is None
    single = only("main.tf", "x = 1 # compliance:ignore CB-AWS-001 reason='it is fine' until=2026-01-01\n")
    assert single.reason == "it is fine" and single.until == "2026-01-01"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# compliance:ignore CB-AWS-001 reason=x colour=red", "`colour=` is not a setting"),
        ("# compliance:ignore CB-AWS-001 reason=x reason=y", "`reason=` is given twice"),
        ('# compliance:ignore CB-AWS-001 reason="never closed', "cannot read `reason=\"never closed`"),
        ("# compliance:ignore CB-AWS-001 because legacy", "cannot read `because legacy`"),
    ],
)
def test_what_cannot_be_read_is_a_problem_of_the_marker(text: str, problem: str) -> None:
    (found,) = only("main.tf", text + "\n").problems
    assert found.startswith(problem)


def test_a_marker_naming_no_rule_reads_as_such() -> None:
    marker = only("main.tf", "x = 1 # compliance:ignore\n")
    assert marker.written == "" and marker.reason == ""


def test_checkov_skips_with_reasons_expiry_and_ticket() -> None:
    marker = only("main.tf", "  #checkov:skip=CKV_AWS_3:legacy volume until=2026-09-30 ticket=OPS-9\n", ALL)
    assert (marker.tool, marker.written, marker.reason) == (CHECKOV, "CKV_AWS_3", "legacy volume")
    assert (marker.until, marker.ticket) == ("2026-09-30", "OPS-9")
    bare = only("main.tf", "  # checkov:skip=CKV2_AWS_11\n", ALL)
    assert (bare.written, bare.reason) == ("CKV2_AWS_11", "")
    broken = only("main.tf", "  # checkov:skip CKV_AWS_3\n", ALL)
    assert broken.problems and broken.written == ""


def test_tfsec_and_trivy_ignores_with_expiry_and_chains() -> None:
    tfsec = only("main.tf", "#tfsec:ignore:aws-s3-enable-bucket-encryption:exp:2026-09-30 legacy bucket\n", ALL)
    assert (tfsec.tool, tfsec.written, tfsec.until, tfsec.reason) == (
        TFSEC, "aws-s3-enable-bucket-encryption", "2026-09-30", "legacy bucket")
    trivy = only("main.tf", "// trivy:ignore:AVD-AWS-0088 legacy bucket ticket=OPS-3\n", ALL)
    assert (trivy.tool, trivy.written, trivy.reason, trivy.ticket) == (TRIVY, "AVD-AWS-0088", "legacy bucket", "OPS-3")
    markers, _ = parse_markers("main.tf", "#tfsec:ignore:aws-a tfsec:ignore:aws-b:exp:2026-01-01 both legacy\n", ALL)
    assert [(m.written, m.until, m.reason) for m in markers] == [
        ("aws-a", None, "both legacy"), ("aws-b", "2026-01-01", "both legacy")]


def test_only_the_tools_asked_for_are_read() -> None:
    text = "#checkov:skip=CKV_AWS_3:x\n#tfsec:ignore:aws-a x\n# compliance:ignore CB-AWS-001 reason=x\n"
    assert [m.tool for m in parse_markers("main.tf", text)[0]] == [COMPLIANCE]
    assert [m.tool for m in parse_markers("main.tf", text, frozenset({COMPLIANCE, CHECKOV}))[0]] == [CHECKOV, COMPLIANCE]


def test_crlf_lines_and_line_numbers() -> None:
    text = "a = 1\r\nb = 2 # compliance:ignore CB-AWS-001 reason=x\r\nc = 3\r\n"
    marker = only("main.tf", text)
    assert (marker.line, marker.reason) == (2, "x")


def test_a_file_with_too_many_markers_is_cut_and_says_so() -> None:
    text = "".join(f"x{i} = 1 # compliance:ignore CB-AWS-001 reason=x\n" for i in range(MAX_MARKERS_PER_FILE + 5))
    markers, cut = parse_markers("main.tf", text)
    assert cut and len(markers) == MAX_MARKERS_PER_FILE


@pytest.mark.timeout(20)
def test_parsing_is_linear_on_hostile_lines() -> None:
    """Long lines of openers, quotes and half markers are read in one pass each."""
    hostile = ('"' * 50_000 + "# compliance:ignore " * 5_000 + "'" * 50_000 + "\n") * 20
    markers, cut = parse_markers("main.tf", hostile)
    assert cut and len(markers) == MAX_MARKERS_PER_FILE and {m.line for m in markers} == {1}
    quoted = ("x = '" + "# compliance:ignore " * 20_000 + "'\n") * 20  # all inside one string per line
    assert parse_markers("main.tf", quoted) == ([], False)


@pytest.mark.timeout(20)
def test_stacked_comment_lines_are_read_once() -> None:
    """Many comment-only markers above long comment lines: each line below is judged once."""
    long_comment = "# " + "x" * 100_000 + "\n"
    text = ("# compliance:ignore CB-AWS-001 reason=x\n" + long_comment) * 500 + "encrypted = false\n"
    markers, _ = parse_markers("main.tf", text)
    assert len(markers) == 500 and markers[-1].target == 1001
    assert markers[0].target == markers[0].line == 1  # no code within 50 lines below it: its own line
