"""The HTTP side: a real threaded socket server on 127.0.0.1 and the per-request pipeline.

Pipeline: injected fault? -> route to an OpenAPI operation (or GraphQL) -> authenticate ->
check repository access and token permissions -> validate parameters and JSON body -> handler ->
validate the response against the spec -> add GitHub's headers -> record. Everything after routing
runs under the fake's lock, so handlers see a consistent world.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import graphql_api, manifest_web, review_web
from .messages import JSON, Auth, Headers, Request, Response, error, not_found
from .openapi import DEFAULT_VERSION, api_versions, is_json_media
from .rest import HANDLERS, JWT_OPERATIONS, PERMISSIONS, PUBLIC_OPERATIONS

if TYPE_CHECKING:
    from .fake import FakeGitHub

JWT_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


@dataclass
class RecordedRequest:
    """One request as the fake saw it, for assertions."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    body: Any
    auth: str  # "none", "jwt", "installation", "invalid"
    operation_id: str | None
    headers: dict[str, str] = field(default_factory=dict)
    response: Any = None
    injected: bool = False
    installation_id: int | None = None


def _not_found_for(operation: Mapping[str, Any]) -> Response:
    """GitHub's 404, with a body unless the operation's description gives its 404 none (team
    memberships: "if user has no team membership")."""
    declared = (operation.get("responses") or {}).get("404")
    if isinstance(declared, dict) and "content" not in declared and "$ref" not in declared:
        return Response(404)
    return not_found()


