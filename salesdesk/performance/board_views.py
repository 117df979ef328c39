"""The performance board (GET /performance), its XLSX export and one person's detail."""

from flask import request, send_file, url_for
from flask_login import current_user

from ..auth import allowed
from ..auth import services as accounts
from ..web import render, see_other
from . import access, board, board_person, bp, export


def _context(result):
    return {
        "board": result,
        "filters": result.filters,
        "columns": board.COLUMNS,
        "support_columns": board.SUPPORT_COLUMNS,
        "groups": board.GROUP_LABELS,
        "teams": accounts.teams() if access.may_pick_team(current_user) else [],
    }


@bp.get("/performance", endpoint="board")
def board_page():
    if not access.may_see_ranking(current_user):
        # Support users, and reps when the ranking is off: the menu's 绩效 is their own page.
        return see_other(url_for(".person", user_id=current_user.id, period=request.args.get("period")))
    return render("performance/board.html", **_context(board.board(current_user, request.args)))


@bp.get("/performance/export.xlsx", endpoint="export")
@allowed(access.may_see_board)
def board_export():
    result = board.board(current_user, request.args)
    return send_file(
        export.workbook(result),
        as_attachment=True,
        download_name=export.file_name(result),
        mimetype=export.XLSX_TYPE,
    )


@bp.get("/performance/reps/<int:user_id>", endpoint="person")
def person_page(user_id):
    page = board_person.person_page(current_user, user_id, request.args)
    return render("performance/person.html", page=page, may_see_board=access.may_see_board(current_user))
