"""The history's diff: lines, and within a changed line the words, Chinese included."""

from salesdesk.kb.diff import diff, inline, words


def test_chinese_is_split_into_words_not_lines():
    assert words("报价需经理审批，付款周期为30天") == [
        "报价",
        "需",
        "经理",
        "审批",
        "，",
        "付款",
        "周期",
        "为",
        "30",
        "天",
    ]
    assert "".join(words("混合 text：CRM 系统 v2.0")) == "混合 text：CRM 系统 v2.0"


def test_changed_chinese_words_are_marked():
    old, new = inline("报价需经理审批，付款周期为30天。", "报价需总监审批，付款周期为45天。")
    assert str(old) == "报价需<del>经理</del>审批，付款周期为<del>30</del>天。"
    assert str(new) == "报价需<ins>总监</ins>审批，付款周期为<ins>45</ins>天。"


def test_added_and_removed_lines_with_context_folded():
    old = "\n".join(f"第{n}段" for n in range(1, 11))
    new = old.replace("第5段", "第5段（已修订）") + "\n第11段"
    lines = diff(old, new)
    kinds = [line.kind for line in lines]
    assert kinds[0] == "skip" and str(lines[0].html) == "2"
    assert [
        (line.kind, line.old_number, line.new_number) for line in lines if line.kind in ("removed", "added")
    ] == [
        ("removed", 5, None),
        ("added", None, 5),
        ("added", None, 11),
    ]
    assert "<ins>（已修订）</ins>" in str(
        next(line.html for line in lines if line.new_number == 5 and line.kind == "added")
    )


def test_markup_in_the_text_is_escaped():
    old, new = inline("<b>旧</b>", "<script>新</script>")
    assert "<script" not in str(new) and str(new).startswith("&lt;<ins>script</ins>&gt;")


def test_identical_texts_have_no_diff():
    assert diff("一\n二", "一\n二") == []
