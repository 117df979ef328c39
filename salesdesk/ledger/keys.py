"""Normalised duplicate keys (查重): company name, phone, e-mail, unified social credit code.

Two customers with the same key are the same customer; the database holds each key
in a unique index. Every key, the fuzzy name index and the search tokens start from
fold(), and names are stored as visible() leaves them, so a character that changes
nothing on screen changes no key either.
"""

import re
import unicodedata
from functools import cache

# Provinces, autonomous regions, municipalities and larger cities. A company name's
# leading region is dropped so that 深圳市腾飞科技 and 腾飞科技（深圳） meet.
PROVINCES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 "
    "江西 山东 河南 湖北 湖南 广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 "
    "内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
).split()
CITIES = (
    "石家庄 唐山 保定 廊坊 太原 大同 沈阳 大连 鞍山 长春 吉林 哈尔滨 大庆 "
    "南京 无锡 徐州 常州 苏州 南通 扬州 镇江 泰州 盐城 杭州 宁波 温州 嘉兴 "
    "湖州 绍兴 金华 台州 合肥 芜湖 福州 厦门 泉州 漳州 南昌 赣州 济南 青岛 "
    "烟台 潍坊 淄博 临沂 济宁 郑州 洛阳 武汉 宜昌 襄阳 长沙 株洲 湘潭 广州 "
    "深圳 珠海 汕头 佛山 江门 湛江 惠州 东莞 中山 肇庆 海口 三亚 成都 绵阳 "
    "贵阳 遵义 昆明 西安 兰州 西宁 银川 乌鲁木齐 南宁 柳州 桂林 呼和浩特 "
    "包头 拉萨"
).split()
# Longest first, so 黑龙江省 is tried before 黑龙江 and 乌鲁木齐市 before anything shorter.
_REGIONS = sorted(
    {f"{p}省" for p in PROVINCES}
    | {f"{c}市" for c in PROVINCES + CITIES}
    | {
        "内蒙古自治区",
        "广西壮族自治区",
        "西藏自治区",
        "宁夏回族自治区",
        "新疆维吾尔自治区",
        "香港特别行政区",
        "澳门特别行政区",
    },
    key=len,
    reverse=True,
)
_BARE_REGIONS = sorted(set(PROVINCES + CITIES), key=len, reverse=True)

CHINESE_SUFFIXES = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "有限公司",
        "集团有限公司",
        "集团股份有限公司",
        "集团",
        "公司",
        "责任公司",
        "总公司",
        "分公司",
        "工作室",
        "商行",
    ],
    key=len,
    reverse=True,
)
ENGLISH_SUFFIXES = {
    "co",
    "company",
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "group",
    "holdings",
    "plc",
    "gmbh",
    "ag",
    "sa",
    "pte",
}

_PARENTHESES = re.compile(r"\(([^()]*)\)")
_LATIN_WORD = re.compile(r"[a-z0-9&]+")


# Unicode's Default_Ignorable_Code_Point: zero-width characters, bidi controls,
# variation selectors, Hangul fillers, tags. They show nothing, so they are never stored.
INVISIBLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)

# A str.translate table: no invisible or control character is stored; line breaks and
# tabs become spaces.
_SHOWN = dict.fromkeys(code for first, last in INVISIBLE for code in range(first, last + 1))
_SHOWN.update({code: " " if chr(code).isspace() else None for code in (*range(0x20), *range(0x7F, 0xA0))})


@cache
def _marks():
    """Drops combining marks (Mn, Me). Planes 0 and 1 hold all of them but plane 14's
    variation selectors, which are invisible anyway."""
    return {code: None for code in range(0x20000) if unicodedata.category(chr(code)) in ("Mn", "Me")}


@cache
def _key_characters():
    """Drops combining marks, and writes every decimal digit (Arabic-Indic ٣,
    Devanagari ३, full-width ３…; all in planes 0 and 1) as its ASCII digit."""
    digits = {code: str(unicodedata.decimal(chr(code))) for code in range(0x20000) if chr(code).isdecimal()}
    return _marks() | digits


@cache
def _mark_runs():
    """Matches a run of combining marks (a character class of ranges, built once)."""
    ranges = []
    for code in _marks():
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return re.compile("[" + "".join(f"{chr(first)}-{chr(last)}" for first, last in ranges) + "]+")


def _carries_marks(char):
    """A letter an accent can sit on: not a Chinese character, nor a digit, space or sign."""
    return unicodedata.category(char)[0] == "L" and not unicodedata.name(char, "").startswith("CJK ")


