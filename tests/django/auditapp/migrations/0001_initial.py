from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="Account",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=100)),
                ("api_key", models.CharField(blank=True, default="", max_length=100)),
                ("balance", models.IntegerField(default=0)),
            ],
        ),
    ]
