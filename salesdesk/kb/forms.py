from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..database import MAX_ID
from ..forms import Form, SelectField, SelectMultipleField, choices
from ..ledger.models import STAGE_LABELS
from . import categories, paths
from .content import MAX_BODY_CHARS, MAX_NOTE, MAX_TITLE
from .feedback import MAX_COMMENT
from .images import MAX_IMAGE_MB
from .proposals import MAX_REASON


def _hidden_int():
    return IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])


def category_choices(tree, empty_label):
    pairs = [(0, empty_label)]
    for category in tree:
        pairs.append((category.id, category.name))
        pairs.extend((child.id, f"{category.name} / {child.name}") for child in category.children)
    return choices(pairs)


BODY_HELP = _l(
    "Markdown: # heading, **bold**, - list, 1. numbered list, [link](https://…), "
    "tables with |. HTML is shown as text. Paste an image or add one with the button "
    "(PNG, JPEG, GIF or WebP, up to %(limit)s MB).",
    limit=MAX_IMAGE_MB,
)


class ArticleForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(), Length(max=MAX_BODY_CHARS)],
        description=BODY_HELP,
    )
    category_id = SelectField(_l("Category"), coerce=int, default=0)
    # Capped as typed text only: content.parse_tags counts the tags and their length.
    tags = StringField(
        _l("Tags"), validators=[Length(max=400)], description=_l("Separate tags with spaces or commas.")
    )
    stages = SelectMultipleField(
        _l("Playbook for the stages"),
        choices=choices((stage.value, label) for stage, label in STAGE_LABELS.items()),
        description=_l("The customer page shows this article to whoever works a customer in these stages."),
    )
    note = StringField(
        _l("Change note"),
        validators=[Length(max=MAX_NOTE)],
        description=_l("What changed and why, for the history."),
    )
    major = BooleanField(_l("Major change: readers who confirmed this article must read it again"))

    def __init__(self, *args, tree=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.category_id.choices = category_choices(tree, _l("— no category —"))


class EditArticleForm(ArticleForm):
    base_version = _hidden_int()
    proposal_id = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])


class ProposalForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    body = TextAreaField(
        _l("Text"), validators=[DataRequired(), Length(max=MAX_BODY_CHARS)], description=BODY_HELP
    )
    note = StringField(
        _l("What did you change, and why?"),
        validators=[Length(max=MAX_NOTE)],
        description=_l("An editor reads this before accepting your edit."),
    )
    base_version = _hidden_int()


class DeclineForm(Form):
    reason = StringField(_l("Reason (optional)"), validators=[Length(max=MAX_REASON)])


class RestoreForm(Form):
    note = StringField(_l("Change note"), validators=[Length(max=MAX_NOTE)])
    major = BooleanField(_l("Major change"))
    base_version = _hidden_int()


class VoteForm(Form):
    # Two submit buttons named `helpful`: like a radio group, nothing is sent until one is pressed.
    helpful = RadioField(choices=choices([("yes", _l("Helpful")), ("no", _l("Not helpful"))]))
    comment = TextAreaField(
        _l("Comment (optional)"),
        validators=[Length(max=MAX_COMMENT)],
        description=_l("What was missing or wrong? Editors read every comment."),
    )


class ReadForm(Form):
    version = _hidden_int()


class CategoryForm(Form):
    name = StringField(_l("Category name"), validators=[DataRequired(), Length(max=categories.MAX_NAME)])
    parent_id = SelectField(_l("Parent category"), coerce=int, default=0)

    def __init__(self, *args, tree=(), exclude=None, **kwargs):
        super().__init__(*args, **kwargs)
        pairs = [(0, _l("— top level —"))] + [(c.id, c.name) for c in tree if c.id != exclude]
        self.parent_id.choices = choices(pairs)


class PathForm(Form):
    name = StringField(_l("Path name"), validators=[DataRequired(), Length(max=paths.MAX_NAME)])
    description = TextAreaField(_l("Description"), validators=[Length(max=paths.MAX_DESCRIPTION)])


class PathItemForm(Form):
    article_id = SelectField(_l("Add an article"), coerce=int)


class AssignForm(Form):
    user_id = SelectField(_l("Reader"), coerce=int)
    due_on = DateField(_l("Due date"), validators=[InputRequired()])

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id.choices = choices(
            (user.id, f"{user.display_name}" + (f" · {user.team.name}" if user.team else ""))
            for user in users
        )
