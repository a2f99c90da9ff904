# The game (players and their guesses) moves from rooms to swaps, beside the Swap it plays on.
# State only here (the tables keep their rooms_ names until 0005 renames them).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0003_player_swap_links"),
        ("swaps", "0003_job_moves_to_jobs_app"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Player",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("nickname", models.CharField(max_length=40)),
                        ("session_key", models.CharField(blank=True, max_length=64)),
                        ("started_at", models.DateTimeField(auto_now_add=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("score", models.IntegerField(default=0)),
                        ("hits", models.PositiveIntegerField(default=0)),
                        ("misses", models.PositiveIntegerField(default=0)),
                        ("gave_up", models.BooleanField(default=False)),
                        (
                            "swap",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="players", to="swaps.swap"
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-score", "started_at"],
                        "db_table": "rooms_player",
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("user__isnull", False)),
                                fields=("swap", "user"),
                                name="one_player_per_user_and_swap",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("user__isnull", True)),
                                fields=("swap", "session_key"),
                                name="one_guest_per_session_and_swap",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Guess",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("identity_id", models.IntegerField()),
                        ("x", models.FloatField()),
                        ("y", models.FloatField()),
                        ("hit", models.BooleanField()),
                        ("points", models.IntegerField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "player",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="guesses", to="swaps.player"
                            ),
                        ),
                    ],
                    options={"ordering": ["created_at", "id"], "db_table": "rooms_guess"},
                ),
            ],
            database_operations=[],
        ),
    ]
