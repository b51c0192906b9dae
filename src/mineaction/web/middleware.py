"""What every request and response passes through, for every route at once.

* :class:`RefuseNul`: PostgreSQL cannot store U+0000 in text (GeoPackage can,
  which would make the two backends differ), and no register value, reason,
  name or filter needs it. Any request whose path, query or body carries one,
  raw or as the JSON escape ``\\u0000``, gets a 422 problem before a route
  sees it. So does text that is not UTF-8 or JSON the register could not
  hold (:func:`mineaction.web.deps.malformed_request`), with the parameter named.
* :class:`TrustedProxies`: the client address and scheme a trusted reverse
  proxy reports (``X-Forwarded-For``, ``X-Forwarded-Proto``) replace the
  socket's, and only then: anyone else could name any address and dodge
  the sign-in throttle, which is keyed on it.
* :class:`SecurityHeaders`: a Content-Security-Policy the map UI meets (its
  own scripts and styles only; MapLibre's worker from a ``blob:`` URL), no
  framing, no MIME sniffing, no referrer to other sites, and HSTS on HTTPS.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mineaction.web.deps import malformed_request
from mineaction.web.problems import PROBLEM_JSON

__all__ = ["RefuseNul", "SecurityHeaders", "TrustedProxies", "content_security_policy"]

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


class TrustedProxies:
    """Take the client's address and scheme from a trusted proxy's ``X-Forwarded-*`` headers.

    The address is the right-most ``X-Forwarded-For`` entry that is not itself
    a trusted proxy (entries left of it were written by the client and prove
    nothing). From any other peer the headers are ignored.
    """

    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.networks = []
        for text in (t.strip() for t in trusted):
            try:
                self.networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                if text:
                    raise ValueError(f"trusted proxy {text!r} is not an IP address or network "
                                     "(MINEACTION_TRUSTED_PROXIES, serve --forwarded-allow-ips)") from None

    def _trusted(self, address: str) -> bool:
        ip = _ip(address)
        return ip is not None and any(ip in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and self._trusted(client[0]):
            headers = dict(scope["headers"])
            hops = [h.strip() for h in headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",") if h.strip()]
            source = next((h for h in reversed(hops) if not self._trusted(h)), hops[0] if hops else None)
            source = source if source is not None and _ip(source) is not None else None  # garbage: keep the peer
            proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[0].strip().lower()
            scope = dict(scope)
            if source:
                scope["client"] = (source, 0)
            if proto in ("http", "https"):
                scope["scheme"] = proto
        await self.app(scope, receive, send)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def content_security_policy(basemap_url: str | None = None) -> str:
    """The map UI's policy: everything from this server, plus an optional basemap's tile server."""
    extra = ""
    if basemap_url:
        parts = urlsplit(basemap_url)
        extra = f" {parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "worker-src 'self' blob:",  # MapLibre starts its workers from a blob: URL
        "child-src 'self' blob:",
        f"img-src 'self' data: blob:{extra}",
        f"connect-src 'self'{extra}",
        "style-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


#: FastAPI's interactive API pages load Swagger UI and ReDoc from their CDN with an inline script
_DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_DOCS_PATHS = ("/docs", "/redoc")
#: one year, as the HSTS preload list asks
_HSTS = b"max-age=31536000"


class SecurityHeaders:
    """Add the security headers to every HTTP response (HSTS only to one that came over HTTPS)."""

    def __init__(self, app: ASGIApp, policy: str) -> None:
        self.app = app
        self.policy = policy.encode()
        self.docs_policy = _DOCS_POLICY.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        policy = self.docs_policy if path.startswith(_DOCS_PATHS) else self.policy
        added = [
            (b"content-security-policy", policy),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if scope.get("scheme") == "https":
            added.append((b"strict-transport-security", _HSTS))
        names = {name for name, _ in added}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": [*headers, *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
