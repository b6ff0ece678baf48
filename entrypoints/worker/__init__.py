"""The queue worker: the Fargate process and the loop it runs."""
