"""Refuse NUL characters at the door, for every route at once.

PostgreSQL cannot store U+0000 in text (GeoPackage can, which would make the
two backends differ), and no register value, reason, name or filter needs
it. Any request whose path, query or body carries one, raw or as the JSON
escape ``\\u0000``, gets a 422 problem before a route sees it. So does text
that is not UTF-8 or JSON the register could not hold
(:func:`mineaction.web.deps.malformed_request`), with the parameter named.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mineaction.web.deps import malformed_request
from mineaction.web.problems import PROBLEM_JSON

__all__ = ["RefuseNul"]

_IN_URL = (b"\x00", b"%00")
_IN_BODY = (b"\x00", b"\\u0000")


class RefuseNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if any(mark in head for mark in _IN_URL) or any(mark in body.lower() for mark in _IN_BODY):
            await _refuse(scope, send, "text may not contain NUL characters (U+0000)",
                          "remove the NUL characters and send again")
            return
        headers = dict(scope.get("headers", ()))
        malformed = malformed_request(scope.get("raw_path") or scope.get("path", "").encode(),
                                      scope.get("query_string", b""), headers.get(b"content-type", b"").decode("latin-1"), body)
        if malformed:
            await _refuse(scope, send, malformed, "send UTF-8 text and RFC 8259 JSON with numbers a database can hold")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(scope: Scope, send: Send, detail: str, hint: str) -> None:
    problem = {
        "type": "/problems/invalid-value", "title": "InvalidValue", "status": 422,
        "detail": detail, "instance": scope.get("path", ""), "hint": hint,
    }
    payload = json.dumps(problem).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
