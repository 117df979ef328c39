"""The app's select writes its options itself (salesdesk.forms.Select, for speed): its
markup must stay WTForms' own, byte for byte, whatever the values and labels hold."""

import pytest
import wtforms
from wtforms import widgets

from salesdesk.forms import SelectField, SelectMultipleField, choices

CHOICES = choices(
    [
        (23, "丁萍芳 · 华东大区"),
        ("a\"b'c", "<script>alert(1)</script> & co"),
        ("", "— nobody —"),
        ("empty-label", ""),
        (True, "yes"),
        (False, "no"),
    ]
)


def both(field_class, data, **field_kwargs):
    """The field rendered by the app's widget and by WTForms' for the same data."""
    stock = widgets.Select(multiple=field_class is SelectMultipleField)

    class Mine(wtforms.Form):
        field = field_class(choices=CHOICES, **field_kwargs)

    class Theirs(wtforms.Form):
        field = field_class(choices=CHOICES, widget=stock, **field_kwargs)

    return Mine(data={"field": data}).field, Theirs(data={"field": data}).field


@pytest.mark.parametrize("data", [23, "a\"b'c", "", True, None])
def test_a_select_renders_as_wtforms_does(data):
    mine, theirs = both(SelectField, data, coerce=str if data is not None else lambda v: v)
    assert str(mine(id="bulk-user", required=True)) == str(theirs(id="bulk-user", required=True))


def test_a_multiple_select_renders_as_wtforms_does():
    mine, theirs = both(SelectMultipleField, ["23", "", "empty-label"], coerce=str)
    assert 'multiple name="field"' in str(mine())
    assert str(mine()) == str(theirs())


def test_options_with_their_own_attributes_are_left_to_wtforms():
    class Mine(wtforms.Form):
        field = SelectField(
            choices=[
                wtforms.SelectChoice("x", "X", render_kw={"disabled": True}),
                wtforms.SelectChoice("y", "Y"),
            ]
        )

    html = str(Mine(data={"field": "y"}).field())
    assert '<option disabled value="x">X</option>' in html
    assert '<option selected value="y">Y</option>' in html


def test_the_filters_options_escape_what_they_show_and_select_by_what_the_address_says():
    from markupsafe import Markup

    from salesdesk.forms import option_tags

    pairs = [(23, "丁萍芳"), ("a\"b'c", "<script>alert(1)</script> & co"), (7, "王磊")]
    written = option_tags(pairs, "23")  # the owner filter: an id from the query string
    assert isinstance(written, Markup)
    assert written == Markup(
        '<option value="23" selected>丁萍芳</option>'
        '<option value="a&#34;b&#39;c">&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</option>'
        '<option value="7">王磊</option>'
    )
    assert "selected" in option_tags(pairs, 7)  # the team filter: an int
    assert "selected" not in option_tags(pairs, None) + option_tags(pairs, "")
