"""Every route for every role, and forged form fields (issue 8).

ROUTES says for every endpoint what anonymous visitors, a rep, sales support, a
manager and an administrator get for GET and for a POST with a valid CSRF token and
no other data, on objects of their own and on another team's or another user's. A
route missing from the table fails the walk, so no new route can be forgotten. The
walk also searches every response for secrets its reader may not see.

FORMS gives every POST route a valid submission and forged values of its fields:
other users' and teams' ids, negative, zero, huge and non-numeric numbers, unknown
choices, impossible dates, 10 MB, no CSRF token. Each is refused and writes no row;
then the valid submission succeeds, so the refusals were the forgeries' doing.

The scene, ROUTES and FORMS are in tests/web/route_matrix/."""

import io
import zipfile
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from salesdesk.extensions import db
from salesdesk.ledger import importer
from salesdesk.ledger.models import Customer
from salesdesk.rules.models import Territory
from tests.fixtures.ledger import make_customer
from tests.web.route_matrix.forms import BLUEPRINTS, FORMS, resolve, without
from tests.web.route_matrix.routes import ROLES, ROUTES, Case, build_url, expected_for, rules_by_endpoint
from tests.web.route_matrix.scene import (
    ACTORS,
    CSV,
    SECRETS,
    build_scene,
    changed_tables,
    snapshot,
)

# A wrong method is refused (405) before anything looks at the user: checked for two roles.
METHOD_CHECKS = {"anon", "rep"}


def test_the_table_names_every_route_and_only_real_ones(app):
    routes = rules_by_endpoint(app)
    missing = sorted(set(routes) - set(ROUTES))
    assert not missing, (
        f"routes missing from ROUTES in tests/web/route_matrix/routes.py: {', '.join(missing)}"
    )
    stale = sorted(set(ROUTES) - set(routes))
    assert not stale, f"ROUTES names endpoints that do not exist: {', '.join(stale)}"
    for endpoint, cases in ROUTES.items():
        methods = set().union(*(rule.methods for rule in routes[endpoint]))
        for item in cases:
            assert (item.get is not None) == ("GET" in methods), f"{endpoint}: GET expectation vs {methods}"
            assert (item.post is not None) == ("POST" in methods), (
                f"{endpoint}: POST expectation vs {methods}"
            )
            assert methods <= {"GET", "POST", "HEAD", "OPTIONS"}, f"{endpoint}: untested methods {methods}"


# ---- the walk --------------------------------------------------------------------------------


def check(response, expected, method, url, role, failures, seen):
    status = response.status_code
    if status >= 500:
        failures.append(f"{role} {method} {url}: {status} (server error)")
    elif expected == "L":
        location = response.headers.get("Location", "")
        if status != 302 or not location.startswith("/login"):
            failures.append(f"{role} {method} {url}: {status} {location}, expected the redirect to /login")
    elif status != int(expected):
        failures.append(f"{role} {method} {url}: {status}, expected {expected}")
    body = body_text(response)
    for secret, allowed in SECRETS.items():
        if secret in body:
            seen.add(secret)
            if role not in allowed:
                failures.append(f"{role} {method} {url}: shows {secret!r}")


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_every_role_as_the_table_says(app, world, role):
    ids = build_scene(world)
    user = getattr(world, ACTORS[role]) if role != "anon" else None
    adapter = app.url_map.bind("localhost")
    failures, seen = [], set()

    def client():
        # A fresh client each time: logging out or switching language stays local.
        fresh = app.test_client()
        return fresh.login_as(user) if user else fresh

    for endpoint, rules_ in sorted(rules_by_endpoint(app).items()):
        if endpoint not in ROUTES:
            failures.append(f"{endpoint} is missing from ROUTES in tests/web/route_matrix/routes.py")
            continue
        methods = set().union(*(rule.methods for rule in rules_))
        for item in ROUTES[endpoint]:
            url = build_url(adapter, endpoint, item, ids)
            if item.get is not None:
                expected = expected_for(item.get, role)
                check(client().get(url), expected, "GET", url, role, failures, seen)
                if expected == "L":
                    check_htmx_login(client().get(url, htmx=True), "GET", url, failures)
            elif role in METHOD_CHECKS:
                check(client().get(url), "405", "GET", url, role, failures, seen)
            if item.post is not None:
                expected = expected_for(item.post, role)
                check(client().post(url), expected, "POST", url, role, failures, seen)
                if expected == "L":
                    check_htmx_login(client().post(url, htmx=True), "POST", url, failures)
            elif "POST" not in methods and role in METHOD_CHECKS:
                check(client().post(url), "405", "POST", url, role, failures, seen)
    # The search for secrets would find them: who may see one does, somewhere.
    failures += [
        f"{role} never sees {secret!r}"
        for secret, allowed in SECRETS.items()
        if role in allowed and secret not in seen
    ]
    assert not failures, "\n".join(failures)


