"""One module per algorithm (its key), plus the few loops that several share."""
