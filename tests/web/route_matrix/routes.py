"""The route table: for every endpoint what anonymous visitors, a rep, sales support, a
manager and an administrator get for GET and for a POST with a valid CSRF token and no
other data, on objects of their own and on another team's or another user's. Parameters
name objects of the scene (scene.build_scene)."""

from dataclasses import dataclass, field

ROLES = ("anon", "rep", "support", "manager", "admin")


@dataclass
class Case:
    """One URL of a route and what each role gets. `get`/`post`: five tokens in ROLES
    order; "L" is the redirect to /login, a number the exact status."""

    get: str | None
    post: str | None
    params: dict = field(default_factory=dict)
    query: str = ""


def case(get=None, post=None, query="", **params):
    return Case(get, post, params, query)


LOGIN = "L 200 200 200 200"  # any logged-in user
EVERYONE = case(LOGIN)
ADMINS = "L 403 403 403 200"
EDITORS = "L 403 200 200 200"
MANAGERS = "L 403 403 200 200"

ROUTES = {
    # ---- administration
    "admin.audit_log": [case(ADMINS)],
    "admin.users": [case(ADMINS)],
    "admin.new_user": [case(ADMINS, "L 403 403 403 422")],
    # An edit form posted without its fields is empty, not the object's values (issue 14, finding 5).
    "admin.edit_user": [case(ADMINS, "L 403 403 403 422", user_id="rep_a2")],
    "admin.deactivate_user": [
        case(post="L 403 403 403 303", user_id="leaver"),
        case(post="L 403 403 403 403", user_id="admin"),  # nobody deactivates themselves
    ],
    "admin.reactivate_user": [case(post="L 403 403 403 303", user_id="returner")],
    "admin.teams": [case(ADMINS, "L 403 403 403 422")],
    "admin.edit_team": [case(ADMINS, "L 403 403 403 422", team_id="team_b")],
    # ---- custom fields (administrators)
    "fields.index": [case(ADMINS)],
    "fields.new": [case(ADMINS, "L 403 403 403 422")],
    "fields.edit": [
        case(ADMINS, "L 403 403 403 422", field_id="field_budget"),
        case("L 403 403 403 404", "L 403 403 403 404", field_id=999999),
    ],
    "fields.retire": [
        case(post="L 403 403 403 303", field_id="field_retire"),
        case(post="L 403 403 403 404", field_id=999999),
    ],
    "fields.restore": [
        case(post="L 403 403 403 303", field_id="field_retired"),
        case(post="L 403 403 403 404", field_id=999999),
    ],
    "fields.move": [
        case(post="L 403 403 403 400", field_id="field_budget"),  # no direction
        case(post="L 403 403 403 404", field_id=999999),
    ],
    # ---- chat groups (administrators)
    "chat.index": [case(ADMINS)],
    "chat.new": [case(ADMINS, "L 403 403 403 422")],
    "chat.edit": [
        case(ADMINS, "L 403 403 403 422", connection_id="chat_conn"),
        case("L 403 403 403 404", "L 403 403 403 404", connection_id=999999),
    ],
    "chat.test": [
        case(post="L 403 403 403 200", connection_id="chat_conn"),
        case(post="L 403 403 403 404", connection_id=999999),
    ],
    "chat.delete": [
        case(post="L 403 403 403 303", connection_id="chat_conn_delete"),
        case(post="L 403 403 403 404", connection_id=999999),
    ],
    # ---- login and own account
    "auth.login": [case("200 302 302 302 302", "422 422 422 422 422")],
    "auth.logout": [case(post="L 303 303 303 303")],
    "auth.logout_everywhere": [case(post="L 303 303 303 303")],
    "auth.set_language": [case(post="400 400 400 400 400")],
    # ---- monitoring: public, no session
    "health.healthz": [case("200 200 200 200 200")],
    "auth.account": [case(LOGIN, "L 422 422 422 422")],
    # ---- knowledge base
    "kb.index": [EVERYONE],
    "kb.search": [case(LOGIN, query="q=报价")],
    "kb.playbooks": [EVERYONE],
    "kb.insights": [case(EDITORS)],
    "kb.new": [case(EDITORS, "L 403 422 422 422")],
    "kb.article": [
        case(LOGIN, article_id="article"),
        case("L 404 200 200 200", article_id="draft"),
    ],
    "kb.edit": [
        case(EDITORS, "L 403 400 400 400", article_id="article"),
        case(EDITORS, "L 403 400 400 400", article_id="draft"),
    ],
    "kb.history": [case(EDITORS, article_id="article")],
    "kb.compare": [case(EDITORS, article_id="article")],
    "kb.revision": [
        case(EDITORS, article_id="article", number=1),
        case("L 403 404 404 404", article_id="article", number=99),
    ],
    "kb.restore": [case(post="L 403 400 400 400", article_id="article", number=1)],
    "kb.publish": [case(post="L 403 303 303 303", article_id="draft_pub")],
    "kb.unpublish": [case(post="L 403 303 303 303", article_id="article_unpub")],
    "kb.propose": [
        case("L 200 303 303 303", "L 400 303 303 303", article_id="article"),
        case("L 404 303 303 303", "L 404 303 303 303", article_id="draft"),
    ],
    "kb.proposals": [EVERYONE],
    "kb.proposal": [
        case(LOGIN, proposal_id="prop_a"),  # rep A's own proposal
        case("L 404 200 200 200", proposal_id="prop_b"),  # rep B's
    ],
    "kb.accept_proposal": [case(post="L 403 303 303 303", proposal_id="prop_accept")],
    # A post without the form's fields is refused (issue 14, finding 5), with the page
    # shown again and the form's errors (issue 15).
    "kb.decline_proposal": [case(post="L 403 422 422 422", proposal_id="prop_decline")],
    "kb.vote": [
        case(post="L 422 422 422 422", article_id="article"),
        case(post="L 404 422 422 422", article_id="draft"),
    ],
    "kb.mark_read": [
        case(post="L 400 400 400 400", article_id="article"),
        case(post="L 404 400 400 400", article_id="draft"),
    ],
    "kb.categories": [case(EDITORS, "L 403 422 422 422")],
    "kb.edit_category": [case(EDITORS, "L 403 422 422 422", category_id="cat")],
    "kb.delete_category": [case(post="L 403 303 303 303", category_id="cat_doomed")],
    "kb.paths": [EVERYONE],
    "kb.new_path": [case(EDITORS, "L 403 422 422 422")],
    "kb.path": [case(LOGIN, path_id="path")],
    "kb.edit_path": [case(EDITORS, "L 403 422 422 422", path_id="path")],
    "kb.add_path_item": [case(post="L 403 422 422 422", path_id="path")],
    "kb.move_path_item": [
        case(post="L 403 303 303 303", path_id="path", article_id="article2", direction="up"),
        case(post="L 403 404 404 404", path_id="path", article_id="draft", direction="down"),
    ],
    "kb.remove_path_item": [case(post="L 403 303 303 303", path_id="path2", article_id="article")],
    "kb.assign_path": [case(post="L 403 403 422 422", path_id="path")],
    "kb.unassign": [
        case(post="L 403 403 303 303", assignment_id="assignment_a"),  # rep A's, by manager A
        case(post="L 403 403 403 303", assignment_id="assignment_b"),  # rep B's
    ],
    # The editor: a preview of any text and images for everyone who writes (editors in
    # the editor, the others in a proposed edit); an image only with a file.
    "kb.preview": [case(post="L 200 200 200 200")],
    "kb.upload_image": [case(post="L 422 422 422 422")],
    "kb.image": [case(LOGIN, image_id="image"), case("L 404 404 404 404", image_id=999999)],
    # ---- customer ledger
    "ledger.index": [EVERYONE],
    "ledger.choose_columns": [case(post="L 400 400 400 400")],
    # Who exports is an admin setting; by default managers and admins, reps their own (issue 16).
    "ledger.export": [case("L 200 403 200 200", fmt="csv"), case("L 200 403 200 200", fmt="xlsx")],
    "ledger.new": [case(LOGIN, "L 422 422 422 422")],
    "ledger.check_duplicates": [case(post="L 200 200 200 200")],
    "ledger.show": [
        case(LOGIN, customer_id="cust_a"),
        case(LOGIN, customer_id="cust_b"),  # everyone sees it exists; details are masked
        case(LOGIN, customer_id="pool"),
        case("L 404 404 404 404", customer_id="trashed_show"),
    ],
    "ledger.edit": [
        case("L 200 403 200 200", "L 422 403 422 422", customer_id="cust_a"),
        case("L 403 403 403 200", "L 403 403 403 422", customer_id="cust_b"),
        case("L 403 403 403 200", "L 403 403 403 422", customer_id="pool"),
    ],
    "ledger.change_stage": [
        case(post="L 422 403 422 422", customer_id="cust_a"),
        case(post="L 403 403 403 422", customer_id="cust_b"),
    ],
    "ledger.save_custom_values": [
        case(post="L 422 403 422 422", customer_id="cust_a"),
        case(post="L 403 403 403 422", customer_id="cust_b"),
    ],
    "ledger.log_follow_up": [
        case(post="L 422 403 422 422", customer_id="cust_a"),
        case(post="L 403 403 403 422", customer_id="cust_b"),
    ],
    "ledger.new_contact": [
        case("L 200 403 200 200", "L 422 403 422 422", customer_id="cust_a"),
        case("L 403 403 403 200", "L 403 403 403 422", customer_id="cust_b"),
    ],
    "ledger.edit_contact": [
        case("L 200 403 200 200", "L 422 403 422 422", customer_id="cust_a", contact_id="contact_a"),
        case("L 404 403 404 404", "L 404 403 404 404", customer_id="cust_a", contact_id="contact_b"),
        case("L 403 403 403 200", "L 403 403 403 422", customer_id="cust_b", contact_id="contact_b"),
    ],
    "ledger.delete_contact": [
        case(post="L 303 403 303 303", customer_id="cust_a", contact_id="contact_doomed"),
        case(post="L 400 403 400 400", customer_id="cust_a", contact_id="contact_b"),
        case(post="L 403 403 403 303", customer_id="cust_b", contact_id="contact_b_doomed"),
    ],
    "ledger.add_collaborator": [
        case(post="L 422 403 422 422", customer_id="cust_a"),
        case(post="L 403 403 403 422", customer_id="cust_b"),
    ],
    "ledger.request_collaboration": [
        case(post="L 422 422 422 422", customer_id="cust_b"),  # no message field (finding 5)
        case(post="L 422 422 422 422", customer_id="pool"),
    ],
    "ledger.answer_collaboration": [
        case(post="L 303 403 303 303", customer_id="cust_a", user_id="rep_a2", answer="approve"),
        case(post="L 403 403 403 303", customer_id="cust_b", user_id="rep_a", answer="decline"),
    ],
    "ledger.remove_collaborator": [
        case(post="L 303 303 303 303", customer_id="cust_collab", user_id="support_a"),
        case(post="L 403 403 403 303", customer_id="cust_b", user_id="rep_a2"),
    ],
    "ledger.delete": [
        case(post="L 403 403 303 303", customer_id="doomed_a"),
        case(post="L 403 403 403 303", customer_id="doomed_b"),
    ],
    "ledger.trash": [case(ADMINS)],
    "ledger.restore": [case(post="L 403 403 403 303", customer_id="trashed")],
    "ledger.import_upload": [case(LOGIN, "L 422 422 422 422")],
    "ledger.import_mapping": [
        case("L 200 404 404 200", "L 422 404 404 422", job_id="job_a"),
        case("L 404 404 404 200", "L 404 404 404 422", job_id="job_b"),
    ],
    "ledger.import_job": [
        case("L 200 404 404 200", job_id="job_a"),
        case("L 404 404 404 200", job_id="job_b"),
    ],
    # Only a checked file with invalid rows has them to download (job_a is not checked yet).
    "ledger.import_invalid_rows": [
        case("L 404 404 404 404", job_id="job_a"),
        case("L 404 404 404 404", job_id="job_b"),
    ],
    "ledger.import_commit": [
        case(post="L 400 404 404 400", job_id="job_a"),
        case(post="L 404 404 404 400", job_id="job_b"),
    ],
    # ---- recognition
    "recognition.leaderboard": [EVERYONE, case(LOGIN, query="period=all&team={team_b}")],
    "recognition.feed": [EVERYONE],
    "recognition.person": [case(LOGIN, user_id="rep_b")],
    "recognition.award": [case(MANAGERS, "L 403 403 422 422")],
    "recognition.thank": [case(LOGIN, "L 422 422 422 422")],
    "recognition.entry": [case(LOGIN, entry_id="entry"), case(LOGIN, entry_id="entry_b")],
    "recognition.reverse": [case(post="L 403 403 403 422", entry_id="entry")],
    "recognition.report": [case(MANAGERS), case("L 403 403 403 200", query="team={team_b}")],
    "recognition.settings": [case(ADMINS, "L 403 403 403 422")],
    # ---- assignment and anti-collision rules
    "rules.pool": [EVERYONE],
    "rules.claim": [
        case(post="L 303 403 303 403", customer_id="pool_claim"),
        case(post="L 409 403 409 403", customer_id="cust_b"),
    ],
    "rules.release": [case(post="L 422 422 422 422", customer_id="cust_a")],
    "rules.request_extension": [case(post="L 422 422 422 422", customer_id="cust_a")],
    # Who may decide is asked first (403); an empty post is then refused for its missing
    # fields (finding 5).
    "rules.decide_extension": [
        case(post="L 403 403 422 422", extension_id="ext_a", answer="grant"),
        case(post="L 403 403 422 422", extension_id="ext_a_decline", answer="decline"),
        case(post="L 403 403 403 422", extension_id="ext_b", answer="grant"),
    ],
    "rules.file_collision": [case("L 200 403 200 403", "L 422 403 422 403", customer_id="cust_b")],
    "rules.collisions": [EVERYONE, case(LOGIN, query="status=decided")],
    "rules.collision": [
        case("L 200 403 200 200", "L 403 403 422 422", report_id="report_a"),
        case("L 403 403 403 200", "L 403 403 403 422", report_id="report_b"),
    ],
    "rules.assign": [case(post="L 403 403 422 422")],
    # Managers read the rules and their team's territories (issue 16); only admins change them.
    "rules.rule_settings": [case(MANAGERS, "L 403 403 403 422")],
    "rules.set_strategy": [case(post="L 403 403 403 400", team_id="team_a")],
    "rules.set_territories": [case(post="L 403 403 403 303", team_id="team_b")],
    "rules.ownership_report": [case(ADMINS)],
    # ---- workbench and notifications
    "workbench.home": [EVERYONE, case(LOGIN, query="team={team_b}")],
    "workbench.log_follow_up": [
        case(post="L 422 403 422 422", customer_id="cust_a"),
        case(post="L 403 403 403 422", customer_id="cust_b"),
    ],
    "workbench.notification_bell": [EVERYONE],
    "workbench.notification_list": [EVERYONE],
    "workbench.read_notification": [
        case(post="L 303 404 404 404", notification_id="notif_a"),
        case(post="L 404 404 404 404", notification_id="notif_b"),
    ],
    "workbench.read_all_notifications": [case(post="L 303 303 303 303")],
    # ---- support: the desk (requests of team A's queue, and team B's: req_b)
    "support.index": [EVERYONE, case(LOGIN, query="status=any&type=abc&handler=0&breached=1&page=-3")],
    "support.new": [
        case("L 200 403 200 200", "L 422 403 422 422"),
        case("L 200 403 200 200", "L 422 403 422 422", query="customer={cust_b}&type=999"),
    ],
    "support.suggestions": [case(LOGIN, query="title=报价")],
    "support.show": [case(LOGIN, request_id="req_a"), case("L 404 404 404 200", request_id="req_b")],
    "support.attachment": [
        case(LOGIN, request_id="req_a", attachment_id="att_a"),
        case("L 404 404 404 200", request_id="req_b", attachment_id="att_b"),
        case("L 404 404 404 404", request_id="req_a", attachment_id="att_b"),
    ],
    "support.accept": [
        case(post="L 403 303 403 403", request_id="req_accept"),
        case(post="L 404 404 404 403", request_id="req_b"),
    ],
    "support.assign": [case(post="L 403 403 403 422", request_id="req_a")],
    "support.reply": [
        case(post="L 422 422 422 422", request_id="req_a"),
        case(post="L 404 404 404 422", request_id="req_b"),
    ],
    "support.send_back": [case(post="L 403 422 403 422", request_id="req_progress")],
    "support.resolve": [case(post="L 403 422 403 422", request_id="req_progress")],
    "support.confirm": [case(post="L 422 403 403 403", request_id="req_resolved")],
    "support.reopen": [case(post="L 422 403 403 403", request_id="req_reopen")],
    "support.cancel": [case(post="L 422 403 403 422", request_id="req_cancel")],
    "support.kb_draft": [case(post="L 403 303 403 303", request_id="req_kb")],
    "support.delete": [case(post="L 403 403 403 303", request_id="req_delete")],
    # ---- support: metrics (support leads, managers and admins; the scene's support user leads nothing)
    "support.metrics": [
        case(MANAGERS),
        case(MANAGERS, query="period=week&on=2026-02-30&team={team_b}&handler=0&type=abc"),
    ],
    "support.metrics_export": [case(MANAGERS), case(MANAGERS, query="period=week&team=company")],
    # ---- support: admin (types, calendar, settings)
    "support.admin_types": [case(ADMINS)],
    "support.admin_new_type": [case(ADMINS, "L 403 403 403 422")],
    "support.admin_edit_type": [
        case(ADMINS, "L 403 403 403 422", type_id="support_type"),
        case("L 403 403 403 404", "L 403 403 403 404", type_id=999999),
    ],
    "support.admin_retire_type": [case(post="L 403 403 403 303", type_id="support_type_retire")],
    "support.admin_restore_type": [case(post="L 403 403 403 303", type_id="support_type_retired")],
    # One form per action (add, remove, load): a post without one is refused.
    "support.admin_calendar": [
        case(ADMINS, "L 403 403 403 400"),
        case(ADMINS, "L 403 403 403 400", query="year=2027"),
        case("L 403 403 403 404", "L 403 403 403 404", query="year=1999"),
    ],
    "support.admin_settings": [case(ADMINS, "L 403 403 403 422")],
    # ---- performance: targets (managers their team, admins any), the board, people, weekly reports
    # A post without the table's inputs is a stale page: refused, nothing cleared.
    "performance.targets": [
        case(MANAGERS, "L 403 403 400 400"),
        case(MANAGERS, "L 403 403 400 400", query="team={team_b}&period=2026-Q4"),
        case("L 403 403 400 400", "L 403 403 400 400", query="period=2026-13"),
        # A manager's team is their own, whatever the address says.
        case("L 403 403 200 404", "L 403 403 400 404", query="team=999999"),
    ],
    "performance.settings": [case(post="L 403 403 403 303")],
    # Support users (and reps when the ranking is off) are sent to their own figures.
    "performance.board": [
        case("L 200 303 200 200"),
        case("L 200 303 200 200", query="period=2026&team={team_b}&sort=bogus&direction=up"),
        case("L 400 303 400 400", query="period=2026-Q5"),
    ],
    "performance.export": [case(MANAGERS), case(MANAGERS, query="period=2026-Q4&team={team_b}")],
    "performance.person": [
        case("L 200 403 200 200", user_id="rep_a"),
        case("L 403 403 403 200", user_id="rep_b"),
        case("L 403 200 200 200", user_id="support_a", query="period=2026-11"),
        case("L 404 404 404 404", user_id=999999),
    ],
    "performance.weekly": [
        case("L 403 403 404 200", week_start="2026-11-30"),
        case("L 400 400 400 400", week_start="2026-12-01"),  # not a Monday
        case("L 400 400 400 400", week_start="2026-13-01"),
    ],
}
IGNORED = {"static"}


def rules_by_endpoint(app):
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in IGNORED:
            found.setdefault(rule.endpoint, []).append(rule)
    return found


def expected_for(tokens, role):
    return dict(zip(ROLES, tokens.split(), strict=True))[role]


def build_url(adapter, endpoint, item, ids):
    values = {
        key: ids.get(value, value) if isinstance(value, str) else value for key, value in item.params.items()
    }
    url = adapter.build(endpoint, values)
    return url + ("?" + item.query.format(**ids) if item.query else "")
