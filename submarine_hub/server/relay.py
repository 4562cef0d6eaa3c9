"""Where the session relay may send the session's token: the platform's own API, nothing else.

The relay (``<base_url>submarine/api/v1/<path>``) gets ``path`` from the browser, already
percent-decoded once by tornado. It never hands that text to an HTTP client to resolve
against a base URL (an absolute URL, ``//host`` or ``..`` would replace or climb out of
the base). :func:`api_target` checks every segment, encodes it again, appends it to the
configured API URL and checks the result is still below that URL.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote, unquote, urlsplit

#: characters a path segment keeps unencoded: RFC 3986 ``pchar`` without ``:`` (a first
#: segment holding ``:`` would read as a URL scheme) and without ``%`` (always re-encoded)
_SEGMENT_SAFE = "-._~!$&'()*+,;=@"

#: how many rounds of percent-decoding a segment is checked through (``%252e%252e``...)
_DECODE_ROUNDS = 4


class RelayRefused(ValueError):
    """A path the relay will not send anywhere; the message says why."""


def _unsafe(text: str) -> str | None:
    """Why ``text`` (a segment, in one of its decoded forms) is refused, or None."""
    if text in (".", ".."):
        return "'.' and '..' segments are not allowed"
    if "/" in text or "\\" in text:
        return "an encoded '/' or '\\' is not allowed"
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return "control characters are not allowed"
    return None


def check_segment(segment: str) -> None:
    """Refuse an empty segment, ``.``/``..``, separators and control characters, in the
    segment as given and in every form percent-decoding it again would produce."""
    if not segment:
        raise RelayRefused("empty path segments ('//') are not allowed")
    forms = [segment]
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    for form in forms:
        why = _unsafe(form)
        if why:
            raise RelayRefused(why)


def api_target(api_url: str, path: str) -> str:
    """The absolute URL of ``path`` (relative, already decoded once) below ``api_url``.

    Raises :class:`RelayRefused` for an absolute URL, a scheme-relative ``//host``, ``..``,
    control characters or any of those in encoded form; the result always has
    ``api_url``'s scheme, host and port, and a path below ``api_url``'s path.
    """
    if not path:
        raise RelayRefused("no API path given")
    segments = path.split("/")
    trailing = segments[-1] == "" and len(segments) > 1
    if trailing:
        segments.pop()
    for segment in segments:
        check_segment(segment)
    base = api_url.rstrip("/")
    url = base + "/" + "/".join(quote(s, safe=_SEGMENT_SAFE) for s in segments)
    url += "/" if trailing else ""
    check_below(base, url)
    return url


def check_below(base: str, url: str) -> None:
    """Refuse ``url`` unless it has ``base``'s scheme, host and port and a path below
    ``base``'s (never a query or fragment of its own)."""
    b, u = urlsplit(base), urlsplit(url)
    same_origin = (b.scheme, b.hostname, b.port) == (u.scheme, u.hostname, u.port)
    below = u.path.startswith(b.path.rstrip("/") + "/")
    if not (same_origin and below) or u.query or u.fragment or u.username or u.password:
        raise RelayRefused(f"{url} is not below the platform API {base}")
