"""Test-only helpers: ``servicekit_testing.plugin`` (pytest plugin, loaded through the ``pytest11`` entry
point) and ``servicekit_testing.tokens`` (``TokenMint``). The runtime package ``servicekit`` never imports
this one, so a production install carries no pytest plugin."""