def visible(text):
    """Text as it is stored and shown: invisible and control characters dropped, NFC,
    and combining marks with no letter to sit on (after a Chinese character, at the
    start, after a space) dropped; 'é' keeps its accent, 'e' + U+0301 becomes 'é'."""
    text = unicodedata.normalize("NFC", (text or "").translate(_SHOWN))
    if len(text.translate(_marks())) == len(text):
        return text
    return _mark_runs().sub(
        lambda run: run.group() if run.start() and _carries_marks(text[run.start() - 1]) else "", text
    )


def fold(text):
    """The one normalisation under every key: visible(), then NFKC (full-width to
    half-width), marks NFKC did not join dropped, decimal digits in ASCII."""
    return unicodedata.normalize("NFKC", visible(text)).translate(_key_characters())


@cache
def _traditional_to_simplified():
    # Loaded on first use: a worker that never normalises a name never pays for it.
    from opencc import OpenCC

    return OpenCC("t2s")


def simplify(text):
    """fold(), Traditional to Simplified, lower case."""
    return _traditional_to_simplified().convert(fold(text)).lower().strip()


def _strip_punctuation(text):
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PSZC")


def _strip_suffixes(text):
    changed = True
    while changed:
        changed = False
        for suffix in CHINESE_SUFFIXES:
            if text.endswith(suffix):
                text, changed = text[: -len(suffix)], True
                break
    return text


def _strip_region(text):
    """Drop a leading region. A marked one (深圳市, 广东省) goes when two or more characters
    remain; a bare one (北京, 深圳) only when three or more remain, so that 北京银行 and
    南京银行 stay apart while 深圳腾飞科技 becomes 腾飞科技."""
    for _ in range(2):  # 广东省深圳市…
        for region in _REGIONS:
            if text.startswith(region) and len(text) - len(region) >= 2:
                text = text[len(region) :]
                break
        else:
            for region in _BARE_REGIONS:
                if text.startswith(region) and len(text) - len(region) >= 3:
                    text = text[len(region) :]
                    break
            else:
                break
    return text


def _is_region_or_legal(text):
    bare = _strip_punctuation(text)
    return (
        not bare
        or bare in _REGIONS
        or bare in _BARE_REGIONS
        or bare in ("中国", "集团", "控股")
        or bare in CHINESE_SUFFIXES
    )


def company_key(name):
    """The duplicate key of a company name, or None when nothing distinctive is left."""
    text = simplify(name)
    # Parentheses holding a region or a legal form: 腾飞科技（深圳）有限公司.
    text = _PARENTHESES.sub(lambda m: "" if _is_region_or_legal(m.group(1)) else m.group(1), text)
    latin_words = _LATIN_WORD.findall(text)
    if latin_words and not re.search(r"[\u4e00-\u9fff]", text):
        while len(latin_words) > 1 and latin_words[-1] in ENGLISH_SUFFIXES:
            latin_words.pop()
        key = "".join(latin_words)
    else:
        key = _strip_region(_strip_suffixes(_strip_punctuation(text)))
        key = _strip_suffixes(key)
    return key or None


PHONE_MIN_DIGITS = 5
PHONE_MAX_DIGITS = 20


def phone_key(number):
    """Digits only, China's country code (+86, 0086, 86) removed; a landline keeps its
    area code with the trunk 0, so +86 755 1234 5678 and 0755-12345678 meet.
    None when it cannot be a phone number."""
    digits = re.sub(r"[^0-9]", "", fold(number))
    national = None
    if digits.startswith("0086"):
        national = digits[4:]
    elif digits.startswith("86") and len(digits) >= 12:
        national = digits[2:]
    if national is not None:
        mobile = len(national) == 11 and national.startswith("1")
        digits = national if mobile or national.startswith("0") else "0" + national
    if not PHONE_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS:
        return None
    return digits


def email_key(email):
    return fold(email).strip().lower() or None


CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17):
    total = sum(CREDIT_CODE_CHARS.index(ch) * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def credit_code_key(code):
    """The upper-cased 统一社会信用代码 when it is well formed (GB 32100-2015, check
    character included), else raises ValueError; None for an empty value."""
    code = fold(code).strip().upper().replace(" ", "")
    if not code:
        return None
    if len(code) != 18 or any(ch not in CREDIT_CODE_CHARS for ch in code):
        raise ValueError("format")
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValueError("check")
    return code