class Pipeline:
    """Turns one raw HTTP request into a response, applying every contract and rule."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake

    # -- auth -------------------------------------------------------------------------------

    def authenticate(self, headers: Headers) -> Auth:
        value = headers.get_ci("authorization").strip()
        if not value:
            return Auth("none")
        scheme, _, credential = value.partition(" ")
        credential = credential.strip()
        scheme = scheme.lower()
        if scheme not in ("bearer", "token") or not credential:
            return Auth("invalid", error="Bad credentials")
        if scheme == "bearer" and JWT_RE.match(credential):
            from .auth import JWTError, verify_jwt

            try:
                verify_jwt(credential, self.fake.public_key_pem, self.fake.app_id)
            except JWTError as exc:
                return Auth("invalid", error=str(exc))
            return Auth("jwt")
        token = self.fake.world.tokens.get(credential)
        if token is None or token.expires_at <= time.time():
            return Auth("invalid", error="Bad credentials")
        inst = self.fake.world.installations.get(token.installation_id)
        if inst is None or inst.suspended:
            return Auth("invalid", error="Bad credentials")
        return Auth("installation", token=token, installation=inst)

    # -- parameters ---------------------------------------------------------------------------

    def check_params(self, req: Request) -> Response | None:
        assert req.op is not None
        spec = req.spec
        for p in req.op.parameters(spec):
            name, where, schema = p["name"], p.get("in"), p.get("schema", {})
            if where == "path":
                value = req.params.get(name, "")
                if schema.get("type") == "integer" and not re.fullmatch(r"\d+", value):
                    self.fake._violation("request", req, f"path parameter {name}={value!r} is not an integer")
                    return not_found()
                continue
            if where != "query":
                continue
            if name not in req.query:
                if p.get("required"):
                    self.fake._violation("request", req, f"required query parameter {name} missing")
                    return error(422, "Validation Failed", errors=[{"resource": req.op.operation_id, "field": name, "code": "missing"}])
                continue
            value = req.query[name]
            problem = None
            if schema.get("type") == "integer" and not re.fullmatch(r"-?\d+", value):
                problem = f"query parameter {name}={value!r} is not an integer"
            elif schema.get("type") == "boolean" and value not in ("true", "false"):
                problem = f"query parameter {name}={value!r} is not a boolean"
            elif "enum" in schema and value not in [str(e) for e in schema["enum"] if e is not None]:
                problem = f"query parameter {name}={value!r} is not one of {schema['enum']}"
            if problem:
                self.fake._violation("request", req, problem)
                return error(
                    422,
                    "Validation Failed",
                    errors=[{"resource": req.op.operation_id, "field": name, "code": "invalid", "value": value}],
                )
        return None

    def check_body(self, req: Request) -> Response | None:
        assert req.op is not None
        spec = req.spec
        pointer = spec.request_body_pointer(req.op)
        if pointer is None:
            return None
        docs = req.op.spec.get("externalDocs", {}).get("url", "https://docs.github.com/rest")
        if req.raw_body.strip():
            try:
                req.json = json.loads(req.raw_body)
            except ValueError:
                self.fake._violation("request", req, "body is not valid JSON")
                return error(400, "Problems parsing JSON", docs)
        elif spec.request_body_required(req.op):
            req.json = {}
        if req.json is None:
            return None
        problems = spec.validate_schema(pointer, req.json, write=True)
        if problems:
            self.fake._violation("request", req, "; ".join(problems))
            return Response(422, {"message": "Invalid request.\n\n" + "\n".join(problems), "documentation_url": docs, "status": "422"})
        return None

    # -- main ---------------------------------------------------------------------------------

    def route(self, req: Request) -> tuple[Response, bool]:
        """(response, injected?) for a parsed request."""
        fake = self.fake
        fault = fake.faults.take(req.method, req.path)
        if fault is not None:
            body = fault.body
            if fault.kind == "primary_rate_limit":
                inst = self.authenticate(req.headers).installation
                body = body.replace(b"installation ID 1.", f"installation ID {inst.id if inst else 1}.".encode())
            return Response(fault.status, body, JSON, dict(fault.headers)), True

        req.auth = self.authenticate(req.headers)
        if req.misrouted:
            fake._violation("unknown_operation", req, req.misrouted)
            return not_found(), False
        version = req.headers.get_ci("x-github-api-version") or DEFAULT_VERSION
        if version not in api_versions(fake.flavor):
            fake._violation("request", req, f"unsupported X-GitHub-Api-Version {version}")
            return error(400, f"Unsupported 'X-GitHub-Api-Version' header: {version}. The supported values can be found at https://docs.github.com/rest/about-the-rest-api/api-versions"), False
        req.spec = fake.spec_for(version)
        fake.payloads.spec = req.spec  # builders drop what this API version removed

        if req.path == fake.graphql_path:
            if req.method != "POST":
                fake._violation("unknown_operation", req, "GraphQL only answers POST")
                return not_found(), False
            return self.graphql(req), False

        found = req.spec.find(req.method, req.path)
        if found is None:
            fake._violation("unknown_operation", req, f"no operation of {fake.flavor}.json matches")
            return not_found(), False
        req.op, raw_params = found
        req.params = {k: unquote(v) for k, v in raw_params.items()}
        op_id = req.op.operation_id
        handler = HANDLERS.get(op_id)
        if handler is None:
            message = f"the fake does not implement {op_id} ({req.method} {req.op.template}): add it to rest.py"
            fake._violation("unimplemented", req, message)
            return error(501, f"Not Implemented by the fake GitHub: {op_id}"), False

        denied = self.authorize(req)
        if denied is not None:
            return denied, False
        bad = self.check_params(req) or self.check_body(req)
        if bad is not None:
            return bad, False
        return handler(fake, req), False

    def authorize(self, req: Request) -> Response | None:
        fake, auth = self.fake, req.auth
        assert req.op is not None
        op_id = req.op.operation_id
        if op_id in PUBLIC_OPERATIONS:
            return None
        if op_id in JWT_OPERATIONS:
            if auth.kind == "jwt":
                return None
            if auth.kind == "none":
                return error(401, "A JSON web token could not be decoded")
            return error(401, auth.error if auth.kind == "invalid" and auth.error and "claim" in auth.error else "A JSON web token could not be decoded")
        if auth.kind == "none":
            return error(401, "Requires authentication")
        if auth.kind != "installation":
            return error(401, auth.error or "Bad credentials") if auth.kind == "invalid" else error(401, "Bad credentials")
        if "owner" in req.params and "repo" in req.params:
            repo = fake.world.repo(req.params["owner"], req.params["repo"])
            if repo is None or not fake.token_can_access(auth, repo):
                return not_found()
            req.path_for_links = f"/repositories/{repo.id}" + req.path[len(f"/repos/{req.params['owner']}/{req.params['repo']}") :]
        if "org" in req.params:
            assert auth.installation is not None
            if auth.installation.account.login.lower() != req.params["org"].lower():
                return _not_found_for(req.op.spec)
        needed = PERMISSIONS.get(op_id)
        if needed and not fake.token_has_permission(auth, *needed):
            return error(403, "Resource not accessible by integration", req.op.spec.get("externalDocs", {}).get("url", "https://docs.github.com/rest"))
        return None

    def graphql(self, req: Request) -> Response:
        fake, auth = self.fake, req.auth
        if auth.kind != "installation":
            return error(401, "This endpoint requires you to be authenticated." if auth.kind == "none" else "Bad credentials", "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql")
        try:
            payload = json.loads(req.raw_body or b"null")
        except ValueError:
            fake._violation("graphql", req, "body is not valid JSON")
            return error(400, "Problems parsing JSON", "https://docs.github.com/graphql")
        req.json = payload
        body, problems, unimplemented = graphql_api.run(fake, auth, payload)
        for p in problems:
            fake._violation("graphql", req, p)
        for p in unimplemented:
            fake._violation("unimplemented", req, p)
        return Response(200, body)

    def handle(self, method: str, target: str, header_items: list[tuple[str, str]], raw_body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """`answer`, and the thread CPU it took added to `fake.served_cpu` (what GitHub's side of a
        review costs in this process, for benchmarks to tell apart from the App's)."""
        started = time.thread_time()
        try:
            return self.answer(method, target, header_items, raw_body)
        finally:
            self.fake.add_served_cpu(time.thread_time() - started)

    def answer(self, method: str, target: str, header_items: list[tuple[str, str]], raw_body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        fake = self.fake
        split = urlsplit(target)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = Headers(header_items)
        path = split.path
        if manifest_web.is_web_path(path) or review_web.is_web_path(path):
            return self.web(method, path, query, headers, raw_body)
        misrouted = None
        if fake.rest_prefix and path != fake.graphql_path:
            if path.startswith(fake.rest_prefix + "/"):
                path = path[len(fake.rest_prefix) :]
            else:
                misrouted = f"{fake.flavor} serves REST under {fake.rest_prefix}/ and GraphQL at {fake.graphql_path}"
        links_path = path
        m = re.match(r"^/repositories/(\d+)(/.*)?$", path)
        with fake.lock:
            if m:
                repo = fake.world.repo_by_id(int(m.group(1)))
                if repo is not None:
                    path = f"/repos/{repo.full_name}{m.group(2) or ''}"
            req = Request(method, path, query, headers, raw_body, path_for_links=links_path, spec=fake.spec)
            req.misrouted = misrouted
            try:
                resp, injected = self.route(req)
                if not injected and fake.response_hook is not None:
                    resp = fake.response_hook(req.op.operation_id if req.op else None, resp) or resp
            except Exception as exc:  # noqa: BLE001 - a crash is a bug of the fake; report it, answer 500
                fake._violation("fake_error", req, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
                resp, injected = error(500, "Server Error (fake crashed: see fake.contract_violations)"), False
            finally:
                fake.payloads.spec = fake.spec
            payload = resp.encode()
            if not injected and req.op is not None:
                parsed = resp.body if is_json_media(resp.media_type) else None
                if isinstance(resp.body, bytes) and is_json_media(resp.media_type):
                    try:
                        parsed = json.loads(resp.body)
                    except ValueError:
                        parsed = None
                for problem in req.spec.validate_response(req.op, resp.status, resp.media_type, payload, parsed):
                    fake._violation("response", req, f"status {resp.status}: {problem}")
            if not injected and method == "GET" and resp.status == 200:
                resp, payload = self.conditional(headers, resp, payload)
            out_headers = self.headers(req, resp, payload)
            if req.json is None and raw_body and headers.get_ci("content-type", "").startswith("application/json"):
                try:
                    req.json = json.loads(raw_body)
                except ValueError:
                    req.json = None
            fake.requests.append(
                RecordedRequest(
                    method=method,
                    path=split.path,
                    query=query,
                    status=resp.status,
                    body=req.json,
                    auth=req.auth.kind,
                    operation_id=req.op.operation_id if req.op else ("graphql" if path == fake.graphql_path else None),
                    headers=dict(headers),
                    response=resp.body if not isinstance(resp.body, bytes) else None,
                    injected=injected,
                    installation_id=req.auth.installation.id if req.auth.installation else None,
                )
            )
        return resp.status, out_headers, payload

    def web(self, method: str, path: str, query: dict[str, str], headers: Headers,
            raw_body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """A page of github.com's web side, not the API: the App manifest flow (`manifest_web`) or a
        pull request's "Files changed" tab (`review_web`)."""
        fake = self.fake
        with fake.lock:
            req = Request(method, path, query, headers, raw_body, spec=fake.spec)
            try:
                resp = (review_web if review_web.is_web_path(path) else manifest_web).handle(fake, req)
            except Exception as exc:  # noqa: BLE001 - a crash is a bug of the fake; report it, answer 500
                fake._violation("fake_error", req, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
                resp = error(500, "Server Error (fake crashed: see fake.contract_violations)")
            payload = resp.encode()
            fake.requests.append(RecordedRequest(method=method, path=path, query=query, status=resp.status,
                                                 body=None, auth="none", operation_id="web" + path,
                                                 headers=dict(headers)))
        out = [("Content-Type", resp.media_type + "; charset=utf-8"), ("Content-Length", str(len(payload))),
               *resp.headers.items()]
        return resp.status, out, payload

    @staticmethod
    def conditional(headers: Headers, resp: Response, payload: bytes) -> tuple[Response, bytes]:
        """GitHub's caching headers, and 304 for a matching If-None-Match (githubkit revalidates)."""
        etag = 'W/"' + hashlib.sha256(resp.media_type.encode() + b"\0" + payload).hexdigest() + '"'
        cache = {"ETag": etag, "Cache-Control": "private, max-age=60, s-maxage=60", "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP"}
        resp.headers.update(cache)
        wanted = [t.strip() for t in headers.get_ci("if-none-match").split(",") if t.strip()]
        if etag in wanted or "*" in wanted:
            return Response(304, None, resp.media_type, cache), b""
        return resp, payload

    def headers(self, req: Request, resp: Response, payload: bytes) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if resp.status != 204 and resp.status != 304:
            charset = "; charset=utf-8"
            out.append(("Content-Type", resp.media_type + charset))
        out.append(("Content-Length", str(len(payload) if resp.status not in (204, 304) else 0)))
        out.append(("X-GitHub-Request-Id", uuid.uuid4().hex[:8].upper() + ":" + uuid.uuid4().hex[:6].upper()))
        out.append(("X-GitHub-Media-Type", "github.v3; format=json"))
        out.append(("X-GitHub-Api-Version-Selected", req.spec.version))
        if req.auth.kind in ("installation", "jwt") and "x-ratelimit-remaining" not in {k.lower() for k in resp.headers}:
            # A 304 to a conditional request does not count against the limit.
            graphql = req.path == self.fake.graphql_path
            snap = self.fake.rate_snapshot(req, "graphql" if graphql else "core", count=resp.status != 304)
            out += [
                ("x-ratelimit-limit", str(snap["limit"])),
                ("x-ratelimit-remaining", str(snap["remaining"])),
                ("x-ratelimit-reset", str(snap["reset"])),
                ("x-ratelimit-used", str(snap["used"])),
                ("x-ratelimit-resource", "graphql" if graphql else "core"),
            ]
        for k, v in resp.headers.items():
            out.append((k, v))
        return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid 40 ms delayed-ACK stalls
    server_version = "GitHub.com"
    sys_version = ""
    server: _Server

    def _serve(self) -> None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
            raw = bytes(body)
        else:
            raw = self.rfile.read(int(length)) if length else b""
        status, headers, payload = self.server.pipeline.handle(self.command, self.path, list(self.headers.items()), raw)
        latency = self.server.pipeline.fake.latency
        if latency > 0:  # a slower GitHub (benchmarks): outside the lock, so requests still overlap
            time.sleep(latency)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    pipeline: Pipeline

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-connection are normal (retries, timeouts); stay quiet about them."""
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class HTTPServerThread:
    """Runs the server in a daemon thread on a free loopback port."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.pipeline = pipeline
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fakegithub:{self.port}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
