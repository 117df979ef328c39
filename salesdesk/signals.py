"""Events one feature announces and others react to, so features never import each
other. Receivers run synchronously inside the sender's write transaction: whatever
they write commits or rolls back with the change that caused it."""

from blinker import Namespace

_signals = Namespace()

# sender: the Customer that just became won; kwargs: actor (User or None)
customer_won = _signals.signal("customer-won")

# sender: the knowledge-base article; kwargs: voter (User), helpful (bool), previous (bool or None)
article_voted = _signals.signal("article-voted")

# sender: the Customer whose owner, stage, grade or last follow-up changed (the rules
# recompute when it returns to the pool)
customer_changed = _signals.signal("customer-changed")

# sender: the acting User; kwargs: customers (new, without owner) that want their
# team's assignment strategy (round robin, territory…)
customers_need_owner = _signals.signal("customers-need-owner")

# sender: the FollowUp just logged; kwargs: author (User), relinked (None, or the
# author's later FollowUp of the customer whose previous_at the new one changed, and
# that previous_at before the change: a backdated follow-up comes between them)
follow_up_logged = _signals.signal("follow-up-logged")

# sender: the Team or User whose time zone may have changed (a team's zone edited, a
# person moved to another team); kwargs: user_ids, the people whose local days and
# months may now fall elsewhere
people_rezoned = _signals.signal("people-rezoned")

# sender: the User being deactivated; kwargs: actor, successor (User or None: the pool)
user_deactivated = _signals.signal("user-deactivated")

# sender: the support Request its requester just rated; kwargs: rating (1-5), settings
# (the desk's, with the points a 5-star rating gives and their monthly cap)
support_rated = _signals.signal("support-rated")

# sender: the support Request just filed (its requester, type and priority set)
support_filed = _signals.signal("support-filed")

# sender: the support Request whose service level was just breached; kwargs: clock
# ("response" or "resolution")
support_breached = _signals.signal("support-breached")

# sender: the CollisionReport just filed; kwargs: customer
collision_filed = _signals.signal("collision-filed")

# sender: the first day (date) of the month whose 协作之星 were just awarded; kwargs:
# winners, [(User, rank, points)] best first
stars_awarded = _signals.signal("stars-awarded")

# sender: the Team (None: the company) whose weekly report was just made; kwargs:
# week_start (the Monday, a date), figures (performance.report's JSON)
weekly_report_made = _signals.signal("weekly-report-made")
