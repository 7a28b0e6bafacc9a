"""The ``pishkhan`` command's subcommands, one module per group."""
