"""The `flask salesdesk …` commands."""

from sqlalchemy import func, select

from salesdesk.auth.models import Team, User
from salesdesk.extensions import db


def count(model):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_init_creates_the_first_admin_and_is_safe_to_repeat(app):
    runner = app.test_cli_runner()
    args = ["salesdesk", "init", "--admin-email", "Boss@Test.example", "--admin-password", "long-enough-1"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Created administrator" in result.output
    again = runner.invoke(args=args)
    assert again.exit_code == 0 and "exists already" in again.output
    assert runner.invoke(args=["salesdesk", "init"]).exit_code == 0
    admin = db.session.scalar(select(User).where(User.email == "boss@test.example"))
    assert admin.role == "admin" and count(User) == 1


def test_init_prompts_when_flags_are_absent(app):
    result = app.test_cli_runner().invoke(
        args=["salesdesk", "init"], input="first@test.example\nlong-enough-1\nlong-enough-1\n"
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.role).where(User.email == "first@test.example")) == "admin"


def test_create_user_creates_the_team_once(app):
    runner = app.test_cli_runner()
    for email in ("a@test.example", "b@test.example"):
        result = runner.invoke(
            args=[
                "salesdesk",
                "create-user",
                "--email",
                email,
                "--password",
                "long-enough-1",
                "--role",
                "rep",
                "--team",
                "西北大区",
                "--name",
                "小王",
            ]
        )
        assert result.exit_code == 0, result.output
    assert count(Team) == 1 and count(User) == 2


def test_create_user_refusals_are_clear(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "salesdesk",
            "create-user",
            "--email",
            "x@test.example",
            "--password",
            "short",
            "--role",
            "rep",
            "--team",
            "T",
        ]
    )
    assert result.exit_code != 0 and "8" in result.output
    result = runner.invoke(
        args=[
            "salesdesk",
            "create-user",
            "--email",
            "x@test.example",
            "--password",
            "long-enough-1",
            "--role",
            "rep",
        ]
    )
    assert result.exit_code != 0 and "团队" in result.output
    result = runner.invoke(
        args=[
            "salesdesk",
            "create-user",
            "--email",
            "x@test.example",
            "--password",
            "long-enough-1",
            "--role",
            "king",
        ]
    )
    assert result.exit_code != 0


def test_demo_loads_once_and_prints_logins(app, demo):
    assert "qian.li@salesdesk.example" in demo.output and "salesdesk-demo" in demo.output
    users = count(User)
    second = app.test_cli_runner().invoke(args=["salesdesk", "demo"])
    assert second.exit_code == 0, second.output
    assert count(User) == users == 19 and count(Team) == 3
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {"admin": 1, "manager": 3, "support": 3, "rep": 12}
