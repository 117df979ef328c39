"""The company-name parser and the trade-name (字号) rule of the duplicate check, on
name pairs as people write them: one company written differently, branches, and
different companies that share an industry word or a trade name."""

import pytest

from salesdesk.ledger.company_names import (
    SAME_TRADE_NAME,
    TRADE_NAME_CONTAINED,
    parse,
    search_fragments,
    trade_name_warning,
    trade_names_alike,
)


@pytest.mark.parametrize(
    ("name", "region", "trade", "industry", "form", "branch"),
    [
        ("金华浙宏自动化设备有限公司", "金华", "浙宏", ("自动化", "设备"), "有限公司", None),
        ("浙江省金华市浙宏自动化设备有限公司", "金华", "浙宏", ("自动化", "设备"), "有限公司", None),
        ("浙宏自动化（金华）有限公司", "金华", "浙宏", ("自动化",), "有限公司", None),
        ("浙宏自动化 (金华)", "金华", "浙宏", ("自动化",), None, None),
        ("浙宏自动化设备有限公司金华分公司", None, "浙宏", ("自动化", "设备"), "有限公司", "金华"),
        ("浙宏自动化设备有限公司（分公司）", None, "浙宏", ("自动化", "设备"), "有限公司", ""),
        ("金华浙宏", "金华", "浙宏", (), None, None),
        ("浙宏", None, "浙宏", (), None, None),
        ("深圳市腾讯计算机系统有限公司", "深圳", "腾讯", ("计算机", "系统"), "有限公司", None),
        ("华为技术有限公司", None, "华为", ("技术",), "有限公司", None),
        ("杭州云栖大数据科技有限公司", "杭州", "云栖", ("大数据", "科技"), "有限公司", None),
        ("上海浦东发展银行股份有限公司", "上海", "浦东", ("发展", "银行"), "股份有限公司", None),
        ("義烏市浙宏貿易有限公司", "义乌", "浙宏", ("贸易",), "有限公司", None),
        ("宁波海港物流有限公司", "宁波", "海港", ("物流",), "有限公司", None),
        ("苏州恒达精密机械集团有限公司", "苏州", "恒达", ("精密", "机械"), "集团有限公司", None),
        ("老王五金店", None, "老王", ("五金",), "店", None),
        ("红星设计工作室", None, "红星", ("设计",), "工作室", None),
    ],
)
def test_a_name_is_taken_apart(name, region, trade, industry, form, branch):
    parsed = parse(name)
    assert (parsed.region, parsed.trade, parsed.industry, parsed.form, parsed.branch) == (
        region,
        trade,
        industry,
        form,
        branch,
    )


@pytest.mark.parametrize(
    ("name", "trade"),
    [
        ("北京银行", "北京"),  # a place as trade name: not a region to drop
        ("安康科技有限公司", "安康"),
        ("科技有限公司", ""),
        ("宏科技", "宏"),
        ("中国国际贸易有限公司", "中国"),
        ("Acme Trading Co., Ltd.", ""),  # Latin names are left to the similarity check
    ],
)
def test_names_without_a_distinctive_trade_name_never_warn(name, trade):
    parsed = parse(name)
    assert parsed.trade == trade and not parsed.distinctive
    assert trade_name_warning(parsed, parse(name + "（上海）")) is None


ZHEHONG = "金华浙宏自动化设备有限公司"

# One company written differently, and branches: the warning appears.
SAME_COMPANY = [
    ("浙宏", ZHEHONG, SAME_TRADE_NAME),
    ("金华浙宏", ZHEHONG, SAME_TRADE_NAME),
    ("浙宏自动化", ZHEHONG, SAME_TRADE_NAME),
    ("浙宏自动化 (金华)", ZHEHONG, SAME_TRADE_NAME),
    ("浙宏自动化（金华）有限公司", ZHEHONG, SAME_TRADE_NAME),
    ("浙江浙宏自动化设备有限公司", ZHEHONG, SAME_TRADE_NAME),  # the province of 金华
    ("浙宏设备", ZHEHONG, SAME_TRADE_NAME),
    ("浙宏自动化科技", ZHEHONG, SAME_TRADE_NAME),
    ("浙宏自動化設備", ZHEHONG, SAME_TRADE_NAME),  # Traditional characters
    ("浙宏精工", ZHEHONG, TRADE_NAME_CONTAINED),  # a word the lists do not know
    ("华为", "华为技术有限公司", SAME_TRADE_NAME),
    ("华为科技有限公司", "华为技术有限公司", SAME_TRADE_NAME),  # 科技 / 技术
    ("深圳华为", "华为技术有限公司", SAME_TRADE_NAME),
    ("腾讯", "深圳市腾讯计算机系统有限公司", SAME_TRADE_NAME),
    ("腾讯计算机（深圳）", "深圳市腾讯计算机系统有限公司", SAME_TRADE_NAME),
    ("云栖大数据技术有限公司", "杭州云栖大数据科技有限公司", SAME_TRADE_NAME),
    ("杭州云栖", "杭州云栖大数据科技有限公司", SAME_TRADE_NAME),
    ("恒达精密", "苏州恒达精密机械集团有限公司", SAME_TRADE_NAME),
    ("恒达机械（苏州）", "苏州恒达精密机械集团有限公司", SAME_TRADE_NAME),
    ("海港物流", "宁波海港物流有限公司", SAME_TRADE_NAME),
    ("宁波海港国际物流有限公司", "宁波海港物流有限公司", SAME_TRADE_NAME),
    ("阿里巴巴", "阿里巴巴（中国）网络技术有限公司", SAME_TRADE_NAME),
    ("阿里巴巴网络科技", "阿里巴巴（中国）网络技术有限公司", SAME_TRADE_NAME),
    ("比亚迪汽车", "比亚迪股份有限公司", SAME_TRADE_NAME),
    ("美的", "广东美的制冷设备有限公司", SAME_TRADE_NAME),
    # Branches, wherever they are.
    ("浙宏自动化设备有限公司杭州分公司", ZHEHONG, SAME_TRADE_NAME),
    ("浙宏自动化杭州分公司", ZHEHONG, SAME_TRADE_NAME),
    ("浙宏设备有限公司宁波分公司", ZHEHONG, SAME_TRADE_NAME),
    ("华为技术有限公司成都分公司", "华为技术有限公司", SAME_TRADE_NAME),
    ("杭州恒达精密机械有限公司", "苏州恒达精密机械集团有限公司", SAME_TRADE_NAME),  # a business in common
]

