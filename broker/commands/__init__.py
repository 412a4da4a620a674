"""The sub-commands of `bookjobs`, one module per concern."""
