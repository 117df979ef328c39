"""Who may give, take back and look into points (salesdesk/recognition/access.py)."""

import pytest

from salesdesk.auth import services as accounts
from salesdesk.recognition import access


@pytest.mark.parametrize(
    ("who", "awards", "reverses"),
    [("admin", True, True), ("manager_a", True, False), ("support_a", False, False), ("rep_a", False, False)],
)
def test_managers_award_and_administrators_reverse(world, who, awards, reverses):
    user = getattr(world, who)
    assert access.may_award(user) is awards and access.may_see_report(user) is awards
    assert access.may_reverse(user) is reverses and access.may_change_settings(user) is reverses


def test_points_go_to_active_team_members_other_than_oneself(world):
    assert access.may_thank(world.rep_a, world.rep_b) and access.may_award_to(world.manager_a, world.rep_b)
    assert not access.may_thank(world.rep_a, world.rep_a)
    assert not access.may_award_to(world.manager_a, world.manager_a)
    assert not access.may_award_to(world.rep_a, world.rep_b)
    assert not access.may_thank(world.rep_a, world.admin)  # in no team
    accounts.deactivate_user(world.rep_b, actor=world.admin)
    assert not access.may_thank(world.rep_a, world.rep_b)
