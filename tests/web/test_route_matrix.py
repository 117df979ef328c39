"""Security checks of issue 8: what walking every route and forging every form found."""


def test_the_collisions_page_answers_200_with_the_shown_tab_marked(client_as, world):
    # The filter went to render() as `status`, which is the HTTP status: "0 open".
    manager = client_as(world.manager_a)
    for query, link in (("", '"/collisions"'), ("?status=decided", '"/collisions?status=decided"')):
        response = manager.get("/collisions" + query)
        assert response.status_code == 200
        assert f'href={link} aria-current="page"' in response.get_data(as_text=True)
