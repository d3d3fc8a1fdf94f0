"""Saved texts (常用簡訊): managed in the admin, chosen in compose, filled in per recipient.

A saved text chosen in the compose form makes the text a personalised one:
its placeholders (``{name}``) are filled in from the uploaded file's columns,
the counter shows the longest final text, and saving stores one draft per
distinct final text through
:func:`~django_smsgo.services.personalising.send_personalised`. The rules
(what a placeholder is, what a missing value does, grouping) live in that
service; this module only reads the form and shows the answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_smsgo.admin.display import ActionCheckboxMixin
from django_smsgo.admin.recipient_input import RecipientFileError, read_rows_file, split_pasted
from django_smsgo.models import Message, SavedText
from django_smsgo.services.personalising import (
    PlaceholderError,
    estimate_personalised,
    placeholders_of,
    send_personalised,
)

if TYPE_CHECKING:
    from django_smsgo.admin.console import ConsoleAdmin


# --------------------------------------------------------------------------- managing them


class SavedTextForm(forms.ModelForm):
    """A saved text whose braces must read as placeholders."""

    class Meta:
        model = SavedText
        fields = ["name", "body", "kind"]
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        try:
            placeholders_of(body)
        except PlaceholderError as exc:
            raise forms.ValidationError(str(exc), code=exc.rule_code) from None
        return body


class SavedTextAdmin(ActionCheckboxMixin, admin.ModelAdmin):
    """The list of saved texts, with the placeholders each one needs."""

    form = SavedTextForm
    list_display = ["name", "preview", "placeholders", "kind", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "body"]
    readonly_fields = ["created_by", "created_at", "updated_at"]

    @admin.display(description=_("text"))
    def preview(self, obj: SavedText) -> str:
        return obj.body if len(obj.body) <= 60 else obj.body[:59] + "…"

    @admin.display(description=_("placeholders"))
    def placeholders(self, obj: SavedText) -> str:
        try:
            names = placeholders_of(obj.body)
        except PlaceholderError:
            return "—"
        return format_html_join(" ", "<code>{{{}}}</code>", ((name,) for name in names)) or "—"

    def save_model(self, request: HttpRequest, obj: SavedText, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


def register(site: admin.AdminSite) -> None:
    """Register the saved texts' admin on ``site``."""
    site.register(SavedText, SavedTextAdmin)


# --------------------------------------------------------------------------- in compose


class SavedTextSelect(forms.Select):
    """The choice of saved texts, each option carrying its text and kind for the page's script."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.texts: dict[str, tuple[str, str]] = {}

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        pk = str(getattr(value, "value", value) or "")
        if pk and pk in self.texts:
            body, kind = self.texts[pk]
            option["attrs"].update({"data-body": body, "data-kind": kind})
        return option

    def optgroups(self, name: str, value: Any, attrs: Any = None) -> Any:
        self.texts = {str(t.pk): (t.body, t.kind) for t in SavedText.objects.all()}
        return super().optgroups(name, value, attrs)


class SavedTextFields(forms.Form):
    """The compose form's choice of a saved text; mixed into ``ComposeForm``."""

    saved_text = forms.ModelChoiceField(
        label=_("Saved text"),
        queryset=SavedText.objects.all(),
        required=False,
        empty_label=_("None: write the text below"),
        widget=SavedTextSelect(attrs={"class": "smsgo-saved-text"}),
        help_text=_(
            "Placeholders like {name} are filled in for each recipient from the column of the "
            "uploaded file with that header."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.personal_rows: list[tuple[str, dict[str, str]]] = []
        self.personal_columns: list[str] = []
        if self.is_bound and self.data.get("saved_text") and not self.data.get("body"):
            # Chosen without the page's script: the saved text is the text.
            pk = _int(self.data.get("saved_text"))
            saved = SavedText.objects.filter(pk=pk).first() if pk is not None else None
            if saved is not None:
                data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict
                data["body"] = saved.body
                if not data.get("kind"):
                    data["kind"] = saved.kind
                self.data = data


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def is_personalised(form: Any) -> bool:
    """True when the compose form's text is a saved text to fill in per recipient."""
    return bool(getattr(form, "cleaned_data", {}).get("saved_text"))


def personalised_estimate(form: Any, data: dict[str, Any]) -> Any:
    """The estimate of the form's personalised send, or None when no saved text is chosen.

    Reads the typed numbers (no values) and the uploaded file's rows (values
    by header) onto ``form.personal_rows`` and ``form.personal_columns``.
    """
    if not data.get("saved_text"):
        return None
    rows: list[tuple[str, dict[str, str]]] = [
        (number, {}) for number in split_pasted(data.get("recipients") or "")
    ]
    columns: list[str] = []
    upload = data.get("recipients_file")
    if upload:
        try:
            columns, found = read_rows_file(upload, upload.name, data.get("column") or "")
            rows.extend(found)
        except RecipientFileError:
            pass  # the number reading has put the error on the field already
        finally:
            upload.seek(0)
    form.personal_rows, form.personal_columns = rows, columns
    return estimate_personalised(
        data.get("body") or "",
        rows,
        columns=columns,
        encoding=data.get("encoding") or None,
        reply=bool(data.get("reply")),
        wap_url=data.get("wap_url") or None,
        kind=data.get("kind") or None,
        send_at=data.get("send_at"),
    )


def create_drafts(form: Any, request: HttpRequest) -> list[Message]:
    """Store one draft per distinct final text (all or none); raises what the service raises."""
    bad = {value for value, _reason in form.invalid}
    rows = [(number, values) for number, values in form.personal_rows if number not in bad]
    return send_personalised(
        form.cleaned_data["body"],
        rows,
        columns=form.personal_columns,
        queue=False,
        created_by=request.user,
        **form.draft_options(),
    )


def after_save_many(
    modeladmin: ConsoleAdmin, request: HttpRequest, drafts: list[Message]
) -> HttpResponse | None:
    """Log the drafts and go on: to their list, or to the send confirmation for all of them.

    Returns None for a single draft: the compose page's own way on applies.
    """
    from django_smsgo.admin import actions

    if len(drafts) == 1:
        return None
    for draft in drafts:
        modeladmin.log_addition(request, draft, [{"added": {}}])
    ids = [draft.pk for draft in drafts]
    listing = (
        reverse("admin:django_smsgo_message_changelist")
        + "?id__in="
        + ",".join(str(pk) for pk in ids)
    )
    if "_send" in request.POST and modeladmin.has_send_permission(request):
        request.smsgo_next = listing  # type: ignore[attr-defined]
        response = actions.send_messages(modeladmin, request, Message.objects.filter(pk__in=ids))
        if response is not None:
            return response
    recipients = sum(draft.recipient_count for draft in drafts)
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d drafts saved, one per distinct text: %(recipients)d recipient. "
            "Nothing is sent until you send them.",
            "%(count)d drafts saved, one per distinct text: %(recipients)d recipients. "
            "Nothing is sent until you send them.",
            recipients,
        )
        % {"count": len(drafts), "recipients": recipients},
        messages.SUCCESS,
    )
    return HttpResponseRedirect(listing)
