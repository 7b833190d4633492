import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('console', '0003_feedback_and_quality'),
    ]

    operations = [
        migrations.AddField(
            model_name='deployment',
            name='backend',
            field=models.CharField(choices=[('embedded', 'embedded engine'), ('ray', 'Ray Serve')], default='embedded', max_length=10),
        ),
        migrations.AddField(
            model_name='deployment',
            name='ray_address',
            field=models.CharField(blank=True, help_text='the Ray cluster to join (empty: the server starts a local Ray)', max_length=200),
        ),
        migrations.CreateModel(
            name='DeploymentRevision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField()),
                ('started', models.DateTimeField(auto_now_add=True)),
                ('by', models.CharField(max_length=150)),
                ('note', models.CharField(blank=True, max_length=300)),
                ('deployment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='revisions', to='console.deployment')),
                ('version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='console.graphversion')),
            ],
            options={
                'ordering': ['deployment', '-number'],
                'constraints': [models.UniqueConstraint(fields=('deployment', 'number'), name='one_number_per_revision')],
            },
        ),
    ]
