# Players and guesses now live in the swaps app (swaps 0004): state only, the tables stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0003_player_swap_links"),
        ("swaps", "0004_game_moves_to_swaps"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Guess"),
                migrations.DeleteModel(name="Player"),
            ],
            database_operations=[],
        ),
    ]
