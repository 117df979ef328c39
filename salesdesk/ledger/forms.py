from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, DateTimeLocalField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from ..fields.forms import custom_input
from ..forms import Form, SelectField, SubmittedOnceForm, choices
from .collaborators import MAX_MESSAGE
from .followups import MAX_CONTENT, MAX_NEXT_STEP
from .keys import PROVINCES
from .models import CHANNEL_LABELS, GRADES, KIND_LABELS, SOURCE_LABELS, STAGE_LABELS
from .validation import (
    MAX_CITY,
    MAX_CONTACT_NAME,
    MAX_EMAIL,
    MAX_INDUSTRY,
    MAX_NAME,
    MAX_NOTES,
    MAX_PHONE,
    MAX_TITLE,
    MAX_WECHAT,
    ContactInput,
    CustomerInput,
)

INDUSTRIES = (
    "制造业",
    "软件和信息技术",
    "电子商务",
    "批发零售",
    "金融",
    "医疗健康",
    "教育培训",
    "建筑工程",
    "物流运输",
    "能源化工",
    "汽车",
    "食品饮料",
    "文化传媒",
    "餐饮酒店",
    "房地产",
    "农业",
    "政府机构",
    "其他",
)


class CustomerFieldsForm(Form):
    # The limits are validation's; the code, amount and tags are capped here only as
    # typed text, before validation parses them (18 characters, the amount's range, MAX_TAGS).
    kind = SelectField(_l("Type"), choices=choices(KIND_LABELS.items()), default="company")
    name = StringField(_l("Customer name"), validators=[DataRequired(), Length(max=MAX_NAME)])
    credit_code = StringField(
        _l("Unified social credit code"),
        validators=[Optional(), Length(max=30)],
        description=_l("18 characters, optional. Checked against its check character."),
    )
    industry = StringField(_l("Industry"), validators=[Length(max=MAX_INDUSTRY)])
    province = SelectField(
        _l("Province"), choices=choices([("", "—")] + [(p, p) for p in PROVINCES]), default=""
    )
    city = StringField(_l("City"), validators=[Length(max=MAX_CITY)])
    source = SelectField(_l("Source"), choices=choices(SOURCE_LABELS.items()), default="other")
    grade = SelectField(_l("Grade"), choices=choices((g, g) for g in GRADES), default="C")
    stage = SelectField(
        _l("Stage"), choices=choices((s.value, label) for s, label in STAGE_LABELS.items()), default="lead"
    )
    expected_amount = StringField(
        _l("Expected amount (CNY)"),
        default="0",
        validators=[Length(max=30)],
        render_kw={"inputmode": "decimal"},
    )
    tags = StringField(_l("Tags"), validators=[Length(max=400)], description=_l("Separate tags with commas."))
    next_follow_up_on = DateField(_l("Next follow-up"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=MAX_NOTES)])
    confirm_similar = BooleanField(_l("I checked the similar customers: this is a different one"))

    def customer_input(self, contacts=()):
        return CustomerInput(
            name=self.name.data or "",
            kind=self.kind.data,
            credit_code=self.credit_code.data or "",
            industry=self.industry.data or "",
            province=self.province.data or "",
            city=self.city.data or "",
            source=self.source.data,
            grade=self.grade.data,
            stage=self.stage.data,
            expected_amount=self.expected_amount.data or "0",
            tags=[self.tags.data or ""],
            next_follow_up_on=self.next_follow_up_on.data,
            notes=self.notes.data or "",
            contacts=list(contacts),
            custom=custom_input(self, request.form),
        )


