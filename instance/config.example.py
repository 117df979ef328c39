# Copy to instance/config.py to override Salesdesk's defaults on this machine.
# Environment variables (SALESDESK_DATABASE_URL, SALESDESK_SECRET_KEY, SALESDESK_HTTPS)
# take precedence over this file.

# SQLALCHEMY_DATABASE_URI = "postgresql://salesdesk@127.0.0.1/salesdesk"
# MAX_CONTENT_LENGTH = 20 * 1024 * 1024   # largest accepted upload (imports), bytes
# LOGIN_MAX_FAILURES = 5                  # failed logins per account ...
# LOGIN_FAILURE_WINDOW_MINUTES = 15       # ... within this many minutes
# BABEL_DEFAULT_LOCALE = "zh_Hans_CN"     # or "en"
