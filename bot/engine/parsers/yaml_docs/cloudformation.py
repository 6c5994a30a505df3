"""CloudFormation: templates (YAML or JSON) to one resource per entry of `Resources`.

Everything the reader knows about CloudFormation: the short-form tags (`!Ref`, `!GetAtt`...)
turned into the long-form mappings rules understand, the sniff that tells a JSON template from
package.json, which documents are templates, and the resources themselves: intrinsics resolved
statically (a `Ref` to a parameter with a default becomes that default, any other intrinsic
`Unknown`) and the logical ids each resource refers to. Works on `Node`s only; never evaluates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.engine.model import Node, Resource, Unknown

__all__ = ["cloudformation_resources", "is_cloudformation", "long_form", "looks_like_cloudformation_json"]

# Short-form CloudFormation tags whose long form is not simply "Fn::<Name>".
_CFN_PLAIN_KEYS = {"!Ref": "Ref", "!Condition": "Condition"}


def long_form(tag: str | None, built: Node) -> Node:
    """CloudFormation short forms to long forms; unknown tags are ignored (never constructed).

    Called by the loader on every YAML node with its tag: `!Ref X` -> {"Ref": X},
    `!GetAtt A.B` -> {"Fn::GetAtt": [A, B]}, `!<Name> x` -> {"Fn::<Name>": x}.
    """
    tag = tag or ""
    if not tag.startswith("!") or tag.startswith("!!"):
        return built
    line, end = built.line, built.end_line
    if tag in _CFN_PLAIN_KEYS:
        return Node({_CFN_PLAIN_KEYS[tag]: built}, line, end)
    name = tag[1:]
    if name == "GetAtt" and isinstance(built.value, str):
        logical, _, attribute = built.value.partition(".")
        parts = [Node(logical, line, end), Node(attribute, line, end)]
        return Node({"Fn::GetAtt": Node(parts, line, end)}, line, end)
    return Node({f"Fn::{name}": built}, line, end)


def looks_like_cloudformation_json(text: str) -> bool:
    """A cheap sniff so that package.json and friends are never claimed as templates."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head.startswith("{"):
        return False
    if '"AWSTemplateFormatVersion"' in text:
        return True
    return '"Resources"' in text and re.search(r'"Type"\s*:\s*"AWS::', text) is not None


def is_cloudformation(document: Node) -> bool:
    """A template: `AWSTemplateFormatVersion`, or `Resources` entries with `Type: AWS::...`."""
    if not isinstance(document.value, dict):
        return False
    if "AWSTemplateFormatVersion" in document.value:
        return True
    resources = document.get("Resources")
    if resources is None:
        return False
    for entry in resources.value.values() if isinstance(resources.value, dict) else []:
        type_ = entry.get("Type")
        if type_ is not None and isinstance(type_.value, str) and type_.value.startswith("AWS::"):
            return True
    return False


def cloudformation_resources(
    path: str, document: Node, lines: list[str], key_lines: dict[int, tuple[Node, int]]
) -> Iterator[Resource]:
    """One resource per entry of `Resources`, starting on its logical id's line.

    `key_lines` maps id(value node) to (value node, line of its key), from the loader.
    """
    resources = document.get("Resources")
    if resources is None:
        return
    defaults = _parameter_defaults(document)
    for logical_id, entry in resources.items():
        type_ = entry.get("Type")
        if not isinstance(entry.value, dict) or type_ is None or not isinstance(type_.value, str):
            continue
        key_line = min(key_lines.get(id(entry), (entry, entry.line))[1], entry.line)
        yield Resource(
            source="cloudformation", kind="resource", type=type_.value, address=f"Resources.{logical_id}",
            path=path, line=key_line, end_line=entry.end_line, body=_resolve(entry, defaults),
            references=frozenset(_references(entry)), lines=tuple(lines[key_line - 1 : entry.end_line]),
        )


def _parameter_defaults(document: Node) -> dict[str, Node]:
    defaults: dict[str, Node] = {}
    for name, parameter in (document.get("Parameters") or Node({}, 0, 0)).items():
        default = parameter.get("Default")
        if default is not None and not isinstance(default.value, (dict, list)):
            defaults[name] = default
    return defaults


def _intrinsic(node: Node) -> tuple[str, Node] | None:
    """(name, argument) when `node` is a one-key intrinsic mapping like {"Ref": ...}."""
    if isinstance(node.value, dict) and len(node.value) == 1:
        name, argument = next(iter(node.value.items()))
        if name == "Ref" or name.startswith("Fn::"):
            return name, argument
    return None


def _resolve(node: Node, defaults: dict[str, Node]) -> Node:
    """Replace intrinsics: Ref to a parameter with a default -> that value, others -> Unknown."""
    intrinsic = _intrinsic(node)
    if intrinsic is not None:
        name, argument = intrinsic
        if name == "Ref" and isinstance(argument.value, str) and argument.value in defaults:
            return Node(defaults[argument.value].value, node.line, node.end_line)
        return Node(Unknown(_describe(name, argument)), node.line, node.end_line)
    if isinstance(node.value, dict):
        return Node({k: _resolve(v, defaults) for k, v in node.value.items()}, node.line, node.end_line,
                    hidden=node.hidden)  # templated YAML: what template output may add stays unseen
    if isinstance(node.value, list):
        return Node([_resolve(v, defaults) for v in node.value], node.line, node.end_line)
    return node


def _describe(name: str, argument: Node) -> str:
    plain = argument.plain()
    text = plain if isinstance(plain, str) else repr(plain)
    return f"{name} {text}"[:200]


def _references(node: Node) -> Iterator[str]:
    """Logical ids (and parameters) named by Ref, Fn::GetAtt and Fn::Sub anywhere in `node`."""
    intrinsic = _intrinsic(node)
    if intrinsic is not None:
        name, argument = intrinsic
        if name == "Ref" and isinstance(argument.value, str) and not argument.value.startswith("AWS::"):
            yield argument.value
        elif name == "Fn::GetAtt":
            first = argument.get(0) if isinstance(argument.value, list) else argument
            if first is not None and isinstance(first.value, str):
                yield first.value.split(".", 1)[0]
        elif name == "Fn::Sub":
            template = argument.get(0) if isinstance(argument.value, list) else argument
            if template is not None and isinstance(template.value, str):
                for match in re.finditer(r"\$\{([A-Za-z0-9]+)[.}]", template.value):
                    yield match.group(1)
    if isinstance(node.value, dict):
        for child in node.value.values():
            yield from _references(child)
    elif isinstance(node.value, list):
        for child in node.value:
            yield from _references(child)
