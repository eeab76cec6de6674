"""
A minimal stand-in for the Hugging Face Hub HTTP API, for testing the real ``huggingface_hub`` client offline.

Implements what push and download use: ``POST /api/repos/create``, ``POST /api/validate-yaml``,
``POST /api/models/{repo}/preupload/{revision}`` (every file "regular", i.e. sent inline in the commit),
``POST /api/models/{repo}/commit/{revision}`` (NDJSON), ``GET /api/models/{repo}[/revision/{revision}]`` and
``HEAD``/``GET /{repo}/resolve/{revision}/{path}`` with the ``X-Repo-Commit``, ``ETag`` and ``Content-Length``
headers ``hf_hub_download`` checks. Write calls need ``Authorization: Bearer <token>``.

Any other request is answered 501 and recorded in ``FakeHub.unhandled``, which the tests' fixture checks: a
huggingface_hub upgrade that calls an endpoint this server lacks fails loudly, naming the request.
"""

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

_REPO = r"(?P<repo>[^/]+/[^/]+)"


@dataclass
class FakeRepo:
    commits: list[tuple[str, dict[str, bytes]]] = field(default_factory=list)  # (oid, files) oldest first

    def snapshot(self, revision: str) -> tuple[str, dict[str, bytes]] | None:
        if revision == "main":
            return self.commits[-1] if self.commits else ("0" * 40, {})
        for oid, files in self.commits:
            if oid == revision:
                return oid, files
        return None


class FakeHub:
    """State of the fake Hub: repositories, accepted tokens and a log of the requests."""

    def __init__(self, token: str = "hf_test_token", user: str = "tester"):
        self.token = token
        self.user = user
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[tuple[str, str]] = []
        self.unhandled: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeHub":
        hub = self

        class Handler(_Handler):
            state = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def files(self, repo_id: str) -> dict[str, bytes]:
        """:return: The files at the head of ``main``"""
        snapshot = self.repos[repo_id].snapshot("main")
        assert snapshot is not None
        return dict(snapshot[1])

    def add_files(self, repo_id: str, files: dict[str, bytes]) -> str:
        """Commit files directly (to plant crafted repositories). :return: The commit id"""
        with self.lock:
            repo = self.repos.setdefault(repo_id, FakeRepo())
            current = dict(repo.snapshot("main")[1]) if repo.commits else {}  # type: ignore[index]
            current.update(files)
            oid = hashlib.sha1(
                repr(sorted((k, hashlib.sha256(v).hexdigest()) for k, v in current.items())).encode()
            ).hexdigest()
            oid = hashlib.sha1(f"{oid}{len(repo.commits)}".encode()).hexdigest()
            repo.commits.append((oid, current))
            return oid


class _Handler(BaseHTTPRequestHandler):
    state: FakeHub
    protocol_version = "HTTP/1.1"  # keep-alive, as the client expects; every answer has a Content-Length

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    # --- helpers -------------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, head: bool = False) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _error(
        self, status: int, code: str | None, message: str, head: bool = False, extra: dict[str, str] | None = None
    ) -> None:
        headers = {"Content-Type": "application/json", "X-Error-Message": message, **(extra or {})}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, json.dumps({"error": message}).encode(), headers, head=head)

    def _unimplemented(self, head: bool = False) -> None:
        request = f"{self.command} {self.path}"
        self.state.unhandled.append(request)
        self._error(501, None, f"tests/hub_server.py does not implement {request}", head=head)

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.state.token}":
            return True
        self._error(401, None, "Invalid credentials in Authorization header")
        return False

    # --- routes --------------------------------------------------------------------------------------------
    def do_POST(self) -> None:
        path = unquote(urlsplit(self.path).path)
        self.state.requests.append(("POST", path))
        body = self._body()
        if path == "/api/validate-yaml":
            content = json.loads(body).get("content", "")
            match = re.match(r"^---\n(.*?)\n---", content, re.DOTALL)
            try:
                if match:
                    yaml.safe_load(match.group(1))
            except yaml.YAMLError as error:
                return self._json(400, {"errors": [{"message": str(error)}], "warnings": []})
            return self._json(200, {"errors": [], "warnings": []})
        if not self._authorized():
            return None
        if path == "/api/repos/create":
            payload = json.loads(body)
            repo_id = f"{payload.get('organization') or self.state.user}/{payload['name']}"
            with self.state.lock:
                if repo_id in self.state.repos:
                    return self._error(409, None, "You already created this model repo")
                self.state.repos[repo_id] = FakeRepo()
            return self._json(200, {"url": f"{self.state.endpoint}/{repo_id}", "name": repo_id})
        match = re.fullmatch(rf"/api/models/{_REPO}/(?P<kind>preupload|commit)/(?P<rev>[^/]+)", path)
        if match is None:
            return self._unimplemented()
        repo_id = match["repo"]
        if repo_id not in self.state.repos:
            return self._error(404, "RepoNotFound", "Repository not found")
        if match["kind"] == "preupload":
            files = json.loads(body)["files"]
            return self._json(
                200,
                {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None} for f in files]},
            )
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            return self._error(400, None, "The commit must start with a header")
        added: dict[str, bytes] = {}
        for line in lines[1:]:
            if line["key"] != "file" or line["value"].get("encoding") != "base64":
                return self._error(400, None, f"Unsupported commit operation {line['key']}")
            added[line["value"]["path"]] = base64.b64decode(line["value"]["content"])
        oid = self.state.add_files(repo_id, added)
        return self._json(
            200, {"success": True, "commitOid": oid, "commitUrl": f"{self.state.endpoint}/{repo_id}/commit/{oid}"}
        )

    def do_PUT(self) -> None:
        self.state.requests.append(("PUT", unquote(urlsplit(self.path).path)))
        self._unimplemented()

    do_DELETE = do_PATCH = do_PUT

    def do_HEAD(self) -> None:
        self._resolve(head=True)

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        match = re.fullmatch(rf"/api/models/{_REPO}(?:/revision/(?P<rev>[^/]+))?", path)
        if match is None:
            return self._resolve(head=False)
        self.state.requests.append(("GET", path))
        repo = self.state.repos.get(match["repo"])
        if repo is None:
            return self._error(404, "RepoNotFound", "Repository not found")
        snapshot = repo.snapshot(match["rev"] or "main")
        if snapshot is None:
            return self._error(404, "RevisionNotFound", "Invalid rev id")
        oid, files = snapshot
        return self._json(
            200, {"id": match["repo"], "sha": oid, "private": False, "siblings": [{"rfilename": n} for n in files]}
        )

    def _resolve(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        self.state.requests.append(("HEAD" if head else "GET", path))
        match = re.fullmatch(rf"/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<file>.+)", path)
        if match is None:
            return self._unimplemented(head=head)
        repo = self.state.repos.get(match["repo"])
        if repo is None:
            return self._error(404, "RepoNotFound", "Repository not found", head=head)
        snapshot = repo.snapshot(match["rev"])
        if snapshot is None:
            return self._error(404, "RevisionNotFound", "Invalid rev id", head=head)
        oid, files = snapshot
        if match["file"] not in files:
            return self._error(404, "EntryNotFound", "Entry not found", head=head, extra={"X-Repo-Commit": oid})
        content = files[match["file"]]
        headers = {
            "X-Repo-Commit": oid,
            "ETag": f'"{hashlib.sha256(content).hexdigest()}"',
            "Content-Type": "application/octet-stream",
        }
        self._send(200, content, headers, head=head)
