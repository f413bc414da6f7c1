"""Built-in strategies; ``amarktai.strategies.registry`` is the way to look them up."""
