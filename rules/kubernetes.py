"""Kubernetes workload checks that are more than a few attribute comparisons (the effective user,
added capabilities, host paths), named by the specs in rules/specs/kubernetes through the table
in rules/spec/functions.py (the metadata lives in the specs).

Every check reads the pod spec wherever the workload kind keeps it (Pod `spec`, controllers'
`spec.template.spec`, CronJob `spec.jobTemplate.spec.template.spec`) and every container list
(containers, initContainers, ephemeralContainers). Only explicit bad values are reported; a
missing hardening field is left to admission policy (Pod Security Standards). In templated YAML, a
value that template output may override (`Node.unseen`) decides nothing.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from bot.engine.model import Node, Resource, Violation
from bot.engine.rule import RuleContext
from rules._support import as_int, replace_value, truthy
from rules._workloads import containers, pod_specs

_DANGEROUS_CAPABILITIES = frozenset({
    "ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "SYS_RAWIO", "SYS_BOOT",
    "DAC_READ_SEARCH", "BPF",
})
_SENSITIVE_HOST_PATHS = (
    "/etc", "/root", "/home", "/proc", "/sys", "/dev", "/boot", "/var/run/docker.sock",
    "/run/docker.sock", "/var/run/containerd", "/run/containerd", "/var/run/crio", "/run/crio",
    "/var/lib/kubelet", "/var/lib/docker", "/var/lib/containerd",
)
# Host files commonly shared read-only with no control over the node: CA bundles, time zone, syslog.
_BENIGN_HOST_PATHS = ("/etc/ssl", "/etc/pki", "/etc/ca-certificates", "/etc/localtime", "/etc/timezone", "/dev/log")


def _name(container: Node) -> str:
    name = container.get("name")
    return str(name.value) if name is not None else "<unnamed>"


def _root_violation(resource: Resource, container: Node, spec: Node) -> Violation | None:
    """Effective runAsUser 0, or runAsNonRoot: false without a non-root uid; container wins."""
    name = _name(container)
    own_user = container.get("securityContext", "runAsUser")
    if own_user is None and container.unseen("securityContext", "runAsUser"):
        return None  # template output may set the container's own user, which wins over the pod's
    user = own_user or spec.get("securityContext", "runAsUser")
    if user is not None:
        uid = as_int(user)
        if uid == 0:
            return Violation(message=f"Container `{name}` runs as root (runAsUser: 0).",
                             line=user.line, end_line=user.end_line, key=f"{user.line}")
        return None  # a non-root uid, or an unknown one: cannot tell
    if spec.unseen("securityContext", "runAsUser"):
        return None  # template output may set a non-root pod user
    own_non_root = container.get("securityContext", "runAsNonRoot")
    if own_non_root is None and container.unseen("securityContext", "runAsNonRoot"):
        return None
    non_root = own_non_root or spec.get("securityContext", "runAsNonRoot")
    if non_root is not None and truthy(non_root) is False:
        return Violation(
            message=f"Container `{name}` may run as root: runAsNonRoot is false and no runAsUser is set.",
            line=non_root.line, end_line=non_root.end_line,
            suggestion=replace_value(resource, non_root, "runAsNonRoot", "true"), key=f"{non_root.line}",
        )
    return None


def check_root(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    seen: set[int] = set()
    for spec in pod_specs(resource):
        for container in containers(spec):
            violation = _root_violation(resource, container, spec)
            if violation is not None and violation.line not in seen:  # a pod-level setting, once
                seen.add(violation.line)
                yield violation


def _capability(item: Node) -> str | None:
    if not isinstance(item.value, str):
        return None
    name = item.value.strip().upper()
    return name.removeprefix("CAP_")


def check_capabilities(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for spec in pod_specs(resource):
        for container in containers(spec):
            added = container.get("securityContext", "capabilities", "add")
            for item in added.children() if added is not None else []:
                capability = _capability(item)
                if capability in _DANGEROUS_CAPABILITIES:
                    yield Violation(
                        message=f"Container `{_name(container)}` adds the {capability} capability.",
                        line=item.line, end_line=item.end_line, key=f"{_name(container)}:{capability}",
                    )


def _sensitive(path: str) -> bool:
    """A sensitive host path, a path inside one, or a directory holding one: mounting /var/run
    exposes /var/run/docker.sock as surely as mounting the socket itself."""
    clean = posixpath.normpath("/" + path.strip().strip("/"))
    clean = "/" + clean.lstrip("/")  # normpath keeps a leading "//"
    if any(clean == p or clean.startswith(p + "/") for p in _BENIGN_HOST_PATHS):
        return False
    return clean == "/" or any(
        clean == p or clean.startswith(p + "/") or p.startswith(clean + "/") for p in _SENSITIVE_HOST_PATHS
    )


def check_host_path(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for spec in pod_specs(resource):
        volumes = spec.get("volumes")
        for volume in volumes.children() if volumes is not None else []:
            path = volume.get("hostPath", "path")
            if path is not None and isinstance(path.value, str) and _sensitive(path.value):
                yield Violation(
                    message=f"Volume `{_name(volume)}` mounts the host path {path.value}.",
                    line=path.line, end_line=path.end_line, key=_name(volume),
                )
