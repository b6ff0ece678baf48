"""AWS adapters (boto3). Also imported by the Glue loader: standard library and boto3 only,
valid Python 3.9."""
