"""Who may manage the chat-group connections: administrators only (they hold the
robots' keys and decide what each group hears)."""


def may_manage_connections(user):
    return user.is_authenticated and user.is_admin
