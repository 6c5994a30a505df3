"""Kubernetes workload hardening: explicit settings that hand a container the node.

Every rule reads the pod spec wherever the workload kind keeps it (Pod `spec`, controllers'
`spec.template.spec`, CronJob `spec.jobTemplate.spec.template.spec`) and every container list
(containers, initContainers, ephemeralContainers). Only explicit bad values are reported; a
missing hardening field is left to admission policy (Pod Security Standards).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator

from bot.engine.model import Node, Resource, Severity, Violation
from bot.engine.rule import Rule, RuleContext
from rules._support import as_int, replace_value, truthy
from rules._workloads import containers, pod_specs

_SOURCES = frozenset({"kubernetes"})
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


def _flag_true(resource: Resource, node: Node | None, key: str, message: str, ident: str) -> Iterator[Violation]:
    """A violation when `node` is an explicit true, with a suggestion flipping it to false."""
    if node is not None and truthy(node) is True:
        yield Violation(message=message, line=node.line, end_line=node.end_line,
                        suggestion=replace_value(resource, node, key, "false"), key=ident)


def _check_privileged(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for spec in pod_specs(resource):
        for container in containers(spec):
            name = _name(container)
            yield from _flag_true(
                resource, container.get("securityContext", "privileged"), "privileged",
                f"Container `{name}` runs privileged: it has every capability and the host's devices.",
                name,
            )


def _check_escalation(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Escalation is allowed unless the container says `allowPrivilegeEscalation: false` (the
    runtime sets no_new_privs only then), so an unset value is reported too; a privileged
    container (CB-K8S-001's finding) and Windows pods are not judged on the missing setting."""
    for spec in pod_specs(resource):
        os_name = spec.get("os", "name")
        windows = os_name is not None and str(os_name.value).lower() == "windows"
        for container in containers(spec):
            name = _name(container)
            setting = container.get("securityContext", "allowPrivilegeEscalation")
            yield from _flag_true(
                resource, setting, "allowPrivilegeEscalation",
                f"Container `{name}` allows privilege escalation (setuid binaries can gain root).",
                name,
            )
            privileged = truthy(container.get("securityContext", "privileged")) is True
            if setting is None and not windows and not privileged:
                yield Violation(
                    message=f"Container `{name}` does not set allowPrivilegeEscalation: false, so escalation is "
                            "allowed (setuid binaries can gain root).",
                    line=container.line, end_line=container.line, key=name,
                )


def _root_violation(resource: Resource, container: Node, spec: Node) -> Violation | None:
    """Effective runAsUser 0, or runAsNonRoot: false without a non-root uid; container wins."""
    name = _name(container)
    user = container.get("securityContext", "runAsUser") or spec.get("securityContext", "runAsUser")
    if user is not None:
        uid = as_int(user)
        if uid == 0:
            return Violation(message=f"Container `{name}` runs as root (runAsUser: 0).",
                             line=user.line, end_line=user.end_line, key=f"{user.line}")
        return None  # a non-root uid, or an unknown one: cannot tell
    non_root = container.get("securityContext", "runAsNonRoot") or spec.get("securityContext", "runAsNonRoot")
    if non_root is not None and truthy(non_root) is False:
        return Violation(
            message=f"Container `{name}` may run as root: runAsNonRoot is false and no runAsUser is set.",
            line=non_root.line, end_line=non_root.end_line,
            suggestion=replace_value(resource, non_root, "runAsNonRoot", "true"), key=f"{non_root.line}",
        )
    return None


