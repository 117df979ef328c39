"""Articles are Markdown; what reaches the page passes an allow-list. None of these
payloads (styles from the OWASP XSS filter evasion cheat sheet) may run."""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from salesdesk.kb.markdown import ALLOWED_TAGS, plain_text, render, sanitize

PAYLOADS = [
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    '<<SCRIPT>alert("XSS");//<</SCRIPT>',
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(String.fromCharCode(88,83,83))">',
    "<svg/onload=alert(1)>",
    "<body onload=alert('XSS')>",
    "<iframe src=\"javascript:alert('XSS');\"></iframe>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#x09;ascript:alert(1))",
    "[click](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
    "[click](  javascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click][1]\n\n[1]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '![x](https://ok.example/a.png" onerror="alert(1))',
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<div style="background-image: url(javascript:alert(1))">x</div>',
    '<p style="color:red">styled</p>',
    "<style>@import 'https://xss.example/x.css';</style>",
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1);">',
    "<object data=\"javascript:alert('XSS')\"></object>",
    '<embed src="https://xss.example/x.swf">',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
    '<table><tr><td background="javascript:alert(1)">x</td></tr></table>',
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "<!--<script>alert(1)</script>-->",
]


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)


def parse(html):
    collected = Collect()
    collected.feed(str(html))
    return collected


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_harmless(payload):
    html = render(payload)
    parsed = parse(html)
    assert set(parsed.tags) <= ALLOWED_TAGS
    for tag, name, value in parsed.attrs:
        assert not name.startswith("on"), (tag, name)
        assert name != "style"
        if name in ("href", "src"):
            assert scheme(value) in ("", "http", "https", "mailto", "tel"), value
    assert "<script" not in str(html).lower()


def scheme(url):
    """The scheme a browser would see (a relative URL has none)."""
    match = re.match(r"^[\x00-\x20]*([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    return match.group(1).lower() if match else ""


def test_scheme_helper_is_strict_enough():
    assert scheme(" JavaScript:alert(1)") == "javascript"
    assert scheme("jav%09ascript:alert(1)") == ""  # a relative path, not a scheme
    assert scheme("/kb/1") == ""


def test_markdown_features_survive():
    html = str(
        render(
            "# 标题\n\n**加粗** *斜体* ~~删除~~\n\n- 一\n- 二\n\n1. 甲\n2. 乙\n\n"
            "| 项目 | 金额 |\n|:--|--:|\n| 首付 | 30% |\n\n`code`\n\n```\nblock\n```\n\n"
            "> 引用\n\n[官网](https://example.com/a?b=1) ![图](/static/x.png) [内部](/kb/3)"
        )
    )
    for fragment in (
        "<h2>标题</h2>",
        "<strong>加粗</strong>",
        "<em>斜体</em>",
        "<s>删除</s>",
        "<ul>",
        "<ol>",
        '<th class="align-left">项目</th>',
        '<td class="align-right">30%</td>',
        "<code>code</code>",
        "<pre><code>block",
        "<blockquote>",
        'href="https://example.com/a?b=1"',
        'src="/static/x.png"',
        'href="/kb/3"',
        'rel="noopener noreferrer nofollow"',
    ):
        assert fragment in html, fragment


def test_html_in_the_source_is_shown_as_text():
    assert "&lt;b&gt;粗&lt;/b&gt;" in str(render("<b>粗</b>"))


def test_plain_text_is_what_a_reader_sees():
    assert plain_text("# 报价\n\n**折扣**说明 & <b>x</b>\n\n- 一") == "报价 折扣说明 & <b>x</b> 一"


@pytest.mark.parametrize(
    "source",
    [
        "![x](https://tracker.example/p.png)",
        "![x](http://tracker.example/p.png)",
        "![x](//tracker.example/p.png)",
        "![x](/\\tracker.example/p.png)",
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        '<img src="https://tracker.example/p.png">',
        "[![x](https://tracker.example/p.png)](/kb/1)",
    ],
)
def test_finding_8_images_from_other_hosts_are_dropped(source):
    sources = [value for tag, name, value in parse(render(source)).attrs if tag == "img" and name == "src"]
    assert not any(points_elsewhere(value) for value in sources), sources


@pytest.mark.parametrize(
    "source",
    [
        "![x](/kb/3)",
        "![x](/kb/images/3/../../3)",
        "![x](/static/../kb/3)",
        "![x](/kb/images/0)",
        '<img src="/kb/3">',
    ],
)
def test_only_the_apps_own_images_are_shown(source):
    """An address of this app that is no image (/kb/3 counts a view) is no image either."""
    assert "<img" not in str(render(source))


def test_uploaded_images_are_shown():
    html = str(render("![截图](/kb/images/12) ![图标](/static/favicon.svg)"))
    assert '<img src="/kb/images/12" alt="截图">' in html and 'src="/static/favicon.svg"' in html


def points_elsewhere(src):
    """Whether a browser on an article page would fetch `src` from another host
    (browsers read a backslash as a slash)."""
    return urlsplit(urljoin("https://app.example/kb/1", src.replace("\\", "/"))).netloc != "app.example"


def test_finding_8_sanitiser_alone_drops_foreign_image_sources():
    html = sanitize('<img src="https://tracker.example/p.png" alt="x"><img src="/static/a.png">')
    assert "tracker.example" not in html and 'src="/static/a.png"' in html
