"""The rule language: a YAML spec per control, validated by `loader`, compiled into a `Rule` by
`compile` (see docs/rule-language.md, the contract)."""
