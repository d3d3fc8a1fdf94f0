"""The compose form: numbers pasted or uploaded, the text, a schedule and options.

The form finds the numbers in what staff gave; the estimate service and
``create_draft()`` decide whether they and the text are valid, so the admin
applies exactly the rules ``send_sms()`` applies.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import django
from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_smsgo.admin.recipient_input import (
    RecipientFileError,
    read_numbers_file,
    split_pasted,
)
from django_smsgo.admin.saved_texts import SavedTextFields, personalised_estimate
from django_smsgo.admin.widgets import TaipeiDateTimeField
from django_smsgo.conf import smsgo_settings
from django_smsgo.models import Message

ENCODING_CHOICES = [
    ("", _("Automatic (chosen from the text)")),
    ("BIG5", _("BIG5 — Chinese, one SMS")),
    ("ASCII", _("ASCII — Latin letters only, one SMS")),
    ("UCS2", _("UCS2 — any script, one SMS")),
    ("LBIG5", _("LBIG5 — Chinese, long SMS")),
    ("LASCI", _("LASCI — Latin letters only, long SMS")),
    ("LUCS2", _("LUCS2 — any script, long SMS")),
    ("PBIG5", _("PBIG5 — Chinese, pop-up")),
    ("PASCI", _("PASCI — Latin letters only, pop-up")),
    ("PUSH", _("PUSH — WAP push with a link")),
]

#: Invalid numbers listed back in full; beyond this the list is cut with a count.
INVALID_SHOWN = 50

# A link typed without a scheme is taken as https://; Django 5.0 added the
# option (and warns until 6.0 without it), 4.2 always assumed http://.
URL_SCHEME_OPTIONS: dict[str, Any] = {"assume_scheme": "https"} if django.VERSION >= (5, 0) else {}


def invalid_pairs(items: Sequence[Any]) -> list[tuple[str, str]]:
    """``(value, reason)`` pairs from the estimate's invalid numbers, whatever their shape."""
    pairs = []
    for item in items:
        if isinstance(item, dict):
            pairs.append((str(item["value"]), str(item["reason"])))
        elif hasattr(item, "value"):
            pairs.append((str(item.value), str(item.reason)))
        else:
            value, reason = item
            pairs.append((str(value), str(reason)))
    return pairs


