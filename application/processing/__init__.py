"""Processing: one raw file into cleaned and rejected rows, read, split, cleaned in batches,
written and committed together."""
