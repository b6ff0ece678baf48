"""Use-cases and the ports they need. No boto3, no file system.

The load path (``ports``, ``errors``, ``load_batch``) also runs in AWS Glue Python shell:
it must stay standard library only and valid Python 3.9.
"""
