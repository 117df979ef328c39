"""Posting a message to a chat group's robot: 企业微信 (WeCom) group robots, 钉钉
(DingTalk) and 飞书 (Feishu, Lark) custom robots, and a generic JSON webhook.

Each platform's request is built here from its public documentation: the message
format, the signature of a robot with a secret, and how its answer says yes or no (the
three chat platforms answer 200 with an error code in the body). Text from users (a
customer's name, a deal's title) is neutralised for each platform's Markdown, so it
cannot turn into a link, a mention or formatting.

`deliver` posts and never raises: whatever goes wrong becomes an unsuccessful Answer with
a short summary an admin can read. It connects only to the IP that `addresses` checked at
send time, and follows no redirect."""

import base64
import hashlib
import hmac
import http.client
import json
import logging
import re
import socket
import ssl
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import addresses

log = logging.getLogger(__name__)

PLATFORMS = ("wecom", "dingtalk", "feishu", "webhook")
PLATFORM_LABELS = {
    "wecom": _l("WeCom group robot"),
    "dingtalk": _l("DingTalk custom robot"),
    "feishu": _l("Feishu custom robot"),
    "webhook": _l("Generic JSON webhook"),
}


class Secret(StrEnum):
    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


# WeCom's key is in the address itself; DingTalk (加签, "SEC…") and Feishu (签名校验)
# sign when the robot has a secret; our own webhook always signs, so its receiver can
# tell our posts from anyone's.
NEEDS_SECRET = {
    "wecom": Secret.NONE,
    "dingtalk": Secret.OPTIONAL,
    "feishu": Secret.OPTIONAL,
    "webhook": Secret.REQUIRED,
}

WECOM_MAX_BYTES = 4096  # WeCom refuses markdown content longer than this, in UTF-8
# DingTalk and Feishu refuse request bodies over 20 KB; this leaves room for the rest.
MAX_TEXT_BYTES = 18_000
MAX_TITLE = 200
MAX_ANSWER_BYTES = 64 * 1024
MAX_SUMMARY = 300
USER_AGENT = "Salesdesk"
JSON_TYPE = "application/json; charset=utf-8"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Error codes with which a platform says "too many messages", and how long to wait then:
# WeCom and Feishu count per minute; DingTalk stops a robot for 10 minutes.
RATE_LIMITED = {
    "wecom": {45009: 60.0},
    "dingtalk": {130101: 600.0, 660026: 600.0},
    "feishu": {11232: 60.0, 9499: 60.0},
}
DEFAULT_RETRY_AFTER = 60.0
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True)
class Message:
    """What to say, already in the group's language; each platform formats it."""

    event: str
    title: str
    lines: tuple[str, ...] = ()
    link: str | None = None
    link_label: str = ""
    data: dict = field(default_factory=dict)  # the generic webhook's event, as JSON

    def __post_init__(self):
        # Lazy strings become text once, here: messages are sent from other threads.
        object.__setattr__(self, "title", str(self.title))
        object.__setattr__(self, "lines", tuple(str(line) for line in self.lines))
        object.__setattr__(self, "link_label", str(self.link_label or ""))
        object.__setattr__(self, "link", str(self.link) if self.link else None)
        json.dumps(self.data)  # fails where the message is made rather than at sending

    def as_dict(self):
        """The outbox's copy (the event is its own column)."""
        return {
            "title": self.title,
            "lines": list(self.lines),
            "link": self.link,
            "link_label": self.link_label,
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, event, content):
        return cls(event=event, **{**content, "lines": tuple(content.get("lines") or ())})


@dataclass(frozen=True)
class Request:
    url: str
    headers: dict
    body: bytes


@dataclass(frozen=True)
class Answer:
    ok: bool
    status: int | None
    summary: str
    retry_after: float | None = None


# ---- building the request ---------------------------------------------------------------


