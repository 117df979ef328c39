"""What the route matrix walks (tests/web/test_route_matrix.py), also read by the form
fuzz and page-form tests: the scene (scene.py: the users, teams and objects), the route
table (routes.py: every route's expected status per role) and the forms table (forms.py:
every POST route's valid submission and forged fields)."""
