"""The scheduled loader: the Glue job that loads cleaned lines into DynamoDB."""