def build_request(platform, url, secret, message, now):
    """The POST to make for `message`; `now` (aware) is the moment the signature names."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    builders = {"wecom": _wecom, "dingtalk": _dingtalk, "feishu": _feishu, "webhook": _webhook}
    if platform not in builders:
        raise ValueError(f"unknown chat platform {platform!r}")
    return builders[platform](url.strip(), (secret or "").strip(), message, now.astimezone(UTC))


def _markdown(message, neutral, *, limit, separator):
    """The bold title, the lines and the link in Markdown, each text made `neutral` for
    the platform, cut to `limit` bytes."""
    link = _safe_link(message.link)
    return _fit(
        f"**{neutral(_title(message))}**",
        [neutral(line) for line in message.lines],
        f"[{neutral(_label(message))}]({link})" if link else "",
        limit=limit,
        separator=separator,
    )


def _wecom(url, _secret, message, _now):
    content = _markdown(message, _wecom_text, limit=WECOM_MAX_BYTES, separator="\n")
    return _json_request(url, {"msgtype": "markdown", "markdown": {"content": content}})


def _dingtalk(url, secret, message, now):
    # A paragraph a line: DingTalk joins single newlines.
    text = _markdown(message, _dingtalk_text, limit=MAX_TEXT_BYTES, separator="\n\n")
    # The title is the plain-text preview in the chat list, not rendered as Markdown.
    payload = {"msgtype": "markdown", "markdown": {"title": _title(message), "text": text}}
    if secret:
        timestamp = str((now - EPOCH) // timedelta(milliseconds=1))
        url = _with_query(url, timestamp=timestamp, sign=_dingtalk_sign(secret, timestamp))
    return _json_request(url, payload)


def _feishu(url, secret, message, now):
    # plain_text elements are not Markdown at all: nothing in them can become a link.
    elements = []
    if message.lines:
        text = "\n".join(_feishu_text(line) for line in message.lines)
        elements.append({"tag": "div", "text": {"tag": "plain_text", "content": _cut(text, MAX_TEXT_BYTES)}})
    link = _safe_link(message.link)
    if link:
        button = {
            "tag": "button",
            "text": {"tag": "plain_text", "content": _feishu_text(_label(message))},
            "type": "primary",
            "url": link,
        }
        elements.append({"tag": "action", "actions": [button]})
    title = _feishu_text(_title(message))
    if not elements:
        elements.append({"tag": "div", "text": {"tag": "plain_text", "content": title}})
    card = {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": title}, "template": "blue"},
        "elements": elements,
    }
    payload = {"msg_type": "interactive", "card": card}
    if secret:
        timestamp = str((now - EPOCH) // timedelta(seconds=1))
        payload = {"timestamp": timestamp, "sign": _feishu_sign(secret, timestamp), **payload}
    return _json_request(url, payload)


def _webhook(url, secret, message, now):
    if not secret:
        raise ValueError("a generic webhook needs a secret")
    timestamp = str((now - EPOCH) // timedelta(seconds=1))
    payload = {
        "event": message.event,
        "title": message.title,
        "lines": list(message.lines),
        "link": message.link,
        "data": message.data,
        "sent_at": now.isoformat(timespec="seconds"),
    }
    request = _json_request(url, payload)
    signed = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256)
    request.headers.update(
        {
            "X-Salesdesk-Event": message.event,
            "X-Salesdesk-Timestamp": timestamp,
            "X-Salesdesk-Signature": f"sha256={signed.hexdigest()}",
        }
    )
    return request


def _json_request(url, payload):
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Request(url=url, headers={"Content-Type": JSON_TYPE, "User-Agent": USER_AGENT}, body=body)


def _dingtalk_sign(secret, timestamp):
    """DingTalk 加签: HMAC-SHA256 keyed with the secret over "timestamp\\nsecret", Base64."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _feishu_sign(secret, timestamp):
    """Feishu 签名校验: HMAC-SHA256 keyed with "timestamp\\nsecret" over nothing, Base64."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _with_query(url, **values):
    """`url` with `values` set in its query, the other parameters kept as they were."""
    parts = urlsplit(url)
    kept = [pair for pair in parts.query.split("&") if pair and pair.partition("=")[0] not in values]
    return urlunsplit(parts._replace(query="&".join([*kept, urlencode(values)])))


# ---- text for each platform's Markdown ------------------------------------------------

# Line breaks and other controls inside a line would start a heading or a quote.
CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")

# WeCom documents no escape character, so the characters of its Markdown (emphasis,
# code, links, <font> and <@mention> tags, quotes) become their full-width forms.
WECOM_LOOKALIKES = str.maketrans(
    {"*": "＊", "_": "＿", "`": "｀", "~": "～", "[": "［", "]": "］", "<": "＜", ">": "＞"}
)
# DingTalk's renderer is CommonMark-like and takes backslash escapes; brackets and angle
# brackets still become full-width, so no link or tag forms even where an escape is lost.
DINGTALK_LOOKALIKES = str.maketrans({"[": "［", "]": "］", "<": "＜", ">": "＞"})
DINGTALK_ESCAPED = re.compile(r"([\\`*_~|])")
DINGTALK_LINE_START = re.compile(r"^(?:([#+-])|(\d+)([.)]))")
# Feishu's plain_text is not Markdown; < and > only keep <at> tags from mentioning anyone.
FEISHU_LOOKALIKES = str.maketrans({"<": "＜", ">": "＞"})


def _one_line(text):
    return CONTROLS.sub(" ", str(text)).strip()


def _wecom_text(text):
    text = _one_line(text).translate(WECOM_LOOKALIKES)
    return "＃" + text[1:] if text.startswith("#") else text


def _dingtalk_text(text):
    text = DINGTALK_ESCAPED.sub(r"\\\1", _one_line(text).translate(DINGTALK_LOOKALIKES))
    return DINGTALK_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text, count=1)


def _feishu_text(text):
    return _one_line(text).translate(FEISHU_LOOKALIKES)


def _title(message):
    return _one_line(message.title)[:MAX_TITLE] or "Salesdesk"


def _label(message):
    return message.link_label or _("Open in Salesdesk")


def _safe_link(link):
    """The link if it is a web address, with what could end a Markdown link encoded."""
    if not link:
        return None
    link = _one_line(link)
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(link, safe=";/?:@&=+$,%#!*'")


def _fit(head, lines, tail, *, limit, separator):
    """head, lines and tail joined, the lines cut short so the whole fits in `limit`
    bytes of UTF-8: the title and the link survive a long message."""
    body = separator.join(lines)
    whole = separator.join(part for part in (head, body, tail) if part)
    if len(whole.encode()) <= limit:
        return whole
    fixed = separator.join(part for part in (head, tail) if part)
    room = limit - len(fixed.encode()) - 2 * len(separator.encode())
    body = _cut(body, room) if room > len("…".encode()) else ""
    return _cut(separator.join(part for part in (head, body, tail) if part), limit)


def _cut(text, limit):
    """`text` in at most `limit` bytes of UTF-8, cut between characters, with … at the end."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    kept = encoded[: max(0, limit - len("…".encode()))].decode("utf-8", "ignore")
    return kept.rstrip("\\") + "…"  # a lone backslash would escape the ellipsis


