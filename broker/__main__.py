"""`python -m broker` is `bookjobs`."""

from broker.cli import main

main()
