"""Helpers for tests: the app configuration, a CSRF-aware client, user factories."""

import http.client
import re
import secrets
import threading
from contextlib import contextmanager
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import httpx
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event

from salesdesk.auth import services as accounts
from salesdesk.extensions import db
from salesdesk.submissions import new_token as new_submission_token

PASSWORD = "correct-horse-42"


def app_config(database_url):
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        # Hashing with scrypt would make every test user cost ~50 ms.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # Background jobs only where a test starts them.
        "RUN_PERIODIC_JOBS_IN_REQUESTS": False,
    }


class Client(FlaskClient):
    """A test client that sends the CSRF token like our pages do: as a form field,
    or for htmx=True as the X-CSRFToken header (and HX-Request: true). A POST carries
    a fresh one-time submission token too, as a form rendered anew would, unless the
    test sends its own."""

    def open(self, *args, htmx=False, csrf=True, **kwargs):
        method = kwargs.get("method", "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if htmx:
            headers["HX-Request"] = "true"
        if method == "POST" and isinstance(kwargs.get("data"), dict):
            kwargs["data"] = {"submission_token": new_submission_token(), **kwargs["data"]}
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            if htmx or method == "DELETE":
                headers["X-CSRFToken"] = self.csrf_token()
            else:
                data = kwargs.get("data")
                data = dict(data) if data is not None else {}
                data.setdefault("csrf_token", self.csrf_token())
                kwargs["data"] = data
        # Each request gets its own app context (and database session), as in
        # production, instead of sharing the one the test holds.
        # Buffered: a streamed response would keep its request context pushed.
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            response = super().open(*args, headers=headers, **kwargs)
        # The test's own session then reads afresh, seeing what the request wrote.
        db.session.rollback()
        return response

    def csrf_token(self):
        """The token a page would embed for this client's session."""
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def login_as(self, user):
        """Log in without the login form (that form has tests of its own)."""
        accounts.start_session(user)
        with self.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return self


def login_form(email, password=PASSWORD, **extra):
    """What the login page posts: its hidden `next` is empty unless the page was sent
    somewhere first, and an unticked "remember me" is left out."""
    return {"email": email, "password": password, "next": "", **extra}


class _FormReader(HTMLParser):
    """The fields of one <form>, as a browser would post them without any typing."""

    def __init__(self, action):
        super().__init__()
        self.action, self.inside, self.fields = action, False, {}
        self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        elif not self.inside or "name" not in attrs:
            if tag == "option" and self.select and ("selected" in attrs or self.select not in self.fields):
                self.fields[self.select] = attrs.get("value", "")
        elif tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button", "reset", "image", "file"):
                self.fields[attrs["name"]] = attrs.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "select":
            self.select = attrs["name"]
        elif tag == "textarea":
            self.textarea = attrs["name"]
            self.fields[self.textarea] = ""

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_on_page(html, action):
    """What a browser posts from the page's form with this action (None: a form without
    one, which posts to the page itself) before the user types anything: hidden fields
    included, unticked boxes left out, a select's chosen (or first) option."""
    reader = _FormReader(action)
    reader.feed(html)
    return reader.fields


def make_user(email, role, team=None, name=None, password=PASSWORD):
    return accounts.create_user(
        email=email, display_name=name or email.split("@")[0], role=role, password=password, team=team
    )


def move_to_team(user, team, actor):
    """The admin's edit of a user that only changes their team."""
    accounts.update_user(
        user,
        actor=actor,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        team=team,
        locale=user.locale,
    )


def browser_login(page, email, password=PASSWORD):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


class LiveClient:
    """A browser-like HTTP client for the live server: logs in through the form and
    sends the CSRF token that the page embeds. For real concurrent requests."""

    def __init__(self, base_url, email, password=PASSWORD):
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
        page = self.http.get("/login")
        response = self.http.post(
            "/login", data={**login_form(email, password), "csrf_token": self._token(page)}
        )
        assert response.status_code == 303, response.text
        self.token = self._token(self.http.get("/"))

    @staticmethod
    def _token(page):
        return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)

    def post(self, url, data=None, **kwargs):
        data = {"submission_token": new_submission_token(), **(data or {}), "csrf_token": self.token}
        return self.http.post(url, data=data, **kwargs)

    def get(self, url, **kwargs):
        return self.http.get(url, **kwargs)

    def close(self):
        self.http.close()


def browser_session(app, user):
    """The session cookie and CSRF token a logged-in browser would hold."""
    client = app.test_client().login_as(user)
    token = client.csrf_token()
    return {"cookie": f"salesdesk_session={client.get_cookie('salesdesk_session').value}", "token": token}


def post_all_at_once(base_url, requests):
    """POST every (path, form, session) from its own thread, released together; each form
    gets a fresh submission token unless it brings its own."""
    address = urlsplit(base_url)
    barrier = threading.Barrier(len(requests))
    statuses = [None] * len(requests)

    def send(index, path, form, session):
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        body = urlencode({"submission_token": new_submission_token(), **form, "csrf_token": session["token"]})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": session["cookie"]}
        barrier.wait()
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        response.read()
        statuses[index] = response.status
        connection.close()

    threads = [threading.Thread(target=send, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@contextmanager
def recorded_statements():
    """The SQL statements run inside the block, as (statement, parameters), in order:
    for tests of how many statements a page or a service runs, and which."""
    seen = []

    def record(_connection, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