def body_text(response):
    """The text a user would read: spreadsheets are unzipped, images have none."""
    if response.mimetype.startswith("image/"):
        return ""
    data = response.get_data()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(
                archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml")
            )
    return data.decode("utf-8-sig")


def check_htmx_login(response, method, url, failures):
    if response.status_code != 401 or not response.headers.get("HX-Redirect", "").startswith("/login"):
        failures.append(f"anon htmx {method} {url}: {response.status_code}, expected 401 with HX-Redirect")


# ---- forged fields -----------------------------------------------------------------------------

TEN_MB = "x" * (10 * 1024 * 1024)  # over MAX_FORM_MEMORY_SIZE: 413
URLENCODED = "application/x-www-form-urlencoded"


def post_routes(app):
    return sorted(
        endpoint
        for endpoint, rules_ in rules_by_endpoint(app).items()
        if any("POST" in r.methods for r in rules_)
    )


def test_every_form_has_its_forgeries(app):
    missing = sorted(set(post_routes(app)) - set(FORMS))
    assert not missing, (
        f"POST routes missing from FORMS in tests/web/route_matrix/forms.py: {', '.join(missing)}"
    )
    assert not set(FORMS) - set(post_routes(app))


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_forged_fields_are_refused_and_change_nothing(app, world, blueprint):
    ids = build_scene(world)
    failures = []
    for endpoint, spec in FORMS.items():
        if endpoint.split(".")[0] == blueprint:
            forge(app, world, ids, endpoint, spec, failures)
    assert not failures, "\n".join(failures)


def forge(app, world, ids, endpoint, spec, failures):
    """Post each forgery of one form; then the valid submission, which must succeed."""
    user = None if spec.actor == "anon" else getattr(world, spec.actor)
    url = build_url(app.url_map.bind("localhost"), endpoint, Case(None, None, spec.params), ids)

    def post(data, csrf=True):
        client = app.test_client()
        client = client.login_as(user) if user else client
        data = resolve(data, ids)
        token = {"csrf_token": client.csrf_token()} if csrf else {}
        big = [name for name, value in data.items() if value is TEN_MB]
        if big and not any(isinstance(value, tuple) for value in data.values()):
            # Encoded here: the test client's encoder takes a tenth of a second for 10 MB.
            body = urlencode({**without(data, big[0]), **token}, doseq=True) + f"&{big[0]}=" + TEN_MB
            return client.post(url, data=body.encode(), content_type=URLENCODED, csrf=False)
        if not any(isinstance(value, tuple) for value in data.values()):
            return client.post(url, data=data, csrf=csrf)
        # A file: encoded in memory, since the test client spools big bodies to a file it never closes.
        fields = {
            key: FileStorage(*value) if isinstance(value, tuple) else value for key, value in data.items()
        }
        boundary, body = encode_multipart({**fields, **token})
        return client.post(
            url, data=body, content_type=f"multipart/form-data; boundary={boundary}", csrf=False
        )

    valid = spec.valid(ids) if callable(spec.valid) else spec.valid
    big_field = next((name for name, value in valid.items() if isinstance(value, str)), "reason")
    # The big field goes first: werkzeug leaves a spooled upload unclosed when it stops at 413.
    attempts = [
        ("without a CSRF token", valid, False),
        ("with 10 MB", {big_field: TEN_MB, **without(valid, big_field)}, True),
    ]
    for name, values in spec.forged.items():
        attempts += [(f"{name}={str(value)[:30]!r}", {**valid, name: value}, True) for value in values]
    before = snapshot()
    for label, data, csrf in attempts:
        response = post(data, csrf)
        status = response.status_code
        if label == "with 10 MB" and status != 413:
            failures.append(f"{endpoint} {label}: {status}, expected 413")
        elif not (400 <= status < 500 or status in spec.also):
            failures.append(f"{endpoint} {label}: {status}")
        location = response.headers.get("Location", "")
        if location and not location.startswith("/"):
            failures.append(f"{endpoint} {label}: redirects off the site to {location}")
        after = snapshot()
        changed = [name for name in changed_tables(before, after) if name not in spec.records]
        if changed:
            failures.append(f"{endpoint} {label}: {status}, changed {changed}")
        before = after
    # The valid submission succeeds: the refusals above were the forged field's doing.
    response = post(valid)
    if response.status_code != spec.ok:
        failures.append(f"{endpoint} valid submission: {response.status_code}, expected {spec.ok}")
    elif spec.changes and snapshot() == before:
        failures.append(f"{endpoint} valid submission changed nothing")


