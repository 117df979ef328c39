"""Chat robots (chat/robots.py): each platform's request and signature, checked against
the platforms' documented recipes; Markdown from users that stays text; what the robots'
answers mean; and deliver() against a fake robot: errors, timeouts, redirects, refused
and rebinding addresses, TLS, and no secret in what an admin or the log sees."""

import base64
import hashlib
import hmac
import json
import logging
import socket
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from salesdesk.chat import addresses, robots
from salesdesk.chat.robots import Answer, Message, build_request, deliver, read_answer
from tests.fixtures.chat import robot_certificate, robot_server, tls_robot_server  # noqa: F401 - fixtures

NOW = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1700000000 s
SECRET = "SECxyz"
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_TOKEN = "b2d1c3f48e0a9d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c"
DINGTALK_URL = f"https://oapi.dingtalk.com/robot/send?access_token={DINGTALK_TOKEN}"
FEISHU_URL = "https://open.feishu.cn/open-apis/bot/v2/hook/5e3d587e-d78e-4a07-bd07-265f269f86fd"
WEBHOOK_URL = "https://erp.example.cn/hook"
LINK = "https://desk.example.cn/deals/7"

WON = Message(
    event="deal_won",
    title="赢单",
    lines=("客户：杭州云栖",),
    link=LINK,
    link_label="查看",
    data={"deal_id": 7},
)
# What a customer's or deal's name could try: formatting, a link, an image, a mention,
# a tag, a heading or quote or list at the start of a line, a line break.
HOSTILE = (
    "**x**",
    "[a](http://evil.example)",
    "![i](http://evil.example/p.png)",
    '<@all> <at user_id="all">所有人</at>',
    '<font color="warning">红</font>',
    "# 标题",
    "> 引用",
    "- 列表",
    "1. 列表",
    "`code` _i_ ~~s~~ \\",
    "第一行\n# 第二行\r\n[b](http://evil.example)",
)


def body(request):
    return json.loads(request.body.decode("utf-8"))