class ComposeForm(SavedTextFields, forms.Form):
    """What staff fill in to write a message; saving it makes a draft."""

    recipients = forms.CharField(
        label=_("Recipients"),
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "class": "smsgo-recipients",
                "placeholder": _("0912-345-678\n0922 333 444, +886 933 555 666"),
                "spellcheck": "false",
            }
        ),
        help_text=_(
            "One per line, or separated by commas or spaces. Taiwan mobiles in any common "
            "form (0912-345-678, +886 912 345 678); other countries with + and the country code."
        ),
    )
    recipients_file = forms.FileField(
        label=_("Or upload a file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
        help_text=_("A CSV or XLSX file with the numbers in one column."),
    )
    column = forms.CharField(
        label=_("Column"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"size": 12, "placeholder": _("automatic")}),
        help_text=_("Header, letter or number of the column; found automatically when empty."),
    )
    body = forms.CharField(
        label=_("Text"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "smsgo-body"}),
        error_messages={"required": _("Write the text of the SMS.")},
    )
    encoding = forms.ChoiceField(label=_("Encoding"), choices=ENCODING_CHOICES, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Message.Kind.choices,
        initial=Message.Kind.MARKETING,
        required=False,
        help_text=_(
            "Marketing texts get the opt-out line and wait out the quiet hours; "
            "transactional ones (codes, notices) do not."
        ),
    )
    wap_url = forms.URLField(
        label=_("WAP push link"),
        required=False,
        max_length=300,
        help_text=_("Only for the PUSH encoding."),
        **URL_SCHEME_OPTIONS,
    )
    send_at = TaipeiDateTimeField(
        label=_("Schedule"),
        required=False,
        help_text=_("Date and time in Taiwan (Asia/Taipei, UTC+8). Empty: send when you confirm."),
    )
    reply = forms.BooleanField(
        label=_("Collect replies"),
        required=False,
        help_text=_("Receivers can answer; costs 1 extra point per 10 SMS."),
    )
    reply_days = forms.IntegerField(
        label=_("Reply days"),
        required=False,
        min_value=1,
        max_value=30,
        widget=forms.NumberInput(attrs={"style": "width: 5em"}),
        help_text=_("How many days replies are collected (1–30)."),
    )
    drop_invalid = forms.BooleanField(
        label=_("Leave out the invalid numbers listed above"), required=False
    )
    allow_duplicate = forms.BooleanField(
        label=_("Send again to numbers that got the same text a moment ago"), required=False
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    #: The draft this form rewrites ("No, take me back" on the confirmation): saving
    #: the new draft discards that one, so nothing is left behind twice.
    replaces = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            # A second submit of the same page returns the first draft.
            self.initial.setdefault("idempotency_key", f"admin-compose-{uuid.uuid4().hex}")
        if not smsgo_settings.CALLBACK_BASE_URL:
            # Replies reach us only through the reply URL the gateway calls.
            self.fields["reply"].disabled = True
            self.fields["reply"].help_text = _(
                "Needs SMSGO['CALLBACK_BASE_URL']: the public address the gateway sends replies to."
            )
            self.fields["reply_days"].disabled = True
        self.numbers: list[str] = []
        self.invalid: list[tuple[str, str]] = []
        self.estimate: Any = None
        self.file_numbers: list[str] = []
        self.file_numbers_kept = 0

    # -- reading the numbers -------------------------------------------------

    def candidate_numbers(self) -> list[str]:
        """The numbers found in the text box and the file, as written, in order."""
        found = split_pasted(self.cleaned_data.get("recipients") or "")
        upload = self.cleaned_data.get("recipients_file")
        if upload:
            try:
                self.file_numbers = read_numbers_file(
                    upload, upload.name, self.cleaned_data.get("column") or ""
                )
                found.extend(self.file_numbers)
            except RecipientFileError as exc:
                self.add_error("recipients_file", str(exc))
            finally:
                upload.seek(0)
        return found

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        candidates = self.candidate_numbers()
        self.estimate = personalised_estimate(self, cleaned) or run_estimate(candidates, cleaned)
        self.invalid = invalid_pairs(self.estimate.invalid_numbers)
        text_error = self.text_error()
        if text_error and "body" in cleaned:
            self.add_error("body", ValidationError(text_error, code="text"))
        for problem in getattr(self.estimate, "rule_problems", ()):
            # The carrier rules (docs/taiwan.rst): on the field they judge.
            field = "send_at" if problem["rule"] == "quiet_hours" else "body"
            if field in cleaned:
                self.add_error(field, problem["detail"])
        if cleaned.get("encoding") == "PUSH" and not cleaned.get("wap_url"):
            self.add_error("wap_url", _("The PUSH encoding needs a link."))
        if cleaned.get("wap_url") and cleaned.get("encoding") != "PUSH":
            self.add_error("wap_url", _("A link is sent only with the PUSH encoding."))
        if self.has_error("recipients_file"):
            return cleaned
        if not candidates:
            self.add_error(
                "recipients",
                ValidationError(_("Give at least one number, typed or in a file."), code="numbers"),
            )
            return cleaned
        bad = {value for value, _reason in self.invalid}
        if self.invalid and not cleaned.get("drop_invalid"):
            self.add_error("recipients", self.invalid_message())
        self.numbers = [n for n in candidates if n not in bad]
        if self.invalid and cleaned.get("drop_invalid") and not self.numbers:
            self.add_error(
                "recipients", ValidationError(_("None of the numbers is valid."), code="numbers")
            )
        return cleaned

    def keep_file_numbers(self) -> None:
        """Put the uploaded file's numbers into the text box, for the page shown again.

        A browser never sends a file back: after a refusal the numbers live on
        in the box (with the invalid ones still there to fix or leave out).
        """
        if not self.file_numbers:
            return
        data = QueryDict(mutable=True)
        data.update(self.data)
        typed = (data.get("recipients") or "").strip()
        data["recipients"] = "\n".join([typed, *self.file_numbers] if typed else self.file_numbers)
        self.data = data
        self.files = MultiValueDict()
        self.file_numbers_kept = len(self.file_numbers)
        self.file_numbers = []

    def without_errors(self) -> None:
        """Show the bound form as it was, without judging it (nothing was submitted)."""
        self.is_valid()  # the counter's figures
        self._errors = ErrorDict()

    def text_error(self) -> str | None:
        """The estimate's objection to the text, once there is a text to object to."""
        body = self.data.get("body", "") if self.is_bound else ""
        if self.estimate is None or not str(body).strip():
            return None
        return self.estimate.text_error

    def invalid_message(self) -> ValidationError:
        count = len(self.invalid)
        return ValidationError(
            ngettext(
                "%(count)d number is not valid; fix it or leave it out.",
                "%(count)d numbers are not valid; fix them or leave them out.",
                count,
            )
            % {"count": count},
            code="invalid_numbers",
        )

    def shown_invalid(self) -> list[tuple[str, str]]:
        """The invalid numbers listed under the field (at most :data:`INVALID_SHOWN`)."""
        return self.invalid[:INVALID_SHOWN]

    def hidden_invalid_count(self) -> int:
        return max(len(self.invalid) - INVALID_SHOWN, 0)

    def draft_options(self) -> dict[str, Any]:
        """Keyword arguments of ``create_draft()`` besides the numbers and the text."""
        data = self.cleaned_data
        options: dict[str, Any] = {
            "encoding": data.get("encoding") or None,
            "kind": data.get("kind") or Message.Kind.MARKETING,
            "send_at": data.get("send_at"),
            "reply": bool(data.get("reply")),
            "allow_duplicate": bool(data.get("allow_duplicate")),
        }
        if data.get("reply_days"):
            options["reply_days"] = data["reply_days"]
        if data.get("wap_url"):
            options["wap_url"] = data["wap_url"]
        if data.get("idempotency_key"):
            options["idempotency_key"] = data["idempotency_key"]
        return options


def run_estimate(numbers: list[str], data: dict[str, Any]) -> Any:
    """The estimate service's answer for these numbers and the form's text and options."""
    from django_smsgo.services.estimates import estimate

    return estimate(
        numbers,
        data.get("body") or "",
        encoding=data.get("encoding") or None,
        reply=bool(data.get("reply")),
        wap_url=data.get("wap_url") or None,
        kind=data.get("kind") or None,
        send_at=data.get("send_at"),
    )
