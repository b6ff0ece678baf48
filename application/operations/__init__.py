"""Operations: what an operator runs: reconcile, replay, dead letters, the pipeline's status."""