def _check_root(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    seen: set[int] = set()
    for spec in pod_specs(resource):
        for container in containers(spec):
            violation = _root_violation(resource, container, spec)
            if violation is not None and violation.line not in seen:  # a pod-level setting, once
                seen.add(violation.line)
                yield violation


def _check_host_namespaces(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for spec in pod_specs(resource):
        for field_name, what in (("hostNetwork", "network"), ("hostPID", "process"), ("hostIPC", "IPC")):
            yield from _flag_true(
                resource, spec.get(field_name), field_name,
                f"The pod shares the host's {what} namespace ({field_name}: true).", field_name,
            )


def _capability(item: Node) -> str | None:
    if not isinstance(item.value, str):
        return None
    name = item.value.strip().upper()
    return name.removeprefix("CAP_")


def _check_capabilities(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
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


def _check_host_path(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for spec in pod_specs(resource):
        volumes = spec.get("volumes")
        for volume in volumes.children() if volumes is not None else []:
            path = volume.get("hostPath", "path")
            if path is not None and isinstance(path.value, str) and _sensitive(path.value):
                yield Violation(
                    message=f"Volume `{_name(volume)}` mounts the host path {path.value}.",
                    line=path.line, end_line=path.end_line, key=_name(volume),
                )


RULES: tuple[Rule, ...] = (
    Rule(
        id="CB-K8S-001",
        title="Privileged container",
        severity=Severity.CRITICAL,
        sources=_SOURCES,
        types=frozenset(),
        rationale="A privileged container has all Linux capabilities and access to host devices: "
        "a compromise of the container is a compromise of the node and every workload on it.",
        remediation="Remove `privileged: true` (or set it to false) and grant only the specific "
        "capabilities the workload needs.",
        check=_check_privileged,
        peers={"checkov": ("CKV_K8S_16",), "kics": ("dd29336b-fe57-445b-a26e-e6aa867ae609",)},
    ),
    Rule(
        id="CB-K8S-002",
        title="Container allows privilege escalation",
        severity=Severity.MEDIUM,
        sources=_SOURCES,
        types=frozenset(),
        rationale="allowPrivilegeEscalation lets a process gain more privileges than its parent "
        "(setuid binaries, file capabilities), defeating least privilege inside the container.",
        remediation="Set `securityContext.allowPrivilegeEscalation: false` on the container.",
        check=_check_escalation,
        peers={"checkov": ("CKV_K8S_20",), "kics": ("5572cc5e-1e4c-4113-92a6-7a8a3bd25e6d",)},
    ),
    Rule(
        id="CB-K8S-003",
        title="Container runs as root",
        severity=Severity.MEDIUM,
        sources=_SOURCES,
        types=frozenset(),
        rationale="A process running as uid 0 in the container is root on the node after any "
        "container escape, and can modify everything in its own filesystem.",
        remediation="Set `runAsNonRoot: true` and a non-zero `runAsUser` in the pod or container "
        "securityContext, and build the image to run as an unprivileged user.",
        check=_check_root,
        peers={"checkov": ("CKV_K8S_23",), "kics": ("cf34805e-3872-4c08-bf92-6ff7bb0cfadb",)},
    ),
    Rule(
        id="CB-K8S-004",
        title="Pod shares host namespaces",
        severity=Severity.HIGH,
        sources=_SOURCES,
        types=frozenset(),
        rationale="hostNetwork, hostPID and hostIPC remove the isolation between the pod and the "
        "node: the pod can sniff node traffic, bypass network policies, or signal host processes.",
        remediation="Remove `hostNetwork`, `hostPID` and `hostIPC` (or set them to false); expose "
        "ports through a Service instead.",
        check=_check_host_namespaces,
        peers={
            "checkov": ("CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19"),
            "kics": (
                "cd290efd-6c82-4e9d-a698-be12ae31d536",
                "6b6bdfb3-c3ae-44cb-88e4-7405c1ba2c8a",
                "302736f4-b16c-41b8-befe-c0baffa0bd9d",
            ),
        },
    ),
    Rule(
        id="CB-K8S-005",
        title="Container adds dangerous capabilities",
        severity=Severity.HIGH,
        sources=_SOURCES,
        types=frozenset(),
        rationale="Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE or ALL are nearly "
        "equivalent to root on the host and enable container escapes.",
        remediation="Drop the capability from `securityContext.capabilities.add`; start from "
        "`drop: [ALL]` and add back only narrowly scoped capabilities such as NET_BIND_SERVICE.",
        check=_check_capabilities,
        peers={"checkov": ("CKV_K8S_39",), "kics": ("235236ee-ad78-4065-bd29-61b061f28ce0",)},
    ),
    Rule(
        id="CB-K8S-006",
        title="Sensitive host path mounted",
        severity=Severity.HIGH,
        sources=_SOURCES,
        types=frozenset(),
        rationale="Mounting host paths such as /, /etc, /proc or the container runtime socket "
        "gives the pod control over the node and its other workloads; so does mounting a directory "
        "that holds one (/var/run holds docker.sock, /var/lib the kubelet's state).",
        remediation="Use a PersistentVolumeClaim, ConfigMap, Secret or emptyDir instead of a "
        "hostPath volume; if host access is unavoidable, mount a narrow path read-only.",
        check=_check_host_path,
        peers={"checkov": ("CKV_K8S_27",), "kics": ("a6f34658-fdfb-4154-9536-56d516f65828",)},
    ),
)
