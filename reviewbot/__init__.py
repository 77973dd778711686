"""reviewbot: a self-hostable code review bot.

Nothing heavy is imported here: ``reviewbot --version`` must start fast.
"""

__version__ = "0.1.0"
