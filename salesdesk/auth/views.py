from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_user, logout_user

from ..errors import DomainError, TooManyRequests
from ..i18n import settle_locale
from ..web import add_form_error, form_status, safe_next_url, see_other
from . import bp, public, services
from .forms import LanguageForm, LoginForm, PasswordForm


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    home = url_for("workbench.home")
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(home)
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, ip=request.remote_addr)
        except DomainError as error:
            add_form_error(form, error)
            # 429 tells scripts and monitors apart from a plain typo.
            status = error.status if isinstance(error, TooManyRequests) else 422
            return render_template("auth/login.html", form=form), status
        login_user(services.start_session(user), remember=form.remember.data)
        settle_locale()
        refresh()
        return see_other(safe_next_url(form.next.data, home))
    return render_template("auth/login.html", form=form), form_status(form)


@bp.route("/logout", methods=["POST"])
def logout():
    services.record_logout(current_user)
    return _logged_out(_("You have logged out."))


@bp.route("/account/logout-everywhere", methods=["POST"])
def logout_everywhere():
    services.log_out_everywhere(current_user)
    return _logged_out(_("You have logged out on every device."))


def _logged_out(message):
    # The session keeps the user's language (settle_locale): so does the login page.
    logout_user()
    flash(message, "info")
    return see_other(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
@public
def set_language():
    form = LanguageForm()
    if not form.validate_on_submit():
        raise DomainError(_("Unknown language."))
    if current_user.is_authenticated:
        services.set_language(current_user, form.locale.data)
    else:
        session["locale"] = form.locale.data
    return see_other(safe_next_url(form.next.data, url_for("workbench.home")))


@bp.route("/account", methods=["GET", "POST"])
def account():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.password.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            # The password change ended every session; this one goes on as a new login.
            login_user(services.start_session(current_user._get_current_object()))
            flash(_("Your password has been changed."), "success")
            return see_other(url_for("auth.account"))
    return render_template("auth/account.html", form=form), form_status(form)
