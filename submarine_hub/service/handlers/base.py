"""Base handlers: hub authentication, JSON bodies and JSON errors."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, overload

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated, UserNotAllowed
from tornado import web

from ...client.config import DEFAULT_ENVIRONMENT_HEADER, DEFAULT_TEAM_HEADER
from ...core.errors import InvalidInput, NotAuthenticated, PayloadTooLarge, SubmarineError
from ...core.experiments.runs import TOKEN_PREFIX as RUN_TOKEN_PREFIX
from ...core.experiments.runs import identity_for_token as identity_for_run_token
from ...core.identity import Identity
from ...core.validation import INT64_MAX, dump_json, parse_id, parse_int, parse_json
from ...store import db
from ..metrics import observe_request

if TYPE_CHECKING:
    from ..context import ServiceContext

log = logging.getLogger("submarine_hub.service")

_PATH_PARAM = re.compile(r"\{(\w+)\}")

HUB_LOGIN_HINT = (
    "Authentication required: send 'Authorization: token <JupyterHub API token>' "
    "or log in to the hub."
)


class IdentityProvider(Protocol):
    """Who is calling. The service's own is JupyterHub's (:meth:`BaseHandler.hub_user_model`);
    another one goes in the application setting ``submarine_identity_provider`` (as the
    single-user server's standalone mode does)."""

    #: what an unauthenticated caller of a non-public endpoint is told
    login_hint: str

    async def user_model(self, handler: BaseHandler) -> dict[str, Any] | None:
        """The caller as JupyterHub models users (``name``, ``kind``, ``admin``, ``groups``,
        ``scopes``), or None for an anonymous caller; raise a 4xx to refuse the request."""
        ...

    async def check_request(self, handler: BaseHandler) -> None:
        """Checks of the request itself (its Host, its Origin) that every caller passes,
        a run's token included; raise a 4xx to refuse it."""
        ...


def allowed_methods(cls: type[web.RequestHandler]) -> list[str]:
    """The HTTP methods ``cls`` answers (the ``Allow`` header of its 405s)."""
    return [
        m
        for m in cls.SUPPORTED_METHODS
        if getattr(cls, m.lower(), None) is not getattr(web.RequestHandler, m.lower(), None)
    ]


def route_pattern(path: str) -> str:
    """Turn an OpenAPI path (``/teams/{team}``) into a tornado pattern; a ``{subpath}``
    (last) takes the rest of the path, slashes included (a relayed UI's pages)."""
    pattern = _PATH_PARAM.sub(
        lambda m: f"(?P<{m[1]}>.*)" if m[1] == "subpath" else f"(?P<{m[1]}>[^/]+)", path
    )
    return pattern if pattern.endswith(".*)") else pattern + "/?"


class JSONErrorsMixin:
    """Every 4xx/5xx is ``{"status": N, "message": "..."}``; never a traceback."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        handler: web.RequestHandler = self  # type: ignore[assignment]
        message = (
            HTTPStatus(status_code).phrase
            if status_code in HTTPStatus._value2member_map_
            else "Error"
        )
        exc_info = kwargs.get("exc_info")
        if exc_info:
            exc = exc_info[1]
            if isinstance(exc, SubmarineError):
                message = exc.message
            elif isinstance(exc, web.HTTPError) and exc.log_message:
                message = exc.log_message % exc.args if exc.args else exc.log_message
            elif isinstance(exc, web.HTTPError) and exc.reason:
                message = exc.reason
        if getattr(handler, "_close_connection", False):
            # answered before the body was read: tornado closes the connection after
            # this answer; say so, or a proxy would reuse it (and fail the next request)
            handler.set_header("Connection", "close")
        body: dict[str, Any] = {"status": status_code, "message": message}
        if exc_info and getattr(exc_info[1], "missing", None):
            body["missing"] = exc_info[1].missing  # parts a save must send
        if status_code == 405:
            handler.set_header("Allow", ", ".join(allowed_methods(type(handler))))
        handler.clear_header("Content-Type")
        handler.set_header("Content-Type", "application/json; charset=UTF-8")
        handler.finish(json.dumps(body))


@web.stream_request_body
class BaseHandler(JSONErrorsMixin, HubOAuthenticated, web.RequestHandler):
    """Base of the service's handlers.

    ``path`` is the handler's route below ``api/v1`` in OpenAPI form; ``public``
    handlers answer without authentication.

    Bodies are streamed and buffered up to ``max_body_size``; past it the rest is
    drained, not kept, and reading ``body`` answers 413. A request refused before its
    body is read (anonymous, say) is answered once its body is drained, up to
    ``max_body_size``; a larger one is answered at once with ``Connection: close``.
    (An answer before the body is read, without that header, would have the proxy
    reuse a connection tornado then closes: the next caller would get a 503.)
    """

    _body: bytearray
    _body_overflow = False
    _deferred_error: BaseException | None = None
    _drained = 0
    _close_connection = False
    _run_identity: Identity | None = None
    _hub_auth_user_cache: dict[str, Any] | None  # the caller (HubAuthenticated's cache)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for method in ("post", "put", "patch", "delete"):
            if method in cls.__dict__:
                setattr(cls, method, _after_body(cls.__dict__[method]))

    path: ClassVar[str] = ""
    public: ClassVar[bool] = False

    def initialize(self) -> None:
        self.hub_auth = self.settings["hub_auth"]

    @property
    def core(self) -> ServiceContext:
        return self.settings["submarine"]

    @property
    def log(self) -> logging.Logger:
        return log

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    @property
    def max_body_size(self) -> int:
        return self.settings["submarine_max_body_size"]

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if self._deferred_error is not None:
            self._drain(len(chunk))
            return None
        if self._body_overflow or len(self._body) + len(chunk) > self.max_body_size:
            self._body_overflow = True
            self._body.clear()
        else:
            self._body += chunk
        return None

    @property
    def body(self) -> bytes:
        if self._body_overflow:
            raise PayloadTooLarge(
                f"The request body is over the limit of {self.max_body_size} bytes."
            )
        return bytes(self._body)

    async def prepare(self) -> None:
        db.reading(self.request.method in ("GET", "HEAD"))  # SQLite: deferred transactions
        self._body = bytearray()
        length = self.request.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.max_body_size:
            self._body_overflow = True
        try:
            await self._authenticate()
            self._parse_path_ids()
        except Exception as e:
            if not self._expects_body():
                raise
            if self._body_overflow:  # too much to drain for a refused request
                self._close_connection = True
                raise
            # answer once the body is drained: an early answer under the proxy is a 503
            self._deferred_error = e

    def _drain(self, size: int) -> None:
        """Count a chunk of a refused request's body; past ``max_body_size``, answer now
        (saying the connection closes) rather than read on."""
        self._drained += size
        error = self._deferred_error
        if error is None or self._drained <= self.max_body_size or self._finished:
            return
        self._close_connection = True
        status: Any = getattr(error, "status", None) or getattr(error, "status_code", 500)
        self.send_error(status, exc_info=(type(error), error, error.__traceback__))

    def _expects_body(self) -> bool:
        headers = self.request.headers
        return headers.get("Content-Length", "0") != "0" or "Transfer-Encoding" in headers

    def _parse_path_ids(self) -> None:
        """Every ``..._id`` parameter of the route becomes an int (1 .. 2**63-1), or the
        request answers 404: the one place ids in URLs are parsed."""
        for name, value in self.path_kwargs.items():
            if name.endswith("_id"):
                ids: dict[str, Any] = self.path_kwargs  # handlers take them as ints
                ids[name] = parse_id(value, name[: -len("_id")])

    @overload
    def int_arg(
        self, name: str, default: int, *, minimum: int = ..., maximum: int = ...
    ) -> int: ...

    @overload
    def int_arg(
        self, name: str, default: None = None, *, minimum: int = ..., maximum: int = ...
    ) -> int | None: ...

    def int_arg(
        self,
        name: str,
        default: int | None = None,
        *,
        minimum: int = 1,
        maximum: int = INT64_MAX,
    ) -> int | None:
        """The query argument ``name`` as a whole number in ``[minimum, maximum]``
        (``default`` when absent or empty); else a 400."""
        value = self.get_query_argument(name, None)
        if value in (None, ""):
            return default
        return parse_int(value, name, minimum=minimum, maximum=maximum)

    def flag_arg(self, name: str) -> bool:
        """A yes/no query argument: ``1``/``true`` or ``0``/``false`` (absent: no)."""
        value = self.get_query_argument(name, "")
        if value in ("1", "true"):
            return True
        if value in ("", "0", "false"):
            return False
        raise InvalidInput(f"'{name}' must be 1, true, 0 or false.")

    def enum_arg(self, name: str, choices: tuple[str, ...], default: str | None = None) -> Any:
        """The query argument ``name`` if it is one of ``choices``; else a 400."""
        value = self.get_query_argument(name, None)
        if value is None:
            return default
        if value not in choices:
            raise InvalidInput(f"'{name}' must be one of {', '.join(choices)}.")
        return value

    async def _authenticate(self) -> None:
        provider: IdentityProvider | None = self.settings.get("submarine_identity_provider")
        if provider is not None:
            await provider.check_request(self)  # run tokens too: no way around Host/Origin
        self._run_identity = await self._run_token_identity()
        if self._run_identity is not None:
            self._hub_auth_user_cache = {"name": self._run_identity.name, "kind": "user"}
            return
        if provider is None:
            self._hub_auth_user_cache = await self.hub_user_model()
            hint = HUB_LOGIN_HINT
        else:
            self._hub_auth_user_cache = await provider.user_model(self)
            hint = provider.login_hint
        if not self.public and self._hub_auth_user_cache is None:
            raise NotAuthenticated(hint)

    async def hub_user_model(self) -> dict[str, Any] | None:
        """The caller by JupyterHub token or OAuth cookie: the default identity provider."""
        model = await self.hub_auth.get_user(self, sync=False)
        if not model:
            return None
        try:
            return self.check_hub_user(model)
        except UserNotAllowed:
            raise web.HTTPError(
                403,
                f"{model.get('kind', 'user')} {model['name']} may not use the submarine "
                "service (the scope access:services!service=submarine is missing).",
            ) from None

    async def _run_token_identity(self) -> Identity | None:
        """A run's own token (``SUBMARINE_TOKEN`` in its processes) speaks for its owner."""
        auth = self.request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token.startswith(RUN_TOKEN_PREFIX):
            return None
        async with self.core.db.session() as session:
            identity = await identity_for_run_token(session, token.strip())
        if identity is None:
            raise NotAuthenticated("This run token is not valid: its run has ended.")
        return identity

    def get_current_user(self) -> dict[str, Any] | None:
        return getattr(self, "_hub_auth_user_cache", None)

    async def identity(self) -> Identity:
        """The caller with teams and admin flag as the hub knows them now, and the
        defaults its client sent (``X-Submarine-Team``, ``X-Submarine-Environment``)."""
        identity: Identity | None = getattr(self, "_run_identity", None)
        if identity is None:
            model = self.get_current_user()
            if model is None:
                raise NotAuthenticated("Authentication required.")
            identity = await self.core.identity_for(model)
        headers = self.request.headers
        return identity.with_defaults(
            headers.get(DEFAULT_TEAM_HEADER, "").strip(),
            headers.get(DEFAULT_ENVIRONMENT_HEADER, "").strip(),
        )

    def get_json_body(self) -> dict[str, Any]:
        """The body as a JSON object (strict: finite numbers, bounded depth); else a 400."""
        raw = self.body
        if not raw:
            raise InvalidInput("A JSON object is required in the request body.")
        body = parse_json(raw)
        if not isinstance(body, dict):
            raise InvalidInput("The request body must be a JSON object.")
        return body

    def checked_body(self) -> dict[str, Any]:
        """The body as a JSON object that holds what the OpenAPI document's request schema
        of this route and method states (:mod:`..bodies`); else a 400 naming each wrong
        field. What a schema cannot say is the domain core's to check."""
        body = self.get_json_body()
        return self.core.request_bodies.check(self.path, self.request.method or "", body)

    def finish(self, chunk: Any = None) -> Any:
        body = getattr(self.request, "_body_future", None)  # set for streamed bodies
        if not self._headers_written and body is not None and not body.done():
            # tornado closes a connection answered before its body arrived (a 405 for an
            # unknown method, say): tell the client, or a proxy reuses the socket and
            # hands the next request a 503
            self.set_header("Connection", "close")
        return super().finish(chunk)

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(dump_json(data))

    def on_finish(self) -> None:
        observe_request(
            self.path, self.request.method or "", self.get_status(), self.request.request_time()
        )
        super().on_finish()

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, SubmarineError) and value.status < 500:
            return  # a client's mistake: the access log line is enough
        super().log_exception(typ, value, tb)

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        if exc_info and isinstance(exc_info[1], SubmarineError):
            status_code = exc_info[1].status
        super().send_error(status_code, **kwargs)


def _after_body(
    method: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """Raise an error found in ``prepare`` only now that the request body is read."""

    @functools.wraps(method)
    async def wrapper(self: BaseHandler, *args: Any, **kwargs: Any) -> None:
        if self._deferred_error is not None:
            raise self._deferred_error
        await method(self, *args, **kwargs)

    return wrapper


class NotFoundHandler(BaseHandler):
    public = True

    async def get(self, *args: Any) -> None:
        raise web.HTTPError(404, f"No such endpoint: {self.request.path}")

    post = put = patch = delete = get


class OAuthCallbackHandler(JSONErrorsMixin, HubOAuthCallbackHandler):
    def initialize(self) -> None:
        self.hub_auth = self.settings["hub_auth"]
