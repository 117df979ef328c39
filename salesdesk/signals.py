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

# sender: the User being deactivated; kwargs: actor, successor (User or None: the pool)
user_deactivated = _signals.signal("user-deactivated")

# sender: the support Request its requester just rated; kwargs: rating (1-5), settings
# (the desk's, with the points a 5-star rating gives and their monthly cap)
support_rated = _signals.signal("support-rated")
