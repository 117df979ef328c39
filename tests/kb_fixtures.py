"""Knowledge-base helpers for tests: articles written through the services.
Test modules take the fixtures with `from tests.kb_fixtures import *`."""

import pytest

__all__ = ["article", "draft", "edit", "write"]

from salesdesk.kb import services


def write(author, title, body, *, publish=True, **fields):
    return services.create_article(author=author, title=title, body=body, publish=publish, **fields)


def edit(article, editor, *, title=None, body=None, **fields):
    current = {
        "category_id": article.category_id,
        "tags": " ".join(article.tag_names),
        "stages": [stage.value for stage in article.stage_values],
    }
    return services.save_article(
        article,
        editor=editor,
        base_version=fields.pop("base_version", article.version),
        title=title if title is not None else article.title,
        body=body if body is not None else article.body,
        **{**current, **fields},
    )


@pytest.fixture
def article(world):
    body = "报价单必须写明有效期和付款方式。\n\n折扣超过 10% 需经理审批。"
    return write(world.manager_a, "报价单填写规范", body)


@pytest.fixture
def draft(world):
    return write(world.support_a, "新产品定价（草稿）", "尚未发布的定价策略。", publish=False)
