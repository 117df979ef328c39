"""Which webhook addresses a chat robot may post to, and how they are shown.

An admin types the address and the server posts to it, so a careless or hostile address
would make Salesdesk reach inside its own network (a database port, the cloud's metadata
service at 169.254.169.254 or 100.100.100.200). Only public addresses over https are
accepted, unless the deployment allows private ones (SALESDESK_WEBHOOK_ALLOW_PRIVATE, for
intranet robots and tests). The check runs when the address is saved and again at every
send, on the addresses the connection will actually use: `resolve_public` hands the sender
one checked IP to connect to, so a name that resolves elsewhere later (DNS rebinding)
cannot slip through.

The address itself is a secret (whoever has it can post to the group), so pages and logs
show it through `mask`."""

import ipaddress
import socket
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from ..errors import DomainError

MAX_URL_LENGTH = 1000

DEFAULT_PORTS = {"https": 443, "http": 80}

# Never public, whatever `is_global` says in this Python's version: private, shared
# (CGNAT, where Alibaba Cloud's metadata service lives), loopback, link-local (the
# metadata service of most clouds), benchmarking, multicast and reserved ranges, and
# IPv6's unique-local, link-local, site-local, multicast, discard, documentation and
# deprecated IPv4-compatible ranges.
REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")

# Secrets shorter than this are masked whole: showing 8 of them would show them all.
SHOWN_AT_EACH_END = 4
# A generic webhook's last path segment longer than this is taken for a token.
LONG_SEGMENT = 16
FEISHU_HOSTS = ("open.feishu.cn", "open.larksuite.com")

EMPTY = _l("Enter the robot's webhook address.")
TOO_LONG = _l("The address is too long: at most %(max)s characters.", max=MAX_URL_LENGTH)
NOT_A_URL = _l("Enter the full web address of the webhook, starting with https://.")
SPACES = _l("The address must not contain spaces or control characters.")
CREDENTIALS = _l("The address must not contain a user name or password.")
HTTPS_ONLY = _l("The address must start with https://.")
HTTP_OR_HTTPS = _l("The address must start with https:// or http://.")
BAD_PORT = _l("The address has an invalid port number.")
NOT_FOUND = _l("The host could not be found.")
NOT_PUBLIC = _l(
    "The address leads to a private, local or reserved network address; robots may only "
    "post to public addresses."
)


class WebhookAddressError(DomainError, ValueError):
    """A webhook address that may not be used; `message` says why, for the admin."""

    def __init__(self, message):
        super().__init__(message, field="url")


def check_url(url, *, allow_private, resolve=socket.getaddrinfo):
    """The address, stripped, if robots may post to it; else WebhookAddressError."""
    parts = _parse(url, allow_private=allow_private)
    resolve_public(parts.hostname, _port(parts), allow_private=allow_private, resolve=resolve)
    return url.strip()


def resolve_public(host, port, *, allow_private, resolve=socket.getaddrinfo):
    """Resolve `host` once and return the IP to connect to. Every address it resolves
    to must be allowed, not just the one returned: the system may try them in any order."""
    try:
        found = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:  # gaierror is an OSError
        raise WebhookAddressError(NOT_FOUND) from error
    addresses = [info[4][0] for info in found or ()]
    if not addresses:
        raise WebhookAddressError(NOT_FOUND)
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError as error:
            raise WebhookAddressError(NOT_FOUND) from error
        if not allow_private and not is_public(ip):
            raise WebhookAddressError(NOT_PUBLIC)
    return addresses[0]


def is_public(ip):
    """Whether `ip` (an ipaddress object) is an ordinary address on the internet."""
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return is_public(ip.ipv4_mapped)
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not is_public(embedded):
            return False
    refused = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (ip.version == 6 and ip.is_site_local)
        or any(ip in network for network in REFUSED_NETWORKS if network.version == ip.version)
    )
    return ip.is_global and not refused


