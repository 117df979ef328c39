"""Who may shape the records: administrators only (a field changes every form)."""


def may_manage_fields(user):
    return user.is_authenticated and user.is_admin