def dingtalk_sign(secret, timestamp):
    """DingTalk's documented recipe, written out again here."""
    key = secret.encode("utf-8")
    digest = hmac.new(key, f"{timestamp}\n{secret}".encode(), digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret, timestamp):
    """Feishu's documented recipe: the key is "timestamp\\nsecret", the message empty."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def resolver(*ips):
    def resolve(host, port, *args, **kwargs):
        resolve.calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]

    resolve.calls = []
    return resolve


# ---- the requests ---------------------------------------------------------------------


def test_every_platform_posts_utf8_json_with_our_user_agent():
    for platform in robots.PLATFORMS:
        request = build_request(platform, WEBHOOK_URL, SECRET, WON, NOW)
        assert request.headers["Content-Type"] == "application/json; charset=utf-8"
        assert request.headers["User-Agent"] == "Salesdesk"
        assert "赢单".encode() in request.body  # ensure_ascii=False
        body(request)


def test_platform_labels_and_secrets():
    assert set(robots.PLATFORM_LABELS) == set(robots.PLATFORMS) == set(robots.NEEDS_SECRET)
    assert str(robots.PLATFORM_LABELS["wecom"]) == "WeCom group robot"
    assert robots.NEEDS_SECRET == {
        "wecom": "none",
        "dingtalk": "optional",
        "feishu": "optional",
        "webhook": "required",
    }


def test_wecom_markdown_goes_to_the_address_as_it_is():
    request = build_request("wecom", WECOM_URL, "", WON, NOW)
    assert request.url == WECOM_URL
    assert body(request) == {
        "msgtype": "markdown",
        "markdown": {"content": f"**赢单**\n客户：杭州云栖\n[查看]({LINK})"},
    }


def test_wecom_content_is_cut_to_4096_bytes_of_valid_utf8_keeping_title_and_link():
    for filler in ("客", "😀", "a", "é", "*"):
        message = Message(
            event="x", title="长消息", lines=(filler * 5000, "最后一行"), link=LINK, link_label="查看"
        )
        request = build_request("wecom", WECOM_URL, "", message, NOW)
        request.body.decode("utf-8", errors="strict")
        content = body(request)["markdown"]["content"]
        assert len(content.encode("utf-8")) <= 4096
        assert content.startswith("**长消息**\n")
        assert content.endswith(f"…\n[查看]({LINK})")
        assert "\ufffd" not in content


def test_wecom_many_lines_fit_too():
    message = Message(
        event="x", title="t", lines=tuple(f"第{i}行：杭州云栖数据科技有限公司" for i in range(500))
    )
    content = body(build_request("wecom", WECOM_URL, "", message, NOW))["markdown"]["content"]
    assert 4000 < len(content.encode()) <= 4096


def test_wecom_user_text_cannot_format_link_or_mention():
    message = Message(
        event="x",
        title="**客户** [a](http://evil.example)",
        lines=HOSTILE,
        link=LINK,
        link_label="[查看](http://evil.example)",
    )
    content = body(build_request("wecom", WECOM_URL, "", message, NOW))["markdown"]["content"]
    *text, link_line = content.split("\n")
    title, *lines = text
    assert title.startswith("**") and title.endswith("**") and "*" not in title[2:-2]
    assert len(lines) == len(HOSTILE)  # a line break in a line stays in its line
    for line in [title[2:-2], *lines, link_line.split("](")[0][1:]]:
        assert not set(line) & set("*_`[]<>~"), line
        assert not line.startswith(("#", ">"))
    assert link_line.endswith(f"]({LINK})")
    assert "http://evil.example)" not in content.replace("(http://evil.example)", "")
    assert "］(http://evil.example)" in content  # shown as text, in full-width brackets


def test_dingtalk_without_secret():
    request = build_request("dingtalk", DINGTALK_URL, "", WON, NOW)
    assert request.url == DINGTALK_URL
    assert body(request) == {
        "msgtype": "markdown",
        "markdown": {"title": "赢单", "text": f"**赢单**\n\n客户：杭州云栖\n\n[查看]({LINK})"},
    }


def test_dingtalk_signs_in_the_query_by_its_recipe():
    request = build_request("dingtalk", DINGTALK_URL, SECRET, WON, NOW)
    query = parse_qs(urlsplit(request.url).query)
    assert query["access_token"] == [DINGTALK_TOKEN]
    assert query["timestamp"] == ["1700000000000"]
    assert query["sign"] == [dingtalk_sign(SECRET, "1700000000000")]
    # A known vector, worked out once with `openssl dgst -sha256 -hmac`.
    assert query["sign"] == ["0PUR1j8g85Xg3vlFV/UrEcxXfF5HpCAGzcjrNfyJoyg="]
    assert request.url == (
        f"{DINGTALK_URL}&timestamp=1700000000000&sign=0PUR1j8g85Xg3vlFV%2FUrEcxXfF5HpCAGzcjrNfyJoyg%3D"
    )


def test_dingtalk_replaces_a_stale_signature_in_the_saved_address():
    stale = f"{DINGTALK_URL}&timestamp=1&sign=old"
    query = parse_qs(urlsplit(build_request("dingtalk", stale, SECRET, WON, NOW).url).query)
    assert query == {
        "access_token": [DINGTALK_TOKEN],
        "timestamp": ["1700000000000"],
        "sign": [dingtalk_sign(SECRET, "1700000000000")],
    }


def test_dingtalk_timestamp_is_exact_in_milliseconds():
    moment = datetime(2026, 3, 2, 2, 0, 0, 123456, tzinfo=UTC)
    query = parse_qs(urlsplit(build_request("dingtalk", DINGTALK_URL, SECRET, WON, moment).url).query)
    assert query["timestamp"] == [str(int(moment.timestamp()) * 1000 + 123)]


def test_dingtalk_user_text_is_escaped():
    message = Message(event="x", title="**客户**", lines=HOSTILE)
    markdown = body(build_request("dingtalk", DINGTALK_URL, "", message, NOW))["markdown"]
    assert markdown["title"] == "**客户**"  # the preview in the chat list is plain text
    title, *paragraphs = markdown["text"].split("\n\n")
    assert title == "**\\*\\*客户\\*\\***"
    assert len(paragraphs) == len(HOSTILE)
    for paragraph in paragraphs:
        assert not set(paragraph) & set("[]<>")
        assert not paragraph.startswith(("#", ">", "-", "1."))
    assert paragraphs[0] == "\\*\\*x\\*\\*"
    assert paragraphs[1] == "［a］(http://evil.example)"
    assert paragraphs[8] == "1\\. 列表"
    assert paragraphs[9] == "\\`code\\` \\_i\\_ \\~\\~s\\~\\~ \\\\"


def test_feishu_card_without_secret():
    request = build_request("feishu", FEISHU_URL, "", WON, NOW)
    assert request.url == FEISHU_URL
    payload = body(request)
    assert "sign" not in payload and "timestamp" not in payload
    assert payload["msg_type"] == "interactive"
    card = payload["card"]
    assert card["header"]["title"] == {"tag": "plain_text", "content": "赢单"}
    text, action = card["elements"]
    assert text == {"tag": "div", "text": {"tag": "plain_text", "content": "客户：杭州云栖"}}
    (button,) = action["actions"]
    assert button["tag"] == "button" and button["url"] == LINK
    assert button["text"] == {"tag": "plain_text", "content": "查看"}


def test_feishu_signs_in_the_body_by_its_recipe():
    payload = body(build_request("feishu", FEISHU_URL, SECRET, WON, NOW))
    assert payload["timestamp"] == "1700000000"
    assert payload["sign"] == feishu_sign(SECRET, "1700000000")
    # A known vector, worked out once with `openssl dgst -sha256 -mac HMAC`.
    assert payload["sign"] == "GnU9dobz1WousiKlH0LX6FYP8yrWNCgoJOvRhpMc8HY="
    # Not DingTalk's recipe: the key is the string to sign, not the secret.
    assert payload["sign"] != dingtalk_sign(SECRET, "1700000000")


def test_feishu_user_text_is_plain_text_and_mentions_nobody():
    message = Message(event="x", title='<at user_id="all">所有人</at>', lines=HOSTILE)
    card = body(build_request("feishu", FEISHU_URL, "", message, NOW))["card"]
    assert card["header"]["title"]["tag"] == "plain_text"
    (text,) = card["elements"]
    assert text["text"]["tag"] == "plain_text"  # not lark_md: nothing is Markdown
    content = text["text"]["content"]
    assert "<" not in content and "<" not in card["header"]["title"]["content"]
    assert content.split("\n")[0] == "**x**"


def test_the_generic_webhook_sends_the_event_signed():
    request = build_request("webhook", WEBHOOK_URL, SECRET, WON, NOW)
    assert request.url == WEBHOOK_URL
    assert body(request) == {
        "event": "deal_won",
        "title": "赢单",
        "lines": ["客户：杭州云栖"],
        "link": LINK,
        "data": {"deal_id": 7},
        "sent_at": "2023-11-14T22:13:20+00:00",
    }
    assert request.headers["X-Salesdesk-Timestamp"] == "1700000000"
    expected = hmac.new(SECRET.encode(), b"1700000000." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Salesdesk-Signature"] == f"sha256={expected}"
    # A known vector, worked out once with `openssl dgst -sha256 -hmac` over the body.
    assert expected == "e47cbdd8179700e0e563eef73b2ee3b59f13108e3f209cab67f06eb74ddd51a4"


def test_the_generic_webhook_sends_user_text_untouched():
    message = Message(event="x", title="**t**", lines=HOSTILE[:3], link=LINK)
    assert body(build_request("webhook", WEBHOOK_URL, SECRET, message, NOW))["lines"] == list(HOSTILE[:3])


def test_the_generic_webhook_needs_a_secret():
    with pytest.raises(ValueError, match="secret"):
        build_request("webhook", WEBHOOK_URL, "", WON, NOW)


def test_links_that_are_not_web_addresses_are_left_out():
    message = Message(event="x", title="t", lines=("a",), link="javascript:alert(1)", link_label="查看")
    assert "javascript" not in build_request("wecom", WECOM_URL, "", message, NOW).body.decode()
    assert "javascript" not in build_request("dingtalk", DINGTALK_URL, "", message, NOW).body.decode()
    assert len(body(build_request("feishu", FEISHU_URL, "", message, NOW))["card"]["elements"]) == 1


def test_a_link_cannot_break_out_of_its_markdown():
    message = Message(
        event="x", title="t", link="https://desk.example.cn/a) [x](http://evil.example", link_label="查看"
    )
    content = body(build_request("wecom", WECOM_URL, "", message, NOW))["markdown"]["content"]
    assert content.endswith(f"[查看](https://desk.example.cn/a{quote(') [x](')}http://evil.example)")


def test_bad_calls_are_refused():
    with pytest.raises(ValueError):
        build_request("slack", WEBHOOK_URL, "", WON, NOW)
    with pytest.raises(ValueError):
        build_request("wecom", WECOM_URL, "", WON, datetime(2023, 11, 14, 22, 13, 20))
    with pytest.raises(TypeError):
        Message(event="x", title="t", data={"when": NOW})


def test_a_message_takes_lazy_strings():
    from flask_babel import lazy_gettext

    message = Message(event="x", title=lazy_gettext("Deal won"), lines=[lazy_gettext("Customer")])
    assert message.title == "Deal won" and message.lines == ("Customer",)
    assert body(build_request("webhook", WEBHOOK_URL, SECRET, message, NOW))["title"] == "Deal won"


# ---- the answers ----------------------------------------------------------------------


def raw(payload):
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("platform", "status", "answer", "ok", "retry_after"),
    [
        ("wecom", 200, raw({"errcode": 0, "errmsg": "ok"}), True, None),
        ("wecom", 200, raw({"errcode": 93000, "errmsg": "invalid webhook url"}), False, None),
        ("wecom", 200, raw({"errcode": 45009, "errmsg": "api freq out of limit"}), False, 60.0),
        ("wecom", 200, raw({"errmsg": "ok"}), False, None),
        ("wecom", 200, raw([0]), False, None),
        ("dingtalk", 200, raw({"errcode": 0, "errmsg": "ok"}), True, None),
        ("dingtalk", 200, raw({"errcode": 310000, "errmsg": "sign not match"}), False, None),
        ("dingtalk", 200, raw({"errcode": 130101, "errmsg": "send too fast"}), False, 600.0),
        ("dingtalk", 200, raw({"errcode": 660026, "errmsg": "limited"}), False, 600.0),
        ("feishu", 200, raw({"code": 0, "msg": "success", "data": {}, "StatusCode": 0}), True, None),
        ("feishu", 200, raw({"StatusCode": 0, "StatusMessage": "success"}), True, None),
        ("feishu", 200, raw({"code": 19021, "msg": "sign match fail"}), False, None),
        ("feishu", 200, raw({"code": 11232, "msg": "frequency limited"}), False, 60.0),
        ("feishu", 400, raw({"code": 11232, "msg": "frequency limited"}), False, 60.0),
        ("feishu", 200, raw({"code": 9499, "msg": "too many request"}), False, 60.0),
        ("feishu", 200, raw({"code": 9499, "msg": "Bad Request"}), False, None),
        ("webhook", 200, b"", True, None),
        ("webhook", 204, b"", True, None),
        ("webhook", 202, b"<html>queued</html>", True, None),
        ("webhook", 200, raw({"errcode": 1}), True, None),  # our receivers say no with a status
    ],
)
def test_what_an_answer_means(platform, status, answer, ok, retry_after):
    read = read_answer(platform, status, answer)
    assert (read.ok, read.status, read.retry_after) == (ok, status, retry_after)


def test_the_summary_shows_status_and_compact_json():
    assert read_answer("wecom", 200, b'{"errcode": 0,\n "errmsg": "ok"}') == Answer(
        True, 200, '200 {"errcode":0,"errmsg":"ok"}', None
    )


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_an_html_page_is_a_failure(platform):
    answer = read_answer(platform, 200, b"<!doctype html><html><body>502 Bad Gateway</body></html>")
    assert answer == Answer(False, 200, "200 answer is not JSON", None)


@pytest.mark.parametrize("platform", robots.PLATFORMS)
def test_non_2xx_is_a_failure(platform):
    assert read_answer(platform, 500, b"<html>oops</html>") == Answer(False, 500, "HTTP 500", None)
    assert read_answer(platform, 404, raw({"errcode": 404})).summary == 'HTTP 404 {"errcode":404}'
    redirected = read_answer(platform, 302, b"")
    assert not redirected.ok and "redirect" in redirected.summary


def test_http_429_waits_as_retry_after_says():
    assert read_answer("feishu", 429, b"", headers={"Retry-After": "7"}).retry_after == 7.0
    assert read_answer("webhook", 429, b"").retry_after == 60.0
    assert (
        read_answer("webhook", 429, b"", headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}).retry_after
        == 60.0
    )
    assert read_answer("webhook", 429, b"", headers={"Retry-After": "999999"}).retry_after == 3600.0


def test_the_summary_is_short_and_single_line():
    answer = read_answer("webhook", 200, ("好\n" * 5000).encode())
    assert len(answer.summary) <= 300 and "\n" not in answer.summary
    answer = read_answer("wecom", 200, raw({"errcode": 1, "errmsg": "x" * 5000}))
    assert len(answer.summary) <= 300 and answer.summary.endswith("…")


# ---- delivering -----------------------------------------------------------------------


def send(platform, url, secret="", message=WON, **options):
    options.setdefault("allow_private", True)
    return deliver(platform, url, secret, message, now=NOW, **options)


@pytest.mark.parametrize("platform", robots.PLATFORMS)
def test_deliver_posts_to_the_robot(robot_server, platform):  # noqa: F811
    expected = '200 {"errcode":0,"errmsg":"ok"}'
    if platform == "feishu":
        robot_server.behave("json", payload={"code": 0, "msg": "success", "data": {}})
        expected = '200 {"code":0,"msg":"success","data":{}}'
    answer = send(platform, robot_server.url("/hook?key=abc"), SECRET)
    assert answer == Answer(True, 200, expected, None)
    (received,) = robot_server.requests
    assert received.method == "POST" and received.path == "/hook"
    assert received.query["key"] == "abc"
    assert received.headers["User-Agent"] == "Salesdesk"
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    assert received.body == build_request(platform, robot_server.url("/hook?key=abc"), SECRET, WON, NOW).body


def test_deliver_signs_dingtalk_in_the_query(robot_server):  # noqa: F811
    send("dingtalk", robot_server.url(f"/robot/send?access_token={DINGTALK_TOKEN}"), SECRET)
    (received,) = robot_server.requests
    assert received.query == {
        "access_token": DINGTALK_TOKEN,
        "timestamp": "1700000000000",
        "sign": dingtalk_sign(SECRET, "1700000000000"),
    }


def test_deliver_signs_the_generic_webhook(robot_server):  # noqa: F811
    send("webhook", robot_server.url("/in"), SECRET)
    (received,) = robot_server.requests
    timestamp = received.headers["X-Salesdesk-Timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    assert received.headers["X-Salesdesk-Signature"] == f"sha256={expected}"
    assert received.json["event"] == "deal_won"


def test_deliver_reports_an_error_code(robot_server):  # noqa: F811
    robot_server.behave("errcode", code=310000, message="keywords not in content")
    answer = send("dingtalk", robot_server.url())
    assert answer == Answer(False, 200, '200 {"errcode":310000,"errmsg":"keywords not in content"}', None)


def test_deliver_reports_a_rate_limit(robot_server):  # noqa: F811
    robot_server.behave("errcode", code=45009, message="api freq out of limit")
    assert send("wecom", robot_server.url()).retry_after == 60.0
    robot_server.behave("rate_limited", retry_after=12)
    assert send("feishu", robot_server.url()) == Answer(False, 429, "HTTP 429", 12.0)


def test_deliver_reports_a_server_error_and_an_html_page(robot_server):  # noqa: F811
    robot_server.behave("error", status=500)
    assert send("wecom", robot_server.url()) == Answer(False, 500, "HTTP 500", None)
    robot_server.behave("html")
    assert send("feishu", robot_server.url()) == Answer(False, 200, "200 answer is not JSON", None)


def test_deliver_gives_up_on_a_slow_robot_in_time(robot_server):  # noqa: F811
    robot_server.behave("slow", seconds=5)
    started = time.monotonic()
    answer = send("wecom", robot_server.url(), timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert answer == Answer(False, None, "timed out after 0.5 s", None)
    assert len(robot_server.requests) == 1


def test_deliver_does_not_follow_redirects(robot_server):  # noqa: F811
    robot_server.behave("redirect", path="/hook", location=robot_server.url("/elsewhere"))
    answer = send("wecom", robot_server.url("/hook"))
    assert not answer.ok and answer.status == 302 and "redirect" in answer.summary
    assert robot_server.requests_to("/elsewhere") == []
    assert len(robot_server.requests) == 1


def test_deliver_reads_at_most_64_kb(robot_server):  # noqa: F811
    robot_server.answer(body=b"x" * (1024 * 1024), content_type="text/plain")
    answer = send("webhook", robot_server.url(), SECRET)
    assert answer.ok and len(answer.summary) <= 300


def test_deliver_refuses_a_private_address_without_sending(robot_server):  # noqa: F811
    literal = robot_server.url().replace("http:", "https:")
    named = literal.replace("127.0.0.1", "robot.test")
    for url, resolve in ((literal, socket.getaddrinfo), (named, resolver("127.0.0.1"))):
        answer = send("wecom", url, allow_private=False, resolve=resolve)
        assert answer == Answer(False, None, str(addresses.NOT_PUBLIC), None)
    assert robot_server.requests == []


def test_deliver_refuses_plain_http_unless_private_addresses_are_allowed(robot_server):  # noqa: F811
    answer = send("wecom", robot_server.url(), allow_private=False)
    assert answer == Answer(False, None, "The address must start with https://.", None)
    assert robot_server.requests == []


def test_dns_rebinding_between_save_and_send_is_refused(robot_server):  # noqa: F811
    from salesdesk.chat.addresses import check_url

    answers = iter(["93.184.216.34", "127.0.0.1"])

    def rebinding(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    url = f"https://robot.test:{robot_server.port}/hook"
    assert check_url(url, allow_private=False, resolve=rebinding) == url  # saved
    answer = send("wecom", url, allow_private=False, resolve=rebinding)  # sent
    assert not answer.ok and "private" in answer.summary
    assert robot_server.requests == []


def test_deliver_connects_to_the_ip_it_checked_and_names_the_real_host(robot_server):  # noqa: F811
    resolve = resolver("127.0.0.1")
    answer = send("wecom", f"http://robot.test:{robot_server.port}/hook", resolve=resolve)
    assert answer.ok
    assert resolve.calls == ["robot.test"]  # resolved once: the IP checked is the IP used
    (received,) = robot_server.requests
    assert received.headers["Host"] == f"robot.test:{robot_server.port}"


def test_deliver_reports_network_failures():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert send("wecom", f"http://127.0.0.1:{port}/hook") == Answer(False, None, "connection refused", None)

    def unresolvable(host, port, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    answer = send("wecom", "https://robot.test/hook", resolve=unresolvable)
    assert answer == Answer(False, None, "The host could not be found.", None)


def test_deliver_never_raises_on_bad_input(robot_server):  # noqa: F811
    assert not send("slack", robot_server.url()).ok
    assert not send("webhook", robot_server.url(), "").ok
    assert not send("wecom", "not a url").ok
    assert not send("wecom", None).ok
    assert not send("wecom", robot_server.url(), message=None).ok
    assert not deliver("wecom", robot_server.url(), "", WON, now=datetime(2023, 1, 1), allow_private=True).ok
    assert robot_server.requests == []


def test_no_secret_reaches_the_summary_or_the_log(robot_server, caplog):  # noqa: F811
    key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    secret = "SEC0123456789abcdef0123456789"
    robot_server.behave("errcode", code=93000, message=f"invalid webhook url {key}, secret {secret}")
    with caplog.at_level(logging.DEBUG, logger="salesdesk.chat"):
        answer = send("dingtalk", robot_server.url(f"/robot/send?access_token={key}"), secret)
    assert not answer.ok
    assert key not in answer.summary and secret not in answer.summary
    assert "693a…5aaa" in answer.summary
    assert caplog.records, "a failure is logged"
    assert key not in caplog.text and secret not in caplog.text


def test_deliver_over_tls_checks_the_certificate_for_the_host_name(tls_robot_server):  # noqa: F811
    server = tls_robot_server
    url = f"https://robot.test:{server.port}/hook"
    answer = send("wecom", url, resolve=resolver("127.0.0.1"), context=server.client_context)
    assert answer.ok
    (received,) = server.requests
    assert received.headers["Host"] == f"robot.test:{server.port}"

    # The same IP under another name: the certificate does not match, nothing is sent.
    other = send(
        "wecom",
        url.replace("robot.test", "other.test"),
        resolve=resolver("127.0.0.1"),
        context=server.client_context,
    )
    assert not other.ok and other.summary.startswith("TLS certificate refused")
    # A certificate nobody vouches for (the system's trust store by default).
    untrusted = send("wecom", url, resolve=resolver("127.0.0.1"))
    assert not untrusted.ok and untrusted.summary.startswith("TLS certificate refused")
    assert len(server.requests) == 1


def test_https_to_a_plain_http_server_is_a_tls_error(robot_server):  # noqa: F811
    answer = send("wecom", robot_server.url().replace("http:", "https:"), timeout=2)
    assert not answer.ok and answer.summary.startswith("TLS error")