# ---- reading the answer ---------------------------------------------------------------


def read_answer(platform, status, body, *, headers=None):
    """What the robot's answer means. WeCom, DingTalk and Feishu answer 200 with an error
    code in a JSON body; the generic webhook accepts with any 2xx. `headers` (the answer's)
    give Retry-After."""
    data = _json_object(body)
    code = _error_code(platform, data)
    retry_after = _retry_after(platform, status, code, data, headers)
    if 300 <= status < 400:
        summary = _("HTTP %(status)s: the robot redirected; redirects are not followed", status=status)
        return Answer(False, status, _clip(summary), retry_after)
    if not 200 <= status < 300:
        summary = f"HTTP {status}" + (f" {_compact(data)}" if data is not None else "")
        return Answer(False, status, _clip(summary), retry_after)
    if platform == "webhook":
        return Answer(True, status, _clip(f"{status} {_text(body)}".strip()))
    if data is None:
        return Answer(False, status, _clip(f"{status} " + _("answer is not JSON")))
    if code is None:
        summary = f"{status} " + _("answer has no error code") + f" {_compact(data)}"
        return Answer(False, status, _clip(summary))
    return Answer(code == 0, status, _clip(f"{status} {_compact(data)}"), retry_after)


def _json_object(body):
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _error_code(platform, data):
    if data is None or platform == "webhook":
        return None
    names = ("code", "StatusCode") if platform == "feishu" else ("errcode",)
    for name in names:
        if name in data:
            try:
                return int(data[name])
            except (TypeError, ValueError):
                return None
    return None


def _retry_after(platform, status, code, data, headers):
    if status == 429:
        return _retry_after_header(headers)
    wait = RATE_LIMITED.get(platform, {}).get(code)
    # Feishu also answers 9499 to a malformed request; only "too many request" is a limit.
    if platform == "feishu" and code == 9499 and "too many" not in str(data.get("msg", "")).lower():
        return None
    return wait


def _retry_after_header(headers):
    value = headers.get("Retry-After") if headers is not None else None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER  # absent, or an HTTP date: wait the usual minute
    return min(max(seconds, 0.0), MAX_RETRY_AFTER) if seconds == seconds else DEFAULT_RETRY_AFTER


