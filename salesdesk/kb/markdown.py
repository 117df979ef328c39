"""Markdown to safe HTML: markdown-it-py renders (raw HTML in the source is escaped,
not passed through), then nh3 keeps only an allow-list of tags, attributes and URL
schemes. Either alone would stop the usual payloads; both together mean a bug in
one is not yet a hole."""

import html
import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
ALIGN_CLASSES = {"align-left", "align-center", "align-right"}
# Classes are allowed per tag here (and must then stay out of ALLOWED_ATTRIBUTES).
ALLOWED_CLASSES = {"th": ALIGN_CLASSES, "td": ALIGN_CLASSES}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
ALIGN_STYLE = re.compile(r"^text-align:(left|center|right)$")
# The images an article may show: those uploaded in the editor, and the app's own
# static files. Any other address, even on this app (/kb/3 counts a view, /logout …),
# is no image.
OWN_IMAGE = re.compile(r"/kb/images/[1-9][0-9]{0,9}|/static/(?!.*\.\.)[A-Za-z0-9_./-]+")


def _parser():
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.core.ruler.push("salesdesk_adjust", _adjust_tokens)
    return md


def _adjust_tokens(state):
    for token in state.tokens:
        # The article title is the page's only h1: "# x" in the body becomes an h2.
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + 1, 6)
            token.tag = f"h{level}"
        # Table alignment comes as style="text-align:…"; styles never reach the page
        # (CSP), so it becomes a class the stylesheet knows.
        if token.type in ("th_open", "td_open") and token.attrs.get("style"):
            match = ALIGN_STYLE.match(str(token.attrs.pop("style")))
            if match:
                token.attrs["class"] = f"align-{match.group(1)}"
        if token.children:
            token.children = [_local_image_or_text(child) for child in token.children]


def is_own_image(src):
    return OWN_IMAGE.fullmatch(src or "") is not None


def _local_image_or_text(token):
    """Images only from this app: fetching one from elsewhere would tell that host the
    address of every reader. Another image shows as its alt text."""
    if token.type != "image" or is_own_image(str(token.attrs.get("src", ""))):
        return token
    text = Token("text", "", 0)
    text.content = token.content
    return text


def _only_local_image_sources(element, attribute, value):
    """nh3's second line behind _local_image_or_text."""
    if element == "img" and attribute == "src" and not is_own_image(value):
        return None
    return value


_MD = _parser()


def sanitize(fragment):
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_only_local_image_sources,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render(source):
    """Markdown source -> sanitised HTML, safe to put into a template."""
    return Markup(sanitize(_MD.render(source or "")))


def plain_text(source):
    """The text a reader sees, without markup, whitespace collapsed: for snippets
    and substring search."""
    stripped = nh3.clean(_MD.render(source or ""), tags=set(), strip_comments=True)
    return re.sub(r"\s+", " ", html.unescape(stripped)).strip()
