"""Recipients: an index of the unclaimed ones for the dispatch claim; no lone message index."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('django_smsgo', '0003_dispatch_attempts'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='recipient',
            name='smsgo_rcpt_msg_status',
        ),
        migrations.AlterField(
            model_name='recipient',
            name='message',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='recipients', to='django_smsgo.message', verbose_name='message'),
        ),
        migrations.AddIndex(
            model_name='recipient',
            index=models.Index(condition=models.Q(('batch__isnull', True), ('status', 'queued')), fields=['message', 'id'], name='smsgo_rcpt_unclaimed'),
        ),
    ]
