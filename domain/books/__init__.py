"""Books: import from EPUB or text, processing bookkeeping, the gzip cache of the file."""
