"""Which webhook addresses a chat robot may use (chat/addresses.py): the SSRF guard a
hostile admin or a rebinding DNS server meets, and the masked address pages show."""

import ipaddress
import socket

import pytest

from salesdesk.chat import addresses
from salesdesk.chat.addresses import WebhookAddressError, check_url, mask, resolve_public
from salesdesk.errors import DomainError

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_TOKEN = "b2d1c3f48e0a9d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c"
FEISHU_HOOK = "5e3d587e-d78e-4a07-bd07-265f269f86fd"


def resolver(*ips):
    """A getaddrinfo that answers `ips` for any name, and counts its calls."""

    def resolve(host, port, *args, **kwargs):
        resolve.calls.append(host)
        return [
            (
                socket.AF_INET6 if ipaddress.ip_address(ip).version == 6 else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in ips
        ]

    resolve.calls = []
    return resolve


def unresolvable(host, port, *args, **kwargs):
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def refusal(url, *, allow_private=False, resolve=None):
    with pytest.raises(WebhookAddressError) as caught:
        check_url(url, allow_private=allow_private, resolve=resolve or resolver(PUBLIC_V4))
    return str(caught.value.message)


def test_a_public_https_address_is_accepted_stripped():
    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"
    assert check_url(f"  {url}\n", allow_private=False, resolve=resolver(PUBLIC_V4)) == url
    assert check_url(url, allow_private=False, resolve=resolver(PUBLIC_V6)) == url


def test_the_error_is_a_domain_error_on_the_url_field():
    with pytest.raises(WebhookAddressError) as caught:
        check_url("", allow_private=False)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, DomainError)
    assert caught.value.field == "url"
    assert str(caught.value) == "Enter the robot's webhook address."


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", addresses.EMPTY),
        ("   ", addresses.EMPTY),
        (None, addresses.EMPTY),
        ("not a url", addresses.NOT_A_URL),
        ("https://", addresses.NOT_A_URL),
        ("//robot.example.com/hook", addresses.NOT_A_URL),
        ("javascript:alert(1)", addresses.NOT_A_URL),
        ("https://[::1/hook", addresses.NOT_A_URL),
        ("ftp://x", addresses.HTTPS_ONLY),
        ("file:///etc/passwd", addresses.NOT_A_URL),
        ("gopher://robot.example.com:70/_x", addresses.HTTPS_ONLY),
        ("http://robot.example.com/hook", addresses.HTTPS_ONLY),
        ("https://robot.example.com/ho ok", addresses.SPACES),
        ("https://robot.example.com/hook\r\nX-Injected: 1", addresses.SPACES),
        ("https://robot.example.com/\x00hook", addresses.SPACES),
        ("https://robot.example.com/\thook", addresses.SPACES),
        ("https://user:pass@robot.example.com/hook", addresses.CREDENTIALS),
        ("https://user@robot.example.com/hook", addresses.CREDENTIALS),
        ("https://robot.example.com:99999/hook", addresses.BAD_PORT),
        ("https://robot.example.com:0/hook", addresses.BAD_PORT),
        ("https://robot.example.com:https/hook", addresses.BAD_PORT),
        ("https://robot.example.com/" + "a" * 2048, addresses.TOO_LONG),
    ],
)
def test_malformed_addresses_are_refused_with_a_reason(url, message):
    assert refusal(url) == str(message)


def test_the_limit_is_inclusive():
    url = "https://robot.example.com/"
    assert check_url(url + "a" * (1000 - len(url)), allow_private=False, resolve=resolver(PUBLIC_V4))
    assert refusal(url + "a" * (1001 - len(url))) == str(addresses.TOO_LONG)


def test_http_is_allowed_only_with_private_addresses_allowed():
    url = "http://robot.example.com/hook"
    assert check_url(url, allow_private=True, resolve=resolver(PUBLIC_V4)) == url
    assert refusal("ftp://robot.example.com/", allow_private=True) == str(addresses.HTTP_OR_HTTPS)


NOT_PUBLIC = [
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",  # the metadata service of AWS, GCP, Azure, Tencent Cloud
    "169.254.0.1",
    "100.100.100.200",  # Alibaba Cloud's metadata service (CGNAT range)
    "100.64.0.1",
    "0.0.0.0",
    "0.1.2.3",
    "192.0.0.8",
    "198.18.0.1",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fec0::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::ffff:100.100.100.200",
    "::127.0.0.1",  # IPv4-compatible, deprecated
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    "2002:a00:1::1",  # 6to4 around 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
    "2001:db8::1",
]


@pytest.mark.parametrize("ip", NOT_PUBLIC)
def test_names_resolving_to_non_public_addresses_are_refused(ip):
    url = "https://robot.example.com/hook"
    assert refusal(url, resolve=resolver(ip)) == str(addresses.NOT_PUBLIC)
    # The intranet setting lets them through.
    assert check_url(url, allow_private=True, resolve=resolver(ip)) == url