# ---- regressions: what the walks above found ----------------------------------------------------


def test_the_collisions_page_answers_200_with_the_shown_tab_marked(client_as, world):
    # The filter went to render() as `status`, which is the HTTP status: "0 open".
    manager = client_as(world.manager_a)
    for query, link in (("", '"/collisions"'), ("?status=decided", '"/collisions?status=decided"')):
        response = manager.get("/collisions" + query)
        assert response.status_code == 200
        assert f'href={link} aria-current="page"' in response.get_data(as_text=True)


def test_a_10_mb_form_is_refused_before_it_is_read(client_as, world):
    # Werkzeug applies MAX_FORM_MEMORY_SIZE to multipart fields only; an urlencoded
    # 10 MB field reached the view, which took it for "no successor".
    admin = client_as(world.admin)
    url = f"/admin/users/{world.rep_a.id}/deactivate"
    assert admin.post(url, data={"successor_id": TEN_MB}).status_code == 413
    assert admin.post(url, data={"successor_id": TEN_MB}, htmx=True).status_code == 413
    db.session.refresh(world.rep_a)
    assert world.rep_a.active
    # The largest real form, an article of 100,000 Chinese characters (0.9 MB encoded), still goes.
    manager = client_as(world.manager_a)
    article = {"title": "长文", "body": "报" * 100_000, "category_id": "0", "tags": "", "note": ""}
    response = manager.post("/kb/new", data=article)
    assert response.status_code == 303


@pytest.mark.parametrize("successor", ["0", "abc", "1.5", "-1", str(2**63)])
def test_a_forged_successor_is_refused_not_taken_for_the_pool(client_as, world, successor):
    customer = make_customer(world.rep_a, "杭州云栖数据科技有限公司")
    response = client_as(world.admin).post(
        f"/admin/users/{world.rep_a.id}/deactivate", data={"successor_id": successor}
    )
    assert response.status_code == 400
    db.session.refresh(world.rep_a)
    assert world.rep_a.active
    assert db.session.get(Customer, customer.id).owner_id == world.rep_a.id


def test_unicode_digits_in_ids_are_refused_not_a_server_error(client_as, world):
    # "²".isdigit() is true, but int("²") raises.
    pool = make_customer(world.manager_a, "宁波海港物流有限公司", pool=True)
    manager = client_as(world.manager_a)
    data = {"user_id": str(world.rep_a2.id), "reason": "区域对口", "customer_ids": ["²"]}
    assert manager.post("/customers/assign", data=data).status_code == 422
    assert db.session.get(Customer, pool.id).owner_id is None
    job = importer.start_job(world.rep_a, "客户.csv", io.BytesIO(CSV))
    response = client_as(world.rep_a).post(f"/customers/import/{job.id}/mapping", data={"map-name": "²"})
    assert response.status_code == 422


def test_a_forged_rep_in_the_territories_is_refused_and_the_old_ones_stay(client_as, world):
    admin = client_as(world.admin)
    url = f"/rules/teams/{world.team_a.id}/territories"

    def territories():
        db.session.rollback()
        return db.session.execute(select(Territory.province, Territory.city, Territory.user_id)).all()

    assert (
        admin.post(url, data={"province": "浙江", "city": "", "user_id": world.rep_a.id}).status_code == 303
    )
    for forged in ("-1", "abc", "²", "1.5"):
        response = admin.post(url, data={"province": "浙江", "city": "", "user_id": forged})
        assert response.status_code == 400, forged
        assert territories() == [("浙江", "", world.rep_a.id)]
    # A row left without a rep ("—") is dropped, as before.
    assert admin.post(url, data={"province": "浙江", "city": "", "user_id": ""}).status_code == 303
    assert territories() == []
