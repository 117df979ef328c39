"""Entry point: `flask --app app …` and `gunicorn app:app`."""

from salesdesk import create_app

app = create_app()