@pytest.mark.parametrize("ip", [PUBLIC_V4, PUBLIC_V6, "::ffff:93.184.216.34", "8.8.8.8", "2002:5db8:d822::1"])
def test_public_addresses_pass(ip):
    assert addresses.is_public(ipaddress.ip_address(ip))


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    assert refusal("https://robot.example.com/", resolve=resolver(PUBLIC_V4, "10.0.0.5")) == str(
        addresses.NOT_PUBLIC
    )
    assert refusal("https://robot.example.com/", resolve=resolver(PUBLIC_V6, "::1")) == str(
        addresses.NOT_PUBLIC
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost:8080/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:7f00:1]/hook",
        "https://2130706433/hook",  # 127.0.0.1 as one decimal number
        "https://0x7f.1/hook",  # and in hex, short form
        "https://0177.0.0.1/hook",  # and in octal
        "https://017700000001/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://0xa9fea9fe/latest/meta-data/",  # 169.254.169.254 in hex
        "https://100.100.100.200/latest/meta-data/",
        "https://0/hook",
    ],
)
def test_literal_and_numeric_hosts_are_judged_by_what_the_system_resolves(url):
    # The real resolver: these are numbers (or localhost), answered without any DNS query.
    assert refusal(url, resolve=socket.getaddrinfo) == str(addresses.NOT_PUBLIC)


def test_numeric_forms_resolve_to_the_address_they_stand_for():
    for host in ("2130706433", "0x7f.1", "0177.0.0.1"):
        assert resolve_public(host, 443, allow_private=True) == "127.0.0.1"
    assert resolve_public("0xa9fea9fe", 443, allow_private=True) == "169.254.169.254"


def test_a_host_that_does_not_resolve_is_refused():
    assert (
        refusal("https://no-such-robot.invalid/hook", resolve=unresolvable) == "The host could not be found."
    )
    assert refusal("https://robot.example.com/hook", resolve=resolver()) == "The host could not be found."


def test_resolve_public_returns_the_first_address_and_resolves_once():
    resolve = resolver(PUBLIC_V4, "93.184.216.35")
    assert resolve_public("robot.example.com", 443, allow_private=False, resolve=resolve) == PUBLIC_V4
    assert resolve.calls == ["robot.example.com"]


def test_dns_rebinding_passes_the_save_but_not_the_send():
    answers = iter([PUBLIC_V4, "127.0.0.1"])

    def rebinding(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    url = "https://robot.example.com/hook"
    assert check_url(url, allow_private=False, resolve=rebinding) == url
    with pytest.raises(WebhookAddressError) as caught:
        resolve_public("robot.example.com", 443, allow_private=False, resolve=rebinding)
    assert caught.value.message == addresses.NOT_PUBLIC


# ---- masking --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "secret", "shown"),
    [
        (
            f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}",
            WECOM_KEY,
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a…5aaa",
        ),
        (
            f"https://oapi.dingtalk.com/robot/send?access_token={DINGTALK_TOKEN}",
            DINGTALK_TOKEN,
            "https://oapi.dingtalk.com/robot/send?access_token=b2d1…4d3c",
        ),
        (
            f"https://open.feishu.cn/open-apis/bot/v2/hook/{FEISHU_HOOK}",
            FEISHU_HOOK,
            "https://open.feishu.cn/open-apis/bot/v2/hook/5e3d…86fd",
        ),
        (
            f"https://open.larksuite.com/open-apis/bot/v2/hook/{FEISHU_HOOK}",
            FEISHU_HOOK,
            "https://open.larksuite.com/open-apis/bot/v2/hook/5e3d…86fd",
        ),
        (
            "https://open.feishu.cn/open-apis/bot/v2/hook/abc123/",
            "abc123",
            "https://open.feishu.cn/open-apis/bot/v2/hook/****/",
        ),
        (
            "https://hooks.example.com/services/T000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.example.com/services/T000/XXXX…XXXX",
        ),
        (
            "https://hooks.example.com/incoming?token=s3cr3t-t0ken-value&channel=sales",
            "s3cr3t-t0ken-value",
            "https://hooks.example.com/incoming?token=s3cr…alue&channel=****",
        ),
    ],
)
def test_mask_hides_each_platforms_secret(url, secret, shown):
    assert mask(url) == shown
    assert secret not in mask(url)
    assert secret in addresses.secret_parts(url)


def test_mask_keeps_a_generic_webhooks_short_path():
    assert mask("https://erp.example.cn/api/chat/sales") == "https://erp.example.cn/api/chat/sales"


def test_mask_hides_credentials_and_fragments():
    shown = mask("https://admin:hunter22@hooks.example.com/a#fragment-secret")
    assert "hunter22" not in shown and "admin" not in shown and "fragment-secret" not in shown


@pytest.mark.parametrize("odd", [None, "", "key", "http://[::1", 12345, b"bytes", "://", "a" * 5000, "?=&=="])
def test_mask_never_raises(odd):
    shown = mask(odd)
    assert isinstance(shown, str)
    assert len(shown) <= 12


def test_mask_secret_keeps_four_characters_at_each_end():
    assert addresses.mask_secret("SEC0123456789abcdef") == "SEC0…cdef"
    assert addresses.mask_secret("12345678") == "****"
    assert addresses.mask_secret("123456789") == "1234…6789"