def _embedded_ipv4(ip):
    """The IPv4 address a 6to4, Teredo or NAT64 address carries, which the packets reach."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _parse(url, *, allow_private):
    """The address split into its parts, checked for everything but where it leads."""
    if not isinstance(url, str) or not url.strip():
        raise WebhookAddressError(EMPTY)
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise WebhookAddressError(TOO_LONG)
    try:
        parts = urlsplit(url)
    except ValueError as error:  # an unbalanced [ in the host, for one
        raise WebhookAddressError(NOT_A_URL) from error
    if not parts.scheme or not parts.netloc:
        raise WebhookAddressError(NOT_A_URL)
    if any(char.isspace() or not char.isprintable() for char in url):
        raise WebhookAddressError(SPACES)
    if "@" in parts.netloc:
        raise WebhookAddressError(CREDENTIALS)
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme.lower() not in allowed:
        raise WebhookAddressError(HTTP_OR_HTTPS if allow_private else HTTPS_ONLY)
    if not parts.hostname:
        raise WebhookAddressError(NOT_A_URL)
    _port(parts)
    return parts


def _port(parts):
    try:
        port = parts.port
    except ValueError as error:
        raise WebhookAddressError(BAD_PORT) from error
    if port == 0:
        raise WebhookAddressError(BAD_PORT)
    return port or DEFAULT_PORTS[parts.scheme.lower()]


def endpoint(url, *, allow_private):
    """(scheme, host, port) of an address that passes every check but resolving: what
    the sender needs to resolve and connect, at send time."""
    parts = _parse(url, allow_private=allow_private)
    return parts.scheme.lower(), parts.hostname, _port(parts)


# ---- showing it ------------------------------------------------------------------------


def mask(url):
    """The address with its secret part masked, for pages and logs: the WeCom key, the
    DingTalk access token, the Feishu hook id, and for other webhooks every query value
    and a long last path segment."""
    if not url:
        return ""
    try:
        return _masked(str(url))
    except Exception:  # odd input is shown masked whole rather than not at all
        return mask_secret(str(url))


def mask_secret(secret):
    """The first and last 4 characters with … between; short secrets masked whole."""
    if not secret:
        return ""
    if len(secret) <= 2 * SHOWN_AT_EACH_END:
        return "****"
    return f"{secret[:SHOWN_AT_EACH_END]}…{secret[-SHOWN_AT_EACH_END:]}"


def secret_parts(url):
    """The substrings of `url` that `mask` hides, to be kept out of anything shown."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return [str(url)]
    found = [value for _name, value in _query_pairs(parts.query) if value]
    segment = _secret_segment(parts)
    if segment:
        found.append(segment)
    if "@" in parts.netloc:
        found.append(parts.netloc.rpartition("@")[0])
    if parts.fragment:
        found.append(parts.fragment)
    return found


def _masked(url):
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return mask_secret(url)  # not an address: all of it may be secret
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "****@" + netloc.rpartition("@")[2]
    path = parts.path
    segment = _secret_segment(parts)
    if segment:
        head, _slash, tail = path.rstrip("/").rpartition("/")
        path = f"{head}/{mask_secret(tail)}" + path[len(path.rstrip("/")) :]
    query = "&".join(
        f"{name}={mask_secret(value)}" if separator else name
        for name, separator, value in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    shown = f"{parts.scheme}://{netloc}{path}" if parts.scheme or netloc else path
    if query:
        shown += f"?{query}"
    if parts.fragment:
        shown += f"#{mask_secret(parts.fragment)}"
    return shown


def _secret_segment(parts):
    """The last path segment when it is the secret: always on Feishu, when long elsewhere."""
    segment = parts.path.rstrip("/").rpartition("/")[2]
    host = (parts.hostname or "").rstrip(".")
    if host in FEISHU_HOSTS or len(segment) > LONG_SEGMENT:
        return segment
    return ""


def _query_pairs(query):
    for pair in query.split("&"):
        name, _separator, value = pair.partition("=")
        yield name, value
