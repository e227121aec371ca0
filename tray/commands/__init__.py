"""Bodies of the subcommands for scripts and agents; `tray.cli` only wires them to argparse."""
