# Copy to instance/config.py (in production: /var/lib/salesdesk/config.py) to override
# Salesdesk's defaults on this machine. Environment variables (SALESDESK_DATABASE_URL,
# SALESDESK_SECRET_KEY, SALESDESK_HTTPS, SALESDESK_BEHIND_PROXY) take precedence.

# SQLALCHEMY_DATABASE_URI = "postgresql://salesdesk@127.0.0.1/salesdesk"
# UPLOAD_LIMIT_MB = 20                    # largest accepted import file
# IMPORT_MAX_ROWS = 200_000               # what an import may hold, checked before
# IMPORT_MAX_COLUMNS = 256                # ... the file is parsed
# IMPORT_MAX_CELLS = 4_000_000
# IMPORT_MAX_UNPACKED_MB = 300            # an .xlsx unpacked
# IMPORT_MAX_COMPRESSION_RATIO = 100      # tighter packing is a zip bomb
# IMPORT_KEEP_HOURS = 24                  # uploads never imported are deleted after
# LOGIN_MAX_FAILURES = 5                  # failed logins per account ...
# LOGIN_FAILURE_WINDOW_MINUTES = 15       # ... within this many minutes
# BABEL_DEFAULT_LOCALE = "zh_Hans_CN"     # or "en"
# BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"

# E-mail copies of notifications (off by default). Sent in the background after the
# change is saved; a failed send is retried for 24 hours.
# MAIL_ENABLED = True
# MAIL_SERVER = "smtp.exmail.qq.com"
# MAIL_PORT = 587
# MAIL_USE_TLS = True                     # STARTTLS
# MAIL_USERNAME = "salesdesk@example.com"
# MAIL_PASSWORD = "..."
# MAIL_SENDER = "Salesdesk <salesdesk@example.com>"
# MAIL_BASE_URL = "https://desk.example.com"   # links in the e-mails point here

# Reclaim, reminders and the month close run by themselves during requests, at most
# once a minute across all workers. Set False only if cron runs them instead.
# RUN_PERIODIC_JOBS_IN_REQUESTS = True