class NewCustomerForm(CustomerFieldsForm):
    owner_id = SelectField(_l("Owner"), default="auto")
    contact_name = StringField(_l("Contact name"), validators=[Length(max=MAX_CONTACT_NAME)])
    contact_title = StringField(_l("Job title"), validators=[Length(max=MAX_TITLE)])
    contact_phone = StringField(
        _l("Phone"), validators=[Length(max=MAX_PHONE)], render_kw={"inputmode": "tel"}
    )
    contact_phone2 = StringField(
        _l("Second phone"), validators=[Length(max=MAX_PHONE)], render_kw={"inputmode": "tel"}
    )
    contact_email = StringField(
        _l("E-mail"), validators=[Length(max=MAX_EMAIL)], render_kw={"inputmode": "email"}
    )
    contact_wechat = StringField(_l("WeChat ID"), validators=[Length(max=MAX_WECHAT)])

    def contact_input(self):
        if not any(
            (
                self.contact_name.data,
                self.contact_phone.data,
                self.contact_phone2.data,
                self.contact_email.data,
                self.contact_wechat.data,
            )
        ):
            return []
        return [
            ContactInput(
                name=self.contact_name.data or "",
                title=self.contact_title.data or "",
                phones=[self.contact_phone.data or "", self.contact_phone2.data or ""],
                email=self.contact_email.data or "",
                wechat=self.contact_wechat.data or "",
            )
        ]


class EditCustomerForm(CustomerFieldsForm):
    version = IntegerField(validators=[InputRequired()], widget=HiddenInput())


class CustomValuesForm(Form):
    """The customer page's inline edit of the custom fields (fields.forms adds them)."""

    version = IntegerField(validators=[InputRequired()], widget=HiddenInput())


class StageForm(Form):
    stage = SelectField(_l("Stage"), choices=choices((s.value, label) for s, label in STAGE_LABELS.items()))
    version = IntegerField(validators=[InputRequired()], widget=HiddenInput())


class QuickFollowUpForm(SubmittedOnceForm):
    """The workbench's one-click follow-up shows only these: it happened now."""

    channel = SelectField(_l("Channel"), choices=choices(CHANNEL_LABELS.items()), default="phone")
    content = TextAreaField(_l("What happened"), validators=[DataRequired(), Length(max=MAX_CONTENT)])
    next_follow_up_on = DateField(_l("Next follow-up"), validators=[Optional()])
    next_step = StringField(_l("Next step"), validators=[Length(max=MAX_NEXT_STEP)])


class FollowUpForm(QuickFollowUpForm):
    occurred_at = DateTimeLocalField(_l("When"), validators=[Optional()], format="%Y-%m-%dT%H:%M")


class ContactForm(Form):
    name = StringField(_l("Contact name"), validators=[DataRequired(), Length(max=MAX_CONTACT_NAME)])
    title = StringField(_l("Job title"), validators=[Length(max=MAX_TITLE)])
    phone = StringField(_l("Phone"), validators=[Length(max=MAX_PHONE)], render_kw={"inputmode": "tel"})
    phone2 = StringField(
        _l("Second phone"), validators=[Length(max=MAX_PHONE)], render_kw={"inputmode": "tel"}
    )
    email = StringField(_l("E-mail"), validators=[Length(max=MAX_EMAIL)], render_kw={"inputmode": "email"})
    wechat = StringField(_l("WeChat ID"), validators=[Length(max=MAX_WECHAT)])

    def contact_input(self):
        return ContactInput(
            name=self.name.data or "",
            title=self.title.data or "",
            phones=[self.phone.data or "", self.phone2.data or ""],
            email=self.email.data or "",
            wechat=self.wechat.data or "",
            custom=custom_input(self, request.form),
        )


class EditContactForm(ContactForm):
    version = IntegerField(validators=[InputRequired()], widget=HiddenInput())


class CollaboratorForm(Form):
    user_id = SelectField(_l("Colleague"), coerce=int)


class CollaborationRequestForm(Form):
    message = StringField(_l("Why you want to join"), validators=[Length(max=MAX_MESSAGE)])


class UploadForm(Form):
    file = FileField(_l("CSV or Excel file"), validators=[DataRequired()])
