"""The hcl2 call: long expressions parse (and evaluate) without recursing over a deep tree."""

from __future__ import annotations

from bot.engine.parsers.terraform import parse_module


def test_long_expressions_parse_without_recursing() -> None:
    long_chain = "locals {\n  a = " + " + ".join(["1"] * 5000) + "\n}\n"
    result = parse_module({"chain.tf": long_chain, "ok.tf": "locals {\n  b = 1\n}\n"})
    assert result["ok.tf"].errors == () and result["chain.tf"].errors == ()
    (chain,) = result["chain.tf"].resources
    value = chain.body.get("a")
    assert value is not None and value.value == 5000 and (value.line, value.end_line) == (2, 2)
