"""The log of opt-outs and opt-ins (``ConsentRecord``), kept as evidence of each refusal."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_smsgo", "0005_message_metadata_tags"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsentRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("phone", models.CharField(db_index=True, max_length=20, verbose_name="phone")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("opt_out", "Opted out of marketing"),
                            ("opt_in", "Opted back in to marketing"),
                        ],
                        max_length=8,
                        verbose_name="action",
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[("reply", "Reply"), ("staff", "Staff"), ("api", "API")],
                        max_length=8,
                        verbose_name="source",
                    ),
                ),
                ("reply_text", models.TextField(blank=True, verbose_name="reply text")),
                ("note", models.TextField(blank=True, verbose_name="note")),
                (
                    "created_at",
                    models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="time"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "reply",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="django_smsgo.reply",
                        verbose_name="reply",
                    ),
                ),
            ],
            options={
                "verbose_name": "opt-out record",
                "verbose_name_plural": "opt-out records",
                "ordering": ["-created_at", "-pk"],
            },
        ),
    ]
