"""Reasons become codes with parameters; ``transactional`` becomes ``kind``.

Reasons stored as sentences before this migration are kept word for word
under the ``text`` code, so nothing already shown to staff is lost.
"""

from django.db import migrations, models


def forwards(apps, schema_editor):
    Message = apps.get_model("django_smsgo", "Message")
    Batch = apps.get_model("django_smsgo", "Batch")
    Recipient = apps.get_model("django_smsgo", "Recipient")
    Message.objects.filter(transactional=True).update(kind="transactional")
    for model, column in ((Message, "status_reason"), (Recipient, "status_reason"), (Batch, "reason")):
        rows = model.objects.exclude(**{column: ""}).values_list("pk", column).iterator()
        for pk, text in rows:
            model.objects.filter(pk=pk).update(reason_code="text", reason_params={"text": text})


def backwards(apps, schema_editor):
    Message = apps.get_model("django_smsgo", "Message")
    Batch = apps.get_model("django_smsgo", "Batch")
    Recipient = apps.get_model("django_smsgo", "Recipient")
    Message.objects.filter(kind="transactional").update(transactional=True)
    for model, column in ((Message, "status_reason"), (Recipient, "status_reason"), (Batch, "reason")):
        rows = model.objects.exclude(reason_code="").values_list("pk", "reason_code", "reason_params")
        for pk, code, params in rows.iterator():
            text = params.get("text", code) if code == "text" else code
            model.objects.filter(pk=pk).update(**{column: text})


def reason_fields(model_name):
    return [
        migrations.AddField(
            model_name=model_name,
            name="reason_code",
            field=models.CharField(blank=True, editable=False, max_length=32, verbose_name="reason"),
        ),
        migrations.AddField(
            model_name=model_name,
            name="reason_params",
            field=models.JSONField(
                blank=True, default=dict, editable=False, verbose_name="reason details"
            ),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("django_smsgo", "0001_initial"),
    ]

    operations = [
        *reason_fields("message"),
        *reason_fields("batch"),
        *reason_fields("recipient"),
        migrations.AddField(
            model_name="message",
            name="kind",
            field=models.CharField(
                choices=[("transactional", "Transactional"), ("marketing", "Marketing")],
                db_index=True,
                default="marketing",
                help_text=(
                    "Transactional messages (codes, notices) are sent to opted-out numbers too; "
                    "marketing messages are not."
                ),
                max_length=16,
                verbose_name="kind",
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="batch", name="reason"),
        migrations.RemoveField(model_name="message", name="status_reason"),
        migrations.RemoveField(model_name="message", name="transactional"),
        migrations.RemoveField(model_name="recipient", name="status_reason"),
    ]
