"""Who may talk to the server: the Host header, and the token when the server is not on loopback only.

An ASGI middleware in front of the application. A request whose ``Host`` is not one the server
answers to is refused (403): a page on another site cannot reach a loopback server through a
DNS name of its own (DNS rebinding). With a token, every request must carry it, as the header
``X-Patrolsim-Token``, ``Authorization: Bearer TOKEN``, the query ``?token=`` (the address the
server prints) or the cookie the page gets when it is opened with that query: none is 401,
a wrong one 403. Tokens are compared in constant time.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

TOKEN_HEADER = "x-patrolsim-token"
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address) is this machine's default loopback: 127.0.0.1, ::1 or localhost.
    Other 127.x addresses are loopback too, but the server treats any host it was not started on
    by default as shared, so they need a token like any other."""
    return host in ("127.0.0.1", "::1", "localhost")


def new_token() -> str:
    """A random token for a server on another host (printed in its address)."""
    return secrets.token_urlsafe(24)


def cookie_name(port: int) -> str:
    """The page's token cookie, one per port (cookies do not tell ports apart)."""
    return f"patrolsim_token_{port}"


def _host_only(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:8765
        return value[1:value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":")[0]
    return value


def allowed_hosts(host: str) -> set[str] | None:
    """The Host header values (without port) the server answers to; None: any (bound to all addresses)."""
    try:
        if ipaddress.ip_address(host).is_unspecified:
            return None
    except ValueError:
        pass
    names = {host.lower()}
    if is_loopback(host):
        names |= {"127.0.0.1", "::1", *LOOPBACK_NAMES}
    return names


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: the Host check, and the token check when ``token`` is set."""

    def __init__(self, app, host: str, port: int, token: str | None):
        self.app = app
        self.hosts = allowed_hosts(host)
        self.token = token
        self.cookie = cookie_name(port)

    def _given(self, scope) -> tuple[str | None, bool]:
        """(the token the request carries, whether it came in the query string)."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if TOKEN_HEADER in headers:
            return headers[TOKEN_HEADER], False
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip(), False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" in query:
            return query["token"][0], True
        if "cookie" in headers:
            jar = SimpleCookie()
            try:
                jar.load(headers["cookie"])
            except Exception:  # noqa: BLE001 - a malformed cookie header is no token
                return None, False
            if self.cookie in jar:
                return jar[self.cookie].value, False
        return None, False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        host = _host_only(headers.get(b"host", b"").decode("latin-1"))
        if self.hosts is not None and host not in self.hosts:
            return await _refuse(send, 403, f"host {host[:60]!r}: this server answers to "
                                            f"{', '.join(sorted(self.hosts))} only")
        if self.token is None:
            return await self.app(scope, receive, send)
        given, in_query = self._given(scope)
        if given is None:
            return await _refuse(send, 401, "this server needs its token: open the address it printed "
                                            "(with ?token=...) or send the X-Patrolsim-Token header")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return await _refuse(send, 403, "wrong token")
        if not in_query:
            return await self.app(scope, receive, send)

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
            await send(message)

        return await self.app(scope, receive, send_with_cookie)