# Different companies: the same industry words, or a trade name that differs or that
# cannot tell them apart, or the same trade name in different businesses or places.
DIFFERENT_COMPANIES = [
    ("浙宏贸易有限公司", ZHEHONG),  # 贸易 and 自动化设备
    # A full industry each and no word in common: on the seeded names, letting 科技 meet
    # any business made one name in two warn (bench/ledger_dedupe.py --rate).
    ("浙宏科技有限公司", ZHEHONG),
    ("杭州浙宏科技有限公司", ZHEHONG),  # 杭州 and 金华, no business in common
    ("杭州浙宏", ZHEHONG),
    ("浙宏食品（温州）有限公司", ZHEHONG),
    ("金华宏达自动化设备有限公司", ZHEHONG),  # the same industry, another trade name
    ("金华浙华自动化设备有限公司", ZHEHONG),
    ("宏", ZHEHONG),  # one character
    ("自动化设备有限公司", ZHEHONG),  # no trade name
    ("金华", ZHEHONG),  # a place
    ("华为", "华夏银行股份有限公司"),
    ("深圳市腾飞科技有限公司", "深圳市腾讯计算机系统有限公司"),
    ("杭州云栖大数据科技有限公司", "杭州云海大数据科技有限公司"),
    ("北京银行", "南京银行股份有限公司"),
    ("中国银行", "中国建设银行股份有限公司"),  # 中国: a word, not a trade name
    ("国际物流有限公司", "宁波海港国际物流有限公司"),
    ("恒达精密机械（苏州）有限公司", "恒达食品有限公司"),  # 机械 and 食品
    ("恒达生物科技有限公司", "恒达环保科技有限公司"),  # 生物 and 环保
    ("恒达科技有限公司", "恒达贸易有限公司"),  # nothing in common
    ("苏州恒达科技有限公司", "无锡恒达信息技术有限公司"),  # two cities
    ("宏达", "恒达精密机械"),
    ("达精", "恒达精密机械"),  # inside, but neither at the start nor at the end
    ("美的", "美达电器有限公司"),
]


@pytest.mark.parametrize(("typed", "stored", "reason"), SAME_COMPANY)
def test_one_company_written_differently_warns(typed, stored, reason):
    assert trade_name_warning(parse(typed), parse(stored)) == reason
    assert trade_name_warning(parse(stored), parse(typed)) == reason  # either way round


@pytest.mark.parametrize(("typed", "stored"), DIFFERENT_COMPANIES)
def test_different_companies_do_not_warn(typed, stored):
    assert trade_name_warning(parse(typed), parse(stored)) is None
    assert trade_name_warning(parse(stored), parse(typed)) is None


def test_at_least_forty_pairs_are_judged():
    assert len(SAME_COMPANY) + len(DIFFERENT_COMPANIES) >= 40


def test_the_index_is_searched_for_the_trade_name_and_the_trade_names_inside_it():
    assert search_fragments(parse("浙宏")) == {"浙宏": False}
    fragments = search_fragments(parse("浙宏精工"))
    assert fragments == {"浙宏精工": False, "浙宏": True, "精工": True, "浙宏精": True, "宏精工": True}


@pytest.mark.parametrize(
    ("typed", "stored", "alike"),
    [
        ("浙鸿自动化设备有限公司", ZHEHONG, True),  # the same sound, a slip of the input method
        ("浙华自动化设备有限公司", ZHEHONG, False),  # another sound: half of the trade name differs
        ("阿里巴爸网络技术有限公司", "阿里巴巴（中国）网络技术有限公司", True),  # one character of four
        ("浙宏", ZHEHONG, True),
        ("天津市迪柏环保信息技术有限公司", "柏长环保信息技术有限公司", False),  # the industry alike only
        ("天津市迪柏环保信息技术有限公司", "迪环环保信息技术有限公司", False),
        ("惠州市豪广供应链管理有限公司", "捷豪供应链管理股份有限公司", False),
        ("科技有限公司", ZHEHONG, True),  # no trade name: nothing known against it
    ],
)
def test_names_alike_as_a_whole_must_have_trade_names_alike(typed, stored, alike):
    assert trade_names_alike(parse(typed), parse(stored)) is alike