def _compact(data):
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _text(body):
    return body.decode("utf-8", "replace")


def _clip(text):
    text = CONTROLS.sub(" ", text).strip()
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"


# ---- sending --------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the IP checked at send time, whatever the host name resolves to now."""

    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout)
        self.ip = ip

    def connect(self):
        self.sock = socket.create_connection((self.ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the socket goes to the checked IP, while SNI and the certificate
    check use the host name of the address."""

    def __init__(self, host, port, ip, timeout, context):
        super().__init__(host, port, timeout=timeout, context=context)
        self.ip = ip

    def connect(self):
        sock = socket.create_connection((self.ip, self.port), self.timeout)
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def deliver(
    platform,
    url,
    secret,
    message,
    *,
    now,
    allow_private,
    timeout=5.0,
    resolve=socket.getaddrinfo,
    context=None,
):
    """Post `message` to the robot at `url` and say how it went. Never raises. `context`
    is the TLS context (default: the system's trusted certificates)."""
    try:
        request = build_request(platform, url, secret, message, now)
        scheme, host, port = addresses.endpoint(url, allow_private=allow_private)
        ip = addresses.resolve_public(host, port, allow_private=allow_private, resolve=resolve)
    except addresses.WebhookAddressError as error:
        answer = Answer(False, None, _clip(str(error.message)))
    except (ValueError, TypeError) as error:
        answer = Answer(False, None, _clip(_("The message could not be prepared: %(reason)s", reason=error)))
    except Exception as error:  # a caller's mistake still must not stop the other robots
        answer = Answer(False, None, _unexpected(error))
    else:
        try:
            answer = _post(platform, request, scheme, host, port, ip, timeout, context)
        except Exception as error:
            answer = Answer(False, None, _unexpected(error))
    answer = _without_secrets(answer, url, secret)
    if not answer.ok:
        log.warning("%s robot at %s: %s", platform, addresses.mask(url), answer.summary)
    return answer


def _post(platform, request, scheme, host, port, ip, timeout, context):
    deadline = time.monotonic() + timeout
    parts = urlsplit(request.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if scheme == "https":
        context = context or ssl.create_default_context()
        connection = _PinnedHTTPSConnection(host, port, ip, timeout, context)
    else:
        connection = _PinnedHTTPConnection(host, port, ip, timeout)
    try:
        connection.request("POST", path, body=request.body, headers=request.headers)
        sock = connection.sock  # getresponse() may hand the socket over to the response
        _time_left(sock, deadline)
        response = connection.getresponse()
        try:
            body = _read(response, sock, deadline)
        finally:
            response.close()
    except TimeoutError:
        return Answer(False, None, _("timed out after %(seconds)s s", seconds=f"{timeout:g}"))
    except ssl.SSLCertVerificationError as error:
        reason = error.verify_message or error.reason
        return Answer(False, None, _clip(_("TLS certificate refused: %(reason)s", reason=reason)))
    except ssl.SSLError as error:
        return Answer(False, None, _clip(_("TLS error: %(reason)s", reason=error.reason or error)))
    except ConnectionRefusedError:
        return Answer(False, None, _("connection refused"))
    except http.client.RemoteDisconnected:
        return Answer(False, None, _("the robot closed the connection without answering"))
    except http.client.HTTPException:
        return Answer(False, None, _("the answer is not valid HTTP"))
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return Answer(False, None, _clip(_("network error: %(reason)s", reason=reason)))
    finally:
        connection.close()
    return read_answer(platform, response.status, body, headers=response.headers)


def _unexpected(error):
    # The type only: an exception's text may quote the address, key and all.
    return _("unexpected error: %(reason)s", reason=type(error).__name__)


def _time_left(sock, deadline):
    """Give the next socket operation what is left of the time allowed for the send."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    sock.settimeout(left)


def _read(response, sock, deadline):
    chunks, size = [], 0
    while size < MAX_ANSWER_BYTES:
        _time_left(sock, deadline)
        chunk = response.read1(MAX_ANSWER_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _without_secrets(answer, url, secret):
    """The answer with any part of the key or secret a platform echoed masked."""
    summary = answer.summary
    for part in [secret or "", *addresses.secret_parts(url)]:
        if len(part) >= addresses.SHOWN_AT_EACH_END:
            summary = summary.replace(part, addresses.mask_secret(part))
    return replace(answer, summary=summary) if summary != answer.summary else answer
