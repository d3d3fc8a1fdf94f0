from django import forms


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label="Mobile number",
        max_length=32,
        help_text="A Taiwanese mobile number such as 0912-345-678, or +886 912 345 678.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
